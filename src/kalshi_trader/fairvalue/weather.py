"""Fair value of Kalshi daily temperature brackets (highs and lows): a predictive distribution of
the station's climate-day maximum or minimum (whole °F) turned into one probability per bracket.

Contract:
- Pure functions of plain values (no I/O, no NWS JSON, no clock): a forecast of the climate-day
  high (°F), the lead time in hours, and optionally the observed maximum so far and the forecast
  maximum of the hours still to come. Usable on its own. Once the day is under way the forecast
  high may be missing (no forecast reaches into the day any more): the observed maximum then
  stands in for it (``max_temp_distribution``); with neither there is nothing to price.
- Lows are the mirror image (``min_temp_distribution``, ``MinTempDistribution``): the minimum of the
  same climate day, its nominal time ``TROUGH_HOUR_LST`` (06:00 LST), the observed minimum so far a
  *ceiling* (T = min(L, Y), a point mass at L), the remaining hours' forecast minimum rising after
  the trough. ``Extreme`` (``"high"`` / ``"low"``) names which one a series settles on.
- Time: the climate day is midnight-to-midnight local *standard* time (``climate_day_bounds``).
  ``lead_hours`` is the time from the decision to the day's nominal peak, ``PEAK_HOUR_LST`` (15:00
  LST) — so the hour of the climate day is ``PEAK_HOUR_LST - lead_hours``; it is negative once the
  peak has passed (``lead_hours_until_peak`` computes it from a clock time; for a low,
  ``lead_hours_until_extreme`` measures to the trough).
- The settled value T is an integer °F (the CLI reports whole degrees). The model is a continuous
  location-scale distribution for the maximum Y of the hours still to come — Student-t with ``dof``
  degrees of freedom (``math.inf`` = normal) whose *standard deviation* is ``sigma_f`` — integerised
  with ±0.5: P(Y rounds to k) = G(k + 0.5) − G(k − 0.5).
- An observed maximum so far L is a floor, not a truncation: T = max(L, Y), so P(T < L) = 0 and
  P(T = L) = G(L + 0.5) is a point mass (docs/weather-model.md). ``floor_slack`` optionally mixes floors
  L + δ (the CLI's 2-minute average can differ ±1 °F from what real-time feeds show).
- Brackets follow Kalshi's strike rules (``Bracket.from_strikes``): ``between`` a..b inclusive,
  ``greater`` f means T ≥ f + 1, ``less`` c means T ≤ c − 1 (and the ``_or_equal`` variants). An
  event's brackets must partition the integers; ``bracket_probabilities`` checks that, so its
  probabilities sum to 1 (up to float rounding, |Σ − 1| < 1e-9).
- Probabilities are floats internally. ``fair_price`` exposes one as a domain ``Price`` rounded to
  the nearest $0.0001; callers round that to the market's tick grid (``TickGrid.round_*``) in
  whichever direction is safe for them.

Spread by lead time (``SIGMA_BY_LEAD``) and the other constants are the starting priors of
docs/weather-model.md ("Before anything is observed"), interpolated linearly in lead
time; they are priors to be refitted per station and season with ``fairvalue.calibration``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo

from kalshi_trader.domain import PRICE_SCALE, MarketInfo, Price

Extreme = Literal["high", "low"]
"""What a daily temperature series settles on: the climate day's maximum or its minimum."""

PEAK_HOUR_LST = 15.0
"""Nominal time of the daily maximum, hours after the start of the climate day (3 PM LST;
the typical peak falls between 1 and 5 PM local)."""

TROUGH_HOUR_LST = 6.0
"""Nominal time of the daily minimum, hours after the start of the climate day (06:00 LST, near
sunrise; an evening front can move it to the end of the day, which the forecast then shows)."""

