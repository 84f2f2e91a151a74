"""The pre-trade risk judge: atomic check-and-reserve, reservations, circuit breakers, kill switch.

Contract:
- ``check_and_reserve(intent, book=..., fair_value=...)`` judges one ``OrderIntent`` and, if it
  passes, reserves its risk — in one synchronous call with no ``await`` and no I/O, so on one event
  loop two intents can never both pass a limit that only one fits. ``check`` is the same judgement
  without reserving (a dry run). Every verdict is a frozen ``RiskDecision`` naming the one rule that
  decided, with a reason a person can read; ``GUARDS.md`` lists every rule.
- Rules run in a fixed order and the first failure decides: validity, market known and active,
  duplicate/unknown order, kill switch, breakers, order size, grid, stale book, price through the
  book, price against fair value, open orders, worst-case position, event exposure, total exposure,
  write-rate budget. Cancels always pass (they only remove risk), even when halted.
- ``room()`` is a read-only view of what the sizing rules (order size, open orders, position,
  event and total exposure) leave room for, answered with the same exposure math (``risk.room``).
- While the kill switch is engaged or a breaker is open, only cancels and intents that add no
  worst-case risk pass (so the engine can flatten, shrink a take-profit, exit). An intent is judged
  risk-reducing by its effect, not by its ``reduce_only`` flag: with it reserved, neither leg's
  worst-case position nor the worst-case loss grows — so even if every reserved order on its side
  filled, the position would only shrink toward flat, never cross it (a plain take-profit sized
  within the position qualifies; one that, with the other orders on its side, exceeds it does not).
  Position and exposure limits reject only intents that would raise the worst case beyond the
  limit; an exit is never blocked by them, nor by a fair value.
- ``reduce_only`` is a create flag Kalshi accepts only on immediate-or-cancel orders: a place with it
  and another time in force, or an amend carrying it, is ``invalid_intent``.
- **Reservations.** An approved place reserves its size at its limit price; an approved amend swaps
  the terms, counting the larger size at the worse price of old and new until ``on_amend_result``.
  An order found open with no reservation is reserved as it stands (``adopt``), so what can trade
  always counts. The engine reports back: ``release`` (rejected, canceled, expired, IOC remainder), ``on_fill``
  (the filled part moves from reserved to position, atomically), ``sync_remaining``
  (reconciliation). Exposure math: see ``risk.exposure``. Event exposure is the sum over the
  event's markets (brackets of one event are one risk; no credit is taken for their mutual
  exclusivity), total exposure the sum over all markets.
- **Breakers and kill switch** (see ``risk.breakers``): inputs return the ``RiskAction`` values
  they cause (cancel everything; flatten). ``kill`` halts until ``reset_kill_switch(who, why)``, which
  needs both a name and a reason. ``drain_events`` hands the audit trail to whoever records it.
- Risk is a judge, not an actor: it imports only ``domain`` and ``config``, and it holds no position
  math of its own — positions come from the order tracker via ``on_fill`` / ``update_position``.
- Time is a monotonic millisecond clock (injectable); book timestamps must be on the same clock.
  *Market time* (``market_clock``, epoch ms; default: the wall clock) is the exchange's clock: loss
  velocity is measured on it, and ``tick`` starts a new day (resetting the daily loss breaker) when
  ``domain.trading_day`` of market time changes — so under a sped-up simulated exchange the
  breakers keep the market's pace, not the wall's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from msgspec.structs import replace

from kalshi_trader.config import RiskSettings
from kalshi_trader.domain import (
    PRICE_SCALE,
    BookSide,
    Fill,
    IntentAction,
    MarketInfo,
    MarketStatus,
    Money,
    OrderIntent,
    Position,
    Price,
    Qty,
    TimeInForce,
    TopOfBook,
    format_money,
    format_price,
    format_qty,
    leg_price,
    trading_day,
)
from kalshi_trader.risk.breakers import BreakerState, CircuitBreakers
from kalshi_trader.risk.decisions import ActionKind, EventKind, RiskAction, RiskDecision, RiskEvent, Rule
from kalshi_trader.risk.exposure import MICROS_PER_MONEY, Exposure, MarketRisk, Reservation
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.room import RoomView

__all__ = ["KillSwitchState", "RiskManager"]

_IOC = TimeInForce.IMMEDIATE_OR_CANCEL
_PLACE, _CANCEL = IntentAction.PLACE, IntentAction.CANCEL
_BID, _ASK = BookSide.BID, BookSide.ASK
_ACTIVE = MarketStatus.ACTIVE
_APPROVED = Rule.APPROVED
_SIDE_TEXT = {side: side.value for side in BookSide}
_HEAD_MEMORY = 4_096
"""Approval reason starts remembered (then forgotten all at once)."""
# Enum members bound once: on this interpreter reading ``Enum.MEMBER`` costs as much as a call.


def _monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def _dollars(micros: int) -> str:
    """Micro-dollars as dollars, rounded up to $0.0001 (exposures are shown conservatively)."""
    return format_money(-(-micros // MICROS_PER_MONEY))


@dataclass(frozen=True, slots=True)
class KillSwitchState:
    who: str
    why: str
    engaged_ms: int


class _WriteBudget:
    """A token bucket of ``rate`` writes per second holding at most one second's worth, in
    thousandths of a write so that refill is exact in integer milliseconds."""

    def __init__(self, rate: int, now_ms: int) -> None:
        self._rate = rate
        self._capacity = rate * 1000
        self._level = self._capacity
        self._at = now_ms

    def available(self, now_ms: int) -> int:
        at = self._at
        level = self._level + (now_ms - at) * self._rate if now_ms > at else self._level
        return level if level < self._capacity else self._capacity

    def take(self, now_ms: int) -> None:
        self._level = self.available(now_ms) - 1000
        if now_ms > self._at:
            self._at = now_ms


_Commit = tuple[Reservation, MarketRisk, tuple[int, int], Exposure]
"""What an approved place or amend reserves: the reservation, in its market, the load it adds to
its side and the market's worst case after."""
_Verdict = tuple[RiskDecision, _Commit | None]
"""The outcome of judging one intent: the decision and, if it reserves, what to commit."""


