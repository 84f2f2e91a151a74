"""What the recording is for: a recording of the embedded exchange's feed, fed back frame by frame
through a fresh ``WsSession`` and ``Monitor`` (no socket), rebuilds exactly the books the live
monitor held — the same parser, the same seq checks, the same books — and its records carry the
exchange's market time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.exchange import process_key
from tests.support.world import HOUR_MS, START_MS, run, stepped_exchange

from kalshi_trader.domain import MarketInfo, Money
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.kalshi.ws import ORDERBOOK, WsSession
from kalshi_trader.marketdata.monitor import MarketFilter, Monitor
from kalshi_trader.recording.feed import FeedRecorder
from kalshi_trader.recording.manifest import Source
from kalshi_trader.recording.reader import read_recording
from kalshi_trader.sim.world.living_world import build_living_world

MINUTE_MS = 60_000
SERIES = "KXHIGHNY"


class Recorded:
    """The markets of the recording's ``market`` records (the last read of each)."""

    def __init__(self, infos: dict[str, MarketInfo]) -> None:
        self.infos = infos

    async def list_markets(self, market_filter: MarketFilter) -> list[MarketInfo]:
        return list(self.infos.values())

    async def get_market(self, ticker: str) -> MarketInfo | None:
        return self.infos.get(ticker)


async def test_a_recording_replays_through_the_same_session_and_monitor_to_the_same_books(tmp_path: Path) -> None:
    exchange, clock = stepped_exchange(11)
    build_living_world(exchange, 11, series=(SERIES,))
    run(exchange, clock, START_MS + HOUR_MS, MINUTE_MS)
    exchange.open_account("recorder", Money(0))
    key = process_key(0)
    signer = Signer(exchange.add_api_key("recorder", key.public_key()), key)
    rest_url, ws_url = await exchange.start("127.0.0.1", 0)
    try:
        async with KalshiRest(rest_url, signer) as rest:
            recorder = FeedRecorder.open(tmp_path, rest, Source(market_clock="exchange"), market_clock=clock)
            ws = WsSession(ws_url, signer)
            source = recorder.market_source(clock_ms=clock)
            monitor = Monitor(source, ws, MarketFilter(series=frozenset({SERIES})), clock_ms=clock)
            recorder.attach(ws, monitor)
            await monitor.start()
            async with asyncio.timeout(10):
                await monitor.wait_fresh()
            for _ in range(90):  # an hour and a half of market time, a minute per step
                clock.advance(MINUTE_MS)
                exchange.housekeeping()
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)  # the last frames arrive
            live = {t: b.as_tuples() for t, b in monitor.books.items()}
            frames = ws.stats.frames
            await monitor.close()
            await ws.close()
            await recorder.close()
    finally:
        await exchange.stop()
    records = list(read_recording(tmp_path))
    ws_records = [r for r in records if r.kind == "ws"]
    assert len(ws_records) == frames
    kinds = [r.json()["type"] for r in ws_records]
    assert kinds.count("orderbook_delta") > 100, sorted(set(kinds))
    times = [r.market_ms for r in ws_records]
    assert all(t is not None and START_MS + HOUR_MS <= t <= clock.now_ms() + 1_000 for t in times)
    markets: dict[str, MarketInfo] = {}
    for r in records:
        if r.kind == "market":
            info = convert.market_info(w.decoder_for(w.Market).decode(r.payload))
            markets[info.ticker] = info
    assert set(live) <= set(markets)
    # Replay: a session that is never connected, subscribed as the live one was; the recorded
    # "subscribed" replies bind the recorded sids and every frame goes through the same checks.
    session = WsSession("ws://replay.invalid/trade-api/ws/v2", None)
    replay = Monitor(Recorded(markets), session, MarketFilter())
    await replay.add_markets(list(live))
    await session.subscribe(["market_lifecycle_v2"])
    await session.subscribe([ORDERBOOK, "ticker", "trade"], list(live))
    for r in ws_records:
        session.on_text(r.payload)
    assert session.stats.seq_gaps == 0
    assert session.stats.bad_frames == 0
    assert {t: b.as_tuples() for t, b in replay.books.items()} == live
    assert not any(b.stale for b in replay.books.values())