SIGMA_BY_LEAD: tuple[tuple[float, float], ...] = (
    (-9.0, 0.75),  # late evening, temperatures falling: rounding / CLI-vs-forecast only
    (0.0, 1.0),  # at the nominal peak
    (3.0, 1.75),  # day-0 noon: 1.5–2
    (7.0, 2.25),  # day-0 08 LST: 2.0–2.5
    (21.0, 3.0),  # evening before (18 LST): 2.5–3.5
    (45.0, 4.0),  # day-2 (evening two days before): 3.5–4.5
    (69.0, 4.75),  # day-3: NWS day-3 MAE ~3.8 × 1.25
    (117.0, 6.0),  # day-5: MAE 4–6 (bot rules of thumb)
)
"""(lead hours to the peak, σ °F) knots: standard deviation of the CLI max forecast error, from
docs/weather-model.md (priors by lead; σ ≈ 1.25 × MAE for the longer leads). Linear in between, flat
outside."""

DEFAULT_DOF = 6.0
"""Student-t degrees of freedom: ν ≈ 5–8 for fat-tailed misses (fronts, marine layer; docs/weather-model.md)."""

POST_PEAK_DECLINE_F_PER_H = 1.5
"""After the peak, the forecast maximum of the remaining hours falls roughly this fast (a diurnal
range of ~15–20 °F lost over the evening). Used only when ``remaining_max_f`` is not given."""

HOURLY_PEAK_BIAS_F = 0.9
"""Hourly values under-state the CLI's 2-minute peak (the peak falls between hours): CLI − hourly max
was +1 °F on ~50% of days, +2 on ~25%, −1 on ~10% (else 0) → mean ≈ +0.9 °F. By the same sampling
argument the hourly minimum over-states the CLI's minimum by as much (applied with the sign
flipped for lows)."""

MIN_SIGMA_F = 0.25
"""Smallest spread accepted (below this the ±0.5 integerisation dominates anyway)."""


class BracketError(ValueError):
    """A market's strikes do not describe an integer bracket, or an event's brackets do not
    partition the integers."""


# --------------------------------------------------------------------------------------------
# Climate-day time


@functools.lru_cache(maxsize=1024)
def climate_day_bounds(day: date, time_zone: str) -> tuple[datetime, datetime]:
    """The climate day ``day`` as a UTC interval [start, end): midnight to midnight local
    *standard* time, all year (01:00–00:59 clock time during DST)."""
    zone = ZoneInfo(time_zone)
    noon = datetime.combine(day, time(12), zone)
    std_offset = (noon.utcoffset() or timedelta(0)) - (noon.dst() or timedelta(0))
    start = datetime.combine(day, time(0), UTC) - std_offset
    return start, start + timedelta(days=1)


def climate_date(moment: datetime, time_zone: str) -> date:
    """The climate day (LST date) that contains the aware ``moment``."""
    if moment.tzinfo is None:
        raise ValueError("climate_date needs a timezone-aware datetime")
    local = moment.astimezone(ZoneInfo(time_zone))
    std = local - (local.dst() or timedelta(0))
    return std.date()


def lead_hours_until_peak(now: datetime, day: date, time_zone: str) -> float:
    """Hours from the aware ``now`` to ``PEAK_HOUR_LST`` on climate day ``day`` (negative after)."""
    return lead_hours_until_extreme(now, day, time_zone, "high")


def extreme_hour_lst(extreme: Extreme) -> float:
    """Nominal hour of the day's maximum (``PEAK_HOUR_LST``) or minimum (``TROUGH_HOUR_LST``)."""
    return PEAK_HOUR_LST if extreme == "high" else TROUGH_HOUR_LST


def lead_hours_until_extreme(now: datetime, day: date, time_zone: str, extreme: Extreme) -> float:
    """Hours from the aware ``now`` to the nominal time of ``day``'s maximum or minimum (negative
    after it)."""
    start, _ = climate_day_bounds(day, time_zone)
    return (start + timedelta(hours=extreme_hour_lst(extreme)) - now).total_seconds() / 3600.0


# --------------------------------------------------------------------------------------------
# Continuous CDFs (normal and Student-t, no SciPy)


