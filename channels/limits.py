"""How much one client may send the Rasa server: request size, and rate.

Size. Sanic reads request bodies of up to 100 MB by default, and engine.io socket.io packets of up to
1 MB: a 5 MB REST message held the server for 14.5 s while health checks waited. The channels cap both
at MAX_REQUEST_BYTES (256 KiB): Sanic answers a larger body with 413 before reading it, engine.io
closes the socket that sends a larger packet. HAProxy refuses larger bodies in front (`ops/cluster.py`).

Rate. Each conversation may send MESSAGES_PER_MINUTE messages, and each client address
ADDRESS_MESSAGES_PER_MINUTE, as leaky buckets (aiolimiter): a short burst passes, a steady flood does
not. A message over the limit is not handled: REST answers 429 with Retry-After, the widget gets a
reply saying to wait, and a line is logged. The address is the learner's: a request from a trusted
proxy (loopback, and TRUSTED_PROXIES) is counted under the address that proxy appended to
X-Forwarded-For, and not by address when it names none (the tests and benchmarks on this machine).
Without that, every learner behind HAProxy or an Ingress would share the proxy's one address. Each
Rasa server limits what reaches it; behind HAProxy a learner's messages reach one server, so the
per-conversation limit holds per learner. Slack questions to the assistant are limited per Slack user,
and slash commands too (staff replies in a handoff thread are not).

Refused messages are counted per day and channel for the dashboard (`core.refusals`), saved in
batches SAVE_REFUSALS_SECONDS after the first refusal of a batch, and when the server stops.
"""

import asyncio
import ipaddress
import logging
from collections import Counter
from datetime import datetime, timezone
from typing import Optional

from aiolimiter import AsyncLimiter
from cachetools import TTLCache
from sanic import Blueprint

from core import refusals, settings
from core.log_refs import conversation_ref

logger = logging.getLogger(__name__)
TRACKED_KEYS = 100_000  # conversations and addresses remembered (a bucket idle for a minute is empty anyway)
SAVE_REFUSALS_SECONDS = 5


def with_limits(blueprint: Blueprint) -> Blueprint:
    """`blueprint`, capping the whole app's request bodies when the server starts (Sanic reads the cap
    for each new connection), refusing to start with a short secret, and saving the refusals not yet
    saved when it stops."""

    @blueprint.listener("before_server_start")
    async def cap_request_size(app, _loop) -> None:
        if settings.rasa_server_secret_problems():  # `rasa run` in an image: the server does not start
            raise ValueError("; ".join(settings.rasa_server_secret_problems()))
        app.config.REQUEST_MAX_SIZE = settings.max_request_bytes()

    @blueprint.listener("before_server_stop")
    async def save_refusals(_app, _loop) -> None:
        await message_rates().save_refusals()

    return blueprint


def _trusted(address: str, proxies) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    parsed = getattr(parsed, "ipv4_mapped", None) or parsed
    return any(parsed in network for network in proxies)


def client_address(peer: Optional[str], forwarded_for: Optional[str]) -> Optional[str]:
    """The learner's address for the per-address limit: the peer, or, when the peer is a trusted proxy,
    the rightmost X-Forwarded-For entry that is not (what the nearest untrusted hop was seen as; a client
    can add entries to the left, not to the right); None when a trusted proxy names nobody."""
    proxies = settings.trusted_proxies()
    if not peer or not _trusted(peer, proxies):
        return peer or None
    for entry in reversed([part.strip() for part in (forwarded_for or "").split(",") if part.strip()]):
        if not _trusted(entry, proxies):
            return entry[:64]
    return None


class MessageRates:
    """Leaky buckets per conversation and per client address, forgotten a minute after their last use."""

    def __init__(self, per_conversation: Optional[int] = None, per_address: Optional[int] = None) -> None:
        self.per_conversation = per_conversation or settings.messages_per_minute()
        self.per_address = per_address or settings.address_messages_per_minute()
        self._buckets: TTLCache = TTLCache(maxsize=TRACKED_KEYS, ttl=60)
        self.refused = 0
        self._unsaved: Counter = Counter()  # (day, channel) -> refused, not yet in core.refusals
        self._saving: Optional[asyncio.TimerHandle] = None
        self._tasks: set = set()

    async def allow(self, conversation_id: str, address: Optional[str], channel: str) -> bool:
        """Whether this message may be handled now; counts it when it may (without waiting: with capacity,
        `acquire` returns at once), and counts the refusal for the dashboard when it may not."""
        buckets = [self._bucket(("conversation", conversation_id), self.per_conversation)]
        if address:
            buckets.append(self._bucket(("address", address), self.per_address))
        if all(bucket.has_capacity() for bucket in buckets):
            for bucket in buckets:
                await bucket.acquire()
            return True
        self.refused += 1
        logger.warning("rate limit: a %s message of conversation %s refused (%d refused so far)",
                       channel, conversation_ref(conversation_id), self.refused)
        self._unsaved[(datetime.now(timezone.utc).strftime("%Y-%m-%d"), channel)] += 1
        if self._saving is None:
            self._saving = asyncio.get_running_loop().call_later(SAVE_REFUSALS_SECONDS, self._save_soon)
        return False

    def _save_soon(self) -> None:
        task = asyncio.ensure_future(self.save_refusals())
        self._tasks.add(task)  # held until done (the loop keeps only a weak reference)
        task.add_done_callback(self._tasks.discard)

    async def save_refusals(self) -> None:
        """Add the refusals counted since the last save to the database (off the event loop). When the
        database cannot be reached they are kept and go with the next save."""
        if self._saving is not None:
            self._saving.cancel()
            self._saving = None
        counts, self._unsaved = self._unsaved, Counter()
        if not counts:
            return
        try:
            await asyncio.to_thread(refusals.add, dict(counts))
        except Exception:
            logger.exception("could not save %d refused messages' counts; they go with the next save",
                             sum(counts.values()))
            self._unsaved.update(counts)

    def _bucket(self, key: tuple, per_minute: int) -> AsyncLimiter:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = AsyncLimiter(per_minute, 60)
        self._buckets[key] = bucket  # (re)set: its minute starts again
        return bucket


_rates: Optional[MessageRates] = None


def message_rates() -> MessageRates:
    """The process's limits, shared by its channels (REST and the widget count together)."""
    global _rates
    if _rates is None:
        _rates = MessageRates()
    return _rates
