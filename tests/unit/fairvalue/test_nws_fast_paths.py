"""The NWS readers' fast paths against what they replaced (``reference``): a forecast's plain
periods read directly equal the full reader's (or fail with its error), a window's hourly values
found by bisection equal a scan of every period, and observations parsed once per answer are
restamped with the staleness of each read."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.fairvalue import reference

from kalshi_trader.fairvalue.nws import (
    Forecast,
    ForecastPeriod,
    NwsClient,
    NwsDataError,
    PeriodMemo,
    Point,
    Timeline,
    forecast_extreme_f,
    parse_forecast,
    parse_observations,
    remaining_extreme_f,
)

NOW = datetime(2026, 9, 10, 14, tzinfo=UTC)
BASE = datetime(2026, 9, 10, 4, tzinfo=UTC)

times = st.one_of(
    st.integers(0, 60).map(lambda h: (BASE + timedelta(hours=h)).isoformat()),
    st.integers(0, 60).map(lambda h: (BASE + timedelta(hours=h)).astimezone().replace(tzinfo=None).isoformat()),
    st.sampled_from(["2026-09-10T06:00:00-05:00", "not a time", ""]),
    st.none(),
    st.integers(),
)
temperatures = st.one_of(
    st.integers(-40, 120),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.fixed_dictionaries(
        {"unitCode": st.sampled_from(["wmoUnit:degC", "wmoUnit:degF", "x"]), "value": st.floats(-40, 50)}
    ),
)
periods = st.one_of(
    st.fixed_dictionaries(
        {"startTime": times, "endTime": times, "temperature": temperatures},
        optional={
            "number": st.one_of(st.integers(0, 200), st.text(max_size=2)),
            "name": st.one_of(st.text(max_size=5), st.none()),
            "isDaytime": st.one_of(st.booleans(), st.none()),
            "temperatureUnit": st.one_of(st.sampled_from(["F", "C", "degF", "wmoUnit:degC", "K", ""]), st.none()),
        },
    ),
    st.none(),
    st.integers(),
)


def _read(parse: Any, body: Any) -> Forecast | str:
    try:
        forecast: Forecast = parse(body, now=NOW, stale_after_s=3600)
    except NwsDataError as exc:
        return f"NwsDataError: {exc}"
    return forecast


@settings(max_examples=500, deadline=None)
@given(raw=st.lists(periods, max_size=8), update=times)
def test_periods_read_directly_are_the_full_readers(raw: list[Any], update: Any) -> None:
    body = {"properties": {"periods": raw, "updateTime": update}}
    assert _read(parse_forecast, body) == _read(reference.parse_forecast, body)


@settings(max_examples=300, deadline=None)
@given(first=st.lists(periods, max_size=6), second=st.lists(periods, max_size=6), data=st.data())
def test_periods_reused_from_an_earlier_answer_are_those_read_afresh(
    first: list[Any], second: list[Any], data: st.DataObject
) -> None:
    repeated = data.draw(st.lists(st.sampled_from(first), max_size=4)) if first else []
    memo: PeriodMemo = {}
    for raw in (first, repeated + second, second):
        body = {"properties": {"periods": raw, "updateTime": NOW.isoformat()}}
        got = _read(lambda b, **kw: parse_forecast(b, memo=memo, **kw), body)
        assert got == _read(reference.parse_forecast, body)
        if isinstance(got, Forecast):
            assert got.timeline == Timeline.of(got.periods)


def _period(start_h: int, hours: int, temp: float | None) -> ForecastPeriod:
    start = BASE + timedelta(hours=start_h)
    return ForecastPeriod(start_h, "", start, start + timedelta(hours=hours), True, temp)


chronological = st.lists(
    st.tuples(st.integers(0, 2), st.integers(1, 3), st.one_of(st.none(), st.floats(-20, 110))), max_size=40
).map(lambda rows: _chain(rows))


def _chain(rows: list[tuple[int, int, float | None]]) -> list[ForecastPeriod]:
    out, at = [], 0
    for gap, hours, temp in rows:
        at += gap
        out.append(_period(at, hours, temp))
        at += hours
    return out


@settings(max_examples=500, deadline=None)
@given(
    chain=chronological,
    shuffled=st.booleans(),
    start_m=st.integers(-120, 7200),
    length_m=st.integers(0, 3000),
    data=st.data(),
)
def test_a_windows_hours_by_bisection_are_those_of_a_scan(
    chain: list[ForecastPeriod], shuffled: bool, start_m: int, length_m: int, data: st.DataObject
) -> None:
    ps = data.draw(st.permutations(chain)) if shuffled else chain
    start = BASE + timedelta(minutes=start_m)
    end = start + timedelta(minutes=length_m)
    line = Timeline.of(ps)
    if line is not None:
        assert line.temperatures_in(start, end) == reference.hourly_values(ps, start, end)
    with_line = Forecast(tuple(ps), NOW, NOW, timeline=line)
    without = dataclasses.replace(with_line, timeline=None)
    for extreme in ("high", "low"):
        assert forecast_extreme_f(extreme, start, end, hourly=with_line) == forecast_extreme_f(
            extreme, start, end, hourly=without
        )
        assert remaining_extreme_f(extreme, with_line, start, end) == remaining_extreme_f(extreme, without, start, end)


def test_a_parsed_forecast_carries_its_timeline_through_a_restamp() -> None:
    def hour(h: int) -> str:
        return (BASE + timedelta(hours=h)).isoformat()

    rows = [
        {"startTime": hour(h), "endTime": hour(h + 1), "temperature": 60 + h, "temperatureUnit": "F"} for h in range(12)
    ]
    body = {"properties": {"updateTime": NOW.isoformat(), "periods": rows}}
    forecast = parse_forecast(body, now=NOW, stale_after_s=3600)
    assert forecast.timeline == Timeline.of(forecast.periods) is not None
    assert dataclasses.replace(forecast, stale_reason="old").timeline is forecast.timeline


def _observation(at: datetime, temp_c: float) -> dict[str, Any]:
    return {
        "properties": {
            "timestamp": at.isoformat(),
            "station": "https://api.weather.gov/stations/KNYC",
            "temperature": {"unitCode": "wmoUnit:degC", "value": temp_c, "qualityControl": "V"},
            "rawMessage": "KNYC 101351Z 00000KT 10SM CLR 20/10 A3000 RMK AO2 10211 20150",
        }
    }


class _Served(NwsClient):
    """An ``NwsClient`` whose answers are one fixed JSON body (the network left out)."""

    def __init__(self, body: Any, clock: list[datetime]) -> None:
        super().__init__(clock=lambda: clock[0], monotonic=lambda: 0.0)
        self.body = body
        self.fetches = 0

    async def get_json(self, path: str, params: Mapping[str, str] | None = None, *, accept: str = "") -> Any:
        self.fetches += 1
        return self.body


@pytest.mark.parametrize("hours", [0.5, 1.9, 2.1, 5.0, 30.0])
async def test_observations_parsed_once_are_restamped_at_each_read(hours: float) -> None:
    body = {"features": [_observation(NOW - timedelta(hours=h), 20.0 + h) for h in (0.2, 1.0, 2.5, 4.0)]}
    clock = [NOW]
    client = _Served(body, clock)
    first = await client.observations("KNYC", NOW - timedelta(hours=12))
    assert first == parse_observations(body, now=NOW, stale_after_s=client.settings.observation_stale_s)
    clock[0] = NOW + timedelta(hours=hours)
    later = await client.observations("KNYC", NOW - timedelta(hours=12))
    assert later == parse_observations(body, now=clock[0], stale_after_s=client.settings.observation_stale_s)
    unstamped = await client.observations("KNYC", NOW - timedelta(hours=12), stamped=False)
    assert [client.observation_staleness(o) for o in unstamped] == [o.stale_reason for o in later]
    assert [dataclasses.replace(o, stale_reason=None) for o in unstamped] == [
        dataclasses.replace(o, stale_reason=None) for o in later
    ]
    again = await client.observations("KNYC", NOW - timedelta(hours=12))
    assert again == later
    assert again is not later  # each caller its own list
    assert client.fetches == 1


class _Paths(NwsClient):
    """An ``NwsClient`` answering each path with its body from a table (the network left out)."""

    def __init__(self, bodies: dict[str, Any]) -> None:
        super().__init__(clock=lambda: NOW, monotonic=lambda: 0.0)
        self.bodies = bodies

    async def get_json(self, path: str, params: Mapping[str, str] | None = None, *, accept: str = "") -> Any:
        return self.bodies[path]


@pytest.mark.parametrize("broken", [None, "/forecast", "/forecast/hourly", ""])
async def test_forecasts_at_hand_are_what_the_fetches_return(broken: str | None) -> None:
    point = Point(40.0, -74.0, "OKX", 33, 35, "America/New_York")
    hour = {"startTime": NOW.isoformat(), "endTime": (NOW + timedelta(hours=1)).isoformat(), "temperature": 70}
    forecast = {"properties": {"updateTime": NOW.isoformat(), "periods": [hour]}}
    grid = {"properties": {"updateTime": NOW.isoformat()}}
    bodies = {point.grid_path: grid, point.grid_path + "/forecast": forecast}
    bodies[point.grid_path + "/forecast/hourly"] = forecast
    if broken is not None:
        bodies[point.grid_path + broken] = {"properties": {"periods": "none"}}
    client = _Paths(bodies)
    assert client.forecasts_at_hand(point) is None  # nothing cached yet
    fetched = await asyncio.gather(
        client.gridpoint(point), client.hourly_forecast(point), client.forecast(point), return_exceptions=True
    )
    at_hand = client.forecasts_at_hand(point)
    assert at_hand is not None
    assert [repr(r) for r in at_hand] == [repr(r) for r in fetched]
