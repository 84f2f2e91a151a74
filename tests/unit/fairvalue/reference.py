"""Reference implementations for differential tests: fair-value code as first written.

The Student-t CDF through the regularized incomplete beta function (a continued fraction,
``weather.regularized_beta``, still the general path) for every ν; a partition's probabilities one
``cdf`` call per edge; the market blend of an event with the weight looked up per bracket; an
event's fair values from a moved copy of the distribution (±1 °F); a forecast read period by period
and scanned whole for a window's hours. ``test_fast_paths.py`` checks
that the faster versions give the same values. It repeats the code it checks on purpose: it is
that code as it was."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from kalshi_trader.fairvalue.blend import MarketBlend
from kalshi_trader.fairvalue.nws import (
    JSON,
    Forecast,
    ForecastPeriod,
    NwsDataError,
    _opt_time,
    _props,
    _read_forecast_period,
    forecast_staleness,
)
from kalshi_trader.fairvalue.weather import (
    Bracket,
    Extreme,
    TempDistribution,
    check_partition,
    fair_price,
    regularized_beta,
)
from kalshi_trader.strategy.base import FairValue


def student_t_cdf(t: float, dof: float) -> float:
    if math.isinf(dof):
        return 0.5 * math.erfc(-t / math.sqrt(2.0))
    tail = 0.5 * regularized_beta(dof / 2.0, 0.5, dof / (dof + t * t))  # the continued fraction, kept
    return 1.0 - tail if t > 0 else tail


def blend_event(
    blend: MarketBlend, models: Sequence[float], mids: Sequence[float | None], hours: float, extreme: Extreme = "high"
) -> list[float]:
    """``MarketBlend.blend_event`` as first written: ``blend`` per bracket, weight looked up each time."""
    if len(models) != len(mids):
        raise ValueError("one mid (or None) per bracket")
    pooled = [0.0 if m == 0.0 else blend.blend(m, k, hours, extreme) for m, k in zip(models, mids, strict=True)]
    total = math.fsum(pooled)
    if total <= 0:
        return list(models)
    scale = total ** blend.weight(hours, extreme)
    return [min(1.0, p / scale) for p in pooled]


def partition_probabilities(distribution: TempDistribution, brackets: Iterable[Bracket]) -> list[float]:
    """One ``cdf`` call per edge, as first written."""
    out: list[float] = []
    below = 0.0
    for bracket in check_partition(brackets):
        upper = distribution.cdf(bracket.high)
        out.append(max(0.0, upper - below))
        below = upper
    total = math.fsum(out)
    if abs(total - 1.0) > 1e-9:
        raise ArithmeticError(f"bracket probabilities sum to {total!r}, not 1")
    return out


Adjust = Callable[[Sequence[str], list[float]], list[float]]


def fair_values_from_distribution(
    distribution: TempDistribution, brackets: Iterable[Bracket], as_of_ms: int, *, adjust: Adjust | None = None
) -> dict[str, FairValue]:
    """``weather_mm.fair_values_from_distribution`` as first written: a moved distribution each."""
    ordered = check_partition(brackets)
    tickers = [b.ticker for b in ordered]

    def probabilities(dist: TempDistribution) -> list[float]:
        values = partition_probabilities(dist, ordered)
        return adjust(tickers, values) if adjust is not None else values

    base = probabilities(distribution)
    up = probabilities(replace(distribution, center_f=distribution.center_f + 1.0))
    down = probabilities(replace(distribution, center_f=distribution.center_f - 1.0))
    return {
        t: FairValue(t, fair_price(b), as_of_ms, fair_price(min(1.0, max(abs(u - b), abs(d - b)))), source="weather")
        for t, b, u, d in zip(tickers, base, up, down, strict=True)
    }


def parse_forecast(body: JSON, *, now: datetime, stale_after_s: float) -> Forecast:
    """``nws.parse_forecast`` as first written: every period read in full (``_read_forecast_period``
    is that reader, kept for what the direct path does not take), no timeline."""
    p = _props(body, "forecast")
    raw_periods = p.get("periods")
    if not isinstance(raw_periods, list):
        raise NwsDataError("forecast.properties.periods: expected a list")
    periods = tuple(_read_forecast_period(raw, i) for i, raw in enumerate(raw_periods))
    update_time = _opt_time(p.get("updateTime"), "forecast.updateTime")
    forecast = Forecast(periods, update_time, _opt_time(p.get("generatedAt"), "forecast.generatedAt"))
    return replace(forecast, stale_reason=forecast_staleness(forecast, now, stale_after_s))


def hourly_values(periods: Iterable[ForecastPeriod], start: datetime, end: datetime) -> list[float]:
    """The temperatures of the periods overlapping [start, end), each period read."""
    return [p.temperature_f for p in periods if p.temperature_f is not None and p.start < end and p.end > start]
