"""The favourite strategy as a pure function: entries, sizing, brackets on fills, exits, cool-downs."""

from __future__ import annotations

import msgspec
import pytest
from tests.unit.strategy.kit import ASK, BID, HOUR, MINUTE, NOW, SECOND, ct, fill, order, px, risk_for, snap, state

from kalshi_trader.domain import (
    BracketCancel,
    BracketRequest,
    IntentAction,
    MarketStatus,
    Money,
    Order,
    OrderIntent,
    TimeInForce,
    TopOfBook,
)
from kalshi_trader.strategy.base import MarketSnapshot, OrderChange, Refusal, StrategyResult, StrategyState, Verdict
from kalshi_trader.strategy.favorite import EntryMode, FavoriteMemory, FavoriteParams, FavoriteStrategy

T = "KXHIGHNY-26MAY16-B78.5"


def run(st: StrategyState, memory: FavoriteMemory | None = None, **params: object) -> StrategyResult[FavoriteMemory]:
    strategy = FavoriteStrategy(FavoriteParams(**params))  # type: ignore[arg-type]
    return strategy.decide(st, memory if memory is not None else strategy.initial_memory())


def only_intent(result: StrategyResult[FavoriteMemory]) -> OrderIntent:
    (intent,) = result.intents
    return intent


def entered(market: MarketSnapshot | None = None, **params: object) -> tuple[OrderIntent, FavoriteMemory]:
    """Decide once on a qualifying book; return the entry intent and the memory."""
    result = run(state(NOW, [market or snap()]), None, **params)
    return only_intent(result), result.memory


# ---------------------------------------------------------------------------------------------
# Entries


def test_improves_the_favourite_yes_bid_post_only() -> None:
    result = run(state(NOW, [snap(bid="0.88", ask="0.90")]))
    intent = only_intent(result)
    assert (intent.action, intent.side, intent.price) == (IntentAction.PLACE, BID, px("0.89"))
    assert intent.post_only
    assert intent.tif is TimeInForce.GOOD_TILL_CANCELED
    assert not intent.reduce_only
    assert intent.strategy == "favorite"
    assert "improve the bid $0.8800" in intent.reason
    assert dict(intent.inputs)["favourite"] == "yes"
    assert dict(intent.inputs)["entry_leg_price"] == px("0.89")
    (decision,) = result.decisions
    assert decision.verdict is Verdict.TRADE
    assert decision.reason == intent.reason


def test_joins_when_improving_would_touch_the_ask() -> None:
    intent = only_intent(run(state(NOW, [snap(bid="0.88", ask="0.89")])))
    assert intent.price == px("0.88")
    assert "join the bid" in intent.reason


def test_join_mode_joins_the_bid() -> None:
    intent = only_intent(run(state(NOW, [snap(bid="0.88", ask="0.90")]), entry_mode=EntryMode.JOIN))
    assert intent.price == px("0.88")
    assert intent.post_only


def test_take_mode_lifts_the_ask_ioc_for_at_most_the_size_offered() -> None:
    intent = only_intent(
        run(state(NOW, [snap(bid="0.88", ask="0.90", ask_qty=3, ask_depth=50)]), entry_mode=EntryMode.TAKE)
    )
    assert (intent.side, intent.price, intent.qty) == (BID, px("0.90"), ct(3))
    assert intent.tif is TimeInForce.IMMEDIATE_OR_CANCEL
    assert not intent.post_only


def test_buys_a_no_favourite_as_an_ask_on_the_yes_leg() -> None:
    # YES 0.10 / 0.12 → NO bid 0.88, NO ask 0.90; improving NO to 0.89 is a YES ask at 0.11.
    intent = only_intent(run(state(NOW, [snap(bid="0.10", ask="0.12")])))
    assert (intent.side, intent.price) == (ASK, px("0.11"))
    assert dict(intent.inputs)["favourite"] == "no"
    assert "buy" in intent.reason
    assert "NO at $0.8900" in intent.reason


