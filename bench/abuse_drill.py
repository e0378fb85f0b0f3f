"""Abuse drill: hostile input against every entry point while learners talk, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.abuse_drill      (or: make abuse-drill)

For each database the Rasa server and the action server run on their own ports, with the Slack
stand-in as the support desk (HANDOFFS_PER_HOUR=10). While three learners ask questions over REST and
one in the widget, the attacks run, each a bounded number of requests, loopback only:

- REST: random unicode bodies (NUL, lone surrogates, control characters), bad sender ids, 5 MB and
  300 KB bodies, 5,000-deep JSON, 300 new conversations, one conversation flooding messages;
- socket.io: bad session ids, lone surrogates, a packet over the size cap, messages for a session
  the socket did not join, 40 learners asking for a person (a handoff flood);
- Slack: forged and non-ASCII signatures, signed but malformed bodies, a replayed slash command.

Then: every server must still have its first pid, no response may be a 5xx, every learner question
must be answered, no more handoffs than HANDOFFS_PER_HOUR may reach Slack, the analytics feed must
read the conversation log to its end, a normal question must be answered within 1 s, the refused
messages must be in the dashboard's counts, and the replayed slash command answered once. The table
(stdout and bench/results/abuse-drill.md) counts each attack's responses by class. Exit code 0 when
all of that holds, 1 otherwise.
"""

import asyncio
import hashlib
import hmac
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Tuple
from urllib.parse import urlencode

import requests
import socketio
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.servers import BenchError
from channels import limits
from core import refusals
from core.db import engine_for
from ops.cluster import ensure_database
from tests.assistant import Learner, running_assistant, train_model
from tests.slack_standin import SUPPORT, SlackStandIn, event_callback, slack_settings

BENCH_DIR = Path(__file__).resolve().parent
POSTGRES = "postgresql://postgres@127.0.0.1:5432/micromasters_abuse_drill"
SECRET, TOKEN, ORIGIN = "abuse-drill-secret", "xoxb-abuse-drill", "http://127.0.0.1:8080"
HANDOFF_CAP = 10
ALREADY_ANSWERED = "This command was already answered."
QUESTION, ANSWER = "how much does the MITx SCM cost?", "$1,350"
LEARNER_QUESTIONS = 8
rng = random.Random(23)


def random_text(length: int) -> str:
    """Unicode of every kind, NUL, lone surrogates and control characters included."""
    pools = [range(0x20, 0x7F), range(0x00, 0x20), range(0xA0, 0x2FF), range(0x4E00, 0x4E80),
             range(0xD800, 0xE000), range(0x1F300, 0x1F400)]
    return "".join(chr(rng.choice(rng.choice(pools))) for _ in range(length))


def json_body(payload) -> bytes:
    return json.dumps(payload).encode()  # lone surrogates stay \ud800 escapes, as a client would send them


def rest_attacks() -> Dict[str, List[bytes]]:
    flood_sender = f"flood-{uuid.uuid4().hex[:8]}"
    return {
        "REST random unicode": [json_body({"sender": random_text(rng.randint(1, 40)), "message": random_text(
            rng.randint(0, 500)), "metadata": {random_text(5): random_text(20)}}) for _ in range(150)],
        "REST bad sender ids": [json_body({"sender": sender, "message": QUESTION}) for sender in
                                ["x\ud800", "x\x00y", "x" * 10_000, "a b", "a/b", "", "\ud83d"] * 10],
        "REST huge bodies": [json_body({"sender": f"huge-{n}", "message": "a" * size})
                             for n, size in enumerate([5_000_000] * 3 + [300_000] * 5 + [2_500] * 5)],
        "REST deep JSON": [b'{"sender": "deep", "message": "hi", "metadata": ' + b'{"a":' * depth + b"1" +
                           b"}" * depth + b"}" for depth in (5_000, 50_000, 900) for _ in range(3)],
        "REST new conversations": [json_body({"sender": f"idflood-{uuid.uuid4().hex}", "message": "hi"})
                                   for _ in range(300)],
        "REST one conversation flooding": [json_body({"sender": flood_sender, "message": "hi"}) for _ in range(40)],
    }


