"""The simulated NWS over real sockets: documented shapes, values consistent with the weather
world, NWS-style errors, and a day settling on the CLI maximum under a fast clock."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from tests.support import nws_schema
from tests.support.http import SignedClient

from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.world.climate import CITIES, HOUR_MS, climate_date, day_start_ms, round_half_up
from kalshi_trader.sim.world.nws_routes import mount_nws, nws_base_url
from kalshi_trader.sim.world.weather_markets import WeatherWorld, build_weather_world

UA = {"User-Agent": "(kalshi-trader tests, ops@example.com)"}
NOW = datetime(2026, 5, 16, 19, 30, tzinfo=UTC)  # 15:30 EDT: observations, a preliminary CLI later today


@dataclass
class Sim:
    exchange: EmbeddedExchange
    world: WeatherWorld
    clock: SimClock
    base: str
    http: aiohttp.ClientSession

    async def get(self, path_or_url: str, **kw: Any) -> tuple[int, Any, aiohttp.ClientResponse]:
        url = path_or_url if path_or_url.startswith("http") else self.base + path_or_url
        async with self.http.get(url, **kw) as resp:
            body = await resp.json(content_type=None) if resp.status != 301 else None
            return resp.status, body, resp


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    clock = SimClock(start=NOW, speed=0)
    exchange = EmbeddedExchange(seed=5, clock_ms=clock.now_ms)
    world = build_weather_world(exchange, seed=5)
    mount_nws(exchange, world)
    await exchange.start()
    try:
        async with aiohttp.ClientSession(headers=UA) as http:
            yield Sim(exchange, world, clock, nws_base_url(exchange), http)
    finally:
        await exchange.stop()


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


async def test_base_url_convention(sim: Sim) -> None:
    host, port = sim.exchange.endpoints.host, sim.exchange.endpoints.port
    assert sim.base == f"http://{host}:{port}/nws"


async def test_points_resolve_every_station_and_links_lead_back_here(sim: Sim) -> None:
    for city in sim.world.model.cities:
        status, body, resp = await sim.get(f"/points/{city.lat},{city.lon}")
        assert status == 200
        assert resp.content_type == "application/geo+json"
        nws_schema.validate("points", body)
        p = body["properties"]
        assert (p["gridId"], p["gridX"], p["gridY"], p["timeZone"]) == (city.wfo, city.grid_x, city.grid_y, city.tz)
        for link, kind in (
            ("forecast", "forecast"),
            ("forecastHourly", "forecast_hourly"),
            ("forecastGridData", "gridpoint"),
        ):
            assert p[link].startswith(sim.base)
            status, linked, _ = await sim.get(p[link])
            assert status == 200, (link, linked)
            nws_schema.validate(kind, linked)
        status, stations, _ = await sim.get(p["observationStations"])
        assert status == 200
        assert stations["features"][0]["properties"]["stationIdentifier"] == city.station
        status, station, _ = await sim.get(f"/stations/{city.station}")
        assert status == 200
        assert station["properties"]["timeZone"] == city.tz


async def test_forecasts_carry_the_world_forecast(sim: Sim) -> None:
    city = CITIES["KXHIGHNY"]
    now = sim.world.now_ms()
    status, body, _ = await sim.get("/gridpoints/OKX/33,37/forecast")
    assert status == 200
    periods = body["properties"]["periods"]
    assert len(periods) == 14
    assert [p["number"] for p in periods] == list(range(1, 15))
    assert all(a["endTime"] == b["startTime"] for a, b in itertools.pairwise(periods))
    assert [p["isDaytime"] for p in periods] == [i % 2 == 0 for i in range(14)]  # 15:30 local: daytime first
    assert periods[0]["name"] == "This Afternoon"
    assert periods[1]["name"] == "Tonight"
    today = date(2026, 5, 16)
    assert periods[0]["temperature"] == round_half_up(sim.world.forecast_high("KXHIGHNY", today, now))
    assert periods[2]["temperature"] == round_half_up(sim.world.forecast_high("KXHIGHNY", today + timedelta(days=1)))
    assert periods[0]["startTime"].endswith("-04:00")  # local civil time (EDT)
    status, si, _ = await sim.get("/gridpoints/OKX/33,37/forecast", params={"units": "si"})
    assert status == 200
    assert si["properties"]["periods"][0]["temperatureUnit"] == "C"
    nws_schema.validate("forecast", si)

    status, hourly, _ = await sim.get("/gridpoints/OKX/33,37/forecast/hourly")
    assert status == 200
    hours = hourly["properties"]["periods"]
    assert len(hours) == 156
    starts = [_ms(h["startTime"]) for h in hours]
    assert starts == [now - now % HOUR_MS + k * HOUR_MS for k in range(156)]
    assert all(_ms(h["endTime"]) - _ms(h["startTime"]) == HOUR_MS for h in hours)
    tomorrow = [
        h["temperature"]
        for h, s in zip(hours, starts, strict=True)
        if climate_date(city, s) == today + timedelta(days=1)
    ]
    assert len(tomorrow) == 24
    assert abs(max(tomorrow) - sim.world.forecast_high("KXHIGHNY", today + timedelta(days=1))) <= 1.0
    assert all(h["dewpoint"]["value"] * 9 / 5 + 32 <= h["temperature"] for h in hours)


async def test_raw_gridpoint_max_temperature_is_the_forecast_high_in_celsius(sim: Sim) -> None:
    city = CITIES["KXHIGHCHI"]
    status, body, _ = await sim.get(f"/gridpoints/LOT/{city.grid_x},{city.grid_y}")
    assert status == 200
    p = body["properties"]
    assert (p["gridX"], p["gridY"]) == ("75", "72")
    today = date(2026, 5, 16)
    first = p["maxTemperature"]["values"][0]
    start, duration = first["validTime"].split("/")
    assert duration == "PT13H"
    assert _ms(start) == day_start_ms(city, today) + 7 * HOUR_MS  # 07:00 LST = 13:00Z for Chicago
    assert start == "2026-05-16T13:00:00+00:00"
    assert round_half_up(first["value"] * 9 / 5 + 32) == round_half_up(sim.world.forecast_high("KXHIGHCHI", today))
    hours = 0
    cursor = None
    for value in p["temperature"]["values"]:
        begin, span = value["validTime"].split("/")
        m = re.fullmatch(r"P(?:(\d+)D)?(?:T(\d+)H)?", span)
        assert m is not None, span
        n = int(m.group(1) or 0) * 24 + int(m.group(2) or 0)
        assert cursor is None or _ms(begin) == cursor  # runs are contiguous
        cursor = _ms(begin) + n * HOUR_MS
        hours += n
    assert hours == 7 * 24
    assert len(p["temperature"]["values"]) < 7 * 24  # equal consecutive hours are merged


async def test_lows_are_served_where_nws_serves_them(sim: Sim) -> None:
    """Night periods carry the forecast low of the dawn they end at, the raw grid's minTemperature
    the low of the day whose dawn its window ends on, and the hourly curve passes through it."""
    city = CITIES["KXHIGHNY"]
    now = sim.world.now_ms()
    today, tomorrow = date(2026, 5, 16), date(2026, 5, 17)
    status, body, _ = await sim.get("/gridpoints/OKX/33,37/forecast")
    assert status == 200
    night = body["properties"]["periods"][1]  # Tonight: 18:00 EDT → 06:00 EDT on the 17th
    assert not night["isDaytime"]
    assert night["temperature"] == round_half_up(sim.world.forecast("KXLOWTNYC", tomorrow, now))
    assert "low around" in night["detailedForecast"]
    status, grid, _ = await sim.get("/gridpoints/OKX/33,37")
    lows = grid["properties"]["minTemperature"]["values"]
    first_start, duration = lows[0]["validTime"].split("/")
    assert duration == "PT14H"
    assert _ms(first_start) + 14 * HOUR_MS == day_start_ms(city, today) + 9 * HOUR_MS  # ends 09:00 LST today
    assert round_half_up(lows[0]["value"] * 9 / 5 + 32) == round_half_up(sim.world.forecast("KXLOWTNYC", today))
    status, hourly, _ = await sim.get("/gridpoints/OKX/33,37/forecast/hourly")
    temps = [
        h["temperature"] for h in hourly["properties"]["periods"] if climate_date(city, _ms(h["startTime"])) == tomorrow
    ]
    assert abs(min(temps) - sim.world.forecast("KXLOWTNYC", tomorrow)) <= 1.5


async def test_cli_products_report_the_settlement_minimum(sim: Sim) -> None:
    from kalshi_trader.fairvalue.climate_report import parse_cli

    status, listing, _ = await sim.get("/products/types/CLI/locations/NYC")
    assert status == 200
    finals = 0
    for summary in listing["@graph"][:6]:
        status, product, _ = await sim.get(summary["@id"])
        assert status == 200
        report = parse_cli(product["productText"])
        truth = sim.world.truth("KXLOWTNYC", report.summary_date)
        assert report.minimum_f is not None
        if report.preliminary:
            assert report.minimum_f >= truth  # the evening can still go lower
        else:
            finals += 1
            assert report.minimum_f == truth
            assert report.maximum_f == sim.world.truth("KXHIGHNY", report.summary_date)
    assert finals >= 2


async def test_observations_are_published_newest_first_and_never_above_the_maximum(sim: Sim) -> None:
    city = CITIES["KXHIGHNY"]
    now = sim.world.now_ms()
    status, body, _ = await sim.get("/stations/KNYC/observations")
    assert status == 200
    nws_schema.validate("observations", body)
    feats = body["features"]
    stamps = [_ms(f["properties"]["timestamp"]) for f in feats]
    assert stamps == sorted(stamps, reverse=True)
    assert stamps[0] <= now - sim.world.obs_lag_ms
    assert len(feats) == 7 * 24
    for f in feats:
        p = f["properties"]
        ts = _ms(p["timestamp"])
        tenths = round(p["temperature"]["value"] * 10)
        assert 32 + 9 * tenths / 50 <= sim.world.truth("KXHIGHNY", climate_date(city, ts))
        group = re.search(r" T([01])(\d{3})([01])(\d{3})$", p["rawMessage"])
        assert group is not None, p["rawMessage"]
        assert (-1 if group.group(1) == "1" else 1) * int(group.group(2)) == tenths
        assert p["rawMessage"].startswith(f"KNYC {datetime.fromtimestamp(ts / 1000, UTC):%d%H%M}Z ")
    status, limited, _ = await sim.get(
        "/stations/KNYC/observations",
        params={"start": "2026-05-16T05:00:00Z", "end": "2026-05-16T12:00:00+00:00", "limit": "3"},
    )
    assert status == 200
    assert [f["properties"]["timestamp"] for f in limited["features"]] == [
        "2026-05-16T11:51:00+00:00",
        "2026-05-16T10:51:00+00:00",
        "2026-05-16T09:51:00+00:00",
    ]
    status, latest, _ = await sim.get("/stations/KNYC/observations/latest")
    assert status == 200
    nws_schema.validate("observation", latest)
    assert latest["properties"]["timestamp"] == feats[0]["properties"]["timestamp"]


async def test_cli_products_report_the_settlement_maximum(sim: Sim) -> None:
    status, listing, resp = await sim.get("/products/types/CLI/locations/NYC")
    assert status == 200
    assert resp.content_type == "application/ld+json"
    nws_schema.validate("cli_list", listing)
    graph = listing["@graph"]
    issued = [_ms(g["issuanceTime"]) for g in graph]
    assert issued == sorted(issued, reverse=True)
    assert issued[0] <= sim.world.now_ms()
    assert {g["issuingOffice"] for g in graph} == {"KOKX"}
    finals = 0
    for summary in graph[:6]:
        status, product, _ = await sim.get(summary["@id"])
        assert status == 200
        nws_schema.validate("product", product)
        text = product["productText"]
        m = re.search(r"CLIMATE SUMMARY FOR ([A-Z]+ \d{1,2} \d{4})", text)
        assert m is not None
        day = datetime.strptime(m.group(1), "%B %d %Y").date()
        section = text[text.index("TEMPERATURE (F)") :]
        top = re.search(r"^\s*MAXIMUM\s+(-?\d+)R?", section, re.MULTILINE)
        assert top is not None
        truth = sim.world.truth("KXHIGHNY", day)
        if "VALID TODAY AS OF" in text:
            assert int(top.group(1)) <= truth
        else:
            finals += 1
            assert int(top.group(1)) == truth
    assert finals >= 2
    status, latest, _ = await sim.get("/products/types/CLI/locations/NYC/latest")
    assert status == 200
    assert latest["id"] == graph[0]["id"]
    status, empty, _ = await sim.get("/products/types/CLI/locations/XYZ")
    assert status == 200
    assert empty["@graph"] == []


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/products/00000000-0000-4000-8000-000000000000", None, 404),
        ("/stations/KJFK/observations", None, 404),
        ("/gridpoints/OKX/1,1/forecast", None, 404),
        ("/points/10,10", None, 404),
        ("/alerts/active", None, 404),
        ("/stations/KNYC/observations", {"cachebust": "1"}, 400),
        ("/stations/KNYC/observations", {"limit": "501"}, 400),
        ("/stations/KNYC/observations", {"start": "yesterday"}, 400),
        ("/gridpoints/OKX/33,37/forecast", {"units": "metric"}, 400),
    ],
)
async def test_errors_are_nws_problems(sim: Sim, path: str, params: dict[str, str] | None, status: int) -> None:
    got, body, resp = await sim.get(path, params=params)
    assert got == status
    assert resp.content_type == "application/problem+json"
    nws_schema.validate("problem", body)
    assert body["status"] == status


async def test_user_agent_is_required_and_long_coordinates_redirect(sim: Sim) -> None:
    async with (
        aiohttp.ClientSession(skip_auto_headers=["User-Agent"]) as bare,
        bare.get(sim.base + "/points/40.779,-73.969") as resp,
    ):
        assert resp.status == 403
        nws_schema.validate("problem", await resp.json(content_type=None))
    status, _, resp = await sim.get("/points/40.77912,-73.96901", allow_redirects=False)
    assert status == 301
    assert resp.headers["Location"] == "/nws/points/40.7791,-73.969"


async def test_the_fair_value_nws_client_reads_the_simulation_unchanged(sim: Sim) -> None:
    """The bot's NWS client (fairvalue/nws.py), pointed at the simulated base URL."""
    from kalshi_trader.config import NwsSettings
    from kalshi_trader.fairvalue.nws import NwsClient

    def now() -> datetime:
        return datetime.fromtimestamp(sim.clock.now_ms() / 1000, UTC)

    yesterday = date(2026, 5, 15)
    async with NwsClient(NwsSettings(max_retries=0), base_url=sim.base, clock=now) as client:
        for city in sim.world.model.cities:
            point = await client.point(city.lat, city.lon)
            assert (point.grid_id, point.grid_x, point.grid_y) == (city.wfo, city.grid_x, city.grid_y)
            for forecast in (await client.forecast(point), await client.hourly_forecast(point)):
                assert forecast.stale_reason is None
                assert forecast.periods
            grid = await client.gridpoint(point)
            assert grid.stale_reason is None
            assert grid.max_temperature_f
            observations = await client.observations(city.station, now() - timedelta(hours=6))
            assert observations
            assert all(o.temperature_c is not None for o in observations)
            report = await client.latest_cli(city.cli_location, yesterday)
            assert report is not None
            assert not report.preliminary
            assert report.maximum_f == sim.world.truth(city.series, yesterday)


