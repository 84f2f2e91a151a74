"""``orders``, ``positions``, ``cancel-all`` and ``config show`` as a user runs them, against the
exchange of a running ``kalshi-trader run`` (whose market maker keeps orders resting)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from tests.support.node import CLI, eventually, resting_orders, running_node

pytestmark = pytest.mark.slow


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_TRADER_")}
    return subprocess.run(
        [CLI, *args], capture_output=True, text=True, timeout=60, env={**clean, **(env or {})}, stdin=subprocess.DEVNULL
    )


def test_orders_positions_and_cancel_all(tmp_path: Path) -> None:
    with running_node(tmp_path, "--strategy", "weather_mm", "--seed", "4") as node:
        where = ["--api-url", node.exchange_rest, "--data-dir", str(tmp_path)]
        eventually(lambda: resting_orders(node.exchange_rest, tmp_path), timeout_s=30)
        listed = cli("orders", *where)
        assert listed.returncode == 0, listed.stderr
        assert "KXHIGH" in listed.stdout
        assert "resting" in listed.stdout
        held = cli("positions", *where)
        assert held.returncode == 0, held.stderr
        refused = cli("cancel-all", *where)
        assert refused.returncode == 2
        assert "--yes" in refused.stderr
        # Stop the strategy first, so nothing is quoted again behind our back.
        import httpx

        httpx.post(
            f"{node.base_url}/api/strategy/stop", json={"name": "weather_mm"}, headers=node.headers(), timeout=10
        ).raise_for_status()

        def nothing_in_flight() -> bool:  # places still queued when it stopped go out, then their cancels
            status = httpx.get(f"{node.base_url}/api/strategy/status", headers=node.headers(), timeout=10).json()
            return all(s["open_orders"] == 0 for s in status)

        eventually(nothing_in_flight, timeout_s=60)
        done = cli("cancel-all", "--yes", *where)
        assert done.returncode == 0, done.stderr
        assert "0 still resting" in done.stdout
        assert resting_orders(node.exchange_rest, tmp_path) == []
        assert cli("orders", *where).stdout.strip() == "No resting orders."


def test_config_show_redacts_secrets(tmp_path: Path) -> None:
    shown = cli(
        "config",
        "show",
        env={
            "KALSHI_TRADER_STORE__URL": "postgresql://me:hunter2secret@db:5432/x",
            "KALSHI_TRADER_API__KEY_ID": "abcdef1234567890",
            "KALSHI_TRADER_API__KEY_PASSPHRASE": "open-sesame-42",
        },
    )
    assert shown.returncode == 0, shown.stderr
    assert "hunter2secret" not in shown.stdout
    assert "open-sesame-42" not in shown.stdout + shown.stderr
    assert 'key_passphrase = "***"' in shown.stdout
    assert "1234567890" not in shown.stdout
    assert "postgresql://me:***@db:5432/x" in shown.stdout
    assert "[strategies.weather_mm]" in shown.stdout
    assert "[risk]" in shown.stdout
    missing = cli("config", "show", "--config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_api_commands_fail_in_one_line_without_an_exchange(tmp_path: Path) -> None:
    for command in ("orders", "positions"):
        r = cli(command, "--api-url", "http://127.0.0.1:9/trade-api/v2", "--data-dir", str(tmp_path))
        assert r.returncode == 2, r.stderr  # no key in an empty data dir: a user mistake
        assert len(r.stderr.strip().splitlines()) == 1
        assert "Traceback" not in r.stderr