def post(url: str, body: bytes, headers: Dict[str, str]) -> str:
    """The response's class: 2xx, 4xx, 5xx, or "dropped" when the server closed the connection."""
    try:
        return f"{requests.post(url, data=body, headers=headers, timeout=60).status_code // 100}xx"
    except requests.RequestException:
        return "dropped"


def signed_headers(body: bytes, secret: str = SECRET, content_type: str = "application/json") -> Dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def slack_attacks(rasa_url: str) -> Dict[str, List[Tuple[str, bytes, Dict[str, str]]]]:
    events, commands = f"{rasa_url}/webhooks/slack/webhook", f"{rasa_url}/webhooks/slack/commands"
    dm = {"type": "message", "channel": "DABUSE", "channel_type": "im", "user": "USTAFF", "text": QUESTION,
          "ts": f"{time.time():.6f}"}
    forged = []
    for _ in range(20):
        body = json_body(event_callback(dm, f"Ev{uuid.uuid4().hex[:10].upper()}"))
        forged += [(events, body, signed_headers(body, "not-the-secret")),
                   (events, body, {**signed_headers(body), "X-Slack-Signature": "v0=é" + "0" * 63})]
    malformed = [(events, body, signed_headers(body)) for body in
                 [b"not json", b"[]", b"{}", json_body({"type": "event_callback", "event": random_text(50)}),
                  b'{"a":' * 5000 + b"1" + b"}" * 5000] * 4]
    command = urlencode({"command": "/assistant", "text": "dashboard", "channel_id": SUPPORT, "user_id": "USTAFF",
                         "trigger_id": uuid.uuid4().hex}).encode()
    replayed = [(commands, command, signed_headers(command, content_type="application/x-www-form-urlencoded"))] * 10
    return {"Slack forged signatures": forged, "Slack signed, malformed": malformed,
            "Slack replayed command": replayed}


async def socketio_attacks(rasa_url: str) -> Counter:
    """Hostile widget clients; counts what became of them (the server must stay up for every one)."""
    outcome: Counter = Counter()
    hostile = socketio.AsyncClient(reconnection=False)
    await hostile.connect(rasa_url, headers={"Origin": ORIGIN}, transports=["websocket"])
    for session_id in ["x\ud800", "x\x00", "y" * 10_000, {"a": 1}, None, 5]:
        await hostile.emit("session_request", {"session_id": session_id})
        outcome["bad session ids sent"] += 1
    for _ in range(30):
        await hostile.emit("user_uttered", {"message": random_text(200), "session_id": f"victim-{uuid.uuid4().hex}"})
        outcome["messages for sessions not joined"] += 1
    await hostile.emit("user_uttered", {"message": "a" * 400_000, "session_id": "x"})
    await asyncio.sleep(1)
    outcome["closed after the oversize packet"] += not hostile.connected
    if hostile.connected:
        await hostile.disconnect()

    async def asks_for_a_person(index: int) -> None:
        learner = Learner(rasa_url, origin=ORIGIN, session_id=f"handoff-flood-{index}-{uuid.uuid4().hex[:6]}",
                          transports=("websocket",))
        await learner.connect()
        await learner.say("I want to talk to a person")
        try:
            await learner.hear("", timeout=30)
            outcome["handoff askers answered"] += 1
        finally:
            await learner.disconnect()

    await asyncio.gather(*(asks_for_a_person(index) for index in range(40)))
    return outcome


