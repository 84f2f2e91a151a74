"""The fair-value fast paths against the code they replaced (``reference``): the closed-form
Student-t tail for even ν within 1e-12 of the continued fraction (and as exact in the far tails,
relative to their size); all of a distribution's edge CDFs in one call, the market blend with its
weight worked out once and an event's fair values from moved centres float for float the same."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import get_args

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.fairvalue import reference
from tests.unit.fairvalue.test_partition import partition

from kalshi_trader.fairvalue.blend import MarketBlend
from kalshi_trader.fairvalue.weather import (
    Extreme,
    TempDistribution,
    max_temp_distribution,
    min_temp_distribution,
    regularized_beta,
    student_t_cdf,
    student_t_cdfs,
)
from kalshi_trader.strategy.weather_mm import fair_values_from_distribution

EXTREMES: tuple[Extreme, ...] = get_args(Extreme)
EVEN_DOFS = st.sampled_from([2.0, 4.0, 6.0, 8.0])
T_VALUES = st.one_of(st.floats(-6, 6), st.floats(-200, 200), st.floats(-1e5, 1e5))


@settings(max_examples=3000, deadline=None)
@given(t=T_VALUES, dof=EVEN_DOFS)
def test_even_dof_t_cdf_matches_the_continued_fraction(t: float, dof: float) -> None:
    new, old = student_t_cdf(t, dof), reference.student_t_cdf(t, dof)
    assert abs(new - old) <= 1e-12
    assert (new == 1.0) == (old == 1.0)  # a saturated tail stays saturated (a bracket stays impossible)
    if t <= 0:  # the far tail to its own size: 1e-12 relative
        assert abs(new - old) <= 1e-12 * old
    else:  # the upper tail, before it is taken from 1
        x = dof / (dof + t * t)
        old_tail = 0.5 * regularized_beta(dof / 2, 0.5, x)
        assert abs((1.0 - new) - old_tail) <= 1e-12 * old_tail + 2**-53


@settings(max_examples=300, deadline=None)
@given(t=st.floats(-50, 50), dof=st.sampled_from([1.0, 3.0, 5.0, 7.5, 10.0, 30.0, math.inf]))
def test_other_dofs_keep_the_general_path(t: float, dof: float) -> None:
    assert student_t_cdf(t, dof) == reference.student_t_cdf(t, dof)


@settings(max_examples=300, deadline=None)
@given(ts=st.lists(T_VALUES, max_size=8), dof=st.sampled_from([1.0, 2.0, 3.0, 6.0, 8.0, 10.0, math.inf]))
def test_t_cdfs_are_the_t_cdf_of_each(ts: list[float], dof: float) -> None:
    assert student_t_cdfs(ts, dof) == [student_t_cdf(t, dof) for t in ts]


def _distribution(high: bool, centre: float, lead: float, observed: int | None) -> TempDistribution:
    make = max_temp_distribution if high else min_temp_distribution
    return make(centre, lead, observed)


DISTRIBUTIONS = st.builds(
    _distribution,
    st.booleans(),
    st.floats(-20, 110),
    st.floats(-12, 130),
    st.one_of(st.none(), st.integers(-20, 110)),
)


@settings(max_examples=300, deadline=None)
@given(dist=DISTRIBUTIONS, ks=st.lists(st.integers(-40, 130), max_size=12), shift=st.floats(-3, 3))
def test_cdfs_are_the_cdf_of_each_edge(dist: TempDistribution, ks: list[int], shift: float) -> None:
    moved = replace(dist, center_f=dist.center_f + shift)
    assert dist.cdfs(ks) == [dist.cdf(k) for k in ks]
    assert dist.cdfs(ks, dist.center_f + shift) == [moved.cdf(k) for k in ks]


@settings(max_examples=300, deadline=None)
@given(
    dist=DISTRIBUTIONS, ks=st.lists(st.integers(-40, 130), max_size=12), shifts=st.lists(st.floats(-3, 3), max_size=4)
)
def test_cdfs_at_several_centres_are_the_cdfs_at_each(
    dist: TempDistribution, ks: list[int], shifts: list[float]
) -> None:
    centres = [dist.center_f + shift for shift in shifts]
    assert dist.cdfs_at(ks, centres) == [dist.cdfs(ks, c) for c in centres]


BLEND = MarketBlend(((0.0, 0.05), (6.0, 0.4), (24.0, 0.8)), ((0.0, 0.1), (12.0, 0.6)))
MIDS = st.lists(st.one_of(st.none(), st.floats(0, 1)), min_size=1, max_size=10)


@settings(max_examples=500, deadline=None)
@given(
    mids=MIDS,
    data=st.data(),
    hours=st.floats(0, 48),
    extreme=st.sampled_from(EXTREMES),
)
def test_event_pool_is_blend_event(
    mids: list[float | None], data: st.DataObject, hours: float, extreme: Extreme
) -> None:
    unit = st.one_of(st.just(0.0), st.just(1.0), st.floats(0, 1), st.floats(0, 1e-6))
    models = data.draw(st.lists(unit, min_size=len(mids), max_size=len(mids)))
    want = reference.blend_event(BLEND, models, mids, hours, extreme)
    assert BLEND.blend_event(models, mids, hours, extreme) == want
    assert BLEND.event_pool(mids, hours, extreme)(models) == want


@settings(max_examples=300, deadline=None)
@given(
    dist=DISTRIBUTIONS,
    low=st.integers(-30, 110),
    widths=st.lists(st.integers(1, 4), max_size=10),
    mids=st.data(),
    hours=st.floats(0, 48),
    blended=st.booleans(),
)
def test_fair_values_are_those_of_moved_distributions(
    dist: TempDistribution, low: int, widths: list[int], mids: st.DataObject, hours: float, blended: bool
) -> None:
    brackets = partition(low, widths)
    book = {b.ticker: mids.draw(st.one_of(st.none(), st.floats(0, 1))) for b in brackets}

    def adjust(tickers: Sequence[str], values: list[float]) -> list[float]:
        return BLEND.blend_event(values, [book[t] for t in tickers], hours, dist.extreme)

    chosen = adjust if blended else None
    got = fair_values_from_distribution(dist, brackets, 7, adjust=chosen)
    assert got == reference.fair_values_from_distribution(dist, brackets, 7, adjust=chosen)
