"""``execution.amends.request``: an amend intent's remaining size counts from the fills known when it
was submitted, and the request names the order's total in terms the exchange applies to its own
counts."""

from __future__ import annotations

from kalshi_trader.domain import BookSide, OrderIntent, Price, Qty
from kalshi_trader.execution.amends import Amend, Decrease, Withdraw, request
from kalshi_trader.execution.orders import OrderTracker, TrackedOrder

PRICE = Price(6000)


def order(size: int, filled: int) -> TrackedOrder:
    """A resting sell of ``size`` at ``PRICE`` of which ``filled`` has traded, as the tracker knows it."""
    tracker = OrderTracker()
    tracker.on_submitted(OrderIntent.place("T", BookSide.ASK, PRICE, size, "tp"))
    return tracker.on_ack("tp", order_id="x", filled=filled, remaining=size - filled)


def test_growth_asked_for_before_a_fill_rests_what_was_wanted_less_that_fill() -> None:
    # 3 wanted when nothing had filled; 1 of the 2 resting has filled since: a total of 3, 2 rest.
    assert request(order(2, filled=1), PRICE, Qty(3), basis=Qty(0)) == Amend(PRICE, Qty(3))
    # Asked for with that fill known: 3 more on top of it.
    assert request(order(2, filled=1), PRICE, Qty(3), basis=Qty(1)) == Amend(PRICE, Qty(4))


def test_a_shrink_at_the_same_price_is_a_decrease_by_the_size_less_the_total() -> None:
    assert request(order(5, filled=0), PRICE, Qty(3), basis=Qty(0)) == Decrease(Qty(2), Qty(3))
    # 1 filled since it was asked for: the total stays 3, so 2 rest (not 3).
    assert request(order(5, filled=1), PRICE, Qty(3), basis=Qty(0)) == Decrease(Qty(2), Qty(3))
    assert request(order(5, filled=1), PRICE, Qty(3), basis=Qty(1)) == Decrease(Qty(1), Qty(4))


def test_a_move_is_an_amend_with_the_total() -> None:
    assert request(order(5, filled=2), Price(6100), Qty(3), basis=Qty(1)) == Amend(Price(6100), Qty(4))
    # A move that also shrinks still moves: only a decrease at the same price keeps priority.
    assert request(order(5, filled=0), Price(6100), Qty(2), basis=Qty(0)) == Amend(Price(6100), Qty(2))


def test_when_everything_wanted_has_filled_what_rests_is_withdrawn() -> None:
    assert request(order(5, filled=3), PRICE, Qty(2), basis=Qty(0)) == Withdraw()
    assert request(order(5, filled=4), Price(6100), Qty(2), basis=Qty(1)) == Withdraw()
    assert request(order(5, filled=2), PRICE, Qty(1), basis=Qty(2)) == Decrease(Qty(2), Qty(3))  # 1 left


def test_a_resize_to_the_size_it_has_changes_nothing() -> None:
    assert request(order(5, filled=2), PRICE, Qty(3), basis=Qty(2)) == Amend(PRICE, Qty(5))
