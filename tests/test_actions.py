"""The custom actions with real rasa_sdk Tracker objects against a real catalog database."""

import asyncio
import copy

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionAnswerQuestion, ActionOfferSupport
from actions.catalog_file import parse_catalog
from actions.catalog_loader import load_catalog

SCM = "mitx-supply-chain-management"


@pytest.fixture
def catalog_env(loaded_engine, database_url, monkeypatch):
    """The actions read DATABASE_URL, as they do in the action server."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return loaded_engine


def tracker(text, intent, slots=None, entities=None):
    return Tracker(
        sender_id="learner",
        slots={"program": None, "pending_topics": None, **(slots or {})},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.9},
                        "entities": entities or []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action, tracker_):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_, {}))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_program_specific_cost_from_the_database(catalog_env):
    messages, slots = run(ActionAnswerQuestion(), tracker("how much does the MITx SCM cost?", "ask_cost"))
    assert "Total: $1,350 (as of c. 2016-2018" in messages[0]["text"]
    assert "https://micromasters.mit.edu/scm/frequently-asked-questions/" in messages[0]["text"]
    assert slots == {"program": SCM}


def test_follow_up_reuses_the_program_in_context(catalog_env):
    messages, slots = run(ActionAnswerQuestion(), tracker("and does it guarantee admission?", "ask_admission",
                                                          slots={"program": SCM}))
    assert messages[0]["text"].startswith("No. Completing MITx Supply Chain Management does not guarantee")
    assert slots == {}  # unchanged


def test_naming_another_program_switches(catalog_env):
    messages, slots = run(ActionAnswerQuestion(), tracker("how much is the columbia AI one", "ask_cost",
                                                          slots={"program": SCM}))
    assert "no price on record for ColumbiaX Artificial Intelligence" in messages[0]["text"]
    assert "$1,350" not in messages[0]["text"]
    assert slots == {"program": "columbiax-artificial-intelligence"}


def test_general_answer_without_a_program(catalog_env):
    messages, slots = run(ActionAnswerQuestion(), tracker("will this help me get a job in Germany", "ask_career"))
    assert "for MicroMasters programs in general" in messages[0]["text"]
    assert "does not guarantee a job" in messages[0]["text"]
    assert slots == {}


def test_two_questions_in_one_get_two_answers(catalog_env):
    messages, _ = run(ActionAnswerQuestion(), tracker("how much is MITx SCM and can I transfer the credits?",
                                                      "ask_cost+ask_credit"))
    assert len(messages) == 2
    assert "$1,350" in messages[0]["text"]
    assert "Zaragoza" in messages[1]["text"]


def test_ambiguous_program_asks_with_buttons_then_answers_the_question(catalog_env):
    messages, slots = run(ActionAnswerQuestion(), tracker("how much is the columbia program?", "ask_cost"))
    assert messages[0]["text"] == "Several programs match. Which one do you mean?"
    assert {b["title"] for b in messages[0]["buttons"]} == {"ColumbiaX Business Analytics",
                                                           "ColumbiaX Artificial Intelligence"}
    assert slots == {"pending_topics": ["cost"]}
    button = next(b for b in messages[0]["buttons"] if b["title"] == "ColumbiaX Business Analytics")
    assert button["payload"] == '/inform_program{"program_id":"columbiax-business-analytics"}'
    chosen = tracker(button["payload"], "inform_program", slots=slots,
                     entities=[{"entity": "program_id", "value": "columbiax-business-analytics"}])
    messages, slots = run(ActionAnswerQuestion(), chosen)
    assert "no price on record for ColumbiaX Business Analytics" in messages[0]["text"]
    assert slots == {"program": "columbiax-business-analytics", "pending_topics": None}


def test_only_naming_a_program_offers_the_topics(catalog_env):
    messages, slots = run(ActionAnswerQuestion(), tracker("the supply chain one", "inform_program"))
    assert messages[0]["text"].startswith("MITx Supply Chain Management (Massachusetts Institute of Technology)")
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/ask_credit", "/ask_admission", "/ask_career",
                                                               "/ask_cost"]
    assert slots == {"program": SCM}


def test_unknown_program_is_said_plainly(catalog_env):
    messages, slots = run(ActionAnswerQuestion(), tracker("what about the Hogwarts potions one", "inform_program",
                                                          slots={"program": SCM}))
    assert "couldn't find that program" in messages[0]["text"]
    assert slots == {}


def test_a_program_added_to_the_catalog_is_answered_without_restart(catalog_env, catalog_dict):
    question = tracker("how much is the Widget Engineering micromasters?", "ask_cost")
    messages, _ = run(ActionAnswerQuestion(), question)
    assert "in general" in messages[0]["text"]
    extended = copy.deepcopy(catalog_dict)
    new_program = copy.deepcopy(next(p for p in extended["programs"] if p["id"] == SCM))
    new_program.update(id="mitx-widget-engineering", title="Widget Engineering", aliases=["widgets"],
                       course_codes=["WE1x"])
    new_program["prices"] = [{"kind": "total", "amount": 999, "amount_max": None, "currency": "USD",
                              "as_of": "2026-11", "note": None, "source": None}]
    extended["programs"].append(new_program)
    load_catalog(catalog_env, parse_catalog(extended))
    messages, slots = run(ActionAnswerQuestion(), question)
    assert "What MITx Widget Engineering costs" in messages[0]["text"]
    assert "Total: $999 (as of 2026-11)" in messages[0]["text"]
    assert slots == {"program": "mitx-widget-engineering"}


def test_offer_support_points_to_the_support_team(monkeypatch):
    monkeypatch.setenv("SUPPORT_URL", "https://support.example.org")
    messages, _ = run(ActionOfferSupport(), tracker("what is the weather", "out_of_scope"))
    assert "https://support.example.org" in messages[0]["text"]
