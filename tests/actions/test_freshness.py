"""Freshness and status in answers (plain functions, a fixed "today"), the catalog's status format, and
the coverage report."""

import copy
import re
from datetime import date

import pytest

from actions import answers
from actions.answers import Freshness, as_of_year, current_prices
from catalog.coverage import coverage_table
from catalog.facts import CreditFact, PriceFact, SourceRef, StatusFact
from catalog.file import CatalogFileError, parse_catalog
from catalog.loader import export_catalog, load_catalog
from core.db import engine_for
from tests.actions.sample_facts import GENERAL, make_program

NOW = Freshness(date(2026, 11, 28), 3)
FAQ = SourceRef("Program FAQ", "https://example.edu/faq")
NEWS = SourceRef("University news", "https://example.edu/news/retired")
NEXT = SourceRef("New platform page", "https://next.example.edu/widgets")


@pytest.mark.parametrize("text, year", [("2017", 2017), ("c. 2016-2018", 2018), ("2024-03", 2024),
                                        ("undated page (2019 run)", 2019), ("undated", None), (None, None),
                                        ("12345", None)])
def test_as_of_year_is_the_latest_year_named(text, year):
    assert as_of_year(text) == year


def test_a_fact_older_than_the_limit_says_how_old_and_where_todays_lives():
    old = make_program(prices=(PriceFact("total", 1350, None, "USD", "c. 2016-2018", None, FAQ),))
    text = answers.answer("cost", old, GENERAL, freshness=NOW)
    assert "That price is from 2018, 8 years ago: today's is on the program page." in text
    fresh = make_program(prices=(PriceFact("total", 1500, None, "USD", "2024", None, FAQ),))
    text = answers.answer("cost", fresh, GENERAL, freshness=NOW)
    assert "years ago" not in text and "Prices change: check today's on the program page." in text
    assert "years ago" in answers.answer("cost", fresh, GENERAL, freshness=Freshness(date(2030, 1, 1), 3))


def test_the_newest_price_of_a_kind_is_current_and_the_older_one_is_history():
    program = make_program(prices=(
        PriceFact("capstone_or_exam", 600, None, "USD", "2017", None, FAQ),
        PriceFact("total", 1350, None, "USD", "2017", None, FAQ),
        PriceFact("capstone_or_exam", 200, None, "USD", "2019", None, FAQ),
    ))
    current, history = current_prices(program.prices)
    assert [(p.kind, p.amount) for p in current] == [("total", 1350), ("capstone_or_exam", 200)]  # total first
    assert [(p.kind, p.amount) for p in history] == [("capstone_or_exam", 600)]
    text = answers.answer("cost", program, GENERAL, freshness=NOW)
    assert "$200 for the capstone or final exam" in text and "$600" not in text
    exam_only = make_program(prices=(program.prices[0], program.prices[2]))  # the exam is the lead price
    assert answers.answer("cost", exam_only, GENERAL, freshness=NOW).startswith(
        "TestX Widget Engineering: $200 for the capstone or final exam (was $600 as of 2017), as of 2019.")


def test_a_newer_price_of_the_same_family_replaces_an_older_range():
    program = make_program(prices=(
        PriceFact("per_course_range", 100, 1000, "USD", "2018", None, FAQ),
        PriceFact("per_course", 175, None, "USD", "2022-05", None, FAQ),
    ))
    text = answers.answer("cost", program, GENERAL, freshness=NOW)
    assert text.startswith("TestX Widget Engineering: $175 per course (was $100 to $1,000 as of 2018), as of 2022-05.")


def test_when_a_page_was_read_is_no_date_for_its_content():
    assert as_of_year("undated page (stored copy seen 2026-11)") is None
    assert as_of_year("c. 2022 (page undated; mentions the 2022 run)") == 2022


def test_a_personalised_price_gives_its_range():
    program = make_program(prices=(PriceFact("personalised", 100, 1000, "USD", "2024", "set by income", FAQ),))
    assert "a personalised price, from $100 to $1,000" in answers.answer("cost", program, GENERAL, freshness=NOW)


