"""Measure the embedded exchange's living world against the published Kalshi figures.

For each seed: run the world (every Kalshi daily temperature series by default, the other markets
and the background traders) on a stepped simulated clock for N days, let everything settle, and
print ``sim.world.measurements``' table — each figure of ``sim/world/calibration_targets.py`` measured vs its target
and tolerance — then the weather win rate by price decile against the favourite–longshot curve.
A baseline measured in the same run: the wall time of the default series alone.

    .venv/bin/python bench/calibrate_world.py --days 5 --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import statistics
import time

from kalshi_trader.sim.world.calibration_targets import FIGURES
from kalshi_trader.sim.world.cities import ALL_SERIES, DEFAULT_SERIES
from kalshi_trader.sim.world.measurements import report, run_calibration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--default-series", action="store_true", help="only the default series (lighter)")
    args = parser.parse_args()
    series = DEFAULT_SERIES if args.default_series else ALL_SERIES
    values: dict[str, list[float]] = {f.key: [] for f in FIGURES}
    for seed in args.seeds:
        began = time.perf_counter()
        run = run_calibration(seed, args.days, series=series)
        elapsed = time.perf_counter() - began
        print(f"\nseed {seed}: {len(series)} series, {args.days} days, {elapsed:.1f} s")
        print("\n".join(report(run.measured, run.weather_deciles())))
        for m in run.measured:
            if m.value is not None:
                values[m.figure.key].append(m.value)
    began = time.perf_counter()
    run_calibration(args.seeds[0], 1, series=DEFAULT_SERIES)
    print(f"\nbaseline: default series, 1 day, {time.perf_counter() - began:.1f} s")
    print(f"\n{'figure':<24} {'median':>9} {'min':>9} {'max':>9} {'target':>9} {'±':>6}")
    for f in FIGURES:
        got = values[f.key]
        if got:
            print(
                f"{f.key:<24} {statistics.median(got):9.2f} {min(got):9.2f} {max(got):9.2f} "
                f"{f.target:9.2f} {f.tolerance:6.2f}"
            )


if __name__ == "__main__":
    main()
