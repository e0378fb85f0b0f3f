"""The action server's response checked against Rasa's schema with a validator compiled once.

Rasa 3.6 checks every action server response with `jsonschema.validate(response, schema)`, which
first checks the (large, unchanging) events schema against the JSON-Schema meta-schema and builds a
new validator, on every call: about 3.6 ms of the Rasa server's CPU per action, two actions in a new
conversation's first turn. Here the schema is checked and the validator built once; each response is
still fully validated, raising the same ValidationError, with Rasa's own hint, as Rasa would.

Each event in a response must match exactly one of the schema's 23 event kinds (`oneOf`), and each
kind fixes the event's `event` name (`const`), so the general check tries every kind on every event. A
first, quicker check gives the same verdict: the response against the schema without that `oneOf`,
then each event against the one kind its name selects (the others cannot match). Only a response it
refuses goes through the general check, which finds the error Rasa would report.
`python -m bench.validation` measures both side by side. Installed by `rasa_speedups.install()`.
Replaces: `rasa.core.actions.action:RemoteAction._validate_action_result` (checked against Rasa 3.6.21).
"""

import copy
from functools import cache
from typing import Any, Dict

from jsonschema import validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

REPLACES = {
    "rasa.core.actions.action:RemoteAction._validate_action_result": {
        "signature": "(self, result: Dict[str, Any]) -> bool",
        "sha256": "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42",
    },
}

@cache
def response_validator():
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@cache
def event_kind_validators():
    """The schema without the events' `oneOf`, and a validator per event name for the one kind it selects."""
    schema = copy.deepcopy(RemoteAction.action_response_format_spec())
    kinds = schema["properties"]["events"]["items"].pop("oneOf")
    validator_class = validators.validator_for(schema)
    by_name = {kind["properties"]["event"]["const"]: validator_class(kind) for kind in kinds}
    if len(by_name) != len(kinds):
        raise ValueError("two event kinds of Rasa's response schema share a name")
    return validator_class(schema), by_name


def is_valid_by_event_kind(result: Any) -> bool:
    """The verdict of Rasa's schema, each event checked against the kind its name selects only."""
    without_kinds, by_name = event_kind_validators()
    if not without_kinds.is_valid(result):
        return False
    for event in result.get("events") or ():
        kind = by_name.get(event["event"])
        if kind is None or not kind.is_valid(event):
            return False
    return True


def validate_response(result: Dict[str, Any]) -> bool:
    """Rasa's check of an action server response, with the compiled validator."""
    if is_valid_by_event_kind(result):
        return True
    error = best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    def validate_with_compiled_schema(self, result: Dict[str, Any]) -> bool:
        return validate_response(result)

    if getattr(RemoteAction._validate_action_result, "compiled", False):
        return
    validate_with_compiled_schema.compiled = True
    RemoteAction._validate_action_result = validate_with_compiled_schema
