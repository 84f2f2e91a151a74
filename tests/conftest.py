"""Shared fixtures: a running embedded exchange and signed clients for its accounts, once per API
key type (see tests/support/exchange.py and tests/support/http.py). Imports are deferred so that
test modules that do not use these fixtures never import the exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.exchange import RunningExchange
    from tests.support.http import SignedClient


@pytest.fixture(params=["ed25519", "rsa"])
def key_type(request: pytest.FixtureRequest) -> str:
    """The API key type of the ``exchange`` fixture's accounts: every test that uses it runs with
    an Ed25519 key (Kalshi's default since October 2026) and with an RSA key."""
    return str(request.param)


@pytest.fixture
async def exchange(key_type: str) -> AsyncIterator[RunningExchange]:
    from tests.support.exchange import running_exchange

    from kalshi_trader.kalshi.auth import KeyType

    async with running_exchange(key_type=KeyType(key_type)) as running:
        yield running


@pytest.fixture
async def trader(exchange: RunningExchange) -> AsyncIterator[SignedClient]:
    async with exchange.client(exchange.trader) as client:
        yield client


@pytest.fixture
async def liquidity(exchange: RunningExchange) -> AsyncIterator[SignedClient]:
    async with exchange.client(exchange.liquidity) as client:
        yield client


@pytest.fixture
async def public(exchange: RunningExchange) -> AsyncIterator[SignedClient]:
    async with exchange.client() as client:
        yield client
