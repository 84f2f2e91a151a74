"""Write-behind recording for the trading path: the hot path appends, a background task writes.

Crash-safety contract
---------------------
1. Submitting (``record_*``, ``upsert_position``, ``audit``) is a plain synchronous call: it
   appends to an in-memory FIFO and returns. It never awaits, never does I/O and never fails
   because of the database. One background task writes the FIFO in batches (up to ``max_batch``
   records, one transaction per batch) strictly in submission order. Call it from the event
   loop's thread only.
2. Durable points. ``await recorder.flush()`` returns once every record submitted before the
   call is committed (SQLite: WAL with ``synchronous=FULL``; Postgres: committed). The execution
   engine's rule is: submit the intent (``audit(AuditKind.INTENT, …)``) and the pending order
   (``record_order_intent``), ``await flush()``, and only then send the create request. So after
   any crash, every order that may exist at the exchange has a row under its
   ``client_order_id`` (``pending`` if nothing later was recorded) — what restart reconciliation
   asks the exchange about — and so does every intent and risk decision submitted before it.
3. Write-behind, not waited for: order snapshots, order events, fills, positions, daily P&L and
   audit entries that no flush follows. A crash loses at most what was submitted and not yet
   committed (normally the last few milliseconds), and by design only what the exchange can give
   back: orders (by ``client_order_id``), fills (``GET fills`` from ``Store.last_fill_ts()``),
   positions; P&L is recomputed from fills. An audit entry that must outlive a crash (a breaker
   trip, the kill switch) is followed by ``await flush()`` on its caller's slow path.
4. Replays are idempotent: ``fills.fill_id`` is UNIQUE and fills are inserted-or-ignored, so
   replaying the exchange's fills after a restart never double-counts; order rows are upserted by
   ``client_order_id``/``order_id`` and never move backwards; events with an ``event_id`` are
   recorded once.
5. Failures. A transient database failure (connection lost, database locked, timeout) keeps the
   batch and retries it with exponential backoff up to ``retry_max_s``: nothing is dropped and
   the order is kept (memory grows meanwhile; a warning is logged as the backlog grows). A record
   the database refuses for good (a constraint or data error) is isolated — the rest of its batch
   is written — logged by kind and subject, and dropped; the next ``flush()`` raises
   :class:`StoreError` saying how many were dropped.
6. ``await close()`` drains and commits everything and stops the writer; if the database stays
   unreachable past ``timeout_s`` the writer is cancelled and the backlog is lost (logged).
   Submitting after ``close()`` raises :class:`StoreError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Protocol

import structlog
from sqlalchemy import exc as sa_exc

from kalshi_trader.domain import BookSide, Fill, Money, Order, Position, Price, Qty
from kalshi_trader.store.errors import StoreError
from kalshi_trader.store.ops import (
    Audit,
    Op,
    RecordDailyPnl,
    RecordFill,
    RecordOrder,
    RecordOrderEvent,
    RecordPendingOrder,
    RejectOrder,
    UpsertPosition,
    describe,
)

log = structlog.get_logger(__name__)

_BACKLOG_WARN_START = 10_000


class Sink(Protocol):
    """Where a recorder writes: :class:`~kalshi_trader.store.repository.Store` is one."""

    async def apply(self, ops: Sequence[Op]) -> None:
        """Write ``ops`` in one transaction, raising the database's own exception on failure."""

    def describe_failure(self, context: str, exc: BaseException) -> str:
        """One redacted line about ``exc``."""


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: the database may accept the same write later."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    transient = (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.TimeoutError,
        sa_exc.DisconnectionError,
        OSError,
        TimeoutError,
    )
    return isinstance(exc, transient)


