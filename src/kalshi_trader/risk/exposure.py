"""Worst-case position and loss of one market: its position plus every reserved order filling.

Contract (all integers; money in exact micro-dollars = ``Price`` × ``Qty`` units):
- A market's state is its netted position (``qty`` > 0 long YES, < 0 long NO, ``cost`` of the held
  leg, gross ``realized`` P&L, as the order tracker reports them) plus the open reservations on each
  side: ``bid`` reservations buy YES, ``ask`` reservations buy NO.
- **Worst-case position**, per leg: ``long = qty + reserved bids`` (every bid fills) and
  ``short = reserved asks − qty`` (every ask fills), each at least 0; ``position`` is the larger.
- **Worst-case loss** = the largest loss over the two outcomes when every reserved order that hurts
  in that outcome fills at its limit price: in the YES outcome every NO purchase (ask) fills, in
  the NO outcome every YES purchase (bid) fills. The P&L of an outcome is what the holdings pay, minus
  their cost, plus P&L already realized in this market (gross of fees — fees belong to the daily
  loss limit). Counting realized P&L is what makes the figure consistent: a fill at (or better than)
  its reserved price never raises either worst case, because money moved from "reserved" to "spent"
  is counted the same either way. So a check made when an order is reserved stays true while it fills.
- Positions arrive as ``domain.Position`` values in ``Money`` rounded toward safety by the tracker
  (cost up, realized P&L down), so the figure here can exceed the exact one by up to $0.0002 per
  market — never fall below it.
- Orders that close a position add no worst-case risk (buying NO against a YES position caps the loss
  instead of adding to it), so exits are never blocked by exposure limits.
- A reservation whose amend is in flight counts the larger of its old and new sizes at the worse of
  its old and new prices: until the amend is answered, part of the order may fill on the old terms
  and the rest on the new ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import msgspec

from kalshi_trader.domain import PRICE_SCALE, BookSide, Position, Price, Qty, leg_price

__all__ = ["Exposure", "MarketRisk", "Reservation"]

MICROS_PER_MONEY = 100
_BID = BookSide.BID


class Exposure(NamedTuple):
    long: int
    """Worst-case YES contracts (``Qty`` units, >= 0): the position if every bid filled."""
    short: int
    """Worst-case NO contracts (>= 0): the position if every ask filled."""
    loss: int
    """Worst-case loss in micro-dollars (>= 0)."""

    @property
    def position(self) -> int:
        """Worst-case contracts on either leg."""
        return max(self.long, self.short)


_new_exposure = tuple.__new__
"""``Exposure(...)`` without the Python-level ``__new__`` a ``NamedTuple`` has."""


class Reservation(msgspec.Struct, frozen=True):
    """Risk held for one order (keyed by its ``client_order_id``) until it fills, is canceled,
    rejected or expires."""

    reservation_id: str
    ticker: str
    event_ticker: str
    side: BookSide
    price: Price
    qty: Qty
    """Still reserved: the order's remaining size."""
    created_ms: int
    prev_price: Price | None = None
    """Terms before an amend that is still in flight (None: no amend in flight)."""
    prev_qty: Qty | None = None

    def load(self) -> tuple[int, int]:
        """(contracts, cost in micro-dollars) this reservation adds to its side."""
        qty, leg = self.qty, leg_price(self.price, self.side)
        if self.prev_price is not None and self.prev_qty is not None:
            # Part may fill on the old terms and the rest on the new ones (Kalshi's amend count is
            # "filled + remaining"): bound it by the larger size at the worse price.
            qty = max(qty, self.prev_qty)
            leg = max(leg, leg_price(self.prev_price, self.side))
        return qty, leg * qty

    def after_fill(self, filled: int) -> Reservation:
        prev = None if self.prev_qty is None else Qty(max(0, self.prev_qty - filled))
        return msgspec.structs.replace(self, qty=Qty(max(0, self.qty - filled)), prev_qty=prev)

    @property
    def empty(self) -> bool:
        return self.qty == 0 and not self.prev_qty


