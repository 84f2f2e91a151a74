"""CPU time of each part of a backtest's whole path: where a replay's time goes.

Run: ``.venv/bin/python bench/replay_parts.py DATA``

Replays ``DATA`` (a recording) with the default strategies and settings, summing this process's CPU
time (``time.process_time``) in each part: the fair-value refreshes, the strategy steps, the frames
through ``MarketReplay``, the engine's and paper venue's timers, settling queued requests, and the
paper feed per book event. Parts nest (a timer tick holds the fair-value refresh); the total is
the whole run's.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from kalshi_trader.backtest import replay, runner
from kalshi_trader.backtest.runner import BacktestSpec, run_backtest
from kalshi_trader.config import Settings
from kalshi_trader.execution.engine import ExecutionEngine
from kalshi_trader.host.fair import FairValueFeed
from kalshi_trader.host.strategies import StrategyHost
from kalshi_trader.node.paper import PaperFeed

PARTS: tuple[tuple[type, str, str], ...] = (
    (FairValueFeed, "refresh", "fair-value refreshes"),
    (StrategyHost, "step", "strategy steps"),
    (replay.MarketReplay, "apply", "frames → books (MarketReplay.apply)"),
    (runner._Backtest, "_timers", "timers (holds the fair-value refreshes)"),
    (runner._Backtest, "_settle", "settling queued requests"),
    (PaperFeed, "_on_book", "paper feed per book event"),
    (ExecutionEngine, "tick", "engine housekeeping"),
)

cpu: dict[str, float] = defaultdict(float)
calls: dict[str, int] = defaultdict(int)


def _timed(f: Callable[..., Any], label: str) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(f):

        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return await f(*args, **kwargs)
            finally:
                cpu[label] += time.process_time() - start
                calls[label] += 1

        return timed_async

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return f(*args, **kwargs)
        finally:
            cpu[label] += time.process_time() - start
            calls[label] += 1

    return timed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    for owner, name, label in PARTS:
        setattr(owner, name, _timed(getattr(owner, name), label))
    start = time.process_time()
    asyncio.run(run_backtest(BacktestSpec(args.data, Settings())))
    total = time.process_time() - start
    print(f"whole run: {total:.2f} CPU s")
    for label in sorted(cpu, key=lambda k: -cpu[k]):
        print(f"  {label:45s} {cpu[label]:7.3f} s  {calls[label]:7,} calls  {cpu[label] / total:6.1%}")


if __name__ == "__main__":
    main()
