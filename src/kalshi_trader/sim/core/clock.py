"""Simulated time for the embedded exchange: a monotonic clock that runs ``speed`` times faster
than real time from a chosen start.

Contract:
- ``SimClock(start=..., speed=...)``: ``now_ms()`` is integer milliseconds of simulated time (Unix
  epoch based, like the wall clock it replaces). It starts at ``start`` (ms or an aware datetime;
  default: the wall clock now) and advances ``speed`` simulated milliseconds per real millisecond
  of the monotonic ``real_ns`` clock (speed 60 = one simulated hour per real minute; speed 0 =
  frozen, moved only by ``advance``). ``speed`` may be an int, a ``Fraction`` or a float; it is
  kept as an exact fraction and the arithmetic is integer, so the same real elapsed time always
  gives the same simulated time.
- ``now_ms()`` never decreases — across speed changes, ``advance`` and holds.
- ``hold_at(ms)`` sets a barrier: ``now_ms()`` will not pass ``ms`` until the barrier is moved or
  cleared (``hold_at(None)``), while ``target_ms()`` keeps reporting where free-running time would
  be. The exchange's housekeeping uses this to step through every scheduled boundary (market
  open/close, a world's determinations and settlements) in order, at its exact time, however far a
  real tick jumps — nobody can observe (or trade at) a simulated time past a boundary that has not
  been processed yet. A hold stays until housekeeping (or the caller) moves it; a clock that no
  exchange holds runs free.
- ``EmbeddedExchange(clock_ms=clock.now_ms)`` (or ``clock_ms=clock``) plugs it in; request
  signatures are still verified against the wall clock by the exchange.

No I/O; not thread-safe (one event loop owns it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from fractions import Fraction

_NS_PER_MS = 1_000_000


def _to_ms(start: int | datetime | None) -> int:
    if start is None:
        return time.time_ns() // _NS_PER_MS
    if isinstance(start, datetime):
        if start.tzinfo is None:
            raise ValueError("SimClock start must be timezone-aware")
        return int(start.timestamp() * 1000)
    return int(start)


def _to_speed(speed: int | float | Fraction) -> Fraction:
    value = Fraction(speed)
    if value < 0:
        raise ValueError(f"SimClock speed must be >= 0, not {speed}")
    return value


class SimClock:
    """Simulated exchange time (see the module docstring)."""

    def __init__(
        self,
        *,
        start: int | datetime | None = None,
        speed: int | float | Fraction = 1,
        real_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._real_ns = real_ns
        self._speed = _to_speed(speed)
        self._anchor_sim_ms = _to_ms(start)
        self._anchor_real_ns = real_ns()
        self._last_ms = self._anchor_sim_ms
        self._hold_ms: int | None = None

    # -- reading -----------------------------------------------------------------------------

    @property
    def speed(self) -> Fraction:
        return self._speed

    @property
    def start_ms(self) -> int:
        """Where the clock stands at its current anchor (the start until re-anchored)."""
        return self._anchor_sim_ms

    @property
    def held_at(self) -> int | None:
        return self._hold_ms

    def target_ms(self) -> int:
        """Free-running simulated time, ignoring any hold (never below what was reported)."""
        elapsed_ns = self._real_ns() - self._anchor_real_ns
        ahead = elapsed_ns * self._speed.numerator // (self._speed.denominator * _NS_PER_MS)
        return max(self._last_ms, self._anchor_sim_ms + ahead)

    def now_ms(self) -> int:
        """Simulated time now: free-running time capped by the hold, never decreasing."""
        now = self.target_ms()
        if self._hold_ms is not None and now > self._hold_ms:
            now = max(self._last_ms, self._hold_ms)
        self._last_ms = now
        return now

    def __call__(self) -> int:
        return self.now_ms()

    # -- steering ----------------------------------------------------------------------------

    def set_speed(self, speed: int | float | Fraction) -> None:
        """Change the rate from now on (re-anchors; simulated time does not jump)."""
        self._reanchor()
        self._speed = _to_speed(speed)

    def advance(self, ms: int) -> None:
        """Jump free-running time forward by ``ms`` simulated milliseconds (holds still apply)."""
        if ms < 0:
            raise ValueError("SimClock cannot go backwards")
        self._reanchor()
        self._anchor_sim_ms += ms

    def hold_at(self, ms: int | None) -> None:
        """``now_ms()`` will not pass ``ms`` (None: run free). See the module docstring."""
        self._hold_ms = ms

    def _reanchor(self) -> None:
        self._anchor_sim_ms = self.target_ms()
        self._anchor_real_ns = self._real_ns()


__all__ = ["SimClock"]
