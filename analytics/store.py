"""The analytics tables: one row per conversation event, reviews of unanswered messages, read positions.

Rows come from Rasa's event stream (analytics.feed): each event carries the id the conversation store
gave it, and that id is the row's primary key, so an event delivered twice (a replay, RabbitMQ's
redelivery after a crash, the catch-up from the conversation store after an outage) is stored once.
The dashboard's numbers are computed from these rows (analytics.metrics), never from trackers.

The tables live in ANALYTICS_DATABASE_URL: beside the conversations on PostgreSQL, in
var/analytics.db with `make run`.
"""

import time
from datetime import datetime, timezone
from typing import Iterable, List, Optional

from sqlalchemy import BigInteger, Column, DateTime, Float, Index, String, Text, delete, func, inspect, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, declarative_base

from core import settings
from core.db import engine_for, schema_lock, session_scope

Base = declarative_base()


class AnalyticsEvent(Base):
    """One conversation event, flattened to what the dashboard counts (analytics.events builds it)."""

    __tablename__ = "analytics_events"
    __table_args__ = (Index("ix_analytics_events_sender", "sender_id", "event_id"),
                      Index("ix_analytics_events_day", "day"))
    event_id = Column(BigInteger, primary_key=True, autoincrement=False)  # the conversation store's id
    sender_id = Column(String(255), nullable=False)
    type = Column(String(32), nullable=False)  # Rasa's event name: user, bot, action, pause, ...
    timestamp = Column(Float, nullable=False)
    day = Column(String(10), nullable=False)  # UTC date of the timestamp, YYYY-MM-DD
    channel = Column(String(64))  # the input channel of a learner message
    intent = Column(String(255))
    confidence = Column(Float)
    text = Column(Text)  # learner or assistant text
    action = Column(String(255))  # an action's name
    program_id = Column(String(255))  # the program an answer was about
    topic = Column(String(255))  # the topic an answer was about (credit, cost, faq:exams, ...)
    rating = Column(String(8))  # feedback: up or down
    comment = Column(Text)  # feedback: the learner's optional comment after a 👎
    answer_ref = Column(Text)  # feedback: the start of the rated answer's text
    support = Column(String(16))  # an assistant message passing the learner to the support team: how


class Review(Base):
    """A staff decision on an unanswered learner message: the right intent, a new FAQ needed, or ignore."""

    __tablename__ = "analytics_reviews"
    event_id = Column(BigInteger, primary_key=True, autoincrement=False)
    label = Column(String(16), nullable=False)  # intent | new_faq | ignore
    intent = Column(String(255))
    reviewer = Column(String(255), nullable=False)
    reviewed_at = Column(DateTime(timezone=True), nullable=False)
    exported_at = Column(DateTime(timezone=True))


class ReadPosition(Base):
    """How far a feed has read (the conversation store's last event id seen)."""

    __tablename__ = "analytics_positions"
    name = Column(String(64), primary_key=True)
    position = Column(BigInteger, nullable=False)


class DigestPosted(Base):
    """One row per week whose digest was posted, so a week is posted once whatever restarts."""

    __tablename__ = "analytics_digests"
    week = Column(String(10), primary_key=True)  # the Monday, YYYY-MM-DD
    posted_at = Column(DateTime(timezone=True), nullable=False)


class SpentToken(Base):
    """Dashboard tokens that may not be used again: sign-in links once opened, sessions once signed out.
    Kept until the token would have expired anyway."""

    __tablename__ = "analytics_spent_tokens"
    jti = Column(String(64), primary_key=True)
    expires_at = Column(Float, nullable=False)


def spend_token(engine: Engine, jti: str, expires_at: float) -> bool:
    """Mark a token used; False if it already was. Forgets spent tokens that have expired meanwhile."""
    with session_scope(engine) as session:
        session.execute(delete(SpentToken).where(SpentToken.expires_at < time.time()))
        if session.get(SpentToken, jti) is not None:
            return False
        session.add(SpentToken(jti=jti, expires_at=expires_at))
        try:
            session.flush()
        except IntegrityError:  # spent at the same moment elsewhere
            return False
    return True


