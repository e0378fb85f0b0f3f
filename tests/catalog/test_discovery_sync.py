"""`catalog sync`: course-discovery's programs and pathways over the curated catalog, against a stand-in
that speaks the real API's shape (tests/discovery_standin.py), on SQLite and PostgreSQL."""

import copy
from pathlib import Path

import pytest
import yaml

from catalog import cli as catalog_cli
from catalog.discovery import DiscoveryClient, DiscoveryConfig, DiscoveryError
from catalog.file import CatalogFileError, parse_catalog
from catalog.loader import export_catalog, load_catalog, loaded_checksum, stored_snapshot
from catalog.merge import source_id
from catalog.sync import sync
from tests.discovery_standin import DiscoveryStandIn

SCM = "mitx-supply-chain-management"
NEW = "examplex-data-engineering"


@pytest.fixture
def standin():
    with DiscoveryStandIn() as server:
        yield server


def client_for(server: DiscoveryStandIn, **overrides) -> DiscoveryClient:
    config = dict(api_url=server.url, oauth_url=server.url, client_id=server.client_id,
                  client_secret=server.client_secret, timeout=2.0, retries=2, backoff=0.01, page_size=2)
    return DiscoveryClient(DiscoveryConfig(**{**config, **overrides}))


@pytest.fixture
def curated_file(tmp_path, catalog_dict) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(copy.deepcopy(catalog_dict), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def program(export: dict, program_id: str) -> dict:
    return next(p for p in export["programs"] if p["id"] == program_id)


def synced(items):
    """The facts a sync took from course-discovery."""
    return [item for item in items if (item.get("source") or "").startswith("course-discovery-")]


def test_a_fresh_database_gets_every_program_status_price_and_pathway(engine, standin, curated_file):
    with client_for(standin) as client:
        result = sync(engine, curated_file, client, report=lambda _: None)
    assert result.revision == 1
    catalog = export_catalog(engine)
    scm = program(catalog, SCM)
    assert {(p["kind"], p["amount"], p["currency"]) for p in synced(scm["prices"])} == {
        ("per_course", 200.0, "USD"), ("total", 600.0, "USD")}
    assert any(p["amount"] == 1350 for p in scm["prices"] if not p["source"].startswith("course-discovery-")), \
        "the curated price is kept, as history"
    assert scm["status"]["value"] == "active"
    assert "curtin" in {p["institution"] for p in scm["credit_pathways"]}
    assert synced(scm["credit_pathways"]) == []  # the API's Curtin pathway does not repeat the curated one
    new = program(catalog, NEW)
    assert (new["edx_org"], new["title"]) == ("ExampleX", "Data Engineering")
    assert new["admission"]["basis"] == "edx-wide"
    assert new["num_courses"] == 2 and new["course_codes"] == ["DE101x", "DE102x"]
    assert [(p["degree"], p["source"]) for p in new["credit_pathways"]] == [("MS in Data Engineering", source_id(NEW))]
    assert "examplex-xseries-python" not in {p["id"] for p in catalog["programs"]}  # an XSeries is not ours
    page = next(s for s in catalog["sources"] if s["id"] == source_id(NEW))
    assert page["url"] == "https://www.edx.org/masters/micromasters/examplex-data-engineering"
    assert stored_snapshot(engine) is not None
    assert any("page=2" in path for path in standin.requests)  # it followed `next`


def test_a_second_sync_of_the_same_answers_changes_nothing(engine, standin, curated_file):
    with client_for(standin) as client:
        sync(engine, curated_file, client, report=lambda _: None)
        before, stamp = export_catalog(engine), loaded_checksum(engine)
        again = sync(engine, curated_file, client, report=lambda _: None)
    assert again.revision is None and again.changes == []
    assert export_catalog(engine) == before and loaded_checksum(engine) == stamp


def test_a_price_change_and_a_retired_program_are_in_the_diff(engine, standin, curated_file):
    with client_for(standin) as client:
        sync(engine, curated_file, client, report=lambda _: None)
        standin.program(SCM)["price_ranges"] = [{"currency": "USD", "min": 250.0, "max": 250.0, "total": 750.0}]
        standin.program("ritx-cybersecurity")["status"] = "retired"
        dry = sync(engine, curated_file, client, dry_run=True, report=lambda _: None)
        assert dry.revision is None
        posted = []
        result = sync(engine, curated_file, client, report=posted.append)
    assert result.revision == 2 and dry.changes == result.changes
    text = "\n".join(result.changes)
    assert "MITx Supply Chain Management: price added per_course 250 USD" in text
    assert "MITx Supply Chain Management: price removed per_course 200 USD" in text
    assert "RITx Cybersecurity: status active -> retired" in text
    assert "MITx Supply Chain Management: price conflict: total 1350 USD (mit-scm-faq" in text
    assert posted[0].startswith("course-discovery sync: catalog revision 2, ")
    assert program(export_catalog(engine), "ritx-cybersecurity")["status"]["value"] == "retired"


def test_an_empty_api_field_never_removes_a_fact(engine, standin, curated_file):
    with client_for(standin) as client:
        sync(engine, curated_file, client, report=lambda _: None)
        before = program(export_catalog(engine), SCM)
        standin.program(SCM)["price_ranges"] = []
        standin.program(SCM)["courses"] = []
        sync(engine, curated_file, client, report=lambda _: None)
    after = program(export_catalog(engine), SCM)
    assert after["prices"] == before["prices"] and after["course_codes"] == before["course_codes"]


@pytest.mark.parametrize("fault", ["malformed page", "401", "timeout", "outage mid-pagination", "bad credentials"])
def test_a_failed_sync_leaves_the_database_as_it_was(engine, standin, curated_file, fault, capsys):
    with client_for(standin) as client:
        sync(engine, curated_file, client, report=lambda _: None)
    before, stamp = export_catalog(engine), loaded_checksum(engine)
    standin.program(SCM)["price_ranges"] = [{"currency": "USD", "min": 999.0, "max": 999.0, "total": 999.0}]
    second_page = "/api/v1/programs/?types=micromasters&page=2&page_size=2"
    overrides = {}
    if fault == "malformed page":
        standin.malformed.add(second_page)
    elif fault == "401":
        standin.fail_on[second_page] = 401
    elif fault == "timeout":
        standin.delay, overrides = 1.0, {"timeout": 0.2}
    elif fault == "outage mid-pagination":
        standin.fail_on[second_page] = 503
    else:
        overrides = {"client_secret": "wrong"}
    standin.requests.clear()
    with client_for(standin, **overrides) as client, pytest.raises(DiscoveryError) as error:
        sync(engine, curated_file, client, report=lambda _: None)
    assert str(error.value)  # says why
    assert export_catalog(engine) == before and loaded_checksum(engine) == stamp
    if fault == "outage mid-pagination":
        assert standin.requests.count(second_page) == 3  # the first try and two retries, with back-off


def test_a_bad_curated_file_fails_before_the_api_is_asked(engine, standin, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nsources: []\n", encoding="utf-8")
    with client_for(standin) as client, pytest.raises(CatalogFileError):
        sync(engine, bad, client, report=lambda _: None)
    assert standin.requests == []


def test_catalog_load_keeps_what_the_last_sync_took_from_the_api(database_url, standin, curated_file, monkeypatch):
    engine = catalog_cli.engine_for(database_url)
    with client_for(standin) as client:
        sync(engine, curated_file, client, report=lambda _: None)
    assert catalog_cli.main(["load", str(curated_file), "--database-url", database_url]) == 0
    assert NEW in {p["id"] for p in export_catalog(engine)["programs"]}


def test_the_cli_syncs_from_the_environment_and_fails_with_exit_code_3(database_url, standin, curated_file,
                                                                        monkeypatch, capsys):
    monkeypatch.setenv("DISCOVERY_API_URL", standin.url)
    monkeypatch.setenv("DISCOVERY_OAUTH_URL", standin.url)
    monkeypatch.setenv("DISCOVERY_CLIENT_ID", standin.client_id)
    monkeypatch.setenv("DISCOVERY_CLIENT_SECRET", standin.client_secret)
    assert catalog_cli.main(["sync", str(curated_file), "--database-url", database_url, "--dry-run"]) == 0
    assert "dry run, nothing written" in capsys.readouterr().out
    assert loaded_checksum(catalog_cli.engine_for(database_url)) is None
    monkeypatch.setenv("DISCOVERY_CLIENT_SECRET", "wrong")
    assert catalog_cli.main(["sync", str(curated_file), "--database-url", database_url]) == 3
    assert "refused the sync's client credentials" in capsys.readouterr().err
    monkeypatch.delenv("DISCOVERY_API_URL")
    assert catalog_cli.main(["sync", str(curated_file), "--database-url", database_url]) == 3
    assert "DISCOVERY_API_URL" in capsys.readouterr().err


def test_the_merged_catalog_is_a_valid_catalog_file(engine, standin, curated_file):
    with client_for(standin) as client:
        sync(engine, curated_file, client, report=lambda _: None)
    parse_catalog(export_catalog(engine))
    load_catalog(engine, parse_catalog(export_catalog(engine)))


def test_the_scheduled_sync_posts_its_changes_and_its_failures_to_the_support_channel(
        standin, slack, curated_file, tmp_path, monkeypatch):
    from catalog import schedule as sync_schedule
    from tests.conftest import SLACK_TOKEN

    database_url = f"sqlite:///{tmp_path / 'scheduled.db'}"
    for name, value in {"DATABASE_URL": database_url, "CATALOG_FILE": str(curated_file),
                        "DISCOVERY_API_URL": standin.url, "DISCOVERY_OAUTH_URL": standin.url,
                        "DISCOVERY_CLIENT_ID": standin.client_id, "DISCOVERY_CLIENT_SECRET": standin.client_secret,
                        "SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_SUPPORT_CHANNEL": "CSUPPORT",
                        "SLACK_API_URL": slack.api_url}.items():
        monkeypatch.setenv(name, value)
    slack.calls.clear()

    def posts():
        return [c["text"] for c in slack.calls if c["method"] == "chat.postMessage" and c.get("channel") == "CSUPPORT"]

    assert sync_schedule.run_once() is not None
    [first] = posts()
    assert "first load" in first
    standin.program(NEW).update(status="retired", title="Data <Engineering> & Pipelines")
    sync_schedule.run_once()
    assert "ExampleX Data &lt;Engineering&gt; &amp; Pipelines: status active -&gt; retired" in posts()[-1]
    sync_schedule.run_once()  # nothing changed: nothing posted
    assert len(posts()) == 2
    monkeypatch.setenv("DISCOVERY_CLIENT_SECRET", "wrong")
    assert sync_schedule.run_once() is None
    assert "sync failed" in posts()[-1] and "nothing was changed" in posts()[-1]
