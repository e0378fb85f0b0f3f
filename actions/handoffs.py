"""Handoffs from the assistant to the support team: what is open, where its Slack thread is, what
staff said that a learner has not seen yet, and which Slack events were already handled.

Shared by the action server (which opens handoffs) and the Rasa server's channels (which relay
messages both ways), through the database at DATABASE_URL.
"""

import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from typing import List, Optional

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import declarative_base

from actions.db import default_engine, session_scope

Base = declarative_base()

PENDING, OPEN, CLOSED = "pending", "open", "closed"


class HandoffRow(Base):
    __tablename__ = "handoffs"
    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    status = Column(String(10), nullable=False)  # pending (not yet in Slack), open, closed
    question = Column(Text, nullable=False)
    program = Column(Text)
    transcript = Column(Text, nullable=False)
    slack_channel = Column(String(40))
    thread_ts = Column(String(40), index=True)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text)
    created_at = Column(DateTime(timezone=True), nullable=False)
    closed_at = Column(DateTime(timezone=True))


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


_schema_lock = threading.Lock()


@cache
def _schema_ready(engine: Engine) -> Engine:
    """Create the tables once per engine; another process may be creating them at the same moment."""
    with _schema_lock:
        try:
            Base.metadata.create_all(engine)
        except (OperationalError, ProgrammingError):
            Base.metadata.create_all(engine)  # they exist now: this only checks
    return engine


def _engine(engine: Optional[Engine]) -> Engine:
    return _schema_ready(engine or default_engine())


def open_handoff(sender_id: str, question: str, program: Optional[str], transcript: str,
                 engine: Optional[Engine] = None) -> Handoff:
    """The learner's open (or still pending) handoff, or a new pending one."""
    with session_scope(_engine(engine)) as session:
        existing = session.execute(
            select(HandoffRow).where(HandoffRow.sender_id == sender_id, HandoffRow.status != CLOSED)
        ).scalars().first()
        if existing:
            return _plain(existing)
        row = HandoffRow(sender_id=sender_id, status=PENDING, question=question, program=program,
                         transcript=transcript, attempts=0, created_at=_now())
        session.add(row)
        session.flush()
        return _plain(row)


def mark_posted(handoff_id: int, channel: str, thread_ts: str, engine: Optional[Engine] = None) -> None:
    with session_scope(_engine(engine)) as session:
        session.execute(
            update(HandoffRow).where(HandoffRow.id == handoff_id)
            .values(status=OPEN, slack_channel=channel, thread_ts=thread_ts, last_error=None,
                    attempts=HandoffRow.attempts + 1)
        )


def mark_failed(handoff_id: int, error: str, engine: Optional[Engine] = None) -> None:
    with session_scope(_engine(engine)) as session:
        session.execute(
            update(HandoffRow).where(HandoffRow.id == handoff_id)
            .values(last_error=error[:2000], attempts=HandoffRow.attempts + 1)
        )


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


def close_handoff(handoff_id: int, engine: Optional[Engine] = None) -> bool:
    """Close an open handoff; False if it was not open (already closed: nothing to do)."""
    with session_scope(_engine(engine)) as session:
        result = session.execute(
            update(HandoffRow).where(HandoffRow.id == handoff_id, HandoffRow.status != CLOSED)
            .values(status=CLOSED, closed_at=_now())
        )
        return result.rowcount == 1


def record_staff_reply(handoff: Handoff, text: str, engine: Optional[Engine] = None) -> int:
    with session_scope(_engine(engine)) as session:
        row = StaffReplyRow(handoff_id=handoff.id, sender_id=handoff.sender_id, text=text, created_at=_now())
        session.add(row)
        session.flush()
        return row.id


def mark_delivered(reply_ids: List[int], engine: Optional[Engine] = None) -> None:
    if not reply_ids:
        return
    with session_scope(_engine(engine)) as session:
        session.execute(update(StaffReplyRow).where(StaffReplyRow.id.in_(reply_ids)).values(delivered_at=_now()))


def undelivered_replies(sender_id: str, engine: Optional[Engine] = None) -> List[tuple]:
    """(id, text) of staff replies the learner's widget has not received yet, oldest first."""
    with session_scope(_engine(engine)) as session:
        rows = session.execute(
            select(StaffReplyRow.id, StaffReplyRow.text)
            .where(StaffReplyRow.sender_id == sender_id, StaffReplyRow.delivered_at.is_(None))
            .order_by(StaffReplyRow.id)
        ).all()
        return [(row.id, row.text) for row in rows]


def first_time_seen(event_id: str, engine: Optional[Engine] = None) -> bool:
    """Record a Slack event id; False if it was handled before (a retry)."""
    try:
        with session_scope(_engine(engine)) as session:
            session.add(SlackEventRow(event_id=event_id, seen_at=_now()))
        return True
    except IntegrityError:
        return False
