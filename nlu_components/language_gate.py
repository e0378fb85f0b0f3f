"""The NLU pipeline's language step (config.yml): the message's language, and a gate for the others.

It runs after the intent classifier. A message in a supported language (core.languages.SUPPORTED)
gets a `language` entity, which fills the `language` slot: the answers and responses use it, and it
sticks for the conversation until a message in another language says otherwise (a message too short
to tell leaves it as it was). A message in a language the assistant does not answer has its intent
replaced by `unsupported_language`, whatever the classifier guessed from English n-grams, so it gets
the honest reply (data/rules.yml) and never a topic answer. The widget's browser language, sent as
message metadata `language`, breaks near-ties. Payloads (`/ask_cost`) are left alone.
"""

from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components import language_detection

UNSUPPORTED_INTENT = "unsupported_language"
LANGUAGE_ENTITY = "language"


def _hint(message: Message) -> Optional[str]:
    metadata = message.get(METADATA)
    return metadata.get("language") if isinstance(metadata, dict) else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageGate(GraphComponent):
    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LanguageGate":
        language_detection.warm_up()
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            detected = language_detection.detect(message.get(TEXT) or "", _hint(message))
            if detected is None:
                continue
            entity = {"entity": LANGUAGE_ENTITY, "value": detected.code, "start": 0,
                      "end": len(message.get(TEXT) or ""), "confidence": 1.0, "extractor": type(self).__name__}
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
            if not detected.supported:
                gate = {"name": UNSUPPORTED_INTENT, "confidence": 1.0}
                message.set(INTENT, gate, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [gate], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
