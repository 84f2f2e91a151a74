"""Kalshi's public market-data channels as plain values: order books, tickers, trades, lifecycle.

Contract:
- ``MarketFeed(sink)`` is the ``WsSession``'s handler for the public channels: it converts every
  frame once, exactly, and calls its ``MarketSink`` synchronously (frame → values → sink, no queue,
  no task): ``on_book_snapshot(ticker, yes, no)`` with both bid ladders as ``(price, qty)`` in each
  leg's prices; ``on_book_delta(ticker, side, price, delta, ts_ms, client_order_id)``;
  ``on_ticker(TickerUpdated)``; ``on_trade(TradePrinted)``; ``on_lifecycle(LifecycleChange)``;
  ``on_bad_value(ticker, error)`` for a book frame whose price or size does not parse; and the
  session's ``on_stale`` / ``on_gap`` / ``on_connection`` unchanged. A ticker or trade frame that
  does not convert is dropped and reported (``on_unreadable(what, ticker, error)``).
- Values: prices with ``domain.parse_price`` (each distinct wire string once, then a bounded memo);
  sizes in Kalshi's ``"[-]digits.dd"`` form by dropping the point, anything else (other decimals,
  JSON numbers) with ``domain.parse_qty``. ``side`` is the session decoder's ``Side``.
- ``LifecycleChange`` is one ``market_lifecycle_v2`` message in domain terms (``lifecycle_change``
  converts it): its ``kind`` (``event_type``), and what the kind carries — the created market's
  event and series, ``paused``, ``close_ms``, ``result`` and ``settlement_value``, the new
  ``grid`` (or ``grid_error``), the strike fields and ``yes_sub_title`` (None: not sent).
- Hot path: ``on_orderbook_delta`` is a closure over the feed's tables (built once); a delta costs
  the parses and one sink call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Final, Protocol, cast

import msgspec

from kalshi_trader.domain import BookSide, Price, Qty, Side, TickGrid, parse_price, parse_qty
from kalshi_trader.kalshi.convert import series_of
from kalshi_trader.kalshi.schemas import (
    UNSET,
    MarketLifecycleFrame,
    MarketLifecycleMsg,
    OrderbookDeltaMsg,
    OrderbookSnapshotMsg,
    ServerFrame,
    TickerFrame,
    TradeFrame,
    UnknownFrame,
    WireLevel,
    WireNum,
    wire_str,
)

__all__ = ["LifecycleChange", "MarketFeed", "MarketSink", "TickerUpdated", "TradePrinted", "lifecycle_change"]

_MEMO_LIMIT: Final = 1 << 16
_SIDES: Final[dict[str, Side]] = {"yes": Side.YES, "no": Side.NO}
_qty_digits = cast("Callable[[str], Qty]", int)
"""``int`` typed as returning ``Qty`` (hundredths as digits: ``"-1234"`` → -12.34 contracts)."""


class TradePrinted(msgspec.Struct, frozen=True, gc=False):
    """A public trade. ``taker_side``: which book side the taker hit (None if not sent)."""

    ticker: str
    trade_id: str
    yes_price: Price
    qty: Qty
    taker_side: BookSide | None
    ts_ms: int


class TickerUpdated(msgspec.Struct, frozen=True, gc=False):
    """Kalshi's ``ticker`` message: last price, top of book and activity of one market."""

    ticker: str
    last_price: Price
    yes_bid: Price
    yes_ask: Price
    yes_bid_size: Qty
    yes_ask_size: Qty
    volume: Qty
    open_interest: Qty
    ts_ms: int


class LifecycleChange(msgspec.Struct, frozen=True, gc=False):
    """One lifecycle message (see the module docstring)."""

    ticker: str
    kind: str
    event_ticker: str = ""
    series_ticker: str = ""
    paused: bool | None = None
    close_ms: int | None = None
    result: str = ""
    settlement_value: Price | None = None
    grid: TickGrid | None = None
    grid_error: str = ""
    strike_type: str | None = None
    floor_strike: float | None = None
    cap_strike: float | None = None
    yes_sub_title: str | None = None


