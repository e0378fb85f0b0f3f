"""The in-process message rate limits: per conversation, per client address, loopback exempt by address;
refusals counted for the dashboard."""

import asyncio
from datetime import datetime, timezone

import pytest

from channels import limits
from channels.limits import MessageRates
from core import refusals
from core.db import engine_for


def allowed(rates, conversation, address, times, channel="rest"):
    async def send():
        return [await rates.allow(conversation, address, channel) for _ in range(times)]
    return asyncio.run(send())


def test_a_conversation_may_send_its_burst_and_is_then_refused():
    rates = MessageRates(per_conversation=5, per_address=100)
    assert allowed(rates, "learner-a", "203.0.113.9", 7) == [True] * 5 + [False] * 2
    assert allowed(rates, "learner-b", "203.0.113.9", 1) == [True]  # another conversation is not held up
    assert rates.refused == 2


def test_one_address_opening_many_conversations_is_refused_past_its_limit():
    rates = MessageRates(per_conversation=5, per_address=10)
    outcomes = [allowed(rates, f"flood-{n}", "198.51.100.7", 1)[0] for n in range(15)]
    assert outcomes == [True] * 10 + [False] * 5
    assert allowed(rates, "neighbour", "198.51.100.8", 1) == [True]


def test_loopback_is_not_limited_by_address_but_its_conversations_are(monkeypatch):
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    rates = MessageRates(per_conversation=2, per_address=3)
    for peer in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert limits.client_address(peer, None) is None
    assert all(allowed(rates, f"proxied-{n}", limits.client_address("127.0.0.1", None), 1)[0] for n in range(20))
    assert allowed(rates, "one", limits.client_address("::1", None), 3) == [True, True, False]


def test_behind_a_trusted_proxy_the_learners_address_is_the_one_the_proxy_appended(monkeypatch):
    """Found while checking the limits against the deployments: behind Compose's HAProxy or an Ingress every
    learner reached the Rasa server from the proxy's address, and 300 messages a minute was the limit for
    all of them together."""
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 172.16.0.5")
    assert limits.client_address("10.1.2.3", "198.51.100.7") == "198.51.100.7"
    assert limits.client_address("172.16.0.5", "203.0.113.1, 198.51.100.7, 10.9.9.9") == "198.51.100.7"
    assert limits.client_address("10.1.2.3", None) is None  # the proxy named nobody: it limits, not us
    assert limits.client_address("203.0.113.9", "10.0.0.1") == "203.0.113.9"  # not a proxy: its header is ignored
    assert limits.client_address("127.0.0.1", "not-an-address") == "not-an-address"[:64]
    rates = MessageRates(per_conversation=100, per_address=3)
    behind = [allowed(rates, f"learner-{n}", limits.client_address("10.1.2.3", f"198.51.100.{n % 2}"), 1)[0]
              for n in range(8)]
    assert behind == [True] * 6 + [False] * 2  # two learners, three each
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/33")
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        limits.client_address("10.1.2.3", None)


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def test_refusals_are_saved_in_one_batch_per_channel_and_added_to_what_is_stored(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr(limits, "SAVE_REFUSALS_SECONDS", 0.2)
    rates = MessageRates(per_conversation=1, per_address=100)

    async def flood():
        outcomes = [await rates.allow("widget-flood", "203.0.113.9", "socketio") for _ in range(6)]
        outcomes += [await rates.allow("rest-flood", "203.0.113.9", "rest") for _ in range(3)]
        assert refusals.per_day(today(), today()) == {}  # not one write per refused message
        await asyncio.sleep(0.6)  # the batch is saved
        outcomes += [await rates.allow("rest-flood", "203.0.113.9", "rest")]
        await rates.save_refusals()  # as when the server stops
        return outcomes

    outcomes = asyncio.run(flood())
    assert outcomes == [True] + [False] * 5 + [True] + [False] * 3
    assert refusals.per_day(today(), today()) == {today(): {"socketio": 5, "rest": 3}}
    assert refusals.per_day("2000-01-01", "2000-01-02") == {}


def test_refusals_the_database_does_not_take_are_kept_for_the_next_save(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing-listens-here")
    rates = MessageRates(per_conversation=1, per_address=100)

    async def refuse_then_save():
        await rates.allow("learner", None, "rest")
        await rates.allow("learner", None, "rest")
        await rates.save_refusals()  # the database cannot be reached: the count is kept

    asyncio.run(refuse_then_save())
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'catalog.db'}")
    asyncio.run(rates.save_refusals())
    assert refusals.per_day(today(), today()) == {today(): {"rest": 1}}


def test_adding_to_a_day_already_stored_sums_the_counts(database_url):
    engine = engine_for(database_url)
    refusals.add({("2026-12-07", "rest"): 2}, engine)
    refusals.add({("2026-12-07", "rest"): 3, ("2026-12-07", "slack"): 1}, engine)
    assert refusals.per_day("2026-12-07", "2026-12-07", engine) == {"2026-12-07": {"rest": 5, "slack": 1}}
