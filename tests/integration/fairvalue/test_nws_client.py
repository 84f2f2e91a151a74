"""``NwsClient`` over a real loopback socket against an api.weather.gov look-alike: headers, the
/points cache, retries with backoff, typed errors, staleness, CLI retrieval."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.fake_nws import FakeNws

from kalshi_trader.config import NwsSettings
from kalshi_trader.fairvalue.nws import (
    NwsClient,
    NwsDataError,
    NwsHttpError,
    NwsUnavailableError,
)
from kalshi_trader.fairvalue.stations import STATIONS

NYC = STATIONS["KXHIGHNY"]
NOW = datetime.now(UTC).replace(microsecond=0)
POINT_PATH = "/points/40.779,-73.969"
GRID_PATH = "/gridpoints/OKX/33,37"
CLI_DIR = Path(__file__).parents[2] / "fixtures" / "nws" / "cli"
FAST = NwsSettings(user_agent="(kalshi-trader tests, ops@example.invalid)", backoff_s=0.001, timeout_s=2.0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeNws]:
    server = FakeNws()
    await server.start()
    server.install_day(NYC, NOW, high_f=lambda d: 80.0)
    try:
        yield server
    finally:
        await server.stop()


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def client(fake: FakeNws, settings: NwsSettings = FAST, **kw: object) -> NwsClient:
    return NwsClient(settings, base_url=fake.base_url, clock=lambda: NOW, **kw)  # type: ignore[arg-type]


async def test_user_agent_and_accept_are_sent(fake: FakeNws) -> None:
    async with client(fake) as nws:
        point = await nws.point(NYC.latitude, NYC.longitude)
        await nws.cli_products("NYC")
    assert (point.grid_id, point.grid_x, point.grid_y) == ("OKX", 33, 37)
    seen = fake.requests[0]
    assert seen.path == POINT_PATH
    assert seen.headers["User-Agent"] == "(kalshi-trader tests, ops@example.invalid)"
    assert seen.headers["Accept"] == "application/geo+json"
    assert fake.requests[1].headers["Accept"] == "application/ld+json"


async def test_points_are_cached(fake: FakeNws) -> None:
    async with client(fake) as nws:
        first = await nws.point(40.779, -73.969)
        again = await nws.point(40.77900001, -73.96899999)  # same 4-decimal point
        together = await asyncio.gather(*(nws.point(41.0, -74.0) for _ in range(5)), return_exceptions=True)
    assert first == again
    assert fake.count(POINT_PATH) == 1
    # Five concurrent lookups of an unknown point share one request, and all see its 404.
    assert fake.count("/points/41,-74") == 1
    assert all(isinstance(r, NwsHttpError) and r.status == 404 for r in together)


async def test_points_cache_expires(fake: FakeNws) -> None:
    clock = [0.0]
    async with client(fake, NwsSettings(points_ttl_s=60), monotonic=lambda: clock[0]) as nws:
        await nws.point(NYC.latitude, NYC.longitude)
        clock[0] = 59.0
        await nws.point(NYC.latitude, NYC.longitude)
        assert fake.count(POINT_PATH) == 1
        clock[0] = 61.0
        await nws.point(NYC.latitude, NYC.longitude)
        assert fake.count(POINT_PATH) == 2


async def test_retries_5xx_with_growing_jittered_backoff(fake: FakeNws) -> None:
    fake.fail(POINT_PATH, 500, 503, 502)
    sleeps = Sleeps()
    settings = NwsSettings(backoff_s=1.0)
    async with client(fake, settings, sleep=sleeps, rng=random.Random(7)) as nws:
        point = await nws.point(NYC.latitude, NYC.longitude)
    assert point.grid_id == "OKX"
    assert fake.count(POINT_PATH) == 4  # three failures, then success
    assert len(sleeps.delays) == 3
    for attempt, delay in enumerate(sleeps.delays):
        assert 0.5 * 2**attempt <= delay <= 2**attempt  # backoff × 2^n × U[0.5, 1]


async def test_gives_up_after_three_retries(fake: FakeNws) -> None:
    fake.fail(POINT_PATH, 503, 503, 503, 503, 503)
    async with client(fake, sleep=Sleeps()) as nws:
        with pytest.raises(NwsUnavailableError, match=r"after 4 attempts \(last: HTTP 503 Service Unavailable") as err:
            await nws.point(NYC.latitude, NYC.longitude)
    assert err.value.attempts == 4
    assert fake.count(POINT_PATH) == 4
    assert fake.failures[POINT_PATH] == [503]  # the fifth was never asked for


async def test_retries_timeouts_and_dropped_connections(fake: FakeNws) -> None:
    fake.fail(GRID_PATH, "hang", "drop")
    async with client(fake, NwsSettings(timeout_s=0.3, backoff_s=0.0)) as nws:
        point = await nws.point(NYC.latitude, NYC.longitude)
        grid = await nws.gridpoint(point)
    assert grid.max_temperature_f
    assert fake.count(GRID_PATH) == 3


async def test_no_retries_when_configured_off(fake: FakeNws) -> None:
    fake.fail(POINT_PATH, 500)
    async with client(fake, NwsSettings(max_retries=0)) as nws:
        with pytest.raises(NwsUnavailableError, match="after 1 attempts"):
            await nws.point(NYC.latitude, NYC.longitude)


async def test_4xx_is_a_typed_error_without_retry(fake: FakeNws) -> None:
    async with client(fake, sleep=Sleeps()) as nws:
        with pytest.raises(NwsHttpError, match=r"404 \(Not Found: no data for /stations/KXYZ") as err:
            await nws.latest_observation("kxyz")
    assert err.value.status == 404
    assert fake.count("/stations/KXYZ/observations/latest") == 1


async def test_missing_user_agent_is_refused_like_nws(fake: FakeNws) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession(skip_auto_headers=["User-Agent"]) as session,
        session.get(fake.base_url + POINT_PATH) as resp,
    ):
        assert resp.status == 403


async def test_bodies_that_are_not_the_documented_shape(fake: FakeNws) -> None:
    fake.set("/stations/KNYC/observations/latest", b"<html>502 from a CDN edge</html>")
    fake.set("/stations/KMDW/observations/latest", ["not", "a", "feature"])
    async with client(fake) as nws:
        with pytest.raises(NwsDataError, match="not JSON"):
            await nws.latest_observation("KNYC")
        with pytest.raises(NwsDataError, match="JSON object"):
            await nws.latest_observation("KMDW")


async def test_forecasts_grid_and_observations(fake: FakeNws) -> None:
    async with client(fake) as nws:
        point = await nws.point(NYC.latitude, NYC.longitude)
        hourly = await nws.hourly_forecast(point)
        daily = await nws.forecast(point)
        grid = await nws.gridpoint(point)
        obs = await nws.observations("KNYC", NOW - timedelta(hours=6), NOW)
        latest = await nws.latest_observation("KNYC")
    assert len(hourly.periods) == 156
    assert (hourly.stale_reason, daily.stale_reason, grid.stale_reason) == (None, None, None)
    assert max(v.value for v in grid.max_temperature_f if v.value is not None) == pytest.approx(80.0)
    assert 5 <= len(obs) <= 6
    assert obs[0].timestamp >= obs[-1].timestamp  # newest first
    assert latest.timestamp == obs[0].timestamp
    assert not latest.stale
    query = next(r.query for r in fake.requests if r.path == "/stations/KNYC/observations")
    assert query["start"].endswith("Z")
    assert query["limit"] == "500"


async def test_stale_forecast_and_observation_are_flagged(fake: FakeNws) -> None:
    fake.install_day(NYC, NOW - timedelta(days=4), high_f=lambda d: 80.0)
    async with client(fake) as nws:
        point = await nws.point(NYC.latitude, NYC.longitude)
        hourly = await nws.hourly_forecast(point)
        grid = await nws.gridpoint(point)
        latest = await nws.latest_observation("KNYC")
    assert hourly.stale
    assert "h old" in (hourly.stale_reason or "")
    assert grid.stale
    assert latest.stale


async def test_forecast_cache_respects_ttl(fake: FakeNws) -> None:
    async with client(fake, NwsSettings(forecast_ttl_s=0)) as nws:
        point = await nws.point(NYC.latitude, NYC.longitude)
        await nws.hourly_forecast(point)
        await nws.hourly_forecast(point)
    assert fake.count(GRID_PATH + "/forecast/hourly") == 2
    async with client(fake, NwsSettings(forecast_ttl_s=300)) as nws:
        point = await nws.point(NYC.latitude, NYC.longitude)
        await nws.hourly_forecast(point)
        await nws.hourly_forecast(point)
    assert fake.count(GRID_PATH + "/forecast/hourly") == 3


async def test_a_cached_forecast_is_judged_stale_at_each_read(fake: FakeNws) -> None:
    """Parsed once, judged every time: the same cached answer turns stale as the clock passes the
    limit, without being fetched again."""
    now = [NOW]
    settings = NwsSettings(forecast_ttl_s=1e6, forecast_stale_s=6 * 3600)
    async with NwsClient(settings, base_url=fake.base_url, clock=lambda: now[0]) as nws:
        point = await nws.point(NYC.latitude, NYC.longitude)
        first = await nws.gridpoint(point)
        now[0] = NOW + timedelta(hours=12)
        later = await nws.gridpoint(point)
    assert not first.stale
    assert later.stale
    assert later.temperature_f is first.temperature_f  # the same parse
    assert fake.count(GRID_PATH) == 1


async def test_request_budget_serves_expired_answers_and_queues_first_fetches(fake: FakeNws) -> None:
    """Two requests a (fake) real second: an expired forecast is served from the cache while the
    budget is spent and fetched again once it refills; a first fetch over budget waits its turn."""
    market, wall, sleeps = [0.0], [0.0], Sleeps()
    settings = NwsSettings(forecast_ttl_s=60, max_requests_per_s=2)
    async with client(fake, settings, monotonic=lambda: market[0], wall=lambda: wall[0], sleep=sleeps) as nws:
        point = await nws.point(NYC.latitude, NYC.longitude)  # token 1 of 2
        await nws.hourly_forecast(point)  # token 2: the budget is spent
        market[0] = 120.0  # the forecast has expired in market time, no real time has passed
        await nws.hourly_forecast(point)
        assert fake.count(GRID_PATH + "/forecast/hourly") == 1
        assert sleeps.delays == []
        await nws.forecast(point)  # nothing cached: waits for the next token (half a second)
        assert sleeps.delays == [pytest.approx(0.5)]
        wall[0] = 10.0  # the budget refills
        await nws.hourly_forecast(point)
        assert fake.count(GRID_PATH + "/forecast/hourly") == 2


async def test_latest_cli_for_a_day(fake: FakeNws) -> None:
    final = (CLI_DIR / "CLINYC_final.txt").read_text()
    prelim = (CLI_DIR / "CLINYC_preliminary.txt").read_text()
    fake.install_day(NYC, NOW, high_f=lambda d: 80.0, cli={"c-final": final, "c-prelim": prelim, "c-junk": "x"})
    async with client(fake) as nws:
        refs = await nws.cli_products("nyc")
        assert [r.product_id for r in refs] == ["c-final", "c-prelim", "c-junk"]
        report = await nws.latest_cli("NYC", date(2026, 5, 16))
        assert report is not None
        assert (report.maximum_f, report.preliminary) == (79, False)
        assert await nws.latest_cli("NYC", date(2026, 5, 17)) is None
        assert "CLIMATE SUMMARY" in await nws.product_text("c-prelim")
    assert fake.count("/products/c-final") == 1  # product texts are cached


async def test_products_issued_before_the_day_are_not_fetched(fake: FakeNws) -> None:
    """A day's report is issued on its afternoon or later: for tomorrow, nothing listed qualifies."""
    final = (CLI_DIR / "CLINYC_final.txt").read_text()
    fake.install_day(NYC, NOW, high_f=lambda d: 80.0, cli={"c-final": final})
    async with client(fake) as nws:
        assert await nws.latest_cli("NYC", NOW.date() + timedelta(days=1)) is None
    assert fake.count("/products/c-final") == 0


def test_bad_base_url_is_rejected() -> None:
    for bad in ("api.weather.gov", "ftp://x", "http://", "http://x/?a=1"):
        with pytest.raises(ValueError, match="not an http"):
            NwsClient(base_url=bad)
    assert NwsClient(base_url="https://api.weather.gov/").base_url == "https://api.weather.gov"
