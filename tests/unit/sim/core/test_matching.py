"""sim/core/matching.py: order entry, matching, accounting and events, with exact arithmetic.

Prices in comments are YES prices unless they say NO. Fees: quadratic, M = 1, ordinary accounts
(balance moves in whole cents, Kalshi's fee_rounding page)."""

from __future__ import annotations

import pytest
from tests.unit.sim.core.engine_kit import (
    ASK,
    BID,
    FOK,
    GTC,
    IOC,
    Harness,
    check_invariants,
    order,
    px,
    qty,
    replay_book,
    usd,
)

from kalshi_trader.domain import FeeType, MarketStatus, OrderStatus, SelfTradePrevention, Side
from kalshi_trader.sim.core.matching import MatchingEngine
from kalshi_trader.sim.core.state import (
    BookDelta,
    ExchangeError,
    FillEvent,
    MarketEvent,
    OrderEvent,
    PositionEvent,
    TickerEvent,
    TradeEvent,
)

MAKER = SelfTradePrevention.MAKER


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.add_market()
    return harness


def cash(h: Harness, user: str) -> tuple[int, int]:
    account = h.engine.account(user)
    return account.cash, account.reserved


def consistent(h: Harness) -> None:
    check_invariants(h.engine, h.users, h.initial_cash)
    replayed = replay_book(h.events)
    for state in h.engine.markets():
        assert replayed.get(state.ticker, ([], [])) == h.engine.book(state.ticker)


# --- resting and crossing --------------------------------------------------------------------


def test_resting_bid_reserves_its_cost(h: Harness) -> None:
    result = h.engine.place("alice", order(BID, "0.40", "10", client_order_id="c1"))
    assert result.order.status is OrderStatus.RESTING
    assert (result.fill_count, result.remaining) == (0, qty("10"))
    assert result.average_fill_price is None
    assert result.average_fee_paid is None
    assert cash(h, "alice") == (usd("996.00"), usd("4.00"))
    assert h.engine.book("MKT") == ([(px("0.40"), qty("10"))], [])
    assert h.engine.top("MKT") == (px("0.40"), qty("10"), None, 0)
    kinds = [type(e) for e in h.events if not isinstance(e, MarketEvent)]
    assert kinds == [BookDelta, OrderEvent, TickerEvent]
    consistent(h)


def test_resting_ask_sits_on_the_no_ladder_at_the_no_price(h: Harness) -> None:
    h.engine.place("alice", order(ASK, "0.40", "10"))
    assert cash(h, "alice") == (usd("994.00"), usd("6.00"))
    assert h.engine.book("MKT") == ([], [(px("0.60"), qty("10"))])
    delta = h.events_of(BookDelta)[0]
    assert (delta.side, delta.price, delta.delta, delta.user_id) == (Side.NO, px("0.60"), qty("10"), "alice")
    consistent(h)


def test_full_cross_trades_at_the_maker_price(h: Harness) -> None:
    h.engine.place("alice", order(BID, "0.40", "10"))
    result = h.engine.place("bob", order(ASK, "0.40", "10"))
    assert result.order.status is OrderStatus.EXECUTED
    assert result.fill_count == qty("10")
    assert result.remaining == 0
    assert result.average_fill_price == px("0.40")
    # taker fee 0.07·10·0.4·0.6 = 0.168; bob pays NO 6.00 + 0.168 → balance −6.168 floored to −6.17
    assert result.average_fee_paid == usd("0.0170")
    assert cash(h, "bob") == (usd("993.83"), 0)
    assert cash(h, "alice") == (usd("996.00"), 0)  # maker, quadratic: no fee
    alice = h.engine.account("alice").positions["MKT"]
    bob = h.engine.account("bob").positions["MKT"]
    assert (alice.position, alice.cost, alice.fees_paid, alice.volume) == (qty("10"), usd("4.00"), 0, qty("10"))
    assert (bob.position, bob.cost, bob.fees_paid, bob.total_traded) == (-qty("10"), usd("6.00"), usd("0.17"), usd("6"))
    assert h.engine.fees_collected == usd("0.17")
    state = h.engine.market("MKT")
    assert (state.last_price, state.volume, state.open_interest) == (px("0.40"), qty("10"), qty("10"))
    assert h.engine.book("MKT") == ([], [])
    [trade] = h.engine.trades("MKT")
    assert (trade.price, trade.count, trade.taker_side) == (px("0.40"), qty("10"), ASK)
    [bob_fill] = h.engine.fills("bob")
    [alice_fill] = h.engine.fills("alice")
    assert bob_fill.is_taker
    assert not alice_fill.is_taker
    assert bob_fill.trade_id == alice_fill.trade_id == trade.trade_id
    assert bob_fill.fill_id != alice_fill.fill_id
    assert (bob_fill.fee, bob_fill.post_position, bob_fill.price) == (usd("0.17"), -qty("10"), px("0.40"))
    assert result.order.taker_fees == usd("0.17")
    assert result.order.taker_fill_cost == usd("6.00")
    consistent(h)


def test_match_events_in_causal_order(h: Harness) -> None:
    h.engine.place("alice", order(BID, "0.40", "10"))
    h.events.clear()
    h.engine.place("bob", order(ASK, "0.40", "4"))
    kinds = [type(e) for e in h.events]
    assert kinds == [
        BookDelta,
        TradeEvent,
        FillEvent,
        FillEvent,
        OrderEvent,
        PositionEvent,
        PositionEvent,
        OrderEvent,
        TickerEvent,
    ]
    delta = h.events_of(BookDelta)[0]
    assert (delta.side, delta.price, delta.delta, delta.user_id) == (Side.YES, px("0.40"), -qty("4"), "alice")
    fills = h.events_of(FillEvent)
    assert [f.fill.user_id for f in fills] == ["bob", "alice"]


