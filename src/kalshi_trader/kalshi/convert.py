"""Wire structs → domain values (and domain values → request structs): the only place outside
``domain.py`` that touches Kalshi's strings.

Contract:
- Every function takes a ``kalshi.schemas`` struct and returns ``domain`` values (``Price``,
  ``Qty``, ``Money`` ints, enums, frozen dataclasses), or the reverse for request bodies. No other
  layer parses ``*_dollars`` / ``*_fp`` strings or RFC 3339 times.
- Malformed or unknown values raise ``ValueError`` naming the field and the object (ticker or id),
  never silently default: a market with an unknown status, an order with an unknown side, an
  off-scale price.
- Orderbooks come back as ``(yes, no)`` bid ladders of ``(Price, Qty)`` sorted ascending (best bid
  last) whatever order the wire used; NO levels stay in NO-leg prices, as Kalshi sends them.
- Times: RFC 3339 strings (``Z`` or an offset, any fraction) become integer Unix milliseconds;
  an absent/empty time is 0.
- ``market_info`` needs the series ticker, which a ``Market`` does not carry: pass it when known
  (from the event); otherwise it is the event ticker's prefix before the first ``-`` (Kalshi's
  ticker convention, used only as that fallback).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import TypeVar

from kalshi_trader.domain import (
    PRICE_SCALE,
    BookSide,
    Candle,
    FeeSchedule,
    FeeType,
    Fill,
    HistoricalCutoff,
    MarketInfo,
    MarketStatus,
    Money,
    Ohlc,
    Order,
    OrderStatus,
    Position,
    Price,
    Qty,
    SelfTradePrevention,
    TickGrid,
    TimeInForce,
    format_price,
    format_qty,
    parse_money,
    parse_price,
    parse_qty,
)
from kalshi_trader.kalshi import schemas as w

E = TypeVar("E", BookSide, MarketStatus, OrderStatus, FeeType)
N = TypeVar("N", bound=int)

Ladder = list[tuple[Price, Qty]]


def _enum(kind: type[E], value: str, what: str, owner: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ValueError(f"{owner}: {what} {value!r} is not one of {allowed}") from None


def _field(parse: Callable[[object], N], value: object, what: str, owner: str) -> N:
    """``parse(value)``, with the field and its object named in the error."""
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(f"{owner}: {what}: {exc}") from None


def ts_ms(text: str | None) -> int:
    """RFC 3339 (``"2026-05-17T04:59:00Z"``, any fraction, any offset) → Unix milliseconds; ``""``
    or ``None`` → 0. A time without an offset is UTC."""
    if not text:
        return 0
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _time(text: str | None, what: str, owner: str) -> int:
    """``ts_ms``, with the field and its object named in the error."""
    try:
        return ts_ms(text)
    except ValueError as exc:
        raise ValueError(f"{owner}: {what}: {exc}") from None


# -- markets ------------------------------------------------------------------------------------


def tick_grid(m: w.Market) -> TickGrid:
    """The market's grid from ``price_ranges`` (authoritative); from the structure's name when the
    ranges are missing."""
    owner = f"market {m.ticker}"
    try:
        if m.price_ranges:
            return TickGrid.from_ranges(((r.start, r.end, r.step) for r in m.price_ranges), m.price_level_structure)
        return TickGrid.named(m.price_level_structure)
    except ValueError as exc:
        raise ValueError(f"{owner}: price grid: {exc}") from None


def series_of(event_ticker: str) -> str:
    return event_ticker.split("-", 1)[0]


def market_info(m: w.Market, series_ticker: str | None = None) -> MarketInfo:
    """``Market`` → ``MarketInfo`` (status, grid, close time, title, strike)."""
    owner = f"market {m.ticker}"
    title = m.title if isinstance(m.title, str) and m.title else m.yes_sub_title
    return MarketInfo(
        ticker=m.ticker,
        event_ticker=m.event_ticker,
        series_ticker=series_ticker or series_of(m.event_ticker),
        status=_enum(MarketStatus, m.status, "status", owner),
        grid=tick_grid(m),
        close_ms=_time(m.close_time, "close_time", owner),
        title=title,
        yes_sub_title=m.yes_sub_title,
        strike_type=m.strike_type if isinstance(m.strike_type, str) else "",
        floor_strike=m.floor_strike,
        cap_strike=m.cap_strike,
        rules_primary=m.rules_primary,
        settlement_floor=settlement_floor(m),
    )


def fee_schedule(s: w.Series) -> FeeSchedule:
    """A series' fee rule: ``fee_type`` and ``fee_multiplier`` (a decimal read as an exact fraction)."""
    owner = f"series {s.ticker}"
    fee_type = _enum(FeeType, s.fee_type, "fee_type", owner)
    try:
        multiplier = Fraction(str(s.fee_multiplier))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{owner}: fee_multiplier {s.fee_multiplier!r} is not a number") from None
    return FeeSchedule(fee_type, (multiplier.numerator, multiplier.denominator))


