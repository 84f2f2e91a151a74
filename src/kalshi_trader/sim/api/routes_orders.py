"""V2 order entry of the embedded exchange (``/portfolio/events/orders``).

Contract (openapi.yaml, docs/kalshi-protocol.md REST v2):
- ``POST /portfolio/events/orders`` → 201 ``CreateOrderV2Response``; ``DELETE .../{order_id}`` →
  ``CancelOrderV2Response``; ``POST .../{order_id}/amend`` → ``AmendOrderV2Response`` (its
  ``remaining_count`` is what rests after the fills a crossing amend made);
  ``POST .../{order_id}/decrease`` → ``DecreaseOrderV2Response``; ``POST .../batched`` → 201 and
  ``DELETE .../batched`` → 200 with one result per item; ``DELETE /portfolio/events/orders``
  (cancel all, optional ``subaccount`` query) → 204 with no body, every resting order of the caller
  canceled. (Kalshi may also cancel orders placed in the minute after a cancel-all; this exchange
  cancels exactly what rests when the request arrives.) An amend's ``expiration_time`` (Unix
  seconds) sets the order's expiry, ``0`` clears it, omitting it keeps it.
- Bodies are checked field by field before the engine sees them (unknown/missing fields, JSON
  types, price and count strings parsed exactly); the engine then applies the business rules
  (grid, market status, balance, post-only, reduce-only only with immediate-or-cancel, self-trade,
  order groups, duplicate ``client_order_id`` → 409). Any rejection leaves all state unchanged.
- Batches: a structurally malformed item rejects the whole request (400, naming ``orders[i]``);
  business rejections are per item (``error`` set, other items proceed in order). The batch is
  billed per item (create 10, cancel 2 tokens) in one spend, so it must fit the write bucket at once.
- Routing and billing: ``exchange_index`` may be -1 (auto-route) or a Kalshi shard
  (``kalshi.limits.SHARD_COUNT``); a single order write is billed per shard from it and its market
  ticker (``kalshi.limits.write_scopes``: a create or amend always names its ticker, a cancel or
  decrease auto-routes only with ``market_ticker``; -1 without one is a 400) once those are parsed.
  Every market of this exchange lives on shard 0, so a write naming shard 1..3 is billed to that
  shard and then refused (400); only subaccount 0 exists.
- The retired v1 order writes (``POST /portfolio/orders``, ``.../batched``, ``.../{id}/amend``,
  ``.../{id}/decrease``, ``DELETE /portfolio/orders/{id}``) answer 400 telling the caller to switch
  to the V2 endpoints, as Kalshi has since June 2026.
- While ``exchange_active`` is false every write is refused (503); while ``trading_active`` is false
  creates and amends are refused (400) but cancels and decreases pass (Kalshi's maintenance_and_pauses page).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from kalshi_trader.domain import BookSide, Qty, SelfTradePrevention, TimeInForce, format_money, format_price, format_qty
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.sim.api.params import (
    Shape,
    as_object,
    decode_object,
    get_bool,
    get_count,
    get_enum,
    get_int,
    get_list,
    get_nonempty_str,
    get_price,
    get_str,
    invalid,
    missing,
    query_int,
    query_str,
)
from kalshi_trader.sim.api.ratelimit import EVERY_SHARD, Bucket, cost_for, scopes_for
from kalshi_trader.sim.api.rest_support import ServerDeps, bill, deps, respond, user_id
from kalshi_trader.sim.core.matching import PlaceResult
from kalshi_trader.sim.core.state import ExchangeError, NewOrder

P = "/trade-api/v2/portfolio/events/orders"
routes = web.RouteTableDef()

MAX_BATCH = 1_000
MAX_CLIENT_ORDER_ID = 128

CREATE = Shape(
    required=("ticker", "side", "count", "price", "time_in_force", "self_trade_prevention_type"),
    optional=(
        "client_order_id",
        "expiration_time",
        "post_only",
        "reduce_only",
        "cancel_order_on_pause",
        "order_group_id",
        "subaccount",
        "exchange_index",
    ),
)
AMEND = Shape(
    required=("ticker", "side", "price", "count"),
    optional=("client_order_id", "updated_client_order_id", "exchange_index", "expiration_time"),
)
DECREASE = Shape(required=(), optional=("reduce_by", "reduce_to", "exchange_index", "market_ticker"))
BATCH = Shape(required=("orders",))
CANCEL_ITEM = Shape(required=("order_id",), optional=("subaccount", "exchange_index", "market_ticker"))


# -- routing parameters -------------------------------------------------------------------------

MAX_SHARD = len(EVERY_SHARD) - 1


def _check_subaccount(subaccount: int | None, where: str) -> None:
    if subaccount not in (None, 0):
        raise invalid(f"subaccount {subaccount} in {where} does not exist; only subaccount 0 is available")


def _check_shard(exchange_index: int | None, where: str) -> None:
    """Every market of this exchange lives on shard 0: naming another shard finds nothing."""
    if exchange_index not in (None, 0, -1):
        raise invalid(
            f"exchange_index {exchange_index} in {where}: every market of this exchange is on exchange index 0 "
            "(use 0, or -1 / omit it to auto-route)"
        )


def _check_route(subaccount: int | None, exchange_index: int | None, where: str) -> None:
    _check_subaccount(subaccount, where)
    _check_shard(exchange_index, where)


def _check_query_route(query: Mapping[str, str]) -> None:
    _check_route(query_int(query, "subaccount", lo=0, hi=63), query_int(query, "exchange_index", lo=-1), "the query")


def _index(obj: Mapping[str, Any], where: str) -> int | None:
    return get_int(obj, "exchange_index", where, lo=-1, hi=MAX_SHARD)


def _bill_write(request: web.Request, route: str, exchange_index: int | None, by_ticker: bool, where: str) -> None:
    """Bill one single order write per shard (``kalshi.limits.write_scopes``), then refuse a shard
    this exchange has no market on."""
    if exchange_index == -1 and not by_ticker:
        raise invalid(f"exchange_index -1 in {where} auto-routes, which needs market_ticker")
    method = request.method
    bill(
        request,
        Bucket.WRITE,
        cost_for(method, route),
        scopes_for(method, route, exchange_index=exchange_index, by_ticker=by_ticker),
    )
    _check_shard(exchange_index, where)


def _check_trading(d: ServerDeps, *, placing: bool) -> None:
    if not d.flags.exchange_active:
        raise ExchangeError(503, "exchange_unavailable", "the exchange is paused; no order operations are accepted")
    if placing and not d.flags.trading_active:
        raise ExchangeError(400, "trading_paused", "trading is paused; only cancels and decreases are accepted")


def _check_client_order_id(value: str | None, name: str, where: str) -> None:
    if value is not None and len(value) > MAX_CLIENT_ORDER_ID:
        raise invalid(f"field {name!r} in {where} is longer than {MAX_CLIENT_ORDER_ID} characters")


# -- parsing ------------------------------------------------------------------------------------


def parse_new_order(obj: Mapping[str, Any], where: str) -> NewOrder:
    """A create body (also a batch item) parsed; routing checked (see ``_parse_order``)."""
    order, exchange_index = _parse_order(obj, where)
    _check_shard(exchange_index, where)
    return order


def _parse_order(obj: Mapping[str, Any], where: str) -> tuple[NewOrder, int | None]:
    """A create body parsed, with its ``exchange_index`` (not yet checked against the shards)."""
    CREATE.check(obj, where)
    ticker = get_nonempty_str(obj, "ticker", where)
    side = get_enum(obj, "side", where, BookSide)
    count = get_count(obj, "count", where)
    price = get_price(obj, "price", where)
    tif = get_enum(obj, "time_in_force", where, TimeInForce)
    stp = get_enum(obj, "self_trade_prevention_type", where, SelfTradePrevention)
    assert side is not None
    assert count is not None
    assert price is not None
    assert tif is not None
    assert stp is not None
    client_order_id = get_str(obj, "client_order_id", where) or ""
    _check_client_order_id(client_order_id, "client_order_id", where)
    expiration = get_int(obj, "expiration_time", where, lo=0, hi=10**11)
    _check_subaccount(get_int(obj, "subaccount", where, lo=0), where)
    order = NewOrder(
        ticker=ticker,
        side=side,
        price=price,
        count=count,
        time_in_force=tif,
        self_trade_prevention=stp,
        client_order_id=client_order_id,
        expiration_ms=expiration * 1000 if expiration is not None else None,
        post_only=bool(get_bool(obj, "post_only", where)),
        reduce_only=bool(get_bool(obj, "reduce_only", where)),
        cancel_order_on_pause=bool(get_bool(obj, "cancel_order_on_pause", where)),
        order_group_id=get_str(obj, "order_group_id", where) or None,
    )
    return order, _index(obj, where)


def _place(d: ServerDeps, uid: str, order: NewOrder) -> PlaceResult:
    if not d.catalog.has_market(order.ticker):
        raise ExchangeError(400, "market_not_found", f"market {order.ticker} does not exist")
    return d.engine.place(uid, order)


def _averages(result: PlaceResult) -> tuple[str, str] | None:
    """(average fill price, average fee per contract) when this request filled anything."""
    if result.fill_count <= 0 or result.average_fill_price is None or result.average_fee_paid is None:
        return None
    return format_price(result.average_fill_price), format_money(result.average_fee_paid)


def _created(result: PlaceResult) -> w.CreateOrderV2Response:
    ack = w.CreateOrderV2Response(
        order_id=result.order.order_id,
        client_order_id=result.order.client_order_id or w.UNSET,
        fill_count=format_qty(result.fill_count),
        remaining_count=format_qty(result.remaining),
        ts_ms=result.ts_ms,
    )
    averages = _averages(result)
    if averages is not None:
        ack.average_fill_price, ack.average_fee_paid = averages
    return ack


def _batch_created(result: PlaceResult) -> w.BatchCreateOrdersV2Result:
    averages = _averages(result)
    return w.BatchCreateOrdersV2Result(
        order_id=result.order.order_id,
        client_order_id=result.order.client_order_id or None,
        fill_count=format_qty(result.fill_count),
        remaining_count=format_qty(result.remaining),
        average_fill_price=averages[0] if averages else None,
        average_fee_paid=averages[1] if averages else None,
        ts_ms=result.ts_ms,
    )


def _error_detail(exc: ExchangeError) -> w.ErrorDetail:
    return w.ErrorDetail(code=exc.code, message=exc.message, details=exc.details)


# -- single-order endpoints ---------------------------------------------------------------------


@routes.post(P)
async def create_order(request: web.Request) -> web.Response:
    d = deps(request)
    order, exchange_index = _parse_order(decode_object(await request.read()), "order")
    _bill_write(request, P, exchange_index, True, "order")
    _check_trading(d, placing=True)
    return respond(_created(_place(d, user_id(request), order)), 201)


@routes.post(P + "/batched")
async def batch_create(request: web.Request) -> web.Response:
    d = deps(request)
    body = decode_object(await request.read())
    BATCH.check(body, "batch")
    items = get_list(body, "orders", "batch") or []
    if not items:
        raise invalid("orders must contain at least one order")
    if len(items) > MAX_BATCH:
        raise invalid(f"a batch may hold at most {MAX_BATCH} orders, got {len(items)}")
    orders = [parse_new_order(as_object(item, f"orders[{i}]"), f"orders[{i}]") for i, item in enumerate(items)]
    bill(request, Bucket.WRITE, 10 * len(orders))
    _check_trading(d, placing=True)
    uid = user_id(request)
    results: list[w.BatchCreateOrdersV2Result] = []
    for order in orders:
        try:
            results.append(_batch_created(_place(d, uid, order)))
        except ExchangeError as exc:
            results.append(
                w.BatchCreateOrdersV2Result(client_order_id=order.client_order_id or None, error=_error_detail(exc))
            )
    return respond(w.BatchCreateOrdersV2Response(orders=results), 201)


@routes.delete(P + "/batched")
async def batch_cancel(request: web.Request) -> web.Response:
    d = deps(request)
    body = decode_object(await request.read())
    BATCH.check(body, "batch")
    items = get_list(body, "orders", "batch") or []
    if not items:
        raise invalid("orders must contain at least one order")
    if len(items) > MAX_BATCH:
        raise invalid(f"a batch may hold at most {MAX_BATCH} orders, got {len(items)}")
    order_ids: list[str] = []
    for i, item in enumerate(items):
        where = f"orders[{i}]"
        obj = as_object(item, where)
        CANCEL_ITEM.check(obj, where)
        order_ids.append(get_nonempty_str(obj, "order_id", where))
        get_str(obj, "market_ticker", where)
        _check_route(get_int(obj, "subaccount", where, lo=0), _index(obj, where), where)
    bill(request, Bucket.WRITE, 2 * len(order_ids))
    _check_trading(d, placing=False)
    uid = user_id(request)
    results: list[w.BatchCancelOrdersV2Result] = []
    for order_id in order_ids:
        try:
            order, reduced = d.engine.cancel(uid, order_id)
        except ExchangeError as exc:
            results.append(
                w.BatchCancelOrdersV2Result(order_id=order_id, reduced_by=format_qty(0), error=_error_detail(exc))
            )
            continue
        results.append(
            w.BatchCancelOrdersV2Result(
                order_id=order_id,
                reduced_by=format_qty(reduced),
                client_order_id=order.client_order_id or None,
                ts_ms=order.updated_ms,
            )
        )
    return respond(w.BatchCancelOrdersV2Response(orders=results))


@routes.delete(P)
async def cancel_all_orders(request: web.Request) -> web.Response:
    d = deps(request)
    _check_subaccount(query_int(request.query, "subaccount", lo=0, hi=63), "the query")
    _check_trading(d, placing=False)
    d.engine.cancel_all(user_id(request))
    return web.Response(status=204)


@routes.delete(P + "/{order_id}")
async def cancel_order(request: web.Request) -> web.Response:
    d = deps(request)
    query = request.query
    _check_subaccount(query_int(query, "subaccount", lo=0, hi=63), "the query")
    exchange_index = query_int(query, "exchange_index", lo=-1, hi=MAX_SHARD)
    _bill_write(request, P + "/{order_id}", exchange_index, bool(query_str(query, "market_ticker")), "the query")
    _check_trading(d, placing=False)
    order, reduced = d.engine.cancel(user_id(request), request.match_info["order_id"])
    return respond(
        w.CancelOrderV2Response(
            order_id=order.order_id,
            client_order_id=order.client_order_id or w.UNSET,
            reduced_by=format_qty(reduced),
            ts_ms=order.updated_ms,
        )
    )


@routes.post(P + "/{order_id}/amend")
async def amend_order(request: web.Request) -> web.Response:
    d = deps(request)
    _check_query_route(request.query)
    body = decode_object(await request.read())
    where = "amend request"
    AMEND.check(body, where)
    ticker = get_nonempty_str(body, "ticker", where)
    side = get_enum(body, "side", where, BookSide)
    price = get_price(body, "price", where)
    count = get_count(body, "count", where)
    assert side is not None
    assert price is not None
    assert count is not None
    client_order_id = get_str(body, "client_order_id", where)
    updated = get_str(body, "updated_client_order_id", where)
    _check_client_order_id(updated, "updated_client_order_id", where)
    expiration_s = get_int(body, "expiration_time", where, lo=0, hi=10**11)  # omitted: keep; 0: clear
    _bill_write(request, P + "/{order_id}/amend", _index(body, where), True, where)
    _check_trading(d, placing=True)
    uid, order_id = user_id(request), request.match_info["order_id"]
    before = d.engine.order(uid, order_id).remaining
    result = d.engine.amend(
        uid,
        order_id,
        ticker=ticker,
        side=side,
        price=price,
        count=count,
        client_order_id=client_order_id,
        updated_client_order_id=updated,
        expiration_ms="keep" if expiration_s is None else expiration_s * 1000 or None,
    )
    changed = result.fill_count > 0 or result.remaining != before
    averages = _averages(result)
    return respond(
        w.AmendOrderV2Response(
            order_id=result.order.order_id,
            client_order_id=result.order.client_order_id or w.UNSET,
            remaining_count=format_qty(result.remaining) if changed else None,
            fill_count=format_qty(result.fill_count) if changed else None,
            average_fill_price=averages[0] if averages else None,
            average_fee_paid=averages[1] if averages else None,
            ts_ms=result.ts_ms,
        )
    )


@routes.post(P + "/{order_id}/decrease")
async def decrease_order(request: web.Request) -> web.Response:
    d = deps(request)
    _check_query_route(request.query)
    body = decode_object(await request.read())
    where = "decrease request"
    DECREASE.check(body, where)
    reduce_by = get_count(body, "reduce_by", where)
    reduce_to = get_count(body, "reduce_to", where, allow_zero=True)
    if reduce_by is None and reduce_to is None:
        raise missing("decrease request needs exactly one of 'reduce_by' or 'reduce_to'")
    if reduce_by is not None and reduce_to is not None:
        raise invalid("decrease request takes exactly one of 'reduce_by' or 'reduce_to', not both")
    market_ticker = get_str(body, "market_ticker", where)
    _bill_write(request, P + "/{order_id}/decrease", _index(body, where), bool(market_ticker), where)
    _check_trading(d, placing=False)
    order = d.engine.decrease(
        user_id(request),
        request.match_info["order_id"],
        reduce_by=Qty(reduce_by) if reduce_by is not None else None,
        reduce_to=Qty(reduce_to) if reduce_to is not None else None,
    )
    return respond(
        w.DecreaseOrderV2Response(
            order_id=order.order_id,
            client_order_id=order.client_order_id or w.UNSET,
            remaining_count=format_qty(order.remaining),
            ts_ms=d.clock_ms(),
        )
    )


# -- retired v1 writes ----------------------------------------------------------------------------

LEGACY = "/trade-api/v2/portfolio/orders"


async def _retired(request: web.Request) -> web.Response:
    raise ExchangeError(
        400,
        "invalid_parameters",
        "Please switch to the V2 endpoints: order writes on /portfolio/orders were retired; "
        "use /portfolio/events/orders",
    )


for _method, _path in (
    ("POST", LEGACY),
    ("POST", LEGACY + "/batched"),
    ("DELETE", LEGACY + "/batched"),
    ("POST", LEGACY + "/{order_id}/amend"),
    ("POST", LEGACY + "/{order_id}/decrease"),
    ("DELETE", LEGACY + "/{order_id}"),
):
    routes.route(_method, _path)(_retired)
