"""Kalshi's per-API-key token buckets, as the embedded exchange enforces them.

Contract: the tiers, endpoint costs, bucket routing and the ``TokenBucket`` arithmetic are
``kalshi/limits.py``'s (one table shared with the client; re-exported here for the exchange's
modules). ``RateLimiter`` keeps one pair of buckets (read, write) per API key, created full on first
use, on a monotonic nanosecond clock independent of the exchange's (possibly simulated) clock:
limits protect wall time. A refused spend takes nothing (no penalty, no cooldown).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kalshi_trader.kalshi.limits import (
    DEFAULT_COST,
    DEFAULT_TIER,
    PER_ITEM_COSTS,
    TIERS,
    V2_ORDERS,
    Bucket,
    Tier,
    TokenBucket,
    bucket_for,
    cost_for,
)

__all__ = [
    "DEFAULT_COST",
    "DEFAULT_TIER",
    "PER_ITEM_COSTS",
    "TIERS",
    "V2_ORDERS",
    "Bucket",
    "RateLimiter",
    "Tier",
    "TokenBucket",
    "bucket_for",
    "cost_for",
]


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
