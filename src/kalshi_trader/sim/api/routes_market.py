"""Public market-data endpoints of the embedded exchange (no authentication needed).

Contract (openapi.yaml): ``GET /exchange/status``, ``/exchange/schedule``, ``/series``,
``/series/{series_ticker}``, ``/events``, ``/events/{event_ticker}``, ``/markets``,
``/markets/trades``, ``/markets/{ticker}``, ``/markets/{ticker}/orderbook``,
``/markets/orderbooks`` (``tickers``, 1 to 100). ``category`` on ``/series`` matches any of a
series' ``categories``; ``min_updated_ts`` is exclusive and ``max_updated_ts`` inclusive. Filters and their
documented constraints are enforced (one ``status``; mutually exclusive timestamp filter groups
and their compatible statuses on ``/markets``; page sizes); violations are 400 with a message
naming the parameter. Unknown series/event/market in the path → 404 ``not_found``; unknown tickers
in list filters simply match nothing. Lists are in listing (registration) order except trades
(newest first). Market status filters map to object statuses as Kalshi's market_lifecycle page documents
(``unopened``=initialized, ``open``=active, ``paused``=inactive, ``closed``=closed/determined/
disputed/amended, ``settled``=finalized). Markets settled before the historical cutoff and trades
made before it (``sim/api/archive.py``) are not served here — they are under ``/historical``: such a
market is 404 and missing from lists and nested event markets.
"""

from __future__ import annotations

from aiohttp import web

from kalshi_trader.domain import MarketStatus, Qty
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.sim.api import render
from kalshi_trader.sim.api.pagination import paginate
from kalshi_trader.sim.api.params import (
    invalid,
    query_bool,
    query_enum,
    query_int,
    query_limit,
    query_list,
    query_str,
)
from kalshi_trader.sim.api.rest_support import ServerDeps, deps, respond
from kalshi_trader.sim.core.catalog import MarketMeta
from kalshi_trader.sim.core.state import ExchangeError

P = "/trade-api/v2"
routes = web.RouteTableDef()

_DAY_MS = 86_400_000
MARKET_STATUS_FILTER: dict[str, frozenset[MarketStatus]] = {
    "unopened": frozenset({MarketStatus.INITIALIZED}),
    "open": frozenset({MarketStatus.ACTIVE}),
    "paused": frozenset({MarketStatus.INACTIVE}),
    "closed": frozenset({MarketStatus.CLOSED, MarketStatus.DETERMINED, MarketStatus.DISPUTED, MarketStatus.AMENDED}),
    "settled": frozenset({MarketStatus.FINALIZED}),
}
EVENT_STATUSES = ("unopened", "open", "closed", "settled")
MAX_ORDERBOOKS = 100


def not_found(what: str) -> ExchangeError:
    return ExchangeError(404, "not_found", f"{what} not found")


def market_struct(d: ServerDeps, ticker: str, now_ms: int) -> w.Market:
    meta = d.catalog.market(ticker)
    state = d.engine.market(ticker)
    since = now_ms - _DAY_MS
    volume_24h = 0
    for t in d.engine.trades(ticker):  # newest first
        if t.ts_ms < since:
            break
        volume_24h += t.count
    return render.market(
        meta,
        state.status,
        state.grid.structure,
        state.grid.as_ranges(),
        d.engine.top(ticker),
        last_price=state.last_price,
        volume=state.volume,
        volume_24h=Qty(volume_24h),
        open_interest=state.open_interest,
        result=state.result,
        settlement_value=state.settlement_value,
        settlement_floor=state.settlement_floor,
    )


def live_markets(d: ServerDeps, tickers: list[str]) -> list[str]:
    """``tickers`` without the markets archived to the historical data set."""
    cutoff = d.archive.cutoff()
    return [t for t in tickers if not d.archive.market_archived(t, cutoff)]


def _status_of(d: ServerDeps, ticker: str) -> MarketStatus:
    return d.engine.market(ticker).status


# -- exchange -----------------------------------------------------------------------------------


@routes.get(P + "/exchange/status")
async def get_exchange_status(request: web.Request) -> web.Response:
    flags = deps(request).flags
    return respond(render.exchange_status(flags.exchange_active, flags.trading_active))


@routes.get(P + "/exchange/schedule")
async def get_exchange_schedule(request: web.Request) -> web.Response:
    return respond(render.exchange_schedule(deps(request).clock_ms()))


# -- series -------------------------------------------------------------------------------------


def _series_volume(d: ServerDeps, series_ticker: str) -> Qty:
    total = 0
    for info in d.catalog.all_events():
        if info.series_ticker == series_ticker:
            total += sum(d.engine.market(t).volume for t in d.catalog.event_market_tickers(info.event_ticker))
    return Qty(total)


