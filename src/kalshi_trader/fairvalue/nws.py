"""Async client for the NWS API (api.weather.gov, or the embedded exchange's copy of it) and the
parsers that turn its JSON and CLI text into plain values for the fair-value model.

Contract:
- ``NwsClient(settings, base_url=...)`` talks to ``base_url`` (``Settings.nws_url()``: the real
  api.weather.gov outside sim, the embedded exchange's ``/nws`` in sim) with the same paths and
  JSON either way. Every request carries the configured ``User-Agent`` (NWS refuses requests
  without one) and ``Accept: application/geo+json`` (``application/ld+json`` for ``/products``).
- Paths are built from the grid id/x/y of ``/points`` (never by following the absolute URLs in the
  body), so a server that names itself api.weather.gov in its links still works behind any base.
- Retries: 5xx, 429, timeouts and connection errors are retried up to ``max_retries`` (≤ 3) times
  with exponential backoff and jitter (``backoff_s × 2^attempt × U[0.5, 1]``); then
  ``NwsUnavailableError``. Other 4xx raise ``NwsHttpError`` at once (with the RFC 7807 problem's
  title/detail when the body has one). A 2xx body that is not the documented shape raises
  ``NwsDataError``. All three derive from ``NwsError``.
- Caching: ``/points`` results are cached for ``points_ttl_s`` (they change rarely; concurrent
  lookups of one point share one request); forecasts/grids for ``forecast_ttl_s`` (each answer
  parsed once, reusing the periods an update repeats, its staleness judged at every read);
  observations for ``observation_ttl_s`` (each answer parsed once, stamped stale or not at each
  read; 0 disables a cache). ``forecasts_at_hand`` hands out a point's three forecasts at once
  when the cache holds them. Lifetimes run on the injected ``monotonic``
  clock (the market's in sim, so a fast simulated clock expires them as fast as its data change).
- Request budget: at most ``max_requests_per_s`` HTTP requests a real second (the ``wall``
  clock; bursts of as many), retries included. A request over budget waits for its turn —
  except the refresh of an expired cache entry, which then serves the cached answer (data that
  were current a lifetime ago beat waiting) and is fetched again once the budget allows.
- Staleness: a forecast or grid whose ``updateTime`` is older than ``forecast_stale_s`` (or
  missing), or whose first period ended over an hour ago (a CDN serving an old forecast), and an
  observation older than ``observation_stale_s``, carry ``stale_reason`` (``stale`` is True). They
  are still returned — the caller decides. "Now" comes from the injected ``clock``.
- Units: temperatures come out in °F as floats (°C × 9/5 + 32, unrounded);
  ``observed_extreme_f`` rounds to the whole °F the CLI reports. Every NWS → model helper reads
  either extreme: the day's maximum (``"high"``) or minimum (``"low"``). CLI text products are
  read by ``climate_report`` (``latest_cli`` fetches and parses them).
- Tap: ``on_response(path, params, status, date, body)``, when given, sees every HTTP response
  ``get_json`` receives (retried ones too) as received: the path under ``base_url``, the query,
  the status, the ``Date`` header (the embedded exchange's NWS dates by its simulated clock) and
  the raw body. A recorder uses it; it must not block.
- No module state; tests never contact api.weather.gov (they serve the same JSON on loopback).
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import json
import math
import random
import re
import time as _time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import aiohttp

from kalshi_trader.config import NWS_DEFAULT_URL, NwsSettings
from kalshi_trader.fairvalue.climate_report import CliParseError, CliReport, parse_cli
from kalshi_trader.fairvalue.weather import Extreme

JSON = Any

GEO_JSON = "application/geo+json"
LD_JSON = "application/ld+json"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
FIRST_PERIOD_GRACE = timedelta(hours=1)
"""A fresh forecast's first period contains "now"; one that ended longer ago than this is stale."""


# --------------------------------------------------------------------------------------------
# Errors


class NwsError(Exception):
    """Anything that went wrong getting or reading NWS data."""


class NwsHttpError(NwsError):
    """A non-retryable HTTP error (4xx), or the last error after retries ran out."""

    def __init__(self, status: int, url: str, title: str = "", detail: str = "") -> None:
        self.status, self.url, self.title, self.detail = status, url, title, detail
        what = ": ".join(part for part in (title, detail) if part)
        super().__init__(f"NWS {url} answered {status}" + (f" ({what})" if what else ""))


class NwsUnavailableError(NwsError):
    """5xx / 429 / timeouts / connection errors persisted through every retry."""

    def __init__(self, url: str, attempts: int, last: str) -> None:
        self.url, self.attempts, self.last = url, attempts, last
        super().__init__(f"NWS {url} unavailable after {attempts} attempts (last: {last})")


class NwsDataError(NwsError):
    """A response (or CLI text) that is not the documented shape."""


# --------------------------------------------------------------------------------------------
# Values


def c_to_f(celsius: float) -> float:
    return celsius * 9.0 / 5.0 + 32.0