def settlement_sources(s: w.Series) -> tuple[tuple[str, str], ...]:
    """A series' settlement sources as (name, url) pairs (entries without a url are left out)."""
    return tuple(
        (src.name if isinstance(src.name, str) else "", src.url)
        for src in s.settlement_sources or ()
        if isinstance(src.url, str) and src.url
    )


def settlement_floor(m: w.Market) -> Price | None:
    """The market's settlement floor: None with ``default`` bounds, the floor ($0 when not sent) with
    ``floor`` bounds. Other bounds types are refused."""
    owner = f"market {m.ticker}"
    if m.settlement_bounds_type == "default":
        return None
    if m.settlement_bounds_type != "floor":
        raise ValueError(f"{owner}: settlement_bounds_type {m.settlement_bounds_type!r} is not default or floor")
    if m.settlement_floor_dollars is None:
        return Price(0)
    return _field(parse_price, m.settlement_floor_dollars, "settlement_floor_dollars", owner)


@dataclass(frozen=True, slots=True)
class MarketQuote:
    """A market's top of book and activity as ``GET /markets`` reports them. A bid of 0 means no
    bid; an ask of $1 means no ask (Kalshi's empty-book convention)."""

    ticker: str
    yes_bid: Price
    yes_ask: Price
    yes_bid_size: Qty
    yes_ask_size: Qty
    last_price: Price
    volume: Qty
    volume_24h: Qty
    open_interest: Qty
    close_ms: int


def market_quote(m: w.Market) -> MarketQuote:
    owner = f"market {m.ticker}"
    return MarketQuote(
        ticker=m.ticker,
        yes_bid=_field(parse_price, m.yes_bid_dollars, "yes_bid_dollars", owner),
        yes_ask=_field(parse_price, m.yes_ask_dollars, "yes_ask_dollars", owner),
        yes_bid_size=_field(parse_qty, m.yes_bid_size_fp, "yes_bid_size_fp", owner),
        yes_ask_size=_field(parse_qty, m.yes_ask_size_fp, "yes_ask_size_fp", owner),
        last_price=_field(parse_price, m.last_price_dollars, "last_price_dollars", owner),
        volume=_field(parse_qty, m.volume_fp, "volume_fp", owner),
        volume_24h=_field(parse_qty, m.volume_24h_fp, "volume_24h_fp", owner),
        open_interest=_field(parse_qty, m.open_interest_fp, "open_interest_fp", owner),
        close_ms=_time(m.close_time, "close_time", owner),
    )


# -- orderbook ----------------------------------------------------------------------------------


def ladder(levels: Iterable[Sequence[str]], owner: str = "orderbook") -> Ladder:
    """``[[price_dollars, count_fp], ...]`` → ``[(Price, Qty), ...]`` ascending by price."""
    out: Ladder = []
    for i, level in enumerate(levels):
        if len(level) != 2:
            raise ValueError(f"{owner}: level {i} is not [price, count]")
        out.append(
            (
                _field(parse_price, level[0], f"level {i} price", owner),
                _field(parse_qty, level[1], f"level {i} count", owner),
            )
        )
    out.sort()
    return out