def lifecycle_change(m: MarketLifecycleMsg) -> LifecycleChange:
    """A ``market_lifecycle_v2`` message as a ``LifecycleChange``."""
    ticker, kind = m.market_ticker, m.event_type
    meta = m.additional_metadata
    event_ticker = meta.event_ticker if meta is not UNSET and isinstance(meta.event_ticker, str) else ""
    settlement: Price | None = None
    if m.settlement_value is not UNSET:
        with contextlib.suppress(ValueError):
            settlement = parse_price(wire_str(m.settlement_value))
    grid, grid_error = None, ""
    if isinstance(m.price_ranges, list):
        try:
            structure = m.price_level_structure if isinstance(m.price_level_structure, str) else ""
            grid = TickGrid.from_ranges(((r.start, r.end, r.step) for r in m.price_ranges), structure)
        except ValueError as exc:
            grid_error = str(exc)
    return LifecycleChange(
        ticker,
        kind,
        event_ticker=event_ticker,
        series_ticker=series_of(event_ticker or ticker) if kind == "created" else "",
        paused=m.is_deactivated if isinstance(m.is_deactivated, bool) else None,
        close_ms=m.close_ts * 1000 if isinstance(m.close_ts, int) else None,
        result=m.result if isinstance(m.result, str) else "",
        settlement_value=settlement,
        grid=grid,
        grid_error=grid_error,
        strike_type=m.strike_type if isinstance(m.strike_type, str) else None,
        floor_strike=m.floor_strike if isinstance(m.floor_strike, float | int) else None,
        cap_strike=m.cap_strike if isinstance(m.cap_strike, float | int) else None,
        yes_sub_title=m.yes_sub_title if isinstance(m.yes_sub_title, str) else None,
    )


class MarketSink(Protocol):
    """What the feed calls (the market-data monitor implements it)."""

    def on_book_snapshot(self, ticker: str, yes: list[tuple[int, int]], no: list[tuple[int, int]]) -> None: ...

    def on_book_delta(
        self, ticker: str, side: Side, price: Price, delta: Qty, ts_ms: int, client_order_id: str
    ) -> None: ...

    def on_bad_value(self, ticker: str, error: Exception) -> None:
        """A book frame whose price or size does not parse (the book can no longer be trusted)."""

    def on_unreadable(self, what: str, ticker: str, error: Exception) -> None:
        """A ticker or trade frame that does not convert (dropped)."""

    def on_ticker(self, event: TickerUpdated) -> None: ...

    def on_trade(self, event: TradePrinted) -> None: ...

    def on_lifecycle(self, change: LifecycleChange) -> None: ...

    def on_stale(self, tickers: Sequence[str], reason: str) -> None: ...

    def on_gap(self, channel: str, reason: str) -> None: ...

    def on_connection(self, connected: bool) -> None: ...