def test_partial_fill_leaves_the_maker_resting(h: Harness) -> None:
    maker = h.engine.place("alice", order(BID, "0.40", "10")).order
    result = h.engine.place("bob", order(ASK, "0.40", "4"))
    assert result.fill_count == qty("4")
    assert (maker.filled, maker.remaining, maker.status) == (qty("4"), qty("6"), OrderStatus.RESTING)
    assert cash(h, "alice") == (usd("996.00"), usd("2.40"))
    # 0.07·4·0.24 = 0.0672 → 2.40 + 0.0672 = 2.4672 → 2.47
    assert cash(h, "bob") == (usd("997.53"), 0)
    assert h.engine.book("MKT") == ([(px("0.40"), qty("6"))], [])
    consistent(h)


def test_taker_walks_levels_and_keeps_price_improvement(h: Harness) -> None:
    h.engine.place("alice", order(ASK, "0.40", "3"))  # NO bid 0.60
    h.engine.place("carol", order(ASK, "0.45", "3"))  # NO bid 0.55
    result = h.engine.place("bob", order(BID, "0.50", "10"))
    assert [f.price for f in result.fills] == [px("0.40"), px("0.45")]
    assert result.fill_count == qty("6")
    assert result.average_fill_price == px("0.425")
    # fees: 3@0.40 → 0.0504, 3@0.45 → 0.051975→0.0520; balances: −1.2504→−1.26, −1.402→−1.41;
    # rounding 0.0096 + 0.0080 = 0.0176 > 0.01 → a $0.01 rebate on the second fill.
    assert [f.fee for f in result.fills] == [usd("0.06"), usd("0.05")]
    assert cash(h, "bob") == (usd("1000") - usd("1.26") - usd("1.40") - usd("2.00"), usd("2.00"))
    assert h.engine.book("MKT") == ([(px("0.50"), qty("4"))], [])
    assert result.order.status is OrderStatus.RESTING
    consistent(h)


def test_price_time_priority_within_a_level(h: Harness) -> None:
    first = h.engine.place("alice", order(BID, "0.40", "2")).order
    second = h.engine.place("carol", order(BID, "0.40", "2")).order
    assert h.engine.queue_position("carol", second.order_id) == qty("2")
    h.engine.place("bob", order(ASK, "0.40", "3"))
    assert (first.filled, second.filled) == (qty("2"), qty("1"))
    assert h.engine.queue_position("carol", second.order_id) == 0
    assert h.engine.queue_position("alice", first.order_id) == 0  # no longer resting
    consistent(h)


def test_fractional_counts_use_the_fee_accumulator(h: Harness) -> None:
    makers = [h.engine.place("bob", order(ASK, "0.50", "0.30")).order for _ in range(3)]
    result = h.engine.place("alice", order(BID, "0.50", "0.90"))
    assert result.fill_count == qty("0.90")
    # each 0.30@0.50: fee 0.07·0.3·0.25 = 0.00525 (exact to $0.000001); −0.15−0.00525 → −0.16,
    # rounding 0.00475; accumulator 0.00475, 0.0095, 0.01425 → a $0.01 rebate on the third fill.
    assert [f.fee for f in result.fills] == [usd("0.01"), usd("0.01"), 0]
    assert cash(h, "alice") == (usd("1000") - usd("0.47"), 0)  # = the single-fill equivalent 0.4658 → 0.47
    assert result.order.taker_fees == usd("0.02")
    assert result.order.fee_accumulator == usd("0.0042")  # $0.00425 carried, shown to $0.0001
    assert result.average_fee_paid == usd("0.0222")  # 0.02 / 0.9
    assert all(m.status is OrderStatus.EXECUTED for m in makers)
    assert cash(h, "bob") == (usd("1000") - usd("0.45"), 0)
    assert h.engine.fees_collected == usd("0.02")
    consistent(h)


def test_subpenny_prices_round_each_fill_to_the_cent() -> None:
    h = Harness()
    h.add_market("SUB", structure="deci_cent")
    for _ in range(3):
        h.engine.place("bob", order(ASK, "0.055", "1", ticker="SUB"))
    result = h.engine.place("alice", order(BID, "0.055", "3", ticker="SUB"))
    # fee 0.07·0.055·0.945 = 0.00364 → 0.0037; −0.0587 → −0.06 each; accumulator 0.0013·k, no rebate
    assert [f.fee for f in result.fills] == [usd("0.005")] * 3
    assert cash(h, "alice") == (usd("1000") - usd("0.18"), 0)
    # bob buys NO at 0.945: −0.945 floored to −0.95 (rounding 0.005, no maker fee)
    assert [f.fee for f in h.engine.fills("bob")] == [usd("0.005")] * 3
    assert cash(h, "bob") == (usd("1000") - usd("2.85"), 0)
    check_invariants(h.engine, h.users, h.initial_cash)


