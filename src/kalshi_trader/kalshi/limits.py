"""Kalshi's rate limits: the one table of tiers and endpoint costs, and the token bucket both sides run.

Contract (kalshi-docs getting_started/rate_limits.md, kalshi-api.md §5.3):
- Every API key has two independent buckets, **read** (GETs and anything not routed to write) and
  **write** (order create/amend/decrease/cancel and order groups). A bucket refills continuously at
  its tier's rate up to its capacity; a request passes iff the bucket holds its whole cost, which is
  then taken. A refused request takes nothing (no penalty, no cooldown).
- ``TIERS`` holds the documented budgets. Capacity: Basic and Advanced read buckets and every write
  bucket above Basic hold two seconds of budget; the Basic write bucket and read buckets above
  Advanced hold one second.
- Costs (``cost_for`` / ``PER_ITEM_COSTS``): default 10 tokens; V2 cancel 2; V2 batch cancel 2 per
  item; V2 batch create 10 per item; ``GET /portfolio/orders/{order_id}`` 2. Routes are the full
  path patterns (``/trade-api/v2/portfolio/orders/{order_id}``). A batch is billed as one spend of
  the total, so the whole batch must fit in the bucket at once.
- ``TokenBucket`` is exact integer arithmetic (micro-tokens, nanoseconds) on an injected monotonic
  clock. The embedded exchange enforces limits with it (``sim/ratelimit.py``); the client budgets
  with ``ClientRateLimiter``, which waits (never fails) until a request's cost is covered while
  keeping a small reserve (``reserve_for``) for the latency between its clock and the server's, so a
  client that is the only user of its key never earns a 429. A cost that can never fit raises
  ``ValueError`` instead of waiting forever.

This module imports nothing of the project; the embedded exchange imports it (one table, not two).
"""

from __future__ import annotations

import asyncio
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


def tier_named(name: str) -> Tier:
    """The tier called ``name`` (case-insensitive); ``ValueError`` naming the known tiers otherwise."""
    try:
        return TIERS[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown rate-limit tier {name!r}; known: {', '.join(TIERS)}") from None


REST_PREFIX = "/trade-api/v2"
V2_ORDERS = REST_PREFIX + "/portfolio/events/orders"
_FIXED_COSTS: dict[tuple[str, str], int] = {
    ("DELETE", V2_ORDERS + "/{order_id}"): 2,
    ("GET", REST_PREFIX + "/portfolio/orders/{order_id}"): 2,
}
PER_ITEM_COSTS: dict[tuple[str, str], int] = {
    ("POST", V2_ORDERS + "/batched"): 10,
    ("DELETE", V2_ORDERS + "/batched"): 2,
}
"""Batch endpoints: cost per item; a batch is billed ``per_item × len(items)`` in one spend."""

_WRITE_PREFIXES = (V2_ORDERS, REST_PREFIX + "/portfolio/orders", REST_PREFIX + "/portfolio/order_groups")


def bucket_for(method: str, route: str) -> Bucket:
    """Which bucket a request drains: non-GET order and order-group calls are writes."""
    if method.upper() != "GET" and route.startswith(_WRITE_PREFIXES):
        return Bucket.WRITE
    return Bucket.READ


def cost_for(method: str, route: str, items: int = 1) -> int:
    """Token cost of a request to ``route`` (the full route pattern, e.g.
    ``/trade-api/v2/portfolio/orders/{order_id}``); batch endpoints cost per item × ``items``."""
    key = (method.upper(), route)
    per_item = PER_ITEM_COSTS.get(key)
    if per_item is not None:
        return per_item * items
    return _FIXED_COSTS.get(key, DEFAULT_COST)


_MICRO = 1_000_000


class TokenBucket:
    """A continuously refilling bucket; all state is integer micro-tokens. Starts full."""

    __slots__ = ("_capacity", "_clock_ns", "_last_ns", "_level", "_rate")

    def __init__(self, rate: int, capacity: int, clock_ns: Callable[[], int]) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("bucket rate and capacity must be positive")
        self._rate = rate
        self._capacity = capacity * _MICRO
        self._clock_ns = clock_ns
        self._last_ns = clock_ns()
        self._level = self._capacity

    @property
    def rate(self) -> int:
        return self._rate

    @property
    def capacity(self) -> int:
        return self._capacity // _MICRO

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

    def wait_ns(self, tokens: int) -> int:
        """Nanoseconds until the bucket holds ``tokens`` (0 if it does now). ``tokens`` must not
        exceed the capacity."""
        self._refill()
        missing = tokens * _MICRO - self._level
        if missing <= 0:
            return 0
        # rate tokens/s = rate / 1e3 micro-tokens per ns, so missing × 1e3 / rate ns, rounded up
        return -(-missing * 1_000 // self._rate)

    def drain(self) -> None:
        """Empty the bucket (it refills from now)."""
        self._refill()
        self._level = 0


def reserve_for(tier: Tier, bucket: Bucket) -> int:
    """Tokens the client keeps in hand beyond a request's cost: 5 % of the capacity (50-100 ms of
    refill, the slack for request latency between the client's clock and the server's), at least
    one default request."""
    return max(DEFAULT_COST, tier.capacity(bucket) // 20)


class ClientRateLimiter:
    """The client's model of its key's two buckets (share one instance between every client of a key).

    ``acquire(bucket, cost)`` waits until the bucket holds ``cost`` plus the reserve (or is full, for
    a cost that needs the whole bucket), then takes ``cost``. Waiters are served first come, first
    served. ``penalize(bucket)`` empties the model after the server answered 429 (another user of the
    key, or a restart, drained the real bucket)."""

    def __init__(self, tier: Tier = DEFAULT_TIER, *, clock_ns: Callable[[], int] = time.monotonic_ns) -> None:
        self.tier = tier
        self._buckets = {b: TokenBucket(tier.rate(b), tier.capacity(b), clock_ns) for b in Bucket}
        self._locks = {b: asyncio.Lock() for b in Bucket}

    def available(self, bucket: Bucket) -> int:
        return self._buckets[bucket].available()

    def check_fits(self, bucket: Bucket, cost: int) -> None:
        """``ValueError`` if ``cost`` exceeds what the bucket can ever hold."""
        capacity = self.tier.capacity(bucket)
        if cost > capacity:
            raise ValueError(
                f"request costs {cost} {bucket} tokens but the {self.tier.name} tier's {bucket} bucket holds "
                f"{capacity}; split the batch"
            )

    async def acquire(self, bucket: Bucket, cost: int) -> None:
        self.check_fits(bucket, cost)
        b = self._buckets[bucket]
        need = min(cost + reserve_for(self.tier, bucket), b.capacity)
        async with self._locks[bucket]:
            while True:
                wait = b.wait_ns(need)
                if wait == 0 and b.try_take(cost):
                    return
                await asyncio.sleep(max(wait, 1_000_000) / 1e9)

    def penalize(self, bucket: Bucket) -> None:
        self._buckets[bucket].drain()