def test_take_mode_on_a_no_favourite_hits_the_yes_bid() -> None:
    intent = only_intent(
        run(state(NOW, [snap(bid="0.10", ask="0.12", bid_qty=4, bid_depth=50)]), entry_mode=EntryMode.TAKE)
    )
    assert (intent.side, intent.price, intent.qty, intent.tif) == (
        ASK,
        px("0.10"),
        ct(4),
        TimeInForce.IMMEDIATE_OR_CANCEL,
    )


def test_sizes_by_the_risk_to_the_stop() -> None:
    # Entry 0.89, stop limit 0.89 − 0.08 − 0.03 = 0.78, taker fee at 0.78 = $0.0121:
    # $0.1221 at risk per contract → $6 buys 49 contracts (50 would risk $6.105).
    intent = only_intent(run(state(NOW, [snap()]), max_risk_per_trade=Money(60_000)))
    assert intent.qty == ct(49)
    assert dict(intent.inputs)["stop_limit_leg_price"] == px("0.78")
    # The cap on contracts and the size step apply too.
    assert only_intent(run(state(NOW, [snap()]), max_contracts=ct(7))).qty == ct(7)
    stepped = run(state(NOW, [snap()]), max_risk_per_trade=Money(60_000), size_step=ct(10))
    assert only_intent(stepped).qty == ct(40)


def test_maker_fees_reduce_the_size() -> None:
    from kalshi_trader.domain import FeeSchedule, FeeType

    plain = only_intent(run(state(NOW, [snap()]), max_risk_per_trade=Money(60_000))).qty
    fees = FeeSchedule(FeeType.QUADRATIC_WITH_MAKER_FEES)
    costly = only_intent(run(state(NOW, [snap(fees=fees)]), max_risk_per_trade=Money(60_000))).qty
    assert costly < plain


def test_a_budget_too_small_for_one_step_is_a_no_trade_decision() -> None:
    result = run(state(NOW, [snap()]), max_risk_per_trade=Money(500))
    assert result.actions == ()
    assert result.decisions[0].verdict is Verdict.SKIP
    assert "size is zero" in result.decisions[0].reason


@pytest.mark.parametrize(
    ("market", "why"),
    [
        (snap(stale=True), "stale"),
        (snap(age=6 * SECOND), "stale"),
        (snap(ask=None), "one-sided"),
        (snap(bid="0.50", ask="0.52"), "no side's mid is at least $0.8500"),
        (snap(bid="0.85", ask="0.95"), "spread $0.1000 is wider than $0.0300"),
        (snap(bid_qty=5), "depth 5.00 contracts is below 10.00"),
        (snap(close_in=20 * MINUTE), "outside the 30–4320 min entry window"),
        (snap(close_in=4 * 24 * HOUR), "entry window"),
        (msgspec.structs.replace(snap(), status=MarketStatus.CLOSED), "market is closed"),
        (snap(bid="0.96", ask="0.97"), "above the $0.9500 maximum"),
    ],
)
def test_markets_failing_a_filter_get_a_skip_decision_with_the_reason(market: MarketSnapshot, why: str) -> None:
    result = run(state(NOW, [market]))
    assert result.actions == ()
    (decision,) = result.decisions
    assert decision.verdict is Verdict.SKIP
    assert why in decision.reason, decision.reason


def test_take_mode_skips_an_ask_above_the_maximum() -> None:
    result = run(state(NOW, [snap(bid="0.94", ask="0.96")]), entry_mode=EntryMode.TAKE)
    assert result.actions == ()
    assert "ask $0.9600 is above the $0.9500 maximum" in result.decisions[0].reason


def test_skips_markets_it_already_holds_and_respects_max_open_trades() -> None:
    held = run(state(NOW, [snap()], positions={T: 3}))
    assert held.actions == ()
    assert "already holding" in held.decisions[0].reason
    two = run(state(NOW, [snap("A"), snap("B")]), max_open_trades=1)
    assert [i.ticker for i in two.intents] == ["A"]
    assert "1 trades already open" in next(d.reason for d in two.decisions if d.ticker == "B")


