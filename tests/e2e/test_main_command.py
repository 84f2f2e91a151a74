"""The README's main command, ``kalshi-trader run``, as a user runs it: a subprocess on free ports
with a temporary data dir. It serves the dashboard and the API, trades, and on SIGINT leaves no
resting order at the exchange."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest
from tests.support.node import eventually, resting_orders, running_exchange_process, running_node

from kalshi_trader.kalshi.auth import KeyType, key_type, load_private_key

pytestmark = pytest.mark.slow


def test_run_serves_the_dashboard_and_api_and_cancels_everything_on_sigint(tmp_path: Path) -> None:
    # An exchange in its own process, so it is still there to ask after the node has gone.
    with running_exchange_process(tmp_path, "--scenario", "weather", "--seed", "3") as rest_url:
        with running_node(tmp_path, "--api-url", rest_url, "--strategy", "weather_mm") as node:
            assert node.dashboard.startswith("http://127.0.0.1:")
            token_file = tmp_path / "web-token"
            assert token_file.read_text().strip() == node.token
            assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
            with httpx.Client(base_url=node.base_url, timeout=10) as http:
                assert http.get("/").status_code == 200
                assert "kalshi-trader" in http.get("/").text
                assert http.get("/api/health").status_code == 401
                health = http.get("/api/health", headers=node.headers()).json()
                assert health["mode"] == "sim"
                assert health["connection"]["ws_connected"] is True
                markets = http.get("/api/markets", headers=node.headers()).json()
                assert any(m["series_ticker"] == "KXHIGHNY" for m in markets)
                strategies = {s["name"]: s for s in http.get("/api/strategy/status", headers=node.headers()).json()}
                assert strategies["weather_mm"]["running"] is True
            # The market maker quotes: orders rest at the exchange.
            eventually(lambda: resting_orders(rest_url, tmp_path), timeout_s=30)
            code, _, err = node.stop()
        assert code == 0, err
        assert "0 left resting at the exchange" in err
        assert resting_orders(rest_url, tmp_path) == []


def test_run_with_no_strategies_running_and_the_embedded_exchange(tmp_path: Path) -> None:
    with running_node(tmp_path, "--paused", "--seed", "2") as node:
        assert any(line.startswith("Strategies:    none running") for line in node.lines)
        # A fresh data dir gets an Ed25519 key, as Kalshi's web app makes them (PKCS#8, mode 0600).
        key_file = tmp_path / "api-key.pem"
        assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")
        assert key_type(load_private_key(key_file)) is KeyType.ED25519
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        with httpx.Client(base_url=node.base_url, timeout=10, headers=node.headers()) as http:
            balance = http.get("/api/account/balance").json()
            assert balance["balance"] == "10000.0000"
            assert http.get("/metrics").text.count("kalshi_trader_up 1.0") == 1
        assert resting_orders(node.exchange_rest, tmp_path) == []
        code, _, err = node.stop()
    assert code == 0, err
    assert "Stopped: 0 order(s) canceled, 0 left resting at the exchange." in err
    assert node.token not in err


def test_run_refuses_prod_without_confirmation_and_paper_without_a_key(tmp_path: Path) -> None:
    import subprocess

    from tests.support.node import CLI

    prod = subprocess.run(
        [CLI, "run", "--env", "prod", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert prod.returncode == 1
    assert "--yes-trade-real-money" in prod.stderr
    assert "Traceback" not in prod.stderr
    paper = subprocess.run(
        [CLI, "run", "--env", "paper", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert paper.returncode == 2
    assert "paper mode" in paper.stderr
    assert "read-only" in paper.stderr
    assert len(paper.stderr.strip().splitlines()) == 1
    assert "Traceback" not in paper.stderr
    remote = subprocess.run(
        [CLI, "run", "--web-host", "0.0.0.0", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert remote.returncode == 2
    assert "--web-allow-remote" in remote.stderr
