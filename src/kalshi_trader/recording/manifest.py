"""A recording's manifest: which segment files it has, in order, and what each holds.

Contract:
- ``DIR/manifest.json`` (``MANIFEST``) is a ``Manifest``: the format name and version, what was
  recorded (``source``: URLs, mode, selection) and the segments in order. Each ``Segment`` names its
  file, the recording *session* (one per start of a recorder: a restart appends a new session) and,
  as far as the recorder got to say, its records, first and last record times, and state: ``open``
  (being written, or the recorder was killed), ``closed`` (rotated or stopped cleanly) or
  ``recovered`` (found ``open`` by the next start, cut back to its last whole block:
  ``truncated_bytes``).
- ``save(path, manifest)`` replaces the file atomically (write, fsync, rename), so a reader or a
  killed writer never sees half a manifest. ``load(path)`` raises ``ManifestError`` (one line) for
  a file that is not a manifest of this format.
- The manifest is a summary: the segment files are the truth (the reader never trusts the counts).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Literal

import msgspec

__all__ = ["FORMAT", "MANIFEST", "VERSION", "Manifest", "ManifestError", "Segment", "Source", "load", "save"]

FORMAT: Final = "kalshi-trader-recording"
VERSION: Final = 1
MANIFEST: Final = "manifest.json"

SegmentState = Literal["open", "closed", "recovered"]


class ManifestError(ValueError):
    """The manifest cannot be read as one of this format (message: one line)."""


class Source(msgspec.Struct, kw_only=True):
    """What a session recorded: where from and which markets."""

    mode: str = "record"
    """``record`` (the ``record`` command) or ``run`` (``run --record``, while trading)."""
    rest_url: str = ""
    ws_url: str = ""
    nws_url: str = ""
    series: list[str] = msgspec.field(default_factory=list)
    markets: list[str] = msgspec.field(default_factory=list)
    market_clock: str = "wall"
    """``wall`` (records carry no market time: it is the wall clock) or ``exchange`` (the embedded
    exchange's simulated clock: every record carries ``market_ms``)."""


class Segment(msgspec.Struct, kw_only=True):
    file: str
    session: int
    state: SegmentState = "open"
    opened_ns: int = 0
    closed_ns: int | None = None
    records: int = 0
    bytes: int = 0
    first_wall_ns: int | None = None
    last_wall_ns: int | None = None
    truncated_bytes: int = 0


class Manifest(msgspec.Struct, kw_only=True):
    format: str = FORMAT
    version: int = VERSION
    created_ns: int = 0
    sessions: dict[str, Source] = msgspec.field(default_factory=dict)
    """Session number (as a string: JSON keys) → what it recorded."""
    segments: list[Segment] = msgspec.field(default_factory=list)

    def next_session(self) -> int:
        return max((s.session for s in self.segments), default=0) + 1

    def next_file(self) -> str:
        return f"segment-{len(self.segments) + 1:06d}.rec.gz"


_DECODER: Final = msgspec.json.Decoder(Manifest)
_ENCODER: Final = msgspec.json.Encoder()


def load(path: Path) -> Manifest:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError(f"{path} does not exist: not a recording directory") from None
    try:
        manifest = _DECODER.decode(raw)
    except msgspec.MsgspecError as exc:
        raise ManifestError(f"{path} is not a recording manifest: {exc}") from None
    if manifest.format != FORMAT:
        raise ManifestError(f"{path} is not a recording manifest (format {manifest.format!r})")
    if manifest.version > VERSION:
        raise ManifestError(f"{path} is format version {manifest.version}; this kalshi-trader reads up to {VERSION}")
    return manifest


def save(path: Path, manifest: Manifest) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(msgspec.json.format(_ENCODER.encode(manifest), indent=1))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
