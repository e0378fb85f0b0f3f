"""Data retention and erasure: learners' conversations are deleted once idle, or on request.

    python -m privacy purge [--days N] [--dry-run]   # conversations idle more than N days
    python -m privacy erase --sender SENDER_ID       # one learner's conversation, now

A conversation is everything stored under one sender id (the learner's conversation id): its rows
in Rasa's tracker store (table `events` at TRACKER_STORE_URL), its handoffs and staff replies (tables
`handoffs` and `handoff_staff_replies` at DATABASE_URL), and its rows in the support team's analytics
(ANALYTICS_DATABASE_URL: the text of unanswered questions, feedback comments), and its messages in the
review exports (var/review/nlu-review-*.yml, `make review-export`). `purge` deletes a
conversation only when nothing in it is recent: its last event, and the last activity of its handoffs
and staff replies, are all older than N days (a conversation with one recent event is kept whole;
handoffs whose events are already gone are deleted by their own age). It also forgets the Slack event
ids (`slack_events_seen`) and the analytics rows older than N days (the dashboard's numbers for those
days go with them), and the review export files written before then.

Log files hold no conversation id: a log line names a conversation by a reference (`core.log_refs`,
a hash), which `erase` prints so its lines can be found; `make run`'s logs rotate at 10 MB, two kept.

| variable | default | meaning |
|---|---|---|
| RETENTION_DAYS | 90 | `purge` deletes conversations idle longer than this many days |

Each database is changed in one transaction (one in all when both URLs are the same database), so
a failure leaves nothing half-deleted in it; the two databases cannot share a transaction, and
running the command again finishes what a failure between them left. Tables that do not exist yet
(nobody has talked to the assistant) and SQLite files that do not exist mean nothing to delete.

Rasa is not imported (it is slow to load): its `events` table is described here with the columns
used, which are those of `rasa.core.tracker_store.SQLTrackerStore.SQLEvent` in Rasa 3.6.
"""

import argparse
import sys
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from sqlalchemy import Float, Integer, String, and_, column, delete, exists, func, inspect, or_, select, table
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from analytics import exports
from analytics import store as analytics_store
from core import settings
from core.db import engine_for
from core.handoffs import HandoffRow, SlackEventRow, StaffReplyRow
from core.log_refs import conversation_ref

CHUNK = 500  # sender ids per statement: well below SQLite's limit on bound parameters

# Rasa's SQLTrackerStore table: `timestamp` is a float, unix seconds (UTC), and may be NULL.
EVENTS = table("events", column("id", Integer), column("sender_id", String), column("timestamp", Float))
HANDOFFS = HandoffRow.__table__
REPLIES = StaffReplyRow.__table__
SLACK_EVENTS = SlackEventRow.__table__


@dataclass
class Counts:
    """What was (or, in a dry run, would be) deleted."""

    conversations: int = 0
    events: int = 0
    handoffs: int = 0
    staff_replies: int = 0
    slack_events: int = 0
    analytics_events: int = 0
    review_exports: int = 0  # purge: export files; erase: lines taken out of them

    def describe(self, slack_events: bool = True) -> str:
        text = (f"{self.conversations} conversations, {self.events} events, {self.handoffs} handoffs, "
                f"{self.staff_replies} staff replies")
        text = f"{text}, {self.slack_events} Slack event ids" if slack_events else text
        exports = "review export files" if slack_events else "lines of review exports"
        return f"{text}, {self.analytics_events} analytics rows, {self.review_exports} {exports}"


