"""The embedded exchange's aiohttp application: REST under ``/trade-api/v2``, WS at ``/trade-api/ws/v2``.

Contract:
- Routes and JSON shapes are Kalshi's current API as ``openapi.yaml`` documents them (handlers in
  ``routes_market``, ``routes_portfolio``, ``routes_orders``, ``routes_groups``,
  ``routes_historical``, ``routes_account``; ``/api_keys`` in ``routes_api_keys``, installed by the
  exchange).
- Authentication: every ``/portfolio`` and ``/account/limits`` call (and the account's historical
  fills, orders and positions, and ``/api_keys``) must carry valid ``KALSHI-ACCESS-*`` headers
  signing ``timestamp + METHOD + path`` (path without query), made with the registered key's
  algorithm (Ed25519 or RSA-PSS), or gets 401. Public market-data calls need
  no headers; if a public call does carry them they must verify too (401 otherwise) and the call
  is billed to that key.
- Rate limits: an authenticated call is billed to its key's read or write bucket before the handler
  runs, except batches (``per-item cost × items``) and single order writes (billed per shard from
  their ``exchange_index`` and market ticker), which their handlers bill once those are parsed; an
  uncovered call gets 429 ``{"error": "too many requests"}`` with no ``Retry-After`` header.
- Errors: every failure is ``{"error": {"code", "message", "details"}}`` with the HTTP status of
  the ``ExchangeError`` raised (400/401/404/409…); unknown paths are 404 ``not_found``; unexpected
  exceptions are logged and answered 500 ``internal_error`` without internals.
- WebSocket: the upgrade request is verified (method GET, path ``/trade-api/ws/v2``) before
  upgrading — 401 with the error body otherwise — then the connection is handed to ``Feed.serve``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from kalshi_trader.kalshi.auth import HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP, AuthError
from kalshi_trader.sim.api import (
    routes_account,
    routes_groups,
    routes_historical,
    routes_market,
    routes_orders,
    routes_portfolio,
)
from kalshi_trader.sim.api.ratelimit import PER_ITEM_COSTS, SHARDED_WRITES, bucket_for, cost_for
from kalshi_trader.sim.api.rest_support import (
    DEPS,
    PRINCIPAL_KEY,
    RateLimited,
    ServerDeps,
    deps,
    error_response,
    rate_limited_response,
)
from kalshi_trader.sim.core.state import ExchangeError

log = structlog.get_logger(__name__)

REST_PREFIX = "/trade-api/v2"
PRIVATE_PREFIXES = (REST_PREFIX + "/portfolio", routes_account.LIMITS)
WS_PATH = "/trade-api/ws/v2"
WS_MAX_MESSAGE = 1 << 20
"""Largest client frame accepted on the WebSocket (commands are small)."""
MAX_BODY = 1 << 20

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}


def _route_pattern(request: web.Request) -> str | None:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else None


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ExchangeError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.details)
    except RateLimited:
        return rate_limited_response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status == 404:
            message = f"no such endpoint: {request.method} {request.path}"
        elif exc.status == 405:
            message = f"{request.method} is not supported on {request.path}"
        else:
            message = exc.reason
        return error_response(exc.status, _HTTP_CODES.get(exc.status, "bad_request"), message)
    except Exception:
        log.exception("request_failed", method=request.method, path=request.path)
        return error_response(500, "internal_error", "internal server error")


def _carries_auth(request: web.Request) -> bool:
    return any(h in request.headers for h in (HEADER_KEY, HEADER_TIMESTAMP, HEADER_SIGNATURE))


@web.middleware
async def _gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    pattern = _route_pattern(request)
    if pattern is None or pattern == WS_PATH:
        return await handler(request)
    d = deps(request)
    if pattern.startswith(PRIVATE_PREFIXES) or pattern in routes_historical.PRIVATE_ROUTES or _carries_auth(request):
        try:
            caller = d.authenticate(request.headers, request.method, request.rel_url.raw_path)
        except AuthError as exc:
            return error_response(401, "unauthorized", str(exc))
        request[PRINCIPAL_KEY] = caller
        key = (request.method, pattern)
        limiter = d.limiter
        if (
            limiter is not None
            and key not in PER_ITEM_COSTS
            and key not in SHARDED_WRITES
            and not limiter.try_spend(caller.key_id, bucket_for(*key), cost_for(*key))
        ):
            return rate_limited_response()
    return await handler(request)


async def _websocket(request: web.Request) -> web.StreamResponse:
    d = deps(request)
    try:
        caller = d.authenticate(request.headers, "GET", WS_PATH)
    except AuthError as exc:
        return error_response(401, "unauthorized", str(exc))
    ws = web.WebSocketResponse(max_msg_size=WS_MAX_MESSAGE)
    if not ws.can_prepare(request).ok:
        return error_response(400, "bad_request", f"{WS_PATH} expects a WebSocket upgrade request")
    if d.feed is None:
        return error_response(503, "unavailable", "the WebSocket feed is not available")
    await ws.prepare(request)
    await d.feed.serve(ws, caller.user_id)
    return ws


def build_app(server_deps: ServerDeps) -> web.Application:
    app = web.Application(middlewares=[_errors, _gate], client_max_size=MAX_BODY)
    app[DEPS] = server_deps
    app.router.add_get(WS_PATH, _websocket)
    # Literal paths are registered before their ``{param}`` siblings in each module, and the
    # historical module (``/markets/candlesticks``) before ``/markets/{ticker}``.
    app.add_routes(routes_historical.routes)
    app.add_routes(routes_market.routes)
    app.add_routes(routes_portfolio.routes)
    app.add_routes(routes_orders.routes)
    app.add_routes(routes_groups.routes)
    app.add_routes(routes_account.routes)
    return app
