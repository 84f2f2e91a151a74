"""The paper venue's records: its orders, positions, order groups and markets, and what changed.

Contract:
- ``PaperOrder`` is one order as the paper venue keeps it: the ``domain.Order`` fields plus what
  matching needs — time in force, self-trade prevention, flags, the collateral it holds, its fee
  accumulator (Kalshi's fee_rounding page) and, while it rests, its place in the public queue (``ahead``:
  displayed contracts in front of it; ``arrival_seq``: the book's decrease counter when it
  joined; ``rest_seq``: its time priority among the paper account's own orders).
  ``to_order()`` is the ``domain.Order`` the venue reports.
- ``PaperPosition``: the account's netted position in one market (``qty`` > 0 YES, < 0 NO),
  its average-cost ``cost`` basis, realized P&L (fees excluded) and fees paid; ``settled`` once
  the market paid out (then flat for good).
- ``PaperGroup``: an order group — its limit, whether it is triggered, and its fills within the
  rolling window as ``(ms, qty)`` pairs.
- ``Changes``: what one flush must make durable — copies of the touched rows, the new fills and
  settlements, and the private events to deliver once they are on disk.

Money in ``Money`` ($0.0001), counts in ``Qty``, prices are YES prices unless named ``leg``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from kalshi_trader.domain import (
    PRICE_SCALE,
    BookSide,
    FeeSchedule,
    Fill,
    MarketStatus,
    Money,
    Order,
    OrderStatus,
    Price,
    Qty,
    SelfTradePrevention,
    Side,
    TickGrid,
    TimeInForce,
)
from kalshi_trader.execution.venue import GroupEvent, Settlement

__all__ = ["Changes", "GroupNotice", "PaperEvent", "PaperGroup", "PaperMarket", "PaperOrder", "PaperPosition"]


@dataclass(slots=True)
class PaperOrder:
    order_id: str
    client_order_id: str
    ticker: str
    side: BookSide
    price: Price
    initial: Qty
    filled: Qty
    remaining: Qty
    status: OrderStatus
    time_in_force: TimeInForce
    self_trade_prevention: SelfTradePrevention
    created_ms: int
    updated_ms: int
    post_only: bool = False
    reduce_only: bool = False
    order_group_id: str | None = None
    reason: str = "Created"
    """Why it last changed (Kalshi's ``last_update_reason`` words: Fill, Amend, UserCanceled...)."""
    collateral: Money = Money(0)
    fee_acc_micros: int = 0
    ahead: Qty = Qty(0)
    arrival_seq: int = 0
    rest_seq: int = 0

    @property
    def ladder(self) -> Side:
        """The bid ladder it rests on: YES bids for ``bid``, NO bids for ``ask``."""
        return Side.YES if self.side is BookSide.BID else Side.NO

    @property
    def leg(self) -> Price:
        """Its limit on its own leg (the YES price for a bid, the NO price for an ask)."""
        return self.price if self.side is BookSide.BID else Price(PRICE_SCALE - self.price)

    @property
    def resting(self) -> bool:
        return self.status is OrderStatus.RESTING

    def to_order(self) -> Order:
        return Order(
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            ticker=self.ticker,
            side=self.side,
            price=self.price,
            initial=self.initial,
            filled=self.filled,
            remaining=self.remaining,
            status=self.status,
            created_ms=self.created_ms,
            updated_ms=self.updated_ms,
            order_group_id=self.order_group_id,
        )

    def copy(self) -> PaperOrder:
        return dataclasses.replace(self)


@dataclass(slots=True)
class PaperPosition:
    ticker: str
    qty: Qty = Qty(0)
    cost: Money = Money(0)
    realized: Money = Money(0)
    fees_paid: Money = Money(0)
    settled: bool = False
    updated_ms: int = 0

    def copy(self) -> PaperPosition:
        return dataclasses.replace(self)


@dataclass(slots=True)
class PaperGroup:
    group_id: str
    contracts_limit: Qty
    triggered: bool = False
    window: list[tuple[int, int]] = field(default_factory=list)
    deleted: bool = False

    def copy(self) -> PaperGroup:
        return PaperGroup(self.group_id, self.contracts_limit, self.triggered, list(self.window), self.deleted)


@dataclass(slots=True)
class PaperMarket:
    """A market the venue trades: its grid, fees and status (from the caller and the lifecycle)."""

    ticker: str
    grid: TickGrid
    fees: FeeSchedule
    status: MarketStatus = MarketStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class GroupNotice:
    group_id: str
    kind: GroupEvent


PaperEvent = Order | Fill | Settlement | GroupNotice
"""One private event, delivered to the ``VenueEvents`` sink once durable."""


@dataclass(slots=True)
class Changes:
    cash: Money
    reserved: Money
    orders: list[PaperOrder] = field(default_factory=list)
    positions: list[PaperPosition] = field(default_factory=list)
    groups: list[PaperGroup] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)
    events: list[PaperEvent] = field(default_factory=list)
