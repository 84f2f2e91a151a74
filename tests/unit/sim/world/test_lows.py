"""Daily lows and the market's sharper forecast in the simulated weather: the minimum is the lowest
observation and what the final CLI reports, its forecasts are calibrated like the high's, the
market's forecast knows more than the public one, and a low series lists, prices and settles on
the minimum."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta

import pytest

from kalshi_trader.domain import MarketStatus
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.world.calibration_targets import market_sigma_ratio
from kalshi_trader.sim.world.cities import ALL_SERIES, CITIES, SERIES, temperature_series
from kalshi_trader.sim.world.climate import HOUR_MS, WeatherModel, day_start_ms
from kalshi_trader.sim.world.weather_markets import build_weather_world

DAYS = [date(2025, 3, 1) + timedelta(days=k) for k in range(240)]


def test_forty_series_of_twenty_cities() -> None:
    assert len(ALL_SERIES) == 40
    assert len(CITIES) == 20
    assert {s.extreme for s in SERIES.values()} == {"high", "low"}
    for city in CITIES.values():
        assert SERIES[city.key].city is SERIES[city.low_series].city is city
        assert city.low_series.startswith("KXLOWT")
    assert temperature_series("KXLOWTPHX").city.tz == "America/Phoenix"
    with pytest.raises(KeyError):
        temperature_series("KXLOWNYC")


def test_the_minimum_is_the_lowest_observation_and_the_final_cli() -> None:
    model = WeatherModel(12, ALL_SERIES)
    for city in model.cities:
        for day in DAYS[::29]:
            low, high = model.truth_low(city, day), model.truth(city, day)
            temps = [o.temperature_f for o in model.observations(city, day)]
            assert low == min(temps)
            assert low < high
            report = model.cli_report(city, day, "final")
            assert (report.min_f, report.max_f) == (low, high)
            assert model.observed(city, day, day_start_ms(city, day) + 30 * HOUR_MS, "low") == low
            assert model.observed(city, day, day_start_ms(city, day) - 1, "low") is None


def test_public_forecasts_of_the_low_have_the_spread_of_the_table() -> None:
    model = WeatherModel(2024)
    for lead in (3, 21, 45):
        errors = [
            model.forecast_for_lead(c, d, lead, "low") - model.truth_low(c, d) for c in model.cities for d in DAYS
        ]
        sigma = model.sigma(lead)
        assert abs(statistics.fmean(errors)) < 0.1 * sigma
        assert 0.9 * sigma < statistics.pstdev(errors) < 1.1 * sigma, lead
    city, day = CITIES["KXHIGHNY"], date(2026, 1, 15)
    assert model.reference_ms(city, day, "low") == day_start_ms(city, day) + 6 * HOUR_MS


def test_the_market_forecast_is_sharper_and_the_public_one_adds_only_noise() -> None:
    model = WeatherModel(7)
    lead = 21
    market, public, truth = [], [], []
    for city in model.cities:
        for day in DAYS:
            at = model.reference_ms(city, day) - lead * HOUR_MS
            market.append(model.market_forecast(city, day, at, "high"))
            public.append(model.forecast(city, day, at, "high"))
            truth.append(model.truth(city, day))
    market_error = [m - t for m, t in zip(market, truth, strict=True)]
    public_error = [p - t for p, t in zip(public, truth, strict=True)]
    noise = [p - m for p, m in zip(public, market, strict=True)]
    expected = model.sigma(lead) * market_sigma_ratio(lead)
    assert 0.9 * expected < statistics.pstdev(market_error) < 1.1 * expected
    assert model.market_sigma(lead) == pytest.approx(expected)
    assert statistics.pstdev(public_error) > 1.5 * statistics.pstdev(market_error)
    assert abs(statistics.correlation(noise, market_error)) < 0.1  # independent of what the market knows


def test_a_low_series_lists_prices_and_settles_on_the_minimum() -> None:
    clock = SimClock(start=datetime(2026, 1, 14, 12, tzinfo=UTC), speed=0)  # listed at 11:59Z, 42 h out
    exchange = EmbeddedExchange(seed=4, clock_ms=clock.now_ms, tier=None)
    world = build_weather_world(exchange, seed=4, series=("KXLOWTCHI",), until=date(2026, 1, 16))
    day = date(2026, 1, 15)
    event = world.event_for("KXLOWTCHI", day)
    assert event is not None
    assert event.extreme == "low"
    # before dawn the oracle is a distribution over the brackets; colder views move mass down
    clock.advance(12 * HOUR_MS)  # 2026-01-15T00:00Z = 18:00 CST on the 14th
    exchange.housekeeping()
    now = clock.now_ms()
    probabilities = [world.probability(t, now) for t in event.tickers]
    assert sum(p for p in probabilities if p is not None) == pytest.approx(1.0, abs=1e-9)
    colder = world.probability(event.tickers[0], now, shift=-1.0)
    warmer = world.probability(event.tickers[0], now, shift=1.0)
    assert colder is not None
    assert warmer is not None
    assert colder > warmer  # the "or below" tail gains when the low is expected colder
    # once dawn has passed, nothing above the observed minimum can win
    clock.advance(16 * HOUR_MS)  # 10:00 CST on the 15th
    exchange.housekeeping()
    now = clock.now_ms()
    seen = world.model.observed(event.city, day, world.published_until(now), "low")
    assert seen is not None
    for ticker, bracket in zip(event.tickers, event.brackets, strict=True):
        lowest = bracket.bounds()[0]
        if lowest is not None and lowest > seen:
            assert world.probability(ticker, now) == 0.0
    public = world.public_probability(event.tickers[1], now)
    assert public is not None
    assert 0.0 <= public <= 1.0
    clock.advance(3 * 24 * HOUR_MS)
    exchange.housekeeping()
    truth = world.truth("KXLOWTCHI", day)
    assert truth == world.model.cli_report(event.city, day).min_f
    assert world.settlement_values[event.event_ticker] == str(truth)
    for ticker, bracket in zip(event.tickers, event.brackets, strict=True):
        state = exchange.engine.market(ticker)
        assert state.status is MarketStatus.FINALIZED
        assert state.result == ("yes" if bracket.wins(truth) else "no")
    assert datetime.fromtimestamp(event.close_ms / 1000, tz=UTC) == datetime(2026, 1, 16, 5, 59, tzinfo=UTC)
