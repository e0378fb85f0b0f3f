"""The fault drill's learners and its report.

- `RestLoad`: learners chatting over REST, each one question at a time, tagged with the phase in which
  the question was sent.
- `ask_for_a_person`: web-widget learners (socket.io) asking for a person; only that channel hands off.
- `render`: the Markdown table, per phase and in total, and the verdict.
"""

import asyncio
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Tuple

import requests

from tests.assistant import Learner

QUESTIONS = (
    "how much does the MITx supply chain micromasters cost?",
    "does the columbia AI micromasters count for credit?",
    "will it guarantee admission to the master's?",
    "can it help me get a job?",
    "what is a micromasters?",
)
HANDOFF_QUESTION = "I want to talk to a person"
# The designed answers when a part is down: a reply within seconds with the support team's contact.
FAULT_TEXT = "can't look that up right now"
HANDOFF_DELAYED_TEXT = "couldn't reach the learner-support team"
QUESTIONS_PER_CONVERSATION = 10
REPLY_LIMIT_SECONDS = 5.0
CLIENT_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Sample:
    """One learner message: when it was sent (its phase), how long the reply took, and what came back."""

    phase: str
    seconds: float
    replied: bool
    fault: bool = False
    lost_reason: str = ""  # empty unless the message is lost (no reply, or a handoff that never reached Slack)

    @property
    def lost(self) -> bool:
        return bool(self.lost_reason)

    @property
    def within_limit(self) -> bool:
        return self.replied and not self.lost and self.seconds <= REPLY_LIMIT_SECONDS


class Recorder:
    """Every sample of the run, from many threads."""

    def __init__(self) -> None:
        self._samples: List[Sample] = []
        self._lock = threading.Lock()

    def add(self, sample: Sample) -> None:
        with self._lock:
            self._samples.append(sample)

    def samples(self) -> List[Sample]:
        with self._lock:
            return list(self._samples)


def ask_over_rest(rasa_url: str, sender: str, message: str, phase: str) -> Sample:
    """One REST message; replied means HTTP 200 with at least one non-empty text, anything else is lost."""
    start = time.monotonic()
    try:
        response = requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                                 timeout=CLIENT_TIMEOUT_SECONDS)
        seconds = time.monotonic() - start
        if response.status_code != 200:
            return Sample(phase, seconds, False, lost_reason=f"HTTP {response.status_code}")
        texts = [item.get("text") or "" for item in response.json() if isinstance(item, dict)]
    except (requests.RequestException, ValueError) as error:
        return Sample(phase, time.monotonic() - start, False, lost_reason=f"{type(error).__name__}: {error}")
    if not any(text.strip() for text in texts):
        return Sample(phase, seconds, False, lost_reason="no text in the reply")
    return Sample(phase, seconds, True, fault=any(FAULT_TEXT in text for text in texts))


class RestLoad:
    """`conversations` learners at a time, each asking the next question as soon as the last one was
    answered.

    After QUESTIONS_PER_CONVERSATION questions a learner leaves and a new one takes its place: Rasa
    reads a conversation's whole history for every message, so one conversation of hundreds of turns
    gets slower and slower (about 0.05 s per reply when new, 0.5 s after 400 turns) and the load would
    grow heavier with every phase instead of staying steady.

    Each sample belongs to the phase in which its question was sent, so a slow reply is charged to the
    fault that caused it even when it arrives after the repair.
    """

    def __init__(self, rasa_url: str, recorder: Recorder, conversations: int = 8) -> None:
        self.rasa_url = rasa_url
        self.recorder = recorder
        self.phase = ""
        self._stopping = threading.Event()
        run = uuid.uuid4().hex[:8]
        self._threads = [threading.Thread(target=self._converse, args=(f"drill-{run}-{index}", index),
                                          name=f"learner-{index}", daemon=True)
                         for index in range(conversations)]

    def start(self, phase: str) -> None:
        self.phase = phase
        for thread in self._threads:
            thread.start()

    def stop(self, wait: bool = True) -> None:
        """No new questions; with `wait`, wait for the ones in flight (each ends within the client timeout)."""
        self._stopping.set()
        for thread in self._threads if wait else ():
            if thread.is_alive():
                thread.join(CLIENT_TIMEOUT_SECONDS + 5)

    def _converse(self, learner: str, index: int) -> None:
        turn = index  # the learners start at different questions
        while not self._stopping.is_set():
            sender = f"{learner}-{turn // QUESTIONS_PER_CONVERSATION}"
            question = QUESTIONS[turn % len(QUESTIONS)]
            self.recorder.add(ask_over_rest(self.rasa_url, sender, question, self.phase))
            turn += 1


