"""Retention and erasure (privacy.retention) against real databases: SQLite (conversations in their own
file, as by default) and PostgreSQL (conversations and handoffs in the same schema).

The tracker store's `events` table is made by Rasa itself: conversations are saved through Rasa's
`SQLTrackerStore`, with events stamped days or months ago.
"""

import asyncio
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, inspect, select, text, update

from analytics import exports, feed, review
from analytics import store as analytics_store
from core import handoffs
from core.db import engine_for
from core.handoffs import HandoffRow, SlackEventRow, StaffReplyRow
from core.log_refs import conversation_ref
from privacy.retention import Counts, erase, purge

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAY = 24 * 3600


@pytest.fixture
def urls(database_url, tmp_path):
    """(tracker store URL, handoffs URL), laid out as core.settings does by default."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'conversations.db'}", database_url
    return database_url, database_url


@pytest.fixture
def store(urls):
    """Rasa's own SQL tracker store on the tracker URL (it creates the `events` table)."""
    tracker_store = SQLTrackerStore(Domain.empty(), host=urls[0])
    yield tracker_store
    tracker_store.engine.dispose()


def talk(store, sender_id, *days_ago):
    """A conversation saved by Rasa: a learner message and a bot answer at each of `days_ago`."""
    events = []
    for ago in days_ago:
        stamp = time.time() - ago * DAY
        events.append(UserUttered("hello", intent={"name": "greet", "confidence": 1.0}, timestamp=stamp))
        events.append(BotUttered("Hi! How can I help?", timestamp=stamp + 1))
    asyncio.run(store.save(DialogueStateTracker.from_events(sender_id, events)))


def hand_off(database_url, sender_id, days_ago=0, replies=1):
    """A handoff with staff replies, dated `days_ago`."""
    engine = engine_for(database_url)
    handoff = handoffs.open_handoff(sender_id, "can I transfer credit?", None, "transcript", engine=engine)
    for number in range(replies):
        handoffs.record_staff_reply(handoff, f"reply {number}", engine=engine)
    when = datetime.now(timezone.utc) - timedelta(days=days_ago)
    with engine.begin() as connection:
        connection.execute(update(HandoffRow.__table__).where(HandoffRow.sender_id == sender_id)
                           .values(created_at=when))
        connection.execute(update(StaffReplyRow.__table__).where(StaffReplyRow.sender_id == sender_id)
                           .values(created_at=when))
    return handoff


def slack_event(database_url, event_id, days_ago):
    engine = engine_for(database_url)
    assert handoffs.mark_handled(event_id, engine=engine)
    with engine.begin() as connection:
        connection.execute(update(SlackEventRow.__table__).where(SlackEventRow.event_id == event_id)
                           .values(seen_at=datetime.now(timezone.utc) - timedelta(days=days_ago)))


def stored(urls, sender_id):
    """(events, handoffs, staff replies) stored for a sender."""
    tracker_url, database_url = urls
    with engine_for(tracker_url).connect() as connection:
        events = connection.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"),
                                    {"s": sender_id}).scalar_one()
    with engine_for(database_url).connect() as connection:
        rows = [connection.execute(select(func.count()).select_from(model).where(model.sender_id == sender_id))
                .scalar_one() if inspect(connection).has_table(model.__tablename__) else 0
                for model in (HandoffRow, StaffReplyRow)]
    return (events, *rows)


def slack_events_seen(database_url):
    with engine_for(database_url).connect() as connection:
        return set(connection.execute(select(SlackEventRow.event_id)).scalars())


def some_conversations(urls, store):
    """Two idle conversations, one returning learner, one new learner; Slack event ids old and new."""
    database_url = urls[1]
    talk(store, "idle-with-handoff", 120, 100)
    hand_off(database_url, "idle-with-handoff", days_ago=100, replies=2)
    talk(store, "idle", 95)
    talk(store, "returning", 200, 150, 1)  # an old first event, a recent last one
    hand_off(database_url, "returning", days_ago=200)
    talk(store, "new", 0)
    hand_off(database_url, "new")
    slack_event(database_url, "Ev-old", 100)
    slack_event(database_url, "Ev-new", 1)


