"""Fingerprint of a backtest: hashes that show two versions of the code trade identically.

Run: ``.venv/bin/python bench/backtest_fingerprint.py DATA [--hours H]``

Replays ``DATA`` (a recording) with the default strategies and settings and prints one SHA-256 per
part, so a change made for speed can be shown to leave behaviour alone:

  result     the ``BacktestResult`` without its wall time (P&L, fills, samples, fair-value samples)
  intents    every action a strategy handed to the host, in order, with the top of book and the
             fair value it was judged against
  decisions  every decision of every step (strategy, market, verdict, reason, inputs, time)
  fair       every fair value the strategies were shown at each step

Equal hashes before and after a change are the proof; the counts say how much was compared.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
from pathlib import Path
from typing import Any

import msgspec
import structlog

from kalshi_trader.backtest.runner import BacktestSpec, run_backtest
from kalshi_trader.config import Settings
from kalshi_trader.host.strategies import HostedStrategy, StrategyHost
from kalshi_trader.strategy.base import StrategyResult


class _Digest:
    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.count = 0

    def add(self, value: Any) -> None:
        self.hash.update(msgspec.json.encode(value, enc_hook=repr))
        self.count += 1

    def __str__(self) -> str:
        return f"{self.hash.hexdigest()[:16]}  ({self.count:,} items)"


def _watch(host: StrategyHost, intents: _Digest, decisions: _Digest, fair: _Digest) -> None:
    carry_out = host._carry_out
    fair_values = host._fair_values
    top_of = host._top_of

    def traced(hosted: HostedStrategy, result: StrategyResult[Any]) -> None:
        for d in result.decisions:
            decisions.add((d.strategy, d.ticker, d.verdict.value, d.reason, d.inputs, d.ts_ms))
        if result.actions:
            values = fair_values()
            for a in result.actions:
                fv = values.get(getattr(a, "ticker", ""))
                intents.add((hosted.name, repr(a), repr(top_of(getattr(a, "ticker", ""))), repr(fv)))
        carry_out(hosted, result)

    def traced_step() -> None:
        fair.add(sorted((k, repr(v)) for k, v in fair_values().items()))
        step()

    step = host.step
    host._carry_out = traced  # type: ignore[method-assign]
    host.step = traced_step  # type: ignore[method-assign]


async def _run(data: Path, hours: float | None) -> None:
    intents, decisions, fair = _Digest(), _Digest(), _Digest()
    end_ms = None
    if hours is not None:
        from kalshi_trader.recording.reader import read_recording

        first = next(iter(read_recording(data))).time_ms
        end_ms = first + int(hours * 3_600_000)
    spec = BacktestSpec(data, Settings(), end_ms=end_ms)
    result = await run_backtest(spec, on_host=lambda h: _watch(h, intents, decisions, fair))
    result.wall_s = 0.0
    whole = _Digest()
    whole.add(msgspec.to_builtins(result, enc_hook=repr))
    print(f"result     {whole}")
    print(f"intents    {intents}")
    print(f"decisions  {decisions}")
    print(f"fair       {fair}")
    print(f"net {result.net}  fills {len(result.fills)}  records {result.records:,}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--hours", type=float, default=None, help="only the first H hours of market time")
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    asyncio.run(_run(args.data, args.hours))


if __name__ == "__main__":
    main()