def test_maker_fees_when_the_series_charges_them() -> None:
    h = Harness()
    h.add_market("MF", fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES)
    h.engine.place("alice", order(BID, "0.50", "100", ticker="MF"))
    h.engine.place("bob", order(ASK, "0.50", "100", ticker="MF"))
    # maker 0.0175·100·0.25 = 0.4375 → 50.4375 → 50.44; taker 1.75 → 51.75
    assert cash(h, "alice") == (usd("1000") - usd("50.44"), 0)
    assert cash(h, "bob") == (usd("1000") - usd("51.75"), 0)
    assert h.engine.fills("alice")[0].fee == usd("0.44")
    assert h.engine.fees_collected == usd("2.19")
    check_invariants(h.engine, h.users, h.initial_cash)


# --- time in force ---------------------------------------------------------------------------


def test_ioc_partial_fill_cancels_the_remainder(h: Harness) -> None:
    h.engine.place("alice", order(BID, "0.40", "5"))
    result = h.engine.place("bob", order(ASK, "0.40", "10", tif=IOC))
    assert (result.fill_count, result.remaining) == (qty("5"), 0)
    assert result.order.status is OrderStatus.CANCELED
    assert result.order.filled == qty("5")
    # 0.07·5·0.24 = 0.084 → −3.084 → −3.09
    assert cash(h, "bob") == (usd("996.91"), 0)
    assert h.engine.book("MKT") == ([], [])
    consistent(h)


def test_ioc_fully_filled_is_executed_and_unfilled_is_canceled(h: Harness) -> None:
    h.engine.place("alice", order(BID, "0.40", "5"))
    assert h.engine.place("bob", order(ASK, "0.40", "5", tif=IOC)).order.status is OrderStatus.EXECUTED
    unfilled = h.engine.place("bob", order(ASK, "0.40", "5", tif=IOC))
    assert unfilled.order.status is OrderStatus.CANCELED
    assert unfilled.fill_count == 0
    assert cash(h, "bob")[1] == 0
    consistent(h)


def test_fok_kills_when_liquidity_is_short(h: Harness) -> None:
    h.engine.place("alice", order(BID, "0.40", "5"))
    before = cash(h, "bob")
    result = h.engine.place("bob", order(ASK, "0.40", "10", tif=FOK))
    assert (result.fill_count, result.remaining, result.order.status) == (0, 0, OrderStatus.CANCELED)
    assert cash(h, "bob") == before
    assert h.engine.book("MKT") == ([(px("0.40"), qty("5"))], [])
    assert h.engine.trades() == []
    consistent(h)


def test_fok_fills_across_levels(h: Harness) -> None:
    h.engine.place("alice", order(BID, "0.42", "3"))
    h.engine.place("carol", order(BID, "0.40", "4"))
    result = h.engine.place("bob", order(ASK, "0.40", "7", tif=FOK))
    assert result.order.status is OrderStatus.EXECUTED
    assert [(f.price, f.count) for f in result.fills] == [(px("0.42"), qty("3")), (px("0.40"), qty("4"))]
    consistent(h)


def test_fok_that_self_crosses_behaves_like_ioc(h: Harness) -> None:
    h.engine.place("bob", order(BID, "0.42", "3"))
    h.engine.place("alice", order(BID, "0.41", "2"))
    result = h.engine.place("alice", order(ASK, "0.40", "5", tif=FOK))
    assert result.fill_count == qty("3")
    assert result.order.status is OrderStatus.CANCELED
    assert h.engine.book("MKT") == ([(px("0.41"), qty("2"))], [])  # alice's own bid untouched
    consistent(h)


def test_buy_max_cost_stops_filling_at_the_budget(h: Harness) -> None:
    h.engine.place("alice", order(ASK, "0.40", "10"))
    result = h.engine.place("bob", order(BID, "0.50", "10", buy_max_cost=usd("1.00")))
    assert result.fill_count == qty("2.50")  # 2.50 × 0.40 = 1.00
    assert result.order.status is OrderStatus.CANCELED
    assert cash(h, "bob")[1] == 0
    consistent(h)


def test_gtt_orders_expire(h: Harness) -> None:
    now = h.clock.now
    placed = h.engine.place("alice", order(BID, "0.40", "5", expiration_ms=now + 1_000)).order
    h.clock.advance(999)
    assert h.engine.expire_orders() == []
    h.clock.advance(1)
    assert h.engine.expire_orders() == [placed]
    assert placed.status is OrderStatus.CANCELED
    assert placed.last_update_reason == "Expired"
    assert cash(h, "alice") == (usd("1000"), 0)
    assert h.engine.book("MKT") == ([], [])
    consistent(h)


def test_gtt_orders_expire_lazily_before_the_next_request(h: Harness) -> None:
    now = h.clock.now
    placed = h.engine.place("alice", order(BID, "0.40", "5", expiration_ms=now + 1_000)).order
    h.clock.advance(5_000)
    result = h.engine.place("bob", order(ASK, "0.40", "5", tif=IOC))
    assert result.fill_count == 0
    assert placed.status is OrderStatus.CANCELED
    consistent(h)


# --- post only, self-trade prevention, reduce only -------------------------------------------


def test_post_only_that_would_cross_is_rejected_and_changes_nothing(h: Harness) -> None:
    h.engine.place("alice", order(BID, "0.40", "5"))
    with pytest.raises(ExchangeError) as err:
        h.engine.place("bob", order(ASK, "0.40", "5", post_only=True, client_order_id="p1"))
    assert (err.value.status, err.value.code, err.value.details) == (400, "invalid_order", "post only cross")
    assert h.engine.orders("bob") == []
    ok = h.engine.place("bob", order(ASK, "0.41", "5", post_only=True, client_order_id="p1"))
    assert ok.order.status is OrderStatus.RESTING
    consistent(h)


