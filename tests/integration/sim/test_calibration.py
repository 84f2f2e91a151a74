"""The living world reproduces the published Kalshi figures of ``sim/world/calibration_targets.py``: one
calibration run of the default series (seven daily highs, three lows, the other markets) over three
simulated days, measured by ``sim.world.measurements`` and compared figure by figure, then the weather
win rate decile by decile against the favourite–longshot curve."""

from __future__ import annotations

import pytest

from kalshi_trader.sim.world.calibration_targets import FIGURES, WEATHER_PRICES
from kalshi_trader.sim.world.cities import DEFAULT_SERIES
from kalshi_trader.sim.world.measurements import CalibrationRun, Decile, run_calibration

DAYS = 3
pytestmark = pytest.mark.xdist_group("calibration")  # one calibration run for the module


@pytest.fixture(scope="module")
def calibration() -> CalibrationRun:
    return run_calibration(seed=1, days=DAYS, series=DEFAULT_SERIES)


@pytest.mark.parametrize("key", [f.key for f in FIGURES])
def test_the_world_reproduces_the_figure(calibration: CalibrationRun, key: str) -> None:
    measured = next(m for m in calibration.measured if m.figure.key == key)
    figure = measured.figure
    assert measured.value is not None, f"{key}: the run produced no data"
    assert measured.samples >= 100, (key, measured.samples)
    assert measured.passes, f"{key}: measured {measured.value:.2f}, target {figure.target} ± {figure.tolerance}"


def close_to_the_curve(decile: Decile) -> bool:
    """Win rate as traded within a quarter of the smaller of the curve's chance and its
    complement (at least 0.4, at most 1 point): tight at the extremes, where the bias lives."""
    tolerance = min(0.01, max(0.004, 0.25 * min(decile.curve, 1.0 - decile.curve)))
    return abs(decile.win_rate - decile.curve) <= tolerance


def test_the_weather_win_rate_follows_the_favourite_longshot_curve_decile_by_decile(
    calibration: CalibrationRun,
) -> None:
    table = calibration.weather_deciles()
    assert len(table) == 10
    for decile in table:
        assert decile.count >= 10_000, decile
        assert close_to_the_curve(decile), decile
    cheap, dear = table[0], table[-1]
    assert cheap.mean_return < -0.2  # cheap contracts win far less often than their price
    assert table[1].mean_return < 0.0
    assert dear.mean_return > 0.0  # favourites slightly more often
    assert dear.mean_return < 0.03
    assert WEATHER_PRICES.win_rate(cheap.mean_price) < cheap.mean_price


def test_a_world_without_the_bias_fails_the_decile_check() -> None:
    for price in (0.03, 0.97):  # contracts winning exactly as priced
        honest = Decile(0.0, 50_000.0, price, price, WEATHER_PRICES.win_rate(price))
        assert honest.mean_return == 0.0
        assert not close_to_the_curve(honest)
