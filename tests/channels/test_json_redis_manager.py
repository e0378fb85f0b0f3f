"""The cluster's socket.io Redis manager reads JSON only: a pickle published to its channel runs nothing,
where python-socketio 5.9.0's own manager unpickles it (the control). Against the local Redis."""

import asyncio
import json
import pickle
import uuid

import redis
import socketio

from channels.json_redis_manager import JSONRedisManager

REDIS_URL = "redis://127.0.0.1:6379/5"


class Creates:
    """Unpickling this calls open(path, "w"): the file appearing is code run by `pickle.loads`."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (str(self.path), "w")


def emits_seen_after_a_pickle(manager_class, marker) -> list:
    """Starts a socket.io server on `manager_class`, publishes a pickle and then a JSON emit to its channel,
    and returns the emits the manager handled."""
    channel = f"test-socketio-{uuid.uuid4().hex}"

    class Recording(manager_class):
        seen: list = []

        async def _handle_emit(self, message):
            self.seen.append(message)

    async def scenario():
        manager = Recording(REDIS_URL, channel=channel)
        socketio.AsyncServer(client_manager=manager, async_mode="asgi")
        manager.initialize()
        publisher = redis.Redis.from_url(REDIS_URL)
        for _ in range(100):  # until the listener has subscribed
            if publisher.pubsub_numsub(channel)[0][1]:
                break
            await asyncio.sleep(0.05)
        publisher.publish(channel, pickle.dumps(Creates(marker)))
        publisher.publish(channel, b"\x80not json")
        publisher.publish(channel, json.dumps({"method": "emit", "event": "bot_uttered", "data": {"text": "hi"},
                                               "namespace": "/", "room": "r", "skip_sid": None, "callback": None,
                                               "host_id": "another-server"}))
        await manager._publish({"method": "emit", "event": "bot_uttered", "data": {"text": "from here"},
                                "namespace": "/", "room": "r", "skip_sid": None, "callback": None,
                                "host_id": "another-server"})
        for _ in range(100):
            if len(Recording.seen) >= 2:
                break
            await asyncio.sleep(0.05)
        return Recording.seen

    return asyncio.run(scenario())


def test_a_pickle_on_the_channel_runs_nothing_and_json_messages_still_arrive(tmp_path):
    marker = tmp_path / "unpickled"
    seen = emits_seen_after_a_pickle(JSONRedisManager, marker)
    assert not marker.exists()
    assert [message["data"]["text"] for message in seen] == ["hi", "from here"]


def test_python_socketios_own_manager_runs_the_pickle(tmp_path):
    """The control: the same scenario on python-socketio 5.9.0's manager creates the file."""
    marker = tmp_path / "unpickled"
    emits_seen_after_a_pickle(socketio.AsyncRedisManager, marker)
    assert marker.exists()