def test_purge_deletes_idle_conversations_and_keeps_recent_ones_whole(urls, store):
    some_conversations(urls, store)
    assert stored(urls, "idle-with-handoff") == (4, 1, 2)

    counts = purge(*urls, days=90)

    assert counts == Counts(conversations=2, events=6, handoffs=1, staff_replies=2, slack_events=1)
    assert stored(urls, "idle-with-handoff") == (0, 0, 0)
    assert stored(urls, "idle") == (0, 0, 0)
    assert stored(urls, "returning") == (6, 1, 1)  # kept whole, its 200-day-old handoff too
    assert stored(urls, "new") == (2, 1, 1)
    assert slack_events_seen(urls[1]) == {"Ev-new"}
    tracker = asyncio.run(store.retrieve_full_tracker("returning"))  # Rasa still reads what is left
    assert [event.text for event in tracker.events if isinstance(event, UserUttered)] == ["hello"] * 3

    assert purge(*urls, days=90) == Counts()  # nothing left to do; the first run did delete (above)


def test_the_retention_period_decides(urls, store):
    talk(store, "five-days", 5)
    talk(store, "two-days", 2)
    assert purge(*urls, days=3) == Counts(conversations=1, events=2)
    assert stored(urls, "five-days") == (0, 0, 0)
    assert stored(urls, "two-days") == (2, 0, 0)
    later = datetime.now(timezone.utc) + timedelta(days=10)
    assert purge(*urls, days=3, now=later).conversations == 1
    assert stored(urls, "two-days") == (0, 0, 0)


def test_handoffs_without_events_go_by_their_own_age(urls):
    """No tracker store at all here (its table or file does not exist): handoffs alone are purged."""
    hand_off(urls[1], "orphan-old", days_ago=100, replies=3)
    hand_off(urls[1], "orphan-recent", days_ago=10)

    assert purge(*urls, days=90) == Counts(conversations=1, handoffs=1, staff_replies=3)

    with engine_for(urls[1]).connect() as connection:
        senders = set(connection.execute(select(HandoffRow.sender_id)).scalars())
    assert senders == {"orphan-recent"}


def test_a_recent_staff_reply_keeps_the_conversation(urls, store):
    talk(store, "answered-late", 100)
    handoff = hand_off(urls[1], "answered-late", days_ago=100)
    handoffs.record_staff_reply(handoff, "sorry for the wait", engine=engine_for(urls[1]))  # today
    talk(store, "unanswered", 100)
    hand_off(urls[1], "unanswered", days_ago=100)

    assert purge(*urls, days=90) == Counts(conversations=1, events=2, handoffs=1, staff_replies=1)
    assert stored(urls, "answered-late") == (2, 1, 2)
    assert stored(urls, "unanswered") == (0, 0, 0)


def test_dry_run_counts_and_deletes_nothing(urls, store):
    some_conversations(urls, store)
    before = {sender: stored(urls, sender) for sender in ("idle-with-handoff", "idle", "returning", "new")}

    would = purge(*urls, days=90, dry_run=True)

    assert {sender: stored(urls, sender) for sender in before} == before
    assert slack_events_seen(urls[1]) == {"Ev-old", "Ev-new"}
    # the same counts are then really deleted: the dry run counted what a purge does
    assert would == Counts(conversations=2, events=6, handoffs=1, staff_replies=2, slack_events=1)
    assert purge(*urls, days=90) == would
    assert stored(urls, "idle") == (0, 0, 0)


