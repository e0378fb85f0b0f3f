"""Answer wording: plain functions from catalog facts to text, callable without Rasa or a server.

Every answer is short: the figure or the yes/no first, at most one sentence of context, then one
link per source, labelled with the source's name (`links.py` renders it for the channel). Every
figure comes from the facts passed in; a missing fact is said as a gap, with where to check.
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from actions.catalog import FaqFact, GeneralFactText, PriceFact, ProgramFacts, SourceRef
from actions.links import LinkStyle, plain_link
from core import settings

TOPICS = ("credit", "admission", "career", "cost")
EDX_HOME = SourceRef("edX", "https://www.edx.org")
TOPIC_LABELS = {
    "credit": "Credit toward a degree",
    "admission": "Admission to a Master's",
    "career": "Jobs and careers",
    "cost": "Cost",
}
MAX_PATHWAYS_LISTED = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")
_YEAR = re.compile(r"(?<!\d)(19[89]\d|20\d\d)(?!\d)")
# "undated page (stored copy seen 2026-11)": when we read a page is not when its content dates from.
_WHEN_READ = re.compile(r"\b(?:seen|read|retrieved|accessed|stored)\b[^()]*", re.IGNORECASE)
# Kinds that price the same thing: the newest of a family is current, the others are its history.
# Listed in the order an answer gives them: the total first.
PRICE_FAMILIES = {"total": "total", "total_computed": "computed", "per_course": "course",
                  "per_course_range": "course", "personalised": "course", "capstone_or_exam": "exam"}
_FAMILY_ORDER = ("total", "computed", "course", "exam")


@dataclass(frozen=True)
class Freshness:
    """When "now" is, and how old a fact may be before an answer says so (STALE_AFTER_YEARS)."""

    today: date
    stale_after_years: int

    @classmethod
    def now(cls) -> "Freshness":
        return cls(date.today(), settings.stale_after_years())

    def age(self, as_of: Optional[str]) -> Optional[int]:
        """Years since the fact's as-of year, when that is more than the limit; else None."""
        year = as_of_year(as_of)
        if year is None or self.today.year - year <= self.stale_after_years:
            return None
        return self.today.year - year


def as_of_year(as_of: Optional[str]) -> Optional[int]:
    """The latest year an as-of text names ("c. 2016-2018" -> 2018); None when it names none, or only
    when the page was read ("undated page (stored copy seen 2026-11)")."""
    years = [int(year) for year in _YEAR.findall(_WHEN_READ.sub("", as_of or ""))]
    return max(years) if years else None


def _newest_first(as_ofs: Iterable[Optional[str]]) -> Optional[str]:
    dated = [a for a in as_ofs if as_of_year(a) is not None]
    return max(dated, key=as_of_year) if dated else None


def first_sentence(text: str) -> str:
    """The first sentence of a catalog text (its own words, cut, never rewritten)."""
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip()
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def _first_clause(text: str) -> str:
    """'one semester of the degree; admitted students ... (quoted 2015)' -> 'one semester of the degree'."""
    return text.split(";", 1)[0].split(" (", 1)[0].strip().rstrip(".")


def _as_of(as_of: Optional[str]) -> str:
    """' (as of 2017)', or the catalog's own words when they are no date ('undated page (...)')."""
    if not as_of:
        return ""
    return f" (as of {as_of})" if as_of[0].isdigit() or as_of.startswith("c. ") else f" ({as_of})"


def sources_line(sources: Iterable[Optional[SourceRef]], link: LinkStyle) -> str:
    """'Sources: <link> · <link>', one per distinct web address, in the order given."""
    seen, links = set(), []
    for source in sources:
        if source is None or not source.url or source.url in seen:
            continue
        seen.add(source.url)
        links.append(link(source.title, source.url))
    if not links:
        return ""
    return ("Source: " if len(links) == 1 else "Sources: ") + " · ".join(links)


def compose(lead: str, context: Optional[str], sources: Sequence[Optional[SourceRef]], link: LinkStyle) -> str:
    """Lead (the figure or the yes/no), one sentence of context, then the sources' links."""
    if context:
        lead = f"{lead}\n{context}" if "\n" in lead else f"{lead} {context}"
    lines = [lead]
    cited = sources_line(sources, link)
    if cited:
        lines.append(cited)
    return "\n".join(lines)


def program_page(program: ProgramFacts) -> SourceRef:
    """The page where a learner checks today's facts: the program's page, else edX."""
    if program.program_page and program.program_page.url:
        return SourceRef(f"{program.name} page", program.program_page.url)
    return EDX_HOME


def money(amount: float, currency: Optional[str] = "USD") -> str:
    figure = f"{amount:,.2f}" if amount != int(amount) else f"{int(amount):,}"
    if currency == "USD":
        return f"${figure}"
    if currency:
        return f"{figure} {currency}"
    return f"{figure} (currency not stated by the source)"


def _general(facts: Dict[str, GeneralFactText], topic: str) -> Tuple[str, Optional[SourceRef]]:
    fact = facts.get(topic)
    if fact is None:
        return "The catalog has no general facts on this topic yet.", None
    return f"{first_sentence(fact.text).rstrip('.')}{_as_of(fact.as_of)}.", fact.source


