"""Round trip: the node trades live in sim mode while ``run --record`` records the embedded exchange;
the recording is backtested with the same seed and settings. Wherever the backtest's strategies saw
a market exactly as the live node's did — the same recorded book, fair value, own orders, position,
minutes to close, risk room and memory — they decided the same intents, and the backtest's fills
are paper fills at prices the recorded book showed or at the orders' own limits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.support.decisions import DecisionLog, compare

from kalshi_trader.backtest.runner import BacktestSpec, run_backtest
from kalshi_trader.config import ExchangeSettings, Settings
from kalshi_trader.node import NodeOptions, TradingNode

pytestmark = pytest.mark.slow

SEED = 4
SPEED = 120.0
LIVE_S = 45.0


async def test_the_backtest_decides_as_the_live_node_did_on_the_same_recorded_markets(tmp_path: Path) -> None:
    recording = tmp_path / "recording"
    settings = Settings(data_dir=tmp_path, exchange=ExchangeSettings(port=0, seed=SEED))
    options = NodeOptions(
        speed=SPEED, record_dir=recording, reconcile_interval_s=None, sample_interval_s=0.5, autostart=False
    )
    node = TradingNode(settings, options)
    live = DecisionLog()
    await node.start()
    try:
        host = node.host
        assert host is not None
        live.watch(host)  # before the strategies start: every decision is seen
        started_ms = node.market_ms()
        for hosted in host.all():
            if hosted.runner.strategy.enabled:
                host.start(hosted.name)
        await asyncio.sleep(LIVE_S)  # an hour and a half of market time
    finally:
        await node.stop()
    assert live.calls > 20

    replayed = DecisionLog()
    # The backtest's strategies start when the live node's did (the data before warms up the books).
    result = await run_backtest(BacktestSpec(recording, settings, start_ms=started_ms), on_host=replayed.watch)
    assert replayed.calls > 20
    pairs, differ = compare(live, replayed)
    acting = [k for k in pairs if any(live.entries[k])]
    assert len(pairs) >= 100, f"only {len(pairs)} identical market states"
    assert acting, "no identical state in which the strategies acted"
    assert not differ, (
        f"{len(differ)} of {len(pairs)} identical states decided differently, e.g. {differ[0]}: "
        f"live {live.entries[differ[0]]}, backtest {replayed.entries[differ[0]]}"
    )
    for fill in result.fills:
        assert 0 < fill.price < 10_000
        assert fill.qty > 0
