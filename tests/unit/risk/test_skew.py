"""Inventory skew: a pure function of position and limits → tick offset, and moves on the grid."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_trader.domain import TickGrid, parse_price
from kalshi_trader.risk.skew import inventory_skew_ticks, shift_on_grid


@pytest.mark.parametrize(
    ("position", "ticks"),
    [(0, 0), (100, -1), (250, -3), (249, -2), (500, -5), (1_000, -10), (5_000, -10), (-250, 3), (-1_000, 10)],
)
def test_skew_is_linear_rounded_and_clamped(position: int, ticks: int) -> None:
    # Limit 10 contracts, at most 10 ticks: one tick per contract held.
    assert inventory_skew_ticks(position, 1_000, 10) == ticks


@given(st.integers(-(10**6), 10**6), st.integers(1, 10**6), st.integers(0, 50))
def test_skew_leans_against_inventory_and_stays_in_bounds(position: int, limit: int, max_ticks: int) -> None:
    ticks = inventory_skew_ticks(position, limit, max_ticks)
    assert -max_ticks <= ticks <= max_ticks
    assert ticks * position <= 0  # long YES → quote lower, long NO → quote higher
    assert inventory_skew_ticks(-position, limit, max_ticks) == -ticks


def test_skew_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="max_position"):
        inventory_skew_ticks(1, 0, 3)
    with pytest.raises(ValueError, match="max_skew_ticks"):
        inventory_skew_ticks(1, 10, -1)


def test_shift_on_a_tapered_grid_uses_each_bands_tick() -> None:
    grid = TickGrid.named("tapered_deci_cent")
    p = parse_price
    assert shift_on_grid(grid, p("0.50"), 2) == p("0.52")
    assert shift_on_grid(grid, p("0.10"), -2) == p("0.098")  # below 0.10 the tick is 0.001
    assert shift_on_grid(grid, p("0.905"), 1) == p("0.906")
    assert shift_on_grid(grid, p("0.555"), 1) == p("0.56")  # off grid: the next level up
    assert shift_on_grid(grid, p("0.555"), -1) == p("0.55")
    assert shift_on_grid(grid, p("0.002"), -5) == p("0.001")  # never $0
    assert shift_on_grid(grid, p("0.998"), 5) == p("0.999")  # never $1