async def _ask_for_a_person(rasa_url: str, origin: str, phase: str) -> Tuple[str, Sample]:
    """One widget learner asks for a person; the first message back is the reply (socket.io sends each
    paragraph as a message of its own)."""
    learner = Learner(rasa_url, origin=origin)
    start = time.monotonic()
    try:
        await learner.connect()
        start = time.monotonic()
        await learner.say(HANDOFF_QUESTION)
        text = await learner.hear("", timeout=CLIENT_TIMEOUT_SECONDS)
        sample = Sample(phase, time.monotonic() - start, True, fault=HANDOFF_DELAYED_TEXT in text)
    except Exception as error:  # any failure to get a reply is a lost message, reported as such
        sample = Sample(phase, time.monotonic() - start, False, lost_reason=f"{type(error).__name__}: {error}")
    finally:
        await _hang_up(learner)
    return learner.session_id, sample


async def _hang_up(learner: Learner) -> None:
    """Disconnect, let engine.io's polling loops end, then close its HTTP session: a poll still in
    flight at the disconnect opens a new one, which aiohttp reports as unclosed at exit."""
    if learner.client is None:
        return
    if learner.client.connected:
        await learner.client.disconnect()
    eio = learner.client.eio
    loops = [task for task in (eio.read_loop_task, eio.write_loop_task) if task is not None]
    if loops:
        await asyncio.wait(loops, timeout=10)
    if eio.http is not None and not eio.http.closed:
        await eio.http.close()


def ask_for_a_person(rasa_url: str, origin: str, learners: int, phase: str) -> List[Tuple[str, Sample]]:
    """`learners` web-widget learners at once; (session id, sample) for each."""
    async def all_of_them():
        return await asyncio.gather(*(_ask_for_a_person(rasa_url, origin, phase) for _ in range(learners)))

    return list(asyncio.run(all_of_them()))


def mark_lost(sample: Sample, reason: Optional[str]) -> Sample:
    """A handoff that was answered but never reached Slack is lost all the same."""
    return replace(sample, lost_reason=sample.lost_reason or reason or "")


@dataclass(frozen=True)
class Row:
    phase: str
    sent: int
    replied: int
    within_limit: int
    fault_replies: int
    lost: int
    p50: Optional[float]
    max: Optional[float]


def summarise(phase: str, samples: List[Sample]) -> Row:
    times = [s.seconds for s in samples if s.replied]
    return Row(phase, len(samples), sum(s.replied for s in samples), sum(s.within_limit for s in samples),
               sum(s.fault for s in samples), sum(s.lost for s in samples),
               statistics.median(times) if times else None, max(times) if times else None)


def passed(samples: List[Sample]) -> bool:
    """The drill passes only if nothing was lost and every message was answered within the limit."""
    return bool(samples) and all(s.within_limit for s in samples)


def render(phases: List[str], samples: List[Sample], stopped_early: str = "") -> str:
    """The table; `stopped_early` says why the drill did not run every phase (then it cannot pass)."""
    by_phase: Dict[str, List[Sample]] = {phase: [] for phase in phases}
    for sample in samples:
        by_phase.setdefault(sample.phase, []).append(sample)
    rows = [summarise(phase, items) for phase, items in by_phase.items() if items or phase in phases]
    lines = [
        "# Fault drill",
        "",
        "| phase | sent | replied | within 5 s | fault replies | lost | p50 s | max s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(_row(row) for row in rows),
        _row(summarise("**total**", samples)),
        "",
        "A message counts in the phase in which it was sent: one in flight when a fault begins counts in the "
        "phase before (hence a few fault replies in calm phases). Fault replies are the designed answer while "
        "a part is down (\"can't look that up right now\", or for a handoff \"couldn't reach the "
        "learner-support team\"), with the support team's contact.",
        "",
        verdict(samples, stopped_early),
        "",
    ]
    return "\n".join(lines)


def _row(row: Row) -> str:
    def seconds(value: Optional[float]) -> str:
        return "-" if value is None else f"{value:.2f}"

    return (f"| {row.phase} | {row.sent} | {row.replied} | {row.within_limit} | {row.fault_replies} | {row.lost} "
            f"| {seconds(row.p50)} | {seconds(row.max)} |")


def verdict(samples: List[Sample], stopped_early: str = "") -> str:
    lost = sum(s.lost for s in samples)
    slow = sum(s.replied and not s.lost and s.seconds > REPLY_LIMIT_SECONDS for s in samples)
    if stopped_early:
        return (f"**INCOMPLETE** ({stopped_early}): so far {lost} of {len(samples)} messages lost, "
                f"{_replies(slow)} slower than {REPLY_LIMIT_SECONDS:.0f} s.")
    if passed(samples):
        return f"**PASS**: {len(samples)} messages, none lost, every reply within {REPLY_LIMIT_SECONDS:.0f} s."
    if not samples:
        return "**FAIL**: no message was sent."
    return (f"**FAIL**: {lost} of {len(samples)} messages lost, {_replies(slow)} slower than "
            f"{REPLY_LIMIT_SECONDS:.0f} s.")


def _replies(count: int) -> str:
    return f"{count} reply" if count == 1 else f"{count} replies"
