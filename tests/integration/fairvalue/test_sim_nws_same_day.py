"""Same-day pricing against the embedded exchange's simulated NWS over loopback: the event of the
climate day under way (17:00 and 23:00 LST) and of the day just over (closed, not yet settled) is
priced with the observed maximum as a hard floor (the observed minimum as a hard ceiling for a
daily-low series) — also when the gridpoint and hourly forecast endpoints are down and the 12-hour
forecast no longer has a daytime period for today."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from kalshi_trader.config import NwsSettings
from kalshi_trader.fairvalue.live import EventFairValue, event_fair_values
from kalshi_trader.fairvalue.nws import Forecast, GridData, NwsClient, NwsUnavailableError, Point
from kalshi_trader.fairvalue.stations import STATIONS, event_ticker
from kalshi_trader.fairvalue.weather import Bracket, climate_date, climate_day_bounds
from kalshi_trader.kalshi.convert import market_info
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.world.nws_routes import mount_nws, nws_base_url
from kalshi_trader.sim.world.weather_markets import WeatherWorld, build_weather_world

DAY = date(2026, 5, 16)  # EDT: LST is an hour behind the clock
NYC = STATIONS["KXHIGHNY"]
SETTINGS = NwsSettings(user_agent="(kalshi-trader tests, ops@example.invalid)", backoff_s=0.0)


def lst(hour: float, day: date = DAY) -> datetime:
    """``hour`` hours into New York's climate day ``day`` (local standard time), as UTC."""
    return climate_day_bounds(day, NYC.time_zone)[0] + timedelta(hours=hour)


class GridAndHourlyDown(NwsClient):
    """The embedded NWS with its gridpoint and hourly-forecast endpoints failing (as
    api.weather.gov's sometimes do); the 12-hour forecast and observations still answer."""

    async def gridpoint(self, point: Point) -> GridData:
        raise NwsUnavailableError(self.base_url + point.grid_path, 4, "HTTP 500")

    async def hourly_forecast(self, point: Point) -> Forecast:
        raise NwsUnavailableError(self.base_url + point.grid_path + "/forecast/hourly", 4, "HTTP 500")


class Sim:
    def __init__(self, now: datetime) -> None:
        self.clock = SimClock(start=now, speed=0)
        self.exchange = EmbeddedExchange(seed=11, clock_ms=self.clock.now_ms, tier=None)
        self.world: WeatherWorld = build_weather_world(self.exchange, seed=11)
        mount_nws(self.exchange, self.world)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now_ms() / 1000, tz=UTC)

    def series(self) -> list[str]:
        """The world's series (highs and lows)."""
        return [s.ticker for s in self.world.listed]

    async def brackets(self, event: str) -> list[Bracket]:
        async with KalshiRest(self.exchange.endpoints.rest_url, None, tier="prestige") as rest:
            markets = [m async for m in rest.iter_markets(event_ticker=event)]
        return [Bracket.from_market(market_info(m)) for m in markets]

    async def price(self, series: str, day: date, client: type[NwsClient] = NwsClient) -> EventFairValue:
        brackets = await self.brackets(event_ticker(series, day))
        assert len(brackets) == 6
        async with client(SETTINGS, base_url=nws_base_url(self.exchange), clock=self.now) as nws:
            return await event_fair_values(nws, STATIONS[series], day, brackets, now=self.now())


async def started(now: datetime) -> Sim:
    sim = Sim(now)
    await sim.exchange.start("127.0.0.1", 0)
    return sim


def assert_floor(fv: EventFairValue) -> int:
    """Priced, summing to 1, with no probability below the observed maximum (above the observed
    minimum for a low); returns it."""
    observed = fv.observed_f
    assert observed is not None
    assert math.fsum(bp.probability for bp in fv.brackets) == pytest.approx(1.0, abs=1e-9)
    high = fv.station.extreme == "high"
    assert (fv.distribution.cdf(observed - 1) if high else 1.0 - fv.distribution.cdf(observed)) == 0.0
    for bp in fv.brackets:
        edge = bp.bracket.high if high else bp.bracket.low
        if edge is not None and (edge < observed if high else edge > observed):
            assert bp.probability == 0.0, (bp.bracket.label, observed)
    holder = next(bp for bp in fv.brackets if bp.bracket.contains(observed))
    assert holder.probability > 0.0
    return observed


@pytest.mark.parametrize("hour", [17, 23])
async def test_today_is_priced_on_the_observed_maximum(hour: int) -> None:
    sim = await started(lst(hour))
    try:
        for series in sim.series():
            station = STATIONS[series]
            day = climate_date(sim.now(), station.time_zone)  # each city's climate day under way
            truth = sim.world.truth(series, day)
            fv = await sim.price(series, day)
            observed = assert_floor(fv)
            # hourly observations vs the CLI's 2-minute extreme
            assert (observed <= truth + 1) if station.extreme == "high" else (observed >= truth - 1)
            assert fv.distribution.pmf(truth) > 0.0 or truth != observed
            # The grid and the hourly forecast down: still priced, on the same floor.
            down = await sim.price(series, day, GridAndHourlyDown)
            assert assert_floor(down) == observed
            assert any("gridpoint: NWS" in w for w in down.warnings)
        # New York at 17:00/23:00 LST (18:00/00:00 EDT): the 12-hour forecast starts with
        # "Tonight"/"Overnight", so nothing but the observations covers the day.
        fv = await sim.price("KXHIGHNY", DAY, GridAndHourlyDown)
        assert fv.forecast is None
        observed = assert_floor(fv)
        assert fv.lead_hours == pytest.approx(15.0 - hour)
        assert fv.distribution.pmf(observed) > 0.95
        assert any("priced from the observed maximum" in w for w in fv.warnings)
    finally:
        await sim.exchange.stop()


async def test_the_day_just_over_is_its_observed_maximum() -> None:
    sim = await started(lst(0.5, DAY + timedelta(days=1)))  # 00:30 LST: closed, the final CLI not out yet
    priced = []
    try:
        for series in sim.series():
            station = STATIONS[series]
            if sim.now() < climate_day_bounds(DAY, station.time_zone)[1]:
                continue  # west of the Eastern time zone the day is not over yet
            fv = await sim.price(series, DAY)
            observed = assert_floor(fv)
            assert fv.forecast is None  # every forecast has moved on to the next day
            assert fv.distribution.pmf(observed) > 1 - 1e-5
            assert abs(observed - sim.world.truth(series, DAY)) <= 1
            priced.append(series)
    finally:
        await sim.exchange.stop()
    assert {"KXHIGHNY", "KXLOWTNYC"} <= set(priced)
