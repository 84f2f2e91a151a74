"""A recorder killed with SIGKILL loses at most its last second and leaves a readable recording;
the next start recovers it and appends. Once for the writer alone (exact accounting of what was
queued) and once for ``kalshi-trader record`` against a running embedded exchange."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.node import CLI, _env, eventually, running_exchange_process

from kalshi_trader.recording import manifest as mf
from kalshi_trader.recording.reader import read_recording

# Flushed every second; the slack covers a writer thread that a loaded machine runs late.
LOSS_BOUND_NS = 3_000_000_000

CHILD = """
import sys, time
from pathlib import Path
from kalshi_trader.recording.manifest import Source
from kalshi_trader.recording.writer import RecordingWriter
writer = RecordingWriter.open(Path(sys.argv[1]), Source())
i = 0
while True:
    writer.append(b"ws", time.time_ns(), None, b'{"n":%d}' % i)
    i += 1
    if i % 100 == 0:
        time.sleep(0.001)
"""


def _wait_for_records(directory: Path, at_least: int) -> None:
    def enough() -> bool:
        return sum(p.stat().st_size for p in directory.glob("segment-*")) > 0 and (
            sum(1 for r in read_recording(directory) if r.kind == "ws") >= at_least
        )

    eventually(enough, timeout_s=60, every_s=0.3)


def test_a_killed_writer_loses_only_its_last_second_and_the_rest_reads_in_order(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], env=_env())
    try:
        _wait_for_records(tmp_path, 5_000)
        time.sleep(0.5)
        killed_ns = time.time_ns()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    got = list(read_recording(tmp_path))
    frames = [r for r in got if r.kind == "ws"]
    numbers = [json.loads(r.payload)["n"] for r in frames]
    assert numbers == list(range(len(numbers)))  # a prefix of what was queued: no hole, no repeat
    assert killed_ns - frames[-1].wall_ns <= LOSS_BOUND_NS
    assert all(r.kind == "gap" and r.json()["gap"] == "cut" for r in got[len(frames) :])
    # The next start recovers the cut segment and appends a session.
    from kalshi_trader.recording.manifest import Source
    from kalshi_trader.recording.writer import RecordingWriter

    writer = RecordingWriter.open(tmp_path, Source())
    writer.append(b"ws", time.time_ns(), None, b'{"n":-1}')
    writer.close()
    manifest = mf.load(tmp_path / mf.MANIFEST)
    assert [s.state for s in manifest.segments] == ["recovered", "closed"]
    assert manifest.segments[0].records == len(frames)
    again = [r for r in read_recording(tmp_path)]
    assert [json.loads(r.payload)["n"] for r in again if r.kind == "ws"] == [*numbers, -1]
    assert [r.json()["gap"] for r in again if r.kind == "gap"][-1] == "restart"


@pytest.mark.slow
def test_record_command_survives_sigkill_and_appends_on_restart(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with running_exchange_process(tmp_path, "--scenario", "weather", "--speed", "600") as rest_url:
        cmd = [CLI, "record", "--api-url", rest_url, "--data-dir", str(tmp_path), "--out", str(out)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
        try:
            _wait_for_records(out, 300)
            time.sleep(1.5)
            killed_ns = time.time_ns()
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
        first = list(read_recording(out))
        frames = [r for r in first if r.kind == "ws"]
        assert killed_ns - frames[-1].wall_ns <= LOSS_BOUND_NS
        for r in frames:
            json.loads(r.payload)  # every frame whole
        kinds = {r.kind for r in first}
        assert {"ws", "market", "event", "series", "nws", "conn"} <= kinds
        nws_paths = {r.nws()[0]["path"] for r in first if r.kind == "nws"}
        assert any(p.startswith("/points/") for p in nws_paths)
        assert any("/forecast" in p for p in nws_paths)
        types = {json.loads(r.payload)["type"] for r in frames}
        assert {"subscribed", "orderbook_snapshot", "orderbook_delta"} <= types
        # Restart: recovers, appends, and stops cleanly on SIGINT.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
        try:
            eventually(lambda: len(list(read_recording(out))) > len(first) + 100, timeout_s=60, every_s=0.5)
        finally:
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "frames recorded" in err
    manifest = mf.load(out / mf.MANIFEST)
    assert manifest.segments[0].state == "recovered"
    assert manifest.segments[-1].state == "closed"
    assert {s.session for s in manifest.segments} == {1, 2}
    second = list(read_recording(out))
    assert [r.payload for r in second if r.kind == "ws"][: len(frames)] == [r.payload for r in frames]
    gaps = [r.json()["gap"] for r in second if r.kind == "gap"]
    assert "restart" in gaps
    assert gaps[-1] == "disconnected"  # the clean stop closes the connection last
