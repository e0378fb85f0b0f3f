"""The analytics store and its numbers: each event counted once whichever way it arrives (twice from
RabbitMQ, again from the conversation log), a queue message acknowledged only once stored, the
definitions of every dashboard number, and grouping of similar unanswered questions."""

import asyncio
import json
import uuid
from datetime import date, datetime, timezone

import aio_pika
import pytest
from sqlalchemy import create_engine, select, text

from analytics import feed, metrics, review, store
from analytics.events import BadEvent, row_for
from core.db import session_scope

DAY = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc).timestamp()
NEXT_DAY = DAY + 86400
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


def user(event_id, sender, text, intent, at=DAY, confidence=0.9, entities=(), channel="socketio"):
    return {"event_id": event_id, "sender_id": sender, "event": "user", "timestamp": at + event_id, "text": text,
            "input_channel": channel,
            "parse_data": {"intent": {"name": intent, "confidence": confidence},
                           "entities": [{"entity": name, "value": value} for name, value in entities]}}


def bot(event_id, sender, text, program=None, topic=None, at=DAY, delay=0.25):
    body = {"event_id": event_id, "sender_id": sender, "event": "bot", "timestamp": at + event_id - 1 + delay,
            "text": text, "metadata": {}}
    if topic:
        body["metadata"]["answer"] = {"program_id": program, "topic": topic}
    return body


def handoff(body, kind="handoff"):
    body["metadata"]["support"] = kind
    return body


def action(event_id, sender, name, at=DAY):
    return {"event_id": event_id, "sender_id": sender, "event": "action", "timestamp": at + event_id, "name": name}


def seeded_events():
    """Four conversations on day one, one on day two."""
    return [
        # a: answered from the catalog, rated 👍 (contained)
        user(1, "a", "/greet", "greet"), bot(2, "a", "Hi! I answer questions"),
        user(3, "a", "how much is MITx SCM?", "ask_cost"),
        bot(4, "a", "$1,350 in total, as of 2024.", "mitx-supply-chain-management", "cost", delay=0.2),
        user(5, "a", "/feedback", "feedback", confidence=1.0, entities=[("rating", "up"), ("answer", "$1,350")]),
        # b: answered, rated 👎 with a comment (contained)
        user(6, "b", "does it count for credit?", "ask_credit", channel="rest"),
        bot(7, "b", "Yes: it counts toward these degrees.", "mitx-supply-chain-management", "credit", delay=0.4),
        user(8, "b", "/feedback", "feedback", confidence=1.0, entities=[("rating", "down"), ("answer", "Yes: it")]),
        user(9, "b", "/feedback", "feedback", confidence=1.0, entities=[("comment", "I meant Purdue")]),
        # c: out of scope, no catalog answer, handed off
        user(10, "c", "what's the weather in Paris?", "out_of_scope"), bot(11, "c", "I have no sourced answer"),
        action(12, "c", "action_answer_general"), handoff(bot(13, "c", "Someone from the team will answer here.")),
        # d: not understood
        user(14, "d", "asdf qwer zxcv", "nlu_fallback", confidence=0.2), bot(15, "d", "Sorry, could you rephrase?"),
        # e (next day): out of scope, similar to c's
        user(16, "e", "what is the weather in paris today", "out_of_scope", at=NEXT_DAY),
        bot(17, "e", "I have no sourced answer", at=NEXT_DAY),
    ]


@pytest.fixture
def analytics(tmp_path):
    return store.analytics_engine(f"sqlite:///{tmp_path / 'analytics.db'}")


def report_numbers(engine, start=date(2026, 11, 2), end=date(2026, 11, 3)):
    events = metrics.period_events(engine, metrics.Period(start, end))
    return metrics.numbers(events), events