class Learners:
    """Three REST learners and one widget learner asking questions, one a second, throughout."""

    def __init__(self, rasa_url: str):
        self.rasa_url, self.asked, self.answered, self.seconds = rasa_url, 0, 0, []
        self._lock = threading.Lock()

    def rest(self, number: int) -> None:
        sender = f"learner-{number}-{uuid.uuid4().hex[:6]}"
        for _ in range(LEARNER_QUESTIONS):
            started = time.monotonic()
            try:
                replies = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender,
                                        "message": QUESTION}, timeout=60).json()
                ok = any(ANSWER in (reply.get("text") or "") for reply in replies)
            except (requests.RequestException, ValueError):
                ok = False
            self._count(ok, time.monotonic() - started)
            time.sleep(1)

    def widget(self) -> None:
        async def talk():
            learner = Learner(self.rasa_url, origin=ORIGIN, transports=("websocket",))
            await learner.connect()
            for _ in range(LEARNER_QUESTIONS):
                started = time.monotonic()
                await learner.say(QUESTION)
                try:
                    await learner.hear(ANSWER, timeout=30)
                    self._count(True, time.monotonic() - started)
                except asyncio.TimeoutError:
                    self._count(False, 30.0)
                await asyncio.sleep(1)
            await learner.disconnect()
        asyncio.run(talk())

    def _count(self, ok: bool, seconds: float) -> None:
        with self._lock:
            self.asked += 1
            self.answered += ok
            self.seconds.append(seconds)


def handoff_posts(slack: SlackStandIn) -> list:
    """The handoffs posted to the support channel (thread replies are not handoffs)."""
    return [post_ for post_ in slack.posts(channel=SUPPORT) if not post_.get("thread_ts")]


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "SQLite":
        yield f"sqlite:///{workdir / 'assistant.db'}"
        return
    ensure_database(POSTGRES)
    try:
        yield POSTGRES
    finally:
        maintenance = create_engine(make_url(POSTGRES).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with maintenance.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(POSTGRES).database}" WITH (FORCE)'))
        maintenance.dispose()


def drill(kind: str, workdir: Path, slack: SlackStandIn) -> Dict:
    extra = {**slack_settings(slack, SECRET, ORIGIN), "HANDOFFS_PER_HOUR": str(HANDOFF_CAP),
             "SLACK_SIGNING_SECRET": SECRET}
    with database(kind, workdir) as url, running_assistant(workdir, url, url, extra_env=extra) as assistant:
        pids = {"rasa": assistant.rasa_process.pid, "actions": assistant.action_process.pid}
        posts_before = len(handoff_posts(slack))
        learners = Learners(assistant.rasa_url)
        rows: Dict[str, Counter] = {}
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=12) as pool:
            talking = [pool.submit(learners.rest, number) for number in range(3)] + [pool.submit(learners.widget)]
            rest_url = f"{assistant.rasa_url}/webhooks/rest/webhook"
            for name, bodies in rest_attacks().items():
                rows[name] = Counter(pool.map(lambda body: post(rest_url, body, {"Content-Type": "application/json"}),
                                              bodies))
            attacks = slack_attacks(assistant.rasa_url)
            replayed = attacks.pop("Slack replayed command")
            for name, requests_ in attacks.items():
                rows[name] = Counter(pool.map(lambda request: post(*request), requests_))
            answers = [requests.post(url, data=body, headers=headers, timeout=60) for url, body, headers in replayed]
            rows["Slack replayed command"] = Counter(f"{answer.status_code // 100}xx" for answer in answers)
            commands_answered = sum(answer.json().get("text") != ALREADY_ANSWERED for answer in answers
                                    if answer.status_code == 200)
            rows["socket.io hostile clients"] = asyncio.run(socketio_attacks(assistant.rasa_url))
            for future in talking:
                future.result()
        attack_seconds = time.monotonic() - started
        time.sleep(3)  # handoffs in flight reach the stand-in
        handoffs_posted = len(handoff_posts(slack)) - posts_before
        first = time.monotonic()
        normal = assistant.text(f"after-{uuid.uuid4().hex[:6]}", QUESTION)
        normal_seconds = time.monotonic() - first
        feed = subprocess.run([sys.executable, "-m", "analytics.feed", "--once"], env={
            **assistant.env, "ANALYTICS_DATABASE_URL": f"sqlite:///{workdir / f'analytics-{kind}.db'}",
            "RABBITMQ_HOST": ""}, capture_output=True, text=True, timeout=300)
        time.sleep(max(0.0, limits.SAVE_REFUSALS_SECONDS + 1 - (time.monotonic() - first)))
        today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        counted = sum(refusals.per_day(today, today, engine_for(url)).get(today, Counter()).values())
        alive = {name: process.poll() is None and process.pid == pids[name] for name, process in
                 (("rasa", assistant.rasa_process), ("actions", assistant.action_process))}
    return {"kind": kind, "rows": rows, "alive": alive, "learners": learners, "handoffs": handoffs_posted,
            "normal_ok": ANSWER in normal, "normal_seconds": normal_seconds, "feed_ok": feed.returncode == 0,
            "feed_output": (feed.stdout + feed.stderr)[-400:], "seconds": attack_seconds, "counted": counted,
            "commands_answered": commands_answered}


