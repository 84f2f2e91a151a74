"""Exchange→client delay of WebSocket frames: one histogram per channel, cheap to feed.

Contract:

- Every frame Kalshi sends may carry ``sending_ts_ms``, the Unix time at which it was queued at the
  exchange's network layer. The delay of a frame is the local wall-clock time at which the session
  decoded it minus that stamp. Two clocks are compared, so a skewed local clock shifts every delay;
  a delay that comes out negative is recorded as 0 and counted in ``negative`` (a sign of skew, which
  ``kalshi-trader check`` measures).
- ``FrameDelays.observe_us(delay)`` records one delay in microseconds. It is on the hot path: it
  stores the sample in a ring of the newest ``RECENT`` samples and returns; the ring is folded
  into the cumulative histogram (one sort and a bisection per bucket, not a loop over samples)
  only when it is about to be overwritten or when someone reads.
- Reads: ``snapshot()`` → ``DelaySnapshot`` with the cumulative histogram (bucket upper bounds in
  seconds, ``BUCKETS_S``, Prometheus' convention: counts of observations ≤ each bound, then the
  total), the sum in seconds, and the recent p50 / p99 / max in milliseconds (over the newest
  ``RECENT`` samples; exact, not interpolated from buckets).

This module imports only the standard library.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Final

BUCKETS_S: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Histogram bucket upper bounds in seconds (``+Inf`` is implied)."""
RECENT: Final = 1024
"""Samples kept for the recent quantiles (a power of two)."""
_MASK: Final = RECENT - 1
assert _MASK == 1023  # observe_us spells it as a literal
_BOUNDS_US: Final = tuple(round(b * 1_000_000) for b in BUCKETS_S)


@dataclass(frozen=True, slots=True)
class DelaySnapshot:
    """One channel's delays: cumulative ``buckets`` (count ≤ each of ``BUCKETS_S``), ``count``,
    ``sum_s``; recent ``p50_ms`` / ``p99_ms`` / ``max_ms`` (None before the first frame)."""

    buckets: tuple[int, ...]
    count: int
    sum_s: float
    negative: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None


class FrameDelays:
    """Delays of one channel's frames (see the module docstring)."""

    __slots__ = ("_counts", "_folded", "_n", "_ring", "_sum_us", "negative")

    def __init__(self) -> None:
        self._ring = [0] * RECENT
        self._n = 0
        """Samples observed."""
        self._folded = 0
        """Samples already counted in the histogram."""
        self._counts = [0] * (len(_BOUNDS_US) + 1)
        self._sum_us = 0
        self.negative = 0

    def observe_us(self, delay_us: int) -> None:
        """Record one delay (microseconds; a negative one counts as 0 and in ``negative``, when folded)."""
        n = self._n
        if n - self._folded == RECENT:  # the ring is full of unfolded samples: fold before overwriting
            self._fold()
        self._ring[n & 1023] = delay_us  # 1023 == _MASK, a literal: no global lookup per frame
        self._n = n + 1

    def _fold(self) -> None:
        """Count the samples observed since the last fold into the histogram: one C-speed sort of
        them and a bisection per bucket bound (a few ns per sample, not a Python loop over them)."""
        n, folded = self._n, self._folded
        if n == folded:
            return
        start, count = folded & _MASK, n - folded
        ring = self._ring
        chunk = ring[start : start + count] + ring[: max(0, start + count - RECENT)]
        chunk.sort()
        negative = bisect.bisect_left(chunk, 0)
        if negative:  # stamped later than received: a skewed clock; counted as 0
            self.negative += negative
            chunk[:negative] = [0] * negative
        counts, below = self._counts, 0
        for i, bound in enumerate(_BOUNDS_US):
            upto = bisect.bisect_right(chunk, bound)
            counts[i] += upto - below
            below = upto
        counts[-1] += count - below
        self._sum_us += sum(chunk)
        self._folded = n

    def snapshot(self) -> DelaySnapshot:
        self._fold()
        cumulative, total = [], 0
        for count in self._counts[:-1]:
            total += count
            cumulative.append(total)
        recent = sorted(max(0, v) for v in self._ring[: min(self._n, RECENT)])
        p50 = p99 = high = None
        if recent:
            p50 = recent[(len(recent) - 1) * 50 // 100] / 1000
            p99 = recent[(len(recent) - 1) * 99 // 100] / 1000
            high = recent[-1] / 1000
        return DelaySnapshot(tuple(cumulative), self._n, self._sum_us / 1_000_000, self.negative, p50, p99, high)