def normal_cdf(z: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function, for a, b > 0 and 0 ≤ x ≤ 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


EVEN_DOF_MAX = 8
"""Even degrees of freedom up to this use the closed form of the t tail (``_even_dof_tail``)."""

_SERIES_BELOW_X = 0.25
"""Below this x the even-ν tail is summed as a series (the closed form would cancel there)."""


def _binomial_series(n: int) -> tuple[float, ...]:
    """c_0 … c_(n−1) with c_k = C(2k, k)/4^k: (1−x)^(−1/2) = Σ c_k x^k."""
    out, c = [], 1.0
    for k in range(n):
        out.append(c)
        c *= (2 * k + 1) / (2 * k + 2)
    return tuple(out)


_SERIES = _binomial_series(EVEN_DOF_MAX // 2 + 64)
"""Enough terms for x below ``_SERIES_BELOW_X`` (0.25^60 ≪ 1e-17)."""


def _even_dof_tail(x: float, half_dof: int) -> float:
    """I_x(m, 1/2) for an integer m = ν/2 ≤ ``EVEN_DOF_MAX``/2: √(1−x)·Σ_{k≥m} c_k x^k (the binomial
    series of (1−x)^(−1/2) without its first m terms). Small x sums that tail directly (relative
    accuracy: a far tail stays as exact as its size allows); otherwise one minus the first m terms."""
    root = math.sqrt(1.0 - x)
    if x < _SERIES_BELOW_X:
        total, power = 0.0, x**half_dof
        for c in _SERIES[half_dof:]:
            term = c * power
            if term <= total * 1e-17:
                break
            total += term
            power *= x
        return root * total
    head, power = 0.0, 1.0
    for c in _SERIES[:half_dof]:
        head += c * power
        power *= x
    return 1.0 - root * head


def student_t_cdf(t: float, dof: float) -> float:
    """CDF of the standard Student-t with ``dof`` degrees of freedom (``math.inf`` → normal)."""
    if math.isinf(dof):
        return normal_cdf(t)
    if dof <= 0:
        raise ValueError("degrees of freedom must be positive")
    x = dof / (dof + t * t)
    half = dof / 2.0
    if half.is_integer() and dof <= EVEN_DOF_MAX:
        tail = 0.5 * _even_dof_tail(x, int(half))
    else:
        tail = 0.5 * regularized_beta(half, 0.5, x)
    return 1.0 - tail if t > 0 else tail


def student_t_cdfs(ts: Iterable[float], dof: float) -> list[float]:
    """``[student_t_cdf(t, dof) for t in ts]``, float for float, ``dof`` looked at once."""
    half = dof / 2.0
    if math.isinf(dof) or dof <= 0 or not half.is_integer() or dof > EVEN_DOF_MAX:
        return [student_t_cdf(t, dof) for t in ts]
    m, tail_of, head_terms, sqrt = int(half), _even_dof_tail, _SERIES[: int(half)], math.sqrt
    out = []
    for t in ts:
        x = dof / (dof + t * t)
        if x < _SERIES_BELOW_X:
            tail = 0.5 * tail_of(x, m)
        else:  # _even_dof_tail's closed form, inlined
            head, power = 0.0, 1.0
            for c in head_terms:
                head += c * power
                power *= x
            tail = 0.5 * (1.0 - sqrt(1.0 - x) * head)
        out.append(1.0 - tail if t > 0 else tail)
    return out


# --------------------------------------------------------------------------------------------
# The distribution of the climate-day maximum


@dataclass(frozen=True, slots=True)
class ModelParams:
    """Tunable parts of the model (defaults = the priors of docs/weather-model.md; fit per station and season).

    ``bias_f`` is added to the forecast (e.g. a trailing 30-day mean CLI-minus-forecast error);
    ``sigma_scale`` multiplies the lead-time σ (``stations.Station.sigma_scale``: >1 at DEN/CHI/AUS,
    <1 at LAX/MIA); ``floor_slack`` is ((δ, weight), ...) — the floor is L + δ with that weight
    (default: a hard floor at L; for a low the ceiling is L − δ)."""

    bias_f: float = 0.0
    sigma_scale: float = 1.0
    sigma_by_lead: tuple[tuple[float, float], ...] = SIGMA_BY_LEAD
    dof: float = DEFAULT_DOF
    post_peak_decline_f_per_h: float = POST_PEAK_DECLINE_F_PER_H
    floor_slack: tuple[tuple[int, float], ...] = ((0, 1.0),)

    def __post_init__(self) -> None:
        if self.sigma_scale <= 0:
            raise ValueError("sigma_scale must be positive")
        if not self.dof > 0:
            raise ValueError("dof must be positive (math.inf for a normal)")
        knots = self.sigma_by_lead
        if not knots or any(s <= 0 for _, s in knots) or any(a[0] >= b[0] for a, b in pairwise(knots)):
            raise ValueError("sigma_by_lead must be non-empty, strictly increasing in lead, with positive σ")
        if not self.floor_slack or any(w < 0 for _, w in self.floor_slack):
            raise ValueError("floor_slack needs at least one (offset, weight) with non-negative weights")
        if abs(sum(w for _, w in self.floor_slack) - 1.0) > 1e-9:
            raise ValueError("floor_slack weights must sum to 1")


def sigma_for_lead(lead_hours: float, table: Sequence[tuple[float, float]] = SIGMA_BY_LEAD) -> float:
    """σ (°F) at ``lead_hours`` by linear interpolation between the knots of ``table`` (flat outside)."""
    if lead_hours <= table[0][0]:
        return table[0][1]
    for (x0, y0), (x1, y1) in pairwise(table):
        if lead_hours <= x1:
            return y0 + (y1 - y0) * (lead_hours - x0) / (x1 - x0)
    return table[-1][1]


class _IntegerDistribution:
    """What both daily distributions share once ``cdf`` (P(T ≤ k)) is defined."""

    __slots__ = ()

    center_f: float

    def cdf(self, k: int | None) -> float:
        raise NotImplementedError

    def pmf(self, k: int) -> float:
        """P(T = k)."""
        return self.cdf(k) - self.cdf(k - 1)

    def prob_range(self, low: int | None, high: int | None) -> float:
        """P(low ≤ T ≤ high), inclusive; ``None`` = unbounded on that side."""
        if low is not None and high is not None and low > high:
            return 0.0
        below = 0.0 if low is None else self.cdf(low - 1)
        return max(0.0, self.cdf(high) - below)

    def quantile(self, q: float) -> int:
        """The smallest integer k with P(T ≤ k) ≥ q, for 0 < q < 1."""
        if not 0.0 < q < 1.0:
            raise ValueError("quantile needs 0 < q < 1")
        k = round(self.center_f)
        while self.cdf(k) < q:
            k += 1
        while self.cdf(k - 1) >= q:
            k -= 1
        return k

    def support(self, mass: float = 0.999) -> tuple[int, int]:
        """The central integer range [lo, hi] holding at least ``mass`` of the probability (the
        (1 − mass)/2 and (1 + mass)/2 quantiles), for display."""
        tail = (1.0 - mass) / 2.0
        return self.quantile(tail), self.quantile(1.0 - tail)


@dataclass(frozen=True, slots=True)
class MaxTempDistribution(_IntegerDistribution):
    """Predictive distribution of the settled climate-day maximum T (integer °F).

    T = max(floor, Y) where Y ~ center_f + t_dof · scale (standard deviation ``sigma_f``) rounded to
    whole degrees, and ``floor`` is ``observed_max_f + δ`` with the weights of ``floor_slack``
    (no floor when ``observed_max_f`` is None)."""

    center_f: float
    sigma_f: float
    dof: float = DEFAULT_DOF
    observed_max_f: int | None = None
    floor_slack: tuple[tuple[int, float], ...] = ((0, 1.0),)
    _scale: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.center_f) and math.isfinite(self.sigma_f)) or self.sigma_f <= 0:
            raise ValueError("center_f must be finite and sigma_f positive")
        if not self.dof > 0:
            raise ValueError("dof must be positive (math.inf for a normal)")
        # Student-t variance is scale² ν/(ν−2): choose the scale so the standard deviation is sigma_f
        # (for ν ≤ 2 the variance is infinite and sigma_f is used as the scale itself).
        if math.isinf(self.dof) or self.dof <= 2:
            scale = self.sigma_f
        else:
            scale = self.sigma_f * math.sqrt((self.dof - 2.0) / self.dof)
        object.__setattr__(self, "_scale", scale)

    @property
    def extreme(self) -> Extreme:
        return "high"

    def remaining_cdf(self, x: float) -> float:
        """G(x) = P(Y ≤ x) for the continuous maximum of the remaining hours."""
        return student_t_cdf((x - self.center_f) / self._scale, self.dof)

    def cdf(self, k: int | None) -> float:
        """P(T ≤ k) for integer k (``None`` = +∞)."""
        if k is None:
            return 1.0
        g = self.remaining_cdf(k + 0.5)
        if self.observed_max_f is None:
            return g
        return sum(w for delta, w in self.floor_slack if k >= self.observed_max_f + delta) * g

    def cdfs(self, ks: Sequence[int], center_f: float | None = None) -> list[float]:
        """``[cdf(k) for k in ks]`` of this distribution with its centre moved to ``center_f`` (None:
        where it is), float for float, in one call."""
        center = self.center_f if center_f is None else center_f
        scale, dof, floor = self._scale, self.dof, self.observed_max_f
        gs = student_t_cdfs([(k + 0.5 - center) / scale for k in ks], dof)
        if floor is None:
            return gs
        slack = self.floor_slack
        return [sum(w for delta, w in slack if k >= floor + delta) * g for k, g in zip(ks, gs, strict=True)]

    def cdfs_at(self, ks: Sequence[int], centers: Sequence[float]) -> list[list[float]]:
        """``[cdfs(ks, c) for c in centers]``, float for float, with the floor's weights worked out
        once."""
        scale, dof, floor, n = self._scale, self.dof, self.observed_max_f, len(ks)
        gs = student_t_cdfs([(k + 0.5 - c) / scale for c in centers for k in ks], dof)
        rows = [gs[i * n : (i + 1) * n] for i in range(len(centers))]
        if floor is None:
            return rows
        slack = self.floor_slack
        weights = [sum(w for delta, w in slack if k >= floor + delta) for k in ks]
        return [[w * g for w, g in zip(weights, row, strict=True)] for row in rows]