@routes.get(P + "/series")
async def get_series_list(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    category = query_str(q, "category")
    tags = set(query_list(q, "tags") or ())
    include_volume = query_bool(q, "include_volume")
    query_bool(q, "include_product_metadata")
    min_updated = query_int(q, "min_updated_ts", lo=0)
    out = []
    for info in d.catalog.all_series():
        if category is not None and category not in info.all_categories:
            continue
        if tags and not tags.intersection(info.tags):
            continue
        if min_updated is not None and info.updated_ms // 1000 <= min_updated:
            continue
        out.append(render.series(info, _series_volume(d, info.ticker) if include_volume else None))
    return respond(w.GetSeriesListResponse(series=out))


@routes.get(P + "/series/{series_ticker}")
async def get_series(request: web.Request) -> web.Response:
    d = deps(request)
    ticker = request.match_info["series_ticker"]
    include_volume = query_bool(request.query, "include_volume")
    try:
        info = d.catalog.series(ticker)
    except KeyError:
        raise not_found(f"series {ticker}") from None
    return respond(
        w.GetSeriesResponse(series=render.series(info, _series_volume(d, ticker) if include_volume else None))
    )


# -- events -------------------------------------------------------------------------------------


@routes.get(P + "/events")
async def get_events(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    limit = query_limit(q, default=200, hi=200)
    nested = query_bool(q, "with_nested_markets")
    query_bool(q, "with_milestones")  # validated; the embedded exchange has no milestones
    status = query_enum(q, "status", EVENT_STATUSES)
    series_ticker = query_str(q, "series_ticker")
    tickers = query_list(q, "tickers")
    min_close = query_int(q, "min_close_ts", lo=0)
    min_updated = query_int(q, "min_updated_ts", lo=0)
    wanted = MARKET_STATUS_FILTER[status] if status else None
    matches = []
    for info in d.catalog.all_events():
        if series_ticker is not None and info.series_ticker != series_ticker:
            continue
        if tickers is not None and info.event_ticker not in tickers:
            continue
        if min_updated is not None and info.updated_ms // 1000 <= min_updated:
            continue
        markets = d.catalog.event_market_tickers(info.event_ticker)
        if wanted is not None and not any(_status_of(d, t) in wanted for t in markets):
            continue
        if min_close is not None and not any(d.catalog.market(t).close_ms // 1000 > min_close for t in markets):
            continue
        matches.append(info)
    page, cursor = paginate(
        matches, key=lambda e: e.event_ticker, limit=limit, cursor=query_str(q, "cursor"), kind="events"
    )
    now = d.clock_ms()
    events = [
        render.event(
            info,
            d.catalog.series(info.series_ticker),
            [market_struct(d, t, now) for t in live_markets(d, d.catalog.event_market_tickers(info.event_ticker))]
            if nested
            else None,
        )
        for info in page
    ]
    return respond(w.GetEventsResponse(events=events, cursor=cursor))


@routes.get(P + "/events/{event_ticker}")
async def get_event(request: web.Request) -> web.Response:
    d = deps(request)
    ticker = request.match_info["event_ticker"]
    nested = query_bool(request.query, "with_nested_markets")
    try:
        info = d.catalog.event(ticker)
    except KeyError:
        raise not_found(f"event {ticker}") from None
    now = d.clock_ms()
    markets = [market_struct(d, t, now) for t in live_markets(d, d.catalog.event_market_tickers(ticker))]
    data = render.event(info, d.catalog.series(info.series_ticker), markets if nested else None)
    return respond(w.GetEventResponse(event=data, markets=markets))


# -- markets ------------------------------------------------------------------------------------

_TS_GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # group: (parameters, compatible status filters; "" = no status filter)
    "created": (("min_created_ts", "max_created_ts"), ("", "unopened", "open")),
    "close": (("min_close_ts", "max_close_ts"), ("", "closed")),
    "settled": (("min_settled_ts", "max_settled_ts"), ("", "settled")),
    "updated": (("min_updated_ts", "max_updated_ts"), ("",)),
}


def _market_filters(q: web.Request) -> dict[str, int]:
    """Parsed timestamp filters, checked for the documented mutual exclusions."""
    query = q.query
    values: dict[str, int] = {}
    groups: list[str] = []
    for group, (names, _) in _TS_GROUPS.items():
        for name in names:
            value = query_int(query, name, lo=0)
            if value is not None:
                values[name] = value
                if group not in groups:
                    groups.append(group)
    if len(groups) > 1:
        raise invalid(
            "timestamp filters from different groups cannot be combined: "
            f"{' / '.join(groups)} (created, close, settled and updated filters are mutually exclusive)"
        )
    status = query.get("status") or ""
    if groups:
        group = groups[0]
        if status not in _TS_GROUPS[group][1]:
            allowed = ", ".join(s for s in _TS_GROUPS[group][1] if s) or "no"
            raise invalid(f"{group} timestamp filters allow {allowed} status filter, not status={status}")
        if group == "updated":
            others = [n for n in ("event_ticker", "tickers") if query.get(n)]
            if query.get("series_ticker") and query.get("mve_filter") != "exclude":
                others.append("series_ticker without mve_filter=exclude")
            if others:
                raise invalid(f"min_updated_ts/max_updated_ts cannot be combined with {', '.join(others)}")
    return values


def _in_range(seconds: int | None, low: int | None, high: int | None) -> bool:
    if low is None and high is None:
        return True
    if seconds is None:
        return False
    return (low is None or seconds >= low) and (high is None or seconds <= high)


def _matches_ts(meta: MarketMeta, ts: dict[str, int]) -> bool:
    get = ts.get
    if not _in_range(meta.created_ms // 1000, get("min_created_ts"), get("max_created_ts")):
        return False
    if not _in_range(meta.close_ms // 1000, get("min_close_ts"), get("max_close_ts")):
        return False
    settled = None if meta.settled_ms is None else meta.settled_ms // 1000
    if not _in_range(settled, get("min_settled_ts"), get("max_settled_ts")):
        return False
    updated = (meta.updated_ms or meta.created_ms) // 1000
    low, high = get("min_updated_ts"), get("max_updated_ts")
    return (low is None or updated > low) and (high is None or updated <= high)


@routes.get(P + "/markets")
async def get_markets(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    limit = query_limit(q, default=100, hi=1000, zero_means_default=True)
    status = query_enum(q, "status", MARKET_STATUS_FILTER)
    event_ticker = query_str(q, "event_ticker")
    if event_ticker is not None and "," in event_ticker:
        raise invalid("event_ticker takes a single event ticker; use one request per event")
    series_ticker = query_str(q, "series_ticker")
    tickers = query_list(q, "tickers")
    mve = query_enum(q, "mve_filter", ("only", "exclude"))
    ts = _market_filters(request)
    wanted = MARKET_STATUS_FILTER[status] if status else None
    matches: list[MarketMeta] = []
    cutoff = d.archive.cutoff()
    if mve != "only":  # the embedded exchange lists no multivariate (combo) markets
        for meta in d.catalog.all_markets():
            if d.archive.market_archived(meta.ticker, cutoff):
                continue
            if event_ticker is not None and meta.event_ticker != event_ticker:
                continue
            if series_ticker is not None and d.catalog.event(meta.event_ticker).series_ticker != series_ticker:
                continue
            if tickers is not None and meta.ticker not in tickers:
                continue
            if wanted is not None and _status_of(d, meta.ticker) not in wanted:
                continue
            if ts and not _matches_ts(meta, ts):
                continue
            matches.append(meta)
    page, cursor = paginate(matches, key=lambda m: m.ticker, limit=limit, cursor=query_str(q, "cursor"), kind="markets")
    now = d.clock_ms()
    return respond(w.GetMarketsResponse(markets=[market_struct(d, m.ticker, now) for m in page], cursor=cursor))


@routes.get(P + "/markets/trades")
async def get_trades(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    limit = query_limit(q, default=100, hi=1000, zero_means_default=True)
    ticker = query_str(q, "ticker")
    min_ts = query_int(q, "min_ts", lo=0)
    max_ts = query_int(q, "max_ts", lo=0)
    block_only = query_bool(q, "is_block_trade") if q.get("is_block_trade") else False
    if ticker is not None and not d.catalog.has_market(ticker):
        trades = []
    else:
        cutoff = d.archive.cutoff()
        trades = [
            t
            for t in d.engine.trades(ticker)
            if not block_only and not cutoff.trade_archived(t.ts_ms) and _in_range(t.ts_ms // 1000, min_ts, max_ts)
        ]
    page, cursor = paginate(trades, key=lambda t: t.trade_id, limit=limit, cursor=query_str(q, "cursor"), kind="trades")
    return respond(w.GetTradesResponse(trades=[render.trade(t) for t in page], cursor=cursor))


@routes.get(P + "/markets/orderbooks")
async def get_orderbooks(request: web.Request) -> web.Response:
    d = deps(request)
    tickers = [t.strip() for value in request.query.getall("tickers", ()) for t in value.split(",") if t.strip()]
    if not 1 <= len(tickers) <= MAX_ORDERBOOKS:
        raise invalid(f"tickers must name 1 to {MAX_ORDERBOOKS} markets, got {len(tickers)}")
    books = []
    for ticker in dict.fromkeys(tickers):
        if d.catalog.has_market(ticker):
            yes, no = d.engine.book(ticker)
            books.append(w.MarketOrderbookFp(ticker=ticker, orderbook_fp=render.orderbook(yes, no, 0).orderbook_fp))
    return respond(w.GetMarketOrderbooksResponse(orderbooks=books))


@routes.get(P + "/markets/{ticker}")
async def get_market(request: web.Request) -> web.Response:
    d = deps(request)
    ticker = request.match_info["ticker"]
    if not d.catalog.has_market(ticker) or not live_markets(d, [ticker]):
        raise not_found(f"market {ticker}")
    return respond(w.GetMarketResponse(market=market_struct(d, ticker, d.clock_ms())))


@routes.get(P + "/markets/{ticker}/orderbook")
async def get_orderbook(request: web.Request) -> web.Response:
    d = deps(request)
    ticker = request.match_info["ticker"]
    depth = query_int(request.query, "depth", hi=100) or 0
    if not d.catalog.has_market(ticker):
        raise not_found(f"market {ticker}")
    yes, no = d.engine.book(ticker)
    return respond(render.orderbook(yes, no, depth))