def orderbook(book: w.OrderbookCountFp, ticker: str = "") -> tuple[Ladder, Ladder]:
    """``orderbook_fp`` → (YES bids, NO bids), each ascending (best bid last), NO in NO-leg prices."""
    owner = f"orderbook {ticker}".strip()
    return ladder(book.yes_dollars, owner + " yes"), ladder(book.no_dollars, owner + " no")


# -- orders, fills, positions -------------------------------------------------------------------


def order(o: w.Order) -> Order:
    """``Order`` (as read back) → ``domain.Order``; ``price`` is the YES price."""
    owner = f"order {o.order_id}"
    return Order(
        order_id=o.order_id,
        client_order_id=o.client_order_id,
        ticker=o.ticker,
        side=_enum(BookSide, o.book_side, "book_side", owner),
        price=_field(parse_price, o.yes_price_dollars, "yes_price_dollars", owner),
        initial=_field(parse_qty, o.initial_count_fp, "initial_count_fp", owner),
        filled=_field(parse_qty, o.fill_count_fp, "fill_count_fp", owner),
        remaining=_field(parse_qty, o.remaining_count_fp, "remaining_count_fp", owner),
        status=_enum(OrderStatus, o.status, "status", owner),
        created_ms=_time(o.created_time, "created_time", owner),
        updated_ms=_time(o.last_update_time, "last_update_time", owner) or _time(o.created_time, "created_time", owner),
        order_group_id=o.order_group_id,
    )


def ack_status(fill_count: Qty, remaining: Qty) -> OrderStatus:
    """A V2 create ack has no status: remaining > 0 → resting; else filled → executed; else canceled."""
    if remaining > 0:
        return OrderStatus.RESTING
    return OrderStatus.EXECUTED if fill_count > 0 else OrderStatus.CANCELED


def order_from_ack(req: w.CreateOrderV2Request, ack: w.CreateOrderV2Response) -> Order:
    """The order a create request made, from the request and its ack (ack time as both times)."""
    owner = f"order {ack.order_id}"
    filled = _field(parse_qty, ack.fill_count, "fill_count", owner)
    remaining = _field(parse_qty, ack.remaining_count, "remaining_count", owner)
    client_order_id = ack.client_order_id if isinstance(ack.client_order_id, str) else req.client_order_id
    return Order(
        order_id=ack.order_id,
        client_order_id=client_order_id if isinstance(client_order_id, str) else "",
        ticker=req.ticker,
        side=_enum(BookSide, req.side, "side", owner),
        price=_field(parse_price, req.price, "price", owner),
        initial=_field(parse_qty, req.count, "count", owner),
        filled=filled,
        remaining=remaining,
        status=ack_status(filled, remaining),
        created_ms=ack.ts_ms,
        updated_ms=ack.ts_ms,
        order_group_id=req.order_group_id if isinstance(req.order_group_id, str) else None,
    )


def fill(f: w.Fill) -> Fill:
    """``Fill`` → ``domain.Fill`` (YES price; ``fill_id`` deduplicates)."""
    owner = f"fill {f.fill_id}"
    ts = _time(f.created_time, "created_time", owner) if isinstance(f.created_time, str) else 0
    if not ts and isinstance(f.ts, int):
        ts = f.ts * 1000
    return Fill(
        fill_id=f.fill_id,
        order_id=f.order_id,
        ticker=f.ticker or f.market_ticker,
        side=_enum(BookSide, f.book_side, "book_side", owner),
        price=_field(parse_price, f.yes_price_dollars, "yes_price_dollars", owner),
        qty=_field(parse_qty, f.count_fp, "count_fp", owner),
        fee=_field(parse_money, f.fee_cost, "fee_cost", owner),
        is_taker=f.is_taker,
        ts_ms=ts,
    )


