"""Pre-trade checks of the matching engine: pure functions that either return a value or raise
``ExchangeError``, and never mutate anything (so a rejected request leaves no trace).

Contract: error statuses and codes follow docs/kalshi-protocol.md (Errors) — ``400 invalid_order``
(with the documented messages for IOC + expiration and past expirations, details ``"post only
cross"`` for post-only crosses, ``"reduce only requires immediate_or_cancel"`` for a reduce-only
order of another time in force), ``400 invalid_order_size``, ``400 insufficient_balance``,
``400 MARKET_INACTIVE``, ``404 not_found``, ``409 order_already_exists``; engine-level misuse
(bad lifecycle transition, bad group limit) is ``400 invalid_parameters``.
"""

from __future__ import annotations

from typing import Final

from kalshi_trader.domain import (
    PRICE_SCALE,
    QTY_SCALE,
    BookSide,
    MarketStatus,
    Qty,
    SelfTradePrevention,
    TimeInForce,
    format_price,
)
from kalshi_trader.sim.core.order_book import MarketBook, Member
from kalshi_trader.sim.core.state import ExchangeError, MarketState, NewOrder, OrderGroup

MAX_ORDER_COUNT: Final = Qty(1_000_000 * QTY_SCALE)
"""Largest order size: 1,000,000 contracts."""
MIN_GROUP_LIMIT: Final = Qty(1 * QTY_SCALE)
MAX_GROUP_LIMIT: Final = Qty(1_000_000 * QTY_SCALE)

_BID: Final = BookSide.BID
_ACTIVE: Final = MarketStatus.ACTIVE
_OPEN_STATUSES: Final = (MarketStatus.ACTIVE, MarketStatus.INACTIVE)
_GTC: Final = TimeInForce.GOOD_TILL_CANCELED
_IOC: Final = TimeInForce.IMMEDIATE_OR_CANCEL
_TAKER_AT_CROSS: Final = SelfTradePrevention.TAKER_AT_CROSS
_RESULT_STATUSES: Final = (MarketStatus.DETERMINED, MarketStatus.AMENDED, MarketStatus.FINALIZED)

ALLOWED_TRANSITIONS: Final[dict[MarketStatus, tuple[MarketStatus, ...]]] = {
    MarketStatus.ACTIVE: (MarketStatus.INITIALIZED, MarketStatus.INACTIVE, MarketStatus.CLOSED),
    MarketStatus.INACTIVE: (MarketStatus.ACTIVE,),
    MarketStatus.CLOSED: (MarketStatus.INITIALIZED, MarketStatus.ACTIVE, MarketStatus.INACTIVE),
    MarketStatus.DISPUTED: (MarketStatus.DETERMINED, MarketStatus.AMENDED),
}
"""``set_market_status`` targets and the statuses they may come from (determination and
settlement have their own engine methods)."""


def reject(status: int, code: str, message: str, details: str = "") -> ExchangeError:
    return ExchangeError(status, code, message, details)


def not_found(what: str) -> ExchangeError:
    return ExchangeError(404, "not_found", f"{what} not found")


def require_trading(book: MarketBook) -> None:
    """Creates and amends need an active market."""
    if book.state.status is not _ACTIVE:
        raise reject(400, "MARKET_INACTIVE", f"market {book.state.ticker} is {book.state.status}, not active")


def require_open(book: MarketBook) -> None:
    """Cancels and decreases are allowed while paused, not after close (Kalshi's market_lifecycle page)."""
    if book.state.status not in _OPEN_STATUSES:
        raise reject(400, "MARKET_INACTIVE", f"market {book.state.ticker} is {book.state.status}")


def describe_grid(state: MarketState) -> str:
    return "; ".join(
        f"{format_price(b.start)}-{format_price(b.end)} step {format_price(b.step)}" for b in state.grid.bands
    )


def check_price(book: MarketBook, price: int) -> None:
    if type(price) is not int or not book.state.grid.is_valid_order_price(price):
        shown = format_price(price) if type(price) is int else repr(price)
        raise reject(
            400,
            "invalid_order",
            f"price {shown} is not a valid order price for {book.state.ticker}: it must be strictly "
            f"between 0 and 1 on the market's price grid ({describe_grid(book.state)})",
        )
    floor = book.state.settlement_floor
    if floor and price <= floor:
        raise reject(
            400,
            "invalid_order",
            f"price {format_price(price)} is at or below the settlement floor {format_price(floor)} of "
            f"{book.state.ticker}: the YES price must be above it (a NO price below $1 minus it)",
        )


