"""The embedded exchange's ``/api_keys`` over a real socket: a second key of either type, generated
by the exchange or registered from one's own public key, signs REST and WebSocket requests of the
same account; keys are listed and deleted as Kalshi documents; bad input is a 400 naming it."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from tests.support import spec
from tests.support.exchange import RunningExchange, running_exchange
from tests.support.http import Reply, SignedClient
from tests.support.trading import ORDERS, order_body
from tests.support.ws import WsClient

from kalshi_trader.kalshi.auth import (
    KeyType,
    PrivateKey,
    generate_private_key,
    key_type,
    parse_private_key,
    private_key_pem,
    public_key_pem,
)
from kalshi_trader.sim.api.ratelimit import TIERS

PEM_HEADER = {KeyType.ED25519: "-----BEGIN PRIVATE KEY-----", KeyType.RSA: "-----BEGIN RSA PRIVATE KEY-----"}


def _check_generated(reply: Reply) -> None:
    """The vendored openapi.yaml predates ``GenerateApiKeyResponse.key_type`` (Kalshi added it on
    Sep 24, 2026): validate the rest of the body strictly until the refreshed document lands."""
    assert reply.status == 201, reply.body
    props = spec.openapi_document()["components"]["schemas"]["GenerateApiKeyResponse"]["properties"]
    body = reply.body if "key_type" in props else {k: v for k, v in reply.body.items() if k != "key_type"}
    spec.validate_response("POST", "/api_keys/generate", 201, body, closed=True)


async def _use(exchange: RunningExchange, key_id: str, key: PrivateKey, trader: SignedClient) -> None:
    """The key signs for the trader's own account, over REST and the WebSocket."""
    async with SignedClient(exchange.rest_url, key_id, key) as second:
        mine = await second.get("/portfolio/balance")
        assert mine.status == 200
        assert mine.body["balance"] == (await trader.get("/portfolio/balance")).body["balance"]
        ticker = exchange.add_market("KXKEYS-26JAN01-T50")
        coid = f"second-key-{key_id}"
        placed = await second.post(ORDERS, json=order_body(ticker, "bid", "1.00", "0.4000", client_order_id=coid))
        assert placed.status == 201, placed.body
        orders = await trader.get("/portfolio/orders", params={"ticker": ticker})
        assert [o["client_order_id"] for o in orders.body["orders"]] == [coid]
    ws = await WsClient.connect(exchange.ws_url, key_id, key)
    try:
        sent = await ws.send("subscribe", {"channels": ["fill"]})
        reply = await ws.reply(sent)
        assert reply["type"] == "subscribed"
    finally:
        await ws.close()


@pytest.mark.parametrize("kind", ["ed25519", "rsa", None])
async def test_generate_a_key_of_either_type_and_trade_with_it(
    exchange: RunningExchange, trader: SignedClient, kind: str | None
) -> None:
    body: dict[str, Any] = {"name": "second bot"}
    if kind is not None:
        body["key_type"] = kind
    reply = await trader.post("/api_keys/generate", body, validate=False)
    _check_generated(reply)
    expected = KeyType(kind or "rsa")  # rsa when omitted, as documented
    assert reply.body["key_type"] == expected.value
    pem = reply.body["private_key"]
    assert pem.startswith(PEM_HEADER[expected])
    key = parse_private_key(pem.encode())
    assert key_type(key) is expected
    await _use(exchange, reply.body["api_key_id"], key, trader)


@pytest.mark.parametrize("kind", list(KeyType))
async def test_register_your_own_public_key_and_trade_with_it(
    exchange: RunningExchange, trader: SignedClient, kind: KeyType
) -> None:
    key = generate_private_key(kind)
    reply = await trader.post("/api_keys", {"name": "my own", "public_key": public_key_pem(key).decode()})
    assert reply.status == 201, reply.body
    await _use(exchange, reply.body["api_key_id"], key, trader)


