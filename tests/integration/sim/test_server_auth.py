"""Request signing over a real socket: every way to get it wrong is a 401 with the error body."""

from __future__ import annotations

import base64

import aiohttp
import pytest
from tests.support import spec
from tests.support.exchange import RunningExchange, process_key
from tests.support.http import SignedClient

from kalshi_trader.kalshi.auth import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    Signer,
    generate_private_key,
    signature_function,
)

BASE = "/trade-api/v2"


def _headers(exchange: RunningExchange, method: str, path: str, **override: str) -> dict[str, str]:
    headers = Signer(exchange.trader.key_id, exchange.trader.private_key).headers(method, BASE + path)
    headers.update(override)
    return headers


async def _balance(
    trader: SignedClient, headers: dict[str, str] | None, path: str = "/portfolio/balance"
) -> tuple[int, str]:
    reply = await trader.get(path, sign=headers is None, headers=headers or {})
    return reply.status, reply.error_message


async def test_valid_signature_is_accepted(exchange: RunningExchange, trader: SignedClient) -> None:
    status, _ = await _balance(trader, _headers(exchange, "GET", "/portfolio/balance"))
    assert status == 200


@pytest.mark.parametrize("drop", [HEADER_KEY, HEADER_TIMESTAMP, HEADER_SIGNATURE])
async def test_missing_header(exchange: RunningExchange, trader: SignedClient, drop: str) -> None:
    headers = _headers(exchange, "GET", "/portfolio/balance")
    del headers[drop]
    status, message = await _balance(trader, headers)
    assert (status, drop in message) == (401, True)


async def test_no_headers_at_all(trader: SignedClient) -> None:
    reply = await trader.get("/portfolio/balance", sign=False)
    assert (reply.status, reply.error_code) == (401, "unauthorized")
    spec.validate_response("GET", "/portfolio/balance", 401, reply.body)


async def test_signature_by_another_key(exchange: RunningExchange, trader: SignedClient) -> None:
    impostor = Signer(exchange.trader.key_id, process_key(7)).headers("GET", BASE + "/portfolio/balance")
    status, message = await _balance(trader, impostor)
    assert status == 401
    assert "does not match" in message


async def test_garbage_signature(exchange: RunningExchange, trader: SignedClient) -> None:
    for sig in ("not base64!!", base64.b64encode(b"x" * 256).decode()):
        status, _ = await _balance(trader, _headers(exchange, "GET", "/portfolio/balance", **{HEADER_SIGNATURE: sig}))
        assert status == 401


@pytest.mark.parametrize(("offset_ms", "needle"), [(-60_000, "off the server clock"), (60_000, "off the server clock")])
async def test_stale_or_future_timestamp(
    exchange: RunningExchange, trader: SignedClient, offset_ms: int, needle: str
) -> None:
    signer = Signer(exchange.trader.key_id, exchange.trader.private_key)
    ts = str(signer.clock_ms() + offset_ms)
    headers = {
        HEADER_KEY: exchange.trader.key_id,
        HEADER_TIMESTAMP: ts,
        HEADER_SIGNATURE: signer.sign(ts, "GET", BASE + "/portfolio/balance"),
    }
    status, message = await _balance(trader, headers)
    assert (status, needle in message) == (401, True)


async def test_timestamp_in_seconds_is_explained(exchange: RunningExchange, trader: SignedClient) -> None:
    signer = Signer(exchange.trader.key_id, exchange.trader.private_key)
    ts = str(signer.clock_ms() // 1000)
    headers = {
        HEADER_KEY: exchange.trader.key_id,
        HEADER_TIMESTAMP: ts,
        HEADER_SIGNATURE: signer.sign(ts, "GET", BASE + "/portfolio/balance"),
    }
    status, message = await _balance(trader, headers)
    assert (status, "seconds" in message) == (401, True)


async def test_unknown_key(exchange: RunningExchange, trader: SignedClient) -> None:
    headers = Signer("5f0c3f4e-0000-4000-8000-000000000000", generate_private_key()).headers(
        "GET", BASE + "/portfolio/balance"
    )
    status, message = await _balance(trader, headers)
    assert (status, "unknown API key" in message) == (401, True)


async def test_query_string_must_not_be_signed(exchange: RunningExchange, trader: SignedClient) -> None:
    wrong = _headers(exchange, "GET", "/portfolio/orders?limit=5")
    # Signer drops the query itself, so build the wrong signature by hand.
    signer = Signer(exchange.trader.key_id, exchange.trader.private_key)
    ts = wrong[HEADER_TIMESTAMP]
    wrong[HEADER_SIGNATURE] = base64.b64encode(
        signature_function(signer.private_key)(f"{ts}GET{BASE}/portfolio/orders?limit=5".encode())
    ).decode()
    reply = await trader.get("/portfolio/orders", params={"limit": 5}, sign=False, headers=wrong)
    assert reply.status == 401
    right = await trader.get("/portfolio/orders", params={"limit": 5})
    assert right.status == 200


async def test_signature_is_bound_to_method_and_path(exchange: RunningExchange, trader: SignedClient) -> None:
    for method, path in (("POST", "/portfolio/balance"), ("GET", "/portfolio/positions"), ("GET", "/portfolio/balanc")):
        status, _ = await _balance(trader, _headers(exchange, method, path))
        assert status == 401


async def test_public_endpoints_need_no_headers_but_reject_bad_ones(
    exchange: RunningExchange, public: SignedClient
) -> None:
    assert (await public.get("/markets", params={"limit": 1})).status == 200
    bad = _headers(exchange, "GET", "/markets", **{HEADER_SIGNATURE: base64.b64encode(b"y" * 256).decode()})
    reply = await public.get("/markets", headers=bad, validate=False)
    assert (reply.status, reply.error_code) == (401, "unauthorized")
    good = _headers(exchange, "GET", "/markets")
    assert (await public.get("/markets", headers=good)).status == 200


async def test_websocket_upgrade_requires_a_valid_signature(exchange: RunningExchange) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(
            exchange.ws_url,
            headers={
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            },
        ) as resp:
            assert resp.status == 401
            body = await resp.json()
            assert body["error"]["code"] == "unauthorized"
        signer = Signer(exchange.trader.key_id, exchange.trader.private_key)
        bad = signer.headers("GET", "/trade-api/v2/portfolio/balance")  # signed for the wrong path
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(exchange.ws_url, headers=bad)
        assert info.value.status == 401
        async with session.ws_connect(exchange.ws_url, headers=signer.headers("GET", "/trade-api/ws/v2")) as ws:
            await ws.send_json({"id": 1, "cmd": "subscribe", "params": {"channels": ["ticker"]}})
            reply = await ws.receive_json(timeout=5)
            spec.validate_ws_message(reply)
            assert reply["type"] == "subscribed"
