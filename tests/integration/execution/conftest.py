"""Execution tests run against the embedded exchange (``exchange`` fixture in tests/conftest.py)
with the record on SQLite in a temporary directory (``db_url``); the crash/restart test also runs on
Postgres (``any_db_url``: skip/fail rules and schema isolation as in tests/support/store.py);
``liquidity`` is the scenario's liquidity account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.integration.execution.kit import Liquidity
from tests.integration.store.conftest import postgres_url  # noqa: F401  (the session fixture, shared)
from tests.support import store as targets
from tests.support.exchange import RunningExchange


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kalshi-trader.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
async def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kalshi-trader.db'}"
        return
    base: str | None = request.getfixturevalue("postgres_url")
    if base is None:
        pytest.skip(targets.SKIP_REASON)
    schema = targets.new_schema_name()
    await targets.create_schema(base, schema)
    try:
        yield targets.with_schema(base, schema)
    finally:
        await targets.drop_schema(base, schema)


@pytest.fixture
async def liquidity(exchange: RunningExchange) -> AsyncIterator[Liquidity]:
    """The scenario's liquidity account (``kit.Liquidity``), closed after the test."""
    liq = Liquidity(exchange)
    yield liq
    await liq.close()
