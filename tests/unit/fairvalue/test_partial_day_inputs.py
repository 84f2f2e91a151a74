"""Model inputs once the climate day is under way: the remaining hours' maximum from the hourly
forecast or the raw grid (``nws.remaining_max_f``, ``nws.forecast_high_f``), and the distribution
without a forecast high (``weather.max_temp_distribution`` with the observed maximum standing in)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from kalshi_trader.fairvalue.nws import (
    Forecast,
    ForecastPeriod,
    GridData,
    GridValue,
    forecast_extreme_f,
    remaining_extreme_f,
)
from kalshi_trader.fairvalue.weather import (
    POST_PEAK_DECLINE_F_PER_H,
    climate_day_bounds,
    max_temp_distribution,
    sigma_for_lead,
)

DAY_START, DAY_END = climate_day_bounds(date(2026, 9, 10), "America/New_York")  # 05:00Z .. 05:00Z
T0 = datetime(2026, 9, 10, tzinfo=UTC)


def hourly(temps: dict[int, float]) -> Forecast:
    """Hourly periods at the given UTC hours of 2026-09-10 (24+ = the next day)."""
    periods = tuple(
        ForecastPeriod(i, "", T0 + timedelta(hours=h), T0 + timedelta(hours=h + 1), True, t)
        for i, (h, t) in enumerate(sorted(temps.items()))
    )
    return Forecast(periods, T0, T0)


def grid_temps(temps: dict[int, tuple[int, float]]) -> GridData:
    """A grid whose temperature layer has runs {UTC hour: (hours, °F)} and no MaxT."""
    values = tuple(GridValue(T0 + timedelta(hours=h), timedelta(hours=n), t) for h, (n, t) in sorted(temps.items()))
    return GridData(T0, values, ())


def test_remaining_max_falls_back_to_the_grid_temperature_layer() -> None:
    now = datetime(2026, 9, 11, 1, 30, tzinfo=UTC)  # 20:30 EST on the 10th
    # Grid runs: 84 °F 18–21Z (before now), 77 °F 01–03Z (now), 75 °F 03–05Z, 90 °F from 05Z (next day).
    grid = grid_temps({18: (3, 84.0), 25: (2, 77.0), 27: (2, 75.0), 29: (6, 90.0)})
    assert remaining_extreme_f("high", None, now, DAY_END, grid=grid) == 77.0
    # The hourly forecast wins when it covers the rest of the day ...
    assert remaining_extreme_f("high", hourly({25: 76.0, 26: 74.0, 29: 95.0}), now, DAY_END, grid=grid) == 76.0
    # ... and the grid stands in when it has no hour left in the day.
    assert remaining_extreme_f("high", hourly({29: 95.0}), now, DAY_END, grid=grid) == 77.0
    assert remaining_extreme_f("high", None, now, DAY_END) is None
    assert remaining_extreme_f("high", hourly({20: 80.0}), DAY_END, DAY_END, grid=grid) is None  # the day is over


def test_forecast_high_uses_the_grid_temperatures_when_the_hourly_forecast_left_the_day() -> None:
    grid = grid_temps({18: (3, 84.0), 25: (2, 77.0)})
    high = forecast_extreme_f("high", DAY_START, DAY_END, grid=grid, hourly=hourly({29: 95.0}), hourly_bias_f=0.9)
    assert high is not None
    assert high.value_f == pytest.approx(84.9)
    assert high.sources == ("hourly",)
    # Neither reaches into the day (its hours are over): nothing covers it.
    assert (
        forecast_extreme_f("high", DAY_START, DAY_END, grid=grid_temps({29: (5, 80.0)}), hourly=hourly({30: 9.0}))
        is None
    )


def test_distribution_without_a_forecast_high_stands_on_the_observed_maximum() -> None:
    # After the peak: the observed maximum, declining, with the post-peak σ.
    dist = max_temp_distribution(None, -4.0, 84)
    assert dist.center_f == pytest.approx(84 - 4 * POST_PEAK_DECLINE_F_PER_H)
    assert dist.sigma_f == pytest.approx(sigma_for_lead(-4.0))
    assert dist.cdf(83) == 0.0
    assert dist.pmf(84) > 0.99
    assert math.fsum(dist.pmf(k) for k in range(60, 110)) == pytest.approx(1.0, abs=1e-7)  # t tails beyond
    # A remaining-hours forecast still decides the upside.
    warm = max_temp_distribution(None, -6.0, 84, remaining_max_f=88.0)
    assert warm.center_f == 88.0
    assert warm.cdf(83) == 0.0
    assert warm.cdf(86) < 0.2
    # Nothing at all: refused.
    with pytest.raises(ValueError, match="nothing to price"):
        max_temp_distribution(None, -4.0)
    with pytest.raises(ValueError, match="finite"):
        max_temp_distribution(None, -4.0, 84, remaining_max_f=math.inf)
