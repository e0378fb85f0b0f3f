"""The NLU pipeline's "nothing I know" step (config.yml), after the FallbackClassifier.

A message in which the featurizers found no word and no character n-gram seen in training (emoji
only, punctuation only, a script the training data never uses) gives the intent classifier no
evidence: logistic regression then returns its prior, whose top intent (greet, the class with the
most short examples once the data holds four languages) can clear the fallback threshold. Such a
message gets `nlu_fallback`, so the learner is asked to rephrase, whatever the prior says. A
message with any known feature is left to the classifier and the threshold.
"""

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

PAYLOAD_PREFIX = "/"


def has_known_features(message: Message) -> bool:
    """Whether any sparse sentence feature of the message's text is non-zero.

    Only sentence features are read: the per-token ones may be computed lazily
    (rasa_speedups/sentence_features.py), and reading them here would compute them for nothing.
    """
    return any(features.attribute == TEXT and features.type == FEATURE_TYPE_SENTENCE
               and features.is_sparse() and abs(features.features).sum() > 0
               for features in message.features)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class UnknownTextFallback(GraphComponent):
    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "UnknownTextFallback":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = (message.get(TEXT) or "").strip()
            if text.startswith(PAYLOAD_PREFIX) or has_known_features(message):
                continue
            fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 0.0}
            message.set(INTENT, fallback, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [fallback, *(message.get(INTENT_RANKING_KEY) or [])],
                        add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