@dataclass(frozen=True, slots=True)
class MinTempDistribution(_IntegerDistribution):
    """Predictive distribution of the settled climate-day minimum T (integer °F): the mirror image
    of ``MaxTempDistribution``.

    T = min(ceiling, Y) where Y ~ center_f + t_dof · scale (standard deviation ``sigma_f``) rounded
    to whole degrees, and ``ceiling`` is ``observed_min_f − δ`` with the weights of
    ``ceiling_slack`` (the same (δ, weight) table as a high's ``floor_slack``: a CLI minimum can sit
    below what real-time feeds showed as a CLI maximum can sit above). Computed as −max(−ceiling, −Y)."""

    center_f: float
    sigma_f: float
    dof: float = DEFAULT_DOF
    observed_min_f: int | None = None
    ceiling_slack: tuple[tuple[int, float], ...] = ((0, 1.0),)
    _mirror: MaxTempDistribution = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        mirror = MaxTempDistribution(
            center_f=-self.center_f,
            sigma_f=self.sigma_f,
            dof=self.dof,
            observed_max_f=None if self.observed_min_f is None else -self.observed_min_f,
            floor_slack=self.ceiling_slack,
        )
        object.__setattr__(self, "_mirror", mirror)

    @property
    def extreme(self) -> Extreme:
        return "low"

    def cdf(self, k: int | None) -> float:
        """P(T ≤ k) for integer k (``None`` = +∞): 1 − P(−T ≤ −k − 1)."""
        if k is None:
            return 1.0
        return 1.0 - self._mirror.cdf(-k - 1)

    def cdfs(self, ks: Sequence[int], center_f: float | None = None) -> list[float]:
        """``[cdf(k) for k in ks]`` of this distribution with its centre moved to ``center_f`` (None:
        where it is), float for float, in one call."""
        mirrored = self._mirror.cdfs([-k - 1 for k in ks], None if center_f is None else -center_f)
        return [1.0 - g for g in mirrored]

    def cdfs_at(self, ks: Sequence[int], centers: Sequence[float]) -> list[list[float]]:
        """``[cdfs(ks, c) for c in centers]``, float for float, in one call."""
        mirrored = self._mirror.cdfs_at([-k - 1 for k in ks], [-c for c in centers])
        return [[1.0 - g for g in row] for row in mirrored]