def test_self_trade_taker_at_cross_cancels_the_incoming_remainder(h: Harness) -> None:
    h.engine.place("bob", order(BID, "0.40", "5"))
    own = h.engine.place("alice", order(BID, "0.40", "5")).order
    result = h.engine.place("alice", order(ASK, "0.40", "10"))
    assert result.fill_count == qty("5")
    assert result.order.status is OrderStatus.CANCELED
    assert result.order.last_update_reason == "SelfTradePrevention"
    assert own.status is OrderStatus.RESTING
    assert own.remaining == qty("5")
    consistent(h)


def test_self_trade_maker_mode_cancels_the_resting_order_and_keeps_matching(h: Harness) -> None:
    h.engine.place("bob", order(BID, "0.40", "5"))
    own = h.engine.place("alice", order(BID, "0.40", "5")).order
    h.engine.place("carol", order(BID, "0.39", "2"))
    result = h.engine.place("alice", order(ASK, "0.39", "10", stp=MAKER))
    assert [f.count for f in result.fills] == [qty("5"), qty("2")]
    assert own.status is OrderStatus.CANCELED
    assert own.last_update_reason == "SelfTradePrevention"
    assert result.order.status is OrderStatus.RESTING
    assert result.order.remaining == qty("3")
    assert h.engine.book("MKT") == ([], [(px("0.61"), qty("3"))])
    consistent(h)


def buy_yes(h: Harness, user: str, count: str, price: str = "0.40") -> None:
    h.engine.place("carol", order(ASK, price, count))
    h.engine.place(user, order(BID, price, count))


def test_reduce_only_is_capped_at_the_position(h: Harness) -> None:
    buy_yes(h, "alice", "10")
    h.engine.place("bob", order(BID, "0.50", "20"))
    result = h.engine.place("alice", order(ASK, "0.50", "15", tif=IOC, reduce_only=True))
    assert result.order.initial == qty("10")
    assert (result.fill_count, result.remaining) == (qty("10"), 0)
    assert h.engine.account("alice").positions["MKT"].position == 0  # flat, never short
    consistent(h)


@pytest.mark.parametrize("tif", [GTC, FOK])
def test_reduce_only_must_be_immediate_or_cancel(h: Harness, tif: object) -> None:
    buy_yes(h, "alice", "10")
    before = cash(h, "alice")
    with pytest.raises(ExchangeError) as err:
        h.engine.place("alice", order(ASK, "0.60", "10", tif=tif, reduce_only=True))
    assert (err.value.status, err.value.code) == (400, "invalid_order")
    assert "immediate_or_cancel" in err.value.message
    assert h.engine.book("MKT") == ([], [])
    assert cash(h, "alice") == before
    consistent(h)


@pytest.mark.parametrize("side", [BID, ASK])
def test_reduce_only_that_would_increase_is_rejected(h: Harness, side: object) -> None:
    if side is BID:
        buy_yes(h, "alice", "10")  # a bid would add to the YES position
    with pytest.raises(ExchangeError) as err:
        h.engine.place("alice", order(BID, "0.30", "1", tif=IOC, reduce_only=True))
    assert err.value.code == "invalid_order"
    assert "reduce only" in err.value.message


def test_cancel_all_cancels_every_resting_order_of_the_account_only(h: Harness) -> None:
    h.add_market("OTHER")
    mine = [
        h.engine.place("alice", order(BID, "0.30", "2")).order,
        h.engine.place("alice", order(ASK, "0.70", "3")).order,
        h.engine.place("alice", order(BID, "0.20", "1", ticker="OTHER")).order,
    ]
    theirs = h.engine.place("carol", order(BID, "0.31", "4")).order
    assert h.engine.cancel_all("alice") == 3
    assert all(o.status is OrderStatus.CANCELED and o.remaining == 0 for o in mine)
    assert theirs.status is OrderStatus.RESTING
    assert cash(h, "alice") == (usd("1000.00"), 0)
    assert h.engine.cancel_all("alice") == 0
    consistent(h)


# --- amend, decrease, cancel -----------------------------------------------------------------


def test_amend_size_decrease_keeps_priority(h: Harness) -> None:
    alice = h.engine.place("alice", order(BID, "0.40", "5")).order
    carol = h.engine.place("carol", order(BID, "0.40", "5")).order
    result = h.engine.amend("alice", alice.order_id, ticker="MKT", side=BID, price=px("0.40"), count=qty("3"))
    assert result.fill_count == 0
    assert result.remaining == qty("3")
    assert h.engine.queue_position("alice", alice.order_id) == 0
    assert h.engine.queue_position("carol", carol.order_id) == qty("3")
    assert cash(h, "alice") == (usd("998.80"), usd("1.20"))
    assert alice.initial == qty("3")
    consistent(h)


def test_amend_size_increase_loses_priority(h: Harness) -> None:
    alice = h.engine.place("alice", order(BID, "0.40", "5")).order
    h.engine.place("carol", order(BID, "0.40", "5"))
    h.engine.amend("alice", alice.order_id, ticker="MKT", side=BID, price=px("0.40"), count=qty("8"))
    assert h.engine.queue_position("alice", alice.order_id) == qty("5")
    assert cash(h, "alice") == (usd("996.80"), usd("3.20"))
    consistent(h)


