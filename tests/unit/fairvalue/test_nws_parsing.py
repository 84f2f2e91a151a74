"""Reading api.weather.gov JSON (shapes as api.weather.gov serves them) into plain values, staleness, and the
model inputs derived from them (forecast high over the LST day, observed maximum so far)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from kalshi_trader.fairvalue.nws import (
    Forecast,
    ForecastPeriod,
    GridData,
    GridValue,
    NwsDataError,
    Observation,
    c_to_f,
    forecast_extreme_f,
    max_6h_from_metar,
    observed_extreme_f,
    parse_forecast,
    parse_gridpoint,
    parse_observation,
    parse_observations,
    parse_point,
    parse_product_list,
    parse_valid_time,
    remaining_extreme_f,
)
from kalshi_trader.fairvalue.weather import climate_day_bounds

NOW = datetime(2026, 9, 10, 14, 0, tzinfo=UTC)
DAY_START, DAY_END = climate_day_bounds(date(2026, 9, 10), "America/New_York")  # 05:00Z .. 05:00Z
HOUR = 3_600.0

POINTS = {
    "id": "https://api.weather.gov/points/40.779,-73.969",
    "type": "Feature",
    "properties": {
        "cwa": "OKX",
        "forecastOffice": "https://api.weather.gov/offices/OKX",
        "gridId": "OKX",
        "gridX": 33,
        "gridY": 37,
        "forecast": "https://api.weather.gov/gridpoints/OKX/33,37/forecast",
        "forecastHourly": "https://api.weather.gov/gridpoints/OKX/33,37/forecast/hourly",
        "forecastGridData": "https://api.weather.gov/gridpoints/OKX/33,37",
        "observationStations": "https://api.weather.gov/gridpoints/OKX/33,37/stations",
        "timeZone": "America/New_York",
        "radarStation": "KDIX",
    },
}

GRID = {
    "properties": {
        "updateTime": "2026-09-10T10:00:00+00:00",
        "validTimes": "2026-09-10T04:00:00+00:00/P7DT20H",
        "gridId": "OKX",
        "gridX": "33",
        "gridY": "37",
        "temperature": {
            "uom": "wmoUnit:degC",
            "values": [
                {"validTime": "2026-09-10T14:00:00+00:00/PT1H", "value": 24.4},
                {"validTime": "2026-09-10T15:00:00+00:00/PT2H", "value": 25.6},
                {"validTime": "2026-09-10T17:00:00+00:00/PT1H", "value": None},
            ],
        },
        "maxTemperature": {
            "uom": "wmoUnit:degC",
            "values": [
                {"validTime": "2026-09-10T11:00:00+00:00/PT13H", "value": 28.3},
                {"validTime": "2026-09-11T11:00:00+00:00/PT13H", "value": 26.1},
            ],
        },
        "minTemperature": {
            "uom": "wmoUnit:degC",
            "values": [{"validTime": "2026-09-10T23:00:00+00:00/PT14H", "value": 18.9}],
        },
    }
}


def forecast_body(update: str, first_start: datetime, temps: list[int], hours: int = 12) -> dict[str, Any]:
    periods = []
    for i, temp in enumerate(temps):
        start = first_start + timedelta(hours=hours * i)
        periods.append(
            {
                "number": i + 1,
                "name": "" if hours == 1 else ("Today" if i % 2 == 0 else "Tonight"),
                "startTime": start.astimezone(UTC).isoformat(),
                "endTime": (start + timedelta(hours=hours)).astimezone(UTC).isoformat(),
                "isDaytime": i % 2 == 0,
                "temperature": temp,
                "temperatureUnit": "F",
                "temperatureTrend": "",
                "probabilityOfPrecipitation": {"unitCode": "wmoUnit:percent", "value": None},
                "windSpeed": "5 to 10 mph",
                "shortForecast": "Sunny",
            }
        )
    return {
        "properties": {
            "units": "us",
            "generatedAt": "2026-09-10T13:07:45+00:00",
            "updateTime": update,
            "periods": periods,
        }
    }


def obs_feature(ts: str, temp_c: float | None, raw: str = "", qc: str = "V") -> dict[str, Any]:
    return {
        "id": f"https://api.weather.gov/stations/KNYC/observations/{ts}",
        "properties": {
            "station": "https://api.weather.gov/stations/KNYC",
            "timestamp": ts,
            "rawMessage": raw,
            "temperature": {"unitCode": "wmoUnit:degC", "value": temp_c, "qualityControl": qc},
            "maxTemperatureLast24Hours": {"unitCode": "wmoUnit:degC", "value": None},
        },
    }


def test_point() -> None:
    point = parse_point(POINTS, 40.779, -73.969)
    assert (point.grid_id, point.grid_x, point.grid_y, point.time_zone, point.cwa) == (
        "OKX",
        33,
        37,
        "America/New_York",
        "OKX",
    )
    assert point.grid_path == "/gridpoints/OKX/33,37"
    with pytest.raises(NwsDataError, match="gridId"):
        parse_point({"properties": {"gridId": "OKX"}}, 0, 0)
    with pytest.raises(NwsDataError, match="JSON object"):
        parse_point([], 0, 0)


def test_valid_time() -> None:
    assert parse_valid_time("2026-09-10T11:00:00+00:00/PT13H") == (
        datetime(2026, 9, 10, 11, tzinfo=UTC),
        timedelta(hours=13),
    )
    assert parse_valid_time("2026-09-10T11:00:00+00:00/P1DT6H")[1] == timedelta(hours=30)
    assert parse_valid_time("2026-09-10T11:00:00+00:00/PT30M")[1] == timedelta(minutes=30)
    for bad in ("2026-09-10T11:00:00+00:00", "2026-09-10T11:00:00+00:00/P1M", "x/PT1H", "2026-09-10T11:00:00/PT1H"):
        with pytest.raises(NwsDataError):
            parse_valid_time(bad)


def test_gridpoint_layers_in_fahrenheit() -> None:
    grid = parse_gridpoint(GRID, now=NOW, stale_after_s=6 * HOUR)
    assert grid.update_time == datetime(2026, 9, 10, 10, tzinfo=UTC)
    assert grid.stale_reason is None
    assert grid.max_temperature_f[0].value == pytest.approx(82.94)
    assert grid.max_temperature_f[0].end == datetime(2026, 9, 11, 0, tzinfo=UTC)
    assert [v.value for v in grid.temperature_f][2] is None
    assert grid.temperature_f[1].duration == timedelta(hours=2)


def test_gridpoint_staleness() -> None:
    later = NOW + timedelta(hours=7)
    grid = parse_gridpoint(GRID, now=later, stale_after_s=6 * HOUR)
    assert grid.stale
    assert "updateTime" in (grid.stale_reason or "")
    assert "11.0 h old" in (grid.stale_reason or "")
    no_time = {"properties": {**GRID["properties"], "updateTime": None}}
    assert parse_gridpoint(no_time, now=NOW, stale_after_s=6 * HOUR).stale


def test_forecast_and_staleness() -> None:
    start = datetime(2026, 9, 10, 10, tzinfo=UTC)  # 6 AM EDT
    fresh = parse_forecast(
        forecast_body("2026-09-10T10:50:36+00:00", start, [82, 66, 80]), now=NOW, stale_after_s=6 * HOUR
    )
    assert fresh.stale_reason is None
    assert [p.temperature_f for p in fresh.periods] == [82.0, 66.0, 80.0]
    assert fresh.periods[0].is_daytime
    assert fresh.periods[0].name == "Today"
    assert fresh.generated_at == datetime(2026, 9, 10, 13, 7, 45, tzinfo=UTC)

    old = parse_forecast(forecast_body("2026-09-06T18:00:00+00:00", start, [82]), now=NOW, stale_after_s=6 * HOUR)
    assert old.stale
    assert "h old" in (old.stale_reason or "")

    # A recent updateTime but periods that ended long ago: a CDN serving an old forecast.
    cached = parse_forecast(
        forecast_body("2026-09-10T10:50:36+00:00", start - timedelta(days=3), [70, 60]),
        now=NOW,
        stale_after_s=6 * HOUR,
    )
    assert cached.stale
    assert "first period" in (cached.stale_reason or "")


def test_forecast_temperature_as_quantitative_value_in_celsius() -> None:
    body = forecast_body("2026-09-10T10:50:36+00:00", NOW, [0])
    body["properties"]["periods"][0]["temperature"] = {"unitCode": "wmoUnit:degC", "value": 25.0}
    assert parse_forecast(body, now=NOW, stale_after_s=HOUR).periods[0].temperature_f == pytest.approx(77.0)
    body["properties"]["periods"][0]["temperature"] = "hot"
    with pytest.raises(NwsDataError, match="temperature"):
        parse_forecast(body, now=NOW, stale_after_s=HOUR)
    with pytest.raises(NwsDataError, match="periods"):
        parse_forecast({"properties": {}}, now=NOW, stale_after_s=HOUR)


def test_observations_and_metar_groups() -> None:
    raw = "KNYC 101951Z AUTO 21008KT 10SM CLR 26/12 A3002 RMK AO2 SLP166 10267 20139 T02610122 58012"
    body = {
        "type": "FeatureCollection",
        "features": [
            obs_feature("2026-09-10T19:51:00+00:00", 26.1, raw),
            obs_feature("2026-09-10T18:51:00+00:00", None),
        ],
    }
    obs = parse_observations(body, now=datetime(2026, 9, 10, 20, tzinfo=UTC), stale_after_s=2 * HOUR)
    assert obs[0].station == "KNYC"
    assert obs[0].temperature_c == 26.1
    assert obs[0].temperature_f == pytest.approx(78.98)
    assert obs[0].max_6h_c == 26.7
    assert obs[0].quality == "V"
    assert obs[0].stale_reason is None
    assert obs[1].temperature_c is None
    assert obs[1].temperature_f is None
    late = parse_observation(body["features"][0], now=datetime(2026, 9, 11, tzinfo=UTC), stale_after_s=2 * HOUR)
    assert late.stale
    assert "observation" in (late.stale_reason or "")
    with pytest.raises(NwsDataError, match="features"):
        parse_observations({}, now=NOW, stale_after_s=HOUR)


def test_metar_6h_max_group() -> None:
    assert max_6h_from_metar("KMDW 211153Z 00000KT 10SM CLR M17/M22 A3050 RMK AO2 SLP365 11139 21172") == -13.9
    assert max_6h_from_metar("KNYC 101951Z 26/12 A3002 RMK AO2 10267") == 26.7
    assert max_6h_from_metar("KNYC 101951Z 10267 26/12 A3002") is None  # only in the remarks
    assert max_6h_from_metar("KNYC 101951Z 26/12 RMK AO2 T02610122") is None


def test_product_list_newest_first() -> None:
    body = {
        "@context": {"@version": "1.1"},
        "@graph": [
            {
                "@id": "https://api.weather.gov/products/a",
                "id": "a",
                "wmoCollectiveId": "CDUS41",
                "issuingOffice": "KOKX",
                "issuanceTime": "2026-08-22T06:27:00+00:00",
                "productCode": "CLI",
                "productName": "Climatological Report (Daily)",
            },
            {"id": "b", "issuingOffice": "KOKX", "issuanceTime": "2026-08-23T06:27:00+00:00"},
        ],
    }
    refs = parse_product_list(body)
    assert [r.product_id for r in refs] == ["b", "a"]
    assert refs[1].wmo_collective_id == "CDUS41"
    with pytest.raises(NwsDataError, match="@graph"):
        parse_product_list({"features": []})


# -- model inputs -------------------------------------------------------------------------------


def hourly(temps: dict[int, float]) -> Forecast:
    """Hourly periods starting at the given UTC hours of 2026-09-10 (24+ = next day)."""
    base = datetime(2026, 9, 10, tzinfo=UTC)
    periods = tuple(
        ForecastPeriod(i, "", base + timedelta(hours=h), base + timedelta(hours=h + 1), True, t)
        for i, (h, t) in enumerate(sorted(temps.items()))
    )
    return Forecast(periods, NOW, NOW)


def test_forecast_high_prefers_the_max_of_maxt_and_hourly() -> None:
    grid = parse_gridpoint(GRID, now=NOW, stale_after_s=6 * HOUR)
    high = forecast_extreme_f("high", DAY_START, DAY_END, grid=grid, hourly=hourly({15: 80.0, 19: 82.0}))
    assert high is not None
    assert high.value_f == pytest.approx(82.94)  # Sep 10 MaxT (starts 11Z, inside the day); not Sep 11's
    assert high.sources == ("maxTemperature",)
    # A non-diurnal day: the hourly forecast peaks at 04Z (midnight EDT = 23 EST, still this climate day).
    warm_night = forecast_extreme_f("high", DAY_START, DAY_END, grid=grid, hourly=hourly({15: 80.0, 28: 85.0}))
    assert warm_night is not None
    assert warm_night.value_f == 85.0
    assert warm_night.sources == ("hourly",)
    # 05Z on the 11th is the next climate day: ignored.
    assert forecast_extreme_f(
        "high", DAY_START, DAY_END, grid=grid, hourly=hourly({29: 99.0})
    ).value_f == pytest.approx(82.94)  # type: ignore[union-attr]


def test_forecast_high_from_hourly_alone_is_peak_corrected() -> None:
    high = forecast_extreme_f("high", DAY_START, DAY_END, hourly=hourly({17: 79.0, 18: 80.0}), hourly_bias_f=0.9)
    assert high is not None
    assert high.value_f == pytest.approx(80.9)
    assert high.sources == ("hourly",)


def test_forecast_high_from_the_daily_forecast_and_grid_temperature() -> None:
    daily = parse_forecast(
        forecast_body("2026-09-10T10:50:36+00:00", datetime(2026, 9, 10, 10, tzinfo=UTC), [81, 66, 79]),
        now=NOW,
        stale_after_s=6 * HOUR,
    )
    high = forecast_extreme_f("high", DAY_START, DAY_END, daily=daily)
    assert high is not None
    assert (high.value_f, high.sources) == (81.0, ("daily",))
    temps_only = GridData(NOW, (GridValue(datetime(2026, 9, 10, 18, tzinfo=UTC), timedelta(hours=3), 86.0),), ())
    high = forecast_extreme_f("high", DAY_START, DAY_END, grid=temps_only)
    assert high is not None
    assert high.value_f == pytest.approx(86.0)
    assert forecast_extreme_f("high", DAY_START, DAY_END) is None
    assert forecast_extreme_f("high", DAY_END + timedelta(days=2), DAY_END + timedelta(days=9), daily=daily) is None


def obs(ts: datetime, temp_c: float | None, max_6h_c: float | None = None, qc: str = "V") -> Observation:
    return Observation("KNYC", ts, temp_c, qc, "", max_6h_c)


def test_observed_max_over_the_climate_day() -> None:
    t = DAY_START
    observations = [
        obs(t - timedelta(minutes=9), 35.0),  # before the day (00:51 EDT of the 10th = 23:51 EST the 9th)
        obs(t + timedelta(hours=3), 20.0, max_6h_c=33.0),  # its 6-h window starts before the day: ignored
        obs(t + timedelta(hours=9), 26.1),
        obs(t + timedelta(hours=12), 26.0, max_6h_c=26.7),  # 6-h max inside the day
        obs(t + timedelta(hours=13), 40.0, qc="X"),  # failed QC
        obs(t + timedelta(hours=14), None),
        obs(DAY_END, 45.0),  # next day
    ]
    assert observed_extreme_f("high", observations, DAY_START, DAY_END) == 80  # 26.7 °C = 80.06 °F
    assert observed_extreme_f("high", observations[2:3], DAY_START, DAY_END) == 79  # 26.1 °C = 78.98 → 79
    assert observed_extreme_f("high", [], DAY_START, DAY_END) is None
    assert observed_extreme_f("high", [obs(t, -17.5)], DAY_START, DAY_END) == 1  # 0.5 °F rounds half up
    assert c_to_f(-40.0) == -40.0


def test_remaining_max() -> None:
    fc = hourly({20: 82.0, 21: 81.0, 22: 78.0, 30: 90.0})
    assert (
        remaining_extreme_f("high", fc, datetime(2026, 9, 10, 20, 30, tzinfo=UTC), DAY_END) == 82.0
    )  # current hour counts
    assert remaining_extreme_f("high", fc, datetime(2026, 9, 10, 21, 30, tzinfo=UTC), DAY_END) == 81.0
    assert remaining_extreme_f("high", fc, DAY_END, DAY_END) is None