def test_series_filter_limits_the_universe() -> None:
    result = run(state(NOW, [snap(series="KXHIGHNY"), snap("OTHER", series="KXRAIN")]), series=frozenset({"KXRAIN"}))
    assert [i.ticker for i in result.intents] == ["OTHER"]
    assert [d.ticker for d in result.decisions] == ["OTHER"]


def test_decide_is_deterministic() -> None:
    st = state(NOW, [snap("A"), snap("B", bid="0.10", ask="0.12"), snap("C", bid="0.5", ask="0.52")])
    assert run(st) == run(st)


# ---------------------------------------------------------------------------------------------
# Protection: a bracket from the execution engine on each fill


def test_each_fill_asks_for_a_bracket_for_the_cumulative_quantity() -> None:
    intent, memory = entered()
    coid = intent.client_order_id
    first = fill(T, BID, "0.89", 10, coid, "f1")
    st = state(
        NOW + SECOND, [snap()], orders=[order(T, BID, "0.89", 90, coid, filled=10)], positions={T: 10}, fills=[first]
    )
    result = run(st, memory)
    (bracket,) = result.actions
    assert isinstance(bracket, BracketRequest)
    assert (bracket.entry_client_order_id, bracket.entry_side, bracket.exit_side) == (coid, BID, ASK)
    assert (bracket.qty, bracket.take_profit_price, bracket.stop_trigger_price, bracket.stop_limit_price) == (
        ct(10),
        px("0.93"),
        px("0.81"),
        px("0.78"),
    )
    assert bracket.strategy == "favorite"
    assert "take profit at $0.9300, stop at $0.8100" in bracket.reason

    # The same fills again: nothing new to protect.
    assert not any(isinstance(a, BracketRequest) for a in run(st, result.memory).actions)

    # A second fill at a better price: one request for 15 at the new average (0.8867 → rounded up).
    second = fill(T, BID, "0.88", 5, coid, "f2")
    st2 = state(
        NOW + 2 * SECOND,
        [snap()],
        orders=[order(T, BID, "0.89", 85, coid, filled=15)],
        positions={T: 15},
        fills=[first, second],
    )
    (again,) = run(st2, result.memory).actions
    assert isinstance(again, BracketRequest)
    assert again.qty == ct(15)
    assert dict(again.inputs)["average_leg_price"] == 8_867


def test_a_no_position_gets_a_mirrored_bracket() -> None:
    intent, memory = entered(snap(bid="0.10", ask="0.12"))
    coid = intent.client_order_id
    st = state(
        NOW + SECOND, [snap(bid="0.10", ask="0.12")], positions={T: -10}, fills=[fill(T, ASK, "0.11", 10, coid, "f")]
    )
    (bracket,) = run(st, memory).actions
    assert isinstance(bracket, BracketRequest)
    # NO bought at 0.89: take profit NO 0.93 = YES bid 0.07; stop NO 0.81 = YES ask ≥ 0.19; limit NO 0.78 = YES 0.22.
    assert (bracket.exit_side, bracket.take_profit_price, bracket.stop_trigger_price, bracket.stop_limit_price) == (
        BID,
        px("0.07"),
        px("0.19"),
        px("0.22"),
    )
    assert bracket.stop_triggered(px("0.17"), px("0.19"))
    assert not bracket.stop_triggered(px("0.16"), px("0.18"))


def test_fills_reported_before_the_fill_messages_are_protected_at_the_limit_price() -> None:
    intent, memory = entered()
    coid = intent.client_order_id
    st = state(NOW + SECOND, [snap()], orders=[order(T, BID, "0.89", 96, coid, filled=4)], positions={T: 4})
    (bracket,) = run(st, memory).actions
    assert isinstance(bracket, BracketRequest)
    assert bracket.qty == ct(4)
    assert dict(bracket.inputs)["average_leg_price"] == 8_900


