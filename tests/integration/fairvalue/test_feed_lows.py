"""The node's fair-value feed prices daily-low events too, finding each series' station and extreme
in its markets' rules as the embedded exchange serves them (Kalshi REST over loopback) and pricing
them from its simulated NWS — what the weather market maker quotes from."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from kalshi_trader.config import NwsSettings
from kalshi_trader.domain import PRICE_SCALE, MarketInfo
from kalshi_trader.fairvalue.nws import NwsClient
from kalshi_trader.host.fair import FairValueFeed
from kalshi_trader.kalshi.convert import market_info
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.world.nws_routes import mount_nws, nws_base_url
from kalshi_trader.sim.world.weather_markets import build_weather_world

SETTINGS = NwsSettings(user_agent="(kalshi-trader tests, ops@example.invalid)", backoff_s=0.0)
NOW = datetime(2026, 1, 14, 23, 0, tzinfo=UTC)  # 18:00 EST: tomorrow's dawn still ahead


async def test_low_and_high_events_are_priced_from_their_rules() -> None:
    clock = SimClock(start=NOW, speed=0)
    exchange = EmbeddedExchange(seed=6, clock_ms=clock.now_ms, tier=None)
    world = build_weather_world(exchange, seed=6, series=("KXLOWTNYC", "KXHIGHNY"))
    mount_nws(exchange, world)
    await exchange.start("127.0.0.1", 0)
    try:
        async with KalshiRest(exchange.endpoints.rest_url, None, tier="prestige") as rest:
            listed = [market_info(m) async for m in rest.iter_markets(status="open")]
        infos = {i.ticker: i for i in listed if i.series_ticker in ("KXLOWTNYC", "KXHIGHNY")}
        assert any("lowest temperature recorded in Central Park" in i.rules_primary for i in infos.values())

        def markets() -> dict[str, MarketInfo]:
            return infos

        async with NwsClient(SETTINGS, base_url=nws_base_url(exchange), clock=lambda: NOW) as nws:
            feed = FairValueFeed(nws, markets, clock.now_ms)
            await feed.refresh()
    finally:
        await exchange.stop()
    assert feed.errors == {}
    lows = {e: [t for t in infos if t.startswith(e + "-")] for e in {i.event_ticker for i in infos.values()}}
    assert any(e.startswith("KXLOWTNYC-") for e in lows)
    for event, tickers in lows.items():
        assert all(t in feed.values for t in tickers), event
        total = math.fsum(feed.values[t].price / PRICE_SCALE for t in tickers)
        assert abs(total - 1.0) < 6e-4, (event, total)
    # the low of the 15th is priced around the public forecast of that dawn, not the day's high
    day = datetime(2026, 1, 15).date()
    low_event = world.event_for("KXLOWTNYC", day)
    high_event = world.event_for("KXHIGHNY", day)
    assert low_event is not None
    assert high_event is not None
    forecast_low = world.forecast("KXLOWTNYC", day, clock.now_ms())
    best = max(low_event.tickers, key=lambda t: feed.values[t].price)
    lo, hi = low_event.brackets[low_event.tickers.index(best)].bounds()
    assert lo is None or lo - 3 <= forecast_low
    assert hi is None or forecast_low <= hi + 3
    assert world.forecast("KXHIGHNY", day, clock.now_ms()) > forecast_low + 3
