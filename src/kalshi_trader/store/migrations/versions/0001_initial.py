"""Initial schema: orders, order events, fills, positions, daily P&L, audit log.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id(name: str, *, nullable: bool) -> sa.Column[str]:
    return sa.Column(name, sa.String(128), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        _id("client_order_id", nullable=True),
        _id("order_id", nullable=True),
        sa.Column("ticker", sa.String(128), nullable=False),
        sa.Column("side", sa.String(3), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("initial", sa.BigInteger(), nullable=False),
        sa.Column("filled", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _id("order_group_id", nullable=True),
        _ts("created_at", nullable=True),
        _ts("updated_at", nullable=True),
        _ts("recorded_at"),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("client_order_id", name="uq_orders_client_order_id"),
        sa.UniqueConstraint("order_id", name="uq_orders_order_id"),
    )
    op.create_index("ix_orders_ticker_status", "orders", ["ticker", "status"])

    op.create_table(
        "order_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        _id("event_id", nullable=True),
        _id("client_order_id", nullable=True),
        _id("order_id", nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        _ts("ts"),
        sa.Column("payload", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_events"),
        sa.UniqueConstraint("event_id", name="uq_order_events_event_id"),
    )
    op.create_index("ix_order_events_client_order_id", "order_events", ["client_order_id"])
    op.create_index("ix_order_events_order_id", "order_events", ["order_id"])

    op.create_table(
        "fills",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        _id("fill_id", nullable=False),
        _id("order_id", nullable=False),
        _id("client_order_id", nullable=True),
        sa.Column("ticker", sa.String(128), nullable=False),
        sa.Column("side", sa.String(3), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("is_taker", sa.Boolean(), nullable=False),
        sa.Column("post_position", sa.BigInteger(), nullable=True),
        _ts("ts"),
        _ts("recorded_at"),
        sa.PrimaryKeyConstraint("id", name="pk_fills"),
        sa.UniqueConstraint("fill_id", name="uq_fills_fill_id"),
    )
    op.create_index("ix_fills_order_id", "fills", ["order_id"])
    op.create_index("ix_fills_ts", "fills", ["ts"])

    op.create_table(
        "positions",
        sa.Column("ticker", sa.String(128), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("realized_pnl", sa.BigInteger(), nullable=False),
        sa.Column("fees_paid", sa.BigInteger(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("ticker", name="pk_positions"),
    )

    op.create_table(
        "daily_pnl",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("realized", sa.BigInteger(), nullable=False),
        sa.Column("unrealized", sa.BigInteger(), nullable=False),
        sa.Column("fees", sa.BigInteger(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("day", name="pk_daily_pnl"),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        _ts("ts"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_ts", "audit_log", ["ts"])
    op.create_index("ix_audit_log_kind_id", "audit_log", ["kind", "id"])


def downgrade() -> None:
    for table in ("audit_log", "daily_pnl", "positions", "fills", "order_events", "orders"):
        op.drop_table(table)