def test_every_number_follows_its_definition(analytics):
    assert feed.ingest(analytics, seeded_events()) == 17
    (total, daily), events = report_numbers(analytics)
    assert total.as_dict() == {
        "conversations": 5, "messages": 5, "channels": {"socketio": 4, "rest": 1},
        "handed_off": 1, "containment": 0.8, "handoff_rate": 0.2,
        "fallbacks": 1, "fallback_rate": 0.2, "out_of_scope": 2, "out_of_scope_rate": 0.4,
        "thumbs_up": 1, "thumbs_down": 1, "thumbs_up_rate": 0.5, "answers": 2,
        "median_reply_ms": 250.0,  # replies after 200, 400, 250, 250, 250 ms
        "rate_limited": 0, "desk_busy": 0,  # refusals are counted by the Rasa servers, not from events
    }
    assert daily["2026-11-02"].conversations == 4 and daily["2026-11-03"].conversations == 1
    assert daily["2026-11-03"].out_of_scope == 1 and daily["2026-11-03"].handed_off == 0
    assert metrics.top_programs(events) == [("mitx-supply-chain-management", 2)]
    assert metrics.top_topics(events) == [("cost", 1), ("credit", 1)]


def test_unanswered_questions_are_grouped_commonest_first_and_leave_once_reviewed(analytics):
    feed.ingest(analytics, seeded_events())
    _, events = report_numbers(analytics)
    unanswered = metrics.unanswered_messages(events)
    assert {(m.event_id, m.reason, m.comment) for m in unanswered} == {
        (6, "not helpful", "I meant Purdue"), (10, "out of scope", None), (14, "not understood", None),
        (16, "out of scope", None)}
    groups = metrics.grouped(unanswered)
    assert [(g.count, g.text) for g in groups][0] == (2, "what is the weather in paris today")
    assert sorted(g.count for g in groups) == [1, 1, 2]
    assert [m.event_id for m in metrics.unanswered_messages(events, reviewed={10, 16})] == [6, 14]


def test_an_event_delivered_again_is_not_counted_twice(analytics):
    events = seeded_events()
    feed.ingest(analytics, events)
    first = report_numbers(analytics)[0][0].as_dict()
    assert feed.ingest(analytics, events + events[::-1]) == 0
    assert report_numbers(analytics)[0][0].as_dict() == first


def test_a_message_that_is_not_an_event_is_refused_with_the_reason():
    for body, reason in [([], "not a JSON object"), ({"sender_id": "a", "timestamp": 1.0}, "event_id"),
                         ({"event_id": 1, "timestamp": 1.0}, "sender_id"), ({"event_id": 1, "sender_id": "a"},
                                                                             "timestamp"),
                         ({"event_id": True, "sender_id": "a", "timestamp": 1.0}, "event_id")]:
        with pytest.raises(BadEvent, match=reason):
            row_for(body)
    assert row_for({"event_id": 3, "sender_id": "a", "timestamp": 1.0, "event": "slot"}) is None


def test_bad_messages_are_dropped_and_good_ones_in_the_same_batch_stored(analytics):
    assert feed.ingest(analytics, ["not an event", {"event_id": "x"}, *seeded_events()[:3]]) == 3


def conversation_log(tmp_path, events):
    """Rasa's SQL tracker store table, holding `events` under their ids."""
    engine = create_engine(f"sqlite:///{tmp_path / 'conversations.db'}", future=True)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255),"
                                " type_name VARCHAR(255), timestamp FLOAT, intent_name VARCHAR(255),"
                                " action_name VARCHAR(255), data TEXT)"))
        for body in events:
            data = {k: v for k, v in body.items() if k not in ("event_id", "sender_id")}
            connection.execute(text("INSERT INTO events (id, sender_id, type_name, timestamp, data) "
                                    "VALUES (:id, :sender, :type, :ts, :data)"),
                               {"id": body["event_id"], "sender": body["sender_id"], "type": body["event"],
                                "ts": body["timestamp"], "data": json.dumps(data)})
    return engine