def position(p: w.MarketPosition) -> Position:
    """``MarketPosition`` → ``Position`` (signed: > 0 YES, < 0 NO; cost = market exposure)."""
    owner = f"position {p.ticker}"
    return Position(
        ticker=p.ticker,
        qty=_field(parse_qty, p.position_fp, "position_fp", owner),
        cost=_field(parse_money, p.market_exposure_dollars, "market_exposure_dollars", owner),
        realized_pnl=_field(parse_money, p.realized_pnl_dollars, "realized_pnl_dollars", owner),
        fees_paid=_field(parse_money, p.fees_paid_dollars, "fees_paid_dollars", owner),
    )


def balance(b: w.GetBalanceResponse) -> Money:
    """Available cash: ``balance_dollars`` (exact), else the integer-cents ``balance``."""
    if b.balance_dollars:
        return _field(parse_money, b.balance_dollars, "balance_dollars", "balance")
    return Money(b.balance * 100)


def portfolio_value(b: w.GetBalanceResponse) -> Money:
    """``portfolio_value`` is integer cents on the wire."""
    return Money(b.portfolio_value * 100)


# -- the past: cutoff, candlesticks, settled markets ------------------------------------------------


def historical_cutoff(c: w.GetHistoricalCutoffResponse) -> HistoricalCutoff:
    owner = "historical cutoff"
    positions = c.market_positions_last_updated_ts
    return HistoricalCutoff(
        market_settled_ms=_time(c.market_settled_ts, "market_settled_ts", owner),
        trades_created_ms=_time(c.trades_created_ts, "trades_created_ts", owner),
        orders_updated_ms=_time(c.orders_updated_ts, "orders_updated_ts", owner),
        positions_ms=_time(positions, "market_positions_last_updated_ts", owner)
        if isinstance(positions, str)
        else None,
    )


_OHLC = ("open", "high", "low", "close")


def _candle(
    end_s: int, dists: tuple[object, object, object], volume: str, open_interest: str, suffix: str, owner: str
) -> Candle:
    """A candlestick whose bid, ask and price distributions name their fields ``<name><suffix>``."""

    def read(dist: object, name: str) -> Price | None:
        value = getattr(dist, name + suffix)
        return None if value is None else _field(parse_price, value, f"{name}{suffix}", owner)

    def four(dist: object) -> Ohlc | None:
        o, h, lo, c = (read(dist, name) for name in _OHLC)
        return None if o is None or h is None or lo is None or c is None else Ohlc(o, h, lo, c)

    bid, ask, price = dists
    yes_bid, yes_ask = four(bid), four(ask)
    if yes_bid is None or yes_ask is None:
        raise ValueError(f"{owner}: yes_bid and yes_ask need all four prices")
    return Candle(
        end_s=end_s,
        yes_bid=yes_bid,
        yes_ask=yes_ask,
        trades=four(price),
        mean=read(price, "mean"),
        previous=read(price, "previous"),
        volume=_field(parse_qty, volume, "volume", owner),
        open_interest=_field(parse_qty, open_interest, "open_interest", owner),
    )


def candle(c: w.MarketCandlestick, ticker: str = "") -> Candle:
    """A live market's ``MarketCandlestick`` → ``Candle``."""
    owner = f"candlestick {ticker}@{c.end_period_ts}"
    dists = (c.yes_bid, c.yes_ask, c.price)
    return _candle(c.end_period_ts, dists, c.volume_fp, c.open_interest_fp, "_dollars", owner)


def historical_candle(c: w.MarketCandlestickHistorical, ticker: str = "") -> Candle:
    """An archived market's ``MarketCandlestickHistorical`` (flat names) → ``Candle``."""
    owner = f"candlestick {ticker}@{c.end_period_ts}"
    return _candle(c.end_period_ts, (c.yes_bid, c.yes_ask, c.price), c.volume, c.open_interest, "", owner)


