"""Coalescing and rate-bounding alerts, so a flapping feed cannot flood a phone.

Contract (pure: no I/O, an injected monotonic clock in seconds):
- ``offer(alert)`` never blocks. An alert whose key was not sent within the last ``window_s`` goes
  out at once if the rate allows; otherwise it is *held*: a held alert is replaced by a newer one
  of the same key (the newest state wins) and the count of alerts it stands for grows.
- ``take()`` returns what may be sent now, oldest first: ready alerts, then held ones whose key's
  window has passed. At most ``per_hour`` alerts leave per hour (a token bucket holding up to
  ``burst``); what waits for a token stays held (so a kill switch is never lost, only merged).
  ``take(final=True)`` (at stop) sends the newest ``burst`` subjects at once (windows and rate
  waived) and drops the older ones.
  More than ``max_held`` keys waiting: the oldest held alert is dropped and counted; the next
  sent alert reports the count (``Outgoing.dropped``).
- ``wait_s()`` says how long until ``take`` may return something (None: nothing is waiting).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kalshi_trader.alerts.message import Alert

__all__ = ["Outgoing", "Throttle"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    alert: Alert
    merged: int
    """How many earlier alerts of the same key this one replaced."""
    first_s: float
    """Clock time of the first alert it stands for."""
    dropped: int
    """Alerts of other keys dropped (too many waiting) since the last message went out."""


@dataclass(slots=True)
class _Held:
    alert: Alert
    first_s: float
    merged: int


class Throttle:
    def __init__(
        self,
        *,
        window_s: float,
        per_hour: int,
        burst: int = 5,
        max_held: int = 100,
        clock: Callable[[], float],
    ) -> None:
        if window_s < 0 or per_hour < 1 or burst < 1 or max_held < 1:
            raise ValueError("throttle needs window_s >= 0, per_hour >= 1, burst >= 1 and max_held >= 1")
        self._window = window_s
        self._rate = per_hour / 3600.0
        self._burst = float(burst)
        self._max_held = max_held
        self._clock = clock
        self._tokens = float(burst)
        self._refilled = clock()
        self._last_sent: dict[str, float] = {}
        self._held: dict[str, _Held] = {}
        self._dropped = 0
        self.merged_total = 0
        self.dropped_total = 0

    def now(self) -> float:
        return self._clock()

    @property
    def held(self) -> int:
        return len(self._held)

    def offer(self, alert: Alert) -> None:
        now = self._clock()
        held = self._held.get(alert.key)
        if held is not None:
            held.alert, held.merged = alert, held.merged + 1
            self.merged_total += 1
            return
        if len(self._held) >= self._max_held:
            oldest = min(self._held, key=lambda k: self._held[k].first_s)
            gone = self._held.pop(oldest)
            self._dropped += 1 + gone.merged
            self.dropped_total += 1 + gone.merged
        self._held[alert.key] = _Held(alert, now, 0)

    def _refill(self, now: float) -> None:
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now

    def _due_at(self, key: str) -> float:
        last = self._last_sent.get(key)
        return 0.0 if last is None else last + self._window

    def take(self, *, final: bool = False) -> list[Outgoing]:
        """What may be sent now. ``final`` (the node is stopping): windows and tokens are waived for
        the newest ``burst`` subjects waiting (the stop alert is the newest); older ones are dropped."""
        now = self._clock()
        self._refill(now)
        order = sorted(self._held, key=lambda k: self._held[k].first_s)
        if final:
            for key in order[: -int(self._burst)]:
                gone = self._held.pop(key)
                self._dropped += 1 + gone.merged
                self.dropped_total += 1 + gone.merged
            order = order[-int(self._burst) :]
        out: list[Outgoing] = []
        for key in order:
            if not final:
                if self._due_at(key) > now:
                    continue
                if self._tokens < 1.0:
                    break
                self._tokens -= 1.0
            held = self._held.pop(key)
            self._last_sent[key] = now
            if len(self._last_sent) > 4 * self._max_held:  # forget keys whose window is over
                self._last_sent = {k: t for k, t in self._last_sent.items() if t + self._window > now}
            out.append(Outgoing(held.alert, held.merged, held.first_s, self._dropped))
            self._dropped = 0
        return out

    def wait_s(self) -> float | None:
        if not self._held:
            return None
        now = self._clock()
        self._refill(now)
        token_wait = 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self._rate
        key_wait = min(self._due_at(k) for k in self._held) - now
        return max(0.0, token_wait, key_wait)
