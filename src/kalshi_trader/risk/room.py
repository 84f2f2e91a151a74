"""What the risk limits leave room for: a read-only view strategies size their orders with.

Contract:
- ``RoomView`` is built by ``RiskManager.room()`` from risk's state at that moment and answers,
  for a place (or an amend when ``replacing`` names the order's ``client_order_id``) of ``qty`` at
  ``price`` on ``side``, the largest size that passes the size, open-orders, worst-case position,
  event-exposure and total-exposure rules exactly as ``check_and_reserve`` would judge them — a
  ``domain.Fit`` naming the rule that bound it. Worst cases grow with size, so the answer is found
  by bisection over the exact exposure math of ``risk.exposure``.
- ``fit`` only asks. ``claim`` asks and pencils the answer in, in this view only (risk is never
  changed): later answers of the same view count it, so one decision proposing several orders
  never proposes more than the limits hold together. A view is meant for one decision: a new
  one sees what risk has reserved since.
- Only the sizing limits are answered here; the rules about the price, the book, breakers and the
  write budget stay with ``check_and_reserve`` (and the strategy host).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from msgspec.structs import replace

from kalshi_trader.domain import (
    BookSide,
    Fit,
    IntentAction,
    MarketInfo,
    Price,
    Qty,
    format_money,
    format_qty,
    leg_price,
)
from kalshi_trader.risk.decisions import Rule
from kalshi_trader.risk.exposure import MICROS_PER_MONEY, Exposure, MarketRisk, Reservation
from kalshi_trader.risk.limits import RiskLimits

__all__ = ["RoomView"]


class _Probe(NamedTuple):
    """One candidate intent's exposure before and after, in its market."""

    before: Exposure
    after: Exposure
    delta: tuple[int, int]


