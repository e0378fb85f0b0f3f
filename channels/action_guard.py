"""A reply within seconds, whatever the action server does.

Rasa 3.6 waits up to five minutes for the action server (`DEFAULT_REQUEST_TIMEOUT`, not configurable)
and, when a custom action fails (server down, hung, 5xx), logs the error and sends the learner
nothing. This wraps Rasa's `RemoteAction.run`: the call is bounded by ACTION_TIMEOUT_SECONDS, and a
failure becomes a short message with the support team's contact, so the learner is never left
waiting in silence. The next message tries the action server again: nothing to restart.

Rasa 3.6 is the last open-source release, so the wrapped method will not change under us; the
tests in tests/e2e/test_faults.py fail if it does. Installed once, by `channels/__init__.py`, when the
Rasa server loads the project's channels.
Replaces: `rasa.core.actions.action:RemoteAction.run` (checked against Rasa 3.6.21).
"""

import asyncio
import logging

import aiohttp
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.events import BotUttered
from rasa.shared.exceptions import RasaException

from core import notices, settings

REPLACES = {
    "rasa.core.actions.action:RemoteAction.run": {
        "signature": "(self, output_channel: 'OutputChannel', nlg: 'NaturalLanguageGenerator', tracker: 'DialogueStateTracker', domain: 'Domain') -> List[rasa.shared.core.events.Event]",  # noqa: E501 - as Rasa writes it
        "sha256": "ccabf6f1160d527a157fad5bd285ce69e8221b1bcad23f8a61499b4360a1c17e",
    },
}

logger = logging.getLogger(__name__)


def install() -> None:
    original = RemoteAction.run
    if getattr(original, "guarded", False):
        return

    async def run_within_time(self, output_channel, nlg, tracker, domain):
        timeout = settings.action_timeout_seconds()
        try:
            return await asyncio.wait_for(original(self, output_channel, nlg, tracker, domain), timeout)
        except ActionExecutionRejection:
            raise  # the action declined: Rasa's policies choose another, as designed
        except asyncio.TimeoutError:
            logger.error("action %s: no answer from the action server within %.1f s", self.name(), timeout)
        except (RasaException, aiohttp.ClientError) as error:
            logger.error("action %s failed: %s", self.name(), error)
        return [BotUttered(notices.temporarily_unavailable(settings.support_url()),
                           metadata={"fault": "action_server"})]

    run_within_time.guarded = True
    RemoteAction.run = run_within_time
