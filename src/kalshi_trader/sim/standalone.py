"""The ``kalshi-trader exchange`` command's logic: run the embedded exchange until stopped.

Contract: ``serve(...)`` loads or creates the default account's credentials in the data directory
(``sim/credentials.py``), builds an ``EmbeddedExchange`` with the seeded default scenario, opens the
``default`` account funded with ``cash`` under that API key, binds ``host:port`` and calls
``announce`` once with the URLs and credential file paths (never key material). It then runs until
``stop`` is set, SIGTERM arrives, or the task is cancelled (Ctrl-C under ``asyncio.run``), and
always stops the exchange cleanly. ``CredentialsError`` (unusable data directory) and ``OSError``
(address in use / not bindable) propagate for the caller to report. Exchange state is not
persisted: every start begins from the scenario.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kalshi_trader.domain import Money
from kalshi_trader.sim.credentials import ensure_credentials
from kalshi_trader.sim.exchange import EmbeddedExchange
from kalshi_trader.sim.scenario import build_default_scenario

DEFAULT_USER = "default"


@dataclass(frozen=True, slots=True)
class Announcement:
    rest_url: str
    ws_url: str
    key_id: str
    key_id_path: Path
    key_path: Path
    created: bool
    seed: int


async def serve(
    *,
    host: str,
    port: int,
    data_dir: Path,
    seed: int,
    cash: Money,
    announce: Callable[[Announcement], None],
    stop: asyncio.Event | None = None,
) -> None:
    credentials = ensure_credentials(data_dir)
    exchange = EmbeddedExchange(seed=seed)
    build_default_scenario(exchange, seed)
    exchange.open_account(DEFAULT_USER, cash)
    exchange.add_api_key(DEFAULT_USER, credentials.private_key.public_key(), key_id=credentials.key_id)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        rest_url, ws_url = await exchange.start(host, port)
        announce(
            Announcement(
                rest_url,
                ws_url,
                credentials.key_id,
                credentials.key_id_path,
                credentials.key_path,
                credentials.created,
                seed,
            )
        )
        await stop.wait()
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)
        await exchange.stop()
