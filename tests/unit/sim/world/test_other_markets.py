"""sim/world/other_markets.py: listing schedule, drifting favourites, honest upsets, settlement."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from tests.support.world import DAY_MS, HOUR_MS, START_MS, run, stepped_exchange

from kalshi_trader.domain import FeeType, MarketStatus
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.world.other_markets import (
    DEFAULT_OTHER_SERIES,
    LatentPath,
    OtherEvent,
    OtherMarkets,
    OtherSeriesSpec,
    Shape,
    Variance,
    _Describe,
    normal_cdf,
    normal_ppf,
)


def installed(seed: int = 7, until_ms: int | None = None) -> tuple[OtherMarkets, EmbeddedExchange, SimClock]:
    exchange, clock = stepped_exchange(seed)
    world = OtherMarkets(seed, until_ms=until_ms)
    world.install(exchange)
    exchange.add_periodic(world.tick, next_due=world.next_due)
    exchange.housekeeping()
    return world, exchange, clock


def test_normal_helpers_are_inverse() -> None:
    for p in (0.001, 0.03, 0.5, 0.86, 0.97, 0.999):
        assert normal_cdf(normal_ppf(p)) == pytest.approx(p, abs=1e-9)
    with pytest.raises(ValueError, match="0 < p < 1"):
        normal_ppf(1.0)


def test_install_lists_live_events_of_every_series_on_their_grids() -> None:
    world, exchange, _ = installed()
    catalog, engine = exchange.catalog, exchange.engine
    series = {s.ticker for s in catalog.all_series()}
    assert series == {spec.ticker for spec in DEFAULT_OTHER_SERIES}
    by_series: dict[str, list[str]] = {}
    for meta in catalog.all_markets():
        by_series.setdefault(meta.ticker.split("-")[0], []).append(meta.ticker)
        state = engine.market(meta.ticker)
        assert state.status in (MarketStatus.ACTIVE, MarketStatus.INITIALIZED)
        assert meta.open_ms < meta.close_ms
        assert (meta.open_ms <= START_MS) == (state.status is MarketStatus.ACTIVE)
    # START_MS is 09:00Z; a game closes every 6 h (03/09/15/21Z) after 24 h open: the ones closing
    # at 15:00, 21:00, 03:00 and 09:00 tomorrow (which opens right now) are listed
    assert len(by_series["KXSIMGAME"]) == 4
    assert engine.market(by_series["KXSIMIDX"][0]).grid.structure == "deci_cent"
    assert engine.market(by_series["KXSIMGAME"][0]).fee_type is FeeType.QUADRATIC_WITH_MAKER_FEES
    # the index ladder: 5 ascending strikes per event, probabilities falling with the strike
    ladder = [t for t in by_series["KXSIMIDX"] if t.startswith(by_series["KXSIMIDX"][0].rsplit("-", 1)[0])]
    assert len(ladder) == 5
    strikes = [catalog.market(t).floor_strike or 0.0 for t in ladder]
    assert strikes == sorted(strikes)
    probs = [world.probability(t, START_MS) or 0.0 for t in ladder]
    assert probs == sorted(probs, reverse=True)
    assert world.probability("KXNOPE-1", START_MS) is None


def test_single_market_favourites_are_priced_above_85_percent_at_the_open() -> None:
    world, exchange, clock = installed(seed=3)
    seen = 0
    for _ in range(12):  # list a few days of events, look at each one at its open
        run(exchange, clock, clock.now_ms() + 6 * HOUR_MS, HOUR_MS)
    for event in world.events.values():
        if event.series.shape is Shape.LADDER:
            continue
        p = event.probability(0, event.open_ms)
        assert 0.86 - 1e-9 <= max(p, 1 - p) <= 0.97 + 1e-9
        seen += 1
    assert seen >= 10


def test_the_favourite_drifts_and_loses_about_as_often_as_its_price_says() -> None:
    # 1,500 six-hour events with uniform variance: upsets ≈ Σ(1 − p_open), and prices move.
    spec = OtherSeriesSpec(
        "KXT", "t", "Test", Shape.VOTE, "linear_cent", FeeType.QUADRATIC, (1, 1), HOUR_MS, 0, 6 * HOUR_MS
    )
    rng = random.Random(11)
    expected = upsets = 0.0
    ranges: list[float] = []
    for i in range(1_500):
        p_fav = rng.uniform(0.86, 0.97)
        variance = Variance([(0, 6 * HOUR_MS, 1.0 / (6 * HOUR_MS))])
        path = LatentPath(f"calibration:{i}", 0, normal_ppf(p_fav), variance)
        event = OtherEvent("E", spec, ["E-PASS"], [0.0], path, variance, 0, 6 * HOUR_MS, _Describe("names"))
        seen = [event.probability(0, t) for t in range(0, 6 * HOUR_MS, HOUR_MS)]
        ranges.append(max(seen) - min(seen))
        expected += 1 - p_fav
        upsets += event.probability(0, 6 * HOUR_MS) == 0.0
    sd = math.sqrt(expected * (1 - expected / 1_500))
    assert abs(upsets - expected) < 4 * sd, (upsets, expected)
    assert statistics.median(ranges) > 0.05  # favourites drift, they are not constants


def test_events_close_determine_and_settle_on_schedule_with_consistent_results() -> None:
    world, exchange, clock = installed(seed=5)
    run(exchange, clock, START_MS + 3 * DAY_MS, 10 * 60_000)
    catalog, engine = exchange.catalog, exchange.engine
    now = clock.now_ms()
    settled = 0
    for event in world.events.values():
        spec = event.series
        due = event.close_ms + spec.determine_delay_ms + spec.settlement_timer_s * 1000
        for ticker, strike in zip(event.tickers, event.strikes, strict=True):
            state, meta = engine.market(ticker), catalog.market(ticker)
            if now < event.close_ms:
                assert state.status in (MarketStatus.ACTIVE, MarketStatus.INITIALIZED)
                continue
            if now < due:
                assert state.status in (MarketStatus.CLOSED, MarketStatus.DETERMINED)
                continue
            settled += 1
            assert state.status is MarketStatus.FINALIZED
            final = event.path.value(event.close_ms)
            assert state.result == ("yes" if final > strike else "no") == world.results[ticker]
            assert meta.expiration_value == world.settlement_values[event.event_ticker] != ""
            assert event.probability(event.tickers.index(ticker), now) == (1.0 if state.result == "yes" else 0.0)
            # the SimClock-driven housekeeping stops at the scheduled times exactly
            assert meta.determined_ms == event.close_ms + spec.determine_delay_ms
            assert meta.settled_ms == due
    assert settled >= 25


def test_settlement_values_do_not_depend_on_how_often_the_world_ticks() -> None:
    outcomes = []
    for step in (60_000, 17 * 60_000 + 13_000):
        world, exchange, clock = installed(seed=9)
        run(exchange, clock, START_MS + 4 * DAY_MS, step)
        outcomes.append((dict(world.settlement_values), dict(world.results)))
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0][1]) > 30
    w10, e10, c10 = installed(seed=10)
    run(e10, c10, START_MS + 4 * DAY_MS, HOUR_MS)
    assert dict(w10.settlement_values) != outcomes[0][0]


def test_until_stops_listing_so_a_run_can_end_with_everything_settled() -> None:
    until = START_MS + 2 * DAY_MS
    world, exchange, clock = installed(seed=4, until_ms=until)
    run(exchange, clock, until + 2 * HOUR_MS, 15 * 60_000)
    assert world.live_events == []
    assert all(event.close_ms <= until and event.settled for event in world.events.values())
    engine = exchange.engine
    assert all(engine.market(t).status is MarketStatus.FINALIZED for e in world.events.values() for t in e.tickers)
    assert world.next_due(clock.now_ms()) is None


def test_latent_path_remembers_whole_hours_only() -> None:
    path = LatentPath("p", 0, 0.0, Variance([(0, DAY_MS, 1.0 / DAY_MS)]))
    at_two = path.value(2 * HOUR_MS)
    later = path.value(5 * HOUR_MS + 30 * 60_000)
    assert path.value(2 * HOUR_MS) == at_two
    assert path.value(5 * HOUR_MS + 30 * 60_000 + 59_999) == later  # same grid minute
    with pytest.raises(ValueError, match="no longer known"):
        path.value(2 * HOUR_MS + 60_000)
    assert path.value(-5) == 0.0


def test_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="whole number of hours"):
        OtherSeriesSpec("X", "x", "c", Shape.VOTE, "linear_cent", FeeType.QUADRATIC, (1, 1), 90 * 60_000, 0, HOUR_MS)
    with pytest.raises(ValueError, match="final_ms"):
        OtherSeriesSpec("X", "x", "c", Shape.GAME, "linear_cent", FeeType.QUADRATIC, (1, 1), HOUR_MS, 0, HOUR_MS)
    with pytest.raises(ValueError, match="unique"):
        OtherMarkets(1, (DEFAULT_OTHER_SERIES[0], DEFAULT_OTHER_SERIES[0]))
