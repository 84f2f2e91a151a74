"""Reads a recording back: every record in order across its segments, with the gaps marked.

Contract:
- ``read_recording(directory)`` yields ``Record``\\ s in the order they were recorded: the manifest's
  segments in order, each segment's blocks and records in order. Besides the ``gap`` records the
  recorder wrote (disconnects, stale books after a seq gap, records it had to drop), the reader
  yields a ``gap`` record of its own (``Record.synthetic``) wherever the files show a hole:
  ``restart`` between two sessions (the recorder was stopped or killed and started again),
  ``cut`` for an incomplete last block (a killed recorder; also an open segment still being
  written), ``damaged`` for a block that does not decompress, ``missing`` for a listed segment
  whose file is gone. Such a gap carries the time of the record before it.
- ``Record``: ``kind`` (``ws``, ``conn``, ``gap``, ``market``, ``event``, ``series``, ``nws``),
  ``wall_ns``, ``market_ms`` (None when recorded without a market clock), ``payload`` (bytes:
  for ``ws`` the frame exactly as received). ``time_ms`` is the market time, else the wall time;
  ``json()`` decodes a JSON payload; ``nws()`` splits an ``nws`` payload into its request/response
  description and body.
- ``RecordingFormatError`` for records that do not parse; ``manifest.ManifestError`` for a directory
  that is not a recording.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, NamedTuple

import msgspec

from kalshi_trader.recording import manifest as mf
from kalshi_trader.recording.format import Block, RecordingFormatError, gap_payload, parse_records, read_blocks

__all__ = ["Record", "RecordingFormatError", "read_recording"]

_KINDS: Final = {
    b"ws": "ws",
    b"conn": "conn",
    b"gap": "gap",
    b"market": "market",
    b"event": "event",
    b"series": "series",
    b"nws": "nws",
}
_DECODE: Final = msgspec.json.decode
_AHEAD: Final = 4
"""Blocks read and decompressed ahead of the one whose records are being handed out."""
_END: Final = object()
"""Handed over after the last block."""


class Record(NamedTuple):
    kind: str
    wall_ns: int
    market_ms: int | None
    payload: bytes
    synthetic: bool = False
    """A gap the reader found in the files (not a record the recorder wrote)."""

    @property
    def time_ms(self) -> int:
        return self.market_ms if self.market_ms is not None else self.wall_ns // 1_000_000

    def json(self) -> Any:
        return _DECODE(self.payload)

    def nws(self) -> tuple[dict[str, Any], bytes]:
        """An ``nws`` record: (``{"path", "params", "status", "date"}``, the response body)."""
        head, _, body = self.payload.partition(b"\n")
        meta: dict[str, Any] = _DECODE(head)
        return meta, body


def read_recording(directory: Path) -> Iterator[Record]:
    manifest = mf.load(directory / mf.MANIFEST)
    session: int | None = None
    wall_ns, market_ms = manifest.created_ns, None

    def gap(kind: str, reason: str) -> Record:
        return Record("gap", wall_ns, market_ms, gap_payload(kind, reason), True)

    for segment in manifest.segments:
        if session is not None and segment.session != session:
            yield gap("restart", f"the recorder restarted (session {segment.session} begins in {segment.file})")
        session = segment.session
        path = directory / segment.file
        if not path.exists():
            yield gap("missing", f"segment {segment.file} is missing")
            continue
        for block in _read_ahead(read_blocks(path)):
            if block.problem == "cut":
                yield gap("cut", f"{segment.file} ends in an incomplete block ({block.skipped} bytes skipped)")
                continue
            if block.problem:
                yield gap("damaged", f"{segment.file}: {block.skipped} damaged bytes at {block.offset} skipped")
                continue
            for kind, wall, market, payload in parse_records(block.content):
                name = _KINDS.get(kind)
                if name is None:
                    raise RecordingFormatError(f"{segment.file}: unknown record kind {kind[:20]!r}")
                wall_ns, market_ms = wall, market
                yield Record(name, wall, market, payload)
        if segment.truncated_bytes:
            yield gap("cut", f"{segment.file} lost its last {segment.truncated_bytes} bytes when the recorder stopped")


def _read_ahead(blocks: Iterator[Block]) -> Iterator[Block]:
    """``blocks`` in order, read and decompressed in a thread while the caller works through the
    ones before (zlib lets go of the GIL while it inflates, so the two overlap). An error reading
    them is raised here; closing this iterator stops the thread."""
    ahead: queue.Queue[object] = queue.Queue(_AHEAD)
    stop = threading.Event()

    def read() -> None:
        try:
            for block in blocks:
                ahead.put(block)
                if stop.is_set():
                    return
            ahead.put(_END)
        except BaseException as exc:  # the reader raises it
            ahead.put(exc)
        finally:
            getattr(blocks, "close", lambda: None)()

    thread = threading.Thread(target=read, name="recording-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = ahead.get()
            if isinstance(item, Block):
                yield item
            elif isinstance(item, BaseException):
                raise item
            else:  # the end
                return
    finally:
        stop.set()
        while thread.is_alive():  # a thread waiting for room sees the stop once it has some
            with contextlib.suppress(queue.Empty):
                ahead.get(timeout=0.01)
        thread.join()
