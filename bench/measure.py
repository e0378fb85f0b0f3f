"""The measurements: dev-set and real-question scores, REST reply latency and answer length."""

import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy
import requests
import yaml
from sklearn.metrics import f1_score

from bench.scoring import OTHER, OUT_OF_SCOPE_INTENTS, RealQuestion, Scores, label_of_intent, score
from catalog.faq_index import FaqIndex
from core.settings import faq_match_margin, faq_match_threshold

# Realistic learner turns; each sender id gets the whole script once, in order, so trackers stay short.
# The questions go through action_answer_question, i.e. the action server and the catalog database.
SCRIPT = (
    "hi",
    "how much does MITx Supply Chain Management cost?",
    "and does it guarantee admission?",
    "will it help me get a job?",
    "what about columbia AI",
    "can I transfer the credits?",
    "how much is a micromasters?",
    "is it transferable for credit",
    "thanks",
)
WARMUP_MESSAGES = 10

_ENTITY_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def read_nlu_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs from a Rasa YAML NLU file; entity annotations are reduced to their text."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs = []
    for item in data.get("nlu") or []:
        if "intent" not in item:
            continue
        for line in str(item.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("-"):
                text = _ENTITY_ANNOTATION.sub(r"\1", line[1:].strip())
                if text:
                    pairs.append((text, item["intent"]))
    return pairs


@dataclass
class DevSetScores:
    accuracy: float
    macro_f1: float
    fallbacks: int


def dev_set_scores(session: requests.Session, base_url: str, examples: list[tuple[str, str]]) -> DevSetScores:
    """Parse every dev-set example; an `nlu_fallback` prediction counts as wrong."""
    truth, predicted = [], []
    for text, intent in examples:
        response = session.post(f"{base_url}/model/parse", json={"text": text}, timeout=30)
        response.raise_for_status()
        truth.append(intent)
        predicted.append((response.json().get("intent") or {}).get("name") or "")
    correct = sum(t == p for t, p in zip(truth, predicted, strict=True))
    macro_f1 = f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)
    return DevSetScores(correct / len(truth), float(macro_f1), predicted.count("nlu_fallback"))


@dataclass
class Latency:
    p50_ms: float
    p95_ms: float
    empty_replies: int
    sample: str
    words_median: float  # words per bot message, what a learner reads
    words_p95: float


@dataclass
class RealQuestionResult:
    scores: Scores
    faq_right: int  # questions beyond the four topics given the FAQ answer of their labelled subject
    faq_wrong: int  # ... given another subject's FAQ answer
    faq_labelled: int  # questions beyond the four topics whose subject has an FAQ answer in the catalog
    errors: list[tuple[str, str, str, str]]  # (asked, answered, predicted intent, question) where they differ


def real_question_scores(session: requests.Session, base_url: str, questions: list[RealQuestion],
                         faq: FaqIndex) -> RealQuestionResult:
    """Parse every real question; score what the assistant would answer, and which FAQ answer it gives."""
    pairs, right, wrong, labelled, errors = [], 0, 0, 0, []
    known_subjects = {fact.topic for fact in faq.facts}
    for question in questions:
        response = session.post(f"{base_url}/model/parse", json={"text": question.text}, timeout=30)
        response.raise_for_status()
        intent = (response.json().get("intent") or {}).get("name") or ""
        predicted = label_of_intent(intent)
        pairs.append((question.label, predicted))
        if predicted != question.label:
            errors.append((question.label, predicted, intent, question.text))
        if question.label != OTHER or question.faq not in known_subjects:
            continue
        labelled += 1
        match = faq.best(question.text, faq_match_threshold(intent), faq_match_margin()) if predicted == OTHER else None
        if match is not None and intent in OUT_OF_SCOPE_INTENTS:
            right += match.topic == question.faq
            wrong += match.topic != question.faq
    return RealQuestionResult(score(pairs), right, wrong, labelled, errors)


def rest_latency(session: requests.Session, base_url: str, messages: int) -> Latency:
    """One client, sequential: WARMUP_MESSAGES untimed, then `messages` timed POSTs to the REST channel.

    Counts the timed replies that carry no bot message, so a broken action server shows up as such
    instead of as a fast server.
    """
    url = f"{base_url}/webhooks/rest/webhook"
    run = uuid.uuid4().hex[:8]
    timings, empty, sample, words = [], 0, "", []
    for index in range(WARMUP_MESSAGES + messages):
        message = SCRIPT[index % len(SCRIPT)]
        payload = {"sender": f"bench-{run}-{index // len(SCRIPT)}", "message": message}
        start = time.perf_counter()
        response = session.post(url, json=payload, timeout=60)
        elapsed = time.perf_counter() - start
        response.raise_for_status()
        if index < WARMUP_MESSAGES:
            continue
        timings.append(elapsed * 1000)
        texts = [reply.get("text") for reply in response.json() if reply.get("text")]
        words += [len(text.split()) for text in texts]
        if not texts:
            empty += 1
        elif message == SCRIPT[1] and not sample:
            sample = texts[0]
    p50, p95 = numpy.percentile(timings, [50, 95])
    words_median, words_p95 = numpy.percentile(words or [0], [50, 95])
    return Latency(float(p50), float(p95), empty, sample, float(words_median), float(words_p95))