async def test_list_and_delete_keys(exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient) -> None:
    listed = await trader.get("/api_keys")
    assert listed.body == {
        "api_keys": [{"api_key_id": exchange.trader.key_id, "name": "default", "scopes": ["read", "write"]}]
    }
    reply = await trader.post(
        "/api_keys/generate", {"name": "reader", "key_type": "ed25519", "scopes": ["read"]}, validate=False
    )
    _check_generated(reply)
    new_id, key = reply.body["api_key_id"], parse_private_key(reply.body["private_key"].encode())
    listed = await trader.get("/api_keys")
    assert [(k["api_key_id"], k["name"], k["scopes"]) for k in listed.body["api_keys"]] == [
        (exchange.trader.key_id, "default", ["read", "write"]),
        (new_id, "reader", ["read"]),
    ]
    assert [k["api_key_id"] for k in (await liquidity.get("/api_keys")).body["api_keys"]] == [exchange.liquidity.key_id]
    # Another account cannot delete it (404 as for an unknown key), and it keeps working.
    assert (await liquidity.delete(f"/api_keys/{new_id}")).status == 404
    async with SignedClient(exchange.rest_url, new_id, key) as second:
        assert (await second.get("/portfolio/balance")).status == 200
        gone = await trader.delete(f"/api_keys/{new_id}")
        assert (gone.status, gone.body) == (204, None)
        refused = await second.get("/portfolio/balance")
        assert (refused.status, refused.error_message) == (401, "unknown API key id")
    assert (await trader.delete(f"/api_keys/{new_id}")).status == 404
    assert [k["api_key_id"] for k in (await trader.get("/api_keys")).body["api_keys"]] == [exchange.trader.key_id]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api_keys"), ("POST", "/api_keys"), ("POST", "/api_keys/generate"), ("DELETE", "/api_keys/x")],
)
async def test_unsigned_calls_are_401(public: SignedClient, method: str, path: str) -> None:
    reply = await public.request(method, path, json={"name": "x"} if method == "POST" else None)
    assert (reply.status, reply.error_code) == (401, "unauthorized")
    assert "missing authentication header" in reply.error_message


def _ec_public() -> str:
    return public_key_pem(ec.generate_private_key(ec.SECP256R1()).public_key()).decode()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "body", "status", "needle"),
    [
        ("/api_keys", {"name": "x", "public_key": "hello"}, 400, "not a PEM public key"),
        ("/api_keys", {"name": "x", "public_key": "EC"}, 400, "is an EC (secp256r1) key"),
        ("/api_keys", {"name": "x", "public_key": "PRIVATE"}, 400, "holds a private key"),
        ("/api_keys", {"public_key": "PUBLIC"}, 400, "'name'"),
        ("/api_keys", {"name": "x"}, 400, "'public_key'"),
        ("/api_keys", {"name": "x", "public_key": 5}, 400, "PEM string"),
        ("/api_keys", {"name": "x", "public_key": "PUBLIC", "scopes": ["root"]}, 400, "unknown scope 'root'"),
        ("/api_keys", {"name": "x", "public_key": "PUBLIC", "scopes": ["write"]}, 400, "needs 'read'"),
        ("/api_keys", {"name": "x", "public_key": "PUBLIC", "subaccount": 3}, 400, "subaccount 3"),
        ("/api_keys", {"name": "x", "public_key": "PUBLIC", "fcm_subtrader_id": "u_1"}, 403, "FCM"),
        ("/api_keys", {"name": "x", "public_key": "PUBLIC", "colour": "red"}, 400, "'colour'"),
        ("/api_keys/generate", {"name": "x", "key_type": "dsa"}, 400, "'key_type'"),
        ("/api_keys/generate", {"key_type": "rsa"}, 400, "'name'"),
    ],
)
async def test_bad_requests_say_what_is_wrong(
    exchange: RunningExchange, trader: SignedClient, path: str, body: dict[str, Any], status: int, needle: str
) -> None:
    key = generate_private_key(exchange.key_type)
    secret = private_key_pem(key).decode()
    stand_in = {"PUBLIC": public_key_pem(key).decode(), "PRIVATE": secret, "EC": _ec_public()}
    sent = {k: stand_in.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = (await trader.get("/api_keys")).body
    reply = await trader.post(path, sent)
    assert reply.status == status, reply.body
    assert needle in reply.error_message
    assert secret.splitlines()[1] not in str(reply.body)  # a pasted private key is never echoed
    assert (await trader.get("/api_keys")).body == before


async def test_registering_a_public_key_needs_premier_as_on_kalshi() -> None:
    async with running_exchange(tier=TIERS["basic"]) as exchange, exchange.client(exchange.trader) as trader:
        pem = public_key_pem(generate_private_key()).decode()
        refused = await trader.post("/api_keys", {"name": "mine", "public_key": pem})
        assert (refused.status, refused.error_code) == (403, "forbidden")
        assert "Premier" in refused.error_message
        exchange.exchange.limiter.set_tier(exchange.trader.key_id, TIERS["premier"])  # type: ignore[union-attr]
        assert (await trader.post("/api_keys", {"name": "mine", "public_key": pem})).status == 201
        generated = await trader.post("/api_keys/generate", {"name": "any tier"}, validate=False)
        _check_generated(generated)
