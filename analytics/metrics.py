"""The dashboard's numbers, computed from the analytics rows of a period (UTC days, both ends included).

Definitions (the README's "For the support team" section explains them to staff):
- a **learner message** is a message into the assistant, except feedback (👍/👎, comments) and the
  widget's automatic opening `/greet`;
- a **conversation** is one conversation id (one learner's chat) with at least one learner message in
  the period (or day);
- a conversation is **handed off** when the assistant passed it to the support team: a live handoff in
  Slack, or (where there is none, or Slack is down) the support team's contact, after a request for a
  person, two misses, or a question with no sourced answer; **containment** is the share of
  conversations that were not;
- **fallback rate**: learner messages the assistant did not understand well enough (Rasa's
  `nlu_fallback`: it asked to rephrase) over learner messages; **out-of-scope rate** the same for
  messages recognised as outside the four topics;
- **👍 rate**: 👍 over 👍 + 👎;
- **reply time**: from a learner message to the assistant's first reply to it (a message it did not reply
  to, such as one during a handoff, has none); the median is over the period's messages.
"""

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.engine import Engine

from analytics.events import FEEDBACK_INTENT
from analytics.store import AnalyticsEvent, Review
from core.db import session_scope

OPENING_PAYLOAD = "/greet"
HANDOFF_ACTION = "action_offer_support"
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
NOT_UNANSWERED_INTENTS = {"request_human", "greet", "goodbye", "thank", "bot_challenge", FEEDBACK_INTENT}
GROUPING_BLOCK = 256  # unanswered messages whose similarities are computed at once
SIMILAR = 0.5  # cosine similarity (character n-grams) at which two unanswered messages are grouped


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")
        if (self.end - self.start).days > 366:
            raise ValueError("a period is at most a year")

    @classmethod
    def last_days(cls, days: int, today: date) -> "Period":
        return cls(today - timedelta(days=days - 1), today)

    def days(self) -> List[str]:
        return [(self.start + timedelta(days=n)).isoformat() for n in range((self.end - self.start).days + 1)]


@dataclass
class Numbers:
    """The headline numbers of a period or of one day."""

    conversations: int = 0
    messages: int = 0
    handed_off: int = 0
    fallbacks: int = 0
    out_of_scope: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    answers: int = 0
    rate_limited: int = 0  # messages refused by a rate limit (core.refusals; they never reach the feed)
    desk_busy: int = 0  # handoffs not opened: the desk had HANDOFFS_PER_HOUR already
    reply_ms: List[float] = field(default_factory=list, repr=False)
    channels: Dict[str, int] = field(default_factory=dict)

    @staticmethod
    def _share(part: int, whole: int) -> Optional[float]:
        return round(part / whole, 4) if whole else None

    @property
    def containment(self) -> Optional[float]:
        return self._share(self.conversations - self.handed_off, self.conversations)

    @property
    def handoff_rate(self) -> Optional[float]:
        return self._share(self.handed_off, self.conversations)

    @property
    def fallback_rate(self) -> Optional[float]:
        return self._share(self.fallbacks, self.messages)

    @property
    def out_of_scope_rate(self) -> Optional[float]:
        return self._share(self.out_of_scope, self.messages)

    @property
    def thumbs_up_rate(self) -> Optional[float]:
        return self._share(self.thumbs_up, self.thumbs_up + self.thumbs_down)

    @property
    def median_reply_ms(self) -> Optional[float]:
        return round(statistics.median(self.reply_ms), 1) if self.reply_ms else None

    def as_dict(self) -> Dict:
        return {
            "conversations": self.conversations, "messages": self.messages, "channels": dict(self.channels),
            "handed_off": self.handed_off, "containment": self.containment, "handoff_rate": self.handoff_rate,
            "fallbacks": self.fallbacks, "fallback_rate": self.fallback_rate,
            "out_of_scope": self.out_of_scope, "out_of_scope_rate": self.out_of_scope_rate,
            "thumbs_up": self.thumbs_up, "thumbs_down": self.thumbs_down, "thumbs_up_rate": self.thumbs_up_rate,
            "answers": self.answers, "median_reply_ms": self.median_reply_ms,
            "rate_limited": self.rate_limited, "desk_busy": self.desk_busy,
        }


@dataclass(frozen=True)
class UnansweredMessage:
    event_id: int
    sender_id: str
    text: str
    day: str
    reason: str  # out of scope | not understood | not helpful (👎)
    comment: Optional[str] = None


@dataclass(frozen=True)
class UnansweredGroup:
    text: str  # the most recent message of the group
    count: int
    reasons: Tuple[str, ...]
    last_day: str
    messages: Tuple[UnansweredMessage, ...]


