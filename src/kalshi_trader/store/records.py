"""What the store hands back and takes in beyond the domain's own types, and the row mapping.

Contract: reads return immutable values in domain units (``Price``/``Money``/``Qty`` ints, ms
epoch stamps like the domain, aware UTC ``datetime`` where the store itself stamped the time).
``fill_row``/``order_row``/… turn domain values into column dicts and ``to_fill``/… back, exactly
(a value written and read back compares equal). This module imports only the domain.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from typing import Any

import msgspec

from kalshi_trader.domain import BookSide, Fill, Money, Order, OrderStatus, Position, Price, Qty

JsonObject = dict[str, Any]


class OrderState(StrEnum):
    """An order row's state: the exchange's statuses plus the two only we know about."""

    PENDING = "pending"
    """Recorded before the create request was sent; the exchange has not confirmed it yet."""
    REJECTED = "rejected"
    """The exchange refused the create: no such order exists there."""
    RESTING = "resting"
    CANCELED = "canceled"
    EXECUTED = "executed"
    UNKNOWN = "unknown"
    """The exchange reported the order without knowing its state (its counts still hold)."""

    @property
    def is_open(self) -> bool:
        """Could still trade: pending (maybe at the exchange), resting, or of unknown state."""
        return self in (OrderState.PENDING, OrderState.RESTING, OrderState.UNKNOWN)

    @property
    def is_final(self) -> bool:
        return self in (OrderState.REJECTED, OrderState.CANCELED, OrderState.EXECUTED)


class AuditKind(StrEnum):
    """The audit log's well-known kinds (any short string is accepted)."""

    INTENT = "intent"
    RISK_DECISION = "risk_decision"
    ORDER_EVENT = "order_event"
    BREAKER_TRIP = "breaker_trip"
    BREAKER_RESET = "breaker_reset"
    KILL_SWITCH = "kill_switch"
    RECONCILE = "reconcile"


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """An order as the store last recorded it. ``order_id`` is ``None`` until the exchange named
    it; ``client_order_id`` is ``None`` for orders found at the exchange without one."""

    client_order_id: str | None
    order_id: str | None
    ticker: str
    side: BookSide
    price: Price
    initial: Qty
    filled: Qty
    remaining: Qty
    state: OrderState
    created_ms: int
    updated_ms: int
    order_group_id: str | None
    recorded_at: datetime
    last_update_reason: str = ""
    """The exchange's reason for the latest change ("" when it gave none)."""
    strategy: str = ""
    """The strategy that sent the order ("" when none did, or unknown)."""

    def to_order(self) -> Order | None:
        """The domain order, or ``None`` while the exchange has not named it (or refused it)."""
        if self.order_id is None or self.state in (OrderState.PENDING, OrderState.REJECTED):
            return None
        return Order(
            order_id=self.order_id,
            client_order_id=self.client_order_id or "",
            ticker=self.ticker,
            side=self.side,
            price=self.price,
            initial=self.initial,
            filled=self.filled,
            remaining=self.remaining,
            status=OrderStatus(self.state.value),
            created_ms=self.created_ms,
            updated_ms=self.updated_ms,
            order_group_id=self.order_group_id,
            last_update_reason=self.last_update_reason,
        )


@dataclass(frozen=True, slots=True)
class OrderEvent:
    id: int
    client_order_id: str | None
    order_id: str | None
    kind: str
    ts: datetime
    payload: JsonObject
    event_id: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    ts: datetime
    kind: str
    subject: str | None
    reason: str | None
    payload: JsonObject


@dataclass(frozen=True, slots=True)
class DailyPnl:
    """One trading day's P&L in ``Money`` units."""

    day: date
    realized: Money
    unrealized: Money
    fees: Money
    updated_at: datetime

    @property
    def net(self) -> Money:
        return Money(self.realized + self.unrealized - self.fees)


# --------------------------------------------------------------------------------------------
# time


def utc_from_ms(ms: int) -> datetime:
    """A ms epoch stamp as an aware UTC datetime (exact)."""
    seconds, millis = divmod(ms, 1000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=millis * 1000)


def ms_from_utc(ts: datetime) -> int:
    """An aware datetime as a ms epoch stamp (exact for ms-aligned instants, floor otherwise)."""
    delta = ts - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def utc_from_ns(ns: int) -> datetime:
    """A ``time.time_ns()`` reading as an aware UTC datetime (to the microsecond)."""
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)


def _opt_ms(ms: int) -> datetime | None:
    return utc_from_ms(ms) if ms else None


# --------------------------------------------------------------------------------------------
# JSON payloads


