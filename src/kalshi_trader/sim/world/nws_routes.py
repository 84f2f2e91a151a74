"""NWS-compatible endpoints (api.weather.gov shapes) over the weather world, on the exchange's server.

Contract:
- ``add_nws_routes(app, world, prefix="/nws")`` adds GET routes under ``prefix`` that mirror
  api.weather.gov paths and JSON shapes (docs/weather-model.md, NWS data): ``/points/{lat},{lon}``,
  ``/gridpoints/{wfo}/{x},{y}`` (raw grid: ``temperature``, ``dewpoint``, ``maxTemperature``,
  ``minTemperature``, ``relativeHumidity``, ``probabilityOfPrecipitation`` in °C / % with
  ``validTime`` = ``start/ISO-8601 duration``, equal consecutive hours merged), ``…/forecast``
  (12-hour periods), ``…/forecast/hourly`` (156 one-hour periods), ``…/stations``,
  ``/stations/{id}``, ``/stations/{id}/observations`` (``start``, ``end``, ``limit`` ≤ 500, newest
  first) and ``…/observations/latest``, ``/products/types/CLI/locations/{loc}`` (``@graph``,
  newest first), ``…/latest`` and ``/products/{id}`` (with the CLI ``productText``).
  ``mount_nws(exchange, world)`` registers them on an ``EmbeddedExchange`` before it starts;
  ``nws_base_url(exchange)`` is then ``http://HOST:PORT/nws`` — the value a client configures as
  its NWS base URL instead of ``https://api.weather.gov``. Links inside responses (``forecast``,
  ``forecastHourly``, ``observationStations``, ``@id``) point back at this server.
- Time is the exchange's (simulated) clock: forecasts are the cycle in force now, observations are
  those published by now, CLI products those issued by now. GeoJSON bodies are
  ``application/geo+json``, products ``application/ld+json``; temperatures use ``wmoUnit:degC``
  (observations, grids) or integer °F (``temperatureUnit: "F"`` in forecasts; ``?units=si`` → °C).
- Errors are RFC 7807 problem JSON (``application/problem+json``) like NWS: 404 for unknown
  points/grids/stations/products/paths, 400 for bad or unknown query parameters, 403 without a
  ``User-Agent``; coordinates with more than 4 decimals are redirected (301) to the rounded point.
- The CLI text follows the real layout (WMO header, ``CLI{LOC}`` PIL, ``...THE <SITE> CLIMATE
  SUMMARY FOR <MONTH D YYYY>...`` headline, ``TEMPERATURE (F)`` / ``YESTERDAY`` (final) or
  ``TODAY`` plus ``VALID TODAY AS OF 0400 PM LOCAL TIME.`` (preliminary), ``MAXIMUM`` and
  ``MINIMUM`` rows with the value and its LST time). The final product's maximum is the value the
  daily-high markets settle on, its minimum the value of the daily-low markets.
- Forecasts carry both extremes: daytime 12-hour periods the public forecast high ("high near"),
  night periods the public forecast low of the dawn they end at ("low around"), the raw grid
  ``maxTemperature`` (≈ 7 AM–8 PM LST) and ``minTemperature`` (≈ 7 PM–9 AM LST, ending on the
  day's dawn), and the hourly curve passes through both.
- Every response under ``prefix`` (errors and redirects too) carries the HTTP ``Date`` header of the
  exchange's clock (RFC 9110 IMF-fixdate, whole seconds), as a real server's ``Date`` is its own
  clock: a client takes "now" for these data from it (the Kalshi REST routes keep the wall clock,
  which signatures are checked against).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, Final, Literal
from zoneinfo import ZoneInfo

import structlog
from aiohttp import hdrs, web

from kalshi_trader.sim.world.climate import (
    DAY_MS,
    HOUR_MS,
    City,
    CliReport,
    Observation,
    climate_date,
    day_start_ms,
    round_half_up,
    std_offset_ms,
)

if TYPE_CHECKING:
    from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
    from kalshi_trader.sim.world.weather_markets import WeatherWorld

log = structlog.get_logger(__name__)

NWS_PREFIX: Final = "/nws"
GEO_JSON: Final = "application/geo+json"
LD_JSON: Final = "application/ld+json"
PROBLEM_JSON: Final = "application/problem+json"
MAX_OBSERVATIONS: Final = 500
HOURLY_PERIODS: Final = 156
TWELVE_HOUR_PERIODS: Final = 14
GRID_DAYS: Final = 7
_CONTEXT: Final[list[Any]] = [
    "https://geojson.org/geojson-ld/geojson-context.jsonld",
    {"@version": "1.1", "wx": "https://api.weather.gov/ontology#", "@vocab": "https://api.weather.gov/ontology#"},
]
_LD_CONTEXT: Final = {"@version": "1.1", "@vocab": "https://api.weather.gov/ontology#"}
_COMPASS: Final = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")
_DAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSON = dict[str, Any]


class Problem(Exception):
    """An NWS-style error answer."""

    def __init__(self, status: int, title: str, detail: str, kind: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.kind = status, title, detail, kind


@dataclass(slots=True)
class _State:
    world: WeatherWorld
    prefix: str
    products: dict[str, tuple[City, date, Literal["final", "preliminary"]]] = field(default_factory=dict)
    requests: itertools.count[int] = field(default_factory=itertools.count)


# ------------------------------------------------------------------------------------------------
# Formatting helpers


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, tz=UTC).isoformat()


def _local_iso(ms: int, tz: str) -> str:
    return datetime.fromtimestamp(ms // 1000, tz=ZoneInfo(tz)).isoformat()


def _c(f: float) -> float:
    """°F → °C, unrounded (NWS grids carry values like 25.555555555555557)."""
    return (f - 32.0) * 5.0 / 9.0


def _duration(hours: int) -> str:
    days, rest = divmod(hours, 24)
    if days and rest:
        return f"P{days}DT{rest}H"
    return f"P{days}D" if days else f"PT{rest}H"


def _qv(unit: str, value: float | int | None, qc: str | None = None) -> JSON:
    out: JSON = {"unitCode": f"wmoUnit:{unit}", "value": value}
    if qc is not None:
        out["qualityControl"] = qc
    return out


def _relative_humidity(temp_c: float, dew_c: float) -> float:
    def vapour(t: float) -> float:
        return math.exp(17.625 * t / (243.04 + t))

    return max(1.0, min(100.0, 100.0 * vapour(dew_c) / vapour(temp_c)))


def _compass(degrees: int) -> str:
    return _COMPASS[round(degrees / 22.5) % 16]


def _point_text(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def _base(request: web.Request, state: _State) -> str:
    return f"{request.scheme}://{request.host}{state.prefix}"


def _state(request: web.Request) -> _State:
    return request.app[_STATE_KEY]


def _check_query(request: web.Request, allowed: tuple[str, ...]) -> None:
    for key in request.query:
        if key not in allowed:
            raise Problem(
                400,
                "Bad Request",
                f'Query parameter "{key}" is not recognized (allowed: {", ".join(allowed) or "none"})',
                "BadRequest",
            )


def _grid_city(request: web.Request) -> City:
    state = _state(request)
    wfo = request.match_info["wfo"]
    try:
        x, y = int(request.match_info["x"]), int(request.match_info["y"])
    except ValueError as exc:
        raise Problem(400, "Invalid Parameter", "gridpoint coordinates must be integers", "InvalidParameter") from exc
    city = state.world.model.city_for_grid(wfo, x, y)
    if city is None:
        raise Problem(404, "Not Found", f"Gridpoint {wfo}/{x},{y} is not simulated", "NotFound")
    return city


def _station_city(request: web.Request) -> City:
    station = request.match_info["station"]
    city = _state(request).world.model.city_for_station(station)
    if city is None:
        raise Problem(404, "Not Found", f"Station {station} not found", "NotFound")
    return city


def _sky_words(sky: str, daytime: bool) -> tuple[str, str]:
    """(shortForecast, icon code) for a METAR sky group."""
    cover = sky[:3]
    if cover == "CLR":
        return ("Sunny" if daytime else "Clear"), "skc"
    if cover == "FEW":
        return ("Mostly Sunny" if daytime else "Mostly Clear"), "few"
    if cover == "SCT":
        return "Partly Cloudy", "sct"
    return "Mostly Cloudy", "bkn"


# ------------------------------------------------------------------------------------------------
# /points


async def _points(request: web.Request) -> web.StreamResponse:
    state = _state(request)
    _check_query(request, ())
    raw_lat, raw_lon = request.match_info["lat"], request.match_info["lon"]
    try:
        lat, lon = float(raw_lat), float(raw_lon)
    except ValueError as exc:
        raise Problem(400, "Invalid Parameter", f"Invalid point: {raw_lat},{raw_lon}", "InvalidParameter") from exc
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        raise Problem(404, "Invalid Point", f"{raw_lat},{raw_lon} is not a valid point", "InvalidPoint")
    if any(len(p.partition(".")[2]) > 4 for p in (raw_lat, raw_lon)):
        raise web.HTTPMovedPermanently(f"{state.prefix}/points/{_point_text(lat)},{_point_text(lon)}")
    city = state.world.model.city_near(lat, lon)
    if city is None:
        raise Problem(
            404,
            "Data Unavailable For Requested Point",
            f"Unable to provide data for requested point {_point_text(lat)},{_point_text(lon)} "
            "(the simulated NWS covers the weather world's stations only)",
            "InvalidPoint",
        )
    base = _base(request, state)
    grid = f"{base}/gridpoints/{city.wfo}/{city.grid_x},{city.grid_y}"
    point_id = f"{base}/points/{_point_text(lat)},{_point_text(lon)}"
    body = {
        "@context": _CONTEXT,
        "id": point_id,
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "@id": point_id,
            "@type": "wx:Point",
            "cwa": city.wfo,
            "forecastOffice": f"{base}/offices/{city.wfo}",
            "gridId": city.wfo,
            "gridX": city.grid_x,
            "gridY": city.grid_y,
            "forecast": f"{grid}/forecast",
            "forecastHourly": f"{grid}/forecast/hourly",
            "forecastGridData": grid,
            "observationStations": f"{grid}/stations",
            "relativeLocation": {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [city.lon + 0.02, city.lat + 0.02]},
                "properties": {
                    "city": city.nearby[0],
                    "state": city.nearby[1],
                    "distance": _qv("m", 2815.4),
                    "bearing": _qv("degree_(angle)", 213),
                },
            },
            "forecastZone": f"{base}/zones/forecast/{city.forecast_zone}",
            "county": f"{base}/zones/county/{city.forecast_zone[:2]}C{city.forecast_zone[3:]}",
            "fireWeatherZone": f"{base}/zones/fire/{city.forecast_zone}",
            "timeZone": city.tz,
            "radarStation": city.radar,
        },
    }
    return web.json_response(body, content_type=GEO_JSON)


# ------------------------------------------------------------------------------------------------
# Forecasts


def _polygon(city: City) -> JSON:
    d = 0.011
    ring = [
        [city.lon - d, city.lat - d],
        [city.lon + d, city.lat - d],
        [city.lon + d, city.lat + d],
        [city.lon - d, city.lat + d],
        [city.lon - d, city.lat - d],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def _units(request: web.Request) -> Literal["us", "si"]:
    units = request.query.get("units", "us")
    if units not in ("us", "si"):
        raise Problem(400, "Invalid Parameter", f"units must be 'us' or 'si', not {units!r}", "InvalidParameter")
    return "si" if units == "si" else "us"


def _temp_out(f: int, units: Literal["us", "si"]) -> int:
    return f if units == "us" else round_half_up(_c(f))


def _twelve_hour_periods(world: WeatherWorld, city: City, now: int, units: Literal["us", "si"]) -> list[JSON]:
    zone = ZoneInfo(city.tz)
    start = datetime.fromtimestamp((now - now % HOUR_MS) // 1000, tz=zone)
    periods: list[JSON] = []
    for number in range(1, TWELVE_HOUR_PERIODS + 1):
        daytime = 6 <= start.hour < 18
        if daytime:
            end = start.replace(hour=18, minute=0)
        else:
            next_day = start.date() + timedelta(days=1) if start.hour >= 18 else start.date()
            end = datetime(next_day.year, next_day.month, next_day.day, 6, tzinfo=zone)
        day = start.date() if (daytime or start.hour >= 18) else start.date() - timedelta(days=1)
        if number == 1:
            name = (
                ("Today" if start.hour < 12 else "This Afternoon")
                if daytime
                else ("Tonight" if start.hour >= 18 else "Overnight")
            )
        elif number == 2 and not daytime and periods[0]["isDaytime"]:
            name = "Tonight"
        else:
            name = _DAYS[day.weekday()] + ("" if daytime else " Night")
        if daytime:
            temp = round_half_up(world.model.forecast_high(city, day, now))
        else:
            temp = round_half_up(world.model.forecast_low(city, day + timedelta(days=1), now))  # the dawn it ends at
        day_info = world.model.observations(city, day)[0]
        short, icon = _sky_words(day_info.sky, daytime)
        wind_low, wind_dir = day_info.wind_speed_kt // 2 + 2, _compass(day_info.wind_direction_deg)
        wind = (
            f"{wind_low} to {wind_low + 5} mph"
            if units == "us"
            else f"{wind_low * 8 // 5} to {(wind_low + 5) * 8 // 5} km/h"
        )
        shown = _temp_out(temp, units)
        unit = "F" if units == "us" else "C"
        detail = f"{short}, with a {'high near' if daytime else 'low around'} {shown}."
        periods.append(
            {
                "number": number,
                "name": name,
                "startTime": start.isoformat(),
                "endTime": end.isoformat(),
                "isDaytime": daytime,
                "temperature": shown,
                "temperatureUnit": unit,
                "temperatureTrend": "",
                "probabilityOfPrecipitation": _qv("percent", None),
                "windSpeed": wind,
                "windDirection": wind_dir,
                "icon": f"https://api.weather.gov/icons/land/{'day' if daytime else 'night'}/{icon}?size=medium",
                "shortForecast": short,
                "detailedForecast": f"{detail} {wind_dir} wind {wind}.",
            }
        )
        start = end
    return periods


def _forecast_properties(city: City, now: int, units: Literal["us", "si"], generator: str) -> JSON:
    cycle = now - now % HOUR_MS
    return {
        "units": units,
        "forecastGenerator": generator,
        "generatedAt": _iso(now),
        "updateTime": _iso(cycle),
        "validTimes": f"{_iso(cycle)}/P7DT12H",
        "elevation": _qv("m", city.elevation_m),
    }


async def _forecast(request: web.Request) -> web.StreamResponse:
    _check_query(request, ("units",))
    city, units = _grid_city(request), _units(request)
    world = _state(request).world
    now = world.now_ms()
    properties = _forecast_properties(city, now, units, "BaselineForecastGenerator")
    properties["periods"] = _twelve_hour_periods(world, city, now, units)
    body = {"@context": _CONTEXT, "type": "Feature", "geometry": _polygon(city), "properties": properties}
    return web.json_response(body, content_type=GEO_JSON)


def _hourly_values(world: WeatherWorld, city: City, now: int, hours: int) -> list[tuple[int, int, float]]:
    """(start ms, temperature °F, dewpoint °C) for ``hours`` hours from the current hour."""
    first = now - now % HOUR_MS
    out = []
    for k in range(hours):
        at = first + k * HOUR_MS
        temp = round_half_up(world.model.forecast_temperature(city, now, at))
        dew_c = round(_c(temp - city.dewpoint_depression), 1)
        out.append((at, temp, dew_c))
    return out


async def _forecast_hourly(request: web.Request) -> web.StreamResponse:
    _check_query(request, ("units",))
    city, units = _grid_city(request), _units(request)
    world = _state(request).world
    now = world.now_ms()
    zone = ZoneInfo(city.tz)
    periods = []
    for number, (at, temp, dew_c) in enumerate(_hourly_values(world, city, now, HOURLY_PERIODS), start=1):
        local = datetime.fromtimestamp(at // 1000, tz=zone)
        daytime = 6 <= local.hour < 18
        sky = world.model.observations(city, climate_date(city, at))[0]
        short, icon = _sky_words(sky.sky, daytime)
        wind = sky.wind_speed_kt // 2 + 3
        periods.append(
            {
                "number": number,
                "name": "",
                "startTime": local.isoformat(),
                "endTime": (local + timedelta(hours=1)).isoformat(),
                "isDaytime": daytime,
                "temperature": _temp_out(temp, units),
                "temperatureUnit": "F" if units == "us" else "C",
                "temperatureTrend": None,
                "probabilityOfPrecipitation": _qv("percent", 0),
                "dewpoint": _qv("degC", dew_c),
                "relativeHumidity": _qv("percent", round(_relative_humidity(_c(temp), dew_c))),
                "windSpeed": f"{wind} mph" if units == "us" else f"{wind * 8 // 5} km/h",
                "windDirection": _compass(sky.wind_direction_deg),
                "icon": f"https://api.weather.gov/icons/land/{'day' if daytime else 'night'}/{icon}?size=small",
                "shortForecast": short,
                "detailedForecast": "",
            }
        )
    properties = _forecast_properties(city, now, units, "HourlyForecastGenerator")
    properties["periods"] = periods
    body = {"@context": _CONTEXT, "type": "Feature", "geometry": _polygon(city), "properties": properties}
    return web.json_response(body, content_type=GEO_JSON)


def _layer(uom: str, values: list[tuple[int, int, float | int]]) -> JSON:
    """A grid layer from (start ms, hours, value) runs."""
    return {
        "uom": f"wmoUnit:{uom}",
        "values": [{"validTime": f"{_iso(s)}/{_duration(h)}", "value": v} for s, h, v in values],
    }


def _merge(hourly: list[tuple[int, float | int]]) -> list[tuple[int, int, float | int]]:
    runs: list[tuple[int, int, float | int]] = []
    for at, value in hourly:
        if runs and runs[-1][2] == value and runs[-1][0] + runs[-1][1] * HOUR_MS == at:
            start, hours, _ = runs[-1]
            runs[-1] = (start, hours + 1, value)
        else:
            runs.append((at, 1, value))
    return runs


async def _gridpoint(request: web.Request) -> web.StreamResponse:
    _check_query(request, ())
    city = _grid_city(request)
    state = _state(request)
    world = state.world
    now = world.now_ms()
    cycle = now - now % HOUR_MS
    hourly = _hourly_values(world, city, now, GRID_DAYS * 24)
    temperature = _merge([(at, _c(t)) for at, t, _ in hourly])
    dewpoint = _merge([(at, d) for at, _, d in hourly])
    humidity = _merge([(at, round(_relative_humidity(_c(t), d))) for at, t, d in hourly])
    today = climate_date(city, now)
    highs: list[tuple[int, int, float | int]] = []
    lows: list[tuple[int, int, float | int]] = []
    for k in range(GRID_DAYS + 1):
        day = today + timedelta(days=k)
        start = day_start_ms(city, day)
        high = round_half_up(world.model.forecast_high(city, day, now))
        low = round_half_up(world.model.forecast_low(city, day, now))
        highs.append((start + 7 * HOUR_MS, 13, _c(high)))  # ~7 AM–8 PM LST, like NWS MaxT
        lows.append((start - 5 * HOUR_MS, 14, _c(low)))  # ~7 PM the evening before–9 AM LST: the day's dawn
    base = _base(request, state)
    grid_id = f"{base}/gridpoints/{city.wfo}/{city.grid_x},{city.grid_y}"
    body = {
        "@context": _CONTEXT,
        "id": grid_id,
        "type": "Feature",
        "geometry": _polygon(city),
        "properties": {
            "@id": grid_id,
            "@type": "wx:Gridpoint",
            "updateTime": _iso(cycle),
            "validTimes": f"{_iso(cycle)}/P{GRID_DAYS}DT12H",
            "elevation": _qv("m", city.elevation_m),
            "forecastOffice": f"{base}/offices/{city.wfo}",
            "gridId": city.wfo,
            "gridX": str(city.grid_x),
            "gridY": str(city.grid_y),
            "temperature": _layer("degC", temperature),
            "dewpoint": _layer("degC", dewpoint),
            "maxTemperature": _layer("degC", highs),
            "minTemperature": _layer("degC", lows),
            "relativeHumidity": _layer("percent", humidity),
            "probabilityOfPrecipitation": _layer("percent", [(cycle, GRID_DAYS * 24, 0)]),
        },
    }
    return web.json_response(body, content_type=GEO_JSON)


# ------------------------------------------------------------------------------------------------
# Stations and observations


def _station_feature(base: str, city: City) -> JSON:
    url = f"{base}/stations/{city.station}"
    return {
        "id": url,
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [city.lon, city.lat]},
        "properties": {
            "@id": url,
            "@type": "wx:ObservationStation",
            "elevation": _qv("m", city.elevation_m),
            "stationIdentifier": city.station,
            "name": city.station_name,
            "timeZone": city.tz,
            "forecast": f"{base}/zones/forecast/{city.forecast_zone}",
            "county": f"{base}/zones/county/{city.forecast_zone[:2]}C{city.forecast_zone[3:]}",
            "fireWeatherZone": f"{base}/zones/fire/{city.forecast_zone}",
        },
    }


async def _grid_stations(request: web.Request) -> web.StreamResponse:
    _check_query(request, ("limit", "cursor"))
    city = _grid_city(request)
    base = _base(request, _state(request))
    feature = _station_feature(base, city)
    body = {
        "@context": _CONTEXT,
        "type": "FeatureCollection",
        "features": [feature],
        "observationStations": [feature["id"]],
    }
    return web.json_response(body, content_type=GEO_JSON)


async def _station(request: web.Request) -> web.StreamResponse:
    _check_query(request, ())
    city = _station_city(request)
    body = {"@context": _CONTEXT, **_station_feature(_base(request, _state(request)), city)}
    return web.json_response(body, content_type=GEO_JSON)


def _metar(obs: Observation) -> str:
    when = datetime.fromtimestamp(obs.ts_ms // 1000, tz=UTC)

    def whole(tenths: int) -> str:
        value = int(math.copysign(math.floor(abs(tenths) / 10 + 0.5), tenths))
        return f"M{-value:02d}" if value < 0 else f"{value:02d}"

    def group(tenths: int) -> str:
        return f"{1 if tenths < 0 else 0}{abs(tenths):03d}"

    wind = "00000KT" if obs.wind_speed_kt == 0 else f"{obs.wind_direction_deg:03d}{obs.wind_speed_kt:02d}KT"
    altimeter = round_half_up(obs.sea_level_pressure_dpa * 0.2953)
    return (
        f"{obs.station} {when:%d%H%M}Z AUTO {wind} 10SM {obs.sky} "
        f"{whole(obs.temperature_dc)}/{whole(obs.dewpoint_dc)} A{altimeter:04d} RMK AO2 "
        f"SLP{obs.sea_level_pressure_dpa % 1000:03d} T{group(obs.temperature_dc)}{group(obs.dewpoint_dc)}"
    )


def _observation_feature(base: str, city: City, obs: Observation) -> JSON:
    url = f"{base}/stations/{city.station}/observations/{_iso(obs.ts_ms)}"
    temp_c, dew_c = obs.temperature_dc / 10, obs.dewpoint_dc / 10
    local_hour = (obs.ts_ms + std_offset_ms(city.tz)) % DAY_MS // HOUR_MS
    daytime = 6 <= local_hour < 18
    _, icon = _sky_words(obs.sky, daytime)
    cover = obs.sky[:3]
    layers = [] if cover == "CLR" else [{"base": _qv("m", int(obs.sky[3:]) * 30), "amount": cover}]
    pressure_pa = obs.sea_level_pressure_dpa * 10
    return {
        "id": url,
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [city.lon, city.lat]},
        "properties": {
            "@id": url,
            "@type": "wx:ObservationStation",
            "elevation": _qv("m", city.elevation_m),
            "station": f"{base}/stations/{city.station}",
            "stationId": city.station,
            "stationName": city.station_name,
            "timestamp": _iso(obs.ts_ms),
            "rawMessage": _metar(obs),
            "textDescription": obs.description,
            "icon": f"https://api.weather.gov/icons/land/{'day' if daytime else 'night'}/{icon}?size=medium",
            "presentWeather": [],
            "temperature": _qv("degC", temp_c, "V"),
            "dewpoint": _qv("degC", dew_c, "V"),
            "windDirection": _qv("degree_(angle)", obs.wind_direction_deg if obs.wind_speed_kt else None, "V"),
            "windSpeed": _qv("km_h-1", round(obs.wind_speed_kt * 1.852, 3), "V"),
            "windGust": _qv("km_h-1", None, "Z"),
            "barometricPressure": _qv("Pa", pressure_pa - 30, "V"),
            "seaLevelPressure": _qv("Pa", pressure_pa, "V"),
            "visibility": _qv("m", 16090, "C"),
            "maxTemperatureLast24Hours": _qv("degC", None),
            "minTemperatureLast24Hours": _qv("degC", None),
            "precipitationLastHour": _qv("mm", None, "Z"),
            "precipitationLast3Hours": _qv("mm", None, "Z"),
            "precipitationLast6Hours": _qv("mm", None, "Z"),
            "relativeHumidity": _qv("percent", round(_relative_humidity(temp_c, dew_c), 2), "V"),
            "windChill": _qv("degC", None, "V"),
            "heatIndex": _qv("degC", None, "V"),
            "cloudLayers": layers,
        },
    }


def _parse_time(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Problem(
            400, "Invalid Parameter", f"{name} must be an ISO-8601 date-time, not {raw!r}", "InvalidParameter"
        ) from exc
    if parsed.tzinfo is None:
        raise Problem(400, "Invalid Parameter", f"{name} must carry a UTC offset", "InvalidParameter")
    return int(parsed.timestamp() * 1000)


async def _observations(request: web.Request) -> web.StreamResponse:
    _check_query(request, ("start", "end", "limit", "cursor"))
    city = _station_city(request)
    state = _state(request)
    world = state.world
    now = world.now_ms()
    raw_limit = request.query.get("limit", str(MAX_OBSERVATIONS))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_OBSERVATIONS:
        raise Problem(400, "Invalid Parameter", f"limit must be 1..{MAX_OBSERVATIONS}", "InvalidParameter")
    limit = int(raw_limit)
    published = world.published_until(now)
    asked_end = _parse_time(request, "end")
    end = published if asked_end is None else min(asked_end, published)
    start = _parse_time(request, "start")
    start = max(start if start is not None else end - 7 * DAY_MS, end - limit * HOUR_MS)
    found = world.observations(city.series, start, end, now)
    found.reverse()
    base = _base(request, state)
    body = {
        "@context": _CONTEXT,
        "type": "FeatureCollection",
        "features": [_observation_feature(base, city, o) for o in found[:limit]],
    }
    return web.json_response(body, content_type=GEO_JSON)


async def _latest_observation(request: web.Request) -> web.StreamResponse:
    _check_query(request, ("require_qc",))
    city = _station_city(request)
    state = _state(request)
    obs = state.world.latest_observation(city.series)
    body = {"@context": _CONTEXT, **_observation_feature(_base(request, state), city, obs)}
    return web.json_response(body, content_type=GEO_JSON)


# ------------------------------------------------------------------------------------------------
# Climate reports


def _clock_12(minute_of_day: int, colon: bool = False) -> str:
    hour, minute = divmod(minute_of_day, 60)
    suffix = "AM" if hour < 12 else "PM"
    hour12 = hour % 12 or 12
    return f"{hour12}{':' if colon else ''}{minute:02d} {suffix}"


def _row(
    label: str, value: int | str, when: str, record: str, year: str, normal: str, dep: str, last: str, flag: str = " "
) -> str:
    return f"  {label:<9}{value!s:>9}{flag}{when:>9}{record:>4}{year:>8}{normal:>4}{dep:>7}{last:>9}".rstrip()


def cli_product_text(report: CliReport) -> str:
    """The CLI product text for ``report`` (the layout NWS offices publish; docs/weather-model.md)."""
    city = report.city
    issued = datetime.fromtimestamp(report.issued_ms // 1000, tz=UTC)
    local = issued.astimezone(ZoneInfo(city.tz))
    day = report.day
    final = report.kind == "final"
    record_high = max(report.record_high, report.max_f)
    record_year = str(day.year if report.is_record_high else report.record_high_year)
    average = round_half_up((report.max_f + report.min_f) / 2)
    normal_avg = round_half_up((report.normal_high + report.normal_low) / 2)
    last_avg = round_half_up((report.last_year_high + report.last_year_low) / 2)
    lines = [
        "",
        "000 ",
        f"{city.wmo_id} {city.issuing_office} {issued:%d%H%M}",
        city.cli_pil,
        "",
        "CLIMATE REPORT ",
        f"NATIONAL WEATHER SERVICE {city.office_name}",
        f"{_clock_12(local.hour * 60 + local.minute)} {local.tzname()} {local:%a %b} {local.day} {local.year}".upper(),
        "",
        "...................................",
        "",
        f"...THE {city.cli_site} CLIMATE SUMMARY FOR {day:%B} {day.day} {day.year}...".upper(),
    ]
    if not final:
        lines.append("VALID TODAY AS OF 0400 PM LOCAL TIME.")
    lines += [
        "",
        "CLIMATE NORMAL PERIOD 1991 TO 2020",
        f"CLIMATE RECORD PERIOD 1872 TO {day.year}",
        "",
        "",
        "WEATHER ITEM   OBSERVED TIME   RECORD YEAR NORMAL DEPARTURE LAST",
        "                VALUE   (LST)  VALUE       VALUE  FROM      YEAR",
        "...................................................................",
        "TEMPERATURE (F)",
        " YESTERDAY" if final else " TODAY",
        _row(
            "MAXIMUM",
            report.max_f,
            _clock_12(report.max_minute),
            str(record_high),
            record_year,
            str(report.normal_high),
            str(report.max_f - report.normal_high),
            str(report.last_year_high),
            "R" if report.is_record_high else " ",
        ),
        _row(
            "MINIMUM",
            report.min_f,
            _clock_12(report.min_minute),
            str(report.record_low),
            str(report.record_low_year),
            str(report.normal_low),
            str(report.min_f - report.normal_low),
            str(report.last_year_low),
        ),
        _row("AVERAGE", average, "", "", "", str(normal_avg), str(average - normal_avg), str(last_avg)),
        "",
        "PRECIPITATION (IN)",
        _row("YESTERDAY" if final else "TODAY", "0.00", "", "", "", "0.11", "-0.11", "0.00"),
        "",
        "&&",
        "",
        "$$",
        "",
    ]
    return "\n".join(lines)


def _product_summary(base: str, report: CliReport) -> JSON:
    return {
        "@id": f"{base}/products/{report.product_id}",
        "id": report.product_id,
        "wmoCollectiveId": report.city.wmo_id,
        "issuingOffice": report.city.issuing_office,
        "issuanceTime": _iso(report.issued_ms),
        "productCode": "CLI",
        "productName": "Climatological Report (Daily)",
    }


def _product_body(base: str, report: CliReport) -> JSON:
    return {"@context": _LD_CONTEXT, **_product_summary(base, report), "productText": cli_product_text(report)}


def _remember(state: _State, reports: list[CliReport]) -> None:
    for report in reports:
        state.products[report.product_id] = (report.city, report.day, report.kind)


def _cli_city(request: web.Request) -> City | None:
    return _state(request).world.model.city_for_cli(request.match_info["loc"])


async def _cli_list(request: web.Request) -> web.StreamResponse:
    _check_query(request, ())
    state = _state(request)
    city = _cli_city(request)
    reports = [] if city is None else state.world.cli_reports(city.series)
    _remember(state, reports)
    base = _base(request, state)
    body = {"@context": _LD_CONTEXT, "@graph": [_product_summary(base, r) for r in reports]}
    return web.json_response(body, content_type=LD_JSON)


async def _cli_latest(request: web.Request) -> web.StreamResponse:
    _check_query(request, ())
    state = _state(request)
    city = _cli_city(request)
    reports = [] if city is None else state.world.cli_reports(city.series, days=2)
    if not reports:
        raise Problem(404, "Not Found", f"No CLI product for location {request.match_info['loc']}", "NotFound")
    _remember(state, reports)
    return web.json_response(_product_body(_base(request, state), reports[0]), content_type=LD_JSON)


async def _product(request: web.Request) -> web.StreamResponse:
    _check_query(request, ())
    state = _state(request)
    product_id = request.match_info["product_id"]
    if product_id not in state.products:
        for city in state.world.model.cities:
            _remember(state, state.world.cli_reports(city.series))
    found = state.products.get(product_id)
    now = state.world.now_ms()
    if found is not None:
        city, day, kind = found
        report = state.world.model.cli_report(city, day, kind)
        if report.issued_ms <= now:
            return web.json_response(_product_body(_base(request, state), report), content_type=LD_JSON)
    raise Problem(404, "Not Found", f"Product {product_id} not found", "NotFound")


async def _unknown(request: web.Request) -> web.StreamResponse:
    raise Problem(404, "Not Found", f"The requested resource {request.path} was not found", "NotFound")


# ------------------------------------------------------------------------------------------------
# Mounting

_STATE_KEY: Final = web.AppKey("nws_state", _State)


def _problem_response(request: web.Request, problem: Problem) -> web.Response:
    state = request.app[_STATE_KEY]
    correlation = f"{next(state.requests):08x}"
    body = {
        "correlationId": correlation,
        "title": problem.title,
        "type": f"https://api.weather.gov/problems/{problem.kind}",
        "status": problem.status,
        "detail": problem.detail,
        "instance": f"https://api.weather.gov/requests/{correlation}",
    }
    return web.json_response(body, status=problem.status, content_type=PROBLEM_JSON)


def _guard(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            if not request.headers.get("User-Agent", "").strip():
                raise Problem(403, "Forbidden", "A User-Agent header is required (api.weather.gov policy)", "Forbidden")
            return await handler(request)
        except Problem as problem:
            return _problem_response(request, problem)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("nws_request_failed", path=request.path)
            return _problem_response(
                request, Problem(500, "Unexpected Problem", "An unexpected problem has occurred.", "UnexpectedProblem")
            )

    return guarded


async def _world_date(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: ``Date`` from the world's clock on every NWS response (aiohttp
    has set the wall clock's by then; this replaces it)."""
    state = request.app[_STATE_KEY]
    if request.path == state.prefix or request.path.startswith(state.prefix + "/"):
        response.headers[hdrs.DATE] = formatdate(state.world.now_ms() // 1000, usegmt=True)


def add_nws_routes(app: web.Application, world: WeatherWorld, *, prefix: str = NWS_PREFIX) -> None:
    """Serve the NWS-compatible endpoints for ``world`` under ``prefix`` on ``app``."""
    if _STATE_KEY in app:
        raise RuntimeError("NWS routes are already mounted on this application")
    app[_STATE_KEY] = _State(world, prefix.rstrip("/"))
    app.on_response_prepare.append(_world_date)
    p = prefix.rstrip("/")
    grid = p + "/gridpoints/{wfo}/{x:-?\\d+},{y:-?\\d+}"
    routes: list[tuple[str, Handler]] = [
        (p + "/points/{lat:[^/,]+},{lon:[^/,]+}", _points),
        (grid, _gridpoint),
        (grid + "/forecast", _forecast),
        (grid + "/forecast/hourly", _forecast_hourly),
        (grid + "/stations", _grid_stations),
        (p + "/stations/{station}", _station),
        (p + "/stations/{station}/observations", _observations),
        (p + "/stations/{station}/observations/latest", _latest_observation),
        (p + "/products/types/CLI/locations/{loc}", _cli_list),
        (p + "/products/types/CLI/locations/{loc}/latest", _cli_latest),
        (p + "/products/{product_id}", _product),
        (p + "/{tail:.*}", _unknown),
    ]
    for path, handler in routes:
        app.router.add_get(path, _guard(handler), allow_head=False)


def mount_nws(exchange: EmbeddedExchange, world: WeatherWorld, *, prefix: str = NWS_PREFIX) -> None:
    """Register the NWS routes on ``exchange``'s server (call before ``exchange.start()``)."""
    exchange.extend_app(lambda app: add_nws_routes(app, world, prefix=prefix))


def nws_base_url(exchange: EmbeddedExchange, *, prefix: str = NWS_PREFIX) -> str:
    """The NWS base URL of a running exchange: ``http://HOST:PORT/nws``."""
    rest_url = exchange.endpoints.rest_url
    origin = rest_url[: rest_url.index("/", len("http://"))]
    return origin + prefix.rstrip("/")


__all__ = [
    "NWS_PREFIX",
    "add_nws_routes",
    "cli_product_text",
    "mount_nws",
    "nws_base_url",
]
