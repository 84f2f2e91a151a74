"""Order entry on the paper exchange: marketable orders take the displayed book level by level,
time in force, post-only, reduce-only, self-trade prevention and the request checks."""

from __future__ import annotations

import pytest
from tests.unit.paper.kit import ASK, BID, FOK, IOC, MAKER_STP, NO, TICKER, YES, Kit, px, qty

from kalshi_trader.domain import MarketStatus, OrderStatus
from kalshi_trader.execution.venue import AmendRequest, PlaceRequest, VenueNotFound, VenueRejected


def asks(kit: Kit) -> None:
    """YES asks 0.55 ×10, 0.57 ×10, 0.60 ×10 (NO bids at 0.45, 0.43, 0.40); YES bids 0.50 ×30."""
    kit.book(yes=[("0.50", "30")], no=[("0.45", "10"), ("0.43", "10"), ("0.40", "10")])


def test_a_marketable_bid_takes_level_by_level_at_book_prices_up_to_its_limit() -> None:
    kit = Kit()
    asks(kit)
    order = kit.place(BID, "0.60", "25")
    assert [(f.price, f.qty, f.is_taker) for f in kit.fills_of(order)] == [
        (px("0.55"), qty("10"), True),
        (px("0.57"), qty("10"), True),
        (px("0.60"), qty("5"), True),
    ]
    assert order.status is OrderStatus.EXECUTED
    assert order.filled == qty("25")
    assert order.remaining == 0


def test_the_limit_stops_the_sweep_and_the_rest_rests_behind_the_displayed_bids() -> None:
    kit = Kit()
    asks(kit)
    order = kit.place(BID, "0.56", "15")
    assert [(f.price, f.qty) for f in kit.fills_of(order)] == [(px("0.55"), qty("10"))]
    assert order.status is OrderStatus.RESTING
    assert order.remaining == qty("5")
    assert kit.ahead(order) == 0  # nobody displayed at 0.56


def test_liquidity_the_account_took_is_not_taken_again() -> None:
    kit = Kit()
    asks(kit)
    kit.place(BID, "0.55", "6", tif=IOC)
    second = kit.place(BID, "0.55", "10", tif=IOC)
    assert kit.filled(second) == qty("4")  # 10 displayed at 0.55, 6 of them already ours
    kit.delta(NO, "0.45", "-4")  # the feed catches up: 6 left, all of them ours
    assert kit.filled(kit.place(BID, "0.55", "10", tif=IOC)) == 0
    kit.delta(NO, "0.45", "5")  # new liquidity arrives
    assert kit.filled(kit.place(BID, "0.55", "10", tif=IOC)) == qty("5")


def test_an_ask_buys_no_at_the_complement_of_the_yes_bids() -> None:
    kit = Kit()
    asks(kit)
    order = kit.place(ASK, "0.48", "12", tif=IOC)
    assert [(f.price, f.qty, f.side) for f in kit.fills_of(order)] == [(px("0.50"), qty("12"), ASK)]
    assert kit.ex.positions()[0].qty == -qty("12")
    assert kit.ex.positions()[0].cost == px("0.50") * 12  # 12 NO at $0.50


def test_immediate_or_cancel_keeps_what_filled_and_cancels_the_rest() -> None:
    kit = Kit()
    asks(kit)
    order = kit.place(BID, "0.57", "30", tif=IOC)
    assert kit.filled(order) == qty("20")
    assert order.status is OrderStatus.CANCELED
    assert order.remaining == 0
    assert order.filled == qty("20")
    assert kit.ex.resting_orders() == []


def test_fill_or_kill_trades_all_or_nothing() -> None:
    kit = Kit()
    asks(kit)
    killed = kit.place(BID, "0.57", "21", tif=FOK)
    assert kit.fills_of(killed) == []
    assert killed.status is OrderStatus.CANCELED
    done = kit.place(BID, "0.57", "20", tif=FOK)
    assert kit.filled(done) == qty("20")
    assert done.status is OrderStatus.EXECUTED


def test_post_only_that_would_cross_is_refused_and_one_that_does_not_rests() -> None:
    kit = Kit()
    asks(kit)
    with pytest.raises(VenueRejected) as refused:
        kit.place(BID, "0.55", "5", post_only=True)
    assert refused.value.code == "invalid_order"
    assert "post only" in refused.value.message
    assert kit.ex.resting_orders() == []
    assert kit.fills == []
    order = kit.place(BID, "0.54", "5", post_only=True)
    assert order.status is OrderStatus.RESTING


def test_post_only_also_may_not_cross_the_accounts_own_resting_order() -> None:
    kit = Kit()
    kit.book(yes=[("0.40", "5")], no=[("0.30", "5")])  # YES 0.40 bid / 0.70 ask
    kit.place(ASK, "0.60", "5")  # rests: sells YES at 0.60 (a NO bid at 0.40)
    with pytest.raises(VenueRejected):
        kit.place(BID, "0.60", "5", post_only=True)


def test_reduce_only_must_be_immediate_or_cancel_and_is_capped_at_the_position() -> None:
    kit = Kit()
    asks(kit)
    with pytest.raises(VenueRejected) as resting:
        kit.place(ASK, "0.50", "5", reduce_only=True)
    assert "immediate_or_cancel" in resting.value.message
    with pytest.raises(VenueRejected) as nothing:
        kit.place(ASK, "0.50", "5", tif=IOC, reduce_only=True)
    assert "increase position" in nothing.value.message
    kit.place(BID, "0.55", "8", tif=IOC)  # long 8 YES
    exit_order = kit.place(ASK, "0.45", "20", tif=IOC, reduce_only=True)
    assert exit_order.initial == qty("8")
    assert kit.filled(exit_order) == qty("8")
    assert kit.ex.positions()[0].qty == 0


