"""The shared rate-limit table and the client's budget (``kalshi/limits.py``)."""

from __future__ import annotations

import asyncio

import pytest

from kalshi_trader.kalshi import limits
from kalshi_trader.kalshi.limits import TIERS, Bucket, ClientRateLimiter, TokenBucket, cost_for, reserve_for, tier_named
from kalshi_trader.sim import ratelimit


class FakeClock:
    def __init__(self) -> None:
        self.ns = 5_000_000_000

    def __call__(self) -> int:
        return self.ns


def test_the_exchange_uses_the_same_table() -> None:
    assert ratelimit.TIERS is limits.TIERS
    assert ratelimit.PER_ITEM_COSTS is limits.PER_ITEM_COSTS
    assert ratelimit.cost_for is limits.cost_for
    assert ratelimit.TokenBucket is limits.TokenBucket


def test_batch_costs_scale_with_items() -> None:
    assert cost_for("POST", "/trade-api/v2/portfolio/events/orders/batched", 7) == 70
    assert cost_for("DELETE", "/trade-api/v2/portfolio/events/orders/batched", 7) == 14
    assert cost_for("DELETE", "/trade-api/v2/portfolio/events/orders/{order_id}", 7) == 2


def test_tier_names() -> None:
    assert tier_named(" Premier ") is TIERS["premier"]
    with pytest.raises(ValueError, match="known: basic, advanced"):
        tier_named("gold")


def test_wait_is_exact_and_drain_empties() -> None:
    clock = FakeClock()
    bucket = TokenBucket(200, 400, clock)
    assert bucket.wait_ns(400) == 0
    assert bucket.try_take(400)
    assert bucket.wait_ns(10) == 50_000_000  # 10 tokens at 200/s
    clock.ns += 25_000_000
    assert bucket.wait_ns(10) == 25_000_000
    bucket.drain()
    assert bucket.available() == 0
    assert bucket.wait_ns(1) == 5_000_000


def test_reserve_is_five_percent_but_at_least_one_request() -> None:
    assert reserve_for(TIERS["basic"], Bucket.READ) == 20
    assert reserve_for(TIERS["basic"], Bucket.WRITE) == 10
    assert reserve_for(TIERS["prestige"], Bucket.READ) == 500


async def test_acquire_takes_now_while_the_reserve_holds_then_waits() -> None:
    clock = FakeClock()
    limiter = ClientRateLimiter(TIERS["basic"], clock_ns=clock)
    for _ in range(38):  # 400 capacity, 20 kept in reserve: 38 reads of 10 go at once
        await asyncio.wait_for(limiter.acquire(Bucket.READ, 10), 0.01)
    assert limiter.available(Bucket.READ) == 20
    waiter = asyncio.ensure_future(limiter.acquire(Bucket.READ, 10))
    await asyncio.sleep(0.01)
    assert not waiter.done()  # the fake clock stands still: no refill
    clock.ns += 50_000_000  # +10 tokens
    await asyncio.wait_for(waiter, 1.0)
    assert limiter.available(Bucket.READ) == 20


async def test_a_batch_needing_the_whole_bucket_waits_for_a_full_bucket() -> None:
    clock = FakeClock()
    limiter = ClientRateLimiter(TIERS["basic"], clock_ns=clock)
    await asyncio.wait_for(limiter.acquire(Bucket.WRITE, 100), 0.01)  # 10 creates: the Basic write bucket
    assert limiter.available(Bucket.WRITE) == 0
    with pytest.raises(ValueError, match="holds 100; split the batch"):
        await limiter.acquire(Bucket.WRITE, 110)


async def test_penalize_empties_the_model() -> None:
    clock = FakeClock()
    limiter = ClientRateLimiter(TIERS["basic"], clock_ns=clock)
    limiter.penalize(Bucket.READ)
    assert limiter.available(Bucket.READ) == 0
    assert limiter.available(Bucket.WRITE) == 100
