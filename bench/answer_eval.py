"""Answer-level evaluation: what each real question actually gets back, graded against what would help.

Each question goes to the REST channel as a new conversation, as a learner would type it. The
conversation's tracker then says what the assistant answered: every catalog answer carries, in its
bot message's metadata, an answer key (`cost`, `credit`, `faq:refunds`, ...) and the reply's language
(actions/actions.py `send`). A turn with no answer key declined (asked to rephrase, offered the
support team, said the language is not supported).

A question's acceptable answers come from its labels (tests/real_questions/*.yml): its topics, or its
FAQ subject, plus any `accept` keys; a question about nothing the assistant covers (`faq: none`), and
any question in a language the assistant does not answer, is acceptably declined. Each question gets
one verdict:
- acceptable: every answer key is acceptable (and, in a supported language, in the question's language);
- declined: nothing was answered, though an answer was acceptable;
- wrong: an answer key outside the acceptable ones (a confident answer to another question);
- other language: an acceptable answer, in another language than the question's.
"""

import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

import numpy
import requests

from bench.scoring import OTHER, RealQuestion
from core.languages import DEFAULT, SUPPORTED

ACCEPTABLE = "acceptable"
DECLINED = "declined"
WRONG = "wrong"
OTHER_LANGUAGE = "other language"
VERDICTS = (ACCEPTABLE, DECLINED, WRONG, OTHER_LANGUAGE)
FAQ_PREFIX = "faq:"
# FAQ subjects close enough that either answers a question labelled with the other.
RELATED_SUBJECTS = {"exams": {"exam_retakes"}, "exam_retakes": {"exams"}}
LINK = re.compile(r"https?://\S+")
# Language groups reported apart: English, the three other answered languages, the rest.
GROUPS = ("English", "Spanish, French, Portuguese", "other languages")


def group_of(language: str) -> str:
    if language == DEFAULT:
        return GROUPS[0]
    return GROUPS[1] if language in SUPPORTED else GROUPS[2]


def acceptable_keys(question: RealQuestion, faq_subjects: FrozenSet[str]) -> FrozenSet[str]:
    """The answer keys that would help; empty when declining is the acceptable answer."""
    if question.language not in SUPPORTED:
        return frozenset()
    if question.label != OTHER:
        keys = set(question.label.split("+"))
    elif question.faq and (question.faq in faq_subjects or question.faq in RELATED_SUBJECTS):
        keys = {FAQ_PREFIX + subject for subject in {question.faq, *RELATED_SUBJECTS.get(question.faq, ())}}
    else:
        keys = set()
    return frozenset(keys | set(question.accept))


def grade(question: RealQuestion, answered: Iterable[str], reply_languages: Iterable[str],
          faq_subjects: FrozenSet[str]) -> str:
    answered = set(answered)
    accept = acceptable_keys(question, faq_subjects)
    if not answered:
        return ACCEPTABLE if not accept else DECLINED
    if not answered <= accept:
        return WRONG
    if any(language != question.language for language in reply_languages):
        return OTHER_LANGUAGE
    return ACCEPTABLE


@dataclass(frozen=True)
class Turn:
    """What one question got: the bot messages' texts, answer keys and reply languages."""

    texts: Tuple[str, ...]
    answered: Tuple[str, ...]
    languages: Tuple[str, ...]


def turn_of(events: Sequence[dict]) -> Turn:
    """The last turn of a tracker's events: the bot messages after the last user message."""
    users = [index for index, event in enumerate(events) if event.get("event") == "user"]
    bots = [event for event in events[users[-1] if users else 0:] if event.get("event") == "bot"]
    answers = [(event.get("metadata") or {}).get("answer") or {} for event in bots]
    return Turn(
        tuple(event.get("text") or "" for event in bots if event.get("text")),
        tuple(answer["topic"] for answer in answers if answer.get("topic")),
        tuple(answer.get("language") or DEFAULT for answer in answers if answer.get("topic")),
    )


@dataclass
class GroupShares:
    questions: int = 0
    verdicts: Counter = field(default_factory=Counter)

    def share(self, verdict: str) -> float:
        return self.verdicts[verdict] / self.questions if self.questions else float("nan")


@dataclass
class AnswerLevel:
    """Verdict shares (overall and per language group) and the size of every bot message."""

    overall: GroupShares
    groups: Dict[str, GroupShares]
    words: List[int]
    links: List[int]
    errors: List[Tuple[str, str, str, str]]  # (verdict, acceptable, answered, question), not acceptable

    def words_percentiles(self) -> Tuple[float, float]:
        median, p95 = numpy.percentile(self.words or [0], [50, 95])
        return float(median), float(p95)

    def links_max_p95(self) -> Tuple[int, float]:
        return (max(self.links) if self.links else 0), float(numpy.percentile(self.links or [0], 95))


def tally(graded: Sequence[Tuple[RealQuestion, Turn, str]], faq_subjects: FrozenSet[str]) -> AnswerLevel:
    overall, groups = GroupShares(), {name: GroupShares() for name in GROUPS}
    words, links, errors = [], [], []
    for question, turn, verdict in graded:
        for shares in (overall, groups[group_of(question.language)]):
            shares.questions += 1
            shares.verdicts[verdict] += 1
        words += [len(text.split()) for text in turn.texts]
        links += [len(LINK.findall(text)) for text in turn.texts]
        if verdict != ACCEPTABLE:
            accept = ", ".join(sorted(acceptable_keys(question, faq_subjects))) or "decline"
            errors.append((verdict, accept, ", ".join(turn.answered) or "(declined)", question.text))
    return AnswerLevel(overall, groups, words, links, errors)


def answer_level(session: requests.Session, base_url: str, questions: Sequence[RealQuestion],
                 faq_subjects: FrozenSet[str], run: Optional[str] = None) -> AnswerLevel:
    """Ask every question over REST, each in a new conversation, and grade what came back."""
    run = run or uuid.uuid4().hex[:8]
    graded = []
    for index, question in enumerate(questions):
        sender = f"answers-{run}-{index}"
        response = session.post(f"{base_url}/webhooks/rest/webhook",
                                json={"sender": sender, "message": question.text}, timeout=60)
        response.raise_for_status()
        tracker = session.get(f"{base_url}/conversations/{sender}/tracker", timeout=30)
        tracker.raise_for_status()
        turn = turn_of(tracker.json().get("events") or [])
        graded.append((question, turn, grade(question, turn.answered, turn.languages, faq_subjects)))
    return tally(graded, faq_subjects)
