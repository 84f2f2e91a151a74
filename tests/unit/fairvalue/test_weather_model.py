"""The climate-day maximum distribution: hand-computed cases, the observed-max floor, monotonicity,
fat tails, and time handling (LST climate day, lead to the peak)."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_trader.fairvalue.weather import (
    PEAK_HOUR_LST,
    SIGMA_BY_LEAD,
    MaxTempDistribution,
    ModelParams,
    climate_date,
    climate_day_bounds,
    lead_hours_until_peak,
    max_temp_distribution,
    normal_cdf,
    regularized_beta,
    sigma_for_lead,
    student_t_cdf,
)

NORMAL = math.inf

# Standard normal CDF values from tables (10 decimals).
PHI = {-1.25: 0.1056497737, -0.25: 0.4012936743, 0.75: 0.7733726476, 1.25: 0.8943502263}


def test_normal_cdf_matches_tables() -> None:
    for z, value in PHI.items():
        assert normal_cdf(z) == pytest.approx(value, abs=1e-9)


def test_normal_sigma_2_around_80_by_hand() -> None:
    d = MaxTempDistribution(center_f=80.0, sigma_f=2.0, dof=NORMAL)
    # 78–79 inclusive = P(77.5 < Y < 79.5) = Φ(-0.25) − Φ(-1.25)
    assert d.prob_range(78, 79) == pytest.approx(PHI[-0.25] - PHI[-1.25], abs=1e-6)
    assert d.prob_range(78, 79) == pytest.approx(0.2956439006, abs=1e-6)
    # ≤77 = Φ(-1.25); ≥82 = 1 − Φ(0.75); exactly 80 = Φ(0.25) − Φ(−0.25) = 1 − 2Φ(−0.25)
    assert d.prob_range(None, 77) == pytest.approx(0.1056497737, abs=1e-6)
    assert d.prob_range(82, None) == pytest.approx(1 - 0.7733726476, abs=1e-6)
    assert d.pmf(80) == pytest.approx(1 - 2 * 0.4012936743, abs=1e-6)


def test_observed_max_is_a_point_mass_not_a_truncation() -> None:
    # Y ~ N(80, 2), observed 81 so far: T = max(81, round(Y)).
    d = MaxTempDistribution(center_f=80.0, sigma_f=2.0, dof=NORMAL, observed_max_f=81)
    assert d.cdf(80) == 0.0
    assert d.pmf(81) == pytest.approx(PHI[0.75], abs=1e-9)  # G(81.5)
    assert d.pmf(82) == pytest.approx(PHI[1.25] - PHI[0.75], abs=1e-9)  # untouched above the floor
    # Renormalising a truncated normal would have inflated 82 by 1/(1 − G(80.5)).
    unfloored = MaxTempDistribution(center_f=80.0, sigma_f=2.0, dof=NORMAL)
    assert d.prob_range(82, None) == pytest.approx(unfloored.prob_range(82, None), abs=1e-15)


def test_student_t_cdf_against_closed_forms() -> None:
    for t in (-7.0, -2.5, -0.5, 0.0, 0.3, 1.0, 4.0, 40.0):
        cauchy = 0.5 + math.atan(t) / math.pi
        nu2 = 0.5 + t / (2 * math.sqrt(2 + t * t))
        x = t / math.sqrt(4 + t * t)
        nu4 = 0.5 + 0.75 * x * (1 - x * x / 3)
        assert student_t_cdf(t, 1) == pytest.approx(cauchy, abs=1e-12)
        assert student_t_cdf(t, 2) == pytest.approx(nu2, abs=1e-12)
        assert student_t_cdf(t, 4) == pytest.approx(nu4, abs=1e-12)
    assert student_t_cdf(1.3, 1e7) == pytest.approx(normal_cdf(1.3), abs=1e-6)
    assert regularized_beta(2.0, 3.0, 0.4) == pytest.approx(0.5248, abs=1e-12)  # 1 − Σ_{j<2} C(4,j)·.4^j·.6^(4−j)


def test_student_t_sigma_is_the_standard_deviation() -> None:
    # ν = 4, σ = √2 → scale √2·√(2/4) = 1, so P(T = 80) = F₄(0.5) − F₄(−0.5) in closed form.
    d = MaxTempDistribution(center_f=80.0, sigma_f=math.sqrt(2.0), dof=4.0)
    x = 0.5 / math.sqrt(4.25)
    f4 = 0.5 + 0.75 * x * (1 - x * x / 3)
    assert d.pmf(80) == pytest.approx(2 * f4 - 1, abs=1e-12)


def test_fat_tails_put_more_mass_in_the_tails() -> None:
    normal = MaxTempDistribution(center_f=80.0, sigma_f=2.0, dof=NORMAL)
    fat = MaxTempDistribution(center_f=80.0, sigma_f=2.0, dof=5.0)
    for k in (87, 88, 90, 95):  # ≥ 3.5σ out
        assert fat.prob_range(k, None) > 2 * normal.prob_range(k, None)
        assert fat.prob_range(None, 160 - k) > 2 * normal.prob_range(None, 160 - k)
    assert fat.pmf(80) > normal.pmf(80)  # same variance: more peaked too
    assert fat.prob_range(None, None) == 1.0


def test_sigma_table_interpolates_and_is_flat_outside() -> None:
    assert sigma_for_lead(0.0) == 1.0
    assert sigma_for_lead(21.0) == 3.0
    assert sigma_for_lead(14.0) == pytest.approx(2.25 + (3.0 - 2.25) * 7 / 14)
    assert sigma_for_lead(-100.0) == SIGMA_BY_LEAD[0][1]
    assert sigma_for_lead(1_000.0) == SIGMA_BY_LEAD[-1][1]
    leads = [k[0] for k in SIGMA_BY_LEAD]
    assert all(sigma_for_lead(a) <= sigma_for_lead(b) for a, b in itertools.pairwise(leads))


def test_model_uses_lead_sigma_bias_and_scale() -> None:
    d = max_temp_distribution(80.0, 21.0, params=ModelParams(bias_f=1.5, sigma_scale=1.2))
    assert d.center_f == 81.5
    assert d.sigma_f == pytest.approx(3.6)
    assert d.observed_max_f is None


def test_after_the_peak_the_remaining_max_declines() -> None:
    d = max_temp_distribution(80.0, -4.0, 80)
    assert d.center_f == pytest.approx(80.0 - 1.5 * 4)
    explicit = max_temp_distribution(80.0, -4.0, 80, remaining_max_f=79.0)
    assert explicit.center_f == 79.0


def test_no_probability_below_the_observed_max() -> None:
    for lead in (10.0, 3.0, 0.0, -5.0):
        d = max_temp_distribution(82.0, lead, 79)
        assert all(d.pmf(k) == 0.0 for k in range(40, 79))
        assert d.prob_range(None, 78) == 0.0
        assert d.pmf(79) > 0.0


def test_late_in_the_day_mass_concentrates_on_the_observed_max() -> None:
    # 77 °F observed so far, forecast high 80: before the peak the observed max is unlikely to stand…
    forecast, observed = 80.0, 77
    before = [max_temp_distribution(forecast, lead, observed).pmf(observed) for lead in (7.0, 3.0, 0.0)]
    assert max(before) < 0.2
    # …after it, the mass on it grows hour by hour, and by 11 PM (lead −8) it almost surely is the max.
    after = [max_temp_distribution(forecast, lead, observed).pmf(observed) for lead in (0.0, -1.0, -3.0, -5.0, -8.0)]
    assert after == sorted(after)
    assert after[-1] > 0.999
    # Observed far above the forecast at 2 PM: almost all mass at the observed max already.
    assert max_temp_distribution(80.0, 1.0, 86).pmf(86) > 0.99


def test_floor_slack_mixes_floors() -> None:
    params = ModelParams(dof=NORMAL, floor_slack=((-1, 0.25), (0, 0.75)))
    d = max_temp_distribution(70.0, -9.0, 80, remaining_max_f=70.0, params=params)
    assert d.pmf(79) == pytest.approx(0.25, abs=1e-9)
    assert d.pmf(80) == pytest.approx(0.75, abs=1e-9)
    assert d.prob_range(None, 78) == 0.0


@settings(max_examples=200, deadline=None)
@given(
    low=st.floats(40.0, 100.0),
    delta=st.floats(0.1, 15.0),
    lead=st.floats(-12.0, 120.0),
    observed=st.one_of(st.none(), st.integers(30, 110)),
    dof=st.sampled_from([3.0, 6.0, 30.0, NORMAL]),
    k=st.integers(20, 130),
)
def test_monotonic_in_forecast(low: float, delta: float, lead: float, observed: int | None, dof: float, k: int) -> None:
    params = ModelParams(dof=dof)
    cold = max_temp_distribution(low, lead, observed, params=params)
    warm = max_temp_distribution(low + delta, lead, observed, params=params)
    # A warmer forecast never lowers P(T ≥ k) (first-order stochastic dominance).
    assert warm.prob_range(k, None) >= cold.prob_range(k, None) - 1e-12


def test_quantiles_and_support() -> None:
    d = MaxTempDistribution(center_f=80.0, sigma_f=2.0, dof=NORMAL)
    assert d.quantile(0.5) == 80
    lo, hi = d.support(0.99)
    assert d.prob_range(lo, hi) >= 0.99
    assert (lo, hi) == (75, 85)
    floored = MaxTempDistribution(center_f=80.0, sigma_f=2.0, dof=NORMAL, observed_max_f=83)
    assert floored.support(0.99)[0] == 83
    with pytest.raises(ValueError, match="0 < q < 1"):
        d.quantile(1.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sigma_scale": 0.0}, "sigma_scale"),
        ({"dof": 0.0}, "dof"),
        ({"floor_slack": ((0, 0.5),)}, "sum to 1"),
        ({"sigma_by_lead": ((1.0, 2.0), (0.0, 1.0))}, "increasing"),
    ],
)
def test_bad_params_are_rejected(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ModelParams(**kwargs)  # type: ignore[arg-type]


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="finite"):
        max_temp_distribution(math.nan, 3.0)
    with pytest.raises(ValueError, match="sigma_f positive"):
        MaxTempDistribution(center_f=80.0, sigma_f=0.0)


# -- climate-day time ---------------------------------------------------------------------------


def test_climate_day_is_local_standard_time_all_year() -> None:
    # LAX Jun-30 → 2026-06-30T08:00Z … 2026-07-01T08:00Z (docs/weather-model.md, The climate day), PST all year.
    assert climate_day_bounds(date(2026, 6, 30), "America/Los_Angeles") == (
        datetime(2026, 6, 30, 8, tzinfo=UTC),
        datetime(2026, 7, 1, 8, tzinfo=UTC),
    )
    assert climate_day_bounds(date(2026, 1, 15), "America/New_York")[0] == datetime(2026, 1, 15, 5, tzinfo=UTC)
    assert climate_day_bounds(date(2026, 7, 15), "America/New_York")[0] == datetime(2026, 7, 15, 5, tzinfo=UTC)
    assert climate_day_bounds(date(2026, 7, 15), "America/Phoenix")[0] == datetime(2026, 7, 15, 7, tzinfo=UTC)
    # DST-change days are still exactly 24 hours.
    start, end = climate_day_bounds(date(2026, 3, 8), "America/Chicago")
    assert (end - start).total_seconds() == 86_400


def test_climate_date_during_dst_midnight_hour() -> None:
    # 00:30 EDT on Jul 16 is 23:30 EST on Jul 15: it belongs to the 15th.
    assert climate_date(datetime(2026, 7, 16, 4, 30, tzinfo=UTC), "America/New_York") == date(2026, 7, 15)
    assert climate_date(datetime(2026, 7, 16, 5, 30, tzinfo=UTC), "America/New_York") == date(2026, 7, 16)
    with pytest.raises(ValueError, match="aware"):
        climate_date(datetime(2026, 7, 16), "America/New_York")


def test_lead_hours_until_the_peak() -> None:
    day = date(2026, 7, 15)
    peak = datetime(2026, 7, 15, 5 + int(PEAK_HOUR_LST), tzinfo=UTC)  # 15:00 EST = 20:00Z
    assert lead_hours_until_peak(datetime(2026, 7, 15, 16, tzinfo=UTC), day, "America/New_York") == 4.0
    assert lead_hours_until_peak(peak, day, "America/New_York") == 0.0
    assert lead_hours_until_peak(datetime(2026, 7, 16, 2, tzinfo=UTC), day, "America/New_York") == -6.0