def general_answer(topic: str, facts: Dict[str, GeneralFactText], link: LinkStyle = plain_link) -> str:
    text, source = _general(facts, topic)
    return compose(
        f"{TOPIC_LABELS[topic]}, for MicroMasters programs in general: {text}",
        "Tell me which program you mean and I'll give its own facts.",
        [source], link,
    )


def _price_phrase(price: PriceFact) -> str:
    amount = money(price.amount, price.currency)
    if price.kind == "total":
        return f"{amount} in total"
    if price.kind == "total_computed":
        return f"about {amount} in total (our sum of the course fees, not a quoted price)"
    if price.kind == "per_course":
        return f"{amount} per course"
    top = f" to {money(price.amount_max, price.currency)}" if price.amount_max is not None else " upwards"
    if price.kind == "per_course_range":
        return f"{amount}{top} per course"
    if price.kind == "personalised":
        return f"a personalised price, from {amount}{top}"
    return f"{amount} for the capstone or final exam"


def current_prices(prices: Sequence[PriceFact]) -> Tuple[List[PriceFact], List[PriceFact]]:
    """(current, history): per family of kinds (total, per course, exam), the price with the newest
    as-of year is current (the first listed on a tie); the others are history, newest first. The
    current ones come total first, then per course, then the exam."""
    def year(price: PriceFact) -> int:
        return as_of_year(price.as_of) or 0

    current: Dict[str, PriceFact] = {}
    for price in prices:
        family = PRICE_FAMILIES.get(price.kind, price.kind)
        if family not in current or year(price) > year(current[family]):
            current[family] = price
    chosen = [current[family] for family in (*_FAMILY_ORDER, *sorted(set(current) - set(_FAMILY_ORDER)))
              if family in current]
    history = sorted((p for p in prices if p not in current.values()), key=year, reverse=True)
    return chosen, history


def _was(price: PriceFact, history: Sequence[PriceFact]) -> str:
    """' (was $600 as of 2017)' for the newest older price of the same family, if it differs."""
    family = PRICE_FAMILIES.get(price.kind, price.kind)
    older = next((p for p in history if PRICE_FAMILIES.get(p.kind, p.kind) == family), None)
    if older is None or (older.amount, older.amount_max) == (price.amount, price.amount_max):
        return ""
    figure = money(older.amount, older.currency)
    if older.amount_max is not None:
        figure += f" to {money(older.amount_max, older.currency)}"
    return f" (was {figure}{' as of ' + older.as_of if older.as_of else ''})"


def stale_note(as_of: Optional[str], freshness: "Freshness", what: str, where: str) -> Optional[str]:
    age = freshness.age(as_of)
    if age is None:
        return None
    return f"That {what} is from {as_of_year(as_of)}, {age} years ago: {where}."


def cost_answer(program: ProgramFacts, facts: Dict[str, GeneralFactText], link: LinkStyle = plain_link,
                freshness: Optional[Freshness] = None) -> str:
    freshness = freshness or Freshness.now()
    page = program_page(program)
    if not program.prices:
        general, source = _general(facts, "cost")
        how = f" {first_sentence(program.price_note)}" if program.price_note else ""
        return compose(
            f"No price on record for {program.name}, and I won't guess one.{how}",
            f"In general: {general} Today's price is on its page.",
            [page, source], link,
        )
    current, history = current_prices(program.prices)
    first, *others = current
    lead = f"{program.name}: {_price_phrase(first)}{_was(first, history)}"
    details = [_price_phrase(p) + (_as_of(p.as_of) if p.as_of != first.as_of else "") for p in others]
    if details:
        lead += f" ({', '.join(details)})"
    lead += f"{', as of ' + first.as_of if first.as_of else ''}."
    context = (stale_note(first.as_of, freshness, "price", "today's is on the program page")
               or "Prices change: check today's on the program page.")
    return compose(lead, context, [*(p.source for p in current), page], link)


def credit_answer(program: ProgramFacts, facts: Dict[str, GeneralFactText], link: LinkStyle = plain_link,
                  freshness: Optional[Freshness] = None) -> str:
    freshness = freshness or Freshness.now()
    page = program_page(program)
    if not program.credit_pathways:
        general, source = _general(facts, "credit")
        return compose(
            f"No credit pathway on record for {program.name}: a gap in my facts, not a no.",
            f"In general: {general}",
            [page, source], link,
        )
    pathways = program.credit_pathways
    count = len(pathways)
    lines = [f"Yes: {program.name} counts for credit at {count} school{'s' if count > 1 else ''} on record, "
             "if you are admitted there:"]
    for pathway in pathways[:MAX_PATHWAYS_LISTED]:
        what = pathway.credit or pathway.degree
        detail = f": {_first_clause(what)}" if what else ""
        lines.append(f"- {pathway.institution}{detail}{_as_of(pathway.as_of)}")
    if count > MAX_PATHWAYS_LISTED:
        lines.append(f"- and {count - MAX_PATHWAYS_LISTED} more on the program page")
    stale = stale_note(_newest_first(p.as_of for p in pathways), freshness, "list",
                       "today's pathways are on the program page")
    return compose("\n".join(lines), stale, [*(p.source for p in pathways), page], link)


