"""The example value taker as a pure function: edge after the fee, sizing inside the position cap
and the risk limits, skips that say why, the cool-down and what a refusal does to it."""

from __future__ import annotations

from tests.unit.strategy.kit import ASK, BID, MINUTE, NOW, ct, fair, order, px, risk_for, snap, state

from kalshi_trader.domain import IntentAction, OrderIntent, TimeInForce
from kalshi_trader.strategy.base import Refusal, StrategyResult, StrategyState, Verdict
from kalshi_trader.strategy.value_taker import ValueTakerMemory, ValueTakerParams, ValueTakerStrategy

T = "KXHIGHNY-26MAY16-B78.5"


def run(
    st: StrategyState, memory: ValueTakerMemory | None = None, **params: object
) -> StrategyResult[ValueTakerMemory]:
    strategy = ValueTakerStrategy(ValueTakerParams(**params))  # type: ignore[arg-type]
    return strategy.decide(st, memory or strategy.initial_memory())


def only(result: StrategyResult[ValueTakerMemory]) -> OrderIntent:
    (intent,) = result.intents
    return intent


def test_buys_yes_priced_below_its_fair_value_with_an_ioc_at_the_ask() -> None:
    intent = only(run(state(NOW, [snap(T, bid="0.40", ask="0.42")], fair_values=[fair(T, "0.55")])))
    assert (intent.action, intent.side, intent.price, intent.qty) == (IntentAction.PLACE, BID, px("0.42"), ct(2))
    assert intent.tif is TimeInForce.IMMEDIATE_OR_CANCEL
    assert "YES worth $0.5500, offered at $0.4200" in intent.reason


def test_buys_no_when_the_yes_bid_is_above_the_fair_value() -> None:
    intent = only(run(state(NOW, [snap(T, bid="0.60", ask="0.62")], fair_values=[fair(T, "0.45")])))
    assert (intent.side, intent.price) == (ASK, px("0.60"))
    assert "NO worth $0.5500, offered at $0.4000" in intent.reason


def test_an_edge_the_fee_eats_is_a_skip_saying_so() -> None:
    result = run(state(NOW, [snap(T, bid="0.40", ask="0.42")], fair_values=[fair(T, "0.46")]))
    assert result.actions == ()
    (decision,) = result.decisions
    assert decision.verdict is Verdict.SKIP
    assert "below $0.0500" in decision.reason


def test_sized_within_the_position_cap_the_size_shown_and_the_risk_limits() -> None:
    market = snap(T, bid="0.40", ask="0.42", ask_qty=1.5)
    shown = only(run(state(NOW, [market], fair_values=[fair(T, "0.60")]), contracts=ct(5)))
    assert shown.qty == ct(1)  # 1.5 shown, whole contracts
    held = only(run(state(NOW, [snap(T, bid="0.40", ask="0.42")], fair_values=[fair(T, "0.60")], positions={T: 4})))
    assert held.qty == ct(1)  # 5 at most on the leg
    risk = risk_for([market], max_position_per_market=0.5)
    capped = run(state(NOW, [market], fair_values=[fair(T, "0.60")], room=risk.room()))
    assert capped.actions == ()
    assert "no size left" in capped.decisions[0].reason
    assert "limit 0.50" in capped.decisions[0].reason


def test_cools_down_after_a_buy_unless_the_buy_was_refused() -> None:
    market = [snap(T, bid="0.40", ask="0.42")]
    first = run(state(NOW, market, fair_values=[fair(T, "0.60")]))
    intent = only(first)
    later = NOW + MINUTE
    market_later = [snap(T, bid="0.40", ask="0.42", now=later)]
    values = [fair(T, "0.60", as_of=later)]
    cooling = run(state(later, market_later, fair_values=values), first.memory)
    assert cooling.actions == ()
    assert "cooling down" in cooling.decisions[0].reason
    refused = [Refusal.of(intent, "stale_book", "the order book is stale")]
    again = run(state(later, market_later, fair_values=values, refused=refused), first.memory)
    assert [i.action for i in again.intents] == [IntentAction.PLACE]


def test_no_buy_while_an_order_of_ours_works_there() -> None:
    working = [order(T, BID, "0.42", 2, "mine")]
    result = run(state(NOW, [snap(T, bid="0.40", ask="0.42")], fair_values=[fair(T, "0.60")], orders=working))
    assert result.actions == ()
    assert "still working" in result.decisions[0].reason
