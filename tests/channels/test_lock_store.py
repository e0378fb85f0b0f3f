"""The cluster's lock store against the local Redis: tickets for one conversation taken by several
servers at once are all distinct, where Rasa's own RedisLockStore loses some."""

import asyncio
import threading
import time
import uuid

import pytest
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from channels.lock_store import AtomicRedisLockStore

REDIS_DB = 5
SERVERS, TICKETS_EACH = 6, 30


def tickets_taken_at_once(make_store) -> list:
    """SERVERS lock stores (as on separate servers) take TICKETS_EACH tickets for one conversation."""
    conversation, taken, start = f"lock-test-{uuid.uuid4().hex}", [], threading.Barrier(SERVERS)

    def server():
        store = make_store()
        start.wait()
        for _ in range(TICKETS_EACH):
            taken.append(store.issue_ticket(conversation, lock_lifetime=60))

    threads = [threading.Thread(target=server) for _ in range(SERVERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    make_store().delete_lock(conversation)
    return taken


def test_rasas_redis_lock_store_hands_out_the_same_ticket_twice():
    """Why the project has its own: this is the race that lost a turn in the cluster test."""
    taken = tickets_taken_at_once(lambda: RedisLockStore(host="127.0.0.1", db=REDIS_DB, key_prefix="locktest"))
    assert len(set(taken)) < len(taken)


def test_the_atomic_lock_store_never_does():
    taken = tickets_taken_at_once(atomic_store)
    assert sorted(taken) == list(range(SERVERS * TICKETS_EACH))


def atomic_store():
    config = EndpointConfig(url="127.0.0.1", type="channels.lock_store.AtomicRedisLockStore", db=REDIS_DB,
                            key_prefix="locktest")
    return AtomicRedisLockStore(endpoint_config=config)


async def wait_for_turn(store, conversation):
    async with store.lock(conversation, lock_lifetime=60, wait_time_in_seconds=0.2):
        return True


def test_a_conversation_held_by_a_server_that_stopped_is_freed_within_seconds():
    holder, waiter, conversation = atomic_store(), atomic_store(), f"lock-test-{uuid.uuid4().hex}"
    holder.issue_ticket(conversation, lock_lifetime=60)  # the holder takes the conversation's turn
    with pytest.raises(asyncio.TimeoutError):  # while it lives, the turn stays its own
        asyncio.run(asyncio.wait_for(wait_for_turn(waiter, conversation), 1.5))
    holder._stopped.set()  # then it dies: no more heartbeats
    holder.red.delete(holder._heartbeat_key(holder.server_id))
    start = time.monotonic()
    assert asyncio.run(asyncio.wait_for(wait_for_turn(waiter, conversation), 5))
    assert time.monotonic() - start < 3


def test_servers_taking_turns_on_one_conversation_never_overlap_and_leave_nothing_behind():
    """SERVERS stores, each in its own thread and event loop, take turns on one conversation: never two
    inside at once, every turn served, and the queue and its holders gone at the end."""
    conversation, turns_each = f"lock-test-{uuid.uuid4().hex}", 8
    inside, most_inside, served, guard = [0], [0], [], threading.Lock()
    start = threading.Barrier(SERVERS)

    async def turns(store, number):
        for turn in range(turns_each):
            async with store.lock(conversation, lock_lifetime=60, wait_time_in_seconds=0.01):
                with guard:
                    inside[0] += 1
                    most_inside[0] = max(most_inside[0], inside[0])
                await asyncio.sleep(0.002)
                with guard:
                    inside[0] -= 1
                    served.append((number, turn))

    def server(number):
        store = atomic_store()
        start.wait()
        asyncio.run(turns(store, number))

    threads = [threading.Thread(target=server, args=(number,)) for number in range(SERVERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    store = atomic_store()
    assert most_inside[0] == 1
    assert sorted(served) == [(number, turn) for number in range(SERVERS) for turn in range(turns_each)]
    assert store.get_lock(conversation) is None
    assert store.red.hgetall(store._holders_key(conversation)) == {}


def test_while_redis_is_slow_the_event_loop_goes_on_serving_other_learners():
    """Rasa's lock store waits for Redis on the event loop; this one waits in a worker thread. Redis is
    paused for 0.4 s (CLIENT PAUSE) while a message takes its ticket: a ticker on the same loop keeps
    ticking meanwhile."""
    store, conversation = atomic_store(), f"lock-test-{uuid.uuid4().hex}"
    store.red.ping()  # the pool's connection is made before the pause

    async def take_turn_while_ticking():
        ticks, done = [], asyncio.Event()

        async def ticker():
            while not done.is_set():
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        ticking = asyncio.ensure_future(ticker())
        store.red.client_pause(400)
        started = time.monotonic()
        async with store.lock(conversation, lock_lifetime=60):
            waited = time.monotonic() - started
        done.set()
        await ticking
        return waited, ticks

    waited, ticks = asyncio.run(take_turn_while_ticking())
    assert waited >= 0.3  # the ticket really waited for Redis
    assert len(ticks) >= 10 and max(b - a for a, b in zip(ticks[:-1], ticks[1:], strict=True)) < 0.2
    assert store.get_lock(conversation) is None


def test_a_message_cancelled_while_waiting_or_taking_its_ticket_gives_the_ticket_back():
    """A learner's request cancelled (connection closed) while its message waits for the conversation,
    or while its ticket is being taken (Redis paused), leaves no ticket behind to hold up the next."""
    holder, store, conversation = atomic_store(), atomic_store(), f"lock-test-{uuid.uuid4().hex}"
    holders_ticket = holder.issue_ticket(conversation, lock_lifetime=60)

    async def cancelled_while_waiting():
        waiting = asyncio.ensure_future(wait_for_turn(store, conversation))
        await asyncio.sleep(0.3)
        assert len(store.get_lock(conversation).tickets) == 2
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.sleep(0.2)

    asyncio.run(cancelled_while_waiting())
    assert [ticket.number for ticket in store.get_lock(conversation).tickets] == [holders_ticket]
    holder.cleanup(conversation, holders_ticket)

    async def cancelled_while_taking():
        store.red.client_pause(300)
        taking = asyncio.ensure_future(wait_for_turn(store, conversation))
        await asyncio.sleep(0.05)
        taking.cancel()
        with pytest.raises(asyncio.CancelledError):
            await taking
        await asyncio.sleep(0.6)  # the pause ends, the ticket is issued, then given back

    asyncio.run(cancelled_while_taking())
    assert store.get_lock(conversation) is None
    assert store.red.hgetall(store._holders_key(conversation)) == {}