def purge(tracker_url: str, database_url: str, days: int, now: Optional[datetime] = None,
          dry_run: bool = False, analytics_url: Optional[str] = None,
          review_dir: Path = exports.DEFAULT_OUT_DIR) -> Counts:
    """Delete the conversations idle for more than `days` days, and Slack event ids that old."""
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    cutoff = now - timedelta(days=days)
    counts = Counts()
    with _connections(tracker_url, database_url) as (events_db, handoffs_db):
        has_events = _has_table(events_db, "events")
        has_handoffs = _has_table(handoffs_db, "handoffs")
        has_replies = has_handoffs and _has_table(handoffs_db, "handoff_staff_replies")

        candidates: Set[str] = set()
        keep: Set[str] = set()
        if has_events:
            candidates |= _old_senders(events_db, cutoff)
            keep |= _recent_event_senders(events_db, cutoff)
        if has_handoffs:
            candidates |= _scalars(handoffs_db, select(HANDOFFS.c.sender_id).distinct())
            keep |= _scalars(handoffs_db, select(HANDOFFS.c.sender_id).where(_recent_handoff(HANDOFFS, cutoff)))
        if has_replies:
            candidates |= _scalars(handoffs_db, select(REPLIES.c.sender_id).distinct())
            keep |= _scalars(handoffs_db, select(REPLIES.c.sender_id).where(_recent_reply(REPLIES, cutoff)))

        for chunk in _chunks(sorted(candidates - keep)):
            deleted: Set[str] = set()
            if has_events:
                condition = and_(EVENTS.c.sender_id.in_(chunk), ~_has_recent_events(cutoff))
                deleted |= _scalars(events_db, select(EVENTS.c.sender_id).where(condition).distinct())
                counts.events += _delete(events_db, EVENTS, condition, dry_run)
            if has_handoffs:
                condition = and_(HANDOFFS.c.sender_id.in_(chunk), ~_has_recent_handoff_activity(cutoff, has_replies))
                deleted |= _scalars(handoffs_db, select(HANDOFFS.c.sender_id).where(condition).distinct())
                counts.staff_replies += _delete_replies(handoffs_db, condition, has_replies, dry_run)
                counts.handoffs += _delete(handoffs_db, HANDOFFS, condition, dry_run)
            counts.conversations += len(deleted)

        if _has_table(handoffs_db, "slack_events_seen"):
            counts.slack_events = _delete(handoffs_db, SLACK_EVENTS, SLACK_EVENTS.c.seen_at < cutoff, dry_run)
    if analytics_url and _exists(analytics_url):
        counts.analytics_events = analytics_store.forget_before(engine_for(analytics_url), cutoff.timestamp(),
                                                                dry_run)
    counts.review_exports = exports.forget_exports_before(cutoff.timestamp(), review_dir, dry_run)
    return counts


def erase(tracker_url: str, database_url: str, sender_id: str, analytics_url: Optional[str] = None,
          review_dir: Path = exports.DEFAULT_OUT_DIR) -> Counts:
    """Delete everything stored for one learner's conversation, however recent. Its lines in the review
    exports go first, while the analytics rows still say which they are: a failure later leaves rows that
    a second run finds again."""
    counts = Counts()
    if analytics_url and _exists(analytics_url) and _has_table(engine_for(analytics_url), "analytics_reviews"):
        texts = exports.exported_texts(engine_for(analytics_url), [sender_id])
        counts.review_exports = exports.remove_from_exports(texts, review_dir)
    with _connections(tracker_url, database_url) as (events_db, handoffs_db):
        if _has_table(events_db, "events"):
            counts.events = _delete(events_db, EVENTS, EVENTS.c.sender_id == sender_id)
        if _has_table(handoffs_db, "handoffs"):
            condition = HANDOFFS.c.sender_id == sender_id
            counts.staff_replies = _delete_replies(
                handoffs_db, condition, _has_table(handoffs_db, "handoff_staff_replies"), False, sender_id)
            counts.handoffs = _delete(handoffs_db, HANDOFFS, condition)
    if analytics_url and _exists(analytics_url):
        counts.analytics_events = analytics_store.forget_conversations(engine_for(analytics_url), [sender_id])
    counts.conversations = int(bool(counts.events or counts.handoffs or counts.staff_replies
                                    or counts.analytics_events or counts.review_exports))
    return counts


# --- queries ---------------------------------------------------------------------------------------

def _old_senders(connection: Connection, cutoff: datetime) -> Set[str]:
    """Senders whose last event is older than the cutoff."""
    return _scalars(connection, select(EVENTS.c.sender_id).group_by(EVENTS.c.sender_id)
                    .having(func.max(EVENTS.c.timestamp) < cutoff.timestamp()))


def _recent_event_senders(connection: Connection, cutoff: datetime) -> Set[str]:
    return _scalars(connection, select(EVENTS.c.sender_id).where(EVENTS.c.timestamp >= cutoff.timestamp())
                    .distinct())


def _recent_handoff(handoffs, cutoff: datetime):
    return or_(handoffs.c.created_at >= cutoff, handoffs.c.closed_at >= cutoff)


def _recent_reply(replies, cutoff: datetime):
    return or_(replies.c.created_at >= cutoff, replies.c.delivered_at >= cutoff)


def _has_recent_events(cutoff: datetime):
    """Checked again in the DELETE itself: a learner who came back meanwhile keeps everything."""
    recent = EVENTS.alias("recent")
    return exists().where(recent.c.sender_id == EVENTS.c.sender_id, recent.c.timestamp >= cutoff.timestamp())


