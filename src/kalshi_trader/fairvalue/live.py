"""Price one daily temperature event (a high or a low) from live NWS data: fetch → model inputs →
bracket probabilities.

Contract:
- ``event_fair_values(client, station, day, brackets, now=...)`` fetches, for the station's grid
  cell, the raw gridpoint, the hourly forecast and (as a fallback) the 12-hour forecast; once the
  climate day has begun, the station's observations so far; from 16:00 LST (after the ~4:30 PM
  preliminary CLI) the newest CLI covering the day. ``day_model`` (pure) turns those into the
  model's plain inputs for the extreme the station's series settles on (``station.extreme``: the
  day's maximum or minimum — ``nws.forecast_extreme_f``, the observed extreme so far,
  ``weather.lead_hours_until_extreme``, the remaining hours' forecast extreme after its nominal
  time) and the ``weather`` distribution; ``event_fair_values`` returns it plus one probability
  per bracket (coldest first, summing to 1 when brackets are given).
- Once the day is under way the forecasts may cover only its remaining hours (the hourly forecast
  starts at the current hour; after ~6 PM the 12-hour forecast starts with "Tonight"), or none of
  it (only night hours left, or the day over). The observed maximum so far is then the floor
  (a point mass; for a low the observed minimum is the ceiling) and the remaining hours'
  forecast extreme, if any hour is left, the chance of passing it; with no forecast left the
  observed extreme stands in for the forecast, and once the day is over it is the answer.
- A forecast covering the day is required only until something has been observed: with neither,
  it raises ``NoForecastError`` (an ``NwsDataError``; or the first forecast fetch error when
  there was one). Observations and the CLI are otherwise optional: their failures, like stale
  data, become ``warnings`` and the price is made without them.
- The only I/O is through the given ``NwsClient``; ``now`` is explicit so a simulated clock can
  drive it.
- ``day_model`` reads a day's forecast extreme once per set of forecast answers (by identity: the
  client hands out the same answers while they stand; they are immutable).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from kalshi_trader.domain import format_price
from kalshi_trader.fairvalue.climate_report import CliReport
from kalshi_trader.fairvalue.nws import (
    Forecast,
    ForecastExtreme,
    GridData,
    NwsClient,
    NwsDataError,
    NwsError,
    forecast_extreme_f,
    observed_extreme_f,
    remaining_extreme_f,
)
from kalshi_trader.fairvalue.stations import Station
from kalshi_trader.fairvalue.weather import (
    HOURLY_PEAK_BIAS_F,
    Bracket,
    BracketProbability,
    Extreme,
    ModelParams,
    TempDistribution,
    bracket_probabilities,
    climate_day_bounds,
    extreme_hour_lst,
    lead_hours_until_extreme,
    temp_distribution,
)

_F = TypeVar("_F", GridData, Forecast)

CLI_FROM_HOUR_LST = 16
"""Look for a CLI covering the day from this hour on (the preliminary one is issued ~4:30 PM)."""


NO_HOURS_LEFT_MARGIN_F = 10.0
"""Once the climate day is over, the remaining maximum is put this far below the observed maximum
(a low's remaining minimum this far above the observed minimum): the floor (ceiling) then holds
all but ~1e-6 of the probability (the observed extreme is the answer)."""


REMAINING_CORRECTION_F: dict[Extreme, float] = {"high": HOURLY_PEAK_BIAS_F, "low": 0.0}
"""Added to the remaining hours' hourly forecast extreme. A high's afternoon peak falls between
the hourly values, which under-state it; a low's remaining minimum, after the dawn trough, is
the evening's decline to the day's end, where the hourly values have it: taken as forecast (a
correction there makes the model expect the evening to undercut the observed minimum too
often; bench/RESULTS.md)."""


class NoForecastError(NwsDataError):
    """No forecast covers the climate day and nothing has been observed of it: nothing to price."""


@dataclass(frozen=True, slots=True)
class DayModel:
    """The model's inputs for one climate day at ``now`` and the distribution they give."""

    forecast: ForecastExtreme | None
    """The day's forecast maximum (minimum for a low); None once no forecast reaches into the day
    (priced from the observed extreme)."""
    lead_hours: float
    """Hours to the nominal time of the extreme (15:00 LST for a high, 06:00 LST for a low)."""
    observed_f: int | None
    """The maximum (minimum) observed so far."""
    remaining_f: float | None
    distribution: TempDistribution
    notes: tuple[str, ...]
    """Why the price rests on less than usual (for the caller's warnings)."""


def day_model(
    station: Station,
    day: date,
    now: datetime,
    *,
    grid: GridData | None = None,
    hourly: Forecast | None = None,
    daily: Forecast | None = None,
    observed_f: int | None = None,
    params: ModelParams | None = None,
) -> DayModel:
    """The distribution of ``station``'s climate-day ``day`` maximum (minimum for a low series) at
    ``now`` from NWS values (pure; see the module contract). ``observed_f`` is the extreme observed
    so far in the day (observations and CLI), None when nothing is known. Raises
    ``NoForecastError`` when no forecast covers the day and nothing has been observed."""
    extreme = station.extreme
    sign = 1.0 if extreme == "high" else -1.0  # a low's corrections point the other way
    day_start, day_end = climate_day_bounds(day, station.time_zone)
    forecast = _forecast_extreme(extreme, day_start, day_end, grid, hourly, daily)
    if forecast is None and observed_f is None:
        seen = "" if now <= day_start else " and nothing has been observed of it"
        raise NoForecastError(f"no NWS forecast covers the climate day {day} at {station.icao}{seen}")
    lead = lead_hours_until_extreme(now, day, station.time_zone, extreme)
    notes: list[str] = []
    remaining: float | None = None
    if now >= day_end:
        if observed_f is not None:  # no hours left: the observed extreme is the answer
            remaining = float(observed_f) - sign * NO_HOURS_LEFT_MARGIN_F
    elif lead < 0 or forecast is None:
        rest = remaining_extreme_f(extreme, hourly, now, day_end, grid=grid)
        remaining = rest + REMAINING_CORRECTION_F[extreme] if rest is not None else None
        if forecast is None and remaining is None:
            notes.append(
                f"no NWS forecast covers the rest of the climate day {day}: "
                f"priced from the observed {_WORDS[extreme][1]} ({observed_f} °F) alone"
            )
    model = params if params is not None else _station_params(station.sigma_scale)
    dist = temp_distribution(
        extreme, None if forecast is None else forecast.value_f, lead, observed_f, remaining_f=remaining, params=model
    )
    return DayModel(forecast, lead, observed_f, remaining, dist, tuple(notes))


_ForecastKey = tuple[int, int, int, Extreme, datetime, datetime]
_ForecastHit = tuple[GridData | None, Forecast | None, Forecast | None, ForecastExtreme | None]
_FORECAST_EXTREMES: dict[_ForecastKey, _ForecastHit] = {}
_FORECAST_EXTREMES_MAX = 512
"""``_forecast_extreme``'s answers by the identity of the forecasts they were read from (each kept
with its answer, so an identity is never reused while its entry stands) and the day; emptied when
full."""


def _forecast_extreme(
    extreme: Extreme,
    day_start: datetime,
    day_end: datetime,
    grid: GridData | None,
    hourly: Forecast | None,
    daily: Forecast | None,
) -> ForecastExtreme | None:
    """``forecast_extreme_f`` of these (immutable) forecasts over the day, worked out once while the
    NWS client hands out the same answers."""
    key = (id(grid), id(hourly), id(daily), extreme, day_start, day_end)
    hit = _FORECAST_EXTREMES.get(key)
    if hit is not None and hit[0] is grid and hit[1] is hourly and hit[2] is daily:
        return hit[3]
    value = forecast_extreme_f(
        extreme, day_start, day_end, grid=grid, hourly=hourly, daily=daily, hourly_bias_f=HOURLY_PEAK_BIAS_F
    )
    if len(_FORECAST_EXTREMES) >= _FORECAST_EXTREMES_MAX:
        _FORECAST_EXTREMES.clear()
    _FORECAST_EXTREMES[key] = (grid, hourly, daily, value)
    return value


@functools.lru_cache(maxsize=64)
def _station_params(sigma_scale: float) -> ModelParams:
    """The model's defaults with a station's spread."""
    return ModelParams(sigma_scale=sigma_scale)


_WORDS = {"high": ("high", "maximum", "peak"), "low": ("low", "minimum", "trough")}
"""(forecast …, observed …, nominal time) words per extreme, for messages."""


@dataclass(frozen=True, slots=True)
class EventFairValue:
    station: Station
    day: date
    now: datetime
    forecast: ForecastExtreme | None
    """None once no forecast reaches into the day (the observed extreme stands in for it)."""
    lead_hours: float
    observed_f: int | None
    remaining_f: float | None
    cli: CliReport | None
    distribution: TempDistribution
    brackets: tuple[BracketProbability, ...]
    warnings: tuple[str, ...]


async def event_fair_values(
    client: NwsClient,
    station: Station,
    day: date,
    brackets: Sequence[Bracket] = (),
    *,
    now: datetime,
    params: ModelParams | None = None,
) -> EventFairValue:
    """Fair values for ``station``'s climate day ``day`` at ``now`` (see the module contract)."""
    day_start, day_end = climate_day_bounds(day, station.time_zone)
    warnings: list[str] = []
    point = await client.point(station.latitude, station.longitude)
    at_hand = client.forecasts_at_hand(point)  # cached: no tasks to gather
    grid_r, hourly_r, daily_r = at_hand or await asyncio.gather(
        client.gridpoint(point), client.hourly_forecast(point), client.forecast(point), return_exceptions=True
    )
    errors: list[NwsError] = []
    grid = _usable(grid_r, "gridpoint", errors, warnings)
    hourly = _usable(hourly_r, "hourly forecast", errors, warnings)
    daily = _usable(daily_r, "forecast", errors, warnings)

    observed: int | None = None
    obs_error: NwsError | None = None
    cli: CliReport | None = None
    if now > day_start:
        try:
            # no end while the day runs: one cache entry serves the day (the server stops at its now)
            obs = await client.observations(
                station.icao, day_start, day_end if now >= day_end else None, stamped=False
            )  # only the newest one's staleness is read
            observed = observed_extreme_f(station.extreme, obs, day_start, day_end)
            stale = client.observation_staleness(obs[0]) if obs and now < day_end else None
            if stale is not None:
                warnings.append(f"observations stale: {stale}")
        except NwsError as exc:
            obs_error = exc
            warnings.append(f"observations: {exc}")
        if now >= day_start + timedelta(hours=CLI_FROM_HOUR_LST):
            try:
                cli = await client.latest_cli(station.cli_location, day, site=station.cli_site)
            except NwsError as exc:
                warnings.append(f"CLI: {exc}")
            reported = None if cli is None else cli.value_f(station.extreme)
            if reported is not None:
                pick = max if station.extreme == "high" else min
                observed = reported if observed is None else pick(observed, reported)

    try:
        model = day_model(station, day, now, grid=grid, hourly=hourly, daily=daily, observed_f=observed, params=params)
    except NoForecastError as exc:
        if errors:
            raise errors[0] from None
        if obs_error is not None:
            raise NoForecastError(f"{exc} (observations: {obs_error})") from obs_error
        raise
    warnings += model.notes
    priced = tuple(bracket_probabilities(model.distribution, brackets)) if brackets else ()
    return EventFairValue(
        station=station,
        day=day,
        now=now,
        forecast=model.forecast,
        lead_hours=model.lead_hours,
        observed_f=observed,
        remaining_f=model.remaining_f,
        cli=cli,
        distribution=model.distribution,
        brackets=priced,
        warnings=tuple(warnings),
    )


def _usable(result: _F | BaseException, what: str, errors: list[NwsError], warnings: list[str]) -> _F | None:
    """A fetched forecast/grid, or None (its NWS error recorded); stale data is noted, not dropped."""
    if isinstance(result, BaseException):
        if not isinstance(result, NwsError):
            raise result
        errors.append(result)
        warnings.append(f"{what}: {result}")
        return None
    if result.stale_reason is not None:
        warnings.append(f"{what} stale: {result.stale_reason}")
    return result


def format_event(fv: EventFairValue, event_ticker: str = "") -> list[str]:
    """Plain-text lines for the CLI: inputs, then one row per bracket (or per degree when no
    brackets were given), then warnings."""
    st, dist = fv.station, fv.distribution
    high_low, maximum, peak = _WORDS[st.extreme]
    hour = extreme_hour_lst(st.extreme)
    shape = "normal" if dist.dof == float("inf") else f"Student-t ν={dist.dof:g}"
    observed = "none yet" if fv.observed_f is None else f"{fv.observed_f} °F"
    over = fv.lead_hours <= hour - 24.0  # the climate day has ended
    if fv.forecast is not None:
        forecast = f"forecast {high_low} {fv.forecast.value_f:.1f} °F ({', '.join(fv.forecast.sources)})"
    else:
        forecast = "day over, no forecast left" if over else "no forecast covers the rest of the day"
    if fv.remaining_f is not None and not over:
        forecast += f", remaining hours {fv.remaining_f:.1f} °F"
    lines = [
        f"{event_ticker or st.series}  {st.name} ({st.icao})  climate day {fv.day.isoformat()} (LST)",
        f"{forecast}; {fv.lead_hours:+.1f} h to the {hour:02.0f}:00 LST {peak}; "
        f"observed {maximum[:3]} so far {observed}",
        f"model: {shape}, centre {dist.center_f:.1f} °F, σ {dist.sigma_f:.2f} °F",
    ]
    if fv.cli is not None:
        kind = "preliminary" if fv.cli.preliminary else "final"
        lines.append(f"CLI ({kind}) for {fv.cli.summary_date}: {maximum} {fv.cli.value_f(st.extreme)} °F")
    if fv.brackets:
        lines.append(f"{'market':<28} {'bracket':>8} {'P(yes)':>8} {'fair':>7}")
        lines += [
            f"{bp.bracket.ticker:<28} {bp.bracket.label:>8} {bp.probability:8.4f} {format_price(bp.fair):>7}"
            for bp in fv.brackets
        ]
    else:
        lo, hi = dist.support(0.99)
        lines.append(f"{'°F':>5} {'P(T=k)':>8}")
        lines += [f"{k:>5} {dist.pmf(k):8.4f}" for k in range(lo, hi + 1)]
    lines += [f"warning: {w}" for w in fv.warnings]
    return lines
