"""``kalshi-trader run --env paper`` as a user runs it, against an exchange started with
``kalshi-trader exchange`` (the weather world) as its live data source: the strategies trade in
the paper venue, the exchange's own record shows no order, fill or group of the node's key, the
dashboard says PAPER and shows the paper fills and P&L (when /usr/bin/chromium is there), and
after a SIGKILL a restart comes back with the paper account."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx
from tests.support.node import eventually, running_exchange_process, running_node

from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.kalshi.rest import KalshiRest

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def exchange_record(rest_url: str, exchange_dir: Path) -> tuple[int, int, int]:
    """Orders, fills and order groups the exchange holds for its data dir's key."""

    async def read() -> tuple[int, int, int]:
        key_id = (exchange_dir / "api-key-id").read_text().strip()
        async with KalshiRest(rest_url, Signer.from_files(key_id, exchange_dir / "api-key.pem")) as rest:
            orders = [o async for o in rest.iter_orders()]
            fills = [f async for f in rest.iter_fills()]
            groups = (await rest.get_order_groups()).order_groups
            return len(orders), len(fills), len(groups)

    return asyncio.run(read())


def paper_account(data_dir: Path) -> tuple[int, dict[str, int]]:
    """The paper venue's record: cash (Money) and positions by ticker."""
    with sqlite3.connect(data_dir / "paper-venue.db") as db:
        cash = db.execute("select cash from paper_account").fetchone()[0]
        positions = dict(db.execute("select ticker, qty from paper_positions where qty != 0").fetchall())
    return int(cash), {str(k): int(v) for k, v in positions.items()}


def test_paper_mode_trades_locally_against_the_exchange_feed_and_survives_a_sigkill(tmp_path: Path) -> None:
    exchange_dir, data_dir = tmp_path / "exchange", tmp_path / "paper"
    exchange_dir.mkdir()
    with running_exchange_process(exchange_dir, "--scenario", "weather", "--speed", "60") as rest_url:
        key = (
            "--key-id",
            (exchange_dir / "api-key-id").read_text().strip(),
            "--key-file",
            str(exchange_dir / "api-key.pem"),
        )
        args = ("--env", "paper", "--api-url", rest_url, *key)
        with running_node(data_dir, *args) as node:
            assert any(line.startswith("Paper trading:") for line in node.lines), node.lines
            with httpx.Client(base_url=node.base_url, timeout=10, headers=node.headers()) as http:
                assert http.get("/api/health").json()["mode"] == "paper"
                fills: list[Any] = eventually(lambda: http.get("/api/fills").json(), timeout_s=120)
                assert {f["strategy"] for f in fills} <= {"favorite", "weather_mm"}
                positions = eventually(lambda: http.get("/api/account/positions").json(), timeout_s=30)
            assert exchange_record(rest_url, exchange_dir) == (0, 0, 0)
            if CHROMIUM.exists():
                dashboard_shows_paper(node.dashboard)
            node.proc.send_signal(signal.SIGKILL)
            node.proc.wait(timeout=30)
        cash, held = paper_account(data_dir)
        assert held, positions
        with (
            running_node(data_dir, *args, "--paused") as again,
            httpx.Client(base_url=again.base_url, timeout=10, headers=again.headers()) as http,
        ):

            def kept() -> bool:  # every paper position is back, unless it traded or settled since
                shown = {p["ticker"] for p in http.get("/api/account/positions").json()}
                return set(held) <= shown | _filled_since_restart(http) | _no_longer_open(rest_url, held)

            eventually(kept, timeout_s=30)
            assert http.get("/api/account/balance").json()["balance"] != "0.0000"
            code, _, err = again.stop()
        assert code == 0, err
        assert "left resting in the paper venue." in err
        assert exchange_record(rest_url, exchange_dir) == (0, 0, 0)
    assert cash > 0


def dashboard_shows_paper(url: str) -> None:
    """The PAPER badge, the paper fills in the fills table and a P&L figure."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            badge = page.locator("#mode-badge")
            expect(badge).to_have_text("PAPER · no real orders", timeout=15_000)
            expect(badge).to_have_class("badge paper")
            expect(page.locator("#fills-table tbody tr").first).to_be_visible(timeout=15_000)
            expect(page.locator("#kpi-pnl")).not_to_have_text("—", timeout=15_000)
        finally:
            browser.close()


def _filled_since_restart(http: httpx.Client) -> set[str]:
    return {f["ticker"] for f in http.get("/api/fills").json()}


def _no_longer_open(rest_url: str, tickers: dict[str, int]) -> set[str]:
    with httpx.Client(base_url=rest_url, timeout=10) as rest:
        return {t for t in tickers if rest.get(f"/markets/{t}").json()["market"]["status"] != "active"}
