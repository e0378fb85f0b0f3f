"""`make run`'s supervision: supervisord, with the config `make run` writes, restarts a server that dies
and says so; the assistant answers again without anyone restarting anything."""

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from bench.servers import Processes, free_port, http_ok, wait_until
from core import settings
from ops.commands import supervisord_config
from tests.assistant import MODEL, PROJECT_ROOT, train_model

pytestmark = pytest.mark.e2e
VENV_BIN = os.path.dirname(sys.executable)


def healthy(url: str) -> bool:
    try:
        return http_ok(url)
    except requests.RequestException:
        return False


def supervised_pid(config, name: str) -> int:
    out = subprocess.run([os.path.join(VENV_BIN, "supervisorctl"), "-c", str(config), "pid", name],
                         capture_output=True, text=True)
    return int(out.stdout.strip()) if out.stdout.strip().isdigit() else 0


def test_a_server_that_dies_is_restarted_and_the_assistant_answers_again(tmp_path, monkeypatch):
    train_model()
    rasa_port, action_port, web_port, dashboard_port = free_port(), free_port(), free_port(), free_port()
    env = {"RASA_PORT": str(rasa_port), "ACTION_PORT": str(action_port), "WEB_PORT": str(web_port),
           "DASHBOARD_PORT": str(dashboard_port), "DASHBOARD_URL": f"http://127.0.0.1:{dashboard_port}",
           "DASHBOARD_SECRET": "supervised-dashboard-0123456789abcdef",
           "ANALYTICS_DATABASE_URL": f"sqlite:///{tmp_path / 'analytics.db'}",
           "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
           "ACTION_SERVER_TOKEN": "supervised-0123456789",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
           "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'conversations.db'}", "RASA_API_TOKEN": "",
           "RASA_TELEMETRY_ENABLED": "false"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name, value in settings.as_environment().items():  # what `make run` exports for the servers
        monkeypatch.setenv(name, value)
    subprocess.run([sys.executable, "-m", "catalog", "load"], check=True, cwd=PROJECT_ROOT,
                   stdout=subprocess.DEVNULL)
    config = tmp_path / "supervisord.conf"
    config.write_text(supervisord_config(PROJECT_ROOT, tmp_path, MODEL))
    processes, log = Processes(), tmp_path / "supervisord.out"
    umask = os.umask(0o077)  # as scripts/run.sh starts supervisord
    try:
        supervisor = processes.start([os.path.join(VENV_BIN, "supervisord"), "-c", str(config)], env=dict(os.environ),
                                     log=log, cwd=PROJECT_ROOT)
    finally:
        os.umask(umask)
    rest = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{action_port}/health"), supervisor, what="actions", log=log,
                   timeout=120)
        wait_until(lambda: http_ok(f"http://127.0.0.1:{rasa_port}/"), supervisor, what="rasa", log=log, timeout=120)
        ask = {"sender": "supervised", "message": "how much is the MITx SCM micromasters?"}
        assert "$1,350" in requests.post(rest, json=ask, timeout=60).text  # positive control
        before = supervised_pid(config, "actions")
        assert before > 0
        os.kill(before, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (0 < supervised_pid(config, "actions") != before
                                                   and healthy(f"http://127.0.0.1:{action_port}/health")):
            time.sleep(0.5)
        assert 0 < supervised_pid(config, "actions") != before
        assert "$1,350" in requests.post(rest, json=ask, timeout=60).text
        output = log.read_text()
        assert "exited: actions (terminated by SIGKILL; not expected)" in output
        assert output.count("spawned: 'actions'") == 2
        # What the servers wrote (the conversations, their logs) is this user's alone (umask 077); the
        # catalog was loaded by this test, outside supervisord.
        written = [path for path in tmp_path.iterdir()
                   if path.suffix in (".log", ".db") and path.name != "catalog.db" and path != log]
        assert any(path.name == "conversations.db" for path in written), written
        assert {path.name: oct(path.stat().st_mode & 0o777) for path in written if path.stat().st_mode & 0o077} == {}
    finally:
        processes.stop(supervisor)
