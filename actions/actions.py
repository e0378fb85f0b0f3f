"""Rasa custom actions: read the tracker, run the turn against the catalog, send, return events."""

import asyncio
import functools
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions import answers
from actions.links import style_for_channel
from actions.turns import Context, Reply, answer_turn, context_program, general_turn, program_name, topics_of_intent
from core import handoffs, languages, notices, settings, support_desk
from core.log_refs import conversation_ref
from core.message_metadata import ANSWER_METADATA_KEY, SUPPORT_METADATA_KEY

logger = logging.getLogger(__name__)
PROGRAM_SLOT = "program"
PENDING_SLOT = "pending_topics"
LAST_TOPICS_SLOT = "last_topics"
PAGE_SLOT = "page_program"
LANGUAGE_SLOT = "language"
DECLINED_METADATA_KEY = "declined"  # on a reply that answers nothing on purpose (a language we don't answer)
WEB_CHANNEL = "socketio"


async def off_the_loop(function, *args, **kwargs):
    """Blocking work (database, Slack) runs in a thread, not on the action server's event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args, **kwargs))


async def conversation_context(tracker: Tracker) -> Tuple[Context, Optional[str]]:
    """The turn's context from the slots and the widget's page (message metadata `program_id`)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    page = metadata.get("program_id") if isinstance(metadata, dict) else None
    program_id, page_program = await off_the_loop(
        context_program, tracker.get_slot(PROGRAM_SLOT), tracker.get_slot(PAGE_SLOT),
        page if isinstance(page, str) else None,
    )
    context = Context(program_id, tuple(tracker.get_slot(LAST_TOPICS_SLOT) or ()),
                      tuple(tracker.get_slot(PENDING_SLOT) or ()))
    return context, page_program


def chosen_program(tracker: Tracker) -> Optional[str]:
    """The program id a button payload chose (`/inform_program{"program_id": "..."}`); anything but a
    string (a learner can type any payload) is ignored."""
    value = next(tracker.get_latest_entity_values("program_id"), None)
    return value if isinstance(value, str) else None


def slot_changes(tracker: Tracker, reply: Reply, page_program: Optional[str]) -> List[Dict]:
    """Only changed slots: Rasa validates every returned event against a large JSON schema."""
    wanted = {
        PROGRAM_SLOT: reply.program_id,
        PENDING_SLOT: list(reply.pending_topics) or None,
        LAST_TOPICS_SLOT: list(reply.last_topics) or None,
        PAGE_SLOT: page_program,
    }
    return [SlotSet(slot, value) for slot, value in wanted.items() if tracker.get_slot(slot) != value]


def reply_language(tracker: Tracker) -> str:
    """The language to answer in: the conversation's (the `language` slot) when we answer it, else English."""
    return languages.answer_language(tracker.get_slot(LANGUAGE_SLOT))


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    """An answer from the catalog carries, in the message's metadata (stored with the conversation, not
    shown to the learner), which program and topic it answered, in which language: the support team's
    dashboard counts the facts served from it, and `make bench` grades the answers by it."""
    for outgoing in reply.messages:
        answered = {ANSWER_METADATA_KEY: {"program_id": reply.program_id, "topic": outgoing.topic,
                                          "language": reply.language}} if outgoing.topic else {}
        dispatcher.utter_message(text=outgoing.text, buttons=list(outgoing.buttons), **answered)


class AnswersFromCatalog:
    """For actions that read the catalog database: if the database is down, the learner hears so at
    once, with the support team's contact, instead of an error and silence. (A mixin, not an Action
    subclass: rasa-sdk registers every Action subclass it finds as an action.)"""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
        try:
            return await self.answer(dispatcher, tracker)
        except SQLAlchemyError:
            logger.exception("%s: the catalog database is unavailable", self.name())
            dispatcher.messages.clear()
            dispatcher.utter_message(text=notices.temporarily_unavailable(settings.support_url()))
            return []

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict]:
        raise NotImplementedError


class ActionAnswerQuestion(AnswersFromCatalog, Action):
    """Answers credit/admission/career/cost questions, and a message that only names a program."""

    def name(self) -> str:
        return "action_answer_question"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict]:
        message = tracker.latest_message or {}
        context, page_program = await conversation_context(tracker)
        reply = await off_the_loop(
            answer_turn,
            text=message.get("text") or "",
            topics=topics_of_intent((message.get("intent") or {}).get("name")),
            context=context,
            chosen_program_id=chosen_program(tracker),
            link=style_for_channel(tracker.get_latest_input_channel()),
            language=reply_language(tracker),
            rule_threshold=settings.faq_rule_threshold(),
            rule_margin=settings.faq_match_margin(),
        )
        send(dispatcher, reply)
        return slot_changes(tracker, reply, page_program)


def conversation_turns(tracker: Tracker) -> List[Tuple[str, str]]:
    turns = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            turns.append(("learner", event["text"]))
        elif event.get("event") == "bot" and event.get("text"):
            turns.append(("assistant", event["text"]))
    return turns


