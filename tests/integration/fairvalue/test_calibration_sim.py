"""The model scored with ``fairvalue.calibration`` over many settled sim days: calibrated at every
lead, sharper (lower Brier) as the lead shrinks, and better than a uniform guess from the evening before.

The simulated climate (``sim/world/climate.py``) draws its forecasts from the same priors (docs/weather-model.md), so
this checks the plumbing (forecast → distribution → brackets → pairs → scores) and that the model
is self-consistent with that world — not real-world skill."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from kalshi_trader.fairvalue.calibration import brier_score, calibration_report, pairs_from_events
from kalshi_trader.fairvalue.stations import STATIONS
from kalshi_trader.fairvalue.weather import (
    Bracket,
    BracketProbability,
    Extreme,
    ModelParams,
    bracket_probabilities,
    extreme_hour_lst,
    temp_distribution,
)
from kalshi_trader.sim.world.cities import SERIES
from kalshi_trader.sim.world.climate import HOUR_MS, WeatherModel, day_start_ms

GAUSSIAN = ModelParams(dof=math.inf)
"""The simulated forecast errors are normal: the model's Student-t tails are for the real world."""
LEADS = (45, 21, 7, 3)  # hours before the extreme's nominal time (15:00 / 06:00 LST)
DAYS = [date(2025, 1, 1) + timedelta(days=4 * i) for i in range(90)]


def kalshi_brackets(forecast: float) -> list[Bracket]:
    low = round(forecast) - 4  # Kalshi centres six brackets on the forecast
    bands = [Bracket(f"B{low + 2 * k}", low + 2 * k, low + 2 * k + 1) for k in range(4)]
    return [Bracket("lo", None, low - 1), *bands, Bracket("hi", low + 8, None)]


def settled_events(model: WeatherModel, lead: int, extreme: Extreme) -> list[tuple[list[BracketProbability], int]]:
    events = []
    for series, station in STATIONS.items():
        if station.extreme != extreme or SERIES[series].city not in model.cities:
            continue
        city = SERIES[series].city
        for day in DAYS:
            at_ms = day_start_ms(city, day) + int((extreme_hour_lst(extreme) - lead) * HOUR_MS)
            forecast = model.forecast(city, day, at_ms, extreme)
            dist = temp_distribution(extreme, forecast, lead, params=GAUSSIAN)
            truth = model.truth_of(city, day, extreme)
            events.append((bracket_probabilities(dist, kalshi_brackets(forecast)), truth))
    return events


@pytest.mark.parametrize("extreme", ["high", "low"])
def test_model_is_calibrated_and_sharpens_with_lead(extreme: Extreme) -> None:
    model = WeatherModel(seed=21)  # the default cities: seven highs, three lows
    briers = []
    for lead in LEADS:
        pairs = pairs_from_events(settled_events(model, lead, extreme))
        report = calibration_report(pairs, bins=10)
        assert report.base_rate == 1 / 6  # one winning bracket of six per event
        for b in report.reliability:
            if b.count >= 200:
                assert abs(b.observed_frequency - b.mean_predicted) < 0.05, (lead, b)
        uniform = brier_score([(1 / 6, outcome) for _, outcome in pairs])
        if lead <= 21:  # two days out, σ ≈ 4 °F against 2 °F bands: no better than a uniform guess
            assert report.brier < uniform, (lead, report.brier, uniform)
        briers.append(report.brier)
    assert briers == sorted(briers, reverse=True), briers
