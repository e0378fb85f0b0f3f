"""Answer wording: plain functions from catalog facts to text, callable without Rasa or a server.

Every figure in an answer comes from the facts passed in; where a fact is missing the answer says
so, gives the general (edX-wide) answer, and points to where the learner can check.
"""

from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from actions.catalog import GeneralFactText, PriceFact, ProgramFacts, SourceRef

TOPICS = ("credit", "admission", "career", "cost")
EDX_SEARCH = "https://www.edx.org"
TOPIC_LABELS = {
    "credit": "Credit toward a degree",
    "admission": "Admission to a Master's",
    "career": "Jobs and careers",
    "cost": "Cost",
}


def cite(source: Optional[SourceRef]) -> str:
    if source is None:
        return ""
    return f"{source.title}, {source.url}" if source.url else source.title


def _dated(as_of: Optional[str], source: Optional[SourceRef]) -> str:
    """' (as of 2016-09; source: Campus Technology, https://...)' or '' when neither is known."""
    parts = []
    if as_of:
        parts.append(f"as of {as_of}")
    if source:
        parts.append(f"source: {cite(source)}")
    return f" ({'; '.join(parts)})" if parts else ""


def money(amount: float, currency: Optional[str] = "USD") -> str:
    figure = f"{amount:,.2f}" if amount != int(amount) else f"{int(amount):,}"
    if currency == "USD":
        return f"${figure}"
    if currency:
        return f"{figure} {currency}"
    return f"{figure} (currency not stated by the source)"


def where_to_check(program: ProgramFacts) -> str:
    if program.program_page and program.program_page.url:
        return f"the program page: {program.program_page.url}"
    return f"the program's page on edX ({EDX_SEARCH}, search for \"{program.name}\")"


def general_line(facts: Dict[str, GeneralFactText], topic: str) -> str:
    fact = facts.get(topic)
    if fact is None:
        return "The catalog has no general facts on this topic yet; edX Learner Support can help."
    return f"{fact.text}{_dated(fact.as_of, fact.source)}"


def general_answer(topic: str, facts: Dict[str, GeneralFactText]) -> str:
    return (
        f"{TOPIC_LABELS[topic]}, for MicroMasters programs in general: {general_line(facts, topic)}\n"
        "Tell me which program you are looking at and I will give you its own facts."
    )


def credit_answer(program: ProgramFacts, facts: Dict[str, GeneralFactText]) -> str:
    if not program.credit_pathways:
        return (
            f"The catalog has no credit pathway on record for {program.name}; that is a gap in our "
            f"facts, not a no. In general: {general_line(facts, 'credit')}\n"
            f"Check current pathways on {where_to_check(program)}"
        )
    lines = [f"Where {program.name} counts for credit, from the catalog:"]
    for pathway in program.credit_pathways:
        degree = f", {pathway.degree}" if pathway.degree else ""
        credit = f": {pathway.credit}" if pathway.credit else ""
        lines.append(f"- {pathway.institution}{degree}{credit}{_dated(pathway.as_of, pathway.source)}")
    lines.append(
        "\nCredit applies only if you are admitted to that school's program. "
        f"Pathways change; check the current list on {where_to_check(program)}"
    )
    return "\n".join(lines)


def admission_answer(program: ProgramFacts, facts: Dict[str, GeneralFactText]) -> str:
    if program.admission_guaranteed:
        verdict = f"According to the catalog, {program.name} does guarantee admission"
    else:
        verdict = f"No. Completing {program.name} does not guarantee admission to a Master's program"
    if program.admission_basis == "program":
        detail = f"{program.admission_note or ''}{_dated(None, program.admission_source)}".strip()
    else:
        detail = (
            "The catalog has no program-specific statement, so edX's rule for every MicroMasters "
            f"applies{_dated(None, program.admission_source)}."
        )
    return (
        f"{verdict}. {detail}\n"
        f"In general: {general_line(facts, 'admission')}\n"
        f"Details on {where_to_check(program)}"
    )


def career_answer(program: ProgramFacts, facts: Dict[str, GeneralFactText]) -> str:
    lines: List[str] = []
    if program.career_outcomes:
        lines.append(f"About {program.name} and careers: {program.career_outcomes}"
                     f"{_dated(None, program.career_source)}")
    if program.employers:
        lines.append("Employers on record:")
        for employer in program.employers:
            relation = f": {employer.relation}" if employer.relation else ""
            lines.append(f"- {employer.name}{relation}{_dated(employer.as_of, employer.source)}")
    if not lines:
        lines.append(f"The catalog has no career outcomes or endorsing employers on record for {program.name}.")
    lines.append(f"\nNo MicroMasters guarantees a job. In general: {general_line(facts, 'career')}")
    lines.append(f"More on {where_to_check(program)}")
    return "\n".join(lines)


def _price_line(price: PriceFact) -> str:
    if price.kind == "total":
        text = f"Total: {money(price.amount, price.currency)}"
    elif price.kind == "total_computed":
        text = (f"Total: about {money(price.amount, price.currency)} "
                "(our sum of the per-course fees, not a quoted price)")
    elif price.kind == "per_course":
        text = f"Per course: {money(price.amount, price.currency)}"
    elif price.kind == "per_course_range":
        text = f"Per course: {money(price.amount, price.currency)} to {money(price.amount_max, price.currency)}"
    else:
        text = f"Capstone or final exam: {money(price.amount, price.currency)}"
    return f"- {text}{_dated(price.as_of, price.source)}"


def cost_answer(program: ProgramFacts, facts: Dict[str, GeneralFactText]) -> str:
    if not program.prices:
        why = f" ({program.price_note.rstrip('.')})" if program.price_note else ""
        return (
            f"The catalog has no price on record for {program.name}{why}. I won't guess one. "
            f"In general: {general_line(facts, 'cost')}\n"
            f"Today's price is on {where_to_check(program)}"
        )
    lines = [f"What {program.name} costs, from the catalog:"]
    lines += [_price_line(price) for price in program.prices]
    notes = list(dict.fromkeys(price.note for price in program.prices if price.note))
    if notes:
        lines.append("\nNote: " + " ".join(notes))
    lines.append(f"\nPrices change; these are as of the dates shown. Today's price is on {where_to_check(program)}")
    return "\n".join(lines)


_BUILDERS = {
    "credit": credit_answer,
    "admission": admission_answer,
    "career": career_answer,
    "cost": cost_answer,
}


def answer(topic: str, program: Optional[ProgramFacts], facts: Dict[str, GeneralFactText]) -> str:
    """The answer to one question topic, specific when a program is known, general otherwise."""
    if program is None:
        return general_answer(topic, facts)
    return _BUILDERS[topic](program, facts)


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


def unknown_program() -> str:
    return (
        "I couldn't find that program in the catalog. I know edX MicroMasters programs such as "
        "MITx Supply Chain Management or ColumbiaX Artificial Intelligence; the full list is on "
        f"{EDX_SEARCH}. Which program do you mean?"
    )


def offer_support(support_url: str) -> str:
    return (
        "I can only answer questions about MicroMasters credit, admission, careers and cost. "
        f"For anything else, the edX learner-support team can help: {support_url}"
    )


def handoff_started() -> str:
    return (
        "I've asked the learner-support team to help; a person will answer you here in this chat. "
        "Anything you write now goes to them."
    )


def handoff_delayed(support_url: str) -> str:
    return (
        "I couldn't reach the learner-support team just now. I've kept your question and will pass it "
        f"on as soon as I can; you can also contact them directly: {support_url}"
    )


def handoff_closed() -> str:
    return "The support team has handed you back to me. Ask me about credit, admission, jobs or cost any time."
