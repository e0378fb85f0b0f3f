"""Loading, reading and exporting the catalog against real databases (SQLite and PostgreSQL)."""

import copy

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from catalog import loader as catalog_loader
from catalog.cli import main as catalog_cli
from catalog.facts import all_program_facts, catalog_revision, general_facts, program_facts, program_names
from catalog.file import parse_catalog
from catalog.loader import export_catalog, load_catalog
from catalog.models import CreditPathway, Price, Program
from core.db import session_scope


def _counts(engine):
    with session_scope(engine) as session:
        return {
            model.__tablename__: session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Program, Price, CreditPathway)
        }


def _by_id(items, key="id"):
    return {item[key]: item for item in items}


def test_load_then_export_gives_the_file_back(engine, catalog_dict):
    assert load_catalog(engine, parse_catalog(copy.deepcopy(catalog_dict))) == 1
    exported = export_catalog(engine)
    for section in ("sources", "institutions", "programs"):
        assert _by_id(exported[section]) == _by_id(catalog_dict[section]), section
    assert _by_id(exported["general_facts"], "topic") == _by_id(catalog_dict["general_facts"], "topic")
    assert exported["faq"] == catalog_dict["faq"]


def test_reload_replaces_and_bumps_the_revision(loaded_engine, catalog_dict):
    before = _counts(loaded_engine)
    assert before == {"programs": 39, "prices": 23, "credit_pathways": 42}
    assert load_catalog(loaded_engine, parse_catalog(copy.deepcopy(catalog_dict))) == 2
    assert _counts(loaded_engine) == before


def test_facts_come_back_with_as_of_and_source(loaded_engine):
    with session_scope(loaded_engine) as session:
        scm = program_facts(session, "mitx-supply-chain-management")
        finance = program_facts(session, "mitx-finance")
        assert program_facts(session, "no-such-program") is None
        assert set(all_program_facts(session)) == {p.id for p in program_names(session)}
        assert set(general_facts(session)) == {"credit", "admission", "career", "cost"}
    total = scm.prices[0]
    assert (total.kind, total.amount, total.currency) == ("total", 1350, "USD")
    assert total.as_of and total.source.url.startswith("https://")
    assert {e.name for e in scm.employers} == {"Walmart", "General Electric (GE)"}
    assert finance.prices == () and finance.price_note  # the gap stays a gap, with the seed's note


def test_a_failure_midway_leaves_the_previous_catalog(loaded_engine, catalog_dict, monkeypatch):
    before = export_catalog(loaded_engine)
    changed = copy.deepcopy(catalog_dict)
    changed["programs"][0]["title"] = "Changed Title"
    real_program = catalog_loader._program
    calls = {"n": 0}

    def failing_program(entry):
        calls["n"] += 1
        if calls["n"] == 20:
            raise RuntimeError("connection lost")
        return real_program(entry)

    monkeypatch.setattr(catalog_loader, "_program", failing_program)
    with pytest.raises(RuntimeError):
        load_catalog(loaded_engine, parse_catalog(changed))
    assert export_catalog(loaded_engine) == before
    with session_scope(loaded_engine) as session:
        assert catalog_revision(session) == 1


def test_a_database_constraint_failure_rolls_back(loaded_engine, catalog_dict):
    before = export_catalog(loaded_engine)
    changed = copy.deepcopy(catalog_dict)
    changed["programs"][0]["title"] = "Changed Title"
    parsed = parse_catalog(changed)
    # Past the file's checks: two programs claim one course code, which the table's unique key refuses.
    parsed.programs[1].course_codes = ["X1"]
    parsed.programs[2].course_codes = ["X1"]
    with pytest.raises(IntegrityError):
        load_catalog(loaded_engine, parsed)
    assert export_catalog(loaded_engine) == before


def test_cli_refuses_a_bad_file_and_keeps_the_database(database_url, loaded_engine, raw_catalog, tmp_path, capsys):
    before = export_catalog(loaded_engine)
    raw_catalog["programs"][4]["institution"] = "nowhere"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw_catalog), encoding="utf-8")
    assert catalog_cli(["load", str(bad), "--database-url", database_url]) == 1
    assert "unknown institution 'nowhere'" in capsys.readouterr().err
    assert export_catalog(loaded_engine) == before


def test_cli_load_status_export(database_url, tmp_path, capsys):
    from tests.conftest import CATALOG_FILE

    assert catalog_cli(["status", "--database-url", database_url]) == 1
    assert catalog_cli(["load", str(CATALOG_FILE), "--database-url", database_url]) == 0
    assert catalog_cli(["status", "--database-url", database_url]) == 0
    assert "revision 1" in capsys.readouterr().out
    target = tmp_path / "export.yaml"
    assert catalog_cli(["export", str(target), "--database-url", database_url]) == 0
    assert catalog_cli(["validate", str(target)]) == 0


def test_cli_reports_an_unreachable_database(capsys):
    from tests.conftest import CATALOG_FILE

    url = "postgresql://nobody@127.0.0.1:1/none"
    assert catalog_cli(["load", str(CATALOG_FILE), "--database-url", url]) == 2
    assert "nothing was written" in capsys.readouterr().err