TempDistribution = MaxTempDistribution | MinTempDistribution
"""Either daily distribution: what brackets are priced from."""


def max_temp_distribution(
    forecast_high_f: float | None,
    lead_hours: float,
    observed_max_f: int | None = None,
    *,
    remaining_max_f: float | None = None,
    params: ModelParams | None = None,
) -> MaxTempDistribution:
    """The distribution of the settled climate-day max.

    - ``forecast_high_f``: forecast of the climate-day maximum (°F, fractional allowed); None when
      no forecast covers the day any more (the day under way or over) — then ``observed_max_f``
      or ``remaining_max_f`` is required, and the observed maximum stands in for the forecast.
    - ``lead_hours``: hours from now to the nominal peak (``lead_hours_until_peak``); negative after.
    - ``observed_max_f``: the CLI-consistent maximum observed so far this climate day (whole °F), or
      None before the day starts / when unknown. Acts as a floor (point mass), never a truncation.
    - ``remaining_max_f``: forecast maximum over the rest of the climate day (e.g. from the hourly
      forecast, already peak-corrected). When None, the remaining maximum is the forecast high
      (else the observed maximum) before the peak and declines by ``post_peak_decline_f_per_h``
      per hour after it.

    Centre = (remaining maximum) + ``bias_f``; σ = ``sigma_for_lead(lead_hours) × sigma_scale``.
    """
    p = params if params is not None else ModelParams()
    if not math.isfinite(lead_hours):
        raise ValueError("lead_hours must be a finite number")
    base = forecast_high_f if forecast_high_f is not None else observed_max_f
    if remaining_max_f is not None:
        remaining = remaining_max_f
    elif base is not None:
        remaining = base - p.post_peak_decline_f_per_h * max(0.0, -lead_hours)
    else:
        raise ValueError("nothing to price: no forecast of the day, no remaining-hours forecast and nothing observed")
    if not math.isfinite(remaining) or (forecast_high_f is not None and not math.isfinite(forecast_high_f)):
        raise ValueError("forecast_high_f and remaining_max_f must be finite numbers")
    sigma = max(MIN_SIGMA_F, sigma_for_lead(lead_hours, p.sigma_by_lead) * p.sigma_scale)
    return MaxTempDistribution(
        center_f=remaining + p.bias_f,
        sigma_f=sigma,
        dof=p.dof,
        observed_max_f=observed_max_f,
        floor_slack=p.floor_slack,
    )


