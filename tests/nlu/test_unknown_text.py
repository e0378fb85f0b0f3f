"""The pipeline step that sends a message with no known feature to nlu_fallback (config.yml)."""

import numpy as np
import scipy.sparse
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message

from nlu_components.unknown_text import UnknownTextFallback


def classified(text: str, sentence_vector) -> Message:
    message = Message(data={TEXT: text, INTENT: {"name": "greet", "confidence": 0.35},
                            INTENT_RANKING_KEY: [{"name": "greet", "confidence": 0.35}]})
    features = scipy.sparse.coo_matrix(np.array([sentence_vector], dtype=float))
    message.add_features(Features(features, FEATURE_TYPE_SENTENCE, TEXT, "CountVectorsFeaturizer"))
    return message


def test_a_message_with_no_known_feature_gets_nlu_fallback():
    [message] = UnknownTextFallback().process([classified("😀😀😀", [0, 0, 0])])
    assert message.get(INTENT)["name"] == "nlu_fallback"
    assert [intent["name"] for intent in message.get(INTENT_RANKING_KEY)] == ["nlu_fallback", "greet"]


def test_a_message_with_a_known_feature_keeps_the_classifiers_intent():
    [message] = UnknownTextFallback().process([classified("hi", [0, 1, 0])])
    assert message.get(INTENT)["name"] == "greet"


def test_a_payload_is_left_alone():
    [message] = UnknownTextFallback().process([classified("/greet", [0, 0, 0])])
    assert message.get(INTENT)["name"] == "greet"


def test_a_message_without_features_at_all_gets_nlu_fallback():
    message = Message(data={TEXT: "...", INTENT: {"name": "greet", "confidence": 0.35}})
    [message] = UnknownTextFallback().process([message])
    assert message.get(INTENT)["name"] == "nlu_fallback"
