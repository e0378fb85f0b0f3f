"""Rasa custom actions: read the tracker, run the turn against the catalog, send, return events."""

import asyncio
import functools
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import answers, settings
from actions.turns import answer_turn, topics_of_intent

PROGRAM_SLOT = "program"
PENDING_SLOT = "pending_topics"


class ActionAnswerQuestion(Action):
    """Answers credit/admission/career/cost questions, and a message that only names a program."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
        message = tracker.latest_message or {}
        chosen = next(tracker.get_latest_entity_values("program_id"), None)
        turn = functools.partial(
            answer_turn,
            text=message.get("text") or "",
            topics=topics_of_intent((message.get("intent") or {}).get("name")),
            context_program_id=tracker.get_slot(PROGRAM_SLOT),
            chosen_program_id=chosen,
            pending_topics=tracker.get_slot(PENDING_SLOT) or (),
        )
        # The database work is blocking; keep it off the action server's event loop.
        reply = await asyncio.get_running_loop().run_in_executor(None, turn)
        for outgoing in reply.messages:
            dispatcher.utter_message(text=outgoing.text, buttons=list(outgoing.buttons))
        # Only changed slots: Rasa validates every returned event against a large JSON schema.
        wanted = {PROGRAM_SLOT: reply.program_id, PENDING_SLOT: list(reply.pending_topics) or None}
        return [SlotSet(slot, value) for slot, value in wanted.items() if tracker.get_slot(slot) != value]


class ActionOfferSupport(Action):
    """Points the learner to the learner-support team (out of scope, repeated misses, asks for a person)."""

    def name(self) -> str:
        return "action_offer_support"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
        dispatcher.utter_message(text=answers.offer_support(settings.support_url()))
        return []
