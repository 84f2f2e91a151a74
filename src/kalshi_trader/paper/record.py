"""The paper venue's own record: one SQLite file holding its account, orders, fills, positions,
settlements and order groups, so that its state survives a restart.

Contract:
- ``await PaperRecord.open(path)`` creates the file and its tables if needed (the store's SQLite
  conventions, ``store.engine``: WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE`` writers — a
  committed write survives a process kill and a power cut). A file written by another schema
  version is refused with a ``StoreError`` naming it.
- ``write(changes)`` makes one ``Changes`` durable in **one transaction**: the account, every
  changed order (with its queue position and fee accumulator), position and group row (last write
  wins), and the new fills and settlements (kept once: by ``fill_id``, by ticker). The paper
  venue delivers an event only after the write holding it returned, so a crash never loses a
  fill anybody was told about.
- ``load()`` returns what the exchange needs to resume (``Snapshot``): cash and collateral, the
  resting orders with their queue positions, positions, groups, every ``client_order_id`` ever
  used and the settled markets — None for a new file (``start(cash)`` then writes the account).
- Reads for the venue: one order by id or ``client_order_id``, fills and settlements since a
  moment (ascending).
- Every database failure is a ``StoreError`` with one line.

Integers in the domain's units (``Price``/``Money`` $0.0001, ``Qty`` hundredths); times are
epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    select,
)
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kalshi_trader.domain import (
    BookSide,
    Fill,
    Money,
    Order,
    OrderStatus,
    SelfTradePrevention,
    TimeInForce,
)
from kalshi_trader.execution.venue import Settlement
from kalshi_trader.paper.model import Changes, PaperGroup, PaperOrder, PaperPosition
from kalshi_trader.store import StoreError, resolve_url
from kalshi_trader.store.engine import make_engine, writer
from kalshi_trader.store.errors import describe_failure

__all__ = ["SCHEMA_VERSION", "PaperRecord", "Snapshot"]

SCHEMA_VERSION = 1

metadata = MetaData()

account = Table(
    "paper_account",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("schema_version", Integer, nullable=False),
    Column("cash", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
)

orders = Table(
    "paper_orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("client_order_id", String(128), nullable=False, unique=True),
    Column("ticker", String(128), nullable=False),
    Column("side", String(3), nullable=False),
    Column("price", Integer, nullable=False),
    Column("initial", BigInteger, nullable=False),
    Column("filled", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("time_in_force", String(32), nullable=False),
    Column("self_trade_prevention", String(32), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("post_only", Boolean, nullable=False),
    Column("reduce_only", Boolean, nullable=False),
    Column("order_group_id", String(64), nullable=True),
    Column("reason", String(32), nullable=False),
    Column("collateral", BigInteger, nullable=False),
    Column("fee_acc_micros", BigInteger, nullable=False),
    Column("ahead", BigInteger, nullable=False),
    Column("rest_seq", BigInteger, nullable=False),
)

fills = Table(
    "paper_fills",
    metadata,
    Column("fill_id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("client_order_id", String(128), nullable=False),
    Column("ticker", String(128), nullable=False),
    Column("side", String(3), nullable=False),
    Column("price", Integer, nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("is_taker", Boolean, nullable=False),
    Column("post_position", BigInteger, nullable=True),
    Column("ts_ms", BigInteger, nullable=False, index=True),
)

positions = Table(
    "paper_positions",
    metadata,
    Column("ticker", String(128), primary_key=True),
    Column("qty", BigInteger, nullable=False),
    Column("cost", BigInteger, nullable=False),
    Column("realized", BigInteger, nullable=False),
    Column("fees_paid", BigInteger, nullable=False),
    Column("settled", Boolean, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

settlements = Table(
    "paper_settlements",
    metadata,
    Column("ticker", String(128), primary_key=True),
    Column("yes_value", Integer, nullable=False),
    Column("settled_ms", BigInteger, nullable=False, index=True),
    Column("net", BigInteger, nullable=False),
    Column("revenue", BigInteger, nullable=False),
)

groups = Table(
    "paper_groups",
    metadata,
    Column("group_id", String(64), primary_key=True),
    Column("contracts_limit", BigInteger, nullable=False),
    Column("triggered", Boolean, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("window", JSON, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the paper exchange resumes from."""

    cash: Money
    reserved: Money
    resting: list[PaperOrder]
    positions: list[PaperPosition]
    groups: list[PaperGroup]
    used_client_order_ids: list[str]
    settled: list[str]


