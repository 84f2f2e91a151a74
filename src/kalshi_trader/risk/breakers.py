"""Circuit breakers: latched conditions that stop new risk and ask for resting orders to be canceled.

Contract:
- Four breakers, named by their ``Rule``:

  ================== ============================================ ==================================
  breaker            trips when                                   resets
  ================== ============================================ ==================================
  consecutive_errors ``max_consecutive_errors`` errors in a row   automatically ``error_cooldown``
                     (a success in between restarts the count)    after the trip, or by hand
  loss_velocity      P&L fell ``loss_velocity_limit`` below its   automatically ``loss_velocity_
                     peak within ``loss_velocity_window``         cooldown`` after the trip, or by hand
  feed_down          the market-data feed has been lost, or       automatically at the next sign of
                     silent, for ``feed_stale``                   life from the feed, or by hand
  daily_loss_limit   the day's P&L (realized + unrealized −      at the start of a new day, or by
                     fees) reached −``daily_loss_limit``          hand
  ================== ============================================ ==================================

- A trip records a ``RiskEvent`` and returns one ``CANCEL_ALL`` ``RiskAction``; an open breaker does
  not trip again (one event, one action). Every reset records a ``RiskEvent`` naming who did it
  (``risk`` for the automatic ones) and why.
- Nothing here reads a clock: every call carries ``now_ms`` (monotonic milliseconds). Time-based trips
  and automatic resets happen in ``tick``; ``blocking`` also reports a feed that is already past its
  allowance before ``tick`` has run, so no order slips through in between.
- Two clocks. The feed and the error count are about the connection, so they run on ``now_ms``. Loss
  velocity is about how fast the *market* takes money, so its window and cool-down run on
  ``market_ms`` (the exchange's clock — a simulated one runs faster than the wall; live, both
  advance together). Event timestamps are always ``now_ms``.
- P&L arrives as the session's net P&L (``update_pnl``); the day's P&L is measured from the value at
  the start of the day (``start_day``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from kalshi_trader.domain import format_money
from kalshi_trader.risk.decisions import ActionKind, EventKind, RiskAction, RiskEvent, Rule
from kalshi_trader.risk.limits import RiskLimits

__all__ = ["BreakerState", "CircuitBreakers"]


@dataclass(frozen=True, slots=True)
class BreakerState:
    rule: Rule
    tripped_ms: int
    reason: str
    reset_after_ms: int | None
    """When it resets itself (loss velocity: market ms; the others: monotonic ms), None if it waits
    for a condition or a person."""


class CircuitBreakers:
    def __init__(self, limits: RiskLimits) -> None:
        self._limits = limits
        self._open: dict[Rule, BreakerState] = {}
        self._events: list[RiskEvent] = []
        self._errors = 0
        self._pnl: deque[tuple[int, int]] = deque()
        self._session_pnl = 0
        self._day_baseline = 0
        self._feed_up = True
        self._feed_lost_ms: int | None = None
        self._feed_alive_ms: int | None = None

    # ---------------------------------------------------------------------------------------
    # Reads

    def open(self) -> list[BreakerState]:
        return list(self._open.values())

    def is_open(self, rule: Rule) -> bool:
        return rule in self._open

    def blocking(self, now_ms: int) -> BreakerState | None:
        """The breaker that stops new risk now, if any (a feed past its allowance counts already)."""
        for state in self._open.values():
            return state
        since = self._feed_alive_ms if self._feed_up else self._feed_lost_ms
        if since is None or now_ms - since < self._limits.feed_stale_ms:  # ``_feed_problem``'s "none"
            return None
        why = self._feed_problem(now_ms)
        return None if why is None else BreakerState(Rule.FEED_DOWN, now_ms, why, None)

    @property
    def day_pnl(self) -> int:
        return self._session_pnl - self._day_baseline

    @property
    def consecutive_errors(self) -> int:
        return self._errors

    def drain_events(self) -> list[RiskEvent]:
        events, self._events = self._events, []
        return events

    # ---------------------------------------------------------------------------------------
    # Inputs

    def record_error(self, now_ms: int, what: str) -> list[RiskAction]:
        self._errors += 1
        if self._errors < self._limits.max_consecutive_errors:
            return []
        reason = f"{self._errors} consecutive errors, the last: {what}"
        return self._trip(Rule.CONSECUTIVE_ERRORS, now_ms, reason, now_ms + self._limits.error_cooldown_ms)

    def record_success(self) -> None:
        self._errors = 0

    def update_pnl(self, now_ms: int, market_ms: int, session_pnl: int) -> list[RiskAction]:
        self._session_pnl = session_pnl
        window = self._pnl
        window.append((market_ms, session_pnl))
        while window and window[0][0] < market_ms - self._limits.loss_velocity_window_ms:
            window.popleft()
        actions: list[RiskAction] = []
        day = self.day_pnl
        if -day >= self._limits.daily_loss_limit:
            reason = f"day P&L {format_money(day)} reached the loss limit {format_money(self._limits.daily_loss_limit)}"
            actions += self._trip(Rule.DAILY_LOSS_LIMIT, now_ms, reason, None)
        drop = max(p for _, p in window) - session_pnl
        if drop >= self._limits.loss_velocity_limit:
            seconds = self._limits.loss_velocity_window_ms // 1000
            reason = f"lost {format_money(drop)} from the peak within {seconds}s"
            reset_at = market_ms + self._limits.loss_velocity_cooldown_ms
            actions += self._trip(Rule.LOSS_VELOCITY, now_ms, reason, reset_at)
        return actions

    def feed_lost(self, now_ms: int) -> None:
        if self._feed_up:
            self._feed_up = False
            self._feed_lost_ms = now_ms

    def feed_alive(self, now_ms: int) -> None:
        """A frame or heartbeat from the market-data feed: it is up. Resets the feed breaker."""
        self._feed_up = True
        self._feed_lost_ms = None
        self._feed_alive_ms = now_ms
        if Rule.FEED_DOWN in self._open:
            self._reset(Rule.FEED_DOWN, now_ms, "risk", "the feed is alive again")

    def tick(self, now_ms: int, market_ms: int) -> list[RiskAction]:
        """Time-based trips (feed) and automatic resets (cooldowns)."""
        for state in list(self._open.values()):
            clock = market_ms if state.rule is Rule.LOSS_VELOCITY else now_ms
            if state.reset_after_ms is not None and clock >= state.reset_after_ms:
                if state.rule is Rule.CONSECUTIVE_ERRORS:
                    self._errors = 0
                if state.rule is Rule.LOSS_VELOCITY:
                    self._pnl.clear()
                self._reset(state.rule, now_ms, "risk", "cooldown elapsed")
        why = self._feed_problem(now_ms)
        return [] if why is None else self._trip(Rule.FEED_DOWN, now_ms, why, None)

    def start_day(self, now_ms: int, who: str) -> None:
        self._day_baseline = self._session_pnl
        self._events.append(RiskEvent(now_ms, EventKind.DAY_STARTED, None, "a new trading day", who))
        if Rule.DAILY_LOSS_LIMIT in self._open:
            self._reset(Rule.DAILY_LOSS_LIMIT, now_ms, who, "a new trading day")

    def reset(self, rule: Rule, now_ms: int, who: str, why: str) -> bool:
        """A person resets a breaker. Returns False if it was not open."""
        if rule not in self._open:
            return False
        if rule is Rule.CONSECUTIVE_ERRORS:
            self._errors = 0
        if rule is Rule.LOSS_VELOCITY:
            self._pnl.clear()
        self._reset(rule, now_ms, who, why)
        return True

    # ---------------------------------------------------------------------------------------

    def _feed_problem(self, now_ms: int) -> str | None:
        allowance = self._limits.feed_stale_ms
        if not self._feed_up and self._feed_lost_ms is not None and now_ms - self._feed_lost_ms >= allowance:
            return f"market-data feed lost for {(now_ms - self._feed_lost_ms) / 1000:.1f}s"
        if self._feed_up and self._feed_alive_ms is not None and now_ms - self._feed_alive_ms >= allowance:
            return f"market-data feed silent for {(now_ms - self._feed_alive_ms) / 1000:.1f}s"
        return None

    def _trip(self, rule: Rule, now_ms: int, reason: str, reset_after_ms: int | None) -> list[RiskAction]:
        if rule in self._open:
            return []
        self._open[rule] = BreakerState(rule, now_ms, reason, reset_after_ms)
        self._events.append(RiskEvent(now_ms, EventKind.BREAKER_TRIPPED, rule, reason))
        return [RiskAction(ActionKind.CANCEL_ALL, rule, reason)]

    def _reset(self, rule: Rule, now_ms: int, who: str, why: str) -> None:
        del self._open[rule]
        self._events.append(RiskEvent(now_ms, EventKind.BREAKER_RESET, rule, why, who))
