"""Daily lows: the minimum's distribution (a mirror of the maximum's), the NWS inputs that feed it
(grid MinT of the night before, the 12-hour forecast's "low around", the hourly minimum, METAR
6-hour minima), and ``live.day_model`` for a low series."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from kalshi_trader.fairvalue.live import NO_HOURS_LEFT_MARGIN_F, day_model
from kalshi_trader.fairvalue.nws import (
    Forecast,
    ForecastPeriod,
    GridData,
    GridValue,
    Observation,
    forecast_extreme_f,
    min_6h_from_metar,
    observed_extreme_f,
    parse_observation,
    remaining_extreme_f,
)
from kalshi_trader.fairvalue.stations import STATIONS
from kalshi_trader.fairvalue.weather import (
    Bracket,
    MaxTempDistribution,
    MinTempDistribution,
    ModelParams,
    bracket_probabilities,
    climate_day_bounds,
    lead_hours_until_extreme,
    min_temp_distribution,
    temp_distribution,
)

NORMAL = math.inf
LOW_NYC = STATIONS["KXLOWTNYC"]
DAY = date(2026, 1, 15)
START, END = climate_day_bounds(DAY, LOW_NYC.time_zone)  # 05:00Z .. 05:00Z (EST all winter)
BRACKETS = [
    Bracket("T20", None, 19),
    *(Bracket(f"B{f}.5", f, f + 1) for f in range(20, 28, 2)),
    Bracket("T27", 28, None),
]  # ≤19, 20–21, 22–23, 24–25, 26–27, ≥28


def lst(hour: float) -> datetime:
    return START + timedelta(hours=hour)


# -- the distribution ----------------------------------------------------------------------------


def test_the_minimum_is_the_mirror_image_of_the_maximum() -> None:
    low = MinTempDistribution(center_f=24.0, sigma_f=2.5, dof=6.0)
    high = MaxTempDistribution(center_f=-24.0, sigma_f=2.5, dof=6.0)
    for k in range(10, 40):
        assert low.pmf(k) == pytest.approx(high.pmf(-k), abs=1e-12)
    assert math.fsum(low.pmf(k) for k in range(-300, 350)) == pytest.approx(1.0, abs=1e-6)
    assert low.quantile(0.5) == 24
    assert low.extreme == "low"
    assert high.extreme == "high"


def test_the_observed_minimum_is_a_ceiling_with_a_point_mass() -> None:
    d = MinTempDistribution(center_f=24.0, sigma_f=2.0, dof=NORMAL, observed_min_f=22)
    assert d.prob_range(23, None) == 0.0  # nothing above what was already observed
    unbounded = MinTempDistribution(center_f=24.0, sigma_f=2.0, dof=NORMAL)
    assert d.pmf(22) == pytest.approx(unbounded.prob_range(22, None))  # the whole upper tail sits at 22
    assert d.pmf(21) == pytest.approx(unbounded.pmf(21))  # below it: unchanged, not renormalised
    assert math.fsum(p.probability for p in bracket_probabilities(d, BRACKETS)) == pytest.approx(1.0)


def test_after_the_trough_the_remaining_minimum_rises() -> None:
    morning = min_temp_distribution(24.0, 2.0, None)
    assert morning.center_f == 24.0
    afternoon = min_temp_distribution(24.0, -8.0, 23)  # 14:00 LST, 23 °F seen at dawn
    assert afternoon.center_f == pytest.approx(24.0 + 8 * 1.5)  # rising ~1.5 °F/h after the trough
    assert afternoon.pmf(23) > 0.99
    cold_evening = min_temp_distribution(24.0, -12.0, 23, remaining_min_f=18.0)  # a front arrives tonight
    assert cold_evening.prob_range(None, 22) > 0.5


def test_bias_and_spread_apply_in_the_low_direction() -> None:
    d = min_temp_distribution(30.0, 21.0, params=ModelParams(bias_f=-1.5, sigma_scale=1.2))
    assert d.center_f == pytest.approx(28.5)  # bias is added to the forecast, as for highs
    assert d.sigma_f == pytest.approx(3.0 * 1.2)
    assert temp_distribution("low", 30.0, 21.0) == min_temp_distribution(30.0, 21.0)
    assert isinstance(temp_distribution("high", 30.0, 21.0), MaxTempDistribution)


def test_lead_is_measured_to_the_trough_for_lows() -> None:
    assert lead_hours_until_extreme(lst(1.0), DAY, LOW_NYC.time_zone, "low") == 5.0
    assert lead_hours_until_extreme(lst(1.0), DAY, LOW_NYC.time_zone, "high") == 14.0


# -- NWS inputs ----------------------------------------------------------------------------------


def hourly(temps: dict[float, float]) -> Forecast:
    """Hourly periods starting ``h`` hours into the climate day (LST)."""
    periods = tuple(
        ForecastPeriod(i, "", lst(h), lst(h + 1), 6 <= h < 18, t) for i, (h, t) in enumerate(sorted(temps.items()))
    )
    return Forecast(periods, START, START)


def test_forecast_low_from_the_grid_min_of_the_night_before() -> None:
    grid = GridData(
        START,
        (),
        (),
        (
            GridValue(lst(-5), timedelta(hours=14), 22.0),  # 19:00 LST the evening before → 09:00: today's low
            GridValue(lst(19), timedelta(hours=14), 10.0),  # tonight → tomorrow morning: not today's
        ),
    )
    low = forecast_extreme_f("low", START, END, grid=grid, hourly=hourly({7: 25.0, 15: 35.0}))
    assert low is not None
    assert (low.value_f, low.sources) == (22.0, ("minTemperature",))
    front = forecast_extreme_f("low", START, END, grid=grid, hourly=hourly({7: 25.0, 23: 15.0}))
    assert front is not None
    assert (front.value_f, front.sources) == (15.0, ("hourly",))


def test_forecast_low_from_the_12_hour_night_period_and_hourly_alone() -> None:
    night = ForecastPeriod(1, "Overnight", lst(-6), lst(6), False, 21.0)
    day_ = ForecastPeriod(2, "Thursday", lst(6), lst(18), True, 38.0)
    tonight = ForecastPeriod(3, "Thursday Night", lst(18), lst(30), False, 12.0)  # ends tomorrow
    daily = Forecast((night, day_, tonight), START, START)
    low = forecast_extreme_f("low", START, END, daily=daily)
    assert low is not None
    assert (low.value_f, low.sources) == (21.0, ("daily",))
    alone = forecast_extreme_f("low", START, END, hourly=hourly({5: 23.0, 6: 22.0}), hourly_bias_f=0.9)
    assert alone is not None
    assert alone.value_f == pytest.approx(21.1)
    assert forecast_extreme_f("low", START, END) is None


def test_observed_minimum_and_six_hour_minimum_groups() -> None:
    metar = "KNYC 151151Z AUTO 31008KT 10SM CLR M06/M12 A3012 RMK AO2 SLP201 T10611122 10011 21072"
    assert min_6h_from_metar(metar) == -7.2
    feature = {"properties": {"timestamp": lst(7).isoformat(), "rawMessage": metar, "temperature": {"value": -6.1}}}
    observation = parse_observation(feature, now=lst(8), stale_after_s=7200)
    assert (observation.min_6h_c, observation.max_6h_c) == (-7.2, 1.1)
    early = Observation("KNYC", lst(3), -5.0, "V", "", None, min_6h_c=-9.0)  # its 6-h window began yesterday
    rows = [early, observation, Observation("KNYC", lst(9), -10.0, "X", "", None)]  # failed QC: ignored
    assert observed_extreme_f("low", rows, START, END) == 19  # -7.2 °C = 19.04 °F
    assert observed_extreme_f("high", rows, START, END) == 34  # 1.1 °C (the 6-h max) = 33.98 °F


def test_remaining_minimum() -> None:
    fc = hourly({14: 35.0, 20: 28.0, 23: 26.0, 25: 12.0})
    assert remaining_extreme_f("low", fc, lst(14.5), END) == 26.0  # tomorrow's 12 °F is not today's
    assert remaining_extreme_f("low", fc, END, END) is None


# -- a low series priced through live.day_model ---------------------------------------------------


def test_day_model_of_a_low_series_before_and_after_the_trough() -> None:
    grid = GridData(START, (), (), (GridValue(lst(-5), timedelta(hours=14), 22.0),))
    before = day_model(LOW_NYC, DAY, lst(-10), grid=grid)
    assert before.distribution.extreme == "low"
    assert before.lead_hours == 16.0
    assert before.distribution.center_f == pytest.approx(22.0)
    # 13:00 LST: 21 °F was seen at dawn; the rest of the day is forecast to stay above 30 °F
    after = day_model(LOW_NYC, DAY, lst(13), grid=grid, hourly=hourly({13: 33.0, 23: 30.0}), observed_f=21)
    assert after.remaining_f == pytest.approx(30.0)  # the evening as forecast (no between-hours correction)
    assert after.distribution.pmf(21) > 0.99
    done = day_model(LOW_NYC, DAY, END, observed_f=21)
    assert done.remaining_f == 21 + NO_HOURS_LEFT_MARGIN_F
    assert done.distribution.pmf(21) > 0.999999 - 1e-6


def test_fair_values_of_a_low_series_sum_to_one_and_react_to_a_colder_forecast() -> None:
    grid = GridData(START, (), (), (GridValue(lst(-5), timedelta(hours=14), 23.0),))
    warm = day_model(LOW_NYC, DAY, lst(-10), grid=grid)
    colder = day_model(
        LOW_NYC, DAY, lst(-10), grid=GridData(START, (), (), (GridValue(lst(-5), timedelta(hours=14), 20.0),))
    )
    p_warm = bracket_probabilities(warm.distribution, BRACKETS)
    p_cold = bracket_probabilities(colder.distribution, BRACKETS)
    assert math.fsum(p.probability for p in p_warm) == pytest.approx(1.0)
    assert p_cold[0].probability > p_warm[0].probability  # "19° or below" gains
    assert p_cold[-1].probability < p_warm[-1].probability


def test_utc_sanity_of_the_fixture_day() -> None:
    assert datetime(2026, 1, 15, 5, tzinfo=UTC) == START
