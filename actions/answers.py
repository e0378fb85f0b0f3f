"""Answer wording: plain functions from catalog facts to text, callable without Rasa or a server.

Every answer is short, for a learner on a phone: the figure or the yes/no first, at most one sentence
of context, then at most MAX_LINKS links (the fact's own source, then the program page), labelled with
the source's name (`links.py` renders it for the channel); a site's home page is not a source. Every
figure comes from the facts passed in; a missing fact is said as a gap, with where to check. Each
function takes the answer's `language` (`phrases.py` holds the words in each one).
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Dict, Iterable, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from actions.links import LinkStyle, plain_link
from actions.phrases import say
from catalog.facts import (
    FAMILY_ORDER,
    PRICE_FAMILIES,
    FaqFact,
    GeneralFactText,
    PriceFact,
    ProgramFacts,
    SourceRef,
    as_of_year,
)
from core import settings
from core.languages import DEFAULT

TOPICS = ("credit", "admission", "career", "cost")
# Where the full list of programs is (a listing, not a home page).
PROGRAMS_LIST_URL = "https://www.edx.org/masters/micromasters"
MAX_PATHWAYS_LISTED = 2
MAX_LINKS = 2
MAX_DETAIL_WORDS = 8  # a catalog note quoted in a list item is cut here
MAX_LABEL_WORDS = 5
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")


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


def _newest_first(as_ofs: Iterable[Optional[str]]) -> Optional[str]:
    dated = [a for a in as_ofs if as_of_year(a) is not None]
    return max(dated, key=as_of_year) if dated else None


def first_sentence(text: str) -> str:
    """The first sentence of a catalog text (its own words, cut, never rewritten)."""
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip()
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def _first_clause(text: str, max_words: int = 0) -> str:
    """'one semester of the degree; admitted students ... (quoted 2015)' -> 'one semester of the degree';
    with `max_words`, cut there ("…")."""
    clause = text.split(";", 1)[0].split(" (", 1)[0].strip().rstrip(".")
    words = clause.split()
    return " ".join(words[:max_words]) + "…" if max_words and len(words) > max_words else clause


def short_label(title: str) -> str:
    """A link's label, short: 'MIT Faculty Newsletter, Nov/Dec 2022: MITx update' -> 'MIT Faculty Newsletter'."""
    head = re.split(r"[:,–—|]| - ", title, maxsplit=1)[0].strip() or title
    words = head.split()
    return " ".join(words[:MAX_LABEL_WORDS]) + ("…" if len(words) > MAX_LABEL_WORDS else "")


def _dated(as_of: Optional[str]) -> bool:
    return bool(as_of) and (as_of[0].isdigit() or as_of.startswith("c. "))


def _as_of(as_of: Optional[str], language: str = DEFAULT) -> str:
    """' (as of 2017)', or the catalog's own words when they are no date ('undated page (...)')."""
    if not as_of:
        return ""
    return say("as_of" if _dated(as_of) else "undated", language, as_of=as_of)


def is_home_page(url: str) -> bool:
    """'https://www.edx.org' or 'https://example.edu/': a whole site, not a page that says the fact."""
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query and not parts.fragment


def cited_sources(sources: Iterable[Optional[SourceRef]], limit: int = MAX_LINKS) -> List[SourceRef]:
    """Distinct web addresses in the order given, home pages left out; past `limit`, the first (the
    fact's own source) and the last (the program page, where the rest is) are kept; with a limit of one,
    the first."""
    seen, kept = set(), []
    for source in sources:
        if source is None or not source.url or source.url in seen or is_home_page(source.url):
            continue
        seen.add(source.url)
        kept.append(source)
    if len(kept) <= limit:
        return kept
    return [*kept[:limit - 1], kept[-1]] if limit > 1 else kept[:limit]


def sources_line(sources: Iterable[Optional[SourceRef]], link: LinkStyle, language: str = DEFAULT,
                 limit: int = MAX_LINKS) -> str:
    """'Sources: <link> · <link>', at most MAX_LINKS of them."""
    links = [link(short_label(source.title), source.url) for source in cited_sources(sources, limit)]
    if not links:
        return ""
    return say("source_one" if len(links) == 1 else "source_many", language) + " · ".join(links)


def compose(lead: str, context: Optional[str], sources: Sequence[Optional[SourceRef]], link: LinkStyle,
            language: str = DEFAULT, links: int = MAX_LINKS) -> str:
    """Lead (the figure or the yes/no), one sentence of context, then at most `links` sources' links."""
    if context:
        lead = f"{lead}\n{context}" if "\n" in lead else f"{lead} {context}"
    lines = [lead]
    cited = sources_line(sources, link, language, links)
    if cited:
        lines.append(cited)
    return "\n".join(lines)