def _reject(rule: Rule, reason: str, **details: int | str) -> _Verdict:
    return RiskDecision(False, reason, rule, None, MappingProxyType(details)), None


class RiskManager:
    """The risk judge of one trading node. Construct with limits (or settings) and a clock."""

    def __init__(
        self,
        limits: RiskLimits | None = None,
        *,
        clock: Callable[[], int] = _monotonic_ms,
        market_clock: Callable[[], int] = _wall_ms,
    ) -> None:
        self.limits = limits if limits is not None else RiskLimits.defaults()
        self._clock = clock
        self._market_clock = market_clock
        self._day = trading_day(market_clock())
        self._info: dict[str, MarketInfo] = {}
        self._markets: dict[str, MarketRisk] = {}
        self._event_loss: dict[str, int] = {}
        self._total_loss = 0
        self._reservations: dict[str, Reservation] = {}
        self._budget = _WriteBudget(self.limits.max_writes_per_second, clock())
        self._breakers = CircuitBreakers(self.limits)
        self._kill: KillSwitchState | None = None
        self._events: list[RiskEvent] = []
        self._approval_heads: dict[tuple[IntentAction, BookSide, int, str, int], str] = {}
        """The start of an approval's reason by the intent's (action, side, size, market, price)."""

    def writes_available(self) -> int:
        """Whole places/amends the write budget allows right now (cancels are never limited), so a
        caller can hold back instead of sending an intent that would be refused."""
        return self._budget.available(self._clock()) // 1000

    def room(self) -> RoomView:
        """What the sizing limits leave room for now, for one decision (``risk.room``): strategies
        size their orders with it instead of proposing what ``check_and_reserve`` must refuse."""
        return RoomView(self.limits, self._info, self._markets, self._reservations, self._event_loss, self._total_loss)

    @staticmethod
    def from_settings(
        settings: RiskSettings,
        *,
        clock: Callable[[], int] = _monotonic_ms,
        market_clock: Callable[[], int] = _wall_ms,
    ) -> RiskManager:
        return RiskManager(RiskLimits.from_settings(settings), clock=clock, market_clock=market_clock)

    def register_market(self, market: MarketInfo) -> None:
        """Tell risk about a market (grid, event, status); call again when any of them changes."""
        self._info[market.ticker] = market
        known = self._markets.get(market.ticker)
        if known is not None and known.event_ticker != market.event_ticker:
            self._count(known, 0)
            known.event_ticker = market.event_ticker
            self._refresh(known)

    # ---------------------------------------------------------------------------------------
    # Pre-trade

    def check(
        self, intent: OrderIntent, *, book: TopOfBook | None = None, fair_value: int | None = None
    ) -> RiskDecision:
        """Judge ``intent`` without reserving anything (a dry run)."""
        return self._judge(intent, book, fair_value, self._clock())[0]

    def check_and_reserve(
        self, intent: OrderIntent, *, book: TopOfBook | None = None, fair_value: int | None = None
    ) -> RiskDecision:
        """Judge ``intent`` and, if approved, reserve its risk — atomically (no ``await`` inside).

        ``book`` is the market's top of book (required for places and amends); ``fair_value`` an
        optional YES fair price to check the order's price against."""
        now = self._clock()
        decision, commit = self._judge(intent, book, fair_value, now)
        if commit is not None:
            new, market, load, after = commit
            market.reserve(new.side, load, after)  # an amend's load is the change from its old terms
            if market.ticker not in self._markets:
                self._markets[market.ticker] = market
            self._reservations[new.reservation_id] = new
            self._count(market, after.loss)
            self._budget.take(now)
        return decision

    def _judge(self, intent: OrderIntent, book: TopOfBook | None, fair: int | None, now: int) -> _Verdict:
        limits = self.limits
        coid, ticker, action = intent.client_order_id, intent.ticker, intent.action
        if action is _CANCEL:
            held = coid if coid in self._reservations else None
            return RiskDecision(True, "cancels always pass: they only remove risk", _APPROVED, held), None
        if not coid:
            return _reject(Rule.INVALID_INTENT, "the intent has no client_order_id")
        side, price, qty = intent.side, intent.price, intent.qty
        if qty <= 0:
            return _reject(Rule.INVALID_INTENT, f"size {format_qty(qty)} is not positive", qty=qty)
        if not 0 < price < PRICE_SCALE:
            reason = f"price {format_price(price)} is not strictly between $0 and $1"
            return _reject(Rule.INVALID_INTENT, reason, price=price)
        if intent.reduce_only and (action is not _PLACE or intent.tif is not _IOC):
            what = "an amend" if action is not _PLACE else f"a {intent.tif.value} order"
            reason = f"reduce_only is for immediate-or-cancel creates only (Kalshi refuses it otherwise), not {what}"
            return _reject(Rule.INVALID_INTENT, reason)
        info = self._info.get(ticker)
        if info is None:
            return _reject(Rule.UNKNOWN_MARKET, f"market {ticker} is not registered with risk (no grid, no event)")
        if info.status is not _ACTIVE:
            return _reject(Rule.MARKET_NOT_ACTIVE, f"market {ticker} is {info.status.value}, not active")
        if self._market_clock() >= info.close_ms:  # closed by the clock before any status update says so
            return _reject(Rule.MARKET_NOT_ACTIVE, f"market {ticker} closed at its close time")

        old = self._reservations.get(coid)
        delta: tuple[int, int]
        if action is _PLACE:
            if old is not None:
                return _reject(Rule.DUPLICATE_CLIENT_ORDER_ID, f"client_order_id {coid} already holds a reservation")
            new = Reservation(coid, ticker, info.event_ticker, side, price, qty, now)
            delta = (qty, (price if side is _BID else PRICE_SCALE - price) * qty)  # ``Reservation.load``
        else:
            if old is None:
                return _reject(Rule.UNKNOWN_ORDER, f"no open order {coid} to amend")
            if (old.ticker, old.side) != (ticker, side):
                return _reject(Rule.INVALID_INTENT, f"an amend of {coid} cannot change its market or side")
            if old.prev_price is not None:
                return _reject(Rule.INVALID_INTENT, f"an amend of {coid} is already in flight")
            new = replace(old, price=price, qty=qty, prev_price=old.price, prev_qty=old.qty)
            (new_qty, new_cost), (old_qty, old_cost) = new.load(), old.load()
            delta = (new_qty - old_qty, new_cost - old_cost)

        market = self._markets.get(ticker) or MarketRisk(ticker, info.event_ticker)
        before = market.exposure()
        after = market.exposure_with(side, delta)
        long, short, loss = after
        adds_risk = long > before.long or short > before.short or loss > before.loss
        details: dict[str, int | str] = {"worst_long_qty": long, "worst_short_qty": short, "worst_loss_micros": loss}

        # By its effect: an intent that can only shrink the position passes a halt.
        if adds_risk and (self._kill is not None or self._breakers.blocking(now) is not None):
            halt = self._halt_reason(now)
            if halt is not None:
                rule, why = halt
                return _reject(rule, f"trading is halted ({why}); only cancels and risk-reducing exits pass")

        if qty > limits.max_order_size:
            reason = f"size {format_qty(qty)} exceeds the max order size {format_qty(limits.max_order_size)}"
            return _reject(Rule.MAX_ORDER_SIZE, reason, qty=qty, limit=limits.max_order_size)
        if not info.grid.is_valid_order_price(price):
            reason = f"price {format_price(price)} is not on {ticker}'s tick grid"
            return _reject(Rule.PRICE_OFF_GRID, reason, price=price)
        floor = info.settlement_floor
        if floor is not None and price <= floor:
            reason = (
                f"YES price {format_price(price)} is at or below {ticker}'s settlement floor "
                f"{format_price(floor)}: YES is worth at least the floor, and the exchange refuses such orders"
            )
            return _reject(Rule.BELOW_SETTLEMENT_FLOOR, reason, price=price, floor=floor)
        if book is None or book.ticker != ticker:
            return _reject(Rule.STALE_BOOK, f"no order book for {ticker}")
        if book.stale or now - book.as_of_ms > limits.max_book_age_ms:
            return _reject(Rule.STALE_BOOK, self._stale_book(book, now) or "", book_as_of_ms=book.as_of_ms)
        bound, best_bid, best_ask = limits.max_through_book, book.best_bid, book.best_ask
        if (side is _BID and best_ask is not None and price > best_ask + bound) or (
            side is _ASK and best_bid is not None and price < best_bid - bound
        ):
            return _reject(Rule.PRICE_THROUGH_BOOK, _through_book(side, price, book, bound) or "", price=price)
        if fair is not None and adds_risk:  # a model never blocks getting out
            worse = _worse_than_fair(side, price, fair, limits.max_fair_value_deviation)
            if worse is not None:
                return _reject(Rule.PRICE_FAR_FROM_FAIR, worse, price=price, fair_value=fair)
        if action is _PLACE and len(self._reservations) >= limits.max_open_orders:
            reason = f"{len(self._reservations)} orders are open already (limit {limits.max_open_orders})"
            return _reject(Rule.MAX_OPEN_ORDERS, reason, open_orders=len(self._reservations))
        blocked = self._exposure_limits(market, before, after, details)
        if blocked is not None:
            return blocked
        if self._budget.available(now) < 1000:
            reason = f"write budget spent: at most {limits.max_writes_per_second} places/amends per second"
            return _reject(Rule.RATE_BUDGET, reason)
        terms = (action, side, qty, ticker, price)
        head = self._approval_heads.get(terms)
        if head is None:  # the part of the reason the intent alone decides, worked out once per terms
            head = (
                f"{'place' if action is _PLACE else 'amend'} {_SIDE_TEXT[side]} {format_qty(qty)} {ticker}"
                f" @ {format_price(price)} within limits: worst position "
            )
            if len(self._approval_heads) >= _HEAD_MEMORY:
                self._approval_heads.clear()
            self._approval_heads[terms] = head
        reason = (
            f"{head}{format_qty(long if long > short else short)},"
            f" worst loss {format_money(-(-loss // MICROS_PER_MONEY))}"  # ``_dollars``, a call less
        )
        return RiskDecision(True, reason, _APPROVED, coid, MappingProxyType(details)), (new, market, delta, after)

    def _exposure_limits(
        self, market: MarketRisk, before: Exposure, after: Exposure, details: dict[str, int | str]
    ) -> _Verdict | None:
        limits = self.limits
        ticker, event = market.ticker, market.event_ticker
        cap = limits.max_position_per_market
        if (after.long > cap and after.long > before.long) or (after.short > cap and after.short > before.short):
            leg, worst = ("YES", after.long) if after.long > cap and after.long > before.long else ("NO", after.short)
            reason = (
                f"worst-case position in {ticker} would be {format_qty(worst)} {leg} contracts "
                f"(limit {format_qty(cap)})"
            )
            return _reject(Rule.MAX_POSITION_PER_MARKET, reason, **details, limit=cap)
        if after.loss <= before.loss:
            return None
        added = after.loss - before.loss  # before.loss is what the sums hold for this market now
        event_after = self._event_loss.get(event, 0) + added
        event_limit = limits.max_event_exposure * MICROS_PER_MONEY
        if event_after > event_limit:
            reason = (
                f"worst-case loss of event {event} would be {_dollars(event_after)} "
                f"(limit {format_money(limits.max_event_exposure)})"
            )
            return _reject(Rule.MAX_EVENT_EXPOSURE, reason, event_loss_micros=event_after, **details)
        total_after = self._total_loss + added
        if total_after > limits.max_total_exposure * MICROS_PER_MONEY:
            reason = (
                f"worst-case loss over all markets would be {_dollars(total_after)} "
                f"(limit {format_money(limits.max_total_exposure)})"
            )
            return _reject(Rule.MAX_TOTAL_EXPOSURE, reason, total_loss_micros=total_after, **details)
        details["event_loss_micros"] = event_after
        details["total_loss_micros"] = total_after
        return None

    def _halt_reason(self, now: int) -> tuple[Rule, str] | None:
        if self._kill is not None:
            return Rule.KILL_SWITCH, f"kill switch engaged by {self._kill.who}: {self._kill.why}"
        state = self._breakers.blocking(now)
        return None if state is None else (state.rule, f"{state.rule.value}: {state.reason}")

    def _stale_book(self, book: TopOfBook, now: int) -> str | None:
        ticker = book.ticker
        if book.stale:
            return f"the order book of {ticker} is stale (no snapshot yet or a sequence gap)"
        age = now - book.as_of_ms
        if age > self.limits.max_book_age_ms:
            return f"the order book of {ticker} is {age} ms old (limit {self.limits.max_book_age_ms} ms)"
        return None

    # ---------------------------------------------------------------------------------------
    # What happened to orders (reported by the engine)

    def release(self, client_order_id: str, reason: str = "") -> bool:
        """Free an order's reservation: it was rejected, canceled, expired or is done. Returns
        False if it held none. ``reason`` is for the caller's log; risk keeps no record."""
        res = self._reservations.pop(client_order_id, None)
        if res is None:
            return False
        market = self._markets[res.ticker]
        market.add(res.side, res.load(), -1)
        self._refresh(market)
        return True

    def adopt(self, client_order_id: str, ticker: str, side: BookSide, price: Price, remaining: int) -> bool:
        """An order of ours can trade at the exchange but holds no reservation (reported after it
        was taken for rejected, found by reconciliation, left from an earlier run): reserve it as
        it stands, unjudged — it exists, so it counts toward every limit, the open-orders limit
        included. Not in a market known to be no longer active (it cannot trade there). Returns
        whether it was reserved."""
        info = self._info.get(ticker)
        if client_order_id in self._reservations or remaining <= 0:
            return False
        if info is not None and info.status is not MarketStatus.ACTIVE:
            return False
        event = info.event_ticker if info is not None else ticker
        res = Reservation(client_order_id, ticker, event, side, price, Qty(remaining), self._clock())
        market = self._market(ticker)
        market.add(side, res.load())
        self._reservations[client_order_id] = res
        self._refresh(market)
        return True

    def on_fill(self, fill: Fill, position: Position, *, client_order_id: str | None = None) -> None:
        """A new fill (the tracker said it was not a duplicate) and the market's position after it.
        The filled contracts leave the order's reservation and ``position`` replaces risk's view of
        the market, in one step. ``client_order_id`` defaults to the fill's own."""
        market = self._market(fill.ticker)
        res = self._reservations.get(client_order_id or fill.client_order_id)
        if res is not None and res.ticker == fill.ticker:
            market.add(res.side, res.load(), -1)
            res = res.after_fill(fill.qty)
            if res.empty:
                del self._reservations[res.reservation_id]
            else:
                self._reservations[res.reservation_id] = res
                market.add(res.side, res.load())
        market.set_position(position)
        self._refresh(market)

    def update_position(self, position: Position) -> None:
        """Replace risk's view of one market's position (reconciliation, settlement)."""
        market = self._market(position.ticker)
        market.set_position(position)
        self._refresh(market)

    def sync_remaining(self, client_order_id: str, remaining: int) -> None:
        """The exchange says this much of the order still rests: shrink the reservation to it (a
        reservation never grows this way). Zero releases it."""
        res = self._reservations.get(client_order_id)
        if res is None:
            return
        shrink = max(0, res.qty - remaining)
        if shrink:
            market = self._markets[res.ticker]
            market.add(res.side, res.load(), -1)
            res = res.after_fill(shrink)
            if res.empty:
                del self._reservations[client_order_id]
            else:
                self._reservations[client_order_id] = res
                market.add(res.side, res.load())
            self._refresh(market)

    def on_amend_result(self, client_order_id: str, accepted: bool) -> None:
        """The amend of this order was answered: keep the new terms, or go back to the old ones."""
        res = self._reservations.get(client_order_id)
        if res is None or res.prev_price is None or res.prev_qty is None:
            return
        market = self._markets[res.ticker]
        market.add(res.side, res.load(), -1)
        price, qty = (res.price, res.qty) if accepted else (res.prev_price, res.prev_qty)
        res = replace(res, price=price, qty=qty, prev_price=None, prev_qty=None)
        if res.empty:
            del self._reservations[client_order_id]
        else:
            self._reservations[client_order_id] = res
            market.add(res.side, res.load())
        self._refresh(market)

    def on_settlement(self, ticker: str) -> None:
        """The market settled: nothing in it can fill or lose any more. Its reservations are
        released and its position and realized P&L leave the exposure sums."""
        for res in [r for r in self._reservations.values() if r.ticker == ticker]:
            self.release(res.reservation_id, "market settled")
        market = self._markets.get(ticker)
        if market is not None:
            market.set_position(Position(ticker, Qty(0)))
            self._refresh(market)

    # ---------------------------------------------------------------------------------------
    # Breakers and the kill switch

    def record_error(self, what: str) -> list[RiskAction]:
        """An order request failed (timeout, 5xx, unexpected rejection)."""
        return self._breakers.record_error(self._clock(), what)

    def record_success(self) -> None:
        self._breakers.record_success()

    def update_pnl(self, session_pnl: int) -> list[RiskAction]:
        """The session's net P&L (realized + unrealized − fees, e.g. ``OrderTracker.net_pnl``)."""
        return self._breakers.update_pnl(self._clock(), self._market_clock(), session_pnl)

    def feed_alive(self) -> None:
        self._breakers.feed_alive(self._clock())

    def feed_lost(self) -> None:
        self._breakers.feed_lost(self._clock())

    def tick(self) -> list[RiskAction]:
        """Call periodically (e.g. every second): time-based trips, automatic resets, and a new
        day when the trading day of market time has changed."""
        market_ms = self._market_clock()
        day = trading_day(market_ms)
        if day != self._day:
            self._day = day
            self.start_new_day("risk")
        return self._breakers.tick(self._clock(), market_ms)

    def start_new_day(self, who: str = "scheduler") -> None:
        """The day's P&L starts again from here; the daily loss breaker resets."""
        self._breakers.start_day(self._clock(), who)

    def reset_breaker(self, rule: Rule, *, who: str, why: str) -> bool:
        _require_person(who, why)
        return self._breakers.reset(rule, self._clock(), who, why)

    def kill(self, *, who: str, why: str, flatten: bool = False) -> list[RiskAction]:
        """Halt: cancel everything, optionally flatten every position, and stay halted until
        ``reset_kill_switch``."""
        _require_person(who, why)
        now = self._clock()
        self._kill = KillSwitchState(who, why, now)
        self._events.append(RiskEvent(now, EventKind.KILL_SWITCH_ENGAGED, Rule.KILL_SWITCH, why, who))
        actions = [RiskAction(ActionKind.CANCEL_ALL, Rule.KILL_SWITCH, why)]
        held = tuple(sorted(t for t, m in self._markets.items() if m.qty))
        if flatten and held:
            actions.append(RiskAction(ActionKind.FLATTEN, Rule.KILL_SWITCH, why, held))
        return actions

    def reset_kill_switch(self, *, who: str, why: str) -> bool:
        """A person lifts the halt. Returns False if the kill switch was not engaged."""
        _require_person(who, why)
        if self._kill is None:
            return False
        self._kill = None
        self._events.append(RiskEvent(self._clock(), EventKind.KILL_SWITCH_RESET, Rule.KILL_SWITCH, why, who))
        return True

    # ---------------------------------------------------------------------------------------
    # Reads

    @property
    def halted(self) -> bool:
        """True while new risk is blocked (kill switch or an open breaker)."""
        return self._halt_reason(self._clock()) is not None

    @property
    def kill_switch(self) -> KillSwitchState | None:
        return self._kill

    def open_breakers(self) -> list[BreakerState]:
        return self._breakers.open()

    def reservation(self, client_order_id: str) -> Reservation | None:
        return self._reservations.get(client_order_id)

    def reservations(self) -> list[Reservation]:
        return list(self._reservations.values())

    def exposure(self, ticker: str) -> Exposure:
        """Worst-case position and loss (micro-dollars) of one market, reservations included."""
        market = self._markets.get(ticker)
        return Exposure(0, 0, 0) if market is None else market.exposure()

    def event_exposure(self, event_ticker: str) -> Money:
        return Money(-(-self._event_loss.get(event_ticker, 0) // MICROS_PER_MONEY))

    def total_exposure(self) -> Money:
        return Money(-(-self._total_loss // MICROS_PER_MONEY))

    @property
    def day_pnl(self) -> Money:
        return Money(self._breakers.day_pnl)

    def drain_events(self) -> list[RiskEvent]:
        """Audit events since the last call, oldest first."""
        events = self._events + self._breakers.drain_events()
        events.sort(key=lambda e: e.ts_ms)
        self._events = []
        return events

    # ---------------------------------------------------------------------------------------

    def _market(self, ticker: str) -> MarketRisk:
        market = self._markets.get(ticker)
        if market is None:
            info = self._info.get(ticker)
            market = MarketRisk(ticker, info.event_ticker if info is not None else ticker)
            self._markets[ticker] = market
        return market

    def _refresh(self, market: MarketRisk) -> None:
        self._count(market, market.exposure().loss)

    def _count(self, market: MarketRisk, loss: int) -> None:
        """Set the loss ``market`` contributes to its event's and the total sums."""
        change = loss - market.counted_loss
        if change:
            event = market.event_ticker
            self._event_loss[event] = self._event_loss.get(event, 0) + change
            self._total_loss += change
            market.counted_loss = loss


def _through_book(side: BookSide, price: int, book: TopOfBook, bound: int) -> str | None:
    """A buy priced more than ``bound`` beyond the opposite best price is a fat finger."""
    if side is BookSide.BID and book.best_ask is not None and price > book.best_ask + bound:
        return (
            f"bid {format_price(price)} is more than {format_price(bound)} above the best ask "
            f"{format_price(book.best_ask)}"
        )
    if side is BookSide.ASK and book.best_bid is not None and price < book.best_bid - bound:
        return (
            f"ask {format_price(price)} is more than {format_price(bound)} below the best bid "
            f"{format_price(book.best_bid)}"
        )
    return None


def _worse_than_fair(side: BookSide, price: int, fair: int, bound: int) -> str | None:
    """Paying more than fair + ``bound`` for the leg bought (YES for a bid, NO for an ask)."""
    paid, worth = leg_price(price, side), leg_price(fair, side)
    if paid - worth > bound:
        leg = side.outcome.value.upper()
        return (
            f"pays {format_price(paid)} for {leg} worth {format_price(worth)} by fair value "
            f"(more than {format_price(bound)} over)"
        )
    return None


def _require_person(who: str, why: str) -> None:
    if not who.strip() or not why.strip():
        raise ValueError("say who you are and why (both are recorded in the audit log)")