# ---------------------------------------------------------------------------------------------
# Exits when the thesis breaks


def _protected(market: MarketSnapshot | None = None) -> tuple[str, FavoriteMemory]:
    """An entry fully filled (10 at 0.89) and protected."""
    intent, memory = entered(market)
    coid = intent.client_order_id
    st = state(NOW + SECOND, [market or snap()], positions={T: 10}, fills=[fill(T, BID, "0.89", 10, coid, "f1")])
    result = run(st, memory)
    assert any(isinstance(a, BracketRequest) for a in result.actions)
    return coid, result.memory


def _at(t: int, bid: str | None, *, stale: bool = False) -> list[MarketSnapshot]:
    return [snap(bid=bid, ask="0.86", now=t, stale=stale)]


def test_exits_when_the_bid_stays_through_the_stop() -> None:
    coid, memory = _protected()
    fills = [fill(T, BID, "0.89", 10, coid, "f1")]

    def step(t: int, bid: str, memory: FavoriteMemory) -> StrategyResult[FavoriteMemory]:
        return run(state(t, _at(t, bid), positions={T: 10}, fills=fills), memory)

    calm = step(NOW + 2 * SECOND, "0.84", memory)
    assert calm.actions == ()
    assert calm.decisions[0].verdict is Verdict.HOLD

    # The bid reaching the trigger (0.89 − 0.08 = 0.81) starts the clock; it is not an exit yet.
    first = step(NOW + 3 * SECOND, "0.81", calm.memory)
    assert first.actions == ()
    assert "bid at or below the stop: exit if it stays there 5 s" in first.decisions[0].reason
    still = step(NOW + 7 * SECOND, "0.80", first.memory)
    assert still.actions == ()  # 4 s of 5

    # 5 s after the first sight and still through: the thesis is broken.
    broken = step(NOW + 8 * SECOND, "0.80", still.memory)
    cancel, exit_ = broken.actions
    assert isinstance(cancel, BracketCancel)
    assert cancel.entry_client_order_id == coid
    assert isinstance(exit_, OrderIntent)
    assert (exit_.side, exit_.price, exit_.qty) == (ASK, px("0.77"), ct(10))
    assert exit_.tif is TimeInForce.IMMEDIATE_OR_CANCEL
    assert exit_.reduce_only
    assert not exit_.post_only
    assert "YES bid $0.8000 fell through the stop $0.8100 and stayed there 5 s" in exit_.reason

    # Without confirmation the first sight exits (the old rule).
    at_once = run(
        state(NOW + 3 * SECOND, _at(NOW + 3 * SECOND, "0.81"), positions={T: 10}, fills=fills),
        calm.memory,
        stop_confirm_ms=0,
    )
    assert any(isinstance(a, BracketCancel) for a in at_once.actions)


def test_a_transient_dip_through_the_stop_does_not_exit() -> None:
    coid, memory = _protected()
    fills = [fill(T, BID, "0.89", 10, coid, "f1")]

    def step(t: int, bid: str | None, memory: FavoriteMemory, stale: bool = False) -> StrategyResult[FavoriteMemory]:
        return run(state(t, _at(t, bid, stale=stale), positions={T: 10}, fills=fills), memory)

    # A maker repricing its bid (delete, then add) shows the next level, far below, for an instant.
    dip = step(NOW + 2 * SECOND, "0.70", memory)
    back = step(NOW + 3 * SECOND, "0.88", dip.memory)
    assert back.memory.trades[T].breach_ms is None  # a fresh bid above the trigger ends the breach
    again = step(NOW + 8 * SECOND, "0.75", back.memory)  # 6 s after the first dip: a new breach
    assert dip.actions == back.actions == again.actions == ()

    # Neither a stale book nor an empty bid side ends a breach or fires it...
    stale = step(NOW + 11 * SECOND, "0.70", again.memory, stale=True)
    empty = step(NOW + 12 * SECOND, None, stale.memory)
    assert stale.actions == empty.actions == ()
    assert empty.memory.trades[T].breach_ms == NOW + 8 * SECOND
    # ...the next fresh bid still through the stop, 5 s after the breach began, does.
    fired = step(NOW + 13 * SECOND, "0.80", empty.memory)
    assert any(isinstance(a, BracketCancel) for a in fired.actions)


