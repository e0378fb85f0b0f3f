"""Rasa's restart, overridden so a conversation's pause and its handoff agree.

While staff have a conversation (an open handoff), Rasa's tracker is paused. `/restart` resets the
tracker, un-pausing it: here it also closes the handoff and tells staff in the thread. (A new session
resets it too: `channels/session_start.py`, in the Rasa server, pauses that one again.)
"""

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import Restarted
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.actions import off_the_loop
from core import handoffs, support_desk
from core.log_refs import conversation_ref

logger = logging.getLogger(__name__)


def _active_handoff(sender_id: str):
    """The conversation's handoff that is not closed; None also when the database cannot say."""
    try:
        return handoffs.active_handoff_for(sender_id)
    except SQLAlchemyError:
        logger.exception("could not read handoffs for %s; a handoff left open is not closed",
                         conversation_ref(sender_id))
        return None


def _close_for_restart(sender_id: str) -> None:
    handoff = _active_handoff(sender_id)
    if handoff is not None and handoffs.close_handoff(handoff.id, handoffs.RESTARTED):
        support_desk.post_in_thread(handoff, "The learner restarted the conversation: this handoff is closed, and "
                                             "replies here no longer reach them.")


class ActionRestart(Action):
    def name(self) -> str:
        return "action_restart"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
        await off_the_loop(_close_for_restart, tracker.sender_id)
        return [Restarted()]
