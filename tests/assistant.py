"""Start the real action server and Rasa server for end-to-end tests, and talk to them over REST."""

import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

import requests

from actions import settings
from bench.servers import Processes, free_port, http_ok, parse_answers, wait_until

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
MODEL = PROJECT_ROOT / "models" / "micromasters.tar.gz"


def train_model() -> Path:
    """The model the README's commands use; trained only when the data changed since the last time."""
    subprocess.run([str(PROJECT_ROOT / "scripts" / "train.sh")], check=True, cwd=PROJECT_ROOT)
    return MODEL


@dataclass
class Assistant:
    rasa_url: str
    action_url: str
    database_url: str
    tracker_store_url: str
    logs: Path

    def say(self, sender: str, message: str) -> List[Dict]:
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
        )
        assert response.status_code == 200, response.text
        return response.json()

    def text(self, sender: str, message: str) -> str:
        return "\n".join(reply.get("text", "") for reply in self.say(sender, message))


@contextmanager
def running_assistant(workdir: Path, database_url: str, tracker_store_url: str,
                      extra_env: dict | None = None) -> Iterator[Assistant]:
    """Load the catalog into `database_url`, then start both servers; stop them afterwards."""
    rasa_port, action_port = free_port(), free_port()
    env = {
        **os.environ,
        **settings.as_environment(),
        "DATABASE_URL": database_url,
        "TRACKER_STORE_URL": tracker_store_url,
        "ACTION_PORT": str(action_port),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "RASA_TELEMETRY_ENABLED": "false",
        **(extra_env or {}),
    }
    subprocess.run([str(VENV_BIN / "python"), "-m", "actions.catalog_cli", "load"], env=env, cwd=PROJECT_ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    processes = Processes()
    action_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    try:
        actions = processes.start([str(VENV_BIN / "rasa"), "run", "actions", "--port", str(action_port)],
                                  env=env, log=action_log, cwd=PROJECT_ROOT)
        rasa = processes.start(
            [str(VENV_BIN / "rasa"), "run", "--model", str(MODEL), "--enable-api", "--port", str(rasa_port),
             "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"],
            env=env, log=rasa_log, cwd=PROJECT_ROOT,
        )
        action_url, rasa_url = f"http://127.0.0.1:{action_port}", f"http://127.0.0.1:{rasa_port}"
        wait_until(lambda: http_ok(f"{action_url}/health"), actions, what="action server", log=action_log)
        wait_until(lambda: parse_answers(rasa_url), rasa, what="Rasa server", log=rasa_log)
        yield Assistant(rasa_url, action_url, database_url, tracker_store_url, workdir)
    finally:
        processes.stop_all()
