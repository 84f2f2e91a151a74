"""The embedded exchange's operator API under ``/admin``: faults, market pauses, the historical
cutoff, settlement floors.

Contract:
- Authentication: ``Authorization: Bearer <admin token>``. The token is random per exchange start
  (the standalone exchange writes it to ``DATA_DIR/admin-token``, mode 0600) and compared in
  constant time. No token → 401; a request signed with a trading API key but without the admin
  token → 403 (trading keys never reach this API); a wrong token → 401; an exchange started
  without an admin token answers every ``/admin`` call 403.
- ``GET /admin/faults`` → ``{"spec": "<canonical spec>", "faults": {name: value}, "injected":
  {fault: count}}``. ``PUT /admin/faults`` with ``{"spec": "<spec>"}`` switches faults (``""`` or
  ``"none"`` turns them off) and answers like GET; a bad spec is 400 with ``FaultSpecError``'s
  message and changes nothing.
- ``POST /admin/markets/{ticker}/pause`` moves an active market to ``inactive`` (orders placed
  with ``cancel_order_on_pause`` are canceled; the rest keep resting but cannot trade);
  ``.../resume`` moves it back to ``active`` (Kalshi cancels every resting order on reactivation).
  Both answer ``{"ticker", "status"}``; unknown market 404, a transition the market cannot make
  (e.g. resuming a closed market) 400. WS ``market_lifecycle_v2`` announces both.
- ``GET /admin/historical/cutoff`` → ``{"cutoff": {name: RFC 3339}, "pinned": {name: RFC 3339 |
  null}, "lag_seconds": {name: int}}`` for the four cutoffs of ``GET /historical/cutoff``
  (``sim/api/archive.py``). ``PUT`` with any of ``{"<cutoff name>": RFC 3339 time (pin it there, not after
  the exchange's time) | null (follow its lag again), "lag_seconds": {"<cutoff name>": seconds}}``
  moves them — in market time, so a test can archive what happened before a moment — and answers
  like GET; anything invalid is a 400 and changes nothing.
- ``GET /admin/markets/floors`` → ``{"markets": [{"ticker", "settlement_floor_dollars"}]}``: every
  market with a settlement floor (``settlement_bounds_type: floor``), in listing order.
  ``POST /admin/markets/{ticker}/settlement_floor`` with ``{"settlement_floor_dollars": "0.3000"}``
  raises that market's floor as Kalshi does (Kalshi's settlement_bounds page: YES holders are paid the
  increase, resting orders at or below the new floor are canceled with ``SettlementBoundsCancel``)
  and answers ``{"ticker", "settlement_floor_dollars", "canceled_orders"}``; a market with default
  bounds, a floor that does not rise, or a closed market is 400, an unknown market 404.
- Errors use the exchange's usual ``{"error": {"code", "message", "details"}}`` body.
- ``install(app, faults, engine, admin_token, archive)`` adds the faults middleware (outermost) and
  these routes to an exchange application. ``write_admin_token(data_dir)`` makes a fresh random token and
  writes it to ``DATA_DIR/admin-token`` with mode 0600 from the first byte (``CredentialsError`` if
  it cannot).
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aiohttp import web

from kalshi_trader.domain import MarketStatus, format_price
from kalshi_trader.kalshi.auth import HEADER_KEY
from kalshi_trader.sim.api.archive import CUTOFF_NAMES, Archive
from kalshi_trader.sim.api.credentials import CredentialsError
from kalshi_trader.sim.api.faults import FaultInjector, FaultSpec, FaultSpecError
from kalshi_trader.sim.api.params import Shape, as_object, decode_object, get_int, get_price, get_str, invalid, missing
from kalshi_trader.sim.api.render import iso, iso_or_none
from kalshi_trader.sim.api.rest_support import respond
from kalshi_trader.sim.core.matching import MatchingEngine
from kalshi_trader.sim.core.state import ExchangeError

P = "/admin"
TOKEN_FILE = "admin-token"
SET_FAULTS = Shape(required=("spec",))
SET_CUTOFF = Shape(required=(), optional=(*CUTOFF_NAMES, "lag_seconds"))
LAGS = Shape(required=(), optional=CUTOFF_NAMES)
SET_FLOOR = Shape(required=("settlement_floor_dollars",))


@dataclass(frozen=True, slots=True)
class AdminDeps:
    faults: FaultInjector
    engine: MatchingEngine
    token: str | None
    archive: Archive


ADMIN: web.AppKey[AdminDeps] = web.AppKey("admin", AdminDeps)
routes = web.RouteTableDef()


def _authorize(request: web.Request) -> AdminDeps:
    admin = request.app[ADMIN]
    if admin.token is None:
        raise ExchangeError(403, "forbidden", "the admin API is disabled on this exchange")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        if HEADER_KEY in request.headers:
            raise ExchangeError(
                403, "forbidden", "trading API keys cannot use the admin API; send Authorization: Bearer <admin token>"
            )
        raise ExchangeError(401, "unauthorized", "admin token required: send Authorization: Bearer <admin token>")
    if not hmac.compare_digest(given.strip().encode(), admin.token.encode()):
        raise ExchangeError(401, "unauthorized", "invalid admin token")
    return admin


def _faults_body(faults: FaultInjector) -> dict[str, object]:
    return {
        "spec": str(faults.spec),
        "faults": faults.spec.as_dict(),
        "injected": dict(sorted(faults.injected.items())),
    }


@routes.get(P + "/faults")
async def get_faults(request: web.Request) -> web.Response:
    return respond(_faults_body(_authorize(request).faults))


@routes.put(P + "/faults")
async def put_faults(request: web.Request) -> web.Response:
    admin = _authorize(request)
    body = decode_object(await request.read())
    SET_FAULTS.check(body, "faults request")
    text = get_str(body, "spec", "faults request")
    assert text is not None  # SET_FAULTS requires it
    try:
        spec = FaultSpec.parse(text)
    except FaultSpecError as exc:
        raise ExchangeError(400, "invalid_parameters", str(exc)) from None
    admin.faults.set_spec(spec)
    return respond(_faults_body(admin.faults))


async def _set_status(request: web.Request, status: MarketStatus) -> web.Response:
    admin = _authorize(request)
    ticker = request.match_info["ticker"]
    admin.engine.set_market_status(ticker, status)
    return respond({"ticker": ticker, "status": admin.engine.market(ticker).status.value})


@routes.post(P + "/markets/{ticker}/pause")
async def pause_market(request: web.Request) -> web.Response:
    return await _set_status(request, MarketStatus.INACTIVE)


@routes.post(P + "/markets/{ticker}/resume")
async def resume_market(request: web.Request) -> web.Response:
    return await _set_status(request, MarketStatus.ACTIVE)


@routes.get(P + "/markets/floors")
async def list_floor_markets(request: web.Request) -> web.Response:
    engine = _authorize(request).engine
    floors = [
        {"ticker": m.ticker, "settlement_floor_dollars": format_price(m.settlement_floor)}
        for m in engine.markets()
        if m.settlement_floor is not None
    ]
    return respond({"markets": floors})


@routes.post(P + "/markets/{ticker}/settlement_floor")
async def raise_settlement_floor(request: web.Request) -> web.Response:
    admin = _authorize(request)
    body = decode_object(await request.read())
    where = "settlement floor request"
    SET_FLOOR.check(body, where)
    floor = get_price(body, "settlement_floor_dollars", where)
    if floor is None:
        raise missing(f"{where} needs settlement_floor_dollars")
    ticker = request.match_info["ticker"]
    canceled = admin.engine.set_settlement_floor(ticker, floor)
    return respond(
        {"ticker": ticker, "settlement_floor_dollars": format_price(floor), "canceled_orders": len(canceled)}
    )


def _cutoff_body(archive: Archive) -> dict[str, object]:
    return {
        "cutoff": {name: iso(ms) for name, ms in archive.cutoff().by_name().items()},
        "pinned": {name: iso_or_none(ms) for name, ms in archive.pins_ms.items()},
        "lag_seconds": {name: ms // 1000 for name, ms in archive.lags_ms.items()},
    }


def _moment(value: object, name: str) -> int | None:
    """An RFC 3339 time (with an offset) → exchange milliseconds; ``None`` stays ``None``."""
    if value is None:
        return None
    text = value if isinstance(value, str) else ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise invalid(f"field {name!r} must be an RFC 3339 time with an offset (e.g. 2026-03-02T12:00:00Z) or null")
    return int(moment.timestamp() * 1000)


@routes.get(P + "/historical/cutoff")
async def get_cutoff(request: web.Request) -> web.Response:
    return respond(_cutoff_body(_authorize(request).archive))


@routes.put(P + "/historical/cutoff")
async def put_cutoff(request: web.Request) -> web.Response:
    admin = _authorize(request)
    body = decode_object(await request.read())
    SET_CUTOFF.check(body, "cutoff request")
    pins = {name: _moment(body[name], name) for name in CUTOFF_NAMES if name in body}
    lags: dict[str, int] = {}
    if body.get("lag_seconds") is not None:
        raw = as_object(body["lag_seconds"], "lag_seconds")
        LAGS.check(raw, "lag_seconds")
        lags = {
            name: seconds * 1000 for name in raw if (seconds := get_int(raw, name, "lag_seconds", lo=0)) is not None
        }
    now = admin.archive.now_ms()
    late = [name for name, ms in pins.items() if ms is not None and ms > now]
    if late:
        raise invalid(f"{', '.join(late)} cannot be after the exchange's current time ({iso(now)})")
    for name, lag in lags.items():
        admin.archive.set_lag(name, lag)
    for name, ms in pins.items():
        admin.archive.pin(name, ms)
    return respond(_cutoff_body(admin.archive))


def install(
    app: web.Application, faults: FaultInjector, engine: MatchingEngine, token: str | None, archive: Archive
) -> None:
    """Add the faults middleware (outermost, before the app is frozen) and the ``/admin`` routes."""
    app.middlewares.insert(0, faults.middleware)
    app[ADMIN] = AdminDeps(faults, engine, token, archive)
    app.add_routes(routes)


def write_admin_token(data_dir: Path) -> tuple[str, Path]:
    """A fresh random admin token, written to ``data_dir/admin-token`` (mode 0600); returns both."""
    token = secrets.token_urlsafe(32)
    path = data_dir / TOKEN_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, (token + "\n").encode())
        finally:
            os.close(fd)
        os.chmod(path, 0o600)
    except OSError as exc:
        raise CredentialsError(f"cannot write the admin token to {path}: {exc.strerror or exc}") from None
    return token, path