def test_erase_removes_exactly_one_learner(urls, store):
    talk(store, "erase-me", 30, 0)
    hand_off(urls[1], "erase-me", replies=2)
    talk(store, "keep-me", 0)
    hand_off(urls[1], "keep-me")

    assert erase(*urls, "erase-me") == Counts(conversations=1, events=4, handoffs=1, staff_replies=2)

    assert stored(urls, "erase-me") == (0, 0, 0)
    assert stored(urls, "keep-me") == (2, 1, 1)
    assert erase(*urls, "erase-me") == Counts()  # nothing stored any more
    assert erase(*urls, "keep") == Counts()  # ids match exactly, not as prefixes
    assert stored(urls, "keep-me") == (2, 1, 1)


def reviewed_and_exported(analytics_url, out_dir, messages):
    """messages: (sender, text, label) learner messages not understood, labelled on the dashboard, exported."""
    engine = analytics_store.analytics_engine(analytics_url)
    events = []
    for sender, message, _ in messages:
        stamp = time.time() - 3600
        events += [{"event_id": len(events) + 1, "sender_id": sender, "event": "user", "timestamp": stamp,
                    "text": message, "input_channel": "socketio",
                    "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.2}, "entities": []}},
                   {"event_id": len(events) + 2, "sender_id": sender, "event": "bot", "timestamp": stamp + 1,
                    "text": "Sorry, I didn't get that."}]
    feed.ingest(engine, events)
    for number, (_, _, label) in enumerate(messages):
        review.label(engine, 2 * number + 1, *label, "USTAFF")
    return review.export(engine, out_dir)


def test_erase_takes_the_learners_messages_out_of_the_review_exports(urls, store, tmp_path):
    analytics_url, out = f"sqlite:///{tmp_path / 'analytics.db'}", tmp_path / "review"
    first = reviewed_and_exported(analytics_url, out, [
        ("erase-me", "is the mitx scm worth it for my visa", ("intent", "ask_career")),
        ("keep-me", "does it  count toward a masters", ("intent", "ask_credit")),
        ("erase-me", "can my employer pay", ("new_faq", None))])
    only_erased = out / "nlu-review-by-hand-1.yml"  # a second export holding only the erased learner's line
    only_erased.write_text(exports.render({"ask_cost": ["can my employer pay"]}, [], "2026-12-01 10:00:00 UTC"),
                           encoding="utf-8")
    unrelated = out / "notes.yml"
    unrelated.write_text("- can my employer pay\n", encoding="utf-8")

    counts = erase(*urls, "erase-me", analytics_url, out)

    assert counts.review_exports == 3 and counts.conversations == 1
    assert first.read_text(encoding="utf-8") == exports.render(
        {"ask_credit": ["does it count toward a masters"]}, [], exports.parse(first.read_text())[0])
    assert not only_erased.exists()  # nothing of it was left
    assert unrelated.read_text(encoding="utf-8") == "- can my employer pay\n"  # not an export: untouched
    assert sorted(path.name for path in out.iterdir()) == sorted([first.name, "notes.yml"])  # no temporary file
    assert erase(*urls, "erase-me", analytics_url, out) == Counts()
    assert "does it count toward a masters" in first.read_text(encoding="utf-8")


def test_purge_deletes_review_exports_older_than_the_retention(urls, tmp_path):
    out = tmp_path / "review"
    out.mkdir()
    old, new = out / "nlu-review-20260101T000000Z.yml", out / "nlu-review-20261201T000000Z.yml"
    for path in (old, new):
        path.write_text(exports.render({"ask_cost": ["how much"]}, [], "then"), encoding="utf-8")
    hundred_days_ago = time.time() - 100 * DAY
    os.utime(old, (hundred_days_ago, hundred_days_ago))
    assert purge(*urls, days=90, dry_run=True, review_dir=out).review_exports == 1 and old.exists()
    assert purge(*urls, days=90, review_dir=out).review_exports == 1
    assert not old.exists() and new.exists()


def test_empty_databases_have_nothing_to_delete(urls, nothing_stored):
    assert purge(*urls, days=90) == Counts()
    assert purge(*urls, days=90, dry_run=True) == Counts()
    assert erase(*urls, "anyone") == Counts()
    for url in urls:  # and no empty SQLite file was made on the way
        if url.startswith("sqlite"):
            assert not Path(url.removeprefix("sqlite:///")).exists()

    # the same URLs, once something old is stored, do get purged
    store = SQLTrackerStore(Domain.empty(), host=urls[0])
    try:
        talk(store, "old", 100)
        hand_off(urls[1], "old", days_ago=100)
        assert purge(*urls, days=90) == Counts(conversations=1, events=2, handoffs=1, staff_replies=1)
    finally:
        store.engine.dispose()


@pytest.fixture
def nothing_stored(urls):
    """Neither the tracker store nor the handoff tables exist yet."""
    for url in urls:
        if url.startswith("sqlite"):
            assert not Path(url.removeprefix("sqlite:///")).exists()
        else:
            with engine_for(url).connect() as connection:
                tables = text("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
                assert connection.execute(tables).scalar_one() == 0


def privacy(*args, env=None):
    environment = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "privacy", *args], cwd=PROJECT_ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_command_line(urls, store, tmp_path):
    some_conversations(urls, store)
    talk(store, "forty-days", 40)
    analytics = urls[0].replace("conversations.db", "analytics.db")  # not the checkout's var/analytics.db
    env = {"TRACKER_STORE_URL": urls[0], "DATABASE_URL": urls[1], "ANALYTICS_DATABASE_URL": analytics,
           "RETENTION_DAYS": "30"}
    exports = ["--review-dir", str(tmp_path / "review")]  # not the checkout's var/review

    dry = privacy("purge", "--dry-run", *exports, env=env)
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and "3 conversations, 8 events, 1 handoffs, 2 staff replies" in dry.stdout
    assert stored(urls, "forty-days") == (2, 0, 0)

    done = privacy("purge", *exports, env=env)  # RETENTION_DAYS=30: the 40-day-old conversation goes too
    assert done.returncode == 0, done.stderr
    assert "deleted 3 conversations, 8 events, 1 handoffs, 2 staff replies, 1 Slack event ids" in done.stdout
    assert stored(urls, "forty-days") == (0, 0, 0)

    kept = privacy("purge", "--days", "1000", *exports, env=env)  # --days wins over RETENTION_DAYS
    assert kept.returncode == 0 and "deleted 0 conversations" in kept.stdout
    assert stored(urls, "returning") == (6, 1, 1)

    erased = privacy("erase", "--sender", "returning", *exports, env=env)
    assert erased.returncode == 0, erased.stderr
    assert "erased 'returning': 1 conversations, 6 events, 1 handoffs, 1 staff replies" in erased.stdout
    assert f"log lines name this conversation {conversation_ref('returning')}" in erased.stdout
    assert stored(urls, "returning") == (0, 0, 0)

    nothing = privacy("erase", "--sender", "returning", *exports, env=env)
    assert nothing.returncode == 0 and "nothing stored for 'returning'" in nothing.stdout
    assert stored(urls, "new") == (2, 1, 1)


@pytest.mark.parametrize("args, env, code, message", [
    (["purge"], {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x", "TRACKER_STORE_URL": ""}, 1,
     "Connection refused"),
    (["erase", "--sender", "x"], {"TRACKER_STORE_URL": "postgresql://nobody@127.0.0.1:1/x"}, 1,
     "Connection refused"),
    (["purge", "--days", "0"], {}, 2, "at least 1 day"),
    (["purge", "--days", "soon"], {}, 2, "not a whole number"),
    (["purge"], {"RETENTION_DAYS": "ninety"}, 2, "RETENTION_DAYS"),
    (["erase"], {}, 2, "--sender"),
    (["erase", "--sender", " "], {}, 2, "empty"),
    ([], {}, 2, "required"),
])
def test_command_line_errors_are_one_line(tmp_path, args, env, code, message):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
           "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'conversations.db'}", **env}
    result = privacy(*args, env=env)
    assert result.returncode == code
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
