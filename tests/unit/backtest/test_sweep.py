"""``--sweep``: the grid of combinations, and each row's command that reruns it alone."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from kalshi_trader.backtest.sweep import SweepJob, grid, parse_sweep, row_command
from kalshi_trader.config import Settings


def test_every_combination_once_the_last_dimension_fastest() -> None:
    dims = parse_sweep(["risk.max_open_orders=5,10", "strategies.favorite.min_probability=0.8,0.9,0.8"])
    assert dims == [("risk.max_open_orders", ["5", "10"]), ("strategies.favorite.min_probability", ["0.8", "0.9"])]
    assert grid(dims) == [
        (("risk.max_open_orders", "5"), ("strategies.favorite.min_probability", "0.8")),
        (("risk.max_open_orders", "5"), ("strategies.favorite.min_probability", "0.9")),
        (("risk.max_open_orders", "10"), ("strategies.favorite.min_probability", "0.8")),
        (("risk.max_open_orders", "10"), ("strategies.favorite.min_probability", "0.9")),
    ]


@pytest.mark.parametrize("text", ["risk.max_open_orders", "max_open_orders=1,2", "risk.max_open_orders= , "])
def test_a_malformed_dimension_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--sweep"):
        parse_sweep([text])


def test_a_dimension_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        parse_sweep(["risk.max_open_orders=1", "risk.max_open_orders=2"])


def test_a_rows_command_is_the_base_command_with_its_values_set() -> None:
    base = ("kalshi-trader", "backtest", "--data", "my data", "--set", "risk.max_open_orders=3")
    job = SweepJob(Path("my data"), Settings(), ("favorite",), None, None, (("risk.max_open_orders", "3"),), base)
    command = row_command(job, (("strategies.favorite.min_probability", "0.9"),))
    assert shlex.split(command) == [*base, "--set", "strategies.favorite.min_probability=0.9"]
