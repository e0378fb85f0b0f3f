"""The in-process message rate limits: per conversation, per client address, loopback exempt by address."""

import asyncio

from channels.limits import MessageRates


def allowed(rates, conversation, address, times):
    async def send():
        return [await rates.allow(conversation, address) for _ in range(times)]
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


def test_loopback_is_not_limited_by_address_but_its_conversations_are():
    rates = MessageRates(per_conversation=2, per_address=3)
    assert all(allowed(rates, f"proxied-{n}", "127.0.0.1", 1)[0] for n in range(20))
    assert allowed(rates, "one", "::1", 3) == [True, True, False]
