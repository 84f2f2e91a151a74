"""The store's repository: what the rest of the system calls to record and to read back.

Contract:
- ``await Store.open(url, data_dir=...)`` resolves the URL (default SQLite in the data dir),
  migrates the database to head (unless ``migrate=False``) and returns a ready store;
  ``await store.close()`` releases its connections. Every method may be called concurrently.
- Each write method is one transaction, committed when it returns (durable: SQLite WAL with
  ``synchronous=FULL``, or a Postgres commit). They are for code that is already off the hot
  path (reconcile, start-up, tools); the trading path records through :meth:`recorder`.
- Idempotent by construction: ``record_fill`` ignores a ``fill_id`` it has (returns ``False``),
  ``record_order`` upserts by ``client_order_id``/``order_id`` and never moves a row backwards,
  ``record_order_intent`` keeps the first row for a ``client_order_id``, ``upsert_position`` and
  ``record_daily_pnl`` are last-write-wins, ``record_order_event`` ignores a repeated
  ``event_id``. Only ``audit`` (and events without an id) append unconditionally.
- Reads return domain values (``Fill``, ``Position``) or the store's own immutable records, in
  domain units, with times as ms epoch stamps (like the domain) or aware UTC datetimes.
- Failures raise :class:`StoreError` with one redacted line (never the password).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kalshi_trader.domain import BookSide, Fill, Money, Order, Position, Price, Qty
from kalshi_trader.store import models, records, writes
from kalshi_trader.store.engine import make_engine, writer
from kalshi_trader.store.errors import StoreError, describe_failure
from kalshi_trader.store.migrate import current_revision, upgrade_engine
from kalshi_trader.store.ops import Op, apply_ops
from kalshi_trader.store.records import AuditEntry, DailyPnl, OrderEvent, OrderState, StoredOrder
from kalshi_trader.store.urls import ResolvedURL, resolve_url

if TYPE_CHECKING:
    from kalshi_trader.store.recorder import Recorder


def _now_ns() -> int:
    return time.time_ns()


class Store:
    """Orders, order events, fills, positions, daily P&L and the audit log in one database."""

    def __init__(self, engine: AsyncEngine, resolved: ResolvedURL) -> None:
        """Use :meth:`open`; this wraps an engine the caller made for ``resolved``."""
        self._engine = engine
        self._writer = writer(engine)
        self._resolved = resolved
        self._closed = False

    # ---------------------------------------------------------------------------- lifecycle

    @classmethod
    async def open(
        cls, url: str | None = None, *, data_dir: Path | None = None, echo: bool = False, migrate: bool = True
    ) -> Store:
        """Connect to ``url`` (``None``: SQLite in ``data_dir``) and, by default, migrate to head."""
        resolved = resolve_url(url, data_dir)
        engine = make_engine(resolved, echo=echo)
        store = cls(engine, resolved)
        try:
            if migrate:
                await upgrade_engine(engine)
            else:
                async with engine.connect():
                    pass
        except BaseException as exc:
            await engine.dispose()
            if isinstance(exc, StoreError) or not isinstance(exc, Exception):
                raise
            raise StoreError(describe_failure(f"cannot open {resolved.redacted}", exc, resolved.password)) from None
        return store

    async def close(self) -> None:
        """Release every connection (idempotent). Stop recorders first: see :meth:`Recorder.close`."""
        if not self._closed:
            self._closed = True
            await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """The database URL, password redacted."""
        return self._resolved.redacted

    @property
    def dialect(self) -> str:
        return self._resolved.dialect

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def revision(self) -> str | None:
        """The migration revision the database is at."""
        async with self._failures("read the schema revision"):
            return await current_revision(self._engine)

    def recorder(self, *, max_batch: int = 500, retry_max_s: float = 5.0) -> Recorder:
        """A started write-behind :class:`Recorder` on this store (call inside the event loop)."""
        from kalshi_trader.store.recorder import Recorder

        rec = Recorder(self, max_batch=max_batch, retry_max_s=retry_max_s)
        rec.start()
        return rec

    # ---------------------------------------------------------------------------- plumbing

    def describe_failure(self, context: str, exc: BaseException) -> str:
        """One line for logs and errors about ``exc``, with this store's password redacted."""
        return describe_failure(context, exc, self._resolved.password)

    @asynccontextmanager
    async def _failures(self, what: str) -> AsyncIterator[None]:
        if self._closed:
            raise StoreError(f"cannot {what}: the store ({self.url}) is closed")
        try:
            yield
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(self.describe_failure(f"cannot {what} ({self.url})", exc)) from None

    @asynccontextmanager
    async def _write(self, what: str) -> AsyncIterator[AsyncConnection]:
        async with self._failures(what), self._writer.begin() as conn:
            yield conn

    async def apply(self, ops: Sequence[Op]) -> None:
        """Write ``ops`` in one transaction. Raises the database's own exception (the recorder
        tells transient failures from permanent ones by it)."""
        if self._closed:
            raise StoreError(f"the store ({self.url}) is closed")
        async with self._writer.begin() as conn:
            await apply_ops(conn, ops)

    async def _rows(self, what: str, stmt: Select[Any]) -> list[Mapping[str, Any]]:
        async with self._failures(what), self._engine.connect() as conn:
            return list((await conn.execute(stmt)).mappings().all())

    # ---------------------------------------------------------------------------- writes

    async def record_order_intent(
        self,
        client_order_id: str,
        ticker: str,
        side: BookSide,
        price: Price,
        qty: Qty,
        ts_ms: int,
        *,
        strategy: str = "",
    ) -> bool:
        """Record an order about to be sent (state ``pending``) by ``strategy``; ``False`` if already
        recorded."""
        row = records.pending_order_row(
            client_order_id, ticker, side, price, qty, ts_ms, records.utc_from_ns(_now_ns()), strategy
        )
        async with self._write("record an order intent") as conn:
            return await writes.insert_pending_order(conn, row)

    async def record_order(self, order: Order) -> None:
        """Upsert the exchange's snapshot of an order (by ``client_order_id`` / ``order_id``)."""
        async with self._write("record an order") as conn:
            await writes.upsert_order(conn, records.order_row(order, records.utc_from_ns(_now_ns())))

    async def record_order_rejected(self, client_order_id: str) -> bool:
        """The exchange refused the create: a pending order becomes ``rejected``."""
        async with self._write("record an order rejection") as conn:
            return await writes.reject_order(conn, client_order_id, records.utc_from_ns(_now_ns()))

    async def record_order_event(
        self,
        kind: str,
        *,
        client_order_id: str | None = None,
        order_id: str | None = None,
        payload: Mapping[str, Any] | None = None,
        event_id: str | None = None,
        ts_ms: int | None = None,
    ) -> None:
        """Append what happened to an order (ignored if ``event_id`` was recorded before)."""
        ts = records.utc_from_ms(ts_ms) if ts_ms is not None else records.utc_from_ns(_now_ns())
        row = records.order_event_row(
            kind=kind, ts=ts, client_order_id=client_order_id, order_id=order_id, payload=payload, event_id=event_id
        )
        async with self._write("record an order event") as conn:
            await writes.insert_order_events(conn, [row])

    async def record_fill(self, fill: Fill) -> bool:
        """Record a fill; ``True`` if it was new, ``False`` if its ``fill_id`` was already there."""
        return bool(await self.record_fills([fill]))

    async def record_fills(self, fills: Iterable[Fill]) -> list[str]:
        """Record fills in one transaction; the ids of those that were new."""
        at = records.utc_from_ns(_now_ns())
        rows = [records.fill_row(f, at) for f in fills]
        async with self._write("record fills") as conn:
            return await writes.insert_fills(conn, rows)

    async def upsert_position(self, position: Position) -> None:
        async with self._write("record a position") as conn:
            await writes.upsert_positions(conn, [records.position_row(position, records.utc_from_ns(_now_ns()))])

    async def record_daily_pnl(self, day: date, realized: Money, unrealized: Money, fees: Money) -> None:
        row = records.daily_pnl_row(day, realized, unrealized, fees, records.utc_from_ns(_now_ns()))
        async with self._write("record daily P&L") as conn:
            await writes.upsert_daily_pnl(conn, [row])

    async def audit(
        self,
        kind: str,
        subject: str | None,
        payload: Mapping[str, Any] | None = None,
        reason: str | None = None,
        *,
        ts_ms: int | None = None,
    ) -> None:
        """Append one audit entry (``kind`` such as :class:`AuditKind`, ``subject`` a ticker or id)."""
        ts = records.utc_from_ms(ts_ms) if ts_ms is not None else records.utc_from_ns(_now_ns())
        async with self._write("write the audit log") as conn:
            await writes.insert_audit(conn, [records.audit_row(kind, subject, payload, reason, ts)])

    # ---------------------------------------------------------------------------- reads

    async def order(self, *, client_order_id: str | None = None, order_id: str | None = None) -> StoredOrder | None:
        """One order by either id."""
        t = models.orders
        if client_order_id:
            stmt = select(t).where(t.c.client_order_id == client_order_id)
        elif order_id:
            stmt = select(t).where(t.c.order_id == order_id)
        else:
            raise ValueError("give a client_order_id or an order_id")
        rows = await self._rows("read an order", stmt)
        return records.to_stored_order(rows[0]) if rows else None

    async def orders(
        self, *, ticker: str | None = None, states: Iterable[OrderState] | None = None, open_only: bool = False
    ) -> list[StoredOrder]:
        """Orders in the order they were first recorded, optionally filtered."""
        t = models.orders
        stmt = select(t).order_by(t.c.id)
        if ticker is not None:
            stmt = stmt.where(t.c.ticker == ticker)
        wanted = set(states) if states is not None else None
        if open_only:
            wanted = {s for s in (wanted or set(OrderState)) if s.is_open}
        if wanted is not None:
            stmt = stmt.where(t.c.status.in_(sorted(s.value for s in wanted)))
        return [records.to_stored_order(r) for r in await self._rows("read orders", stmt)]

    async def order_events(
        self, *, client_order_id: str | None = None, order_id: str | None = None
    ) -> list[OrderEvent]:
        """Events in recorded order, for one order (by either id) or all."""
        t = models.order_events
        stmt = select(t).order_by(t.c.id)
        keys = []
        if client_order_id:
            keys.append(t.c.client_order_id == client_order_id)
        if order_id:
            keys.append(t.c.order_id == order_id)
        if keys:
            stmt = stmt.where(or_(*keys))
        return [records.to_order_event(r) for r in await self._rows("read order events", stmt)]

    async def fills(
        self, *, since_ms: int | None = None, ticker: str | None = None, order_id: str | None = None
    ) -> list[Fill]:
        """Fills at or after ``since_ms``, oldest first (ties in recorded order)."""
        t = models.fills
        stmt = select(t).order_by(t.c.ts, t.c.id)
        if since_ms is not None:
            stmt = stmt.where(t.c.ts >= records.utc_from_ms(since_ms))
        if ticker is not None:
            stmt = stmt.where(t.c.ticker == ticker)
        if order_id is not None:
            stmt = stmt.where(t.c.order_id == order_id)
        return [records.to_fill(r) for r in await self._rows("read fills", stmt)]

    async def strategy_holdings(self) -> dict[str, dict[str, int]]:
        """strategy → ticker → the signed net (YES bought minus sold) of the recorded fills of the
        orders that strategy sent (matched by ``order_id`` or ``client_order_id``); fills of
        orders no strategy sent count for nobody; nets of zero (and strategies left with none)
        are left out."""
        o, f = models.orders, models.fills
        joined = f.join(o, or_(f.c.order_id == o.c.order_id, f.c.client_order_id == o.c.client_order_id))
        stmt = (
            select(f.c.fill_id, o.c.strategy, f.c.ticker, f.c.side, f.c.qty)
            .select_from(joined)
            .where(o.c.strategy.is_not(None))
            .order_by(f.c.id)
        )
        seen: set[str] = set()
        out: dict[str, dict[str, int]] = {}
        for row in await self._rows("read fills per strategy", stmt):
            if row["fill_id"] in seen:
                continue
            seen.add(row["fill_id"])
            held = out.setdefault(row["strategy"], {})
            qty = int(row["qty"]) if row["side"] == BookSide.BID.value else -int(row["qty"])
            held[row["ticker"]] = held.get(row["ticker"], 0) + qty
        nets = {name: {t: q for t, q in held.items() if q} for name, held in out.items()}
        return {name: held for name, held in nets.items() if held}

    async def last_fill_ts(self) -> int | None:
        """The newest fill's exchange time (ms epoch): where a fill replay after restart starts."""
        t = models.fills
        rows = await self._rows("read fills", select(t.c.ts).order_by(t.c.ts.desc()).limit(1))
        return records.ms_from_utc(rows[0]["ts"]) if rows else None

    async def positions(self) -> list[Position]:
        """The latest recorded position per market, by ticker."""
        t = models.positions
        return [records.to_position(r) for r in await self._rows("read positions", select(t).order_by(t.c.ticker))]

    async def daily_pnl(self, *, since: date | None = None, until: date | None = None) -> list[DailyPnl]:
        """Daily P&L rows with ``since <= day <= until``, oldest first."""
        t = models.daily_pnl
        stmt = select(t).order_by(t.c.day)
        if since is not None:
            stmt = stmt.where(t.c.day >= since)
        if until is not None:
            stmt = stmt.where(t.c.day <= until)
        return [records.to_daily_pnl(r) for r in await self._rows("read daily P&L", stmt)]

    async def audit_log(
        self, limit: int = 100, *, kind: str | None = None, subject: str | None = None
    ) -> list[AuditEntry]:
        """The newest ``limit`` audit entries, newest first (the order they were recorded in)."""
        t = models.audit_log
        stmt = select(t).order_by(t.c.id.desc()).limit(limit)
        if kind is not None:
            stmt = stmt.where(t.c.kind == kind)
        if subject is not None:
            stmt = stmt.where(t.c.subject == subject)
        return [records.to_audit_entry(r) for r in await self._rows("read the audit log", stmt)]
