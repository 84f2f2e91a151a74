"""What the risk limits leave room for: a read-only view strategies size their orders with.

Contract:
- ``RoomView`` is built by ``RiskManager.room()`` from risk's state at that moment and answers,
  for a place (or an amend when ``replacing`` names the order's ``client_order_id``) of ``qty`` at
  ``price`` on ``side``, the largest size that passes the size, open-orders, worst-case position,
  event-exposure and total-exposure rules exactly as ``check_and_reserve`` would judge them — a
  ``domain.Fit`` naming the rule that bound it (the first of those rules that one contract more
  would break). Worst cases grow with size and linearly beyond an amend's current size, so each
  limit's largest size is found in closed form from the exact exposure math of ``risk.exposure``
  (the minimum over the limits); a size or price no order can have is searched by bisection.
- ``fit`` only asks. ``claim`` asks and pencils the answer in, in this view only (risk is never
  changed): later answers of the same view count it, so one decision proposing several orders
  never proposes more than the limits hold together. A view is meant for one decision: a new
  one sees what risk has reserved since.
- Only the sizing limits are answered here; the rules about the price, the book, breakers and the
  write budget stay with ``check_and_reserve`` (and the strategy host).
"""

from __future__ import annotations

from collections.abc import Mapping

from kalshi_trader.domain import PRICE_SCALE, BookSide, Fit, MarketInfo, Price, Qty, format_money, format_qty
from kalshi_trader.risk.decisions import Rule
from kalshi_trader.risk.exposure import MICROS_PER_MONEY, Exposure, MarketRisk, Reservation
from kalshi_trader.risk.limits import RiskLimits

__all__ = ["RoomView"]

_BID = BookSide.BID
_MAX_ORDER_SIZE = Rule.MAX_ORDER_SIZE.value