class Recorder:
    """The write-behind queue in front of a :class:`Store` (see the module contract)."""

    def __init__(self, store: Sink, *, max_batch: int = 500, retry_max_s: float = 5.0) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._store = store
        self._max_batch = max_batch
        self._retry_max_s = retry_max_s
        self._queue: deque[Op] = deque()
        self._submitted = 0
        self._done = 0
        self._wake = asyncio.Event()
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._dropped = 0
        self._unreported_drops = 0
        self._backlog_warn = _BACKLOG_WARN_START
        self.last_error: str | None = None
        """The latest write failure (redacted), or ``None`` once a write succeeds again."""

    # ---------------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the writer task on the running loop (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="store-recorder")
            self._task.add_done_callback(self._on_writer_done)

    @property
    def writer_task(self) -> asyncio.Task[None] | None:
        """The background writer (for supervision)."""
        return self._task

    @property
    def pending(self) -> int:
        """Records submitted and not yet committed (or dropped)."""
        return self._submitted - self._done

    @property
    def dropped(self) -> int:
        """Records the database refused for good since the recorder started."""
        return self._dropped

    async def flush(self, timeout_s: float | None = None) -> None:
        """Return once everything submitted before this call is committed.

        Raises :class:`StoreError` if some of it was dropped (see contract item 5), if the writer
        is not running, or after ``timeout_s`` seconds — the records stay queued in that case."""
        target = self._submitted
        if self._done < target:
            if self._task is None or self._task.done():
                raise StoreError(f"the recorder's writer is not running; {self.pending} record(s) not written")
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append((target, future))
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(future), timeout_s)
            except TimeoutError:
                self._waiters = [(t, f) for t, f in self._waiters if f is not future]
                future.cancel()
                raise StoreError(
                    f"records not written within {timeout_s}s ({self.pending} pending; last error: {self.last_error})"
                ) from None
            return
        self._raise_drops()

    async def close(self, timeout_s: float | None = 30.0) -> None:
        """Drain and commit everything, then stop the writer (idempotent); see contract item 6."""
        self._closed = True
        task = self._task
        if task is None or task.done():
            return
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout_s)
        except TimeoutError:
            log.error("store_recorder_abandoned", pending=self.pending, last_error=self.last_error)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ---------------------------------------------------------------------------- submitting

    def _submit(self, op: Op) -> None:
        if self._closed:
            raise StoreError(f"the recorder is closed; {describe(op)} not recorded")
        self._queue.append(op)
        self._submitted += 1
        self._wake.set()
        if len(self._queue) >= self._backlog_warn:
            log.warning("store_recorder_backlog", pending=len(self._queue), last_error=self.last_error)
            self._backlog_warn *= 10

    def record_order_intent(
        self,
        client_order_id: str,
        ticker: str,
        side: BookSide,
        price: Price,
        qty: Qty,
        ts_ms: int,
        *,
        strategy: str = "",
    ) -> None:
        """An order about to be sent (``pending``) by ``strategy``; follow with ``await flush()``
        before sending."""
        self._submit(RecordPendingOrder(client_order_id, ticker, side, price, qty, ts_ms, time.time_ns(), strategy))

    def record_order(self, order: Order) -> None:
        self._submit(RecordOrder(order, time.time_ns()))

    def record_order_rejected(self, client_order_id: str) -> None:
        self._submit(RejectOrder(client_order_id, time.time_ns()))

    def record_order_event(
        self,
        kind: str,
        *,
        client_order_id: str | None = None,
        order_id: str | None = None,
        payload: Mapping[str, Any] | None = None,
        event_id: str | None = None,
        ts_ms: int | None = None,
    ) -> None:
        if not (client_order_id or order_id):
            raise ValueError("an order event needs a client_order_id or an order_id")
        snapshot = dict(payload) if payload is not None else None
        self._submit(RecordOrderEvent(kind, client_order_id, order_id, snapshot, event_id, ts_ms, time.time_ns()))

    def record_fill(self, fill: Fill) -> None:
        self._submit(RecordFill(fill, time.time_ns()))

    def upsert_position(self, position: Position) -> None:
        self._submit(UpsertPosition(position, time.time_ns()))

    def record_daily_pnl(self, day: date, realized: Money, unrealized: Money, fees: Money) -> None:
        self._submit(RecordDailyPnl(day, realized, unrealized, fees, time.time_ns()))

    def audit(
        self,
        kind: str,
        subject: str | None,
        payload: Mapping[str, Any] | None = None,
        reason: str | None = None,
        *,
        ts_ms: int | None = None,
    ) -> None:
        """Append an audit entry; ``payload`` is copied (shallowly) now."""
        if not kind:
            raise ValueError("an audit entry needs a kind")
        snapshot = dict(payload) if payload is not None else None
        self._submit(Audit(str(kind), subject, snapshot, reason, time.time_ns(), ts_ms))

    # ---------------------------------------------------------------------------- the writer

    async def _run(self) -> None:
        while True:
            if not self._queue:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = list(itertools.islice(self._queue, self._max_batch))
            await self._write(batch)
            for _ in batch:
                self._queue.popleft()
            self._done += len(batch)
            self._resolve_waiters()

    async def _write(self, batch: Sequence[Op]) -> None:
        """Commit ``batch`` or, for ops the database refuses for good, drop them (logged)."""
        delay = 0.05
        while True:
            try:
                await self._store.apply(batch)
            except Exception as exc:
                self.last_error = self._store.describe_failure("write failed", exc)
                if is_transient(exc):
                    log.warning("store_write_retry", error=self.last_error, records=len(batch), retry_in_s=delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._retry_max_s)
                    continue
                if len(batch) > 1:
                    for op in batch:  # isolate the record(s) the database refuses
                        await self._write([op])
                    return
                self._dropped += 1
                self._unreported_drops += 1
                log.error("store_record_dropped", record=describe(batch[0]), error=self.last_error)
                return
            self.last_error = None
            return

    def _raise_drops(self) -> None:
        if self._unreported_drops:
            count, self._unreported_drops = self._unreported_drops, 0
            raise StoreError(f"{count} record(s) were refused by the database and dropped: {self.last_error}")

    def _resolve_waiters(self) -> None:
        ready = [(t, f) for t, f in self._waiters if t <= self._done]
        if not ready:
            return
        self._waiters = [(t, f) for t, f in self._waiters if t > self._done]
        error: StoreError | None = None
        try:
            self._raise_drops()
        except StoreError as exc:
            error = exc
        for _, future in ready:
            if not future.done():
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(None)

    def _on_writer_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("store_recorder_crashed", error=repr(task.exception()), pending=self.pending)
        stranded, self._waiters = self._waiters, []
        for _, future in stranded:
            if not future.done():
                future.set_exception(StoreError(f"the recorder's writer stopped; {self.pending} record(s) not written"))
