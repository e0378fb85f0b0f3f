"""A new session that stays paused while staff have the conversation, started by the Rasa server.

While staff have a conversation (an open handoff), its tracker is paused. Rasa's session start (run
after `session_expiration_time` of silence, and on a conversation's first message) resets the tracker
and so un-pauses it: the assistant would answer again while staff still have the thread. This one
starts the session as Rasa's does, then pauses it again when the conversation has an open handoff.

It runs in the Rasa server, not as a custom action: the check is one indexed query on the handoffs
table, which the Rasa server's Slack channel reads anyway (`core.handoffs`), and a custom action made
every conversation's first message call the action server twice. When the database cannot say within
CHECK_BUDGET_SECONDS, the session starts unpaused (as Rasa's would) and the failure is logged.
Replaces: `rasa.core.actions.action:ActionSessionStart` (checked against Rasa 3.6.21).
"""

import asyncio
import logging
from typing import Optional

from rasa.core.actions import action as rasa_actions
from rasa.shared.core.constants import ACTION_LISTEN_NAME, SESSION_START_METADATA_SLOT
from rasa.shared.core.events import ActionExecuted, ConversationPaused, SlotSet
from sqlalchemy.exc import SQLAlchemyError

from core import handoffs, languages
from core.log_refs import conversation_ref

REPLACES = {
    "rasa.core.actions.action:ActionSessionStart": {
        "signature": "",
        "sha256": "463cd4ab7c9773399e3803cf4b823ef76b54368a5cc442b571d7df6e7bf54c38",
    },
}

logger = logging.getLogger(__name__)
CHECK_BUDGET_SECONDS = 0.5
LANGUAGE_SLOT = "language"


def browser_language(tracker) -> Optional[str]:
    """The browser's language from the session's first message metadata (`language`, e.g. 'es-MX'),
    when the assistant answers in it."""
    metadata = tracker.get_slot(SESSION_START_METADATA_SLOT)
    code = languages.normalise(metadata.get("language")) if isinstance(metadata, dict) else None
    return code if code in languages.SUPPORTED else None


async def has_open_handoff(sender_id: str) -> bool:
    """Whether staff have the conversation; False also when the database cannot say in time."""
    try:
        handoff: Optional[handoffs.Handoff] = await asyncio.wait_for(
            asyncio.to_thread(handoffs.active_handoff_for, sender_id), CHECK_BUDGET_SECONDS)
    except (SQLAlchemyError, asyncio.TimeoutError):
        logger.exception("could not read handoffs for %s; the new session is not paused", conversation_ref(sender_id))
        return False
    return handoff is not None


class HandoffAwareSessionStart(rasa_actions.ActionSessionStart):
    """Rasa's session start (slots carried over as domain.yml says), paused while a handoff is open; a
    conversation with no language yet starts in the browser's, when the widget says it."""

    async def run(self, output_channel, nlg, tracker, domain):
        events = await super().run(output_channel, nlg, tracker, domain)
        listen = next(index for index, event in enumerate(events)
                      if isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME)
        language = browser_language(tracker)
        if language and not tracker.get_slot(LANGUAGE_SLOT):
            events.insert(listen, SlotSet(LANGUAGE_SLOT, language))
        if await has_open_handoff(tracker.sender_id):
            events.insert(listen, ConversationPaused())
        return events


def install() -> None:
    """Make Rasa's default actions use this session start (`default_actions` builds them by name)."""
    rasa_actions.ActionSessionStart = HandoffAwareSessionStart
