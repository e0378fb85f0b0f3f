"""The catalog file's validation: every fault named by entry and field, nothing written."""

import pytest
import yaml

from catalog.cli import main as catalog_cli
from catalog.file import CatalogFileError, parse_catalog, read_catalog
from tests.conftest import CATALOG_FILE


def test_shipped_catalog_is_valid_and_keeps_the_seed():
    """The 32 seed programs and their facts are kept; issue 9's research added 7 programs and newer
    facts beside the old ones (older prices stay, as history), and a status for every program."""
    catalog = read_catalog(CATALOG_FILE)
    assert len(catalog.programs) == 39
    assert sum(1 for p in catalog.programs if p.prices) == 11
    assert sum(1 for p in catalog.programs if p.credit_pathways) == 23
    assert sum(1 for p in catalog.programs if p.employers) == 5
    assert all(p.status is not None for p in catalog.programs)
    assert all(p.admission.guaranteed is False for p in catalog.programs)
    scm = next(p for p in catalog.programs if p.id == "mitx-supply-chain-management")
    assert [(x.kind, x.amount) for x in scm.prices][:3] == [("total", 1350), ("per_course", 150),
                                                          ("capstone_or_exam", 600)]
    assert ("capstone_or_exam", 200) in [(x.kind, x.amount) for x in scm.prices]


def _problems(raw):
    with pytest.raises(CatalogFileError) as caught:
        parse_catalog(raw, "catalog.yaml")
    return caught.value.problems


def test_missing_field_names_entry_and_field(raw_catalog):
    del raw_catalog["programs"][2]["title"]
    problem_id = raw_catalog["programs"][2]["id"]
    assert f"programs[2] ({problem_id}).title: required field is missing" in _problems(raw_catalog)


def test_wrong_type_names_entry_and_field(raw_catalog):
    raw_catalog["programs"][0]["num_courses"] = "six"
    assert _problems(raw_catalog) == [
        "programs[0] (mitx-supply-chain-management).num_courses: value is not a valid integer"
    ]


def test_wrong_type_in_a_nested_list(raw_catalog):
    raw_catalog["programs"][0]["prices"][0]["amount"] = "a lot"
    assert _problems(raw_catalog) == [
        "programs[0] (mitx-supply-chain-management).prices[0].amount: value is not a valid float"
    ]


def test_admission_flag_must_be_a_boolean(raw_catalog):
    raw_catalog["programs"][1]["admission"]["guaranteed"] = "no"
    assert "admission.guaranteed: value is not a valid boolean" in _problems(raw_catalog)[0]


def test_duplicate_program_id(raw_catalog):
    raw_catalog["faq"] = []  # FAQ answers of the renamed program would also be reported
    raw_catalog["programs"][5]["id"] = raw_catalog["programs"][0]["id"]
    assert _problems(raw_catalog) == [
        "programs[5] (mitx-supply-chain-management): duplicate id, already used by programs[0]"
    ]


def test_unknown_institution_reference(raw_catalog):
    raw_catalog["programs"][3]["institution"] = "hogwarts"
    program_id = raw_catalog["programs"][3]["id"]
    assert _problems(raw_catalog) == [f"programs[3] ({program_id}).institution: unknown institution 'hogwarts'"]


def test_unknown_source_reference_in_a_fact(raw_catalog):
    raw_catalog["programs"][0]["credit_pathways"][1]["source"] = "no-such-source"
    assert _problems(raw_catalog) == [
        "programs[0] (mitx-supply-chain-management).credit_pathways[1].source: unknown source 'no-such-source'"
    ]


def test_unknown_field_is_refused(raw_catalog):
    raw_catalog["programs"][0]["prise"] = 100
    assert _problems(raw_catalog) == ["programs[0] (mitx-supply-chain-management).prise: unknown field"]


def test_price_range_needs_its_upper_bound(raw_catalog):
    dedp = next(p for p in raw_catalog["programs"] if p["id"] == "mitx-data-economics-development-policy")
    dedp["prices"][0]["amount_max"] = None
    assert any("prices[0].amount_max: is required when kind is per_course_range" in p for p in _problems(raw_catalog))


def test_every_problem_is_reported_at_once(raw_catalog):
    raw_catalog["programs"][0]["institution"] = "nowhere"
    raw_catalog["programs"][1]["program_page"] = "nothing"
    assert len(_problems(raw_catalog)) == 2


