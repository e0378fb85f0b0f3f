"""Start the real action server and Rasa server for end-to-end tests, and talk to them over REST."""

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional
from unittest import mock

import aio_pika
import requests
import socketio

from bench.servers import Processes, free_port, http_ok, parse_answers, wait_until
from core import settings
from ops.commands import action_server_command, rasa_server_command

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
MODEL = PROJECT_ROOT / "models" / "micromasters.tar.gz"


def train_model() -> Path:
    """The model the README's commands use; trained only when the data changed since the last time."""
    subprocess.run([str(PROJECT_ROOT / "scripts" / "train.sh")], check=True, cwd=PROJECT_ROOT)
    return MODEL


def start_action_server(processes: Processes, port: int, env: dict, log: Path):
    """The action server alone, on a port, waited for until it answers its health check."""
    process = processes.start(action_server_command(port), env=env, log=log, cwd=PROJECT_ROOT)
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/health"), process, what="action server", log=log)
    return process


@dataclass
class Assistant:
    rasa_url: str
    action_url: str
    database_url: str
    tracker_store_url: str
    logs: Path
    api_token: str  # Rasa's HTTP API is on in the tests, behind a token, as an operator would run it
    action_token: str
    env: Dict[str, str] = field(default_factory=dict, repr=False)
    processes: Optional[Processes] = None
    action_process: Optional[subprocess.Popen] = None
    rasa_command: List[str] = field(default_factory=list, repr=False)
    rasa_process: Optional[subprocess.Popen] = None

    def stop_rasa_server(self) -> None:
        """Stop the Rasa server (SIGTERM, as a deploy or a supervisor restart does)."""
        self.processes.stop(self.rasa_process)

    def start_rasa_server(self) -> None:
        """Start the Rasa server again on its port, and wait until it answers."""
        log = self.logs / "rasa.log"
        self.rasa_process = self.processes.start(self.rasa_command, env=self.env, log=log, cwd=PROJECT_ROOT)
        wait_until(lambda: parse_answers(self.rasa_url, self.api_token), self.rasa_process, what="Rasa server",
                   log=log)

    def start_action_server(self) -> None:
        """(Re)start the action server on its port, as a supervisor would after it died."""
        port = int(self.action_url.rsplit(":", 1)[1])
        log = self.logs / "actions.log"
        self.action_process = self.processes.start(action_server_command(port), env=self.env, log=log,
                                                   cwd=PROJECT_ROOT)
        wait_until(lambda: http_ok(f"{self.action_url}/health"), self.action_process, what="action server", log=log)

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """A call to Rasa's HTTP API with the token, as an operator makes it."""
        params = {**kwargs.pop("params", {}), "token": self.api_token}
        return requests.request(method, f"{self.rasa_url}{path}", params=params, timeout=30, **kwargs)

    def say(self, sender: str, message: str, metadata: Optional[Dict] = None) -> List[Dict]:
        body = {"sender": sender, "message": message, **({"metadata": metadata} if metadata else {})}
        response = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    def text(self, sender: str, message: str, metadata: Optional[Dict] = None) -> str:
        return "\n".join(reply.get("text", "") for reply in self.say(sender, message, metadata))


