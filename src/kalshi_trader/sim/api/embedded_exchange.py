"""The embedded Kalshi-compatible exchange: one object that owns everything and serves it.

Contract:
- ``EmbeddedExchange`` owns the exchange clock, the ``MatchingEngine``, the ``Catalog``, the
  signature ``Verifier`` and the API-key → user mapping, the ``RateLimiter``, the WebSocket
  ``Feed`` and a periodic housekeeping task. ``start(host, port)`` serves REST under
  ``/trade-api/v2`` and WebSocket at ``/trade-api/ws/v2`` on one port (0 = an ephemeral port; the
  real one is reported) and returns ``(rest_url, ws_url)``; ``stop()`` closes every connection and
  the listening socket. Both are idempotent.
- Time: ``clock_ms`` is the exchange clock (integer milliseconds) used by the engine, the feed,
  market schedules and housekeeping. It defaults to wall-clock time; a ``sim.clock.SimClock`` (or
  its bound ``now_ms``) plugs in simulated, faster-than-real time. Signature timestamps are always
  checked against wall-clock time (clients sign with their own clock), and rate limits run on a
  monotonic wall clock.
- Accounts: ``open_account(user_id, cash)`` creates a funded account; ``add_api_key`` registers an
  Ed25519 or RSA public key for a user (returning its key id); ``create_account`` does both with a
  fresh key (Ed25519 unless ``key_type`` says RSA) and returns ``(key_id, private_key)``. The keys
  live in ``api_keys`` (``sim/api/api_keys.py``), which the ``/api_keys`` routes
  (``sim/api/routes_api_keys.py``) serve. Private keys are never stored or logged here.
- Housekeeping (every ``housekeeping_interval_ms`` of wall time, and on demand via
  ``housekeeping()``): markets whose ``open_ms`` has passed open, markets whose ``close_ms`` has
  passed close, GTT orders past their expiry are canceled, then every periodic hook registered with
  ``add_periodic`` runs with the current exchange time (the seam for scenarios / a living world),
  then markets are swept once more (a hook may list markets that are already due).
  With a ``SimClock`` one real tick may span hours of simulated time, so a pass steps through every
  boundary in between in time order: market ``open_ms``/``close_ms`` and the times hooks report
  through ``add_periodic(hook, next_due=...)``. The clock is held at the next boundary
  (``SimClock.hold_at``) until it has been processed, so each runs at its exact time and nothing
  can trade past a close that has not happened yet; the pass ends at the free-running time.
- ``extend_app(setup)`` registers ``setup(app)`` to add routes (e.g. NWS endpoints) to the
  aiohttp application before it is started.
- Faults: ``faults`` (a ``sim.faults.FaultInjector``, off unless ``faults=`` is given) injects
  WS and REST faults, deterministically under the seed; the operator API under ``/admin``
  (``sim/api/admin.py``: faults, market pause/resume, the historical cutoff) needs the
  ``admin_token`` given here.
- History: ``archive`` (``sim/api/archive.py``) partitions records into live and historical at cutoffs
  that trail the exchange clock by ``archive_lags_ms`` (Kalshi's documented lags by default);
  ``history`` (``sim/api/market_history.py``) keeps each market's top of book per minute and every settled
  position, for candlesticks and ``/historical/positions``.
- Ids: with a ``seed`` every generated id (orders, trades, API keys) is a deterministic UUID4.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog
from aiohttp import web

from kalshi_trader.domain import MarketStatus, Money
from kalshi_trader.kalshi.auth import KeyType, PrivateKey, PublicKey, Verifier, generate_private_key
from kalshi_trader.sim.api import admin, routes_api_keys
from kalshi_trader.sim.api.api_keys import ApiKeys
from kalshi_trader.sim.api.application import build_app
from kalshi_trader.sim.api.archive import Archive
from kalshi_trader.sim.api.faults import FaultInjector, FaultSpec
from kalshi_trader.sim.api.market_history import MarketHistory
from kalshi_trader.sim.api.ratelimit import DEFAULT_TIER, RateLimiter, Tier
from kalshi_trader.sim.api.rest_support import ExchangeFlags, Principal, ServerDeps
from kalshi_trader.sim.api.ws_feed import Feed
from kalshi_trader.sim.core.catalog import Catalog
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.core.matching import MatchingEngine
from kalshi_trader.sim.core.state import EngineEvent, MarketEvent

log = structlog.get_logger(__name__)

REST_PREFIX = "/trade-api/v2"
WS_PATH = "/trade-api/ws/v2"
MAX_CATCHUP_STEPS = 100_000
"""Most boundaries one housekeeping pass steps through (a guard against a runaway hook)."""


_SCHEDULED_TO_CLOSE = (MarketStatus.INITIALIZED, MarketStatus.ACTIVE, MarketStatus.INACTIVE)


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Endpoints:
    rest_url: str
    ws_url: str
    host: str
    port: int


class EmbeddedExchange:
    """A Kalshi-compatible exchange in this process (see the module docstring)."""

    def __init__(
        self,
        *,
        seed: int | None = None,
        clock_ms: Callable[[], int] = wall_clock_ms,
        tier: Tier | None = DEFAULT_TIER,
        housekeeping_interval_ms: int = 250,
        max_skew_ms: int = 5_000,
        rate_clock_ns: Callable[[], int] = time.monotonic_ns,
        faults: FaultSpec | None = None,
        admin_token: str | None = None,
        archive_lags_ms: Mapping[str, int] | None = None,
    ) -> None:
        """``tier=None`` disables rate limiting (benchmarks); ``rate_clock_ns`` is the limiter's
        monotonic clock (tests inject a fake one). ``faults`` switches faults on from the start
        (``self.faults`` switches them at run time); ``admin_token`` enables ``/admin``;
        ``archive_lags_ms`` maps cutoff names to how far behind the exchange clock they trail."""
        self.clock_ms = clock_ms
        owner = clock_ms if isinstance(clock_ms, SimClock) else getattr(clock_ms, "__self__", None)
        self.sim_clock: SimClock | None = owner if isinstance(owner, SimClock) else None
        self._last_pass_ms = clock_ms()
        """Exchange time of the last housekeeping pass (boundaries after it are still to come)."""
        self._rng = random.Random(seed) if seed is not None else None
        self.engine = MatchingEngine(clock_ms=clock_ms, new_id=self.new_id)
        self.catalog = Catalog()
        self.engine.add_listener(self._record_lifecycle)  # before the feed, so it reads fresh metadata
        self.archive = Archive(clock_ms, self.catalog, lags_ms=archive_lags_ms)
        self.history = MarketHistory(self.engine)
        self.api_keys = ApiKeys(Verifier(max_skew_ms=max_skew_ms, clock_ms=wall_clock_ms), self.new_id)
        self.limiter = RateLimiter(tier, clock_ns=rate_clock_ns) if tier is not None else None
        self.feed = Feed(self.engine, self.catalog, clock_ms=clock_ms)
        self.flags = ExchangeFlags()
        self._periodic: list[Callable[[int], None]] = []
        self._next_due: list[Callable[[int], int | None]] = []
        self._app_setup: list[Callable[[web.Application], None]] = []
        self._interval_s = housekeeping_interval_ms / 1000
        self.faults = FaultInjector(seed, feed=self.feed, spec=faults)
        self._app_setup.append(lambda app: admin.install(app, self.faults, self.engine, admin_token, self.archive))
        self._app_setup.append(lambda app: routes_api_keys.install(app, self.api_keys))
        self._runner: web.AppRunner | None = None
        self._housekeeper: asyncio.Task[None] | None = None
        self._endpoints: Endpoints | None = None

    # -- ids and accounts ----------------------------------------------------------------------

    def new_id(self) -> str:
        """A UUID4 string; deterministic when the exchange was given a seed."""
        if self._rng is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def open_account(self, user_id: str, cash: Money) -> None:
        self.engine.open_account(user_id, cash)

    def add_api_key(self, user_id: str, public_key: PublicKey, *, key_id: str | None = None) -> str:
        """Register ``public_key`` (Ed25519 or RSA) for ``user_id``'s account; returns the key id."""
        self.engine.account(user_id)  # the account must exist
        return self.api_keys.add(user_id, public_key, key_id=key_id).key_id

    def create_account(self, user_id: str, cash: Money, key_type: KeyType = KeyType.ED25519) -> tuple[str, PrivateKey]:
        """Open a funded account with a fresh key; returns ``(key_id, private_key)``."""
        self.open_account(user_id, cash)
        private_key = generate_private_key(key_type)
        return self.add_api_key(user_id, private_key.public_key()), private_key

    def user_for_key(self, key_id: str) -> str:
        return self.api_keys.user_for_key(key_id)

    def authenticate(self, headers: Mapping[str, str], method: str, path: str) -> Principal:
        """The caller behind signed ``headers`` for ``method path``; raises ``AuthError``."""
        return self.api_keys.authenticate(headers, method, path)

    def _record_lifecycle(self, event: EngineEvent) -> None:
        """Keep the catalog's lifecycle facts in step with the engine (whoever drives it)."""
        if not isinstance(event, MarketEvent) or not self.catalog.has_market(event.ticker):
            return
        meta = self.catalog.market(event.ticker)
        if event.kind == "determined":
            meta.determined_ms = event.ts_ms
            meta.updated_ms = event.ts_ms
        elif event.kind == "settled":
            meta.settled_ms = event.ts_ms
        elif event.kind == "close_date_updated" and event.ts_ms < meta.close_ms:
            meta.close_ms = event.ts_ms  # an early close moves close_time
            meta.updated_ms = event.ts_ms

    # -- housekeeping --------------------------------------------------------------------------

    def add_periodic(self, hook: Callable[[int], None], *, next_due: Callable[[int], int | None] | None = None) -> None:
        """Run ``hook(now_ms)`` at the end of every housekeeping pass. ``next_due(now_ms)``, when
        given, reports the earliest time after ``now_ms`` at which the hook has scheduled work (or
        None); with a ``SimClock`` housekeeping then runs the hook at exactly that time."""
        self._periodic.append(hook)
        if next_due is not None:
            self._next_due.append(next_due)

    def extend_app(self, setup: Callable[[web.Application], None]) -> None:
        """Call ``setup(app)`` on the aiohttp application when the exchange starts."""
        if self._runner is not None:
            raise RuntimeError("extend_app must be called before start()")
        self._app_setup.append(setup)

    def housekeeping(self) -> None:
        """Open/close markets on schedule, expire GTT orders, run periodic hooks; with a
        ``SimClock``, once at every boundary up to now, in time order (module docstring)."""
        clock = self.sim_clock
        if clock is None:
            self._housekeeping_pass(self.clock_ms())
            return
        goal = clock.target_ms()
        for _ in range(MAX_CATCHUP_STEPS):
            # Boundaries may have been added since the last pass: hold at the first one after it.
            clock.hold_at(self._next_boundary(self._last_pass_ms))
            now = clock.now_ms()
            self._housekeeping_pass(now)
            self._last_pass_ms = now
            due = self._next_boundary(now)
            clock.hold_at(due)
            if (due is None or due > goal) and now >= goal:
                return
        log.warning("housekeeping_catchup_limit", steps=MAX_CATCHUP_STEPS)

    def _next_boundary(self, now: int) -> int | None:
        """The earliest scheduled market open/close or hook time strictly after ``now``."""
        best: int | None = None
        for meta in self.catalog.all_markets():
            status = self.engine.market(meta.ticker).status
            if status is MarketStatus.INITIALIZED and meta.open_ms > now:
                best = meta.open_ms if best is None else min(best, meta.open_ms)
            if status in _SCHEDULED_TO_CLOSE and meta.close_ms > now:
                best = meta.close_ms if best is None else min(best, meta.close_ms)
        for next_due in self._next_due:
            due = next_due(now)
            if due is not None and due > now:
                best = due if best is None else min(best, due)
        return best

    def _housekeeping_pass(self, now: int) -> None:
        self._sweep_markets(now)
        self.engine.expire_orders()
        for hook in self._periodic:
            try:
                hook(now)
            except Exception:  # a bad hook must not stop the exchange (or freeze a held clock)
                log.exception("periodic_hook_failed", hook=getattr(hook, "__qualname__", repr(hook)))
        self._sweep_markets(now)

    def _sweep_markets(self, now: int) -> None:
        for meta in self.catalog.all_markets():
            state = self.engine.market(meta.ticker)
            if state.status is MarketStatus.INITIALIZED and now >= meta.open_ms and now < meta.close_ms:
                self.engine.set_market_status(meta.ticker, MarketStatus.ACTIVE)
            elif state.status in (MarketStatus.ACTIVE, MarketStatus.INACTIVE, MarketStatus.INITIALIZED) and (
                now >= meta.close_ms
            ):
                self.engine.set_market_status(meta.ticker, MarketStatus.CLOSED)

    async def _housekeeping_loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                self.housekeeping()
            except Exception:  # a bad hook must not stop the exchange
                log.exception("housekeeping_failed")

    # -- serving -------------------------------------------------------------------------------

    @property
    def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            raise RuntimeError("the exchange is not running")
        return self._endpoints

    def server_deps(self) -> ServerDeps:
        return ServerDeps(
            engine=self.engine,
            catalog=self.catalog,
            authenticate=self.authenticate,
            limiter=self.limiter,
            feed=self.feed,
            clock_ms=self.clock_ms,
            flags=self.flags,
            archive=self.archive,
            history=self.history,
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, str]:
        """Serve on ``host:port``; returns ``(rest_url, ws_url)``. Raises ``OSError`` if the
        address cannot be bound."""
        if self._endpoints is not None:
            return self._endpoints.rest_url, self._endpoints.ws_url
        app = build_app(self.server_deps())
        for setup in self._app_setup:
            setup(app)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else str(bound_host)
        self._endpoints = Endpoints(
            rest_url=f"http://{shown}:{bound_port}{REST_PREFIX}",
            ws_url=f"ws://{shown}:{bound_port}{WS_PATH}",
            host=str(bound_host),
            port=int(bound_port),
        )
        self._housekeeper = asyncio.get_running_loop().create_task(self._housekeeping_loop(), name="housekeeping")
        return self._endpoints.rest_url, self._endpoints.ws_url

    async def stop(self) -> None:
        if self._housekeeper is not None:
            self._housekeeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeper
            self._housekeeper = None
        await self.feed.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._endpoints = None

    async def __aenter__(self) -> EmbeddedExchange:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
