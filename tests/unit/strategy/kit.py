"""Builders for strategy tests: snapshots, orders, fills and states in readable units."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kalshi_trader.config import RiskSettings
from kalshi_trader.domain import (
    BookSide,
    FeeSchedule,
    Fill,
    MarketInfo,
    MarketStatus,
    Money,
    Order,
    OrderStatus,
    Position,
    Price,
    Qty,
    TickGrid,
    parse_price,
)
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.strategy.base import (
    UNLIMITED,
    FairValue,
    MarketSnapshot,
    OrderChange,
    Refusal,
    RiskRoom,
    StrategyState,
)

GRID = TickGrid.named("linear_cent")
NOW = 1_750_000_000_000
SECOND = 1_000
MINUTE = 60_000
HOUR = 3_600_000
BID = BookSide.BID
ASK = BookSide.ASK


def px(text: str) -> Price:
    return parse_price(text)


def ct(contracts: float) -> Qty:
    """Contracts → Qty (hundredths)."""
    return Qty(round(contracts * 100))


def snap(
    ticker: str = "KXHIGHNY-26MAY16-B78.5",
    *,
    bid: str | None = "0.88",
    ask: str | None = "0.90",
    bid_qty: float = 50,
    ask_qty: float = 50,
    bid_depth: float | None = None,
    ask_depth: float | None = None,
    close_in: int = 6 * HOUR,
    now: int = NOW,
    age: int = 0,
    stale: bool = False,
    event: str = "KXHIGHNY-26MAY16",
    series: str = "KXHIGHNY",
    grid: TickGrid = GRID,
    fees: FeeSchedule = FeeSchedule(),
) -> MarketSnapshot:
    return MarketSnapshot(
        ticker=ticker,
        event_ticker=event,
        grid=grid,
        close_ms=now + close_in,
        best_bid=px(bid) if bid is not None else None,
        best_ask=px(ask) if ask is not None else None,
        best_bid_qty=ct(bid_qty) if bid is not None else Qty(0),
        best_ask_qty=ct(ask_qty) if ask is not None else Qty(0),
        bid_depth=ct(bid_depth if bid_depth is not None else (bid_qty if bid is not None else 0)),
        ask_depth=ct(ask_depth if ask_depth is not None else (ask_qty if ask is not None else 0)),
        updated_ms=now - age,
        stale=stale,
        series_ticker=series,
        fees=fees,
    )


def order(
    ticker: str,
    side: BookSide,
    price: str,
    remaining: float,
    coid: str,
    *,
    filled: float = 0,
    created: int = NOW,
) -> Order:
    return Order(
        order_id="x-" + coid,
        client_order_id=coid,
        ticker=ticker,
        side=side,
        price=px(price),
        initial=ct(remaining + filled),
        filled=ct(filled),
        remaining=ct(remaining),
        status=OrderStatus.RESTING,
        created_ms=created,
    )


def fill(ticker: str, side: BookSide, price: str, qty: float, coid: str, fill_id: str, ts: int = NOW) -> Fill:
    return Fill(fill_id, "x-" + coid, ticker, side, px(price), ct(qty), Money(0), False, ts, client_order_id=coid)


def fair(ticker: str, price: str, *, uncertainty: str = "0", as_of: int = NOW) -> FairValue:
    return FairValue(ticker, px(price), as_of, px(uncertainty))


def state(
    now: int = NOW,
    markets: Iterable[MarketSnapshot] = (),
    *,
    orders: Iterable[Order] = (),
    positions: Mapping[str, float] | None = None,
    own_positions: Mapping[str, float] | None = None,
    fills: Iterable[Fill] = (),
    fair_values: Iterable[FairValue] = (),
    in_flight: Mapping[str, OrderChange] | None = None,
    refused: Iterable[Refusal] = (),
    room: RiskRoom = UNLIMITED,
) -> StrategyState:
    return StrategyState(
        now_ms=now,
        markets={m.ticker: m for m in markets},
        fair_values={f.ticker: f for f in fair_values},
        open_orders=tuple(orders),
        positions={t: Position(t, ct(q)) for t, q in (positions or {}).items()},
        own_positions={t: ct(q) for t, q in ((positions if own_positions is None else own_positions) or {}).items()},
        fills=tuple(fills),
        id_salt="test",
        in_flight=dict(in_flight or {}),
        refused=tuple(refused),
        room=room,
    )


def risk_for(markets: Iterable[MarketSnapshot], **limits: object) -> RiskManager:
    """A real risk manager knowing ``markets``, with ``limits`` (``RiskSettings`` fields) set: the
    room strategies size with is ``risk_for(...).room()``."""
    settings = RiskSettings.model_validate(limits)
    risk = RiskManager(RiskLimits.from_settings(settings), clock=lambda: NOW, market_clock=lambda: NOW)
    for m in markets:
        info = MarketInfo(m.ticker, m.event_ticker, m.series_ticker, MarketStatus.ACTIVE, m.grid, m.close_ms)
        risk.register_market(info)
    return risk