def token_is_spent(engine: Engine, jti: str) -> bool:
    with session_scope(engine) as session:
        return session.get(SpentToken, jti) is not None


SCHEMA_LOCK = 0x6D6D616E  # a PostgreSQL advisory lock id: one process at a time creates the tables


def analytics_engine(url: Optional[str] = None) -> Engine:
    """The analytics database, with its tables created if missing (the feed and the dashboard start
    together and both create them: `schema_lock` makes that one step)."""
    engine = engine_for(url or settings.analytics_database_url())
    with schema_lock(engine, SCHEMA_LOCK) as connection:
        Base.metadata.create_all(connection)
    return engine


def _insert_ignoring_duplicates(session: Session):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql_insert(AnalyticsEvent)
    if dialect == "sqlite":
        return sqlite_insert(AnalyticsEvent)
    raise ValueError(f"analytics needs PostgreSQL or SQLite, not {dialect}")


def insert_rows(session: Session, rows: List[dict]) -> int:
    """Insert event rows; a row whose event id is already stored is skipped. Returns how many were new."""
    if not rows:
        return 0
    statement = _insert_ignoring_duplicates(session).on_conflict_do_nothing(index_elements=["event_id"])
    return max(session.execute(statement, rows).rowcount, 0)


def store_rows(engine: Engine, rows: Iterable[dict]) -> int:
    """insert_rows in a transaction of its own."""
    with session_scope(engine) as session:
        return insert_rows(session, list(rows))


def position(engine: Engine, name: str) -> int:
    with session_scope(engine) as session:
        row = session.get(ReadPosition, name)
        return row.position if row else 0


def set_position(session: Session, name: str, value: int) -> None:
    row = session.get(ReadPosition, name)
    if row is None:
        session.add(ReadPosition(name=name, position=value))
    elif value > row.position:
        row.position = value


def forget_conversations(engine: Engine, sender_ids: Iterable[str]) -> int:
    """Delete the analytics rows (and reviews) of these conversations: `make erase`."""
    sender_ids = list(sender_ids)
    if not sender_ids or not inspect(engine).has_table(AnalyticsEvent.__tablename__):
        return 0
    unsynchronised = {"synchronize_session": False}  # nothing loaded; the ORM cannot evaluate the subquery
    with session_scope(engine) as session:
        ids = select(AnalyticsEvent.event_id).where(AnalyticsEvent.sender_id.in_(sender_ids))
        session.execute(delete(Review).where(Review.event_id.in_(ids)), execution_options=unsynchronised)
        return session.execute(delete(AnalyticsEvent).where(AnalyticsEvent.sender_id.in_(sender_ids)),
                               execution_options=unsynchronised).rowcount


def forget_before(engine: Engine, timestamp: float, dry_run: bool = False) -> int:
    """Delete (or, in a dry run, count) the analytics rows older than `timestamp`: retention."""
    if not inspect(engine).has_table(AnalyticsEvent.__tablename__):
        return 0
    old = AnalyticsEvent.timestamp < timestamp
    with session_scope(engine) as session:
        if dry_run:
            return session.scalar(select(func.count()).select_from(AnalyticsEvent).where(old))
        # No objects are loaded in this session: nothing to synchronise (the ORM's default, evaluating the
        # criteria in Python, cannot evaluate the subquery and refused the delete)
        unsynchronised = {"synchronize_session": False}
        session.execute(delete(Review).where(Review.event_id.in_(select(AnalyticsEvent.event_id).where(old))),
                        execution_options=unsynchronised)
        return session.execute(delete(AnalyticsEvent).where(old), execution_options=unsynchronised).rowcount


def now() -> datetime:
    return datetime.now(timezone.utc)