def test_amend_price_change_loses_priority_and_moves_levels(h: Harness) -> None:
    alice = h.engine.place("alice", order(BID, "0.40", "5")).order
    h.engine.place("carol", order(BID, "0.41", "5"))
    h.engine.amend("alice", alice.order_id, ticker="MKT", side=BID, price=px("0.41"), count=qty("5"))
    assert h.engine.book("MKT") == ([(px("0.41"), qty("10"))], [])
    assert h.engine.queue_position("alice", alice.order_id) == qty("5")
    assert alice.last_update_reason == "Amend"
    consistent(h)


def test_amend_that_crosses_trades_as_taker(h: Harness) -> None:
    h.engine.place("bob", order(ASK, "0.45", "5"))
    alice = h.engine.place("alice", order(BID, "0.40", "5")).order
    result = h.engine.amend("alice", alice.order_id, ticker="MKT", side=BID, price=px("0.45"), count=qty("5"))
    assert result.fill_count == qty("5")
    assert result.order.status is OrderStatus.EXECUTED
    # 0.07·5·0.45·0.55 = 0.086625 → 0.0867; −2.25 − 0.0867 → −2.34
    assert cash(h, "alice") == (usd("997.66"), 0)
    assert result.fills[0].is_taker
    consistent(h)


def test_amend_count_is_the_new_total_including_fills(h: Harness) -> None:
    alice = h.engine.place("alice", order(BID, "0.40", "10")).order
    h.engine.place("bob", order(ASK, "0.40", "4"))
    h.engine.amend("alice", alice.order_id, ticker="MKT", side=BID, price=px("0.40"), count=qty("7"))
    assert (alice.filled, alice.remaining, alice.initial) == (qty("4"), qty("3"), qty("7"))
    with pytest.raises(ExchangeError) as err:
        h.engine.amend("alice", alice.order_id, ticker="MKT", side=BID, price=px("0.40"), count=qty("4"))
    assert err.value.code == "invalid_order_size"
    consistent(h)


def test_amend_updates_the_client_order_id(h: Harness) -> None:
    alice = h.engine.place("alice", order(BID, "0.40", "5", client_order_id="a")).order
    h.engine.amend(
        "alice",
        alice.order_id,
        ticker="MKT",
        side=BID,
        price=px("0.41"),
        count=qty("5"),
        client_order_id="a",
        updated_client_order_id="b",
    )
    assert alice.client_order_id == "b"
    with pytest.raises(ExchangeError) as err:  # the old id stays taken
        h.engine.place("alice", order(BID, "0.30", "1", client_order_id="a"))
    assert err.value.status == 409


def test_decrease_by_and_to(h: Harness) -> None:
    alice = h.engine.place("alice", order(BID, "0.40", "10")).order
    h.engine.place("carol", order(BID, "0.40", "1"))
    assert h.engine.decrease("alice", alice.order_id, reduce_by=qty("3")).remaining == qty("7")
    assert cash(h, "alice") == (usd("997.20"), usd("2.80"))
    assert h.engine.queue_position("alice", alice.order_id) == 0
    h.engine.decrease("alice", alice.order_id, reduce_to=qty("2"))
    assert cash(h, "alice") == (usd("999.20"), usd("0.80"))
    h.engine.decrease("alice", alice.order_id, reduce_to=qty("5"))  # not a decrease: no-op
    assert alice.remaining == qty("2")
    h.engine.decrease("alice", alice.order_id, reduce_to=qty("0"))
    assert alice.status is OrderStatus.CANCELED
    assert alice.remaining == 0
    assert cash(h, "alice") == (usd("1000"), 0)
    other = h.engine.place("alice", order(BID, "0.40", "1")).order
    h.engine.decrease("alice", other.order_id, reduce_by=qty("9"))
    assert other.status is OrderStatus.CANCELED
    with pytest.raises(ExchangeError) as err:
        h.engine.decrease("alice", other.order_id, reduce_by=qty("1"))
    assert err.value.code == "invalid_order"
    consistent(h)


def test_cancel_returns_the_canceled_size(h: Harness) -> None:
    alice = h.engine.place("alice", order(BID, "0.40", "10")).order
    h.engine.place("bob", order(ASK, "0.40", "4"))
    canceled, reduced_by = h.engine.cancel("alice", alice.order_id)
    assert canceled is alice
    assert reduced_by == qty("6")
    assert (alice.status, alice.remaining, alice.filled) == (OrderStatus.CANCELED, 0, qty("4"))
    assert cash(h, "alice") == (usd("998.40"), 0)
    with pytest.raises(ExchangeError) as err:
        h.engine.cancel("alice", alice.order_id)
    assert err.value.status == 404
    consistent(h)


def test_orders_of_other_users_are_invisible(h: Harness) -> None:
    alice = h.engine.place("alice", order(BID, "0.40", "10")).order
    for call in (
        lambda: h.engine.order("bob", alice.order_id),
        lambda: h.engine.cancel("bob", alice.order_id),
        lambda: h.engine.decrease("bob", alice.order_id, reduce_by=qty("1")),
        lambda: h.engine.queue_position("bob", alice.order_id),
        lambda: h.engine.amend("bob", alice.order_id, ticker="MKT", side=BID, price=px("0.4"), count=qty("1")),
    ):
        with pytest.raises(ExchangeError) as err:
            call()
        assert err.value.status == 404


def test_reads_are_newest_first(h: Harness) -> None:
    first = h.engine.place("alice", order(BID, "0.40", "1")).order
    second = h.engine.place("alice", order(BID, "0.41", "1")).order
    assert h.engine.orders("alice") == [second, first]
    h.engine.place("bob", order(ASK, "0.40", "2"))
    trades = h.engine.trades()
    assert [t.price for t in trades] == [px("0.40"), px("0.41")]
    assert [f.price for f in h.engine.fills("bob")] == [px("0.40"), px("0.41")]


