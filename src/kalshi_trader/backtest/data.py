"""What a ``--data`` directory holds, as the records a backtest replays.

Contract: ``open_data(path)`` returns a ``BacktestData``: ``kind`` (``recording`` — a directory
with a recording's ``manifest.json``, replayed as recorded — or ``history`` — a history
download's Parquet tables, turned into records by ``backtest.history`` with the trade-based
model), ``estimate`` (how many records, for progress; 0 when unknown) and ``records()`` (the
records in order). Anything else raises ``BacktestError`` with one line saying what was expected.
A history download is recognised by its ``<SERIES>/markets.parquet`` files (or the data dir's
``history/`` holding them); a data dir's ``recordings/`` is its recording.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kalshi_trader.recording import manifest as mf
from kalshi_trader.recording.reader import Record, RecordingFormatError, read_recording

__all__ = ["BacktestData", "BacktestError", "open_data"]


class BacktestError(Exception):
    """The backtest cannot run as asked (message: one line)."""


@dataclass(frozen=True)
class BacktestData:
    path: Path
    kind: str
    estimate: int
    read: Callable[[], Iterator[Record]]

    def records(self) -> Iterator[Record]:
        try:
            yield from self.read()
        except RecordingFormatError as exc:
            raise BacktestError(f"{self.path}: damaged recording: {exc}") from None


def open_data(path: Path) -> BacktestData:
    if not path.exists():
        raise BacktestError(f"{path} does not exist: give --data a recording or a history download directory")
    if not path.is_dir():
        raise BacktestError(f"{path} is not a directory: give --data a recording or a history download directory")
    if not (path / mf.MANIFEST).exists() and (path / "recordings" / mf.MANIFEST).exists():
        path = path / "recordings"  # a data dir: the recording `record` writes there by default
    if (path / mf.MANIFEST).exists():
        try:
            manifest = mf.load(path / mf.MANIFEST)
        except mf.ManifestError as exc:
            raise BacktestError(str(exc)) from None
        estimate = sum(s.records for s in manifest.segments)
        return BacktestData(path, "recording", estimate, lambda: read_recording(path))
    for root in (path, path / "history"):
        if any(root.glob("*/markets.parquet")):
            from kalshi_trader.backtest.history import history_records

            records, estimate = history_records(root)
            return BacktestData(root, "history", estimate, records)
    raise BacktestError(
        f"{path} holds neither a recording (manifest.json) nor a history download (<SERIES>/markets.parquet)"
    )


def parse_time(text: str, flag: str) -> int:
    """``--from`` / ``--to``: an ISO date (``2026-12-07``: midnight UTC) or date and time
    (``2026-12-07T15:30``, UTC unless it names an offset) → epoch ms; ``BacktestError`` otherwise."""
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BacktestError(f"{flag} {text!r} is not a date or time like 2026-12-07 or 2026-12-07T15:30") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)
