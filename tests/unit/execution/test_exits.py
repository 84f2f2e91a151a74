"""Exits go first (execution/exits.py and the engine that applies it): another strategy's quote
resting on an exit's side is canceled ahead of the exit instead of blocking it, and the account's
sells never add up to more than it holds.

The pure rules first; then the real engine, risk and record against the paper venue (the real
local matching: an account that buys, quotes and exits in one market)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.unit.execution.kit import BUY, GTC, IOC, SELL, Account, T, c, paper_account

from kalshi_trader.domain import BookSide, OrderIntent, OrderStatus, Price, Qty, TimeInForce
from kalshi_trader.execution import exits
from kalshi_trader.execution.orders import OrderState, OrderTracker, TrackedOrder
from kalshi_trader.execution.views import Outcome

pytestmark = pytest.mark.timeout(60)

# ---------------------------------------------------------------------------------------------
# The rules, pure


def tracked(
    coid: str,
    remaining: int,
    *,
    side: BookSide = SELL,
    tif: TimeInForce = GTC,
    reduce_only: bool = False,
    rests: bool = True,
) -> TrackedOrder:
    tracker = OrderTracker()
    intent = OrderIntent.place(
        T, side, Price(6000), Qty(remaining), coid, tif=tif, reduce_only=reduce_only, strategy="s"
    )
    tracker.on_submitted(intent)
    if rests:
        tracker.on_ack(coid, order_id=f"id-{coid}", filled=Qty(0), remaining=Qty(remaining))
    else:
        tracker.on_rejected(coid, "refused")
    t = tracker.order(coid)
    assert t is not None
    return t


def test_room_is_the_position_less_what_our_other_plain_orders_on_the_side_could_sell() -> None:
    working = [
        tracked("quote", c(6)),
        tracked("tp", c(3)),
        tracked("buy", c(9), side=BUY),  # the other side sells nothing
        tracked("exit-1", c(4), reduce_only=True),  # capped by the exchange
        tracked("gone", c(5), rests=False),
    ]
    assert exits.room(c(10), working, SELL, "exit-2") == c(1)
    assert exits.room(c(10), working, SELL, "quote") == c(7)  # an order never covers itself
    assert exits.room(c(10), working[2:], SELL, "exit-2") is None  # nothing plain rests there


def test_only_the_orders_in_the_way_are_canceled_the_largest_first() -> None:
    working = [tracked("small", c(2)), tracked("large", c(8)), tracked("mid", c(4))]
    names = lambda found: [t.client_order_id for t in found]  # noqa: E731
    assert names(exits.in_the_way(c(20), working, SELL, c(6), "exit")) == []  # 14 rest, 14 may
    assert names(exits.in_the_way(c(20), working, SELL, c(10), "exit")) == ["large"]
    assert names(exits.in_the_way(c(10), working, SELL, c(10), "exit")) == ["large", "mid", "small"]
    # Larger than what is held: the exit sells what is held, so nothing may stay.
    assert names(exits.in_the_way(c(5), working, SELL, c(9), "exit")) == ["large", "mid", "small"]
    # A cancel already queued is not sent again, and that order no longer counts.
    assert names(exits.in_the_way(c(20), working, SELL, c(10), "exit", leaving={"large"})) == []
    assert names(exits.in_the_way(c(10), working, SELL, c(10), "exit", leaving={"large"})) == ["mid", "small"]


def test_orders_that_never_rest_are_not_canceled_ahead_of_an_exit() -> None:
    working = [tracked("ioc", c(8), tif=IOC), tracked("quote", c(4))]
    assert [t.client_order_id for t in exits.in_the_way(c(10), working, SELL, c(10), "exit")] == ["quote"]


# ---------------------------------------------------------------------------------------------
# The engine against the paper venue


@pytest.fixture
async def account(tmp_path: Path) -> AsyncIterator[Account]:
    async with paper_account(tmp_path) as acct:
        yield acct


async def test_another_strategys_quote_is_canceled_ahead_of_an_exit_instead_of_blocking_it(account: Account) -> None:
    engine = account.engine
    entry = engine.submit(OrderIntent.place(T, BUY, Price(5600), c(10), "fav-1", tif=IOC, strategy="favorite"))
    assert (await entry).outcome is Outcome.ACCEPTED
    await account.until(lambda: account.position() == c(10))
    # The market maker quotes the same market: its ask could sell every contract the favourite holds.
    quote = engine.submit(OrderIntent.place(T, SELL, Price(6000), c(10), "mm-1", post_only=True, strategy="weather_mm"))
    assert (await quote).outcome is Outcome.ACCEPTED
    assert account.state("mm-1") is OrderState.RESTING

    stop = engine.submit(
        OrderIntent.place(
            T, SELL, Price(4700), c(10), "fav-1-exit", tif=IOC, reduce_only=True, strategy="favorite", reason="stop"
        )
    )
    assert stop.approved
    result = await stop
    assert result.outcome is Outcome.ACCEPTED, result.reason  # was: rejected, would_flip_position
    await account.until(lambda: account.position() == 0)
    assert account.state("mm-1") is OrderState.CANCELED  # the quote left first
    assert await account.venue.resting_orders() == []  # nothing could sell past zero
    order = await account.venue.find_order("fav-1-exit", ticker=T)
    assert order is not None
    assert (order.status, order.filled) == (OrderStatus.EXECUTED, c(10))


async def test_a_quote_the_exit_leaves_room_for_keeps_resting(account: Account) -> None:
    engine = account.engine
    assert (await engine.submit(OrderIntent.place(T, BUY, Price(5600), c(10), "fav-1", tif=IOC))).ok
    await account.until(lambda: account.position() == c(10))
    assert (await engine.submit(OrderIntent.place(T, SELL, Price(6000), c(4), "mm-1", post_only=True))).ok
    exit_ = engine.submit(OrderIntent.place(T, SELL, Price(4700), c(6), "x-1", tif=IOC, reduce_only=True))
    assert (await exit_).ok
    await account.until(lambda: account.position() == c(4))
    assert account.state("mm-1") is OrderState.RESTING  # 6 sold + 4 resting never exceed the 10 held
    assert [o.client_order_id for o in await account.venue.resting_orders()] == ["mm-1"]
