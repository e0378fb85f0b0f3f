"""Engines and sessions: one engine per database URL, one session per unit of work."""

import os
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from core import settings

CONNECT_TIMEOUT_SECONDS = 3


@cache
def engine_for(url: str) -> Engine:
    """A (cached) engine for a database URL; SQLite files get their folder created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sqlite_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A database server that is down must fail a request within seconds, not hang it.
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)


def sqlite_engine(url: URL, future: bool = True) -> Engine:
    """An engine for a SQLite database that keeps its connections open between units of work.

    SQLAlchemy 1.4 opens and closes a SQLite file's connection for every unit of work (its NullPool;
    2.0 pools them): with the connect-time pragmas, that was a fifth of a turn's database time. The
    pool's connections are handed to one thread at a time, so sqlite3's same-thread check is off.
    `future=False` for Rasa's tracker store, whose code is written for 1.4's engine."""
    if url.database in (None, "", ":memory:"):
        return create_engine(url, future=future)
    engine = create_engine(url, future=future, poolclass=QueuePool, connect_args={"check_same_thread": False})
    _reopen_when_the_file_changes(engine, url.database)
    return engine


def _file_identity(path: str) -> Optional[tuple]:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _reopen_when_the_file_changes(engine: Engine, path: str) -> None:
    """A kept connection reads the file it opened: if the file was since moved away, deleted or replaced
    (a restored copy), it would go on reading the old one. Each checkout compares the file with the one
    the connection opened and, when they differ, the pool drops the connection and opens the file anew,
    as a fresh connection per unit of work did."""

    def remember(_dbapi_connection, record) -> None:
        record.info["file"] = _file_identity(path)

    def same_file(_dbapi_connection, record, _proxy) -> None:
        if record.info.get("file") != _file_identity(path):
            raise DisconnectionError(f"{path} was moved, removed or replaced since it was opened")

    event.listen(engine, "connect", remember)
    event.listen(engine, "checkout", same_file)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def default_engine() -> Engine:
    return engine_for(settings.database_url())


@contextmanager
def session_scope(engine: Optional[Engine] = None) -> Iterator[Session]:
    """A session for one unit of work: committed on success, rolled back on error."""
    session = Session(engine or default_engine(), future=True)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def schema_lock(engine: Engine, lock_id: int) -> Iterator[Connection]:
    """A connection whose transaction holds the database's lock for schema changes.

    Processes that start together (the servers, the feed, the dashboard) each create their tables
    if missing. create_all looks, then creates: two processes can both find a table missing, and the
    second CREATE fails. Inside this lock the look and the create are one step. PostgreSQL takes an
    advisory lock (`lock_id`) until the transaction ends; SQLite takes the file's write lock with
    BEGIN IMMEDIATE, and other starters wait for it on the busy timeout. Committed on success."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
        yield connection
        connection.commit()