def test_an_exit_under_way_finishes_even_if_the_bid_recovers() -> None:
    coid, memory = _protected()
    fills = [fill(T, BID, "0.89", 10, coid, "f1")]
    t0 = NOW + 2 * SECOND
    first = run(state(t0, _at(t0, "0.80"), positions={T: 10}, fills=fills), memory, stop_confirm_ms=0)
    assert any(isinstance(a, BracketCancel) for a in first.actions)
    # 4 of 10 are still held (the IOC filled 6) and the bid is back above the stop: the bracket is
    # gone, so the rest is sold too rather than left unprotected.
    t1 = t0 + 6 * SECOND
    rest = run(state(t1, _at(t1, "0.86"), positions={T: 4}, fills=fills), first.memory, stop_confirm_ms=0)
    (exit_,) = rest.actions
    assert isinstance(exit_, OrderIntent)
    assert (exit_.side, exit_.qty, exit_.reduce_only) == (ASK, ct(4), True)
    assert "finish the exit" in exit_.reason


def test_exits_near_the_close_and_cancels_a_resting_entry_first() -> None:
    intent, memory = entered()
    coid = intent.client_order_id
    at = NOW + 6 * HOUR - 5 * MINUTE
    st = state(
        at,
        [snap(now=at, close_in=5 * MINUTE)],
        orders=[order(T, BID, "0.89", 90, coid, filled=10)],
        positions={T: 10},
        fills=[fill(T, BID, "0.89", 10, coid, "f1")],
    )
    actions = run(st, memory).actions
    # The thesis is broken before the fill was protected: no bracket to ask for or cancel — cancel
    # the rest of the entry and sell.
    kinds = [type(a).__name__ + (f":{a.action.value}" if isinstance(a, OrderIntent) else "") for a in actions]
    assert kinds == ["OrderIntent:cancel", "OrderIntent:place"]
    final = actions[-1]
    assert isinstance(final, OrderIntent)
    assert final.reduce_only
    assert "market closes in 300 s" in final.reason


def test_near_close_exit_of_a_protected_position_cancels_the_bracket_first() -> None:
    coid, memory = _protected()
    at = NOW + 6 * HOUR - 5 * MINUTE
    st = state(at, [snap(now=at, close_in=5 * MINUTE)], positions={T: 10}, fills=[fill(T, BID, "0.89", 10, coid, "f1")])
    cancel, exit_ = run(st, memory).actions
    assert isinstance(cancel, BracketCancel)
    assert isinstance(exit_, OrderIntent)
    assert (exit_.side, exit_.price, exit_.qty, exit_.reduce_only) == (ASK, px("0.85"), ct(10), True)


def test_exit_retries_only_after_the_retry_interval_and_cancels_the_bracket_once() -> None:
    coid, memory = _protected()
    fills = [fill(T, BID, "0.89", 10, coid, "f1")]

    def low(at: int) -> list[MarketSnapshot]:
        return [snap(bid="0.80", ask="0.86", now=at)]

    def step(t: int, held: int, memory: FavoriteMemory) -> StrategyResult[FavoriteMemory]:
        return run(state(t, low(t), positions={T: held}, fills=fills), memory, stop_confirm_ms=0)

    first = step(NOW + 2 * SECOND, 10, memory)
    waiting = step(NOW + 3 * SECOND, 4, first.memory)
    assert waiting.actions == ()
    assert "waiting" in waiting.decisions[0].reason
    retry = step(NOW + 8 * SECOND, 4, waiting.memory)
    (exit_,) = retry.actions
    assert isinstance(exit_, OrderIntent)
    assert exit_.qty == ct(4)
    assert exit_.client_order_id != first.intents[0].client_order_id


