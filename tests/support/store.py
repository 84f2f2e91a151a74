"""Database targets for the store tests: SQLite in a temp dir, and a real Postgres.

Postgres comes from ``KALSHI_TRADER_TEST_POSTGRES_URL`` (``.ci/run`` sets it). Unset: Postgres
cases skip with that reason. Set but unreachable: they fail. The ``test`` database may be shared
by concurrent runs, so every test gets its own schema named ``kt_<epoch>_<pid>_<rand>_<n>``
(tables reach it through ``?options=-csearch_path=…`` in the URL), dropped after the test;
schemas of runs older than a day (crashed runs) are swept at session start.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import secrets
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import asyncpg

POSTGRES_ENV = "KALSHI_TRADER_TEST_POSTGRES_URL"
SKIP_REASON = f"{POSTGRES_ENV} is not set: Postgres store tests skipped (.ci/run sets it)"
_STALE_S = 86_400
_SCHEMA_RE = re.compile(r"^kt_(\d+)_\d+_[0-9a-f]+_\d+$")

RUN_PREFIX = f"kt_{int(time.time())}_{os.getpid()}_{secrets.token_hex(3)}"
_counter = itertools.count(1)


def run_in_thread(make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion on a private loop (callable even from inside a running loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(make())).result()


def postgres_base_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    return url or None


def asyncpg_dsn(url: str) -> str:
    """The same server for asyncpg itself (it takes postgres:// and postgresql:// only)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


def new_schema_name() -> str:
    return f"{RUN_PREFIX}_{next(_counter)}"


def with_schema(url: str, schema: str) -> str:
    """``url`` with every table put in ``schema`` (libpq ``options``)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}', safe='')}"


async def check_reachable(url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    await conn.close()


async def create_schema(url: str, schema: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()


async def drop_schemas(url: str, *, prefix: str | None = None, stale: bool = False) -> None:
    """Drop this run's schemas (``prefix``) and/or other runs' schemas older than a day."""
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        names = [r[0] for r in await conn.fetch("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'kt\\_%'")]
        now = time.time()
        for name in names:
            m = _SCHEMA_RE.match(name)
            mine = prefix is not None and name.startswith(prefix + "_")
            old = stale and m is not None and now - int(m.group(1)) > _STALE_S
            if mine or old:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


async def drop_schema(url: str, schema: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()