def test_the_conversation_log_is_read_from_where_it_stopped_and_a_replay_counts_nothing_twice(analytics, tmp_path):
    events = seeded_events()
    log = conversation_log(tmp_path, events[:10])
    assert feed.read_conversation_log(analytics, log, batch=4) == 10
    assert store.position(analytics, feed.LOG_POSITION) == 10
    conversation_log(tmp_path, events[10:])
    assert feed.read_conversation_log(analytics, log) == 7  # only the new ones
    before = report_numbers(analytics)[0][0].as_dict()
    feed.replay(analytics)
    assert feed.read_conversation_log(analytics, log) == 17
    assert report_numbers(analytics)[0][0].as_dict() == before


def test_what_rabbitmq_missed_is_caught_up_from_the_conversation_log(analytics, tmp_path):
    """An outage: Rasa stored every event but published only some; the catch-up finds the rest."""
    events = seeded_events()
    feed.ingest(analytics, events[::3])  # what reached the queue
    feed.read_conversation_log(analytics, conversation_log(tmp_path, events))
    assert report_numbers(analytics)[0][0].conversations == 5
    assert len(metrics.period_events(analytics, metrics.Period(date(2026, 11, 2), date(2026, 11, 3)))) == 17


async def _publish(queue_name, bodies):
    connection = await aio_pika.connect_robust(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue_name, durable=True)
        for body in bodies:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            await channel.default_exchange.publish(aio_pika.Message(payload), routing_key=queue_name)


async def _queue_depth(queue_name):
    connection = await aio_pika.connect_robust(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True)
        depth = queue.declaration_result.message_count
        return depth


async def _delete_queue(queue_name):
    connection = await aio_pika.connect_robust(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue_name)


async def _consume_until(analytics, queue_name, rows, timeout=20):
    consumer = asyncio.ensure_future(feed.consume_rabbitmq(analytics, queue_name, batch=5))
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.2)
            if consumer.done():
                return consumer.exception()
            if len(metrics.period_events(analytics, metrics.Period(date(2026, 11, 2), date(2026, 11, 3)))) >= rows \
                    and await _queue_depth(queue_name) == 0:
                await asyncio.sleep(1.5)  # the last batch's acknowledgement (after its commit) goes out
                return None
        raise AssertionError("the consumer did not store the queue's events in time")
    finally:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)


@pytest.fixture
def queue_name(monkeypatch):
    name = f"analytics_test_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("RABBITMQ_HOST", "127.0.0.1")
    monkeypatch.setenv("RABBITMQ_PASSWORD", "guest")
    yield name
    asyncio.run(_delete_queue(name))


def test_rabbitmq_events_are_stored_once_however_often_delivered(analytics, queue_name):
    events = seeded_events()
    asyncio.run(_publish(queue_name, events + events[:7] + [b"not json", {"event": "user"}]))
    assert asyncio.run(_consume_until(analytics, queue_name, rows=17)) is None
    (total, _), stored = report_numbers(analytics)
    assert len(stored) == 17 and total.conversations == 5 and total.thumbs_down == 1
    assert asyncio.run(_queue_depth(queue_name)) == 0  # the bad messages were logged and taken off too


def test_a_queue_message_stays_queued_until_its_rows_are_committed(analytics, queue_name, monkeypatch):
    asyncio.run(_publish(queue_name, seeded_events()[:4]))

    def database_down(*_args, **_kwargs):
        raise RuntimeError("the analytics database is down")

    monkeypatch.setattr(feed, "ingest", database_down)
    error = asyncio.run(_consume_until(analytics, queue_name, rows=4, timeout=10))
    assert isinstance(error, RuntimeError)
    assert asyncio.run(_queue_depth(queue_name)) == 4  # nothing acknowledged: the next consumer gets them all
    monkeypatch.undo()
    monkeypatch.setenv("RABBITMQ_HOST", "127.0.0.1")
    assert asyncio.run(_consume_until(analytics, queue_name, rows=4)) is None
    assert len(metrics.period_events(analytics, metrics.Period(date(2026, 11, 2), date(2026, 11, 3)))) == 4


