"""The weather market maker as a pure function: quotes, fees, skew, sizes, requotes, staleness."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.strategy.kit import ASK, BID, MINUTE, NOW, SECOND, ct, fair, order, px, risk_for, snap, state

from kalshi_trader.domain import (
    BookSide,
    FeeSchedule,
    FeeType,
    IntentAction,
    MarketStatus,
    Money,
    OrderIntent,
    Position,
    Price,
    TickGrid,
    TopOfBook,
)
from kalshi_trader.fairvalue.weather import max_temp_distribution, parse_brackets
from kalshi_trader.strategy.base import (
    FairValue,
    MarketSnapshot,
    OrderChange,
    Refusal,
    StrategyResult,
    StrategyState,
    Verdict,
)
from kalshi_trader.strategy.weather_mm import (
    QuotePlan,
    WeatherMMMemory,
    WeatherMMParams,
    WeatherMMStrategy,
    budget_quotes,
    fair_values_from_distribution,
    first_side,
    plan_quotes,
)

T = "KXHIGHNY-26MAY16-B78.5"
DECI = TickGrid.named("deci_cent")


def wide(ticker: str = T, **kw: object) -> MarketSnapshot:
    """A wide book that never constrains the quotes (0.30 / 0.70)."""
    return snap(ticker, bid=kw.pop("bid", "0.30"), ask=kw.pop("ask", "0.70"), **kw)  # type: ignore[arg-type]


def run(st: StrategyState, memory: WeatherMMMemory | None = None, **params: object) -> StrategyResult[WeatherMMMemory]:
    return WeatherMMStrategy(WeatherMMParams(**params)).decide(st, memory or WeatherMMMemory())  # type: ignore[arg-type]


def placed(result: StrategyResult[WeatherMMMemory]) -> dict[str, OrderIntent]:
    return {i.side.value: i for i in result.intents if i.action is IntentAction.PLACE}


def plan(
    market: MarketSnapshot, value: FairValue, position: float = 0, event_position: float | None = None, **p: object
) -> QuotePlan:
    params = WeatherMMParams(**p)  # type: ignore[arg-type]
    event = position if event_position is None else event_position
    return plan_quotes(params, market, value, ct(position), ct(event))


# ---------------------------------------------------------------------------------------------
# Quotes around the fair value


def test_quotes_are_symmetric_post_only_at_zero_inventory() -> None:
    result = run(state(NOW, [wide()], fair_values=[fair(T, "0.50")]))
    quotes = placed(result)
    # Taker fee to unwind, 5 contracts at 0.50: $0.0875 → $0.09 → $0.018 each; + $0.005 edge → half $0.023.
    assert (quotes["bid"].price, quotes["ask"].price) == (px("0.47"), px("0.53"))
    assert px("0.50") - quotes["bid"].price == quotes["ask"].price - px("0.50")
    assert all(q.post_only and q.qty == ct(5) and q.strategy == "weather_mm" for q in quotes.values())
    assert dict(quotes["bid"].inputs)["half_spread"] == 230
    assert "around fair $0.5000" in quotes["bid"].reason
    (decision,) = result.decisions
    assert decision.verdict is Verdict.TRADE
    assert "fair $0.5000, half-spread $0.0230, skew +0" in decision.reason


def test_the_half_spread_covers_maker_and_unwind_fees_by_fee_type() -> None:
    plain = plan(wide(grid=DECI), fair(T, "0.50"))
    assert (plain.half_spread, plain.bid and plain.bid.price, plain.ask and plain.ask.price) == (230, 4_770, 5_230)
    makers = plan(wide(grid=DECI, fees=FeeSchedule(FeeType.QUADRATIC_WITH_MAKER_FEES)), fair(T, "0.50"))
    # + maker fee: 5 at 0.50 × 0.0175 = $0.021875 → $0.03 → $0.006 each.
    assert dict(makers.facts)["maker_fee"] == 60
    assert makers.half_spread == 290
    assert makers.bid is not None
    assert makers.bid.price == 4_710
    assert makers.max_bid == 4_890
    half_unwind = plan(wide(grid=DECI), fair(T, "0.50"), unwind_fee_pct=50)
    assert half_unwind.half_spread == 140
    fee_free = plan(wide(grid=DECI), fair(T, "0.50"), unwind_fee_pct=0)
    assert fee_free.half_spread == 100  # the minimum half-spread


def test_model_uncertainty_widens_the_spread_and_too_much_stops_quoting() -> None:
    unsure = plan(wide(grid=DECI), fair(T, "0.50", uncertainty="0.02"))
    assert unsure.half_spread == 430
    assert unsure.bid is not None
    assert unsure.bid.price == 4_570
    lost = run(state(NOW, [wide()], fair_values=[fair(T, "0.50", uncertainty="0.30")]))
    assert lost.actions == ()
    assert lost.decisions[0].verdict is Verdict.SKIP
    assert "above the $0.2500 maximum" in lost.decisions[0].reason


def test_a_bracket_straddling_the_forecast_is_quoted_wide_not_skipped() -> None:
    # A tail whose strike sits at the forecast high: a 1 °F forecast shift moves it ~0.13. The
    # half-spread carries that doubt (0.018 unwind fee + 0.13 + 0.005 edge = 0.153), still a quote.
    straddle = plan(snap(T, bid="0.01", ask="0.99"), fair(T, "0.45", uncertainty="0.13"))
    assert straddle.half_spread == 1_530
    assert straddle.bid is not None
    assert straddle.ask is not None
    assert (straddle.bid.price, straddle.ask.price) == (px("0.29"), px("0.61"))


def test_quotes_round_toward_safety_on_a_tapered_grid() -> None:
    grid = TickGrid.named("tapered_deci_cent")
    p = plan(wide(grid=grid, bid="0.01", ask="0.50"), fair(T, "0.0937"))
    assert p.bid is not None
    assert p.ask is not None
    assert grid.is_valid_order_price(p.bid.price)
    assert grid.is_valid_order_price(p.ask.price)
    assert p.bid.price <= 937 - p.half_spread
    assert p.ask.price >= 937 + p.half_spread
    assert (p.bid.price, p.ask.price) == (820, 1_100)  # 0.001 steps below $0.10, 0.01 above


def test_post_only_quotes_never_cross_the_book() -> None:
    # Someone offers at 0.46, below the 0.47 bid we want: bid one tick under their ask.
    low_ask = placed(run(state(NOW, [snap(T, bid="0.30", ask="0.46")], fair_values=[fair(T, "0.50")])))
    assert low_ask["bid"].price == px("0.45")
    assert low_ask["ask"].price == px("0.53")
    high_bid = placed(run(state(NOW, [snap(T, bid="0.55", ask="0.70")], fair_values=[fair(T, "0.50")])))
    assert high_bid["ask"].price == px("0.56")
    assert high_bid["bid"].price == px("0.47")


def test_no_bid_when_the_fair_value_is_too_low_to_bid_below() -> None:
    p = plan(wide(bid="0.01", ask="0.10"), fair(T, "0.005"))
    assert p.bid is None
    assert "no valid bid price" in p.why_no_bid
    assert p.ask is not None


# ---------------------------------------------------------------------------------------------
# Inventory skew and sizes


def test_long_yes_skews_both_quotes_down_and_long_no_up() -> None:
    flat = plan(wide(), fair(T, "0.50"))
    long_yes = plan(wide(), fair(T, "0.50"), position=10)
    long_no = plan(wide(), fair(T, "0.50"), position=-10)
    assert long_yes.skew_ticks == -1
    assert long_no.skew_ticks == 1
    assert flat.bid
    assert flat.ask
    assert long_yes.bid
    assert long_yes.ask
    assert long_no.bid
    assert long_no.ask
    assert (long_yes.bid.price, long_yes.ask.price) == (flat.bid.price - 100, flat.ask.price - 100)
    assert (long_no.bid.price, long_no.ask.price) == (flat.bid.price + 100, flat.ask.price + 100)


def test_skew_grows_with_inventory_but_never_crosses_the_fee_bound() -> None:
    heavy = plan(wide(), fair(T, "0.50"), position=24)
    assert heavy.skew_ticks == -4  # -3 for the market, -1 for the event (24 of 50)
    assert heavy.ask is not None
    assert heavy.ask.price == heavy.min_ask == px("0.51")
    assert heavy.bid is not None
    assert heavy.bid.price == px("0.43")


def test_inventory_across_the_event_skews_every_bracket() -> None:
    sibling = "KXHIGHNY-26MAY16-B80.5"
    other_event = "KXHIGHCHI-26MAY16-B70.5"
    markets = [wide(), wide(sibling), wide(other_event, event="KXHIGHCHI-26MAY16", series="KXHIGHCHI")]
    values = [fair(T, "0.50"), fair(sibling, "0.30"), fair(other_event, "0.50")]
    result = run(state(NOW, markets, fair_values=values, positions={sibling: 30}))
    by_market = {(i.ticker, i.side.value): i.price for i in result.intents}
    # Event net +30 of 50 → -1 tick on T too (flat itself); the other event is untouched.
    assert (by_market[(T, "bid")], by_market[(T, "ask")]) == (px("0.46"), px("0.52"))
    assert (by_market[(other_event, "bid")], by_market[(other_event, "ask")]) == (px("0.47"), px("0.53"))


def test_another_strategys_position_neither_skews_the_quotes_nor_is_quoted_against() -> None:
    sibling = "KXHIGHNY-26MAY16-B80.5"
    markets = [wide(), wide(sibling)]
    values = [fair(T, "0.50"), fair(sibling, "0.30")]
    mine = order(sibling, ASK, "0.33", 5, "mm-ask")
    # The favourite holds 30 YES in the sibling bracket; the market maker holds nothing.
    result = run(state(NOW, markets, fair_values=values, orders=[mine], positions={sibling: 30}, own_positions={}))
    by_market = {(i.ticker, i.side.value): i for i in result.intents}
    assert (by_market[(T, "bid")].price, by_market[(T, "ask")].price) == (px("0.47"), px("0.53"))  # unskewed
    assert by_market[(T, "bid")].qty == by_market[(T, "ask")].qty
    assert by_market[(sibling, "ask")].action is IntentAction.CANCEL  # never sells the favourite's contracts
    assert (sibling, "bid") not in by_market
    held = next(d for d in result.decisions if d.ticker == sibling)
    assert "30.00 contract(s) here are not the market maker's" in held.reason


def test_its_own_inventory_still_skews_beside_another_strategys() -> None:
    sibling = "KXHIGHNY-26MAY16-B80.5"
    markets = [wide(), wide(sibling)]
    values = [fair(T, "0.50"), fair(sibling, "0.30")]
    st_ = state(NOW, markets, fair_values=values, positions={T: 10, sibling: 30}, own_positions={T: 10})
    result = run(st_, max_quotes=1)
    by_market = {(i.ticker, i.side.value): i.price for i in result.intents}
    # Its own +10 of 25 skews T a tick down (the event counts only its own +10 of 50: no tick); the
    # one quote the budget allows is the ask that reduces its own position.
    assert by_market == {(T, "ask"): px("0.52")}


def test_sizes_stay_within_the_market_and_event_limits() -> None:
    near = plan(wide(), fair(T, "0.50"), position=22)
    assert near.bid is not None
    assert near.ask is not None
    assert (near.bid.qty, near.ask.qty) == (ct(3), ct(5))
    full = plan(wide(), fair(T, "0.50"), position=25)
    assert full.bid is None
    assert "market position limit" in full.why_no_bid
    assert full.ask is not None
    event = plan(wide(), fair(T, "0.50"), position=0, event_position=48)
    assert event.bid is not None
    assert event.bid.qty == ct(2)
    risk = plan(wide(), fair(T, "0.50"), max_quote_risk=Money(10_000))  # $1 per quote
    assert risk.bid is not None
    assert risk.ask is not None
    assert (risk.bid.qty, risk.ask.qty) == (ct(2), ct(2))


def test_a_full_side_is_explained_in_the_decision() -> None:
    result = run(state(NOW, [wide()], fair_values=[fair(T, "0.50")], positions={T: 25}))
    assert set(placed(result)) == {"ask"}
    assert "no bid: no size left under the market position limit" in result.decisions[0].reason


# ---------------------------------------------------------------------------------------------
# Requotes: amend on a real move, nothing on a small one


def resting(bid: str = "0.47", ask: str = "0.53", bid_left: float = 5, ask_left: float = 5) -> list:  # type: ignore[type-arg]
    return [order(T, BID, bid, bid_left, "qb"), order(T, ASK, ask, ask_left, "qa")]


def test_quotes_at_the_wanted_prices_are_kept() -> None:
    result = run(state(NOW, [wide()], fair_values=[fair(T, "0.50")], orders=resting()))
    assert result.actions == ()
    assert result.decisions[0].verdict is Verdict.HOLD
    assert "keep the bid at $0.4700" in result.decisions[0].reason


def test_a_small_fair_value_move_causes_no_churn() -> None:
    result = run(state(NOW, [wide()], fair_values=[fair(T, "0.505")], orders=resting()))
    assert result.actions == ()


def test_a_real_move_amends_both_quotes_in_place() -> None:
    result = run(state(NOW, [wide()], fair_values=[fair(T, "0.53")], orders=resting()))
    amends = {i.side.value: i for i in result.intents}
    assert all(i.action is IntentAction.AMEND for i in amends.values())
    assert len(result.actions) == 2
    assert (amends["bid"].client_order_id, amends["bid"].price) == ("qb", px("0.50"))
    assert (amends["ask"].client_order_id, amends["ask"].price) == ("qa", px("0.56"))
    assert "wanted price moved $0.0300" in amends["bid"].reason


def test_an_unsafe_quote_moves_even_within_the_threshold() -> None:
    # Fair falls to 0.47: the 0.47 bid is now above fair − edge; move it although the wanted
    # price moved only 0.03 (< the 0.05 threshold). The ask stays (still safe, small move).
    result = run(state(NOW, [wide()], fair_values=[fair(T, "0.47")], orders=resting()), requote_threshold=500)
    (amend,) = result.intents
    assert (amend.action, amend.side, amend.price) == (IntentAction.AMEND, BID, px("0.44"))
    assert "above the safe bound $0.4600" in amend.reason


def test_quotes_are_topped_up_or_cut_to_the_wanted_size() -> None:
    thin = run(state(NOW, [wide()], fair_values=[fair(T, "0.50")], orders=resting(bid_left=2)))
    (top_up,) = thin.intents
    assert (top_up.action, top_up.side, top_up.qty) == (IntentAction.AMEND, BID, ct(5))
    assert run(state(NOW, [wide()], fair_values=[fair(T, "0.50")], orders=resting(bid_left=3))).actions == ()
    # Long 22 of 25: the bid (0.43 after a -4 tick skew) may only be 3; the resting one is at the
    # right price but too big, so it is cut to 3 at once; the ask (0.51, 5) stays.
    loaded = run(
        state(NOW, [wide()], fair_values=[fair(T, "0.50")], orders=resting(bid="0.43", ask="0.51"), positions={T: 22})
    )
    (cut,) = loaded.intents
    assert (cut.action, cut.side, cut.price, cut.qty) == (IntentAction.AMEND, BID, px("0.43"), ct(3))
    assert "exceeds what the limits allow" in cut.reason


def test_duplicate_quotes_are_cancelled() -> None:
    orders = [*resting(), order(T, BID, "0.46", 5, "qb2", created=NOW + 1)]
    result = run(state(NOW, [wide()], fair_values=[fair(T, "0.50")], orders=orders))
    (cancel,) = result.intents
    assert (cancel.action, cancel.client_order_id) == (IntentAction.CANCEL, "qb2")


# ---------------------------------------------------------------------------------------------
# Staleness, close, lifecycle


@pytest.mark.parametrize(
    ("market", "value", "why"),
    [
        (wide(stale=True), fair(T, "0.50"), "book is stale"),
        (wide(age=6 * SECOND), fair(T, "0.50"), "book is 6 s old"),
        (wide(), fair(T, "0.50", as_of=NOW - 16 * MINUTE), "fair value is 960 s old"),
        (wide(close_in=20 * MINUTE), fair(T, "0.50"), "market closes in 1200 s"),
        (msgspec.structs.replace(wide(), status=MarketStatus.CLOSED), fair(T, "0.50"), "market is closed"),
    ],
)
def test_stale_or_closing_markets_pull_their_quotes(market: MarketSnapshot, value: FairValue, why: str) -> None:
    pulled = run(state(NOW, [market], fair_values=[value], orders=resting()))
    assert {(i.action, i.client_order_id) for i in pulled.intents} == {
        (IntentAction.CANCEL, "qb"),
        (IntentAction.CANCEL, "qa"),
    }
    assert why in pulled.decisions[0].reason
    assert why in pulled.intents[0].reason
    quiet = run(state(NOW, [market], fair_values=[value]))
    assert quiet.actions == ()
    assert quiet.decisions[0].verdict is Verdict.SKIP
    assert why in quiet.decisions[0].reason


def test_quotes_in_markets_without_a_feed_or_fair_value_are_pulled() -> None:
    gone = run(state(NOW, [], orders=resting()))
    assert len(gone.intents) == 2
    assert "not in the feed" in gone.decisions[0].reason
    unpriced = run(state(NOW, [wide()], orders=resting()))
    assert len(unpriced.intents) == 2
    assert "no fair value" in unpriced.decisions[0].reason


def test_start_and_stop_cancel_every_quote() -> None:
    strategy = WeatherMMStrategy()
    st = state(NOW, [wide()], fair_values=[fair(T, "0.50")], orders=resting())
    for result in (strategy.on_start(st, WeatherMMMemory()), strategy.on_stop(st, WeatherMMMemory())):
        assert sorted(i.client_order_id for i in result.intents) == ["qa", "qb"]
        assert all(i.action is IntentAction.CANCEL for i in result.intents)


def test_decide_is_deterministic() -> None:
    st = state(NOW, [wide(), wide("B")], fair_values=[fair(T, "0.50"), fair("B", "0.20")], positions={T: 3})
    assert run(st) == run(st)


# ---------------------------------------------------------------------------------------------
# Fair values from the model


def test_fair_values_from_the_model_sum_to_one_and_carry_their_uncertainty() -> None:
    brackets = parse_brackets("75-,76-77,78-79,80-81,82-83,84+")
    dist = max_temp_distribution(78.6, lead_hours=6.0)
    values = fair_values_from_distribution(dist, brackets, NOW)
    assert set(values) == {b.ticker for b in brackets}
    assert abs(sum(v.price for v in values.values()) - 10_000) <= 6  # each rounded to $0.0001
    assert all(v.as_of_ms == NOW and v.source == "weather" for v in values.values())
    centre = values["78-79"]
    assert centre.uncertainty > 0
    assert values["84+"].uncertainty > 0
    wider = fair_values_from_distribution(dist, brackets, NOW, shift_f=2.0)
    assert wider["84+"].uncertainty > values["84+"].uncertainty


# ---------------------------------------------------------------------------------------------
# Actions in flight are sent once


def test_sent_places_show_among_the_open_orders_and_are_not_repeated() -> None:
    first = run(state(NOW, [wide()], fair_values=[fair(T, "0.50")]))
    coids = {i.side.value: i.client_order_id for i in first.intents}
    shown = [order(T, BID, "0.47", 5, coids["bid"]), order(T, ASK, "0.53", 5, coids["ask"])]
    again = run(state(NOW + 100, [wide(now=NOW + 100)], fair_values=[fair(T, "0.50")], orders=shown), first.memory)
    assert again.actions == ()
    assert again.decisions[0].verdict is Verdict.HOLD


def test_a_refused_place_is_never_amended_or_cancelled_and_is_asked_for_again() -> None:
    first = run(state(NOW, [wide()], fair_values=[fair(T, "0.50")]))
    refused = [Refusal.of(i, "max_position_per_market", "full") for i in first.intents]
    # Risk refused both: they never show among the open orders, so the next call places again
    # (at any speed of the clock) and never amends or cancels them.
    for later in (NOW + 1, NOW + 10 * MINUTE):
        again = run(state(later, [wide(now=later)], fair_values=[fair(T, "0.50")], refused=refused), first.memory)
        assert sorted(i.side.value for i in again.intents) == ["ask", "bid"]
        assert {i.action for i in again.intents} == {IntentAction.PLACE}


def test_an_amend_in_flight_is_not_repeated() -> None:
    moved = [fair(T, "0.53")]
    first = run(state(NOW, [wide()], fair_values=moved, orders=resting()))
    assert len(first.intents) == 2
    in_flight = {i.client_order_id: OrderChange(i.action, i.price, i.qty) for i in first.intents}
    # The tracker still shows the old prices while the amends are in flight: nothing new is sent,
    # however much market time passes meanwhile.
    for later in (NOW + 100, NOW + 10 * MINUTE):
        market = [wide(now=later)]
        again = run(state(later, market, fair_values=moved, orders=resting(), in_flight=in_flight), first.memory)
        assert again.actions == ()
    # Once answered, the orders show the new terms.
    done = run(state(NOW + 200, [wide(now=NOW + 200)], fair_values=moved, orders=resting(bid="0.50", ask="0.56")))
    assert done.actions == ()


def test_a_cancel_in_flight_is_not_repeated() -> None:
    first = run(state(NOW, [wide(stale=True)], fair_values=[fair(T, "0.50")], orders=resting()))
    assert len(first.intents) == 2
    in_flight = {i.client_order_id: OrderChange(i.action, i.price, i.qty) for i in first.intents}
    market = [wide(stale=True)]
    again = run(state(NOW + 100, market, fair_values=[fair(T, "0.50")], orders=resting(), in_flight=in_flight))
    assert again.actions == ()


def test_stop_cancels_every_order_not_already_being_cancelled() -> None:
    strategy = WeatherMMStrategy()
    orders = resting()
    stopped = strategy.on_stop(state(NOW + 100, [wide()], orders=orders), WeatherMMMemory())
    assert sorted(i.client_order_id for i in stopped.intents) == sorted(o.client_order_id for o in orders)
    going = {orders[0].client_order_id: OrderChange(IntentAction.CANCEL, orders[0].price, orders[0].remaining)}
    again = strategy.on_stop(state(NOW + 100, [wide()], orders=orders, in_flight=going), WeatherMMMemory())
    assert [i.client_order_id for i in again.intents] == [orders[1].client_order_id]


# ---------------------------------------------------------------------------------------------
# Sized inside the risk limits


def test_quotes_are_sized_inside_the_risk_limits_and_say_so() -> None:
    market = wide()
    risk = risk_for([market], max_order_size=2, max_position_per_market=3)
    result = run(state(NOW, [market], fair_values=[fair(T, "0.50")], room=risk.room()))
    assert {s: i.qty for s, i in placed(result).items()} == {"bid": ct(2), "ask": ct(2)}
    assert "cut to 2.00 by the risk limits" in result.decisions[0].reason
    for intent in result.intents:  # risk accepts every one of them
        top = TopOfBook(T, market.best_bid, market.best_ask, NOW)
        assert risk.check_and_reserve(intent, book=top).approved


def test_a_side_with_no_room_left_is_skipped_with_the_limit_named() -> None:
    market = wide()
    risk = risk_for([market], max_order_size=2, max_position_per_market=3)
    risk.update_position(Position(T, ct(3), Money(15_000)))  # long 3 YES: no bid fits
    result = run(state(NOW, [market], fair_values=[fair(T, "0.50")], positions={T: 3}, room=risk.room()))
    assert set(placed(result)) == {"ask"}
    assert "skip the bid" in result.decisions[0].reason
    assert "max_position" in result.decisions[0].reason or "position" in result.decisions[0].reason


def test_quotes_of_one_decision_fit_the_limits_together() -> None:
    markets = [wide(f"{T}-{n}") for n in range(4)]
    risk = risk_for(markets, max_open_orders=3)
    values = [fair(m.ticker, "0.50") for m in markets]
    result = run(state(NOW, markets, fair_values=values, room=risk.room()))
    assert len(result.intents) == 3
    skipped = [d for d in result.decisions if "skip the" in d.reason]
    assert skipped
    assert all("open" in d.reason for d in skipped)


# ---------------------------------------------------------------------------------------------
# Every bracket gets quoted: one-sided at the extremes, a quote budget, urgent actions first


def test_a_decided_bracket_is_still_quoted_on_the_side_that_makes_sense() -> None:
    # Fair $0.00 (the observed high already rules YES out): no bid can sit below it, but an ask
    # just above it is sound — quote that one side rather than skip the bracket.
    low = run(state(NOW, [snap(T, bid=None, ask=None)], fair_values=[fair(T, "0.00")]))
    assert {s: (i.price, i.qty) for s, i in placed(low).items()} == {"ask": (px("0.01"), ct(5))}
    assert low.decisions[0].verdict is Verdict.TRADE
    assert "no bid: no valid bid price below $0.0000" in low.decisions[0].reason
    high = run(state(NOW, [snap(T, bid=None, ask=None)], fair_values=[fair(T, "1.00")]))
    assert {s: (i.price, i.qty) for s, i in placed(high).items()} == {"bid": (px("0.99"), ct(5))}
    assert "no ask: no valid ask price above $1.0000" in high.decisions[0].reason
    # A long-NO position skews quotes up, but never into a bid at or above a fair of $0.
    skewed = run(state(NOW, [snap(T, bid=None, ask=None)], fair_values=[fair(T, "0.00")], positions={T: -10}))
    assert {s: i.price for s, i in placed(skewed).items()} == {"ask": px("0.02")}


def three_markets(*fairs: str) -> tuple[list[MarketSnapshot], list[FairValue]]:
    tickers = [f"KXHIGHNY-26MAY16-B{70 + 2 * n}.5" for n in range(len(fairs))]
    return [snap(t, bid="0.01", ask="0.99") for t in tickers], [fair(t, f) for t, f in zip(tickers, fairs, strict=True)]


def test_over_the_quote_budget_every_market_keeps_one_side_first() -> None:
    markets, values = three_markets("0.20", "0.50", "0.80")
    a, b, c = (m.ticker for m in markets)
    everything = run(state(NOW, markets, fair_values=values))
    assert len(everything.intents) == 6  # within the default budget: both sides everywhere
    result = run(state(NOW, markets, fair_values=values), max_quotes=4)
    sides = sorted((i.ticker, i.side.value) for i in result.intents)
    # First sides: the cheaper worst case — the bid below $0.50 (ties: the bid), the ask above.
    # The one second side that fits is the cheapest: B's ask at 0.53 costs $0.47 a contract
    # (A's at 0.22 would cost $0.78, C's bid at 0.78 $0.78).
    assert sides == [(a, "bid"), (b, "ask"), (b, "bid"), (c, "ask")]
    why = "over the 4-quote budget"
    decisions = {d.ticker: d.reason for d in result.decisions}
    assert why in decisions[a]
    assert why in decisions[c]
    assert why not in decisions[b]
    # A position makes the side that reduces it the first one.
    long_a = run(state(NOW, markets, fair_values=values, positions={a: 5}), max_quotes=3)
    assert sorted((i.ticker, i.side.value) for i in long_a.intents) == [(a, "ask"), (b, "bid"), (c, "ask")]


def test_first_sides_displace_resting_second_sides_and_resting_ones_beat_new_ones() -> None:
    markets, values = three_markets("0.20", "0.50", "0.80")
    a, b, c = (m.ticker for m in markets)
    # A and B are quoted on both sides (4 quotes = the budget); C, newly listed, has none.
    orders = [
        order(a, BID, "0.18", 5, "a-bid"),
        order(a, ASK, "0.22", 5, "a-ask"),
        order(b, BID, "0.47", 5, "b-bid"),
        order(b, ASK, "0.53", 5, "b-ask"),
    ]
    result = run(state(NOW, markets, fair_values=values, orders=orders), max_quotes=4)
    acts = [(i.action, i.ticker, i.side.value) for i in result.intents]
    # C's first side comes in; the costliest resting second side (A's ask, $0.77 a contract) goes.
    assert acts == [(IntentAction.CANCEL, a, "ask"), (IntentAction.PLACE, c, "ask")]
    # With room for one more, a resting second side is kept before a cheaper new one is placed.
    kept = run(state(NOW, markets, fair_values=values, orders=orders), max_quotes=5)
    assert [(i.action, i.ticker, i.side.value) for i in kept.intents] == [(IntentAction.PLACE, c, "ask")]


def test_urgent_actions_come_first_whatever_the_ticker() -> None:
    # The host sends places and amends only while the write budget lasts: in ticker order alone,
    # the same markets (here A's amends) would take the budget every time and the others starve.
    a, b, c, d = (
        "KXHIGHAUS-26MAY16-B80.5",
        "KXHIGHMIA-26MAY16-B80.5",
        "KXHIGHNY-26MAY16-B80.5",
        "KXHIGHPHIL-26MAY16-B80.5",
    )
    markets = [wide(a), wide(b), wide(c), wide(d, stale=True)]
    values = [fair(a, "0.55"), fair(b, "0.50"), fair(c, "0.50"), fair(d, "0.50")]
    orders = [
        order(a, BID, "0.47", 5, "a-bid"),  # fair moved 0.50 → 0.55: wanted 0.52, a safe drift
        order(a, ASK, "0.53", 5, "a-ask"),  # wanted 0.58 and 0.53 is below the safe bound: unsafe
        order(b, BID, "0.47", 5, "b-bid"),  # as wanted; B lacks its ask
        order(d, BID, "0.47", 5, "d-bid"),  # stale book: pulled
    ]
    result = run(state(NOW, markets, fair_values=values, orders=orders))
    acts = [(i.action, i.ticker, i.side.value, i.price) for i in result.intents]
    assert acts == [
        (IntentAction.CANCEL, d, "bid", px("0.47")),
        (IntentAction.AMEND, a, "ask", px("0.58")),  # unsafe first
        (IntentAction.PLACE, c, "bid", px("0.47")),  # C has no quote at all: its first side
        (IntentAction.PLACE, b, "ask", px("0.53")),  # then second sides
        (IntentAction.PLACE, c, "ask", px("0.53")),
        (IntentAction.AMEND, a, "bid", px("0.52")),  # a safe quote that drifted: last
    ]


def test_drift_amends_go_largest_move_first() -> None:
    a, b = "KXHIGHAUS-26MAY16-B80.5", "KXHIGHCHI-26MAY16-B80.5"
    markets = [snap(a, bid="0.01", ask="0.99"), snap(b, bid="0.01", ask="0.99")]
    values = [fair(a, "0.52"), fair(b, "0.40")]
    orders = [
        order(a, BID, "0.47", 5, "a-bid"),  # → 0.49: moved 0.02
        order(a, ASK, "0.53", 5, "a-ask"),  # → 0.55: moved 0.02
        order(b, BID, "0.47", 5, "b-bid"),  # → 0.37: moved 0.10
        order(b, ASK, "0.44", 5, "b-ask"),  # → 0.43: within the threshold, kept
    ]
    result = run(state(NOW, markets, fair_values=values, orders=orders))
    acts = [(i.action, i.ticker, i.side.value, i.price) for i in result.intents]
    assert acts == [
        (IntentAction.AMEND, b, "bid", px("0.37")),
        (IntentAction.AMEND, a, "bid", px("0.49")),
        (IntentAction.AMEND, a, "ask", px("0.55")),
    ]


def test_why_not_quote_is_the_gate_decide_applies() -> None:
    strategy = WeatherMMStrategy()
    st = state(NOW, [wide(), wide("B", close_in=20 * MINUTE)], fair_values=[fair(T, "0.50"), fair("B", "0.50")])
    assert strategy.why_not_quote(st, T) == ""
    assert strategy.why_not_quote(st, "B").startswith("market closes in 1200 s")
    assert strategy.why_not_quote(st, "C") == "market is not in the feed"
    only_ny = WeatherMMStrategy(WeatherMMParams(series=frozenset({"KXHIGHCHI"})))
    assert only_ny.why_not_quote(st, T) == "series not configured"


@settings(max_examples=200, deadline=None)
@given(
    fairs=st.lists(st.integers(0, 10_000), min_size=1, max_size=12),
    positions=st.lists(st.integers(-3_000, 3_000), min_size=12, max_size=12),
    resting=st.sets(st.tuples(st.integers(0, 11), st.sampled_from([BID, ASK]))),
    max_quotes=st.integers(1, 30),
)
def test_the_quote_budget_keeps_a_side_everywhere_it_can_and_never_exceeds(
    fairs: list[int], positions: list[int], resting: set[tuple[int, BookSide]], max_quotes: int
) -> None:
    tickers = [f"KXHIGHNY-26MAY16-B{60 + 2 * n}.5" for n in range(len(fairs))]
    plans = [
        plan(snap(t, bid=None, ask=None), FairValue(t, Price(f), NOW), pos / 100)
        for t, f, pos in zip(tickers, fairs, positions, strict=False)
    ]
    by_ticker = {p.ticker: p for p in plans}
    held = {t: pos for t, pos in zip(tickers, positions, strict=False)}
    rest = {(tickers[i], side) for i, side in resting if i < len(tickers)}
    kept = budget_quotes(plans, held, rest, max_quotes)
    assert [p.ticker for p in kept] == tickers
    quotes = [(p.ticker, q) for p in kept for q in (p.bid, p.ask) if q is not None]
    wanted = [(p.ticker, q) for p in plans for q in (p.bid, p.ask) if q is not None]
    assert len(quotes) == min(max_quotes, len(wanted))
    assert all(q == by_ticker[t].quote(q.side) for t, q in quotes)  # kept as planned, or left out
    quoted_markets = {p.ticker for p in plans if p.bid is not None or p.ask is not None}
    if len(quoted_markets) <= max_quotes:  # room for one side each: every market keeps its first side
        for p in plans:
            first = first_side(p, held[p.ticker])
            if first is not None:
                side_kept = next(k for k in kept if k.ticker == p.ticker).quote(first)
                assert side_kept is not None
    for p in kept:
        for side in (BID, ASK):
            if p.quote(side) is None and by_ticker[p.ticker].quote(side) is not None:
                assert "quote budget" in p.why_not(side)


# ---------------------------------------------------------------------------------------------
# Plans remembered by their inputs


_PRICES = st.sampled_from(["0.05", "0.20", "0.35", "0.50", "0.65", "0.80", "0.95"])
_MARKET = st.tuples(_PRICES, st.sampled_from(["0.00", "0.02", "0.10"]), st.sampled_from([-30, -5, 0, 5, 30]))


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(_MARKET, _MARKET, st.sampled_from([0, 1, 2])), min_size=1, max_size=12))
def test_a_strategy_that_decided_before_decides_as_a_new_one(
    steps: list[tuple[tuple[str, str, int], tuple[str, str, int], int]],
) -> None:
    """One strategy kept across calls (its plans remembered) decides exactly as a fresh one, call
    for call, whatever the inputs repeat or change: books, fair values, uncertainties, positions."""
    kept = WeatherMMStrategy()
    books = [("0.30", "0.70"), ("0.45", "0.55"), ("0.60", "0.62")]
    for step, (a, b, book) in enumerate(steps):
        bid, ask = books[book]
        markets = [wide(T, bid=bid, ask=ask), wide("B", bid=bid, ask=ask)]
        values = [fair(T, a[0], uncertainty=a[1]), fair("B", b[0], uncertainty=b[1])]
        st_ = state(NOW + step * SECOND, markets, fair_values=values, positions={T: a[2], "B": b[2]})
        memory = WeatherMMMemory()
        assert kept.decide(st_, memory) == WeatherMMStrategy().decide(st_, memory)


_RESTING = st.sampled_from([None, ("0.30", "0.70"), ("0.34", "0.66"), ("0.40", "0.60"), ("0.44", "0.58")])


@settings(max_examples=80, deadline=None)
@given(steps=st.lists(st.tuples(_PRICES, _RESTING, st.sampled_from([2, 5])), min_size=1, max_size=10))
def test_a_strategy_with_resting_quotes_reconciles_as_a_new_one(
    steps: list[tuple[str, tuple[str, str] | None, float]],
) -> None:
    """With quotes resting (or not) from step to step, a strategy kept across calls (its plans and
    reconciliations remembered) sends exactly what a fresh one would, places' ids included."""
    kept = WeatherMMStrategy()
    for step, (value, resting, remaining) in enumerate(steps):
        orders = []
        if resting is not None:
            orders = [order(T, BID, resting[0], remaining, "bid"), order(T, ASK, resting[1], remaining, "ask")]
        now = NOW + step * MINUTE
        st_ = state(now, [wide(now=now)], fair_values=[fair(T, value, as_of=now)], orders=orders)
        memory = WeatherMMMemory()
        assert kept.decide(st_, memory) == WeatherMMStrategy().decide(st_, memory)
