"""A key made today, in any of the formats people have (Kalshi's Ed25519 PKCS#8 and RSA PKCS#1,
``openssl genpkey``'s RSA PKCS#8, each also passphrase-protected), signs the bot's REST and
WebSocket requests through the settings a user gives (``api.key_file``,
``KALSHI_TRADER_API__KEY_PASSPHRASE``), and the exchange accepts them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from tests.support.exchange import RunningExchange
from tests.support.http import SignedClient

from kalshi_trader.config import load_settings
from kalshi_trader.domain import Money
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.auth import KeyType, generate_private_key, public_key_pem
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.kalshi.ws import WsSession

PASSPHRASE = "tr0ub4dor&3"
Fmt = serialization.PrivateFormat
FORMATS = {
    "ed25519-pkcs8": (KeyType.ED25519, Fmt.PKCS8, False),
    "rsa-pkcs1": (KeyType.RSA, Fmt.TraditionalOpenSSL, False),
    "rsa-pkcs8": (KeyType.RSA, Fmt.PKCS8, False),
    "ed25519-pkcs8-encrypted": (KeyType.ED25519, Fmt.PKCS8, True),
    "rsa-pkcs1-encrypted": (KeyType.RSA, Fmt.TraditionalOpenSSL, True),
    "rsa-pkcs8-encrypted": (KeyType.RSA, Fmt.PKCS8, True),
}


@pytest.mark.parametrize("name", list(FORMATS))
async def test_a_key_of_every_format_signs_requests_the_exchange_accepts(
    exchange: RunningExchange,
    trader: SignedClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    kind, fmt, encrypted = FORMATS[name]
    key = generate_private_key(kind)
    encryption = (
        serialization.BestAvailableEncryption(PASSPHRASE.encode()) if encrypted else serialization.NoEncryption()
    )
    key_file = tmp_path / "kalshi.key"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, fmt, encryption))
    key_file.chmod(0o600)
    registered = await trader.post("/api_keys", {"name": name, "public_key": public_key_pem(key).decode()})
    assert registered.status == 201, registered.body
    key_id = registered.body["api_key_id"]

    for var in [v for v in os.environ if v.startswith("KALSHI_TRADER_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("KALSHI_TRADER_API__KEY_ID", key_id)
    monkeypatch.setenv("KALSHI_TRADER_API__KEY_FILE", str(key_file))
    if encrypted:
        monkeypatch.setenv("KALSHI_TRADER_API__KEY_PASSPHRASE", PASSPHRASE)
    settings = load_settings(api={"url": exchange.rest_url})
    async with KalshiRest.from_settings(settings, require_key=True) as rest:
        assert rest.signer is not None
        assert rest.signer.key_type is kind
        balance = convert.balance(await rest.get_balance())
        assert balance == Money(10_000 * 10_000)
        ws = WsSession(settings.ws_url(), rest.signer, connect_timeout_s=5, command_timeout_s=5)
        try:
            await ws.start()
            await ws.subscribe(["fill"])  # refused subscriptions raise
        finally:
            await ws.close()
