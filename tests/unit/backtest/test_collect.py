"""Per-strategy P&L from the collector's fills sums exactly to the run's net P&L, with two strategies
netted in one market, a settled market, a marked one and one held with no mark at the end."""

from __future__ import annotations

from dataclasses import dataclass

from kalshi_trader.backtest.collect import BacktestResult, Collector, FillRow
from kalshi_trader.backtest.report import UNATTRIBUTED, strategy_rows
from kalshi_trader.domain import QTY_SCALE, BookSide, Fill, Money, Price, Qty
from kalshi_trader.execution.orders import OrderTracker


@dataclass
class _Engine:
    tracker: OrderTracker


FILLS = [  # (ticker, strategy, side, price, contracts, fee)
    ("X", "a", "bid", 4_000, 10, 70),
    ("X", "b", "ask", 5_500, 4, 30),  # nets against a's YES in the account
    ("Y", "a", "bid", 3_000, 5, 20),  # settles YES
    ("Z", "b", "ask", 2_000, 3, 10),  # no mark at the end: the run leaves it out
    ("Z", "a", "bid", 2_500, 1, 0),
]


def _run() -> BacktestResult:
    tracker = OrderTracker()
    collector = Collector("data", "recording", ["a", "b"], {})
    collector.engine = _Engine(tracker)  # type: ignore[assignment]
    for i, (ticker, strategy, side, price, contracts, fee) in enumerate(FILLS):
        qty = contracts * QTY_SCALE
        book_side = BookSide.BID if side == "bid" else BookSide.ASK
        tracker.on_fill(Fill(f"f{i}", f"o{i}", ticker, book_side, Price(price), Qty(qty), Money(fee), True, i))
        collector.result_.fills.append(FillRow(i, ticker, strategy, side, price, qty, fee, True))
    tracker.on_settlement("Y", 10_000)
    marks = {"X": 5_000}
    r = collector.result_
    r.realized, r.unrealized, r.fees = tracker.realized_pnl(), tracker.unrealized_pnl(marks), tracker.fees_paid()
    r.markets = collector._market_pnl(marks)
    return r


def test_strategy_pnl_net_of_fees_sums_exactly_to_the_run_net() -> None:
    r = _run()
    rows = strategy_rows(r)
    by_name = {name: (pnl, fees, fills) for name, pnl, fees, fills in rows}
    assert UNATTRIBUTED not in by_name
    # a: X −$4.00 + 10 × $0.50; Y −$1.50 + 5 × $1; Z −$0.25 + 1 at the account's entry ($0.20 YES)
    assert by_name["a"] == (-40_000 + 50_000 - 70 + -15_000 + 50_000 - 20 + -2_500 + 2_000, 90, 3)
    # b: X +$2.20 − 4 × $0.50; Z +$0.60 − 3 at $0.20
    assert by_name["b"] == (22_000 - 20_000 - 30 + 6_000 - 6_000 - 10, 40, 2)
    # the account: realized X $0.60 + Y $3.50 + Z −$0.05, unrealized X $0.60, fees $0.013
    assert r.net == 6_000 + 35_000 - 500 + 6_000 - 130
    assert sum(pnl for _, pnl, _, _ in rows) == r.net
    assert sum(fees for _, _, fees, _ in rows) == r.fees


def test_what_no_strategy_carries_is_shown_in_its_own_row() -> None:
    r = _run()
    r.fees += 5  # a fee paid outside any fill
    rows = strategy_rows(r)
    assert rows[-1] == (UNATTRIBUTED, -5, 5, 0)
    assert sum(pnl for _, pnl, _, _ in rows) == r.net
