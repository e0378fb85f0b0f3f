"""Rasa's Pika event broker, without a deep copy of every event it publishes.

Rasa 3.6's `PikaEventBroker._publish` deep-copies each event (with its NLU parse data) to build a
reduced version for a debug log line, whether or not debug logging is on: with five to ten events a
turn, that copying was about a tenth of the Rasa server's CPU under load. This broker publishes the
same messages, to the same exchange and queues, with the same keeping of unpublished events for
after a reconnection; the reduced copy is made only when that debug line would be written, and an
error log names the event's type and conversation instead of carrying its text.

Configured in deploy/cluster/endpoints.yml as `channels.event_broker.PikaEventBroker`.
"""

import logging
from typing import Any, Dict, Optional

from rasa.core.brokers import pika
from rasa.shared.core.events import remove_parse_data

from core.log_refs import conversation_ref

logger = logging.getLogger(__name__)


class PikaEventBroker(pika.PikaEventBroker):
    async def _publish(self, event: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> None:
        if self._exchange is None:
            return
        try:
            await self._exchange.publish(self._message(event, headers), "")
        except Exception:
            logger.exception("event %s of conversation %s not published to RabbitMQ%s", event.get("event"),
                             conversation_ref(event.get("sender_id")),
                             "; kept to publish after reconnecting" if self.should_keep_unpublished_messages else "")
            if self.should_keep_unpublished_messages:
                self._unpublished_events.append(event)
            if self.raise_on_failure:
                await self.close()
                raise
        else:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("published %s", remove_parse_data(event))
