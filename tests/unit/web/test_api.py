"""The JSON API over a stub node: the token guards every /api route, /metrics and the stream;
bodies use fixed-point strings; commands need confirmation and map errors; the stream pushes a
snapshot and then only what changed; the OpenAPI page lists every route."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from kalshi_trader.domain import BookSide, Level, Money, Price, Qty
from kalshi_trader.readmodels import (
    AlertsView,
    BalanceView,
    BookView,
    BreakerView,
    ChangeFeed,
    CommandError,
    ConnectionView,
    DecisionView,
    FairValueView,
    FeedDelayView,
    FillView,
    HealthCheck,
    HealthView,
    KillReport,
    MarketView,
    OrderView,
    PnlPoint,
    PositionView,
    RiskView,
    StrategyView,
)
from kalshi_trader.web.app import create_app

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class StubNode:
    mode = "sim"

    def __init__(self) -> None:
        self.changes = ChangeFeed()
        self.running = {"weather_mm": False}
        self.killed: list[tuple[str, str, bool]] = []
        self.points = [PnlPoint(1_000, 5_000, Money(100_000_000), Money(0), Money(0), Money(0), Money(0))]

    def balance(self) -> BalanceView:
        return BalanceView(Money(98_765_432), Money(123_400), 1_000)

    def positions(self) -> list[PositionView]:
        return [
            PositionView(
                "KXHIGHNY-26NOV21-B45.5",
                "NYC high",
                Qty(-500),
                Price(7_500),
                Money(37_500),
                Price(2_450),
                Money(-250),
                Money(0),
                Money(100),
                Money(37_500),
            )
        ]

    def orders(self, *, open_only: bool = True, limit: int = 500) -> list[OrderView]:
        return [
            OrderView(
                "coid-1",
                "oid-1",
                "KXHIGHNY-26NOV21-B45.5",
                BookSide.BID,
                Price(2_300),
                Qty(500),
                Qty(0),
                Qty(500),
                "resting",
                "good_till_canceled",
                True,
                False,
                "weather_mm",
                "quote",
                7,
            ),
            OrderView(
                "coid-0",
                "oid-0",
                "KXINXD-26NOV21-T6800",
                BookSide.BID,
                Price(2_100),
                Qty(500),
                Qty(200),
                Qty(0),
                "canceled",
                "good_till_canceled",
                False,
                False,
                "favorite",
                "entry",
                5,
                "SettlementBoundsCancel",
            ),
        ][: 1 if open_only else limit]

    def fills(self, *, limit: int = 200) -> list[FillView]:
        return [
            FillView(
                "f1",
                "oid-1",
                "coid-1",
                "KXHIGHNY-26NOV21-B45.5",
                BookSide.BID,
                Price(2_300),
                Qty(150),
                Money(0),
                False,
                9,
                "weather_mm",
            )
        ]

    def markets(self) -> list[MarketView]:
        return [
            MarketView(
                "KXHIGHNY-26NOV21-B45.5",
                "KXHIGHNY-26NOV21",
                "KXHIGHNY",
                "NYC high",
                "45° to 46°",
                "active",
                99,
                Price(2_300),
                Price(2_500),
                Qty(1_000),
                Qty(200),
                None,
                Qty(0),
                Price(2_410),
                False,
                Qty(-500),
            )
        ]

    def book(self, ticker: str, *, depth: int = 10) -> BookView | None:
        if ticker != "KXHIGHNY-26NOV21-B45.5":
            return None
        return BookView(
            ticker,
            "NYC high",
            "45° to 46°",
            False,
            (Level(Price(2_300), Qty(1_000)),),
            (Level(Price(2_500), Qty(200)),),
            Price(2_410),
            Price(300),
            tuple(self.orders()),
            (),
        )

    def fair_values(self) -> list[FairValueView]:
        return [
            FairValueView(
                "KXHIGHNY-26NOV21-B45.5",
                "KXHIGHNY-26NOV21",
                "NYC high",
                Price(2_410),
                Price(300),
                5,
                "weather",
                Price(2_400),
            )
        ]

    def pnl(self, *, limit: int = 2000) -> list[PnlPoint]:
        return self.points[-limit:]

    def strategies(self) -> list[StrategyView]:
        return [
            StrategyView(
                name,
                "Weather market maker",
                True,
                running,
                1,
                1,
                1,
                3,
                4,
                0,
                "",
                (DecisionView("KXHIGHNY-26NOV21-B45.5", "trade", "quote", 5),),
            )
            for name, running in self.running.items()
        ]

    def risk(self) -> RiskView:
        breakers = (BreakerView("feed_down", False, "", None),)
        return RiskView(
            bool(self.killed),
            bool(self.killed),
            "api" if self.killed else "",
            "",
            breakers,
            Money(37_500),
            Money(10_000_000),
            Money(-250),
            Money(1_000_000),
            1,
            50,
            3,
            1,
            0,
            0,
        )

    def connection(self) -> ConnectionView:
        return ConnectionView(
            "sim",
            "http://x/trade-api/v2",
            "ws://x/trade-api/ws/v2",
            True,
            1,
            0,
            10,
            1,
            1,
            5,
            "60x",
            "sqlite:///x",
            0,
            "",
            "",
            (FeedDelayView("orderbook_delta", 4, 0.8, 3.0, 3.0, 0, (0.001, 0.005), (2, 3), 0.0054),),
        )

    def health(self) -> HealthView:
        return HealthView("ok", "sim", 1.0, (HealthCheck("exchange feed", True, "connected"),))

    def alerts(self) -> AlertsView:
        return AlertsView(("json://127.0.0.1:9/***",), 7, 2, 3, 0, 1, "json://127.0.0.1:9/***: refused")

    async def start_strategy(self, name: str, *, who: str) -> StrategyView:
        if name not in self.running:
            raise CommandError(f"no strategy named {name!r}; known: weather_mm")
        self.running[name] = True
        self.changes.publish("strategies")
        return next(s for s in self.strategies() if s.name == name)

    async def stop_strategy(self, name: str, *, who: str) -> StrategyView:
        if name not in self.running:
            raise CommandError(f"no strategy named {name!r}; known: weather_mm")
        self.running[name] = False
        return next(s for s in self.strategies() if s.name == name)

    async def kill(self, *, who: str, why: str, flatten: bool = False) -> KillReport:
        self.killed.append((who, why, flatten))
        return KillReport(3, 0, flatten, ("weather_mm",))

    async def reset_risk(self, *, who: str, why: str) -> RiskView:
        if not self.killed:
            raise CommandError("nothing to reset")
        self.killed.clear()
        return self.risk()


@pytest.fixture
def stub() -> StubNode:
    return StubNode()


@pytest.fixture
def client(stub: StubNode) -> TestClient:
    return TestClient(create_app(stub, token=TOKEN, push_interval_s=0.0))


ROUTES = [
    "/api/account/balance",
    "/api/account/positions",
    "/api/orders",
    "/api/fills",
    "/api/markets",
    "/api/markets/KXHIGHNY-26NOV21-B45.5/book",
    "/api/fairvalue",
    "/api/pnl",
    "/api/strategy/status",
    "/api/risk/status",
    "/api/health",
    "/metrics",
]


@pytest.mark.parametrize("path", ROUTES)
def test_every_read_needs_the_token(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = client.get(path, headers=AUTH)
    assert ok.status_code == 200, ok.text
    assert TOKEN not in ok.text
    assert client.get(path, headers={"X-Access-Token": TOKEN}).status_code == 200


@pytest.mark.parametrize("path", ["/api/strategy/start", "/api/strategy/stop", "/api/kill", "/api/risk/reset"])
def test_every_command_needs_the_token(client: TestClient, path: str) -> None:
    assert client.post(path, json={"name": "weather_mm", "confirm": True}).status_code == 401


def test_bodies_are_fixed_point_strings(client: TestClient) -> None:
    assert client.get("/api/account/balance", headers=AUTH).json() == {
        "balance": "9876.5432",
        "portfolio_value": "12.3400",
        "as_of_ms": 1_000,
    }
    position = client.get("/api/account/positions", headers=AUTH).json()[0]
    assert (position["qty"], position["average_cost"], position["unrealized_pnl"]) == ("-5.00", "0.7500", "-0.0250")
    book = client.get("/api/markets/kxhighny-26nov21-b45.5/book", headers=AUTH).json()
    assert book["yes_bids"] == [{"price": "0.2300", "qty": "10.00"}]
    assert book["fair_value"] == "0.2410"
    assert client.get("/api/markets/NOPE/book", headers=AUTH).status_code == 404
    assert client.get("/api/orders", params={"status": "bogus"}, headers=AUTH).status_code == 422


def test_health_carries_its_checks_and_the_connection(client: TestClient) -> None:
    health = client.get("/api/health", headers=AUTH).json()
    assert (health["status"], health["mode"], health["uptime_s"]) == ("ok", "sim", 1.0)
    assert health["checks"] == [{"name": "exchange feed", "ok": True, "detail": "connected"}]
    conn = health["connection"]
    assert (conn["ws_connected"], conn["speed"], conn["store"], conn["books_total"]) == (True, "60x", "sqlite:///x", 1)
    (delay,) = conn["feed_delays"]
    assert (delay["channel"], delay["frames"], delay["p50_ms"], delay["p99_ms"]) == ("orderbook_delta", 4, 0.8, 3.0)
    spec = client.get("/openapi.json").json()["components"]["schemas"]
    assert "ws_connected" in spec["ConnectionView"]["properties"]  # documented on the OpenAPI page


def test_commands(client: TestClient, stub: StubNode) -> None:
    r = client.post("/api/strategy/start", json={"name": "weather_mm"}, headers=AUTH)
    assert r.status_code == 200
    assert r.json()["running"] is True
    assert client.post("/api/strategy/start", json={"name": "nope"}, headers=AUTH).status_code == 404
    assert client.post("/api/kill", json={}, headers=AUTH).status_code == 400
    assert stub.killed == []
    r = client.post("/api/kill", json={"confirm": True, "flatten": True}, headers=AUTH)
    assert r.json() == {"canceled": 3, "still_resting": 0, "flattened": True, "strategies_stopped": ["weather_mm"]}
    assert stub.killed[0][2] is True
    assert client.post("/api/risk/reset", headers=AUTH).json()["kill_switch"] is False
    r = client.post("/api/risk/reset", headers=AUTH)
    assert r.status_code == 409
    assert r.json() == {"detail": "nothing to reset"}


def test_token_link_sets_a_cookie_and_leaves_the_address_bar(client: TestClient) -> None:
    r = client.get("/", params={"token": TOKEN}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    assert "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    assert client.get("/api/account/balance").status_code == 200
    page = client.get("/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    wrong = TestClient(client.app).get("/", params={"token": "wrong"}, follow_redirects=False)
    assert wrong.headers["location"] == "/?denied=1"
    assert "set-cookie" not in wrong.headers


def test_static_assets_are_local(client: TestClient) -> None:
    page = client.get("/").text
    assert "http://" not in page
    assert "https://" not in page
    for asset in ("/static/app.js", "/static/charts.js", "/static/style.css", "/static/favicon.svg", "/docs"):
        assert client.get(asset).status_code == 200, asset


def test_openapi_documents_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ROUTES[:-1]:
        assert path.replace("KXHIGHNY-26NOV21-B45.5", "{ticker}") in spec["paths"], path
    for path in ("/api/strategy/start", "/api/strategy/stop", "/api/kill", "/api/risk/reset"):
        assert "post" in spec["paths"][path]


def test_metrics(client: TestClient) -> None:
    text = client.get("/metrics", headers=AUTH).text
    assert "kalshi_trader_balance_dollars 9876.5432" in text
    assert 'kalshi_trader_strategy_running{strategy="weather_mm"} 0.0' in text
    assert 'kalshi_trader_breaker_open{rule="feed_down"} 0.0' in text
    assert "kalshi_trader_alerts_sent_total 7.0" in text
    assert "kalshi_trader_alerts_failed_total 2.0" in text
    # the exchange->node frame delay histogram, per channel (cumulative buckets, then +Inf)
    assert 'kalshi_trader_ws_frame_delay_seconds_bucket{channel="orderbook_delta",le="0.001"} 2.0' in text
    assert 'kalshi_trader_ws_frame_delay_seconds_bucket{channel="orderbook_delta",le="0.005"} 3.0' in text
    assert 'kalshi_trader_ws_frame_delay_seconds_bucket{channel="orderbook_delta",le="+Inf"} 4.0' in text
    assert 'kalshi_trader_ws_frame_delay_seconds_count{channel="orderbook_delta"} 4.0' in text
    assert 'kalshi_trader_ws_frame_delay_seconds_sum{channel="orderbook_delta"} 0.0054' in text


def test_stream_needs_the_token(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/api/stream") as ws:
        ws.receive_json()
    assert info.value.code == 1008


def test_stream_pushes_a_snapshot_then_changes(client: TestClient, stub: StubNode) -> None:
    with client.websocket_connect("/api/stream", headers=AUTH) as ws:
        first: dict[str, Any] = ws.receive_json()
        assert first["type"] == "snapshot"
        assert first["data"]["balance"]["balance"] == "9876.5432"
        assert first["data"]["book"] is None
        assert len(first["data"]["pnl"]) == 1
        assert [o["order_id"] for o in first["data"]["orders"]] == ["oid-1"]
        (ended,) = first["data"]["ended_orders"]
        assert (ended["order_id"], ended["state"], ended["last_update_reason"]) == (
            "oid-0",
            "canceled",
            "SettlementBoundsCancel",
        )
        ws.send_json({"book": "KXHIGHNY-26NOV21-B45.5"})
        update = ws.receive_json()
        assert update["type"] == "update"
        assert update["data"]["book"]["ticker"] == "KXHIGHNY-26NOV21-B45.5"
        stub.points.append(replace(stub.points[0], ts_ms=2_000, realized=Money(5_000)))
        stub.changes.publish("pnl", "strategies")
        update = ws.receive_json()
        assert set(update["data"]) == {"pnl_append", "strategies"}
        assert [p["realized"] for p in update["data"]["pnl_append"]] == ["0.5000"]
