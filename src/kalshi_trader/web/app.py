"""The web side of a node: JSON API, WebSocket push, Prometheus metrics and the dashboard.

Contract:
- ``create_app(node, token=...)`` builds a FastAPI application over a ``readmodels.NodeApi``:
  ``GET /api/...`` reads (``account/balance``, ``account/positions``, ``orders``, ``fills``,
  ``markets``, ``markets/{ticker}/book``, ``fairvalue``, ``pnl``, ``strategy/status``,
  ``risk/status``, ``health``), ``POST /api/...`` commands (``strategy/start``, ``strategy/stop``
  with ``{"name": ...}``; ``kill`` with ``{"confirm": true}``; ``risk/reset``) and the WebSocket
  ``/api/stream``. ``/metrics`` serves Prometheus text. ``/`` is the dashboard (``static/``, every
  asset local), ``/docs`` a local page listing the API from ``/openapi.json``.
- **Access**: every ``/api`` route, the stream and ``/metrics`` need the token (``web.auth``:
  bearer header, ``X-Access-Token``, the ``kt_token`` cookie or ``?token=``); without it they
  answer 401 (the stream closes with 1008). Opening ``/?token=...`` sets the cookie (HttpOnly,
  SameSite=Strict) and redirects to ``/`` so the token leaves the address bar. Responses carry a
  strict Content-Security-Policy and ``Referrer-Policy: no-referrer``. Nothing served, logged or
  raised contains the token or any key material.
- **Stream**: on connect the client gets ``{"type": "snapshot", "data": {topic: value}}`` with every
  topic, then ``{"type": "update", "data": {...}}`` with the topics that changed (the node's
  ``ChangeFeed``), at most ``push_interval_s`` apart — no polling. ``pnl`` updates carry only the new
  points (``pnl_append``). ``orders`` (the open ones) always comes with ``ended_orders``: the newest
  ``ENDED_ORDERS`` orders that ended, with why (``last_update_reason``). A client message
  ``{"book": "TICKER"}`` chooses which order book the ``book`` topic carries (answered at once).
- Commands map ``CommandError`` to 409 (404 for an unknown strategy) with a one-line ``detail``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from kalshi_trader.readmodels import CommandError, NodeApi
from kalshi_trader.web import auth
from kalshi_trader.web import schemas as s
from kalshi_trader.web.metrics import registry_for

__all__ = ["create_app"]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
STATIC = resources.files("kalshi_trader.web") / "static"


class StrategyRequest(BaseModel):
    name: str
    """A strategy's name (``GET /api/strategy/status`` lists them)."""


ENDED_ORDERS = 50
"""Ended orders the stream carries (``ended_orders``)."""
_ENDED_STATES = frozenset({"executed", "canceled", "rejected"})


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if request.url.path.startswith("/api") or request.url.path == "/metrics":
            response.headers["Cache-Control"] = "no-store"
        return response


