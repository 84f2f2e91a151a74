"""The store tests' database fixture: every test that takes ``db_url`` (or ``store``) runs once
on SQLite and once on Postgres (see tests/support/store.py for skip/fail rules and isolation)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.support import store as targets

from kalshi_trader.store import Store


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """The server's base URL, checked reachable once; ``None`` when not configured."""
    url = targets.postgres_base_url()
    if url is None:
        yield None
        return
    try:
        targets.run_in_thread(lambda: targets.check_reachable(url))
    except Exception as exc:
        pytest.fail(f"{targets.POSTGRES_ENV} is set but Postgres is unreachable: {type(exc).__name__}: {exc}")
    targets.run_in_thread(lambda: targets.drop_schemas(url, stale=True))
    yield url
    targets.run_in_thread(lambda: targets.drop_schemas(url, prefix=targets.RUN_PREFIX))


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a fresh SQLite file, or a fresh schema on the Postgres server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kalshi-trader.db'}"
        return
    postgres_url: str | None = request.getfixturevalue("postgres_url")
    if postgres_url is None:
        pytest.skip(targets.SKIP_REASON)
    schema = targets.new_schema_name()
    await targets.create_schema(postgres_url, schema)
    try:
        yield targets.with_schema(postgres_url, schema)
    finally:
        await targets.drop_schema(postgres_url, schema)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """A store migrated to head on an empty database."""
    opened = await Store.open(db_url)
    try:
        yield opened
    finally:
        await opened.close()