def min_temp_distribution(
    forecast_low_f: float | None,
    lead_hours: float,
    observed_min_f: int | None = None,
    *,
    remaining_min_f: float | None = None,
    params: ModelParams | None = None,
) -> MinTempDistribution:
    """The distribution of the settled climate-day minimum: ``max_temp_distribution`` of the
    negated values, mirrored back.

    - ``forecast_low_f``: forecast of the climate-day minimum; None once no forecast covers the day
      (the observed minimum then stands in).
    - ``lead_hours``: hours from now to the nominal trough (``lead_hours_until_extreme(..., "low")``).
    - ``observed_min_f``: the minimum observed so far this climate day: a ceiling (point mass).
    - ``remaining_min_f``: forecast minimum over the rest of the day (hourly forecast, already
      trough-corrected). When None, the remaining minimum is the forecast low (else the observed
      minimum) before the trough and rises by ``post_peak_decline_f_per_h`` per hour after it.

    Centre = (remaining minimum) + ``bias_f``; σ = ``sigma_for_lead(lead_hours) × sigma_scale``.
    """
    p = params if params is not None else ModelParams()
    mirrored = max_temp_distribution(
        None if forecast_low_f is None else -forecast_low_f,
        lead_hours,
        None if observed_min_f is None else -observed_min_f,
        remaining_max_f=None if remaining_min_f is None else -remaining_min_f,
        params=_mirrored(p),
    )
    return MinTempDistribution(
        center_f=-mirrored.center_f,
        sigma_f=mirrored.sigma_f,
        dof=mirrored.dof,
        observed_min_f=observed_min_f,
        ceiling_slack=p.floor_slack,
    )