def verdicts(result: Dict) -> Dict[str, bool]:
    learners = result["learners"]
    server_errors = sum(counts.get("5xx", 0) for counts in result["rows"].values())
    return {"every server kept its first pid": all(result["alive"].values()),
            "no 5xx": server_errors == 0,
            "every learner question answered": learners.answered == learners.asked > 0,
            f"at most {HANDOFF_CAP} handoffs reached Slack": result["handoffs"] <= HANDOFF_CAP,
            "the analytics feed read the log to its end": result["feed_ok"],
            "a normal question answered within 1 s": result["normal_ok"] and result["normal_seconds"] <= 1.0,
            "the rate-limited messages are on the dashboard": result["counted"] >= rate_limited(result),
            "a replayed slash command answered once": result["commands_answered"] == 1}


def rate_limited(result: Dict) -> int:
    """The REST flood's 429s (at least what the servers must have counted)."""
    return result["rows"].get("REST one conversation flooding", Counter()).get("4xx", 0)


def render_result(result: Dict) -> str:
    learners = result["learners"]
    lines = [f"### {result['kind']}", "", "| attack | sent | 2xx | 4xx | 5xx | dropped |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, counts in result["rows"].items():
        if name.startswith("socket.io"):
            continue
        lines.append(f"| {name} | {sum(counts.values())} | {counts.get('2xx', 0)} | {counts.get('4xx', 0)} | "
                     f"{counts.get('5xx', 0)} | {counts.get('dropped', 0)} |")
    lines += ["", "socket.io hostile clients: " + ", ".join(f"{name} {count}" for name, count in
                                                            result["rows"]["socket.io hostile clients"].items()), ""]
    p95 = statistics.quantiles(learners.seconds, n=20)[18] if len(learners.seconds) >= 2 else float("nan")
    lines += [f"Learners: {learners.answered}/{learners.asked} questions answered, reply median "
              f"{statistics.median(learners.seconds):.2f} s, p95 {p95:.2f} s, during {result['seconds']:.0f} s of "
              f"attacks. Handoffs posted to Slack: {result['handoffs']} (cap {HANDOFF_CAP}). A normal question "
              f"afterwards: {result['normal_seconds']:.2f} s. Refused messages counted for the dashboard: "
              f"{result['counted']}.", ""]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {name}" for name, ok in verdicts(result).items()]
    if not result["feed_ok"]:
        lines.append(f"  analytics feed said: {result['feed_output']}")
    return "\n".join(lines) + "\n"


def main() -> int:
    train_model()
    slack = SlackStandIn(TOKEN)
    results = []
    try:
        for kind in ("SQLite", "PostgreSQL"):
            print(f"==> {kind}", file=sys.stderr, flush=True)
            with tempfile.TemporaryDirectory() as workdir:
                results.append(drill(kind, Path(workdir), slack))
    except BenchError as problem:
        print(f"abuse drill could not run: {problem}", file=sys.stderr)
        return 1
    finally:
        slack.close()
    report = "## Abuse drill\n\n" + "\n".join(render_result(result) for result in results)
    print(report)
    (BENCH_DIR / "results").mkdir(exist_ok=True)
    (BENCH_DIR / "results" / "abuse-drill.md").write_text(report, encoding="utf-8")
    return 0 if all(all(verdicts(result).values()) for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
