"""``kalshi-trader status`` against a running node, as an owner on a server without a browser runs
it: it finds the node through the data dir (address and token), shows balance, P&L, exposure,
breakers, strategies and the connection, follows a kill switch, keeps the token to itself, and says
clearly when no node runs."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from tests.support.node import CLI, running_node

pytestmark = pytest.mark.slow

ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("KALSHI_TRADER_")},
    "COLUMNS": "160",
    "PYTHONUNBUFFERED": "1",
}


def status(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, "status", *args], capture_output=True, text=True, timeout=60, env=ENV, check=False)


def test_status_shows_the_running_node_and_follows_a_kill_switch(tmp_path: Path) -> None:
    with running_node(tmp_path, "--paused", "--seed", "6") as node:
        shown = status("--data-dir", str(tmp_path))
        assert shown.returncode == 0, shown.stderr
        out = shown.stdout
        assert "kalshi-trader sim" in out
        assert "$10,000.00" in out  # the embedded exchange's starting balance
        for heading in ("Account", "Risk", "Strategies", "Connection"):
            assert heading in out
        for name in ("favorite", "weather_mm"):
            assert name in out
        assert "stopped" in out  # --paused
        assert "feed_down" in out
        assert "connected" in out
        assert node.exchange_rest in out
        assert node.token not in out
        with httpx.Client(base_url=node.base_url, headers=node.headers(), timeout=30) as http:
            reply = http.post("/api/kill", json={"confirm": True, "who": "e2e", "reason": "status drill"})
            assert reply.status_code == 200, reply.text
        killed = status("--data-dir", str(tmp_path))
        assert killed.returncode == 0, killed.stderr
        assert "KILL SWITCH by e2e: status drill" in killed.stdout

        watching = subprocess.Popen(
            [CLI, "status", "--data-dir", str(tmp_path), "--watch", "--interval", "0.5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        )  # fmt: skip
        assert watching.stderr is not None
        assert watching.stderr.readline().startswith(f"Watching the node at {node.base_url} every 0.5 s")
        time.sleep(1.5)  # a few refreshes
        watching.send_signal(signal.SIGINT)
        out, err = watching.communicate(timeout=30)
        assert watching.returncode == 0, err
        assert "KILL SWITCH by e2e" in out
        assert "Traceback" not in err
        code, _, err = node.stop()
        assert code == 0, err
    gone = status("--data-dir", str(tmp_path))
    assert gone.returncode == 1
    assert gone.stderr.startswith("kalshi-trader: error: no kalshi-trader node answers at http://127.0.0.1:")
    assert gone.stderr.strip().endswith("start one with `kalshi-trader run`")


def test_status_without_a_node_or_with_a_wrong_token_is_one_line(tmp_path: Path) -> None:
    missing = status("--data-dir", str(tmp_path))
    assert missing.returncode == 1
    assert missing.stderr == (
        f"kalshi-trader: error: no web-token in {tmp_path}: is a node running with this data dir? "
        "(start one with `kalshi-trader run`, or pass its --data-dir)\n"
    )
    with running_node(tmp_path / "node", "--paused") as node:
        (tmp_path / "web-token").write_text("not-the-token\n")
        wrong = status("--data-dir", str(tmp_path), "--url", node.base_url)
        assert wrong.returncode == 1
        assert wrong.stderr.strip() == (
            f"kalshi-trader: error: the node at {node.base_url} refused the token in web-token "
            "(is it another node's data dir?)"
        )
        assert "not-the-token" not in wrong.stderr
