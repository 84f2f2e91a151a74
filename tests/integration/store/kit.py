"""Small factories for the store tests (domain values with sensible defaults)."""

from __future__ import annotations

from kalshi_trader.domain import BookSide, Fill, Money, Order, OrderStatus, Position, Price, Qty

T0 = 1_767_225_600_000
"""2026-01-01T00:00:00Z in ms: a base for exchange stamps."""


def fill(n: int, **kw: object) -> Fill:
    values: dict[str, object] = {
        "fill_id": f"fill-{n}",
        "order_id": "ord-1",
        "ticker": "KXHIGHNY-26JAN01-B45.5",
        "side": BookSide.BID,
        "price": Price(5600),
        "qty": Qty(1050),
        "fee": Money(123),
        "is_taker": n % 2 == 0,
        "ts_ms": T0 + n * 1000,
        "client_order_id": "cid-1",
        "post_position": Qty(1050 * n),
    }
    values.update(kw)
    return Fill(**values)  # type: ignore[arg-type]


def order(status: OrderStatus = OrderStatus.RESTING, **kw: object) -> Order:
    values: dict[str, object] = {
        "order_id": "ord-1",
        "client_order_id": "cid-1",
        "ticker": "KXHIGHNY-26JAN01-B45.5",
        "side": BookSide.BID,
        "price": Price(5600),
        "initial": Qty(1000),
        "filled": Qty(0),
        "remaining": Qty(1000),
        "status": status,
        "created_ms": T0,
        "updated_ms": T0,
    }
    values.update(kw)
    return Order(**values)  # type: ignore[arg-type]


def position(ticker: str = "KXHIGHNY-26JAN01-B45.5", qty: int = 1000, cost: int = 560_000) -> Position:
    return Position(ticker, Qty(qty), Money(cost), Money(0), Money(0))
