"""Answer wording from facts: plain functions, no Rasa and no server."""

import re

from actions import answers
from actions.catalog import CreditFact, EmployerFact, GeneralFactText, PriceFact, ProgramFacts, SourceRef

FAQ = SourceRef("Program FAQ", "https://example.edu/faq")
GENERAL = {
    "credit": GeneralFactText("credit", "Usually only the offering university grants credit.", "2016-2017", FAQ),
    "admission": GeneralFactText("admission", "No admission guarantee.", "2016-2017", FAQ),
    "career": GeneralFactText("career", "Career-oriented; no job guarantee.", "2016-2017", FAQ),
    "cost": GeneralFactText("cost", "Programs generally cost $600-$1,400.", "2017", None),
}


def make_program(**changes) -> ProgramFacts:
    fields = dict(
        id="testx-widgets", title="Widget Engineering", edx_org="TestX", institution="Test University",
        program_page=FAQ, num_courses=4, courses_note=None, admission_guaranteed=False,
        admission_basis="program", admission_note="Credential holders still apply as usual.",
        admission_source=FAQ, career_outcomes=None, career_source=None, prices=(), price_note=None,
        credit_pathways=(), employers=(),
    )
    fields.update(changes)
    return ProgramFacts(**fields)


def dollar_figures(text: str) -> set:
    return set(re.findall(r"\$[\d,]+(?:\.\d+)?", text))


def test_cost_states_price_with_as_of_and_source():
    program = make_program(prices=(
        PriceFact("total", 1350, None, "USD", "2017", "5 x $150 + $600 exam", FAQ),
        PriceFact("per_course", 150, None, "USD", "2017", "5 x $150 + $600 exam", FAQ),
    ))
    text = answers.answer("cost", program, GENERAL)
    assert "Total: $1,350 (as of 2017; source: Program FAQ, https://example.edu/faq)" in text
    assert "Per course: $150" in text
    assert text.count("5 x $150 + $600 exam") == 1
    assert "https://example.edu/faq" in text


def test_missing_price_is_a_gap_never_a_figure():
    program = make_program(price_note="No price found in public sources.")
    text = answers.answer("cost", program, GENERAL)
    assert "no price on record for TestX Widget Engineering (No price found in public sources)" in text
    assert "won't guess" in text
    assert dollar_figures(text) == {"$600", "$1,400"}  # only the general range, said as general
    assert "In general: Programs generally cost $600-$1,400. (as of 2017)" in text
    assert "https://example.edu/faq" in text


def test_missing_program_page_points_to_edx():
    text = answers.answer("cost", make_program(program_page=None), GENERAL)
    assert 'https://www.edx.org, search for "TestX Widget Engineering"' in text


def test_computed_total_and_unknown_currency_are_labelled():
    program = make_program(prices=(
        PriceFact("total_computed", 891, None, "USD", "2016-09", None, None),
        PriceFact("total", 1500, None, None, "2017", None, None),
        PriceFact("per_course_range", 100, 1000, "USD", None, None, None),
    ))
    text = answers.answer("cost", program, GENERAL)
    assert "about $891 (our sum of the per-course fees, not a quoted price)" in text
    assert "1,500 (currency not stated by the source)" in text
    assert "Per course: $100 to $1,000" in text


def test_credit_lists_pathways_with_dates():
    program = make_program(credit_pathways=(
        CreditFact("Test University", "MSc Widgets", "one semester", "2018", FAQ),
        CreditFact("Other College", None, None, None, None),
    ))
    text = answers.answer("credit", program, GENERAL)
    assert "- Test University, MSc Widgets: one semester (as of 2018; source: Program FAQ" in text
    assert "- Other College\n" in text
    assert "only if you are admitted" in text


def test_credit_without_pathways_says_gap_and_general_rule():
    text = answers.answer("credit", make_program(), GENERAL)
    assert "no credit pathway on record for TestX Widget Engineering" in text
    assert "not a no" in text
    assert "Usually only the offering university grants credit." in text


def test_admission_is_no_with_the_program_statement():
    text = answers.answer("admission", make_program(), GENERAL)
    assert text.startswith("No. Completing TestX Widget Engineering does not guarantee admission")
    assert "Credential holders still apply as usual." in text


def test_admission_edx_wide_rule_is_said_as_such():
    text = answers.answer("admission", make_program(admission_basis="edx-wide", admission_note=None), GENERAL)
    assert "no program-specific statement" in text and "edX's rule" in text


def test_career_lists_employers_and_never_promises_a_job():
    program = make_program(employers=(EmployerFact("Acme", "endorsing employer", "2017", FAQ),))
    text = answers.answer("career", program, GENERAL)
    assert "- Acme: endorsing employer (as of 2017; source: Program FAQ" in text
    assert "No MicroMasters guarantees a job" in text
    empty = answers.answer("career", make_program(), GENERAL)
    assert "no career outcomes or endorsing employers on record" in empty


def test_general_answers_without_a_program():
    for topic in answers.TOPICS:
        text = answers.answer(topic, None, GENERAL)
        assert GENERAL[topic].text in text
        assert "which program" in text


def test_buttons_carry_the_program_id():
    buttons = answers.program_buttons([("mitx-finance", "MITx Finance")])
    assert buttons == [{"title": "MITx Finance", "payload": '/inform_program{"program_id":"mitx-finance"}'}]
    assert [b["payload"] for b in answers.topic_buttons()] == ["/ask_credit", "/ask_admission", "/ask_career",
                                                                "/ask_cost"]
