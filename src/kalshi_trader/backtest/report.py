"""The backtest's figures, computed from a ``BacktestResult``, and the console table.

Contract:
- ``summary(result)`` → ``Summary``: P&L (realized and unrealized from the engine's tracker, fees,
  net), fills (count, taker share), win rate (markets traded whose P&L is above zero, among those
  settled, closed flat or marked), max drawdown of the net P&L samples, exposure high-water marks,
  refused intents by rule per strategy, and the fair value's Brier score beside the market mid's
  by hours to close (``BRIER_BUCKETS``) over the samples of markets whose outcome is known.
- ``brier_rows(result)``: (bucket label, samples, markets, Brier of fair value, Brier of mid).
- ``calibration(result, bins)``: (bin centre, mean fair value, observed YES frequency, samples)
  per bin of the fair value, over samples with a known outcome.
- ``entry_rows(result)``: the favourite's entries by entry price bucket (``entries.entry_buckets``)
  as text cells: bucket, entries, contracts, win rate, realized P&L net of fees ($).
- ``strategy_rows(result)``: (strategy, P&L net of fees, fees, fills) per strategy from the
  per-market rows, then ``UNATTRIBUTED`` with what of the run's net P&L no strategy carries
  (rounding below $0.0001 per fill, and fees not paid on a fill, e.g. at settlement) when that is
  not zero: the P&L column always sums exactly to ``result.net``.
- ``render_console(result, console)`` prints the tables (rich); ``money(m)`` formats dollars.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from rich.console import Console
from rich.table import Table

from kalshi_trader.backtest.collect import HOUR_MS, BacktestResult
from kalshi_trader.backtest.entries import entry_buckets
from kalshi_trader.domain import PRICE_SCALE, QTY_SCALE

__all__ = [
    "BRIER_BUCKETS",
    "ENTRY_HEADERS",
    "UNATTRIBUTED",
    "Summary",
    "brier_rows",
    "calibration",
    "entry_rows",
    "money",
    "render_console",
    "strategy_rows",
    "summary",
]

BRIER_BUCKETS: Final = ((0, 1), (1, 3), (3, 6), (6, 12), (12, 24), (24, 48), (48, 10_000))
"""Hours to close: [low, high)."""
TRADE_MODEL_NOTE: Final = (
    "history download: no order book was recorded; fills come from the trade-based model "
    "(docs/backtesting.md): a resting order fills only when a recorded trade prints at or through "
    "its price, after the size displayed ahead of it; a marketable order takes the candle's "
    "quoted size at the candle's bid/ask"
)

UNATTRIBUTED: Final = "(not attributable: rounding, other fees)"
ENTRY_HEADERS: Final = ("entry price", "entries", "contracts", "win rate", "realized net P&L ($)")


@dataclass(frozen=True, slots=True)
class Summary:
    realized: int
    unrealized: int
    fees: int
    net: int
    fills: int
    taker_fills: int
    contracts: int
    markets_traded: int
    wins: int
    decided: int
    max_drawdown: int
    max_total_exposure: int
    max_position: int
    max_position_ticker: str
    max_open_orders: int

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.decided if self.decided else None


def money(amount: int) -> str:
    """``Money`` as dollars with cents: ``-12.34``."""
    return f"{amount / PRICE_SCALE:,.2f}"


def summary(result: BacktestResult) -> Summary:
    decided = [m for m in result.markets if m.valued != "unmarked"]
    return Summary(
        realized=result.realized,
        unrealized=result.unrealized,
        fees=result.fees,
        net=result.net,
        fills=len(result.fills),
        taker_fills=sum(1 for f in result.fills if f.taker),
        contracts=sum(f.qty for f in result.fills),
        markets_traded=len({m.ticker for m in result.markets}),
        wins=sum(1 for m in decided if m.pnl > 0),
        decided=len(decided),
        max_drawdown=result.max_drawdown,
        max_total_exposure=result.max_total_exposure,
        max_position=result.max_position,
        max_position_ticker=result.max_position_ticker,
        max_open_orders=result.max_open_orders,
    )


def _bucket(ms_to_close: int) -> tuple[int, int] | None:
    hours = ms_to_close / HOUR_MS
    for low, high in BRIER_BUCKETS:
        if low <= hours < high:
            return low, high
    return None


def brier_rows(result: BacktestResult) -> list[tuple[str, int, int, float, float]]:
    sums: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    markets: dict[tuple[int, int], set[str]] = defaultdict(set)
    for ticker, to_close, fair, mid in result.fair_samples:
        outcome = result.outcomes.get(ticker)
        bucket = _bucket(to_close)
        if outcome is None or bucket is None:
            continue
        y = outcome / PRICE_SCALE
        acc = sums[bucket]
        acc[0] += 1
        acc[1] += (fair / PRICE_SCALE - y) ** 2
        acc[2] += (mid / PRICE_SCALE - y) ** 2
        markets[bucket].add(ticker)
    rows = []
    for bucket in BRIER_BUCKETS:
        if bucket not in sums:
            continue
        n, fair_sq, mid_sq = sums[bucket]
        low, high = bucket
        label = f"{low}-{high} h" if high < 10_000 else f"{low}+ h"
        rows.append((label, int(n), len(markets[bucket]), fair_sq / n, mid_sq / n))
    return rows


def calibration(result: BacktestResult, bins: int = 10) -> list[tuple[float, float, float, int]]:
    acc: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for ticker, _, fair, _ in result.fair_samples:
        outcome = result.outcomes.get(ticker)
        if outcome is None:
            continue
        p = fair / PRICE_SCALE
        index = min(bins - 1, int(p * bins))
        a = acc[index]
        a[0] += 1
        a[1] += p
        a[2] += outcome / PRICE_SCALE
    return [((i + 0.5) / bins, acc[i][1] / acc[i][0], acc[i][2] / acc[i][0], int(acc[i][0])) for i in sorted(acc)]


def entry_rows(result: BacktestResult) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for b in entry_buckets(result):
        win = "-" if b.win_rate is None else f"{b.win_rate:.0%} ({b.won}/{b.decided})"
        rows.append((b.label, str(b.entries), f"{b.contracts / QTY_SCALE:,.2f}", win, money(b.pnl)))
    return rows


def strategy_rows(result: BacktestResult) -> list[tuple[str, int, int, int]]:
    by_strategy: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for m in result.markets:
        acc = by_strategy[m.strategy]
        acc[0] += m.pnl
        acc[1] += m.fees
        acc[2] += m.fills
    rows = [(name, pnl, fees, fills) for name, (pnl, fees, fills) in sorted(by_strategy.items())]
    rest = result.net - sum(row[1] for row in rows)
    if rest:
        rows.append((UNATTRIBUTED, rest, result.fees - sum(row[2] for row in rows), 0))
    return rows


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC") if ms else "-"


def render_console(result: BacktestResult, console: Console) -> None:
    s = summary(result)
    console.print(
        f"Backtest of {result.data} ({result.data_kind}): {result.records:,} records, {result.frames:,} frames, "
        f"{_when(result.start_ms)} → {_when(result.end_ms)}; trading from {_when(result.trading_from_ms)}; "
        f"strategies: {', '.join(result.strategies) or 'none'}; {result.wall_s:.1f} s"
    )
    if result.overrides:
        console.print("Settings: " + ", ".join(f"{k}={v}" for k, v in sorted(result.overrides.items())))
    if result.data_kind == "history":
        console.print(f"[yellow]Note: {TRADE_MODEL_NOTE}[/yellow]")
    if result.gaps:
        console.print("Gaps in the data: " + ", ".join(f"{k} ×{v}" for k, v in sorted(result.gaps.items())))
    table = Table(title="Result", show_header=True)
    table.add_column("figure")
    table.add_column("value", justify="right")
    win = "-" if s.win_rate is None else f"{s.win_rate:.0%} ({s.wins}/{s.decided} markets)"
    for label, value in (
        ("P&L realized ($)", money(s.realized)),
        ("P&L unrealized ($, at last mids)", money(s.unrealized)),
        ("fees ($)", money(s.fees)),
        ("net P&L ($)", money(s.net)),
        ("fills (taker)", f"{s.fills} ({s.taker_fills})"),
        ("contracts filled", f"{s.contracts / QTY_SCALE:,.2f}"),
        ("markets traded", str(s.markets_traded)),
        ("win rate", win),
        ("max drawdown ($)", money(s.max_drawdown)),
        ("max total exposure ($)", money(s.max_total_exposure)),
        ("max position (contracts)", f"{s.max_position / QTY_SCALE:,.2f} {s.max_position_ticker}".strip()),
        ("max open orders", str(s.max_open_orders)),
    ):
        table.add_row(label, value)
    console.print(table)
    by_strategy = strategy_rows(result)
    if by_strategy:
        st = Table(title=f"By strategy (net P&L sums to the run's {money(result.net)})")
        for col in ("strategy", "net P&L ($, after fees)", "fees ($)", "fills"):
            st.add_column(col, justify="left" if col == "strategy" else "right")
        for name, pnl, fees, fills in by_strategy:  # to $0.0001, so the rows visibly add up
            st.add_row(name, f"{pnl / PRICE_SCALE:,.4f}", f"{fees / PRICE_SCALE:,.4f}", str(fills))
        console.print(st)
    refused = Table(title="Refused intents by rule")
    for col in ("strategy", "rule", "intents"):
        refused.add_column(col, justify="right" if col == "intents" else "left")
    for name, rules in sorted(result.refused.items()):
        for rule, count in sorted(rules.items(), key=lambda kv: -kv[1]):
            refused.add_row(name, rule, str(count))
    if refused.row_count:
        console.print(refused)
    else:
        console.print("Refused intents: none")
    entries = entry_rows(result)
    if entries:
        et = Table(title="The favourite's entries by entry price")
        for col in ENTRY_HEADERS:
            et.add_column(col, justify="left" if col == "entry price" else "right")
        for row in entries:
            et.add_row(*row)
        console.print(et)
    rows = brier_rows(result)
    if rows:
        bt = Table(title="Fair value vs market mid: Brier score by hours to close (lower is better)")
        for col in ("hours to close", "samples", "markets", "fair value", "market mid"):
            bt.add_column(col, justify="left" if col == "hours to close" else "right")
        for label, n, markets, fair, mid in rows:
            bt.add_row(label, str(n), str(markets), f"{fair:.4f}", f"{mid:.4f}")
        console.print(bt)
    else:
        console.print("Brier scores: no fair-valued market was determined within the data")
