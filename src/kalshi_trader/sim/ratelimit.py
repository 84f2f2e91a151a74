"""Kalshi's per-API-key token buckets, as the embedded exchange enforces them.

Contract (kalshi-docs getting_started/rate_limits.md):
- Every API key has two independent buckets, **read** (GETs and anything not routed to write) and
  **write** (order create/amend/decrease/cancel and order groups). A bucket refills continuously at
  its tier's rate up to its capacity; a request passes iff the bucket holds its whole cost, which is
  then taken. A refused request takes nothing (no penalty, no cooldown).
- Tier budgets are the documented ones. Capacity: Basic and Advanced read buckets and every write
  bucket above Basic hold two seconds of budget; the Basic write bucket and read buckets above
  Advanced hold one second.
- Costs: default 10 tokens; V2 cancel 2; V2 batch cancel 2 per item; V2 batch create 10 per item;
  ``GET /portfolio/orders/{order_id}`` 2. A batch is billed as one spend of the total, so the
  whole batch must fit in the bucket at once.
- Arithmetic is exact integers (micro-tokens, nanoseconds). The clock is a monotonic nanosecond
  counter, independent of the exchange's (possibly simulated) clock: limits protect wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Bucket(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class Tier:
    """One usage tier: refill rates in tokens per second and bucket capacities in tokens."""

    name: str
    read_rate: int
    write_rate: int
    read_capacity: int
    write_capacity: int

    def rate(self, bucket: Bucket) -> int:
        return self.read_rate if bucket is Bucket.READ else self.write_rate

    def capacity(self, bucket: Bucket) -> int:
        return self.read_capacity if bucket is Bucket.READ else self.write_capacity


def _tier(name: str, read: int, write: int) -> Tier:
    two_second_read = name in ("basic", "advanced")
    two_second_write = name != "basic"
    return Tier(
        name=name,
        read_rate=read,
        write_rate=write,
        read_capacity=read * (2 if two_second_read else 1),
        write_capacity=write * (2 if two_second_write else 1),
    )


TIERS: dict[str, Tier] = {
    t.name: t
    for t in (
        _tier("basic", 200, 100),
        _tier("advanced", 300, 300),
        _tier("expert", 600, 600),
        _tier("premier", 1_000, 1_000),
        _tier("paragon", 2_000, 2_000),
        _tier("prime", 4_000, 4_000),
        _tier("prestige", 10_000, 8_000),
    )
}
"""Documented event-contract tiers (rate_limits.md, Aug 2026)."""

DEFAULT_TIER = TIERS["basic"]
DEFAULT_COST = 10

V2_ORDERS = "/trade-api/v2/portfolio/events/orders"
_FIXED_COSTS: dict[tuple[str, str], int] = {
    ("DELETE", V2_ORDERS + "/{order_id}"): 2,
    ("GET", "/trade-api/v2/portfolio/orders/{order_id}"): 2,
}
PER_ITEM_COSTS: dict[tuple[str, str], int] = {
    ("POST", V2_ORDERS + "/batched"): 10,
    ("DELETE", V2_ORDERS + "/batched"): 2,
}
"""Batch endpoints: cost per item; the handler bills ``per_item × len(items)`` in one spend."""

_WRITE_PREFIXES = (V2_ORDERS, "/trade-api/v2/portfolio/orders", "/trade-api/v2/portfolio/order_groups")


def bucket_for(method: str, route: str) -> Bucket:
    """Which bucket a request drains: non-GET order and order-group calls are writes."""
    if method.upper() != "GET" and route.startswith(_WRITE_PREFIXES):
        return Bucket.WRITE
    return Bucket.READ


def cost_for(method: str, route: str) -> int:
    """Token cost of a single (non-batch) request to ``route`` (the route pattern, e.g.
    ``/trade-api/v2/portfolio/orders/{order_id}``)."""
    return _FIXED_COSTS.get((method.upper(), route), DEFAULT_COST)


_MICRO = 1_000_000


class TokenBucket:
    """A continuously refilling bucket; all state is integer micro-tokens."""

    __slots__ = ("_capacity", "_clock_ns", "_last_ns", "_level", "_rate")

    def __init__(self, rate: int, capacity: int, clock_ns: Callable[[], int]) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("bucket rate and capacity must be positive")
        self._rate = rate
        self._capacity = capacity * _MICRO
        self._clock_ns = clock_ns
        self._last_ns = clock_ns()
        self._level = self._capacity

    def _refill(self) -> None:
        now = self._clock_ns()
        elapsed = now - self._last_ns
        if elapsed > 0:
            # rate tokens/s × elapsed ns = rate × elapsed / 1e9 tokens = rate × elapsed / 1e3 micro-tokens
            self._level = min(self._capacity, self._level + self._rate * elapsed // 1_000)
            self._last_ns = now

    def available(self) -> int:
        """Whole tokens currently in the bucket."""
        self._refill()
        return self._level // _MICRO

    def try_take(self, cost: int) -> bool:
        """Take ``cost`` tokens if the bucket holds them all; otherwise take nothing."""
        self._refill()
        need = cost * _MICRO
        if need > self._level:
            return False
        self._level -= need
        return True


class RateLimiter:
    """Token buckets per (API key, bucket), created full on first use."""

    def __init__(self, tier: Tier = DEFAULT_TIER, *, clock_ns: Callable[[], int] = time.monotonic_ns) -> None:
        self._tier = tier
        self._clock_ns = clock_ns
        self._buckets: dict[tuple[str, Bucket], TokenBucket] = {}
        self._tiers: dict[str, Tier] = {}

    @property
    def tier(self) -> Tier:
        return self._tier

    def set_tier(self, key_id: str, tier: Tier) -> None:
        """Give one API key its own tier (its buckets restart full)."""
        self._tiers[key_id] = tier
        for bucket in Bucket:
            self._buckets.pop((key_id, bucket), None)

    def tier_of(self, key_id: str) -> Tier:
        return self._tiers.get(key_id, self._tier)

    def _bucket(self, key_id: str, bucket: Bucket) -> TokenBucket:
        b = self._buckets.get((key_id, bucket))
        if b is None:
            tier = self.tier_of(key_id)
            b = TokenBucket(tier.rate(bucket), tier.capacity(bucket), self._clock_ns)
            self._buckets[(key_id, bucket)] = b
        return b

    def try_spend(self, key_id: str, bucket: Bucket, cost: int) -> bool:
        """True (and the tokens are taken) iff ``key_id``'s ``bucket`` holds ``cost`` tokens."""
        return self._bucket(key_id, bucket).try_take(cost)

    def available(self, key_id: str, bucket: Bucket) -> int:
        return self._bucket(key_id, bucket).available()
