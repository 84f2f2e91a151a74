"""The report's figures from a result: Brier scores by hours to close, calibration bins, drawdown,
win rate, and the HTML page that opens offline."""

from __future__ import annotations

import re

import pytest

from kalshi_trader.backtest.collect import HOUR_MS, BacktestResult, FillRow, MarketPnl
from kalshi_trader.backtest.html import render_html
from kalshi_trader.backtest.report import brier_rows, calibration, summary


def _result() -> BacktestResult:
    r = BacktestResult("data <dir>", "recording", ["favorite"], {"risk.max_open_orders": "5"})
    r.outcomes = {"A": 10_000, "B": 0}
    r.fair_samples = [
        ("A", 2 * HOUR_MS, 8_000, 6_000),  # 1-3 h: fair (0.8 vs 1) beats mid (0.6 vs 1)
        ("B", 2 * HOUR_MS, 3_000, 1_000),  # 1-3 h: mid beats fair
        ("A", 30 * HOUR_MS, 5_000, 5_000),  # 24-48 h
        ("C", 2 * HOUR_MS, 5_000, 5_000),  # no outcome: left out
    ]
    r.equity = [(0, 0), (1, 50_000), (2, -20_000), (3, 10_000)]
    r.markets = [
        MarketPnl("A", "favorite", cash=-8_000, fees=100, position=100, fills=1, value=10_000, valued="settled"),
        MarketPnl("B", "favorite", cash=3_000, fees=100, position=-100, fills=1, value=0, valued="settled"),
        MarketPnl("C", "favorite", cash=-5_000, position=100, fills=1, valued="unmarked"),
    ]
    r.fills = [FillRow(1, "A", "favorite", "bid", 8_000, 100, 100, True)]
    r.prices = {"A": [(0, 7_900, 8_100), (1, 8_000, 8_200)]}
    r.titles = {"A": "<script>alert(1)</script>"}
    return r


def test_brier_scores_compare_the_fair_value_with_the_mid_by_hours_to_close() -> None:
    rows = brier_rows(_result())
    assert [(label, n, markets) for label, n, markets, _, _ in rows] == [("1-3 h", 2, 2), ("24-48 h", 1, 1)]
    _, _, _, fair, mid = rows[0]
    assert fair == pytest.approx(((0.8 - 1) ** 2 + (0.3 - 0) ** 2) / 2)
    assert mid == pytest.approx(((0.6 - 1) ** 2 + (0.1 - 0) ** 2) / 2)


def test_calibration_bins_hold_the_mean_fair_value_and_the_yes_rate() -> None:
    bins = calibration(_result(), bins=10)
    assert [(round(c, 2), round(p, 2), y, n) for c, p, y, n in bins] == [
        (0.35, 0.3, 0.0, 1),
        (0.55, 0.5, 1.0, 1),
        (0.85, 0.8, 1.0, 1),
    ]


def test_drawdown_and_win_rate() -> None:
    s = summary(_result())
    assert s.max_drawdown == 70_000  # from the 5.00 peak down to -2.00
    assert (s.wins, s.decided) == (2, 2)  # A and B won; C is unmarked


def test_the_html_report_is_self_contained_and_escapes_what_it_shows() -> None:
    page = render_html(_result())
    assert page.startswith("<!doctype html>")
    assert "<svg" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "data &lt;dir&gt;" in page
