"""The embedded exchange's operator API under ``/admin``: faults and market pauses.

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
- Errors use the exchange's usual ``{"error": {"code", "message", "details"}}`` body.
- ``install(app, faults, engine, admin_token)`` adds the faults middleware (outermost) and these
  routes to an exchange application. ``write_admin_token(data_dir)`` makes a fresh random token and
  writes it to ``DATA_DIR/admin-token`` with mode 0600 from the first byte (``CredentialsError`` if
  it cannot).
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from kalshi_trader.domain import MarketStatus
from kalshi_trader.kalshi.auth import HEADER_KEY
from kalshi_trader.sim.credentials import CredentialsError
from kalshi_trader.sim.faults import FaultInjector, FaultSpec, FaultSpecError
from kalshi_trader.sim.matching import MatchingEngine
from kalshi_trader.sim.model import ExchangeError
from kalshi_trader.sim.params import Shape, decode_object, get_str
from kalshi_trader.sim.rest import respond

P = "/admin"
TOKEN_FILE = "admin-token"
SET_FAULTS = Shape(required=("spec",))


@dataclass(frozen=True, slots=True)
class AdminDeps:
    faults: FaultInjector
    engine: MatchingEngine
    token: str | None


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


def install(app: web.Application, faults: FaultInjector, engine: MatchingEngine, token: str | None) -> None:
    """Add the faults middleware (outermost, before the app is frozen) and the ``/admin`` routes."""
    app.middlewares.insert(0, faults.middleware)
    app[ADMIN] = AdminDeps(faults, engine, token)
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
