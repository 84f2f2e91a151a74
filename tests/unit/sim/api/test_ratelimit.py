"""Token buckets: documented tiers, costs, refill and all-or-nothing spends."""

from __future__ import annotations

import pytest

from kalshi_trader.sim.api.ratelimit import (
    PER_ITEM_COSTS,
    TIERS,
    Bucket,
    RateLimiter,
    TokenBucket,
    bucket_for,
    cost_for,
)


class FakeClock:
    def __init__(self) -> None:
        self.ns = 1_000_000_000

    def __call__(self) -> int:
        return self.ns

    def advance_ms(self, ms: int) -> None:
        self.ns += ms * 1_000_000


def test_documented_tier_budgets_and_capacities() -> None:
    """Kalshi's rate_limits page (Sep 2026): Premier and above +20 %; Basic and Advanced read and every write
    bucket above Basic hold three seconds, the rest one."""
    budgets = {name: (t.read_rate, t.write_rate) for name, t in TIERS.items()}
    assert budgets == {
        "basic": (200, 100),
        "advanced": (300, 300),
        "expert": (600, 600),
        "premier": (1_200, 1_200),
        "paragon": (2_400, 2_400),
        "prime": (4_800, 4_800),
        "prestige": (12_000, 9_600),
    }
    capacities = {name: (t.read_capacity, t.write_capacity) for name, t in TIERS.items()}
    assert capacities == {
        "basic": (600, 100),
        "advanced": (900, 900),
        "expert": (600, 1_800),
        "premier": (1_200, 3_600),
        "paragon": (2_400, 7_200),
        "prime": (4_800, 14_400),
        "prestige": (12_000, 28_800),
    }


def test_the_documented_premier_write_example() -> None:
    """The rate_limits page's table: 3,600 after three idle seconds, 360 orders at once, 1,200 a second later."""
    clock = FakeClock()
    limiter = RateLimiter(TIERS["premier"], clock_ns=clock)
    clock.advance_ms(3_000)
    assert limiter.available("k", Bucket.WRITE) == 3_600
    assert all(limiter.try_spend("k", Bucket.WRITE, 10) for _ in range(360))
    assert not limiter.try_spend("k", Bucket.WRITE, 10)
    clock.advance_ms(1_000)
    assert limiter.available("k", Bucket.WRITE) == 1_200


@pytest.mark.parametrize(
    ("method", "route", "bucket", "cost"),
    [
        ("GET", "/trade-api/v2/markets", Bucket.READ, 10),
        ("GET", "/trade-api/v2/portfolio/orders/{order_id}", Bucket.READ, 2),
        ("GET", "/trade-api/v2/portfolio/orders", Bucket.READ, 10),
        ("POST", "/trade-api/v2/portfolio/events/orders", Bucket.WRITE, 10),
        ("DELETE", "/trade-api/v2/portfolio/events/orders/{order_id}", Bucket.WRITE, 2),
        ("POST", "/trade-api/v2/portfolio/events/orders/{order_id}/amend", Bucket.WRITE, 10),
        ("PUT", "/trade-api/v2/portfolio/order_groups/{order_group_id}/reset", Bucket.WRITE, 10),
        ("GET", "/trade-api/v2/portfolio/order_groups", Bucket.READ, 10),
    ],
)
def test_bucket_and_cost_per_endpoint(method: str, route: str, bucket: Bucket, cost: int) -> None:
    assert bucket_for(method, route) is bucket
    assert cost_for(method, route) == cost


def test_batch_costs_are_per_item() -> None:
    assert PER_ITEM_COSTS[("POST", "/trade-api/v2/portfolio/events/orders/batched")] == 10
    assert PER_ITEM_COSTS[("DELETE", "/trade-api/v2/portfolio/events/orders/batched")] == 2


def test_bucket_refuses_without_taking_and_refills_continuously() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, 100, clock)
    for _ in range(10):
        assert bucket.try_take(10)
    assert not bucket.try_take(10)
    assert bucket.available() == 0
    clock.advance_ms(50)  # 100 tok/s x 0.05 s = 5 tokens
    assert bucket.available() == 5
    assert not bucket.try_take(10)  # refused: takes nothing
    clock.advance_ms(50)
    assert bucket.try_take(10)
    clock.advance_ms(60_000)
    assert bucket.available() == 100  # capped at capacity


def test_limiter_keeps_keys_and_buckets_apart() -> None:
    clock = FakeClock()
    limiter = RateLimiter(TIERS["basic"], clock_ns=clock)
    assert all(limiter.try_spend("a", Bucket.WRITE, 10) for _ in range(10))
    assert not limiter.try_spend("a", Bucket.WRITE, 10)
    assert limiter.try_spend("a", Bucket.READ, 10)
    assert limiter.try_spend("b", Bucket.WRITE, 10)


def test_batch_larger_than_capacity_never_fits() -> None:
    limiter = RateLimiter(TIERS["basic"], clock_ns=FakeClock())
    assert not limiter.try_spend("a", Bucket.WRITE, 11 * 10)
    assert limiter.try_spend("a", Bucket.WRITE, 10 * 10)


def test_per_key_tier_override() -> None:
    limiter = RateLimiter(TIERS["basic"], clock_ns=FakeClock())
    limiter.set_tier("vip", TIERS["premier"])
    assert limiter.available("vip", Bucket.WRITE) == 3_600
    assert limiter.available("other", Bucket.WRITE) == 100


def test_a_spend_billed_to_several_shards_is_all_or_nothing() -> None:
    clock = FakeClock()
    limiter = RateLimiter(TIERS["basic"], clock_ns=clock)
    assert limiter.try_spend("k", Bucket.WRITE, 95, scopes=(1,))
    assert not limiter.try_spend("k", Bucket.WRITE, 10, scopes=(0, 1, 2, 3))  # shard 1 is short
    assert [limiter.available("k", Bucket.WRITE, s) for s in range(4)] == [100, 5, 100, 100]
    assert limiter.try_spend("k", Bucket.WRITE, 10, scopes=(0, 2, 3))
    assert [limiter.available("k", Bucket.WRITE, s) for s in range(4)] == [90, 5, 90, 90]
    assert limiter.try_spend("k", Bucket.READ, 10, scopes=(1, 2))  # reads have one bucket
    assert limiter.available("k", Bucket.READ) == 590
