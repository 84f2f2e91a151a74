"""``kalshi-trader exchange --scenario weather --speed X`` as a user runs it: a subprocess serving
the living world on a fast simulated clock, read over REST like any client would."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.http import SignedClient

CLI = str(Path(sys.executable).with_name("kalshi-trader"))


@contextmanager
def serving(*args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    proc = subprocess.Popen(
        [CLI, "exchange", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    found: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while "ready" not in found:
            assert time.monotonic() < deadline, "the exchange did not start in time"
            line = proc.stdout.readline()
            assert line, f"the exchange exited early: {proc.wait()} {proc.stderr.read() if proc.stderr else ''}"
            if line.startswith("Embedded Kalshi exchange running"):
                found["banner"] = line.strip()
            elif m := re.match(r"^REST:\s+(\S+)", line):
                found["rest"] = m.group(1)
            elif m := re.match(r"^NWS:\s+(\S+)", line):
                found["nws"] = m.group(1)
            elif line.startswith("Press Ctrl-C"):
                found["ready"] = line
        yield proc, found
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def _snapshot(rest: str) -> dict[str, Any]:
    async with SignedClient(rest) as client:
        markets = await client.get("/markets", sign=False, params={"status": "open", "limit": "1000"})
        trades = await client.get("/markets/trades", sign=False, params={"limit": "1000"})
        return {
            "markets": {
                m["ticker"]: (m["yes_bid_dollars"], m["yes_ask_dollars"], m["volume_fp"])
                for m in markets.body["markets"]
            },
            "trades": [t["trade_id"] for t in trades.body["trades"]],
        }


def test_weather_scenario_at_high_speed_is_a_living_market(tmp_path: Path) -> None:
    with serving("--scenario", "weather", "--speed", "3600", "--seed", "3", "--data-dir", str(tmp_path)) as (
        proc,
        found,
    ):
        assert "scenario weather" in found["banner"]
        assert "3600x" in found["banner"]
        assert found["nws"].endswith("/nws")
        first = asyncio.run(_snapshot(found["rest"]))
        series = {ticker.split("-")[0] for ticker in first["markets"]}
        assert {"KXHIGHNY", "KXHIGHCHI", "KXSIMGAME", "KXSIMIDX"} <= series
        time.sleep(3)  # three simulated hours
        second = asyncio.run(_snapshot(found["rest"]))
        assert second["trades"], "no trades on the tape"
        assert set(second["trades"]) != set(first["trades"])
        moved = [
            t for t in first["markets"].keys() & second["markets"].keys() if first["markets"][t] != second["markets"][t]
        ]
        assert len(moved) >= 10, moved
        assert proc.poll() is None  # still serving


def test_bad_scenario_or_speed_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for args, needle in (
        (("--scenario", "moon"), "--scenario"),
        (("--speed", "0"), "--speed"),
        (("--speed", "-5"), "--speed"),
    ):
        result = subprocess.run(
            [CLI, "exchange", "--port", "0", "--data-dir", str(tmp_path), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert needle in lines[0]
