"""Reference implementations for differential tests: risk's judgements made the slow, obvious way.

``ProbingRoom`` is the room view as it was first written: it judges a size by computing the
market's worst case with it (``MarketRisk.exposure``) and finds the largest size that passes by
bisection, probing each size through the rules. ``RoomView``'s closed-form answers are checked
against it (``test_room.py``); the rules a probe is judged by are ``RoomView``'s own.

``ReferenceRisk`` is ``RiskManager`` with ``check_and_reserve`` as first written: every rule through
its helper, the reservation's load and the market's worst case computed afresh when it commits
(``test_properties.py`` feeds both the same operations). It repeats the messages of the code it
checks on purpose: it is that code as it was."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from msgspec.structs import replace

from kalshi_trader.domain import (
    PRICE_SCALE,
    BookSide,
    Fit,
    IntentAction,
    MarketStatus,
    OrderIntent,
    Price,
    Qty,
    TimeInForce,
    TopOfBook,
    format_price,
    format_qty,
    leg_price,
)
from kalshi_trader.risk.decisions import RiskDecision, Rule
from kalshi_trader.risk.exposure import MarketRisk, Reservation
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager, _dollars, _through_book, _worse_than_fair, _WriteBudget
from kalshi_trader.risk.room import RoomView

_IOC = TimeInForce.IMMEDIATE_OR_CANCEL


class ProbingRoom(RoomView):
    """``RoomView``'s sizing by probing sizes (its rules, ``_blocked``, are shared)."""

    __slots__ = ()

    def _fit(self, ticker: str, side: BookSide, price: Price, qty: Qty, replacing: str, claim: bool) -> Fit:
        limits = self.limits
        info = self._info.get(ticker)
        old: Reservation | None = self._reservations.get(replacing) if replacing else None
        unsized = old is None or old.prev_price is not None if replacing else self.open_orders_left() <= 0
        if info is None or unsized:  # answers that size nothing (unknown market or order): the view's own
            return super()._fit(ticker, side, price, qty, replacing, claim)
        market = self._penciled.get(ticker) or self._markets.get(ticker) or MarketRisk(ticker, info.event_ticker)
        top = min(qty, limits.max_order_size)
        before = market.exposure()

        def delta(size: int) -> tuple[int, int]:
            if old is not None:
                new = replace(old, price=price, qty=Qty(size), prev_price=old.price, prev_qty=old.qty)
                (nq, nc), (oq, oc) = new.load(), old.load()
                return nq - oq, nc - oc
            return size, leg_price(price, side) * size

        def blocked(size: int) -> tuple[Rule, str] | None:
            return self._blocked(market, before, market.exposure(side, delta(size)))

        if blocked(top) is None:
            if top == qty:
                fit = Fit(Qty(top))
            else:
                why = f"size cut to the max order size {format_qty(limits.max_order_size)}"
                fit = Fit(Qty(top), Rule.MAX_ORDER_SIZE.value, why)
            size = top
        else:
            low, high = 0, top
            while high - low > 1:
                mid = (low + high) // 2
                if blocked(mid) is None:
                    low = mid
                else:
                    high = mid
            rule, why = blocked(high) or (Rule.APPROVED, "")
            fit = Fit(Qty(low), rule.value, f"size cut to {format_qty(low)}: {why}" if low else why)
            size = low
        if claim and fit.qty > 0:
            copy = market.copy()
            copy.add(side, delta(size))
            self._penciled[ticker] = copy
            added = max(0, market.exposure(side, delta(size)).loss - before.loss)
            self._extra_event[market.event_ticker] = self._extra_event.get(market.event_ticker, 0) + added
            self._extra_total += added
            if old is None:
                self._extra_orders += 1
        return fit


class _Verdict(NamedTuple):
    decision: RiskDecision
    reservation: Reservation | None = None
    market: MarketRisk | None = None


def _old_reject(rule: Rule, reason: str, **details: int | str) -> _Verdict:
    return _Verdict(RiskDecision(False, reason, rule, None, details))


class _ReferenceBudget(_WriteBudget):
    """The write budget as first written (``manager._WriteBudget``)."""

    def available(self, now_ms: int) -> int:
        return min(self._capacity, self._level + max(0, now_ms - self._at) * self._rate)

    def take(self, now_ms: int) -> None:
        self._level = self.available(now_ms) - 1000
        self._at = max(self._at, now_ms)


