"""Evaluate the strategies over simulated days of the embedded exchange's weather world: a backtest
of a recording of that world (one tool, not two).

For each seed: record ``--days`` of the living weather world (its default cities, highs and lows,
background traders; the feed, the markets and the NWS answers — fetched afresh every 15 market
minutes, as observations come hourly — exactly as ``kalshi-trader record`` records them, on a
stepped clock — ``tests/support/recorded_world``; kept in ``--cache`` and reused),
then run ``kalshi-trader backtest`` on it (``backtest.runner.run_backtest``: the node's strategies,
risk and execution engine, the paper venue filling the orders) and print its report: P&L per
strategy, fills, win rate, drawdown, exposure high-water marks, refusals by rule and the fair
value's Brier score against the market mid by hours to close. Then the fair value against the
mid at 24/12/6/2/0.5 h before the close (``brier_at_horizons``: every market's fair-value sample
nearest each horizon, within ``HORIZON_SLACK_MS``), for the daily highs, the lows and all.
``--report DIR`` also writes each seed's HTML report and its result as JSON (``seedN.json``);
``--set`` changes settings as ``backtest --set`` does.

    .venv/bin/python bench/evaluate_strategies.py --days 2 --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import structlog
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support

from kalshi_trader.backtest.collect import BacktestResult
from kalshi_trader.backtest.html import render_html
from kalshi_trader.backtest.overrides import apply, parse_assignment
from kalshi_trader.backtest.report import render_console
from kalshi_trader.backtest.runner import BacktestSpec, run_backtest
from kalshi_trader.config import Settings
from kalshi_trader.domain import PRICE_SCALE
from kalshi_trader.fairvalue.stations import STATIONS

HOUR_MS = 3_600_000
HORIZONS_H = (24.0, 12.0, 6.0, 2.0, 0.5)
HORIZON_SLACK_MS = 15 * 60_000
"""A market's fair-value sample counts at a horizon when it lies within this of it."""


def recording(cache: Path, seed: int, days: float) -> Path:
    """The world of ``seed`` recorded for ``days`` (made once, then reused)."""
    target = cache / f"weather-world-seed{seed}-{days:g}d"
    if (target / "manifest.json").exists():
        return target
    from tests.support.recorded_world import record_world

    from kalshi_trader.sim.world.cities import DEFAULT_SERIES

    target.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"seed {seed}: recording {days:g} simulated days into {target} ...", flush=True)
    asyncio.run(record_world(target, seed=seed, series=DEFAULT_SERIES, hours=24 * days, fair_every=15))
    (target / ".lock").unlink(missing_ok=True)
    print(f"seed {seed}: recorded in {time.monotonic() - started:.0f} s", flush=True)
    return target


def brier_at_horizons(result: BacktestResult) -> list[tuple[str, float, int, float, float]]:
    """(kind, hours, markets, Brier of the fair value, Brier of the mid) for ``kind`` in high, low
    and all, at each of ``HORIZONS_H``: every market with a known outcome counted once, at its
    sample nearest the horizon (within ``HORIZON_SLACK_MS``)."""
    nearest: dict[tuple[float, str], tuple[int, int, int]] = {}
    for ticker, to_close, fair, mid in result.fair_samples:
        if ticker not in result.outcomes:
            continue
        for h in HORIZONS_H:
            gap = abs(to_close - h * HOUR_MS)
            best = nearest.get((h, ticker))
            if gap <= HORIZON_SLACK_MS and (best is None or gap < best[0]):
                nearest[(h, ticker)] = (gap, fair, mid)
    rows = []
    for kind in ("high", "low", "all"):
        for h in HORIZONS_H:
            picked = [
                (fair, mid, result.outcomes[t])
                for (hh, t), (_, fair, mid) in nearest.items()
                if hh == h and kind in ("all", _kind(t))
            ]
            rows.append(
                (kind, h, len(picked), _brier((f, o) for f, _, o in picked), _brier((m, o) for _, m, o in picked))
            )
    return rows


def _kind(ticker: str) -> str:
    station = STATIONS.get(ticker.split("-")[0])
    return "other" if station is None else station.extreme


def _brier(pairs: Iterable[tuple[int, int]]) -> float:
    errors = [((p - o) / PRICE_SCALE) ** 2 for p, o in pairs]
    return math.fsum(errors) / len(errors) if errors else math.nan


def render_horizons(result: BacktestResult, console: Console) -> None:
    table = Table(title="Fair value vs market mid: Brier at hours before the close (lower is better)")
    for col in ("events", "hours to close", "markets", "fair value", "market mid", "fair ≤ mid"):
        table.add_column(col, justify="left" if col == "events" else "right")
    for kind, h, n, fair, mid in brier_at_horizons(result):
        table.add_row(kind, f"{h:g}", str(n), f"{fair:.4f}", f"{mid:.4f}", "yes" if fair <= mid else "NO")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/kalshi-trader-evaluate"))
    parser.add_argument("--report", type=Path, help="write each seed's HTML report into this directory")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="section.field=value")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    sets = tuple(parse_assignment(a) for a in args.sets)
    settings = apply(Settings(), sets)
    console = Console()
    for seed in args.seeds:
        data = recording(args.cache, seed, args.days)
        result = asyncio.run(run_backtest(BacktestSpec(data, settings, overrides=sets)))
        console.rule(f"seed {seed}")
        render_console(result, console)
        render_horizons(result, console)
        if args.report is not None:
            args.report.mkdir(parents=True, exist_ok=True)
            page = args.report / f"seed{seed}.html"
            page.write_text(render_html(result), encoding="utf-8")
            (args.report / f"seed{seed}.json").write_bytes(result.to_json())
            console.print(f"report: {page}")


if __name__ == "__main__":
    main()
