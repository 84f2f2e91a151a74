"""Crash safety (see the contract in kalshi_trader/store/recorder.py): what was flushed before a
send survives a crash; what was only queued may be lost, but it is a FIFO prefix that the
exchange can give back, and replaying the exchange's fills never double-counts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.integration.store.kit import fill

from kalshi_trader.domain import BookSide, Fill, Price, Qty
from kalshi_trader.store import AuditKind, OrderState, Store
from kalshi_trader.store.engine import writer
from kalshi_trader.store.ops import Op, apply_ops

REPO = Path(__file__).resolve().parents[3]


async def replay_from_exchange(store: Store, exchange: list[Fill]) -> list[str]:
    """What restart reconciliation does: fetch fills from the last recorded one on, record them."""
    since = await store.last_fill_ts()
    return await store.record_fills([f for f in exchange if since is None or f.ts_ms >= since])


async def assert_recovers(store: Store, exchange: list[Fill]) -> None:
    recorded = {f.fill_id for f in await store.fills()}
    new = await replay_from_exchange(store, exchange)
    assert sorted(new) == sorted(f.fill_id for f in exchange if f.fill_id not in recorded)
    assert await replay_from_exchange(store, exchange) == []  # and again: nothing
    assert await store.record_fills(exchange) == []  # even a full replay adds nothing
    assert sorted(await store.fills(), key=lambda f: f.fill_id) == sorted(exchange, key=lambda f: f.fill_id)
    assert sum(f.qty for f in await store.fills()) == sum(f.qty for f in exchange)


def assert_prefix(recorded: set[str], exchange: list[Fill]) -> None:
    """Batches commit in submission order: what survived is the first k fills, nothing else."""
    assert recorded == {f.fill_id for f in exchange[: len(recorded)]}


async def test_cancelled_writer_keeps_what_was_flushed_and_a_replay_completes_it(db_url: str) -> None:
    exchange = [fill(n) for n in range(1, 51)]
    store = await Store.open(db_url)
    rec = store.recorder()
    rec.audit(AuditKind.INTENT, "cid-1", {"qty": 1000}, reason="favorite")
    rec.record_order_intent("cid-1", "KXHIGHNY-26JAN01-B45.5", BookSide.BID, Price(5600), Qty(1000), 0)
    for f in exchange[:20]:
        rec.record_fill(f)
    await rec.flush()  # the durable point
    for f in exchange[20:]:
        rec.record_fill(f)  # queued, never written: the writer dies first
    task = rec.writer_task
    assert task is not None
    task.cancel()  # abrupt: no close(), no drain
    await asyncio.gather(task, return_exceptions=True)
    await store.engine.dispose()  # the process is gone; its connections with it

    reopened = await Store.open(db_url)
    try:
        pending = await reopened.order(client_order_id="cid-1")
        assert pending is not None
        assert pending.state is OrderState.PENDING
        assert [(e.kind, e.subject, e.reason) for e in await reopened.audit_log()] == [("intent", "cid-1", "favorite")]
        assert {f.fill_id for f in await reopened.fills()} == {f.fill_id for f in exchange[:20]}
        await assert_recovers(reopened, exchange)
    finally:
        await reopened.close()


async def test_a_batch_in_flight_at_the_crash_is_lost_whole_never_half(db_url: str) -> None:
    exchange = [fill(n) for n in range(1, 401)]
    store = await Store.open(db_url)
    real_apply = store.apply
    in_flight = asyncio.Event()

    async def hang_on_fourth_batch(ops: Sequence[Op]) -> None:
        if in_flight.is_set() or len(calls) < 3:
            calls.append(len(ops))
            return await real_apply(ops)
        async with writer(store.engine).begin() as conn:
            await apply_ops(conn, ops)  # written, not committed ...
            in_flight.set()
            await asyncio.Event().wait()  # ... when the process dies

    calls: list[int] = []
    store.apply = hang_on_fourth_batch  # type: ignore[method-assign]
    rec = store.recorder(max_batch=40)
    for f in exchange:
        rec.record_fill(f)
    await asyncio.wait_for(in_flight.wait(), 30)
    task = rec.writer_task
    assert task is not None
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await store.engine.dispose()

    reopened = await Store.open(db_url)
    try:
        recorded = {f.fill_id for f in await reopened.fills()}
        assert calls == [40, 40, 40]
        assert recorded == {f.fill_id for f in exchange[:120]}  # three whole batches, nothing of the fourth
        await assert_recovers(reopened, exchange)
    finally:
        await reopened.close()


async def test_killed_process_keeps_its_flushed_intent_and_replay_is_idempotent(db_url: str) -> None:
    n_fills = 300
    run = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tests.integration.store.crash_child", db_url, str(n_fills)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == -9, run.stderr  # SIGKILL: no cleanup ran
    assert run.stdout.split() == ["SENT", "FLUSHED", str(n_fills // 3)]
    exchange = [fill(n, order_id="ord-crash", client_order_id="cid-crash", qty=Qty(10)) for n in range(1, n_fills + 1)]

    store = await Store.open(db_url)
    try:
        pending = await store.order(client_order_id="cid-crash")
        assert pending is not None
        assert pending.state is OrderState.PENDING
        intents = await store.audit_log(kind=AuditKind.INTENT)
        assert [(e.subject, e.payload) for e in intents] == [("cid-crash", {"price": 5600, "qty": 1000})]
        recorded = {f.fill_id for f in await store.fills()}
        assert len(recorded) >= n_fills // 3  # everything flushed is there
        assert_prefix(recorded, exchange)
        await assert_recovers(store, exchange)
    finally:
        await store.close()
