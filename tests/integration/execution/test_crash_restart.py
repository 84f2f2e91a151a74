"""A trading process killed with SIGKILL mid-trading, then a fresh engine and store on the same
database: after reconciliation the engine holds exactly the exchange's resting orders and
positions, every fill the exchange made is in the database once, every order the exchange has was
recorded before it was sent, and the bracket's protective exits are rebuilt.

The exchange runs in this (the test) process; the trader is a child process
(``crash_child.py``) talking to it over loopback, killed with SIGKILL after some rounds. It runs
on SQLite and, when ``KALSHI_TRADER_TEST_POSTGRES_URL`` is set (CI), on Postgres."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from tests.integration.execution.kit import Liquidity, eventually, orders_at, positions_at, resting, trading_node
from tests.support.exchange import RunningExchange

from kalshi_trader.domain import BookSide, OrderStatus
from kalshi_trader.kalshi.auth import write_private_key
from kalshi_trader.store import OrderState

pytestmark = pytest.mark.timeout(90)

REPO = Path(__file__).resolve().parents[3]
A, B = "KXCRASHA-26JAN01-T50", "KXCRASHB-26JAN01-T50"


async def run_child_until_killed(exchange: RunningExchange, db_url: str, key_file: Path, rounds: int) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.execution.crash_child",
        exchange.rest_url,
        exchange.ws_url,
        exchange.trader.key_id,
        str(key_file),
        db_url,
        A,
        B,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    last, done = "", 0
    account = exchange.exchange.engine.account(exchange.trader.user_id)

    def bought_b() -> bool:  # at least one IOC buy in B filled (a slow machine may need more rounds)
        held = account.positions.get(B)
        return held is not None and held.position > 0

    try:
        async with asyncio.timeout(30):
            while done < rounds or not bought_b():
                line = await proc.stdout.readline()
                if not line:
                    stderr = await proc.stderr.read() if proc.stderr else b""
                    raise AssertionError(f"the child exited early: {stderr.decode()[-2000:]}")
                last = line.decode().strip()
                if last.startswith("ROUND "):
                    done = int(last.removeprefix("ROUND "))
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return last


async def test_sigkill_mid_trading_then_restart_reconciles_to_the_exchange(
    exchange: RunningExchange, any_db_url: str, tmp_path: Path
) -> None:
    db_url = any_db_url
    a, b = exchange.add_market(A), exchange.add_market(B)
    liquidity = Liquidity(exchange)
    try:
        await liquidity.quote(a, BookSide.ASK, 5000, 5)
        await liquidity.quote(a, BookSide.BID, 4000, 20)
        await liquidity.quote(b, BookSide.ASK, 6000, 500)
        key_file = write_private_key(exchange.trader.private_key, tmp_path / "trader.pem")

        await run_child_until_killed(exchange, db_url, key_file, rounds=25)
        await asyncio.sleep(0.2)  # whatever the dead process had in flight has landed at the exchange

        async with trading_node(exchange, db_url, [a, b]) as node:
            engine = node.engine
            report = node.reconciler.last
            assert report is not None
            assert report.reason == "start"

            async def engine_equals_exchange() -> bool:
                await engine.queue.drain()
                theirs = {(o.order_id, o.price, o.remaining) for o in await resting(node.rest)}
                mine = {(t.order_id, t.price, t.remaining) for t in engine.open_orders()}
                positions = await positions_at(node.rest)
                return mine == theirs and {p.ticker: p.qty for p in engine.positions()} == positions

            await eventually(engine_equals_exchange)
            positions = await positions_at(node.rest)
            assert positions[b] > 0
            assert positions[a] == 500

            # Every fill the exchange made is in the database exactly once.
            await node.recorder.flush()
            exchange_fills = {f.fill_id async for f in node.rest.iter_fills()}
            stored = await node.store.fills()
            assert len(stored) == len({f.fill_id for f in stored})
            assert {f.fill_id for f in stored} == exchange_fills
            again = await node.reconciler.reconcile("periodic")
            assert again.new_fills == 0
            assert len(await node.store.fills()) == len(exchange_fills)

            # Every order the exchange has was recorded (before its create was sent) and is
            # resolved to the exchange's id and state.
            for order in await orders_at(node.rest):
                row = await node.store.order(client_order_id=order.client_order_id)
                assert row is not None, order.client_order_id
                assert row.order_id == order.order_id
                if order.status is OrderStatus.RESTING:
                    assert row.state is OrderState.RESTING

            # The bracket in A came back: its take-profit rests for the whole position.
            assert engine.bracket_for(a) == "crash-entry"

            async def protected() -> bool:
                tp = [o for o in await resting(node.rest) if o.client_order_id.startswith("crash-entry-tp")]
                return [(o.side, o.price, o.remaining) for o in tp] == [(BookSide.ASK, 7000, 500)]

            await eventually(protected)
    finally:
        await liquidity.close()
