"""The bytes of a recording segment: records in gzip members, written a block at a time.

Contract (docs/recording-format.md is the user-facing description):
- A *record* is a header line and a payload::

      <kind> <wall_ns> <market_ms or -> <length>\\n<payload: length bytes>\\n

  ``kind`` is ASCII without spaces (``KINDS``); ``wall_ns`` the receive time on the recorder's wall
  clock (Unix nanoseconds); ``market_ms`` the time on the market clock the recorder was given
  (Unix milliseconds; ``-`` when it had none: the wall clock is then the market clock). The
  payload is stored byte for byte (a WebSocket frame exactly as received), so no escaping.
- A *block* is one complete gzip member (RFC 1952) holding whole records only; a segment file is
  blocks back to back, i.e. an ordinary multi-member ``.gz`` file that ``zcat`` reads. Each block
  is independent, so a file cut anywhere (a killed process) loses only its last, incomplete block:
  ``read_blocks`` detects it (the member never reaches its end, or its CRC fails) and reports how
  many bytes it skipped instead of raising.
- ``gap_payload`` builds a ``gap`` record's JSON payload.
- ``encode_records`` and ``parse_records`` are inverses; ``parse_records`` raises
  ``RecordingFormatError`` on a block whose records are malformed (a bug or damage, not a cut).
Compression is the standard library's ``zlib`` (gzip containers): no dependency, and every tool
reads the files.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import msgspec

__all__ = [
    "KINDS",
    "Block",
    "RecordTuple",
    "RecordingFormatError",
    "compress_block",
    "encode_records",
    "gap_payload",
    "parse_records",
    "read_blocks",
]

KINDS: Final = frozenset({b"ws", b"conn", b"gap", b"market", b"event", b"series", b"nws"})
"""Record kinds (docs/recording-format.md): a WebSocket frame, a connection change, a gap marker,
REST metadata (a market, an event, a series) and an NWS response."""
GAP: Final = b"gap"
NO_MARKET: Final = b"-"
GZIP_WBITS: Final = 31
"""zlib's window bits for the gzip container (header and CRC-32/length trailer)."""
GZIP_MAGIC: Final = b"\x1f\x8b\x08"
COMPRESS_LEVEL: Final = 1
"""zlib's fastest level: it costs the node least CPU (bench/bench_record.py); ~8x on the feed."""
READ_CHUNK: Final = 1 << 20

RecordTuple = tuple[bytes, int, int | None, bytes]
"""``(kind, wall_ns, market_ms or None, payload)``."""


_ENCODER: Final = msgspec.json.Encoder()


def gap_payload(gap: str, reason: str, tickers: list[str] | None = None) -> bytes:
    """The payload of a ``gap`` record: ``{"gap": kind, "reason": text[, "tickers": [...]]}``."""
    body: dict[str, object] = {"gap": gap, "reason": reason}
    if tickers:
        body["tickers"] = tickers
    return _ENCODER.encode(body)


class RecordingFormatError(ValueError):
    """A block whose content is not records (damage or a bug; a cut file is not this)."""


def encode_records(records: Iterable[RecordTuple]) -> bytes:
    """The records, each as its header line and payload (uncompressed block content)."""
    parts: list[bytes] = []
    add = parts.append
    for kind, wall_ns, market_ms, payload in records:
        market = NO_MARKET if market_ms is None else b"%d" % market_ms
        add(b"%s %d %s %d\n" % (kind, wall_ns, market, len(payload)))
        add(payload)
        add(b"\n")
    return b"".join(parts)


def compress_block(content: bytes, level: int = COMPRESS_LEVEL) -> bytes:
    """One gzip member holding ``content`` (no file name, mtime 0: the same input gives the same bytes)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, GZIP_WBITS)
    return compressor.compress(content) + compressor.flush()


def parse_records(content: bytes) -> Iterator[RecordTuple]:
    """The records of one block's content, in order."""
    pos, end = 0, len(content)
    find = content.find
    while pos < end:
        nl = find(b"\n", pos)
        if nl < 0:
            raise RecordingFormatError(f"record header without an end at byte {pos}")
        fields = content[pos:nl].split(b" ")
        if len(fields) != 4:
            raise RecordingFormatError(f"record header {content[pos:nl][:80]!r} does not have four fields")
        kind, wall, market, length = fields
        try:
            size = int(length)
            wall_ns = int(wall)
            market_ms = None if market == NO_MARKET else int(market)
        except ValueError:
            raise RecordingFormatError(f"record header {content[pos:nl][:80]!r} has a non-number") from None
        start = nl + 1
        stop = start + size
        if size < 0 or content[stop : stop + 1] != b"\n":
            raise RecordingFormatError(f"record at byte {pos} is cut or its length is wrong")
        yield kind, wall_ns, market_ms, content[start:stop]
        pos = stop + 1


@dataclass(frozen=True, slots=True)
class Block:
    """One block read from a segment: its decompressed ``content``, or, for the damaged or cut
    part of a file, ``skipped`` bytes and why (``content`` empty)."""

    offset: int
    """Where the block starts in the file."""
    size: int = 0
    """Its compressed size (a whole block)."""
    content: bytes = b""
    skipped: int = 0
    problem: str = ""


def read_blocks(path: Path) -> Iterator[Block]:
    """The blocks of a segment file in order. A trailing block that never completes (the writer was
    killed mid-write) is reported as ``Block(offset, skipped=..., problem="cut")``; a member that
    fails to decompress (damage) as ``problem="damaged"``, after which reading resumes at the next
    gzip header."""
    with path.open("rb") as fh:
        yield from _blocks(fh)


def _blocks(fh: BinaryIO) -> Iterator[Block]:
    data = b""
    base = 0
    """File offset of ``data[0]``."""
    eof = False

    def fill() -> bool:
        nonlocal data, eof
        if eof:
            return False
        chunk = fh.read(READ_CHUNK)
        if not chunk:
            eof = True
            return False
        data += chunk
        return True

    fill()
    while data or fill():
        d = zlib.decompressobj(GZIP_WBITS)
        out: list[bytes] = []
        consumed = 0
        damaged = False
        while True:
            try:
                out.append(d.decompress(data[consumed:]))
            except zlib.error:
                damaged = True
                break
            consumed = len(data) - len(d.unused_data)
            if d.eof:
                break
            consumed = len(data)
            if not fill():
                break
        if d.eof and not damaged:
            yield Block(base, consumed, b"".join(out))
            data = data[consumed:]
            base += consumed
            continue
        if not damaged:  # the file ended inside this member
            yield Block(base, skipped=len(data), problem="cut")
            return
        # Damage: skip to the next gzip header after this member's start.
        while True:
            nxt = data.find(GZIP_MAGIC, 1)
            if nxt > 0:
                yield Block(base, skipped=nxt, problem="damaged")
                data = data[nxt:]
                base += nxt
                break
            if not fill():
                yield Block(base, skipped=len(data), problem="damaged")
                return
