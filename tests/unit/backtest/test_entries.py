"""The favourite's entries by entry price: FIFO attribution of exits, settlement and fees, exact money."""

from __future__ import annotations

import io

from rich.console import Console

from kalshi_trader.backtest.collect import BacktestResult, FillRow
from kalshi_trader.backtest.entries import entry_buckets
from kalshi_trader.backtest.html import render_html
from kalshi_trader.backtest.report import render_console


def _fill(ts: int, ticker: str, side: str, price: int, contracts: int, fee: int, strategy: str = "favorite") -> FillRow:
    return FillRow(ts, ticker, strategy, side, price, contracts * 100, fee, True)


def _result() -> BacktestResult:
    r = BacktestResult("data", "recording", ["favorite", "weather_mm"], {})
    r.outcomes = {"A": 10_000, "B": 10_000}
    r.fills = [
        # A: two YES entries; the sale closes the older one, the other settles YES at $1.
        _fill(1, "A", "bid", 8_600, 2, 300),
        _fill(2, "A", "bid", 9_000, 1, 100),
        _fill(3, "A", "ask", 9_200, 2, 200),
        _fill(3, "A", "bid", 5_000, 7, 900, strategy="weather_mm"),  # another strategy's: left out
        # B: NO bought at $0.95 (YES sold at 0.05); B settles YES: the NO entry loses.
        _fill(4, "B", "ask", 500, 3, 300),
        # C: a sale of 2 closes the 1 held and opens a NO entry at $0.01 that is still open (no outcome).
        _fill(5, "C", "bid", 9_700, 1, 100),
        _fill(6, "C", "ask", 9_900, 2, 200),
        # D: one sale closes two entries; its fee is shared pro rata, the remainder to the last.
        _fill(7, "D", "bid", 8_800, 1, 100),
        _fill(8, "D", "bid", 8_900, 2, 100),
        _fill(9, "D", "ask", 8_000, 3, 301),
    ]
    return r


def test_entries_are_bucketed_by_the_price_paid_with_exact_pnl_net_of_fees() -> None:
    rows = [(b.label, b.entries, b.contracts, b.decided, b.won, b.pnl) for b in entry_buckets(_result())]
    assert rows == [
        ("below 0.85", 1, 100, 0, 0, -100),  # C's open NO entry: only its fee share so far
        ("0.85-0.88", 1, 200, 1, 1, 1_200 - 300 - 200),  # A: 2 × (0.92 − 0.86), own fee, the sale's fee
        # A's settled entry 1 × (1 − 0.90) − 0.01; D's: 1 × (0.80 − 0.88) − 0.01 − 0.01 and
        # 2 × (0.80 − 0.89) − 0.01 − 0.0201
        ("0.88-0.91", 3, 400, 3, 1, (1_000 - 100) + (-800 - 100 - 100) + (-1_800 - 100 - 201)),
        ("0.94-0.97", 1, 300, 1, 0, -28_500 - 300),  # B: 3 × (0 − 0.95) − 0.03
        ("0.97-1.00", 1, 100, 1, 1, 200 - 100 - 100),  # C: won before fees, flat after them
    ]


def test_the_console_and_html_reports_show_the_buckets() -> None:
    out = io.StringIO()
    render_console(_result(), Console(file=out, width=200))
    text = out.getvalue()
    assert "entries by entry price" in text
    row = next(line for line in text.splitlines() if "0.88-0.91" in line)
    assert [cell.strip() for cell in row.split("│")[2:6]] == ["3", "4.00", "33% (1/3)", "-0.22"]
    page = render_html(_result())
    assert "<td>0.94-0.97</td><td>1</td><td>3.00</td><td>0% (0/1)</td><td>-2.88</td>" in page
