"""``live.day_model``: pricing a climate day that is under way or over from hand-built NWS data
shaped like the real API at that hour (the hourly forecast starts at the current hour, the
12-hour forecast starts with "Tonight" after 6 PM, the raw grid begins a few hours before now):
the observed maximum is the floor and the remaining hours' forecast (if any) the upside."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_trader.fairvalue.live import NO_HOURS_LEFT_MARGIN_F, DayModel, NoForecastError, day_model
from kalshi_trader.fairvalue.nws import (
    Forecast,
    GridData,
    NwsDataError,
    Observation,
    forecast_extreme_f,
    observed_extreme_f,
    parse_forecast,
    parse_gridpoint,
)
from kalshi_trader.fairvalue.stations import STATIONS
from kalshi_trader.fairvalue.weather import HOURLY_PEAK_BIAS_F, Bracket, bracket_probabilities, climate_day_bounds

NYC = STATIONS["KXHIGHNY"]
EDT = ZoneInfo("America/New_York")
DAY = date(2026, 7, 15)
START, END = climate_day_bounds(DAY, NYC.time_zone)  # 05:00Z .. 05:00Z next day (midnight EST)
STALE_S = 6 * 3600.0
BRACKETS = [
    Bracket("T77", None, 76),
    *(Bracket(f"B{f}.5", f, f + 1) for f in range(77, 85, 2)),
    Bracket("T85", 85, None),
]  # ≤76, 77–78, 79–80, 81–82, 83–84, ≥85


def lst(hour: float, day: date = DAY) -> datetime:
    """``hour`` hours into climate day ``day`` (LST), as UTC."""
    return climate_day_bounds(day, NYC.time_zone)[0] + timedelta(hours=hour)


def twelve_hour(now: datetime, temps: list[int]) -> Forecast:
    """The 12-hour forecast as NWS serves it at ``now``: the first period starts at the current
    hour and ends at the next 6 AM/6 PM local clock time ("Tonight" after 6 PM)."""
    local = now.astimezone(EDT).replace(minute=0, second=0, microsecond=0)
    periods: list[dict[str, Any]] = []
    start = local
    for i, temp in enumerate(temps):
        daytime = 6 <= start.hour < 18
        if daytime:
            end = start.replace(hour=18)
        else:
            following = start + timedelta(days=1) if start.hour >= 18 else start
            end = following.replace(hour=6)
        name = ("Today" if daytime else "Tonight") if i == 0 else start.strftime("%A") + ("" if daytime else " Night")
        periods.append(
            {
                "number": i + 1,
                "name": name,
                "startTime": start.isoformat(),
                "endTime": end.isoformat(),
                "isDaytime": daytime,
                "temperature": temp,
                "temperatureUnit": "F",
            }
        )
        start = end
    body = {"properties": {"updateTime": (now - timedelta(minutes=40)).isoformat(), "periods": periods}}
    return parse_forecast(body, now=now, stale_after_s=STALE_S)


def hourly(now: datetime, temps: list[int]) -> Forecast:
    """The hourly forecast at ``now``: one period per temperature from the current hour on."""
    first = now.astimezone(EDT).replace(minute=0, second=0, microsecond=0)
    periods = [
        {
            "number": i + 1,
            "name": "",
            "startTime": (first + timedelta(hours=i)).isoformat(),
            "endTime": (first + timedelta(hours=i + 1)).isoformat(),
            "isDaytime": 6 <= (first + timedelta(hours=i)).hour < 18,
            "temperature": temp,
            "temperatureUnit": "F",
        }
        for i, temp in enumerate(temps)
    ]
    body = {"properties": {"updateTime": (now - timedelta(minutes=40)).isoformat(), "periods": periods}}
    return parse_forecast(body, now=now, stale_after_s=STALE_S)


def grid(now: datetime, temps_f: list[float], maxt: dict[date, float]) -> GridData:
    """The raw grid at ``now``: hourly ``temperature`` from 6 h before the current hour (NWS keeps
    superseded hours), ``maxTemperature`` for the given climate days (7 AM LST, 13 h)."""
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)

    def c(f: float) -> float:
        return (f - 32) * 5 / 9

    body = {
        "properties": {
            "updateTime": (now - timedelta(minutes=40)).isoformat(),
            "temperature": {
                "uom": "wmoUnit:degC",
                "values": [
                    {"validTime": f"{(first + timedelta(hours=i)).isoformat()}/PT1H", "value": c(t)}
                    for i, t in enumerate(temps_f)
                ],
            },
            "maxTemperature": {
                "uom": "wmoUnit:degC",
                "values": [{"validTime": f"{lst(7, d).isoformat()}/PT13H", "value": c(v)} for d, v in maxt.items()],
            },
        }
    }
    return parse_gridpoint(body, now=now, stale_after_s=STALE_S)


def observed(now: datetime, peak_f: float) -> int:
    """The observed maximum from hourly METAR-like observations up to ``now`` (the warmest at
    15:51 LST), through the same reader the live path uses."""
    times = [START + timedelta(hours=h, minutes=51) for h in range(24)]
    temps = [peak_f - abs(15 - h) * 0.8 for h in range(24)]
    obs = [
        Observation("KNYC", ts, (t - 32) * 5 / 9, "V", "", None)
        for ts, t in zip(times, temps, strict=True)
        if ts <= now
    ]
    value = observed_extreme_f("high", obs, START, END)
    assert value is not None
    return value


def check_floor(model: DayModel, floor: int) -> list[float]:
    """The distribution respects the floor; returns the bracket probabilities (summing to 1)."""
    dist = model.distribution
    assert dist.cdf(floor - 1) == 0.0
    assert all(dist.pmf(k) == 0.0 for k in range(floor - 30, floor))
    probs = bracket_probabilities(dist, BRACKETS)
    assert math.fsum(p.probability for p in probs) == pytest.approx(1.0, abs=1e-9)
    for p in probs:
        if p.bracket.high is not None and p.bracket.high < floor:
            assert p.probability == 0.0
    return [p.probability for p in probs]


def test_day_begun_and_the_12_hour_forecast_has_no_daytime_period_for_today() -> None:
    now = lst(18.5)  # 18:30 LST = 19:30 EDT: the first 12-hour period is "Tonight"
    daily = twelve_hour(now, [71, 90, 72])  # Tonight, Thursday (tomorrow's high), Thursday Night
    assert daily.periods[0].name == "Tonight"
    assert not daily.periods[0].is_daytime
    high_so_far = observed(now, 84.0)
    assert high_so_far == 84
    # The gridpoint and hourly fetches failed: only the 12-hour forecast and observations remain.
    model = day_model(NYC, DAY, now, daily=daily, observed_f=high_so_far)
    assert model.forecast is None  # tomorrow's 90 °F daytime period is not today's
    assert model.remaining_f is None
    assert model.lead_hours == pytest.approx(-3.5)
    assert any("observed maximum (84 °F) alone" in note for note in model.notes)
    probs = check_floor(model, 84)
    assert probs[4] > 0.99  # 83–84 holds the observed maximum
    assert model.distribution.cdf(86) > 0.999  # no trace of tomorrow's forecast

    # With the hourly forecast back, the remaining hours drive the upside: a warm evening (88 °F
    # at 20 LST) moves the mass above the observed maximum, never below it.
    warm = hourly(now, [85, 86, 88, 84, 80, 78, 75, 74])
    model = day_model(NYC, DAY, now, hourly=warm, daily=daily, observed_f=high_so_far)
    assert model.remaining_f == pytest.approx(88.0 + HOURLY_PEAK_BIAS_F)
    assert model.forecast is not None
    assert model.forecast.sources == ("hourly",)
    assert model.notes == ()
    probs = check_floor(model, 84)
    assert probs[5] > 0.5  # ≥85


def test_only_night_hours_left() -> None:
    now = lst(21)  # 21:00 LST = 22:00 EDT
    high_so_far = observed(now, 83.0)
    # Hourly from 22:00 EDT: 21–23 LST are this climate day's last three hours, the rest tomorrow.
    night = hourly(now, [74, 73, 72, 71, 70, 69, 69, 70, 74, 79, 84, 88])
    tomorrow_only = grid(now, [80, 79, 78, 76, 75, 74, 74, 73, 72, 71], {DAY + timedelta(days=1): 90.0})
    daily = twelve_hour(now, [68, 90])
    model = day_model(NYC, DAY, now, grid=tomorrow_only, hourly=night, daily=daily, observed_f=high_so_far)
    assert model.remaining_f == pytest.approx(74.0 + HOURLY_PEAK_BIAS_F)  # tomorrow's 88 is not counted
    probs = check_floor(model, 83)
    assert model.distribution.pmf(83) > 0.999
    assert probs[4] > 0.999

    # The hourly forecast down: the grid's temperature layer gives the remaining hours instead
    # (only the hours from now on: the warmer superseded hours before now do not count).
    model = day_model(NYC, DAY, now, grid=tomorrow_only, daily=daily, observed_f=high_so_far)
    assert model.remaining_f is not None
    assert model.remaining_f == pytest.approx(74.0 + HOURLY_PEAK_BIAS_F)
    assert model.distribution.pmf(83) > 0.999
    check_floor(model, 83)

    # A warm front at night: the remaining hours can still beat the afternoon.
    front = hourly(now, [86, 87, 85, 80])
    model = day_model(NYC, DAY, now, hourly=front, daily=daily, observed_f=high_so_far)
    assert model.remaining_f == pytest.approx(87.0 + HOURLY_PEAK_BIAS_F)
    probs = check_floor(model, 83)
    assert probs[5] > 0.9


def test_the_day_over_with_observations_is_the_observed_maximum() -> None:
    now = lst(1.5, DAY + timedelta(days=1))  # 01:30 LST the next day: the event is closed, not settled
    high_so_far = observed(now, 82.4)
    assert high_so_far == 82
    after = hourly(now, [70, 69, 68, 68, 70, 75, 80, 85, 88])
    daily = twelve_hour(now, [68, 91])  # Overnight, then tomorrow's daytime
    grid_now = grid(now, [74, 73, 72, 71, 70, 70, 70], {DAY + timedelta(days=1): 91.0})
    model = day_model(NYC, DAY, now, grid=grid_now, hourly=after, daily=daily, observed_f=high_so_far)
    assert model.remaining_f == 82 - NO_HOURS_LEFT_MARGIN_F
    assert model.notes == ()
    probs = check_floor(model, 82)
    assert model.distribution.pmf(82) > 1 - 1e-5
    assert probs[3] > 1 - 1e-5  # 81–82
    # The same with no forecast data at all.
    bare = day_model(NYC, DAY, now, observed_f=high_so_far)
    assert bare.forecast is None
    assert bare.distribution.pmf(82) > 1 - 1e-5


def test_no_forecast_and_no_observations_raises() -> None:
    now = lst(19)
    daily = twelve_hour(now, [71, 90])  # "Tonight" first: nothing for today's daytime
    with pytest.raises(NoForecastError, match=r"no NWS forecast covers the climate day 2026-07-15 at KNYC and nothing"):
        day_model(NYC, DAY, now, daily=daily)
    with pytest.raises(NwsDataError, match="no NWS forecast covers the climate day 2026-07-15"):
        day_model(NYC, DAY, lst(1.5, DAY + timedelta(days=1)))
    # Before the day starts an observation cannot help: the forecast must reach the day.
    far = DAY + timedelta(days=12)
    with pytest.raises(NoForecastError, match=r"climate day 2026-07-27 at KNYC$"):
        day_model(NYC, far, now, daily=daily, hourly=hourly(now, [70] * 24))


def test_the_forecast_is_used_while_it_covers_the_day() -> None:
    """Unchanged path: the day not begun, or begun with today's high still forecast."""
    now = lst(-6)  # 18:00 LST the evening before
    daily = twelve_hour(now, [70, 81, 69])
    model = day_model(NYC, DAY, now, daily=daily)
    assert model.forecast is not None
    assert model.forecast.value_f == 81.0
    assert model.remaining_f is None
    assert model.observed_f is None
    assert model.distribution.center_f == pytest.approx(81.0)
    # Mid-morning, with the day's MaxT in the grid and a warm observed morning.
    now = lst(10)
    g = grid(now, [70, 72, 74, 76, 78, 80, 81, 82, 82], {DAY: 83.0})
    model = day_model(NYC, DAY, now, grid=g, daily=twelve_hour(now, [83, 70]), observed_f=observed(now, 86.0))
    assert model.forecast is not None
    assert model.forecast.sources == ("maxTemperature",)
    check_floor(model, model.observed_f or 0)


