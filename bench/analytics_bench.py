"""How fast the analytics feed stores events and the dashboard builds its report, side by side:
the two ways in (RabbitMQ, the conversation log) and the two databases (SQLite, PostgreSQL).

    python -m bench.analytics_bench [--conversations 1000]      # make analytics-bench

Synthetic conversations (eight turns each: the learner's message, the answer action, its answer with the
program and topic, listening; every fifth turn rated, one conversation in ten handed off) spread over
28 days are written to a conversation log (Rasa's `events` table) and published to a RabbitMQ queue of
their own; each way is read into a fresh analytics database, then the 28-day report is built three
times. Medians of three runs; the machine is shared, so read ratios rather than absolute figures.
Needs the local PostgreSQL (TEST_POSTGRES_URL's server) and RabbitMQ.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import tracemalloc
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, List

import aio_pika
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from analytics import feed, metrics, report, store
from core.db import engine_for

RESULTS = Path(__file__).resolve().parent / "results" / "analytics.md"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
PROGRAMS = ["mitx-supply-chain-management", "columbiax-ai", "ubcx-software-development", "michiganx-ux"]
TOPICS = ["cost", "credit", "admission", "career", "faq:exams"]
DAYS = 28


def conversations(count: int, today: date) -> List[Dict]:
    rng = random.Random(7)
    events, next_id = [], 1
    start = datetime.combine(today - timedelta(days=DAYS - 1), datetime.min.time(), tzinfo=timezone.utc)
    for number in range(count):
        sender, at = f"bench-{number}", start.timestamp() + rng.uniform(0, DAYS * 86400 - 3600)
        for turn in range(8):
            at += rng.uniform(5, 60)
            intent = rng.choice(["ask_cost", "ask_credit", "out_of_scope", "nlu_fallback", "ask_career"])
            program, topic = rng.choice(PROGRAMS), rng.choice(TOPICS)
            body = [
                {"event": "user", "timestamp": at, "text": f"question {rng.randint(1, 400)} about {program}",
                 "input_channel": rng.choice(["socketio", "rest"]),
                 "parse_data": {"intent": {"name": intent, "confidence": 0.8}, "entities": []}},
                {"event": "action", "timestamp": at + 0.01, "name": "action_answer_question"},
                {"event": "bot", "timestamp": at + 0.03, "text": "An answer with its source.",
                 "metadata": {"answer": {"program_id": program, "topic": topic}}},
                {"event": "action", "timestamp": at + 0.04, "name": "action_listen"},
            ]
            if turn % 5 == 4:
                body.append({"event": "user", "timestamp": at + 1, "text": "/feedback",
                             "parse_data": {"intent": {"name": "feedback", "confidence": 1.0},
                                            "entities": [{"entity": "rating", "value": rng.choice(["up", "down"])}]}})
            if number % 10 == 0 and turn == 7:
                body.append({"event": "bot", "timestamp": at + 0.05, "text": "The support team will answer.",
                             "metadata": {"support": "handoff"}})
            for event in body:
                events.append({**event, "sender_id": sender, "event_id": next_id})
                next_id += 1
    return events


def write_log(url: str, events: List[Dict]):
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS events"))
        connection.execute(text("CREATE TABLE events (id BIGINT PRIMARY KEY, sender_id VARCHAR(255), data TEXT)"))
        rows = [{"id": e["event_id"], "sender": e["sender_id"],
                 "data": json.dumps({k: v for k, v in e.items() if k not in ("event_id", "sender_id")})}
                for e in events]
        connection.execute(text("INSERT INTO events (id, sender_id, data) VALUES (:id, :sender, :data)"), rows)
    return engine


async def publish(queue: str, events: List[Dict]) -> None:
    connection = await aio_pika.connect_robust(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue, durable=True)
        for event in events:
            await channel.default_exchange.publish(aio_pika.Message(json.dumps(event).encode()), routing_key=queue)


async def consume_all(analytics, queue: str, expected: int) -> None:
    consumer = asyncio.ensure_future(feed.consume_rabbitmq(analytics, queue))
    try:
        while True:
            await asyncio.sleep(0.2)
            if consumer.done():
                consumer.result()
            with analytics.connect() as connection:
                if connection.execute(text("SELECT count(*) FROM analytics_events")).scalar() >= expected:
                    return
    finally:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)


async def drop_queue(queue: str) -> None:
    connection = await aio_pika.connect_robust(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)


def fresh_analytics(kind: str, workdir: Path, postgres: str):
    if kind == "SQLite":
        path = workdir / f"analytics-{uuid.uuid4().hex[:6]}.db"
        return store.analytics_engine(f"sqlite:///{path}")
    engine = create_engine(postgres, future=True)
    with engine.begin() as connection:
        for table in ("analytics_reviews", "analytics_events", "analytics_positions", "analytics_digests",
                      "analytics_spent_tokens"):
            connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()
    return store.analytics_engine(postgres)


def timed(action: Callable, *args) -> float:
    started = time.perf_counter()
    action(*args)
    return time.perf_counter() - started


def consumed(analytics, queue: str, expected: int) -> None:
    asyncio.run(consume_all(analytics, queue, expected))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("RABBITMQ_HOST", "127.0.0.1")  # the feed's RabbitMQ settings: the local server
    os.environ.setdefault("RABBITMQ_PASSWORD", "guest")
    base = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    schema = f"bench_analytics_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    postgres = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    today = datetime.now(timezone.utc).date()
    events = conversations(args.conversations, today)
    catalog = engine_for(os.environ.get("DATABASE_URL") or f"sqlite:///{Path('var/catalog.db').resolve()}")
    rows: List[List[str]] = []
    with tempfile.TemporaryDirectory() as warm:  # the catalog's first read (program names, FAQ index) is not timed
        report.build(store.analytics_engine(f"sqlite:///{Path(warm) / 'a.db'}"), catalog,
                     metrics.Period.last_days(DAYS, today), today)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            log = write_log(f"sqlite:///{Path(workdir) / 'conversations.db'}", events)
            for kind in ("SQLite", "PostgreSQL"):
                for way in ("conversation log", "RabbitMQ"):
                    seconds = []
                    for _ in range(args.runs):
                        analytics = fresh_analytics(kind, Path(workdir), postgres)
                        if way == "conversation log":
                            seconds.append(timed(feed.read_conversation_log, analytics, log))
                        else:
                            queue = f"bench_analytics_{uuid.uuid4().hex[:6]}"
                            asyncio.run(publish(queue, events))
                            try:
                                seconds.append(timed(consumed, analytics, queue, len(events)))
                            finally:
                                asyncio.run(drop_queue(queue))
                    build_seconds = []
                    period = metrics.Period.last_days(DAYS, today)
                    for _ in range(args.runs):
                        build_seconds.append(timed(report.build, analytics, catalog, period, today))
                    tracemalloc.start()  # once more for memory: tracing slows Python down, so it is not timed
                    report.build(analytics, catalog, period, today)
                    peak = tracemalloc.get_traced_memory()[1]
                    tracemalloc.stop()
                    built = report.build(analytics, catalog, period, today)
                    assert built.totals.conversations == args.conversations, built.totals.conversations
                    median = statistics.median(seconds)
                    rows.append([kind, way, f"{len(events):,}", f"{median:.1f}", f"{len(events) / median:,.0f}",
                                 f"{statistics.median(build_seconds):.2f}", f"{peak / 2**20:.0f}"])
                    analytics.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    header = ["analytics database", "events from", "events", "store s (median)", "events/s",
              f"{DAYS}-day report s (median)", "report peak MiB (Python)"]
    table = "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                      + ["| " + " | ".join(row) + " |" for row in rows])
    note = (f"`make analytics-bench`, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {args.conversations:,} "
            f"conversations over {DAYS} days, medians of {args.runs} runs")
    print(note + "\n\n" + table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(note + "\n\n" + table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