def round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


@dataclass(frozen=True, slots=True)
class Point:
    """``/points/{lat},{lon}``: the forecast grid cell of a location."""

    latitude: float
    longitude: float
    grid_id: str
    grid_x: int
    grid_y: int
    time_zone: str
    cwa: str = ""

    @property
    def grid_path(self) -> str:
        return f"/gridpoints/{self.grid_id}/{self.grid_x},{self.grid_y}"


@dataclass(frozen=True, slots=True)
class ForecastPeriod:
    number: int
    name: str
    start: datetime
    end: datetime
    is_daytime: bool
    temperature_f: float | None


@dataclass(frozen=True, slots=True)
class Timeline:
    """A forecast's periods' start and end times (in UTC), each in order, and their temperatures:
    the periods overlapping a window are a run found by bisection."""

    starts: tuple[datetime, ...]
    ends: tuple[datetime, ...]
    temperatures_f: tuple[float | None, ...]

    @staticmethod
    def of(periods: Sequence[ForecastPeriod]) -> Timeline | None:
        """The timeline of ``periods``; None unless their starts and their ends are each in order."""
        return Timeline.ordered(
            [p.start.astimezone(UTC) for p in periods],
            [p.end.astimezone(UTC) for p in periods],
            [p.temperature_f for p in periods],
        )

    @staticmethod
    def ordered(starts: Sequence[datetime], ends: Sequence[datetime], temps: Sequence[float | None]) -> Timeline | None:
        """The timeline of periods with these UTC ``starts`` and ``ends``; None unless each is in order."""
        if any(b < a for a, b in pairwise(starts)) or any(b < a for a, b in pairwise(ends)):
            return None
        return Timeline(tuple(starts), tuple(ends), tuple(temps))

    def temperatures_in(self, start: datetime, end: datetime) -> list[float]:
        """The temperatures of the periods overlapping [start, end) (start < its end, end > its
        start), in period order."""
        first, stop = bisect.bisect_right(self.ends, start), bisect.bisect_left(self.starts, end)
        return [t for t in self.temperatures_f[first:stop] if t is not None]


@dataclass(frozen=True, slots=True)
class Forecast:
    """``/forecast`` (12-hour periods) or ``/forecast/hourly``."""

    periods: tuple[ForecastPeriod, ...]
    update_time: datetime | None
    generated_at: datetime | None
    stale_reason: str | None = None
    timeline: Timeline | None = field(default=None, compare=False, repr=False)
    """``Timeline.of(periods)`` (``parse_forecast`` sets it): None reads the periods one by one."""

    @property
    def stale(self) -> bool:
        return self.stale_reason is not None


@dataclass(frozen=True, slots=True)
class GridValue:
    """One interval-coded value of a raw grid layer (``validTime`` = start/duration)."""

    start: datetime
    duration: timedelta
    value: float | None

    @property
    def end(self) -> datetime:
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class GridData:
    """The raw gridpoint layers fair value uses, converted to °F."""

    update_time: datetime | None
    temperature_f: tuple[GridValue, ...]
    max_temperature_f: tuple[GridValue, ...]
    min_temperature_f: tuple[GridValue, ...] = ()
    stale_reason: str | None = None

    @property
    def stale(self) -> bool:
        return self.stale_reason is not None


@dataclass(frozen=True, slots=True)
class Observation:
    station: str
    timestamp: datetime
    temperature_c: float | None
    quality: str
    raw_message: str
    max_6h_c: float | None
    """The METAR 6-hour maximum remark group (``1sTTT``), if present."""
    min_6h_c: float | None = None
    """The METAR 6-hour minimum remark group (``2sTTT``), if present."""
    stale_reason: str | None = None

    @property
    def stale(self) -> bool:
        return self.stale_reason is not None

    @property
    def temperature_f(self) -> float | None:
        return None if self.temperature_c is None else c_to_f(self.temperature_c)


@dataclass(frozen=True, slots=True)
class ProductRef:
    """One entry of a ``/products/types/{type}/locations/{loc}`` listing."""

    product_id: str
    issuance_time: datetime
    issuing_office: str
    wmo_collective_id: str


# --------------------------------------------------------------------------------------------
# JSON readers (pure)


