"""Rasa's SQL tracker store, saving a turn without reading the conversation again.

Rasa 3.6's SQLTrackerStore, to save a turn, counts the conversation's stored events with a query (to
know which events are new) and, when an event broker is configured, loads and rebuilds the whole
conversation a second time to work out which events to publish. Both grow with the conversation.

This store remembers, on each tracker it hands out, how many of its events are already stored. The
turn's new events are simply the ones after that: they are inserted and published without reading
anything back. That is exact because one conversation is handled by one server at a time (Rasa's lock
store; `channels.lock_store` across servers). A tracker this store did not hand out (a new one) is
saved the way Rasa saves it. Reading a conversation is unchanged.

Configured in endpoints.yml and deploy/cluster/endpoints.yml as
`channels.tracker_store.IncrementalSQLTrackerStore`.
"""

import itertools
import json

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

STORED_EVENTS = "_micromasters_stored_events"  # set on trackers this store handed out or saved


class IncrementalSQLTrackerStore(SQLTrackerStore):
    async def retrieve(self, sender_id: str):
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            setattr(tracker, STORED_EVENTS, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        stored = getattr(tracker, STORED_EVENTS, None)
        if stored is None:
            await super().save(tracker)
        else:
            new_events = list(itertools.islice(tracker.events, stored, None))
            if self.event_broker is not None:
                await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
            with self.session_scope() as session:
                session.add_all([self._row(tracker.sender_id, event) for event in new_events])
                session.commit()
        setattr(tracker, STORED_EVENTS, len(tracker.events))

    def _row(self, sender_id: str, event):
        data = event.as_dict()
        return self.SQLEvent(sender_id=sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
                             intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                             action_name=data.get("name"), data=json.dumps(data))