@dataclass(slots=True)
class MarketRisk:
    """One market's position and reserved orders, with the exposure last counted in the totals.

    Its position and reservations change only through ``set_position`` and ``add``, which forget the
    exposure ``exposure()`` keeps between changes (so a check reads it without recomputing it)."""

    ticker: str
    event_ticker: str
    qty: int = 0
    cost: int = 0
    """Cost of the held leg, micro-dollars."""
    realized: int = 0
    """Gross realized P&L, micro-dollars."""
    bid_qty: int = 0
    bid_cost: int = 0
    ask_qty: int = 0
    ask_cost: int = 0
    counted_loss: int = 0
    """The worst-case loss currently included in the event and total sums."""
    _now: Exposure | None = field(default=None, init=False, repr=False, compare=False)
    """``exposure()`` as of the last change (None: not computed since)."""

    def copy(self) -> MarketRisk:
        """An independent copy (what ``dataclasses.replace`` makes, without its field-by-field walk)."""
        return self.plus(_BID, 0, 0)

    def plus(self, side: BookSide, qty: int, cost: int) -> MarketRisk:
        """A copy with ``qty`` contracts more reserved on ``side`` for ``cost`` more."""
        if side is _BID:
            bid_qty, bid_cost, ask_qty, ask_cost = self.bid_qty + qty, self.bid_cost + cost, self.ask_qty, self.ask_cost
        else:
            bid_qty, bid_cost, ask_qty, ask_cost = self.bid_qty, self.bid_cost, self.ask_qty + qty, self.ask_cost + cost
        return MarketRisk(
            self.ticker,
            self.event_ticker,
            self.qty,
            self.cost,
            self.realized,
            bid_qty,
            bid_cost,
            ask_qty,
            ask_cost,
            self.counted_loss,
        )

    def set_position(self, position: Position) -> None:
        self._now = None
        self.qty = position.qty
        self.cost = position.cost * MICROS_PER_MONEY
        self.realized = position.realized_pnl * MICROS_PER_MONEY

    def add(self, side: BookSide, load: tuple[int, int], sign: int = 1) -> None:
        self._now = None
        qty, cost = load
        if side is _BID:
            self.bid_qty += sign * qty
            self.bid_cost += sign * cost
        else:
            self.ask_qty += sign * qty
            self.ask_cost += sign * cost

    def reserve(self, side: BookSide, load: tuple[int, int], after: Exposure) -> None:
        """``add`` the load, knowing the worst cases it leaves (``exposure(side, load)`` before)."""
        qty, cost = load
        if side is _BID:
            self.bid_qty += qty
            self.bid_cost += cost
        else:
            self.ask_qty += qty
            self.ask_cost += cost
        self._now = after

    def exposure(self, side: BookSide = BookSide.BID, extra: tuple[int, int] = (0, 0)) -> Exposure:
        """The worst cases now, or with ``extra`` (contracts, cost) more reserved on ``side``."""
        if not extra[0] and not extra[1]:
            now = self._now
            if now is None:
                now = self._now = self.exposure_with(side, extra)
            return now
        return self.exposure_with(side, extra)

    def exposure_with(self, side: BookSide, extra: tuple[int, int]) -> Exposure:
        """The worst cases with ``extra`` (contracts, cost) more reserved on ``side``, worked out
        afresh (``exposure`` without the look at what it keeps)."""
        qty, bid_qty, bid_cost, ask_qty, ask_cost = self.qty, self.bid_qty, self.bid_cost, self.ask_qty, self.ask_cost
        if side is _BID:
            bid_qty, bid_cost = bid_qty + extra[0], bid_cost + extra[1]
        else:
            ask_qty, ask_cost = ask_qty + extra[0], ask_cost + extra[1]
        long, short = qty + bid_qty, ask_qty - qty
        base = self.realized - self.cost
        if_yes = base - ask_cost + (qty * PRICE_SCALE if qty > 0 else 0)
        if_no = base - bid_cost - (qty * PRICE_SCALE if qty < 0 else 0)
        worst = if_yes if if_yes < if_no else if_no
        return _new_exposure(Exposure, (long if long > 0 else 0, short if short > 0 else 0, -worst if worst < 0 else 0))