# --- netting and settlement ------------------------------------------------------------------


def test_buying_the_opposite_leg_nets_and_returns_a_dollar_per_pair(h: Harness) -> None:
    h.engine.place("alice", order(BID, "0.40", "10"))
    h.engine.place("bob", order(ASK, "0.40", "10"))  # alice +10 YES @0.40, bob 10 NO
    h.engine.place("carol", order(BID, "0.50", "4"))
    h.engine.place("alice", order(ASK, "0.50", "4"))  # alice buys 4 NO @0.50 → closes 4
    position = h.engine.account("alice").positions["MKT"]
    assert position.position == qty("6")
    assert position.cost == usd("2.40")  # 4.00 × 6/10
    # closing 4: 4 × $1 − 2.00 (NO legs) − 1.60 (basis) = 0.40; fee 0.07 (not in realized P&L)
    assert position.realized_pnl == usd("0.40")
    assert position.fees_paid == usd("0.07")
    # cash: 1000 − 4.00 − 2.07 + 4.00
    assert cash(h, "alice") == (usd("997.93"), 0)
    assert h.engine.market("MKT").open_interest == qty("10")  # alice 6 + carol 4 YES = bob's 10 NO
    consistent(h)


def test_flipping_through_zero_opens_the_other_side(h: Harness) -> None:
    buy_yes(h, "alice", "2")
    h.engine.place("bob", order(BID, "0.30", "5"))
    h.engine.place("alice", order(ASK, "0.30", "5"))  # buys 5 NO @0.70: closes 2, opens 3 NO
    position = h.engine.account("alice").positions["MKT"]
    assert position.position == -qty("3")
    assert position.cost == usd("2.10")  # 3 × 0.70
    assert position.realized_pnl == usd("2") - usd("1.40") - usd("0.80")  # −0.20
    consistent(h)


@pytest.mark.parametrize("result", ["yes", "no"])
def test_settlement_pays_net_winning_contracts(h: Harness, result: str) -> None:
    h.engine.place("alice", order(BID, "0.40", "10"))
    h.engine.place("bob", order(ASK, "0.40", "10"))
    h.engine.place("carol", order(BID, "0.50", "4"))
    h.engine.place("alice", order(ASK, "0.50", "4"))
    h.engine.place("carol", order(BID, "0.10", "1"))  # resting, canceled by determination
    before = {u: h.engine.account(u).cash for u in h.users}
    h.engine.determine("MKT", "yes" if result == "yes" else "no")
    assert h.engine.market("MKT").status == "determined"
    assert h.engine.account("carol").reserved == 0
    records = h.engine.settle("MKT")
    assert h.engine.market("MKT").status == "finalized"
    by_user = {r.user_id: r for r in records}
    assert set(by_user) == {"alice", "bob", "carol"}
    alice, bob, carol = by_user["alice"], by_user["bob"], by_user["carol"]
    assert (alice.yes_count, alice.no_count, alice.yes_total_cost) == (qty("6"), 0, usd("2.40"))
    assert (bob.yes_count, bob.no_count, bob.no_total_cost) == (0, qty("10"), usd("6.00"))
    assert alice.fee_cost == usd("0.07")
    assert bob.fee_cost == usd("0.17")
    if result == "yes":
        assert (alice.revenue, bob.revenue, carol.revenue) == (usd("6"), 0, usd("4"))
        assert alice.value == px("1.00")
    else:
        assert (alice.revenue, bob.revenue, carol.revenue) == (0, usd("10"), 0)
        assert alice.value == 0
    released = usd("0.10")  # carol's canceled bid
    assert h.engine.account("alice").cash == before["alice"] + alice.revenue
    assert h.engine.account("carol").cash == before["carol"] + carol.revenue + released
    assert all("MKT" not in h.engine.account(u).positions for u in h.users)
    assert h.engine.settlements("alice") == [alice]
    assert h.engine.market("MKT").open_interest == 0
    kinds = [e.kind for e in h.events_of(MarketEvent)]
    assert kinds == ["created", "close_date_updated", "determined", "settled"]
    check_invariants(h.engine, h.users, h.initial_cash)


def test_settle_requires_determination(h: Harness) -> None:
    with pytest.raises(ExchangeError):
        h.engine.settle("MKT")
    h.engine.determine("MKT", "no")
    with pytest.raises(ExchangeError):
        h.engine.determine("MKT", "yes")
    h.engine.settle("MKT")
    with pytest.raises(ExchangeError):
        h.engine.settle("MKT")


# --- lifecycle -------------------------------------------------------------------------------


def test_deactivation_cancels_only_cancel_on_pause_orders(h: Harness) -> None:
    keep = h.engine.place("alice", order(BID, "0.40", "1")).order
    drop = h.engine.place("alice", order(BID, "0.41", "1", cancel_order_on_pause=True)).order
    h.engine.set_market_status("MKT", MarketStatus.INACTIVE)
    assert keep.status is OrderStatus.RESTING
    assert drop.status is OrderStatus.CANCELED
    with pytest.raises(ExchangeError) as err:
        h.engine.place("bob", order(ASK, "0.40", "1"))
    assert err.value.code == "MARKET_INACTIVE"
    h.engine.decrease("alice", keep.order_id, reduce_by=qty("0.5"))  # allowed while paused
    h.engine.set_market_status("MKT", MarketStatus.ACTIVE)
    # all resting orders are canceled on reactivation
    assert h.engine.order("alice", keep.order_id).status is OrderStatus.CANCELED
    assert [e.kind for e in h.events_of(MarketEvent)] == ["created", "deactivated", "activated"]
    consistent(h)


