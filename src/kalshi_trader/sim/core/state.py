"""The embedded exchange's state objects, requests, errors and events.

Contract: these are the nouns shared by the matching engine (``sim/core/matching.py``), which owns and
mutates them, and the server (``sim/api/application.py``, ``sim/api/ws_feed.py``), which only reads them and turns
them into Kalshi's JSON through ``kalshi/schemas.py``. All prices are YES prices in ``Price`` units
($0.0001), all counts ``Qty`` (hundredths of a contract), all money ``Money`` ($0.0001), all times
integer milliseconds of the exchange clock. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from kalshi_trader.domain import (
    BookSide,
    FeeType,
    MarketStatus,
    Money,
    OrderStatus,
    Price,
    Qty,
    SelfTradePrevention,
    Side,
    TickGrid,
    TimeInForce,
)


class ExchangeError(Exception):
    """A request the exchange refuses. ``status`` is the HTTP status, ``code`` Kalshi's error code.

    Raising it must leave every piece of state exactly as it was before the call."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


@dataclass(slots=True)
class NewOrder:
    """A create request after wire parsing (the V2 shape)."""

    ticker: str
    side: BookSide
    price: Price
    count: Qty
    time_in_force: TimeInForce
    self_trade_prevention: SelfTradePrevention
    client_order_id: str = ""
    expiration_ms: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    cancel_order_on_pause: bool = False
    order_group_id: str | None = None
    buy_max_cost: Money | None = None
    subaccount: int = 0


@dataclass(slots=True)
class SimOrder:
    """One order, live or finished."""

    order_id: str
    user_id: str
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
    expiration_ms: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    cancel_order_on_pause: bool = False
    order_group_id: str | None = None
    subaccount: int = 0
    taker_fill_cost: Money = Money(0)
    maker_fill_cost: Money = Money(0)
    taker_fees: Money = Money(0)
    maker_fees: Money = Money(0)
    last_update_reason: str = ""
    fee_accumulator: Money = Money(0)
    """Rounding overpayment carried across this order's fills (fee_rounding page)."""

    @property
    def outcome(self) -> Side:
        return self.side.outcome


@dataclass(frozen=True, slots=True)
class Trade:
    """A public print: ``taker_side`` is the book side of the aggressing order."""

    trade_id: str
    ticker: str
    price: Price
    count: Qty
    taker_side: BookSide
    ts_ms: int


@dataclass(frozen=True, slots=True)
class FillRecord:
    """One account's side of one trade."""

    fill_id: str
    trade_id: str
    order_id: str
    user_id: str
    client_order_id: str
    ticker: str
    side: BookSide
    price: Price
    count: Qty
    fee: Money
    is_taker: bool
    post_position: Qty
    ts_ms: int
    subaccount: int = 0


@dataclass(slots=True)
class PositionState:
    """An account's netted position in one market and its running accounting."""

    ticker: str
    position: Qty = Qty(0)
    cost: Money = Money(0)
    """Cost basis of the current position (what was paid for the contracts still held)."""
    total_traded: Money = Money(0)
    realized_pnl: Money = Money(0)
    fees_paid: Money = Money(0)
    volume: Qty = Qty(0)
    updated_ms: int = 0


@dataclass(frozen=True, slots=True)
class SettlementRecord:
    ticker: str
    event_ticker: str
    user_id: str
    market_result: Literal["yes", "no", "scalar"]
    yes_count: Qty
    no_count: Qty
    yes_total_cost: Money
    no_total_cost: Money
    revenue: Money
    value: Price
    fee_cost: Money
    settled_ms: int


@dataclass(slots=True)
class Account:
    user_id: str
    cash: Money
    """Cash not committed to resting orders (what ``balance`` reports)."""
    reserved: Money = Money(0)
    """Collateral held for resting orders."""
    positions: dict[str, PositionState] = field(default_factory=dict)


@dataclass(slots=True)
class OrderGroup:
    group_id: str
    user_id: str
    contracts_limit: Qty
    triggered: bool = False
    recent_fills: list[tuple[int, Qty]] = field(default_factory=list)
    """(ts_ms, qty) of fills inside the rolling 15 s window."""


@dataclass(slots=True)
class MarketState:
    """What the matching engine needs of a market (metadata lives in the catalog)."""

    ticker: str
    event_ticker: str
    grid: TickGrid
    fee_type: FeeType = FeeType.QUADRATIC
    fee_multiplier: tuple[int, int] = (1, 1)
    """Fee multiplier as an exact fraction (numerator, denominator)."""
    status: MarketStatus = MarketStatus.ACTIVE
    result: Literal["yes", "no", "scalar", ""] = ""
    settlement_value: Price | None = None
    last_price: Price | None = None
    volume: Qty = Qty(0)
    open_interest: Qty = Qty(0)
    settlement_floor: Price | None = None
    """The lowest YES value (Kalshi's settlement_bounds page): None for ``default`` bounds, else the floor of a
    ``floor`` market (starts at $0, only rises). YES prices must stay above it."""


# ------------------------------------------------------------------------------------------
# Events the engine emits, in order, to every listener (the server fans them out to WS).


@dataclass(frozen=True, slots=True)
class BookDelta:
    """Resting quantity at one level of one bid ladder changed by ``delta``.

    ``side`` is the ladder: ``yes`` = YES bids (book side bid), ``no`` = NO bids (book side ask).
    ``price`` is on that ladder's own leg (a NO bid at NO price 0.40 == YES ask 0.60)."""

    ticker: str
    side: Side
    price: Price
    delta: Qty
    ts_ms: int
    user_id: str | None = None
    client_order_id: str | None = None
    subaccount: int | None = None


@dataclass(frozen=True, slots=True)
class TradeEvent:
    trade: Trade


@dataclass(frozen=True, slots=True)
class FillEvent:
    fill: FillRecord


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An order was created, updated, filled or canceled (the state after the change)."""

    order: SimOrder


@dataclass(frozen=True, slots=True)
class PositionEvent:
    user_id: str
    position: PositionState


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """A market's status/result changed. ``kind`` follows market_lifecycle_v2 event types."""

    ticker: str
    kind: Literal["created", "activated", "deactivated", "close_date_updated", "determined", "settled"]
    ts_ms: int


@dataclass(frozen=True, slots=True)
class OrderGroupEvent:
    user_id: str
    group_id: str
    kind: Literal["created", "triggered", "reset", "deleted", "limit_updated"]
    contracts_limit: Qty | None
    ts_ms: int


@dataclass(frozen=True, slots=True)
class TickerEvent:
    """Top of book, last price, volume or open interest changed for ``ticker``."""

    ticker: str
    ts_ms: int


EngineEvent = (
    BookDelta | TradeEvent | FillEvent | OrderEvent | PositionEvent | MarketEvent | OrderGroupEvent | TickerEvent
)
