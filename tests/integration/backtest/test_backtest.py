"""``backtest`` over the shipped sample (a recording of the embedded exchange's weather world): the
node's strategies, risk and engine trade on the paper venue, and the same data with the same
settings gives the same fills."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from kalshi_trader.backtest.data import BacktestError, open_data
from kalshi_trader.backtest.overrides import apply
from kalshi_trader.backtest.runner import BacktestSpec, run_backtest
from kalshi_trader.config import Settings
from kalshi_trader.host.strategies import StrategyHost
from kalshi_trader.strategy.base import MarketSnapshot

SAMPLE = Path(__file__).resolve().parents[3] / "src" / "kalshi_trader" / "samples" / "weather-day"
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def recording() -> Path:
    return SAMPLE


async def test_two_runs_on_the_same_data_and_settings_make_identical_fills(recording: Path) -> None:
    spec = BacktestSpec(recording, Settings(), end_ms=_start(recording) + 6 * HOUR_MS)
    first = await run_backtest(spec)
    second = await run_backtest(spec)
    assert first.fills, "the strategies traded"
    assert first.fills == second.fills
    assert first.equity == second.equity
    assert first.refused == second.refused
    assert {f.strategy for f in first.fills} <= {"favorite", "weather_mm"}
    assert first.fair_samples


async def test_a_setting_changes_what_the_strategies_do(recording: Path) -> None:
    end = _start(recording) + 4 * HOUR_MS
    base = await run_backtest(BacktestSpec(recording, Settings(), ("weather_mm",), end_ms=end))
    narrow = apply(Settings(), [("risk.max_open_orders", "1")])
    limited = await run_backtest(BacktestSpec(recording, narrow, ("weather_mm",), end_ms=end))
    assert base.max_open_orders > 1
    assert limited.max_open_orders <= 1
    assert {f.strategy for f in base.fills} <= {"weather_mm"}


async def test_from_and_to_bound_the_trading(recording: Path) -> None:
    middle = _start(recording) + 2 * HOUR_MS
    late = await run_backtest(BacktestSpec(recording, Settings(), start_ms=middle, end_ms=middle + 2 * HOUR_MS))
    early = await run_backtest(BacktestSpec(recording, Settings(), end_ms=middle))
    assert late.trading_from_ms >= middle
    assert all(f.ts_ms >= middle for f in late.fills)
    assert early.end_ms <= middle
    assert all(f.ts_ms <= middle for f in early.fills)


def test_a_data_dir_names_its_recording(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(SAMPLE, tmp_path / "recordings")
    assert open_data(tmp_path).path == tmp_path / "recordings"
    assert open_data(tmp_path).kind == "recording"


async def test_data_that_is_not_a_recording_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BacktestError, match="neither a recording"):
        await run_backtest(BacktestSpec(tmp_path, Settings()))
    with pytest.raises(BacktestError, match="does not exist"):
        await run_backtest(BacktestSpec(tmp_path / "missing", Settings()))


def _start(recording: Path) -> int:
    from kalshi_trader.recording.reader import read_recording

    return next(r.time_ms for r in read_recording(recording))


async def test_the_market_snapshots_kept_between_steps_equal_ones_built_afresh(recording: Path) -> None:
    """The strategies' market snapshots reuse each market's ladders and snapshot until its book
    sees an event, our orders in it or its info change (only the clock restamped), and our orders'
    levels until the tracker's revision for the market moves: at every step they equal snapshots
    built from nothing."""
    steps: list[int] = []

    def watch(host: StrategyHost) -> None:
        build = host._markets
        backtest: Any = build.__self__  # type: ignore[attr-defined]  # the running backtest's views

        def markets() -> Mapping[str, MarketSnapshot]:
            got = build()
            kept = backtest._kept, backtest._own_levels, backtest._snapshots
            backtest._kept, backtest._own_levels, backtest._snapshots = {}, {}, None
            fresh = build()
            backtest._kept, backtest._own_levels, backtest._snapshots = kept
            assert got == fresh
            steps.append(len(got))
            return got

        host._markets = markets

    await run_backtest(BacktestSpec(recording, Settings(), end_ms=_start(recording) + 4 * HOUR_MS), on_host=watch)
    assert len(steps) > 100
    assert max(steps) > 5


async def test_our_own_quotes_never_move_the_fair_value(recording: Path) -> None:
    """The fair value pools the model with the market's mid without our resting orders: the market
    maker quoting around it (its quotes are the book's best prices as the node sees it) changes
    nothing of it, so it is never pulled back to the model by its own quotes."""
    end = _start(recording) + 4 * HOUR_MS
    half = "[[0, 0.5]]"
    settings = apply(
        Settings(), [("fair_value.model_weight_by_hours", half), ("fair_value.low_model_weight_by_hours", half)]
    )
    quoting = await run_backtest(BacktestSpec(recording, settings, ("weather_mm",), end_ms=end))
    idle = await run_backtest(BacktestSpec(recording, settings, (), end_ms=end))
    assert quoting.fills, "the market maker quoted and traded"
    assert quoting.fair_samples
    assert quoting.fair_samples == idle.fair_samples
