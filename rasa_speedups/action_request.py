"""A custom action's request to the action server carries the conversation's recent events only.

Rasa 3.6 sends the action server the tracker with every event it holds (`EventVerbosity.ALL`) on every
custom action call: the Rasa server serialises them, the action server parses them, and the request
grows with the conversation (up to TRACKER_EVENT_WINDOW events, about 30 KB at 70 events). This
project's actions read the slots, the latest message and the input channel, which the request carries
in full as before, and from the events only the last few turns: the handoff's transcript
(`core.support_desk.TRANSCRIPT_TURNS` lines) and the learner's last real question. So the request
carries the events from the LEARNER_MESSAGES-th last learner message on (all of them in a shorter
conversation); everything else in it is what Rasa sends. Installed by `rasa_speedups.install()`.
Replaces: `rasa.core.actions.action:RemoteAction._action_call_format` (checked against Rasa 3.6.21).
"""

from typing import Any, Dict, List

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

REPLACES = {
    "rasa.core.actions.action:RemoteAction._action_call_format": {
        "signature": "(self, tracker: 'DialogueStateTracker', domain: 'Domain') -> Dict[str, Any]",
        "sha256": "428795b944f22edba142d278ec47a30098975b01463ba337ec447dade52a0492",
    },
}

LEARNER_MESSAGES = 5
_rasas_request_body = RemoteAction._action_call_format


def recent_events(events) -> List[Event]:
    """The events from the LEARNER_MESSAGES-th last learner message on; all of them when there are fewer."""
    events = list(events)
    seen = 0
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            seen += 1
            if seen == LEARNER_MESSAGES:
                return events[index:]
    return events


def request_body(action: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> Dict[str, Any]:
    """Rasa's request to the action server, with the recent events."""
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in recent_events(tracker.events)]
    body = {"next_action": action.name(), "sender_id": tracker.sender_id, "tracker": state,
            "version": rasa.__version__}
    if not action._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(action.name()):
        body["domain"] = domain.as_dict()
    return body


def install() -> None:
    def action_call_format(self, tracker: DialogueStateTracker, domain: Domain) -> Dict[str, Any]:
        return request_body(self, tracker, domain)

    RemoteAction._action_call_format = action_call_format
