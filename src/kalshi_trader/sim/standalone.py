"""The ``kalshi-trader exchange`` command's logic: run the embedded exchange until stopped.

Contract: ``serve(...)`` loads or creates the default account's credentials in the data directory
(``sim/api/credentials.py``; a new key is of ``key_type``, Ed25519 by default), builds an
``EmbeddedExchange`` with the seeded ``scenario`` — ``"default"`` (the static scenario of
``sim/world/scenario.py``) or ``"weather"`` (the living world of ``sim/world/living_world.py``: temperature markets
with NWS endpoints under ``/nws``, other markets and background traders; every Kalshi temperature
series with ``all_weather_series``, else the lighter default set) — on a ``SimClock`` running
``speed`` times real time when ``speed`` is given (else the wall clock; the living world always runs
on a ``SimClock``, speed 1 by default), opens the
``default`` account funded with ``cash`` under that API key, writes a fresh admin token to
``DATA_DIR/admin-token`` (mode 0600; ``sim/api/admin.py``), switches on ``faults`` if given, binds
``host:port`` and calls ``announce`` once with the URLs and file paths (never key material or the
token). It then runs until
``stop`` is set, SIGTERM arrives, or the task is cancelled (Ctrl-C under ``asyncio.run``), and
always stops the exchange cleanly. ``ValueError`` (unknown scenario, speed not positive),
``CredentialsError`` (unusable data directory) and ``OSError`` (address in use / not bindable)
propagate for the caller to report. Exchange state is not
persisted: every start begins from the scenario. ``build_exchange(...)`` is the same setup without
serving (the trading node embeds the exchange with it and starts it itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kalshi_trader.domain import Money
from kalshi_trader.kalshi.auth import KeyType
from kalshi_trader.sim.api.admin import write_admin_token
from kalshi_trader.sim.api.credentials import Credentials, ensure_credentials
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.api.faults import FaultSpec
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.world.cities import ALL_SERIES, DEFAULT_SERIES
from kalshi_trader.sim.world.living_world import LivingWorld, build_living_world
from kalshi_trader.sim.world.nws_routes import mount_nws, nws_base_url
from kalshi_trader.sim.world.scenario import build_default_scenario

DEFAULT_USER = "default"
SCENARIOS = ("default", "weather")


@dataclass(frozen=True, slots=True)
class Announcement:
    rest_url: str
    ws_url: str
    key_id: str
    key_id_path: Path
    key_path: Path
    created: bool
    seed: int
    key_type: KeyType = KeyType.ED25519
    admin_token_path: Path | None = None
    faults: str = "none"
    scenario: str = "default"
    speed: str = "real time"
    nws_url: str | None = None


@dataclass(frozen=True, slots=True)
class Embedded:
    """An embedded exchange built by ``build_exchange``, not started yet."""

    exchange: EmbeddedExchange
    world: LivingWorld | None
    credentials: Credentials
    admin_token_path: Path
    scenario: str
    speed: float | None
    seed: int

    @property
    def speed_text(self) -> str:
        return "real time" if self.speed is None else f"{self.speed:g}x"

    def announcement(self) -> Announcement:
        """What ``serve`` announces, for the running exchange (call after ``exchange.start``)."""
        ends = self.exchange.endpoints
        c = self.credentials
        return Announcement(
            ends.rest_url,
            ends.ws_url,
            c.key_id,
            c.key_id_path,
            c.key_path,
            c.created,
            self.seed,
            c.key_type,
            self.admin_token_path,
            str(self.exchange.faults.spec),
            self.scenario,
            self.speed_text,
            None if self.world is None else nws_base_url(self.exchange),
        )


def build_exchange(
    *,
    data_dir: Path,
    seed: int,
    cash: Money,
    faults: FaultSpec | None = None,
    scenario: str = "default",
    speed: float | None = None,
    all_weather_series: bool = False,
    key_type: KeyType = KeyType.ED25519,
) -> Embedded:
    """The exchange ``serve`` runs (credentials, admin token, scenario, clock, funded account),
    built but not listening yet. Raises ``ValueError`` and ``CredentialsError`` as ``serve`` does."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    if speed is not None and not speed > 0:
        raise ValueError(f"speed must be positive, not {speed}")
    credentials = ensure_credentials(data_dir, key_type)
    admin_token, admin_token_path = write_admin_token(data_dir)
    if speed is None and scenario == "weather":
        speed = 1.0
    clock = SimClock(speed=speed) if speed is not None else None
    exchange = (
        EmbeddedExchange(seed=seed, faults=faults, admin_token=admin_token)
        if clock is None
        else EmbeddedExchange(seed=seed, clock_ms=clock, faults=faults, admin_token=admin_token)
    )
    world: LivingWorld | None = None
    if scenario == "weather":
        world = build_living_world(exchange, seed, series=ALL_SERIES if all_weather_series else DEFAULT_SERIES)
        mount_nws(exchange, world.weather)
    else:
        build_default_scenario(exchange, seed)
    exchange.open_account(DEFAULT_USER, cash)
    exchange.add_api_key(DEFAULT_USER, credentials.private_key.public_key(), key_id=credentials.key_id)
    return Embedded(exchange, world, credentials, admin_token_path, scenario, speed, seed)


async def serve(
    *,
    host: str,
    port: int,
    data_dir: Path,
    seed: int,
    cash: Money,
    announce: Callable[[Announcement], None],
    stop: asyncio.Event | None = None,
    faults: FaultSpec | None = None,
    scenario: str = "default",
    speed: float | None = None,
    all_weather_series: bool = False,
    key_type: KeyType = KeyType.ED25519,
) -> None:
    built = build_exchange(
        data_dir=data_dir,
        seed=seed,
        cash=cash,
        faults=faults,
        scenario=scenario,
        speed=speed,
        all_weather_series=all_weather_series,
        key_type=key_type,
    )
    exchange = built.exchange
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await exchange.start(host, port)
        announce(built.announcement())
        await stop.wait()
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)
        await exchange.stop()
