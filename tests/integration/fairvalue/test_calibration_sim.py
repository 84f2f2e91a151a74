"""The model scored with ``fairvalue.calibration`` over many settled sim days: calibrated at every
lead, sharper (lower Brier) as the lead shrinks, and better than a uniform guess from the evening before.

The simulated climate (``sim/climate.py``) draws its forecasts from the same weather.md priors, so
this checks the plumbing (forecast → distribution → brackets → pairs → scores) and that the model
is self-consistent with that world — not real-world skill."""

from __future__ import annotations

from datetime import date, timedelta

from kalshi_trader.fairvalue.calibration import brier_score, calibration_report, pairs_from_events
from kalshi_trader.fairvalue.stations import STATIONS
from kalshi_trader.fairvalue.weather import Bracket, BracketProbability, bracket_probabilities, max_temp_distribution
from kalshi_trader.sim.climate import CITIES, HOUR_MS, WeatherModel, day_start_ms

LEADS = (45, 21, 7, 3)  # hours before 15:00 LST: day-2 evening, evening before, 8 AM, noon
DAYS = [date(2025, 1, 1) + timedelta(days=4 * i) for i in range(90)]


def kalshi_brackets(forecast: float) -> list[Bracket]:
    low = round(forecast) - 4  # Kalshi centres six brackets on the forecast
    bands = [Bracket(f"B{low + 2 * k}", low + 2 * k, low + 2 * k + 1) for k in range(4)]
    return [Bracket("lo", None, low - 1), *bands, Bracket("hi", low + 8, None)]


def settled_events(model: WeatherModel, lead: int) -> list[tuple[list[BracketProbability], int]]:
    events = []
    for series in STATIONS:
        city = CITIES[series]
        for day in DAYS:
            at_ms = day_start_ms(city, day) + (15 - lead) * HOUR_MS
            forecast = model.forecast_high(city, day, at_ms)
            dist = max_temp_distribution(forecast, lead)
            events.append((bracket_probabilities(dist, kalshi_brackets(forecast)), model.truth(city, day)))
    return events


def test_model_is_calibrated_and_sharpens_with_lead() -> None:
    model = WeatherModel(seed=21)
    briers = []
    for lead in LEADS:
        pairs = pairs_from_events(settled_events(model, lead))
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
