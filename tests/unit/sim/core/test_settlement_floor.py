"""sim/core/matching.py: settlement floors (https://docs.kalshi.com/getting_started/settlement_bounds),
the documented worked example step by step — fees left out (a zero fee multiplier), as the page does."""

from __future__ import annotations

import pytest
from tests.unit.sim.core.engine_kit import ASK, BID, Harness, check_invariants, order, px, usd

from kalshi_trader.domain import MarketStatus, OrderStatus
from kalshi_trader.sim.core.state import ExchangeError, OrderEvent, PositionEvent

USERS = ("a", "b", "c", "d")


@pytest.fixture
def h() -> Harness:
    harness = Harness(users=USERS, cash="1000.00")
    state = harness.add_market("SHUT", multiplier=(0, 1))
    state.settlement_floor = px("0")  # a floor market: its floor starts at $0
    harness.add_market("PLAIN", multiplier=(0, 1))
    return harness


def cash(h: Harness, user: str) -> int:
    account = h.engine.account(user)
    return account.cash + account.reserved


def test_the_worked_example(h: Harness) -> None:
    engine = h.engine
    # 1. The floor is $0. A buys 100 YES at $0.40 from B, who buys 100 NO at $0.60.
    engine.place("b", order(ASK, "0.40", "100", ticker="SHUT"))
    engine.place("a", order(BID, "0.40", "100", ticker="SHUT"))
    assert (cash(h, "a"), cash(h, "b")) == (usd("960.00"), usd("940.00"))
    # Resting orders that a raise to $0.30 puts out of bounds: a YES bid at $0.25, an ask at YES
    # $0.30 (a NO bid at $0.70 = $1 − floor); one that stays: an ask at YES $0.50 (NO $0.50).
    low_bid = engine.place("d", order(BID, "0.25", "5", ticker="SHUT")).order
    low_ask = engine.place("d", order(ASK, "0.30", "5", ticker="SHUT")).order
    kept = engine.place("d", order(ASK, "0.50", "5", ticker="SHUT")).order
    h.events.clear()

    # 2. The floor rises to $0.30: A is paid $30, B nothing; the out-of-bounds orders are canceled.
    canceled = engine.set_settlement_floor("SHUT", px("0.30"))
    assert {o.order_id for o in canceled} == {low_bid.order_id, low_ask.order_id}
    assert (cash(h, "a"), cash(h, "b")) == (usd("990.00"), usd("940.00"))
    assert (low_bid.status, low_bid.last_update_reason) == (OrderStatus.CANCELED, "SettlementBounds")
    assert low_ask.status is OrderStatus.CANCELED
    assert kept.status is OrderStatus.RESTING
    reasons = {e.order.order_id: e.order.last_update_reason for e in h.events_of(OrderEvent)}
    assert reasons == {low_bid.order_id: "SettlementBounds", low_ask.order_id: "SettlementBounds"}
    assert engine.account("a").positions["SHUT"].cost == usd("10.00")  # $40 paid, $30 back
    check_invariants(engine, USERS, h.initial_cash)

    # Orders must price YES above the floor (NO below $1 − floor), on both sides.
    for side, price in ((BID, "0.30"), (ASK, "0.29")):
        with pytest.raises(ExchangeError, match=r"at or below the settlement floor 0\.3000"):
            engine.place("c", order(side, price, "1", ticker="SHUT"))

    # 3. A sells 50 YES at $0.45 to C: A gets $0.45 − $0.30 = $0.15 each, C pays as much.
    engine.place("c", order(BID, "0.45", "50", ticker="SHUT"))
    engine.place("a", order(ASK, "0.45", "50", ticker="SHUT"))
    assert (cash(h, "a") - usd("990.00"), usd("1000.00") - cash(h, "c")) == (usd("7.50"), usd("7.50"))
    check_invariants(engine, USERS, h.initial_cash)

    # 4-6. It settles YES: A and C get $1 − $0.30 per contract, B gets $0 (NO lost).
    engine.cancel("d", kept.order_id)
    engine.determine("SHUT", "yes")
    engine.settle("SHUT")
    assert (cash(h, "a"), cash(h, "c"), cash(h, "b")) == (usd("1032.50"), usd("1027.50"), usd("940.00"))
    assert engine.settlements("a")[0].revenue == usd("35.00")
    check_invariants(engine, USERS, h.initial_cash)


def test_a_no_result_settles_at_the_floor(h: Harness) -> None:
    engine = h.engine
    engine.place("b", order(ASK, "0.40", "10", ticker="SHUT"))
    engine.place("a", order(BID, "0.40", "10", ticker="SHUT"))
    engine.set_settlement_floor("SHUT", px("0.20"))
    engine.determine("SHUT", "no")
    assert engine.market("SHUT").settlement_value == px("0.20")  # YES is worth the floor
    engine.settle("SHUT")
    # A: paid $4, got $2 at the raise, $0 at settlement; B: paid $6, got $1 − $0.20 = $0.80 each.
    assert (cash(h, "a"), cash(h, "b")) == (usd("998.00"), usd("1002.00"))
    assert engine.settlements("b")[0].value == px("0.20")
    settled = [e.position for e in h.events_of(PositionEvent) if e.user_id == "a"][-1]
    assert (settled.position, settled.realized_pnl) == (0, usd("-2.00"))
    check_invariants(engine, USERS, h.initial_cash)


def test_only_floor_markets_raise_and_only_upwards(h: Harness) -> None:
    engine = h.engine
    with pytest.raises(ExchangeError, match="default settlement bounds"):
        engine.set_settlement_floor("PLAIN", px("0.10"))
    engine.set_settlement_floor("SHUT", px("0.10"))
    for floor in ("0.10", "0.05"):
        with pytest.raises(ExchangeError, match="can only rise"):
            engine.set_settlement_floor("SHUT", px(floor))
    with pytest.raises(ExchangeError, match="can only rise"):
        engine.set_settlement_floor("SHUT", px("1.00"))
    engine.set_market_status("SHUT", MarketStatus.CLOSED)
    with pytest.raises(ExchangeError, match="closed"):
        engine.set_settlement_floor("SHUT", px("0.20"))
    assert engine.market("SHUT").settlement_floor == px("0.10")
    assert engine.market("PLAIN").settlement_floor is None
