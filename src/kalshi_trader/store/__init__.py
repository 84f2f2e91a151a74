"""Persistence: orders, order events, fills, positions, daily P&L and the audit log.

SQLAlchemy 2 (async) over SQLite (WAL, default: ``DATA_DIR/kalshi-trader.db``) or Postgres /
Supabase (``KALSHI_TRADER_STORE__URL``), with Alembic migrations shipped in the package.

- :class:`Store` (``repository.py``): ``await Store.open(url, data_dir=...)``, direct writes (one
  transaction each) and every read. Idempotent writes: fills by ``fill_id``, orders by
  ``client_order_id``/``order_id``.
- :class:`Recorder` (``recorder.py``): the write-behind queue the trading path uses — its module
  docstring is the crash-safety contract (what is durable when, what a crash can lose, why a
  replay never double-counts).
- :func:`upgrade_to_head` (``migrate.py``): create/upgrade a database; ``kalshi-trader db upgrade``.
- ``urls.py`` / ``redact.py``: URL resolution (``postgres://`` → asyncpg, ``sslmode``…) and
  keeping passwords out of every message.

The store is a record, not a participant: it imports only ``domain`` (and never ``config``:
callers pass the URL and data dir).
"""

from kalshi_trader.store.errors import StoreError
from kalshi_trader.store.migrate import head_revision, upgrade_to_head
from kalshi_trader.store.recorder import Recorder
from kalshi_trader.store.records import AuditEntry, AuditKind, DailyPnl, OrderEvent, OrderState, StoredOrder
from kalshi_trader.store.redact import redact_text, redact_url
from kalshi_trader.store.repository import Store
from kalshi_trader.store.urls import ResolvedURL, resolve_url

__all__ = [
    "AuditEntry",
    "AuditKind",
    "DailyPnl",
    "OrderEvent",
    "OrderState",
    "Recorder",
    "ResolvedURL",
    "Store",
    "StoreError",
    "StoredOrder",
    "head_revision",
    "redact_text",
    "redact_url",
    "resolve_url",
    "upgrade_to_head",
]
