"""``kalshi-trader history download`` against the embedded exchange's own past, over a real socket:
days of the weather world pass on a stepped clock, the cutoffs put part of it in the historical
tier, the download is killed mid-way (SIGKILL) and run again; what lands in Parquet is exactly the
exchange's record: every settled market, each trade once, candles that add up to the trades."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.support.node import CLI, _env
from tests.support.world import DAY_MS, START_MS, run, stepped_exchange

from kalshi_trader.domain import MarketStatus
from kalshi_trader.sim.api.archive import MARKET_SETTLED, TRADES_CREATED
from kalshi_trader.sim.world.living_world import build_living_world

pytestmark = pytest.mark.slow
SERIES = "KXHIGHNY"
MINUTE_MS = 60_000


async def _cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(CLI, *args, stdout=-1, stderr=-1, env=_env())
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_download_killed_midway_resumes_with_nothing_duplicated_or_missing(tmp_path: Path) -> None:
    exchange, clock = stepped_exchange(7)
    build_living_world(exchange, 7, series=(SERIES,))
    run(exchange, clock, START_MS + 4 * DAY_MS, 5 * MINUTE_MS)
    exchange.archive.set_lag(MARKET_SETTLED, 2 * DAY_MS)
    exchange.archive.set_lag(TRADES_CREATED, 2 * DAY_MS)
    settled = {
        m.ticker
        for m in exchange.catalog.all_markets()
        if m.ticker.startswith(SERIES) and exchange.engine.market(m.ticker).status is MarketStatus.FINALIZED
    }
    assert len(settled) >= 12
    rest_url, _ = await exchange.start("127.0.0.1", 0)
    try:
        first = datetime.fromtimestamp(START_MS / 1000 - 86_400, tz=UTC).date().isoformat()
        last = datetime.fromtimestamp(START_MS / 1000 + 5 * 86_400, tz=UTC).date().isoformat()
        args = ["history", "download", "--api-url", rest_url, "--data-dir", str(tmp_path)]
        args += ["--series", SERIES, "--from", first, "--to", last, "--period", "1"]
        where = tmp_path / "history" / SERIES
        # First run: killed once a few markets are done.
        proc = await asyncio.create_subprocess_exec(CLI, *args, stdout=-1, stderr=-1, env=_env())
        state = where / "state.json"
        for _ in range(600):
            await asyncio.sleep(0.05)
            if state.exists() and 2 <= len(json.loads(state.read_text())["markets"]) < len(settled):
                break
        else:
            pytest.fail("the download did not get under way")
        os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
        done_before = set(json.loads(state.read_text())["markets"])
        assert 2 <= len(done_before) < len(settled)
        # Second run: resumes and finishes.
        code, out, err = await _cli(*args)
        assert code == 0, err
        assert f"{SERIES}: {len(settled)} settled market(s)" in out
        assert f"fetched {len(settled) - len(done_before)}" in out
    finally:
        await exchange.stop()
    markets = pq.read_table(where / "markets.parquet").to_pylist()
    assert sorted(m["ticker"] for m in markets) == sorted(settled)
    assert {m["tier"] for m in markets} == {"live", "historical"}
    assert set(json.loads(state.read_text())["markets"]) == settled
    trades = pq.read_table(where / "trades").to_pylist()
    ids = [t["trade_id"] for t in trades]
    assert len(ids) == len(set(ids))  # nothing duplicated
    expected = {t.trade_id: t for ticker in settled for t in exchange.engine.trades(ticker)}
    assert set(ids) == set(expected)  # nothing missing
    assert {t["tier"] for t in trades} == {"live", "historical"}
    for row in trades[:200]:
        t = expected[row["trade_id"]]
        assert row["yes_price"] == Decimal(t.price).scaleb(-4)
        assert row["count"] == Decimal(t.count).scaleb(-2)
        assert int(row["created_time"].timestamp() * 1000) == t.ts_ms
    candles = pq.read_table(where / "candles").to_pylist()
    for ticker in settled:
        own = [c for c in candles if c["ticker"] == ticker]
        ends = [c["end_time"] for c in own]
        assert len(ends) == len(set(ends))
        traded = sum((Decimal(t.count).scaleb(-2) for t in exchange.engine.trades(ticker)), Decimal(0))
        assert sum((c["volume"] for c in own), Decimal(0)) == traded
