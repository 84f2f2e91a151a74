"""sim/world/living_world.py: how LivingWorld composes the weather world, the other markets and the traders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.world import DAY_MS, HOUR_MS, START_MS, conservation_gap, reconcile, run, stepped_exchange

from kalshi_trader.domain import FeeType, MarketStatus, Money, Qty, TickGrid
from kalshi_trader.sim.core.catalog import EventInfo, MarketMeta, SeriesInfo
from kalshi_trader.sim.core.state import MarketState
from kalshi_trader.sim.world.living_world import LivingWorld, build_living_world
from kalshi_trader.sim.world.scenario import World

CITIES = ("KXHIGHNY", "KXHIGHMIA")


def test_living_world_is_a_world_and_installs_once() -> None:
    exchange, _ = stepped_exchange(3)
    world: World = LivingWorld(3, series=CITIES)
    world.install(exchange)
    with pytest.raises(RuntimeError, match="already installed"):
        world.install(exchange)
    with pytest.raises(RuntimeError, match="not installed"):
        _ = LivingWorld(3).traders


def test_the_oracle_routes_each_ticker_to_the_part_that_owns_it() -> None:
    exchange, _ = stepped_exchange(3)
    world = build_living_world(exchange, 3, series=CITIES)
    weather = next(iter(world.weather.events.values())).tickers[0]
    other = next(iter(world.other.events.values())).tickers[0]
    now = START_MS
    assert world.probability(weather, now) == world.weather.probability(weather, now)
    assert world.probability(other, now, 0.3) == world.other.probability(other, now, 0.3)
    assert world.weather.probability(other, now) is None
    assert world.probability("KXNOPE-26JAN01-T1", now) is None
    series = {s.ticker for s in exchange.catalog.all_series()}
    assert {"KXHIGHNY", "KXHIGHMIA", "KXSIMGAME", "KXSIMVOTE", "KXSIMIDX"} == series


def test_next_due_is_the_earliest_of_both_parts() -> None:
    exchange, _ = stepped_exchange(4)
    world = build_living_world(exchange, 4, series=CITIES)
    for now in (START_MS, START_MS + 5 * HOUR_MS, START_MS + 30 * HOUR_MS):
        parts = [t for t in (world.weather.next_due_ms(now), world.other.next_due(now)) if t is not None]
        assert world.next_due(now) == min(parts)


@pytest.mark.slow  # ./test.sh --fast leaves it out
def test_traders_trade_the_worlds_markets_only_and_forget_settled_ones() -> None:
    exchange, clock = stepped_exchange(5)
    world = build_living_world(exchange, 5, series=CITIES)
    # a market listed by someone else (a test, an operator) is not the world's: nobody trades it
    exchange.catalog.add_series(SeriesInfo("KXFOREIGN", "Foreign", "Testing", "custom"))
    exchange.catalog.add_event(EventInfo("KXFOREIGN-1", "KXFOREIGN", "Foreign", "foreign"))
    exchange.catalog.add_market(
        MarketMeta(
            "KXFOREIGN-1-A", "KXFOREIGN-1", "id-1", "Foreign", "A", "A", START_MS, START_MS + DAY_MS, None,
            START_MS + 7 * DAY_MS, START_MS, "custom",
        )
    )  # fmt: skip
    exchange.engine.add_market(
        MarketState("KXFOREIGN-1-A", "KXFOREIGN-1", TickGrid.named("linear_cent"), FeeType.QUADRATIC)
    )
    run(exchange, clock, START_MS + 2 * DAY_MS, 2 * 60_000)
    assert "KXFOREIGN-1-A" not in world.traders.watched
    assert exchange.engine.trades("KXFOREIGN-1-A") == []
    watched = set(world.traders.watched)
    finalized = {s.ticker for s in world.settlements()}
    assert finalized  # some events have settled by now …
    assert not watched & finalized  # … and the traders let go of them
    assert all(exchange.engine.market(t).status is not MarketStatus.FINALIZED for t in watched)
    assert all(s.result in ("yes", "no") and s.expiration_value for s in world.settlements())
    values = world.settlement_values()
    assert {s.event_ticker for s in world.settlements()} <= values.keys()


def test_until_bounds_the_world_and_quiet_after_is_when_all_has_settled() -> None:
    exchange, _ = stepped_exchange(6)
    start_day = datetime.fromtimestamp(START_MS // 1000, UTC).date()
    world = build_living_world(exchange, 6, series=CITIES, until=start_day + timedelta(days=1))
    assert world.quiet_after_ms() == int(datetime(2025, 11, 25, tzinfo=UTC).timestamp()) * 1000
    assert LivingWorld(6).quiet_after_ms() is None


@pytest.mark.slow  # ./test.sh --fast leaves it out
def test_the_ledger_checks_catch_a_single_unit_of_money_out_of_place() -> None:
    exchange, clock = stepped_exchange(7)
    world = build_living_world(exchange, 7, series=CITIES)
    run(exchange, clock, START_MS + 30 * HOUR_MS, 2 * 60_000)
    engine = exchange.engine
    opening = world.traders_cash
    assert conservation_gap(engine, opening) == 0
    assert all(reconcile(engine, user, world.traders.opening[user]) == [] for user in world.trader_ids)
    assert any(engine.settlements(user) for user in world.trader_ids)  # settlements were replayed too
    user = world.trader_ids[0]
    account = engine.account(user)
    account.cash = Money(account.cash + 1)  # $0.0001 from nowhere
    assert conservation_gap(engine, opening) == 1
    assert any("replayed cash" in problem for problem in reconcile(engine, user, world.traders.opening[user]))
    account.cash = Money(account.cash - 1)
    position = next(p for p in account.positions.values() if p.position)
    position.position = Qty(position.position + 1)
    assert any("replayed" in problem for problem in reconcile(engine, user, world.traders.opening[user]))


def test_the_exchange_lists_the_default_series_or_all_of_them(tmp_path: Path) -> None:
    from kalshi_trader.sim.standalone import build_exchange
    from kalshi_trader.sim.world.cities import ALL_SERIES, DEFAULT_SERIES

    for every, expected in ((False, DEFAULT_SERIES), (True, ALL_SERIES)):
        built = build_exchange(
            data_dir=tmp_path / str(every), seed=1, cash=Money(0), scenario="weather", all_weather_series=every
        )
        listed = {s.ticker for s in built.exchange.catalog.all_series() if s.category == "Climate and Weather"}
        assert listed == set(expected)
