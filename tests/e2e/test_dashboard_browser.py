"""The dashboard in a real browser (Playwright driving Debian's Chromium) against ``kalshi-trader
run``: open it with the token, see the balance and the markets, start a strategy and see its orders,
press the kill switch and confirm → no resting order left at the exchange (asked through the
exchange's own REST API). Without the token the API answers 401.

Skipped, with the reason shown, only when /usr/bin/chromium is missing (./test.sh installs it when
it can: as root with apt-get, as CI runs)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.node import RunningNode, eventually, resting_orders, running_node

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("dashboard_browser"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="browser tests need Debian's chromium at /usr/bin/chromium"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    with running_node(tmp_path_factory.mktemp("node"), "--paused", "--seed", "5") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def test_the_api_needs_the_token(node: RunningNode) -> None:
    with httpx.Client(base_url=node.base_url, timeout=10) as http:
        for path in ("/api/account/balance", "/api/markets", "/api/orders", "/api/health", "/metrics"):
            assert http.get(path).status_code == 401, path
        assert http.post("/api/kill", json={"confirm": True}).status_code == 401
        assert http.get("/api/account/balance", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get("/api/account/balance", headers=node.headers()).status_code == 200
        assert http.get("/api/account/balance", params={"token": node.token}).status_code == 200
        # The ?token= link sets an HttpOnly cookie and takes the token out of the address bar.
        r = http.get("/", params={"token": node.token})
        assert r.status_code == 303
        assert r.headers["location"] == "/"
        assert "httponly" in r.headers["set-cookie"].lower()
        assert http.get("/api/account/balance").status_code == 200  # the cookie now
    assert _stream_refused(node.base_url.replace("http://", "ws://") + "/api/stream")


def _stream_refused(url: str) -> bool:
    import websockets

    async def attempt() -> bool:
        try:
            async with websockets.connect(url) as ws:
                await ws.recv()
        except websockets.ConnectionClosed as exc:
            return exc.rcvd is not None and exc.rcvd.code == 1008
        except websockets.InvalidStatus as exc:
            return exc.response.status_code in (401, 403)
        return False

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, attempt()).result()


def test_dashboard_start_a_strategy_then_kill_switch(node: RunningNode, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(node.dashboard)
    assert page.url.rstrip("/") == node.base_url  # the token left the address bar

    expect(page.locator("#kpi-balance")).to_have_text("$10,000.00", timeout=15_000)
    expect(page.locator("#conn-text")).to_contain_text("live", timeout=15_000)
    markets = page.locator("#markets-table tbody tr[data-ticker]")
    expect(markets.first).to_be_visible(timeout=15_000)
    assert markets.count() > 10
    ticker = markets.first.get_attribute("data-ticker") or ""  # rows re-sort as prices move
    page.locator(f'#markets-table tbody tr[data-ticker="{ticker}"]').click()
    expect(page.locator("#book-title")).to_have_text(ticker)

    card = page.locator('[data-strategy="weather_mm"]')
    expect(card.locator("button.toggle")).to_have_text("Start")
    assert resting_orders(node.exchange_rest, node.data_dir) == []
    card.locator("button.toggle").click()
    expect(card.locator("button.toggle")).to_have_text("Stop", timeout=10_000)
    expect(page.locator("#orders-table tbody tr[data-order]").first).to_be_visible(timeout=30_000)
    eventually(lambda: resting_orders(node.exchange_rest, node.data_dir), timeout_s=20)

    page.locator("#kill-button").click()
    expect(page.locator("#kill-modal")).to_be_visible()
    page.locator("#kill-confirm").click()
    expect(page.locator("#risk-state")).to_have_text("KILLED", timeout=20_000)
    expect(card.locator("button.toggle")).to_have_text("Start", timeout=10_000)
    eventually(lambda: resting_orders(node.exchange_rest, node.data_dir) == [], timeout_s=10)
    expect(page.locator("#orders-table tbody tr[data-order]")).to_have_count(0, timeout=10_000)
    # The canceled orders are listed as ended, with why (the node canceled them: no exchange reason).
    canceled = page.locator("#ended-table tbody tr[data-order] td.why", has_text="canceled by the node")
    expect(canceled.first).to_be_visible(timeout=10_000)
    expect(page.locator("#connection")).to_contain_text("Feed delay")
    assert errors == []
    page.close()
