"""Handoffs from the assistant to the support team: what is open, where its Slack thread is, what
staff said that a learner has not seen yet, and which Slack events were already handled.

Shared by the action server (which opens handoffs) and the Rasa server's channels (which relay
messages both ways), through the database at DATABASE_URL.

A handoff's life:  pending --claim--> posting --Slack ok--> open --staff `!done`, timeout--> closed
                                         |--Slack down--> pending (retried later)
                                         '--Slack refuses for good--> closed (reason slack_refused)
- A handoff is claimed (one atomic UPDATE) before it is posted, so two posters (the action and the
  retry loop, or two servers) never post it twice; a claim left by a crashed poster is released.
- A conversation has at most one handoff that is not closed: a unique index says so, not only code.
- A handoff nobody answers within HANDOFF_TIMEOUT_MINUTES is closed (reason timeout).
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import List, Optional

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    delete,
    exists,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import declarative_base

from core.db import default_engine, schema_lock, session_scope

logger = logging.getLogger(__name__)
Base = declarative_base()

PENDING, POSTING, OPEN, CLOSED = "pending", "posting", "open", "closed"
# Why a handoff was closed.
STAFF_CLOSED, TIMED_OUT, SLACK_REFUSED, RESTARTED = "staff", "timeout", "slack_refused", "restarted"
STALE_CLAIM = timedelta(seconds=60)  # far longer than a Slack post may take (support_desk timeout)


class HandoffRow(Base):
    __tablename__ = "handoffs"
    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    status = Column(String(10), nullable=False)  # pending, posting, open, closed
    question = Column(Text, nullable=False)
    program = Column(Text)
    transcript = Column(Text, nullable=False)
    slack_channel = Column(String(40))
    thread_ts = Column(String(40), index=True)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text)
    created_at = Column(DateTime(timezone=True), nullable=False)
    claimed_at = Column(DateTime(timezone=True))
    closed_at = Column(DateTime(timezone=True))
    closed_reason = Column(String(20))


ONE_ACTIVE_PER_CONVERSATION = Index(
    "one_active_handoff_per_conversation", HandoffRow.sender_id, unique=True,
    sqlite_where=HandoffRow.status != CLOSED, postgresql_where=HandoffRow.status != CLOSED,
)
# Columns added after the first release; `_schema_ready` adds them to older tables.
ADDED_COLUMNS = ("claimed_at", "closed_reason")


class StaffReplyRow(Base):
    """A staff reply relayed to a learner; `delivered_at` stays empty until a widget received it."""

    __tablename__ = "handoff_staff_replies"
    id = Column(Integer, primary_key=True)
    handoff_id = Column(ForeignKey("handoffs.id"), nullable=False, index=True)
    sender_id = Column(String(255), nullable=False, index=True)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)
    delivered_at = Column(DateTime(timezone=True))


class SlackEventRow(Base):
    """Slack event ids already handled: Slack retries an event it thinks timed out."""

    __tablename__ = "slack_events_seen"
    event_id = Column(String(64), primary_key=True)
    seen_at = Column(DateTime(timezone=True), nullable=False)


@dataclass(frozen=True)
class Handoff:
    id: int
    sender_id: str
    status: str
    question: str
    program: Optional[str]
    transcript: str
    slack_channel: Optional[str]
    thread_ts: Optional[str]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _plain(row: HandoffRow) -> Handoff:
    return Handoff(row.id, row.sender_id, row.status, row.question, row.program, row.transcript,
                   row.slack_channel, row.thread_ts)


SCHEMA_LOCK = 0x68616E64  # a PostgreSQL advisory lock id for this module's schema changes
_schema_lock = threading.Lock()


@cache
def _schema_ready(engine: Engine) -> Engine:
    """Create the tables once per engine, under the database's schema lock: every server creates
    them at start. A table made by an earlier release gains the columns and the index added since."""
    with _schema_lock, schema_lock(engine, SCHEMA_LOCK) as connection:
        Base.metadata.create_all(connection)
        _upgrade(connection)
    return engine


def _upgrade(connection: Connection) -> None:
    present = {column["name"] for column in inspect(connection).get_columns(HandoffRow.__tablename__)}
    for name in ADDED_COLUMNS:
        if name not in present:
            sql_type = HandoffRow.__table__.c[name].type.compile(dialect=connection.dialect)
            connection.execute(text(f"ALTER TABLE {HandoffRow.__tablename__} ADD COLUMN {name} {sql_type}"))
    try:
        with connection.begin_nested():
            ONE_ACTIVE_PER_CONVERSATION.create(connection, checkfirst=True)
    except IntegrityError:
        logger.exception("could not create the one-active-handoff index (duplicate active handoffs?)")


def _engine(engine: Optional[Engine]) -> Engine:
    return _schema_ready(engine or default_engine())


def open_handoff(sender_id: str, question: str, program: Optional[str], transcript: str,
                 engine: Optional[Engine] = None) -> Handoff:
    """The learner's handoff that is not closed, or a new pending one. Two requests at once cannot
    both create one: the unique index refuses the second, which then returns the first."""
    engine = _engine(engine)
    existing = active_handoff_for(sender_id, engine)
    if existing:
        return existing
    try:
        with session_scope(engine) as session:
            row = HandoffRow(sender_id=sender_id, status=PENDING, question=question, program=program,
                             transcript=transcript, attempts=0, created_at=_now())
            session.add(row)
            session.flush()
            return _plain(row)
    except IntegrityError:
        existing = active_handoff_for(sender_id, engine)
        if existing is None:
            raise
        return existing


OPENING_LOCK = 0x68616E6F  # a PostgreSQL advisory lock id: one handoff opened at a time under a cap


def open_handoff_unless_busy(sender_id: str, question: str, program: Optional[str], transcript: str,
                             since: datetime, limit: int, engine: Optional[Engine] = None) -> Optional[Handoff]:
    """The learner's handoff that is not closed, or a new pending one unless `limit` handoffs were opened
    since `since` (None then: the desk is busy). The count and the insert are one step under the
    database's lock (an advisory lock on PostgreSQL, the write lock on SQLite): forty learners asking at
    once cannot all find the desk one short of its cap."""
    engine = _engine(engine)
    table = HandoffRow.__table__
    with schema_lock(engine, OPENING_LOCK) as connection:
        active = connection.execute(select(table).where(table.c.sender_id == sender_id,
                                                        table.c.status != CLOSED)).first()
        if active is not None:
            return Handoff(active.id, active.sender_id, active.status, active.question, active.program,
                           active.transcript, active.slack_channel, active.thread_ts)
        opened = connection.scalar(select(func.count()).select_from(table).where(table.c.created_at >= since))
        if opened >= limit:
            return None
        values = {"sender_id": sender_id, "status": PENDING, "question": question, "program": program,
                  "transcript": transcript, "attempts": 0, "created_at": _now()}
        handoff_id = connection.execute(insert(table).values(**values)).inserted_primary_key[0]
    return Handoff(handoff_id, sender_id, PENDING, question, program, transcript, None, None)


def claim(handoff_id: int, engine: Optional[Engine] = None) -> bool:
    """Take a pending handoff for posting; False if someone else has it (or it is posted or closed)."""
    with session_scope(_engine(engine)) as session:
        result = session.execute(
            update(HandoffRow).where(HandoffRow.id == handoff_id, HandoffRow.status == PENDING)
            .values(status=POSTING, claimed_at=_now())
        )
        return result.rowcount == 1


def release_stale_claims(engine: Optional[Engine] = None, older_than: timedelta = STALE_CLAIM) -> int:
    """Claims whose poster died mid-post go back to pending, to be retried."""
    with session_scope(_engine(engine)) as session:
        result = session.execute(
            update(HandoffRow).where(HandoffRow.status == POSTING, HandoffRow.claimed_at < _now() - older_than)
            .values(status=PENDING)
        )
        return result.rowcount


def mark_posted(handoff_id: int, channel: str, thread_ts: str, engine: Optional[Engine] = None) -> None:
    with session_scope(_engine(engine)) as session:
        session.execute(
            update(HandoffRow).where(HandoffRow.id == handoff_id, HandoffRow.status == POSTING)
            .values(status=OPEN, slack_channel=channel, thread_ts=thread_ts, last_error=None,
                    attempts=HandoffRow.attempts + 1)
        )


def mark_failed(handoff_id: int, error: str, permanent: bool = False, engine: Optional[Engine] = None) -> None:
    """Slack did not take the post: back to pending for a retry, or closed if Slack refuses for good."""
    values = {"last_error": error[:2000], "attempts": HandoffRow.attempts + 1}
    if permanent:
        values.update(status=CLOSED, closed_at=_now(), closed_reason=SLACK_REFUSED)
    else:
        values["status"] = PENDING
    with session_scope(_engine(engine)) as session:
        session.execute(
            update(HandoffRow).where(HandoffRow.id == handoff_id, HandoffRow.status == POSTING).values(**values)
        )


def handoff_by_id(handoff_id: int, engine: Optional[Engine] = None) -> Optional[Handoff]:
    with session_scope(_engine(engine)) as session:
        row = session.get(HandoffRow, handoff_id)
        return _plain(row) if row else None


def append_to_transcript(handoff_id: int, line: str, engine: Optional[Engine] = None) -> None:
    """Keep a learner's message for a handoff that is not in Slack yet; it goes out with the post."""
    with session_scope(_engine(engine)) as session:
        row = session.get(HandoffRow, handoff_id)
        if row is not None:
            row.transcript = f"{row.transcript}\n{line}"