def create_app(node: NodeApi, *, token: str, push_interval_s: float = 0.25) -> FastAPI:
    app = FastAPI(
        title="kalshi-trader",
        version="0.1.0",
        summary="The JSON API of a kalshi-trader node: account, orders, markets, fair values, strategies, risk.",
        description=(
            "Every /api route needs the access token `kalshi-trader run` prints (also in DATA_DIR/web-token): "
            "`Authorization: Bearer <token>`, `X-Access-Token: <token>`, the cookie set by opening "
            "`/?token=<token>`, or `?token=<token>`. Amounts are 4-decimal dollar strings, contract counts "
            "2-decimal strings; `side` is bid (buys YES) or ask (buys NO) and prices are YES prices. "
            "WebSocket `/api/stream` pushes changes: a `snapshot`, then `update` messages."
        ),
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(_SecurityHeaders)

    def authorised(request: Request) -> None:
        given = auth.presented_token(request.headers, request.cookies, request.query_params)
        if not auth.token_matches(token, given):
            raise HTTPException(
                status_code=401,
                detail="access token missing or wrong: open the link kalshi-trader run printed",
                headers={"WWW-Authenticate": "Bearer"},
            )

    unauthorised: dict[int | str, dict[str, Any]] = {401: {"model": s.Error, "description": "No or a wrong token"}}
    api = APIRouter(prefix="/api", dependencies=[Depends(authorised)], responses=unauthorised)

    # -- pages ---------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False, response_model=None)
    async def index(request: Request, token_param: Annotated[str | None, Query(alias="token")] = None) -> Response:
        if token_param is not None:
            if not auth.token_matches(token, token_param):
                return RedirectResponse("/?denied=1", status_code=303)
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(auth.COOKIE, token, httponly=True, samesite="strict", path="/")
            return response
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        return FileResponse(str(STATIC / "docs.html"), media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(str(STATIC / "favicon.svg"), media_type="image/svg+xml")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    registry = registry_for(node)

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(authorised)])
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    # -- reads ---------------------------------------------------------------------------------

    @api.get("/account/balance", response_model=s.Balance, tags=["account"])
    async def get_balance() -> s.Balance:
        """Cash balance and the exchange's value of the open positions."""
        return s.balance(node.balance())

    @api.get("/account/positions", response_model=list[s.Position], tags=["account"])
    async def get_positions() -> list[s.Position]:
        """Open positions with cost, mark, P&L and worst-case exposure."""
        return [s.position(p) for p in node.positions()]

    @api.get("/orders", response_model=list[s.OrderOut], tags=["orders"])
    async def get_orders(
        status: Annotated[str, Query(pattern="^(open|all)$", description="open (default) or all")] = "open",
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    ) -> list[s.OrderOut]:
        """The node's orders, newest first."""
        return [s.order(o) for o in node.orders(open_only=status == "open", limit=limit)]

    @api.get("/fills", response_model=list[s.FillOut], tags=["orders"])
    async def get_fills(limit: Annotated[int, Query(ge=1, le=2000)] = 200) -> list[s.FillOut]:
        """The node's fills, newest first."""
        return [s.fill(f) for f in node.fills(limit=limit)]

    @api.get("/markets", response_model=list[s.Market], tags=["markets"])
    async def get_markets() -> list[s.Market]:
        """Followed markets with top of book, last price, fair value and position."""
        return [s.market(m) for m in node.markets()]

    @api.get(
        "/markets/{ticker}/book",
        response_model=s.Book,
        responses={404: {"model": s.Error}},
        tags=["markets"],
    )
    async def get_book(ticker: str, depth: Annotated[int, Query(ge=1, le=100)] = 10) -> s.Book:
        """One market's ladder (YES bids and asks), fair value, our orders and price history."""
        view = node.book(ticker.upper(), depth=depth)
        if view is None:
            raise HTTPException(404, detail=f"no followed market {ticker.upper()}")
        return s.book(view)

    @api.get("/fairvalue", response_model=list[s.FairValueOut], tags=["markets"])
    async def get_fair_values() -> list[s.FairValueOut]:
        """The weather model's P(YES) per market, with its uncertainty and the market's mid."""
        return [s.fair_value(v) for v in node.fair_values()]

    @api.get("/pnl", response_model=list[s.PnlPointOut], tags=["account"])
    async def get_pnl(limit: Annotated[int, Query(ge=2, le=5000)] = 2000) -> list[s.PnlPointOut]:
        """Balance, exposure and P&L over time (oldest first, evenly thinned to ``limit``)."""
        return [s.pnl_point(p) for p in node.pnl(limit=limit)]

    @api.get("/strategy/status", response_model=list[s.Strategy], tags=["strategies"])
    async def get_strategies() -> list[s.Strategy]:
        """Every strategy: running or not, its orders and its latest decisions with reasons."""
        return [s.strategy(v) for v in node.strategies()]

    @api.get("/risk/status", response_model=s.Risk, tags=["risk"])
    async def get_risk() -> s.Risk:
        """Kill switch, circuit breakers, exposure against limits, counters."""
        return s.risk(node.risk())

    @api.get("/health", response_model=s.Health, tags=["node"])
    async def get_health() -> s.Health:
        """Overall status, each check, and the connection to the exchange."""
        return s.health(node.health(), node.connection())

    # -- commands ------------------------------------------------------------------------------

    def conflict(exc: CommandError) -> HTTPException:
        code = 404 if str(exc).startswith("no strategy named") else 409
        return HTTPException(code, detail=str(exc))

    command_errors: dict[int | str, dict[str, Any]] = {
        404: {"model": s.Error, "description": "Unknown strategy"},
        409: {"model": s.Error, "description": "Cannot be done now"},
    }

    @api.post("/strategy/start", response_model=s.Strategy, responses=command_errors, tags=["strategies"])
    async def start_strategy(body: StrategyRequest) -> s.Strategy:
        """Start one strategy (it cancels leftovers of an earlier run, then trades)."""
        try:
            return s.strategy(await node.start_strategy(body.name, who="api"))
        except CommandError as exc:
            raise conflict(exc) from None

    @api.post("/strategy/stop", response_model=s.Strategy, responses=command_errors, tags=["strategies"])
    async def stop_strategy(body: StrategyRequest) -> s.Strategy:
        """Stop one strategy: its resting orders are canceled; positions keep their protection."""
        try:
            return s.strategy(await node.stop_strategy(body.name, who="api"))
        except CommandError as exc:
            raise conflict(exc) from None

    @api.post(
        "/kill",
        response_model=s.KillOut,
        responses={**command_errors, 400: {"model": s.Error, "description": "Not confirmed"}},
        tags=["risk"],
    )
    async def kill(body: s.KillRequest) -> s.KillOut:
        """The kill switch: stop every strategy, refuse new risk, cancel every resting order at the
        exchange (and flatten if asked). Needs ``{"confirm": true}``; undo with ``/api/risk/reset``."""
        if not body.confirm:
            raise HTTPException(400, detail='the kill switch needs {"confirm": true}')
        try:
            return s.kill(
                await node.kill(who=body.who or "api", why=body.reason or "kill switch", flatten=body.flatten)
            )
        except CommandError as exc:
            raise conflict(exc) from None

    @api.post("/risk/reset", response_model=s.Risk, responses=command_errors, tags=["risk"])
    async def reset_risk(body: s.ResetRequest | None = None) -> s.Risk:
        """Release the kill switch and reset open circuit breakers (strategies stay stopped)."""
        req = body or s.ResetRequest()
        try:
            return s.risk(await node.reset_risk(who=req.who or "api", why=req.reason or "reset"))
        except CommandError as exc:
            raise conflict(exc) from None

    app.include_router(api)

    # -- stream --------------------------------------------------------------------------------

    def topic(name: str, book_ticker: str | None) -> Any:
        if name == "balance":
            return s.balance(node.balance()).model_dump()
        if name == "positions":
            return [s.position(p).model_dump() for p in node.positions()]
        if name == "orders":
            return [s.order(o).model_dump() for o in node.orders(open_only=True, limit=300)]
        if name == "ended_orders":
            ended = [o for o in node.orders(open_only=False, limit=300) if o.state in _ENDED_STATES]
            return [s.order(o).model_dump() for o in ended[:ENDED_ORDERS]]
        if name == "fills":
            return [s.fill(f).model_dump() for f in node.fills(limit=100)]
        if name == "markets":
            return [s.market(m).model_dump() for m in node.markets()]
        if name == "books":
            view = node.book(book_ticker) if book_ticker else None
            return s.book(view).model_dump() if view is not None else None
        if name == "fairvalue":
            return [s.fair_value(v).model_dump() for v in node.fair_values()]
        if name == "pnl":
            return [s.pnl_point(p).model_dump() for p in node.pnl(limit=1500)]
        if name == "strategies":
            return [s.strategy(v).model_dump() for v in node.strategies()]
        if name == "risk":
            return s.risk(node.risk()).model_dump()
        if name == "connection":
            return dataclasses.asdict(node.connection())
        if name == "health":
            return s.health(node.health(), node.connection()).model_dump()
        return None

    all_topics = (
        "balance",
        "positions",
        "orders",
        "fills",
        "markets",
        "books",
        "fairvalue",
        "pnl",
        "strategies",
        "risk",
        "connection",
        "health",
    )

    @app.websocket("/api/stream")
    async def stream(ws: WebSocket) -> None:
        given = auth.presented_token(ws.headers, ws.cookies, ws.query_params)
        if not auth.token_matches(token, given):
            await ws.close(code=1008, reason="access token missing or wrong")
            return
        await ws.accept()
        sub = node.changes.subscribe()
        state: dict[str, Any] = {"book": None, "pnl_sent": 0}

        def payload(names: frozenset[str] | tuple[str, ...], snapshot: bool) -> dict[str, Any]:
            data: dict[str, Any] = {}
            for name in names:
                if name == "books":
                    data["book"] = topic("books", state["book"])
                elif name == "pnl" and not snapshot:
                    points = node.pnl(limit=5000)
                    last = state["pnl_sent"]
                    data["pnl_append"] = [s.pnl_point(p).model_dump() for p in points if p.ts_ms > last]
                else:
                    data[name] = topic(name, None)
                    if name == "orders":
                        data["ended_orders"] = topic("ended_orders", None)
            points = node.pnl(limit=1)
            if points:
                state["pnl_sent"] = points[-1].ts_ms
            return data

        async def reader() -> None:
            while True:
                msg = await ws.receive_json()
                if isinstance(msg, dict) and isinstance(msg.get("book"), str):
                    state["book"] = msg["book"].upper()[:100] or None
                    sub.pending.add("books")
                    sub.event.set()

        async def writer() -> None:
            await ws.send_json({"type": "snapshot", "data": payload(all_topics, True)})
            while True:
                names = await sub.next()
                await ws.send_json({"type": "update", "data": payload(names, False)})
                await asyncio.sleep(push_interval_s)

        tasks = [asyncio.ensure_future(reader()), asyncio.ensure_future(writer())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sub.close()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                    await task
            with contextlib.suppress(Exception):
                await ws.close()

    @app.exception_handler(CommandError)
    async def command_error(request: Request, exc: CommandError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    return app