def program_page(program: ProgramFacts, language: str = DEFAULT) -> SourceRef:
    """The page where a learner checks today's facts: the program's page, else edX's list of programs."""
    if program.program_page and program.program_page.url:
        return SourceRef(say("program_page", language, name=program.name), program.program_page.url)
    return SourceRef(say("programs_list", language), PROGRAMS_LIST_URL)


def topic_label(topic: str, language: str = DEFAULT) -> str:
    return say(f"topic_{topic}", language)


def _english_note(text: Optional[str], language: str) -> Optional[str]:
    """A catalog note (written in English) for an English answer; elsewhere, where to read it."""
    if not text:
        return None
    return _first_clause(first_sentence(text)) + "." if language == DEFAULT else say("details_in_source", language)


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
        return say("general_gap", DEFAULT), None
    return f"{first_sentence(fact.text).rstrip('.')}{_as_of(fact.as_of)}.", fact.source


def general_answer(topic: str, facts: Dict[str, GeneralFactText], link: LinkStyle = plain_link,
                   language: str = DEFAULT) -> str:
    text, source = _general(facts, topic)
    return compose(
        say("general_lead", language, label=topic_label(topic, language), text=text),
        say("general_ask_program", language),
        [source], link, language,
    )


def _price_phrase(price: PriceFact, language: str = DEFAULT) -> str:
    amount = money(price.amount, price.currency)
    top = money(price.amount_max, price.currency) if price.amount_max is not None else None
    if price.kind in ("total", "total_approx", "total_computed", "per_course", "coupon"):
        return say(f"price_{price.kind}", language, amount=amount)
    if price.kind == "per_course_range":
        return say("price_range", language, amount=amount, top=top) if top else say("price_from", language,
                                                                                     amount=amount)
    if price.kind == "personalised":
        return say("price_personalised", language, amount=amount,
                   top=say("price_upto", language, top=top) if top else "")
    return say("price_exam", language, amount=amount)


def third_party(price: PriceFact) -> bool:
    return bool(price.source is not None and getattr(price.source, "third_party", False))


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
    chosen = [current[family] for family in (*FAMILY_ORDER, *sorted(set(current) - set(FAMILY_ORDER)))
              if family in current]
    history = sorted((p for p in prices if p not in current.values()), key=year, reverse=True)
    return chosen, history


def _was(price: PriceFact, history: Sequence[PriceFact], language: str = DEFAULT) -> str:
    """' (was $600 as of 2017)' for the newest older price of the same family, if it differs."""
    family = PRICE_FAMILIES.get(price.kind, price.kind)
    older = next((p for p in history if PRICE_FAMILIES.get(p.kind, p.kind) == family and not third_party(p)), None)
    if older is None or (older.amount, older.amount_max) == (price.amount, price.amount_max):
        return ""
    figure = money(older.amount, older.currency)
    if older.amount_max is not None:
        figure += say("price_upto", language, top=money(older.amount_max, older.currency))
    when = say("price_was_when", language, as_of=older.as_of) if older.as_of else ""
    return say("price_was", language, figure=figure, when=when)


def stale_note(as_of: Optional[str], freshness: "Freshness", what: str, where: str,
               language: str = DEFAULT) -> Optional[str]:
    """`where` is a phrase key (stale_price_where, ...) or, in English, the words themselves."""
    age = freshness.age(as_of)
    if age is None:
        return None
    place = say(where, language) if where.startswith("stale_") else where
    return say("stale", language, what=what, year=as_of_year(as_of), age=age, where=place)


def _third_party_text(price: PriceFact, language: str) -> Tuple[str, str]:
    """(site, when) for a price a third-party site gave: never the program's own price."""
    when = say("third_party_when", language, as_of=price.as_of) if price.as_of else ""
    return price.source.title, when


