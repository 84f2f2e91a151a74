"""Shared fixtures: a running embedded exchange and signed clients for its accounts
(see tests/support/exchange.py and tests/support/http.py). Imports are deferred so that test
modules that do not use these fixtures never import the exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.exchange import RunningExchange
    from tests.support.http import SignedClient


@pytest.fixture
async def exchange() -> AsyncIterator[RunningExchange]:
    from tests.support.exchange import running_exchange

    async with running_exchange() as running:
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