def test_not_yaml_and_not_a_mapping(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("programs: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogFileError, match="not valid YAML"):
        read_catalog(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- id: x\n", encoding="utf-8")
    with pytest.raises(CatalogFileError, match="top level must be a mapping"):
        read_catalog(listing)


def test_cli_validate_reports_and_exits_1(tmp_path, raw_catalog, capsys):
    raw_catalog["programs"][0]["num_courses"] = "six"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw_catalog), encoding="utf-8")
    database = tmp_path / "untouched.db"
    assert catalog_cli(["validate", str(bad), "--database-url", f"sqlite:///{database}"]) == 1
    error = capsys.readouterr().err
    assert "programs[0] (mitx-supply-chain-management).num_courses: value is not a valid integer" in error
    assert "nothing was written" in error
    assert not database.exists()


FAQ_ENTRY = {"topic": "refunds", "program": None, "question": "Can I get a refund?", "phrasings": ["refund?"],
             "answer": "Within a set period, yes.", "as_of": "2024", "source": "mit-scm-faq"}


def test_a_catalog_without_faq_still_loads(raw_catalog):
    raw_catalog.pop("faq", None)
    assert parse_catalog(raw_catalog).faq == []


def test_faq_entries_are_checked_by_entry_and_field(raw_catalog):
    raw_catalog["faq"] = [
        dict(FAQ_ENTRY),
        dict(FAQ_ENTRY, program="no-such-program", source="no-such-source"),
        dict(FAQ_ENTRY),
        dict(FAQ_ENTRY, topic="Refunds!"),
        {key: value for key, value in FAQ_ENTRY.items() if key != "answer"},
    ]
    problems = _problems(raw_catalog)
    assert "faq[3].topic: must be a lower-case slug: letters, digits and _" in problems
    assert "faq[4].answer: required field is missing" in problems
    raw_catalog["faq"] = raw_catalog["faq"][:3]
    assert _problems(raw_catalog) == [
        "faq[1] (refunds).source: unknown source 'no-such-source'",
        "faq[1] (refunds).program: unknown program 'no-such-program'",
        "faq[2] (refunds): a second answer for all programs, already given by faq[0]",
    ]


def test_faq_entry_needs_a_source(raw_catalog):
    raw_catalog["faq"] = [dict(FAQ_ENTRY, source=None)]
    assert _problems(raw_catalog) == ["faq[0].source: none is not an allowed value"]


def _program(raw, program_id):
    index = next(i for i, p in enumerate(raw["programs"]) if p["id"] == program_id)
    return index, raw["programs"][index]


def test_a_fact_without_a_source_is_refused(raw_catalog):
    """The class of the audit's 8 unsourced pathways, the unsourced cost fact, employer and career texts."""
    index, scm = _program(raw_catalog, "mitx-supply-chain-management")
    scm["credit_pathways"][0]["source"] = None
    scm["career_outcomes"]["source"] = None
    raw_catalog["general_facts"][0]["source"] = None
    problems = _problems(raw_catalog)
    where = f"programs[{index}] (mitx-supply-chain-management)"
    assert f"{where}.credit_pathways[0].source: a fact without a source" in problems
    assert f"{where}.career_outcomes.source: a fact without a source" in problems
    assert any(p.startswith("general_facts[0] (") and p.endswith("a fact without a source") for p in problems)


def test_an_edx_wide_admission_statement_may_rely_on_the_general_fact(raw_catalog):
    _, finance = _program(raw_catalog, "mitx-finance")
    assert finance["admission"]["basis"] == "edx-wide"
    finance["admission"]["source"] = None
    parse_catalog(raw_catalog, "catalog.yaml")


def test_a_total_that_disagrees_with_its_parts_of_the_same_date_is_refused(raw_catalog):
    """The class of the UBCx total that was not 6 x $125."""
    index, scm = _program(raw_catalog, "mitx-supply-chain-management")
    total = next(k for k, p in enumerate(scm["prices"]) if p["kind"] == "total" and p["amount"] == 1350)
    scm["prices"][total]["amount"] = 1600
    assert (f"programs[{index}] (mitx-supply-chain-management).prices[{total}]: the total 1600 disagrees with its "
            "parts of the same date (6 courses x 150 + exam 600)") in _problems(raw_catalog)


def test_parts_of_another_date_are_never_added_to_a_total(raw_catalog):
    """The 2019 exam fee beside the 2016-18 course fees makes no total, so it cannot contradict one."""
    _, scm = _program(raw_catalog, "mitx-supply-chain-management")
    assert any(p["kind"] == "capstone_or_exam" and p["as_of"] == "2019" for p in scm["prices"])
    parse_catalog(raw_catalog, "catalog.yaml")


def test_a_price_source_must_say_whether_it_is_third_party(raw_catalog):
    """The class of the review-site prices (SDS $300, ColumbiaX AI $199) given as the program's own."""
    source = next(s for s in raw_catalog["sources"] if s["id"] == "cursarium-mit-probability")
    assert source["third_party"] is True
    del source["third_party"]
    index, _ = _program(raw_catalog, "mitx-statistics-and-data-science")
    assert any(p.startswith(f"programs[{index}] (mitx-statistics-and-data-science).prices[0].source: "
                            "'cursarium-mit-probability' is cited for a price but does not say whether it is "
                            "third-party") for p in _problems(raw_catalog))


def test_the_shipped_catalog_has_no_fact_without_a_source(tmp_path, capsys):
    database = f"sqlite:///{tmp_path / 'catalog.db'}"
    assert catalog_cli(["load", str(CATALOG_FILE), "--database-url", database]) == 0
    assert catalog_cli(["status", "--coverage", "--database-url", database]) == 0
    out = capsys.readouterr().out
    assert "Facts without a source: 0" in out
    assert "| without a source |" in out
