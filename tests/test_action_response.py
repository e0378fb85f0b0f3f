"""The compiled check of action server responses accepts and refuses exactly what Rasa's own does."""

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

import channels  # noqa: F401 (installs the project's additions to the Rasa server)
from bench.validation import RESPONSES
from channels.action_response import validate_response

SCHEMA = RemoteAction.action_response_format_spec()
INVALID = {
    "events not a list": {"events": {"event": "slot"}, "responses": []},
    "an event without its type": {"events": [{"name": "program", "value": "x"}], "responses": []},
    "an unknown event type": {"events": [{"event": "teleport"}], "responses": []},
    "a response that is not an object": {"events": [], "responses": ["just text"]},
    "a slot event without a name": {"events": [{"event": "slot", "value": "x"}], "responses": []},
}


def rasas_verdict(response) -> bool:
    try:
        validate(response, SCHEMA)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("name", list(RESPONSES))
def test_what_rasa_accepts_is_accepted(name):
    assert rasas_verdict(RESPONSES[name])
    assert validate_response(RESPONSES[name]) is True


@pytest.mark.parametrize("name", list(INVALID))
def test_what_rasa_refuses_is_refused_with_rasas_hint(name):
    assert not rasas_verdict(INVALID[name])
    with pytest.raises(ValidationError) as error:
        validate_response(INVALID[name])
    assert "Failed to validate Action server response from API" in error.value.message


def test_the_rasa_server_uses_it():
    action = RemoteAction("action_answer_question", None)
    assert getattr(RemoteAction._validate_action_result, "compiled", False)
    with pytest.raises(ValidationError):
        action._validate_action_result(INVALID["an unknown event type"])
    assert action._validate_action_result(RESPONSES["session start"])
