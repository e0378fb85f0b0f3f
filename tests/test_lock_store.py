"""The cluster's lock store against the local Redis: tickets for one conversation taken by several
servers at once are all distinct, where Rasa's own RedisLockStore loses some."""

import threading
import uuid

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
    config = EndpointConfig(url="127.0.0.1", type="channels.lock_store.AtomicRedisLockStore", db=REDIS_DB,
                            key_prefix="locktest")
    taken = tickets_taken_at_once(lambda: AtomicRedisLockStore(endpoint_config=config))
    assert sorted(taken) == list(range(SERVERS * TICKETS_EACH))
