"""``kalshi-trader book TICKER`` as a user runs it (subprocesses against ``kalshi-trader exchange``
with the key files it wrote in ./data), plus the live view in-process: it redraws when the book
changes and stops cleanly when cancelled.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from tests.support.exchange import running_exchange
from typer.testing import CliRunner

from kalshi_trader import cli
from kalshi_trader.cli_client import client_settings
from kalshi_trader.domain import BookSide, SelfTradePrevention, TimeInForce
from kalshi_trader.kalshi.auth import write_private_key
from kalshi_trader.marketdata.ladder import show_book
from kalshi_trader.sim.core.state import NewOrder

CLI = str(Path(sys.executable).with_name("kalshi-trader"))
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}
for _name in [n for n in ENV if n.startswith("KALSHI_TRADER_")]:
    del ENV[_name]

pytestmark = [pytest.mark.timeout(60), pytest.mark.xdist_group("cli_book")]  # one exchange for the module


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(working dir holding ./data, REST URL) of a running ``kalshi-trader exchange``."""
    cwd = tmp_path_factory.mktemp("book")
    proc = subprocess.Popen(
        [CLI, "exchange", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=ENV
    )
    try:
        rest = None
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while rest is None:
            assert time.monotonic() < deadline, "the exchange did not start in time"
            line = proc.stdout.readline()
            assert line, f"the exchange exited: {proc.wait()}"
            if m := re.match(r"^REST:\s+(\S+)", line):
                rest = m.group(1)
        yield cwd, rest
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        body: dict[str, object] = json.loads(resp.read())
        return body


def open_ticker(rest: str) -> str:
    markets = get(f"{rest}/markets?status=open&limit=50")["markets"]
    assert isinstance(markets, list)
    return str(next(m["ticker"] for m in markets if m["ticker"].startswith("KXHIGHNY")))


def cents(text: str) -> str:
    whole, frac = text.split(".")
    return f"{whole}.{frac.rstrip('0').ljust(2, '0')}"


def test_book_once_prints_the_ladder_the_rest_api_reports(served: tuple[Path, str]) -> None:
    cwd, rest = served
    ticker = open_ticker(rest)
    result = subprocess.run(
        [CLI, "book", ticker.lower(), "--api-url", rest, "--once", "--depth", "3"],
        capture_output=True, text=True, timeout=60, cwd=cwd, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    book = get(f"{rest}/markets/{ticker}/orderbook")["orderbook_fp"]
    assert isinstance(book, dict)
    yes = sorted(book["yes_dollars"], key=lambda lv: lv[0])[::-1][:3]  # best first
    no = sorted(book["no_dollars"], key=lambda lv: lv[0])[::-1][:3]
    out = result.stdout
    assert ticker in out
    best_bid, best_ask = yes[0], no[0]
    ask_price = f"{1 - float(best_ask[0]):.4f}"  # test-side arithmetic only
    assert f"YES bid {cents(best_bid[0])} x {best_bid[1]}" in out
    assert f"YES ask {cents(ask_price)} x {best_ask[1]}" in out
    rows = [line.split() for line in out.splitlines() if re.match(r"^\s+[\d.]+\s+[\d.]+\s*$", line)]
    bids = [r for r in rows if len(r) == 2 and float(r[1]) > 1.0 and r[0].startswith("0.")]
    asks = [r for r in rows if len(r) == 2 and r[1].startswith("0.")]
    assert [(cents(p), q) for p, q in yes] == [(p, q) for p, q in bids]
    assert [f"{1 - float(p):.4f}" for p, _ in no][::-1] == [f"{float(p):.4f}" for _, p in asks]


def invoke(cwd: Path, *args: str) -> tuple[int, str]:
    """The CLI in this process (the error paths; no interpreter start-up to pay)."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli.app, list(args))
    finally:
        os.chdir(old)
    return result.exit_code, result.output


def test_book_of_an_unknown_market_is_one_error_line(served: tuple[Path, str]) -> None:
    cwd, rest = served
    code, output = invoke(cwd, "book", "NOPE-1", "--api-url", rest, "--once")
    assert code == 1
    assert output.strip() == f"kalshi-trader: error: no market NOPE-1 at {rest}"


def test_book_with_a_wrong_key_is_refused(served: tuple[Path, str], tmp_path: Path) -> None:
    from tests.support.exchange import process_key

    cwd, rest = served
    key = write_private_key(process_key(5), tmp_path / "other.pem")
    key_id = (cwd / "data" / "api-key-id").read_text().strip()
    code, output = invoke(
        cwd, "book", open_ticker(rest), "--api-url", rest, "--once", "--key-id", key_id, "--key-file", str(key)
    )
    assert code == 1
    assert output.startswith("kalshi-trader: error: ")
    assert "401" in output  # REST (signed too) refuses it first


def test_book_live_exits_cleanly_on_ctrl_c(served: tuple[Path, str]) -> None:
    cwd, rest = served
    ticker = open_ticker(rest)
    proc = subprocess.Popen(
        [CLI, "book", ticker, "--api-url", rest],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env={**ENV, "TTY_COMPATIBLE": "1"},
    )  # fmt: skip  (drawn live, as on a terminal)
    drawn = threading.Event()
    shown = bytearray()

    def watch() -> None:  # connected, subscribed, drawing: the ladder names its market
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(4096):
            shown.extend(chunk)
            if ticker.encode() in shown:
                drawn.set()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    try:
        assert drawn.wait(60), shown.decode(errors="replace")[-500:]
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert err.strip().endswith("Stopped.")


async def test_the_live_view_redraws_when_the_book_changes(tmp_path: Path) -> None:
    async with running_exchange() as ex:
        (tmp_path / "api-key-id").write_text(ex.trader.key_id)
        write_private_key(ex.trader.private_key, tmp_path / "api-key.pem")
        settings = client_settings(api_url=ex.rest_url, data_dir=tmp_path)
        ticker = ex.add_market("KXTEST-26JAN01-T50")
        sink = io.StringIO()
        console = Console(file=sink, force_terminal=True, color_system=None, width=120)
        view = asyncio.create_task(show_book(settings, ticker, console, refresh_hz=50))
        for _ in range(500):
            if "(empty book)" in sink.getvalue():
                break
            await asyncio.sleep(0.01)
        assert "(empty book)" in sink.getvalue()
        order = NewOrder(ticker, BookSide.BID, 4200, 1250, TimeInForce.GOOD_TILL_CANCELED, SelfTradePrevention.MAKER)
        ex.exchange.engine.place("liquidity", order)
        for _ in range(500):
            if "12.50" in sink.getvalue():
                break
            await asyncio.sleep(0.01)
        view.cancel()
        with pytest.raises(asyncio.CancelledError):
            await view
        out = sink.getvalue()
        assert "YES bid 0.42 x 12.50" in out
        assert ex.exchange.feed.connection_count == 0 or await _closed(ex)


async def _closed(ex: object) -> bool:
    for _ in range(200):
        if ex.exchange.feed.connection_count == 0:  # type: ignore[attr-defined]
            return True
        await asyncio.sleep(0.01)
    return False