def _obj(value: JSON, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NwsDataError(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value


def _props(body: JSON, what: str) -> dict[str, Any]:
    return _obj(_obj(body, what).get("properties"), f"{what}.properties")


def _time_of(value: JSON, what: str) -> datetime:
    if not isinstance(value, str):
        raise NwsDataError(f"{what}: expected an ISO-8601 time, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise NwsDataError(f"{what}: {value!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise NwsDataError(f"{what}: {value!r} has no UTC offset")
    return moment


def _opt_time(value: JSON, what: str) -> datetime | None:
    return None if value is None else _time_of(value, what)


def _number(value: JSON, what: str) -> float | None:
    """A number, or a QuantitativeValue ``{"unitCode", "value"}``'s value; None stays None."""
    if isinstance(value, dict):
        value = value.get("value")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise NwsDataError(f"{what}: expected a number, got {value!r}")
    return float(value)


_DURATION_RE = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_valid_time(text: str) -> tuple[datetime, timedelta]:
    """An NWS ``validTime`` (``2026-09-10T11:00:00+00:00/PT13H``) as (start, duration)."""
    start_text, sep, duration_text = text.partition("/")
    m = _DURATION_RE.match(duration_text)
    if not sep or m is None or duration_text in ("P", "PT"):
        raise NwsDataError(f"validTime {text!r} is not <ISO-8601 start>/<duration such as PT13H or P1DT6H>")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in m.groups())
    return _time_of(start_text, "validTime"), timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _to_f(value: float, unit: str, what: str) -> float:
    unit = unit.rsplit(":", 1)[-1]
    if unit in ("degC", "C"):
        return c_to_f(value)
    if unit in ("degF", "F"):
        return value
    raise NwsDataError(f"{what}: unknown temperature unit {unit!r}")


def parse_point(body: JSON, latitude: float, longitude: float) -> Point:
    p = _props(body, "points")
    try:
        grid_id, grid_x, grid_y = str(p["gridId"]), int(p["gridX"]), int(p["gridY"])
        time_zone = str(p["timeZone"])
    except (KeyError, TypeError, ValueError) as exc:
        raise NwsDataError(f"points: missing or bad gridId/gridX/gridY/timeZone ({exc})") from None
    return Point(latitude, longitude, grid_id, grid_x, grid_y, time_zone, str(p.get("cwa") or ""))


def _staleness(updated: datetime | None, now: datetime, limit_s: float, what: str) -> str | None:
    if updated is None:
        return f"{what} has no timestamp"
    age = (now - updated).total_seconds()
    if age > limit_s:
        return f"{what} {updated.isoformat()} is {age / 3600:.1f} h old (limit {limit_s / 3600:.1f} h)"
    return None


PeriodMemo = dict[tuple[int, str, bool, str, str, int], tuple[ForecastPeriod, datetime, datetime]]
"""Periods already read (with their UTC start and end), by what they were read from: number,
name, daytime, start and end text, whole °F."""


def parse_forecast(body: JSON, *, now: datetime, stale_after_s: float, memo: PeriodMemo | None = None) -> Forecast:
    """A forecast answer. ``memo`` holds the periods of an earlier answer of the same forecast
    (most of an update repeats them): they are reused, and it is left holding this answer's."""
    p = _props(body, "forecast")
    raw_periods = p.get("periods")
    if not isinstance(raw_periods, list):
        raise NwsDataError("forecast.properties.periods: expected a list")
    known: PeriodMemo = {} if memo is None else memo
    seen: PeriodMemo = {}
    times: dict[str, tuple[datetime, datetime]] = {}  # one period's end is the next one's start
    read = [_forecast_period(raw, i, times, known, seen) for i, raw in enumerate(raw_periods)]
    if memo is not None:
        memo.clear()
        memo.update(seen)
    periods = tuple(period for period, _, _ in read)
    line = Timeline.ordered([a for _, a, _ in read], [b for _, _, b in read], [q.temperature_f for q in periods])
    update_time = _opt_time(p.get("updateTime"), "forecast.updateTime")
    forecast = Forecast(periods, update_time, _opt_time(p.get("generatedAt"), "forecast.generatedAt"), timeline=line)
    return dataclasses.replace(forecast, stale_reason=forecast_staleness(forecast, now, stale_after_s))


def _forecast_period(
    raw: JSON, i: int, times: dict[str, tuple[datetime, datetime]], known: PeriodMemo, seen: PeriodMemo
) -> tuple[ForecastPeriod, datetime, datetime]:
    """One period and its UTC start and end: a plain °F number and ISO times read directly
    (``times`` and ``known`` remember what was read; ``seen`` collects it), anything else as
    ``_read_forecast_period`` reads it."""
    if type(raw) is not dict:
        return _with_utc(_read_forecast_period(raw, i))
    temp = raw.get("temperature")
    start_text, end_text = raw.get("startTime"), raw.get("endTime")
    if (
        (type(temp) is not int and type(temp) is not float)
        or not math.isfinite(temp)
        or (raw.get("temperatureUnit") or "F") != "F"
        or type(start_text) is not str
        or type(end_text) is not str
    ):
        return _with_utc(_read_forecast_period(raw, i))
    number, name, daytime = raw.get("number"), raw.get("name") or "", bool(raw.get("isDaytime"))
    key = None
    if type(number) is int and type(name) is str and type(temp) is int:  # exact as a key (no True ~ 1, -0.0 ~ 0)
        key = (number, name, daytime, start_text, end_text, temp)
        hit = known.get(key)
        if hit is not None:
            seen[key] = hit
            return hit
    start, end = times.get(start_text), times.get(end_text)
    if start is None:
        moment = _time_of(start_text, f"forecast period {i}.startTime")
        start = times[start_text] = (moment, moment.astimezone(UTC))
    if end is None:
        moment = _time_of(end_text, f"forecast period {i}.endTime")
        end = times[end_text] = (moment, moment.astimezone(UTC))
    period = ForecastPeriod(
        number if isinstance(number, int) else i + 1, str(name), start[0], end[0], daytime, float(temp)
    )
    if key is not None:
        seen[key] = (period, start[1], end[1])
    return period, start[1], end[1]


def _with_utc(period: ForecastPeriod) -> tuple[ForecastPeriod, datetime, datetime]:
    return period, period.start.astimezone(UTC), period.end.astimezone(UTC)


def _read_forecast_period(raw: JSON, i: int) -> ForecastPeriod:
    item = _obj(raw, f"forecast period {i}")
    what = f"forecast period {i}"
    temp = _number(item.get("temperature"), f"{what}.temperature")
    unit = item.get("temperatureUnit") or "F"
    if isinstance(item.get("temperature"), dict):
        unit = item["temperature"].get("unitCode") or unit
    return ForecastPeriod(
        number=number if isinstance(number := item.get("number"), int) else i + 1,
        name=str(item.get("name") or ""),
        start=_time_of(item.get("startTime"), f"{what}.startTime"),
        end=_time_of(item.get("endTime"), f"{what}.endTime"),
        is_daytime=bool(item.get("isDaytime")),
        temperature_f=None if temp is None else _to_f(temp, str(unit), what),
    )


def forecast_staleness(forecast: Forecast, now: datetime, stale_after_s: float) -> str | None:
    """Why ``forecast`` is stale at ``now`` (None: it is not): an old or missing ``updateTime``, or a
    first period that ended over an hour ago."""
    stale = _staleness(forecast.update_time, now, stale_after_s, "forecast updateTime")
    periods = forecast.periods
    if stale is None and periods and periods[0].end < now - FIRST_PERIOD_GRACE:
        stale = f"forecast's first period ended at {periods[0].end.isoformat()}, before now"
    return stale


def _grid_layer(p: Mapping[str, Any], name: str) -> tuple[GridValue, ...]:
    layer = p.get(name)
    if layer is None:
        return ()
    layer = _obj(layer, f"gridpoint.{name}")
    unit = str(layer.get("uom") or "wmoUnit:degC")
    values = layer.get("values")
    if not isinstance(values, list):
        raise NwsDataError(f"gridpoint.{name}.values: expected a list")
    out = []
    for i, raw in enumerate(values):
        item = _obj(raw, f"gridpoint.{name}.values[{i}]")
        valid = item.get("validTime")
        if not isinstance(valid, str):
            raise NwsDataError(f"gridpoint.{name}.values[{i}].validTime: expected a string")
        start, duration = parse_valid_time(valid)
        value = _number(item.get("value"), f"gridpoint.{name}.values[{i}].value")
        out.append(GridValue(start, duration, None if value is None else _to_f(value, unit, name)))
    return tuple(out)


def parse_gridpoint(body: JSON, *, now: datetime, stale_after_s: float) -> GridData:
    p = _props(body, "gridpoint")
    update_time = _opt_time(p.get("updateTime"), "gridpoint.updateTime")
    return GridData(
        update_time=update_time,
        temperature_f=_grid_layer(p, "temperature"),
        max_temperature_f=_grid_layer(p, "maxTemperature"),
        min_temperature_f=_grid_layer(p, "minTemperature"),
        stale_reason=_staleness(update_time, now, stale_after_s, "gridpoint updateTime"),
    )


_REMARK_6H_RE = {
    "high": re.compile(r"(?<!\S)1([01])(\d{3})(?!\S)"),
    "low": re.compile(r"(?<!\S)2([01])(\d{3})(?!\S)"),
}


def _remark_6h(raw: str, extreme: Extreme) -> float | None:
    _, sep, remarks = raw.partition(" RMK ")
    if not sep:
        return None
    m = _REMARK_6H_RE[extreme].search(remarks)
    if m is None:
        return None
    tenths = int(m.group(2))
    return -tenths / 10.0 if m.group(1) == "1" else tenths / 10.0


def max_6h_from_metar(raw: str) -> float | None:
    """The 6-hour maximum (°C) from a METAR's ``1sTTT`` remark group (s=1 → negative), if any."""
    return _remark_6h(raw, "high")


def min_6h_from_metar(raw: str) -> float | None:
    """The 6-hour minimum (°C) from a METAR's ``2sTTT`` remark group (s=1 → negative), if any."""
    return _remark_6h(raw, "low")


def parse_observation(feature: JSON, *, now: datetime, stale_after_s: float) -> Observation:
    p = _props(feature, "observation")
    timestamp = _time_of(p.get("timestamp"), "observation.timestamp")
    temp = p.get("temperature")
    temp_c = _number(temp, "observation.temperature")
    unit = str(temp.get("unitCode") or "degC") if isinstance(temp, dict) else "degC"
    if temp_c is not None and unit.rsplit(":", 1)[-1] not in ("degC", "C"):
        temp_c = (_to_f(temp_c, unit, "observation.temperature") - 32.0) * 5.0 / 9.0
    raw = str(p.get("rawMessage") or "")
    station = str(p.get("station") or "").rstrip("/").rsplit("/", 1)[-1]
    return Observation(
        station=station,
        timestamp=timestamp,
        temperature_c=temp_c,
        quality=str(temp.get("qualityControl") or "") if isinstance(temp, dict) else "",
        raw_message=raw,
        max_6h_c=max_6h_from_metar(raw),
        min_6h_c=min_6h_from_metar(raw),
        stale_reason=_staleness(timestamp, now, stale_after_s, "observation"),
    )


def parse_observations(body: JSON, *, now: datetime, stale_after_s: float) -> list[Observation]:
    features = _obj(body, "observations").get("features")
    if not isinstance(features, list):
        raise NwsDataError("observations.features: expected a list")
    return [parse_observation(f, now=now, stale_after_s=stale_after_s) for f in features]


def _restamped(obs: Observation, now: datetime, stale_after_s: float) -> Observation:
    """``obs`` with its staleness at ``now`` (as ``parse_observation`` stamps it)."""
    reason = _staleness(obs.timestamp, now, stale_after_s, "observation")
    return obs if reason == obs.stale_reason else dataclasses.replace(obs, stale_reason=reason)


def parse_product_list(body: JSON) -> list[ProductRef]:
    """A ``/products/types/...`` listing (JSON-LD ``@graph``), newest first."""
    graph = _obj(body, "products").get("@graph")
    if not isinstance(graph, list):
        raise NwsDataError("products: expected an @graph list")
    out = []
    for i, raw in enumerate(graph):
        item = _obj(raw, f"products[{i}]")
        product_id = item.get("id")
        if not isinstance(product_id, str) or not product_id:
            raise NwsDataError(f"products[{i}].id: expected a product id")
        out.append(
            ProductRef(
                product_id=product_id,
                issuance_time=_time_of(item.get("issuanceTime"), f"products[{i}].issuanceTime"),
                issuing_office=str(item.get("issuingOffice") or ""),
                wmo_collective_id=str(item.get("wmoCollectiveId") or ""),
            )
        )
    out.sort(key=lambda r: r.issuance_time, reverse=True)
    return out


# --------------------------------------------------------------------------------------------
# From NWS values to the model's inputs (pure)


@dataclass(frozen=True, slots=True)
class ForecastExtreme:
    """The forecast maximum (or minimum) of a climate day and where it came from."""

    value_f: float
    sources: tuple[str, ...]
    """Which inputs reached it (``maxTemperature`` / ``minTemperature``, ``hourly``, ``daily``)."""


def forecast_extreme_f(
    extreme: Extreme,
    day_start: datetime,
    day_end: datetime,
    *,
    grid: GridData | None = None,
    hourly: Forecast | None = None,
    daily: Forecast | None = None,
    hourly_bias_f: float = 0.0,
) -> ForecastExtreme | None:
    """The forecast maximum (``"high"``) or minimum (``"low"``) over the climate day [day_start,
    day_end).

    Candidates for a high: the grid ``maxTemperature`` value(s) whose window starts in the day
    (≈ 7 AM–7 PM LST); the daytime period of the 12-hour forecast that starts in the day (when no
    grid MaxT); and the highest hourly value in the day — from ``hourly`` or, when it has none in
    the day, the grid ``temperature`` layer — which catches non-diurnal days (a max near
    midnight). For a low, the mirror: the grid ``minTemperature`` value(s) whose window ends in the
    day (the night before, ≈ 7 PM–9 AM LST), else the night period of the 12-hour forecast that
    ends in the day ("low around …"), and the lowest hourly value in the day (a cold front that
    brings the minimum near midnight). Hourly values miss the 2-minute extreme between hours:
    ``hourly_bias_f`` is added to the hourly maximum (subtracted from the hourly minimum) only
    when no MaxT/MinT/12-hour value exists to compare with. Returns the maximum (minimum) of the
    candidates, or None when nothing covers the day.

    Once the day is under way the forecasts may cover only part of it: the hourly forecast starts
    at the current hour, and after ~6 PM the 12-hour forecast's first period is "Tonight". The
    value is then the forecast for the hours still covered, and None once no source reaches into
    the day; the observed extreme covers the rest."""
    high = extreme == "high"
    pick = max if high else min
    candidates: dict[str, float] = {}

    def inside(moment: datetime) -> bool:
        return day_start <= moment < day_end

    def ends_inside(end: datetime) -> bool:
        return day_start < end <= day_end

    if grid is not None:
        if high:
            values = [v.value for v in grid.max_temperature_f if v.value is not None and inside(v.start)]
        else:
            values = [v.value for v in grid.min_temperature_f if v.value is not None and ends_inside(v.end)]
        if values:
            candidates["maxTemperature" if high else "minTemperature"] = pick(values)
    if daily is not None and not candidates:
        periods = [
            p.temperature_f
            for p in daily.periods
            if p.temperature_f is not None
            and p.is_daytime == high
            and (inside(p.start) if high else ends_inside(p.end))
        ]
        if periods:
            candidates["daily"] = pick(periods)
    hourly_values = _hourly_values(hourly, grid, day_start, day_end)
    if hourly_values:
        bias = 0.0 if candidates else (hourly_bias_f if high else -hourly_bias_f)
        candidates["hourly"] = pick(hourly_values) + bias
    if not candidates:
        return None
    best = pick(candidates.values())
    return ForecastExtreme(best, tuple(sorted(name for name, v in candidates.items() if v == best)))


def _hourly_values(hourly: Forecast | None, grid: GridData | None, start: datetime, end: datetime) -> list[float]:
    """Hourly forecast temperatures of the hours overlapping [start, end): from ``hourly``, or
    from the grid ``temperature`` layer when ``hourly`` is missing or has none there."""
    if hourly is not None:
        line = hourly.timeline
        if line is not None:
            values = line.temperatures_in(start, end)
        else:
            values = [
                p.temperature_f
                for p in hourly.periods
                if p.temperature_f is not None and p.start < end and p.end > start
            ]
        if values:
            return values
    if grid is not None:
        return [v.value for v in grid.temperature_f if v.value is not None and v.start < end and v.end > start]
    return []


def observed_extreme_f(
    extreme: Extreme, observations: Iterable[Observation], day_start: datetime, day_end: datetime
) -> int | None:
    """The whole-°F maximum (minimum) observed in [day_start, day_end): the highest (lowest)
    temperature of the observations timed inside the day and of each METAR 6-hour maximum
    (minimum) group whose 6-hour window lies inside the day, °C → °F rounded half up. Observations
    failing QC (``X``) are ignored. None when there is none."""
    high = extreme == "high"
    best: float | None = None
    for obs in observations:
        if not day_start <= obs.timestamp < day_end or obs.quality == "X":
            continue
        six_hour = obs.max_6h_c if high else obs.min_6h_c
        for value_c in (obs.temperature_c, six_hour if obs.timestamp - timedelta(hours=6) >= day_start else None):
            if value_c is not None and (best is None or (value_c > best if high else value_c < best)):
                best = value_c
    return None if best is None else round_half_up(c_to_f(best))


def remaining_extreme_f(
    extreme: Extreme, hourly: Forecast | None, now: datetime, day_end: datetime, *, grid: GridData | None = None
) -> float | None:
    """The highest (lowest) hourly forecast temperature from the current hour to the end of the
    day (from ``hourly``, or else the grid ``temperature`` layer); None when no hour is left."""
    if now >= day_end:
        return None
    values = _hourly_values(hourly, grid, now, day_end)
    if not values:
        return None
    return max(values) if extreme == "high" else min(values)


# --------------------------------------------------------------------------------------------
# The client


Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
ResponseTap = Callable[[str, Mapping[str, str], int, str, bytes], None]
"""``(path, params, status, Date header, body)`` of one NWS response."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _coord(value: float) -> str:
    """NWS accepts at most 4 decimals (more → redirect or error)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class RequestBudget:
    """A token bucket: ``rate`` requests a second on the ``clock`` (seconds), bursts of up to
    ``max(1, rate)``. ``take`` reserves a turn and sleeps until it comes (first come, first
    served); ``available`` says whether a request could go now without waiting."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        if rate <= 0:
            raise ValueError("the request budget must be positive")
        self.rate, self.capacity, self._clock = rate, max(1.0, rate), clock
        self._tokens, self._at = self.capacity, clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def available(self) -> bool:
        self._refill()
        return self._tokens >= 1.0

    async def take(self, sleep: Sleep) -> None:
        self._refill()
        self._tokens -= 1.0
        if self._tokens < 0:
            await sleep(-self._tokens / self.rate)


class NwsClient:
    """An async NWS API client (see the module contract). Use as ``async with NwsClient(...)``
    or call ``close()``; a caller-provided ``session`` is not closed."""

    def __init__(
        self,
        settings: NwsSettings | None = None,
        *,
        base_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        clock: Clock = _utc_now,
        monotonic: Callable[[], float] = _time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        on_response: ResponseTap | None = None,
        wall: Callable[[], float] = _time.monotonic,
    ) -> None:
        self.settings = settings if settings is not None else NwsSettings()
        self.on_response = on_response
        self.base_url = (base_url or self.settings.base_url or NWS_DEFAULT_URL).rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"NWS URL {self.base_url!r} is not an http(s) base URL such as {NWS_DEFAULT_URL}")
        self._session = session
        self._own_session = session is None
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._cache: dict[str, tuple[float, Any]] = {}
        self._parsed: dict[str, tuple[Any, Any]] = {}
        self._periods: dict[str, PeriodMemo] = {}
        self._stamped: dict[str, tuple[list[Observation], datetime, list[Observation]]] = {}
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._budget = RequestBudget(self.settings.max_requests_per_s, wall)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s))
            self._own_session = True
        return self._session

    # -- transport --------------------------------------------------------------------------

    async def get_json(self, path: str, params: Mapping[str, str] | None = None, *, accept: str = GEO_JSON) -> JSON:
        """GET ``base_url + path`` with retries (the module contract); the decoded JSON body."""
        url = self.base_url + path
        headers = {"User-Agent": self.settings.user_agent, "Accept": accept}
        attempts = self.settings.max_retries + 1
        last = ""
        for attempt in range(attempts):
            if attempt:
                delay = self.settings.backoff_s * (2 ** (attempt - 1)) * self._rng.uniform(0.5, 1.0)
                await self._sleep(delay)
            await self._budget.take(self._sleep)
            try:
                async with self._http().get(
                    url,
                    params=dict(params) if params else None,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s),
                ) as resp:
                    raw = await resp.read()
                    status = resp.status
                    if self.on_response is not None:
                        self.on_response(path, params or {}, status, resp.headers.get("Date", ""), raw)
            except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                continue
            if status in RETRY_STATUSES:
                last = f"HTTP {status}{_problem_suffix(raw)}"
                continue
            if status >= 400:
                title, detail = _problem(raw)
                raise NwsHttpError(status, url, title, detail)
            try:
                return json.loads(raw)
            except ValueError:
                raise NwsDataError(f"NWS {url} answered {status} with a body that is not JSON") from None
        raise NwsUnavailableError(url, attempts, last)

    async def _cached(self, key: str, ttl_s: float, fetch: Callable[[], Awaitable[Any]]) -> Any:
        now = self._monotonic()
        hit = self._cache.get(key)
        if hit is not None and (hit[0] > now or not self._budget.available()):
            return hit[1]  # fresh, or expired while the budget is spent: the last answer stands
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await fetch()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: sharers re-raise it, nobody else must
            raise
        else:
            future.set_result(value)
            if ttl_s > 0:
                self._cache[key] = (self._monotonic() + ttl_s, value)
            return value
        finally:
            del self._inflight[key]

    # -- endpoints --------------------------------------------------------------------------

    async def point(self, latitude: float, longitude: float) -> Point:
        """``/points/{lat},{lon}`` (cached for ``points_ttl_s``)."""
        path = f"/points/{_coord(latitude)},{_coord(longitude)}"

        async def fetch() -> Point:
            return parse_point(await self.get_json(path), latitude, longitude)

        point: Point = await self._cached(path, self.settings.points_ttl_s, fetch)
        return point

    async def forecast(self, point: Point) -> Forecast:
        """The 12-hour-period forecast of ``point``'s grid cell."""
        return await self._forecast(point.grid_path + "/forecast")

    async def hourly_forecast(self, point: Point) -> Forecast:
        """The hourly forecast of ``point``'s grid cell."""
        return await self._forecast(point.grid_path + "/forecast/hourly")

    def forecasts_at_hand(
        self, point: Point
    ) -> tuple[GridData | Exception, Forecast | Exception, Forecast | Exception] | None:
        """What ``gridpoint``, ``hourly_forecast`` and ``forecast`` of ``point`` return (or the
        error reading an answer raises) when the cache answers all three, at once; None when one
        of them has to be fetched."""
        grid_path = point.grid_path
        paths = (grid_path, grid_path + "/forecast/hourly", grid_path + "/forecast")
        bodies = []
        for path in paths:
            hit = self._cache.get(path)
            if hit is None or not (hit[0] > self._monotonic() or not self._budget.available()):
                return None  # as ``_cached`` decides
            bodies.append(hit[1])
        readers = (self._read_grid, self._read_forecast, self._read_forecast)
        out: list[Any] = []
        for read, path, body in zip(readers, paths, bodies, strict=True):
            try:
                out.append(read(path, body))
            except Exception as exc:  # as ``gather(..., return_exceptions=True)`` hands it over
                out.append(exc)
        return out[0], out[1], out[2]

    async def _forecast(self, path: str) -> Forecast:
        body = await self._cached(path, self.settings.forecast_ttl_s, lambda: self.get_json(path))
        return self._read_forecast(path, body)

    def _read_forecast(self, path: str, body: JSON) -> Forecast:
        now, limit = self._clock(), self.settings.forecast_stale_s
        memo = self._periods.setdefault(path, {})
        parsed: Forecast = self._parse_once(
            path, body, lambda: parse_forecast(body, now=now, stale_after_s=limit, memo=memo)
        )
        stale = forecast_staleness(parsed, now, limit)
        return parsed if stale == parsed.stale_reason else dataclasses.replace(parsed, stale_reason=stale)

    async def gridpoint(self, point: Point) -> GridData:
        """The raw grid (``temperature`` and ``maxTemperature`` layers, °F)."""
        path = point.grid_path
        body = await self._cached(path, self.settings.forecast_ttl_s, lambda: self.get_json(path))
        return self._read_grid(path, body)

    def _read_grid(self, path: str, body: JSON) -> GridData:
        now, limit = self._clock(), self.settings.forecast_stale_s
        parsed: GridData = self._parse_once(path, body, lambda: parse_gridpoint(body, now=now, stale_after_s=limit))
        stale = _staleness(parsed.update_time, now, limit, "gridpoint updateTime")
        return parsed if stale == parsed.stale_reason else dataclasses.replace(parsed, stale_reason=stale)

    def _parse_once(self, key: str, body: JSON, parse: Callable[[], Any]) -> Any:
        """``parse()`` of the cached ``body`` under ``key``, computed once per body (staleness,
        which depends on now, is the caller's to recompute)."""
        hit = self._parsed.get(key)
        if hit is not None and hit[0] is body:
            return hit[1]
        value = parse()
        self._parsed[key] = (body, value)
        return value

    async def observations(
        self, station: str, start: datetime, end: datetime | None = None, *, limit: int = 500, stamped: bool = True
    ) -> list[Observation]:
        """``/stations/{id}/observations`` between ``start`` and ``end`` (newest first, ≤ 500).
        ``stamped=False`` leaves each one's ``stale_reason`` as of when the answer was read (a
        caller that judges only some of them asks ``observation_staleness``)."""
        if not 1 <= limit <= 500:
            raise ValueError("limit must be 1..500")
        params = {"start": _iso_z(start), "limit": str(limit)}
        if end is not None:
            params["end"] = _iso_z(end)
        path = f"/stations/{station.upper()}/observations"
        key = path + "?" + "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        body = await self._cached(key, self.settings.observation_ttl_s, lambda: self.get_json(path, params))
        now, stale_s = self._clock(), self.settings.observation_stale_s
        parsed: list[Observation] = self._parse_once(
            key, body, lambda: parse_observations(body, now=now, stale_after_s=stale_s)
        )
        if not stamped:
            return list(parsed)
        last = self._stamped.get(key)
        if last is None or last[0] is not parsed or last[1] != now:
            last = self._stamped[key] = (parsed, now, [_restamped(obs, now, stale_s) for obs in parsed])
        return list(last[2])

    def observation_staleness(self, obs: Observation) -> str | None:
        """Why ``obs`` is stale now (None: it is not): its ``stale_reason`` as ``observations``
        stamps it."""
        return _staleness(obs.timestamp, self._clock(), self.settings.observation_stale_s, "observation")

    async def latest_observation(self, station: str) -> Observation:
        """``/stations/{id}/observations/latest``."""
        path = f"/stations/{station.upper()}/observations/latest"
        body = await self._cached(path, self.settings.observation_ttl_s, lambda: self.get_json(path))
        return parse_observation(body, now=self._clock(), stale_after_s=self.settings.observation_stale_s)

    async def cli_products(self, location: str) -> list[ProductRef]:
        """The CLI products listed for a location (``NYC`` of ``CLINYC``), newest first."""
        path = f"/products/types/CLI/locations/{location.upper()}"
        body = await self._cached(path, self.settings.observation_ttl_s, lambda: self.get_json(path, accept=LD_JSON))
        return parse_product_list(body)

    async def product_text(self, product_id: str) -> str:
        """``/products/{id}``'s ``productText`` (products never change: cached like points)."""
        path = f"/products/{product_id}"
        body = await self._cached(path, self.settings.points_ttl_s, lambda: self.get_json(path, accept=LD_JSON))
        text = _obj(body, "product").get("productText")
        if not isinstance(text, str):
            raise NwsDataError(f"product {product_id}: no productText")
        return text

    async def latest_cli(
        self, location: str, day: date | None = None, *, site: str | None = None, max_products: int = 5
    ) -> CliReport | None:
        """The newest CLI report for ``location`` (covering ``day`` if given; the ``site`` section
        of a multi-site product), parsed; None when none of the newest ``max_products`` products
        qualifies. A product issued (UTC) before ``day`` cannot cover it and is not fetched (a
        report of a US climate day is issued on that day's afternoon or later)."""
        for ref in (await self.cli_products(location))[:max_products]:
            if day is not None and ref.issuance_time.astimezone(UTC).date() < day:
                continue
            try:
                report = parse_cli(await self.product_text(ref.product_id), site)
            except CliParseError:
                continue
            if day is None or report.summary_date == day:
                return report
        return None


def _iso_z(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("observation bounds must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _problem(raw: bytes) -> tuple[str, str]:
    """(title, detail) of an RFC 7807 problem body, or empty strings."""
    try:
        body = json.loads(raw)
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("title") or ""), str(body.get("detail") or "")


def _problem_suffix(raw: bytes) -> str:
    title, detail = _problem(raw)
    what = ": ".join(part for part in (title, detail) if part)
    return f" {what}" if what else ""