def test_close_cancels_everything_and_blocks_order_operations(h: Harness) -> None:
    alice = h.engine.place("alice", order(BID, "0.40", "3")).order
    h.engine.set_market_status("MKT", MarketStatus.CLOSED)
    assert alice.status is OrderStatus.CANCELED
    assert alice.last_update_reason == "MarketClosed"
    assert cash(h, "alice") == (usd("1000"), 0)
    for call in (
        lambda: h.engine.place("alice", order(BID, "0.40", "3")),
        lambda: h.engine.cancel("alice", alice.order_id),
        lambda: h.engine.decrease("alice", alice.order_id, reduce_by=qty("1")),
        lambda: h.engine.amend("alice", alice.order_id, ticker="MKT", side=BID, price=px("0.4"), count=qty("1")),
    ):
        with pytest.raises(ExchangeError) as err:
            call()
        assert (err.value.status, err.value.code) == (400, "MARKET_INACTIVE")
    h.engine.set_market_status("MKT", MarketStatus.ACTIVE)  # reopened
    h.engine.place("alice", order(BID, "0.40", "3"))
    consistent(h)


def test_illegal_status_transitions_are_rejected(h: Harness) -> None:
    with pytest.raises(ExchangeError):
        h.engine.set_market_status("MKT", MarketStatus.FINALIZED)
    with pytest.raises(ExchangeError):
        h.engine.set_market_status("MKT", MarketStatus.INITIALIZED)
    h.engine.determine("MKT", "yes")
    h.engine.set_market_status("MKT", MarketStatus.DISPUTED)
    h.engine.determine("MKT", "no")
    assert h.engine.market("MKT").status == "amended"
    assert h.engine.market("MKT").result == "no"


# --- order groups ----------------------------------------------------------------------------


def test_order_group_triggers_on_rolling_volume(h: Harness) -> None:
    group = h.engine.create_group("alice", qty("10"))
    first = h.engine.place("alice", order(BID, "0.40", "8", order_group_id=group.group_id)).order
    second = h.engine.place("alice", order(BID, "0.30", "5", order_group_id=group.group_id)).order
    assert h.engine.group_orders("alice", group.group_id) == [first, second]
    h.engine.place("bob", order(ASK, "0.40", "8", tif=IOC))
    assert not group.triggered
    h.engine.place("bob", order(ASK, "0.30", "3", tif=IOC))  # 8 + 3 = 11 > 10 within 15 s
    assert group.triggered
    assert second.status is OrderStatus.CANCELED
    assert second.last_update_reason == "OrderGroupTriggered"
    assert h.engine.group_orders("alice", group.group_id) == []
    with pytest.raises(ExchangeError) as err:
        h.engine.place("alice", order(BID, "0.40", "1", order_group_id=group.group_id))
    assert (err.value.status, err.value.code) == (400, "invalid_order")
    h.engine.reset_group("alice", group.group_id)
    assert not group.triggered
    assert group.recent_fills == []
    h.engine.place("alice", order(BID, "0.40", "1", order_group_id=group.group_id))
    consistent(h)


def test_order_group_window_rolls_off_after_15_seconds(h: Harness) -> None:
    group = h.engine.create_group("alice", qty("10"))
    h.engine.place("alice", order(BID, "0.40", "20", order_group_id=group.group_id))
    h.engine.place("bob", order(ASK, "0.40", "8", tif=IOC))
    h.clock.advance(15_000)
    h.engine.place("bob", order(ASK, "0.40", "8", tif=IOC))
    assert not group.triggered
    h.clock.advance(1)
    h.engine.place("bob", order(ASK, "0.40", "3", tif=IOC))
    assert group.triggered


def test_taker_in_a_group_stops_when_its_group_triggers(h: Harness) -> None:
    group = h.engine.create_group("alice", qty("3"))
    h.engine.place("bob", order(ASK, "0.40", "2"))
    h.engine.place("carol", order(ASK, "0.40", "2"))
    h.engine.place("bob", order(ASK, "0.40", "2"))
    result = h.engine.place("alice", order(BID, "0.40", "10", order_group_id=group.group_id))
    assert result.fill_count == qty("4")
    assert group.triggered
    assert result.order.status is OrderStatus.CANCELED
    consistent(h)


def test_group_limit_trigger_reset_and_delete(h: Harness) -> None:
    group = h.engine.create_group("alice", qty("10"))
    resting = h.engine.place("alice", order(BID, "0.40", "20", order_group_id=group.group_id)).order
    h.engine.place("bob", order(ASK, "0.40", "6", tif=IOC))
    h.engine.set_group_limit("alice", group.group_id, qty("6"))  # 6 is not above 6
    assert not group.triggered
    h.engine.set_group_limit("alice", group.group_id, qty("5"))
    assert group.triggered
    assert resting.status is OrderStatus.CANCELED
    h.engine.reset_group("alice", group.group_id)
    manual = h.engine.place("alice", order(BID, "0.40", "1", order_group_id=group.group_id)).order
    h.engine.trigger_group("alice", group.group_id)
    assert manual.status is OrderStatus.CANCELED
    h.engine.reset_group("alice", group.group_id)
    last = h.engine.place("alice", order(BID, "0.40", "1", order_group_id=group.group_id)).order
    h.engine.delete_group("alice", group.group_id)
    assert last.status is OrderStatus.CANCELED
    assert last.last_update_reason == "OrderGroupDeleted"
    assert h.engine.groups("alice") == []
    with pytest.raises(ExchangeError) as err:
        h.engine.group("alice", group.group_id)
    assert err.value.status == 404
    consistent(h)


