"""``kalshi-trader fairvalue SERIES`` as a user runs it: a subprocess against the embedded exchange
(Kalshi REST markets + simulated NWS on the same server), and one clear error line on failure.
"Now" is the NWS server's clock (its ``Date`` header): the simulated one, far from the wall clock."""

from __future__ import annotations

import asyncio
import math
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from tests.support.fake_nws import FakeNws

from kalshi_trader.fairvalue.stations import STATIONS
from kalshi_trader.fairvalue.weather import lead_hours_until_peak
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.world.nws_routes import mount_nws
from kalshi_trader.sim.world.weather_markets import build_weather_world

CLI = str(Path(sys.executable).with_name("kalshi-trader"))
ROW = re.compile(r"^(KX(?:HIGH|LOWT)\S+)\s+(\S+)\s+(\d\.\d{4})\s+(\d\.\d{4})$")
HEADER = re.compile(r"^(KXHIGH\S+)  .*  climate day (\d{4}-\d{2}-\d{2}) \(LST\)$")
LEAD = re.compile(r"; ([+-]\d+\.\d) h to the ")
SIM_NOW = datetime(2026, 5, 16, 14, 0, 7, tzinfo=UTC)  # 10:00 EDT; months from the wall clock of any run


async def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        CLI,
        "fairvalue",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "KALSHI_TRADER_NWS__BACKOFF_S": "0.01", **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve_weather(exchange: EmbeddedExchange) -> AsyncIterator[str]:
    """``exchange`` with the weather world and its NWS endpoints, serving; yields the REST URL."""
    world = build_weather_world(exchange, seed=3)
    mount_nws(exchange, world)
    rest_url, _ = await exchange.start("127.0.0.1", 0)
    try:
        yield rest_url
    finally:
        await exchange.stop()


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    """An embedded exchange on the wall clock with the weather world and its NWS endpoints."""
    async for url in serve_weather(EmbeddedExchange(seed=3, tier=None)):
        yield url


@pytest.fixture
async def far_sim_url() -> AsyncIterator[str]:
    """The same on a frozen simulated clock at ``SIM_NOW``."""
    async for url in serve_weather(EmbeddedExchange(seed=3, clock_ms=SimClock(start=SIM_NOW, speed=0), tier=None)):
        yield url


def day_and_lead(out: str) -> tuple[str, date, float]:
    """(event, climate day, hours to the peak) as ``fairvalue`` prints them."""
    header = HEADER.match(out.splitlines()[0])
    lead = LEAD.search(out)
    assert header is not None, out
    assert lead is not None, out
    return header[1], date.fromisoformat(header[2]), float(lead[1])


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("kalshi-trader: error: ")
    return lines[0]


async def test_prices_the_next_open_event_from_the_embedded_exchange(sim_url: str) -> None:
    code, out, err = await run_cli("KXHIGHNY", env={"KALSHI_TRADER_API__URL": sim_url})
    assert code == 0, err
    lines = out.splitlines()
    assert re.match(r"^KXHIGHNY-\d{2}[A-Z]{3}\d{2}  Central Park, New York \(KNYC\)", lines[0])
    rows = [m.groups() for line in lines if (m := ROW.match(line))]
    assert len(rows) == 6
    event = lines[0].split()[0]
    assert all(ticker.startswith(event + "-") for ticker, *_ in rows)
    assert math.fsum(float(p) for _, _, p, _ in rows) == pytest.approx(1.0, abs=6 * 5e-5)
    assert not [line for line in lines if "stale" in line]


async def test_a_daily_low_series_is_priced_on_the_minimum(far_sim_url: str) -> None:
    code, out, err = await run_cli("KXLOWTNYC", env={"KALSHI_TRADER_API__URL": far_sim_url})
    assert code == 0, err
    lines = out.splitlines()
    assert re.match(r"^KXLOWTNYC-26MAY1[67]  Central Park, New York \(KNYC\)  climate day", lines[0])
    assert "forecast low " in lines[1]
    assert "to the 06:00 LST trough; observed min so far" in lines[1]
    rows = [m.groups() for line in lines if (m := ROW.match(line))]
    assert len(rows) == 6
    assert all(ticker.startswith(lines[0].split()[0] + "-") for ticker, *_ in rows)
    assert math.fsum(float(p) for _, _, p, _ in rows) == pytest.approx(1.0, abs=6 * 5e-5)