@dataclass(frozen=True)
class Served:
    program_id: Optional[str]
    topic: str
    count: int


def is_learner_message(event: AnalyticsEvent) -> bool:
    return event.type == "user" and event.intent != FEEDBACK_INTENT and (event.text or "") != OPENING_PAYLOAD


def period_events(engine: Engine, period: Period) -> List[AnalyticsEvent]:
    """The period's events, conversation by conversation, in the order they were stored: plain rows with
    AnalyticsEvent's columns as attributes (not ORM objects: several times faster to load)."""
    table = AnalyticsEvent.__table__
    with session_scope(engine) as session:
        return list(session.execute(
            select(*table.columns)
            .where(table.c.day >= period.start.isoformat(), table.c.day <= period.end.isoformat())
            .order_by(table.c.sender_id, table.c.event_id)))


def _by_conversation(events: Iterable[AnalyticsEvent]) -> Dict[str, List[AnalyticsEvent]]:
    conversations: Dict[str, List[AnalyticsEvent]] = {}
    for event in events:
        conversations.setdefault(event.sender_id, []).append(event)
    return conversations


def _reply_times(events: Sequence[AnalyticsEvent]) -> Dict[int, float]:
    """event id of a learner message -> ms until the assistant's first reply (before the next message)."""
    times, waiting = {}, None
    for event in events:
        if event.type == "user":
            waiting = event if is_learner_message(event) else None
        elif event.type == "bot" and waiting is not None:
            times[waiting.event_id] = max(0.0, (event.timestamp - waiting.timestamp) * 1000)
            waiting = None
    return times


def numbers(events: Sequence[AnalyticsEvent]) -> Tuple[Numbers, Dict[str, Numbers]]:
    """The period's numbers, and each day's."""
    total, daily = Numbers(), {}
    talked: Dict[str, set] = {}  # day -> conversations with a learner message
    handed: Dict[str, set] = {}
    for sender_id, conversation in _by_conversation(events).items():
        replies = _reply_times(conversation)
        for event in conversation:
            day = daily.setdefault(event.day, Numbers())
            if is_learner_message(event):
                talked.setdefault(event.day, set()).add(sender_id)
                for numbers_ in (total, day):
                    numbers_.messages += 1
                    channel = event.channel or "unknown"
                    numbers_.channels[channel] = numbers_.channels.get(channel, 0) + 1
                    numbers_.fallbacks += event.intent == FALLBACK_INTENT
                    numbers_.out_of_scope += event.intent == OUT_OF_SCOPE_INTENT
                    if event.event_id in replies:
                        numbers_.reply_ms.append(replies[event.event_id])
            elif event.type == "user" and event.rating in ("up", "down"):
                for numbers_ in (total, day):
                    if event.rating == "up":
                        numbers_.thumbs_up += 1
                    else:
                        numbers_.thumbs_down += 1
            elif (event.type == "action" and event.action == HANDOFF_ACTION) or \
                    (event.type == "bot" and event.support):
                handed.setdefault(event.day, set()).add(sender_id)
            if event.type == "bot" and event.topic:
                total.answers += 1
                day.answers += 1
            if event.type == "bot" and event.support == "busy":
                total.desk_busy += 1
                day.desk_busy += 1
    all_talked = set().union(*talked.values()) if talked else set()
    all_handed = set().union(*handed.values()) if handed else set()
    total.conversations, total.handed_off = len(all_talked), len(all_handed & all_talked)
    for day_name, day in daily.items():
        day.conversations = len(talked.get(day_name, ()))
        day.handed_off = len(handed.get(day_name, set()) & talked.get(day_name, set()))
    return total, daily


def served(events: Iterable[AnalyticsEvent]) -> List[Served]:
    """Catalog answers given, by program and topic, most given first."""
    counts: Dict[Tuple[Optional[str], str], int] = {}
    for event in events:
        if event.type == "bot" and event.topic:
            key = (event.program_id, event.topic)
            counts[key] = counts.get(key, 0) + 1
    return [Served(program, topic, count)
            for (program, topic), count in sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))]


