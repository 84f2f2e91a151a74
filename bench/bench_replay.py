"""Replay speed of ``backtest``: recorded frames per second through the whole path, against a
parse-only baseline measured in the same run.

Run: ``.venv/bin/python bench/bench_replay.py [--data DIR] [--hours H] [--runs R]``

Data: ``--data`` (a recording), or else a recording of the embedded exchange's weather world —
the seven daily-high cities and three lows (``sim.world.cities.DEFAULT_SERIES``), no other
markets — made once for ``--hours`` of market time (``tests/support/recorded_world``; kept in
``--cache``). Stages, each over the same records, median of R runs:

  parse-only   every ``ws`` record into a ``WsSession.on_text`` with no handler (the baseline);
  market data  every record through ``MarketReplay``: parse → seq checks → ``Monitor`` books and
               lifecycle, the recorded markets and NWS answers kept;
  whole path   ``run_backtest`` with the default strategies: the above plus fair values, strategy
               steps, risk, the execution engine and the paper venue.

Prints records/s and frames/s per stage, each stage's cost relative to parse-only, and what a
recorded week of this world would take at the whole path's rate (the week's records estimated
from this recording's records per hour of market time); the goal is under 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support

from bench_book import machine_info
from kalshi_trader.backtest.clock import ReplayClock
from kalshi_trader.backtest.replay import MarketReplay
from kalshi_trader.backtest.runner import BacktestSpec, run_backtest
from kalshi_trader.config import Settings
from kalshi_trader.kalshi.ws import WsSession
from kalshi_trader.recording.reader import Record, read_recording

WEEK_H = 168
GOAL_S = 60.0


Timing = tuple[float, float]
"""(wall s, CPU s of this process)."""


def _since(wall: float, cpu: float) -> Timing:
    return time.perf_counter() - wall, time.process_time() - cpu


def parse_only(records: list[Record]) -> Timing:
    session = WsSession("ws://bench.invalid/trade-api/ws/v2", None)
    frames = [r.payload for r in records if r.kind == "ws"]
    on_text = session.on_text
    wall, cpu = time.perf_counter(), time.process_time()
    for frame in frames:
        on_text(frame)
    return _since(wall, cpu)


async def market_data(records: list[Record]) -> Timing:
    clock = ReplayClock()
    replay = MarketReplay(clock)
    await replay.setup()
    wall, cpu = time.perf_counter(), time.process_time()
    for r in records:
        clock.advance_to(r.time_ms)
        await replay.apply(r)
    return _since(wall, cpu)


async def whole_path(data: Path) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    await run_backtest(BacktestSpec(data, Settings()))
    return _since(wall, cpu)


def ensure_recording(cache: Path, hours: float) -> Path:
    target = cache / f"weather-world-{hours:g}h"
    if (target / "manifest.json").exists():
        return target
    from tests.support.recorded_world import record_world

    from kalshi_trader.sim.world.cities import DEFAULT_SERIES

    target.mkdir(parents=True, exist_ok=True)
    print(f"recording {hours:g} h of the weather world ({len(DEFAULT_SERIES)} series) into {target} ...", flush=True)
    asyncio.run(record_world(target, seed=3, series=DEFAULT_SERIES, hours=hours, fair_every=5))
    (target / ".lock").unlink(missing_ok=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/kalshi-trader-bench"))
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    data = args.data or ensure_recording(args.cache, args.hours)
    records = list(read_recording(data))
    frames = sum(1 for r in records if r.kind == "ws")
    span_h = (records[-1].time_ms - records[0].time_ms) / 3_600_000
    print(machine_info())
    print(f"data: {data}: {len(records):,} records ({frames:,} frames) over {span_h:.1f} h of market time")
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    times: dict[str, list[Timing]] = {"parse-only": [], "market data": [], "whole path": []}
    for _ in range(args.runs):  # interleaved, so load on the machine hits every stage alike
        times["parse-only"].append(parse_only(records))
        times["market data"].append(asyncio.run(market_data(records)))
        times["whole path"].append(asyncio.run(whole_path(data)))
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    week_records = len(records) * WEEK_H / span_h
    for label, index in (("wall", 0), ("CPU", 1)):
        base = statistics.median(t[index] for t in times["parse-only"])
        print(f"\n{label + ' time':<12} {'median s':>9} {'records/s':>11} {'frames/s':>10} {'x parse-only':>13}")
        for stage, values in times.items():
            t = statistics.median(v[index] for v in values)
            print(f"{stage:<12} {t:9.3f} {len(records) / t:11,.0f} {frames / t:10,.0f} {t / base:13.1f}")
        week_s = statistics.median(v[index] for v in times["whole path"]) * WEEK_H / span_h
        verdict = "meets" if week_s < GOAL_S else "misses"
        print(
            f"a recorded week of this world: ~{week_records:,.0f} records, ~{week_s:,.0f} s ({label}) "
            f"through the whole path ({verdict} the {GOAL_S:.0f} s goal)"
        )


if __name__ == "__main__":
    main()
