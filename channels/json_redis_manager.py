"""python-socketio's Redis manager without pickle: what goes through Redis is JSON, and only JSON is read.

python-socketio 5.9.0 (the release Rasa 3.6 pins) publishes every emit between Rasa servers with
`pickle.dumps`, and its listener calls `pickle.loads` on whatever arrives on the channel. Anyone who can
publish to the Redis channel could run code in every Rasa server. Later python-socketio releases
publish JSON, but 5.10 broke Rasa's session persistence, so the project keeps 5.9.0 and this manager:
- `_publish` sends the same message as JSON, with the same one retry on a Redis error;
- `_listen` decodes each message as JSON and passes on only JSON objects. Their base `_thread` takes a
  dict as it is, so `pickle.loads` is never reached. Anything else is dropped with a log line.

Every Rasa server of a cluster must run this manager: a server running python-socketio's own one
publishes pickle, which these servers drop.
Replaces: `socketio.asyncio_redis_manager:AsyncRedisManager._publish` and
`socketio.asyncio_redis_manager:AsyncRedisManager._listen`; relies on
`socketio.asyncio_pubsub_manager:AsyncPubSubManager._thread` taking a dict as it is (checked against
Rasa 3.6.21, whose pinned python-socketio is 5.9.0).
"""

import json
import logging
from typing import Any, AsyncIterator, Dict

from redis.exceptions import RedisError
from socketio import AsyncRedisManager

REPLACES = {
    "socketio.asyncio_redis_manager:AsyncRedisManager._publish": {
        "signature": "(self, data)",
        "sha256": "91a0c6fe19e6842f1bb58a1681d5f15e1074ffeccbc4731f43e1b098481097e6",
    },
    "socketio.asyncio_redis_manager:AsyncRedisManager._listen": {
        "signature": "(self)",
        "sha256": "e65e1eab423b062feef7583531e61ae587bf62baccfff73af90145780c209f00",
    },
    "socketio.asyncio_pubsub_manager:AsyncPubSubManager._thread": {
        "signature": "(self)",
        "sha256": "805e7bac16009b8c6b63e703b0da3409da81ae7a145c2bec251603b4fc418a45",
    },
}

logger = logging.getLogger(__name__)


class JSONRedisManager(AsyncRedisManager):
    async def _publish(self, data: Dict[str, Any]) -> Any:
        message = json.dumps(data)
        try:
            return await self.redis.publish(self.channel, message)
        except RedisError:
            logger.error("cannot publish to Redis; reconnecting and trying once more")
        self._redis_connect()
        try:
            return await self.redis.publish(self.channel, message)
        except RedisError:
            logger.error("cannot publish to Redis; the message is dropped")
            return None

    async def _listen(self) -> AsyncIterator[Dict[str, Any]]:
        async for raw in super()._listen():
            try:
                message = json.loads(raw)
            except (ValueError, TypeError):
                message = None
            if isinstance(message, dict):
                yield message
            else:
                logger.warning("dropped a socket.io message from Redis that is not a JSON object")