def top(counts: Dict[str, int], limit: int = 10) -> List[Tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def top_programs(events: Iterable[AnalyticsEvent], limit: int = 10) -> List[Tuple[str, int]]:
    counts: Dict[str, int] = {}
    for item in served(events):
        if item.program_id:
            counts[item.program_id] = counts.get(item.program_id, 0) + item.count
    return top(counts, limit)


def top_topics(events: Iterable[AnalyticsEvent], limit: int = 10) -> List[Tuple[str, int]]:
    counts: Dict[str, int] = {}
    for item in served(events):
        counts[item.topic] = counts.get(item.topic, 0) + item.count
    return top(counts, limit)


def reviewed_ids(engine: Engine) -> set:
    with session_scope(engine) as session:
        return set(session.scalars(select(Review.event_id)))


def unanswered_messages(events: Sequence[AnalyticsEvent], reviewed: set = frozenset()) -> List[UnansweredMessage]:
    """Learner messages the assistant did not answer from the catalog: recognised as out of scope with
    no catalog answer, not understood (asked to rephrase), or answered and then rated 👎. A message a
    staff member reviewed is no longer listed."""
    found: Dict[int, UnansweredMessage] = {}
    for sender_id, conversation in _by_conversation(events).items():
        last_message: Optional[AnalyticsEvent] = None
        answered_last = False
        answer_of: List[Tuple[AnalyticsEvent, Optional[AnalyticsEvent]]] = []  # (bot event, the message it answered)
        for event in conversation:
            if is_learner_message(event):
                _close_out_of_scope(found, last_message, answered_last, sender_id)
                last_message, answered_last = event, False
                if event.intent == FALLBACK_INTENT and event.intent not in NOT_UNANSWERED_INTENTS:
                    found[event.event_id] = _unanswered(event, sender_id, "not understood")
            elif event.type == "bot":
                answer_of.append((event, last_message))
                answered_last = answered_last or bool(event.topic)
            elif event.type == "user" and event.intent == FEEDBACK_INTENT:
                question = _rated_question(answer_of, event.answer_ref)
                if question is None:
                    continue
                if event.rating == "down":
                    found[question.event_id] = _unanswered(question, sender_id, "not helpful")
                elif event.comment and question.event_id in found and found[question.event_id].reason == "not helpful":
                    found[question.event_id] = _unanswered(question, sender_id, "not helpful", event.comment)
        _close_out_of_scope(found, last_message, answered_last, sender_id)
    return [message for event_id, message in sorted(found.items()) if event_id not in reviewed]


def _unanswered(event: AnalyticsEvent, sender_id: str, reason: str, comment: Optional[str] = None):
    return UnansweredMessage(event.event_id, sender_id, event.text or "", event.day, reason, comment)


def _close_out_of_scope(found, message: Optional[AnalyticsEvent], answered: bool, sender_id: str) -> None:
    if message is not None and message.intent == OUT_OF_SCOPE_INTENT and not answered \
            and message.event_id not in found:
        found[message.event_id] = _unanswered(message, sender_id, "out of scope")


def _rated_question(answer_of, answer_ref: Optional[str]) -> Optional[AnalyticsEvent]:
    """The learner message whose answer a feedback rates: the latest answer starting with the text the
    widget sent, else the latest catalog answer, else the latest assistant message."""
    candidates = [pair for pair in answer_of if pair[1] is not None]
    if answer_ref:
        ref = answer_ref.strip()
        for bot, question in reversed(candidates):
            if (bot.text or "").strip().startswith(ref):
                return question
    for bot, question in reversed(candidates):
        if bot.topic:
            return question
    return candidates[-1][1] if candidates else None


def grouped(messages: Sequence[UnansweredMessage], similar: float = SIMILAR) -> List[UnansweredGroup]:
    """Similar messages together (character n-gram TF-IDF, cosine at least `similar`), commonest first.

    Each message joins the first group whose leader (its newest message) is similar enough, or leads a
    new group. Similarities are computed GROUPING_BLOCK messages at a time against all of them: the whole
    matrix at once took 1.4 GB and 15 s for 8,000 unanswered messages."""
    if not messages:
        return []
    import numpy
    from sklearn.feature_extraction.text import TfidfVectorizer

    ordered = sorted(messages, key=lambda m: m.event_id, reverse=True)  # newest first: it names the group
    texts = [" ".join(m.text.lower().split()) or "(empty)" for m in ordered]
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform(texts)  # rows of norm 1
    leaders: List[int] = []
    members: Dict[int, List[int]] = {}
    for start in range(0, len(ordered), GROUPING_BLOCK):
        block = (vectors[start:start + GROUPING_BLOCK] @ vectors[:start + GROUPING_BLOCK].T).toarray()
        for offset, row in enumerate(block):
            index = start + offset
            if leaders:
                close = numpy.flatnonzero(row[leaders] >= similar)
                if close.size:
                    members[leaders[close[0]]].append(index)
                    continue
            leaders.append(index)
            members[index] = [index]
    groups = []
    for leader in leaders:
        group = [ordered[i] for i in members[leader]]
        groups.append(UnansweredGroup(
            text=ordered[leader].text, count=len(group),
            reasons=tuple(sorted({m.reason for m in group})),
            last_day=max(m.day for m in group), messages=tuple(group)))
    return sorted(groups, key=lambda g: (-g.count, -max(m.event_id for m in g.messages)))
