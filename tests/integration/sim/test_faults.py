"""Faults of the embedded exchange over real sockets: each does what it says, the exchange's own
state stays consistent, and the ``/admin`` API that switches them is closed to trading keys."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgspec
import pytest
from tests.support.exchange import RunningExchange, running_exchange
from tests.support.http import SignedClient
from tests.support.trading import ORDERS, order_body, state
from tests.support.ws import BookReplica

from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.kalshi.limits import Bucket
from kalshi_trader.sim.api.faults import FaultSpec

TOKEN = "test-admin-token"
TICKER = "KXFAULT-26JAN01-T50"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def ex() -> AsyncIterator[RunningExchange]:
    async with running_exchange(admin_token=TOKEN) as running:
        yield running


@pytest.fixture
async def trader(ex: RunningExchange) -> AsyncIterator[SignedClient]:
    async with ex.client(ex.trader, validate=False) as client:
        yield client


@pytest.fixture
async def admin(ex: RunningExchange) -> AsyncIterator[SignedClient]:
    async with SignedClient(ex.rest_url.removesuffix("/trade-api/v2"), validate=False) as client:
        yield client


async def put_faults(admin: SignedClient, spec: str) -> Any:
    reply = await admin.put("/admin/faults", {"spec": spec}, sign=False, headers=ADMIN)
    assert reply.status == 200, reply.body
    return reply.body


# -- the admin API ------------------------------------------------------------------------------


async def test_admin_needs_its_token_and_refuses_trading_keys(ex: RunningExchange, admin: SignedClient) -> None:
    assert (await admin.get("/admin/faults", sign=False)).status == 401
    wrong = await admin.get("/admin/faults", sign=False, headers={"Authorization": "Bearer nope"})
    assert (wrong.status, wrong.body["error"]["code"]) == (401, "unauthorized")
    signer = Signer(ex.trader.key_id, ex.trader.private_key)
    signed = await admin.get("/admin/faults", sign=False, headers=signer.headers("GET", "/admin/faults"))
    assert signed.status == 403
    assert "trading API keys" in signed.body["error"]["message"]
    ok = await admin.get("/admin/faults", sign=False, headers=ADMIN)
    assert ok.status == 200
    assert ok.body["spec"] == "none"
    assert ok.body["faults"]["http_429"] == "0"


async def test_admin_is_off_without_a_token(exchange: RunningExchange) -> None:
    async with SignedClient(exchange.rest_url.removesuffix("/trade-api/v2"), validate=False) as client:
        reply = await client.get("/admin/faults", sign=False, headers=ADMIN)
    assert reply.status == 403


async def test_put_faults_switches_them_and_rejects_bad_specs(ex: RunningExchange, admin: SignedClient) -> None:
    body = await put_faults(admin, "http_429=0.5, latency_ms=5")
    assert body["spec"] == "http_429=0.5,latency_ms=5"
    assert ex.exchange.faults.spec == FaultSpec(http_429=500_000, latency_ms=5)
    bad = await admin.put("/admin/faults", {"spec": "http_429=2"}, sign=False, headers=ADMIN)
    assert bad.status == 400
    assert "http_429 must be a probability from 0 to 1" in bad.body["error"]["message"]
    assert ex.exchange.faults.spec == FaultSpec(http_429=500_000, latency_ms=5)  # unchanged
    assert (await admin.put("/admin/faults", {"nope": 1}, sign=False, headers=ADMIN)).status == 400
    assert (await put_faults(admin, "none"))["spec"] == "none"


# -- REST faults --------------------------------------------------------------------------------


async def test_429_executes_nothing_and_takes_no_tokens(
    ex: RunningExchange, admin: SignedClient, trader: SignedClient
) -> None:
    ticker = ex.add_market(TICKER)
    before = await state(trader, ticker)
    limiter = ex.exchange.limiter
    assert limiter is not None
    await put_faults(admin, "http_429=1")
    tokens = limiter.available(ex.trader.key_id, Bucket.WRITE)
    reply = await trader.post(ORDERS, order_body(ticker, "bid", "1", "0.40"))
    assert (reply.status, reply.body) == (429, {"error": "too many requests"})
    assert "Retry-After" not in reply.headers
    assert limiter.available(ex.trader.key_id, Bucket.WRITE) >= tokens
    status = await admin.get("/admin/faults", sign=False, headers=ADMIN)  # /admin is never faulted
    assert status.body["injected"] == {"http_429": 1}
    await put_faults(admin, "none")
    assert await state(trader, ticker) == before


async def test_5xx_executes_nothing(ex: RunningExchange, admin: SignedClient, trader: SignedClient) -> None:
    ticker = ex.add_market(TICKER)
    before = await state(trader, ticker)
    await put_faults(admin, "http_5xx=1")
    statuses = {(await trader.post(ORDERS, order_body(ticker, "bid", "1", "0.40"))).status for _ in range(10)}
    assert statuses <= {500, 502, 503}
    reply = await trader.post(ORDERS, order_body(ticker, "bid", "1", "0.40"))
    assert set(reply.body["error"]) == {"code", "message", "details"}
    await put_faults(admin, "none")
    assert await state(trader, ticker) == before


async def test_lost_response_executes_once_and_drops_the_connection(ex: RunningExchange, trader: SignedClient) -> None:
    ticker = ex.add_market(TICKER)
    ex.exchange.faults.arm("lost_response", method="POST", path="/trade-api/v2" + ORDERS)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await trader.post(ORDERS, order_body(ticker, "bid", "2", "0.40", client_order_id="lost-1"))
    orders = (await trader.get("/portfolio/orders", params={"ticker": ticker})).body["orders"]
    assert [(o["client_order_id"], o["remaining_count_fp"]) for o in orders] == [("lost-1", "2.00")]
    account = ex.exchange.engine.account(ex.trader.user_id)
    assert account.cash == 100_000_000 - 8_000  # $10,000 less the $0.80 held for the resting bid
    retry = await trader.post(ORDERS, order_body(ticker, "bid", "2", "0.40", client_order_id="lost-1"))
    assert (retry.status, retry.body["error"]["code"]) == (409, "order_already_exists")


async def test_latency(ex: RunningExchange, admin: SignedClient, trader: SignedClient) -> None:
    await put_faults(admin, "latency_ms=150")
    started = time.monotonic()
    assert (await trader.get("/exchange/status")).status == 200
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    assert (await admin.get("/admin/faults", sign=False, headers=ADMIN)).status == 200
    assert time.monotonic() - started < 0.15


async def statuses_under(seed: int, spec: str) -> list[int]:
    async with running_exchange(seed=seed) as running, running.client(validate=False) as client:
        running.exchange.faults.set_spec(FaultSpec.parse(spec))
        return [(await client.get("/exchange/status")).status for _ in range(30)]


async def test_rest_faults_are_deterministic_under_the_seed() -> None:
    first = await statuses_under(5, "http_5xx=0.3,http_429=0.2")
    assert first == await statuses_under(5, "http_5xx=0.3,http_429=0.2")
    assert {200, 429} <= set(first)
    assert set(first) - {200, 429} <= {500, 502, 503}
    assert first != await statuses_under(6, "http_5xx=0.3,http_429=0.2")


# -- market pause -------------------------------------------------------------------------------


async def test_pause_and_resume_a_market(ex: RunningExchange, admin: SignedClient, trader: SignedClient) -> None:
    ticker = ex.add_market(TICKER)
    assert (await trader.post(ORDERS, order_body(ticker, "bid", "1", "0.40"))).status == 201
    paused = await admin.post(f"/admin/markets/{ticker}/pause", sign=False, headers=ADMIN)
    assert paused.body == {"ticker": ticker, "status": "inactive"}
    assert (await trader.get(f"/markets/{ticker}")).body["market"]["status"] == "inactive"
    refused = await trader.post(ORDERS, order_body(ticker, "bid", "1", "0.41"))
    assert refused.status == 400
    resumed = await admin.post(f"/admin/markets/{ticker}/resume", sign=False, headers=ADMIN)
    assert resumed.body == {"ticker": ticker, "status": "active"}
    orders = (await trader.get("/portfolio/orders", params={"ticker": ticker})).body["orders"]
    assert [o["status"] for o in orders] == ["canceled"]  # Kalshi cancels resting orders on reactivation
    assert (await trader.post(ORDERS, order_body(ticker, "bid", "1", "0.41"))).status == 201
    unknown = await admin.post("/admin/markets/KXNOPE-1/pause", sign=False, headers=ADMIN)
    assert unknown.status == 404
    settled = next(m.ticker for m in ex.exchange.engine.markets() if m.status.value == "finalized")
    assert (await admin.post(f"/admin/markets/{settled}/resume", sign=False, headers=ADMIN)).status == 400
    assert (await admin.post(f"/admin/markets/{ticker}/pause", sign=False)).status == 401


# -- WebSocket faults ---------------------------------------------------------------------------


async def connect(ex: RunningExchange, session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    headers = Signer(ex.trader.key_id, ex.trader.private_key).headers("GET", urlsplit(ex.ws_url).path)
    return await session.ws_connect(ex.ws_url, headers=headers)


async def subscribe(ws: aiohttp.ClientWebSocketResponse, ticker: str) -> None:
    await ws.send_json(
        {"id": 1, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"], "market_ticker": ticker}}
    )


async def test_ws_drop_closes_the_connection(ex: RunningExchange) -> None:
    ticker = ex.add_market(TICKER)
    ex.exchange.faults.set_spec(FaultSpec.parse("ws_drop=1"))
    async with aiohttp.ClientSession() as session:
        ws = await connect(ex, session)
        await subscribe(ws, ticker)
        message = await ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await ws.close()
    assert ex.exchange.faults.injected["ws_drop"] == 1


async def test_malformed_frames_do_not_decode(ex: RunningExchange) -> None:
    ticker = ex.add_market(TICKER)
    ex.exchange.faults.set_spec(FaultSpec.parse("malformed=1"))
    async with aiohttp.ClientSession() as session:
        ws = await connect(ex, session)
        await subscribe(ws, ticker)
        for _ in ("subscribed", "orderbook_snapshot"):
            message = await ws.receive(timeout=5)
            assert message.type is aiohttp.WSMsgType.TEXT
            with pytest.raises(msgspec.DecodeError):
                msgspec.json.decode(message.data)
        ex.exchange.faults.set_spec(FaultSpec())
        await ws.send_json({"id": 2, "cmd": "list_subscriptions"})
        reply = msgspec.json.decode((await ws.receive(timeout=5)).data)
        assert reply["type"] == "ok"  # the connection and the subscription are intact
        assert [s["channel"] for s in reply["msg"]] == ["orderbook_delta"]
        await ws.close()


async def test_seq_faults_leave_the_exchange_consistent_and_a_snapshot_repairs_the_book(
    ex: RunningExchange, trader: SignedClient
) -> None:
    ticker = ex.add_market(TICKER)
    async with aiohttp.ClientSession() as session:
        ws = await connect(ex, session)
        await subscribe(ws, ticker)
        frames: list[dict[str, Any]] = []

        async def read(until: Any) -> None:
            while True:
                frame = msgspec.json.decode((await ws.receive(timeout=5)).data)
                frames.append(frame)
                if until(frame):
                    return

        await read(lambda f: f["type"] == "orderbook_snapshot")
        ex.exchange.faults.set_spec(FaultSpec.parse("seq_skip=0.25,seq_repeat=0.25"))
        for i in range(40):
            reply = await trader.post(ORDERS, order_body(ticker, "bid", "1", f"0.{10 + i:02d}"))
            assert reply.status == 201
        ex.exchange.faults.set_spec(FaultSpec())
        await ws.send_json(
            {
                "id": 9,
                "cmd": "update_subscription",
                "params": {"sid": 1, "action": "get_snapshot", "market_tickers": [ticker]},
            }
        )
        await read(lambda f: f["type"] == "orderbook_snapshot")
        await ws.close()

    seqs = [f["seq"] for f in frames if f["type"] in ("orderbook_snapshot", "orderbook_delta")]
    steps = [b - a for a, b in itertools.pairwise(seqs)]
    assert 0 in steps  # a repeated frame
    assert any(step > 1 for step in steps)  # a gap
    faults = ex.exchange.faults.injected
    assert faults["seq_skip"] > 0
    assert faults["seq_repeat"] > 0
    assert seqs[-1] == 1 + 40 + 1  # the server counted every frame, skipped ones too

    # The exchange itself is untouched: its book holds exactly the 40 bids ...
    rest_book = (await trader.get(f"/markets/{ticker}/orderbook")).body["orderbook_fp"]
    assert rest_book["yes_dollars"] == [[f"0.{10 + i:02d}00", "1.00"] for i in range(40)]
    # ... and the fresh snapshot rebuilds the client's book to match it.
    replica = BookReplica()
    replica.apply(frames[-1])
    assert replica.orderbook_fp(ticker) == rest_book


async def test_ws_faults_detach_when_off(ex: RunningExchange) -> None:
    feed = ex.exchange.feed
    assert feed.frame_hook is None
    ex.exchange.faults.set_spec(FaultSpec.parse("http_429=0.5"))
    assert feed.frame_hook is None  # REST-only faults cost the feed nothing
    ex.exchange.faults.set_spec(FaultSpec.parse("seq_skip=0.5"))
    assert feed.frame_hook is ex.exchange.faults
    ex.exchange.faults.set_spec(FaultSpec())
    assert feed.frame_hook is None