def pending_handoffs(engine: Optional[Engine] = None) -> List[Handoff]:
    with session_scope(_engine(engine)) as session:
        rows = session.execute(
            select(HandoffRow).where(HandoffRow.status == PENDING).order_by(HandoffRow.id)
        ).scalars()
        return [_plain(row) for row in rows]


def active_handoff_for(sender_id: str, engine: Optional[Engine] = None) -> Optional[Handoff]:
    """The learner's handoff that is not closed (pending or open), if any."""
    with session_scope(_engine(engine)) as session:
        row = session.execute(
            select(HandoffRow).where(HandoffRow.sender_id == sender_id, HandoffRow.status != CLOSED)
        ).scalars().first()
        return _plain(row) if row else None


def handoff_for_thread(channel: str, thread_ts: str, engine: Optional[Engine] = None) -> Optional[Handoff]:
    with session_scope(_engine(engine)) as session:
        row = session.execute(
            select(HandoffRow).where(HandoffRow.slack_channel == channel, HandoffRow.thread_ts == thread_ts,
                                     HandoffRow.status == OPEN)
        ).scalars().first()
        return _plain(row) if row else None


def close_handoff(handoff_id: int, reason: str = STAFF_CLOSED, engine: Optional[Engine] = None) -> bool:
    """Close a handoff; False if it was already closed (nothing to do: someone else closed it)."""
    with session_scope(_engine(engine)) as session:
        result = session.execute(
            update(HandoffRow).where(HandoffRow.id == handoff_id, HandoffRow.status != CLOSED)
            .values(status=CLOSED, closed_at=_now(), closed_reason=reason)
        )
        return result.rowcount == 1


