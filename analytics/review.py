"""Staff review of unanswered learner messages, and its export as Rasa training data for a person to check.

On the dashboard a staff member labels an unanswered message (analytics.metrics.unanswered_messages) with
the intent it should have had, "new_faq" (the catalog needs a new FAQ answer), or "ignore"; a reviewed
message leaves the unanswered list. Relabelling replaces the earlier label.

`export` writes the intent-labelled messages not yet exported into var/review/nlu-review-<UTC time>.yml,
in Rasa's nlu.yml format, and lists the "new_faq" ones in the same file as comments (never as training
data). The file is for a person to check and move into data/ by hand: nothing here writes to data/.

    python -m analytics.review export [--out DIR]     # what `make review-export` runs
"""

import argparse
import sys
from functools import cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from analytics import metrics, store
from analytics.events import FEEDBACK_INTENT
from analytics.exports import DEFAULT_OUT_DIR, exported_count, new_file, one_line, render
from analytics.store import AnalyticsEvent, Review
from core import settings
from core.db import session_scope

INTENT, NEW_FAQ, IGNORE = "intent", "new_faq", "ignore"
LABELS = (INTENT, NEW_FAQ, IGNORE)
NOT_LABELS = {FEEDBACK_INTENT, metrics.FALLBACK_INTENT}
DATA_DIR = settings.PROJECT_ROOT / "data"


class NotFound(LookupError):
    """No such learner message in the analytics tables."""


@cache
def reviewable_intents(domain_file: Path = settings.PROJECT_ROOT / "domain.yml") -> Tuple[str, ...]:
    """The intents a message may be labelled with: the domain's, except feedback and nlu_fallback."""
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    names = []
    for entry in domain.get("intents") or []:
        name = next(iter(entry)) if isinstance(entry, dict) else entry
        if isinstance(name, str) and name not in NOT_LABELS:
            names.append(name)
    return tuple(names)


def check(label: str, intent: Optional[str]) -> None:
    """ValueError unless the label is known and an intent is given exactly when the label is "intent"."""
    if label not in LABELS:
        raise ValueError(f"label must be one of {', '.join(LABELS)}, not {label!r}")
    if label == INTENT:
        if intent not in reviewable_intents():
            raise ValueError(f"intent must be one of the assistant's intents, not {intent!r}")
    elif intent is not None:
        raise ValueError(f"an intent is given only with the label {INTENT!r}")


def _conversation(session, event_id: int) -> Tuple[AnalyticsEvent, List[AnalyticsEvent]]:
    event = session.get(AnalyticsEvent, event_id)
    if event is None:
        raise NotFound(f"no learner message {event_id}")
    events = list(session.scalars(select(AnalyticsEvent).where(AnalyticsEvent.sender_id == event.sender_id)
                                  .order_by(AnalyticsEvent.event_id)))
    return event, events


def label(engine: Engine, event_id: int, label: str, intent: Optional[str], reviewer: str) -> Review:
    """Store a staff member's label for an unanswered learner message (replacing an earlier one).

    NotFound if there is no such event; ValueError for a bad label or intent, or an event that is not an
    unanswered learner message."""
    check(label, intent)
    if not isinstance(event_id, int) or isinstance(event_id, bool):
        raise ValueError("event_id must be a whole number")
    if not reviewer:
        raise ValueError("a review needs a reviewer")
    with session_scope(engine) as session:
        event, conversation = _conversation(session, event_id)
        if not metrics.is_learner_message(event):
            raise ValueError(f"event {event_id} is not a learner message")
        if event_id not in {m.event_id for m in metrics.unanswered_messages(conversation)}:
            raise ValueError(f"message {event_id} is not an unanswered message")
        review = session.get(Review, event_id)
        if review is None:
            review = Review(event_id=event_id)
            session.add(review)
        review.label, review.intent, review.reviewer = label, intent if label == INTENT else None, reviewer
        review.reviewed_at, review.exported_at = store.now(), None  # a new label is exported again
        session.flush()
        session.expunge(review)
        return review


def export(engine: Engine, out_dir: Path = DEFAULT_OUT_DIR) -> Optional[Path]:
    """Write the labelled messages not yet exported to out_dir/nlu-review-<UTC time>.yml and mark them
    exported; the path, or None when there was nothing new. Never into data/."""
    out_dir = Path(out_dir)
    if out_dir.resolve().is_relative_to(DATA_DIR.resolve()):
        raise ValueError(f"reviews are exported for a person to check, never into {DATA_DIR}")
    with session_scope(engine) as session:
        rows = session.execute(
            select(Review.event_id, Review.label, Review.intent, AnalyticsEvent.text)
            .join(AnalyticsEvent, AnalyticsEvent.event_id == Review.event_id)
            .where(Review.exported_at.is_(None), Review.label.in_([INTENT, NEW_FAQ]))
            .order_by(Review.event_id)).all()
        if not rows:
            return None
        by_intent: Dict[str, List[str]] = {}
        new_faq: List[str] = []
        for row in rows:
            text = one_line(row.text or "")
            if not text:
                continue
            if row.label == INTENT:
                examples = by_intent.setdefault(row.intent, [])
                if text not in examples:
                    examples.append(text)
            elif text not in new_faq:
                new_faq.append(text)
        now = store.now()
        out_dir.mkdir(parents=True, exist_ok=True)
        path = new_file(out_dir, now)
        path.write_text(render(by_intent, new_faq, now.strftime("%Y-%m-%d %H:%M:%S UTC")), encoding="utf-8")
        session.execute(update(Review).where(Review.event_id.in_([row.event_id for row in rows]))
                        .values(exported_at=now))
    return path


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.review", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    export_command = commands.add_parser("export", help="write the labelled messages as nlu.yml for a person to check")
    export_command.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR, help=f"folder (default {DEFAULT_OUT_DIR})")
    args = parser.parse_args(argv)
    try:
        path = export(store.analytics_engine(), args.out)
    except ValueError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if path is None:
        print("Nothing new to export: no message was labelled since the last export.")
        return 0
    examples, new_faq = exported_count(path)
    print(f"Wrote {examples} training examples and {new_faq} messages needing a new FAQ answer to {path}")
    print("Check them before moving the examples into data/nlu.yml.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
