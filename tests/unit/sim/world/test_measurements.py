"""sim/world/measurements.py on hand-made prints and books: each trade is two purchases, makers and
takers on opposite sides, deciles, mids of one-sided books, the report."""

from __future__ import annotations

import pytest

from kalshi_trader.sim.world.calibration_targets import FIGURES, WEATHER_PRICES
from kalshi_trader.sim.world.measurements import Measured, Print, Top, deciles, purchases, report


def test_a_trade_is_two_purchases_paying_the_oracles_chance() -> None:
    prints = [Print("t1", "M", 0.04, 10.0, True, 0.01), Print("t2", "M", 0.96, 5.0, False, 0.99)]
    every, takers, makers = purchases(prints)
    assert [(b.price, b.payout, b.count) for b in every] == [
        (0.04, 0.01, 10.0),
        (pytest.approx(0.96), pytest.approx(0.99), 10.0),
        (0.96, 0.99, 5.0),
        (pytest.approx(0.04), pytest.approx(0.01), 5.0),
    ]
    # the first taker bought YES at 4¢ (the maker NO at 96¢); the second sold YES at 96¢ (bought NO at 4¢)
    assert [round(b.price, 2) for b in takers] == [0.04, 0.04]
    assert [round(b.price, 2) for b in makers] == [0.96, 0.96]


def test_deciles_weigh_contracts_and_carry_the_curve() -> None:
    prints = [Print(str(i), "M", 0.02, 100.0, True, 0.01) for i in range(3)]
    table = deciles(prints)
    cheap = next(d for d in table if d.low == 0.0)
    dear = next(d for d in table if d.low == pytest.approx(0.9))
    assert (cheap.count, cheap.mean_price, cheap.win_rate) == (300.0, 0.02, 0.01)
    assert cheap.mean_return == pytest.approx(-0.5)
    assert cheap.curve == pytest.approx(WEATHER_PRICES.win_rate(0.02))
    assert (dear.mean_price, dear.win_rate) == (pytest.approx(0.98), pytest.approx(0.99))


def test_mid_of_one_sided_and_empty_books() -> None:
    assert Top("M", 0, 0.40, 10.0, 0.44).mid == pytest.approx(0.42)
    assert Top("M", 0, None, 0.0, 0.02).mid == pytest.approx(0.01)  # only an ask: halfway to $0
    assert Top("M", 0, 0.98, 5.0, None).mid == pytest.approx(0.99)
    assert Top("M", 0, None, 0.0, None).mid is None
    assert not Top("M", 0, None, 0.0, 0.02).two_sided


def test_report_lines_say_whether_each_figure_passes() -> None:
    first, second = FIGURES[0], FIGURES[1]
    rows = report([Measured(first, first.target, 500), Measured(second, None, 0)])
    assert rows[0].startswith("figure")
    assert first.key in rows[1]
    assert " yes " in rows[1]
    assert "—" in rows[2]
    assert " NO " in rows[2]
    assert not Measured(first, first.target + 2 * first.tolerance, 10).passes
