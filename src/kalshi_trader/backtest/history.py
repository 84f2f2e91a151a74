"""A history download as records a backtest replays (placeholder until the trade-based model lands)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from kalshi_trader.recording.reader import Record

__all__ = ["history_records"]


def history_records(root: Path) -> tuple[Callable[[], Iterator[Record]], int]:
    from kalshi_trader.backtest.data import BacktestError

    raise BacktestError(f"{root}: backtests of history downloads are not supported yet")
