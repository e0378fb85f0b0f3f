"""The catalog as the action server reads it: one snapshot per catalog revision.

Every turn opens a session and reads the catalog's revision (one indexed single-row query); the
facts, general facts, FAQ index and the program resolver are rebuilt only when that revision has moved, so a
catalog load is picked up by the next message, without retraining or restarting anything.

Building a snapshot takes about a third of a second of CPU (the FAQ index above all). One thread builds a
revision's snapshot while the turns that need it at the same moment wait for it, rather than each
building its own; the action server builds the first one before it starts answering (`prepare`).
"""

import re
import threading
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Set

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from catalog.facts import (
    FaqFact,
    GeneralFactText,
    ProgramFacts,
    all_program_facts,
    catalog_revision,
    faq_facts,
    general_facts,
    program_names,
)
from catalog.faq_index import FaqIndex
from catalog.names import ProgramResolver
from core.db import session_scope


@dataclass(frozen=True)
class CatalogView:
    revision: Optional[int]
    resolver: ProgramResolver
    programs: Dict[str, ProgramFacts]
    general: Dict[str, GeneralFactText]
    faq: FaqIndex


_lock = threading.Lock()  # guards _views
_build_lock = threading.Lock()  # one snapshot built at a time
_views: Dict[str, CatalogView] = {}


def _cached(key: str, revision: Optional[int]) -> Optional[CatalogView]:
    with _lock:
        view = _views.get(key)
    return view if view is not None and view.revision == revision else None


def current_view(session: Session) -> CatalogView:
    """The snapshot for the catalog as it is in the database now."""
    revision = catalog_revision(session)
    key = str(session.get_bind().url)
    view = _cached(key, revision)
    if view is not None:
        return view
    with _build_lock:
        view = _cached(key, revision)  # built by the thread this one waited for
        if view is not None:
            return view
        faq = faq_facts(session)
        view = CatalogView(
            revision=revision,
            resolver=ProgramResolver(program_names(session), faq_words(faq)),
            programs=all_program_facts(session),
            general=general_facts(session),
            faq=FaqIndex(faq),
        )
        with _lock:
            _views[key] = view
    return view


def faq_words(faq: Sequence[FaqFact]) -> Set[str]:
    """Every word of the FAQ's questions, phrasings and answers, in all the catalog's languages."""
    texts = (text for fact in faq for text in (fact.question, fact.answer, *fact.phrasings,
                                                *(answer for _, answer in fact.translations)))
    return {word for text in texts for word in re.findall(r"[^\W\d_]+", text.lower())}


def prepare(engine: Optional[Engine] = None) -> Optional[int]:
    """Build the snapshot of the catalog now (at start, before the first learner waits for it); its revision."""
    with session_scope(engine) as session:
        return current_view(session).revision


def forget_views() -> None:
    """Drop cached snapshots (tests that recreate a database under the same URL)."""
    with _lock:
        _views.clear()
