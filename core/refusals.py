"""Messages refused by a rate limit, counted per day and channel for the dashboard.

The Rasa servers refuse a message over its conversation's or address's rate (`channels.limits`) before
it reaches the conversation store, so the analytics feed never sees it. Each server adds its counts
here, in the database at DATABASE_URL that the dashboard reads beside the catalog: a few rows a day,
written in batches (a flood of refused messages is one write every few seconds, not one per message).
"""

import threading
from collections import Counter
from functools import cache
from typing import Dict, Optional, Tuple

from sqlalchemy import Column, Integer, String, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import declarative_base

from core.db import default_engine, schema_lock, session_scope

Base = declarative_base()
SCHEMA_LOCK = 0x72656675  # a PostgreSQL advisory lock id for this module's schema
_schema_lock = threading.Lock()


class RefusedMessagesRow(Base):
    __tablename__ = "refused_messages"
    day = Column(String(10), primary_key=True)  # UTC, YYYY-MM-DD
    channel = Column(String(32), primary_key=True)  # rest, socketio, slack
    count = Column(Integer, nullable=False)


@cache
def _schema_ready(engine: Engine) -> Engine:
    with _schema_lock, schema_lock(engine, SCHEMA_LOCK) as connection:
        Base.metadata.create_all(connection)
    return engine


def _engine(engine: Optional[Engine]) -> Engine:
    return _schema_ready(engine or default_engine())


def add(counts: Dict[Tuple[str, str], int], engine: Optional[Engine] = None) -> None:
    """Add {(day, channel): refused} to the stored counts, in one transaction."""
    engine = _engine(engine)
    for attempt in range(2):  # two servers may insert the same new (day, channel) at once: the loser adds
        try:
            with session_scope(engine) as session:
                for (day, channel), count in counts.items():
                    added = session.execute(
                        update(RefusedMessagesRow)
                        .where(RefusedMessagesRow.day == day, RefusedMessagesRow.channel == channel)
                        .values(count=RefusedMessagesRow.count + count)).rowcount
                    if not added:
                        session.add(RefusedMessagesRow(day=day, channel=channel, count=count))
                        session.flush()
            return
        except IntegrityError:
            if attempt:
                raise


def per_day(start: str, end: str, engine: Optional[Engine] = None) -> Dict[str, Counter]:
    """{day: Counter(channel: refused)} for the days start..end (inclusive, YYYY-MM-DD)."""
    found: Dict[str, Counter] = {}
    with session_scope(_engine(engine)) as session:
        for row in session.execute(select(RefusedMessagesRow).where(
                RefusedMessagesRow.day >= start, RefusedMessagesRow.day <= end)).scalars():
            found.setdefault(row.day, Counter())[row.channel] += row.count
    return found