def unanswered_since(minutes: float, engine: Optional[Engine] = None) -> List[Handoff]:
    """Handoffs not closed, opened more than `minutes` ago, that no staff member has replied to."""
    with session_scope(_engine(engine)) as session:
        answered = exists().where(StaffReplyRow.handoff_id == HandoffRow.id)
        rows = session.execute(
            select(HandoffRow).where(HandoffRow.status != CLOSED,
                                     HandoffRow.created_at < _now() - timedelta(minutes=minutes), ~answered)
            .order_by(HandoffRow.id)
        ).scalars()
        return [_plain(row) for row in rows]


def record_staff_reply(handoff: Handoff, text: str, engine: Optional[Engine] = None) -> int:
    with session_scope(_engine(engine)) as session:
        row = StaffReplyRow(handoff_id=handoff.id, sender_id=handoff.sender_id, text=text, created_at=_now())
        session.add(row)
        session.flush()
        return row.id


def claim_delivery(reply_id: int, engine: Optional[Engine] = None) -> bool:
    """Mark a staff reply delivered, once: True for the one caller that may send it, False if another
    server (or an earlier reconnect) already has. One UPDATE, so two servers cannot both win."""
    with session_scope(_engine(engine)) as session:
        claimed = session.execute(
            update(StaffReplyRow)
            .where(StaffReplyRow.id == reply_id, StaffReplyRow.delivered_at.is_(None))
            .values(delivered_at=_now())
        )
        return claimed.rowcount == 1


def undelivered_replies(sender_id: str, engine: Optional[Engine] = None) -> List[tuple]:
    """(id, text) of staff replies the learner's widget has not received yet, oldest first."""
    with session_scope(_engine(engine)) as session:
        rows = session.execute(
            select(StaffReplyRow.id, StaffReplyRow.text)
            .where(StaffReplyRow.sender_id == sender_id, StaffReplyRow.delivered_at.is_(None))
            .order_by(StaffReplyRow.id)
        ).all()
        return [(row.id, row.text) for row in rows]


def already_handled(event_id: str, engine: Optional[Engine] = None) -> bool:
    with session_scope(_engine(engine)) as session:
        return session.get(SlackEventRow, event_id) is not None


def mark_handled(event_id: str, engine: Optional[Engine] = None) -> bool:
    """Record a Slack event id once its work is done; False if it was recorded before."""
    try:
        with session_scope(_engine(engine)) as session:
            session.add(SlackEventRow(event_id=event_id, seen_at=_now()))
        return True
    except IntegrityError:
        return False


def prune_handled_events(older_than: timedelta = timedelta(days=1), engine: Optional[Engine] = None) -> int:
    """Slack retries an event within minutes; ids older than a day only take space."""
    with session_scope(_engine(engine)) as session:
        return session.execute(delete(SlackEventRow).where(SlackEventRow.seen_at < _now() - older_than)).rowcount
