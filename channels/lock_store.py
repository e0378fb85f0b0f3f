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

A server that dies holding a conversation's ticket would keep that conversation waiting for the
ticket's whole lifetime (60 s): the learner's next message would time out. So each server also keeps
a heartbeat key in Redis (renewed every second, gone 5 s after the server stops), and records which
server holds each ticket; a server waiting for a conversation drops the tickets of servers whose
heartbeat is gone.
"""

import logging
import threading
import uuid
from contextlib import contextmanager
from typing import Iterator

from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
# Longest a server may hold a queue's mutex (a few Redis calls); expires if the server dies meanwhile.
MUTEX_SECONDS = 5
HEARTBEAT_EVERY_SECONDS, HEARTBEAT_LASTS_MS = 1.0, 5000


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)
        self.server_id = uuid.uuid4().hex
        self._stopped = threading.Event()
        self._beat()
        threading.Thread(target=self._keep_beating, name="lock-store-heartbeat", daemon=True).start()

    def _heartbeat_key(self, server_id: str) -> str:
        return f"{self.key_prefix}server:{server_id}"

    def _holders_key(self, conversation_id: str) -> str:
        return f"{self.key_prefix}holders:{conversation_id}"

    def _beat(self) -> None:
        try:
            self.red.set(self._heartbeat_key(self.server_id), 1, px=HEARTBEAT_LASTS_MS)
        except RedisError as error:
            logger.warning("lock store heartbeat not written: %s", error)

    def _keep_beating(self) -> None:
        while not self._stopped.wait(HEARTBEAT_EVERY_SECONDS):
            self._beat()

    @contextmanager
    def _queue_of(self, conversation_id: str) -> Iterator[None]:
        with self.red.lock(f"{self.key_prefix}mutex:{conversation_id}", timeout=MUTEX_SECONDS,
                           blocking_timeout=MUTEX_SECONDS):
            yield

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._queue_of(conversation_id):
            ticket = super().issue_ticket(conversation_id, lock_lifetime)
            holders = self._holders_key(conversation_id)
            self.red.hset(holders, str(ticket), self.server_id)
            self.red.expire(holders, int(lock_lifetime) + 1)
            return ticket

    def update_lock(self, conversation_id: str) -> None:
        """Rasa's (expired tickets out), and the tickets of servers whose heartbeat is gone."""
        with self._queue_of(conversation_id):
            lock = self.get_lock(conversation_id)
            if not lock:
                return
            lock.remove_expired_tickets()
            holders = {int(ticket): server.decode() for ticket, server in
                       self.red.hgetall(self._holders_key(conversation_id)).items()}
            for ticket in list(lock.tickets):
                server = holders.get(ticket.number)
                if server and not self.red.exists(self._heartbeat_key(server)):
                    logger.warning("conversation %s: ticket %d of a server that stopped is dropped",
                                   conversation_id, ticket.number)
                    lock.remove_ticket_for(ticket.number)
            self.save_lock(lock)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._queue_of(conversation_id):
            super().cleanup(conversation_id, ticket_number)
            self.red.hdel(self._holders_key(conversation_id), str(ticket_number))