class ReferenceRisk(RiskManager):
    """``RiskManager`` judging and reserving as first written (see the module docstring)."""

    def __init__(self, limits: RiskLimits, *, clock: Callable[[], int], market_clock: Callable[[], int]) -> None:
        super().__init__(limits, clock=clock, market_clock=market_clock)
        self._budget = _ReferenceBudget(limits.max_writes_per_second, clock())

    def _halt_reason(self, now: int) -> tuple[Rule, str] | None:
        """Any open breaker first, then the feed's allowance, as ``CircuitBreakers.blocking`` first read it."""
        if self._kill is not None:
            return Rule.KILL_SWITCH, f"kill switch engaged by {self._kill.who}: {self._kill.why}"
        breakers = self._breakers.open()
        if breakers:
            return breakers[0].rule, f"{breakers[0].rule.value}: {breakers[0].reason}"
        why = self._breakers._feed_problem(now)
        return None if why is None else (Rule.FEED_DOWN, f"{Rule.FEED_DOWN.value}: {why}")

    def check(
        self, intent: OrderIntent, *, book: TopOfBook | None = None, fair_value: int | None = None
    ) -> RiskDecision:
        """Judge ``intent`` without reserving anything (a dry run)."""
        return self._judge_as_first_written(intent, book, fair_value, self._clock()).decision

    def check_and_reserve(
        self, intent: OrderIntent, *, book: TopOfBook | None = None, fair_value: int | None = None
    ) -> RiskDecision:
        """Judge ``intent`` and, if approved, reserve its risk — atomically (no ``await`` inside).

        ``book`` is the market's top of book (required for places and amends); ``fair_value`` an
        optional YES fair price to check the order's price against."""
        now = self._clock()
        verdict = self._judge_as_first_written(intent, book, fair_value, now)
        if verdict.decision.approved and verdict.reservation is not None and verdict.market is not None:
            market, new = verdict.market, verdict.reservation
            old = self._reservations.get(new.reservation_id)
            if old is not None:
                market.add(old.side, old.load(), -1)
            market.add(new.side, new.load())
            self._markets.setdefault(market.ticker, market)
            self._reservations[new.reservation_id] = new
            self._refresh(market)
            self._budget.take(now)
        return verdict.decision

    def _judge_as_first_written(
        self, intent: OrderIntent, book: TopOfBook | None, fair: int | None, now: int
    ) -> _Verdict:
        limits = self.limits
        coid, ticker = intent.client_order_id, intent.ticker
        if intent.action is IntentAction.CANCEL:
            held = coid if coid in self._reservations else None
            return _Verdict(RiskDecision(True, "cancels always pass: they only remove risk", Rule.APPROVED, held))
        if not coid:
            return _old_reject(Rule.INVALID_INTENT, "the intent has no client_order_id")
        if intent.qty <= 0:
            return _old_reject(Rule.INVALID_INTENT, f"size {format_qty(intent.qty)} is not positive", qty=intent.qty)
        if not 0 < intent.price < PRICE_SCALE:
            reason = f"price {format_price(intent.price)} is not strictly between $0 and $1"
            return _old_reject(Rule.INVALID_INTENT, reason, price=intent.price)
        if intent.reduce_only and (intent.action is not IntentAction.PLACE or intent.tif is not _IOC):
            what = "an amend" if intent.action is not IntentAction.PLACE else f"a {intent.tif.value} order"
            reason = f"reduce_only is for immediate-or-cancel creates only (Kalshi refuses it otherwise), not {what}"
            return _old_reject(Rule.INVALID_INTENT, reason)
        info = self._info.get(ticker)
        if info is None:
            return _old_reject(Rule.UNKNOWN_MARKET, f"market {ticker} is not registered with risk (no grid, no event)")
        if info.status is not MarketStatus.ACTIVE:
            return _old_reject(Rule.MARKET_NOT_ACTIVE, f"market {ticker} is {info.status.value}, not active")
        if self._market_clock() >= info.close_ms:  # closed by the clock before any status update says so
            return _old_reject(Rule.MARKET_NOT_ACTIVE, f"market {ticker} closed at its close time")

        old = self._reservations.get(coid)
        if intent.action is IntentAction.PLACE:
            if old is not None:
                return _old_reject(
                    Rule.DUPLICATE_CLIENT_ORDER_ID, f"client_order_id {coid} already holds a reservation"
                )
            new = Reservation(coid, ticker, info.event_ticker, intent.side, intent.price, intent.qty, now)
            delta = new.load()
        else:
            if old is None:
                return _old_reject(Rule.UNKNOWN_ORDER, f"no open order {coid} to amend")
            if (old.ticker, old.side) != (ticker, intent.side):
                return _old_reject(Rule.INVALID_INTENT, f"an amend of {coid} cannot change its market or side")
            if old.prev_price is not None:
                return _old_reject(Rule.INVALID_INTENT, f"an amend of {coid} is already in flight")
            new = replace(old, price=intent.price, qty=intent.qty, prev_price=old.price, prev_qty=old.qty)
            (new_qty, new_cost), (old_qty, old_cost) = new.load(), old.load()
            delta = (new_qty - old_qty, new_cost - old_cost)

        market = self._markets.get(ticker) or MarketRisk(ticker, info.event_ticker)
        before = market.exposure()
        after = market.exposure(intent.side, delta)
        adds_risk = after.long > before.long or after.short > before.short or after.loss > before.loss
        details: dict[str, int | str] = {
            "worst_long_qty": after.long,
            "worst_short_qty": after.short,
            "worst_loss_micros": after.loss,
        }

        if adds_risk:  # by its effect: an intent that can only shrink the position passes a halt
            halt = self._halt_reason(now)
            if halt is not None:
                rule, why = halt
                return _old_reject(rule, f"trading is halted ({why}); only cancels and risk-reducing exits pass")

        if intent.qty > limits.max_order_size:
            reason = f"size {format_qty(intent.qty)} exceeds the max order size {format_qty(limits.max_order_size)}"
            return _old_reject(Rule.MAX_ORDER_SIZE, reason, qty=intent.qty, limit=limits.max_order_size)
        if not info.grid.is_valid_order_price(intent.price):
            reason = f"price {format_price(intent.price)} is not on {ticker}'s tick grid"
            return _old_reject(Rule.PRICE_OFF_GRID, reason, price=intent.price)
        floor = info.settlement_floor
        if floor is not None and intent.price <= floor:
            reason = (
                f"YES price {format_price(intent.price)} is at or below {ticker}'s settlement floor "
                f"{format_price(floor)}: YES is worth at least the floor, and the exchange refuses such orders"
            )
            return _old_reject(Rule.BELOW_SETTLEMENT_FLOOR, reason, price=intent.price, floor=floor)
        if book is None or book.ticker != ticker:
            return _old_reject(Rule.STALE_BOOK, f"no order book for {ticker}")
        stale = self._stale_book(book, now)
        if stale is not None:
            return _old_reject(Rule.STALE_BOOK, stale, book_as_of_ms=book.as_of_ms)
        through = _through_book(intent.side, intent.price, book, limits.max_through_book)
        if through is not None:
            return _old_reject(Rule.PRICE_THROUGH_BOOK, through, price=intent.price)
        if fair is not None and adds_risk:  # a model never blocks getting out
            worse = _worse_than_fair(intent.side, intent.price, fair, limits.max_fair_value_deviation)
            if worse is not None:
                return _old_reject(Rule.PRICE_FAR_FROM_FAIR, worse, price=intent.price, fair_value=fair)
        if intent.action is IntentAction.PLACE and len(self._reservations) >= limits.max_open_orders:
            reason = f"{len(self._reservations)} orders are open already (limit {limits.max_open_orders})"
            return _old_reject(Rule.MAX_OPEN_ORDERS, reason, open_orders=len(self._reservations))
        blocked = self._exposure_limits(market, before, after, details)
        if blocked is not None:
            return _Verdict(blocked[0])
        if self._budget.available(now) < 1000:
            reason = f"write budget spent: at most {limits.max_writes_per_second} places/amends per second"
            return _old_reject(Rule.RATE_BUDGET, reason)
        what = "place" if intent.action is IntentAction.PLACE else "amend"
        reason = (
            f"{what} {intent.side.value} {format_qty(intent.qty)} {ticker} @ {format_price(intent.price)} within "
            f"limits: worst position {format_qty(after.position)}, worst loss {_dollars(after.loss)}"
        )
        return _Verdict(RiskDecision(True, reason, Rule.APPROVED, coid, details), new, market)
