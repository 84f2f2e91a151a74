"""Alerts as an owner gets them: ``kalshi-trader run`` configured with an Apprise JSON webhook on
loopback reports its start, a kill switch, the feed lost and back (the exchange's WebSocket dropped
through its fault API), the feed breaker tripping and clearing, and its stop — each once, with no
secret in any message; ``alerts test`` reports each destination; ``config show`` shows the URLs
redacted."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from tests.integration.alerts.receivers import Webhook, webhook
from tests.support.node import eventually, faults, running_node

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

SECRET = "hook-s3cret-0451"
CLI = str(Path(sys.executable).with_name("kalshi-trader"))


def _config(tmp_path: Path, hook: Webhook) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[alerts]\nurls = ["{hook.url(query=f"+X-Token={SECRET}")}"]\ncoalesce_s = 30\n[risk]\nfeed_stale_s = 5\n'
    )
    return config


def _arrived(hook: Webhook, start: str) -> list[str]:
    return [t for t in hook.titles() if t.startswith(f"kalshi-trader sim: {start}")]


def test_a_running_node_alerts_each_event_once_without_secrets(tmp_path: Path) -> None:
    with webhook() as hook:
        config = _config(tmp_path, hook)
        with running_node(tmp_path, "--paused", "--seed", "4", "--config", str(config)) as node:
            eventually(lambda: _arrived(hook, "Node started in sim mode, 0 resting order(s)"), timeout_s=30)
            with httpx.Client(base_url=node.base_url, timeout=30, headers=node.headers()) as http:
                reply = http.post("/api/kill", json={"confirm": True, "who": "e2e", "reason": "alert drill"})
                assert reply.status_code == 200, reply.text
                eventually(lambda: _arrived(hook, "Kill switch engaged by e2e: alert drill"), timeout_s=30)

                faults(node.exchange_rest, tmp_path, "ws_drop=1")
                eventually(lambda: _arrived(hook, "Exchange feed lost"), timeout_s=60)
                eventually(lambda: _arrived(hook, "Breaker feed_down tripped"), timeout_s=120)
                faults(node.exchange_rest, tmp_path, "none")
                eventually(lambda: http.get("/api/health").json()["connection"]["ws_connected"], timeout_s=90)

                def feed_breaker_closed() -> bool:
                    breakers = http.get("/api/risk/status").json()["breakers"]
                    return not any(b["open"] for b in breakers if b["rule"] == "feed_down")

                eventually(feed_breaker_closed, timeout_s=30)
                metrics = http.get("/metrics").text
                assert "kalshi_trader_alerts_failed_total 0.0" in metrics
                assert "kalshi_trader_alerts_sent_total" in metrics
            code, _, err = node.stop()
            assert code == 0, err
        titles = hook.titles()
        for once in (
            "Node started in sim mode",
            "Kill switch engaged by e2e: alert drill",
            "Exchange feed lost",
            "Node stopped (shutdown): 0 order(s) left resting",
        ):
            assert len(_arrived(hook, once)) == 1, (once, titles)
        # Held within the 30 s window, the latest state of each went out when the node stopped.
        assert len(_arrived(hook, "Exchange feed back after")) == 1, titles
        # The feed breaker may also trip on its own on a loaded machine (a feed silent for 5 s);
        # whatever happened, a message repeating the one before stands for the changes in between.
        breaker = [
            (str(b["title"]).split(":")[1], str(b["message"])) for _, b in hook.received if "feed_down" in b["title"]
        ]
        assert any("tripped" in title for title, _ in breaker), titles
        assert "cleared" in breaker[-1][0], titles
        for (before, _), (title, message) in itertools.pairwise(breaker):
            assert title != before or "the latest of" in message, titles
        key_id = (tmp_path / "api-key-id").read_text().strip()
        for headers, body in hook.received:
            assert headers["x-token"] == SECRET
            text = str(body)
            for secret in (SECRET, key_id, node.token):
                assert secret not in text
        assert SECRET not in err


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env, check=False)


def test_alerts_test_reports_each_destination_and_config_show_redacts(tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_TRADER_")}
    with webhook() as gone:
        closed = gone.url()  # nothing listens there any more
    with webhook() as hook:
        urls = f"{hook.url(query=f'+X-Token={SECRET}')} {closed}"
        env = {**base, "KALSHI_TRADER_ALERTS__URLS": urls}
        done = _cli("alerts", "test", env=env, cwd=tmp_path)
        assert done.returncode == 1, done.stderr
        assert f"1. json://127.0.0.1:{hook.port}/***: delivered" in done.stdout
        assert f"2. json://127.0.0.1:{gone.port}/***: FAILED: " in done.stdout
        assert "1 of 2 failed." in done.stderr
        [(_, body)] = hook.received
        assert body["title"] == "kalshi-trader: test alert"
        shown = _cli("config", "show", env=env, cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert f'urls = ["json://127.0.0.1:{hook.port}/***", "json://127.0.0.1:{gone.port}/***"]' in shown.stdout
        for out in (done.stdout, done.stderr, shown.stdout, shown.stderr):
            assert SECRET not in out
    none = _cli("alerts", "test", env=base, cwd=tmp_path)
    assert none.returncode == 2
    assert none.stderr.startswith("kalshi-trader: error: no alert URLs configured")
