"""Rasa's RedisLockStore, made safe for several Rasa servers.

Rasa 3.6's RedisLockStore keeps each conversation's ticket queue as one JSON value that it reads,
changes and writes back in separate calls. Two servers taking a ticket for the same conversation at
the same moment both read the same queue and the second write drops the first ticket: both servers
then handle the conversation at once, and one turn's events are lost (RasaHQ/rasa#9213; Rasa's fix,
`ConcurrentRedisLockStore`, was reverted from Rasa Open Source). `tests/e2e/test_cluster.py` showed it:
six messages of one conversation sent to two servers at once left five in the tracker.

This store keeps Rasa's tickets (its `TicketLock`, stored as Rasa stores it) and waiting logic unchanged,
and makes each read-change-write of a conversation's queue one Redis transaction: the queue's key is
WATCHed while it is read, the change is written with MULTI/EXEC, and a change made meanwhile by another
server makes Redis refuse the write, and the change is made again on what is there now (redis-py's
`Redis.transaction`). A ticket costs three round trips to Redis to take and three to give back.
Configured in deploy/cluster/endpoints.yml as `channels.lock_store.AtomicRedisLockStore`.

A server that dies holding a conversation's ticket would keep that conversation waiting for the
ticket's whole lifetime (60 s): the learner's next message would time out. So each server also keeps
a heartbeat key in Redis (renewed every second, gone 5 s after the server stops), and records which
server holds each ticket; a server waiting for a conversation drops the tickets of servers whose
heartbeat is gone.

Rasa's lock store talks to Redis with blocking calls on the server's event loop: while it waits for
Redis's answers, no other learner's message moves. Here each step (take a ticket and read the queue,
wait for the turn, give the ticket back) runs in a worker thread instead, and runs to its end even when
the message's request is cancelled meanwhile (the learner's connection closed), so a ticket is never
left behind in the queue.
"""

import asyncio
import json
import logging
import threading
import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional, Set, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.client import Pipeline
from redis.exceptions import RedisError

from core import settings
from core.log_refs import conversation_ref

logger = logging.getLogger(__name__)
HEARTBEAT_EVERY_SECONDS, HEARTBEAT_LASTS_MS = 1.0, 5000


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        settings.check_redis_auth(str(endpoint_config.url or ""), str(endpoint_config.kwargs.get("password") or ""))
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)
        self.server_id = uuid.uuid4().hex
        self._giving_back: Set[asyncio.Future] = set()
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

    def _lock_key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    def _read_lock(self, pipe: Pipeline, conversation_id: str) -> Optional[TicketLock]:
        """Rasa's `get_lock`, read through a transaction's pipeline (the key is WATCHed)."""
        serialised = pipe.get(self._lock_key(conversation_id))
        return TicketLock.from_dict(json.loads(serialised)) if serialised else None

    def _in_transaction(self, conversation_id: str, change):
        return self.red.transaction(change, self._lock_key(conversation_id), value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        return self._issue(conversation_id, lock_lifetime)[0]

    def _issue(self, conversation_id: str, lock_lifetime: float) -> Tuple[int, TicketLock]:
        """A new ticket, and the conversation's queue with it."""
        holders = self._holders_key(conversation_id)

        def issue(pipe: Pipeline) -> Tuple[int, TicketLock]:
            lock = self._read_lock(pipe, conversation_id) or self.create_lock(conversation_id)
            ticket = lock.issue_ticket(lock_lifetime)
            pipe.multi()
            pipe.set(self._lock_key(conversation_id), lock.dumps())
            pipe.hset(holders, str(ticket), self.server_id)
            pipe.expire(holders, int(lock_lifetime) + 1)
            return ticket, lock

        try:
            return self._in_transaction(conversation_id, issue)
        except Exception as error:  # as Rasa's issue_ticket reports it
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncIterator[TicketLock]:
        """Rasa's `LockStore.lock`, with Redis spoken to from a worker thread."""
        issuing = asyncio.ensure_future(asyncio.to_thread(self._issue, conversation_id, lock_lifetime))
        try:
            ticket, lock = await asyncio.shield(issuing)
        except asyncio.CancelledError:
            issuing.add_done_callback(lambda issued: self._give_back_issued(conversation_id, issued))
            raise
        try:
            yield lock if not lock.is_locked(ticket) else await self._acquire_lock(conversation_id, ticket,
                                                                                   wait_time_in_seconds)
        finally:
            await asyncio.shield(asyncio.to_thread(self.cleanup, conversation_id, ticket))

    def _give_back_issued(self, conversation_id: str, issued: "asyncio.Future[Tuple[int, TicketLock]]") -> None:
        """The ticket of a request cancelled while it was being issued goes back, once it is issued."""
        if not issued.cancelled() and issued.exception() is None:
            giving_back = asyncio.ensure_future(asyncio.to_thread(self.cleanup, conversation_id, issued.result()[0]))
            self._giving_back.add(giving_back)  # the loop keeps only a weak reference to a task
            giving_back.add_done_callback(self._giving_back.discard)

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        """Rasa's wait for the turn: the queue read again every `wait_time_in_seconds`, expired tickets
        (and tickets of stopped servers) dropped, until this ticket is served."""
        while (lock := await asyncio.to_thread(self.get_lock, conversation_id)) is not None:
            if not lock.is_locked(ticket):
                return lock
            logger.debug("conversation %s: %d message(s) before this one", conversation_ref(conversation_id),
                         ticket - (lock.now_serving or 0))
            await asyncio.sleep(wait_time_in_seconds)
            await asyncio.to_thread(self.update_lock, conversation_id)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")

    def update_lock(self, conversation_id: str) -> None:
        """Rasa's (expired tickets out), and the tickets of servers whose heartbeat is gone."""
        def update(pipe: Pipeline) -> None:
            lock = self._read_lock(pipe, conversation_id)
            if not lock:
                return
            lock.remove_expired_tickets()
            holders = {int(ticket): server.decode() for ticket, server in
                       pipe.hgetall(self._holders_key(conversation_id)).items()}
            for ticket in list(lock.tickets):
                server = holders.get(ticket.number)
                if server and not pipe.exists(self._heartbeat_key(server)):
                    logger.warning("conversation %s: ticket %d of a server that stopped is dropped",
                                   conversation_ref(conversation_id), ticket.number)
                    lock.remove_ticket_for(ticket.number)
            pipe.multi()
            pipe.set(self._lock_key(conversation_id), lock.dumps())

        self._in_transaction(conversation_id, update)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Rasa's: the ticket given back, and the queue deleted when no one else waits."""
        def give_back(pipe: Pipeline) -> None:
            lock = self._read_lock(pipe, conversation_id)
            pipe.multi()
            if lock:
                lock.remove_ticket_for(ticket_number)
            if lock and lock.is_someone_waiting():
                pipe.set(self._lock_key(conversation_id), lock.dumps())
            else:
                pipe.delete(self._lock_key(conversation_id))
            pipe.hdel(self._holders_key(conversation_id), str(ticket_number))

        self._in_transaction(conversation_id, give_back)
