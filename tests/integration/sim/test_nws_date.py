"""The simulated NWS's HTTP ``Date`` header is the exchange's clock, as a real server's is its own:
at a high speed it follows the simulated time, on every kind of response; the Kalshi REST routes
keep the wall clock (signatures, and ``kalshi-trader check``'s clock check, run on it)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp
import pytest

from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.world.nws_routes import mount_nws, nws_base_url
from kalshi_trader.sim.world.weather_markets import build_weather_world

UA = {"User-Agent": "(kalshi-trader tests, ops@example.com)"}
START = datetime(2026, 5, 16, 14, 30, tzinfo=UTC)  # far from any wall clock these tests run on
SPEED = 3600  # an hour of simulated time per real second
IMF_FIXDATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")


@pytest.fixture
async def fast() -> AsyncIterator[tuple[EmbeddedExchange, SimClock]]:
    clock = SimClock(start=START, speed=SPEED)
    exchange = EmbeddedExchange(seed=5, clock_ms=clock, tier=None)
    mount_nws(exchange, build_weather_world(exchange, seed=5))
    await exchange.start("127.0.0.1", 0)
    try:
        yield exchange, clock
    finally:
        await exchange.stop()


def date_ms(resp: aiohttp.ClientResponse) -> int:
    [value] = resp.headers.getall("Date")  # one Date header: aiohttp's own was replaced, not doubled
    assert IMF_FIXDATE.match(value), value
    return int(parsedate_to_datetime(value).timestamp()) * 1000


async def test_nws_date_follows_the_simulated_clock(fast: tuple[EmbeddedExchange, SimClock]) -> None:
    exchange, clock = fast
    base = nws_base_url(exchange)
    city = "40.779,-73.969"
    paths = [
        (f"/points/{city}", 200),
        ("/stations/KNYC/observations/latest", 200),
        ("/stations/NOPE", 404),  # an NWS problem response
        (f"/points/{city}1234", 301),  # a redirect to the rounded point
        ("/no/such/path", 404),
    ]
    async with aiohttp.ClientSession(headers=UA) as http:
        seen: list[int] = []
        for path, status in paths:
            before = clock.now_ms()
            async with http.get(base + path, allow_redirects=False) as resp:
                assert resp.status == status, path
                sent = date_ms(resp)
            after = clock.now_ms()
            assert before // 1000 * 1000 <= sent <= after, path  # whole seconds of the exchange's clock
            seen.append(sent)
            await asyncio.sleep(0.02)  # over a minute of simulated time
        async with http.get(base + "/points/1,2", headers={"User-Agent": ""}) as resp:  # NWS's 403
            assert resp.status == 403
            assert abs(date_ms(resp) - clock.now_ms()) < 60_000
    assert seen == sorted(seen)
    assert clock.now_ms() - START.timestamp() * 1000 > 60_000  # the clock ran fast
    assert abs(seen[0] - time.time() * 1000) > 30 * 86_400_000  # and is not the wall clock


async def test_kalshi_rest_keeps_the_wall_clock(fast: tuple[EmbeddedExchange, SimClock]) -> None:
    exchange, _ = fast
    async with aiohttp.ClientSession() as http, http.get(exchange.endpoints.rest_url + "/exchange/status") as resp:
        assert resp.status == 200
        assert abs(date_ms(resp) - time.time() * 1000) < 5_000
