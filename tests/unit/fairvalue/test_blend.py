"""``fairvalue.blend``: the model pooled with the market mid on log-odds, weighted by hours to the
close — endpoints, monotonic in the weight, always between the two, extremes kept finite, an
event's values pulled toward a sum of 1 as far as the model is trusted, daily lows weighted by
their own knots, the settings validated."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from kalshi_trader.config import FairValueSettings, Settings
from kalshi_trader.domain import Price, TopOfBook
from kalshi_trader.fairvalue.blend import EDGE, MarketBlend, book_mid, top_mid

probability = st.floats(min_value=0.0, max_value=1.0)
inner = st.floats(min_value=0.001, max_value=0.999)


def constant(weight: float) -> MarketBlend:
    return MarketBlend(((1.0, weight),))


def test_weight_is_linear_between_knots_and_flat_outside() -> None:
    blend = MarketBlend(((2.0, 1.0), (12.0, 0.5), (24.0, 0.0)))
    assert blend.weight(0.0) == blend.weight(2.0) == 1.0
    assert blend.weight(7.0) == pytest.approx(0.75)
    assert blend.weight(18.0) == pytest.approx(0.25)
    assert blend.weight(24.0) == blend.weight(40.0) == 0.0


@pytest.mark.parametrize(
    "knots",
    [(), ((2.0, 0.5), (2.0, 0.6)), ((5.0, 0.5), (2.0, 0.6)), ((1.0, 1.2),), ((1.0, -0.1),), ((math.inf, 0.5),)],
)
def test_bad_knots_are_refused(knots: tuple[tuple[float, float], ...]) -> None:
    with pytest.raises(ValueError, match=r"knot|hours|weights"):
        MarketBlend(knots)


@given(inner, inner)
def test_weight_one_is_the_model_and_weight_zero_the_mid(p_model: float, p_mid: float) -> None:
    assert constant(1.0).blend(p_model, p_mid, 5.0) == pytest.approx(p_model, abs=1e-12)
    assert constant(0.0).blend(p_model, p_mid, 5.0) == pytest.approx(p_mid, abs=1e-12)


@given(probability, probability, st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_monotonic_in_the_weight_and_always_between_the_two(p_model: float, p_mid: float, w1: float, w2: float) -> None:
    low_w, high_w = sorted((w1, w2))
    a, b = constant(low_w).blend(p_model, p_mid, 1.0), constant(high_w).blend(p_model, p_mid, 1.0)
    model, mid = (min(1 - EDGE, max(EDGE, p)) for p in (p_model, p_mid))  # the clamped inputs
    for p in (a, b):
        assert min(model, mid) - 1e-12 <= p <= max(model, mid) + 1e-12
    # more weight on the model moves the value toward it (never past it)
    if p_model >= p_mid:
        assert b >= a - 1e-12
    else:
        assert b <= a + 1e-12


@pytest.mark.parametrize(("p_model", "p_mid"), [(0.0, 0.5), (1.0, 0.5), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0), (1.0, 1.0)])
def test_extremes_stay_finite_and_within_a_tick_of_certainty(p_model: float, p_mid: float) -> None:
    value = constant(0.5).blend(p_model, p_mid, 3.0)
    assert math.isfinite(value)
    assert EDGE - 1e-12 <= value <= 1 - EDGE + 1e-12
    if p_model != p_mid:  # one side certain, the other not: the blend is not certain
        assert 0.0 < value < 1.0


def test_no_mid_gives_the_model() -> None:
    assert constant(0.0).blend(0.3, None, 2.0) == 0.3


def test_event_values_run_from_the_mids_to_the_model_and_an_impossible_bracket_stays_impossible() -> None:
    models = [0.0, 0.1, 0.6, 0.3]  # sums to 1; the first bracket is dead (the observations decided it)
    mids = [0.02, 0.2, 0.5, 0.4]  # sums to 1.12
    assert constant(0.0).blend_event(models, mids, 9.0) == [0.0, *mids[1:]]
    assert constant(1.0).blend_event(models, mids, 9.0) == pytest.approx(models)
    half = constant(0.5).blend_event(models, mids, 9.0)
    assert half[0] == 0.0
    pooled = [constant(0.5).blend(m, k, 9.0) for m, k in zip(models[1:], mids[1:], strict=True)]
    assert math.fsum(half) == pytest.approx(math.fsum(pooled) ** 0.5)  # halfway to a sum of 1, on log scale
    assert all(0.0 <= p <= 1.0 for p in half)


def test_event_without_any_mass_gives_back_the_model() -> None:
    assert constant(0.5).blend_event([0.0, 0.0], [0.5, 0.5], 1.0) == [0.0, 0.0]
    with pytest.raises(ValueError, match="one mid"):
        constant(0.5).blend_event([0.5, 0.5], [0.5], 1.0)


def test_lows_are_weighted_by_their_own_knots_and_by_the_highs_without_them() -> None:
    blend = MarketBlend(((1.0, 1.0), (12.0, 0.5)), low_knots=((2.0, 0.0), (6.0, 0.8)))
    assert blend.weight(1.0) == blend.weight(1.0, "high") == 1.0
    assert blend.weight(1.0, "low") == 0.0
    assert blend.weight(4.0, "low") == pytest.approx(0.4)
    assert blend.weight(30.0, "low") == pytest.approx(0.8)
    models, mids = [0.1, 0.6, 0.3], [0.2, 0.5, 0.3]
    assert blend.blend_event(models, mids, 1.0, "high") == pytest.approx(models)
    assert blend.blend_event(models, mids, 1.0, "low") == pytest.approx(mids)
    assert blend.blend(0.1, 0.2, 4.0, "low") == constant(0.4).blend(0.1, 0.2, 4.0)
    same = MarketBlend(((1.0, 1.0), (12.0, 0.5)))
    assert [same.weight(h, "low") for h in (0.5, 6.0, 20.0)] == [same.weight(h) for h in (0.5, 6.0, 20.0)]
    with pytest.raises(ValueError, match="strictly increasing"):
        MarketBlend(((1.0, 1.0),), low_knots=((6.0, 0.5), (2.0, 0.5)))
    with pytest.raises(ValueError, match="at least one"):
        MarketBlend(((1.0, 1.0),), low_knots=())


def test_book_mid() -> None:
    assert book_mid(0.40, 0.44) == pytest.approx(0.42)
    assert book_mid(0.96, None) == pytest.approx(0.98)  # bids only: halfway to $1
    assert book_mid(None, 0.04) == pytest.approx(0.02)  # asks only: halfway to $0
    assert book_mid(None, None) is None
    top = TopOfBook("T", Price(4_000), Price(4_400), 0)
    assert top_mid(top) == pytest.approx(0.42)
    assert top_mid(TopOfBook("T", Price(4_000), Price(4_400), 0, stale=True)) is None
    assert top_mid(None) is None


def test_settings_default_is_a_valid_blend_and_bad_settings_are_refused() -> None:
    blend = MarketBlend.from_settings(Settings().fair_value)
    assert all(0.0 <= blend.weight(h) <= 1.0 for h in (0.0, 0.5, 6.0, 24.0, 48.0))
    with pytest.raises(ValidationError, match="strictly increasing"):
        FairValueSettings(model_weight_by_hours=((6.0, 0.5), (2.0, 0.5)))
    with pytest.raises(ValidationError, match=r"within 0\.\.1"):
        FairValueSettings(model_weight_by_hours=((6.0, 1.5),))
    with pytest.raises(ValidationError, match=r"within 0\.\.1"):
        FairValueSettings(low_model_weight_by_hours=((6.0, -0.5),))


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_TRADER_FAIR_VALUE__MODEL_WEIGHT_BY_HOURS", "[[0, 1]]")
    monkeypatch.setenv("KALSHI_TRADER_FAIR_VALUE__LOW_MODEL_WEIGHT_BY_HOURS", "[[0, 0.25]]")
    blend = MarketBlend.from_settings(Settings().fair_value)
    assert blend.weight(30.0) == 1.0
    assert blend.weight(30.0, "low") == 0.25