def cost_answer(program: ProgramFacts, facts: Dict[str, GeneralFactText], link: LinkStyle = plain_link,
                freshness: Optional[Freshness] = None, language: str = DEFAULT, links: int = MAX_LINKS) -> str:
    freshness = freshness or Freshness.now()
    page = program_page(program, language)
    own = [p for p in program.prices if not third_party(p)]
    others = [p for p in program.prices if third_party(p)]
    if not own and not others:
        general, source = _general(facts, "cost")
        general_line = f"In general: {general} " if language == DEFAULT else ""
        return compose(
            say("no_price", language, name=program.name),
            general_line + say("no_price_where", language),
            [page, source], link, language, links,
        )
    if not own:
        reported, _ = current_prices(others)
        site, when = _third_party_text(reported[0], language)
        lead = say("third_party_price", language, name=program.name, site=site, when=when,
                   price=_price_phrase(reported[0], language))
        return compose(lead, say("prices_change", language), [reported[0].source, page], link, language, links)
    coupons = [p for p in own if p.kind == "coupon"]
    current, history = current_prices([p for p in own if p.kind != "coupon"] or own)
    first, *rest = current
    same_date, other_dates = _beside(first, rest)
    price = _price_phrase(first, language) + _was(first, history, language)
    details = [_price_phrase(p, language) + (_as_of(p.as_of, language) if p.as_of != first.as_of else "")
               for p in same_date]
    if details:
        price += f" ({', '.join(details)})"
    lead = say("price_lead", language, name=program.name, price=price,
               when=say("price_lead_when", language, as_of=first.as_of) if first.as_of else "")
    notes = [say("price_other_date", language, price=_price_phrase(p, language), as_of=p.as_of or "?")
             for p in other_dates]
    if coupons and coupons[0] is not first:
        notes.append(coupon_line(coupons[0], language))
    newer = _newer_third_party(first, others)
    if newer is not None:
        site, when = _third_party_text(newer, language)
        notes.append(say("third_party_extra", language, site=site, when=when, price=_price_phrase(newer, language)))
    notes.append(stale_note(first.as_of, freshness, "price", "stale_price_where", language)
                 or say("prices_change", language))
    cited = [first.source, *(p.source for p in same_date + other_dates), *([newer.source] if newer else []), page]
    return compose(lead, " ".join(notes), cited, link, language, links)


def _beside(first: PriceFact, rest: Sequence[PriceFact]) -> Tuple[List[PriceFact], List[PriceFact]]:
    """Beside a total, only parts of its own year: a newer part is said apart (never added to an older
    total), an older one is history. Beside a per-course price, every current figure is listed."""
    if PRICE_FAMILIES.get(first.kind) not in ("total", "computed"):
        return list(rest), []
    year = as_of_year(first.as_of)
    same = [p for p in rest if as_of_year(p.as_of) == year]
    newer = [p for p in rest if year is not None and (as_of_year(p.as_of) or 0) > year]
    return same, newer


def _newer_third_party(first: PriceFact, others: Sequence[PriceFact]) -> Optional[PriceFact]:
    """A third-party figure newer than the program's own: worth saying, labelled, never as the price."""
    year = as_of_year(first.as_of) or 0
    newer = [p for p in others if (as_of_year(p.as_of) or 0) > year]
    return max(newer, key=lambda p: as_of_year(p.as_of) or 0) if newer else None


def coupon_line(coupon: PriceFact, language: str = DEFAULT) -> str:
    """A discount few learners get is never the price: said apart, with who can get it."""
    note = coupon.note if language == DEFAULT else None
    return say("price_coupon_line", language, price=_price_phrase(coupon, language),
               who=f": {note}" if note else "")


def credit_answer(program: ProgramFacts, facts: Dict[str, GeneralFactText], link: LinkStyle = plain_link,
                  freshness: Optional[Freshness] = None, language: str = DEFAULT, links: int = MAX_LINKS) -> str:
    freshness = freshness or Freshness.now()
    page = program_page(program, language)
    if not program.credit_pathways:
        general, source = _general(facts, "credit")
        return compose(
            say("no_credit", language, name=program.name),
            f"In general: {general}" if language == DEFAULT else None,
            [page, source], link, language, links,
        )
    pathways = program.credit_pathways
    count = len(pathways)
    lines = [say("credit_yes", language, name=program.name, count=count,
                 schools=say("schools" if count > 1 else "school", language))]
    for pathway in pathways[:MAX_PATHWAYS_LISTED]:
        what = pathway.credit or pathway.degree
        detail = f": {_first_clause(what, MAX_DETAIL_WORDS)}" if what and language == DEFAULT else ""
        lines.append(f"- {pathway.institution}{detail}{_as_of(pathway.as_of, language)}")
    if count > MAX_PATHWAYS_LISTED:
        lines.append(say("more_pathways", language, count=count - MAX_PATHWAYS_LISTED))
    stale = stale_note(_newest_first(p.as_of for p in pathways), freshness, "list", "stale_list_where", language)
    return compose("\n".join(lines), stale, [pathways[0].source, page], link, language, links)


def admission_answer(program: ProgramFacts, facts: Dict[str, GeneralFactText], link: LinkStyle = plain_link,
                     freshness: Optional[Freshness] = None, language: str = DEFAULT, links: int = MAX_LINKS) -> str:
    key = "admission_yes" if program.admission_guaranteed else "admission_no"
    lead = say(key, language, name=program.name)
    if program.admission_basis == "program" and program.admission_note:
        context, source = _english_note(program.admission_note, language), program.admission_source
    else:
        general, source = _general(facts, "admission")
        context = say("admission_general", language, general=general)
    return compose(lead, context, [source, program_page(program, language)], link, language, links)


