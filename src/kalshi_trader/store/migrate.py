"""Schema migrations: bring a database to the newest revision, from empty or from any older one.

Contract:
- :func:`upgrade_to_head` is what the node runs at start and ``kalshi-trader db upgrade`` runs by
  hand. It is idempotent (a database at head is left alone), runs in one transaction on both
  dialects (SQLite and Postgres have transactional DDL: a failed upgrade leaves the previous
  revision), and concurrent upgraders of one database queue instead of colliding (in-process
  lock; across processes a Postgres advisory lock per schema, SQLite's write lock).
- The migration scripts ship inside the package (``store/migrations``), so an installed wheel
  can migrate; nothing reads an ``alembic.ini``.
- Errors come out as :class:`StoreError` with the URL redacted.

New revision (developers): ``alembic.command.revision(alembic_config(url), message=..., autogenerate=True)``
against a database at head, then review the script (a test checks the result matches ``models``).
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from kalshi_trader.store.engine import make_engine, writer
from kalshi_trader.store.errors import StoreError, describe_failure
from kalshi_trader.store.urls import ResolvedURL, resolve_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
"""Alembic's ``context`` is process-global: upgrades in one process (per loop) run one at a time.
Other processes are serialized by the database (Postgres advisory lock, SQLite BEGIN IMMEDIATE)."""


def _lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _LOCKS.get(loop)
    if lock is None:
        lock = _LOCKS[loop] = asyncio.Lock()
    return lock


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (and ``url``, if given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest revision the package knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StoreError("the package has no migrations")
    return head


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_engine(engine: AsyncEngine) -> str:
    """Upgrade the database behind ``engine`` to head; the revision it is at afterwards."""
    async with _lock(), writer(engine).begin() as conn:
        await conn.run_sync(_upgrade)
        revision = await conn.run_sync(_current)
    if revision is None:
        raise StoreError("the upgrade left no revision recorded")
    return revision


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade_to_head(url: str | ResolvedURL | None, *, data_dir: Path | None = None) -> str:
    """Create or upgrade the database at ``url`` (default: SQLite in ``data_dir``) to head.

    Returns the revision it is at; raises :class:`StoreError` (password redacted) on failure."""
    resolved = url if isinstance(url, ResolvedURL) else resolve_url(url, data_dir)
    engine = make_engine(resolved)
    try:
        return await upgrade_engine(engine)
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(describe_failure(f"cannot migrate {resolved.redacted}", exc, resolved.password)) from None
    finally:
        await engine.dispose()
