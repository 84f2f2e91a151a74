"""One test (at least) per pre-trade rule: approve at the limit, reject one unit past it, and say why."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.risk.kit import ASK, BID, Desk, market, px, qty, usd

from kalshi_trader.domain import IntentAction, MarketStatus, OrderIntent, Position, TickGrid, TimeInForce
from kalshi_trader.risk.decisions import RiskDecision, Rule


def test_approval_reserves_and_explains() -> None:
    desk = Desk()
    d = desk.place("A1", BID, "0.50", 10, coid="x1")
    assert d.approved
    assert d.rule is Rule.APPROVED
    assert d.reservation_id == "x1"
    assert "place bid 10.00 A1 @ 0.5000" in d.reason
    assert "worst loss 5.0000" in d.reason
    assert d.details["worst_long_qty"] == qty(10)
    assert desk.risk.reservation("x1") is not None
    assert desk.risk.total_exposure() == usd(5)
    with pytest.raises(TypeError):
        d.details["worst_long_qty"] = 0  # type: ignore[index]


def test_a_decisions_details_are_its_own_and_read_only() -> None:
    given = {"qty": 1}
    decision = RiskDecision(False, "why", Rule.MAX_ORDER_SIZE, None, given)
    given["qty"] = 2
    assert decision.details == {"qty": 1}
    with pytest.raises(TypeError):
        decision.details["qty"] = 3  # type: ignore[index]
    rejected = Desk(max_order_size=qty(1)).place("A1", BID, "0.50", 2, coid="big")
    assert rejected.rule is Rule.MAX_ORDER_SIZE
    assert dict(rejected.details) == {"qty": qty(2), "limit": qty(1)}
    with pytest.raises(TypeError):
        rejected.details["qty"] = 0  # type: ignore[index]


def test_check_is_a_dry_run() -> None:
    desk = Desk(max_open_orders=1)
    intent = OrderIntent.place("A1", BID, px("0.50"), qty(1), "dry")
    for _ in range(3):
        assert desk.risk.check(intent, book=desk.book("A1")).approved
    assert desk.risk.reservations() == []


@pytest.mark.parametrize(
    ("intent", "words"),
    [
        (OrderIntent.place("A1", BID, px("0.50"), 0, "z"), "size 0.00 is not positive"),
        (OrderIntent.place("A1", BID, px("0.50"), -100, "z"), "is not positive"),
        (OrderIntent.place("A1", BID, 0, 100, "z"), "not strictly between $0 and $1"),
        (OrderIntent.place("A1", ASK, 10_000, 100, "z"), "not strictly between $0 and $1"),
        (OrderIntent.place("A1", BID, px("0.50"), 100, ""), "no client_order_id"),
    ],
)
def test_invalid_intent(intent: OrderIntent, words: str) -> None:
    desk = Desk()
    d = desk.risk.check_and_reserve(intent, book=desk.book("A1"))
    assert (d.approved, d.rule) == (False, Rule.INVALID_INTENT)
    assert words in d.reason


def test_amend_cannot_change_side_or_overlap() -> None:
    desk = Desk()
    assert desk.place("A1", BID, "0.40", 5, coid="o").approved
    d = desk.amend("A1", ASK, "0.40", 5, "o")
    assert d.rule is Rule.INVALID_INTENT
    assert "cannot change its market or side" in d.reason
    assert desk.amend("A1", BID, "0.41", 5, "o").approved
    d = desk.amend("A1", BID, "0.42", 5, "o")
    assert d.rule is Rule.INVALID_INTENT
    assert "already in flight" in d.reason


def test_unknown_market() -> None:
    desk = Desk()
    d = desk.place("ZZ", BID, "0.50", 1)
    assert (d.approved, d.rule) == (False, Rule.UNKNOWN_MARKET)
    assert "ZZ is not registered" in d.reason


def test_market_not_active() -> None:
    desk = Desk()
    desk.risk.register_market(market("A1", status=MarketStatus.CLOSED))
    d = desk.place("A1", BID, "0.50", 1)
    assert (d.approved, d.rule) == (False, Rule.MARKET_NOT_ACTIVE)
    assert "A1 is closed, not active" in d.reason


def test_market_past_its_close_time_is_not_active_before_any_status_says_so() -> None:
    """Kalshi sends no lifecycle event at close: the close time in market time is enough."""
    desk = Desk()
    desk.risk.register_market(market("A1", close_ms=desk.market.now_ms + 60_000))
    assert desk.place("A1", BID, "0.50", 1).approved
    desk.market.advance(59_999)
    assert desk.place("A1", BID, "0.50", 1).approved
    desk.market.advance(1)
    d = desk.place("A1", BID, "0.50", 1)
    assert (d.approved, d.rule) == (False, Rule.MARKET_NOT_ACTIVE)
    assert d.reason == "market A1 closed at its close time"
    assert desk.risk.check_and_reserve(OrderIntent.cancel("A1", "c-any")).approved  # cancels still pass


def test_duplicate_client_order_id() -> None:
    desk = Desk()
    assert desk.place("A1", BID, "0.50", 1, coid="same").approved
    d = desk.place("A1", BID, "0.50", 1, coid="same")
    assert (d.approved, d.rule) == (False, Rule.DUPLICATE_CLIENT_ORDER_ID)
    assert "same already holds a reservation" in d.reason


def test_unknown_order() -> None:
    d = Desk().amend("A1", BID, "0.50", 1, "never-placed")
    assert (d.approved, d.rule) == (False, Rule.UNKNOWN_ORDER)
    assert "no open order never-placed to amend" in d.reason


def test_max_order_size() -> None:
    desk = Desk(max_order_size=qty(5))
    assert desk.place("A1", BID, "0.50", "5.00").approved
    d = desk.place("A1", BID, "0.50", "5.01")
    assert (d.approved, d.rule) == (False, Rule.MAX_ORDER_SIZE)
    assert d.reason == "size 5.01 exceeds the max order size 5.00"


def test_price_off_grid() -> None:
    desk = Desk()
    assert desk.place("A1", BID, "0.50", 1).approved
    d = desk.place("A1", BID, "0.505", 1)
    assert (d.approved, d.rule) == (False, Rule.PRICE_OFF_GRID)
    assert "0.5050 is not on A1's tick grid" in d.reason
    desk.risk.register_market(replace(market("A2"), grid=TickGrid.named("deci_cent")))
    assert desk.place("A2", BID, "0.505", 1, book=desk.book("A2")).approved


def test_no_order_at_or_below_the_settlement_floor() -> None:
    """The floor is the lowest YES value: no YES bid (nor NO bid at or above $1 − floor) at or under it."""
    desk = Desk()
    desk.risk.register_market(replace(market("A1"), settlement_floor=px("0.30")))
    for side, price in ((BID, "0.30"), (BID, "0.05"), (ASK, "0.30")):
        d = desk.place("A1", side, price, 1, book=desk.book("A1", bid="0.29", ask="0.35"))
        assert (d.approved, d.rule) == (False, Rule.BELOW_SETTLEMENT_FLOOR), (side, price)
        assert "settlement floor 0.3000" in d.reason
    assert desk.place("A1", BID, "0.31", 1, book=desk.book("A1", bid="0.29", ask="0.35")).approved
    assert desk.place("A1", ASK, "0.31", 1, book=desk.book("A1", bid="0.29", ask="0.35")).approved
    desk.risk.register_market(replace(market("A2"), settlement_floor=px("0")))  # a floor market at $0
    assert desk.place("A2", BID, "0.01", 1, book=desk.book("A2", bid="0.01", ask="0.03")).approved


def test_stale_book() -> None:
    desk = Desk(max_book_age_ms=5_000)
    now = desk.clock.now_ms
    assert desk.place("A1", BID, "0.50", 1, book=desk.book("A1", as_of_ms=now - 5_000)).approved
    d = desk.place("A1", BID, "0.50", 1, book=desk.book("A1", as_of_ms=now - 5_001))
    assert (d.approved, d.rule) == (False, Rule.STALE_BOOK)
    assert "is 5001 ms old (limit 5000 ms)" in d.reason
    d = desk.place("A1", BID, "0.50", 1, book=desk.book("A1", stale=True))
    assert d.rule is Rule.STALE_BOOK
    assert "sequence gap" in d.reason
    d = desk.place("A1", BID, "0.50", 1, book=desk.book("A2"))
    assert d.rule is Rule.STALE_BOOK
    assert "no order book for A1" in d.reason
    intent = OrderIntent.place("A1", BID, px("0.50"), qty(1), "nobook")
    assert desk.risk.check_and_reserve(intent).rule is Rule.STALE_BOOK


def test_price_through_book() -> None:
    desk = Desk(max_through_book=px("0.05"))
    assert desk.place("A1", BID, "0.56", 1).approved  # best ask 0.51 + 0.05
    d = desk.place("A1", BID, "0.57", 1)
    assert (d.approved, d.rule) == (False, Rule.PRICE_THROUGH_BOOK)
    assert d.reason == "bid 0.5700 is more than 0.0500 above the best ask 0.5100"
    assert desk.place("A1", ASK, "0.44", 1).approved  # best bid 0.49 - 0.05
    d = desk.place("A1", ASK, "0.43", 1)
    assert d.rule is Rule.PRICE_THROUGH_BOOK
    assert "below the best bid 0.4900" in d.reason
    # An empty opposite side cannot be traded through: the order just rests.
    assert desk.place("A1", BID, "0.90", 1, book=desk.book("A1", ask=None)).approved


def test_price_far_from_fair() -> None:
    desk = Desk(max_fair_value_deviation=px("0.10"), max_through_book=px("0.50"))
    assert desk.place("A1", BID, "0.60", 1, fair="0.50").approved
    d = desk.place("A1", BID, "0.61", 1, fair="0.50")
    assert (d.approved, d.rule) == (False, Rule.PRICE_FAR_FROM_FAIR)
    assert d.reason == "pays 0.6100 for YES worth 0.5000 by fair value (more than 0.1000 over)"
    # An ask buys NO: at YES 0.39 it pays 0.61 for NO worth 0.50.
    assert desk.place("A1", ASK, "0.40", 1, fair="0.50").approved
    d = desk.place("A1", ASK, "0.39", 1, fair="0.50")
    assert d.rule is Rule.PRICE_FAR_FROM_FAIR
    assert "for NO worth 0.5000" in d.reason
    # Far from fair in our favour is not a fat finger: it just will not fill.
    assert desk.place("A1", BID, "0.05", 1, fair="0.50").approved


def test_fair_value_never_blocks_a_risk_reducing_exit() -> None:
    """Long 10 YES, the model now says 0.90: selling at 0.70 (buying NO at 0.30, 0.20 under its 0.10
    fair) is an exit — by its effect, reduce-only or a plain resting sell — but one that would go
    short is not."""
    desk = Desk(max_fair_value_deviation=px("0.10"), max_through_book=px("0.50"))
    assert desk.place("A1", BID, "0.50", 10, coid="long").approved
    desk.fill("long", "A1", BID, "0.50", 10, Position("A1", qty(10), usd(5)))
    book = desk.book("A1", bid="0.70", ask="0.72")
    d = desk.place("A1", ASK, "0.70", 11, fair="0.90", book=book)
    assert (d.approved, d.rule) == (False, Rule.PRICE_FAR_FROM_FAIR)
    assert desk.place("A1", ASK, "0.70", 11, fair="0.90", book=book, reduce_only=True).rule is Rule.PRICE_FAR_FROM_FAIR
    assert desk.place("A1", ASK, "0.70", 4, fair="0.90", book=book).approved
    assert desk.place("A1", ASK, "0.70", 6, fair="0.90", book=book, reduce_only=True).approved


def test_reduce_only_is_for_immediate_or_cancel_creates_only() -> None:
    """Kalshi refuses ``reduce_only`` unless the order is immediate-or-cancel: so does risk, before
    anything is reserved (an exit is IOC; a take-profit is a plain resting order)."""
    desk = Desk()
    assert desk.place("A1", BID, "0.50", 10, coid="long").approved
    desk.fill("long", "A1", BID, "0.50", 10, Position("A1", qty(10), usd(5)))
    for tif in (TimeInForce.GOOD_TILL_CANCELED, TimeInForce.FILL_OR_KILL):
        d = desk.place("A1", ASK, "0.60", 10, reduce_only=True, tif=tif)
        assert (d.approved, d.rule) == (False, Rule.INVALID_INTENT)
        assert "immediate-or-cancel" in d.reason
    amend = OrderIntent(IntentAction.AMEND, "A1", "long", ASK, px("0.60"), qty(5), reduce_only=True)
    assert desk.risk.check_and_reserve(amend, book=desk.book("A1")).rule is Rule.INVALID_INTENT
    assert desk.risk.reservations() == []
    assert desk.place("A1", ASK, "0.49", 10, reduce_only=True).approved


def test_max_open_orders() -> None:
    desk = Desk(max_open_orders=3)
    for _ in range(3):
        assert desk.place("A1", BID, "0.10", 1).approved
    d = desk.place("A1", BID, "0.10", 1, coid="fourth")
    assert (d.approved, d.rule) == (False, Rule.MAX_OPEN_ORDERS)
    assert d.reason == "3 orders are open already (limit 3)"
    desk.risk.release(desk.risk.reservations()[0].reservation_id, "canceled")
    assert desk.place("A1", BID, "0.10", 1, coid="fourth").approved


def test_max_position_per_market() -> None:
    desk = Desk(max_position_per_market=qty(10))
    assert desk.place("A1", BID, "0.50", 6).approved
    assert desk.place("A1", BID, "0.40", 4).approved  # worst long = 10: at the limit
    d = desk.place("A1", BID, "0.40", "0.01")
    assert (d.approved, d.rule) == (False, Rule.MAX_POSITION_PER_MARKET)
    assert d.reason == "worst-case position in A1 would be 10.01 YES contracts (limit 10.00)"
    # The NO leg has its own 10: asks closing the YES exposure and then opening NO.
    assert desk.place("A1", ASK, "0.60", 10).approved
    d = desk.place("A1", ASK, "0.60", "0.01")
    assert d.rule is Rule.MAX_POSITION_PER_MARKET
    assert "10.01 NO contracts" in d.reason
    # Another market has its own limit.
    assert desk.place("A2", BID, "0.50", 10, book=desk.book("A2")).approved


def test_position_limit_counts_the_filled_position_and_lets_exits_through() -> None:
    desk = Desk(max_position_per_market=qty(10))
    assert desk.place("A1", BID, "0.50", 10, coid="buy").approved
    desk.fill("buy", "A1", BID, "0.50", 10, Position("A1", qty(10), usd(5)))
    assert desk.risk.reservation("buy") is None  # fully filled: nothing left reserved
    d = desk.place("A1", BID, "0.50", "0.01")
    assert d.rule is Rule.MAX_POSITION_PER_MARKET
    # An external fill pushed the position past the limit: exits still pass, more does not.
    desk.risk.update_position(Position("A1", qty(15), usd("7.5")))
    assert desk.place("A1", ASK, "0.49", 15).approved
    assert desk.place("A1", BID, "0.49", 1).rule is Rule.MAX_POSITION_PER_MARKET


def test_max_event_exposure_sums_the_brackets() -> None:
    desk = Desk(max_event_exposure=usd(10))
    assert desk.place("A1", BID, "0.50", 10).approved  # worst loss $5
    assert desk.place("A2", BID, "0.50", 10, book=desk.book("A2")).approved  # event: $10, at the limit
    d = desk.place("A2", BID, "0.01", "0.01", book=desk.book("A2"))  # $0.0001 more
    assert (d.approved, d.rule) == (False, Rule.MAX_EVENT_EXPOSURE)
    assert d.reason == "worst-case loss of event EV-1 would be 10.0001 (limit 10.0000)"
    assert desk.risk.event_exposure("EV-1") == usd(10)
    # Another event is another risk.
    assert desk.place("B1", BID, "0.50", 10, book=desk.book("B1")).approved


def test_max_total_exposure() -> None:
    desk = Desk(max_total_exposure=usd(8))
    assert desk.place("A1", BID, "0.50", 10).approved
    assert desk.place("B1", ASK, "0.70", 10, book=desk.book("B1", bid="0.70", ask="0.72")).approved  # NO @ 0.30
    assert desk.risk.total_exposure() == usd(8)
    d = desk.place("A2", BID, "0.01", 1, book=desk.book("A2"))
    assert (d.approved, d.rule) == (False, Rule.MAX_TOTAL_EXPOSURE)
    assert "worst-case loss over all markets would be 8.0100 (limit 8.0000)" in d.reason
    # A bid on B1 loses only if NO wins, where B1's ask (NO) gains: the worst case does not move.
    assert desk.place("B1", BID, "0.01", 1, book=desk.book("B1")).approved
    assert desk.risk.total_exposure() == usd(8)


def test_exposure_nets_the_two_legs_and_exits_pass_at_the_limit() -> None:
    desk = Desk(max_total_exposure=usd(6))
    assert desk.place("A1", BID, "0.60", 10, coid="long", book=desk.book("A1", "0.59", "0.60")).approved  # $6
    desk.fill("long", "A1", BID, "0.60", 10, Position("A1", qty(10), usd(6)))
    assert desk.risk.total_exposure() == usd(6)
    # Selling the YES (buying NO at 0.45) caps the loss instead of adding to it.
    d = desk.place("A1", ASK, "0.55", 10, book=desk.book("A1", bid="0.55", ask="0.57"))
    assert d.approved, d
    assert desk.risk.total_exposure() == usd(6)
    assert desk.place("A2", BID, "0.01", 1, book=desk.book("A2")).rule is Rule.MAX_TOTAL_EXPOSURE


def test_fills_move_reservation_to_position_without_changing_the_worst_case() -> None:
    desk = Desk()
    assert desk.place("A1", BID, "0.50", 10, coid="o").approved
    before = desk.risk.exposure("A1")
    desk.fill("o", "A1", BID, "0.50", 4, Position("A1", qty(4), usd(2)))
    assert desk.risk.exposure("A1") == before
    assert desk.risk.reservation("o").qty == qty(6)  # type: ignore[union-attr]
    # A better price than reserved only lowers the worst case.
    desk.fill("o", "A1", BID, "0.45", 6, Position("A1", qty(10), usd("4.7")))
    assert desk.risk.exposure("A1").loss < before.loss
    assert desk.risk.reservation("o") is None


def test_amend_in_flight_counts_the_larger_terms_until_answered() -> None:
    desk = Desk()
    assert desk.place("A1", BID, "0.50", 10, coid="o").approved
    # New 20 @ 0.40, old 10 @ 0.50: 10 may fill at 0.50 before the amend lands and 10 more at 0.40
    # after it, so the bound is the larger size at the worse price: 20 @ 0.50.
    assert desk.amend("A1", BID, "0.40", 20, "o").approved
    assert desk.risk.total_exposure() == usd(10)
    assert desk.risk.exposure("A1").long == qty(20)
    desk.risk.on_amend_result("o", accepted=False)
    assert desk.risk.total_exposure() == usd(5)
    assert desk.risk.reservation("o").qty == qty(10)
    assert desk.amend("A1", BID, "0.55", 4, "o").approved
    assert desk.risk.total_exposure() == usd("5.5")  # 10 (old size) @ 0.55 (new price) until answered
    desk.risk.on_amend_result("o", accepted=True)
    assert desk.risk.total_exposure() == usd("2.2")


def test_release_and_sync_free_capacity() -> None:
    desk = Desk(max_total_exposure=usd(5))
    assert desk.place("A1", BID, "0.50", 10, coid="o").approved
    assert desk.place("A1", BID, "0.50", 1).rule is Rule.MAX_TOTAL_EXPOSURE
    desk.risk.sync_remaining("o", qty(8))
    assert desk.risk.total_exposure() == usd(4)
    desk.risk.sync_remaining("o", qty(9))  # never grows back
    assert desk.risk.total_exposure() == usd(4)
    assert desk.risk.release("o", "canceled")
    assert not desk.risk.release("o", "again")
    assert desk.risk.total_exposure() == 0
    assert desk.place("A1", BID, "0.50", 10).approved


def test_settlement_drops_the_market_from_exposure() -> None:
    desk = Desk()
    assert desk.place("A1", BID, "0.50", 10, coid="o").approved
    desk.fill("o", "A1", BID, "0.50", 4, Position("A1", qty(4), usd(2)))
    desk.risk.on_settlement("A1")
    assert desk.risk.total_exposure() == 0
    assert desk.risk.reservations() == []


def test_market_moving_to_another_event_moves_its_exposure() -> None:
    desk = Desk()
    assert desk.place("A1", BID, "0.50", 10).approved
    desk.risk.register_market(market("A1", "EV-2"))
    assert desk.risk.event_exposure("EV-1") == 0
    assert desk.risk.event_exposure("EV-2") == usd(5)


def test_rate_budget() -> None:
    desk = Desk(max_writes_per_second=5)
    for _ in range(5):
        assert desk.place("A1", BID, "0.10", 1).approved
    d = desk.place("A1", BID, "0.10", 1)
    assert (d.approved, d.rule) == (False, Rule.RATE_BUDGET)
    assert d.reason == "write budget spent: at most 5 places/amends per second"
    # Cancels are never limited.
    assert desk.risk.check_and_reserve(OrderIntent.cancel("A1", "whatever")).approved
    desk.clock.advance(199)
    assert desk.place("A1", BID, "0.10", 1).rule is Rule.RATE_BUDGET
    desk.clock.advance(1)  # 200 ms refill one write at 5/s
    assert desk.place("A1", BID, "0.10", 1).approved
    assert desk.place("A1", BID, "0.10", 1).rule is Rule.RATE_BUDGET


def test_a_rejected_intent_spends_no_budget() -> None:
    desk = Desk(max_writes_per_second=1, max_order_size=qty(1))
    for _ in range(3):
        assert desk.place("A1", BID, "0.10", 2).rule is Rule.MAX_ORDER_SIZE
    assert desk.place("A1", BID, "0.10", 1).approved


def test_cancels_always_pass() -> None:
    desk = Desk()
    assert desk.place("A1", BID, "0.10", 1, coid="o").approved
    desk.risk.kill(who="ops", why="test")
    d = desk.risk.check_and_reserve(OrderIntent.cancel("A1", "o"))
    assert d.approved
    assert d.reservation_id == "o"
    assert "cancels always pass" in d.reason
