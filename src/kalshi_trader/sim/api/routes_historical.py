"""The embedded exchange's own past: the historical tier and market candlesticks.

Contract (openapi.yaml, https://docs.kalshi.com/getting_started/historical_data):
- ``GET /historical/cutoff`` — the four cutoffs of ``sim/api/archive.py`` at the exchange's time.
- Public: ``/historical/markets`` (settled before ``market_settled_ts``; ``tickers``,
  ``event_ticker`` and ``series_ticker`` are mutually exclusive, ``mve_filter=exclude`` accepted —
  the exchange lists no combos), ``/historical/markets/{ticker}`` (404 unless archived),
  ``/historical/markets/{ticker}/candlesticks`` (404 unless archived), ``/historical/trades``
  (before ``trades_created_ts``; no block trades exist, so ``is_block_trade=true`` matches nothing).
- Signed (the server's gate authenticates them as it does ``/portfolio``; ``PRIVATE_ROUTES``):
  ``/historical/fills`` (the caller's fills before ``trades_created_ts``), ``/historical/orders``
  (the caller's orders canceled or executed before ``orders_updated_ts``; ``min_ts``/``max_ts`` on
  the creation time as on ``/portfolio/orders``), ``/historical/positions`` (the caller's settled
  positions whose event is handed off; event positions on the first page only, as live). Only
  subaccount 0 exists (another is a 400); omitting ``subaccount`` means all of them.
- Candlesticks (``sim/api/candles.py``): live ``GET /series/{series_ticker}/markets/{ticker}/candlesticks``
  (404 for an unknown market, one of another series, or one already archived) and the batch
  ``GET /markets/candlesticks`` (up to 100 ``market_tickers``; unknown or archived tickers match
  nothing; at most 10,000 candles in all, each market's oldest first, later ones cut). ``start_ts``,
  ``end_ts`` and ``period_interval`` (1, 60 or 1440 minutes; the batch endpoint takes any positive
  number of minutes) are required; a window spanning more than 10,000 periods, or ending before it
  starts, is a 400.
- Lists are newest first (fills, orders, trades, positions) or in listing order (markets), with the
  exchange's cursor pagination; each endpoint's cursors are its own.
``routes`` must be registered before ``routes_market`` (``/markets/candlesticks`` would otherwise be
taken for a market ticker).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from aiohttp import web

from kalshi_trader.domain import Candle
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.sim.api import candles, render
from kalshi_trader.sim.api.archive import Cutoff
from kalshi_trader.sim.api.market_history import SettledPosition
from kalshi_trader.sim.api.pagination import paginate
from kalshi_trader.sim.api.params import invalid, missing, query_bool, query_int, query_limit, query_list, query_str
from kalshi_trader.sim.api.rest_support import ServerDeps, deps, respond, user_id
from kalshi_trader.sim.api.routes_market import market_struct, not_found
from kalshi_trader.sim.api.routes_portfolio import check_subaccount
from kalshi_trader.sim.core.state import ExchangeError, FillRecord, PositionState, SimOrder, Trade

P = "/trade-api/v2"
H = P + "/historical"
routes = web.RouteTableDef()

PRIVATE_ROUTES = frozenset({H + "/fills", H + "/orders", H + "/positions"})
"""Historical routes that need a signed request."""
MAX_BATCH_TICKERS = 100


def _time_window(
    query: Mapping[str, str], name_lo: str = "min_ts", name_hi: str = "max_ts"
) -> tuple[int | None, int | None]:
    low, high = query_int(query, name_lo, lo=0), query_int(query, name_hi, lo=0)
    if low is not None and high is not None and low > high:
        raise invalid(f"{name_lo} ({low}) is after {name_hi} ({high})")
    return low, high


def _in_range(seconds: int, low: int | None, high: int | None) -> bool:
    return (low is None or seconds >= low) and (high is None or seconds <= high)


# -- cutoff ---------------------------------------------------------------------------------------


@routes.get(H + "/cutoff")
async def get_cutoff(request: web.Request) -> web.Response:
    c = deps(request).archive.cutoff()
    return respond(
        w.GetHistoricalCutoffResponse(
            market_settled_ts=render.iso(c.market_settled_ms),
            trades_created_ts=render.iso(c.trades_created_ms),
            orders_updated_ts=render.iso(c.orders_updated_ms),
            market_positions_last_updated_ts=render.iso(c.positions_ms),
        )
    )


# -- markets and trades ---------------------------------------------------------------------------


def _archived_market(d: ServerDeps, ticker: str, cutoff: Cutoff) -> None:
    """404 unless ``ticker`` is a market of the historical data set."""
    if not d.catalog.has_market(ticker) or not d.archive.market_archived(ticker, cutoff):
        raise not_found(f"market {ticker} in the historical data set")


@routes.get(H + "/markets")
async def get_historical_markets(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    limit = query_limit(q, default=100, hi=1000, zero_means_default=True)
    tickers = query_list(q, "tickers")
    event_ticker = query_str(q, "event_ticker")
    series_ticker = query_str(q, "series_ticker")
    given = [
        n for n, v in (("tickers", tickers), ("event_ticker", event_ticker), ("series_ticker", series_ticker)) if v
    ]
    if len(given) > 1:
        raise invalid(
            "filters are mutually exclusive: give one of tickers, event_ticker, series_ticker, "
            f"not {' and '.join(given)}"
        )
    if event_ticker is not None and "," in event_ticker:
        raise invalid("event_ticker takes a single event ticker")
    mve = query_str(q, "mve_filter")
    if mve is not None and mve != "exclude":
        raise invalid(f"query parameter 'mve_filter' must be exclude, got {mve!r}")
    cutoff = d.archive.cutoff()
    matches = [
        meta.ticker
        for meta in d.catalog.all_markets()
        if (tickers is None or meta.ticker in tickers)
        and (event_ticker is None or meta.event_ticker == event_ticker)
        and (series_ticker is None or d.catalog.event(meta.event_ticker).series_ticker == series_ticker)
        and d.archive.market_archived(meta.ticker, cutoff)
    ]
    page, cursor = paginate(matches, key=str, limit=limit, cursor=query_str(q, "cursor"), kind="historical_markets")
    now = d.clock_ms()
    return respond(w.GetMarketsResponse(markets=[market_struct(d, t, now) for t in page], cursor=cursor))


@routes.get(H + "/markets/{ticker}")
async def get_historical_market(request: web.Request) -> web.Response:
    d = deps(request)
    ticker = request.match_info["ticker"]
    _archived_market(d, ticker, d.archive.cutoff())
    return respond(w.GetMarketResponse(market=market_struct(d, ticker, d.clock_ms())))


@routes.get(H + "/trades")
async def get_historical_trades(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    limit = query_limit(q, default=100, hi=1000, zero_means_default=True)
    ticker = query_str(q, "ticker")
    low, high = _time_window(q)
    block_only = query_bool(q, "is_block_trade")
    cutoff = d.archive.cutoff()
    found: list[Trade] = []
    if not block_only and (ticker is None or d.catalog.has_market(ticker)):
        found = [
            t
            for t in d.engine.trades(ticker)
            if cutoff.trade_archived(t.ts_ms) and _in_range(t.ts_ms // 1000, low, high)
        ]
    page, cursor = paginate(
        found, key=lambda t: t.trade_id, limit=limit, cursor=query_str(q, "cursor"), kind="historical_trades"
    )
    return respond(w.GetTradesResponse(trades=[render.trade(t) for t in page], cursor=cursor))


# -- the caller's records -------------------------------------------------------------------------


R = TypeVar("R", FillRecord, SimOrder)


def _archived_records(
    request: web.Request,
    records: list[R],
    *,
    archived: Callable[[R], bool],
    when_s: Callable[[R], int],
    key: Callable[[R], str],
    kind: str,
) -> tuple[list[R], str]:
    """One page of the caller's archived ``records`` after the ``ticker``/``min_ts``/``max_ts``
    filters (``when_s``: a record's time for them), with the next cursor."""
    q = request.query
    limit = query_limit(q, default=100, hi=1000)
    check_subaccount(q)
    ticker = query_str(q, "ticker")
    low, high = _time_window(q)
    found = [
        r for r in records if archived(r) and (ticker is None or r.ticker == ticker) and _in_range(when_s(r), low, high)
    ]
    return paginate(found, key=key, limit=limit, cursor=query_str(q, "cursor"), kind=kind)


@routes.get(H + "/fills")
async def get_historical_fills(request: web.Request) -> web.Response:
    d = deps(request)
    cutoff = d.archive.cutoff()
    page, cursor = _archived_records(
        request,
        d.engine.fills(user_id(request)),
        archived=lambda f: cutoff.trade_archived(f.ts_ms),
        when_s=lambda f: f.ts_ms // 1000,
        key=lambda f: f.fill_id,
        kind="historical_fills",
    )
    return respond(w.GetFillsResponse(fills=[render.fill(f) for f in page], cursor=cursor))


@routes.get(H + "/orders")
async def get_historical_orders(request: web.Request) -> web.Response:
    d = deps(request)
    page, cursor = _archived_records(
        request,
        d.engine.orders(user_id(request)),
        archived=d.archive.cutoff().order_archived,
        when_s=lambda o: o.created_ms // 1000,  # as on /portfolio/orders
        key=lambda o: o.order_id,
        kind="historical_orders",
    )
    return respond(w.GetOrdersResponse(orders=[render.order(o) for o in page], cursor=cursor))


@routes.get(H + "/positions")
async def get_historical_positions(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    limit = query_limit(q, default=100, hi=1000)
    check_subaccount(q)
    ticker = query_str(q, "ticker")
    event_ticker = query_str(q, "event_ticker")
    if event_ticker is not None and "," in event_ticker:
        raise invalid("event_ticker takes a single event ticker")
    cutoff = d.archive.cutoff()
    found: list[SettledPosition] = [
        s
        for s in d.history.settled_positions(user_id(request))
        if (ticker is None or s.position.ticker == ticker)
        and (event_ticker is None or s.event_ticker == event_ticker)
        and d.archive.event_handed_off(s.event_ticker, cutoff)
    ]
    cursor_in = query_str(q, "cursor")
    page, cursor = paginate(
        found, key=lambda s: s.position.ticker, limit=limit, cursor=cursor_in, kind="historical_positions"
    )
    events: list[w.EventPosition] = []
    if not cursor_in:
        by_event: dict[str, list[PositionState]] = {}
        for s in found:
            by_event.setdefault(s.event_ticker, []).append(s.position)
        events = [render.event_position(e, ps) for e, ps in by_event.items()]
    return respond(
        w.GetPositionsResponse(
            market_positions=[render.market_position(s.position) for s in page], event_positions=events, cursor=cursor
        )
    )


# -- candlesticks ---------------------------------------------------------------------------------


def _required_int(query: Mapping[str, str], name: str, *, lo: int | None = 0) -> int:
    value = query_int(query, name, lo=lo)
    if value is None:
        raise missing(f"query parameter {name!r} is required")
    return value


def _window(query: Mapping[str, str], *, any_period: bool = False) -> tuple[int, int, int]:
    """``(start_ts, end_ts, period seconds)`` of a candlestick request, checked."""
    start, end = _required_int(query, "start_ts"), _required_int(query, "end_ts")
    minutes = _required_int(query, "period_interval", lo=1)
    if not any_period and minutes not in candles.PERIODS_MINUTES:
        raise invalid(f"query parameter 'period_interval' must be one of 1, 60 or 1440 (minutes), got {minutes}")
    if start > end:
        raise invalid(f"start_ts ({start}) is after end_ts ({end})")
    period_s = minutes * 60
    if candles.period_count(start, end, period_s) > candles.MAX_CANDLES:
        raise invalid(
            f"the window spans more than {candles.MAX_CANDLES} periods of {minutes} minute(s); "
            "narrow start_ts/end_ts or use a longer period_interval"
        )
    return start, end, period_s


def _candles(d: ServerDeps, ticker: str, window: tuple[int, int, int], latest_before: bool) -> list[Candle]:
    start, end, period_s = window
    history = d.history
    return candles.candles(
        history.trades(ticker),
        history.bars(ticker),
        start_s=start,
        end_s=end,
        period_s=period_s,
        latest_before=latest_before,
    )


def _live_market(d: ServerDeps, ticker: str, cutoff: Cutoff) -> bool:
    return d.catalog.has_market(ticker) and not d.archive.market_archived(ticker, cutoff)


@routes.get(P + "/series/{series_ticker}/markets/{ticker}/candlesticks")
async def get_market_candlesticks(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    series_ticker, ticker = request.match_info["series_ticker"], request.match_info["ticker"]
    window = _window(q)
    latest_before = query_bool(q, "include_latest_before_start")
    if not d.catalog.has_market(ticker) or d.catalog.series_of_market(ticker).ticker != series_ticker:
        raise not_found(f"market {ticker} in series {series_ticker}")
    if not _live_market(d, ticker, d.archive.cutoff()):
        raise ExchangeError(
            404, "not_found", f"market {ticker} is archived: use GET /historical/markets/{ticker}/candlesticks"
        )
    found = _candles(d, ticker, window, latest_before)
    return respond(w.GetMarketCandlesticksResponse(ticker=ticker, candlesticks=[candles.live(c) for c in found]))


@routes.get(P + "/markets/candlesticks")
async def batch_get_market_candlesticks(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    tickers = query_list(q, "market_tickers", max_items=MAX_BATCH_TICKERS)
    if not tickers:
        raise missing("query parameter 'market_tickers' is required (comma-separated, at most 100)")
    window = _window(q, any_period=True)
    latest_before = query_bool(q, "include_latest_before_start")
    cutoff = d.archive.cutoff()
    room = candles.MAX_CANDLES
    out: list[w.MarketCandlesticksResponse] = []
    for ticker in dict.fromkeys(tickers):
        if not _live_market(d, ticker, cutoff):
            continue
        found = _candles(d, ticker, window, latest_before)[:room]
        room -= len(found)
        out.append(w.MarketCandlesticksResponse(market_ticker=ticker, candlesticks=[candles.live(c) for c in found]))
    return respond(w.BatchGetMarketCandlesticksResponse(markets=out))


@routes.get(H + "/markets/{ticker}/candlesticks")
async def get_historical_candlesticks(request: web.Request) -> web.Response:
    d = deps(request)
    ticker = request.match_info["ticker"]
    window = _window(request.query)
    _archived_market(d, ticker, d.archive.cutoff())
    found = _candles(d, ticker, window, False)
    return respond(
        w.GetMarketCandlesticksHistoricalResponse(ticker=ticker, candlesticks=[candles.historical(c) for c in found])
    )
