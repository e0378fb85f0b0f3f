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
import os
import re
import sys
import tempfile
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

import yaml
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from analytics import metrics, store
from analytics.events import FEEDBACK_INTENT
from analytics.store import AnalyticsEvent, Review
from core import settings
from core.db import session_scope

INTENT, NEW_FAQ, IGNORE = "intent", "new_faq", "ignore"
LABELS = (INTENT, NEW_FAQ, IGNORE)
NOT_LABELS = {FEEDBACK_INTENT, metrics.FALLBACK_INTENT}
DEFAULT_OUT_DIR = settings.VAR_DIR / "review"
DATA_DIR = settings.PROJECT_ROOT / "data"
# Rasa reads `[text](entity)`, `[text]{...}` and `[text][...]` in an example as entity annotations; a
# learner's brackets must stay text.
ENTITY_SYNTAX = re.compile(r"\](?=[({\[])")


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


def one_line(text: str) -> str:
    """A message as one line of a training example: whitespace collapsed, control characters and Rasa's
    entity syntax taken out."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return ENTITY_SYNTAX.sub("] ", " ".join(text.split()))


def render(by_intent: Dict[str, List[str]], new_faq: List[str], stamp: str) -> str:
    lines = [f"# Unanswered learner messages labelled on the staff dashboard, exported {stamp}.",
             "# Check each example before moving it into data/nlu.yml, then retrain.",
             'version: "3.1"']
    if by_intent:
        lines.append("nlu:")
        for intent in sorted(by_intent):
            lines += [f"- intent: {intent}", "  examples: |"]
            lines += [f"    - {text}" for text in by_intent[intent]]
    else:
        lines.append("nlu: []")
    if new_faq:
        lines += ["", "# Needs a new FAQ answer (not training data: write the answer into the catalog's FAQ):"]
        lines += [f"#   - {text}" for text in new_faq]
    return "\n".join(lines) + "\n"


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
        path = _new_file(out_dir, now)
        path.write_text(render(by_intent, new_faq, now.strftime("%Y-%m-%d %H:%M:%S UTC")), encoding="utf-8")
        session.execute(update(Review).where(Review.event_id.in_([row.event_id for row in rows]))
                        .values(exported_at=now))
    return path


def _new_file(out_dir: Path, now: datetime) -> Path:
    stem = f"nlu-review-{now.strftime('%Y%m%dT%H%M%SZ')}"
    path, number = out_dir / f"{stem}.yml", 1
    while path.exists():
        number += 1
        path = out_dir / f"{stem}-{number}.yml"
    return path


EXPORT_FILES = "nlu-review-*.yml"
EXPORT_HEADER = re.compile(r"^# Unanswered learner messages labelled on the staff dashboard, exported (.+)\.$")


def exported_texts(engine: Engine, sender_ids: Iterable[str]) -> Set[str]:
    """The lines already exported from these conversations' messages (`make erase` takes them out)."""
    with session_scope(engine) as session:
        texts = session.scalars(
            select(AnalyticsEvent.text).join(Review, Review.event_id == AnalyticsEvent.event_id)
            .where(AnalyticsEvent.sender_id.in_(list(sender_ids)), Review.exported_at.is_not(None))).all()
    return {one_line(text) for text in texts if text and one_line(text)}


def _parsed_export(content: str) -> Optional[Tuple[str, Dict[str, List[str]], List[str]]]:
    """(stamp, examples by intent, new-FAQ lines) of a file `export` wrote; None for another file."""
    lines = content.splitlines()
    header = EXPORT_HEADER.match(lines[0]) if lines else None
    if not header:
        return None
    by_intent: Dict[str, List[str]] = {}
    new_faq: List[str] = []
    intent = None
    for line in lines:
        if line.startswith("- intent: "):
            intent = line[len("- intent: "):]
            by_intent.setdefault(intent, [])
        elif line.startswith("    - ") and intent is not None:
            by_intent[intent].append(line[len("    - "):])
        elif line.startswith("#   - "):
            new_faq.append(line[len("#   - "):])
    return header.group(1), by_intent, new_faq


def remove_from_exports(texts: Set[str], out_dir: Path = DEFAULT_OUT_DIR) -> int:
    """Take these lines out of the export files in out_dir (a file left empty is deleted); the number of
    lines taken out. Each file is replaced whole (written beside it, then renamed), never half-written.
    A line is taken out even when another learner wrote the same words: the export keeps one of each."""
    removed = 0
    for path in sorted(Path(out_dir).glob(EXPORT_FILES)) if texts else []:
        parsed = _parsed_export(path.read_text(encoding="utf-8"))
        if parsed is None:
            continue
        stamp, by_intent, new_faq = parsed
        kept_intents = {intent: [t for t in examples if t not in texts] for intent, examples in by_intent.items()}
        kept_intents = {intent: examples for intent, examples in kept_intents.items() if examples}
        kept_faq = [text for text in new_faq if text not in texts]
        gone = sum(map(len, by_intent.values())) + len(new_faq) - sum(map(len, kept_intents.values())) - len(kept_faq)
        if not gone:
            continue
        removed += gone
        if not kept_intents and not kept_faq:
            path.unlink()
            continue
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".erase-", suffix=".yml")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(render(kept_intents, kept_faq, stamp))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return removed


def forget_exports_before(timestamp: float, out_dir: Path = DEFAULT_OUT_DIR, dry_run: bool = False) -> int:
    """Delete (or count) the export files last written before `timestamp`: retention."""
    old = [path for path in Path(out_dir).glob(EXPORT_FILES) if path.stat().st_mtime < timestamp]
    if not dry_run:
        for path in old:
            path.unlink()
    return len(old)


def exported_count(path: Path) -> Tuple[int, int]:
    """(training examples, new-FAQ lines) in an exported file."""
    examples = new_faq = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        examples += line.startswith("    - ")
        new_faq += line.startswith("#   - ")
    return examples, new_faq


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