def test_self_cross_taker_at_cross_stops_the_incoming_order_at_the_accounts_own_order() -> None:
    kit = Kit()
    kit.book(yes=[("0.30", "5")], no=[("0.40", "5"), ("0.38", "10")])  # YES asks 0.60 ×5, 0.62 ×10
    own = kit.place(ASK, "0.60", "10")  # rests behind the 5 displayed at 0.60
    assert kit.ahead(own) == qty("5")
    taker = kit.place(BID, "0.65", "20")
    assert [(f.price, f.qty) for f in kit.fills_of(taker)] == [(px("0.60"), qty("5"))]
    assert taker.status is OrderStatus.CANCELED
    assert taker.remaining == 0
    assert kit.current(own).status is OrderStatus.RESTING
    assert kit.fills_of(own) == []


def test_self_cross_maker_cancels_the_resting_order_and_keeps_matching() -> None:
    kit = Kit()
    kit.book(yes=[("0.30", "5")], no=[("0.40", "5"), ("0.38", "10")])
    own = kit.place(ASK, "0.60", "10")
    taker = kit.place(BID, "0.65", "20", stp=MAKER_STP)
    assert [(f.price, f.qty) for f in kit.fills_of(taker)] == [(px("0.60"), qty("5")), (px("0.62"), qty("10"))]
    assert kit.current(own).status is OrderStatus.CANCELED
    assert taker.status is OrderStatus.RESTING
    assert taker.remaining == qty("5")


def test_fill_or_kill_that_self_crosses_behaves_like_immediate_or_cancel() -> None:
    kit = Kit()
    kit.book(yes=[("0.30", "5")], no=[("0.40", "5"), ("0.38", "10")])
    kit.place(ASK, "0.60", "10")
    taker = kit.place(BID, "0.65", "20", tif=FOK)
    assert kit.filled(taker) == qty("5")
    assert taker.status is OrderStatus.CANCELED


def test_amend_that_keeps_the_price_and_shrinks_keeps_the_queue_place() -> None:
    kit = Kit()
    asks(kit)
    order = kit.place(BID, "0.50", "10")
    kit.delta(YES, "0.50", "20")  # more bids join behind
    result = kit.ex.amend(order.order_id, AmendRequest(TICKER, BID, px("0.50"), qty("6"), order.client_order_id))
    assert result.remaining == qty("6")
    assert kit.ahead(order) == qty("30")


def test_amend_to_a_new_price_loses_priority_and_may_trade() -> None:
    kit = Kit()
    asks(kit)
    order = kit.place(BID, "0.50", "10")
    result = kit.ex.amend(order.order_id, AmendRequest(TICKER, BID, px("0.55"), qty("12"), order.client_order_id))
    assert (result.filled, result.remaining) == (qty("10"), qty("2"))
    assert kit.current(order).price == px("0.55")
    assert kit.ahead(order) == 0


def test_decrease_and_cancel() -> None:
    kit = Kit()
    asks(kit)
    order = kit.place(BID, "0.50", "10")
    assert kit.ex.decrease(order.order_id, reduce_to=qty("4")).remaining == qty("4")
    assert kit.ahead(order) == qty("30")
    assert kit.ex.cancel(order.order_id).reduced_by == qty("4")
    with pytest.raises(VenueNotFound):
        kit.ex.cancel(order.order_id)
    assert kit.ex.ledger.reserved == 0
    assert kit.ex.ledger.cash == kit.start_cash


def test_cancel_all_cancels_every_resting_order() -> None:
    kit = Kit()
    asks(kit)
    kit.place(BID, "0.50", "10")
    kit.place(BID, "0.49", "10")
    kit.place(ASK, "0.70", "10")
    assert kit.ex.cancel_all() == 3
    kit.collect()
    assert kit.ex.resting_orders() == []
    assert kit.ex.ledger.reserved == 0


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"price": "0.555"}, "invalid_order"),
        ({"count": "0"}, "invalid_order_size"),
        ({"count": "99999"}, "insufficient_balance"),
        ({"coid": "dup"}, "order_already_exists"),
    ],
)
def test_requests_the_exchange_would_refuse_change_nothing(change: dict[str, str], code: str) -> None:
    kit = Kit()
    asks(kit)
    kit.place(BID, "0.40", "1", coid="dup")
    before = (kit.ex.ledger.cash, kit.ex.ledger.reserved, len(kit.ex.resting_orders()))
    with pytest.raises(VenueRejected) as refused:
        kit.place(BID, change.get("price", "0.50"), change.get("count", "1"), coid=change.get("coid"))
    assert refused.value.code == code
    assert (kit.ex.ledger.cash, kit.ex.ledger.reserved, len(kit.ex.resting_orders())) == before


def test_no_order_before_the_first_snapshot_on_a_stale_book_or_in_a_market_not_open() -> None:
    kit = Kit()
    with pytest.raises(VenueRejected) as no_book:
        kit.place(BID, "0.50", "1")
    assert no_book.value.code == "book_unavailable"
    asks(kit)
    kit.ex.on_book_stale(TICKER)
    with pytest.raises(VenueRejected) as stale:
        kit.place(BID, "0.50", "1")
    assert stale.value.code == "book_unavailable"
    asks(kit)
    kit.ex.on_market_status(TICKER, MarketStatus.INACTIVE)
    with pytest.raises(VenueRejected) as paused:
        kit.place(BID, "0.50", "1")
    assert paused.value.code == "market_inactive"
    with pytest.raises(VenueNotFound):
        kit.ex.place(PlaceRequest("NOPE", BID, px("0.50"), qty("1"), "x"))