def test_an_old_credit_list_says_so_on_a_line_of_its_own():
    program = make_program(credit_pathways=(CreditFact("Test University", "MSc", "a quarter", "2017", FAQ),))
    text = answers.answer("credit", program, GENERAL, freshness=NOW)
    assert "\nThat list is from 2017, 9 years ago: today's pathways are on the program page." in text


def test_a_retired_programs_answer_starts_by_saying_so_with_its_source():
    status = StatusFact("retired", "2021", "TestX Widgets II", NEXT, "2022", NEWS)
    program = make_program(status=status, prices=(PriceFact("total", 900, None, "USD", "2019", None, FAQ),))
    for topic in answers.TOPICS:
        first = answers.answer(topic, program, GENERAL, freshness=NOW).splitlines()[0]
        assert first.startswith("Note: TestX Widget Engineering was retired in 2021. A source names TestX "
                                "Widgets II as what replaced it.")
        assert "https://next.example.edu/widgets" in first  # where today's facts are: one link beside the note
        assert len(re.findall(r"https?://", answers.answer(topic, program, GENERAL, freshness=NOW))) <= 2
    moved = make_program(status=StatusFact("moved", "fall 2021", "MITx Online", NEXT, "2022", NEWS))
    assert answers.answer("cost", moved, GENERAL, freshness=NOW).startswith(
        "Note: TestX Widget Engineering has moved to MITx Online in fall 2021; today's facts are there.")
    for value in ("active", "unknown"):
        quiet = make_program(status=StatusFact(value, None, None, None, None, None))
        assert not answers.answer("cost", quiet, GENERAL, freshness=NOW).startswith("Note:")


def a_status(catalog: dict, index: int, **status) -> dict:
    raw = copy.deepcopy(catalog)
    raw["programs"][index]["status"] = status
    return raw


def test_status_is_validated_with_entry_and_field(raw_catalog):
    source = raw_catalog["sources"][0]["id"]
    other = raw_catalog["programs"][1]["id"]
    parse_catalog(a_status(raw_catalog, 0, value="retired", since="2021", successor_program=other, source=source))
    parse_catalog(a_status(raw_catalog, 0, value="unknown"))
    cases = {
        "status.value: must be one of active, retired, moved, unknown": dict(value="paused", source=source),
        "status.source: is required for status retired": dict(value="retired", since="2021"),
        "status.successor_program: unknown program 'nope'": dict(value="retired", successor_program="nope",
                                                                 source=source),
        "status.source: unknown source 'nope'": dict(value="active", source="nope"),
    }
    for message, status in cases.items():
        with pytest.raises(CatalogFileError) as error:
            parse_catalog(a_status(raw_catalog, 0, **status))
        assert any(message in problem and problem.startswith("programs[0]") for problem in error.value.problems), \
            error.value.problems


def test_a_personalised_price_needs_its_range(raw_catalog):
    raw = copy.deepcopy(raw_catalog)
    raw["programs"][0]["prices"].append({"kind": "personalised", "amount": 100, "amount_max": None,
                                        "currency": "USD", "as_of": "2024", "note": None, "source": None})
    with pytest.raises(CatalogFileError) as error:
        parse_catalog(raw)
    assert "amount_max: is required when kind is personalised" in str(error.value)


def test_statuses_load_export_and_reach_the_answers(raw_catalog, database_url):
    source, successor = raw_catalog["sources"][0]["id"], raw_catalog["programs"][1]["id"]
    for program in raw_catalog["programs"]:
        program.pop("status", None)  # as a file from before statuses: only program 0 gets one
    raw = a_status(raw_catalog, 0, value="retired", since="2021", successor=None, successor_program=successor,
                   successor_page=None, as_of="2022", source=source)
    engine = engine_for(database_url)
    load_catalog(engine, parse_catalog(raw))
    exported = export_catalog(engine)
    assert next(p for p in exported["programs"] if p["id"] == raw["programs"][0]["id"])["status"] == \
        raw["programs"][0]["status"]
    from catalog.facts import all_program_facts
    from core.db import session_scope
    with session_scope(engine) as session:
        facts = all_program_facts(session)
    retired = facts[raw["programs"][0]["id"]]
    assert retired.status.value == "retired" and retired.status.successor == facts[successor].name
    table = coverage_table(facts.values())
    assert "| status | 1 | 0 |" in table and "Status: not recorded " in table and "retired 1" in table
