"""The simulated weather behind the embedded exchange's temperature markets (no exchange, no I/O).

Contract:
- Cities and series come from ``sim/world/cities.py`` (``City``, ``CITIES``, ``SERIES``).
- Climate day: midnight to midnight local STANDARD time all year (``day_start_ms``,
  ``climate_date``). All times are integer milliseconds of the exchange clock.
- ``WeatherModel(seed, cities, spread)`` is a pure function of the seed: every quantity for a
  (city, day) comes from its own ``random.Random`` stream named by seed, city key, date and
  purpose, so the order and number of calls never change a draw. ``cities`` may name a city by
  any of its series tickers (high or low).
  * ``truth(city, day)``: the hidden climate-day maximum, an integer °F = normal + spread ×
    (a moving average of daily innovations, so warm and cold spells last a few days);
    ``truth_low(city, day)``: the climate-day minimum — the lowest of the day's observations, so
    the final CLI reports exactly it (usually near dawn, at midnight when a front passes).
    ``truth_of(city, day, extreme)`` picks one.
  * Two forecasts of each, issued at every hourly cycle, lead measured to the day's nominal time
    of the extreme (15:00 LST for the high, 06:00 LST for the low): the public one (what the
    simulated NWS serves; ``forecast_high``, ``forecast_low``, ``forecast``) has error σ(lead) from
    the ``spread`` table (defaults from docs/weather-model.md: ~6.5 °F a week out, 4 at day 2, 3 at day 1,
    ~2.2 on the morning, 0.75 at the time of the extreme); the market's (``market_forecast``) is
    sharper, σ × ``calibration.market_sigma_ratio(lead)``, and the public forecast is the market's
    plus independent noise — so given the market's forecast the public one adds nothing, and each
    is calibrated on its own (``sigma``, ``market_sigma``). Errors are unit-variance AR(1) processes
    over the cycles, so successive forecasts drift smoothly and sharpen toward the truth.
  * ``observations(city, day)``: one routine observation an hour at the station's minute
    (KNYC :51, KMDW :53, KPHL :54 …), in tenths of °C as NWS reports them, following a diurnal
    curve (overnight low near 06:00 LST, peak in the afternoon) with small noise. Every value
    converted to °F is ≤ the day's truth, and the observation at the day's peak time converts to
    exactly the truth (after rounding to whole °F), so the day's observed maximum is the truth.
  * ``cli_report(city, day, kind)``: the Daily Climate Report data — the final one (issued in the
    early morning after the day, at the station's usual UTC time) carries the day's maximum and
    minimum from the observations (= the truths) and their LST times; the preliminary one (~16:30
    local) carries them as of 16:00 local time.
- Floats are used for temperatures in the continuous model only; settled values are integers.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from itertools import pairwise
from typing import Final, Literal
from zoneinfo import ZoneInfo

from kalshi_trader.sim.world.calibration_targets import market_sigma_ratio
from kalshi_trader.sim.world.cities import CITIES, DEFAULT_SERIES, SERIES, City, Extreme

MINUTE_MS: Final = 60_000
HOUR_MS: Final = 60 * MINUTE_MS
DAY_MS: Final = 24 * HOUR_MS
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()

FORECAST_REFERENCE_MINUTE: Final = 15 * 60
"""Lead times of the high are measured to 15:00 LST of the target day (about when it is reached)."""
LOW_REFERENCE_MINUTE: Final = 6 * 60
"""Lead times of the low are measured to 06:00 LST (about dawn, when it is usually reached)."""
FORECAST_HISTORY_DAYS: Final = 8
"""Forecast cycles for a day start this many days before it (earlier issues reuse the first)."""
FORECAST_AR: Final = 0.985
"""Hour-to-hour correlation of a day's standardized forecast error."""

DEFAULT_CITIES: Final = DEFAULT_SERIES
"""The cities of the default series."""