@contextmanager
def running_assistant(workdir: Path, database_url: str, tracker_store_url: str,
                      extra_env: dict | None = None) -> Iterator[Assistant]:
    """Load the catalog into `database_url`, then start both servers; stop them afterwards."""
    rasa_port, action_port = free_port(), free_port()
    # A URL-safe token may begin with "-" (1 in 32): always so here, as Rasa's command line must take it.
    api_token, action_token = "-" + secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    env = {
        **os.environ,
        **settings.as_environment(),
        "DATABASE_URL": database_url,
        "TRACKER_STORE_URL": tracker_store_url,
        "ACTION_PORT": str(action_port),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "RASA_TELEMETRY_ENABLED": "false",
        "ACTION_SERVER_TOKEN": action_token,
        **(extra_env or {}),
    }
    subprocess.run([str(VENV_BIN / "python"), "-m", "catalog", "load"], env=env, cwd=PROJECT_ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    processes = Processes()
    action_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    try:
        actions = processes.start(action_server_command(action_port), env=env, log=action_log, cwd=PROJECT_ROOT)
        with mock.patch.dict(os.environ, env):  # the command line from the settings the server runs with
            rasa_command = rasa_server_command(MODEL, rasa_port, api_token=api_token)
        rasa = processes.start(rasa_command, env=env, log=rasa_log, cwd=PROJECT_ROOT)
        action_url, rasa_url = f"http://127.0.0.1:{action_port}", f"http://127.0.0.1:{rasa_port}"
        wait_until(lambda: http_ok(f"{action_url}/health"), actions, what="action server", log=action_log)
        wait_until(lambda: parse_answers(rasa_url, api_token), rasa, what="Rasa server", log=rasa_log)
        yield Assistant(rasa_url, action_url, database_url, tracker_store_url, workdir, api_token, action_token,
                        env, processes, actions, rasa_command, rasa)
    finally:
        processes.stop_all()


SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SUPPORT_CHANNEL = "test-signing-secret", "xoxb-test-token", "CSUPPORT"
DEMO_ORIGIN = "http://127.0.0.1:8080"


@contextmanager
def running_assistant_with_slack(workdir: Path, slack) -> Iterator[Assistant]:
    """Both servers on SQLite files in `workdir`, talking to the Slack stand-in `slack` as the support desk."""
    env = {
        "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_SUPPORT_CHANNEL": SUPPORT_CHANNEL,
        "SLACK_API_URL": slack.api_url,
        "SLACK_RETRY_SECONDS": "1",
        "WEBCHAT_ALLOWED_ORIGINS": DEMO_ORIGIN,
    }
    with running_assistant(workdir, f"sqlite:///{workdir / 'catalog.db'}",
                           f"sqlite:///{workdir / 'conversations.db'}", extra_env=env) as running:
        yield running


@contextmanager
def running_page(workdir: Path, socket_url: str, web_port: int) -> Iterator[str]:
    """The demo page (web/serve.py) on `web_port`, its widget talking to `socket_url`: the page's origin."""
    origin = f"http://127.0.0.1:{web_port}"
    processes, log = Processes(), workdir / "web.log"
    env = {**os.environ, "WEB_PORT": str(web_port), "WEBCHAT_SOCKET_URL": socket_url}
    try:
        web = processes.start([sys.executable, str(PROJECT_ROOT / "web" / "serve.py")], env=env, log=log,
                              cwd=PROJECT_ROOT)
        wait_until(lambda: http_ok(f"{origin}/config.js"), web, what="web server", log=log, timeout=30)
        yield origin
    finally:
        processes.stop_all()


@contextmanager
def running_site(workdir: Path) -> Iterator[tuple]:
    """Both servers (SQLite) and the demo page (web/serve.py) on a free port, its widget talking to them:
    (the Assistant, the page's origin)."""
    web_port = free_port()
    with running_assistant(workdir, f"sqlite:///{workdir / 'catalog.db'}", f"sqlite:///{workdir / 'conversations.db'}",
                           extra_env={"WEBCHAT_ALLOWED_ORIGINS": f"http://127.0.0.1:{web_port}"}) as assistant:
        with running_page(workdir, assistant.rasa_url, web_port) as origin:
            yield assistant, origin


class Learner:
    """A learner's web chat over socket.io, as the widget talks (long-polling, session persistence)."""

    def __init__(self, url, origin=None, session_id=None, transports=("polling",), custom_data=None):
        self.url = url
        self.custom_data = custom_data  # what rasa-webchat sends as `customData` (the page's program)
        self.origin = origin
        self.transports = list(transports)
        self.session_id = session_id or uuid.uuid4().hex
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.client = None

    async def connect(self):
        self.client = socketio.AsyncClient(reconnection=False)
        confirmed = asyncio.Event()
        self.client.on("bot_uttered", self.inbox.put_nowait)
        self.client.on("session_confirm", lambda _sid: confirmed.set())
        await self.client.connect(self.url, headers={"Origin": self.origin} if self.origin else {},
                                  transports=self.transports)
        await self.client.emit("session_request", {"session_id": self.session_id})
        await asyncio.wait_for(confirmed.wait(), 30)

    async def say(self, text):
        message = {"message": text, "session_id": self.session_id}
        if self.custom_data:
            message["customData"] = self.custom_data
        await self.client.emit("user_uttered", message)

    async def hear(self, expected, timeout=30):
        """The next message containing `expected`; Rasa's socket.io output sends each paragraph of a
        reply as a message of its own, so earlier paragraphs are passed over."""
        async def wait():
            while True:
                text = (await self.inbox.get())["text"]
                if expected in text:
                    return text

        return await asyncio.wait_for(wait(), timeout)

    async def hears_nothing(self, seconds=2):
        try:
            message = await asyncio.wait_for(self.inbox.get(), seconds)
        except asyncio.TimeoutError:
            return True
        raise AssertionError(f"unexpected message: {message}")

    async def disconnect(self):
        await self.client.disconnect()


@dataclass
class Cluster:
    """Rasa servers behind HAProxy on PostgreSQL, Redis and RabbitMQ, as `make cluster` runs them."""
    url: str  # HAProxy
    replica_urls: List[str]
    action_url: str
    database_url: str
    queue: str
    logs: Path
    env: Dict[str, str] = field(repr=False)
    processes: Processes = field(repr=False)
    commands: Dict[str, List[str]] = field(repr=False)
    running: Dict[str, subprocess.Popen] = field(default_factory=dict, repr=False)

    def start(self, name: str) -> None:
        self.running[name] = self.processes.start(self.commands[name], env=self.env, log=self.logs / f"{name}.log",
                                                  cwd=PROJECT_ROOT)

    def kill(self, name: str) -> None:
        self.running[name].kill()
        self.running[name].wait()

    def wait_balanced(self, timeout: float = 30) -> None:
        """Until HAProxy sends requests to every Rasa server: its health checks need two passes (`rise 2`)
        before a server that failed them while starting gets requests again."""
        expected, seen = {f"rasa{number}" for number in range(1, len(self.replica_urls) + 1)}, set()
        deadline = time.monotonic() + timeout
        while seen != expected and time.monotonic() < deadline:
            seen.add(requests.get(f"{self.url}/webhooks/health/ready", timeout=5).headers.get("X-Served-By"))
            time.sleep(0.2)
        assert seen == expected, f"HAProxy sent requests only to {sorted(seen)} within {timeout} s"

    def wait_ready(self, name: str, url: str) -> None:
        wait_until(lambda: http_ok(url), self.running[name], what=name, log=self.logs / f"{name}.log")


def cluster_database_url(name: str) -> str:
    base = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    return base.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def running_cluster(workdir: Path, replicas: int = 2, extra_env: Optional[Dict[str, str]] = None,
                    endpoints: Optional[Path] = None, analytics: bool = False) -> Iterator[Cluster]:
    """`make cluster`'s processes on free ports, with a database and a RabbitMQ queue of their own
    (dropped afterwards) and Redis database TEST_REDIS_DB (default 5); `endpoints` replaces the
    cluster's endpoints file (the drill's comparison with Rasa's own stores). The analytics feed (which
    empties the event queue) and the dashboard run only with `analytics`."""
    from ops.cluster import ENDPOINTS, ensure_database, haproxy_config, programs

    run_id = uuid.uuid4().hex[:10]
    database_url = cluster_database_url(f"mm_cluster_{run_id}")
    ensure_database(database_url)
    ports, action_port, proxy_port = [free_port() for _ in range(replicas)], free_port(), free_port()
    dashboard_port = free_port()
    queue = f"rasa_events_test_{run_id}"
    env = {
        **os.environ, **settings.as_environment(),
        "DATABASE_URL": database_url, "TRACKER_STORE_URL": database_url,
        "ACTION_PORT": str(action_port), "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "ACTION_SERVER_TOKEN": secrets.token_urlsafe(16), "RASA_TELEMETRY_ENABLED": "false",
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_DB": os.environ.get("TEST_REDIS_DB", "5"),
        "REDIS_PASSWORD": "", "RABBITMQ_HOST": "127.0.0.1", "RABBITMQ_PORT": "5672",
        "RABBITMQ_USERNAME": "guest", "RABBITMQ_PASSWORD": "guest", "RABBITMQ_QUEUE": queue,
        "ANALYTICS_DATABASE_URL": database_url, "DASHBOARD_PORT": str(dashboard_port),
        "DASHBOARD_URL": f"http://127.0.0.1:{dashboard_port}", "DASHBOARD_SECRET": secrets.token_urlsafe(32),
        **(extra_env or {}),
    }
    subprocess.run([str(VENV_BIN / "python"), "-m", "catalog", "load"], env=env, cwd=PROJECT_ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    workdir.mkdir(parents=True, exist_ok=True)
    with mock.patch.dict(os.environ, env):  # the command lines (--cors) from the settings the servers run with
        (workdir / "haproxy.cfg").write_text(haproxy_config("127.0.0.1", proxy_port, ports), encoding="utf-8")
        commands = programs(workdir, MODEL, ports, action_port, endpoints or ENDPOINTS)
    commands.pop("web")
    if not analytics:
        commands.pop("analytics")
        commands.pop("dashboard")
    cluster = Cluster(f"http://127.0.0.1:{proxy_port}", [f"http://127.0.0.1:{port}" for port in ports],
                      f"http://127.0.0.1:{action_port}", database_url, queue, workdir, env, Processes(), commands)
    try:
        for name in commands:
            cluster.start(name)
        cluster.wait_ready("actions", f"{cluster.action_url}/health")
        for number, url in enumerate(cluster.replica_urls, start=1):
            cluster.wait_ready(f"rasa{number}", f"{url}/webhooks/health/ready")
        cluster.wait_ready("haproxy", f"{cluster.url}/webhooks/health/ready")
        cluster.wait_balanced()
        yield cluster
    finally:
        cluster.processes.stop_all()
        _drop_queue(queue)
        _drop_database(database_url)


RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


async def queued_events(queue: str) -> List[Dict]:
    """Every event waiting in a RabbitMQ queue (taken off it), as Rasa's Pika broker published them."""
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        events = []
        while (message := await declared.get(fail=False)) is not None:
            events.append(json.loads(message.body))
            await message.ack()
        return events


def _drop_queue(queue: str) -> None:
    async def drop():
        connection = await aio_pika.connect(RABBITMQ_URL)
        async with connection:
            await (await connection.channel()).queue_delete(queue)

    try:
        asyncio.run(drop())
    except (OSError, aio_pika.exceptions.AMQPException):
        pass  # RabbitMQ gone: nothing to tidy


def _drop_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()