def check_count(count: int, what: str = "count") -> None:
    if type(count) is not int or not 0 < count <= MAX_ORDER_COUNT:
        raise reject(
            400,
            "invalid_order_size",
            f"{what} must be between 0.01 and 1000000.00 contracts in whole hundredths, not {count!r} hundredths",
        )


def check_time_in_force(req: NewOrder, now: int) -> None:
    if req.expiration_ms is None:
        return
    if req.time_in_force is not _GTC:
        raise reject(400, "invalid_order", "Cannot specify both immediate_or_cancel and expiration_ts")
    if req.expiration_ms <= now:
        raise reject(400, "invalid_order", "Expiration timestamp must be in the future")


def check_reduce_only(req: NewOrder) -> None:
    """``reduce_only`` is refused unless the order is immediate-or-cancel (https://docs.kalshi.com/api-reference/orders/create-order-v2)."""
    if req.reduce_only and req.time_in_force is not _IOC:
        raise reject(
            400,
            "invalid_order",
            f"reduce_only orders must be immediate_or_cancel, not {req.time_in_force.value}",
            "reduce only requires immediate_or_cancel",
        )


def usable_group(member: Member, group_id: str | None) -> OrderGroup | None:
    """The member's group an order names (404 if unknown, 400 if triggered)."""
    if group_id is None:
        return None
    group = member.groups.get(group_id)
    if group is None:
        raise not_found(f"order group {group_id}")
    if group.triggered:
        raise reject(400, "invalid_order", f"order group {group_id} is triggered; reset it to place orders")
    return group


def reduce_only_cap(member: Member, ticker: str, side: BookSide, count: int) -> Qty:
    """Cap a reduce-only count at the position it reduces: a bid reduces NO, an ask reduces YES."""
    position = member.account.positions.get(ticker)
    held = position.position if position is not None else 0
    reducible = max(-held, 0) if side is _BID else max(held, 0)
    if reducible == 0:
        raise reject(400, "invalid_order", "reduce only order would increase position")
    return Qty(min(count, reducible))


def check_balance(member: Member, needed: int, freed: int = 0) -> None:
    available = member.account.cash + freed
    if available < needed:
        raise reject(
            400,
            "insufficient_balance",
            f"order needs {format_price(needed)} of collateral; available balance is {format_price(available)}",
        )


def crosses(book: MarketBook, side: BookSide, yes_price: int) -> bool:
    """Would an order at ``yes_price`` on ``side`` trade against the current book?"""
    if side is _BID:
        return bool(book.no.prices) and book.no.prices[-1] >= PRICE_SCALE - yes_price
    return bool(book.yes.prices) and book.yes.prices[-1] >= yes_price


def check_post_only(book: MarketBook, side: BookSide, yes_price: int) -> None:
    if crosses(book, side, yes_price):
        raise reject(400, "invalid_order", "post only order would cross the book", "post only cross")


def fill_or_kill_plan(book: MarketBook, member: Member, side: BookSide, yes_price: int, count: int, stp: str) -> str:
    """``"fill"`` if non-self liquidity within the limit covers ``count``; otherwise ``"ioc"`` if
    the order would self-cross (a FoK that self-crosses behaves like IoC: docs/kalshi-protocol.md,
    Where the documents disagree), else ``"kill"``."""
    opposite = book.no if side is _BID else book.yes
    threshold = PRICE_SCALE - yes_price if side is _BID else yes_price
    available = 0
    self_cross = False
    for key in reversed(opposite.prices):
        if key < threshold:
            break
        for placement in opposite.levels[key].queue:
            if not placement.alive:
                continue
            if placement.member is member:
                if stp == _TAKER_AT_CROSS:
                    return "ioc"
                self_cross = True
                continue
            available += placement.order.remaining
            if available >= count:
                return "fill"
    return "ioc" if self_cross else "kill"


def check_group_limit(contracts_limit: int) -> None:
    if type(contracts_limit) is not int or not MIN_GROUP_LIMIT <= contracts_limit <= MAX_GROUP_LIMIT:
        raise reject(400, "invalid_parameters", "contracts_limit must be between 1 and 1000000 contracts")


def check_transition(state: MarketState, status: MarketStatus) -> None:
    if state.status not in ALLOWED_TRANSITIONS.get(status, ()):
        hint = " (use determine/settle)" if status in _RESULT_STATUSES else ""
        raise reject(
            400, "invalid_parameters", f"market {state.ticker} cannot go from {state.status} to {status}{hint}"
        )
