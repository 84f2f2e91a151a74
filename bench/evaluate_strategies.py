"""Evaluate the strategies over simulated days of the embedded exchange's weather world: a backtest
of a recording of that world (one tool, not two).

For each seed: record ``--days`` of the living weather world (its default cities, highs and lows,
background traders; the feed, the markets and the NWS answers, exactly as ``kalshi-trader record``
records them, on a stepped clock — ``tests/support/recorded_world``; kept in ``--cache`` and reused),
then run ``kalshi-trader backtest`` on it (``backtest.runner.run_backtest``: the node's strategies,
risk and execution engine, the paper venue filling the orders) and print its report: P&L per
strategy, fills, win rate, drawdown, exposure high-water marks, refusals by rule and the fair
value's Brier score against the market mid by hours to close. ``--report DIR`` also writes each
seed's HTML report; ``--set`` changes settings as ``backtest --set`` does.

    .venv/bin/python bench/evaluate_strategies.py --days 2 --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

import structlog
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support

from kalshi_trader.backtest.html import render_html
from kalshi_trader.backtest.overrides import apply, parse_assignment
from kalshi_trader.backtest.report import render_console
from kalshi_trader.backtest.runner import BacktestSpec, run_backtest
from kalshi_trader.config import Settings


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
    asyncio.run(record_world(target, seed=seed, series=DEFAULT_SERIES, hours=24 * days, fair_every=5))
    (target / ".lock").unlink(missing_ok=True)
    print(f"seed {seed}: recorded in {time.monotonic() - started:.0f} s", flush=True)
    return target


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
        if args.report is not None:
            args.report.mkdir(parents=True, exist_ok=True)
            page = args.report / f"seed{seed}.html"
            page.write_text(render_html(result), encoding="utf-8")
            console.print(f"report: {page}")


if __name__ == "__main__":
    main()
