"""Queued writes: one small immutable value per write the :class:`Recorder` accepts.

Contract: an op holds what the caller passed (domain values are immutable; a payload mapping is
copied shallowly) and the submission time (``time.time_ns()``), and does no I/O or row building
until the writer applies it. :func:`apply_ops` writes a batch in submission order inside the
caller's transaction, grouping consecutive ops of one kind into one statement where the
statement allows it. Row building and statements are those of ``records`` and ``writes``, the
same the :class:`Store` uses for its direct writes.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from kalshi_trader.domain import BookSide, Fill, Money, Order, Position, Price, Qty
from kalshi_trader.store import records, writes


@dataclass(frozen=True, slots=True)
class RecordPendingOrder:
    client_order_id: str
    ticker: str
    side: BookSide
    price: Price
    qty: Qty
    ts_ms: int
    at_ns: int
    strategy: str = ""

    def row(self) -> dict[str, Any]:
        at = records.utc_from_ns(self.at_ns)
        return records.pending_order_row(
            self.client_order_id, self.ticker, self.side, self.price, self.qty, self.ts_ms, at, self.strategy
        )


@dataclass(frozen=True, slots=True)
class RecordOrder:
    order: Order
    at_ns: int

    def row(self) -> dict[str, Any]:
        return records.order_row(self.order, records.utc_from_ns(self.at_ns))


@dataclass(frozen=True, slots=True)
class RejectOrder:
    client_order_id: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class RecordOrderEvent:
    kind: str
    client_order_id: str | None
    order_id: str | None
    payload: Mapping[str, Any] | None
    event_id: str | None
    ts_ms: int | None
    at_ns: int

    def row(self) -> dict[str, Any]:
        ts = records.utc_from_ms(self.ts_ms) if self.ts_ms is not None else records.utc_from_ns(self.at_ns)
        return records.order_event_row(
            kind=self.kind,
            ts=ts,
            client_order_id=self.client_order_id,
            order_id=self.order_id,
            payload=self.payload,
            event_id=self.event_id,
        )


@dataclass(frozen=True, slots=True)
class RecordFill:
    fill: Fill
    at_ns: int

    def row(self) -> dict[str, Any]:
        return records.fill_row(self.fill, records.utc_from_ns(self.at_ns))


@dataclass(frozen=True, slots=True)
class UpsertPosition:
    position: Position
    at_ns: int

    def row(self) -> dict[str, Any]:
        return records.position_row(self.position, records.utc_from_ns(self.at_ns))


@dataclass(frozen=True, slots=True)
class RecordDailyPnl:
    day: date
    realized: Money
    unrealized: Money
    fees: Money
    at_ns: int

    def row(self) -> dict[str, Any]:
        at = records.utc_from_ns(self.at_ns)
        return records.daily_pnl_row(self.day, self.realized, self.unrealized, self.fees, at)


@dataclass(frozen=True, slots=True)
class Audit:
    kind: str
    subject: str | None
    payload: Mapping[str, Any] | None
    reason: str | None
    at_ns: int
    ts_ms: int | None = field(default=None)

    def row(self) -> dict[str, Any]:
        ts = records.utc_from_ms(self.ts_ms) if self.ts_ms is not None else records.utc_from_ns(self.at_ns)
        return records.audit_row(self.kind, self.subject, self.payload, self.reason, ts)


Op = (
    RecordPendingOrder
    | RecordOrder
    | RejectOrder
    | RecordOrderEvent
    | RecordFill
    | UpsertPosition
    | RecordDailyPnl
    | Audit
)


def describe(op: Op) -> str:
    """A short, secret-free label for logs: the op's kind and what it is about."""
    match op:
        case RecordPendingOrder() | RejectOrder():
            return f"{type(op).__name__}({op.client_order_id})"
        case RecordOrder():
            return f"RecordOrder({op.order.client_order_id or op.order.order_id})"
        case RecordOrderEvent():
            return f"RecordOrderEvent({op.kind}, {op.client_order_id or op.order_id})"
        case RecordFill():
            return f"RecordFill({op.fill.fill_id})"
        case UpsertPosition():
            return f"UpsertPosition({op.position.ticker})"
        case RecordDailyPnl():
            return f"RecordDailyPnl({op.day.isoformat()})"
        case Audit():
            return f"Audit({op.kind}, {op.subject})"


async def _pending(conn: AsyncConnection, ops: Sequence[RecordPendingOrder]) -> None:
    for op in ops:
        await writes.insert_pending_order(conn, op.row())


async def _orders(conn: AsyncConnection, ops: Sequence[RecordOrder]) -> None:
    for op in ops:
        await writes.upsert_order(conn, op.row())


async def _rejects(conn: AsyncConnection, ops: Sequence[RejectOrder]) -> None:
    for op in ops:
        await writes.reject_order(conn, op.client_order_id, records.utc_from_ns(op.at_ns))


async def _events(conn: AsyncConnection, ops: Sequence[RecordOrderEvent]) -> None:
    await writes.insert_order_events(conn, [op.row() for op in ops])


async def _fills(conn: AsyncConnection, ops: Sequence[RecordFill]) -> None:
    await writes.insert_fills(conn, [op.row() for op in ops])


async def _positions(conn: AsyncConnection, ops: Sequence[UpsertPosition]) -> None:
    await writes.upsert_positions(conn, [op.row() for op in ops])


async def _pnl(conn: AsyncConnection, ops: Sequence[RecordDailyPnl]) -> None:
    await writes.upsert_daily_pnl(conn, [op.row() for op in ops])


async def _audit(conn: AsyncConnection, ops: Sequence[Audit]) -> None:
    await writes.insert_audit(conn, [op.row() for op in ops])


_APPLY: dict[type[Any], Callable[[AsyncConnection, Any], Awaitable[None]]] = {
    RecordPendingOrder: _pending,
    RecordOrder: _orders,
    RejectOrder: _rejects,
    RecordOrderEvent: _events,
    RecordFill: _fills,
    UpsertPosition: _positions,
    RecordDailyPnl: _pnl,
    Audit: _audit,
}


async def apply_ops(conn: AsyncConnection, ops: Sequence[Op]) -> None:
    """Write ``ops`` in order inside the caller's transaction."""
    for kind, group in itertools.groupby(ops, key=type):
        await _APPLY[kind](conn, list(group))
