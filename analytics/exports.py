"""The review exports' files (var/review/nlu-review-<UTC time>.yml): how `analytics.review export` writes
them, and how `make erase` and `make retention` (privacy.retention) take learners' messages out of them.

Apart from the dashboard's review (analytics.review, which reads the domain's intents) so that the
privacy commands need only this and the analytics tables.
"""

import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

from sqlalchemy import select
from sqlalchemy.engine import Engine

from analytics.store import AnalyticsEvent, Review
from core import settings
from core.db import session_scope

DEFAULT_OUT_DIR = settings.VAR_DIR / "review"
# Rasa reads `[text](entity)`, `[text]{...}` and `[text][...]` in an example as entity annotations; a
# learner's brackets must stay text.
ENTITY_SYNTAX = re.compile(r"\](?=[({\[])")


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


def new_file(out_dir: Path, now: datetime) -> Path:
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


def parse(content: str) -> Optional[Tuple[str, Dict[str, List[str]], List[str]]]:
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
        found = parse(path.read_text(encoding="utf-8"))
        if found is None:
            continue
        stamp, by_intent, new_faq = found
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
