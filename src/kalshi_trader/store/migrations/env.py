"""Alembic environment for the store: works with both async drivers (aiosqlite, asyncpg).

Contract: when :mod:`kalshi_trader.store.migrate` passes a live connection in
``config.attributes["connection"]`` it is used as is (the caller owns the transaction);
otherwise an async engine is made from ``sqlalchemy.url`` (already resolved to an async driver).
SQLite uses batch mode (ALTER emulation). On Postgres an advisory lock keyed by the schema
serializes concurrent upgrades of the same database/schema.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from kalshi_trader.store.engine import make_engine
from kalshi_trader.store.models import metadata
from kalshi_trader.store.urls import resolve_url

config = context.config

_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('kalshi-trader:' || coalesce(current_schema(), '')))"
"""Serializes concurrent upgrades of one Postgres schema (released at commit)."""


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text(_LOCK_SQL))
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = make_engine(resolve_url(url))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def _main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("offline (SQL script) migrations are not supported; run `kalshi-trader db upgrade`")
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async(config.get_main_option("sqlalchemy.url") or ""))


_main()
