"""Writes a recording: records queued by the event loop, compressed and written once a second by a
thread, in rotating segment files listed in a manifest.

Contract:
- ``RecordingWriter.open(directory, source, ...)`` takes the directory (creating it; one writer at a
  time: a second gets ``RecordingBusyError``), reads its manifest or starts one, *recovers* every
  segment a killed writer left ``open`` (cut back to its last whole block, counted, marked
  ``recovered``), starts a new session (``source`` says what it records) with a new segment, and
  starts the writer thread. A restart therefore appends; nothing already written is rewritten.
- ``append(kind, wall_ns, market_ms, payload)`` queues one record (``pending`` is the queue itself,
  a ``deque`` whose ``append`` the hot path may call directly: appends from the event loop and
  pops from the thread are atomic). When ``max_pending`` records are waiting the record is dropped
  and counted (``stats.dropped``); the next block starts with a ``gap`` record saying how many
  were lost. A failed write (disk full) likewise becomes a ``gap`` record in the next block that
  can be written.
- Every ``flush_s`` (1 s) the thread takes what is queued, writes it as one block
  (``format.compress_block``) and flushes it to the OS: a SIGKILL loses at most the records of the
  last ``flush_s`` and leaves the file readable (its cut last block is skipped on read, and cut
  off by the next ``open``). Segments are fsynced when closed; the manifest is replaced atomically
  at every segment change and every ``manifest_s``.
- Rotation: a new segment when the current one has ``rotate_bytes`` on disk or the wall clock
  enters a new ``rotate_s`` period (hourly by default, aligned to the hour).
- ``close()`` writes what is queued, closes the segment (``closed``; a segment that received no
  record is removed), saves the manifest and frees the directory; idempotent. ``stats`` gives
  counts, bytes on disk and the last error.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

import structlog

from kalshi_trader.recording import manifest as mf
from kalshi_trader.recording.format import (
    GAP,
    RecordTuple,
    compress_block,
    encode_records,
    gap_payload,
    parse_records,
    read_blocks,
)

__all__ = ["RecordingBusyError", "RecordingWriter", "WriterStats"]

log = structlog.get_logger(__name__)

LOCK: Final = ".lock"
FLUSH_S: Final = 1.0
ROTATE_S: Final = 3600
ROTATE_BYTES: Final = 64 << 20
MAX_PENDING: Final = 1_000_000
MANIFEST_S: Final = 10.0


class RecordingBusyError(OSError):
    """Another recorder is writing to this directory."""


@dataclass(slots=True)
class WriterStats:
    records: int = 0
    """Records written (this session)."""
    blocks: int = 0
    dropped: int = 0
    """Records dropped because the writer fell behind (each loss is marked by a gap record)."""
    lost: int = 0
    """Records lost to failed writes (marked likewise)."""
    disk_bytes: int = 0
    """Bytes of every segment of the recording on disk (all sessions)."""
    segments: int = 0
    last_error: str = ""


class RecordingWriter:
    """See the module docstring."""

    def __init__(
        self,
        directory: Path,
        manifest: mf.Manifest,
        lock: TextIO,
        *,
        flush_s: float,
        rotate_s: float,
        rotate_bytes: int,
        max_pending: int,
        manifest_s: float,
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self.flush_s = flush_s
        self.rotate_s = rotate_s
        self.rotate_bytes = rotate_bytes
        self.max_pending = max_pending
        self.manifest_s = manifest_s
        self.pending: collections.deque[RecordTuple] = collections.deque()
        self.stats = WriterStats()
        self.session = manifest.next_session()
        self._lock = lock
        self._segment: mf.Segment | None = None
        self._file: int = -1
        self._opened_period = 0
        self._dropped_marked = 0
        self._lost_unmarked = 0
        self._manifest_saved = 0.0
        self._stop = threading.Event()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.stats.disk_bytes = sum(s.bytes for s in manifest.segments)
        self.stats.segments = len(manifest.segments)

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        directory: Path,
        source: mf.Source,
        *,
        flush_s: float = FLUSH_S,
        rotate_s: float = ROTATE_S,
        rotate_bytes: int = ROTATE_BYTES,
        max_pending: int = MAX_PENDING,
        manifest_s: float = MANIFEST_S,
    ) -> RecordingWriter:
        directory.mkdir(parents=True, exist_ok=True)
        lock = (directory / LOCK).open("w")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise RecordingBusyError(f"another recorder is writing to {directory}") from None
        try:
            path = directory / mf.MANIFEST
            manifest = mf.load(path) if path.exists() else mf.Manifest(created_ns=time.time_ns())
            for segment in manifest.segments:
                if segment.state == "open":
                    recover(directory / segment.file, segment)
            writer = cls(
                directory,
                manifest,
                lock,
                flush_s=flush_s,
                rotate_s=rotate_s,
                rotate_bytes=rotate_bytes,
                max_pending=max_pending,
                manifest_s=manifest_s,
            )
            manifest.sessions[str(writer.session)] = source
            writer._open_segment(time.time_ns())
        except BaseException:
            lock.close()
            raise
        writer._thread = threading.Thread(target=writer._run, name="recording-writer", daemon=True)
        writer._thread.start()
        return writer

    # -- the queue -------------------------------------------------------------------------------

    def append(self, kind: bytes, wall_ns: int, market_ms: int | None, payload: bytes) -> None:
        if len(self.pending) < self.max_pending:
            self.pending.append((kind, wall_ns, market_ms, payload))
        else:
            self.stats.dropped += 1

    def gap(self, gap: str, reason: str, tickers: list[str] | None = None, market_ms: int | None = None) -> None:
        """Queue a gap marker now."""
        self.append(GAP, time.time_ns(), market_ms, gap_payload(gap, reason, tickers))

    # -- the thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(self.flush_s):
            self._flush_guarded()
        self._flush_guarded()

    def _flush_guarded(self) -> None:
        try:
            self.flush()
        except Exception as exc:  # the thread must keep going: the next flush marks the loss
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("recording_flush_failed")

    def flush(self) -> None:
        """Write what is queued as one block (the thread calls it every ``flush_s``)."""
        with self._flush_lock:
            self._flush()

    def _flush(self) -> None:
        now = time.time_ns()
        if self._segment is not None and self._due_rotation(now):
            self._rotate(now)
        n = len(self.pending)
        batch: list[RecordTuple] = []
        dropped = self.stats.dropped
        if dropped > self._dropped_marked:
            lost = dropped - self._dropped_marked
            batch.append((GAP, now, None, gap_payload("overflow", f"{lost} records dropped: the writer fell behind")))
            self._dropped_marked = dropped
        if self._lost_unmarked:
            why = f"{self._lost_unmarked} records lost: {self.stats.last_error}"
            batch.append((GAP, now, None, gap_payload("write_error", why)))
        pop = self.pending.popleft
        batch.extend(pop() for _ in range(n))
        if not batch:
            self._maybe_save_manifest()
            return
        block = compress_block(encode_records(batch))
        segment = self._segment
        assert segment is not None
        try:
            _write_all(self._file, block)
        except OSError as exc:
            self.stats.last_error = exc.strerror or str(exc)
            self._lost_unmarked += len(batch)
            self.stats.lost += len(batch)
            log.error("recording_write_failed", error=self.stats.last_error, records=len(batch))
            return
        self._lost_unmarked = 0
        self.stats.records += len(batch)
        self.stats.blocks += 1
        self.stats.disk_bytes += len(block)
        segment.records += len(batch)
        segment.bytes += len(block)
        if segment.first_wall_ns is None:
            segment.first_wall_ns = batch[0][1]
        segment.last_wall_ns = batch[-1][1]
        self._maybe_save_manifest()

    def _due_rotation(self, now_ns: int) -> bool:
        segment = self._segment
        assert segment is not None
        if segment.bytes >= self.rotate_bytes:
            return True
        return segment.records > 0 and int(now_ns / 1e9 // self.rotate_s) != self._opened_period

    def _rotate(self, now_ns: int) -> None:
        self._close_segment(now_ns)
        self._open_segment(now_ns)

    def _open_segment(self, now_ns: int) -> None:
        segment = mf.Segment(file=self.manifest.next_file(), session=self.session, opened_ns=now_ns)
        self.manifest.segments.append(segment)
        self._save_manifest()  # listed before the file exists: the manifest never misses a file
        self._file = os.open(self.directory / segment.file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._segment = segment
        self._opened_period = int(now_ns / 1e9 // self.rotate_s)
        self.stats.segments = len(self.manifest.segments)

    def _close_segment(self, now_ns: int) -> None:
        segment = self._segment
        if segment is None:
            return
        with contextlib.suppress(OSError):
            os.fsync(self._file)
        os.close(self._file)
        self._file = -1
        self._segment = None
        if segment.records == 0:  # nothing was recorded in it (e.g. the start failed): leave no trace
            with contextlib.suppress(OSError):
                (self.directory / segment.file).unlink()
            self.manifest.segments.remove(segment)
            if not any(s.session == self.session for s in self.manifest.segments):
                self.manifest.sessions.pop(str(self.session), None)
        else:
            segment.state = "closed"
            segment.closed_ns = now_ns
        self.stats.segments = len(self.manifest.segments)
        self._save_manifest()

    def _maybe_save_manifest(self) -> None:
        if time.monotonic() - self._manifest_saved >= self.manifest_s:
            self._save_manifest()

    def _save_manifest(self) -> None:
        try:
            mf.save(self.directory / mf.MANIFEST, self.manifest)
        except OSError as exc:
            self.stats.last_error = f"manifest: {exc.strerror or exc}"
            log.error("recording_manifest_failed", error=self.stats.last_error)
        self._manifest_saved = time.monotonic()

    # -- closing -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Write what is queued, close the segment and the manifest, free the directory."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._flush_lock:
            self._flush()  # anything queued after the thread's last pass
            self._close_segment(time.time_ns())
        self._lock.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def recover(path: Path, segment: mf.Segment) -> None:
    """A segment a killed writer left ``open``: count what it holds, cut off its incomplete last
    block, mark it ``recovered``."""
    records = 0
    first = last = None
    good_end = 0
    size = 0
    if path.exists():
        size = path.stat().st_size
        for block in read_blocks(path):
            if block.problem:
                continue
            good_end = block.offset + block.size
            for _, wall_ns, _, _ in parse_records(block.content):
                records += 1
                first = wall_ns if first is None else first
                last = wall_ns
        if good_end < size:
            with path.open("r+b") as fh:
                fh.truncate(good_end)
                fh.flush()
                os.fsync(fh.fileno())
    segment.state = "recovered"
    segment.records = records
    segment.bytes = good_end
    segment.first_wall_ns, segment.last_wall_ns = first, last
    segment.truncated_bytes += size - good_end
    segment.closed_ns = last
    log.info("recording_segment_recovered", file=path.name, records=records, truncated_bytes=size - good_end)
