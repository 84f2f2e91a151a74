"""The market-data half of a backtest: a recording of the embedded exchange (with a dropped
connection in it) replayed through ``MarketReplay`` rebuilds the live monitor's books, marks them
stale from the recorded drop until the recorded snapshots after the reconnect, and answers the
fair-value model with the recorded NWS responses, so its fair values are the live ones."""

from __future__ import annotations

from pathlib import Path

from tests.support.recorded_world import record_world

from kalshi_trader.backtest.clock import ReplayClock
from kalshi_trader.backtest.replay import MarketReplay
from kalshi_trader.host.fair import FairValueFeed
from kalshi_trader.marketdata.monitor import BookFresh, BookStale
from kalshi_trader.recording.reader import read_recording


async def test_a_recording_with_a_drop_replays_to_the_live_books_and_fair_values(tmp_path: Path) -> None:
    live = await record_world(tmp_path, hours=1.5, drop_at=30)
    records = list(read_recording(tmp_path))
    clock = ReplayClock()
    replay = MarketReplay(clock)
    await replay.setup()
    stale: list[str] = []
    fresh: list[str] = []
    replay.monitor.subscribe(BookStale, lambda e: stale.append(e.ticker))
    replay.monitor.subscribe(BookFresh, lambda e: fresh.append(e.ticker))
    at_drop: dict[str, bool] = {}
    # The live model last asked NWS at ``asked``: asked at the same market time of the replay,
    # the recorded answers give the same fair values.
    asked = max(v.as_of_ms for v in live.fair_values.values())
    fair = FairValueFeed(replay.nws, lambda: replay.monitor.markets, clock.now_ms)
    for record in records:
        if record.time_ms > asked >= clock.now_ms():
            clock.advance_to(asked)
            await fair.refresh()
        clock.advance_to(record.time_ms)
        await replay.apply(record)
        if record.kind == "gap" and replay.stats.gaps["disconnected"] == 1 and not at_drop:
            at_drop = {t: b.stale for t, b in replay.monitor.books.items()}
    assert replay.stats.gaps["disconnected"] == 2  # the drop, and the end of the recording
    assert at_drop
    assert all(at_drop.values())  # every book stale from the drop
    assert set(stale) >= set(at_drop)
    assert all(fresh.count(t) >= 2 for t in at_drop)  # the first snapshot, and the one after the reconnect
    assert replay.session.stats.seq_gaps == 0
    assert replay.session.stats.bad_frames == 0
    assert {t: b.as_tuples() for t, b in replay.monitor.books.items() if t in live.books} == live.books
    assert live.fair_values
    assert fair.values == live.fair_values