def settled_value(m: w.Market) -> tuple[Price, int] | None:
    """``(YES value, settlement time in ms)`` of a market whose result is known; ``None`` before.
    A scalar result is worth ``settlement_value_dollars`` per YES contract, and so is a "no" above a
    settlement floor (YES settles at the floor then). ``ValueError`` if the market names a result it
    gives no value for."""
    owner = f"market {m.ticker}"
    if m.result == "yes":
        value = Price(PRICE_SCALE)
    elif m.result == "no" and m.settlement_value_dollars is not None:
        value = _field(parse_price, m.settlement_value_dollars, "settlement_value_dollars", owner)
    elif m.result == "no":
        value = Price(0)
    elif m.result == "scalar" and m.settlement_value_dollars is not None:
        value = _field(parse_price, m.settlement_value_dollars, "settlement_value_dollars", owner)
    elif m.result == "":
        return None
    else:
        raise ValueError(f"{owner}: result {m.result!r} without a settlement value")
    settled = _time(m.settlement_ts, "settlement_ts", owner) or _time(m.close_time, "close_time", owner)
    return value, settled


# -- requests -----------------------------------------------------------------------------------


_TEXT: dict[BookSide | TimeInForce | SelfTradePrevention, str] = {
    member: member.value for kind in (BookSide, TimeInForce, SelfTradePrevention) for member in kind
}
"""Each member's wire text: on this interpreter reading ``member.value`` costs as much as a call."""
_UNSET = w.UNSET


def new_client_order_id() -> str:
    return str(uuid.uuid4())


def create_request(
    ticker: str,
    side: BookSide,
    price: Price,
    count: Qty,
    *,
    time_in_force: TimeInForce = TimeInForce.GOOD_TILL_CANCELED,
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS,
    client_order_id: str | None = None,
    expiration_s: int | None = None,
    post_only: bool = False,
    reduce_only: bool = False,
    cancel_order_on_pause: bool = False,
    order_group_id: str | None = None,
) -> w.CreateOrderV2Request:
    """A V2 create body from domain values (``price`` is the YES price; ``side`` bid buys YES, ask
    sells YES / buys NO). A fresh UUID4 ``client_order_id`` when none is given."""
    if count <= 0:
        raise ValueError(f"order count must be positive, got {format_qty(count)}")
    if not 0 < price < 10_000:
        raise ValueError(f"order price must be strictly between $0 and $1, got {format_price(price)}")
    return w.CreateOrderV2Request(
        ticker=ticker,
        side=_TEXT[side],
        count=format_qty(count),
        price=format_price(price),
        time_in_force=_TEXT[time_in_force],
        self_trade_prevention_type=_TEXT[self_trade_prevention],
        client_order_id=client_order_id or new_client_order_id(),
        expiration_time=expiration_s if expiration_s is not None else _UNSET,
        post_only=True if post_only else _UNSET,
        reduce_only=True if reduce_only else _UNSET,
        cancel_order_on_pause=True if cancel_order_on_pause else _UNSET,
        order_group_id=order_group_id if order_group_id is not None else _UNSET,
    )


def amend_request(
    ticker: str,
    side: BookSide,
    price: Price,
    count: Qty,
    *,
    client_order_id: str | None = None,
    updated_client_order_id: str | None = None,
    expiration_s: int | None = None,
) -> w.AmendOrderV2Request:
    """An amend body; ``count`` is the new total (already filled + desired remaining).
    ``expiration_s``: None keeps the order's expiry, 0 clears it (good till canceled), anything
    else is the new Unix expiry in seconds (the same price and count keep queue priority)."""
    if expiration_s is not None and expiration_s < 0:
        raise ValueError(f"expiration must be 0 (none) or a Unix time in seconds, got {expiration_s}")
    return w.AmendOrderV2Request(
        ticker=ticker,
        side=side.value,
        price=format_price(price),
        count=format_qty(count),
        client_order_id=client_order_id if client_order_id is not None else w.UNSET,
        updated_client_order_id=updated_client_order_id if updated_client_order_id is not None else w.UNSET,
        expiration_time=expiration_s if expiration_s is not None else w.UNSET,
    )
