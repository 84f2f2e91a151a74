"""The shared rate-limit table and the client's budget (``kalshi/limits.py``)."""

from __future__ import annotations

import asyncio

import pytest

from kalshi_trader.kalshi import limits
from kalshi_trader.kalshi.limits import TIERS, Bucket, ClientRateLimiter, TokenBucket, cost_for, reserve_for, tier_named
from kalshi_trader.sim.api import ratelimit


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
    assert reserve_for(TIERS["basic"], Bucket.READ) == 30
    assert reserve_for(TIERS["basic"], Bucket.WRITE) == 10
    assert reserve_for(TIERS["prestige"], Bucket.READ) == 600


async def test_acquire_takes_now_while_the_reserve_holds_then_waits() -> None:
    clock = FakeClock()
    limiter = ClientRateLimiter(TIERS["basic"], clock_ns=clock)
    for _ in range(57):  # 600 capacity, 30 kept in reserve: 57 reads of 10 go at once
        limiter.release(await asyncio.wait_for(limiter.acquire(Bucket.READ, 10), 0.01))
    assert limiter.available(Bucket.READ) == 30
    waiter = asyncio.ensure_future(limiter.acquire(Bucket.READ, 10))
    await asyncio.sleep(0.01)
    assert not waiter.done()  # the fake clock stands still: no refill
    clock.ns += 50_000_000  # +10 tokens
    await asyncio.wait_for(waiter, 1.0)
    assert limiter.available(Bucket.READ) == 30


async def test_a_take_from_a_full_bucket_counts_no_refill_until_it_is_answered() -> None:
    """The server's bucket stays full (wasting its refill) until the first request of a burst
    arrives — after signing the burst, a TLS handshake: the model refills only from the answer."""
    clock = FakeClock()
    limiter = ClientRateLimiter(TIERS["basic"], clock_ns=clock)
    first = await asyncio.wait_for(limiter.acquire(Bucket.READ, 10), 0.01)
    assert first  # taken from a full bucket: its refill waits
    rest = [await asyncio.wait_for(limiter.acquire(Bucket.READ, 10), 0.01) for _ in range(56)]
    assert limiter.available(Bucket.READ) == 30
    clock.ns += 1_000_000_000  # a second passes before any answer: no refill counted
    assert limiter.available(Bucket.READ) == 30
    limiter.release(first)
    for held in rest:
        limiter.release(held)
    clock.ns += 100_000_000  # answered: 100 ms of refill from now on
    assert limiter.available(Bucket.READ) == 50


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


V2 = "/trade-api/v2/portfolio/events/orders"


@pytest.mark.parametrize(
    ("exchange_index", "by_ticker", "scopes"),
    [
        (None, True, (0, 1, 2, 3)),  # omitted with a market ticker: auto-routed, every shard
        (-1, True, (0, 1, 2, 3)),
        (0, True, (0,)),  # explicit shard 0: the unscoped bucket
        (2, True, (2,)),  # explicit shard >= 1: that shard's bucket alone
        (3, False, (3,)),
        (None, False, (0,)),  # no index, no ticker: routed to (and billed as) shard 0
    ],
)
def test_single_order_writes_bill_per_shard(
    exchange_index: int | None, by_ticker: bool, scopes: tuple[int, ...]
) -> None:
    assert limits.write_scopes(exchange_index, by_ticker=by_ticker) == scopes
    for method, route in (("POST", V2), ("DELETE", V2 + "/{id}"), ("POST", V2 + "/{x}/amend")):
        assert limits.scopes_for(method, route, exchange_index=exchange_index, by_ticker=by_ticker) == scopes


def test_batches_cancel_all_groups_and_reads_bill_the_unscoped_bucket() -> None:
    for method, route in (
        ("POST", V2 + "/batched"),
        ("DELETE", V2 + "/batched"),
        ("DELETE", V2),
        ("PUT", "/trade-api/v2/portfolio/order_groups/{id}/trigger"),
        ("GET", "/trade-api/v2/markets"),
    ):
        assert limits.scopes_for(method, route, exchange_index=2, by_ticker=True) == (limits.UNSCOPED,)


def test_costs_ignore_placeholder_names() -> None:
    assert cost_for("DELETE", V2 + "/{id}") == cost_for("DELETE", V2 + "/{order_id}") == 2
    assert cost_for("GET", "/trade-api/v2/portfolio/orders/{id}") == 2
    assert cost_for("DELETE", V2) == 2  # cancel-all costs one cancel
    assert cost_for("POST", V2 + "/{id}/amend") == 10


async def test_an_auto_routed_write_waits_for_every_shard_and_spends_each() -> None:
    clock = FakeClock()
    limiter = ClientRateLimiter(TIERS["premier"], clock_ns=clock)  # write: 1,200/s, holds 3,600
    limiter.release(await asyncio.wait_for(limiter.acquire(Bucket.WRITE, 3_000, scopes=(2,)), 0.01))
    assert [limiter.available(Bucket.WRITE, s) for s in range(4)] == [3_600, 3_600, 600, 3_600]
    # shard 2 is not billed (each request answered at once: no refill waits)
    limiter.release(await asyncio.wait_for(limiter.acquire(Bucket.WRITE, 10, scopes=(0,)), 0.01))
    waiter = asyncio.ensure_future(limiter.acquire(Bucket.WRITE, 600, scopes=limits.EVERY_SHARD))
    await asyncio.sleep(0.01)
    assert not waiter.done()  # shard 2 holds 600, short of the cost plus the reserve
    assert [limiter.available(Bucket.WRITE, s) for s in range(4)] == [3_590, 3_600, 600, 3_600]
    clock.ns += 1_000_000_000  # +1,200 everywhere (up to the capacity)
    limiter.release(await asyncio.wait_for(waiter, 1.0))
    assert [limiter.available(Bucket.WRITE, s) for s in range(4)] == [3_000, 3_000, 1_200, 3_000]
    limiter.penalize(Bucket.WRITE, (1,))
    assert [limiter.available(Bucket.WRITE, s) for s in range(4)] == [3_000, 0, 1_200, 3_000]
