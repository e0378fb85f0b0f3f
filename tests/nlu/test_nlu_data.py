"""The held-out NLU set stays held out: no phrasing in it is (nearly) a training example."""

import difflib
import re

import yaml

from tests.conftest import PROJECT_ROOT

SIMILARITY_LIMIT = 0.8


def examples(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        (block["intent"], line.strip()[2:].strip())
        for block in data["nlu"]
        for line in block["examples"].splitlines()
        if line.strip().startswith("- ")
    ]


def normalised(text):
    return " ".join(re.findall(r"\w+", text.lower()))


def similar(a, b):
    matcher = difflib.SequenceMatcher(None, a, b)
    return (
        matcher.real_quick_ratio() >= SIMILARITY_LIMIT
        and matcher.quick_ratio() >= SIMILARITY_LIMIT
        and matcher.ratio() >= SIMILARITY_LIMIT
    )


def test_heldout_phrasings_are_not_in_the_training_data():
    training = [normalised(text) for _, text in examples(PROJECT_ROOT / "data" / "nlu.yml")]
    heldout = examples(PROJECT_ROOT / "tests" / "nlu_dev.yml")
    too_close = [(text, other) for _, text in heldout for other in training if similar(normalised(text), other)]
    assert too_close == []


def test_heldout_covers_every_intent_of_the_domain():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    heldout_intents = {intent for intent, _ in examples(PROJECT_ROOT / "tests" / "nlu_dev.yml")}
    assert heldout_intents == set(domain["intents"])
