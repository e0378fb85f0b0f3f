"""The custom actions with real rasa_sdk Tracker objects against a real catalog database."""

import asyncio
import copy

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionAnswerGeneral, ActionAnswerQuestion, ActionOfferSupport
from catalog.file import parse_catalog
from catalog.loader import load_catalog
from core import handoffs, notices

SCM = "mitx-supply-chain-management"


@pytest.fixture
def catalog_env(loaded_engine, database_url, monkeypatch):
    """The actions read DATABASE_URL, as they do in the action server."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return loaded_engine


def tracker(text, intent, slots=None, entities=None, metadata=None, channel="rest"):
    return Tracker(
        sender_id="learner",
        slots={"program": None, "pending_topics": None, "last_topics": None, "page_program": None, **(slots or {})},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.9},
                        "entities": entities or [], "metadata": metadata or {}},
        events=[{"event": "user", "text": text, "input_channel": channel}],
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
    assert messages[0]["text"].startswith("MITx Supply Chain Management: $1,350 in total")
    assert "as of c. 2016-2018" in messages[0]["text"]
    assert messages[0]["text"].split().count("https://micromasters.mit.edu/scm/frequently-asked-questions/") == 1
    assert slots == {"program": SCM, "last_topics": ["cost"]}


def test_follow_up_reuses_the_program_in_context(catalog_env):
    messages, slots = run(ActionAnswerQuestion(), tracker("and does it guarantee admission?", "ask_admission",
                                                          slots={"program": SCM, "last_topics": ["cost"]}))
    assert messages[0]["text"].startswith("No. Completing MITx Supply Chain Management does not guarantee")
    assert slots == {"last_topics": ["admission"]}  # same program


def test_naming_another_program_switches(catalog_env):
    messages, slots = run(ActionAnswerQuestion(), tracker("how much is the RIT cybersecurity one", "ask_cost",
                                                          slots={"program": SCM}))
    assert "No price on record for RITx Cybersecurity" in messages[0]["text"]
    assert "$1,350" not in messages[0]["text"]
    assert slots == {"program": "ritx-cybersecurity", "last_topics": ["cost"]}


def test_general_answer_without_a_program(catalog_env):
    messages, slots = run(ActionAnswerQuestion(), tracker("will this help me get a job in Germany", "ask_career"))
    assert "for MicroMasters programs in general" in messages[0]["text"]
    assert "does not guarantee a job" in messages[0]["text"]
    assert slots == {"last_topics": ["career"]}


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
    assert "No price on record for ColumbiaX Business Analytics" in messages[0]["text"]
    assert slots == {"program": "columbiax-business-analytics", "pending_topics": None, "last_topics": ["cost"]}


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
                              "as_of": "2026-11", "note": None, "source": "mit-scm-faq"}]
    extended["programs"].append(new_program)
    load_catalog(catalog_env, parse_catalog(extended))
    messages, slots = run(ActionAnswerQuestion(), question)
    assert messages[0]["text"].startswith("MITx Widget Engineering: $999 in total, as of 2026-11.")
    assert slots == {"program": "mitx-widget-engineering", "last_topics": ["cost"]}


def test_offer_support_points_to_the_support_team(monkeypatch):
    monkeypatch.setenv("SUPPORT_URL", "https://support.example.org")
    messages, _ = run(ActionOfferSupport(), tracker("what is the weather", "out_of_scope"))
    assert "https://support.example.org" in messages[0]["text"]


def test_elliptical_follow_up_answers_the_last_question_for_the_new_program(catalog_env):
    messages, slots = run(ActionAnswerQuestion(), tracker("what about the wageningen one?", "inform_program",
                                                          slots={"program": SCM, "last_topics": ["cost"]}))
    assert messages[0]["text"].startswith("WageningenX Biobased Sciences for Sustainability: $1,200 in total")
    assert slots == {"program": "wageningenx-biobased-sciences"}


def test_elliptical_follow_up_to_an_ambiguous_name_keeps_the_question_for_the_button(catalog_env):
    messages, slots = run(ActionAnswerQuestion(), tracker("and for Columbia?", "inform_program",
                                                          slots={"program": SCM, "last_topics": ["credit"]}))
    assert messages[0]["text"] == "Several programs match. Which one do you mean?"
    assert slots == {"pending_topics": ["credit"]}


def test_page_program_answers_a_question_without_a_program_name(catalog_env):
    on_page = {"program_id": "wageningenx-biobased-sciences"}
    messages, slots = run(ActionAnswerQuestion(), tracker("how much does it cost?", "ask_cost", metadata=on_page))
    assert messages[0]["text"].startswith("WageningenX Biobased Sciences for Sustainability: $1,200")
    assert slots == {"program": "wageningenx-biobased-sciences", "last_topics": ["cost"],
                     "page_program": "wageningenx-biobased-sciences"}
    # Naming another program still switches, on the same page, and the next question stays with it.
    messages, slots = run(ActionAnswerQuestion(), tracker(
        "what does the MITx SCM one cost?", "ask_cost", metadata=on_page,
        slots={"program": "wageningenx-biobased-sciences", "page_program": "wageningenx-biobased-sciences"}))
    assert "$1,350" in messages[0]["text"]
    messages, slots = run(ActionAnswerQuestion(), tracker(
        "is admission guaranteed?", "ask_admission", metadata=on_page,
        slots={"program": SCM, "page_program": "wageningenx-biobased-sciences"}))
    assert "MITx Supply Chain Management" in messages[0]["text"]


def test_an_unknown_page_program_is_ignored(catalog_env):
    messages, slots = run(ActionAnswerQuestion(), tracker("how much does it cost?", "ask_cost",
                                                          metadata={"program_id": "no-such-program"}))
    assert "for MicroMasters programs in general" in messages[0]["text"]
    assert "page_program" not in slots


def test_links_follow_the_channel(catalog_env):
    messages, _ = run(ActionAnswerQuestion(), tracker("how much does the MITx SCM cost?", "ask_cost",
                                                      channel="socketio"))
    assert "[MIT SCM MicroMasters FAQ](https://micromasters.mit.edu/scm/frequently-asked-questions/)" in \
        messages[0]["text"]


FAQ_ENTRIES = [
    {"topic": "refunds", "program": None, "question": "Can I get a refund?",
     "phrasings": ["refund policy", "can I get my money back", "how do I get a refund for a course"],
     "answer": "Verified upgrades can be refunded within a set period", "as_of": "2024",
     "source": "mit-scm-faq"},
    {"topic": "exams", "program": None, "question": "Are the exams proctored?",
     "phrasings": ["is the final exam proctored", "can I take the exam from home"],
     "answer": "Some programs have proctored exams", "as_of": "2023", "source": "mit-scm-faq"},
    {"topic": "exams", "program": SCM, "question": "How does the SCM final exam work?",
     "phrasings": ["SCM comprehensive final exam"],
     "answer": "SCM ends with a proctored comprehensive final exam", "as_of": "2022", "source": "mit-scm-faq"},
]


@pytest.fixture
def faq_catalog(catalog_env, catalog_dict):
    with_faq = copy.deepcopy(catalog_dict)
    with_faq["faq"] = copy.deepcopy(FAQ_ENTRIES)
    load_catalog(catalog_env, parse_catalog(with_faq))
    return catalog_env


def test_general_question_gets_the_sourced_faq_answer_never_a_topic_answer(faq_catalog):
    messages, slots = run(ActionAnswerGeneral(), tracker("how can I get my money back?", "ask_general"))
    assert messages[0]["text"].startswith("Verified upgrades can be refunded within a set period (as of 2024).")
    assert "https://micromasters.mit.edu/scm/frequently-asked-questions/" in messages[0]["text"]
    assert slots == {"last_topics": ["faq:refunds"]}


def test_general_answer_is_the_programs_own_when_its_source_is(faq_catalog):
    messages, _ = run(ActionAnswerGeneral(), tracker("can I take the exam from home?", "ask_general",
                                                     slots={"program": SCM}))
    assert messages[0]["text"].startswith("For MITx Supply Chain Management: SCM ends with a proctored")
    messages, _ = run(ActionAnswerGeneral(), tracker("can I take the exam from home?", "ask_general"))
    assert messages[0]["text"].startswith("Some programs have proctored exams")


def test_follow_up_after_a_general_answer_asks_it_for_the_new_program(faq_catalog):
    messages, _ = run(ActionAnswerQuestion(), tracker("what about supply chain?", "inform_program",
                                                      slots={"last_topics": ["faq:exams"]}))
    assert messages[0]["text"].startswith("For MITx Supply Chain Management: SCM ends with a proctored")


def test_general_question_without_a_sourced_answer_offers_support(faq_catalog, monkeypatch):
    monkeypatch.setenv("SUPPORT_URL", "https://support.example.org")
    messages, _ = run(ActionAnswerGeneral(), tracker("what is the weather in Paris", "out_of_scope"))
    assert messages[0]["text"] == "I don't have a sourced answer to that, and I won't guess."
    assert "https://support.example.org" in messages[1]["text"]
    assert not any("$" in m["text"] for m in messages)


@pytest.mark.parametrize("per_hour, handed_off", [(2, False), (3, True)])
def test_past_handoffs_per_hour_a_learner_gets_the_contact_and_slack_gets_nothing(database_url, monkeypatch,
                                                                                 per_hour, handed_off):
    """A script opening sessions that ask for a person flooded the support channel with handoffs."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SUPPORT_CHANNEL", "CSUPPORT")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/")  # nothing listens: a post fails at once
    monkeypatch.setenv("SUPPORT_URL", "https://support.example.org")
    monkeypatch.setenv("HANDOFFS_PER_HOUR", str(per_hour))
    for earlier in ("flood-1", "flood-2"):
        handoffs.open_handoff(earlier, "a person please", None, "")
    messages, _ = run(ActionOfferSupport(), tracker("I want a person", "request_human", channel="socketio"))
    assert (handoffs.active_handoff_for("learner") is not None) == handed_off
    if not handed_off:
        assert messages == [{**messages[0], "text": notices.support_desk_busy("https://support.example.org")}]
        assert messages[0]["support"] == "busy"
