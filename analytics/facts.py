"""How old the catalog facts behind the answers are, and where each comes from: the "update these first" list.

An answer is counted as served by its program and topic (the metadata the answer actions attach). Its
as-of date is the newest one among the facts the answer was built from (a price list is as new as its
newest price); a fact with no date is listed as "not dated", which the catalog should fix first.
"""

from dataclasses import dataclass
from datetime import date
from typing import List, Optional, Sequence, Tuple

from sqlalchemy.engine import Engine

from analytics.metrics import Served
from catalog.facts import as_of_year
from catalog.view import CatalogView, current_view
from core.db import session_scope


@dataclass(frozen=True)
class ServedFact:
    program_id: Optional[str]
    program: str  # the program's name, or "edX-wide"
    topic: str
    served: int
    as_of: Optional[str]
    age_years: Optional[int]
    sources: Tuple[Tuple[str, str], ...]  # (title, url)

    @property
    def priority(self) -> Optional[int]:
        """Times served × years old: the higher, the sooner the fact should be checked. None: not dated."""
        return None if self.age_years is None else self.served * max(self.age_years, 1)


def _newest(dated: Sequence[Optional[str]]) -> Optional[str]:
    dated = [as_of for as_of in dated if as_of_year(as_of) is not None]
    return max(dated, key=as_of_year) if dated else None


def _sources(refs) -> Tuple[Tuple[str, str], ...]:
    seen, out = set(), []
    for ref in refs:
        if ref is not None and ref.url and ref.url not in seen:
            seen.add(ref.url)
            out.append((ref.title, ref.url))
    return tuple(out)


def fact_behind(view: CatalogView, program_id: Optional[str], topic: str) -> Tuple[Optional[str], tuple]:
    """(as-of text, sources) of what an answer on `topic` for the program was built from."""
    program = view.programs.get(program_id) if program_id else None
    if topic.startswith("faq:"):
        fact = view.faq.answer_for(topic[len("faq:"):], program_id)
        return (fact.as_of, _sources([fact.source])) if fact else (None, ())
    general = view.general.get(topic)
    if program is None:
        return (general.as_of, _sources([general.source])) if general else (None, ())
    if topic == "cost" and program.prices:
        return _newest([p.as_of for p in program.prices]), _sources([p.source for p in program.prices])
    if topic == "credit" and program.credit_pathways:
        return (_newest([c.as_of for c in program.credit_pathways]),
                _sources([c.source for c in program.credit_pathways]))
    if topic == "career" and program.employers:
        return (_newest([e.as_of for e in program.employers]),
                _sources([e.source for e in program.employers] + [program.career_source]))
    if topic == "admission" and program.admission_source is not None:
        return None, _sources([program.admission_source, program.program_page])
    return (general.as_of, _sources([general.source, program.program_page])) if general else (None, ())


def stale_facts(catalog: Engine, served: Sequence[Served], today: date, limit: int = 20) -> List[ServedFact]:
    """The served facts, those to update first at the top: undated ones, then by times served × age."""
    with session_scope(catalog) as session:
        view = current_view(session)
    facts = []
    for item in served:
        as_of, sources = fact_behind(view, item.program_id, item.topic)
        year = as_of_year(as_of)
        program = view.programs.get(item.program_id) if item.program_id else None
        facts.append(ServedFact(item.program_id, program.title if program else "edX-wide", item.topic, item.count,
                                as_of, None if year is None else today.year - year, sources))
    facts.sort(key=lambda f: (f.priority is not None, -(f.priority or 0), -f.served, f.program, f.topic))
    return facts[:limit]
