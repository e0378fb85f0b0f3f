"""A lease for work that exactly one Rasa server may do at a time (the handoff loop).

With one process (no REDIS_HOST) this process always holds it. With several, the lease is a redis-py
lock with an expiry: the holder renews it each round, and when the holder dies the lock expires and
the next server to ask takes it over. While Redis is unreachable nobody holds it: the loop's work
waits in the database until Redis is back, it is never done twice.
"""

import logging
from typing import Optional

import redis
from redis.exceptions import LockError, RedisError

from core import settings

logger = logging.getLogger(__name__)
REDIS_TIMEOUT_SECONDS = 2


class Lease:
    def __init__(self, name: str, seconds: float, url: Optional[str] = None):
        url = settings.redis_url() if url is None else url
        self.name = name
        self._lock = None
        if url:
            client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                          socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
            self._lock = client.lock(f"micromasters:lease:{name}", timeout=seconds, blocking=False,
                                     thread_local=False)  # renewed from whichever worker thread runs it

    def hold(self) -> bool:
        """Renew the lease if this process holds it, else try to take it. Blocking: call it in a thread."""
        if self._lock is None:
            return True
        try:
            if self._lock.local.token is not None:
                try:
                    self._lock.reacquire()
                    return True
                except LockError:  # expired, and perhaps taken by another server meanwhile
                    self._lock.local.token = None
            taken = self._lock.acquire(blocking=False)
            if taken:
                logger.info("this server now holds the %s lease", self.name)
            return bool(taken)
        except RedisError as error:
            logger.warning("Redis unreachable, the %s lease is not held: %s", self.name, error)
            self._lock.local.token = None
            return False

    def release(self) -> None:
        if self._lock is None or self._lock.local.token is None:
            return
        try:
            self._lock.release()
        except (LockError, RedisError):
            pass  # expired or unreachable: the expiry frees it anyway
