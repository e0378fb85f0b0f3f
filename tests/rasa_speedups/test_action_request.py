"""The action server's request carries the recent events only, and everything the actions read from it is
what Rasa's full request gives them: slots, latest message, channel, the handoff's transcript and question."""

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker

import channels  # noqa: F401 (installs the project's additions to the Rasa server)
from actions.actions import conversation_turns, question_for_staff
from core import support_desk
from rasa_speedups import action_request
from tests.assistant import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))
ENDPOINT = EndpointConfig("http://127.0.0.1:1/webhook", enable_selective_domain=True)
ACTION = RemoteAction("action_request_human", ENDPOINT)
EXCHANGES = [("hi", "greet", "Hello!"),
             ("how much does the MITx SCM cost?", "ask_cost", "MITx Supply Chain Management: $1,350 in total"),
             ("does it count for credit?", "ask_credit", "Yes, at several universities"),
             ("will it get me a job?", "ask_career", "It can help; no guarantee"),
             ("and the columbia AI one?", "ask_cost", "ColumbiaX AI: $1,200"),
             ("thanks", "thank", "You're welcome"),
             ("is financial aid available?", "ask_cost", "Yes, up to 90% off"),
             ("I want to talk to a person", "request_human", None)]


def tracker_after(exchanges) -> DialogueStateTracker:
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for text, intent, answer in exchanges:
        events.append(UserUttered(text, {"name": intent, "confidence": 0.9}, input_channel="socketio"))
        if answer:
            events += [ActionExecuted("action_answer_question"), BotUttered(answer),
                       SlotSet("program", "mitx-supply-chain-management"), ActionExecuted("action_listen")]
    return DialogueStateTracker.from_events("learner-1", events, DOMAIN.slots)


def sdk_tracker(body) -> Tracker:
    return Tracker.from_dict(body["tracker"])


def test_a_short_conversation_is_sent_as_rasa_sends_it():
    tracker = tracker_after(EXCHANGES[:3])
    assert action_request.request_body(ACTION, tracker, DOMAIN) == action_request._rasas_request_body(
        ACTION, tracker, DOMAIN)


def test_a_long_conversation_sends_its_last_turns_and_the_same_state():
    tracker = tracker_after(EXCHANGES * 3)
    ours, rasas = (action_request.request_body(ACTION, tracker, DOMAIN),
                   action_request._rasas_request_body(ACTION, tracker, DOMAIN))
    assert len(rasas["tracker"]["events"]) > 3 * len(ours["tracker"]["events"])
    assert ours["tracker"]["events"] == rasas["tracker"]["events"][-len(ours["tracker"]["events"]):]
    assert [event["event"] for event in ours["tracker"]["events"]].count("user") == action_request.LEARNER_MESSAGES
    assert ours["tracker"]["events"][0]["event"] == "user"
    assert {**ours, "tracker": {**ours["tracker"], "events": None}} == {**rasas, "tracker": {**rasas["tracker"],
                                                                                             "events": None}}
    assert "domain" not in ours


def test_the_actions_read_the_same_from_the_lean_request():
    tracker = tracker_after(EXCHANGES * 3)
    ours, rasas = (sdk_tracker(action_request.request_body(ACTION, tracker, DOMAIN)),
                   sdk_tracker(action_request._rasas_request_body(ACTION, tracker, DOMAIN)))
    assert support_desk.transcript(conversation_turns(ours)) == support_desk.transcript(conversation_turns(rasas))
    assert "is financial aid available?" in support_desk.transcript(conversation_turns(ours))
    assert question_for_staff(ours) == question_for_staff(rasas) == "is financial aid available?"
    assert ours.slots == rasas.slots and ours.slots["program"] == "mitx-supply-chain-management"
    assert ours.latest_message == rasas.latest_message
    assert ours.get_latest_input_channel() == rasas.get_latest_input_channel() == "socketio"


def test_the_rasa_server_uses_it():
    tracker = tracker_after(EXCHANGES * 2)
    assert ACTION._action_call_format(tracker, DOMAIN) == action_request.request_body(ACTION, tracker, DOMAIN)
