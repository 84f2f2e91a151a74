"""A history download (no order book) backtested with the trade-based model: the download of the
embedded exchange's own past replays as candle quotes, trades and results; every market's outcome
is known, fills repeat exactly, and the report says which model made them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from rich.console import Console
from tests.support.world import DAY_MS, START_MS, run, stepped_exchange

from kalshi_trader.backtest.report import render_console
from kalshi_trader.backtest.runner import BacktestSpec, run_backtest
from kalshi_trader.config import Settings
from kalshi_trader.history.download import HistoryRequest, SeriesSummary, download
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.sim.world.living_world import build_living_world

SERIES = "KXHIGHNY"


class _Quiet:
    def series_started(self, series: str, markets: int, done: int) -> None:
        pass

    def market_done(self, series: str, ticker: str, trades: int, candles: int) -> None:
        pass


async def _download(root: Path) -> list[SeriesSummary]:
    exchange, clock = stepped_exchange(7)
    build_living_world(exchange, 7, series=(SERIES,), other_series=())
    run(exchange, clock, START_MS + 3 * DAY_MS, 5 * 60_000)
    rest_url, _ = await exchange.start("127.0.0.1", 0)
    try:
        first = datetime.fromtimestamp(START_MS / 1000 - 86_400, tz=UTC).date()
        last = datetime.fromtimestamp(START_MS / 1000 + 3 * 86_400, tz=UTC).date()
        async with KalshiRest(rest_url, None) as rest:
            return await download(rest, root, HistoryRequest((SERIES,), first, last, frozenset(), 60), _Quiet())
    finally:
        await exchange.stop()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("history")
    summaries = asyncio.run(_download(root))
    assert summaries[0].markets >= 6
    return root


async def test_a_history_download_backtests_with_the_trade_based_model(history: Path) -> None:
    spec = BacktestSpec(history, Settings(), ("favorite",))
    first = await run_backtest(spec)
    second = await run_backtest(spec)
    assert first.data_kind == "history"
    assert first.frames > 100
    with_candles = {p.stem for p in (history / SERIES / "candles").glob("*.parquet") if pq.read_table(p).num_rows}
    assert with_candles
    assert with_candles <= set(first.outcomes)  # every market that traded in the data has its result
    assert first.fills == second.fills
    console = Console(record=True, width=200)
    render_console(first, console)
    assert "trade-based model" in console.export_text()
