"""The store's tables (SQLAlchemy Core), the single source the migrations are checked against.

Contract:
- Money, prices and counts are integer columns in the domain's units (``Price``/``Money`` in
  $0.0001, ``Qty`` in hundredths of a contract); nothing is a float or a decimal.
- Every timestamp column is :class:`UTCDateTime`: written as an aware UTC instant (naive input
  is refused), read back as an aware UTC ``datetime`` on both SQLite and Postgres, exact to the
  microsecond (the domain's millisecond stamps round-trip exactly).
- ``fills.fill_id`` is UNIQUE (a replayed fill is ignored); ``orders`` has UNIQUE
  ``client_order_id`` and UNIQUE ``order_id`` (both nullable: an order is first recorded before
  the exchange has named it, and orders found at the exchange may lack a client id);
  ``order_events.event_id`` is UNIQUE when given; ``positions`` is keyed by ticker and
  ``daily_pnl`` by day; ``audit_log.id`` is the order things happened in.
- No foreign keys: a fill may arrive before its order row, and the record must still take it.

A change here needs a new migration in ``migrations/versions`` (a test compares the migrated
schema with this metadata on both dialects). This module imports nothing of the project.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant in UTC: timestamptz on Postgres, ISO text on SQLite; aware UTC in and out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing a naive datetime {value!r}: the store keeps UTC instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Id = BigInteger().with_variant(Integer(), "sqlite")
"""Surrogate keys: BIGINT identity on Postgres, SQLite's INTEGER PRIMARY KEY (the rowid)."""

Json = JSON().with_variant(JSONB(), "postgresql")
"""A JSON document: JSONB on Postgres (queryable), JSON text on SQLite."""


def _ticker(name: str = "ticker", **kw: Any) -> Column[str]:
    return Column(name, String(128), **kw)


def _ident(name: str, **kw: Any) -> Column[str]:
    return Column(name, String(128), **kw)


orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ident("client_order_id", nullable=True, unique=True),
    _ident("order_id", nullable=True, unique=True),
    _ticker(nullable=False),
    Column("side", String(3), nullable=False),
    Column("price", Integer, nullable=False),
    Column("initial", BigInteger, nullable=False),
    Column("filled", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    _ident("order_group_id", nullable=True),
    Column("last_update_reason", String(32), nullable=True),
    Column("strategy", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index(None, "ticker", "status"),
)
"""One row per order, upserted by ``client_order_id`` or ``order_id``; never moves backwards.
``last_update_reason``: the exchange's reason for the latest change (why a finished order ended);
``strategy``: the strategy that sent the order (``NULL`` when none did, or unknown)."""

order_events = Table(
    "order_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ident("event_id", nullable=True, unique=True),
    _ident("client_order_id", nullable=True, index=True),
    _ident("order_id", nullable=True, index=True),
    Column("kind", String(32), nullable=False),
    Column("ts", UTCDateTime, nullable=False),
    Column("payload", Json, nullable=False),
)
"""What happened to an order, in order: submitted, acknowledged, amended, canceled, rejected…"""

fills = Table(
    "fills",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ident("fill_id", nullable=False, unique=True),
    _ident("order_id", nullable=False, index=True),
    _ident("client_order_id", nullable=True),
    _ticker(nullable=False),
    Column("side", String(3), nullable=False),
    Column("price", Integer, nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("is_taker", Boolean, nullable=False),
    Column("post_position", BigInteger, nullable=True),
    Column("ts", UTCDateTime, nullable=False, index=True),
    Column("recorded_at", UTCDateTime, nullable=False),
)
"""Every execution of our orders, once (``fill_id`` UNIQUE, inserts ignore a replay)."""

positions = Table(
    "positions",
    metadata,
    _ticker(primary_key=True),
    Column("qty", BigInteger, nullable=False),
    Column("cost", BigInteger, nullable=False),
    Column("realized_pnl", BigInteger, nullable=False),
    Column("fees_paid", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
"""The latest netted position per market (last write wins)."""

daily_pnl = Table(
    "daily_pnl",
    metadata,
    Column("day", Date, primary_key=True),
    Column("realized", BigInteger, nullable=False),
    Column("unrealized", BigInteger, nullable=False),
    Column("fees", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
"""P&L per trading day in Money units (last write for a day wins)."""

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ts", UTCDateTime, nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("subject", String(128), nullable=True),
    Column("reason", Text, nullable=True),
    Column("payload", Json, nullable=False),
    Index(None, "kind", "id"),
)
"""Every intent, risk decision (with its reason), order event, breaker trip and reset."""