def _has_recent_handoff_activity(cutoff: datetime, has_replies: bool):
    recent = HANDOFFS.alias("recent")
    condition = exists().where(recent.c.sender_id == HANDOFFS.c.sender_id, _recent_handoff(recent, cutoff))
    if has_replies:
        replies = REPLIES.alias("recent_replies")
        condition = or_(condition, exists().where(replies.c.sender_id == HANDOFFS.c.sender_id,
                                                  _recent_reply(replies, cutoff)))
    return condition


def _delete_replies(connection: Connection, handoff_condition, has_replies: bool, dry_run: bool,
                    sender_id: Optional[str] = None) -> int:
    """Staff replies go first: each belongs to a handoff (a foreign key)."""
    if not has_replies:
        return 0
    condition = REPLIES.c.handoff_id.in_(select(HANDOFFS.c.id).where(handoff_condition))
    if sender_id is not None:
        condition = or_(condition, REPLIES.c.sender_id == sender_id)
    return _delete(connection, REPLIES, condition, dry_run)


def _delete(connection: Connection, target, condition, dry_run: bool = False) -> int:
    if dry_run:
        return connection.execute(select(func.count()).select_from(target).where(condition)).scalar_one()
    return connection.execute(delete(target).where(condition)).rowcount


def _scalars(connection: Connection, statement) -> Set[str]:
    return set(connection.execute(statement).scalars())


def _chunks(items: Sequence[str]) -> Iterable[List[str]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start:start + CHUNK])


def _has_table(connection: Optional[Connection], name: str) -> bool:
    return connection is not None and inspect(connection).has_table(name)


def _exists(url: str) -> bool:
    """False for a SQLite file that is not there: nothing stored, and no empty file to create."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return Path(parsed.database).is_file()
    return True


@contextmanager
def _connections(tracker_url: str, database_url: str) -> Iterator[Tuple[Optional[Connection], Optional[Connection]]]:
    """A transaction in the tracker store and one in the handoffs database (the same one if they are the
    same database); None for a SQLite file that does not exist. Committed together when all went well."""
    with ExitStack() as stack:
        events_db = stack.enter_context(engine_for(tracker_url).begin()) if _exists(tracker_url) else None
        if make_url(database_url) == make_url(tracker_url):
            handoffs_db = events_db
        else:
            handoffs_db = stack.enter_context(engine_for(database_url).begin()) if _exists(database_url) else None
        yield events_db, handoffs_db


# --- command line ----------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2 (argparse prints the whole usage)
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {value!r}") from None
    if days < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 day, not {days}")
    return days


def _sender(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("the sender id is empty")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m privacy",
                     description="Delete learners' stored conversations (tracker store and handoffs).")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    purge_cmd = commands.add_parser("purge", help="delete conversations idle for more than N days")
    purge_cmd.add_argument("--days", type=_days, default=None,
                           help="idle days (default: RETENTION_DAYS, else 90)")
    purge_cmd.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")
    erase_cmd = commands.add_parser("erase", help="delete one learner's conversation")
    erase_cmd.add_argument("--sender", type=_sender, required=True, help="the conversation (sender) id")
    for command in (purge_cmd, erase_cmd):
        command.add_argument("--review-dir", type=Path, default=exports.DEFAULT_OUT_DIR,
                             help=f"the review exports' folder (default {exports.DEFAULT_OUT_DIR})")
    return parser


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__


def main(argv: Optional[List[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    tracker_url, database_url = settings.tracker_store_url(), settings.database_url()
    try:
        if args.command == "purge":
            try:
                days = args.days if args.days is not None else settings.retention_days()
            except ValueError as error:
                parser.error(str(error))
            counts = purge(tracker_url, database_url, days, dry_run=args.dry_run,
                           analytics_url=settings.analytics_database_url(), review_dir=args.review_dir)
            verb = "would delete (dry run, nothing deleted)" if args.dry_run else "deleted"
            print(f"conversations idle for more than {days} days: {verb} {counts.describe()}")
        else:
            counts = erase(tracker_url, database_url, args.sender, settings.analytics_database_url(),
                           args.review_dir)
            if counts.conversations:
                print(f"erased {args.sender!r}: {counts.describe(slack_events=False)}")
                print(f"log lines name this conversation {conversation_ref(args.sender)} (never its id); "
                      "they go as the logs rotate")
            else:
                print(f"nothing stored for {args.sender!r}")
    except ArgumentError as error:
        print(f"error: bad database URL: {_first_line(error)}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        where = {_safe(tracker_url), _safe(database_url), _safe(settings.analytics_database_url())}
        print(f"error: database {' / '.join(sorted(where))}: {_first_line(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
