"""sim/world/calibration_targets.py: the table of figures and the world's settings derived from it — the
favourite–longshot curves pass through their published anchors, the market's forecast ratio, the
liquidity tiers and the listing lead."""

from __future__ import annotations

import math

import pytest

from kalshi_trader.sim.world.calibration_targets import (
    FIGURES,
    KALSHI_WIDE_PRICES,
    LISTING_LEAD_MS,
    WEATHER_PRICES,
    FavouriteLongshot,
    figure,
    market_sigma_ratio,
    tier_of,
)
from kalshi_trader.sim.world.cities import SERIES


def test_every_figure_names_its_public_source_and_a_tolerance() -> None:
    keys = [f.key for f in FIGURES]
    assert len(keys) == len(set(keys))
    for f in FIGURES:
        assert f.tolerance > 0
        assert f.source
        assert "/work/" not in f.source
        assert "shared" not in f.source
    assert figure("listing_lead").target == 42.0
    with pytest.raises(KeyError):
        figure("nope")


@pytest.mark.parametrize(
    ("curve", "anchors"),
    [
        (WEATHER_PRICES, [(0.322, 0.322), (0.011, 0.001), (0.989, 0.999), (0.95, 0.95 * 1.0169 + 0.0033)]),
        (KALSHI_WIDE_PRICES, [(0.511, 0.511), (0.05, 0.0418), (0.95, 0.98)]),
    ],
)
def test_the_price_curves_pass_through_their_anchors(
    curve: FavouriteLongshot, anchors: list[tuple[float, float]]
) -> None:
    for price, win in anchors:
        assert curve.win_rate(price) == pytest.approx(win, abs=1e-6)
        assert curve.price(win) == pytest.approx(price, abs=1e-6)


@pytest.mark.parametrize("curve", [WEATHER_PRICES, KALSHI_WIDE_PRICES])
def test_cheap_contracts_are_dear_and_favourites_cheap(curve: FavouriteLongshot) -> None:
    previous = 0.0
    for i in range(1, 1000):
        p = i / 1000
        price = curve.price(p)
        assert previous < price < 1.0  # monotone, inside (0, 1)
        previous = price
        assert curve.win_rate(price) == pytest.approx(p, abs=1e-7)
        if p < curve.break_even:
            assert price >= p - 1e-12
        else:
            assert price <= p + 1e-12
    assert abs(curve.price(0.5) - 0.5) < 0.01  # the middle is nearly fair
    assert curve.price(1e-12) > 0.0


def test_a_curve_through_two_anchors_on_one_side_gets_their_power() -> None:
    power = FavouriteLongshot.power_through(0.4, (0.9, 0.93), (0.99, 0.998))
    curve = FavouriteLongshot.through(0.4, cheap=(0.02, 0.01), dear=(0.99, 0.998), power=power)
    assert curve.win_rate(0.9) == pytest.approx(0.93, abs=1e-6)
    assert curve.win_rate(0.99) == pytest.approx(0.998, abs=1e-6)
    with pytest.raises(ValueError, match="break_even"):
        FavouriteLongshot(1.2, 0.1, 0.1)
    honest = FavouriteLongshot(0.5, 0.0, 0.0)
    assert honest.price(0.123) == pytest.approx(0.123)


def test_the_market_forecast_is_sharper_far_from_the_peak() -> None:
    assert market_sigma_ratio(24.0) == market_sigma_ratio(6.0) < market_sigma_ratio(3.0) < market_sigma_ratio(0.0)
    assert market_sigma_ratio(-5.0) == market_sigma_ratio(0.0) < 1.0
    assert math.isclose(market_sigma_ratio(1.5), (market_sigma_ratio(0.0) + market_sigma_ratio(3.0)) / 2)


def test_tiers_and_listing_lead() -> None:
    assert tier_of("KXHIGHNY", "high").tier == "deep"
    assert tier_of("KXHIGHLAX", "high").tier == "deep"
    assert tier_of("KXHIGHCHI", "high").tier == "standard"
    assert {tier_of(s.ticker, s.extreme).tier for s in SERIES.values() if s.extreme == "low"} == {"thin"}
    deep, standard, thin = tier_of("KXHIGHNY", "high"), tier_of("KXHIGHCHI", "high"), tier_of("KXLOWTNYC", "low")
    assert deep.size > standard.size > thin.size
    assert deep.spread < standard.spread < thin.spread
    assert deep.activity > standard.activity > thin.activity
    assert LISTING_LEAD_MS == 42 * 3_600_000