DEFAULT_SPREAD: Final[tuple[tuple[float, float], ...]] = (
    (0.0, 0.75),
    (3.0, 1.75),
    (6.0, 2.25),
    (24.0, 3.0),
    (48.0, 4.0),
    (72.0, 4.8),
    (120.0, 5.8),
    (168.0, 6.5),
)
"""σ (°F) of the forecast high by lead time (hours before 15:00 LST of the day), linear in
between, flat beyond the ends (docs/weather-model.md starting priors)."""


# ------------------------------------------------------------------------------------------------
# Time helpers (integer milliseconds, climate days in local standard time)


@cache
def std_offset_ms(tz: str) -> int:
    """The zone's standard (non-DST) UTC offset in milliseconds."""
    probe = datetime(2026, 1, 15, 12, tzinfo=ZoneInfo(tz))
    offset = (probe.utcoffset() or timedelta(0)) - (probe.dst() or timedelta(0))
    return int(offset.total_seconds()) * 1000


def day_start_ms(city: City, day: date) -> int:
    """00:00 LST of ``day`` at ``city``."""
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY_MS - std_offset_ms(city.tz)


def climate_date(city: City, ms: int) -> date:
    """The climate (LST) date containing ``ms``."""
    return date.fromordinal(_EPOCH_ORDINAL + (ms + std_offset_ms(city.tz)) // DAY_MS)


def lst_minute(city: City, ms: int) -> int:
    """Minutes after 00:00 LST of the climate day containing ``ms``."""
    return (ms + std_offset_ms(city.tz)) % DAY_MS // MINUTE_MS


def local_ms(tz: str, day: date, hour: int, minute: int = 0) -> int:
    """``day hour:minute`` on the zone's civil (DST-aware) clock, as epoch milliseconds."""
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz)).timestamp()) * 1000


def utc_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms // 1000, tz=UTC)


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def tenths_c_to_f(tenths_c: int) -> int:
    """Tenths of °C to whole °F, rounding halves up (exact integer arithmetic)."""
    return (1600 + 9 * tenths_c + 25) // 50


def f_to_tenths_c_floor(f: float) -> int:
    """°F to tenths of °C rounded down, so converting back never exceeds ``f``."""
    return math.floor((f - 32.0) * 50.0 / 9.0)


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


# ------------------------------------------------------------------------------------------------
# Model data


@dataclass(frozen=True, slots=True)
class Observation:
    """One routine station observation (what /stations/{id}/observations serves)."""

    station: str
    ts_ms: int
    temperature_dc: int
    """Temperature in tenths of °C (the METAR T-group)."""
    dewpoint_dc: int
    wind_direction_deg: int
    wind_speed_kt: int
    sky: str
    """METAR sky group ("CLR", "FEW045", "BKN250")."""
    description: str
    sea_level_pressure_dpa: int
    """Sea-level pressure in tenths of hPa."""

    @property
    def temperature_f(self) -> int:
        return tenths_c_to_f(self.temperature_dc)


@dataclass(frozen=True, slots=True)
class CliReport:
    """The data of one Daily Climate Report (CLI) product."""

    city: City
    day: date
    kind: Literal["final", "preliminary"]
    product_id: str
    issued_ms: int
    max_f: int
    max_minute: int
    """LST minutes after midnight at which the maximum was observed."""
    min_f: int
    min_minute: int
    normal_high: int
    normal_low: int
    record_high: int
    record_high_year: int
    record_low: int
    record_low_year: int
    last_year_high: int
    last_year_low: int

    @property
    def is_record_high(self) -> bool:
        return self.max_f >= self.record_high


@dataclass(frozen=True, slots=True)
class _SoFar:
    """A day's observation times with the running maximum and minimum (°F) up to each."""

    times: list[int]
    highest: list[int]
    lowest: list[int]


@dataclass(frozen=True, slots=True)
class _Day:
    truth: int
    low: float
    peak_minute: int
    sky: int


# ------------------------------------------------------------------------------------------------


