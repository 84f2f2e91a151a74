"""A recording of the embedded exchange's weather world, made the way ``record`` makes one.

Contract: ``await record_world(directory, ...)`` builds a stepped exchange (``support.world``) with
the living world of ``series`` and its NWS, lets it live an hour, then records it for ``hours`` of
market time stepped ``step_ms`` at a time (a ``FeedRecorder`` on the exchange's clock: every
WebSocket frame, the markets, the NWS responses of a ``FairValueFeed`` refreshed every
``fair_every`` steps, each refresh fetching fresh answers: the NWS request budget, made for real
seconds, would starve a clock stepped many market minutes a real second). ``drop_at`` (a step
number) drops the WebSocket once and waits for the session to reconnect. Returns
``WorldRecording``: the live monitor's books and the feed's fair values at the end, and the last
market time. Deterministic but for thread timing of the socket: the books at the end are the
exchange's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.support.exchange import process_key
from tests.support.world import HOUR_MS, START_MS, run, stepped_exchange

from kalshi_trader.config import NwsSettings
from kalshi_trader.domain import Money
from kalshi_trader.fairvalue.nws import NwsClient
from kalshi_trader.host.fair import FairValueFeed
from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.kalshi.ws import WsSession
from kalshi_trader.marketdata.monitor import MarketFilter, Monitor
from kalshi_trader.recording.feed import FeedRecorder
from kalshi_trader.recording.manifest import Source
from kalshi_trader.sim.world.living_world import build_living_world
from kalshi_trader.sim.world.nws_routes import mount_nws, nws_base_url
from kalshi_trader.strategy.base import FairValue

MINUTE_MS = 60_000


@dataclass(frozen=True)
class WorldRecording:
    books: dict[str, tuple[list[tuple[int, int]], list[tuple[int, int]]]]
    fair_values: dict[str, FairValue]
    end_ms: int


async def record_world(
    directory: Path,
    *,
    seed: int = 11,
    series: Sequence[str] = ("KXHIGHNY",),
    hours: float = 1.5,
    step_ms: int = MINUTE_MS,
    fair_every: int = 15,
    drop_at: int | None = None,
    settle_s: float = 0.01,
    start_ms: int = START_MS,
) -> WorldRecording:
    exchange, clock = stepped_exchange(seed, start_ms)
    world = build_living_world(exchange, seed, series=tuple(series), other_series=())
    mount_nws(exchange, world.weather)
    run(exchange, clock, start_ms + HOUR_MS, MINUTE_MS)
    exchange.open_account("recorder", Money(0))
    key = process_key(0)
    signer = Signer(exchange.add_api_key("recorder", key.public_key()), key)
    _, ws_url = await exchange.start("127.0.0.1", 0)
    rest_url = exchange.endpoints.rest_url
    try:
        async with KalshiRest(rest_url, signer) as rest:
            recorder = FeedRecorder.open(directory, rest, Source(market_clock="exchange"), market_clock=clock)
            ws = WsSession(ws_url, signer)
            monitor = Monitor(
                recorder.market_source(clock_ms=clock), ws, MarketFilter(series=frozenset(series)), clock_ms=clock
            )
            recorder.attach(ws, monitor)
            nws = NwsClient(
                NwsSettings(max_requests_per_s=1_000),  # a stepped clock refreshes many times a real second
                base_url=nws_base_url(exchange),
                clock=lambda: _utc(clock.now_ms()),
                monotonic=lambda: clock.now_ms() / 1000,
                on_response=recorder.nws,
            )
            fair = FairValueFeed(nws, lambda: monitor.markets, clock)
            try:
                await monitor.start()
                async with asyncio.timeout(10):
                    await monitor.wait_fresh()
                for step in range(int(hours * HOUR_MS) // step_ms):
                    if step % fair_every == 0:
                        await fair.refresh()
                    clock.advance(step_ms)
                    exchange.housekeeping()
                    await asyncio.sleep(settle_s)
                    if drop_at is not None and step == drop_at:
                        ws.drop_connection()
                        await asyncio.sleep(0.05)
                        async with asyncio.timeout(30):
                            await ws.wait_connected()
                            await monitor.wait_fresh()
                await asyncio.sleep(0.5)  # the last frames arrive
                books = {t: b.as_tuples() for t, b in monitor.books.items()}
                values = dict(fair.values)
            finally:
                await monitor.close()
                await ws.close()
                await nws.close()
                await recorder.close()
    finally:
        await exchange.stop()
    return WorldRecording(books, values, clock.now_ms())


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
