"""The compiled check of action server responses accepts and refuses exactly what Rasa's own does."""

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

import channels  # noqa: F401 (installs the project's additions to the Rasa server)
from bench.validation import RESPONSES
from rasa_speedups.action_response import validate_response

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


def variants():
    """Responses around the valid ones: every event kind's name on every event, missing and mistyped fields."""
    from rasa_speedups.action_response import event_kind_validators

    names = sorted(event_kind_validators()[1]) + ["teleport", "", 7, None]
    for response in [*RESPONSES.values(), *INVALID.values()]:
        yield response
        for index, event in enumerate(response.get("events") if isinstance(response.get("events"), list) else []):
            for name in names:
                yield {**response, "events": [*response["events"][:index], {**event, "event": name},
                                              *response["events"][index + 1:]]}
            for field in list(event):
                yield {**response, "events": [{key: value for key, value in event.items() if key != field}]}
                yield {**response, "events": [{**event, field: ["not", "this"]}]}
        yield {**response, "events": [{"event": "user", "text": "hi", "parse_data": {"intent": "not an object"}}]}
        yield {**response, "events": [{"event": "user", "text": 5}]}
        yield {**response, "responses": [{"text": 5}]}
        yield [response]


def test_the_check_by_event_kind_gives_rasas_verdict():
    from rasa_speedups.action_response import is_valid_by_event_kind

    verdicts = [(is_valid_by_event_kind(response), rasas_verdict(response)) for response in variants()]
    assert len(verdicts) > 200
    assert all(ours == rasas for ours, rasas in verdicts)
    assert {rasas for _ours, rasas in verdicts} == {True, False}
