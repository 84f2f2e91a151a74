"""``backtest`` over a recording of the embedded exchange: the node's strategies, risk and engine
trade on the paper venue, and the same data with the same settings gives the same fills."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.support.recorded_world import record_world

from kalshi_trader.backtest.data import BacktestError
from kalshi_trader.backtest.overrides import apply
from kalshi_trader.backtest.runner import BacktestSpec, run_backtest
from kalshi_trader.config import Settings

SERIES = ("KXHIGHNY", "KXHIGHCHI")


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("recording")
    asyncio.run(record_world(directory, seed=5, series=SERIES, hours=3, fair_every=5))
    return directory


async def test_two_runs_on_the_same_data_and_settings_make_identical_fills(recording: Path) -> None:
    spec = BacktestSpec(recording, Settings())
    first = await run_backtest(spec)
    second = await run_backtest(spec)
    assert first.fills, "the strategies traded"
    assert first.fills == second.fills
    assert first.equity == second.equity
    assert first.refused == second.refused
    assert {f.strategy for f in first.fills} <= {"favorite", "weather_mm"}


async def test_a_setting_changes_what_the_strategies_do(recording: Path) -> None:
    base = await run_backtest(BacktestSpec(recording, Settings(), ("weather_mm",)))
    narrow = apply(Settings(), [("risk.max_open_orders", "1")])
    limited = await run_backtest(BacktestSpec(recording, narrow, ("weather_mm",)))
    assert base.max_open_orders > 1
    assert limited.max_open_orders <= 1
    assert {f.strategy for f in base.fills} <= {"weather_mm"}


async def test_from_and_to_bound_the_trading(recording: Path) -> None:
    full = await run_backtest(BacktestSpec(recording, Settings()))
    middle = full.start_ms + (full.end_ms - full.start_ms) // 2
    late = await run_backtest(BacktestSpec(recording, Settings(), start_ms=middle))
    early = await run_backtest(BacktestSpec(recording, Settings(), end_ms=middle))
    assert late.trading_from_ms >= middle
    assert all(f.ts_ms >= middle for f in late.fills)
    assert early.end_ms <= middle
    assert all(f.ts_ms <= middle for f in early.fills)


async def test_data_that_is_not_a_recording_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BacktestError, match="neither a recording"):
        await run_backtest(BacktestSpec(tmp_path, Settings()))
    with pytest.raises(BacktestError, match="does not exist"):
        await run_backtest(BacktestSpec(tmp_path / "missing", Settings()))