def test_before_the_first_conversation_the_log_reads_nothing_without_an_error(analytics, tmp_path):
    empty = create_engine(f"sqlite:///{tmp_path / 'no-conversations-yet.db'}", future=True)
    assert feed.read_conversation_log(analytics, empty) == 0
    assert store.position(analytics, feed.LOG_POSITION) == 0


def test_processes_starting_together_create_the_tables_once(database_url):
    """The feed and the dashboard start at the same moment and both create the analytics tables."""
    import subprocess
    import sys

    script = "import sys; from analytics import store; store.analytics_engine(sys.argv[1])"
    starters = [subprocess.Popen([sys.executable, "-c", script, database_url], stderr=subprocess.PIPE, text=True)
                for _ in range(6)]
    problems = [starter.communicate(timeout=120)[1] for starter in starters if starter.wait(timeout=120) != 0]
    assert problems == []
    engine = store.analytics_engine(database_url)
    assert feed.ingest(engine, seeded_events()) == 17  # positive control: the tables work


def test_retention_deletes_old_events_and_their_reviews_and_keeps_the_rest(analytics):
    feed.ingest(analytics, seeded_events())
    review.label(analytics, 10, "ignore", None, "staff")  # on the first day
    review.label(analytics, 16, "new_faq", None, "staff")  # on the next day
    next_day = datetime(2026, 11, 3, tzinfo=timezone.utc).timestamp()

    assert store.forget_before(analytics, next_day, dry_run=True) == 15
    assert store.forget_before(analytics, next_day) == 15
    with session_scope(analytics) as session:
        assert session.scalars(select(store.AnalyticsEvent.event_id).order_by("event_id")).all() == [16, 17]
        assert session.scalars(select(store.Review.event_id)).all() == [16]


def test_a_message_with_a_lone_surrogate_or_a_nul_does_not_wedge_the_feed(analytics, tmp_path):
    """Such a message made its whole batch fail at every round, so the feed never moved past it."""
    events = [user(1, "learner-a", "how much\ud800 is it?", "ask_cost"), bot(2, "learner-a", "It costs $1,350"),
              user(3, "learner-b", "credit\x00?", "ask_credit"), bot(4, "learner-b", "Yes")]
    log = conversation_log(tmp_path, events)
    assert feed.read_conversation_log(analytics, log) == 4
    assert store.position(analytics, feed.LOG_POSITION) == 4
    assert feed.ingest(analytics, [user(5, "learner-c\ud800", "hi\ud800", "greet")]) == 1
    stored = metrics.period_events(analytics, metrics.Period(date(2026, 11, 1), date(2026, 12, 1)))
    assert {event.text for event in stored if event.type == "user"} == {"how much is it?", "credit?", "hi"}


def test_grouping_in_blocks_gives_the_groups_of_the_whole_matrix_at_once(monkeypatch):
    """The report computed every pair's similarity at once (8,000 messages: 1.2 GB); blocks give the same
    groups whatever their size."""
    texts = ["is the credit transferable", "is credit transferable?", "weather in paris", "what's the weather paris",
             "refund please", "can I get a refund", "is the credit transferable to MIT", "pizza", "weather paris"]
    messages = [metrics.UnansweredMessage(i, f"s{i}", text, "2026-11-02", "out of scope")
                for i, text in enumerate(texts * 3)]
    whole = [(g.text, g.count, [m.event_id for m in g.messages]) for g in metrics.grouped(messages)]
    assert any(count > 1 for _, count, _ in whole) and len(whole) > 1
    for block in (1, 2, 5, 26):
        monkeypatch.setattr(metrics, "GROUPING_BLOCK", block)
        assert [(g.text, g.count, [m.event_id for m in g.messages]) for g in metrics.grouped(messages)] == whole