def test_groups_are_private_and_limits_validated(h: Harness) -> None:
    group = h.engine.create_group("alice", qty("10"))
    with pytest.raises(ExchangeError) as err:
        h.engine.group("bob", group.group_id)
    assert err.value.status == 404
    with pytest.raises(ExchangeError) as err:
        h.engine.place("bob", order(BID, "0.40", "1", order_group_id=group.group_id))
    assert err.value.status == 404
    for bad in (0, qty("0.5"), qty("1000001")):
        with pytest.raises(ExchangeError):
            h.engine.create_group("alice", bad)  # type: ignore[arg-type]


# --- accounts and markets --------------------------------------------------------------------


def test_registry_errors() -> None:
    engine = MatchingEngine(clock_ms=lambda: 0)
    with pytest.raises(ExchangeError) as err:
        engine.account("nobody")
    assert err.value.status == 404
    with pytest.raises(ExchangeError) as err:
        engine.market("NOPE")
    assert (err.value.status, err.value.code) == (404, "not_found")
    engine.open_account("u", usd("1"))
    with pytest.raises(ExchangeError):
        engine.open_account("u", usd("1"))
    ids = {engine.create_group("u", qty("1")).group_id for _ in range(3)}
    assert len(ids) == 3  # default ids are unique uuid4 strings


def test_a_failing_listener_does_not_break_the_engine(h: Harness) -> None:
    def broken(event: object) -> None:
        raise RuntimeError("boom")

    h.engine.add_listener(broken)
    h.engine.place("alice", order(BID, "0.40", "1"))
    h.engine.place("bob", order(ASK, "0.40", "1"))
    consistent(h)


def test_fee_accumulator_carries_from_taker_fills_to_maker_fills() -> None:
    h = Harness()
    h.add_market("MF", fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES)
    h.engine.place("bob", order(ASK, "0.50", "0.30", ticker="MF"))
    alice = h.engine.place("alice", order(BID, "0.50", "0.90", ticker="MF")).order
    # taker fill 0.30@0.50: fee 0.00525, −0.15525 → −0.16, rounding 0.00475 (accumulator 0.00475)
    assert alice.fee_accumulator == usd("0.0047")
    assert cash(h, "alice") == (usd("1000") - usd("0.16") - usd("0.30"), usd("0.30"))
    h.engine.place("carol", order(ASK, "0.50", "0.30", ticker="MF", tif=IOC))
    # maker fill: fee 0.0175·0.3·0.25 = 0.0013125 → 0.001313; −0.151313 → −0.16, rounding 0.008687;
    # accumulator 0.013437 → a $0.01 rebate (its fees are exactly $0.01), so this fill's net fee is 0.
    maker_fill = h.engine.fills("alice")[0]
    assert not maker_fill.is_taker
    assert maker_fill.fee == 0
    assert alice.fee_accumulator == usd("0.0034")  # $0.003437 carried
    assert (alice.taker_fees, alice.maker_fees) == (usd("0.01"), 0)
    assert cash(h, "alice") == (usd("1000") - usd("0.16") - usd("0.15") - usd("0.15"), usd("0.15"))
    check_invariants(h.engine, h.users, h.initial_cash)


def test_one_ticker_event_per_request_and_market(h: Harness) -> None:
    for price in ("0.30", "0.40", "0.41", "0.42"):
        h.engine.place("alice", order(BID, price, "1"))
    h.events.clear()
    h.engine.place("bob", order(ASK, "0.40", "5"))  # sweeps three levels, then rests
    assert len(h.events_of(TradeEvent)) == 3
    assert len(h.events_of(TickerEvent)) == 1
    h.events.clear()
    h.engine.place("carol", order(BID, "0.10", "1"))  # below the top: no ticker change
    assert h.events_of(TickerEvent) == []


def test_listeners_always_see_consistent_state(h: Harness) -> None:
    seen: list[object] = []
    failures: list[str] = []

    def audit(event: object) -> None:
        seen.append(event)
        try:  # the engine logs and swallows listener errors, so record them
            consistent(h)
        except AssertionError as err:
            failures.append(f"{event!r}: {err}")

    h.engine.add_listener(audit)
    group = h.engine.create_group("carol", qty("3"))
    h.engine.place("carol", order(BID, "0.42", "2", order_group_id=group.group_id))
    h.engine.place("carol", order(BID, "0.41", "2", order_group_id=group.group_id))
    h.engine.place("alice", order(BID, "0.40", "2"))
    h.engine.place("bob", order(BID, "0.39", "2"))
    h.engine.place("bob", order(ASK, "0.39", "9", stp=MAKER))  # sweeps, triggers carol's group, cancels own bid
    resting = h.engine.place("alice", order(BID, "0.30", "2")).order
    h.engine.amend("alice", resting.order_id, ticker="MKT", side=BID, price=px("0.62"), count=qty("3"))
    h.engine.determine("MKT", "yes")
    h.engine.settle("MKT")
    assert len(seen) > 30
    assert failures == []