_SKY = (("CLR", "Clear"), ("FEW050", "Mostly Clear"), ("SCT045", "Partly Cloudy"), ("BKN035", "Mostly Cloudy"))
_ANOMALY_WEIGHTS = (1.0, 0.7, 0.4, 0.2)
_ANOMALY_NORM = math.sqrt(sum(w * w for w in _ANOMALY_WEIGHTS))


def _monthly(values: tuple[int, ...], day: date) -> float:
    """Linear interpolation between mid-month values (the 15th)."""
    month = day.month - 1
    if day.day >= 15:
        a, b = month, (month + 1) % 12
        start = date(day.year, day.month, 15)
        end = date(day.year + (day.month == 12), (day.month % 12) + 1, 15)
    else:
        a, b = (month - 1) % 12, month
        end = date(day.year, day.month, 15)
        start = date(day.year - (day.month == 1), ((day.month - 2) % 12) + 1, 15)
    frac = (day - start).days / (end - start).days
    return values[a] + (values[b] - values[a]) * frac


def _cosine(a: float, b: float, frac: float) -> float:
    return a + (b - a) * (1.0 - math.cos(math.pi * frac)) / 2.0


def _curve(points: Sequence[tuple[int, float]], minute: float) -> float:
    """Monotone (cosine) interpolation through (minute, value) keypoints sorted by minute."""
    for (m0, v0), (m1, v1) in pairwise(points):
        if m0 <= minute <= m1:
            return v0 if m1 == m0 else _cosine(v0, v1, (minute - m0) / (m1 - m0))
    return points[-1][1] if minute > points[-1][0] else points[0][1]


