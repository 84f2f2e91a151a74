"""The queue model: a resting paper order joins behind the displayed size, advances on trades at
its price and (proportionally) on cancels, fills when trades or the book go through it — and
never before the real exchange could have filled it."""

from __future__ import annotations

from tests.unit.paper.kit import ASK, BID, NO, WAIT_MS, YES, Kit, px, qty

from kalshi_trader.domain import OrderStatus


def resting_bid(kit: Kit, size: str = "10") -> object:
    """A bid at 0.50 behind 30 displayed YES bids; YES asks from 0.55."""
    kit.book(yes=[("0.50", "30"), ("0.48", "50")], no=[("0.45", "20")])
    return kit.place(BID, "0.50", size)


def test_a_resting_order_joins_behind_the_size_displayed_when_it_arrived() -> None:
    kit = Kit()
    order = resting_bid(kit)
    assert kit.ahead(order) == qty("30")
    kit.delta(YES, "0.50", "25")  # later bids queue behind it
    assert kit.ahead(order) == qty("30")


def test_trades_at_its_price_advance_it_and_then_fill_it_partially() -> None:
    kit = Kit()
    order = resting_bid(kit)
    kit.sold("0.50", "20")
    assert kit.ahead(order) == qty("10")
    assert kit.fills_of(order) == []
    kit.sold("0.50", "15")  # 10 in front, then 5 to us
    assert [(f.price, f.qty, f.is_taker) for f in kit.fills_of(order)] == [(px("0.50"), qty("5"), False)]
    assert kit.ahead(order) == 0
    current = kit.current(order)
    assert current.status is OrderStatus.RESTING
    assert current.remaining == qty("5")
    kit.sold("0.50", "9")
    assert kit.filled(order) == qty("10")
    assert kit.current(order).status is OrderStatus.EXECUTED


def test_a_trade_reported_before_its_book_decrease_counts_once() -> None:
    kit = Kit()
    order = resting_bid(kit)
    kit.trade("0.50", "20", ASK)  # the trade first ...
    assert kit.ahead(order) == qty("10")
    kit.delta(YES, "0.50", "-20")  # ... then the decrease it caused: not a cancel on top
    kit.later()
    assert kit.ahead(order) == qty("10")
    assert kit.fills_of(order) == []


def test_a_decrease_waits_for_its_trade_so_it_is_not_counted_as_a_cancel_too() -> None:
    kit = Kit()
    order = resting_bid(kit)
    kit.delta(YES, "0.50", "-30")  # the whole queue in front is gone from the book ...
    assert kit.ahead(order) == qty("30")  # ... but a trade may explain it: not yet moved
    kit.trade("0.50", "30", ASK)  # it does: those 30 traded, none of it reached us
    assert kit.fills_of(order) == []
    assert kit.ahead(order) == 0
    kit.later()
    assert kit.fills_of(order) == []


def test_cancels_move_it_only_by_what_cannot_have_come_from_behind_it() -> None:
    kit = Kit()
    order = resting_bid(kit)
    kit.delta(YES, "0.50", "30")  # 30 in front, 30 joined behind
    kit.delta(YES, "0.50", "-20")  # 20 canceled: they may all have been behind us
    kit.later()
    assert kit.ahead(order) == qty("30")
    kit.delta(YES, "0.50", "-25")  # 15 left at the price: at most 15 can be in front
    assert kit.ahead(order) == qty("30")  # a trade may still explain it: not yet
    kit.later()
    assert kit.ahead(order) == qty("15")
    assert kit.fills_of(order) == []  # cancels alone never fill anybody


def test_a_market_maker_requoting_behind_it_does_not_move_it_up() -> None:
    kit = Kit()
    order = resting_bid(kit)  # 30 in front
    for _ in range(20):  # a maker adds 50 behind us and pulls them again, over and over
        kit.delta(YES, "0.50", "50")
        kit.delta(YES, "0.50", "-50")
        kit.later()
    assert kit.ahead(order) == qty("30")
    kit.sold("0.50", "30")
    assert kit.fills_of(order) == []  # the 30 in front still had to trade first


