"""``--sweep field=v1,v2,…``: the same backtest over a grid of settings, in parallel processes.

Contract:
- ``parse_sweep(texts)`` → the dimensions in order: ``[(name, [values…])]`` (``ValueError`` for a
  malformed one, a repeated name or an empty value list); ``grid(dims)`` → every combination, the
  last dimension varying fastest, each as ``((name, value), …)``.
- ``run_sweep(job, combos, jobs=N, on_row=...)`` runs one backtest per combination in a pool of
  ``jobs`` processes (each its own interpreter: the runs share nothing), calls ``on_row(row)`` as
  each finishes and returns the rows in grid order. A ``SweepRow`` holds the combination, the exact
  command that reruns it alone (``command``: the base command with the combination as
  ``--set`` options), the headline figures, or the one-line error of a run that failed.
- ``SweepJob`` is what a process needs: the data path, the base settings, the strategies, the time
  range and the ``--set`` assignments common to every row.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import shlex
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from kalshi_trader.backtest.overrides import apply
from kalshi_trader.backtest.report import brier_rows, summary
from kalshi_trader.config import Settings

__all__ = ["SweepJob", "SweepRow", "grid", "parse_sweep", "run_sweep"]

Combo = tuple[tuple[str, str], ...]


def parse_sweep(texts: Sequence[str]) -> list[tuple[str, list[str]]]:
    dims: list[tuple[str, list[str]]] = []
    for text in texts:
        name, sep, values = text.partition("=")
        name = name.strip()
        if not sep or "." not in name:
            raise ValueError(f"--sweep {text!r} is not section.field=v1,v2,...")
        if any(name == n for n, _ in dims):
            raise ValueError(f"--sweep {name} is given twice")
        chosen = list(dict.fromkeys(v.strip() for v in values.split(",") if v.strip()))
        if not chosen:
            raise ValueError(f"--sweep {name} has no values")
        dims.append((name, chosen))
    return dims


def grid(dims: Sequence[tuple[str, Sequence[str]]]) -> list[Combo]:
    names = [n for n, _ in dims]
    return [tuple(zip(names, values, strict=True)) for values in itertools.product(*(v for _, v in dims))]


@dataclass(frozen=True, slots=True)
class SweepJob:
    data: Path
    settings: Settings
    strategies: tuple[str, ...]
    start_ms: int | None
    end_ms: int | None
    assignments: tuple[tuple[str, str], ...]
    command: tuple[str, ...]
    """The base command (argv) a row's ``--set`` options are added to."""


@dataclass(frozen=True, slots=True)
class SweepRow:
    combo: Combo
    command: str
    net: int = 0
    fees: int = 0
    fills: int = 0
    win_rate: float | None = None
    max_drawdown: int = 0
    refused: int = 0
    brier_fair: float | None = None
    brier_mid: float | None = None
    error: str = ""


def row_command(job: SweepJob, combo: Combo) -> str:
    extra = [arg for name, value in combo for arg in ("--set", f"{name}={value}")]
    return shlex.join([*job.command, *extra])


def _run_one(job: SweepJob, combo: Combo) -> SweepRow:
    from kalshi_trader.backtest.data import BacktestError
    from kalshi_trader.backtest.runner import BacktestSpec, run_backtest

    logging.disable(logging.WARNING)
    command = row_command(job, combo)
    try:
        settings = apply(job.settings, [*job.assignments, *combo])
        spec = BacktestSpec(
            job.data,
            settings,
            job.strategies,
            start_ms=job.start_ms,
            end_ms=job.end_ms,
            overrides=(*job.assignments, *combo),
        )
        result = asyncio.run(run_backtest(spec))
    except (BacktestError, ValueError) as exc:
        return SweepRow(combo, command, error=str(exc))
    s = summary(result)
    rows = brier_rows(result)
    n = sum(r[1] for r in rows)
    return SweepRow(
        combo,
        command,
        net=s.net,
        fees=s.fees,
        fills=s.fills,
        win_rate=s.win_rate,
        max_drawdown=s.max_drawdown,
        refused=sum(sum(r.values()) for r in result.refused.values()),
        brier_fair=sum(r[1] * r[3] for r in rows) / n if n else None,
        brier_mid=sum(r[1] * r[4] for r in rows) / n if n else None,
    )


def run_sweep(
    job: SweepJob, combos: Sequence[Combo], *, jobs: int, on_row: Callable[[SweepRow], None] = lambda r: None
) -> list[SweepRow]:
    done: dict[Combo, SweepRow] = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_run_one, job, combo): combo for combo in combos}
        for future in as_completed(futures):
            combo = futures[future]
            try:
                row = future.result()
            except Exception as exc:  # a crashed worker: its row says so, the others go on
                row = SweepRow(combo, row_command(job, combo), error=f"{type(exc).__name__}: {exc}")
            done[combo] = row
            on_row(row)
    return [done[c] for c in combos]