def test_an_exit_is_not_retried_while_an_order_of_ours_still_sells_there() -> None:
    """However fast market time runs, a retry waits for the last exit (or the take-profit being
    cancelled ahead of it) to finish: sending another would only be cut to nothing."""
    coid, memory = _protected()
    fills = [fill(T, BID, "0.89", 10, coid, "f1")]

    def step(t: int, memory: FavoriteMemory, orders: list[Order]) -> StrategyResult[FavoriteMemory]:
        market = [snap(bid="0.80", ask="0.86", now=t)]
        return run(state(t, market, positions={T: 10}, fills=fills, orders=orders), memory, stop_confirm_ms=0)

    first = step(NOW + 2 * SECOND, memory, [])
    assert any(isinstance(a, OrderIntent) for a in first.actions)
    take_profit = [order(T, ASK, "0.93", 10, "tp-1")]
    much_later = step(NOW + 10 * MINUTE, first.memory, take_profit)
    assert much_later.actions == ()
    assert "still selling" in much_later.decisions[0].reason
    gone = step(NOW + 10 * MINUTE, much_later.memory, [])
    assert [i.action for i in gone.intents] == [IntentAction.PLACE]


def test_no_bid_to_sell_to_holds_and_keeps_the_bracket() -> None:
    coid, memory = _protected()
    at = NOW + 6 * HOUR - 5 * MINUTE
    st = state(
        at,
        [snap(now=at, close_in=5 * MINUTE, bid=None)],
        positions={T: 10},
        fills=[fill(T, BID, "0.89", 10, coid, "f1")],
    )
    result = run(st, memory)
    assert result.actions == ()
    assert "no fresh YES bid" in result.decisions[0].reason


# ---------------------------------------------------------------------------------------------
# Resting entries and cool-downs


def test_an_outbid_entry_is_amended_not_replaced() -> None:
    intent, memory = entered()
    coid = intent.client_order_id
    st = state(NOW + SECOND, [snap(bid="0.91", ask="0.93")], orders=[order(T, BID, "0.89", 100, coid)])
    (amend,) = run(st, memory).actions
    assert isinstance(amend, OrderIntent)
    assert amend.action is IntentAction.AMEND
    assert (amend.client_order_id, amend.price, amend.qty) == (coid, px("0.92"), ct(100))
    # Still the best bid: keep it.
    kept = run(state(NOW + SECOND, [snap(bid="0.89", ask="0.90")], orders=[order(T, BID, "0.89", 100, coid)]), memory)
    assert kept.actions == ()
    assert kept.decisions[0].verdict is Verdict.HOLD


def test_a_resting_entry_is_cancelled_when_the_market_stops_qualifying() -> None:
    intent, memory = entered()
    coid = intent.client_order_id
    st = state(NOW + SECOND, [snap(bid="0.70", ask="0.72")], orders=[order(T, BID, "0.89", 100, coid)])
    (cancel,) = run(st, memory).actions
    assert isinstance(cancel, OrderIntent)
    assert cancel.action is IntentAction.CANCEL
    assert cancel.client_order_id == coid
    assert "no side's mid" in cancel.reason


def test_unfilled_entry_times_out_then_the_market_cools_down() -> None:
    intent, memory = entered()
    coid = intent.client_order_id
    timeout = NOW + 5 * MINUTE
    (cancel,) = run(state(timeout, [snap(now=timeout)], orders=[order(T, BID, "0.89", 100, coid)]), memory).intents
    assert cancel.action is IntentAction.CANCEL
    assert "unfilled after 300 s" in cancel.reason
    gone = run(state(timeout + SECOND, [snap(now=timeout + SECOND)]), memory)
    assert gone.actions == ()
    assert "entry ended unfilled; cooling down 900 s" in gone.decisions[0].reason
    later = timeout + 2 * SECOND
    cooling = run(state(later, [snap(now=later)]), gone.memory)
    still = run(state(later + MINUTE, [snap(now=later + MINUTE)]), cooling.memory)
    assert still.decisions[0].reason == cooling.decisions[0].reason  # one stable sentence, numbers in inputs
    left_then = int(dict(cooling.decisions[0].inputs)["cooldown_left_ms"])
    assert dict(still.decisions[0].inputs)["cooldown_left_ms"] == left_then - MINUTE
    assert cooling.actions == ()
    assert "cooling down" in cooling.decisions[0].reason
    after = timeout + SECOND + 15 * MINUTE
    again = run(state(after, [snap(now=after)]), cooling.memory)
    assert [i.action for i in again.intents] == [IntentAction.PLACE]


