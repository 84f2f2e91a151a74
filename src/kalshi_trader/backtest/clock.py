"""The backtest's clock: market time driven by the recorded timestamps.

Contract: ``ReplayClock(start_ms)``; ``now_ms()`` is the market time of the record being replayed
(epoch ms). ``advance_to(ms)`` moves it forward only (a record stamped earlier than the one before
it — a recorder's clock read extrapolated past the next read — does not move time back). Nothing
ever sleeps: the replay sets the time, every part of the node reads it.
"""

from __future__ import annotations

__all__ = ["ReplayClock"]


class ReplayClock:
    """See the module docstring."""

    __slots__ = ("_now",)

    def __init__(self, start_ms: int = 0) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    def advance_to(self, ms: int) -> int:
        """Move to ``ms`` unless that is in the past; returns the time now."""
        if ms > self._now:
            self._now = ms
        return self._now