class MarketFeed:
    """A ``kalshi.ws.FeedHandler`` for the public channels (see the module docstring)."""

    def __init__(self, sink: MarketSink) -> None:
        self.sink = sink
        self._prices: dict[object, Price] = {}
        self._qtys: dict[object, Qty] = {}
        self.on_orderbook_delta = self._delta_handler()
        """``FeedHandler.on_orderbook_delta``: parse one delta, hand it to the sink."""
        self.on_stale = sink.on_stale
        self.on_gap = sink.on_gap
        self.on_connection = sink.on_connection

    # -- values ----------------------------------------------------------------------------------

    def price(self, value: WireNum) -> Price:
        price = self._prices.get(value)
        if price is None:
            price = parse_price(wire_str(value))
            if type(value) is str and len(self._prices) < _MEMO_LIMIT:
                self._prices[value] = price
        return price

    def qty(self, value: WireNum) -> Qty:
        qty = self._qtys.get(value)
        if qty is None:
            qty = parse_qty(wire_str(value))
            if type(value) is str and len(self._qtys) < _MEMO_LIMIT:
                self._qtys[value] = qty
        return qty

    def _levels(self, levels: list[WireLevel]) -> list[tuple[int, int]]:
        price, qty = self.price, self.qty
        return [(price(p), qty(q)) for p, q in levels]

    # -- FeedHandler -----------------------------------------------------------------------------

    def _delta_handler(self) -> Callable[[OrderbookDeltaMsg], None]:
        """Build ``on_orderbook_delta``, the hot path: a closure, so that what it touches per frame
        is a local rather than an attribute or global lookup."""
        prices, price_of, qty_of, digits, unset = self._prices, self.price, self.qty, _qty_digits, UNSET
        deliver, slow = self.sink.on_book_delta, self._slow_delta

        def on_orderbook_delta(msg: OrderbookDeltaMsg) -> None:
            p, q = msg.price_dollars, msg.delta_fp
            try:
                price = prices.get(p)
                if price is None:
                    price = price_of(p)
                # Kalshi's "[-]digits.dd": drop the point (the first: a second one makes int() fail).
                # Anything else (no or one decimal, a JSON number) takes the exact parser.
                qty = digits(q.replace(".", "", 1)) if q[-3] == "." else qty_of(q)  # type: ignore[union-attr,index]
            except (ValueError, TypeError, IndexError) as exc:
                slow(msg, exc)
                return
            cid = msg.client_order_id
            # ``side`` is a Side from the session's decoder (a plain str takes the book's slow path)
            deliver(msg.market_ticker, msg.side, price, qty, msg.ts_ms or 0, "" if cid is unset else cid)  # type: ignore[arg-type]

        return on_orderbook_delta

    def _slow_delta(self, msg: OrderbookDeltaMsg, exc: Exception) -> None:
        if isinstance(exc, TypeError | IndexError):  # a JSON number, or a short string: the exact parser decides
            try:
                qty, price = self.qty(msg.delta_fp), self.price(msg.price_dollars)
            except ValueError as error:
                exc = error
            else:
                cid = msg.client_order_id
                side = _SIDES.get(msg.side, msg.side)  # an unknown side: the book refuses it
                ts = msg.ts_ms or 0
                self.sink.on_book_delta(msg.market_ticker, side, price, qty, ts, "" if cid is UNSET else cid)  # type: ignore[arg-type]
                return
        self.sink.on_bad_value(msg.market_ticker, exc)

    def on_orderbook_snapshot(self, msg: OrderbookSnapshotMsg) -> None:
        try:
            yes, no = self._levels(msg.yes_dollars_fp), self._levels(msg.no_dollars_fp)
        except ValueError as exc:
            self.sink.on_bad_value(msg.market_ticker, exc)
            return
        self.sink.on_book_snapshot(msg.market_ticker, yes, no)

    def on_frame(self, frame: ServerFrame | UnknownFrame) -> None:
        if isinstance(frame, TickerFrame):
            self._on_ticker(frame)
        elif isinstance(frame, TradeFrame):
            self._on_trade(frame)
        elif isinstance(frame, MarketLifecycleFrame):
            self.sink.on_lifecycle(lifecycle_change(frame.msg))

    def _on_ticker(self, frame: TickerFrame) -> None:
        m = frame.msg
        try:
            event = TickerUpdated(
                m.market_ticker,
                self.price(m.price_dollars),
                self.price(m.yes_bid_dollars),
                self.price(m.yes_ask_dollars),
                self.qty(m.yes_bid_size_fp),
                self.qty(m.yes_ask_size_fp),
                self.qty(m.volume_fp),
                self.qty(m.open_interest_fp),
                m.ts_ms,
            )
        except ValueError as exc:
            self.sink.on_unreadable("ticker", m.market_ticker, exc)
            return
        self.sink.on_ticker(event)

    def _on_trade(self, frame: TradeFrame) -> None:
        m = frame.msg
        side = m.taker_book_side
        try:
            event = TradePrinted(
                m.market_ticker,
                m.trade_id,
                self.price(m.yes_price_dollars),
                self.qty(m.count_fp),
                BookSide(side) if isinstance(side, str) and side in ("bid", "ask") else None,
                m.ts_ms,
            )
        except ValueError as exc:
            self.sink.on_unreadable("trade", m.market_ticker, exc)
            return
        self.sink.on_trade(event)
