"""Order lifecycle, fills, positions and P&L of ``execution.orders.OrderTracker``."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_trader.domain import (
    PRICE_SCALE,
    BookSide,
    Fill,
    Money,
    Order,
    OrderIntent,
    OrderStatus,
    Price,
    Qty,
    Side,
    TimeInForce,
    leg_price,
    parse_money,
    parse_price,
    parse_qty,
)
from kalshi_trader.execution.orders import OrderState, OrderTracker

BID, ASK = BookSide.BID, BookSide.ASK
_ids = itertools.count(1)


def px(text: str) -> Price:
    return parse_price(text)


def qty(text: str | int) -> Qty:
    return parse_qty(str(text))


def usd(text: str | int) -> Money:
    return parse_money(str(text))


def submit(
    tracker: OrderTracker,
    coid: str,
    side: BookSide = BID,
    price: str = "0.40",
    count: str | int = 10,
    ticker: str = "KX-A",
    tif: TimeInForce = TimeInForce.GOOD_TILL_CANCELED,
) -> None:
    tracker.on_submitted(OrderIntent.place(ticker, side, px(price), qty(count), coid, tif=tif, strategy="s"))


def fill(
    order_id: str,
    side: BookSide,
    price: str,
    count: str | int,
    *,
    fee: str = "0",
    coid: str = "",
    ticker: str = "KX-A",
    fill_id: str | None = None,
) -> Fill:
    return Fill(fill_id or f"f{next(_ids)}", order_id, ticker, side, px(price), qty(count), usd(fee), True, 0, coid)


def report(
    order_id: str,
    coid: str,
    status: OrderStatus,
    filled: str | int,
    remaining: str | int,
    *,
    ts: int,
    price: str = "0.40",
    side: BookSide = BID,
    why: str = "",
) -> Order:
    f, r = qty(filled), qty(remaining)
    return Order(
        order_id, coid, "KX-A", side, px(price), Qty(f + r), f, r, status, updated_ms=ts, last_update_reason=why
    )


# ------------------------------------------------------------------------------------------------
# Lifecycle


def test_lifecycle_pending_resting_partial_executed() -> None:
    t = OrderTracker()
    submit(t, "c1")
    assert t.order("c1").state is OrderState.PENDING  # type: ignore[union-attr]
    t.on_ack("c1", order_id="o1", filled=0, remaining=qty(10), ts_ms=1)
    o = t.order("o1")  # the exchange id finds it too
    assert o is not None
    assert (o.state, o.client_order_id, o.remaining) == (OrderState.RESTING, "c1", qty(10))
    assert t.on_fill(fill("o1", BID, "0.40", 4, coid="c1"))
    o = t.order("c1")
    assert o is not None
    assert (o.state, o.filled, o.remaining) == (OrderState.PARTIALLY_FILLED, qty(4), qty(6))
    assert [x.client_order_id for x in t.open_orders()] == ["c1"]
    assert t.on_fill(fill("o1", BID, "0.40", 6, coid="c1"))
    o = t.order("c1")
    assert o is not None
    assert (o.state, o.filled, o.remaining) == (OrderState.EXECUTED, qty(10), 0)
    assert t.open_orders() == []


def test_why_an_order_ended_is_the_reason_of_the_report_that_ended_it() -> None:
    t = OrderTracker()
    submit(t, "c1")
    t.on_ack("c1", order_id="o1", filled=0, remaining=qty(10), ts_ms=1)
    t.on_order_update(report("o1", "c1", OrderStatus.RESTING, 4, 6, ts=2, why="Trade"))
    assert t.order("c1").last_update_reason == "Trade"  # type: ignore[union-attr]
    t.on_order_update(report("o1", "c1", OrderStatus.CANCELED, 4, 0, ts=3, why="SettlementBoundsCancel"))
    t.on_order_update(report("o1", "c1", OrderStatus.RESTING, 4, 6, ts=2, why="Amend"))  # stale: ignored
    t.on_order_update(report("o1", "c1", OrderStatus.CANCELED, 4, 0, ts=4))  # after the end: ignored
    ended = t.order("c1")
    assert ended is not None
    assert (ended.state, ended.last_update_reason) == (OrderState.CANCELED, "SettlementBoundsCancel")
    # a cancel we asked for carries no reason: the order ended with none
    submit(t, "c2")
    t.on_ack("c2", order_id="o2", filled=0, remaining=qty(10), ts_ms=1)
    t.on_order_update(report("o2", "c2", OrderStatus.RESTING, 0, 10, ts=2, why="Amend"))
    t.on_canceled("c2", ts_ms=3)
    t.on_order_update(report("o2", "c2", OrderStatus.CANCELED, 0, 0, ts=3, why="ExpiryCancel"))  # too late
    assert (t.order("c2").state, t.order("c2").last_update_reason) == (OrderState.CANCELED, "")  # type: ignore[union-attr]


def test_a_report_in_unknown_state_goes_by_its_counts() -> None:
    t = OrderTracker()
    submit(t, "c1")
    t.on_ack("c1", order_id="o1", filled=0, remaining=qty(10), ts_ms=1)
    t.on_order_update(report("o1", "c1", OrderStatus.UNKNOWN, 3, 7, ts=2))
    o = t.order("c1")
    assert o is not None
    assert (o.state, o.filled, o.remaining) == (OrderState.PARTIALLY_FILLED, qty(3), qty(7))
    t.on_order_update(report("o1", "c1", OrderStatus.UNKNOWN, 3, 0, ts=3))  # nothing left: ended
    assert t.order("c1").state is OrderState.EXECUTED  # type: ignore[union-attr]


def test_ioc_remainder_is_canceled_and_unfilled_ioc_too() -> None:
    t = OrderTracker()
    submit(t, "ioc", tif=TimeInForce.IMMEDIATE_OR_CANCEL)
    t.on_ack("ioc", order_id="o1", filled=qty(4), remaining=0)
    o = t.order("ioc")
    assert o is not None
    assert (o.state, o.filled, o.remaining, o.unconfirmed_fill_qty) == (OrderState.CANCELED, qty(4), 0, qty(4))
    t.on_fill(fill("o1", BID, "0.40", 4))
    assert t.order("ioc").unconfirmed_fill_qty == 0  # type: ignore[union-attr]
    submit(t, "miss", tif=TimeInForce.IMMEDIATE_OR_CANCEL)
    t.on_ack("miss", order_id="o2", filled=0, remaining=0)
    assert t.order("miss").state is OrderState.CANCELED  # type: ignore[union-attr]
    submit(t, "full", tif=TimeInForce.FILL_OR_KILL)
    t.on_ack("full", order_id="o3", filled=qty(10), remaining=0)
    assert t.order("full").state is OrderState.EXECUTED  # type: ignore[union-attr]


def test_rejected_only_while_pending() -> None:
    t = OrderTracker()
    submit(t, "bad")
    assert t.on_rejected("bad", "invalid_order: post only cross")
    o = t.order("bad")
    assert o is not None
    assert (o.state, o.reject_reason) == (OrderState.REJECTED, "invalid_order: post only cross")
    assert t.open_orders() == []
    submit(t, "live")
    t.on_ack("live", order_id="o2", filled=0, remaining=qty(10))
    assert not t.on_rejected("live", "amend rejected")
    assert t.order("live").state is OrderState.RESTING  # type: ignore[union-attr]


def test_exchange_report_overrides_a_rejection() -> None:
    """A create that timed out and was marked rejected turns out to exist."""
    t = OrderTracker()
    submit(t, "c1")
    t.on_rejected("c1", "timeout")
    t.on_order_update(report("o1", "c1", OrderStatus.RESTING, 0, 10, ts=5))
    o = t.order("c1")
    assert o is not None
    assert (o.state, o.order_id, o.reject_reason) == (OrderState.RESTING, "o1", "")


def test_cancel_keeps_fills_and_late_fills_still_count() -> None:
    t = OrderTracker()
    submit(t, "c1")
    t.on_ack("c1", order_id="o1", filled=0, remaining=qty(10))
    t.on_fill(fill("o1", BID, "0.40", 3))
    t.on_canceled("c1", ts_ms=10)
    o = t.order("c1")
    assert o is not None
    assert (o.state, o.filled, o.remaining) == (OrderState.CANCELED, qty(3), 0)
    # A fill matched before the cancel but delivered after it.
    assert t.on_fill(fill("o1", BID, "0.40", 2))
    o = t.order("c1")
    assert o is not None
    assert (o.state, o.filled, o.remaining) == (OrderState.CANCELED, qty(5), 0)
    assert t.position("KX-A").qty == qty(5)
    # A stale "resting" report cannot reopen it.
    t.on_order_update(report("o1", "c1", OrderStatus.RESTING, 0, 10, ts=5))
    assert t.order("c1").state is OrderState.CANCELED  # type: ignore[union-attr]


def test_duplicate_fills_are_ignored() -> None:
    t = OrderTracker()
    submit(t, "c1")
    t.on_ack("c1", order_id="o1", filled=0, remaining=qty(10))
    f = fill("o1", BID, "0.40", 4, fee="0.07", fill_id="trade-1")
    assert t.on_fill(f)
    assert not t.on_fill(f)
    assert not t.on_fill(fill("o1", BID, "0.40", 4, fee="0.07", fill_id="trade-1"))  # same id, from REST
    assert t.seen_fill("trade-1")
    assert t.position("KX-A").qty == qty(4)
    assert t.fees_paid() == usd("0.07")
    assert t.order("c1").filled == qty(4)  # type: ignore[union-attr]


def test_fill_before_ack_by_client_order_id() -> None:
    t = OrderTracker()
    submit(t, "c1")
    t.on_fill(fill("o1", BID, "0.40", 4, coid="c1"))
    o = t.order("c1")
    assert o is not None
    assert (o.state, o.order_id, o.remaining) == (OrderState.PARTIALLY_FILLED, "o1", qty(6))
    # The ack was built before the fill: it says nothing filled yet.
    t.on_ack("c1", order_id="o1", filled=0, remaining=qty(10), ts_ms=1)
    o = t.order("c1")
    assert o is not None
    assert (o.state, o.filled, o.remaining) == (OrderState.PARTIALLY_FILLED, qty(4), qty(6))


def test_fill_before_ack_known_only_by_order_id() -> None:
    """REST fills carry no client_order_id: the fill moves the position at once and joins its order
    when the ack names the order id."""
    t = OrderTracker()
    submit(t, "c1")
    t.on_fill(fill("o1", BID, "0.40", 4, fee="0.07"))
    assert t.position("KX-A").qty == qty(4)
    assert t.order("c1").fill_qty == 0  # type: ignore[union-attr]
    t.on_ack("c1", order_id="o1", filled=qty(4), remaining=qty(6))
    o = t.order("c1")
    assert o is not None
    assert (o.fill_qty, o.fees, o.remaining, o.unconfirmed_fill_qty) == (qty(4), usd("0.07"), qty(6), 0)


def test_out_of_order_reports_never_unfill() -> None:
    t = OrderTracker()
    submit(t, "c1")
    t.on_ack("c1", order_id="o1", filled=0, remaining=qty(10), ts_ms=100)
    t.on_order_update(report("o1", "c1", OrderStatus.RESTING, 6, 4, ts=300))
    t.on_order_update(report("o1", "c1", OrderStatus.RESTING, 2, 8, ts=200))  # older: ignored
    o = t.order("c1")
    assert o is not None
    assert (o.filled, o.remaining, o.exchange_ms) == (qty(6), qty(4), 300)
    t.on_order_update(report("o1", "c1", OrderStatus.EXECUTED, 10, 0, ts=400))
    t.on_order_update(report("o1", "c1", OrderStatus.RESTING, 6, 4, ts=300))
    o = t.order("c1")
    assert o is not None
    assert (o.state, o.filled, o.unconfirmed_fill_qty) == (OrderState.EXECUTED, qty(10), qty(10))


def test_amend_changes_price_and_size() -> None:
    t = OrderTracker()
    submit(t, "c1")
    t.on_ack("c1", order_id="o1", filled=0, remaining=qty(10))
    t.on_fill(fill("o1", BID, "0.40", 2))
    t.on_amended("o1", price=px("0.42"))  # price only: counts unchanged
    o = t.order("c1")
    assert o is not None
    assert (o.price, o.remaining) == (px("0.42"), qty(8))
    t.on_amended("c1", price=px("0.43"), remaining=qty(15), ts_ms=9)
    o = t.order("c1")
    assert o is not None
    assert (o.price, o.size, o.remaining, o.state) == (px("0.43"), qty(17), qty(15), OrderState.PARTIALLY_FILLED)
    # An amend that crosses: 3 filled by the amend itself (their fill already here), 12 rest.
    t.on_fill(fill("o1", BID, "0.51", 3))
    t.on_amended("c1", price=px("0.52"), remaining=qty(12), ts_ms=10)
    o = t.order("c1")
    assert o is not None
    assert (o.size, o.filled, o.remaining) == (qty(17), qty(5), qty(12))
    # The amend's report on user_orders carries the full counts and confirms it.
    t.on_order_update(report("o1", "c1", OrderStatus.RESTING, 5, 12, ts=10, price="0.52"))
    assert t.order("c1") == o
    t.on_amended("c1", price=px("0.40"), ts_ms=8)  # older than the last amend: ignored
    assert t.order("c1").price == px("0.52")  # type: ignore[union-attr]


def test_an_answer_with_the_new_total_counts_the_fills_it_reveals_before_they_arrive() -> None:
    t = OrderTracker()
    submit(t, "c1")
    t.on_ack("c1", order_id="o1", filled=0, remaining=qty(10))
    # Grown to a total of 12; the answer says 9 rest, so 3 have filled that have not arrived.
    o = t.on_amended("c1", price=px("0.40"), size=qty(12), remaining=qty(9), ts_ms=5)
    assert (o.size, o.filled, o.remaining, o.unconfirmed_fill_qty) == (qty(12), qty(3), qty(9), qty(3))
    t.on_fill(fill("o1", BID, "0.40", 3))
    o = t.order("c1")
    assert o is not None
    assert (o.state, o.filled, o.remaining, o.unconfirmed_fill_qty) == (
        OrderState.PARTIALLY_FILLED,
        qty(3),
        qty(9),
        qty(0),
    )
    # Decreased to a total of 5, answered with 2 resting: 3 filled, as known.
    o = t.on_amended("c1", price=px("0.40"), size=qty(5), remaining=qty(2), ts_ms=6)
    assert (o.size, o.filled, o.remaining) == (qty(5), qty(3), qty(2))


def test_a_cancel_answer_counts_the_fills_made_before_it() -> None:
    t = OrderTracker()
    submit(t, "c1")
    t.on_ack("c1", order_id="o1", filled=0, remaining=qty(10))
    t.on_fill(fill("o1", BID, "0.40", 2))
    # 3 still rested when it was canceled: 7 had filled, 5 of them not arrived yet.
    o = t.on_canceled("c1", reduced_by=qty(3))
    assert (o.state, o.filled, o.remaining, o.unconfirmed_fill_qty) == (OrderState.CANCELED, qty(7), 0, qty(5))
    t.on_fill(fill("o1", BID, "0.40", 5))
    assert t.order("c1").unconfirmed_fill_qty == 0  # type: ignore[union-attr]


def test_unknown_orders_are_adopted_from_reports() -> None:
    t = OrderTracker()
    o = t.on_order_update(report("o9", "made-by-hand", OrderStatus.RESTING, 1, 4, ts=1, side=ASK, price="0.70"))
    assert (o.client_order_id, o.state, o.side) == ("made-by-hand", OrderState.PARTIALLY_FILLED, ASK)
    assert o.remaining == qty(4)
    assert t.order("o9") == o


def test_an_adopted_order_takes_the_strategy_the_record_names() -> None:
    t = OrderTracker()
    t.on_order_update(report("o9", "c9", OrderStatus.RESTING, 0, 4, ts=1), strategy="mm")
    assert [o.client_order_id for o in t.open_orders(strategy="mm")] == ["c9"]
    t.on_order_update(report("o8", "c8", OrderStatus.RESTING, 0, 4, ts=1))
    t.on_order_update(report("o8", "c8", OrderStatus.RESTING, 0, 4, ts=2), strategy="mm")
    assert sorted(o.client_order_id for o in t.open_orders(strategy="mm")) == ["c8", "c9"]
    t.on_order_update(report("o9", "c9", OrderStatus.RESTING, 0, 4, ts=3), strategy="other")
    assert t.order("c9").strategy == "mm"  # type: ignore[union-attr]  # a named sender stays


def test_submitting_is_idempotent_but_ids_cannot_be_reused() -> None:
    t = OrderTracker()
    intent = OrderIntent.place("KX-A", BID, px("0.40"), qty(10), "c1")
    first = t.on_submitted(intent)
    assert t.on_submitted(intent) == first  # a retry
    with pytest.raises(ValueError, match="already used by another order"):
        t.on_submitted(OrderIntent.place("KX-A", BID, px("0.41"), qty(10), "c1"))
    with pytest.raises(ValueError, match="place intent"):
        t.on_submitted(OrderIntent.cancel("KX-A", "c1"))
    with pytest.raises(KeyError, match="unknown order"):
        t.on_ack("nope", order_id="x", filled=0, remaining=1)


def test_a_zero_size_fill_is_an_error() -> None:
    with pytest.raises(ValueError, match="quantity must be positive"):
        OrderTracker().on_fill(fill("o1", BID, "0.40", 0))


# ------------------------------------------------------------------------------------------------
# Positions and P&L


def test_netting_buying_the_other_leg_closes() -> None:
    t = OrderTracker()
    t.on_fill(fill("o1", BID, "0.40", 10, fee="0.17"))  # long 10 YES @ 0.40
    assert t.position("KX-A").cost == usd(4)
    assert t.average_cost("KX-A") == px("0.40")
    # Buy 4 NO at 0.55 (an ask at YES 0.45): closes 4 YES, exit value 0.45 each.
    t.on_fill(fill("o2", ASK, "0.45", 4, fee="0.07"))
    pos = t.position("KX-A")
    assert (pos.qty, pos.cost, pos.realized_pnl) == (qty(6), usd("2.4"), usd("0.2"))
    # Buy 10 NO at 0.50: closes the 6 YES (+0.60) and opens 4 NO at 0.50.
    t.on_fill(fill("o3", ASK, "0.50", 10))
    pos = t.position("KX-A")
    assert (pos.qty, pos.cost, pos.realized_pnl, pos.fees_paid) == (qty(-4), usd(2), usd("0.8"), usd("0.24"))
    assert t.average_cost("KX-A") == px("0.50")  # the NO leg's price
    assert t.realized_pnl() == usd("0.8")
    assert t.fees_paid() == usd("0.24")


def test_unrealized_and_net_pnl_use_the_callers_marks() -> None:
    t = OrderTracker()
    t.on_fill(fill("o1", BID, "0.40", 10, fee="0.17"))
    t.on_fill(fill("o2", ASK, "0.70", 5, fee="0.10", ticker="KX-B"))  # long 5 NO @ 0.30
    marks = {"KX-A": px("0.45"), "KX-B": px("0.60")}  # YES marks; NO worth 0.40
    assert t.unrealized_pnl(marks) == usd("0.5") + usd("0.5")
    assert t.net_pnl(marks) == usd(1) - usd("0.27")
    assert t.unrealized_pnl({"KX-A": px("0.45")}) == usd("0.5")  # unmarked: valued at cost
    assert [p.ticker for p in t.positions()] == ["KX-A", "KX-B"]


def test_settlement_pnl_with_fees() -> None:
    t = OrderTracker()
    t.on_fill(fill("o1", BID, "0.40", 10, fee="0.17"))
    t.on_fill(fill("o2", ASK, "0.70", 5, fee="0.10", ticker="KX-B"))
    won = t.on_settlement("KX-A", Side.YES)
    assert won is not None
    assert (won.qty, won.payout, won.pnl) == (qty(10), usd(10), usd(6))
    lost = t.on_settlement("KX-B", Side.YES)  # NO holder loses the 1.50 paid
    assert lost is not None
    assert (lost.qty, lost.payout, lost.pnl) == (qty(-5), 0, usd("-1.5"))
    assert t.on_settlement("KX-A", Side.NO) is None  # already settled
    assert t.realized_pnl() == usd("4.5")
    assert t.fees_paid() == usd("0.27")
    assert t.net_pnl({}) == usd("4.23")
    assert t.positions() == []
    assert {p.ticker for p in t.positions(include_flat=True)} == {"KX-A", "KX-B"}


def test_scalar_settlement_and_settlement_fee() -> None:
    t = OrderTracker()
    t.on_fill(fill("o1", ASK, "0.30", 4))  # long 4 NO @ 0.70 = 2.80
    result = t.on_settlement("KX-A", px("0.25"), fee=usd("0.0003"))  # NO pays 0.75
    assert result is not None
    assert (result.payout, result.pnl) == (usd(3), usd("0.2"))
    assert t.fees_paid() == usd("0.0003")
    with pytest.raises(ValueError, match="outside"):
        t.on_settlement("KX-B", 10_001)


def test_a_market_settles_once_and_a_fill_heard_after_its_settlement_is_settled_with_it() -> None:
    """Fills and the settlement may arrive in any order (a fill missed by the stream and read back
    after the lifecycle feed settled the market): the result is the same."""
    early = fill("o1", BID, "0.40", 10, fee="0.17")
    late = fill("o2", ASK, "0.30", 4, fee="0.08")  # closes 4 YES (buys NO at 0.70)
    in_order = OrderTracker()
    in_order.on_fill(early)
    in_order.on_fill(late)
    in_order.on_settlement("KX-A", Side.YES)

    settled_first = OrderTracker()
    settled_first.on_fill(early)
    result = settled_first.on_settlement("KX-A", Side.YES)
    assert result is not None
    assert result.qty == qty(10)
    assert settled_first.settled_value("KX-A") == PRICE_SCALE
    assert settled_first.on_fill(late)  # made before the settlement: counted, and settled at once
    assert settled_first.position("KX-A").qty == 0
    assert settled_first.on_settlement("KX-A", Side.YES) is None  # reported again: nothing changes
    assert settled_first.on_settlement("KX-A", Side.NO) is None

    for t in (in_order, settled_first):
        pos = t.position("KX-A")
        assert (pos.qty, pos.cost) == (0, 0)
        # 6 YES paid $1 each for 0.40 (+3.60); 4 closed at 0.30 for 0.40 (−0.40).
        assert t.realized_pnl() == usd("3.2")
        assert t.fees_paid() == usd("0.25")
        assert t.positions() == []


def test_settling_a_market_never_traded_makes_no_position() -> None:
    t = OrderTracker()
    result = t.on_settlement("KX-Z", Price(2500))
    assert result is not None
    assert (result.qty, result.payout, result.pnl) == (0, 0, 0)
    assert t.settled_value("KX-Z") == 2500
    assert t.settled_value("KX-A") is None
    assert t.positions(include_flat=True) == []
    t.on_fill(fill("o1", ASK, "0.30", 2, ticker="KX-Z"))  # 2 NO at 0.70, each paid 0.75
    assert t.position("KX-Z").qty == 0
    assert t.realized_pnl() == usd("0.1")


def test_first_fill_ms_is_the_earliest_exchange_stamp() -> None:
    t = OrderTracker()
    assert t.first_fill_ms == 0
    for n, ts in enumerate((5_000, 0, 3_000, 9_000)):
        t.on_fill(Fill(f"t{n}", "o", "KX-A", BID, px("0.40"), qty(1), Money(0), True, ts))
    assert t.first_fill_ms == 3_000


def test_fractional_sub_penny_fills_are_exact() -> None:
    """0.33 contracts at $0.5001 cost $0.165033: finer than Money; nothing is lost internally."""
    t = OrderTracker()
    for _ in range(3):
        t.on_fill(fill("o1", BID, "0.5001", "0.33"))
    assert t.position("KX-A").cost == usd("0.4951")  # 0.495099 rounded up
    t.on_fill(fill("o2", ASK, "0.5001", "0.99"))  # sold at the same price: flat, zero P&L
    pos = t.position("KX-A")
    assert (pos.qty, pos.cost, pos.realized_pnl) == (0, 0, 0)


fills_st = st.lists(
    st.tuples(
        st.sampled_from([BID, ASK]),
        st.integers(1, PRICE_SCALE - 1),  # any sub-penny price
        st.integers(1, 2_000),  # any fractional size up to 20 contracts
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(fills=fills_st, yes_value=st.integers(0, PRICE_SCALE))
def test_pnl_equals_cash_flows(fills: list[tuple[BookSide, int, int]], yes_value: int) -> None:
    """Whatever the fills, after settlement the realized P&L is exactly the cash that moved: the
    payout minus everything paid (in micro-dollars, then rounded down once to Money)."""
    t = OrderTracker()
    paid = 0
    held = 0
    for i, (side, price, size) in enumerate(fills):
        t.on_fill(Fill(f"f{i}", "o", "KX-A", side, Price(price), Qty(size), Money(0), True, 0))
        paid += leg_price(price, side) * size
        held += size if side is BID else -size
    assert t.position("KX-A").qty == held
    yes_count = sum(s for side, _, s in fills if side is BID)
    no_count = sum(s for side, _, s in fills if side is ASK)
    # Netting pairs a YES with a NO, which together pay exactly $1.
    payout = yes_count * yes_value + no_count * (PRICE_SCALE - yes_value)
    t.on_settlement("KX-A", Price(yes_value))
    assert t.realized_pnl() == (payout - paid) // 100
