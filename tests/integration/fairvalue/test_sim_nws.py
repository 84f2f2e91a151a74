"""Fair value end to end against the embedded exchange: its Kalshi REST markets and its simulated
NWS endpoints (``sim/world/nws_routes.py``) over real sockets → forecast → distribution → bracket
probabilities for live sim events, at several times of the climate day."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from kalshi_trader.config import NwsSettings, Settings
from kalshi_trader.fairvalue.live import EventFairValue, event_fair_values
from kalshi_trader.fairvalue.nws import NwsClient
from kalshi_trader.fairvalue.stations import STATIONS, event_ticker, station_from_api
from kalshi_trader.fairvalue.weather import Bracket
from kalshi_trader.kalshi.convert import market_info
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.world.cities import ALL_SERIES, SERIES
from kalshi_trader.sim.world.climate import WeatherModel
from kalshi_trader.sim.world.nws_routes import mount_nws, nws_base_url
from kalshi_trader.sim.world.weather_markets import WeatherWorld, build_weather_world

DAY = date(2026, 5, 16)
SETTINGS = NwsSettings(user_agent="(kalshi-trader tests, ops@example.invalid)", backoff_s=0.0)


@dataclass
class Sim:
    exchange: EmbeddedExchange
    world: WeatherWorld
    clock: SimClock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now_ms() / 1000, tz=UTC)


async def start_sim(now: datetime) -> Sim:
    clock = SimClock(start=now, speed=0)
    exchange = EmbeddedExchange(seed=11, clock_ms=clock.now_ms, tier=None)
    world = build_weather_world(exchange, seed=11)
    mount_nws(exchange, world)
    await exchange.start("127.0.0.1", 0)
    return Sim(exchange, world, clock)


@pytest.fixture
async def afternoon() -> AsyncIterator[Sim]:
    sim = await start_sim(datetime(2026, 5, 16, 19, 30, tzinfo=UTC))  # 15:30 EDT
    try:
        yield sim
    finally:
        await sim.exchange.stop()


async def brackets_of(sim: Sim, event: str) -> list[Bracket]:
    async with KalshiRest(sim.exchange.endpoints.rest_url, None, tier="prestige") as rest:
        markets = [m async for m in rest.iter_markets(event_ticker=event)]
    return [Bracket.from_market(market_info(m)) for m in markets]


async def price(sim: Sim, series: str, day: date) -> EventFairValue:
    station = STATIONS[series]
    brackets = await brackets_of(sim, event_ticker(series, day))
    assert len(brackets) == 6
    async with NwsClient(SETTINGS, base_url=nws_base_url(sim.exchange), clock=sim.now) as nws:
        return await event_fair_values(nws, station, day, brackets, now=sim.now())


def test_settings_point_at_the_embedded_nws() -> None:
    settings = Settings(exchange={"host": "127.0.0.1", "port": 8765})
    assert settings.nws_url() == "http://127.0.0.1:8765/nws"


def test_station_table_matches_the_sim_world() -> None:
    assert set(STATIONS) == set(SERIES)  # every Kalshi daily temperature series is simulated
    model = WeatherModel(1, ALL_SERIES)
    for series, station in STATIONS.items():
        spec = SERIES[series]
        city = spec.city
        assert (city.station, city.cli_location, city.wfo, city.tz, spec.extreme) == (
            station.icao,
            station.cli_location,
            station.wfo,
            station.time_zone,
            station.extreme,
        )
        assert model.city_near(station.latitude, station.longitude) == city
        # the rules the sim writes name the station the table has
        rules = f"If the {'highest' if spec.extreme == 'high' else 'lowest'} temperature recorded {city.rules_place}"
        assert station_from_api(series, rules_primary=rules).site is station.site


async def test_every_city_priced_mid_afternoon(afternoon: Sim) -> None:
    for series in (s.ticker for s in afternoon.world.listed):
        fv = await price(afternoon, series, DAY)
        truth = afternoon.world.truth(series, DAY)
        high = fv.station.extreme == "high"
        assert math.fsum(bp.probability for bp in fv.brackets) == pytest.approx(1.0, abs=1e-9)
        assert not [w for w in fv.warnings if "stale" in w], fv.warnings
        assert fv.observed_f is not None  # the day is under way
        # hourly observations vs the CLI's 2-minute extreme
        assert (fv.observed_f <= truth + 1) if high else (fv.observed_f >= truth - 1)
        assert fv.distribution.pmf(truth) > 0.0 or truth != fv.observed_f
        if high:  # the sim's forecast is the world's: the model's centre is near it
            world_high = afternoon.world.forecast(series, DAY, afternoon.clock.now_ms())
            assert fv.forecast is not None
            assert abs(fv.forecast.value_f - world_high) <= 2.0
        else:  # mid-afternoon the low is behind us: the observed minimum is the ceiling
            assert fv.distribution.prob_range(None, fv.observed_f) == pytest.approx(1.0)


async def test_tomorrow_is_priced_from_the_forecast_alone(afternoon: Sim) -> None:
    fv = await price(afternoon, "KXHIGHNY", DAY + timedelta(days=1))
    assert fv.observed_f is None
    assert fv.lead_hours > 20
    assert math.fsum(bp.probability for bp in fv.brackets) == pytest.approx(1.0, abs=1e-9)
    # Kalshi centres the bands on the forecast: the middle four hold most of the mass.
    assert math.fsum(bp.probability for bp in fv.brackets[1:5]) > 0.5


async def test_late_evening_concentrates_on_the_observed_max() -> None:
    sim = await start_sim(datetime(2026, 5, 17, 2, 30, tzinfo=UTC))  # 22:30 EDT = 21:30 EST on the 16th
    try:
        fv = await price(sim, "KXHIGHNY", DAY)
    finally:
        await sim.exchange.stop()
    assert fv.observed_f is not None
    assert fv.lead_hours < -5
    assert fv.distribution.pmf(fv.observed_f) > 0.9
    assert all(
        bp.probability == 0.0 for bp in fv.brackets if bp.bracket.high is not None and bp.bracket.high < fv.observed_f
    )
    assert math.fsum(bp.probability for bp in fv.brackets) == pytest.approx(1.0, abs=1e-9)