class RoomView:
    """See the module docstring."""

    __slots__ = (
        "_event_loss",
        "_extra_event",
        "_extra_orders",
        "_extra_total",
        "_info",
        "_markets",
        "_penciled",
        "_pending",
        "_reservations",
        "_total_loss",
        "limits",
    )

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
        self._pending: dict[str, tuple[MarketRisk, BookSide, int, int]] = {}  # claims not yet copied in
        self._extra_event: dict[str, int] = {}
        self._extra_total = 0
        self._extra_orders = 0

    # -- reads -------------------------------------------------------------------------------------

    def open_orders_left(self) -> int:
        """Places that ``max_open_orders`` still allows (claims of this view counted)."""
        return max(0, self.limits.max_open_orders - len(self._reservations) - self._extra_orders)

    def fit(self, ticker: str, side: BookSide, price: Price, qty: Qty, *, replacing: str = "") -> Fit:
        """The largest size up to ``qty`` the sizing limits allow (see the module docstring)."""
        return self._fit(ticker, side, price, qty, replacing, False)

    def claim(self, ticker: str, side: BookSide, price: Price, qty: Qty, *, replacing: str = "") -> Fit:
        """``fit``, then count what fits as reserved for the rest of this view's answers."""
        return self._fit(ticker, side, price, qty, replacing, True)

    # -- the judgement ---------------------------------------------------------------------------

    def _fit(self, ticker: str, side: BookSide, price: Price, qty: Qty, replacing: str, claim: bool) -> Fit:
        limits = self.limits
        info = self._info.get(ticker)
        if info is None:
            return Fit(Qty(0), Rule.UNKNOWN_MARKET.value, f"market {ticker} is not registered with risk")
        # A size s loads the side with (contracts, cost) = (u, leg × u + extra) where u = max(0, s −
        # kept): a place keeps nothing; an amend counts the larger of its old and new sizes at the
        # worse of their prices (``Reservation.load``) less what the order holds now.
        if replacing:
            old = self._reservations.get(replacing)
            if old is None:
                return Fit(Qty(0), Rule.UNKNOWN_ORDER.value, f"no open order {replacing} to amend")
            if old.prev_price is not None:
                return Fit(Qty(0), Rule.INVALID_INTENT.value, f"an amend of {replacing} is already in flight")
            old_leg = old.price if old.side is _BID else PRICE_SCALE - old.price
            leg = price if old.side is _BID else PRICE_SCALE - price
            if leg < old_leg:
                leg = old_leg
            kept: int = old.qty
            extra = (leg - old_leg) * kept
        else:
            if limits.max_open_orders - len(self._reservations) - self._extra_orders <= 0:
                reason = f"{limits.max_open_orders} orders are open or planned already (limit {limits.max_open_orders})"
                return Fit(Qty(0), Rule.MAX_OPEN_ORDERS.value, reason)
            leg = price if side is _BID else PRICE_SCALE - price
            kept, extra = 0, 0
        if self._pending:  # a claim's pencil is copied into its market only when the market is read again
            pending = self._pending.pop(ticker, None)
            if pending is not None:
                self._penciled[ticker] = pending[0].plus(pending[1], pending[2], pending[3])
        market = self._penciled.get(ticker) or self._markets.get(ticker) or MarketRisk(ticker, info.event_ticker)
        max_size = limits.max_order_size
        top = qty if qty < max_size else max_size
        before = market.exposure()  # the market does not change while this is judged
        high: int | None
        if top > 0 and leg > 0:  # closed form: the largest size within each limit, the least of them
            base = market.realized - market.cost
            if side is _BID:  # bids grow the YES leg and cost in the NO outcome
                held = market.qty + market.bid_qty
                outcome = base + (-market.qty * PRICE_SCALE if market.qty < 0 else 0) - market.bid_cost
            else:
                held = market.ask_qty - market.qty
                outcome = base + (market.qty * PRICE_SCALE if market.qty > 0 else 0) - market.ask_cost
            # The grown leg's worst case may pass the cap only while it does not grow.
            cap = limits.max_position_per_market
            ceiling = cap if cap > held else held
            by_position = (ceiling if ceiling > 0 else 0) - held
            # A size that adds loss keeps the event's and the total loss within their limits: the
            # loss is at least today's, and the outcome the order pays in loses its cost.
            loss_now = before.loss
            event = market.event_ticker
            by_event = limits.max_event_exposure * MICROS_PER_MONEY - self._event_loss.get(event, 0)
            by_event += loss_now - self._extra_event.get(event, 0)
            by_total = limits.max_total_exposure * MICROS_PER_MONEY - self._total_loss - self._extra_total + loss_now
            allowed = by_event if by_event < by_total else by_total
            if allowed < loss_now:
                allowed = loss_now
            by_loss = (allowed + outcome - extra) // leg
            more = by_position if by_position < by_loss else by_loss
            size = 0 if more < 0 else kept + more if kept + more < top else top
            high = size + 1 if size < top else None
            fit = self._answer(market, side, before, (kept, leg, extra), size, high, qty, top)
            if claim and size > 0:  # after the answer: the rule that cut the size is judged without it
                more = size - kept if size > kept else 0
                cost = leg * more + extra
                self._pending[ticker] = (market, side, more, cost)
                added = cost - outcome - loss_now  # the loss after is the larger of today's and this
                if added > 0:
                    self._extra_event[event] = self._extra_event.get(event, 0) + added
                    self._extra_total += added
                if not kept:
                    self._extra_orders += 1
            return fit
        # no order has such a size or price: search (worst cases need not grow with size)
        size, high = self._search(market, side, before, (kept, leg, extra), top)
        fit = self._answer(market, side, before, (kept, leg, extra), size, high, qty, top)
        if claim and size > 0:
            self._pencil(market, side, before, _load(size, kept, leg, extra), not kept)
        return fit

    def _answer(
        self,
        market: MarketRisk,
        side: BookSide,
        before: Exposure,
        terms: tuple[int, int, int],
        size: int,
        high: int | None,
        qty: int,
        top: int,
    ) -> Fit:
        """The fit of ``size`` with the rule the size just above it (``high``) breaks."""
        if high is None:  # the whole size fits
            if top == qty:
                return Fit(Qty(top))
            max_size = self.limits.max_order_size
            return Fit(Qty(top), _MAX_ORDER_SIZE, f"size cut to the max order size {format_qty(max_size)}")
        after = market.exposure(side, _load(high, *terms))
        rule, why = self._blocked(market, before, after) or (Rule.APPROVED, "")
        return Fit(Qty(size), rule.value, f"size cut to {format_qty(size)}: {why}" if size else why)

    def _search(
        self, market: MarketRisk, side: BookSide, before: Exposure, terms: tuple[int, int, int], top: int
    ) -> tuple[int, int | None]:
        """(largest size that fits, the size just above it — None when ``top`` fits) by bisection."""

        def blocked(size: int) -> bool:
            return self._blocked(market, before, market.exposure(side, _load(size, *terms))) is not None

        if not blocked(top):
            return top, None
        low, high = 0, top  # low fits, high does not
        while high - low > 1:
            mid = (low + high) // 2
            if blocked(mid):
                high = mid
            else:
                low = mid
        return low, high

    def _blocked(self, market: MarketRisk, before: Exposure, after: Exposure) -> tuple[Rule, str] | None:
        """The first sizing rule ``after`` breaks (as ``RiskManager._exposure_limits`` judges it)."""
        limits = self.limits
        cap = limits.max_position_per_market
        if (after.long > cap and after.long > before.long) or (after.short > cap and after.short > before.short):
            leg, worst = ("YES", after.long) if after.long > cap and after.long > before.long else ("NO", after.short)
            would = format_qty(worst)
            why = f"worst-case {leg} position in {market.ticker} would be {would} (limit {format_qty(cap)})"
            return Rule.MAX_POSITION_PER_MARKET, why
        added = after.loss - before.loss
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

    def _pencil(self, market: MarketRisk, side: BookSide, before: Exposure, load: tuple[int, int], place: bool) -> None:
        """Count ``load`` more on ``side`` of ``market`` for the rest of this view."""
        copy = market.plus(side, *load)
        self._penciled[market.ticker] = copy
        added = copy.exposure().loss - before.loss
        if added > 0:
            event = market.event_ticker
            self._extra_event[event] = self._extra_event.get(event, 0) + added
            self._extra_total += added
        if place:
            self._extra_orders += 1


def _load(size: int, kept: int, leg: int, extra: int) -> tuple[int, int]:
    """What an order of ``size`` adds to its side (see ``RoomView._fit``; an amended order always
    holds a size: a reservation left with none is gone)."""
    if kept:
        more = size - kept if size > kept else 0
        return more, leg * more + extra
    return size, leg * size
