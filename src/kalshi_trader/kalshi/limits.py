"""Kalshi's rate limits: the one table of tiers, endpoint costs and write billing, and the token
bucket both sides run.

Contract (https://docs.kalshi.com/getting_started/rate_limits, .../exchange_sharding):
- Every API key has a **read** bucket (GETs and anything not routed to write) and **write** buckets
  (order create/amend/decrease/cancel, cancel-all and order groups). A bucket refills continuously
  at its tier's rate up to its capacity; a request passes iff every bucket it bills holds its whole
  cost, which is then taken from each. A refused request takes nothing (no penalty, no cooldown).
- ``TIERS`` holds the documented per-second budgets (Premier and above +20 % since Sep 24 2026).
  Capacity: the Basic and Advanced read buckets and every write bucket above Basic hold **three
  seconds** of budget; the Basic write bucket and read buckets above Advanced hold one second.
- **Write billing per shard** (``write_scopes`` / ``scopes_for``): besides the unscoped write bucket
  (scope ``UNSCOPED`` = 0) each shard ``1 .. SHARD_COUNT - 1`` has a write bucket carrying the full
  tier budget. A single order write (create, cancel, decrease, amend) with ``exchange_index >= 1``
  bills that shard's bucket; ``exchange_index: 0`` bills the unscoped one; an auto-routed write
  (``-1``, or no ``exchange_index`` with a market ticker — a create or amend always names its
  ticker) bills the unscoped bucket and every shard's; no index and no ticker means shard 0.
  Batches, cancel-all and order groups bill the unscoped bucket; reads are not shard-scoped.
- Costs (``cost_for`` / ``PER_ITEM_COSTS``): default 10 tokens; V2 cancel 2; cancel-all 2 (the same
  as cancelling one order); V2 batch cancel 2 per item; V2 batch create 10 per item;
  ``GET /portfolio/orders/{order_id}`` 2. Routes are the full path patterns
  (``/trade-api/v2/portfolio/orders/{order_id}``; placeholder names do not matter). A batch is
  billed as one spend of the total, so the whole batch must fit in the bucket at once.
- ``TokenBucket`` is exact integer arithmetic (micro-tokens, nanoseconds) on an injected monotonic
  clock. The embedded exchange enforces limits with it (``sim/api/ratelimit.py``); the client budgets
  with ``ClientRateLimiter``, which waits (never fails) until a request's cost is covered in every
  bucket it bills while keeping a small reserve (``reserve_for``) for the latency between its clock
  and the server's, and counts no refill after a take from a full bucket until that request is
  answered (the server's bucket was full until it arrived), so a client that is the only user of
  its key never earns a 429. A cost that
  can never fit raises ``ValueError`` instead of waiting forever.

This module imports nothing of the project; the embedded exchange imports it (one table, not two).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
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


BURST_SECONDS = 3
"""Seconds of budget a bursting bucket holds (Basic/Advanced read, write above Basic)."""


def _tier(name: str, read: int, write: int) -> Tier:
    bursting_read = name in ("basic", "advanced")
    bursting_write = name != "basic"
    return Tier(
        name=name,
        read_rate=read,
        write_rate=write,
        read_capacity=read * (BURST_SECONDS if bursting_read else 1),
        write_capacity=write * (BURST_SECONDS if bursting_write else 1),
    )


TIERS: dict[str, Tier] = {
    t.name: t
    for t in (
        _tier("basic", 200, 100),
        _tier("advanced", 300, 300),
        _tier("expert", 600, 600),
        _tier("premier", 1_200, 1_200),
        _tier("paragon", 2_400, 2_400),
        _tier("prime", 4_800, 4_800),
        _tier("prestige", 12_000, 9_600),
    )
}
"""Documented event-contract tiers (rate_limits page, Sep 2026)."""

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
_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def _key(method: str, route: str) -> tuple[str, str]:
    """(method, route) with every ``{name}`` placeholder made anonymous, so ``{id}`` and
    ``{order_id}`` name the same route."""
    return method.upper(), _PLACEHOLDER.sub("{}", route)


FIXED_COSTS: tuple[tuple[str, str, int], ...] = (
    ("DELETE", V2_ORDERS + "/{order_id}", 2),
    ("DELETE", V2_ORDERS, 2),
    ("GET", REST_PREFIX + "/portfolio/orders/{order_id}", 2),
)
"""(method, route, cost) of the single requests that do not cost ``DEFAULT_COST``."""
_FIXED_COSTS: dict[tuple[str, str], int] = {_key(method, route): cost for method, route, cost in FIXED_COSTS}
PER_ITEM_COSTS: dict[tuple[str, str], int] = {
    ("POST", V2_ORDERS + "/batched"): 10,
    ("DELETE", V2_ORDERS + "/batched"): 2,
}
"""Batch endpoints: cost per item; a batch is billed ``per_item × len(items)`` in one spend."""


def non_default_costs() -> list[tuple[str, str, int]]:
    """(method, route, cost) of every endpoint whose cost is not ``DEFAULT_COST`` (a batch's cost
    per item), what ``GET /account/endpoint_costs`` lists."""
    per_item = [(method, route, cost) for (method, route), cost in PER_ITEM_COSTS.items() if cost != DEFAULT_COST]
    return [*FIXED_COSTS, *per_item]


SHARDED_WRITES: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", V2_ORDERS),
        ("DELETE", V2_ORDERS + "/{order_id}"),
        ("POST", V2_ORDERS + "/{order_id}/amend"),
        ("POST", V2_ORDERS + "/{order_id}/decrease"),
    }
)
"""The single order writes billed per shard (everything else bills ``UNSCOPED``)."""
_SHARDED = frozenset(_key(m, r) for m, r in SHARDED_WRITES)

_WRITE_PREFIXES = (V2_ORDERS, REST_PREFIX + "/portfolio/orders", REST_PREFIX + "/portfolio/order_groups")

SHARD_COUNT = 4
"""Kalshi's exchange shards (exchange_sharding page): 0 default, 1 combos, 2 crypto and commodities,
3 tennis, baseball and basketball. Each has a write bucket (shard 0's is the unscoped one)."""
UNSCOPED = 0
EVERY_SHARD: tuple[int, ...] = tuple(range(SHARD_COUNT))


def bucket_for(method: str, route: str) -> Bucket:
    """Which bucket a request drains: non-GET order and order-group calls are writes."""
    if method.upper() != "GET" and route.startswith(_WRITE_PREFIXES):
        return Bucket.WRITE
    return Bucket.READ


def cost_for(method: str, route: str, items: int = 1) -> int:
    """Token cost of a request to ``route`` (the full route pattern, e.g.
    ``/trade-api/v2/portfolio/orders/{order_id}``); batch endpoints cost per item × ``items``."""
    key = _key(method, route)
    per_item = PER_ITEM_COSTS.get(key)
    if per_item is not None:
        return per_item * items
    return _FIXED_COSTS.get(key, DEFAULT_COST)


def write_scopes(exchange_index: int | None, *, by_ticker: bool) -> tuple[int, ...]:
    """The write buckets one single order write bills (``UNSCOPED`` and shards ``1..``):
    ``exchange_index >= 1`` that shard's, ``0`` the unscoped one, auto-routed (``-1``, or omitted
    with a market ticker) every one; omitted without a ticker routes to (and bills) shard 0."""
    if exchange_index is None:
        return EVERY_SHARD if by_ticker else (UNSCOPED,)
    if exchange_index < 0:
        return EVERY_SHARD
    return (exchange_index,)


def scopes_for(
    method: str, route: str, *, exchange_index: int | None = None, by_ticker: bool = False
) -> tuple[int, ...]:
    """The buckets of ``bucket_for(method, route)`` a request bills: per ``write_scopes`` for the
    single order writes (``SHARDED_WRITES``), ``(UNSCOPED,)`` for everything else."""
    if _key(method, route) not in _SHARDED:
        return (UNSCOPED,)
    return write_scopes(exchange_index, by_ticker=by_ticker)


_MICRO = 1_000_000


class TokenBucket:
    """A continuously refilling bucket; all state is integer micro-tokens. Starts full."""

    __slots__ = ("_capacity", "_clock_ns", "_holds", "_last_ns", "_level", "_rate")

    def __init__(self, rate: int, capacity: int, clock_ns: Callable[[], int]) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("bucket rate and capacity must be positive")
        self._rate = rate
        self._capacity = capacity * _MICRO
        self._clock_ns = clock_ns
        self._last_ns = clock_ns()
        self._level = self._capacity
        self._holds = 0

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
            if not self._holds:
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

    def hold(self) -> None:
        """Stop refilling until as many ``release`` calls as ``hold`` calls (the client's model
        while the server's bucket may still be full, see ``ClientRateLimiter``)."""
        self._refill()
        self._holds += 1

    def release(self) -> None:
        self._refill()
        self._holds = max(0, self._holds - 1)


def take_all(buckets: Sequence[TokenBucket], cost: int) -> bool:
    """Take ``cost`` from every bucket if each holds it; otherwise take nothing from any."""
    if any(b.available() < cost for b in buckets):
        return False
    for b in buckets:
        b.try_take(cost)
    return True


class KeyBuckets:
    """One API key's read bucket and its write buckets (unscoped and per shard), created full on
    first use."""

    __slots__ = ("_buckets", "_clock_ns", "tier")

    def __init__(self, tier: Tier, clock_ns: Callable[[], int]) -> None:
        self.tier = tier
        self._clock_ns = clock_ns
        self._buckets: dict[tuple[Bucket, int], TokenBucket] = {}

    def get(self, bucket: Bucket, scope: int = UNSCOPED) -> TokenBucket:
        key = (bucket, UNSCOPED if bucket is Bucket.READ else scope)
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = TokenBucket(self.tier.rate(bucket), self.tier.capacity(bucket), self._clock_ns)
        return b

    def billed(self, bucket: Bucket, scopes: Sequence[int]) -> list[TokenBucket]:
        return [self.get(bucket)] if bucket is Bucket.READ else [self.get(bucket, s) for s in scopes]


def reserve_for(tier: Tier, bucket: Bucket) -> int:
    """Tokens the client keeps in hand beyond a request's cost: 5 % of the capacity (the slack for
    the latency between the client's clock and the server's), at least one default request."""
    return max(DEFAULT_COST, tier.capacity(bucket) // 20)


class ClientRateLimiter:
    """The client's model of its key's buckets (share one instance between every client of a key).

    ``acquire(bucket, cost, scopes)`` waits until every billed bucket holds ``cost`` plus the
    reserve (or is full, for a cost that needs the whole bucket), then takes ``cost`` from each.
    Waiters are served first come, first served. ``penalize(bucket, scopes)`` empties the model
    after the server answered 429 (another user of the key, or a restart, drained the real bucket).

    A take from a (nearly) full bucket starts a drain that the server sees only when the request
    arrives — after it was signed and sent behind the rest of the burst, or a fresh TLS handshake;
    until then the server's bucket is full and wastes its refill. So such a take *holds* the
    model's refill: ``acquire`` returns the held buckets and the caller passes them to ``release`` once
    the request has been answered (or failed), which is never before the server billed it."""

    def __init__(self, tier: Tier = DEFAULT_TIER, *, clock_ns: Callable[[], int] = time.monotonic_ns) -> None:
        self.tier = tier
        self._buckets = KeyBuckets(tier, clock_ns)
        self._locks = {b: asyncio.Lock() for b in Bucket}

    def available(self, bucket: Bucket, scope: int = UNSCOPED) -> int:
        return self._buckets.get(bucket, scope).available()

    def check_fits(self, bucket: Bucket, cost: int) -> None:
        """``ValueError`` if ``cost`` exceeds what the bucket can ever hold."""
        capacity = self.tier.capacity(bucket)
        if cost > capacity:
            raise ValueError(
                f"request costs {cost} {bucket} tokens but the {self.tier.name} tier's {bucket} bucket holds "
                f"{capacity}; split the batch"
            )

    async def acquire(self, bucket: Bucket, cost: int, scopes: Sequence[int] = (UNSCOPED,)) -> tuple[TokenBucket, ...]:
        """Take ``cost`` from every billed bucket; returns those whose refill now waits for this
        request's answer (pass them to ``release``)."""
        self.check_fits(bucket, cost)
        billed = self._buckets.billed(bucket, scopes)
        reserve = reserve_for(self.tier, bucket)
        need = min(cost + reserve, self.tier.capacity(bucket))
        async with self._locks[bucket]:
            while True:
                wait = max(b.wait_ns(need) for b in billed)
                if wait == 0:
                    fresh = tuple(b for b in billed if b.available() + reserve >= b.capacity)
                    if take_all(billed, cost):
                        for b in fresh:
                            b.hold()
                        return fresh
                await asyncio.sleep(max(wait, 1_000_000) / 1e9)

    @staticmethod
    def release(held: Sequence[TokenBucket]) -> None:
        """The request that ``acquire`` returned ``held`` for has been answered (or failed)."""
        for b in held:
            b.release()

    def penalize(self, bucket: Bucket, scopes: Sequence[int] = (UNSCOPED,)) -> None:
        for b in self._buckets.billed(bucket, scopes):
            b.drain()
