"""The JSON API's response bodies (pydantic, so the OpenAPI page documents them) and the
conversions from the node's read models.

Conventions (the same as Kalshi's fixed-point API): every dollar amount or price is a decimal
string with 4 decimals (``"0.5600"``, ``"-12.3400"``), every contract count a string with 2
decimals (``"10.00"``), never a float; a missing price is ``null``. Times are integer
milliseconds since the epoch (``*_ms``); ``market_*_ms`` are on the exchange's clock (simulated in
sim mode). ``side`` is ``bid`` (buys YES) or ``ask`` (buys NO); prices are YES prices.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from kalshi_trader import readmodels as rm
from kalshi_trader.domain import Level, format_money, format_price, format_qty


def _p(price: int | None) -> str | None:
    return None if price is None else format_price(price)


class Balance(BaseModel):
    balance: str
    portfolio_value: str
    as_of_ms: int


class Position(BaseModel):
    ticker: str
    title: str
    qty: str
    """Signed: > 0 long YES, < 0 long NO."""
    average_cost: str | None
    cost: str
    mark: str | None
    unrealized_pnl: str
    realized_pnl: str
    fees: str
    exposure: str


class OrderOut(BaseModel):
    client_order_id: str
    order_id: str | None
    ticker: str
    side: str
    price: str
    size: str
    filled: str
    remaining: str
    state: str
    tif: str
    post_only: bool
    reduce_only: bool
    strategy: str
    reason: str
    updated_ms: int
    last_update_reason: str = Field(
        description="Why the exchange last changed the order; once it ended, why it ended "
        "(Kalshi's last_update_reason: Trade, Amend, ExpiryCancel, SettlementBoundsCancel, ...). "
        '"" when the exchange gave none (a cancel the node asked for).'
    )


class FillOut(BaseModel):
    fill_id: str
    order_id: str
    client_order_id: str
    ticker: str
    side: str
    price: str
    qty: str
    fee: str
    is_taker: bool
    ts_ms: int
    strategy: str


class Market(BaseModel):
    ticker: str
    event_ticker: str
    series_ticker: str
    title: str
    subtitle: str
    status: str
    market_close_ms: int
    best_bid: str | None
    best_ask: str | None
    bid_qty: str
    ask_qty: str
    last_price: str | None
    volume: str
    fair_value: str | None
    stale: bool
    position: str


class LevelOut(BaseModel):
    price: str
    qty: str


class PricePointOut(BaseModel):
    market_ms: int
    mid: str | None
    fair: str | None
    bid: str | None
    ask: str | None


class Book(BaseModel):
    ticker: str
    title: str
    subtitle: str
    stale: bool
    yes_bids: list[LevelOut]
    """Best (highest) first."""
    yes_asks: list[LevelOut]
    """Best (lowest) first (= $1 − the NO bids)."""
    fair_value: str | None
    uncertainty: str | None
    own_orders: list[OrderOut]
    history: list[PricePointOut]


class FairValueOut(BaseModel):
    ticker: str
    event_ticker: str
    title: str
    fair_value: str
    uncertainty: str
    market_as_of_ms: int
    source: str
    mid: str | None


class PnlPointOut(BaseModel):
    ts_ms: int
    market_ms: int
    balance: str
    exposure: str
    realized: str
    unrealized: str
    fees: str
    net: str


class DecisionOut(BaseModel):
    ticker: str
    verdict: str
    reason: str
    market_ms: int


class Strategy(BaseModel):
    name: str
    title: str
    enabled: bool
    running: bool
    open_orders: int
    positions: int
    fills: int
    steps: int
    actions: int
    refused: int
    last_error: str
    decisions: list[DecisionOut]


class Breaker(BaseModel):
    rule: str
    open: bool
    reason: str


class Risk(BaseModel):
    halted: bool
    kill_switch: bool
    kill_who: str
    kill_why: str
    breakers: list[Breaker]
    total_exposure: str
    max_total_exposure: str
    day_pnl: str
    daily_loss_limit: str
    open_orders: int
    max_open_orders: int
    submitted: int
    refused: int
    rejected: int
    errors: int


class Health(BaseModel):
    status: str
    mode: str
    uptime_s: float
    checks: list[rm.HealthCheck]
    connection: rm.ConnectionView
    """The read model as it is: every field is already plain JSON (no amounts to format)."""


class KillOut(BaseModel):
    canceled: int
    still_resting: int
    """Resting orders the exchange still listed after the sweep (0 is success, −1 unknown)."""
    flattened: bool
    strategies_stopped: list[str]


class KillRequest(BaseModel):
    confirm: bool = False
    """Must be true: the kill switch stops every strategy and cancels every resting order."""
    flatten: bool = False
    """Also close every open position with reduce-only IOC orders."""
    reason: str = "kill switch pressed on the dashboard"
    who: str = "dashboard"


class ResetRequest(BaseModel):
    reason: str = "reset from the dashboard"
    who: str = "dashboard"


class Error(BaseModel):
    detail: str


# ------------------------------------------------------------------------------------------------


def balance(v: rm.BalanceView) -> Balance:
    return Balance(
        balance=format_money(v.balance), portfolio_value=format_money(v.portfolio_value), as_of_ms=v.as_of_ms
    )


def position(v: rm.PositionView) -> Position:
    return Position(
        ticker=v.ticker,
        title=v.title,
        qty=format_qty(v.qty),
        average_cost=_p(v.average_cost),
        cost=format_money(v.cost),
        mark=_p(v.mark),
        unrealized_pnl=format_money(v.unrealized),
        realized_pnl=format_money(v.realized),
        fees=format_money(v.fees),
        exposure=format_money(v.exposure),
    )


def order(v: rm.OrderView) -> OrderOut:
    return OrderOut(
        client_order_id=v.client_order_id,
        order_id=v.order_id,
        ticker=v.ticker,
        side=v.side.value,
        price=format_price(v.price),
        size=format_qty(v.size),
        filled=format_qty(v.filled),
        remaining=format_qty(v.remaining),
        state=v.state,
        tif=v.tif,
        post_only=v.post_only,
        reduce_only=v.reduce_only,
        strategy=v.strategy,
        reason=v.reason,
        updated_ms=v.updated_ms,
        last_update_reason=v.last_update_reason,
    )


def fill(v: rm.FillView) -> FillOut:
    return FillOut(
        fill_id=v.fill_id,
        order_id=v.order_id,
        client_order_id=v.client_order_id,
        ticker=v.ticker,
        side=v.side.value,
        price=format_price(v.price),
        qty=format_qty(v.qty),
        fee=format_money(v.fee),
        is_taker=v.is_taker,
        ts_ms=v.ts_ms,
        strategy=v.strategy,
    )


def market(v: rm.MarketView) -> Market:
    return Market(
        ticker=v.ticker,
        event_ticker=v.event_ticker,
        series_ticker=v.series_ticker,
        title=v.title,
        subtitle=v.subtitle,
        status=v.status,
        market_close_ms=v.close_ms,
        best_bid=_p(v.best_bid),
        best_ask=_p(v.best_ask),
        bid_qty=format_qty(v.bid_qty),
        ask_qty=format_qty(v.ask_qty),
        last_price=_p(v.last_price),
        volume=format_qty(v.volume),
        fair_value=_p(v.fair_value),
        stale=v.stale,
        position=format_qty(v.position),
    )


def _levels(levels: tuple[Level, ...]) -> list[LevelOut]:
    return [LevelOut(price=format_price(lv.price), qty=format_qty(lv.qty)) for lv in levels]


def book(v: rm.BookView) -> Book:
    return Book(
        ticker=v.ticker,
        title=v.title,
        subtitle=v.subtitle,
        stale=v.stale,
        yes_bids=_levels(v.yes_bids),
        yes_asks=_levels(v.yes_asks),
        fair_value=_p(v.fair_value),
        uncertainty=_p(v.uncertainty),
        own_orders=[order(o) for o in v.own_orders],
        history=[
            PricePointOut(market_ms=p.ts_ms, mid=_p(p.mid), fair=_p(p.fair), bid=_p(p.bid), ask=_p(p.ask))
            for p in v.history
        ],
    )


def fair_value(v: rm.FairValueView) -> FairValueOut:
    return FairValueOut(
        ticker=v.ticker,
        event_ticker=v.event_ticker,
        title=v.title,
        fair_value=format_price(v.price),
        uncertainty=format_price(v.uncertainty),
        market_as_of_ms=v.as_of_ms,
        source=v.source,
        mid=_p(v.mid),
    )


def pnl_point(v: rm.PnlPoint) -> PnlPointOut:
    return PnlPointOut(
        ts_ms=v.ts_ms,
        market_ms=v.market_ms,
        balance=format_money(v.balance),
        exposure=format_money(v.exposure),
        realized=format_money(v.realized),
        unrealized=format_money(v.unrealized),
        fees=format_money(v.fees),
        net=format_money(v.net),
    )


def strategy(v: rm.StrategyView) -> Strategy:
    return Strategy(
        name=v.name,
        title=v.title,
        enabled=v.enabled,
        running=v.running,
        open_orders=v.open_orders,
        positions=v.positions,
        fills=v.fills,
        steps=v.steps,
        actions=v.actions,
        refused=v.refused,
        last_error=v.last_error,
        decisions=[
            DecisionOut(ticker=d.ticker, verdict=d.verdict, reason=d.reason, market_ms=d.ts_ms) for d in v.decisions
        ],
    )


def risk(v: rm.RiskView) -> Risk:
    return Risk(
        halted=v.halted,
        kill_switch=v.kill_switch,
        kill_who=v.kill_who,
        kill_why=v.kill_why,
        breakers=[Breaker(rule=b.rule, open=b.open, reason=b.reason) for b in v.breakers],
        total_exposure=format_money(v.total_exposure),
        max_total_exposure=format_money(v.max_total_exposure),
        day_pnl=format_money(v.day_pnl),
        daily_loss_limit=format_money(v.daily_loss_limit),
        open_orders=v.open_orders,
        max_open_orders=v.max_open_orders,
        submitted=v.submitted,
        refused=v.refused,
        rejected=v.rejected,
        errors=v.errors,
    )


def health(v: rm.HealthView, conn: rm.ConnectionView) -> Health:
    return Health(
        status=v.status,
        mode=v.mode,
        uptime_s=round(v.uptime_s, 1),
        checks=list(v.checks),
        connection=conn,
    )


def kill(v: rm.KillReport) -> KillOut:
    return KillOut(
        canceled=v.canceled,
        still_resting=v.still_resting,
        flattened=v.flattened,
        strategies_stopped=list(v.strategies_stopped),
    )