def json_default(value: object) -> Any:
    """``json.dumps`` fallback so that an audit payload can never fail to serialize: dataclasses
    and structs become objects, read-only mappings dicts, enums their values, datetimes ISO
    strings, sets sorted lists, else ``str``."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, msgspec.Struct):
        return msgspec.structs.asdict(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def dumps(value: object) -> str:
    return json.dumps(value, default=json_default, separators=(",", ":"))


def as_payload(payload: Mapping[str, Any] | None) -> JsonObject:
    return dict(payload) if payload is not None else {}


# --------------------------------------------------------------------------------------------
# rows


def order_row(order: Order, recorded_at: datetime) -> dict[str, Any]:
    return {
        "client_order_id": order.client_order_id or None,
        "order_id": order.order_id or None,
        "ticker": order.ticker,
        "side": order.side.value,
        "price": int(order.price),
        "initial": int(order.initial),
        "filled": int(order.filled),
        "remaining": int(order.remaining),
        "status": OrderState(order.status.value).value,
        "order_group_id": order.order_group_id,
        "last_update_reason": order.last_update_reason or None,
        "created_at": _opt_ms(order.created_ms),
        "updated_at": _opt_ms(order.updated_ms),
        "recorded_at": recorded_at,
    }


def pending_order_row(
    client_order_id: str,
    ticker: str,
    side: BookSide,
    price: Price,
    qty: Qty,
    ts_ms: int,
    recorded_at: datetime,
    strategy: str = "",
) -> dict[str, Any]:
    return {
        "client_order_id": client_order_id,
        "order_id": None,
        "ticker": ticker,
        "side": side.value,
        "price": int(price),
        "initial": int(qty),
        "filled": 0,
        "remaining": int(qty),
        "status": OrderState.PENDING.value,
        "order_group_id": None,
        "last_update_reason": None,
        "strategy": strategy or None,
        "created_at": _opt_ms(ts_ms),
        "updated_at": _opt_ms(ts_ms),
        "recorded_at": recorded_at,
    }


def to_stored_order(row: Mapping[str, Any]) -> StoredOrder:
    created: datetime | None = row["created_at"]
    updated: datetime | None = row["updated_at"]
    return StoredOrder(
        client_order_id=row["client_order_id"],
        order_id=row["order_id"],
        ticker=row["ticker"],
        side=BookSide(row["side"]),
        price=Price(row["price"]),
        initial=Qty(row["initial"]),
        filled=Qty(row["filled"]),
        remaining=Qty(row["remaining"]),
        state=OrderState(row["status"]),
        created_ms=ms_from_utc(created) if created is not None else 0,
        updated_ms=ms_from_utc(updated) if updated is not None else 0,
        order_group_id=row["order_group_id"],
        recorded_at=row["recorded_at"],
        last_update_reason=row["last_update_reason"] or "",
        strategy=row["strategy"] or "",
    )


def fill_row(fill: Fill, recorded_at: datetime) -> dict[str, Any]:
    return {
        "fill_id": fill.fill_id,
        "order_id": fill.order_id,
        "client_order_id": fill.client_order_id or None,
        "ticker": fill.ticker,
        "side": fill.side.value,
        "price": int(fill.price),
        "qty": int(fill.qty),
        "fee": int(fill.fee),
        "is_taker": bool(fill.is_taker),
        "post_position": None if fill.post_position is None else int(fill.post_position),
        "ts": utc_from_ms(fill.ts_ms),
        "recorded_at": recorded_at,
    }


def to_fill(row: Mapping[str, Any]) -> Fill:
    post = row["post_position"]
    return Fill(
        fill_id=row["fill_id"],
        order_id=row["order_id"],
        ticker=row["ticker"],
        side=BookSide(row["side"]),
        price=Price(row["price"]),
        qty=Qty(row["qty"]),
        fee=Money(row["fee"]),
        is_taker=bool(row["is_taker"]),
        ts_ms=ms_from_utc(row["ts"]),
        client_order_id=row["client_order_id"] or "",
        post_position=None if post is None else Qty(post),
    )


def position_row(position: Position, updated_at: datetime) -> dict[str, Any]:
    return {
        "ticker": position.ticker,
        "qty": int(position.qty),
        "cost": int(position.cost),
        "realized_pnl": int(position.realized_pnl),
        "fees_paid": int(position.fees_paid),
        "updated_at": updated_at,
    }


def to_position(row: Mapping[str, Any]) -> Position:
    return Position(
        ticker=row["ticker"],
        qty=Qty(row["qty"]),
        cost=Money(row["cost"]),
        realized_pnl=Money(row["realized_pnl"]),
        fees_paid=Money(row["fees_paid"]),
    )


def daily_pnl_row(day: date, realized: Money, unrealized: Money, fees: Money, updated_at: datetime) -> dict[str, Any]:
    if isinstance(day, datetime):
        raise TypeError("daily P&L is keyed by a date, not a datetime")
    return {
        "day": day,
        "realized": int(realized),
        "unrealized": int(unrealized),
        "fees": int(fees),
        "updated_at": updated_at,
    }


def to_daily_pnl(row: Mapping[str, Any]) -> DailyPnl:
    return DailyPnl(
        day=row["day"],
        realized=Money(row["realized"]),
        unrealized=Money(row["unrealized"]),
        fees=Money(row["fees"]),
        updated_at=row["updated_at"],
    )


def order_event_row(
    *,
    kind: str,
    ts: datetime,
    client_order_id: str | None,
    order_id: str | None,
    payload: Mapping[str, Any] | None,
    event_id: str | None,
) -> dict[str, Any]:
    if not (client_order_id or order_id):
        raise ValueError("an order event needs a client_order_id or an order_id")
    return {
        "event_id": event_id or None,
        "client_order_id": client_order_id or None,
        "order_id": order_id or None,
        "kind": kind,
        "ts": ts,
        "payload": as_payload(payload),
    }


def to_order_event(row: Mapping[str, Any]) -> OrderEvent:
    return OrderEvent(
        id=row["id"],
        client_order_id=row["client_order_id"],
        order_id=row["order_id"],
        kind=row["kind"],
        ts=row["ts"],
        payload=row["payload"],
        event_id=row["event_id"],
    )


def audit_row(
    kind: str, subject: str | None, payload: Mapping[str, Any] | None, reason: str | None, ts: datetime
) -> dict[str, Any]:
    if not kind:
        raise ValueError("an audit entry needs a kind")
    return {"ts": ts, "kind": str(kind), "subject": subject, "reason": reason, "payload": as_payload(payload)}


def to_audit_entry(row: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        ts=row["ts"],
        kind=row["kind"],
        subject=row["subject"],
        reason=row["reason"],
        payload=row["payload"],
    )
