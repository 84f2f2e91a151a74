"""The store's write statements, shared by :class:`Store` (one call, one transaction) and the
:class:`Recorder` (many calls, one transaction per batch).

Contract (identical on SQLite and Postgres):
- ``insert_fills``: INSERT … ON CONFLICT (fill_id) DO NOTHING. A fill already recorded is left
  untouched and not counted; returns the fill ids that were new. Replays never double-count.
- ``upsert_order``: finds the row by ``client_order_id`` or ``order_id`` and updates it, else
  inserts. An order row never moves backwards: a snapshot older than the stored one (earlier
  ``updated_at``, fewer contracts filled, or open after final) only fills in missing ids. A
  pending/rejected row (our own guess) is always superseded by the exchange's word.
- ``insert_pending_order``: the row written before a create is sent; a retry with the same
  ``client_order_id`` keeps the first row.
- ``insert_order_events``: ON CONFLICT (event_id) DO NOTHING when an ``event_id`` is given.
- ``upsert_positions`` / ``upsert_daily_pnl``: last write wins, keyed by ticker / day.
- ``insert_audit``: append-only.
Every function runs inside the caller's transaction and neither commits nor rolls back.
This module imports only the domain (through ``records``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from kalshi_trader.store.models import audit_log, daily_pnl, fills, order_events, orders, positions
from kalshi_trader.store.records import OrderState

Row = dict[str, Any]


def _insert(conn: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


async def insert_fills(conn: AsyncConnection, rows: Sequence[Row]) -> list[str]:
    """Insert fills, ignoring any ``fill_id`` already present; the ids that were new."""
    if not rows:
        return []
    stmt = _insert(conn, fills).on_conflict_do_nothing(index_elements=["fill_id"]).returning(fills.c.fill_id)
    result = await conn.execute(stmt, list(rows)) if len(rows) > 1 else await conn.execute(stmt, rows[0])
    return [r[0] for r in result.all()]


async def insert_pending_order(conn: AsyncConnection, row: Row) -> bool:
    """Record an order about to be sent; ``False`` if its ``client_order_id`` is already known."""
    stmt = _insert(conn, orders).on_conflict_do_nothing(index_elements=["client_order_id"])
    result = await conn.execute(stmt, row)
    return bool(result.rowcount)


async def reject_order(conn: AsyncConnection, client_order_id: str, ts: datetime) -> bool:
    """Mark a still-pending order rejected (the exchange refused the create)."""
    stmt = (
        update(orders)
        .where(orders.c.client_order_id == client_order_id, orders.c.status == OrderState.PENDING.value)
        .values(status=OrderState.REJECTED.value, updated_at=ts)
    )
    result = await conn.execute(stmt)
    return bool(result.rowcount)


def _supersedes(new: Row, old: Row) -> bool:
    """Whether snapshot ``new`` is at least as recent as the stored row ``old``."""
    old_state, new_state = OrderState(old["status"]), OrderState(new["status"])
    if old_state in (OrderState.PENDING, OrderState.REJECTED):
        return True
    if new["updated_at"] is not None and old["updated_at"] is not None and new["updated_at"] < old["updated_at"]:
        return False
    if new["filled"] < old["filled"]:
        return False
    return not (old_state.is_final and not new_state.is_final)


async def upsert_order(conn: AsyncConnection, row: Row) -> None:
    """Insert or update one order row by ``client_order_id`` or ``order_id`` (see module doc)."""
    client_id, order_id = row["client_order_id"], row["order_id"]
    if not (client_id or order_id):
        raise ValueError("an order needs a client_order_id or an order_id")
    for _attempt in range(3):
        keys = []
        if client_id:
            keys.append(orders.c.client_order_id == client_id)
        if order_id:
            keys.append(orders.c.order_id == order_id)
        found = (await conn.execute(select(orders).where(or_(*keys)).order_by(orders.c.id))).mappings().all()
        if not found:
            stmt = _insert(conn, orders).on_conflict_do_nothing()
            if (await conn.execute(stmt, row)).rowcount:
                return
            continue  # someone else inserted it meanwhile: update that row instead
        target = next((r for r in found if client_id and r["client_order_id"] == client_id), found[0])
        for other in found:
            if other["id"] != target["id"] and other["client_order_id"] is None:
                # the same order, first seen at the exchange without a client id: merge into target
                await conn.execute(delete(orders).where(orders.c.id == other["id"]))
        if client_id and target["client_order_id"] not in (None, client_id):
            raise ValueError(f"exchange order {order_id!r} is recorded for client id {target['client_order_id']!r}")
        if order_id and target["order_id"] not in (None, order_id):
            raise ValueError(f"order {client_id!r} is recorded as exchange order {target['order_id']!r}")
        values = dict(row) if _supersedes(row, dict(target)) else {}
        # ids: never replaced, only filled in where the stored row lacks them
        values.pop("client_order_id", None)
        values.pop("order_id", None)
        if client_id and target["client_order_id"] is None:
            values["client_order_id"] = client_id
        if order_id and target["order_id"] is None:
            values["order_id"] = order_id
        if values:
            await conn.execute(update(orders).where(orders.c.id == target["id"]).values(**values))
        return
    raise RuntimeError(f"could not upsert order {client_id or order_id!r}: it keeps changing underneath")


async def insert_order_events(conn: AsyncConnection, rows: Sequence[Row]) -> None:
    if rows:
        stmt = _insert(conn, order_events).on_conflict_do_nothing(index_elements=["event_id"])
        await conn.execute(stmt, list(rows))


async def upsert_positions(conn: AsyncConnection, rows: Sequence[Row]) -> None:
    await _upsert_last_wins(conn, positions, "ticker", rows)


async def upsert_daily_pnl(conn: AsyncConnection, rows: Sequence[Row]) -> None:
    await _upsert_last_wins(conn, daily_pnl, "day", rows)


async def _upsert_last_wins(conn: AsyncConnection, table: Table, key: str, rows: Sequence[Row]) -> None:
    # One row per key per statement (Postgres refuses to touch a row twice in one INSERT), last wins.
    latest = {row[key]: row for row in rows}
    if not latest:
        return
    ins = _insert(conn, table)
    columns = [c.name for c in table.columns if c.name != key]
    stmt = ins.on_conflict_do_update(index_elements=[key], set_={c: ins.excluded[c] for c in columns})
    await conn.execute(stmt, list(latest.values()))


async def insert_audit(conn: AsyncConnection, rows: Sequence[Row]) -> None:
    if rows:
        await conn.execute(audit_log.insert(), list(rows))
