"""Kalshi's per-API-key token buckets, as the embedded exchange enforces them.

Contract: the tiers, endpoint costs, bucket routing, per-shard write billing and the ``TokenBucket``
arithmetic are ``kalshi/limits.py``'s (one table shared with the client; re-exported here for the
exchange's modules). ``RateLimiter`` keeps one read bucket and one write bucket per scope (unscoped
and each shard) per API key, created full on first use, on a monotonic nanosecond clock independent
of the exchange's (possibly simulated) clock: limits protect wall time. A spend billed to several
buckets is all-or-nothing; a refused spend takes nothing (no penalty, no cooldown).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from kalshi_trader.kalshi.limits import (
    DEFAULT_COST,
    DEFAULT_TIER,
    EVERY_SHARD,
    PER_ITEM_COSTS,
    SHARDED_WRITES,
    TIERS,
    UNSCOPED,
    V2_ORDERS,
    Bucket,
    KeyBuckets,
    Tier,
    TokenBucket,
    bucket_for,
    cost_for,
    scopes_for,
    take_all,
)

__all__ = [
    "DEFAULT_COST",
    "DEFAULT_TIER",
    "EVERY_SHARD",
    "PER_ITEM_COSTS",
    "SHARDED_WRITES",
    "TIERS",
    "UNSCOPED",
    "V2_ORDERS",
    "Bucket",
    "RateLimiter",
    "Tier",
    "TokenBucket",
    "bucket_for",
    "cost_for",
    "scopes_for",
]


class RateLimiter:
    """Token buckets per (API key, bucket, scope), created full on first use."""

    def __init__(self, tier: Tier = DEFAULT_TIER, *, clock_ns: Callable[[], int] = time.monotonic_ns) -> None:
        self._tier = tier
        self._clock_ns = clock_ns
        self._keys: dict[str, KeyBuckets] = {}
        self._tiers: dict[str, Tier] = {}

    @property
    def tier(self) -> Tier:
        return self._tier

    def set_tier(self, key_id: str, tier: Tier) -> None:
        """Give one API key its own tier (its buckets restart full)."""
        self._tiers[key_id] = tier
        self._keys.pop(key_id, None)

    def tier_of(self, key_id: str) -> Tier:
        return self._tiers.get(key_id, self._tier)

    def _of(self, key_id: str) -> KeyBuckets:
        buckets = self._keys.get(key_id)
        if buckets is None:
            buckets = self._keys[key_id] = KeyBuckets(self.tier_of(key_id), self._clock_ns)
        return buckets

    def try_spend(self, key_id: str, bucket: Bucket, cost: int, scopes: Sequence[int] = (UNSCOPED,)) -> bool:
        """True (and the tokens are taken from each) iff every one of ``key_id``'s ``bucket``
        buckets in ``scopes`` holds ``cost`` tokens (reads have one bucket whatever the scopes)."""
        return take_all(self._of(key_id).billed(bucket, scopes), cost)

    def available(self, key_id: str, bucket: Bucket, scope: int = UNSCOPED) -> int:
        return self._of(key_id).get(bucket, scope).available()