def test_a_closed_trade_cools_the_market_down() -> None:
    coid, memory = _protected()
    fills = [fill(T, BID, "0.89", 10, coid, "f1")]
    closed = run(state(NOW + MINUTE, [snap()], positions={T: 0}, fills=fills), memory)
    assert "trade closed" in closed.decisions[0].reason
    soon = run(state(NOW + 2 * MINUTE, [snap()], fills=fills), closed.memory)
    assert soon.actions == ()
    assert soon.decisions[0].verdict is Verdict.SKIP


def test_waits_for_the_ack_before_concluding_an_entry_is_gone() -> None:
    _, memory = entered()
    early = run(state(NOW + SECOND, [snap()]), memory)
    assert early.actions == ()
    assert "acknowledged" in early.decisions[0].reason
    late = run(state(NOW + 11 * SECOND, [snap()]), early.memory)
    assert "entry ended unfilled" in late.decisions[0].reason


def test_a_late_fill_during_the_cool_down_is_protected() -> None:
    intent, memory = entered()
    coid = intent.client_order_id
    ended = run(state(NOW + 11 * SECOND, [snap()]), memory)
    st = state(NOW + 12 * SECOND, [snap()], positions={T: 2}, fills=[fill(T, BID, "0.89", 2, coid, "late")])
    (bracket,) = run(st, ended.memory).actions
    assert isinstance(bracket, BracketRequest)
    assert bracket.qty == ct(2)


# ---------------------------------------------------------------------------------------------
# Lifecycle


def test_stop_cancels_resting_entries_and_leaves_brackets_armed() -> None:
    intent, memory = entered()
    strategy = FavoriteStrategy()
    st = state(NOW + SECOND, [snap()], orders=[order(T, BID, "0.89", 100, intent.client_order_id)])
    stopped = strategy.on_stop(st, memory)
    assert [(a.action, a.client_order_id) for a in stopped.intents] == [(IntentAction.CANCEL, intent.client_order_id)]
    assert not any(isinstance(a, BracketCancel) for a in stopped.actions)


def test_start_cancels_only_orders_no_trade_accounts_for() -> None:
    intent, memory = entered()
    strategy = FavoriteStrategy()
    st = state(
        NOW + SECOND,
        [snap()],
        orders=[order(T, BID, "0.89", 100, intent.client_order_id), order("X", BID, "0.5", 1, "old")],
    )
    started = strategy.on_start(st, memory)
    assert [a.client_order_id for a in started.intents] == ["old"]


def test_an_entry_cancel_or_amend_is_sent_once_until_it_lands() -> None:
    intent, memory = entered()
    coid = intent.client_order_id
    resting_entry = [order(T, BID, "0.89", 100, coid)]
    timeout = NOW + 5 * MINUTE
    first = run(state(timeout, [snap(now=timeout)], orders=resting_entry), memory)
    assert [i.action for i in first.intents] == [IntentAction.CANCEL]
    soon = timeout + 100
    again = run(state(soon, [snap(now=soon)], orders=resting_entry), first.memory)
    assert again.actions == ()
    assert "waiting for the entry's cancel to land" in again.decisions[0].reason
    later = timeout + 11 * SECOND  # never landed: send it again
    retry = run(state(later, [snap(now=later)], orders=resting_entry), again.memory)
    assert [i.action for i in retry.intents] == [IntentAction.CANCEL]

    outbid = [snap(bid="0.91", ask="0.93", now=NOW + SECOND)]
    amended = run(state(NOW + SECOND, outbid, orders=resting_entry), memory)
    assert [i.action for i in amended.intents] == [IntentAction.AMEND]
    still_old = run(state(NOW + SECOND + 100, outbid, orders=resting_entry), amended.memory)
    assert still_old.actions == ()
    landed = [order(T, BID, "0.92", 100, coid)]
    after = run(
        state(NOW + 2 * SECOND, [snap(bid="0.92", ask="0.93", now=NOW + 2 * SECOND)], orders=landed), still_old.memory
    )
    assert after.actions == ()
    assert after.memory.trades[T].entry_pending_ms is None