@functools.lru_cache(maxsize=256)
def _mirrored(params: ModelParams) -> ModelParams:
    """``params`` of a low's mirror image (the bias negated)."""
    return replace(params, bias_f=-params.bias_f)


def temp_distribution(
    extreme: Extreme,
    forecast_f: float | None,
    lead_hours: float,
    observed_f: int | None = None,
    *,
    remaining_f: float | None = None,
    params: ModelParams | None = None,
) -> TempDistribution:
    """``max_temp_distribution`` for a high, ``min_temp_distribution`` for a low (same arguments:
    the day's forecast extreme, lead to its nominal time, the extreme observed so far, the
    remaining hours' forecast extreme)."""
    if extreme == "high":
        return max_temp_distribution(forecast_f, lead_hours, observed_f, remaining_max_f=remaining_f, params=params)
    return min_temp_distribution(forecast_f, lead_hours, observed_f, remaining_min_f=remaining_f, params=params)


# --------------------------------------------------------------------------------------------
# Brackets


STRIKE_TYPES = ("between", "greater", "less", "greater_or_equal", "less_or_equal")


@dataclass(frozen=True, slots=True)
class Bracket:
    """A market's YES set as an inclusive integer range [low, high] of the settled °F value;
    ``None`` = unbounded on that side."""

    ticker: str
    low: int | None
    high: int | None

    def __post_init__(self) -> None:
        if self.low is not None and self.high is not None and self.low > self.high:
            raise BracketError(f"{self.ticker}: empty bracket {self.low}..{self.high}")

    @staticmethod
    def from_strikes(ticker: str, strike_type: str, floor_strike: float | None, cap_strike: float | None) -> Bracket:
        """Kalshi's strike rules: ``between`` floor ≤ T ≤ cap; ``greater`` T > floor; ``less``
        T < cap; ``greater_or_equal`` T ≥ floor; ``less_or_equal`` T ≤ cap (T an integer)."""

        def need(value: float | None, name: str) -> float:
            if value is None or not math.isfinite(value):
                raise BracketError(f"{ticker}: strike_type {strike_type!r} needs a numeric {name}")
            return value

        if strike_type == "between":
            return Bracket(
                ticker, math.ceil(need(floor_strike, "floor_strike")), math.floor(need(cap_strike, "cap_strike"))
            )
        if strike_type == "greater":
            return Bracket(ticker, math.floor(need(floor_strike, "floor_strike")) + 1, None)
        if strike_type == "greater_or_equal":
            return Bracket(ticker, math.ceil(need(floor_strike, "floor_strike")), None)
        if strike_type == "less":
            return Bracket(ticker, None, math.ceil(need(cap_strike, "cap_strike")) - 1)
        if strike_type == "less_or_equal":
            return Bracket(ticker, None, math.floor(need(cap_strike, "cap_strike")))
        raise BracketError(
            f"{ticker}: strike_type {strike_type!r} is not a temperature bracket ({', '.join(STRIKE_TYPES)})"
        )

    @staticmethod
    def from_market(market: MarketInfo) -> Bracket:
        return Bracket.from_strikes(market.ticker, market.strike_type, market.floor_strike, market.cap_strike)

    def contains(self, value: int) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    @property
    def label(self) -> str:
        if self.low is None and self.high is None:
            return "any"
        if self.low is None:
            return f"≤{self.high}°"
        if self.high is None:
            return f"≥{self.low}°"
        return f"{self.low}°" if self.low == self.high else f"{self.low}–{self.high}°"


