"""Order groups of the embedded exchange (``/portfolio/order_groups``).

Contract (openapi.yaml, https://docs.kalshi.com/getting_started/order_groups): ``POST .../create`` (201
``{order_group_id, subaccount, exchange_index}``), ``GET`` list and one (with the ids of its
resting orders), ``PUT .../{id}/reset``, ``.../trigger``, ``.../limit`` and ``DELETE .../{id}``
(all ``{}``). A limit is given as ``contracts_limit`` (whole contracts) or ``contracts_limit_fp``;
if both are given they must match. Another account's group is 404 like an unknown one.
``is_auto_cancel_enabled`` is always true: every group cancels its orders when triggered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from kalshi_trader.domain import QTY_SCALE, Qty
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.sim.api import render
from kalshi_trader.sim.api.params import (
    Shape,
    decode_object,
    decode_optional_object,
    get_count,
    get_int,
    invalid,
    missing,
    query_int,
)
from kalshi_trader.sim.api.rest_support import deps, respond, user_id

P = "/trade-api/v2/portfolio/order_groups"
routes = web.RouteTableDef()

CREATE = Shape(required=(), optional=("contracts_limit", "contracts_limit_fp", "subaccount", "exchange_index"))
LIMIT = Shape(required=(), optional=("contracts_limit", "contracts_limit_fp"))
EMPTY = Shape(required=())
EMPTY_BODY = w.EmptyResponse()


def _limit(obj: Mapping[str, Any], where: str) -> Qty:
    whole = get_int(obj, "contracts_limit", where, lo=1, hi=1_000_000)
    fp = get_count(obj, "contracts_limit_fp", where, code="invalid_parameters")
    if whole is None and fp is None:
        raise missing(f"{where} needs 'contracts_limit' or 'contracts_limit_fp'")
    if whole is not None and fp is not None and whole * QTY_SCALE != fp:
        raise invalid(f"contracts_limit ({whole}) and contracts_limit_fp do not match")
    if fp is not None:
        return fp
    assert whole is not None
    return Qty(whole * QTY_SCALE)


def _check_route(query: Mapping[str, str], subaccount: int | None = None, exchange_index: int | None = None) -> None:
    sub = subaccount if subaccount is not None else query_int(query, "subaccount", lo=0, hi=63)
    index = exchange_index if exchange_index is not None else query_int(query, "exchange_index", lo=-1)
    if sub not in (None, 0):
        raise invalid(f"subaccount {sub} does not exist; only subaccount 0 is available")
    if index not in (None, 0, -1):
        raise invalid(f"exchange_index {index} is not a shard of this exchange (use 0)")


@routes.post(P + "/create")
async def create_group(request: web.Request) -> web.Response:
    body = decode_object(await request.read())
    where = "order group"
    CREATE.check(body, where)
    _check_route(request.query, get_int(body, "subaccount", where, lo=0), get_int(body, "exchange_index", where, lo=-1))
    group = deps(request).engine.create_group(user_id(request), _limit(body, where))
    return respond(w.CreateOrderGroupResponse(order_group_id=group.group_id, subaccount=0, exchange_index=0), 201)


@routes.get(P)
async def list_groups(request: web.Request) -> web.Response:
    _check_route(request.query)
    groups = deps(request).engine.groups(user_id(request))
    return respond(w.GetOrderGroupsResponse(order_groups=[render.order_group(g) for g in groups]))


@routes.get(P + "/{order_group_id}")
async def get_group(request: web.Request) -> web.Response:
    _check_route(request.query)
    engine, uid, gid = deps(request).engine, user_id(request), request.match_info["order_group_id"]
    group = engine.group(uid, gid)
    return respond(
        w.GetOrderGroupResponse(
            is_auto_cancel_enabled=True,
            orders=[o.order_id for o in engine.group_orders(uid, gid)],
            contracts_limit_fp=render.order_group(group).contracts_limit_fp,
            exchange_index=0,
        )
    )


@routes.put(P + "/{order_group_id}/reset")
async def reset_group(request: web.Request) -> web.Response:
    _check_route(request.query)
    EMPTY.check(decode_optional_object(await request.read()), "reset request")
    deps(request).engine.reset_group(user_id(request), request.match_info["order_group_id"])
    return respond(EMPTY_BODY)


@routes.put(P + "/{order_group_id}/trigger")
async def trigger_group(request: web.Request) -> web.Response:
    _check_route(request.query)
    EMPTY.check(decode_optional_object(await request.read()), "trigger request")
    deps(request).engine.trigger_group(user_id(request), request.match_info["order_group_id"])
    return respond(EMPTY_BODY)


@routes.put(P + "/{order_group_id}/limit")
async def set_group_limit(request: web.Request) -> web.Response:
    _check_route(request.query)
    body = decode_object(await request.read())
    LIMIT.check(body, "limit request")
    deps(request).engine.set_group_limit(
        user_id(request), request.match_info["order_group_id"], _limit(body, "limit request")
    )
    return respond(EMPTY_BODY)


@routes.delete(P + "/{order_group_id}")
async def delete_group(request: web.Request) -> web.Response:
    _check_route(request.query)
    deps(request).engine.delete_group(user_id(request), request.match_info["order_group_id"])
    return respond(EMPTY_BODY)