def admission_answer(program: ProgramFacts, facts: Dict[str, GeneralFactText], link: LinkStyle = plain_link,
                     freshness: Optional[Freshness] = None) -> str:
    if program.admission_guaranteed:
        lead = f"Yes: according to the catalog, {program.name} guarantees admission."
    else:
        lead = f"No. Completing {program.name} does not guarantee admission to a Master's."
    if program.admission_basis == "program" and program.admission_note:
        context, source = first_sentence(program.admission_note), program.admission_source
    else:
        general, source = _general(facts, "admission")
        context = f"No program-specific statement on record, so edX's general rule applies: {general}"
    return compose(lead, context, [source, program_page(program)], link)


def career_answer(program: ProgramFacts, facts: Dict[str, GeneralFactText], link: LinkStyle = plain_link,
                  freshness: Optional[Freshness] = None) -> str:
    freshness = freshness or Freshness.now()
    lead = f"No MicroMasters guarantees a job, {program.name} included."
    sources: List[Optional[SourceRef]] = []
    if program.employers:
        named = ", ".join(
            f"{e.name}{' (' + _first_clause(e.relation) + ')' if e.relation else ''}{_as_of(e.as_of)}"
            for e in program.employers
        )
        context = f"Employers on record: {named}."
        stale = stale_note(_newest_first(e.as_of for e in program.employers), freshness, "list",
                           "the program page has today's")
        context += f" {stale}" if stale else ""
        sources += [e.source for e in program.employers]
    elif program.career_outcomes:
        context = first_sentence(program.career_outcomes)
        sources.append(program.career_source)
    else:
        general, source = _general(facts, "career")
        context = f"No career outcomes or endorsing employers on record for it. In general: {general}"
        sources.append(source)
    return compose(lead, context, [*sources, program_page(program)], link)


_BUILDERS = {
    "credit": credit_answer,
    "admission": admission_answer,
    "career": career_answer,
    "cost": cost_answer,
}


def status_note(program: ProgramFacts, link: LinkStyle = plain_link) -> Optional[str]:
    """A first line for a retired or moved program: since when, what replaced it, where, and the source."""
    status = program.status
    if status is None or status.value not in ("retired", "moved"):
        return None
    since = f" in {status.since}" if status.since else ""
    if status.value == "retired":
        text = f"Note: {program.name} was retired{since}"
        text += f"; a source names {status.successor} as what replaced it." if status.successor else "."
    else:
        text = f"Note: {program.name} has moved{' to ' + status.successor if status.successor else ''}{since}; " \
               "today's facts are there."
    cited = sources_line([status.successor_page, status.source], link)
    return f"{text} {cited}" if cited else text


def answer(topic: str, program: Optional[ProgramFacts], facts: Dict[str, GeneralFactText],
           link: LinkStyle = plain_link, freshness: Optional[Freshness] = None) -> str:
    """The answer to one question topic, specific when a program is known, general otherwise; a
    retired or moved program's answer starts by saying so."""
    if program is None:
        return general_answer(topic, facts, link)
    text = _BUILDERS[topic](program, facts, link, freshness=freshness)
    note = status_note(program, link)
    return f"{note}\n{text}" if note else text


def faq_answer(fact: FaqFact, program: Optional[ProgramFacts], link: LinkStyle = plain_link) -> str:
    """A general-FAQ answer, said for the program when the source is the program's own."""
    text = f"{fact.answer.rstrip('.')}{_as_of(fact.as_of)}."
    if fact.program_id and program is not None and program.id == fact.program_id:
        text = f"For {program.name}: {text}"
    return compose(text, None, [fact.source], link)


def no_sourced_answer() -> str:
    return "I don't have a sourced answer to that, and I won't guess."


def which_program_prompt() -> str:
    return "Several programs match. Which one do you mean?"


def program_buttons(choices: Iterable[Tuple[str, str]]) -> List[Dict[str, str]]:
    """Buttons whose payload names the program by id, so the choice needs no NLU."""
    return [
        {"title": name, "payload": f'/inform_program{{"program_id":"{program_id}"}}'}
        for program_id, name in choices
    ]


def topic_buttons(topics: Sequence[str] = TOPICS) -> List[Dict[str, str]]:
    return [{"title": TOPIC_LABELS[t], "payload": f"/ask_{t}"} for t in topics]


def program_chosen(program: ProgramFacts) -> str:
    return f"{program.name} ({program.institution}). What would you like to know about it?"


def unknown_program(link: LinkStyle = plain_link) -> str:
    return (
        "I couldn't find that program in the catalog. I know edX MicroMasters programs such as "
        "MITx Supply Chain Management or ColumbiaX Artificial Intelligence; the full list is on "
        f"{link('edX', EDX_HOME.url)}. Which program do you mean?"
    )
