"""Two Rasa servers behind HAProxy, as `make cluster` runs them, on the local PostgreSQL, Redis and
RabbitMQ: a conversation moves between servers without losing its context, one conversation is never
handled by two servers at once, a staff reply reaches a learner whose socket is on the other server,
and every event reaches RabbitMQ."""

import asyncio
import json
import re
import threading
import time
import uuid

import pytest
import redis
import requests
from sqlalchemy import create_engine, text

from bench.servers import free_port
from tests.assistant import Learner, queued_events, running_cluster, running_page, train_model
from tests.e2e.browser import GREETING
from tests.slack_standin import SUPPORT, slack_settings, staff_says

pytestmark = pytest.mark.e2e
SECRET = "cluster-secret"
WEB_ORIGIN = "http://localhost:8080"
PAGE_PORT = free_port()  # the demo page, for the widget in a real browser


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, slack):
    train_model()
    env = {**slack_settings(slack, SECRET, WEB_ORIGIN),
           "WEBCHAT_ALLOWED_ORIGINS": f"{WEB_ORIGIN},http://127.0.0.1:{PAGE_PORT}"}
    with running_cluster(tmp_path_factory.mktemp("cluster"), replicas=2, extra_env=env) as running:
        yield running


def ask(url, sender, message):
    """(reply text, the Rasa server HAProxy chose) for one REST message."""
    response = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60)
    assert response.status_code == 200, response.text
    return "\n".join(reply.get("text", "") for reply in response.json()), response.headers.get("X-Served-By")


def event_types(cluster, sender):
    engine = create_engine(cluster.database_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT type_name FROM events WHERE sender_id = :sender ORDER BY id"),
                                      {"sender": sender})
            return [row.type_name for row in rows]
    finally:
        engine.dispose()


def test_rest_through_haproxy_uses_both_servers_and_keeps_the_conversation(cluster):
    sender = f"cluster-{uuid.uuid4().hex}"
    price, first = ask(cluster.url, sender, "how much does the MITx SCM cost?")
    credit, second = ask(cluster.url, sender, "and the credit?")
    admission, third = ask(cluster.url, sender, "does it guarantee admission?")
    assert "$1,350" in price
    assert "MITx Supply Chain Management" in credit and "credit" in credit  # the program came from the other server
    assert "MITx Supply Chain Management" in admission
    assert {first, second, third} == {"rasa1", "rasa2"}