def career_answer(program: ProgramFacts, facts: Dict[str, GeneralFactText], link: LinkStyle = plain_link,
                  freshness: Optional[Freshness] = None, language: str = DEFAULT, links: int = MAX_LINKS) -> str:
    freshness = freshness or Freshness.now()
    lead = say("career_lead", language, name=program.name)
    sources: List[Optional[SourceRef]] = []
    if program.employers:
        def employer(e) -> str:
            relation = f" ({_first_clause(e.relation, MAX_DETAIL_WORDS)})" if e.relation and language == DEFAULT else ""
            return f"{e.name}{relation}{_as_of(e.as_of, language)}"

        named = ", ".join(employer(e) for e in program.employers)
        context = say("employers", language, named=named)
        stale = stale_note(_newest_first(e.as_of for e in program.employers), freshness, "list",
                           "stale_employers_where", language)
        context += f" {stale}" if stale else ""
        sources += [e.source for e in program.employers]
    elif program.career_outcomes:
        context = _english_note(program.career_outcomes, language)
        sources.append(program.career_source)
    else:
        general, source = _general(facts, "career")
        context = say("career_none", language, general=general)
        sources.append(source)
    return compose(lead, context, [*sources, program_page(program, language)], link, language, links)


_BUILDERS = {
    "credit": credit_answer,
    "admission": admission_answer,
    "career": career_answer,
    "cost": cost_answer,
}


def status_note(program: ProgramFacts, link: LinkStyle = plain_link, language: str = DEFAULT) -> Optional[str]:
    """A first line for a retired or moved program: since when, what replaced it, where, and the source."""
    status = program.status
    if status is None or status.value not in ("retired", "moved"):
        return None
    since = say("status_since", language, since=status.since) if status.since else ""
    if status.value == "retired":
        text = say("status_retired", language, name=program.name, since=since)
        if status.successor:
            text += say("status_successor", language, successor=status.successor)
    else:
        to = say("status_to", language, successor=status.successor) if status.successor else ""
        text = say("status_moved", language, name=program.name, to=to, since=since)
    cited = sources_line([status.successor_page, status.source], link, language, limit=1)
    return f"{text} {cited}" if cited else text


def answer(topic: str, program: Optional[ProgramFacts], facts: Dict[str, GeneralFactText],
           link: LinkStyle = plain_link, freshness: Optional[Freshness] = None, language: str = DEFAULT) -> str:
    """The answer to one question topic, specific when a program is known, general otherwise; a
    retired or moved program's answer starts by saying so."""
    if program is None:
        return general_answer(topic, facts, link, language)
    note = status_note(program, link, language)
    text = _BUILDERS[topic](program, facts, link, freshness=freshness, language=language,
                            links=MAX_LINKS - 1 if note and "://" in note else MAX_LINKS)
    return f"{note}\n{text}" if note else text


def faq_answer(fact: FaqFact, program: Optional[ProgramFacts], link: LinkStyle = plain_link,
               language: str = DEFAULT) -> str:
    """A general-FAQ answer in the learner's language (the English one, said as such, when the
    catalog has no translation), said for the program when the source is the program's own."""
    translated = fact.answer_in(language)
    body = f"{(translated or fact.answer).rstrip('.')}{_as_of(fact.as_of, language if translated else DEFAULT)}."
    if translated is None:
        body = say("english_only", language, text=body)
    if fact.program_id and program is not None and program.id == fact.program_id:
        body = say("faq_for_program", language, name=program.name, text=body)
    return compose(body, None, [fact.source], link, language)


def no_sourced_answer(language: str = DEFAULT) -> str:
    return say("no_sourced_answer", language)


def which_program_prompt(language: str = DEFAULT) -> str:
    return say("which_program", language)


def program_buttons(choices: Iterable[Tuple[str, str]]) -> List[Dict[str, str]]:
    """Buttons whose payload names the program by id, so the choice needs no NLU."""
    return [
        {"title": name, "payload": f'/inform_program{{"program_id":"{program_id}"}}'}
        for program_id, name in choices
    ]


def topic_buttons(topics: Sequence[str] = TOPICS, language: str = DEFAULT) -> List[Dict[str, str]]:
    return [{"title": topic_label(t, language), "payload": f"/ask_{t}"} for t in topics]


def program_chosen(program: ProgramFacts, language: str = DEFAULT) -> str:
    return say("program_chosen", language, name=program.name, institution=program.institution)


def unknown_program(link: LinkStyle = plain_link, language: str = DEFAULT) -> str:
    return say("unknown_program", language, link=link(say("programs_list", language), PROGRAMS_LIST_URL))
