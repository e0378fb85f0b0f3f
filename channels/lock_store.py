"""Rasa's RedisLockStore, made safe for several Rasa servers.

Rasa 3.6's RedisLockStore keeps each conversation's ticket queue as one JSON value that it reads,
changes and writes back in separate calls. Two servers taking a ticket for the same conversation at
the same moment both read the same queue and the second write drops the first ticket: both servers
then handle the conversation at once, and one turn's events are lost (RasaHQ/rasa#9213; Rasa's fix,
`ConcurrentRedisLockStore`, was reverted from Rasa Open Source). `tests/test_cluster.py` showed it:
six messages of one conversation sent to two servers at once left five in the tracker.

This store keeps Rasa's ticket queue and waiting logic unchanged, and makes each read-change-write of
the queue atomic with a short redis-py lock (SET NX with an expiry, released by a Lua check) on the
conversation. Configured in deploy/cluster/endpoints.yml as `channels.lock_store.AtomicRedisLockStore`.
"""

from contextlib import contextmanager
from typing import Iterator

from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# Longest a server may hold a queue's mutex (a few Redis calls); expires if the server dies meanwhile.
MUTEX_SECONDS = 5


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    @contextmanager
    def _queue_of(self, conversation_id: str) -> Iterator[None]:
        with self.red.lock(f"{self.key_prefix}mutex:{conversation_id}", timeout=MUTEX_SECONDS,
                           blocking_timeout=MUTEX_SECONDS):
            yield

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._queue_of(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._queue_of(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._queue_of(conversation_id):
            super().cleanup(conversation_id, ticket_number)