def test_a_decrease_shown_before_the_order_arrived_does_not_move_it() -> None:
    kit = Kit()
    kit.book(yes=[("0.50", "30")], no=[("0.45", "20")])
    kit.delta(YES, "0.50", "-10")  # shown before we arrive
    order = kit.place(BID, "0.50", "10")
    assert kit.ahead(order) == qty("20")
    kit.trade("0.50", "10", ASK)  # the trade behind that decrease happened before us
    assert kit.ahead(order) == qty("20")
    kit.later()
    assert kit.ahead(order) == qty("20")


def test_a_trade_through_its_price_fills_it_up_to_the_traded_size() -> None:
    kit = Kit()
    order = resting_bid(kit)  # 30 in front at 0.50
    kit.delta(YES, "0.48", "-7")
    kit.trade("0.48", "7", ASK)  # a seller reached 0.48: our 0.50 bid came first
    assert [(f.price, f.qty, f.is_taker) for f in kit.fills_of(order)] == [(px("0.50"), qty("7"), False)]


def test_the_book_crossing_its_price_fills_it_from_the_crossing_size() -> None:
    kit = Kit()
    order = resting_bid(kit)
    kit.sold("0.50", "30")  # the queue in front traded away
    kit.delta(NO, "0.52", "4")  # then someone rests a YES ask at 0.48, through our 0.50 bid
    assert [(f.price, f.qty) for f in kit.fills_of(order)] == [(px("0.50"), qty("4"))]
    kit.delta(YES, "0.48", "5")
    kit.book(yes=[("0.48", "55")], no=[("0.52", "4"), ("0.45", "20")])  # the same crossing size again
    assert kit.filled(order) == qty("4")  # not taken twice
    kit.delta(NO, "0.52", "3")  # new crossing size
    assert kit.filled(order) == qty("7")


def test_one_trade_is_never_handed_out_twice() -> None:
    kit = Kit()
    kit.book(yes=[("0.48", "50")], no=[("0.45", "20")])
    first = kit.place(BID, "0.50", "10")
    second = kit.place(BID, "0.49", "10")
    third = kit.place(BID, "0.48", "10")  # behind 50
    kit.trade("0.48", "12", ASK)  # a seller swept to 0.48: 12 in all
    assert kit.filled(first) == qty("10")
    assert kit.filled(second) == qty("2")
    assert kit.filled(third) == 0


def test_our_orders_at_one_price_share_a_trade_in_time_order() -> None:
    kit = Kit()
    kit.book(yes=[("0.50", "5")], no=[("0.45", "20")])
    first = kit.place(BID, "0.50", "4")
    second = kit.place(BID, "0.50", "4")
    kit.sold("0.50", "11")  # 5 real in front, then first gets 4, second 2
    assert (kit.filled(first), kit.filled(second)) == (qty("4"), qty("2"))


def test_the_queue_in_front_is_never_more_than_the_book_can_hold() -> None:
    kit = Kit()
    order = resting_bid(kit)
    kit.book(yes=[("0.50", "12")], no=[("0.45", "20")])  # a fresh snapshot: only 12 left there
    assert kit.ahead(order) == qty("12")


def test_a_trade_without_a_taker_side_moves_nothing() -> None:
    kit = Kit()
    order = resting_bid(kit)
    kit.ex.on_trade("KXHIGHNY-26OCT08-B70", px("0.45"), qty("50"), None)
    kit.collect()
    assert kit.ahead(order) == qty("30")
    assert kit.fills_of(order) == []


def test_waiting_for_the_trade_lasts_the_configured_time() -> None:
    kit = Kit()
    order = resting_bid(kit)
    kit.delta(YES, "0.50", "-30")
    kit.later(WAIT_MS - 1)
    assert kit.ahead(order) == qty("30")
    kit.later(2)
    assert kit.ahead(order) == 0