POOL_NOW = lst(2)
FORECASTS = [
    None,
    hourly(POOL_NOW, [60 + (i * 7) % 23 for i in range(48)]),
    hourly(POOL_NOW, [60 + (i * 7) % 23 for i in range(48)]),  # equal, another object
    hourly(POOL_NOW, [55 + (i * 5) % 19 for i in range(40)]),
    twelve_hour(POOL_NOW, [88, 70, 90, 72]),
    twelve_hour(POOL_NOW, [81, 66, 84, 69]),
]
GRIDS = [None, grid(POOL_NOW, [60 + i % 20 for i in range(60)], {DAY: 86.0}), grid(POOL_NOW, [62.0] * 60, {})]


@settings(max_examples=200, deadline=None)
@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from(["KXHIGHNY", "KXLOWTNYC", "KXHIGHMIA"]),
            st.sampled_from([DAY, DAY + timedelta(days=1)]),
            st.integers(0, len(GRIDS) - 1),
            st.integers(0, len(FORECASTS) - 1),
            st.integers(0, len(FORECASTS) - 1),
            st.sampled_from([1.0, 10.0, 20.0, 30.0]),
        ),
        max_size=20,
    )
)
def test_the_forecast_extreme_is_the_one_of_those_forecasts(
    calls: list[tuple[str, date, int, int, int, float]],
) -> None:
    """Whatever was priced before, from whichever (equal or other) forecasts, a day's forecast
    extreme is that of the forecasts it is priced from."""
    for series, day, g, h, d, hour in calls:
        station = STATIONS[series]
        start, end = climate_day_bounds(day, station.time_zone)
        grid_, hourly_, daily_ = GRIDS[g], FORECASTS[h], FORECASTS[d]
        want = forecast_extreme_f(
            station.extreme, start, end, grid=grid_, hourly=hourly_, daily=daily_, hourly_bias_f=HOURLY_PEAK_BIAS_F
        )
        try:
            got = day_model(station, day, lst(hour, day), grid=grid_, hourly=hourly_, daily=daily_).forecast
        except NoForecastError:
            assert want is None
            continue
        assert got == want
