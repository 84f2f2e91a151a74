"""Async engines for the store: SQLite tuned for a durable single-writer log, or Postgres.

Contract:
- SQLite runs in WAL mode with ``synchronous=FULL`` (a committed transaction survives a process
  kill and a power cut), a 30 s busy timeout, and real transactions: the driver's implicit
  transaction handling is off, ``BEGIN`` is emitted explicitly, and write transactions (those
  opened through :func:`writer`) start with ``BEGIN IMMEDIATE`` so that two writers queue on the
  busy timeout instead of failing on a lock upgrade.
- Postgres connects through asyncpg with the connect arguments derived from its URL.
- JSON is serialized with :func:`records.dumps`, so any payload can be written.
- Engines never log a password (SQLAlchemy renders URLs with ``***``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from kalshi_trader.store.records import dumps
from kalshi_trader.store.urls import ResolvedURL

_WRITE_OPTION = "kalshi_trader_write"
SQLITE_BUSY_TIMEOUT_S = 30.0


def make_engine(resolved: ResolvedURL, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``resolved`` (see the module contract)."""
    kwargs: dict[str, Any] = {"echo": echo, "json_serializer": dumps}
    if resolved.dialect == "sqlite":
        path = resolved.sqlite_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs["poolclass"] = StaticPool  # one shared in-memory database
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S, "isolation_level": None}
        engine = create_async_engine(resolved.url, **kwargs)
        _tune_sqlite(engine, in_memory=path is None)
        return engine
    kwargs["connect_args"] = dict(resolved.connect_args)
    kwargs["pool_pre_ping"] = True
    return create_async_engine(resolved.url, **kwargs)


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool) whose transactions are write transactions."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def _tune_sqlite(engine: AsyncEngine, *, in_memory: bool) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN: ``_on_begin`` emits it
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