class RoomView:
    """See the module docstring."""

    def __init__(
        self,
        limits: RiskLimits,
        info: Mapping[str, MarketInfo],
        markets: Mapping[str, MarketRisk],
        reservations: Mapping[str, Reservation],
        event_loss: Mapping[str, int],
        total_loss: int,
    ) -> None:
        self.limits = limits
        self._info = info
        self._markets = markets
        self._reservations = reservations
        self._event_loss = event_loss
        self._total_loss = total_loss
        self._penciled: dict[str, MarketRisk] = {}
        self._extra_event: dict[str, int] = {}
        self._extra_total = 0
        self._extra_orders = 0

    # -- reads -------------------------------------------------------------------------------------

    def open_orders_left(self) -> int:
        """Places that ``max_open_orders`` still allows (claims of this view counted)."""
        return max(0, self.limits.max_open_orders - len(self._reservations) - self._extra_orders)

    def fit(self, ticker: str, side: BookSide, price: Price, qty: Qty, *, replacing: str = "") -> Fit:
        """The largest size up to ``qty`` the sizing limits allow (see the module docstring)."""
        return self._fit(ticker, side, price, qty, replacing)[0]

    def claim(self, ticker: str, side: BookSide, price: Price, qty: Qty, *, replacing: str = "") -> Fit:
        """``fit``, then count what fits as reserved for the rest of this view's answers."""
        fit, commit = self._fit(ticker, side, price, qty, replacing)
        if fit.qty > 0 and commit is not None:
            commit(fit.qty)
        return fit

    # -- the judgement ---------------------------------------------------------------------------

    def _fit(
        self, ticker: str, side: BookSide, price: Price, qty: Qty, replacing: str
    ) -> tuple[Fit, Callable[[int], None] | None]:
        limits = self.limits
        info = self._info.get(ticker)
        if info is None:
            return Fit(Qty(0), Rule.UNKNOWN_MARKET.value, f"market {ticker} is not registered with risk"), None
        old: Reservation | None = None
        action = IntentAction.AMEND if replacing else IntentAction.PLACE
        if action is IntentAction.AMEND:
            old = self._reservations.get(replacing)
            if old is None:
                return Fit(Qty(0), Rule.UNKNOWN_ORDER.value, f"no open order {replacing} to amend"), None
            if old.prev_price is not None:
                return Fit(Qty(0), Rule.INVALID_INTENT.value, f"an amend of {replacing} is already in flight"), None
        elif self.open_orders_left() <= 0:
            reason = f"{limits.max_open_orders} orders are open or planned already (limit {limits.max_open_orders})"
            return Fit(Qty(0), Rule.MAX_OPEN_ORDERS.value, reason), None
        market = self._market(ticker, info.event_ticker)
        top: int = min(qty, limits.max_order_size)
        before = market.exposure()  # the market does not change while this is judged
        leg = leg_price(price, side)
        probed: dict[int, _Probe] = {}

        def probe(size: int) -> _Probe:
            known = probed.get(size)
            if known is not None:
                return known
            if old is not None:
                new = replace(old, price=price, qty=Qty(size), prev_price=old.price, prev_qty=old.qty)
                (nq, nc), (oq, oc) = new.load(), old.load()
                delta = (nq - oq, nc - oc)
            else:
                delta = (size, leg * size)  # a new reservation's load (``Reservation.load``)
            probed[size] = made = _Probe(before, market.exposure(side, delta), delta)
            return made

        if self._blocked(market, probe(top)) is None:
            fit = (
                Fit(Qty(top))
                if top == qty
                else Fit(
                    Qty(top),
                    Rule.MAX_ORDER_SIZE.value,
                    f"size cut to the max order size {format_qty(limits.max_order_size)}",
                )
            )
            return fit, self._committer(market, side, probe, action)
        low, high = 0, top  # low fits, high does not
        while high - low > 1:
            mid = (low + high) // 2
            if self._blocked(market, probe(mid)) is None:
                low = mid
            else:
                high = mid
        rule, why = self._blocked(market, probe(high)) or (Rule.APPROVED, "")
        fit = Fit(Qty(low), rule.value, f"size cut to {format_qty(low)}: {why}" if low else why)
        return fit, self._committer(market, side, probe, action)

    def _blocked(self, market: MarketRisk, p: _Probe) -> tuple[Rule, str] | None:
        """The first sizing rule ``p`` breaks (as ``RiskManager._exposure_limits`` judges it)."""
        limits = self.limits
        cap = limits.max_position_per_market
        after, before = p.after, p.before
        if (after.long > cap and after.long > before.long) or (after.short > cap and after.short > before.short):
            leg, worst = ("YES", after.long) if after.long > cap and after.long > before.long else ("NO", after.short)
            would = format_qty(worst)
            why = f"worst-case {leg} position in {market.ticker} would be {would} (limit {format_qty(cap)})"
            return Rule.MAX_POSITION_PER_MARKET, why
        added = p.after.loss - p.before.loss
        if added <= 0:
            return None
        event = market.event_ticker
        event_loss = self._event_loss.get(event, 0) + self._extra_event.get(event, 0) + added
        if event_loss > limits.max_event_exposure * MICROS_PER_MONEY:
            why = f"worst-case loss of event {event} would exceed {format_money(limits.max_event_exposure)}"
            return Rule.MAX_EVENT_EXPOSURE, why
        if self._total_loss + self._extra_total + added > limits.max_total_exposure * MICROS_PER_MONEY:
            why = f"worst-case loss over all markets would exceed {format_money(limits.max_total_exposure)}"
            return Rule.MAX_TOTAL_EXPOSURE, why
        return None

    def _market(self, ticker: str, event_ticker: str) -> MarketRisk:
        penciled = self._penciled.get(ticker)
        if penciled is not None:
            return penciled
        known = self._markets.get(ticker)
        return known if known is not None else MarketRisk(ticker, event_ticker)

    def _committer(
        self, market: MarketRisk, side: BookSide, probe: Callable[[int], _Probe], action: IntentAction
    ) -> Callable[[int], None]:
        def commit(size: int) -> None:
            p = probe(size)
            copy = market.copy()
            copy.add(side, p.delta)
            self._penciled[market.ticker] = copy
            added = max(0, p.after.loss - p.before.loss)
            self._extra_event[market.event_ticker] = self._extra_event.get(market.event_ticker, 0) + added
            self._extra_total += added
            if action is IntentAction.PLACE:
                self._extra_orders += 1

        return commit
