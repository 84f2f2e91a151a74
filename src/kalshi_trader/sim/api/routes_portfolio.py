"""Authenticated portfolio reads of the embedded exchange.

Contract (openapi.yaml): ``GET /portfolio/balance``, ``/portfolio/positions``, ``/portfolio/fills``,
``/portfolio/settlements``, ``/portfolio/orders``, ``/portfolio/orders/queue_positions``,
``/portfolio/orders/{order_id}``, ``/portfolio/orders/{order_id}/queue_position`` — always for the
signed-in caller only (another account's order id is 404, exactly like an unknown one).
- ``balance`` is the cash not committed to resting orders; ``portfolio_value`` marks each open
  position at the best bid of the leg it holds (what it could be sold for now), in cents.
- ``/portfolio/positions?settlement_status=`` ``unsettled`` (default) lists the positions of markets
  not yet settled, ``settled`` those of settled markets (flat, P&L realized), ``all`` both. Unsettled
  positions page by market ticker; settled and all page by event ticker (every market position of
  an event on one page; ``limit`` counts events); each status has its own cursors.
  ``event_positions`` aggregate all matching market positions per event and are sent with the first
  page only (settled/all: with the page that carries the event), so a client merging pages never
  double counts.
- ``/portfolio/fills?ticker=`` takes one ticker or up to 100, comma-separated.
- In a market with a settlement floor a YES position is worth what selling it brings: best bid
  minus the floor (Kalshi's settlement_bounds page).
- Only the live data set is served (``sim/api/archive.py``): fills made before the trades cutoff,
  orders finished before the orders cutoff (also by id: 404) and settlement records of events
  handed off to ``/historical/positions`` are only under ``/historical`` (``routes_historical``).
- Lists are newest first (orders by creation, fills, settlements) and cursor-paginated; time filters
  are unix seconds, inclusive. Only subaccount 0 exists: any other ``subaccount`` is a 400; an
  ``exchange_index`` filter other than 0 matches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from kalshi_trader.domain import MarketStatus, Money, OrderStatus, format_qty, notional_floor
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.sim.api import render
from kalshi_trader.sim.api.pagination import paginate
from kalshi_trader.sim.api.params import invalid, query_enum, query_int, query_limit, query_list, query_str
from kalshi_trader.sim.api.rest_support import ServerDeps, deps, respond, user_id
from kalshi_trader.sim.core.order_checks import not_found
from kalshi_trader.sim.core.state import PositionState, SimOrder

P = "/trade-api/v2"
routes = web.RouteTableDef()

COUNT_FILTERS = ("position", "total_traded")
SETTLEMENT_STATUSES = ("unsettled", "settled", "all")
MAX_FILL_TICKERS = 100


def check_subaccount(query: Mapping[str, str]) -> None:
    sub = query_int(query, "subaccount", lo=0, hi=63)
    if sub not in (None, 0):
        raise invalid(f"subaccount {sub} does not exist; this exchange has only the primary account (subaccount 0)")


def other_shard(query: Mapping[str, str]) -> bool:
    """True when an ``exchange_index`` filter names a shard other than 0 (which holds nothing)."""
    index = query_int(query, "exchange_index", lo=0)
    return index not in (None, 0)


def _in_range(seconds: int, low: int | None, high: int | None) -> bool:
    return (low is None or seconds >= low) and (high is None or seconds <= high)


def _time_filters(query: Mapping[str, str]) -> tuple[int | None, int | None]:
    low, high = query_int(query, "min_ts", lo=0), query_int(query, "max_ts", lo=0)
    if low is not None and high is not None and low > high:
        raise invalid(f"min_ts ({low}) is after max_ts ({high})")
    return low, high


def _mark(d: ServerDeps, p: PositionState) -> Money:
    if p.position == 0:
        return Money(0)
    yes_bid, _, no_bid, _ = d.engine.top(p.ticker)
    if p.position > 0:
        floor = d.engine.market(p.ticker).settlement_floor or 0
        return notional_floor(yes_bid - floor, p.position) if yes_bid is not None else Money(0)
    return notional_floor(no_bid, -p.position) if no_bid is not None else Money(0)


def _open_positions(d: ServerDeps, uid: str) -> list[PositionState]:
    return [
        p
        for p in d.engine.account(uid).positions.values()
        if d.engine.market(p.ticker).status is not MarketStatus.FINALIZED
    ]


@routes.get(P + "/portfolio/balance")
async def get_balance(request: web.Request) -> web.Response:
    d = deps(request)
    check_subaccount(request.query)
    query_int(request.query, "exchange_index")
    uid = user_id(request)
    account = d.engine.account(uid)
    value = Money(sum(_mark(d, p) for p in _open_positions(d, uid)))
    return respond(render.balance(account.cash, value, d.clock_ms()))


@routes.get(P + "/portfolio/positions")
async def get_positions(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    limit = query_limit(q, default=100, hi=1000)
    check_subaccount(q)
    count_filter = query_list(q, "count_filter") or []
    for name in count_filter:
        if name not in COUNT_FILTERS:
            raise invalid(f"count_filter values must be among {', '.join(COUNT_FILTERS)}, got {name!r}")
    ticker = query_str(q, "ticker")
    event_ticker = query_str(q, "event_ticker")
    if event_ticker is not None and "," in event_ticker:
        raise invalid("event_ticker takes a single event ticker")
    status = query_enum(q, "settlement_status", SETTLEMENT_STATUSES) or "unsettled"
    uid = user_id(request)
    listed: list[PositionState] = []
    if status != "settled":
        listed += _open_positions(d, uid)
    if status != "unsettled":  # settled, until its event is handed off to /historical/positions
        cutoff = d.archive.cutoff()
        listed += [
            s.position
            for s in reversed(d.history.settled_positions(uid))
            if not d.archive.event_handed_off(s.event_ticker, cutoff)
        ]
    positions: list[PositionState] = []
    if not other_shard(q):
        for p in listed:
            if ticker is not None and p.ticker != ticker:
                continue
            if event_ticker is not None and d.engine.market(p.ticker).event_ticker != event_ticker:
                continue
            if count_filter and not (
                ("position" in count_filter and p.position != 0)
                or ("total_traded" in count_filter and p.total_traded != 0)
            ):
                continue
            positions.append(p)
    cursor_in = query_str(q, "cursor")
    kind = f"positions-{status}"
    by_event: dict[str, list[PositionState]] = {}
    for p in positions:
        by_event.setdefault(d.engine.market(p.ticker).event_ticker, []).append(p)
    events: list[w.EventPosition] = []
    if status == "unsettled":
        page, cursor = paginate(positions, key=lambda p: p.ticker, limit=limit, cursor=cursor_in, kind=kind)
        if not cursor_in:
            events = [render.event_position(e, ps) for e, ps in by_event.items()]
    else:
        event_page, cursor = paginate(list(by_event), key=str, limit=limit, cursor=cursor_in, kind=kind)
        page = [p for e in event_page for p in by_event[e]]
        events = [render.event_position(e, by_event[e]) for e in event_page]
    return respond(
        w.GetPositionsResponse(
            market_positions=[render.market_position(p) for p in page], event_positions=events, cursor=cursor
        )
    )


@routes.get(P + "/portfolio/fills")
async def get_fills(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    limit = query_limit(q, default=100, hi=1000)
    check_subaccount(q)
    tickers = query_list(q, "ticker", max_items=MAX_FILL_TICKERS)
    order_id = query_str(q, "order_id")
    low, high = _time_filters(q)
    cutoff = d.archive.cutoff()
    fills = [
        f
        for f in (d.engine.fills(user_id(request)) if not other_shard(q) else [])
        if not cutoff.trade_archived(f.ts_ms)
        and (tickers is None or f.ticker in tickers)
        and (order_id is None or f.order_id == order_id)
        and _in_range(f.ts_ms // 1000, low, high)
    ]
    page, cursor = paginate(fills, key=lambda f: f.fill_id, limit=limit, cursor=query_str(q, "cursor"), kind="fills")
    return respond(w.GetFillsResponse(fills=[render.fill(f) for f in page], cursor=cursor))


@routes.get(P + "/portfolio/settlements")
async def get_settlements(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    limit = query_limit(q, default=100, hi=1000)
    check_subaccount(q)
    ticker, event_ticker = query_str(q, "ticker"), query_str(q, "event_ticker")
    low, high = _time_filters(q)
    cutoff = d.archive.cutoff()
    records = [
        s
        for s in d.engine.settlements(user_id(request))
        if not d.archive.event_handed_off(s.event_ticker, cutoff)
        and (ticker is None or s.ticker == ticker)
        and (event_ticker is None or s.event_ticker == event_ticker)
        and _in_range(s.settled_ms // 1000, low, high)
    ]
    page, cursor = paginate(
        records, key=lambda s: s.ticker, limit=limit, cursor=query_str(q, "cursor"), kind="settlements"
    )
    return respond(w.GetSettlementsResponse(settlements=[render.settlement(s) for s in page], cursor=cursor))


@routes.get(P + "/portfolio/orders")
async def get_orders(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    limit = query_limit(q, default=100, hi=1000)
    check_subaccount(q)
    ticker = query_str(q, "ticker")
    events = query_list(q, "event_ticker", max_items=10)
    status = query_enum(q, "status", [s.value for s in OrderStatus])
    low, high = _time_filters(q)
    cutoff = d.archive.cutoff()
    orders: list[SimOrder] = [
        o
        for o in (d.engine.orders(user_id(request)) if not other_shard(q) else [])
        if not cutoff.order_archived(o)
        and (ticker is None or o.ticker == ticker)
        and (events is None or d.engine.market(o.ticker).event_ticker in events)
        and (status is None or o.status.value == status)
        and _in_range(o.created_ms // 1000, low, high)
    ]
    page, cursor = paginate(orders, key=lambda o: o.order_id, limit=limit, cursor=query_str(q, "cursor"), kind="orders")
    return respond(w.GetOrdersResponse(orders=[render.order(o) for o in page], cursor=cursor))


@routes.get(P + "/portfolio/orders/queue_positions")
async def get_queue_positions(request: web.Request) -> web.Response:
    d, q = deps(request), request.query
    check_subaccount(q)
    tickers = query_list(q, "market_tickers")
    event_ticker = query_str(q, "event_ticker")
    uid = user_id(request)
    out = []
    for o in d.engine.orders(uid):
        if o.status is not OrderStatus.RESTING:
            continue
        if tickers is not None and o.ticker not in tickers:
            continue
        if event_ticker is not None and d.engine.market(o.ticker).event_ticker != event_ticker:
            continue
        out.append(
            w.OrderQueuePosition(
                order_id=o.order_id,
                market_ticker=o.ticker,
                queue_position_fp=format_qty(d.engine.queue_position(uid, o.order_id)),
            )
        )
    return respond(w.GetOrderQueuePositionsResponse(queue_positions=out))


@routes.get(P + "/portfolio/orders/{order_id}")
async def get_order(request: web.Request) -> web.Response:
    d, order_id = deps(request), request.match_info["order_id"]
    order = d.engine.order(user_id(request), order_id)
    if d.archive.cutoff().order_archived(order):
        raise not_found(f"order {order_id}")
    return respond(w.GetOrderResponse(order=render.order(order)))


@routes.get(P + "/portfolio/orders/{order_id}/queue_position")
async def get_queue_position(request: web.Request) -> web.Response:
    ahead = deps(request).engine.queue_position(user_id(request), request.match_info["order_id"])
    return respond(w.GetOrderQueuePositionResponse(queue_position_fp=format_qty(ahead)))
