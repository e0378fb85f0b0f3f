"""Rasa's session start and restart, overridden so a conversation's pause and its handoff agree.

While staff have a conversation (an open handoff), Rasa's tracker is paused. Two of Rasa's default
actions would un-pause it behind the handoff's back:
- a new session (after `session_expiration_time` of silence) resets the tracker, un-pausing it: the
  assistant would answer again while staff still have the thread. Here a new session of a
  conversation with an open handoff stays paused (the handoff timeout hands it back if nobody answers);
- `/restart` resets it too: here it also closes the handoff and tells staff in the thread.
"""

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, Restarted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.actions import off_the_loop
from core import handoffs, support_desk

logger = logging.getLogger(__name__)


def _active_handoff(sender_id: str):
    """The conversation's handoff that is not closed; None also when the database cannot say."""
    try:
        return handoffs.active_handoff_for(sender_id)
    except SQLAlchemyError:
        logger.exception("could not read handoffs for %s; the new session is not paused", sender_id)
        return None


def _close_for_restart(sender_id: str) -> None:
    handoff = _active_handoff(sender_id)
    if handoff is not None and handoffs.close_handoff(handoff.id, handoffs.RESTARTED):
        support_desk.post_in_thread(handoff, "The learner restarted the conversation: this handoff is closed, and "
                                             "replies here no longer reach them.")


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
        events = [SessionStarted()]
        # domain.yml carries slots over to the new session (`carry_over_slots_to_new_session`).
        events += [SlotSet(name, value) for name, value in tracker.slots.items() if value is not None]
        if await off_the_loop(_active_handoff, tracker.sender_id) is not None:
            events.append(ConversationPaused())
        events.append(ActionExecuted("action_listen"))
        return events


class ActionRestart(Action):
    def name(self) -> str:
        return "action_restart"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
        await off_the_loop(_close_for_restart, tracker.sender_id)
        return [Restarted()]
