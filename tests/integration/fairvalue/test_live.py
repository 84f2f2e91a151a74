"""``event_fair_values`` end to end over loopback: NWS-shaped data → model inputs → bracket
probabilities, before, during and after the climate day, with failures degrading to warnings."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.fake_nws import FakeNws

from kalshi_trader.config import NwsSettings
from kalshi_trader.fairvalue.live import EventFairValue, event_fair_values, format_event
from kalshi_trader.fairvalue.nws import NwsClient, NwsDataError, NwsHttpError
from kalshi_trader.fairvalue.stations import STATIONS
from kalshi_trader.fairvalue.weather import Bracket, climate_day_bounds, sigma_for_lead

NYC = STATIONS["KXHIGHNY"]
DAY = date(2026, 7, 15)
START, END = climate_day_bounds(DAY, NYC.time_zone)  # 05:00Z .. 05:00Z (EST all year)
SETTINGS = NwsSettings(user_agent="(tests, ops@example.invalid)", backoff_s=0.0)
CLI_DIR = Path(__file__).parents[2] / "fixtures" / "nws" / "cli"


def kalshi_event(low: int) -> list[Bracket]:
    out = [Bracket.from_strikes(f"T{low}", "less", None, low)]
    out += [Bracket.from_strikes(f"B{f}.5", "between", f, f + 1) for f in range(low, low + 8, 2)]
    out.append(Bracket.from_strikes(f"T{low + 7}", "greater", low + 7, None))
    return out


BRACKETS = kalshi_event(77)  # ≤76, 77–78, 79–80, 81–82, 83–84, ≥85


def high(day: date) -> float:
    return 80.0 if day == DAY else 74.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeNws]:
    server = FakeNws()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def price(fake: FakeNws, now: datetime, **install: Any) -> EventFairValue:
    fake.install_day(NYC, now, high_f=high, **install)
    async with NwsClient(SETTINGS, base_url=fake.base_url, clock=lambda: now) as nws:
        return await event_fair_values(nws, NYC, DAY, BRACKETS, now=now)


def total(fv: EventFairValue) -> float:
    return math.fsum(bp.probability for bp in fv.brackets)


async def test_evening_before(fake: FakeNws) -> None:
    now = START - timedelta(hours=6)  # 18:00 LST the day before
    fv = await price(fake, now)
    assert fv.forecast.value_f == pytest.approx(80.0, abs=0.06)
    assert fv.lead_hours == 21.0
    assert fv.observed_f is None
    assert fv.distribution.sigma_f == pytest.approx(sigma_for_lead(21.0))
    assert total(fv) == pytest.approx(1.0, abs=1e-9)
    probs = [bp.probability for bp in fv.brackets]
    assert probs.index(max(probs)) == 2  # 79–80 holds the forecast
    assert fv.warnings == ()
    # Observations are not fetched before the day starts.
    assert fake.count("/stations/KNYC/observations") == 0


async def test_afternoon_with_warm_observations(fake: FakeNws) -> None:
    now = START + timedelta(hours=14, minutes=5)  # 14:05 LST
    fv = await price(fake, now, obs_anomaly_f=3.0)
    observed = fv.observed_f
    assert observed is not None
    assert observed >= 82
    assert total(fv) == pytest.approx(1.0, abs=1e-9)
    for bp in fv.brackets:
        if bp.bracket.high is not None and bp.bracket.high < observed:
            assert bp.probability == 0.0
    query = next(r.query for r in fake.requests if r.path == "/stations/KNYC/observations")
    assert query["start"] == START.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_late_evening_concentrates_on_the_observed_max(fake: FakeNws) -> None:
    now = START + timedelta(hours=21, minutes=30)  # 21:30 LST = 22:30 EDT
    fv = await price(fake, now, obs_anomaly_f=2.0)
    observed = fv.observed_f
    assert observed == 82
    assert fv.lead_hours < 0
    assert fv.remaining_f is not None
    assert fv.remaining_f < observed - 3
    winner = next(bp for bp in fv.brackets if bp.bracket.contains(observed))
    assert winner.probability > 0.99
    assert total(fv) == pytest.approx(1.0, abs=1e-9)


async def test_preliminary_cli_raises_the_floor(fake: FakeNws) -> None:
    text = (CLI_DIR / "CLINYC_preliminary.txt").read_text()
    text = text.replace("MAY 16 2026", "JULY 15 2026").replace("  MAXIMUM         78", "  MAXIMUM         84")
    now = START + timedelta(hours=16, minutes=40)
    fv = await price(fake, now, cli={"prelim": text})
    assert fv.cli is not None
    assert fv.cli.preliminary
    assert fv.observed_f == 84
    assert fv.distribution.cdf(83) == 0.0
    assert "CLI (preliminary)" in "\n".join(format_event(fv, "KXHIGHNY-26JUL15"))


async def test_failures_degrade_to_warnings(fake: FakeNws) -> None:
    now = START + timedelta(hours=10)
    for _ in range(4):
        fake.fail("/gridpoints/OKX/33,37/forecast/hourly", 500)
        fake.fail("/stations/KNYC/observations", 503)
    fv = await price(fake, now)
    warnings = "\n".join(fv.warnings)
    assert "hourly forecast: NWS" in warnings
    assert "observations: NWS" in warnings
    assert fv.observed_f is None
    assert fv.forecast.value_f == pytest.approx(80.0, abs=0.1)  # from the raw grid alone
    assert total(fv) == pytest.approx(1.0, abs=1e-9)


async def test_stale_forecast_is_reported(fake: FakeNws) -> None:
    now = START + timedelta(hours=8)
    fv = await price(fake, now, update_time=now - timedelta(hours=30))
    assert any("stale" in w for w in fv.warnings)


async def test_no_forecast_raises(fake: FakeNws) -> None:
    fake.install_day(NYC, START, high_f=high)
    for path in ("/gridpoints/OKX/33,37", "/gridpoints/OKX/33,37/forecast", "/gridpoints/OKX/33,37/forecast/hourly"):
        fake.bodies.pop(path)
    async with NwsClient(SETTINGS, base_url=fake.base_url, clock=lambda: START) as nws:
        with pytest.raises(NwsHttpError, match="404"):
            await event_fair_values(nws, NYC, DAY, BRACKETS, now=START)
    fake.install_day(NYC, START, high_f=high)
    async with NwsClient(SETTINGS, base_url=fake.base_url, clock=lambda: START) as nws:
        with pytest.raises(NwsDataError, match="no NWS forecast covers the climate day 2026-08-15"):
            await event_fair_values(nws, NYC, date(2026, 8, 15), BRACKETS, now=START)


async def test_format_without_brackets_lists_degrees(fake: FakeNws) -> None:
    now = START + timedelta(hours=9)
    fake.install_day(NYC, now, high_f=high)
    async with NwsClient(SETTINGS, base_url=fake.base_url, clock=lambda: now) as nws:
        fv = await event_fair_values(nws, NYC, DAY, now=now)
    lines = format_event(fv)
    assert lines[0].startswith("KXHIGHNY  Central Park, New York (KNYC)  climate day 2026-07-15")
    rows = [line.split() for line in lines if line.split() and line.split()[0].lstrip("-").isdigit()]
    assert 0.99 <= math.fsum(float(p) for _, p in rows) <= 1.0 + 1e-3
