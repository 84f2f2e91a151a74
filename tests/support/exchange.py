"""Start an embedded exchange with the default scenario for a test.

Contract:
- ``running_exchange(...)`` is an async context manager: it starts ``EmbeddedExchange`` on
  ``127.0.0.1:0`` with ``build_default_scenario`` installed and yields a ``RunningExchange`` with the
  REST and WS URLs, a funded trading account (``trader``, $10,000 by default) and the scenario's
  ``liquidity`` account, each with an API key (``Credentials``: user id, key id, private key). On
  exit the exchange is stopped (sockets closed).
- The default rate-limit tier is ``prestige`` so that ordinary tests never see a 429 while the
  limiter still runs on every request; pass ``tier=TIERS["basic"]`` to test limits, ``tier=None``
  to disable them.
- ``key_type`` (``ed25519`` by default) is the type of every account's API key: the ``exchange``
  fixture runs each test that uses it once with Ed25519 keys and once with RSA keys. Keys are
  generated once per process and reused (key ids differ per exchange), keeping startup in the
  milliseconds.
- ``RunningExchange.add_market(...)`` lists a fresh market with an empty book (own series and
  event; ``settlement_floor`` makes it a settlement-floor market) for tests that need exact,
  book-independent arithmetic; ``add_trader`` opens another
  funded account with an API key. ``rate_clock_ns`` replaces the rate limiter's clock;
  ``admin_token`` enables the ``/admin`` API (faults are at ``exchange.faults``); ``clock_ms`` is
  the exchange clock (e.g. a frozen ``SimClock``: market time in the test's hands).
- The fixtures in ``tests/conftest.py`` wrap this: ``exchange`` (a ``RunningExchange``),
  ``trader`` / ``liquidity`` (``SignedClient`` for each account) and ``public`` (unsigned client).
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from tests.support.http import SignedClient

from kalshi_trader.domain import FeeType, MarketStatus, Money, Price, TickGrid
from kalshi_trader.kalshi.auth import KeyType, PrivateKey, generate_private_key
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange, wall_clock_ms
from kalshi_trader.sim.api.ratelimit import TIERS, Tier
from kalshi_trader.sim.core.catalog import EventInfo, MarketMeta, SeriesInfo
from kalshi_trader.sim.core.state import MarketState
from kalshi_trader.sim.world.scenario import LIQUIDITY_USER, DefaultScenario, build_default_scenario

TRADER_USER = "trader"
DEFAULT_TRADER_CASH = Money(10_000 * 10_000)  # $10,000.00
_UNSET: Any = object()


@functools.cache
def process_key(slot: int, key_type: KeyType = KeyType.ED25519) -> PrivateKey:
    """A process-wide key of ``key_type`` for account slot ``slot`` (generated once)."""
    return generate_private_key(key_type)


@dataclass(frozen=True, slots=True)
class Credentials:
    user_id: str
    key_id: str
    private_key: PrivateKey

    def __repr__(self) -> str:  # never show key material
        return f"Credentials(user_id={self.user_id!r}, key_id={self.key_id!r})"


@dataclass(frozen=True, slots=True)
class RunningExchange:
    exchange: EmbeddedExchange
    scenario: DefaultScenario
    rest_url: str
    ws_url: str
    trader: Credentials
    liquidity: Credentials
    key_type: KeyType = KeyType.ED25519

    def client(self, who: Credentials | None = None, **kw: Any) -> SignedClient:
        """A ``SignedClient`` for ``who`` (unsigned when None)."""
        if who is None:
            return SignedClient(self.rest_url, **kw)
        return SignedClient(self.rest_url, who.key_id, who.private_key, **kw)

    def add_market(
        self,
        ticker: str = "KXTEST-26JAN01-T50",
        *,
        grid: str = "linear_cent",
        fee_type: FeeType = FeeType.QUADRATIC,
        fee_multiplier: tuple[int, int] = (1, 1),
        status: MarketStatus = MarketStatus.ACTIVE,
        settlement_floor: Price | None = None,
    ) -> str:
        """List a market with an empty book (in its own series and event); returns its ticker."""
        series_ticker, event_ticker = ticker.split("-")[0], ticker.rsplit("-", 1)[0]
        catalog, engine = self.exchange.catalog, self.exchange.engine
        now = wall_clock_ms()
        catalog.add_series(
            SeriesInfo(series_ticker, f"Test {series_ticker}", "Testing", "custom", fee_type, fee_multiplier)
        )
        catalog.add_event(EventInfo(event_ticker, series_ticker, f"Test event {event_ticker}", "test event"))
        catalog.add_market(
            MarketMeta(
                ticker=ticker,
                event_ticker=event_ticker,
                market_id=self.exchange.new_id(),
                title=f"Test market {ticker}",
                yes_sub_title="Above 50",
                no_sub_title="Above 50",
                # An unopened market opens in an hour, not at the next housekeeping pass.
                open_ms=now + 3_600_000 if status is MarketStatus.INITIALIZED else now - 3_600_000,
                close_ms=now + 86_400_000,
                expected_expiration_ms=now + 90_000_000,
                latest_expiration_ms=now + 7 * 86_400_000,
                created_ms=now - 7_200_000,
                strike_type="greater",
                floor_strike=50.0,
            )
        )
        engine.add_market(
            MarketState(
                ticker,
                event_ticker,
                TickGrid.named(grid),
                fee_type,
                fee_multiplier,
                status=status,
                settlement_floor=settlement_floor,
            )
        )
        return ticker

    def add_trader(self, user_id: str, cash: Money, slot: int = 2) -> Credentials:
        """Open another funded account with an API key of this exchange's ``key_type`` (reusing
        process key ``slot``)."""
        self.exchange.open_account(user_id, cash)
        key = process_key(slot, self.key_type)
        return Credentials(user_id, self.exchange.add_api_key(user_id, key.public_key()), key)


@asynccontextmanager
async def running_exchange(
    *,
    seed: int = 1,
    tier: Tier | None = _UNSET,
    trader_cash: Money = DEFAULT_TRADER_CASH,
    housekeeping_interval_ms: int = 100,
    rate_clock_ns: Callable[[], int] = time.monotonic_ns,
    admin_token: str | None = None,
    clock_ms: Callable[[], int] = wall_clock_ms,
    key_type: KeyType = KeyType.ED25519,
) -> AsyncIterator[RunningExchange]:
    exchange = EmbeddedExchange(
        seed=seed,
        clock_ms=clock_ms,
        tier=TIERS["prestige"] if tier is _UNSET else tier,
        housekeeping_interval_ms=housekeeping_interval_ms,
        rate_clock_ns=rate_clock_ns,
        admin_token=admin_token,
    )
    scenario = build_default_scenario(exchange, seed)
    exchange.open_account(TRADER_USER, trader_cash)
    trader_key, liquidity_key = process_key(0, key_type), process_key(1, key_type)
    trader = Credentials(TRADER_USER, exchange.add_api_key(TRADER_USER, trader_key.public_key()), trader_key)
    liquidity = Credentials(
        LIQUIDITY_USER, exchange.add_api_key(LIQUIDITY_USER, liquidity_key.public_key()), liquidity_key
    )
    rest_url, ws_url = await exchange.start("127.0.0.1", 0)
    try:
        yield RunningExchange(exchange, scenario, rest_url, ws_url, trader, liquidity, key_type)
    finally:
        await exchange.stop()