def test_schemas_accept_the_documented_samples() -> None:
    for kind, sample in nws_schema.DOCUMENTED_SAMPLES.items():
        nws_schema.validate(kind, sample)


async def test_a_day_settles_on_the_cli_maximum_under_a_fast_clock() -> None:
    # 23:00 EDT on May 16 = 22:00 LST: close in 2 simulated hours, settlement ~12 hours later.
    clock = SimClock(start=datetime(2026, 5, 17, 3, 0, tzinfo=UTC), speed=14_400)
    exchange = EmbeddedExchange(seed=9, clock_ms=clock.now_ms, housekeeping_interval_ms=20)
    world = build_weather_world(exchange, seed=9, series=["KXHIGHNY"])
    mount_nws(exchange, world)
    rest_url, _ = await exchange.start()
    event_ticker = "KXHIGHNY-26MAY16"
    try:
        async with SignedClient(rest_url) as public, aiohttp.ClientSession(headers=UA) as http:
            deadline = time.monotonic() + 30
            seen: list[str] = []
            while True:
                markets = (await public.get("/markets", params={"event_ticker": event_ticker})).body["markets"]
                statuses = {m["status"] for m in markets}
                seen.extend(sorted(statuses - set(seen)))
                if statuses == {"finalized"}:
                    break
                assert time.monotonic() < deadline, f"not settled in time: {statuses}"
                await asyncio.sleep(0.05)
            assert {"active", "finalized"} <= set(seen)
            values = {m["expiration_value"] for m in markets}
            assert len(values) == 1
            value = int(values.pop())
            assert value == world.truth("KXHIGHNY", date(2026, 5, 16))
            assert sum(m["result"] == "yes" for m in markets) == 1
            for m in markets:
                assert m["close_time"] == "2026-05-17T04:59:00Z"
                low, high = m.get("floor_strike"), m.get("cap_strike")
                if m["strike_type"] == "less":
                    wins = value < high
                elif m["strike_type"] == "greater":
                    wins = value > low
                else:
                    wins = low <= value <= high
                assert m["result"] == ("yes" if wins else "no"), m
            async with http.get(nws_base_url(exchange) + "/products/types/CLI/locations/NYC") as resp:
                graph = (await resp.json(content_type=None))["@graph"]
            texts = []
            for summary in graph:
                async with http.get(summary["@id"]) as resp:
                    texts.append((await resp.json(content_type=None))["productText"])
            final = [t for t in texts if "SUMMARY FOR MAY 16 2026" in t and "VALID TODAY" not in t]
            assert len(final) == 1
            found = re.search(r"^\s*MAXIMUM\s+(-?\d+)R?", final[0][final[0].index("TEMPERATURE (F)") :], re.MULTILINE)
            assert found is not None
            assert int(found.group(1)) == value
    finally:
        await exchange.stop()