# ---------------------------------------------------------------------------------------------
# Inside the risk limits; refusals are known on the next call


def test_the_entry_is_sized_inside_the_risk_limits_and_risk_accepts_it() -> None:
    market = snap(bid="0.88", ask="0.90")
    risk = risk_for([market], max_order_size=2, max_position_per_market=3)
    intent = only_intent(run(state(NOW, [market], room=risk.room())))
    assert intent.qty == ct(2)
    assert "risk limits" in intent.reason
    top = TopOfBook(T, market.best_bid, market.best_ask, NOW)
    assert risk.check_and_reserve(intent, book=top).approved


def test_no_room_under_the_risk_limits_is_a_skip_naming_the_limit() -> None:
    market = snap(bid="0.88", ask="0.90")
    risk = risk_for([market], max_open_orders=1)
    top = TopOfBook(T, market.best_bid, market.best_ask, NOW)
    assert risk.check_and_reserve(OrderIntent.place(T, ASK, px("0.95"), ct(1), "other"), book=top).approved
    result = run(state(NOW, [market], room=risk.room()))
    assert result.actions == ()
    (decision,) = result.decisions
    assert decision.verdict is Verdict.SKIP
    assert "no room under the risk limits" in decision.reason
    assert "limit 1" in decision.reason


def test_a_refused_entry_ends_its_trade_at_once_without_a_cool_down() -> None:
    intent, memory = entered()
    refusal = Refusal.of(intent, "stale_book", "the order book is stale")
    after = run(state(NOW + 1, [snap(now=NOW + 1)], refused=[refusal]), memory)
    assert after.actions == ()
    assert T not in after.memory.trades
    assert "entry not placed (stale_book" in after.decisions[0].reason
    again = run(state(NOW + 2, [snap(now=NOW + 2)]), after.memory)
    assert [i.action for i in again.intents] == [IntentAction.PLACE]


def test_an_entry_amend_in_flight_is_waited_for_at_any_clock_speed() -> None:
    intent, memory = entered()
    coid = intent.client_order_id
    resting_entry = [order(T, BID, "0.89", 100, coid)]
    outbid = [snap(bid="0.91", ask="0.93", now=NOW + SECOND)]
    amended = run(state(NOW + SECOND, outbid, orders=resting_entry), memory)
    (amend,) = amended.intents
    flying = {coid: OrderChange(IntentAction.AMEND, amend.price, amend.qty)}
    much_later = NOW + 10 * MINUTE
    market = [snap(bid="0.91", ask="0.93", now=much_later)]
    waiting = run(state(much_later, market, orders=resting_entry, in_flight=flying), amended.memory)
    assert waiting.actions == ()
    assert "waiting for the entry's amend to land" in waiting.decisions[0].reason


def test_an_entry_the_exchange_rejected_ends_its_trade_with_a_cool_down() -> None:
    intent, memory = entered()
    refusal = Refusal.of(intent, "rejected", "400 invalid_order: post only order would cross")
    after = run(state(NOW + 1, [snap(now=NOW + 1)], refused=[refusal]), memory)
    assert after.actions == ()
    assert "cooling down" in after.decisions[0].reason
    again = run(state(NOW + 2, [snap(now=NOW + 2)]), after.memory)
    assert again.actions == ()