def question_for_staff(tracker: Tracker) -> str:
    """The learner's last real question: skip "I want a person" to the message before it."""
    user_events = [e for e in tracker.events if e.get("event") == "user" and e.get("text")]
    for event in reversed(user_events):
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in ("request_human", "greet", "thank"):
            return event["text"]
    return user_events[-1]["text"] if user_events else "(no question)"


SUPPORT_DESK_BUSY = "busy"  # start_handoff's outcome past HANDOFFS_PER_HOUR


def start_handoff(sender_id: str, question: str, program_id: Optional[str], turns) -> str:
    """Open (or find) the learner's handoff and post it; returns support_desk's outcome, or
    SUPPORT_DESK_BUSY when the last hour's handoffs reached HANDOFFS_PER_HOUR (a script opening
    sessions that ask for a person flooded the support channel)."""
    hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    handoff = handoffs.open_handoff_unless_busy(sender_id, question, program_name(program_id),
                                                support_desk.transcript(turns), hour_ago, settings.handoffs_per_hour())
    if handoff is None:
        logger.warning("rate limit: no new handoff for conversation %s, HANDOFFS_PER_HOUR (%d) reached",
                       conversation_ref(sender_id), settings.handoffs_per_hour())
        return SUPPORT_DESK_BUSY
    return support_desk.post_handoff(handoff)


async def offer_support(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict]:
    """The support team's contact; for a web learner with Slack configured, a handoff to them. The
    message's metadata says which (analytics counts the conversation as handed off)."""
    if not settings.handoff_enabled() or tracker.get_latest_input_channel() != WEB_CHANNEL:
        dispatcher.utter_message(text=notices.offer_support(settings.support_url(), reply_language(tracker)),
                                 **{SUPPORT_METADATA_KEY: "contact"})
        return []
    outcome = await off_the_loop(start_handoff, tracker.sender_id, question_for_staff(tracker),
                                 tracker.get_slot(PROGRAM_SLOT), conversation_turns(tracker))
    if outcome == SUPPORT_DESK_BUSY:
        dispatcher.utter_message(text=notices.support_desk_busy(settings.support_url()),
                                 **{SUPPORT_METADATA_KEY: "busy"})
        return []
    if outcome == support_desk.REFUSED:  # Slack refuses for good: don't mute the learner for nobody
        dispatcher.utter_message(text=notices.handoff_unavailable(settings.support_url()),
                                 **{SUPPORT_METADATA_KEY: "unavailable"})
        return []
    if outcome == support_desk.RETRYING:
        dispatcher.utter_message(text=notices.handoff_delayed(settings.support_url()),
                                 **{SUPPORT_METADATA_KEY: "delayed"})
    else:
        dispatcher.utter_message(text=notices.handoff_started(), **{SUPPORT_METADATA_KEY: "handoff"})
    # Listening, paused: Rasa stops predicting without logging action_listen, and its rule for
    # `/restart` only fires after action_listen; without this a learner could not restart.
    return [ConversationPaused(), ActionExecuted("action_listen")]


class ActionOfferSupport(Action):
    """When the assistant cannot help (two misses, asks for a person).

    A learner on the website with Slack configured is handed off to the support team: the question
    goes to the support channel and the conversation pauses until staff hand it back. Elsewhere the
    learner gets the support team's contact.
    """

    def name(self) -> str:
        return "action_offer_support"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
        return await offer_support(dispatcher, tracker)


class ActionAnswerGeneral(AnswersFromCatalog, Action):
    """A question beyond the four topics: a sourced general-FAQ answer, else the support team.

    Never one of the four topic answers: a wrong answer given with confidence is worse than
    "I don't know".
    """

    def name(self) -> str:
        return "action_answer_general"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict]:
        message = tracker.latest_message or {}
        context, page_program = await conversation_context(tracker)
        reply = await off_the_loop(
            general_turn,
            text=message.get("text") or "",
            threshold=settings.faq_match_threshold((message.get("intent") or {}).get("name") or ""),
            margin=settings.faq_match_margin(),
            context=context,
            link=style_for_channel(tracker.get_latest_input_channel()),
            language=reply_language(tracker),
        )
        if reply is None:
            dispatcher.utter_message(text=answers.no_sourced_answer(reply_language(tracker)))
            return await offer_support(dispatcher, tracker)
        send(dispatcher, reply)
        return slot_changes(tracker, reply, page_program)


class ActionAnswerUnsupportedLanguage(Action):
    """A message in a language the assistant does not answer (the NLU pipeline's language gate): a
    short reply in that language where we have one, and in English, with the support team's contact.
    No topic answer: one guessed from English n-grams would be confidently wrong."""

    def name(self) -> str:
        return "action_answer_unsupported_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
        language = languages.normalise(tracker.get_slot(LANGUAGE_SLOT)) or "en"
        dispatcher.utter_message(text=notices.language_not_answered(settings.support_url(), language),
                                 **{DECLINED_METADATA_KEY: "unsupported_language"})
        return []
