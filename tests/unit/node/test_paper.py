"""Our paper orders laid over the live book the way Kalshi's book would show them, and taken out of
a book that shows them."""

from __future__ import annotations

from kalshi_trader.domain import BookSide, IntentAction, Level, OrderIntent, Price, Qty
from kalshi_trader.execution.orders import OrderTracker
from kalshi_trader.node.paper import best_without_own, own_levels, with_own


def test_resting_orders_become_bid_levels_of_their_leg() -> None:
    tracker = OrderTracker()
    for coid, side, price, qty in (
        ("b1", BookSide.BID, 4500, 300),
        ("b2", BookSide.BID, 4500, 200),
        ("a1", BookSide.ASK, 5500, 100),
        ("p", BookSide.BID, 4000, 100),
    ):
        tracker.on_submitted(OrderIntent(IntentAction.PLACE, "T", coid, side, Price(price), Qty(qty)))
    for n, coid in enumerate(("b1", "b2", "a1")):  # "p" is not acknowledged: not on the book yet
        tracker.on_ack(coid, order_id=f"o{n}", filled=Qty(0), remaining=tracker.order(coid).size, ts_ms=1)  # type: ignore[union-attr]
    yes, no = own_levels(tracker.open_orders("T"))
    assert yes == {4500: 500}
    assert no == {4500: 100}  # an ask at YES $0.55 is a NO bid at $0.45


def test_own_levels_merge_into_the_ladder_best_first_and_cut_to_depth() -> None:
    ladder = [Level(Price(4400), Qty(1000)), Level(Price(4300), Qty(200))]
    assert with_own(ladder, {4500: 500, 4300: 100}, 2) == [Level(Price(4500), Qty(500)), Level(Price(4400), Qty(1000))]
    assert with_own(ladder, {}, 1) == [Level(Price(4400), Qty(1000))]
    assert with_own([], {4300: 100}, 5) == [Level(Price(4300), Qty(100))]


def test_the_best_price_without_our_own_orders_skips_levels_that_are_only_ours() -> None:
    ladder = [Level(Price(4500), Qty(500)), Level(Price(4400), Qty(1000)), Level(Price(4300), Qty(200))]
    assert best_without_own(ladder, {}) == 4500
    assert best_without_own(ladder, {4500: 500}) == 4400  # the best level is all ours
    assert best_without_own(ladder, {4500: 400}) == 4500  # someone else rests there too
    assert best_without_own(ladder, {4500: 500, 4400: 1000}) == 4300
    assert best_without_own(with_own(ladder, {4600: 100}, 4), {4600: 100}) == 4500  # the reverse of with_own
    assert best_without_own(ladder[:1], {4500: 500}) is None
