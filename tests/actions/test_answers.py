"""Answer wording from facts: plain functions, no Rasa and no server."""

import re

import pytest

from actions import answers
from actions.links import markdown_link, plain_link, slack_link
from catalog.facts import CreditFact, EmployerFact, FaqFact, PriceFact, SourceRef
from tests.actions.sample_facts import BLOG, FAQ, GENERAL, make_program


def dollar_figures(text: str) -> set:
    return set(re.findall(r"\$[\d,]+(?:\.\d+)?", text))


def test_cost_gives_the_figure_first_with_its_date_and_one_link_per_source():
    program = make_program(prices=(
        PriceFact("total", 1350, None, "USD", "2017", "5 x $150 + $600 exam", FAQ),
        PriceFact("per_course", 150, None, "USD", "2017", "5 x $150 + $600 exam", FAQ),
        PriceFact("capstone_or_exam", 600, None, "USD", "2017", None, FAQ),
    ))
    text = answers.answer("cost", program, GENERAL)
    assert text.startswith("TestX Widget Engineering: $1,350 in total ($150 per course, $600 for the capstone "
                           "or final exam), as of 2017.")
    assert text.count("https://example.edu/faq") == 1
    assert text.count("https://example.edu/widgets") == 1
    assert text.splitlines()[-1] == ("Sources: Program FAQ: https://example.edu/faq · "
                                     "Program page: https://example.edu/widgets")
    assert "5 x $150" not in text


def test_a_newer_part_is_said_apart_from_an_older_total_never_added_to_it():
    program = make_program(prices=(
        PriceFact("total", 1350, None, "USD", "2017", None, FAQ),
        PriceFact("per_course", 200, None, "USD", "2021", None, FAQ),
    ))
    text = answers.answer("cost", program, GENERAL)
    assert "$1,350 in total, as of 2017. Separately, as of 2021: $200 per course." in text


def test_an_older_part_beside_a_newer_total_is_history_not_listed():
    program = make_program(prices=(
        PriceFact("total", 2000, None, "USD", "2023", None, FAQ),
        PriceFact("per_course", 199, None, "USD", "2016-09", None, FAQ),
    ))
    text = answers.answer("cost", program, GENERAL)
    assert text.startswith("TestX Widget Engineering: $2,000 in total, as of 2023.") and "$199" not in text


def test_a_coupon_is_said_apart_with_who_can_get_it_never_as_the_price():
    program = make_program(prices=(
        PriceFact("personalised", 100, 1000, "USD", "2021", None, FAQ),
        PriceFact("coupon", 100, None, "USD", "2021",
                  "a few coupons, drawn by lottery, for incomes under $10,000", FAQ),
    ))
    text = answers.answer("cost", program, GENERAL)
    assert text.startswith("TestX Widget Engineering: a personalised price, from $100 to $1,000, as of 2021.")
    assert ("The lowest price, $100 for one course with a coupon, is not for everyone: a few coupons, drawn by "
            "lottery, for incomes under $10,000.") in text
    spanish = answers.answer("cost", program, GENERAL, language="es")
    assert "El precio más bajo, $100 por un curso con un cupón, no es para todos." in spanish


def test_a_newer_third_party_figure_is_labelled_beside_the_programs_own_older_price():
    review = SourceRef(title="A magazine", url="https://magazine.example/2021", third_party=True)
    program = make_program(prices=(
        PriceFact("total", 1350, None, "USD", "2018", None, FAQ),
        PriceFact("total_approx", 2000, None, None, "2021-04", None, review),
    ))
    text = answers.answer("cost", program, GENERAL)
    assert text.startswith("TestX Widget Engineering: $1,350 in total, as of 2018.")
    assert ("A third-party site (A magazine) said in 2021-04: about 2,000 (currency not stated by the source) in "
            "total (a rounded figure).") in text


def test_missing_price_is_a_gap_never_a_figure():
    text = answers.answer("cost", make_program(price_note="No price found in public sources."), GENERAL)
    assert text.startswith("No price on record for TestX Widget Engineering, and I won't guess one.")
    assert dollar_figures(text) == {"$600", "$1,400"}  # only the general range, said as general
    assert "In general: Programs generally cost $600-$1,400 (as of 2017)." in text
    assert "https://example.edu/widgets" in text


def test_missing_program_page_points_to_the_list_of_programs():
    text = answers.answer("cost", make_program(program_page=None), GENERAL)
    assert "edX MicroMasters programs: https://www.edx.org/masters/micromasters" in text


def test_computed_total_range_and_unknown_currency_are_labelled():
    program = make_program(prices=(
        PriceFact("total_computed", 891, None, "USD", "2016-09", None, None),
        PriceFact("total", 1500, None, None, "2016-09", None, None),
        PriceFact("per_course_range", 100, 1000, "USD", "2016-09", None, None),
    ))
    text = answers.answer("cost", program, GENERAL)
    assert "about $891 in total (our sum of the course fees, not a quoted price)" in text
    assert "1,500 (currency not stated by the source) in total" in text
    assert "$100 to $1,000 per course" in text


