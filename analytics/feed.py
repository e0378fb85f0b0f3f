"""The analytics feed: Rasa's conversation events into the analytics tables, each event once.

Two sources, one way of storing (idempotent by the event's id, so any overlap is harmless):

- **RabbitMQ** (`make cluster`, RABBITMQ_HOST set): the queue Rasa's Pika event broker publishes every
  event to. Messages are acknowledged only after their rows are committed, so a consumer that dies
  leaves them in the queue for the next one.
- **The conversation store's event log** (Rasa's SQL tracker store `events` table, read in id order
  from a stored position): the only source with `make run`, and in the cluster the catch-up that makes
  a RabbitMQ outage lose nothing. Rasa's Pika broker drops an event it could not publish if the server
  restarts before RabbitMQ is back; the event is still in the conversation store, and the catch-up
  reads it there.

    python -m analytics.feed            # follow (what make run / make cluster start)
    python -m analytics.feed --once     # read what is there, then stop
    python -m analytics.feed --replay   # read the whole event log again (nothing is counted twice)
"""

import argparse
import asyncio
import json
import logging
import sys
from typing import Iterable, List, Optional, Tuple

from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text, inspect, select
from sqlalchemy.engine import Engine

from analytics import digest, store
from analytics.events import BadEvent, row_for
from core import inbound, settings
from core.db import engine_for, session_scope

logger = logging.getLogger("analytics.feed")
LOG_POSITION = "conversation-log"
BATCH = 500
CATCH_UP_SECONDS = 60  # with RabbitMQ: how often the event log is read for what the queue missed

# Rasa's SQLTrackerStore table, only the columns read here.
conversation_events = Table(
    "events", MetaData(),
    Column("id", BigInteger, primary_key=True),
    Column("sender_id", String(255)),
    Column("data", Text),
)


def rows_for(bodies: Iterable) -> Tuple[List[dict], int]:
    """Analytics rows for published events, and how many were not events (logged, then dropped)."""
    rows, bad = [], 0
    for body in bodies:
        try:
            row = row_for(body)
        except BadEvent as problem:
            bad += 1
            logger.error("dropped a message that is not a Rasa event (%s): %.200r", problem, body)
            continue
        if row is not None:
            rows.append(storable(row))
    return rows, bad


def storable(row: dict) -> dict:
    """The row with its text cleaned as the channels clean a message (`core.inbound.clean_text`): one
    lone surrogate (which no database encodes) made its whole batch fail at every round, and the feed
    stopped there for good. Events stored before the channels cleaned messages can hold one."""
    return {key: inbound.clean_text(value) if isinstance(value, str) else value for key, value in row.items()}


def ingest(engine: Engine, bodies: Iterable) -> int:
    """Store published events (dicts); returns how many rows were new."""
    rows, _ = rows_for(bodies)
    return store.store_rows(engine, rows)


def read_conversation_log(analytics: Engine, conversations: Engine, batch: int = BATCH) -> int:
    """Read the conversation store's events after the stored position; returns how many were read.
    Each batch's rows and the new position are committed together."""
    total = 0
    if not inspect(conversations).has_table(conversation_events.name):
        return 0  # nobody has talked to the assistant yet: Rasa creates the table with the first conversation
    while True:
        after = store.position(analytics, LOG_POSITION)
        with session_scope(conversations) as session:
            records = session.execute(
                select(conversation_events.c.id, conversation_events.c.sender_id, conversation_events.c.data)
                .where(conversation_events.c.id > after).order_by(conversation_events.c.id).limit(batch)
            ).all()
        if not records:
            return total
        bodies = []
        for record in records:
            try:
                bodies.append({**json.loads(record.data), "sender_id": record.sender_id, "event_id": record.id})
            except (TypeError, ValueError):
                logger.error("conversation event %s is not JSON; skipped", record.id)
        rows, _ = rows_for(bodies)
        with session_scope(analytics) as session:
            store.insert_rows(session, rows)
            store.set_position(session, LOG_POSITION, records[-1].id)
        total += len(records)


def replay(analytics: Engine) -> None:
    """Start the event log over: every event is read again and stored only if missing."""
    with session_scope(analytics) as session:
        row = session.get(store.ReadPosition, LOG_POSITION)
        if row is not None:
            row.position = 0


async def follow_conversation_log(analytics: Engine, conversations: Engine, every: float) -> None:
    while True:
        try:
            await asyncio.to_thread(read_conversation_log, analytics, conversations)
        except Exception:  # a database that is down: say so, try again on the next round
            logger.exception("reading the conversation log failed; retrying in %s s", every)
        await asyncio.sleep(every)


async def consume_rabbitmq(analytics: Engine, queue_name: str, batch: int = BATCH,
                           linger_seconds: float = 0.2) -> None:
    """Consume the event broker's queue; acknowledge a batch only once its rows are committed."""
    import aio_pika  # installed with Rasa; imported here so make run needs no RabbitMQ client

    connection = await aio_pika.connect_robust(
        host=settings.rabbitmq_host(), port=settings.rabbitmq_port(),
        login=settings.as_environment()["RABBITMQ_USERNAME"], password=settings.rabbitmq_password() or "guest")
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=batch * 2)  # the next batch arrives while one is stored
        queue = await channel.declare_queue(queue_name, durable=True)  # as Rasa's Pika broker declares it
        inbox: asyncio.Queue = asyncio.Queue()
        await queue.consume(inbox.put)
        while True:
            pending = await _next_batch(inbox, batch, linger_seconds)
            bodies = []
            for message in pending:
                try:
                    bodies.append(json.loads(message.body))
                except ValueError:
                    logger.error("dropped a queue message that is not JSON: %.200r", message.body)
            await asyncio.to_thread(ingest, analytics, bodies)
            await pending[-1].ack(multiple=True)


async def _next_batch(inbox: asyncio.Queue, batch: int, linger_seconds: float) -> List:
    """The next message, and those that follow it within `linger_seconds` (at most `batch`)."""
    pending = [await inbox.get()]
    deadline = asyncio.get_running_loop().time() + linger_seconds
    while len(pending) < batch:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            break
        try:
            pending.append(await asyncio.wait_for(inbox.get(), left))
        except asyncio.TimeoutError:
            break
    return pending


async def run(once: bool = False) -> None:
    analytics = store.analytics_engine()
    conversations = engine_for(settings.tracker_store_url())
    if once:
        read = await asyncio.to_thread(read_conversation_log, analytics, conversations)
        logger.info("read %s events from the conversation log", read)
        return
    tasks = []
    if settings.rabbitmq_host():
        queue = settings.as_environment()["RABBITMQ_QUEUE"]
        logger.info("consuming RabbitMQ queue %s; catching up from the conversation log every %s s",
                    queue, CATCH_UP_SECONDS)
        tasks.append(consume_rabbitmq(analytics, queue))
        tasks.append(follow_conversation_log(analytics, conversations, CATCH_UP_SECONDS))
    else:
        logger.info("following the conversation log every %s s", settings.analytics_poll_seconds())
        tasks.append(follow_conversation_log(analytics, conversations, settings.analytics_poll_seconds()))
    if settings.handoff_enabled():
        tasks.append(digest.post_weekly(analytics))  # the weekly digest in the support channel
    await asyncio.gather(*tasks)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.feed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--once", action="store_true", help="read the conversation log once, then stop")
    parser.add_argument("--replay", action="store_true", help="read the whole conversation log again, then stop")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.replay:
        replay(store.analytics_engine())
    asyncio.run(run(once=args.once or args.replay))
    return 0


if __name__ == "__main__":
    sys.exit(main())