_SPEC_RE = re.compile(r"^\s*(?:(-?\d+)\s*-\s*(-?\d+)|(-?\d+)\s*([-+]))\s*$")


def parse_brackets(spec: str) -> list[Bracket]:
    """Brackets from a compact text form: comma-separated ``77-`` (≤77), ``78-79`` (78..79
    inclusive), ``86+`` (≥86). Tickers are the items' own text."""
    out: list[Bracket] = []
    for raw in spec.split(","):
        m = _SPEC_RE.match(raw)
        if m is None:
            raise BracketError(f"bad bracket {raw.strip()!r}: use 77- (or below), 78-79, 86+ (or above)")
        if m.group(1) is not None:
            out.append(Bracket(raw.strip(), int(m.group(1)), int(m.group(2))))
        elif m.group(4) == "-":
            out.append(Bracket(raw.strip(), None, int(m.group(3))))
        else:
            out.append(Bracket(raw.strip(), int(m.group(3)), None))
    return out


def check_partition(brackets: Iterable[Bracket]) -> list[Bracket]:
    """``brackets`` sorted from coldest to warmest; raises ``BracketError`` unless they cover every
    integer exactly once (one open-below tail, contiguous, one open-above tail)."""
    ordered = sorted(brackets, key=lambda b: -math.inf if b.low is None else b.low)
    if not ordered:
        raise BracketError("no brackets")
    if ordered[0].low is not None:
        raise BracketError(f"no bracket covers temperatures below {ordered[0].low}°")
    if ordered[-1].high is not None:
        raise BracketError(f"no bracket covers temperatures above {ordered[-1].high}°")
    for a, b in pairwise(ordered):
        if a.high is None or b.low is None or b.low != a.high + 1:
            raise BracketError(f"brackets {a.ticker} ({a.label}) and {b.ticker} ({b.label}) leave a gap or overlap")
    return ordered


@dataclass(frozen=True, slots=True)
class BracketProbability:
    bracket: Bracket
    probability: float

    @property
    def fair(self) -> Price:
        return fair_price(self.probability)


def bracket_probabilities(distribution: TempDistribution, brackets: Iterable[Bracket]) -> list[BracketProbability]:
    """P(YES) of each bracket, coldest first. The brackets must partition the integers
    (``check_partition``), so the probabilities sum to 1."""
    ordered = check_partition(brackets)
    result = [BracketProbability(b, distribution.prob_range(b.low, b.high)) for b in ordered]
    total = math.fsum(r.probability for r in result)
    if abs(total - 1.0) > 1e-9:  # cannot happen for a partition; guards against a broken CDF
        raise ArithmeticError(f"bracket probabilities sum to {total!r}, not 1")
    return result


def fair_price(probability: float) -> Price:
    """``probability`` as a YES price in $0.0001 units (nearest, clamped to [$0, $1]). Not on any
    tick grid: round with the market's ``TickGrid`` toward safety before quoting."""
    if not math.isfinite(probability):
        raise ValueError("probability must be finite")
    return Price(min(PRICE_SCALE, max(0, math.floor(probability * PRICE_SCALE + 0.5))))