def test_haproxy_refuses_a_body_over_the_size_cap_before_a_server_reads_it(cluster):
    body = json.dumps({"sender": f"cluster-{uuid.uuid4().hex}", "message": "a" * 300_000})
    response = requests.post(f"{cluster.url}/webhooks/rest/webhook", data=body, timeout=60,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "X-Served-By" not in response.headers
    assert "$1,350" in ask(cluster.url, f"cluster-{uuid.uuid4().hex}", "how much does the MITx SCM cost?")[0]


def test_one_conversation_sent_to_both_servers_at_once_is_handled_one_message_at_a_time(cluster):
    """Rasa's RedisLockStore: without it, two servers would interleave one conversation's turns."""
    sender = f"cluster-{uuid.uuid4().hex}"
    questions = ["how much does the MITx SCM cost?", "does it count for credit?", "does it guarantee admission?",
                 "will it help me get a job?", "how much does the MITx SCM cost?", "does it count for credit?"]
    replies = {}

    def send(number, question):
        replies[number] = ask(cluster.replica_urls[number % 2], sender, question)[0]

    threads = [threading.Thread(target=send, args=item) for item in enumerate(questions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(replies) == len(questions) and all(replies.values())
    types = event_types(cluster, sender)
    assert types.count("user") == len(questions)
    turns = "".join("u" if kind == "user" else "b" if kind == "bot" else "" for kind in types)
    assert "uu" not in turns, f"two turns interleaved: {turns}"


def test_socketio_through_haproxy_stays_on_one_server(cluster):
    """Long-polling sends each poll as its own request: HAProxy sends each to the server whose name starts
    the session id. The client keeps no cookie (aiohttp takes none from 127.0.0.1), as a widget on another
    origin sends none."""
    async def scenario():
        learner = Learner(cluster.url, origin=WEB_ORIGIN)
        await learner.connect()
        await learner.say("how much does the MITx SCM cost?")
        assert "$1,350" in await learner.hear("MITx Supply Chain Management")
        await learner.say("and the credit?")
        await learner.hear("credit")
        await learner.disconnect()

    asyncio.run(scenario())


def test_a_staff_reply_reaches_the_learner_on_the_other_server(cluster, slack):
    first, second = cluster.replica_urls

    async def scenario():
        learner = Learner(first, origin=WEB_ORIGIN)  # the learner's socket is on the first server
        await learner.connect()
        await learner.say("does the columbia AI micromasters give credit?")
        await learner.hear("ColumbiaX Artificial Intelligence")
        await learner.say("I want to talk to a person")
        await learner.hear("asked the learner-support team")
        posted = await asyncio.to_thread(slack.wait_for_posts, 1, channel=SUPPORT, containing="give credit?")
        thread_ts = posted[0]["ts"]

        await asyncio.to_thread(staff_says, second, SECRET, "Hi, Sam from support here.", thread_ts)  # Slack -> second
        assert await learner.hear("Sam from support") == "Hi, Sam from support here."

        await learner.disconnect()
        await asyncio.to_thread(staff_says, second, SECRET, "Are you still there?", thread_ts)
        await asyncio.sleep(1)
        back = Learner(second, origin=WEB_ORIGIN, session_id=learner.session_id)  # reconnects to the other
        await back.connect()
        assert await back.hear("still there") == "Are you still there?"  # kept while nobody had the socket

        await asyncio.to_thread(staff_says, first, SECRET, "!done", thread_ts)
        await back.hear("handed you back to me")
        await back.disconnect()
        return learner.session_id

    session_id = asyncio.run(scenario())
    engine = create_engine(cluster.database_url, future=True)
    with engine.connect() as connection:
        undelivered = connection.execute(text("SELECT count(*) FROM handoff_staff_replies WHERE sender_id = :s "
                                              "AND delivered_at IS NULL"), {"s": session_id}).scalar()
        delivered = connection.execute(text("SELECT count(*) FROM handoff_staff_replies WHERE sender_id = :s "
                                            "AND delivered_at IS NOT NULL"), {"s": session_id}).scalar()
    engine.dispose()
    assert (delivered, undelivered) == (2, 0)


def test_the_handoff_loop_runs_under_one_lease(cluster):
    client = redis.Redis(host="127.0.0.1", port=6379, db=int(cluster.env["REDIS_DB"]))
    deadline = time.monotonic() + 10
    while client.get("micromasters:lease:handoff-loop") is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert client.get("micromasters:lease:handoff-loop") is not None
    assert 0 < client.pttl("micromasters:lease:handoff-loop") <= 10_000


def test_every_event_of_a_conversation_reaches_rabbitmq(cluster):
    sender = f"cluster-{uuid.uuid4().hex}"
    ask(cluster.url, sender, "how much does the MITx SCM cost?")
    deadline, mine = time.monotonic() + 10, []
    while time.monotonic() < deadline:
        mine += [event for event in asyncio.run(queued_events(cluster.queue)) if event.get("sender_id") == sender]
        if any(event["event"] == "bot" for event in mine):
            break
        time.sleep(0.5)
    assert [event["event"] for event in mine] == event_types(cluster, sender)
    assert [event.get("text") for event in mine if event["event"] == "user"] == ["how much does the MITx SCM cost?"]



def test_each_started_server_keeps_its_loaded_heap_out_of_garbage_collection(cluster):
    """rasa_speedups/heap.py froze the heap once the server had started (its log says how many objects)."""
    for name in ("rasa1", "rasa2"):
        log = (cluster.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        frozen = re.findall(r"(\d+) objects of the loaded server kept out of garbage collection", log)
        assert frozen and int(frozen[-1]) > 100_000, name


def test_the_widget_in_a_browser_is_answered_through_haproxy(cluster, browser, tmp_path):
    """The demo page on another origin than HAProxy, as a widget on an organisation's site: the browser sends
    no cookie with socket.io's requests, and every poll must still reach the server holding the session."""
    from urllib.parse import parse_qs, urlsplit

    with running_page(tmp_path, cluster.url, PAGE_PORT) as origin:
        chat = browser({"width": 1280, "height": 860})
        chat.open_chat(origin)
        chat.expect_reply(GREETING)
        chat.say("how much does the MITx Supply Chain Management MicroMasters cost?")
        chat.expect_reply("$1,350 in total")
        sessions = {parse_qs(urlsplit(url).query)["sid"][0] for url in chat.requests
                    if "/socket.io/" in url and "sid=" in url}
        assert sessions and all(re.match(r"rasa[12]\.", sid) for sid in sessions), sessions
        chat.check_nothing_left_the_machine(cluster.url)  # no poll refused by a server without the session
