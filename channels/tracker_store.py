"""Rasa's SQL tracker store, with the cost of a turn kept flat as the conversation grows.

Rasa 3.6's SQLTrackerStore, on every message, loads every event of the conversation's session and
replays them into a new tracker; to save, it counts the stored events with a query and, when an event
broker is configured, loads and replays the whole conversation a second time to find the events to
publish. All of that grows with the conversation.

This store:
- remembers, on each tracker it hands out, how many of its events are stored: a turn's new events are
  the ones after that, inserted in one statement and published without reading anything back;
- keeps the trackers it saved in memory (least recently used first out), and on the next message reads
  only the events stored after the one it last saw. Those are the events another Rasa server added
  meanwhile (the conversation moved), applied the way Rasa replays them. If the last event it saw is
  gone (the conversation was erased) or a new session started elsewhere, it loads the conversation
  the way Rasa does.

- hands out trackers that keep only the last TRACKER_EVENT_WINDOW events (default 100, Rasa's own
  `max_event_history`): slots, pauses and the rest of the state still come from every event, but the
  policies, which read a tracker's whole history on every prediction, read a window of the last
  turns. The database keeps every event.

All of this rests on one conversation being handled by one server at a time (Rasa's lock store;
`channels.lock_store` across servers). A tracker this store did not hand out is saved the way Rasa saves
it, except a new conversation's (nothing was stored for it when it was looked up): all its events are new.

A turn's events are inserted with one statement built (and so compiled) once. Configured in endpoints.yml
and deploy/cluster/endpoints.yml as `channels.tracker_store.IncrementalSQLTrackerStore`;
TRACKER_CACHE_SIZE (1000) conversations are kept.

A bad conversation id never ends the process. Rasa's `session_scope` took any ValueError raised inside
it for a missing PostgreSQL schema and exited; a sender id with a lone surrogate (SQLite cannot encode
it) or a NUL (PostgreSQL refuses it) raises one, so one anonymous request stopped the server. Here only
the schema check exits; any other error is that call's error.
Replaces: `rasa.core.tracker_store:SQLTrackerStore.session_scope`, relying on
`rasa.core.tracker_store:ensure_schema_exists` (checked against Rasa 3.6.21).
"""

import asyncio
import contextlib
import itertools
import json
from collections import deque
from typing import Iterator, List, Optional, Sequence, Tuple

from cachetools import LRUCache
from rasa.core.tracker_store import SQLTrackerStore, ensure_schema_exists
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.shared.utils.cli import print_error_and_exit
from sqlalchemy import bindparam, func, insert, or_, select
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session, sessionmaker

from channels.group_commit import GroupCommitWriter, Turn
from core import settings
from core.db import sqlite_engine

REPLACES = {
    "rasa.core.tracker_store:SQLTrackerStore.session_scope": {
        "signature": "(self) -> \"Generator['Session', None, None]\"",
        "sha256": "6775e1ede3ec8d2d1ba466d06c850b44201630347ccde7f91c33d3c1a2554818",
    },
    "rasa.core.tracker_store:ensure_schema_exists": {
        "signature": "(session: \"'Session'\") -> 'None'",
        "sha256": "deb85efe22aad4a510c15eca788fd4f10b45ee7912f70591f4c2626e82fefe22",
    },
}
STORED_EVENTS = "_micromasters_stored_events"  # on trackers this store handed out or saved
LAST_EVENT_ID = "_micromasters_last_event_id"  # the id of the last stored event the tracker holds
LEAST_WINDOW = 50  # a turn adds about ten events; the window must hold a whole turn with room to spare


class CountedEvents(deque):
    """A tracker's events (the last `maxlen`), counting every event ever appended: the turn's new events
    are the last `appended - stored` ones, however many old ones the window let go."""

    def __init__(self, events=(), maxlen=None, appended=0):
        super().__init__(events, maxlen)
        self.appended = appended

    def append(self, event) -> None:
        super().append(event)
        self.appended += 1

    def extend(self, events) -> None:
        for event in events:
            self.append(event)

    def __copy__(self) -> "CountedEvents":
        return CountedEvents(self, self.maxlen, self.appended)


def _windowed(tracker: DialogueStateTracker, window: int) -> DialogueStateTracker:
    tracker.events = CountedEvents(tracker.events, window, appended=len(tracker.events))
    return tracker


class IncrementalSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            self._pooled_write_ahead_log()
        self._writer = GroupCommitWriter(self._insert_turns)
        self._saved: LRUCache = LRUCache(maxsize=settings.tracker_cache_size())
        # Conversations just found to have nothing stored: Rasa creates their tracker next and saves it,
        # all of its events new (the lock store keeps other servers off the conversation meanwhile).
        self._nothing_stored: LRUCache = LRUCache(maxsize=settings.tracker_cache_size())
        self.window = max(LEAST_WINDOW, settings.tracker_event_window())
        events = self.SQLEvent.__table__
        self._insert_statement = insert(events)
        self._insert_returning_ids = insert(events).returning(events.c.id)
        self._since_statement = (select(events.c.id, events.c.type_name, events.c.data)
                                 .where(events.c.sender_id == bindparam("sender_id"),
                                        events.c.id >= bindparam("last_id"))
                                 .order_by(events.c.id))
        session_start = (select(func.max(events.c.timestamp))
                         .where(events.c.sender_id == bindparam("sender_id"),
                                events.c.type_name == SessionStarted.type_name)
                         .scalar_subquery())
        self._session_statement = (select(events.c.id, events.c.data)
                                   .where(events.c.sender_id == bindparam("sender_id"),
                                          or_(events.c.timestamp >= session_start, session_start.is_(None)))
                                   .order_by(events.c.id))
        self._last_id_statement = select(func.max(events.c.id)).where(events.c.sender_id == bindparam("sender_id"))

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Session]:
        """Rasa's session scope, exiting only when the configured PostgreSQL schema is missing."""
        session = self.sessionmaker()
        try:
            try:
                ensure_schema_exists(session)
            except ValueError as missing:
                print_error_and_exit(f"The PostgreSQL schema '{missing}' (POSTGRESQL_SCHEMA) is not in the database: "
                                     "create it, or unset POSTGRESQL_SCHEMA to use the default schema.")
            yield session
        finally:
            session.close()

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The conversation's tracker; database work runs in a worker thread, off the server's event loop."""
        tracker = self._saved.pop(sender_id, None)  # taken: a turn that fails before its save leaves nothing
        if tracker is not None:
            tracker = self._caught_up(tracker, await asyncio.to_thread(
                self._rows_since, sender_id, getattr(tracker, LAST_EVENT_ID)))
        if tracker is None:
            loaded = await asyncio.to_thread(self._load, sender_id)
            if loaded is None:
                self._nothing_stored[sender_id] = True
                return None
            events, last_id = loaded
            tracker = _windowed(DialogueStateTracker.from_dict(sender_id, events, self.domain.slots, self.window),
                                self.window)
            setattr(tracker, LAST_EVENT_ID, last_id)
        setattr(tracker, STORED_EVENTS, tracker.events.appended)
        self._nothing_stored.pop(sender_id, None)
        return tracker

    def _load(self, sender_id: str) -> Optional[Tuple[List[dict], int]]:
        """The events of the conversation's latest session, as Rasa's SQL tracker store reads them (the
        events from the latest SessionStarted on, or all when there is none)."""
        with self.engine.connect() as connection:
            rows = connection.execute(self._session_statement, {"sender_id": sender_id}).all()
        if not rows or not self.domain:
            return None
        return [json.loads(row.data) for row in rows], rows[-1].id

    def _rows_since(self, sender_id: str, last_seen: Optional[int]) -> list:
        if last_seen is None:
            return []
        with self.engine.connect() as connection:
            return connection.execute(self._since_statement, {"sender_id": sender_id, "last_id": last_seen}).all()

    @staticmethod
    def _caught_up(tracker: DialogueStateTracker, rows: list) -> Optional[DialogueStateTracker]:
        """The kept tracker with the events stored after it (another server's turns), or None when it must
        be loaded afresh: the last event it saw is gone (erased), or a new session started."""
        if not rows or rows[0].id != getattr(tracker, LAST_EVENT_ID):
            return None
        if any(row.type_name == SessionStarted.type_name for row in rows[1:]):
            return None
        for event in deserialise_events([json.loads(row.data) for row in rows[1:]]):
            tracker.update(event)
        setattr(tracker, LAST_EVENT_ID, rows[-1].id)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        stored = getattr(tracker, STORED_EVENTS, None)
        if stored is None or not isinstance(tracker.events, CountedEvents):
            # A tracker this store did not hand out: it has every event, and its new ones are those after the
            # ones stored, found the way Rasa finds them; for a new conversation, all of them.
            nothing_stored = self._nothing_stored.pop(tracker.sender_id, False)
            if nothing_stored:
                new_events = list(tracker.events)
            else:
                new_events = await asyncio.to_thread(self._unstored_events, tracker)
            last_id = await self._store(tracker.sender_id, new_events)
            _windowed(tracker, self.window)
            setattr(tracker, STORED_EVENTS, tracker.events.appended)
            # Rasa's processor saves a new conversation's tracker before it has events: then there is
            # no last id to ask the database for.
            if last_id is None and not nothing_stored and not hasattr(tracker, LAST_EVENT_ID):
                last_id = await asyncio.to_thread(self._last_event_id, tracker.sender_id)
            if last_id is not None:
                setattr(tracker, LAST_EVENT_ID, last_id)
            return  # not kept yet: a new tracker goes on into its first turn, and is kept after it
        new_count = tracker.events.appended - stored
        if new_count > len(tracker.events):
            raise ValueError(f"conversation {tracker.sender_id}: {new_count} new events in one turn, more than "
                             f"TRACKER_EVENT_WINDOW ({self.window}) keeps")
        new_events = list(itertools.islice(tracker.events, len(tracker.events) - new_count, None))
        last_id = await self._store(tracker.sender_id, new_events)
        if last_id is not None:
            setattr(tracker, LAST_EVENT_ID, last_id)
        setattr(tracker, STORED_EVENTS, tracker.events.appended)
        if any(isinstance(event, SessionStarted) for event in new_events):
            self._saved.pop(tracker.sender_id, None)  # a new session: next time, load it as Rasa would
        else:
            self._saved[tracker.sender_id] = tracker  # at rest until the next message takes it

    def _unstored_events(self, tracker: DialogueStateTracker) -> List[Event]:
        with self.session_scope() as session:
            return list(self._additional_events(session, tracker))

    async def _store(self, sender_id: str, events: List[Event]) -> Optional[int]:
        """Insert the events, then publish each with the id it was stored under (`event_id`): the analytics
        feed counts an event once by that id, whichever way it arrives. Returns the last id."""
        if not events:
            return None
        serialised = [event.as_dict() for event in events]
        rows = [self._row(sender_id, event, data) for event, data in zip(events, serialised, strict=True)]
        ids = await self._writer.write(sender_id, rows)
        if self.event_broker is not None:
            for data, event_id in zip(serialised, ids, strict=True):
                self.event_broker.publish({"sender_id": sender_id, **data, "event_id": event_id})
        return ids[-1]

    def _pooled_write_ahead_log(self) -> None:
        """SQLite (the embedded default): connections kept open (`core.db.sqlite_engine`), in write-ahead-log
        mode: a commit writes and syncs the log once instead of a rollback journal and the database
        (0.9 ms to 0.3 ms a commit here), and readers of other conversations no longer wait for a writer.
        Still synced at every commit (`synchronous=FULL`): a committed turn survives a power cut. The
        mode is kept in the file; the sync level is per connection, set on each new one."""
        def on_connect(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        self.engine.dispose()
        self.engine = sqlite_engine(self.engine.url, future=False)
        sqlalchemy_event.listen(self.engine, "connect", on_connect)
        self.sessionmaker = sessionmaker(bind=self.engine)

    def _insert_turns(self, turns: Sequence[Turn]) -> List[List[int]]:
        """Insert turns' events in one transaction (`channels.group_commit`), each turn's in one statement
        (psycopg2 sends an executemany as one INSERT ... VALUES, RETURNING the ids; SQLite inserts them
        under its single-writer lock, so their ids are consecutive); each turn's ids, in order."""
        with self.engine.begin() as connection:
            return [self._insert_turn(connection, sender_id, rows) for sender_id, rows in turns]

    def _insert_turn(self, connection, sender_id: str, rows: List[dict]) -> List[int]:
        if connection.dialect.name == "postgresql":
            return sorted(connection.execute(self._insert_returning_ids, rows).scalars())
        connection.execute(self._insert_statement, rows)
        if connection.dialect.name == "sqlite":
            last_id = connection.exec_driver_sql("SELECT last_insert_rowid()").scalar()
        else:
            last_id = connection.execute(self._last_id_statement, {"sender_id": sender_id}).scalar()
        return list(range(last_id - len(rows) + 1, last_id + 1))

    def _last_event_id(self, sender_id: str) -> Optional[int]:
        with self.engine.connect() as connection:
            return connection.execute(self._last_id_statement, {"sender_id": sender_id}).scalar()

    @staticmethod
    def _row(sender_id: str, event: Event, data: dict) -> dict:
        return {"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                "action_name": data.get("name"), "data": json.dumps(data)}
