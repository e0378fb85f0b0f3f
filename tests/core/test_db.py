"""SQLite engines keep their connections open between units of work, and reopen the file when it was
moved away, removed or replaced meanwhile (a kept connection would go on reading the old file)."""

import shutil

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from core.db import sqlite_engine


def fact(engine) -> str:
    with engine.connect() as connection:
        return connection.execute(text("SELECT value FROM facts")).scalar()


def write(path, value) -> None:
    engine = sqlite_engine(make_url(f"sqlite:///{path}"))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS facts (value TEXT)"))
        connection.execute(text("DELETE FROM facts"))
        connection.execute(text("INSERT INTO facts VALUES (:value)"), {"value": value})
    engine.dispose()


def test_connections_are_kept_between_units_of_work(tmp_path):
    write(tmp_path / "catalog.db", "kept")
    engine = sqlite_engine(make_url(f"sqlite:///{tmp_path / 'catalog.db'}"))
    opened = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    assert [fact(engine) for _ in range(5)] == ["kept"] * 5
    assert len(opened) == 1


def test_a_replaced_file_is_read_anew_and_a_removed_one_is_not_read_from_memory(tmp_path):
    path = tmp_path / "catalog.db"
    write(path, "old")
    engine = sqlite_engine(make_url(f"sqlite:///{path}"))
    assert fact(engine) == "old"

    write(tmp_path / "restored.db", "restored")
    shutil.move(tmp_path / "restored.db", path)  # a restored copy moved into place: another file
    assert fact(engine) == "restored"

    shutil.move(path, tmp_path / "away.db")
    with pytest.raises(OperationalError, match="no such table"):  # opened anew: empty, as with no kept connection
        fact(engine)
