"""The action server's catalog snapshot: built once per revision, and before the first learner waits for it."""

import os
import secrets
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import text

from bench.servers import Processes, free_port
from catalog import view as catalog_view
from core import settings
from core.db import engine_for, session_scope
from ops.commands import VENV_BIN
from tests.assistant import PROJECT_ROOT, start_action_server

pytestmark = pytest.mark.e2e  # starts a server or needs the trained model: not in make test-fast

SCM_COST = "how much does the MITx Supply Chain Management MicroMasters cost?"


def test_turns_that_need_a_new_snapshot_at_once_share_one_build(loaded_engine, monkeypatch):
    built, real_index = [], catalog_view.FaqIndex

    def counted_index(facts):
        built.append(threading.get_ident())
        return real_index(facts)

    monkeypatch.setattr(catalog_view, "FaqIndex", counted_index)
    catalog_view.forget_views()
    start = threading.Barrier(8)

    def turn(_):
        with session_scope(loaded_engine) as session:
            start.wait(30)
            return catalog_view.current_view(session)

    with ThreadPoolExecutor(max_workers=8) as pool:
        views = list(pool.map(turn, range(8)))
    assert len(built) == 1 and all(view is views[0] for view in views)
    with loaded_engine.begin() as connection:  # a catalog load moves the revision: one new build
        connection.execute(text("UPDATE catalog_revision SET revision = revision + 1"))
    with session_scope(loaded_engine) as session:
        assert catalog_view.current_view(session) is not views[0]
    assert len(built) == 2


def action_call(question: str, intent: str) -> dict:
    tracker = {"sender_id": "learner", "slots": {}, "events": [], "latest_input_channel": "rest",
               "latest_message": {"text": question, "intent": {"name": intent, "confidence": 1.0}, "entities": []}}
    return {"next_action": "action_answer_question", "sender_id": "learner", "version": "3.6.21",
            "tracker": tracker, "domain": {}}


def test_the_action_server_reads_the_catalog_before_it_answers_its_first_turn(tmp_path):
    """The snapshot is built at start: a price changed behind the server's back (no new revision, so
    no snapshot is rebuilt) is not what the first turn says. Built lazily, the first turn would read it."""
    database_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    token, port, processes = secrets.token_urlsafe(16), free_port(), Processes()
    env = {**os.environ, **settings.as_environment(), "DATABASE_URL": database_url, "ACTION_SERVER_TOKEN": token}
    subprocess.run([str(VENV_BIN / "python"), "-m", "catalog", "load"], env=env, cwd=PROJECT_ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    try:
        start_action_server(processes, port, env, tmp_path / "actions.log")
        engine = engine_for(database_url)
        with engine.begin() as connection:
            changed = connection.execute(text(
                "UPDATE prices SET amount = 9999 WHERE program_id = 'mitx-supply-chain-management'")).rowcount
        assert changed > 0
        response = requests.post(f"http://127.0.0.1:{port}/webhook", json=action_call(SCM_COST, "ask_cost"),
                                 headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert response.status_code == 200, response.text
        said = " ".join(reply.get("text") or "" for reply in response.json()["responses"])
        assert "$1,350" in said and "9,999" not in said, said
        with engine.begin() as connection:  # positive control: a new revision shows the new price
            connection.execute(text("UPDATE catalog_revision SET revision = revision + 1"))
        response = requests.post(f"http://127.0.0.1:{port}/webhook", json=action_call(SCM_COST, "ask_cost"),
                                 headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert "9,999" in " ".join(reply.get("text") or "" for reply in response.json()["responses"])
        engine.dispose()
    finally:
        processes.stop_all()