async def test_an_explicit_event_and_brackets(sim_url: str) -> None:
    env = {"KALSHI_TRADER_API__URL": sim_url}
    code, out, err = await run_cli("KXHIGHCHI", "--brackets", "60-,61-70,71+", env=env)
    assert code == 0, err
    probs = [float(line.split()[-2]) for line in out.splitlines() if line.startswith(("60-", "61-70", "71+"))]
    assert len(probs) == 3
    assert math.fsum(probs) == pytest.approx(1.0, abs=2e-4)
    code, _, err = await run_cli("KXHIGHNY", "--event", "KXHIGHNY-20JAN01", env=env)
    assert code == 1
    assert "no markets in event KXHIGHNY-20JAN01" in one_error_line(err)


async def test_now_is_the_simulated_clock_of_the_embedded_exchange(far_sim_url: str) -> None:
    nyc = STATIONS["KXHIGHNY"]
    env = {"KALSHI_TRADER_API__URL": far_sim_url}
    code, out, err = await run_cli("KXHIGHNY", "--brackets", "77-,78-79,80-81,82+", env=env)
    assert code == 0, err
    event, day, lead = day_and_lead(out)  # "today" is the simulated day, not the wall clock's
    assert (event, day) == ("KXHIGHNY-26MAY16", date(2026, 5, 16))
    assert lead == pytest.approx(lead_hours_until_peak(SIM_NOW, day, nyc.time_zone), abs=0.051)
    assert "observed max so far none yet" not in out  # observations published by 10:00 sim time
    assert "stale" not in out  # staleness is judged by the simulated clock too

    code, out, err = await run_cli("KXHIGHNY", env=env)  # the exchange's next open event
    assert code == 0, err
    event, day, lead = day_and_lead(out)
    assert date(2026, 5, 16) <= day <= date(2026, 5, 18)
    assert lead == pytest.approx(lead_hours_until_peak(SIM_NOW, day, nyc.time_zone), abs=0.051)
    assert len([line for line in out.splitlines() if ROW.match(line)]) == 6
    assert "stale" not in out


async def test_given_brackets_against_an_nws_look_alike() -> None:
    fake = FakeNws()
    await fake.start("/nws")
    fake.install_day(STATIONS["KXHIGHNY"], datetime.now(UTC), high_f=lambda d: 80.0)
    try:
        code, out, err = await run_cli("KXHIGHNY", "--brackets", "77-,78-79,80-81,82+", "--nws-url", fake.base_url)
    finally:
        await fake.stop()
    assert code == 0, err
    assert "forecast high 80." in out
    assert fake.requests[0].headers["User-Agent"].startswith("kalshi-trader/")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("KXLOWNYC",), 2, "no settlement station known for series 'KXLOWNYC'"),
        (("KXHIGHNY", "--brackets", "77-,banana"), 2, "bad bracket 'banana'"),
        (("KXHIGHNY", "--brackets", "77-,80+"), 2, "leave a gap or overlap"),
        (("KXHIGHNY", "--event", "KXHIGHNY-26FEB30"), 2, "names no real date"),
        (("KXHIGHNY", "--event", "KXHIGHCHI-26MAY16"), 2, "is not an event of KXHIGHNY"),
        (("KXHIGHNY", "--brackets", "77-,78+", "--nws-url", "not-a-url"), 2, "is not an http(s) base URL"),
    ],
)
def test_user_mistakes_are_one_line(
    args: tuple[str, ...], code: int, message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process (the subprocess path is covered above): nothing here reaches the network."""
    from kalshi_trader.cli import main

    monkeypatch.setenv("KALSHI_TRADER_NWS__BASE_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setattr(sys, "argv", ["kalshi-trader", "fairvalue", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    assert (exited.value.code, captured.out) == (code, "")
    assert message in one_error_line(captured.err)


async def test_unreachable_services_are_one_line() -> None:
    port = closed_port()
    code, _, err = await run_cli("KXHIGHNY", "--brackets", "77-,78+", "--nws-url", f"http://127.0.0.1:{port}/nws")
    assert code == 1
    assert re.search(
        r"NWS http://127\.0\.0\.1:\d+/nws/points/40\.779,-73\.969 unavailable after 4 attempts", one_error_line(err)
    )
    code, _, err = await run_cli("KXHIGHNY", env={"KALSHI_TRADER_API__URL": f"http://127.0.0.1:{port}/trade-api/v2"})
    assert code == 1
    assert "cannot read markets from http://127.0.0.1:" in one_error_line(err)
