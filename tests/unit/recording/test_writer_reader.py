"""The writer and the reader together: records come back in order across segments and sessions,
rotation by size, restarts append (with a ``restart`` gap), a killed writer's open segment is
recovered, a full queue drops with a gap, and one writer at a time."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from kalshi_trader.recording import manifest as mf
from kalshi_trader.recording.format import compress_block, encode_records
from kalshi_trader.recording.reader import read_recording
from kalshi_trader.recording.writer import RecordingBusyError, RecordingWriter


def open_writer(path: Path, **kw: object) -> RecordingWriter:
    return RecordingWriter.open(path, mf.Source(rest_url="http://x/trade-api/v2"), flush_s=0.02, **kw)  # type: ignore[arg-type]


def frames(n: int, start: int = 0) -> list[bytes]:
    return [b'{"type":"trade","n":%d}' % i for i in range(start, start + n)]


def test_records_come_back_in_order_with_their_times(tmp_path: Path) -> None:
    writer = open_writer(tmp_path)
    for i, f in enumerate(frames(500)):
        writer.append(b"ws", 1_000 + i, 7_000 + i if i % 2 else None, f)
    writer.close()
    got = list(read_recording(tmp_path))
    assert [r.payload for r in got] == frames(500)
    assert [r.wall_ns for r in got] == [1_000 + i for i in range(500)]
    assert [r.market_ms for r in got] == [7_000 + i if i % 2 else None for i in range(500)]
    assert got[1].time_ms == 7_001
    assert got[0].time_ms == 0  # no market time: the wall time
    manifest = mf.load(tmp_path / mf.MANIFEST)
    assert [s.state for s in manifest.segments] == ["closed"]
    assert manifest.segments[0].records == 500


def test_segments_rotate_by_size_and_read_back_as_one_stream(tmp_path: Path) -> None:
    writer = open_writer(tmp_path, rotate_bytes=2_000)
    for i, f in enumerate(frames(3_000)):
        writer.append(b"ws", i, None, f)
        if i % 300 == 299:
            writer.flush()  # one block per 300 records, as if a second had passed
    writer.close()
    manifest = mf.load(tmp_path / mf.MANIFEST)
    assert len(manifest.segments) >= 3
    assert all(s.records for s in manifest.segments)
    assert [r.payload for r in read_recording(tmp_path)] == frames(3_000)


def test_a_reader_left_early_stops_reading_ahead(tmp_path: Path) -> None:
    writer = open_writer(tmp_path)
    for i, f in enumerate(frames(3_000)):
        writer.append(b"ws", i, None, f)
        if i % 100 == 99:
            writer.flush()  # many blocks: the reader is ahead of the first when it stops
    writer.close()
    records = read_recording(tmp_path)
    assert next(records).payload == frames(1)[0]
    records.close()
    assert not [t for t in threading.enumerate() if t.name == "recording-read-ahead"]


def test_a_restart_appends_a_session_and_the_reader_marks_it(tmp_path: Path) -> None:
    first = open_writer(tmp_path)
    for i, f in enumerate(frames(10)):
        first.append(b"ws", i, None, f)
    first.close()
    second = open_writer(tmp_path)
    for i, f in enumerate(frames(10, 10)):
        second.append(b"ws", 100 + i, None, f)
    second.close()
    got = list(read_recording(tmp_path))
    kinds = [r.kind for r in got]
    assert kinds == ["ws"] * 10 + ["gap"] + ["ws"] * 10
    gap = got[10]
    assert gap.synthetic
    assert gap.json()["gap"] == "restart"
    assert gap.wall_ns == 9  # the time of the record before it
    assert [r.payload for r in got if r.kind == "ws"] == frames(20)
    manifest = mf.load(tmp_path / mf.MANIFEST)
    assert [s.session for s in manifest.segments] == [1, 2]
    assert set(manifest.sessions) == {"1", "2"}


def test_a_killed_writers_segment_is_recovered_and_cut_back_to_whole_blocks(tmp_path: Path) -> None:
    # What a SIGKILL leaves: a manifest saying "open" and a file ending in half a block.
    segment = mf.Segment(file="segment-000001.rec.gz", session=1)
    mf.save(tmp_path / mf.MANIFEST, mf.Manifest(created_ns=1, segments=[segment]))
    whole = compress_block(encode_records([(b"ws", i, None, f) for i, f in enumerate(frames(20))]))
    cut = compress_block(encode_records([(b"ws", 99, None, b"lost")]))
    (tmp_path / segment.file).write_bytes(whole + cut[: len(cut) // 2])
    before = list(read_recording(tmp_path))
    assert [r.kind for r in before] == ["ws"] * 20 + ["gap"]
    assert before[-1].json()["gap"] == "cut"
    writer = open_writer(tmp_path)
    writer.append(b"ws", 200, None, b"after")
    writer.close()
    manifest = mf.load(tmp_path / mf.MANIFEST)
    recovered = manifest.segments[0]
    assert (recovered.state, recovered.records, recovered.truncated_bytes) == ("recovered", 20, len(cut) // 2)
    assert (tmp_path / segment.file).stat().st_size == len(whole)
    after = list(read_recording(tmp_path))
    assert [r.kind for r in after] == ["ws"] * 20 + ["gap", "gap", "ws"]
    assert [json.loads(r.payload)["gap"] for r in after if r.kind == "gap"] == ["cut", "restart"]
    assert after[-1].payload == b"after"


def test_a_full_queue_drops_and_marks_the_loss(tmp_path: Path) -> None:
    writer = open_writer(tmp_path, max_pending=5)
    writer._stop.set()  # hold the thread back so the queue fills (it flushes once more on close)
    writer._thread.join()  # type: ignore[union-attr]
    for i, f in enumerate(frames(8)):
        writer.append(b"ws", i, None, f)
    assert writer.stats.dropped == 3
    writer.flush()
    writer.close()
    got = list(read_recording(tmp_path))
    assert got[0].kind == "gap"
    assert got[0].json() == {"gap": "overflow", "reason": "3 records dropped: the writer fell behind"}
    assert [r.payload for r in got[1:]] == frames(5)


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    writer = open_writer(tmp_path)
    with pytest.raises(RecordingBusyError, match="another recorder"):
        open_writer(tmp_path)
    writer.close()
    open_writer(tmp_path).close()


def test_a_session_that_recorded_nothing_leaves_no_segment(tmp_path: Path) -> None:
    open_writer(tmp_path).close()
    manifest = mf.load(tmp_path / mf.MANIFEST)
    assert manifest.segments == []
    assert manifest.sessions == {}
    assert list(tmp_path.glob("segment-*")) == []
    assert list(read_recording(tmp_path)) == []


def test_a_directory_that_is_not_a_recording_is_refused(tmp_path: Path) -> None:
    (tmp_path / mf.MANIFEST).write_text('{"format": "something-else"}')
    with pytest.raises(mf.ManifestError, match="not a recording manifest"):
        open_writer(tmp_path)
    with pytest.raises(mf.ManifestError):
        list(read_recording(tmp_path / "nowhere"))