class PaperRecord:
    """See the module docstring."""

    def __init__(self, engine: AsyncEngine, path: Path) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> PaperRecord:
        engine = make_engine(resolve_url(f"sqlite+aiosqlite:///{path}"))
        record = cls(engine, path)
        try:
            async with record._writer.begin() as conn:
                await conn.run_sync(metadata.create_all)
                version = (await conn.execute(select(account.c.schema_version))).scalar()
        except SQLAlchemyError as exc:
            await engine.dispose()
            raise StoreError(describe_failure(f"cannot open the paper record {path}", exc)) from None
        if version is not None and version != SCHEMA_VERSION:
            await engine.dispose()
            raise StoreError(
                f"the paper record {path} has schema version {version}; this version reads {SCHEMA_VERSION}"
            )
        return record

    async def close(self) -> None:
        await self._engine.dispose()

    # -- writes -----------------------------------------------------------------------------

    async def start(self, cash: Money) -> None:
        """A new account with ``cash``."""
        row = {"id": 1, "schema_version": SCHEMA_VERSION, "cash": cash, "reserved": 0}
        await self._write(lambda conn: conn.execute(insert(account).values(row).on_conflict_do_nothing()))

    async def write(self, changes: Changes) -> None:
        async def run(conn: AsyncConnection) -> None:
            await conn.execute(
                account.update().where(account.c.id == 1).values(cash=changes.cash, reserved=changes.reserved)
            )
            await _upsert(conn, orders, "order_id", [_order_row(o) for o in changes.orders])
            await _upsert(conn, positions, "ticker", [_position_row(p) for p in changes.positions])
            await _upsert(conn, groups, "group_id", [_group_row(g) for g in changes.groups])
            if changes.fills:
                rows = [_fill_row(f) for f in changes.fills]
                await conn.execute(insert(fills).on_conflict_do_nothing(), rows)
            if changes.settlements:
                rows = [_settlement_row(s) for s in changes.settlements]
                await conn.execute(insert(settlements).on_conflict_do_nothing(), rows)

        await self._write(run)

    async def _write(self, run: Callable[[AsyncConnection], Awaitable[object]]) -> None:
        try:
            async with self._writer.begin() as conn:
                await run(conn)
        except SQLAlchemyError as exc:
            raise StoreError(describe_failure(f"cannot write the paper record {self.path}", exc)) from None

    # -- reads ------------------------------------------------------------------------------

    async def load(self) -> Snapshot | None:
        async with self._reading() as conn:
            acct = (await conn.execute(select(account))).mappings().first()
            if acct is None:
                return None
            resting = (await conn.execute(select(orders).where(orders.c.status == "resting"))).mappings().all()
            coids = (await conn.execute(select(orders.c.client_order_id))).scalars().all()
            position_rows = (await conn.execute(select(positions))).mappings().all()
            group_rows = (await conn.execute(select(groups))).mappings().all()
            settled = (await conn.execute(select(settlements.c.ticker))).scalars().all()
        return Snapshot(
            cash=Money(acct["cash"]),
            reserved=Money(acct["reserved"]),
            resting=[_paper_order(r) for r in resting],
            positions=[_paper_position(r) for r in position_rows],
            groups=[_paper_group(r) for r in group_rows],
            used_client_order_ids=list(coids),
            settled=list(settled),
        )

    async def order(self, order_id: str | None = None, *, client_order_id: str | None = None) -> Order | None:
        query = select(orders).where(
            orders.c.order_id == order_id if order_id is not None else orders.c.client_order_id == client_order_id
        )
        async with self._reading() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _paper_order(row).to_order()

    async def fills_since(self, since_ms: int | None) -> list[Fill]:
        query = select(fills).order_by(fills.c.ts_ms, fills.c.fill_id)
        if since_ms is not None:
            query = query.where(fills.c.ts_ms >= since_ms)
        async with self._reading() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_fill(r) for r in rows]

    async def settlements_since(self, since_ms: int | None) -> list[Settlement]:
        query = select(settlements).order_by(settlements.c.settled_ms, settlements.c.ticker)
        if since_ms is not None:
            query = query.where(settlements.c.settled_ms >= since_ms)
        async with self._reading() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [Settlement(**r) for r in rows]

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(describe_failure(f"cannot read the paper record {self.path}", exc)) from None


async def _upsert(conn: AsyncConnection, table: Table, key: str, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    stmt = insert(table)
    columns = {c.name: stmt.excluded[c.name] for c in table.columns if c.name != key}
    await conn.execute(stmt.on_conflict_do_update(index_elements=[key], set_=columns), list(rows))


# -- rows ----------------------------------------------------------------------------------------
# Column names are the records' attribute names; enums are stored as their strings.


def _row(value: object, table: Table) -> dict[str, Any]:
    return {column.name: getattr(value, column.name) for column in table.columns}


def _order_row(order: PaperOrder) -> dict[str, Any]:
    return _row(order, orders)


def _paper_order(r: RowMapping) -> PaperOrder:
    order = PaperOrder(**r)
    order.side = BookSide(r["side"])
    order.status = OrderStatus(r["status"])
    order.time_in_force = TimeInForce(r["time_in_force"])
    order.self_trade_prevention = SelfTradePrevention(r["self_trade_prevention"])
    return order


def _position_row(position: PaperPosition) -> dict[str, Any]:
    return _row(position, positions)


def _paper_position(r: RowMapping) -> PaperPosition:
    return PaperPosition(**r)


def _group_row(group: PaperGroup) -> dict[str, Any]:
    return {**_row(group, groups), "window": [[ms, qty] for ms, qty in group.window]}


def _paper_group(r: RowMapping) -> PaperGroup:
    return PaperGroup(**{**r, "window": [(int(ms), int(qty)) for ms, qty in r["window"]]})


def _fill_row(fill: Fill) -> dict[str, Any]:
    return _row(fill, fills)


def _fill(r: RowMapping) -> Fill:
    return Fill(**{**r, "side": BookSide(r["side"])})


def _settlement_row(settlement: Settlement) -> dict[str, Any]:
    return _row(settlement, settlements)
