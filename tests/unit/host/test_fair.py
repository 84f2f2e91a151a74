"""``host.fair.FairValueFeed``: every followed daily-high event priced from NWS data at market
time, values of markets no longer followed dropped, an event that cannot be priced keeping no
value and its error while the others are priced, and ``run`` refreshing until cancelled.

NWS is the only fake: ``tests.support.fake_nws.FakeNws`` over loopback, read by the real
``NwsClient``. Market time is a fixed moment months away from the wall clock, so a feed pricing at
the wall clock would price a different day."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import math
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, timedelta

import pytest
from tests.support.fake_nws import FakeNws

from kalshi_trader.config import NwsSettings
from kalshi_trader.domain import PRICE_SCALE, MarketInfo, MarketStatus, Price, TickGrid
from kalshi_trader.fairvalue.blend import MarketBlend
from kalshi_trader.fairvalue.live import event_fair_values
from kalshi_trader.fairvalue.nws import NwsClient
from kalshi_trader.fairvalue.stations import STATIONS
from kalshi_trader.fairvalue.weather import Bracket, check_partition, climate_day_bounds, fair_price
from kalshi_trader.host.fair import FairValueFeed
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.strategy.weather_mm import fair_values_from_distribution

pytestmark = pytest.mark.timeout(60)

NYC, CHI, MIA = STATIONS["KXHIGHNY"], STATIONS["KXHIGHCHI"], STATIONS["KXHIGHMIA"]
DAY = date(2026, 7, 15)
NOW = climate_day_bounds(DAY, NYC.time_zone)[0] + timedelta(hours=9)  # 09:00 LST in New York
NOW_MS = int(NOW.timestamp() * 1000)
SETTINGS = NwsSettings(user_agent="(tests, ops@example.invalid)", backoff_s=0.0)
GRID = TickGrid.named("linear_cent")


def event_markets(series: str, low: int = 77, day: date = DAY) -> list[MarketInfo]:
    """A Kalshi-shaped daily-high event: ≤low−1, four 2 °F brackets, ≥low+8."""
    event = f"{series}-{day:%y}{day.strftime('%b').upper()}{day:%d}"

    def market(suffix: str, strike_type: str, floor: float | None, cap: float | None) -> MarketInfo:
        return MarketInfo(
            ticker=f"{event}-{suffix}",
            event_ticker=event,
            series_ticker=series,
            status=MarketStatus.ACTIVE,
            grid=GRID,
            close_ms=NOW_MS + 86_400_000,
            strike_type=strike_type,
            floor_strike=floor,
            cap_strike=cap,
        )

    out = [market(f"T{low}", "less", None, low)]
    out += [market(f"B{f}.5", "between", f, f + 1) for f in range(low, low + 8, 2)]
    out.append(market(f"T{low + 7}", "greater", low + 7, None))
    return out


def by_ticker(markets: Iterable[MarketInfo]) -> dict[str, MarketInfo]:
    return {m.ticker: m for m in markets}


@pytest.fixture
async def nws() -> AsyncIterator[FakeNws]:
    server = FakeNws()
    await server.start()
    server.install_day(NYC, NOW, high_f=lambda d: 80.0)
    server.install_day(MIA, NOW, high_f=lambda d: 90.0, grid=("MFL", 110, 50))
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def client(nws: FakeNws) -> AsyncIterator[NwsClient]:
    async with NwsClient(SETTINGS, base_url=nws.base_url, clock=lambda: NOW) as c:
        yield c


async def expected(client: NwsClient, station_series: str, markets: list[MarketInfo]) -> dict[str, object]:
    """What the contract says the feed stores for one event, computed here from the same model."""
    brackets = check_partition(Bracket.from_market(m) for m in markets)
    fv = await event_fair_values(client, STATIONS[station_series], DAY, brackets, now=NOW)
    return dict(fair_values_from_distribution(fv.distribution, brackets, NOW_MS))


async def test_every_followed_weather_event_is_priced_at_market_time(client: NwsClient) -> None:
    ny, mia = event_markets("KXHIGHNY"), event_markets("KXHIGHMIA", low=87)
    other = MarketInfo("KXFED-26JUL-T4.25", "KXFED-26JUL", "KXFED", MarketStatus.ACTIVE, GRID, NOW_MS + 1)
    feed = FairValueFeed(client, lambda: by_ticker([*ny, *mia, other]), lambda: NOW_MS)
    assert set(feed.events()) == {ny[0].event_ticker, mia[0].event_ticker}  # not the non-weather market

    await feed.refresh()

    assert feed.errors == {}
    assert set(feed.values) == {m.ticker for m in [*ny, *mia]}
    assert {fv.as_of_ms for fv in feed.values.values()} == {NOW_MS}
    assert (feed.refreshes, feed.last_refresh_ms) == (1, NOW_MS)
    for markets in (ny, mia):
        event_total = math.fsum(feed.values[m.ticker].price for m in markets)
        assert event_total == pytest.approx(PRICE_SCALE, abs=len(markets))  # P(YES) of a partition sums to 1
    assert {t: feed.values[t] for t in by_ticker(ny)} == await expected(client, "KXHIGHNY", ny)
    assert {t: feed.values[t] for t in by_ticker(mia)} == await expected(client, "KXHIGHMIA", mia)
    # The forecast high is 80 °F: the 79–80 bracket is the favourite in New York.
    favourite = max(ny, key=lambda m: feed.values[m.ticker].price)
    assert favourite.ticker.endswith("-B79.5")


async def test_a_market_is_never_valued_below_its_settlement_floor(client: NwsClient) -> None:
    """YES settles at the floor at least: a model value under it is lifted to it (the others stay)."""
    ny = event_markets("KXHIGHNY")
    plain = await expected(client, "KXHIGHNY", ny)
    tail = min(ny, key=lambda m: plain[m.ticker].price)  # type: ignore[attr-defined]
    floor = Price(plain[tail.ticker].price + 500)  # type: ignore[attr-defined]
    floored = [dataclasses.replace(m, settlement_floor=floor) if m is tail else m for m in ny]
    feed = FairValueFeed(client, lambda: by_ticker(floored), lambda: NOW_MS)
    await feed.refresh()
    assert feed.values[tail.ticker].price == floor
    assert {t: v for t, v in feed.values.items() if t != tail.ticker} == {
        t: v for t, v in plain.items() if t != tail.ticker
    }


async def test_values_blend_the_model_with_the_market_mid_by_hours_to_close(client: NwsClient) -> None:
    """With a blend and the books' mids, each value is the model pooled with its market's mid at
    the weight for the hours left (24 h here); a market without a mid keeps the model's value; a
    settlement floor still bounds it from below."""
    ny = event_markets("KXHIGHNY")
    model = await expected(client, "KXHIGHNY", ny)
    mids = {m.ticker: 0.30 for m in ny[:-1]}  # the last market has no usable book
    blend = MarketBlend(((1.0, 1.0), (24.0, 0.5), (48.0, 0.0)))
    feed = FairValueFeed(client, lambda: by_ticker(ny), lambda: NOW_MS, blend=blend, mids=mids.get)
    await feed.refresh()
    brackets = check_partition(Bracket.from_market(m) for m in ny)
    priced = (await event_fair_values(client, NYC, DAY, brackets, now=NOW)).brackets
    tickers = [bp.bracket.ticker for bp in priced]
    want = blend.blend_event([bp.probability for bp in priced], [mids.get(t) for t in tickers], 24.0)
    assert [feed.values[t].price for t in tickers] == [fair_price(p) for p in want]
    assert [feed.values[t].price for t in tickers] != [model[t].price for t in tickers]  # type: ignore[attr-defined]

    floored = [dataclasses.replace(m, settlement_floor=Price(9_000)) if m is ny[0] else m for m in ny]
    feed = FairValueFeed(client, lambda: by_ticker(floored), lambda: NOW_MS, blend=blend, mids=mids.get)
    await feed.refresh()
    assert feed.values[ny[0].ticker].price == 9_000
    assert all(0 <= v.price <= PRICE_SCALE for v in feed.values.values())


async def test_a_daily_low_is_blended_with_the_lows_weights(client: NwsClient) -> None:
    """The same blend weighs the model of a high fully and leaves a low's values at the mids (a
    bracket the observed minimum rules out stays at 0): each event is pooled with the weights of
    what its station settles on."""
    ny, low = event_markets("KXHIGHNY"), event_markets("KXLOWTNYC", low=60)
    model = await expected(client, "KXHIGHNY", ny)
    mids = {m.ticker: 0.2 for m in low}
    blend = MarketBlend(((0.0, 1.0),), low_knots=((0.0, 0.0),))
    feed = FairValueFeed(client, lambda: by_ticker(ny + low), lambda: NOW_MS, blend=blend, mids=mids.get)
    await feed.refresh()
    assert feed.errors == {}
    assert {m.ticker: feed.values[m.ticker].price for m in ny} == {t: v.price for t, v in model.items()}  # type: ignore[attr-defined]
    brackets = check_partition(Bracket.from_market(m) for m in low)
    priced = (await event_fair_values(client, STATIONS["KXLOWTNYC"], DAY, brackets, now=NOW)).brackets
    impossible = {bp.bracket.ticker for bp in priced if bp.probability == 0.0}
    assert impossible  # the minimum observed by 09:00 rules the warmest brackets out
    assert {t: v.price for t, v in feed.values.items() if t in mids} == {
        t: 0 if t in impossible else fair_price(0.2) for t in mids
    }


async def test_a_blend_weighting_the_model_fully_is_the_model(client: NwsClient) -> None:
    ny = event_markets("KXHIGHNY")
    model = await expected(client, "KXHIGHNY", ny)
    feed = FairValueFeed(
        client, lambda: by_ticker(ny), lambda: NOW_MS, blend=MarketBlend(((0.0, 1.0),)), mids=lambda _: 0.9
    )
    await feed.refresh()
    assert {t: v.price for t, v in feed.values.items()} == {t: v.price for t, v in model.items()}  # type: ignore[attr-defined]


async def test_values_of_markets_no_longer_followed_are_dropped(client: NwsClient) -> None:
    ny, mia = event_markets("KXHIGHNY"), event_markets("KXHIGHMIA", low=87)
    followed = by_ticker([*ny, *mia])
    feed = FairValueFeed(client, lambda: followed, lambda: NOW_MS)
    await feed.refresh()
    assert set(feed.values) == set(followed)

    for m in mia:
        del followed[m.ticker]
    await feed.refresh()
    assert set(feed.values) == {m.ticker for m in ny}

    followed.clear()
    await feed.refresh()
    assert feed.values == {}
    assert feed.errors == {}


async def test_an_event_that_cannot_be_priced_keeps_no_value_and_its_error_while_the_others_are_priced(
    nws: FakeNws, client: NwsClient
) -> None:
    ny, mia, chi = event_markets("KXHIGHNY"), event_markets("KXHIGHMIA", low=87), event_markets("KXHIGHCHI")
    followed = by_ticker([*ny, *mia, *chi])
    feed = FairValueFeed(client, lambda: followed, lambda: NOW_MS)

    # Chicago: NWS knows nothing of the station's point (404).
    await feed.refresh()
    chi_event = chi[0].event_ticker
    assert set(feed.errors) == {chi_event}
    assert "404" in feed.errors[chi_event]
    assert set(feed.values) == {m.ticker for m in [*ny, *mia]}

    # Miami, priced before, gets an overlapping bracket: no partition, so no value is kept for any
    # of its markets (a stale value is worse than none) and the error says why.
    overlap = MarketInfo(
        f"{mia[0].event_ticker}-B88.5X",
        mia[0].event_ticker,
        "KXHIGHMIA",
        MarketStatus.ACTIVE,
        GRID,
        NOW_MS + 86_400_000,
        strike_type="between",
        floor_strike=88,
        cap_strike=89,
    )
    followed[overlap.ticker] = overlap
    await feed.refresh()
    assert set(feed.errors) == {chi_event, mia[0].event_ticker}
    assert set(feed.values) == {m.ticker for m in ny}

    # Both recover: Chicago's data appears, Miami's extra market goes away.
    nws.install_day(CHI, NOW, high_f=lambda d: 75.0, grid=("LOT", 70, 60))
    del followed[overlap.ticker]
    await feed.refresh()
    assert feed.errors == {}
    assert set(feed.values) == set(followed)


async def test_a_slow_event_never_holds_the_others_back(nws: FakeNws, client: NwsClient) -> None:
    """Miami's hourly forecast hangs: a refresh bounded in time stores New York's values, leaves
    Miami pricing in the background, and the next refresh does not ask again."""
    ny, mia = event_markets("KXHIGHNY"), event_markets("KXHIGHMIA", low=87)
    hourly = "/gridpoints/MFL/110,50/forecast/hourly"
    nws.fail(hourly, "hang")
    feed = FairValueFeed(client, lambda: by_ticker([*ny, *mia]), lambda: NOW_MS)
    try:
        await feed.refresh(wait_s=0.2)
        assert set(feed.values) == {m.ticker for m in ny}
        assert feed.errors == {}
        await feed.refresh(wait_s=0.2)
        assert set(feed.values) == {m.ticker for m in ny}
        assert nws.count(hourly) == 1
    finally:
        feed.cancel()


async def run_until(feed: FairValueFeed, count: int, interval_s: float, min_wall_s: float) -> list[tuple[int, int]]:
    """Run the feed until it has called back ``count`` times; (refreshes, market time of the
    refresh) at each call."""
    updates: list[tuple[int, int]] = []
    done = asyncio.Event()

    def on_update() -> None:
        updates.append((feed.refreshes, feed.last_refresh_ms))
        if len(updates) >= count:
            done.set()

    task = asyncio.get_running_loop().create_task(feed.run(interval_s, on_update, min_wall_s=min_wall_s))
    try:
        async with asyncio.timeout(20):
            await done.wait()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    return updates


async def test_run_refreshes_on_market_time_and_outlives_a_failed_refresh(client: NwsClient) -> None:
    """At 3600× a 10-minute market interval is a sixth of a real second: refreshes follow the
    market clock, not a real-time cadence, and a failed one does not end the feed."""
    ny = by_ticker(event_markets("KXHIGHNY"))
    calls = 0

    def markets() -> dict[str, MarketInfo]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the monitor's markets are being rebuilt")
        return ny

    clock = SimClock(start=NOW_MS, speed=3600)
    feed = FairValueFeed(client, markets, clock.now_ms)
    updates = await run_until(feed, 4, interval_s=600, min_wall_s=0.0)
    # on_update after every refresh, the failed second one included (it counted nothing).
    assert [n for n, _ in updates] == [1, 1, 2, 3]
    stamps = sorted({ms for _, ms in updates})  # the failed refresh stamped nothing
    assert len(stamps) == 3
    assert all(later - earlier >= 600_000 for earlier, later in itertools.pairwise(stamps))
    assert set(feed.values) == set(ny)
    assert all(v.as_of_ms >= stamps[-1] for v in feed.values.values())


async def test_run_waits_at_least_the_real_minimum_between_refreshes(client: NwsClient) -> None:
    """However fast the market clock, refreshes start at least ``min_wall_s`` real seconds apart:
    at 100 000× and 0.05 s that is 5 000 s of market time, above the 1 s market interval."""
    clock = SimClock(start=NOW_MS, speed=100_000)
    feed = FairValueFeed(client, lambda: by_ticker(event_markets("KXHIGHNY")), clock.now_ms)
    updates = await run_until(feed, 3, interval_s=1, min_wall_s=0.05)
    stamps = [ms for _, ms in updates]
    assert all(later - earlier >= 5_000_000 for earlier, later in itertools.pairwise(stamps))


def test_market_time_is_not_the_wall_clock() -> None:
    """The premise of the tests above: pricing at the wall clock would price another moment."""
    assert abs(datetime.now(UTC) - NOW) > timedelta(days=1)
