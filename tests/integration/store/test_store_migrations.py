"""Migrations from empty to head on SQLite and Postgres, and ``kalshi-trader db upgrade``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from kalshi_trader.cli import main
from kalshi_trader.store import Store, head_revision, upgrade_to_head
from kalshi_trader.store.engine import make_engine, writer
from kalshi_trader.store.migrate import alembic_config, current_revision
from kalshi_trader.store.models import metadata
from kalshi_trader.store.urls import resolve_url

TABLES = {"alembic_version", "orders", "order_events", "fills", "positions", "daily_pnl", "audit_log"}


async def test_upgrade_from_empty_to_head_is_idempotent(db_url: str) -> None:
    engine = make_engine(resolve_url(db_url))
    try:
        assert await current_revision(engine) is None
        async with engine.connect() as conn:
            assert await conn.run_sync(lambda c: set(inspect(c).get_table_names())) == set()
        assert await upgrade_to_head(db_url) == head_revision() == "0003"
        assert await upgrade_to_head(db_url) == "0003"  # again: nothing to do
        assert await current_revision(engine) == "0003"
        async with engine.connect() as conn:
            assert await conn.run_sync(lambda c: set(inspect(c).get_table_names())) == TABLES
    finally:
        await engine.dispose()


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    await upgrade_to_head(db_url)
    engine = make_engine(resolve_url(db_url))

    def diff(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata))

    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


def _upgrade_to(revision: str) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    return run


async def test_upgrade_from_0001_keeps_orders_and_adds_their_update_reason(db_url: str) -> None:
    """A database created before orders recorded ``last_update_reason`` upgrades in place."""
    engine = make_engine(resolve_url(db_url))
    try:
        async with writer(engine).begin() as conn:
            await conn.run_sync(_upgrade_to("0001"))
            await conn.execute(
                text(
                    "INSERT INTO orders (client_order_id, order_id, ticker, side, price, initial, filled, remaining,"
                    " status, recorded_at) VALUES ('c-1', 'o-1', 'KXT-1', 'bid', 4100, 500, 0, 0, 'canceled',"
                    " CURRENT_TIMESTAMP)"
                )
            )
        assert await current_revision(engine) == "0001"
        assert await upgrade_to_head(db_url) == "0003"
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT client_order_id, last_update_reason FROM orders"))).all()
        assert [tuple(r) for r in rows] == [("c-1", None)]
    finally:
        await engine.dispose()


async def test_upgrade_from_0002_keeps_orders_and_their_fills_as_nobodys(db_url: str) -> None:
    """Orders recorded before they named their strategy upgrade in place, belonging to none."""
    engine = make_engine(resolve_url(db_url))
    try:
        async with writer(engine).begin() as conn:
            await conn.run_sync(_upgrade_to("0002"))
            await conn.execute(
                text(
                    "INSERT INTO orders (client_order_id, order_id, ticker, side, price, initial, filled, remaining,"
                    " status, recorded_at) VALUES ('c-1', 'o-1', 'KXT-1', 'bid', 4100, 500, 500, 0, 'executed',"
                    " CURRENT_TIMESTAMP)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO fills (fill_id, order_id, client_order_id, ticker, side, price, qty, fee, is_taker,"
                    " ts, recorded_at) VALUES ('f-1', 'o-1', 'c-1', 'KXT-1', 'bid', 4100, 500, 0, false,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        assert await upgrade_to_head(db_url) == "0003"
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT client_order_id, strategy FROM orders"))).all()
        assert [tuple(r) for r in rows] == [("c-1", None)]
        store = await Store.open(db_url)
        try:
            assert await store.strategy_holdings() == {}
        finally:
            await store.close()
    finally:
        await engine.dispose()


async def test_concurrent_upgrades_in_one_process_queue(db_url: str) -> None:
    assert await asyncio.gather(upgrade_to_head(db_url), upgrade_to_head(db_url)) == ["0003", "0003"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_TRADER_STORE")}
    return subprocess.run(
        [sys.executable, "-c", "from kalshi_trader.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def _with_password(url: str, password: str) -> str:
    """A Postgres URL with a password (the test server trusts local users, so any one works)."""
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{password}@{host}"


async def test_cli_db_upgrade_from_two_processes_at_once(db_url: str) -> None:
    """``kalshi-trader db upgrade`` as a real process, twice at once on one empty database."""
    secret = "pw-Zq9-never-printed"
    url = _with_password(db_url, secret) if db_url.startswith("postgresql") else db_url
    runs = await asyncio.gather(*(asyncio.to_thread(_cli, "db", "upgrade", "--db-url", url) for _ in range(2)))
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip().endswith("is at revision 0003 (head).")
        assert secret not in run.stdout + run.stderr
    store = await Store.open(url, migrate=False)
    try:
        assert await store.revision() == "0003"
    finally:
        await store.close()


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``kalshi-trader ARGS`` in this process: (exit code, stdout, stderr)."""
    saved = sys.argv
    sys.argv = ["kalshi-trader", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = saved
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_db_upgrade_reads_the_url_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "elsewhere.db"
    monkeypatch.setenv("KALSHI_TRADER_STORE__URL", f"sqlite:///{db}")
    code, _, err = _main(capsys, "db", "upgrade", "--data-dir", str(tmp_path / "unused"))
    assert code == 0, err
    assert db.is_file()
    assert not (tmp_path / "unused" / "kalshi-trader.db").exists()


def test_cli_db_upgrade_defaults_to_sqlite_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KALSHI_TRADER_STORE__URL", raising=False)
    data_dir = tmp_path / "data" / "nested"
    code, out, err = _main(capsys, "db", "upgrade", "--data-dir", str(data_dir))
    assert code == 0, err
    assert (data_dir / "kalshi-trader.db").is_file()
    assert out == f"Database sqlite+aiosqlite:///{data_dir / 'kalshi-trader.db'} is at revision 0003 (head).\n"


def test_cli_db_upgrade_failure_is_one_line_without_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "hunter2-s3cr3t"
    code, out, err = _main(capsys, "db", "upgrade", "--db-url", f"postgresql://trader:{secret}@127.0.0.1:1/kalshi")
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("kalshi-trader: error: cannot migrate postgresql+asyncpg://trader:***@127.0.0.1:1/kalshi: ")
    assert secret not in err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://trader:hunter2-s3cr3t@db/kalshi", "unsupported database URL scheme 'mysql'"),
        ("postgres://trader:hunter2-s3cr3t@db/kalshi?sslcert=x", "unsupported database URL parameter 'sslcert'"),
    ],
)
def test_cli_db_upgrade_rejects_a_bad_url_with_exit_2(
    url: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _main(capsys, "db", "upgrade", "--db-url", url)
    assert code == 2
    assert message in err
    assert "hunter2-s3cr3t" not in err + out
    assert err.count("\n") == 1
