"""Scores that say what a learner gets: the right topic answer, or no topic answer where none fits.

Every prediction and every gold label is reduced to what the assistant would answer: a set of the four
topics ("cost", "cost+credit") or "other" (no topic answer: a general-FAQ answer, a request to rephrase
or the support team). The same scoring serves the real-question test set, the dev set and the
cross-validation of the training data.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import yaml
from sklearn.metrics import f1_score

from actions.turns import topics_of_intent

TOPICS = ("credit", "admission", "career", "cost")
OTHER = "other"
CLASSES = (*TOPICS, OTHER)
MULTI = "two topics"
REAL_QUESTIONS_DIR = Path(__file__).resolve().parent.parent / "tests" / "real_questions"  # a dev set now
# Collected after the first set became a dev set; only its totals are ever looked at.
FRESH_TEST_DIR = Path(__file__).resolve().parent.parent / "tests" / "real_questions_test"
# Intents that stand for a question outside the four topics (greetings and thanks are not questions).
OUT_OF_SCOPE_INTENTS = ("ask_general", "out_of_scope")


def label_of_topics(topics: Iterable[str]) -> str:
    chosen = sorted(set(topics))
    return "+".join(chosen) if chosen else OTHER


def label_of_intent(intent: Optional[str]) -> str:
    """What the assistant answers for a predicted intent (nlu_fallback and the rest: no topic answer)."""
    return label_of_topics(topics_of_intent(intent))


def is_question_intent(intent: str) -> bool:
    return bool(topics_of_intent(intent)) or intent in OUT_OF_SCOPE_INTENTS


@dataclass(frozen=True)
class RealQuestion:
    text: str
    url: str
    label: str
    faq: Optional[str]
    language: str = "en"  # ISO 639-1 code of the question's language
    accept: Tuple[str, ...] = ()  # more answer keys that would help ("faq:refunds"), beside the labels


def read_real_questions(folder: Path = REAL_QUESTIONS_DIR) -> List[RealQuestion]:
    questions = []
    for path in sorted(folder.glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]:
            faq = item.get("faq")
            questions.append(RealQuestion(str(item["text"]), item["url"], label_of_topics(item.get("topics") or ()),
                                          None if faq in (None, "none") else faq, str(item.get("language") or "en"),
                                          tuple(item.get("accept") or ())))
    return questions


@dataclass(frozen=True)
class Scores:
    examples: int
    topic_questions: int
    other_questions: int
    four_topic_accuracy: float  # topic questions given exactly the right topic answer(s)
    macro_f1: float  # over credit, admission, career, cost, other
    oos_topic_share: float  # questions outside the four topics that got a topic answer
    confusion: Dict[Tuple[str, str], int]


def _bucket(label: str) -> str:
    return label if label in CLASSES else MULTI


def score(pairs: Sequence[Tuple[str, str]]) -> Scores:
    """`pairs` of (gold label, predicted label)."""
    topic = [(g, p) for g, p in pairs if g != OTHER]
    other = [(g, p) for g, p in pairs if g == OTHER]
    confusion: Dict[Tuple[str, str], int] = {}
    for gold, predicted in pairs:
        key = (_bucket(gold), _bucket(predicted))
        confusion[key] = confusion.get(key, 0) + 1
    gold_labels = [g for g, _ in pairs]
    predicted_labels = [p for _, p in pairs]
    present = [c for c in CLASSES if c in gold_labels]
    return Scores(
        examples=len(pairs),
        topic_questions=len(topic),
        other_questions=len(other),
        four_topic_accuracy=sum(g == p for g, p in topic) / len(topic) if topic else float("nan"),
        macro_f1=float(f1_score(gold_labels, predicted_labels, labels=present, average="macro", zero_division=0))
        if pairs else float("nan"),
        oos_topic_share=sum(p != OTHER for _, p in other) / len(other) if other else float("nan"),
        confusion=confusion,
    )


def confusion_table(scores: Scores) -> str:
    """Rows: the gold label; columns: what the assistant answered."""
    columns = (*CLASSES, MULTI)
    rows = [c for c in columns if any(g == c for g, _ in scores.confusion)]
    lines = ["| asked \\ answered | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for row in rows:
        cells = [str(scores.confusion.get((row, column), 0)) for column in columns]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