class WeatherModel:
    """Hidden truth, forecasts, observations and climate reports (see the module docstring)."""

    def __init__(
        self,
        seed: int,
        cities: Iterable[str | City] = DEFAULT_CITIES,
        spread: Sequence[tuple[float, float]] = DEFAULT_SPREAD,
    ) -> None:
        self.seed = seed
        chosen: dict[str, City] = {}
        for c in cities:
            city = SERIES[c].city if isinstance(c, str) else c
            chosen.setdefault(city.key, city)
        if not chosen:
            raise ValueError("cities must be a non-empty list of cities or their series")
        self.cities: tuple[City, ...] = tuple(chosen.values())
        table = sorted((float(lead), float(sigma)) for lead, sigma in spread)
        if not table or any(sigma <= 0 for _, sigma in table) or len({lead for lead, _ in table}) != len(table):
            raise ValueError("spread must be a non-empty table of (distinct lead hours, sigma > 0)")
        self.spread: tuple[tuple[float, float], ...] = tuple(table)
        self._by_series = {c.series: c for c in self.cities}
        self._by_station = {c.station: c for c in self.cities}
        self._by_cli = {c.cli_location: c for c in self.cities}
        self._by_grid = {(c.wfo, c.grid_x, c.grid_y): c for c in self.cities}
        self._innovations: dict[tuple[str, date], float] = {}
        self._days: dict[tuple[str, date], _Day] = {}
        self._errors: dict[tuple[str, date, str], list[float]] = {}
        self._obs: dict[tuple[str, date], list[Observation]] = {}
        self._so_far: dict[tuple[str, date], _SoFar] = {}

    # -- lookups -------------------------------------------------------------------------------

    def city(self, series: str) -> City:
        return self._by_series[series]

    def city_for_station(self, station: str) -> City | None:
        return self._by_station.get(station.upper())

    def city_for_cli(self, location: str) -> City | None:
        return self._by_cli.get(location.upper())

    def city_for_grid(self, wfo: str, x: int, y: int) -> City | None:
        return self._by_grid.get((wfo.upper(), x, y))

    def city_near(self, lat: float, lon: float, within_deg: float = 0.25) -> City | None:
        best = min(self.cities, key=lambda c: (c.lat - lat) ** 2 + (c.lon - lon) ** 2)
        return best if abs(best.lat - lat) <= within_deg and abs(best.lon - lon) <= within_deg else None

    # -- randomness ----------------------------------------------------------------------------

    def rng(self, city: City, day: date, purpose: str) -> random.Random:
        """The stream for one (city, day, purpose): independent of every other call."""
        return random.Random(f"{self.seed}:{city.series}:{day.isoformat()}:{purpose}")

    def stable_uuid(self, name: str) -> str:
        return str(uuid.UUID(int=random.Random(f"{self.seed}:uuid:{name}").getrandbits(128), version=4))

    # -- climatology and truth ------------------------------------------------------------------

    def normal_high(self, city: City, day: date) -> float:
        return _monthly(city.normal_highs, day)

    def high_spread(self, city: City, day: date) -> float:
        return _monthly(city.high_spreads, day)

    def _innovation(self, city: City, day: date) -> float:
        key = (city.series, day)
        value = self._innovations.get(key)
        if value is None:
            value = self._innovations[key] = self.rng(city, day, "anomaly").gauss(0.0, 1.0)
        return value

    def _day(self, city: City, day: date) -> _Day:
        key = (city.series, day)
        found = self._days.get(key)
        if found is not None:
            return found
        anomaly = sum(w * self._innovation(city, day - timedelta(days=k)) for k, w in enumerate(_ANOMALY_WEIGHTS))
        anomaly /= _ANOMALY_NORM
        truth = max(-30, min(125, round_half_up(self.normal_high(city, day) + self.high_spread(city, day) * anomaly)))
        rng = self.rng(city, day, "shape")
        day_range = max(6.0, city.diurnal_range + rng.uniform(-5.0, 5.0))
        peak_hour = rng.randint(*city.peak_hours)
        made = _Day(truth, truth - day_range, peak_hour * 60 + city.obs_minute, rng.randrange(len(_SKY)))
        self._days[key] = made
        return made

    def truth(self, city: City, day: date) -> int:
        """The hidden climate-day maximum (integer °F) — what the final CLI reports."""
        return self._day(city, day).truth

    def truth_low(self, city: City, day: date) -> int:
        """The climate-day minimum (integer °F): the lowest observation of the day, which the final
        CLI reports."""
        return self._running(city, day).lowest[-1]

    def _running(self, city: City, day: date) -> _SoFar:
        key = (city.key, day)
        found = self._so_far.get(key)
        if found is None:
            obs = self.observations(city, day)
            temps = [o.temperature_f for o in obs]
            found = self._so_far[key] = _SoFar(
                [o.ts_ms for o in obs], list(itertools.accumulate(temps, max)), list(itertools.accumulate(temps, min))
            )
        return found

    def truth_of(self, city: City, day: date, extreme: Extreme) -> int:
        return self.truth(city, day) if extreme == "high" else self.truth_low(city, day)

    # -- forecasts -----------------------------------------------------------------------------

    def sigma(self, lead_hours: float) -> float:
        """Forecast σ (°F) at ``lead_hours`` before the reference time (the spread table)."""
        table = self.spread
        if lead_hours <= table[0][0]:
            return table[0][1]
        for (l0, s0), (l1, s1) in pairwise(table):
            if lead_hours <= l1:
                return s0 + (s1 - s0) * (lead_hours - l0) / (l1 - l0)
        return table[-1][1]

    def market_sigma(self, lead_hours: float) -> float:
        """σ (°F) of the market's sharper forecast at ``lead_hours``."""
        return self.sigma(lead_hours) * market_sigma_ratio(lead_hours)

    def reference_ms(self, city: City, day: date, extreme: Extreme = "high") -> int:
        minute = FORECAST_REFERENCE_MINUTE if extreme == "high" else LOW_REFERENCE_MINUTE
        return day_start_ms(city, day) + minute * MINUTE_MS

    @staticmethod
    def cycle_ms(at_ms: int) -> int:
        """The hourly forecast cycle in force at ``at_ms``."""
        return at_ms - at_ms % HOUR_MS

    def lead_hours(self, city: City, day: date, at_ms: int, extreme: Extreme = "high") -> float:
        """Hours from the cycle in force at ``at_ms`` to the day's reference time of ``extreme`` (≥ 0)."""
        return max(0.0, (self.reference_ms(city, day, extreme) - self.cycle_ms(at_ms)) / HOUR_MS)

    def _standard_errors(self, city: City, day: date, stream: str) -> list[float]:
        key = (city.key, day, stream)
        found = self._errors.get(key)
        if found is not None:
            return found
        rng = self.rng(city, day, stream)
        count = (FORECAST_HISTORY_DAYS + 1) * 24
        keep = math.sqrt(1.0 - FORECAST_AR * FORECAST_AR)
        z = rng.gauss(0.0, 1.0)
        series = [z]
        for _ in range(count - 1):
            z = FORECAST_AR * z + keep * rng.gauss(0.0, 1.0)
            series.append(z)
        self._errors[key] = series
        return series

    def _errors_at(self, city: City, day: date, at_ms: int, extreme: Extreme) -> tuple[float, float, float]:
        """(public σ, market forecast error, public forecast error) at the cycle in force at
        ``at_ms``: the market's error is σ·r·z_market, the public one adds σ·√(1 − r²)·z_public."""
        first = day_start_ms(city, day) - FORECAST_HISTORY_DAYS * DAY_MS
        name = "forecast" if extreme == "high" else "forecast-low"
        market = self._standard_errors(city, day, name)
        public = self._standard_errors(city, day, name + "-public")
        index = max(0, min(len(market) - 1, (self.cycle_ms(at_ms) - first) // HOUR_MS))
        lead = self.lead_hours(city, day, at_ms, extreme)
        sigma, ratio = self.sigma(lead), market_sigma_ratio(lead)
        market_error = sigma * ratio * market[index]
        return sigma, market_error, market_error + sigma * math.sqrt(1.0 - ratio * ratio) * public[index]

    def forecast(self, city: City, day: date, at_ms: int, extreme: Extreme) -> float:
        """The public (NWS) continuous forecast (°F) of ``day``'s maximum or minimum as issued by the
        cycle in force at ``at_ms``: the truth plus an error of σ(lead)."""
        return self.truth_of(city, day, extreme) + self._errors_at(city, day, at_ms, extreme)[2]

    def market_forecast(self, city: City, day: date, at_ms: int, extreme: Extreme) -> float:
        """The market's sharper forecast of the same (error σ(lead) × market ratio); the public
        forecast is this plus independent noise."""
        return self.truth_of(city, day, extreme) + self._errors_at(city, day, at_ms, extreme)[1]

    def forecast_high(self, city: City, day: date, at_ms: int) -> float:
        """The public continuous forecast high (°F) for ``day`` as issued at ``at_ms``."""
        return self.forecast(city, day, at_ms, "high")

    def forecast_low(self, city: City, day: date, at_ms: int) -> float:
        """The public continuous forecast low (°F) for ``day`` as issued at ``at_ms``."""
        return self.forecast(city, day, at_ms, "low")

    def forecast_for_lead(self, city: City, day: date, lead_hours: int, extreme: Extreme = "high") -> float:
        """The public forecast issued ``lead_hours`` (whole hours) before the day's reference time."""
        return self.forecast(city, day, self.reference_ms(city, day, extreme) - lead_hours * HOUR_MS, extreme)

    def forecast_temperature(self, city: City, at_ms: int, valid_ms: int) -> float:
        """The public forecast temperature (°F) at ``valid_ms`` as issued at ``at_ms`` (diurnal
        curve through the forecast lows near dawn and highs in the afternoon, the city's usual peak
        time)."""
        day = climate_date(city, valid_ms)
        minute = lst_minute(city, valid_ms)
        tomorrow = day + timedelta(days=1)

        def high(d: date) -> float:
            return self.forecast_high(city, d, at_ms)

        def low(d: date) -> float:
            return min(self.forecast_low(city, d, at_ms), high(d) - 2.0)

        peak = (city.peak_hours[0] + city.peak_hours[1]) * 30
        points = self._keypoints(
            high(day - timedelta(days=1)), high(day), high(tomorrow), low(day), low(tomorrow), peak
        )
        return _curve(points, minute)

    # -- observations --------------------------------------------------------------------------

    @staticmethod
    def _midnight(high_before: float, high_after: float, low_after: float) -> float:
        value = low_after + 0.4 * (high_before - low_after)
        return min(value, min(high_before, high_after) - 2.0)

    def _keypoints(
        self, prev_high: float, high: float, next_high: float, low: float, next_low: float, peak_minute: int
    ) -> list[tuple[int, float]]:
        prev_low = low  # only the shape of the night matters before sunrise
        start = self._midnight(prev_high, high, prev_low)
        end = self._midnight(high, next_high, next_low)
        return [(0, start), (360, low), (peak_minute, high), (1440, end)]

    def observations(self, city: City, day: date) -> list[Observation]:
        """The day's 24 routine observations (LST day), oldest first."""
        key = (city.series, day)
        found = self._obs.get(key)
        if found is not None:
            return found
        today = self._day(city, day)
        before, after = self._day(city, day - timedelta(days=1)), self._day(city, day + timedelta(days=1))
        points = self._keypoints(
            float(before.truth), float(today.truth), float(after.truth), today.low, after.low, today.peak_minute
        )
        peak_dc = (today.truth - 32) * 50 // 9
        start = day_start_ms(city, day)
        rng = self.rng(city, day, "observations")
        sky, description = _SKY[today.sky]
        high_minus_low = max(1.0, today.truth - today.low)
        made = []
        for hour in range(24):
            minute = hour * 60 + city.obs_minute
            noise = rng.gauss(0.0, 0.6)
            if minute == today.peak_minute:
                temp_dc = peak_dc
            else:
                value = min(float(today.truth), _curve(points, minute) + noise)
                temp_dc = min(peak_dc, f_to_tenths_c_floor(value))
            warmth = max(0.0, min(1.0, (tenths_c_to_f(temp_dc) - today.low) / high_minus_low))
            depression_f = max(1.0, city.dewpoint_depression * (0.6 + 0.7 * warmth) + rng.gauss(0.0, 2.0))
            made.append(
                Observation(
                    station=city.station,
                    ts_ms=start + minute * MINUTE_MS,
                    temperature_dc=temp_dc,
                    dewpoint_dc=temp_dc - round_half_up(depression_f * 50.0 / 9.0),
                    wind_direction_deg=10 * rng.randint(1, 36),
                    wind_speed_kt=rng.randint(0, 16),
                    sky=sky,
                    description=description,
                    sea_level_pressure_dpa=10_150 + round_half_up(rng.gauss(0.0, 50.0)),
                )
            )
        self._obs[key] = made
        return made

    def observations_between(self, city: City, start_ms: int, end_ms: int) -> list[Observation]:
        """Observations with ``start_ms <= ts <= end_ms``, oldest first."""
        if end_ms < start_ms:
            return []
        first, last = climate_date(city, start_ms), climate_date(city, end_ms)
        found: list[Observation] = []
        day = first
        while day <= last:
            found.extend(o for o in self.observations(city, day) if start_ms <= o.ts_ms <= end_ms)
            day += timedelta(days=1)
        return found

    def observed_max(self, city: City, day: date, until_ms: int) -> int | None:
        """Highest whole-°F observation of the climate day up to ``until_ms`` (None if none yet)."""
        return self.observed(city, day, until_ms, "high")

    def observed(self, city: City, day: date, until_ms: int, extreme: Extreme) -> int | None:
        """Highest (lowest) whole-°F observation of the climate day up to ``until_ms`` (None if none yet)."""
        running = self._running(city, day)
        count = bisect.bisect_right(running.times, until_ms)
        if not count:
            return None
        return (running.highest if extreme == "high" else running.lowest)[count - 1]

    # -- climate reports -----------------------------------------------------------------------

    def cli_issue_ms(self, city: City, day: date, kind: Literal["final", "preliminary"]) -> int:
        rng = self.rng(city, day, f"cli-{kind}")
        if kind == "preliminary":
            return local_ms(city.tz, day, 16, 30) + rng.randint(0, 25) * MINUTE_MS
        hour, minute = city.final_cli_utc
        nominal = (day.toordinal() + 1 - _EPOCH_ORDINAL) * DAY_MS + (hour * 60 + minute) * MINUTE_MS
        earliest = day_start_ms(city, day) + DAY_MS + 20 * MINUTE_MS
        return max(earliest, nominal + rng.randint(-10, 25) * MINUTE_MS)

    def cli_report(self, city: City, day: date, kind: Literal["final", "preliminary"] = "final") -> CliReport:
        """The CLI data for ``day`` (final: the whole climate day; preliminary: as of 16:00 LST)."""
        obs = self.observations(city, day)
        if kind == "preliminary":
            cutoff = local_ms(city.tz, day, 16)  # "VALID TODAY AS OF 0400 PM LOCAL TIME"
            obs = [o for o in obs if o.ts_ms <= cutoff]
        start = day_start_ms(city, day)
        highest = max(obs, key=lambda o: (o.temperature_f, -o.ts_ms))
        lowest = min(obs, key=lambda o: (o.temperature_f, o.ts_ms))
        normal = round_half_up(self.normal_high(city, day))
        rng = self.rng(city, day, "records")
        spread = self.high_spread(city, day)
        record_high = normal + round_half_up(2.8 * spread) + rng.randint(0, 4)
        record_low = normal - city.diurnal_range - round_half_up(2.8 * spread) - rng.randint(0, 4)
        try:
            last_year = day.replace(year=day.year - 1)
        except ValueError:  # 29 Feb
            last_year = day.replace(year=day.year - 1, day=28)
        last_obs = self.observations(city, last_year)
        return CliReport(
            city=city,
            day=day,
            kind=kind,
            product_id=self.stable_uuid(f"cli:{city.series}:{day.isoformat()}:{kind}"),
            issued_ms=self.cli_issue_ms(city, day, kind),
            max_f=highest.temperature_f,
            max_minute=(highest.ts_ms - start) // MINUTE_MS,
            min_f=lowest.temperature_f,
            min_minute=(lowest.ts_ms - start) // MINUTE_MS,
            normal_high=normal,
            normal_low=normal - city.diurnal_range,
            record_high=record_high,
            record_high_year=rng.randint(1872, 2024),
            record_low=record_low,
            record_low_year=rng.randint(1872, 2024),
            last_year_high=max(o.temperature_f for o in last_obs),
            last_year_low=min(o.temperature_f for o in last_obs),
        )

    def cli_reports_issued(self, city: City, now_ms: int, days: int = 14) -> list[CliReport]:
        """Every CLI issued by ``now_ms`` for the last ``days`` climate days, newest first."""
        today = climate_date(city, now_ms)
        reports = []
        kinds: tuple[Literal["final", "preliminary"], ...] = ("final", "preliminary")
        for back in range(days + 1):
            day = today - timedelta(days=back)
            for kind in kinds:
                if self.cli_issue_ms(city, day, kind) <= now_ms:
                    reports.append(self.cli_report(city, day, kind))
        reports.sort(key=lambda r: r.issued_ms, reverse=True)
        return reports


__all__ = [
    "CITIES",
    "DAY_MS",
    "DEFAULT_SPREAD",
    "HOUR_MS",
    "MINUTE_MS",
    "City",
    "CliReport",
    "Observation",
    "WeatherModel",
    "climate_date",
    "day_start_ms",
    "local_ms",
    "lst_minute",
    "normal_cdf",
    "round_half_up",
    "std_offset_ms",
    "tenths_c_to_f",
]
