"""Shared plumbing of the embedded exchange's REST handlers.

Contract: ``ServerDeps`` is everything a handler may use (engine, catalog, authentication, rate
limiter, feed, clock, exchange flags, the live/historical partition and the market history);
handlers reach it with ``deps(request)`` and the signed-in caller with ``principal(request)`` (set
by the server's gate middleware on every ``/portfolio`` call and every signed call; an unsigned
call to a route that needs a caller is a 401). ``respond`` encodes a ``msgspec`` struct (or plain
JSON value) with the given status; ``error_body`` is Kalshi's nested error shape
``{"error": {"code", "message", "details"}}``; ``RATE_LIMITED_BODY`` is the documented 429 body.
``bill`` charges a handler-computed cost to the buckets it names (batch endpoints, single order
writes billed per shard) and raises ``RateLimited`` unless every one covers it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from kalshi_trader.kalshi.auth import HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP
from kalshi_trader.sim.api.archive import Archive
from kalshi_trader.sim.api.market_history import MarketHistory
from kalshi_trader.sim.api.ratelimit import UNSCOPED, Bucket, RateLimiter
from kalshi_trader.sim.api.ws_feed import Feed
from kalshi_trader.sim.core.catalog import Catalog
from kalshi_trader.sim.core.matching import MatchingEngine
from kalshi_trader.sim.core.state import ExchangeError


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    key_id: str
    user_id: str


@dataclass(slots=True)
class ExchangeFlags:
    """Exchange-wide switches reported by ``GET /exchange/status``."""

    exchange_active: bool = True
    trading_active: bool = True


@dataclass(frozen=True, slots=True)
class ServerDeps:
    engine: MatchingEngine
    catalog: Catalog
    authenticate: Callable[[Mapping[str, str], str, str], Principal]
    """(headers, method, path) → caller; raises ``kalshi.auth.AuthError``."""
    limiter: RateLimiter | None
    feed: Feed | None
    clock_ms: Callable[[], int]
    flags: ExchangeFlags
    archive: Archive
    history: MarketHistory


DEPS: web.AppKey[ServerDeps] = web.AppKey("deps", ServerDeps)
PRINCIPAL_KEY: web.RequestKey[Principal] = web.RequestKey("principal", Principal)

RATE_LIMITED_BODY = b'{"error":"too many requests"}'


class RateLimited(Exception):
    """The caller's token bucket cannot cover the request (HTTP 429)."""


def deps(request: web.Request) -> ServerDeps:
    return request.app[DEPS]


def principal(request: web.Request) -> Principal:
    """The signed-in caller; an unsigned request to a route that needs one is a 401 (the gate
    authenticates every ``/portfolio`` call, and any other call that carries signature headers)."""
    try:
        return request[PRINCIPAL_KEY]
    except KeyError:
        missing = f"missing authentication header(s): {HEADER_KEY}, {HEADER_TIMESTAMP}, {HEADER_SIGNATURE}"
        raise ExchangeError(401, "unauthorized", missing) from None


def user_id(request: web.Request) -> str:
    return principal(request).user_id


def bill(request: web.Request, bucket: Bucket, cost: int, scopes: Sequence[int] = (UNSCOPED,)) -> None:
    """Charge ``cost`` tokens to each of the caller's ``bucket`` buckets in ``scopes`` (all or
    nothing) or raise ``RateLimited``."""
    limiter = deps(request).limiter
    if limiter is not None and not limiter.try_spend(principal(request).key_id, bucket, cost, scopes):
        raise RateLimited()


_encoder = msgspec.json.Encoder()


def respond(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=_encoder.encode(body), status=status, content_type="application/json")


def error_body(code: str, message: str, details: str = "") -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(status: int, code: str, message: str, details: str = "") -> web.Response:
    return respond(error_body(code, message, details), status)


def rate_limited_response() -> web.Response:
    return web.Response(body=RATE_LIMITED_BODY, status=429, content_type="application/json")
