"""Properties of both strategies over random books, fair values, inventories and grids."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.strategy.kit import HOUR, NOW, fill, order, risk_for, snap, state
from tests.unit.strategy.reference import ReferenceFavorite

from kalshi_trader.domain import (
    PRICE_SCALE,
    QTY_SCALE,
    BookSide,
    BracketRequest,
    FeeSchedule,
    FeeType,
    IntentAction,
    Money,
    OrderIntent,
    Price,
    Qty,
    Side,
    TickGrid,
    format_price,
    leg_price,
    order_levels,
)
from kalshi_trader.strategy.base import UNLIMITED, FairValue, MarketSnapshot, Verdict
from kalshi_trader.strategy.favorite import EntryMode, FavoriteMemory, FavoriteParams, FavoriteStrategy, Trade
from kalshi_trader.strategy.weather_mm import WeatherMMMemory, WeatherMMParams, WeatherMMStrategy, plan_quotes

T = "KXHIGHNY-26MAY16-B78.5"
GRIDS = [TickGrid.named(n) for n in ("linear_cent", "deci_cent", "tapered_deci_cent", "center_half_edge_quint_cent")]

grids = st.sampled_from(GRIDS)
fee_types = st.sampled_from(list(FeeType))


@st.composite
def books(draw: st.DrawFn, grid: TickGrid) -> tuple[Price | None, Price | None]:
    """A YES bid below a YES ask on the grid, either side possibly empty."""
    levels = order_levels(grid)
    i = draw(st.integers(0, len(levels) - 1))
    j = draw(st.integers(0, len(levels) - 1).filter(lambda k: k != i))
    bid, ask = sorted((levels[i], levels[j]))
    return (bid if draw(st.booleans()) else None, ask if draw(st.booleans()) else None)


def market(grid: TickGrid, bid: Price | None, ask: Price | None, fees: FeeSchedule = FeeSchedule()) -> MarketSnapshot:
    return snap(
        T,
        bid=format_price(bid) if bid is not None else None,
        ask=format_price(ask) if ask is not None else None,
        grid=grid,
        fees=fees,
    )


# ---------------------------------------------------------------------------------------------
# Market maker


@settings(max_examples=400, deadline=None)
@given(
    data=st.data(),
    grid=grids,
    fair=st.integers(1, PRICE_SCALE - 1),
    doubt=st.integers(0, 1_500),
    position=st.integers(-4_000, 4_000),
    elsewhere=st.integers(-6_000, 6_000),
    fee_type=fee_types,
    quote_size=st.sampled_from([100, 250, 500, 1_000]),
)
def test_mm_quotes_are_on_grid_around_fair_post_only_and_within_limits(
    data: st.DataObject,
    grid: TickGrid,
    fair: int,
    doubt: int,
    position: int,
    elsewhere: int,
    fee_type: FeeType,
    quote_size: int,
) -> None:
    bid_px, ask_px = data.draw(books(grid))
    params = WeatherMMParams(quote_size=Qty(quote_size), size_step=Qty(50))
    snapshot = market(grid, bid_px, ask_px, FeeSchedule(fee_type))
    event = position + elsewhere
    plan = plan_quotes(params, snapshot, FairValue(T, Price(fair), NOW, Price(doubt)), Qty(position), Qty(event))
    if plan.bid is not None:
        q = plan.bid
        assert grid.is_valid_order_price(q.price)
        assert q.price < fair
        assert ask_px is None or q.price < ask_px  # post-only: never crosses
        assert 0 < q.qty <= quote_size
        assert q.qty % params.size_step == 0
        assert position + q.qty <= params.max_position
        assert event + q.qty <= params.max_event_position
        assert q.price * q.qty <= params.max_quote_risk * QTY_SCALE
    if plan.ask is not None:
        q = plan.ask
        assert grid.is_valid_order_price(q.price)
        assert q.price > fair
        assert bid_px is None or q.price > bid_px
        assert 0 < q.qty <= quote_size
        assert q.qty % params.size_step == 0
        assert position - q.qty >= -params.max_position
        assert event - q.qty >= -params.max_event_position
        assert (PRICE_SCALE - q.price) * q.qty <= params.max_quote_risk * QTY_SCALE
    if plan.bid is not None and plan.ask is not None:
        assert plan.bid.price < plan.ask.price  # never crosses its own quotes
    if plan.bid is None and plan.ask is None:
        assert plan.why_no_bid
        assert plan.why_no_ask


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    fair=st.integers(300, 9_700),
    resting_bid=st.integers(1, 98),
    resting_ask=st.integers(2, 99),
    position=st.integers(-3_000, 3_000),
)
def test_mm_places_post_only_and_amends_only_to_safe_prices(
    data: st.DataObject, fair: int, resting_bid: int, resting_ask: int, position: int
) -> None:
    from tests.unit.strategy.kit import order

    grid = GRIDS[0]
    bid_px, ask_px = data.draw(books(grid))
    orders = []
    if data.draw(st.booleans()):
        orders.append(order(T, BookSide.BID, f"0.{resting_bid:02d}", 3, "b"))
    if data.draw(st.booleans()):
        orders.append(order(T, BookSide.ASK, f"0.{resting_ask:02d}", 3, "a"))
    st_ = state(
        NOW,
        [market(grid, bid_px, ask_px)],
        orders=orders,
        positions={T: position / 100},
        fair_values=[FairValue(T, Price(fair), NOW)],
    )
    result = WeatherMMStrategy().decide(st_, WeatherMMMemory())
    assert len(result.decisions) == 1
    assert result.decisions[0].reason
    for intent in result.intents:
        assert intent.strategy == "weather_mm"
        assert intent.reason
        if intent.action is IntentAction.PLACE:
            assert intent.post_only
            assert intent.client_order_id not in {"a", "b"}
        if intent.action in (IntentAction.PLACE, IntentAction.AMEND):
            assert grid.is_valid_order_price(intent.price)
            assert intent.price < fair if intent.side is BookSide.BID else intent.price > fair
            assert bid_px is None or intent.side is BookSide.BID or intent.price > bid_px
            assert ask_px is None or intent.side is BookSide.ASK or intent.price < ask_px
    sides = [i.side for i in result.intents if i.action is not IntentAction.CANCEL]
    assert len(sides) == len(set(sides))  # at most one live quote per side


# ---------------------------------------------------------------------------------------------
# Favourite


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    grid=grids,
    mode=st.sampled_from(list(EntryMode)),
    fee_type=fee_types,
    max_risk=st.integers(1_000, 500_000),
    step=st.sampled_from([1, 10, 100]),
)
def test_favorite_entries_are_on_grid_capped_and_sized_within_risk(
    data: st.DataObject, grid: TickGrid, mode: EntryMode, fee_type: FeeType, max_risk: int, step: int
) -> None:
    bid_px, ask_px = data.draw(books(grid))
    params = FavoriteParams(
        entry_mode=mode,
        max_risk_per_trade=Money(max_risk),
        size_step=Qty(step),
        max_spread=Price(1_000),
        min_depth=Qty(0),
    )
    snapshot = market(grid, bid_px, ask_px, FeeSchedule(fee_type))
    result = FavoriteStrategy(params).decide(state(NOW, [snapshot]), FavoriteMemory())
    (decision,) = result.decisions  # every market looked at is explained, traded or not
    assert decision.reason
    assert decision.verdict is (Verdict.TRADE if result.intents else Verdict.SKIP)
    for intent in result.intents:
        assert intent.reason
        assert intent.inputs
        assert intent.action is IntentAction.PLACE
        assert grid.is_valid_order_price(intent.price)
        leg = leg_price(intent.price, intent.side)
        assert leg <= params.max_entry_price
        assert 0 < intent.qty <= params.max_contracts
        assert intent.qty % step == 0
        assert intent.post_only is (mode is not EntryMode.TAKE)
        if intent.post_only:  # a resting bid never touches the other side
            assert ask_px is None or intent.side is BookSide.ASK or intent.price < ask_px
            assert bid_px is None or intent.side is BookSide.BID or intent.price > bid_px
        stop_limit = int(dict(intent.inputs)["stop_limit_leg_price"])
        fees = snapshot.fees
        per_contract = (
            leg
            - stop_limit
            + fees.fee(leg, QTY_SCALE, taker=not intent.post_only)
            + fees.fee(stop_limit, QTY_SCALE, taker=True)
        )
        assert intent.qty * per_contract <= max_risk * QTY_SCALE  # planned loss within the budget


@settings(max_examples=300, deadline=None)
@given(grid=grids, outcome=st.sampled_from(list(Side)), level=st.integers(0, 10_000), qty=st.integers(1, 5_000))
def test_favorite_brackets_are_always_well_formed_on_the_grid(
    grid: TickGrid, outcome: Side, level: int, qty: int
) -> None:
    levels = order_levels(grid)
    yes = levels[level % len(levels)]
    side = BookSide.of(outcome)
    trade = Trade(T, outcome, "entry", leg_price(yes, side), Qty(qty), NOW, NOW + 6 * HOUR, grid, seen=True)
    memory = FavoriteMemory(trades={T: trade})
    position = qty if outcome is Side.YES else -qty
    fills = [fill(T, side, format_price(yes), qty / 100, "entry", "f1")]
    # No snapshot at all (the market left the feed): no exit signal, protection still on the grid.
    result = FavoriteStrategy().decide(state(NOW, [], positions={T: position / 100}, fills=fills), memory)
    brackets = [a for a in result.actions if isinstance(a, BracketRequest)]
    assert len(brackets) == 1  # constructing it validated the price order
    b = brackets[0]
    assert b.qty == qty
    assert b.entry_side is side
    for price in (b.take_profit_price, b.stop_trigger_price, b.stop_limit_price):
        assert grid.is_valid_order_price(price)
    assert not any(isinstance(a, OrderIntent) for a in result.actions)


# ---------------------------------------------------------------------------------------------
# Favourite: the entry path decides exactly as the plain version it replaced


@st.composite
def entry_markets(draw: st.DrawFn, n: int) -> MarketSnapshot:
    grid = draw(grids)
    levels = order_levels(grid)
    low = draw(st.sampled_from([p for p in levels if p <= 1_500 or p >= 8_000]))  # mostly a favourite
    i = levels.index(low)
    high = levels[min(len(levels) - 1, i + draw(st.integers(1, 4)))]
    bid, ask = draw(st.sampled_from([(low, high)] * 4 + [None]) | books(grid)) or (low, high)
    numerator = draw(st.integers(0, 3))
    fees = FeeSchedule(draw(fee_types), (numerator, draw(st.integers(1, 4))))
    return snap(
        f"{T}-{n}",
        bid=format_price(bid) if bid is not None else None,
        ask=format_price(ask) if ask is not None else None,
        bid_qty=draw(st.sampled_from([3, 0.5, 10, 50])),
        ask_qty=draw(st.sampled_from([3, 0.5, 10, 50])),
        bid_depth=draw(st.sampled_from([None, None, 5, 40])),
        ask_depth=draw(st.sampled_from([None, None, 5, 40])),
        close_in=draw(st.sampled_from([2 * HOUR] * 6 + [10 * 60_000, 4 * 86_400_000])),
        age=draw(st.sampled_from([0] * 7 + [6_000])),
        stale=draw(st.sampled_from([False] * 9 + [True])),
        series=draw(st.sampled_from(["KXHIGHNY", "KXLOW"])),
        grid=grid,
        fees=fees,
    )


@settings(max_examples=600, deadline=None)
@given(
    data=st.data(),
    mode=st.sampled_from([EntryMode.TAKE, EntryMode.IMPROVE, EntryMode.JOIN]),
    probability=st.sampled_from([5_000, 8_500, 9_400]),
    max_entry=st.sampled_from([6_000, 9_500, 9_900]),
    spread=st.sampled_from([100, 300, 2_000]),
    depth=st.sampled_from([0, 0, 1_000, 4_000]),
    risk_per_trade=st.sampled_from([50, 20_000, 200_000]),
    contracts=st.sampled_from([100, 10_000]),
    step=st.sampled_from([1, 100, 250]),
    trades=st.integers(1, 3),
    series=st.sampled_from([frozenset(), frozenset({"KXHIGHNY"})]),
    limits=st.sampled_from([None, {"max_order_size": 3}, {"max_position_per_market": 1}, {"max_open_orders": 1}]),
)
def test_favourite_entries_are_decided_as_the_reference_decides_them(
    data: st.DataObject,
    mode: EntryMode,
    probability: int,
    max_entry: int,
    spread: int,
    depth: int,
    risk_per_trade: int,
    contracts: int,
    step: int,
    trades: int,
    series: frozenset[str],
    limits: dict[str, int] | None,
) -> None:
    """Differential: over random books, fees, grids, params, positions, resting orders, cool-downs
    and risk limits, ``decide`` returns exactly what ``ReferenceFavorite`` (the entry path as first
    written) returns: the same memory, actions and decisions, reasons and numbers included."""
    markets = [data.draw(entry_markets(n)) for n in range(data.draw(st.integers(1, 4)))]
    params = FavoriteParams(
        series=series,
        min_probability=Price(probability),
        max_entry_price=Price(max_entry),
        min_depth=Qty(depth),
        max_spread=Price(spread),
        entry_mode=mode,
        max_risk_per_trade=Money(risk_per_trade),
        max_contracts=Qty(contracts),
        size_step=Qty(step),
        max_open_trades=trades,
    )
    tickers = [m.ticker for m in markets]
    held = data.draw(st.dictionaries(st.sampled_from(tickers), st.sampled_from([-2.0, 0.0, 3.0]), max_size=2))
    resting = [order(t, BookSide.BID, "0.10", 1, f"rest-{t}") for t in data.draw(st.sets(st.sampled_from(tickers)))]
    cooling = data.draw(st.dictionaries(st.sampled_from(tickers), st.sampled_from([NOW - 1, NOW + 60_000]), max_size=2))
    memory = FavoriteMemory({}, cooling)
    risk = risk_for(markets, **limits) if limits is not None else None
    fast, slow = FavoriteStrategy(params), ReferenceFavorite(params)
    for now in (NOW, NOW + 1):  # twice: the second call reads the fees the first one worked out
        got = fast.decide(
            state(now, markets, orders=resting, positions=held, room=risk.room() if risk else UNLIMITED), memory
        )
        want = slow.decide(
            state(now, markets, orders=resting, positions=held, room=risk.room() if risk else UNLIMITED), memory
        )
        assert got == want


@pytest.mark.parametrize("mode", list(EntryMode))
@pytest.mark.parametrize(("bid", "ask", "offered"), [("0.88", "0.90", 3), ("0.10", "0.12", 2), ("0.91", "0.93", 80)])
def test_favourite_entries_of_each_mode_are_decided_as_the_reference_decides_them(
    mode: EntryMode, bid: str, ask: str, offered: float
) -> None:
    """The same differential on hand-made favourites of both legs, sizes cut by what is offered."""
    market = snap(T, bid=bid, ask=ask, bid_qty=offered, ask_qty=offered, bid_depth=50, ask_depth=50)
    params = FavoriteParams(entry_mode=mode)
    got = FavoriteStrategy(params).decide(state(NOW, [market]), FavoriteMemory())
    assert got.intents
    assert got == ReferenceFavorite(params).decide(state(NOW, [market]), FavoriteMemory())


@pytest.mark.parametrize("mode", list(EntryMode))
def test_a_market_whose_grid_or_fees_change_is_priced_anew(mode: EntryMode) -> None:
    """The favourite remembers each top's entry with the grid and fee schedule it was priced on: the
    same market and top on another grid or with other fees is priced again, as a fresh strategy
    prices it."""
    params = FavoriteParams(entry_mode=mode)
    remembering = FavoriteStrategy(params)
    variants = [
        snap(T, bid="0.88", ask="0.90"),
        snap(T, bid="0.88", ask="0.90", grid=GRIDS[1]),
        snap(T, bid="0.88", ask="0.90", grid=GRIDS[1], fees=FeeSchedule(FeeType.QUADRATIC, (3, 1))),
        snap(T, bid="0.88", ask="0.90"),
    ]
    for market in variants:
        got = remembering.decide(state(NOW, [market]), FavoriteMemory())
        assert got == FavoriteStrategy(params).decide(state(NOW, [market]), FavoriteMemory())
        assert got == ReferenceFavorite(params).decide(state(NOW, [market]), FavoriteMemory())
