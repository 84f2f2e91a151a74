"""Recorder behaviour that needs no database: retries, isolation of refused records, FIFO
batches, flush/close semantics (a fake sink stands in for the Store)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from kalshi_trader.store import Recorder, StoreError
from kalshi_trader.store.ops import Audit, Op
from kalshi_trader.store.recorder import is_transient


class FakeSink:
    """Records committed batches; fails on demand."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.transient_failures = 0
        self.refuse: set[str] = set()
        self.gate: asyncio.Event | None = None

    async def apply(self, ops: Sequence[Op]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        await asyncio.sleep(0)
        if self.transient_failures:
            self.transient_failures -= 1
            raise OperationalError("INSERT", {}, ConnectionResetError("connection reset by postgresql://u:pw@h/db"))
        subjects = [op.subject or "" for op in ops if isinstance(op, Audit)]
        if self.refuse & set(subjects):
            raise IntegrityError("INSERT", {}, ValueError("constraint"))
        self.batches.append(subjects)

    def describe_failure(self, context: str, exc: BaseException) -> str:
        return f"{context}: {type(exc).__name__}".replace("pw", "***")

    @property
    def written(self) -> list[str]:
        return [s for b in self.batches for s in b]


def _submit(rec: Recorder, *subjects: str) -> None:
    for s in subjects:
        rec.audit("intent", s, {"n": s})


async def test_batches_are_fifo_and_bounded() -> None:
    sink = FakeSink()
    rec = Recorder(sink, max_batch=3)
    rec.start()
    subjects = [str(i) for i in range(10)]
    _submit(rec, *subjects)
    await rec.flush()
    assert sink.written == subjects
    assert [len(b) for b in sink.batches] == [3, 3, 3, 1]
    await rec.close()


async def test_transient_failures_are_retried_without_loss() -> None:
    sink = FakeSink()
    sink.transient_failures = 3
    rec = Recorder(sink, retry_max_s=0.01)
    rec.start()
    _submit(rec, "a", "b")
    await rec.flush(timeout_s=5)
    assert sink.written == ["a", "b"]
    assert rec.dropped == 0
    assert rec.last_error is None
    await rec.close()


async def test_a_refused_record_is_isolated_dropped_and_reported_once() -> None:
    sink = FakeSink()
    sink.refuse = {"bad"}
    rec = Recorder(sink)
    rec.start()
    _submit(rec, "a", "bad", "c")
    with pytest.raises(StoreError, match="1 record"):
        await rec.flush()
    assert sink.written == ["a", "c"]
    assert rec.dropped == 1
    await rec.flush()
    _submit(rec, "d")
    await rec.flush()
    assert sink.written == ["a", "c", "d"]
    await rec.close()


async def test_flush_timeout_keeps_records_queued() -> None:
    sink = FakeSink()
    sink.gate = asyncio.Event()
    rec = Recorder(sink)
    rec.start()
    _submit(rec, "a")
    with pytest.raises(StoreError, match="not written within"):
        await rec.flush(timeout_s=0.05)
    assert rec.pending == 1
    sink.gate.set()
    await rec.flush(timeout_s=5)
    assert sink.written == ["a"]
    await rec.close()


async def test_close_gives_up_after_its_timeout_and_stops_the_writer() -> None:
    sink = FakeSink()
    sink.gate = asyncio.Event()  # the database never answers
    rec = Recorder(sink)
    rec.start()
    _submit(rec, "a")
    await rec.close(timeout_s=0.05)
    assert rec.writer_task is not None
    assert rec.writer_task.done()
    assert rec.pending == 1
    with pytest.raises(StoreError, match="not running"):
        await rec.flush()
    with pytest.raises(StoreError, match="closed"):
        _submit(rec, "b")


async def test_flush_fails_fast_when_the_writer_died() -> None:
    sink = FakeSink()
    sink.gate = asyncio.Event()
    rec = Recorder(sink)
    rec.start()
    _submit(rec, "a")
    waiter = asyncio.ensure_future(rec.flush())
    await asyncio.sleep(0.01)
    assert rec.writer_task is not None
    rec.writer_task.cancel()
    with pytest.raises(StoreError, match="writer stopped"):
        await waiter


async def test_submitting_is_synchronous_and_validates() -> None:
    rec = Recorder(FakeSink())
    _submit(rec, "a")  # no loop work, no writer needed to accept
    assert rec.pending == 1
    with pytest.raises(ValueError, match="kind"):
        rec.audit("", "x")
    with pytest.raises(ValueError, match="client_order_id or an order_id"):
        rec.record_order_event("acked")
    with pytest.raises(ValueError, match="max_batch"):
        Recorder(FakeSink(), max_batch=0)


def test_transient_classification() -> None:
    assert is_transient(OperationalError("x", {}, Exception("locked")))
    assert is_transient(ConnectionRefusedError())
    assert not is_transient(IntegrityError("x", {}, Exception("unique")))
    assert not is_transient(ValueError("bad row"))