def test_credit_says_yes_first_and_lists_at_most_two_pathways():
    program = make_program(credit_pathways=(
        CreditFact("Test University", "MSc Widgets", "one semester; then more detail (quoted 2015)", "2018", FAQ),
        CreditFact("Other College", None, None, None, None),
        CreditFact("Third School", "MBA", None, "2020", BLOG),
        CreditFact("Fourth School", "MSc", "25%", "2021", BLOG),
    ))
    text = answers.answer("credit", program, GENERAL)
    lines = text.splitlines()
    assert lines[0] == ("Yes: TestX Widget Engineering counts for credit at 4 schools on record, "
                        "if you are admitted there:")
    assert lines[1] == "- Test University: one semester (as of 2018)"
    assert lines[2] == "- Other College"
    assert lines[3] == "- and 2 more on the program page"
    assert "Third School" not in text and "Fourth School" not in text


def test_credit_without_pathways_says_gap_and_general_rule():
    text = answers.answer("credit", make_program(), GENERAL)
    assert text.startswith("No credit pathway on record for TestX Widget Engineering: a gap in my facts, not a no.")
    assert "In general: Usually only the offering university grants credit (as of 2016-2017)." in text
    assert "More text" not in text


def test_admission_is_no_first_with_one_sentence_of_the_program_statement():
    text = answers.answer("admission", make_program(), GENERAL)
    assert text.startswith("No. Completing TestX Widget Engineering does not guarantee admission to a Master's. "
                           "Credential holders still apply as usual.")
    assert "Second sentence" not in text


def test_admission_edx_wide_rule_is_said_as_such():
    text = answers.answer("admission", make_program(admission_basis="edx-wide", admission_note=None), GENERAL)
    assert "No program-specific statement on record, so edX's general rule applies" in text


def test_career_names_employers_and_never_promises_a_job():
    program = make_program(employers=(EmployerFact("Acme", "endorsing employer (launch blog)", "2017", FAQ),))
    text = answers.answer("career", program, GENERAL)
    assert text.startswith("No MicroMasters guarantees a job, TestX Widget Engineering included. "
                           "Employers on record: Acme (endorsing employer) (as of 2017).")
    empty = answers.answer("career", make_program(), GENERAL)
    assert "No career outcomes or endorsing employers on record" in empty


def test_general_answers_without_a_program():
    for topic in answers.TOPICS:
        text = answers.answer(topic, None, GENERAL)
        assert answers.first_sentence(GENERAL[topic].text).rstrip(".") in text
        assert "which program" in text


@pytest.mark.parametrize("link, expected", [
    (plain_link, "Source: Program FAQ: https://example.edu/faq"),
    (markdown_link, "Source: [Program FAQ](https://example.edu/faq)"),
    (slack_link, "Source: <https://example.edu/faq|Program FAQ>"),
])
def test_links_are_written_for_the_channel(link, expected):
    text = answers.answer("admission", make_program(program_page=FAQ), GENERAL, link)
    assert text.splitlines()[-1] == expected


def test_faq_answer_is_short_dated_sourced_and_names_the_program_when_it_is_its_own():
    fact = FaqFact("exams", "testx-widgets", "Are exams proctored?", (), "Yes, online with a webcam.", "2023", FAQ)
    text = answers.faq_answer(fact, make_program(), markdown_link)
    assert text == ("For TestX Widget Engineering: Yes, online with a webcam (as of 2023).\n"
                    "Source: [Program FAQ](https://example.edu/faq)")
    general = FaqFact("exams", None, "Are exams proctored?", (), "It depends on the program.", None, FAQ)
    assert answers.faq_answer(general, make_program()).startswith("It depends on the program.\n")


def test_buttons_carry_the_program_id():
    buttons = answers.program_buttons([("mitx-finance", "MITx Finance")])
    assert buttons == [{"title": "MITx Finance", "payload": '/inform_program{"program_id":"mitx-finance"}'}]
    assert [b["payload"] for b in answers.topic_buttons()] == ["/ask_credit", "/ask_admission", "/ask_career",
                                                                "/ask_cost"]


def test_an_undated_source_is_not_called_a_date():
    fact = FaqFact("refunds", None, "Refunds?", (), "Within 14 days", "undated page (stored copy seen 2026-11)", FAQ)
    assert answers.faq_answer(fact, None).startswith("Within 14 days (undated page (stored copy seen 2026-11)).")
    dated = FaqFact("refunds", None, "Refunds?", (), "Within 14 days", "c. 2016-2018", FAQ)
    assert answers.faq_answer(dated, None).startswith("Within 14 days (as of c. 2016-2018).")
