"""The support team's numbers from conversations held through the real servers: learners ask over REST
(answered and rated, out of scope, not understood, asking for a person), the analytics feed reads
Rasa's events, and every dashboard number is checked exactly, then again after the events are read a
second time. The cluster variant does the same through RabbitMQ."""

import json
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from analytics import metrics, report, store
from analytics.events import COUNTED_EVENTS
from core.db import engine_for
from tests.assistant import PROJECT_ROOT, running_assistant, running_cluster, train_model

pytestmark = pytest.mark.e2e
SCM = "mitx-supply-chain-management"
CONVERSATIONS = {  # sender -> the learner's messages; a feedback line rates the answer before it
    "learner-cost": ["How much does the MITx Supply Chain Management MicroMasters cost?", "rate up"],
    "learner-credit": ["Can the MITx SCM MicroMasters count as credit toward a master's degree?", "rate down",
                       "comment I wanted the Purdue pathway"],
    "learner-weather": ["what will the weather be like in Paris tomorrow?"],
    "learner-person": ["I want to talk to a human"],
    "learner-gibberish": ["zzqx vvbn"],
}
EXPECTED_INTENTS = {"learner-cost": "ask_cost", "learner-credit": "ask_credit", "learner-weather": "out_of_scope",
                    "learner-person": "request_human", "learner-gibberish": "nlu_fallback"}


def hold_conversations(say) -> None:
    """`say(sender, message) -> reply text`; feedback goes as the widget sends it (a payload)."""
    for sender, messages in CONVERSATIONS.items():
        last_answer = ""
        for message in messages:
            if message.startswith("rate "):
                payload = {"rating": message.split()[1], "answer": last_answer[:80]}
                say(sender, "/feedback" + json.dumps(payload))
            elif message.startswith("comment "):
                say(sender, "/feedback" + json.dumps({"comment": message[len("comment "):]}))
            else:
                last_answer = say(sender, message)
                assert last_answer, f"no reply to {message!r}"


def expected_reply_ms(tracker_events):
    """Independently of analytics: ms from each learner message to the next assistant message."""
    times, waiting = [], None
    for event in tracker_events:
        if event["event"] == "user":
            intent = event["parse_data"]["intent"]["name"]
            waiting = None if intent == "feedback" or event.get("text") == "/greet" else event["timestamp"]
        elif event["event"] == "bot" and waiting is not None:
            times.append((event["timestamp"] - waiting) * 1000)
            waiting = None
    return times


def check_numbers(analytics_url: str, catalog_url: str, reply_ms) -> dict:
    today = datetime.now(timezone.utc).date()
    built = report.build(store.analytics_engine(analytics_url), engine_for(catalog_url),
                         metrics.Period.last_days(2, today)).as_dict()
    totals = dict(built["totals"])
    assert totals.pop("median_reply_ms") == pytest.approx(statistics.median(reply_ms), abs=0.11)
    assert totals == {
        "conversations": 5, "messages": 5, "channels": {"rest": 5},
        "handed_off": 2, "containment": 0.6, "handoff_rate": 0.4,  # the weather question and the person
        "fallbacks": 1, "fallback_rate": 0.2, "out_of_scope": 1, "out_of_scope_rate": 0.2,
        "thumbs_up": 1, "thumbs_down": 1, "thumbs_up_rate": 0.5, "answers": 2, "rate_limited": 0, "desk_busy": 0,
    }
    assert [(p["program_id"], p["answers"]) for p in built["top_programs"]] == [(SCM, 2)]
    assert sorted((t["topic"], t["answers"]) for t in built["top_topics"]) == [("cost", 1), ("credit", 1)]
    unanswered = {(m["text"], m["reason"], m["comment"]) for g in built["unanswered"] for m in g["messages"]}
    assert unanswered == {
        (CONVERSATIONS["learner-credit"][0], "not helpful", "I wanted the Purdue pathway"),
        (CONVERSATIONS["learner-weather"][0], "out of scope", None),
        (CONVERSATIONS["learner-gibberish"][0], "not understood", None)}
    stale = {(f["program_id"], f["topic"]): f for f in built["stale_facts"]}
    assert set(stale) == {(SCM, "cost"), (SCM, "credit")}
    assert all(f["served"] == 1 and f["sources"] for f in stale.values())
    day = [d for d in built["daily"] if d["conversations"]]
    assert sum(d["messages"] for d in day) == 5
    return built


def run_feed(env, *args) -> None:
    subprocess.run([sys.executable, "-m", "analytics.feed", *args], env=env, cwd=PROJECT_ROOT, check=True,
                   capture_output=True, timeout=120)


def test_dashboard_numbers_from_conversations_through_the_real_servers(tmp_path):
    train_model()
    analytics_url = f"sqlite:///{tmp_path / 'analytics.db'}"
    with running_assistant(tmp_path, f"sqlite:///{tmp_path / 'catalog.db'}",
                           f"sqlite:///{tmp_path / 'conversations.db'}",
                           extra_env={"ANALYTICS_DATABASE_URL": analytics_url}) as assistant:
        hold_conversations(assistant.text)
        reply_ms = []
        for sender, intent in EXPECTED_INTENTS.items():
            events = assistant.api("GET", f"/conversations/{sender}/tracker").json()["events"]
            first = next(e for e in events if e["event"] == "user")
            assert first["parse_data"]["intent"]["name"] == intent, (sender, first["parse_data"]["intent"])
            reply_ms += expected_reply_ms(events)
        run_feed(assistant.env, "--once")
        check_numbers(analytics_url, assistant.database_url, reply_ms)
        run_feed(assistant.env, "--replay")  # every event read a second time
        check_numbers(analytics_url, assistant.database_url, reply_ms)


def test_the_cluster_feeds_the_same_numbers_through_rabbitmq(tmp_path):
    train_model()
    with running_cluster(tmp_path / "cluster", analytics=True) as cluster:
        import requests

        def say(sender, message):
            response = requests.post(f"{cluster.url}/webhooks/rest/webhook", json={"sender": sender,
                                                                                  "message": message}, timeout=60)
            assert response.status_code == 200, response.text
            return "\n".join(reply.get("text", "") for reply in response.json())

        hold_conversations(say)
        analytics = store.analytics_engine(cluster.database_url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _fed_everything(analytics):
            time.sleep(0.5)
        assert _fed_everything(analytics), "the feed did not store every event from RabbitMQ within 60 s"
        reply_ms = []
        for sender in CONVERSATIONS:
            reply_ms += [ms for ms in _reply_ms_from_rows(analytics, sender)]
        check_numbers(cluster.database_url, cluster.database_url, reply_ms)
        run_feed(cluster.env, "--replay")  # the conversation log read again on top of RabbitMQ's delivery
        check_numbers(cluster.database_url, cluster.database_url, reply_ms)


def _fed_everything(engine) -> bool:
    """Every event the conversation store holds that analytics counts is in the analytics table."""
    from sqlalchemy import text

    counted = ", ".join(f"'{name}'" for name in sorted(COUNTED_EVENTS))
    with engine.connect() as connection:
        stored = connection.execute(text(f"SELECT count(*) FROM events WHERE type_name IN ({counted})")).scalar()
        fed = connection.execute(text("SELECT count(*) FROM analytics_events")).scalar()
    return stored > 0 and fed == stored


def _reply_ms_from_rows(analytics, sender):
    """The cluster has no Rasa HTTP API token: the reply times come from the conversation store's rows."""
    from sqlalchemy import text

    with analytics.connect() as connection:
        rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"),
                                  {"s": sender}).all()
    return expected_reply_ms([json.loads(row.data) for row in rows])
