"""The trading node: wires the exchange client, market data, strategies, risk, execution, the
record and fair values together for one mode, and offers read models and commands to the web.

Contract:
- ``TradingNode(settings, NodeOptions(mode=...))``; ``await start()`` builds and starts every part
  in order, ``await stop()`` takes them down in reverse. Modes (docs/architecture.md):
  ``sim`` — the embedded exchange (``sim.standalone.build_exchange``: the weather world on a
  simulated clock running ``speed`` times real time) started in this process on
  ``exchange.host:exchange.port`` (or, with ``embedded=False``, an exchange already running at
  ``settings.rest_url()`` with the data dir's key); ``demo`` / ``prod`` — Kalshi's servers with the
  configured API key (``prod`` refuses to start unless ``confirm_prod``); ``paper`` — Kalshi's
  market data (``data_env`` demo or prod, or the exchange at ``api.url``: how it is tested) with
  every order sent to the paper venue (``paper.PaperVenue``, fed by ``paper_feed.PaperFeed``;
  its own record ``DATA_DIR/paper-venue.db``, starting cash ``paper.starting_balance_dollars``).
  A paper node holds only a ``kalshi.readonly.ReadOnlyRest`` (no order-entry method) and no
  Kalshi venue: no write request can reach Kalshi. It needs an API key for the WebSocket (a
  read-only one is enough): without one it raises ``KeyFileError`` saying so.
- Start order: exchange (sim) → REST client → store + recorder → risk → one WebSocket session →
  the venue (``kalshi.venue.KalshiVenue``: the REST client and the session's private channels) →
  execution engine → the monitor's books on the same session, then the venue's private events into
  the engine (``execution.feed.EngineEvents``; a gap requests a reconciliation) → markets
  registered with the engine → reconciliation (the record replayed, the exchange's orders, fills,
  settlements and positions compared) → fair values (NWS) → strategies (started when ``autostart``
  and enabled in config) → balance and sampling loops. A failure at any step closes what was
  started and raises ``NodeError`` (one line, no secrets) — or, for an unusable API key file
  (demo/prod), ``kalshi.auth.KeyFileError`` (a user mistake).
- The record: in embedded ``sim`` the exchange starts fresh every time, so its record does too —
  ``DATA_DIR/sim.db`` is replaced at each start unless ``store.url`` is set; ``paper`` keeps its
  own, ``DATA_DIR/paper.db`` (never the live record); otherwise the store is ``store.url`` or
  ``DATA_DIR/kalshi-trader.db``.
- **Stop** (``stop(reason)``, also what SIGINT/SIGTERM lead to in ``cli run``): the strategies
  stop, the kill switch is engaged (nothing may rest any more; queued places are dropped) and every
  resting order at the exchange is canceled, round after round; with ``flatten_on_exit`` open
  positions are closed with reduce-only IOC orders (up to ``shutdown_timeout_s``). Then the parts
  close. The result (``ShutdownReport``) says how many orders were still resting.
- Time: *market time* (``market_ms()``) is the exchange's clock — the simulated clock of the
  embedded exchange, the wall clock otherwise (with ``embedded=False`` against a sped-up exchange
  strategies see wall time: use the embedded exchange for fast runs). Strategies, fair values and
  market schedules use it, and so do risk's loss velocity and trading-day roll; the rest of risk
  and the engine use a monotonic clock.
- Garbage collection: once started, the node moves every object alive then (modules, settings,
  markets, connections, the embedded exchange) into the collector's permanent generation
  (``gc.freeze``), so the full collections CPython runs by itself as the heap grows scan only what
  was made since — not a pause of tens of milliseconds on a tick that meets one (bench/RESULTS.md).
  ``stop`` unfreezes them.
- Reads (``NodeApi`` of ``readmodels``) are synchronous and cheap; ``changes`` publishes a topic
  whenever what a read shows changed (book deltas, fills, orders, strategy and risk state,
  connection, samples every ``sample_interval_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import structlog

from kalshi_trader.config import ENV_URLS, SHARED_ENV_URLS, Settings
from kalshi_trader.domain import (
    PRICE_SCALE,
    Fill,
    LadderTop,
    Level,
    MarketInfo,
    Money,
    Order,
    Price,
    Qty,
    Side,
    TopOfBook,
    complement,
)
from kalshi_trader.execution.engine import ExecutionEngine
from kalshi_trader.execution.feed import EngineEvents
from kalshi_trader.execution.orders import TrackedOrder
from kalshi_trader.execution.reconcile import Reconciler
from kalshi_trader.execution.venue import GroupEvent, Settlement, Venue, VenueError
from kalshi_trader.fairvalue.nws import NwsClient
from kalshi_trader.host.fair import FairValueFeed
from kalshi_trader.host.strategies import StrategyHost
from kalshi_trader.kalshi.auth import KeyFileError, Signer
from kalshi_trader.kalshi.delays import BUCKETS_S
from kalshi_trader.kalshi.errors import KalshiError
from kalshi_trader.kalshi.markets import RestMarkets
from kalshi_trader.kalshi.readonly import PublicReads, ReadOnlyRest
from kalshi_trader.kalshi.rest import KalshiRest, signer_from_settings
from kalshi_trader.kalshi.venue import KalshiVenue
from kalshi_trader.kalshi.ws import WsSession
from kalshi_trader.marketdata.book import L2Book
from kalshi_trader.marketdata.monitor import (
    BookChanged,
    BookFresh,
    BookStale,
    MarketFilter,
    MarketLifecycle,
    Monitor,
    TickerUpdated,
)
from kalshi_trader.paper.venue import PaperVenue
from kalshi_trader.paper_feed import PaperFeed, own_levels, with_own
from kalshi_trader.readmodels import (
    BalanceView,
    BookView,
    BreakerView,
    ChangeFeed,
    CommandError,
    ConnectionView,
    DecisionView,
    FairValueView,
    FeedDelayView,
    FillView,
    HealthCheck,
    HealthView,
    KillReport,
    MarketView,
    OrderView,
    PnlPoint,
    PositionView,
    PricePoint,
    RiskView,
    StrategyView,
)
from kalshi_trader.recording.feed import FeedRecorder
from kalshi_trader.recording.manifest import ManifestError, Source
from kalshi_trader.risk.decisions import BREAKERS
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.store import Recorder, Store, StoreError, redact_text
from kalshi_trader.strategy import registry
from kalshi_trader.strategy.base import FairValue, MarketSnapshot, StrategyRunner
from kalshi_trader.strategy.favorite import FavoriteSettings

__all__ = ["Mode", "NodeError", "NodeOptions", "ShutdownReport", "TradingNode"]

log = structlog.get_logger(__name__)

DEFAULT_SPEED = 60.0
"""The embedded exchange's default clock speed for ``run``: an hour of market time a minute."""
SNAPSHOT_DEPTH = 5
HISTORY_POINTS = 600
PNL_POINTS = 3_600
MAX_FILLS = 2_000


class Mode(StrEnum):
    SIM = "sim"
    PAPER = "paper"
    DEMO = "demo"
    PROD = "prod"


class NodeError(Exception):
    """The node cannot start (or run) as asked; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class NodeOptions:
    mode: Mode = Mode.SIM
    confirm_prod: bool = False
    """``prod`` trades real money: it starts only with this set (``--yes-trade-real-money``)."""
    embedded: bool = True
    """``sim``: run the embedded exchange here (False: use the one at ``settings.rest_url()``)."""
    scenario: str = "weather"
    speed: float | None = DEFAULT_SPEED
    """Embedded exchange clock speed (None: real time)."""
    autostart: bool = True
    """Start the strategies enabled in config right away (False: they wait for a start command)."""
    strategies: tuple[str, ...] = field(default_factory=registry.default_names)
    flatten_on_exit: bool = False
    sample_interval_s: float = 1.0
    fair_interval_s: float | None = None
    """How often fair values are recomputed (real seconds; default 3 in sim, 60 otherwise)."""
    reconcile_interval_s: float | None = 30.0
    shutdown_timeout_s: float = 15.0
    fresh_timeout_s: float = 10.0
    record_dir: Path | None = None
    """Record the market feed here while trading (``recording``; ``run --record``)."""
    data_env: str = "prod"
    """``paper``: Kalshi's environment the market data comes from (``demo`` or ``prod``) when
    ``api.url`` names no exchange."""


@dataclass(frozen=True, slots=True)
class ShutdownReport:
    canceled: int
    still_resting: int
    """Resting orders the exchange listed after the last round (0 is success; −1: unknown)."""
    open_positions: int


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def _monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def _one_line(exc: BaseException) -> str:
    return redact_text(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


class _NodeEvents(EngineEvents):
    """The venue's private events into the engine, then the node is told."""

    def __init__(self, node: TradingNode, engine: ExecutionEngine, on_gap: Callable[[], object]) -> None:
        super().__init__(engine, on_gap=on_gap)
        self._node = node

    def after_fill(self, fill: Fill) -> None:
        self._node.on_new_fill(fill)

    def after_order(self, order: Order) -> None:
        if order.last_update_reason == "SettlementBoundsCancel":
            self._node.on_floor_raised(order.ticker)
        self._node.changes.publish("orders", "strategies")

    def after_settlement(self, settlement: Settlement) -> None:
        self._node.on_settled()

    def after_group_event(self, group_id: str, kind: GroupEvent) -> None:
        self._node.changes.publish("risk", "orders")


class TradingNode:
    """See the module docstring."""

    def __init__(self, settings: Settings, options: NodeOptions | None = None) -> None:
        self.settings = settings
        self.options = options if options is not None else NodeOptions()
        self._changes = ChangeFeed()
        self._stack = AsyncExitStack()
        self._tasks: list[asyncio.Task[Any]] = []
        self._wake = asyncio.Event()
        self._started_mono = time.monotonic()
        self._running = False
        self._stopped = False
        self._market_ms: Callable[[], int] = _wall_ms
        self.rest_url = ""
        self.ws_url = ""
        self.nws_url = ""
        self.speed_text = "real time"
        self.embedded: Any = None
        """The ``sim.standalone.Embedded`` exchange in sim mode (None otherwise)."""
        self.rest: KalshiRest | ReadOnlyRest | None = None
        self.venue: Venue | None = None
        self.paper: PaperVenue | None = None
        """The paper venue (paper mode only)."""
        self.store: Store | None = None
        self.recorder: Recorder | None = None
        self.risk_manager: RiskManager | None = None
        self.limits = RiskLimits.from_settings(settings.risk)
        self.engine: ExecutionEngine | None = None
        self.ws: WsSession | None = None
        self.monitor: Monitor | None = None
        self.reconciler: Reconciler | None = None
        self.fair: FairValueFeed | None = None
        self.host: StrategyHost | None = None
        self.feed_recorder: FeedRecorder | None = None
        self._balance = BalanceView(Money(0), Money(0), 0)
        self._balance_error = ""
        self._fills: deque[Fill] = deque(maxlen=MAX_FILLS)
        self._tickers: dict[str, TickerUpdated] = {}
        self._history: dict[str, deque[PricePoint]] = {}
        self._pnl: deque[PnlPoint] = deque(maxlen=PNL_POINTS)
        self._balance_due = asyncio.Event()
        self._feed_up = False
        self.check_mode()

    # ------------------------------------------------------------------------------------------
    # Lifecycle

    @property
    def mode(self) -> str:
        return self.options.mode.value

    @property
    def changes(self) -> ChangeFeed:
        return self._changes

    def market_ms(self) -> int:
        return self._market_ms()

    def check_mode(self) -> None:
        """Raise ``NodeError`` for a mode that cannot run as configured (before anything starts)."""
        mode = self.options.mode
        if mode is Mode.PAPER and self.options.data_env not in ("demo", "prod"):
            raise NodeError(f"paper mode takes its market data from demo or prod, not {self.options.data_env!r}")
        if mode is Mode.PROD and not self.options.confirm_prod:
            raise NodeError(
                "prod trades real money on Kalshi; pass --yes-trade-real-money to confirm (try --env demo first)"
            )
        if self.options.scenario not in ("weather", "default"):
            raise NodeError(f"unknown scenario {self.options.scenario!r}")

    async def start(self) -> None:
        if self._running:
            return
        try:
            await self._start()
        except BaseException as exc:
            await self._close_parts()
            if isinstance(exc, NodeError | KeyFileError) or not isinstance(exc, Exception):
                raise
            if isinstance(exc, OSError) and self.embedded is None and self.options.mode is Mode.SIM:
                raise NodeError(f"cannot start the embedded exchange: {exc.strerror or exc}") from None
            raise NodeError(f"cannot start the node: {_one_line(exc)}") from None
        self._running = True
        gc.freeze()  # see the module contract: full collections skip what start-up built
        self._changes.publish("health", "connection", "strategies", "risk")

    async def _start(self) -> None:
        settings, opts = self.settings, self.options
        signer = await self._exchange_side()
        paper = opts.mode is Mode.PAPER
        rest: KalshiRest | ReadOnlyRest
        if paper:  # by construction: a paper node holds no client that can write to Kalshi
            rest = ReadOnlyRest(self.rest_url, signer, tier=settings.api.tier, timeout_s=settings.api.timeout_s)
        else:
            rest = KalshiRest(self.rest_url, signer, tier=settings.api.tier, timeout_s=settings.api.timeout_s)
        self.rest = rest
        self._stack.push_async_callback(rest.close)
        self.feed_recorder = feed_recorder = self._start_recording(rest)
        store_url = self._store_url()
        try:
            self.store = store = await Store.open(store_url, data_dir=settings.data_dir, echo=settings.store.echo)
        except StoreError as exc:
            raise NodeError(str(exc)) from None
        self._stack.push_async_callback(store.close)
        self.recorder = recorder = store.recorder()
        self._stack.push_async_callback(recorder.close)
        self.risk_manager = risk = RiskManager(self.limits, clock=_monotonic_ms, market_clock=self.market_ms)
        self.ws = ws = WsSession(self.ws_url, signer)
        self._stack.push_async_callback(ws.close)
        venue: Venue
        if isinstance(rest, ReadOnlyRest):
            self.paper = venue = await self._paper_venue()
        else:
            venue = KalshiVenue(rest, ws, name=f"kalshi-{self.mode}")
        self.venue = venue
        self.engine = engine = ExecutionEngine(venue, risk, recorder, clock_ms=_monotonic_ms, market_ms=self.market_ms)
        self.monitor = monitor = Monitor(
            feed_recorder.market_source(clock_ms=self._market_ms)
            if feed_recorder
            else RestMarkets(rest, clock_ms=self._market_ms),
            ws,
            self._market_filter(),
            rediscover_s=60.0,
            clock_ms=self._market_ms,
        )
        self.reconciler = reconciler = Reconciler(engine, store, interval_s=opts.reconcile_interval_s)
        events = _NodeEvents(self, engine, lambda: reconciler.request("reconnect"))
        if feed_recorder is not None:
            feed_recorder.attach(ws, monitor)
        monitor.subscribe(BookChanged, self._on_book)
        monitor.subscribe(BookFresh, self._on_book)
        monitor.subscribe(BookStale, self._on_stale)
        monitor.subscribe(TickerUpdated, self._on_ticker)
        monitor.subscribe(MarketLifecycle, self._on_lifecycle)
        try:
            await monitor.start()
            self._stack.push_async_callback(monitor.close)
            for info in monitor.markets.values():
                engine.register_market(info)
            if self.paper is not None:
                feed = PaperFeed(self.paper, monitor, rest)
                feed.attach()
                self._stack.push_async_callback(feed.close)
            await venue.open_stream(events)
        except (KalshiError, VenueError) as exc:
            raise NodeError(f"cannot reach the exchange at {self.rest_url}: {_one_line(exc)}") from None
        try:
            async with asyncio.timeout(opts.fresh_timeout_s):
                await monitor.wait_fresh()
        except TimeoutError:
            log.warning("books_not_fresh_yet", timeout_s=opts.fresh_timeout_s)
        await engine.start()
        self._stack.push_async_callback(engine.close)
        self._stack.push_async_callback(reconciler.close)
        try:
            await reconciler.start()
        except (VenueError, StoreError) as exc:
            raise NodeError(f"reconciliation failed: {_one_line(exc)}") from None
        self._feed_up = ws.connected
        if ws.connected:
            risk.feed_alive()
        await self._start_fair_values()
        self._start_strategies()
        await self._refresh_balance()
        self._sample()
        self._spawn(self._balance_loop(), "node-balance")
        self._spawn(self._sample_loop(), "node-sample")

    async def _paper_venue(self) -> PaperVenue:
        """The paper venue on its record (resumed; a new one funded from ``paper`` settings)."""
        path = self.settings.data_dir / "paper-venue.db"
        cash = Money(self.settings.paper.starting_balance_dollars * PRICE_SCALE)
        try:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            venue = await PaperVenue.open(path, starting_cash=cash, clock_ms=self._market_ms)
        except (OSError, StoreError) as exc:
            raise NodeError(f"cannot open the paper record {path}: {_one_line(exc)}") from None
        self._stack.push_async_callback(venue.close)
        return venue

    async def _exchange_side(self) -> Signer | None:
        """Start the embedded exchange (sim) or resolve the remote one; the request signer."""
        settings, opts = self.settings, self.options
        if opts.mode is Mode.SIM and opts.embedded:
            from kalshi_trader.sim.api.credentials import CredentialsError
            from kalshi_trader.sim.standalone import build_exchange
            from kalshi_trader.sim.world.nws_routes import nws_base_url

            ex = settings.exchange
            try:
                built = build_exchange(
                    data_dir=settings.data_dir,
                    seed=ex.seed,
                    cash=Money(ex.starting_balance_dollars * PRICE_SCALE),
                    scenario=opts.scenario,
                    speed=opts.speed,
                    all_weather_series=ex.all_weather_series,
                )
            except (CredentialsError, ValueError) as exc:
                raise NodeError(str(exc)) from None
            try:
                await built.exchange.start(ex.host, ex.port)
            except OSError as exc:
                raise NodeError(f"cannot listen on {ex.host}:{ex.port}: {exc.strerror or exc}") from None
            self.embedded = built
            self._stack.push_async_callback(built.exchange.stop)
            self.rest_url, self.ws_url = built.exchange.endpoints.rest_url, built.exchange.endpoints.ws_url
            self.nws_url = settings.nws.base_url or nws_base_url(built.exchange)
            self.speed_text = built.speed_text
            self._market_ms = built.exchange.clock_ms
            creds = built.credentials
            return Signer(creds.key_id, creds.private_key)
        env = opts.data_env if opts.mode is Mode.PAPER else opts.mode.value
        if opts.mode is not Mode.SIM and not (opts.mode is Mode.PAPER and settings.api.url) and settings.api.env != env:
            api = settings.api.model_copy(update={"env": env})
            self.settings = settings = settings.model_copy(update={"api": api})
        self.rest_url, self.ws_url, self.nws_url = settings.rest_url(), settings.ws_url(), settings.nws_url()
        if opts.mode is Mode.PROD and self.rest_url not in (ENV_URLS["prod"][0], SHARED_ENV_URLS["prod"][0]):
            log.warning("prod_with_custom_url", url=self.rest_url)
        if opts.mode is Mode.PAPER:
            signer = signer_from_settings(settings)
            if signer is None:
                raise KeyFileError(
                    f"paper mode reads Kalshi's market data over the WebSocket, which needs an API key (a read-only "
                    f"key is enough): pass --key-id and --key-file or set KALSHI_TRADER_API__KEY_ID and "
                    f"KALSHI_TRADER_API__KEY_FILE (no order is ever sent to {self.rest_url})"
                )
            return signer
        return signer_from_settings(settings, required=True)  # KeyFileError: the caller's one line, exit 2

    def _start_recording(self, rest: PublicReads) -> FeedRecorder | None:
        """With ``record_dir``: a recorder of the feed (closed after the session it records)."""
        if self.options.record_dir is None:
            return None
        sim = self.embedded is not None
        source = Source(
            mode="run", rest_url=self.rest_url, ws_url=self.ws_url, market_clock="exchange" if sim else "wall"
        )
        try:
            recorder = FeedRecorder.open(
                self.options.record_dir, rest, source, market_clock=self._market_ms if sim else None
            )
        except (OSError, ManifestError) as exc:
            raise NodeError(f"cannot record to {self.options.record_dir}: {_one_line(exc)}") from None
        self._stack.push_async_callback(recorder.close)
        return recorder

    def _store_url(self) -> str | None:
        settings = self.settings
        if self.options.mode is Mode.PAPER:  # its own record, never the live one
            return f"sqlite:///{settings.data_dir / 'paper.db'}"
        if settings.store.url or self.embedded is None:
            return settings.store.url
        db = settings.data_dir / "sim.db"
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{db}{suffix}").unlink()
        return f"sqlite:///{db}"

    def _market_filter(self) -> MarketFilter:
        """Sim: every open market. Kalshi: the series the loaded strategies follow (``follows``:
        weather_mm defaults to the stations' series), closing within the favorite's window."""
        if self.options.mode is Mode.SIM:
            return MarketFilter()
        sections = self.settings.strategies
        try:
            series = frozenset().union(
                *(registry.spec(n).follows(registry.section(sections, n)) for n in self.options.strategies)
            )
            favorite = registry.section(sections, "favorite")
        except ValueError as exc:
            raise NodeError(f"strategy settings: {exc}") from None
        assert isinstance(favorite, FavoriteSettings)
        horizon = int(max(favorite.max_time_to_close_s, 2 * 86_400) * 1000)
        return MarketFilter(series=frozenset(series), max_time_to_close_ms=horizon)

    async def _start_fair_values(self) -> None:
        settings, opts = self.settings, self.options
        sim_clock = self.embedded is not None

        def now_dt() -> datetime:
            return datetime.fromtimestamp(self._market_ms() / 1000, tz=UTC)

        def now_s() -> float:
            return self._market_ms() / 1000

        tap = self.feed_recorder.nws if self.feed_recorder is not None else None
        try:
            client = (
                NwsClient(settings.nws, base_url=self.nws_url, clock=now_dt, monotonic=now_s, on_response=tap)
                if sim_clock
                else NwsClient(settings.nws, base_url=self.nws_url, on_response=tap)
            )
        except ValueError as exc:
            raise NodeError(f"nws: {exc}") from None
        self._stack.push_async_callback(client.close)
        monitor = self.monitor
        assert monitor is not None
        self.fair = fair = FairValueFeed(client, lambda: monitor.markets, self._market_ms)
        interval = opts.fair_interval_s or (3.0 if sim_clock else 60.0)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await fair.refresh()

        def updated() -> None:
            self._changes.publish("fairvalue", "markets", "books")
            self._wake.set()

        self._spawn(fair.run(interval, updated), "node-fair-values")

    def _start_strategies(self) -> None:
        engine = self.engine
        assert engine is not None
        runners: list[tuple[StrategyRunner[Any], str]] = []
        try:
            for name in self.options.strategies:
                spec = registry.spec(name)
                strategy = spec.build(registry.section(self.settings.strategies, name))
                runners.append((StrategyRunner(strategy), spec.title))
        except ValueError as exc:
            raise NodeError(f"strategy settings: {exc}") from None
        self.host = host = StrategyHost(
            runners,
            engine,
            markets=self.snapshots,
            fair_values=self.fair_value_map,
            top_of=self.top_of,
            clock_ms=self._market_ms,
            on_change=lambda: self._changes.publish("strategies", "orders"),
        )
        if self.options.autostart:
            for hosted in host.all():
                if hosted.runner.strategy.enabled:
                    host.start(hosted.name)
        self._spawn(host.run(self._wake), "node-strategies")

    def _spawn(self, coro: Any, name: str) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coro, name=name))

    async def _cancel_tasks(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _close_parts(self) -> None:
        await self._cancel_tasks()
        try:
            await self._stack.aclose()
        except Exception:
            log.exception("node_close_failed")

    async def stop(self, reason: str = "shutdown") -> ShutdownReport:
        """Stop strategies, cancel every resting order (flatten if configured), close the parts."""
        if self._stopped:
            return ShutdownReport(0, 0, 0)
        self._stopped = True
        self._running = False
        gc.unfreeze()
        report = ShutdownReport(0, -1, 0)
        engine = self.engine
        try:
            if engine is not None and self.host is not None:
                for task in self._tasks:
                    if task.get_name() == "node-strategies":
                        task.cancel()
                self.host.stop_all()
                report = await self._cancel_everything(engine, reason)
        except Exception as exc:
            log.error("shutdown_cancel_failed", error=_one_line(exc))
        finally:
            await self._close_parts()
            self._changes.publish("health", "connection", "strategies")
        return report

    async def _cancel_everything(self, engine: ExecutionEngine, reason: str) -> ShutdownReport:
        flatten = self.options.flatten_on_exit
        deadline = time.monotonic() + self.options.shutdown_timeout_s
        canceled, left = 0, -1
        open_before = len(engine.open_orders())
        try:
            async with asyncio.timeout(self.options.shutdown_timeout_s):
                cancel_report = await engine.kill(
                    who="node", why=f"{reason}: cancel all resting orders", flatten=flatten
                )
                canceled, left = cancel_report.canceled, cancel_report.still_resting
                if left != 0:  # one more sweep (an order created while the first ran)
                    again = await engine.cancel_all(reason=f"{reason}: second sweep")
                    canceled, left = canceled + again.canceled, again.still_resting
                for _ in range(int(self.options.shutdown_timeout_s * 10)):
                    if not flatten or not engine.positions() or time.monotonic() >= deadline:
                        break
                    await asyncio.sleep(0.1)
        except TimeoutError:
            log.warning("shutdown_timeout", timeout_s=self.options.shutdown_timeout_s)
        if self.recorder is not None:
            with contextlib.suppress(Exception):
                await self.recorder.flush(timeout_s=5)
        canceled = max(canceled, open_before - len(engine.open_orders()))
        return ShutdownReport(canceled, left, len(engine.positions()))

    # ------------------------------------------------------------------------------------------
    # Inputs

    def require_engine(self) -> ExecutionEngine:
        if self.engine is None:
            raise RuntimeError("the node is not started")
        return self.engine

    def on_floor_raised(self, ticker: str) -> None:
        """An order of ours was canceled because a settlement floor rose: no lifecycle message says
        so, so read the market again (the monitor reports the new floor as ``metadata_updated``,
        and risk, books and marks take it)."""
        monitor = self.monitor
        if monitor is not None:
            self._spawn(monitor.refresh([ticker]), f"refresh-floor-{ticker}")

    def on_new_fill(self, fill: Fill) -> None:
        self._fills.append(fill)
        if self.host is not None:
            self.host.on_fill(fill)
        self._balance_due.set()
        self._wake.set()
        self._changes.publish("fills", "positions", "orders", "balance", "strategies", "risk", "pnl")

    def _top(self, book: L2Book) -> TopOfBook:
        """Top of book on risk's clock; a fresh book on a live connection matches the exchange now."""
        live = self.ws is not None and self.ws.connected and not book.stale
        bid, ask = book.best_yes_bid(), book.best_yes_ask()
        if self.paper is not None:  # our paper orders, as Kalshi's book would show them
            yes, no = self._own(book.ticker)
            if yes:
                bid = Price(max(bid or 0, max(yes)))
            if no:
                ask = Price(min(ask if ask is not None else PRICE_SCALE, complement(max(no))))
        return TopOfBook(book.ticker, bid, ask, _monotonic_ms(), not live, book.settlement_floor)

    def _own(self, ticker: str) -> tuple[dict[int, int], dict[int, int]]:
        engine = self.engine
        return own_levels(engine.open_orders(ticker)) if engine is not None else ({}, {})

    def _depth(self, book: L2Book, side: Side, levels: int) -> list[Level]:
        """A ladder as strategies see it (paper: with our paper orders on it)."""
        if self.paper is None:
            return book.depth(side, levels)
        yes, no = self._own(book.ticker)
        own = yes if side is Side.YES else no
        return with_own(book.depth(side, levels + len(own)), own, levels)

    def _ladder_top(self, book: L2Book, side: Side) -> LadderTop:
        """The best levels of a ladder as strategies see them, summed (paper: with our paper orders)."""
        if self.paper is None:
            return book.top(side, SNAPSHOT_DEPTH)
        return LadderTop.of(self._depth(book, side, SNAPSHOT_DEPTH))

    def top_of(self, ticker: str) -> TopOfBook | None:
        book = self.monitor.book(ticker) if self.monitor is not None else None
        return None if book is None else self._top(book)

    def _on_book(self, event: BookChanged | BookFresh) -> None:
        if self.engine is not None:
            self.engine.on_book(self._top(event.book))
        self._wake.set()
        self._changes.publish("books", "markets")

    def _on_stale(self, event: BookStale) -> None:
        book = self.monitor.book(event.ticker) if self.monitor is not None else None
        if book is not None and self.engine is not None:
            self.engine.on_book(self._top(book))
        self._changes.publish("books", "markets", "connection")

    def _on_ticker(self, event: TickerUpdated) -> None:
        self._tickers[event.ticker] = event

    def _on_lifecycle(self, event: MarketLifecycle) -> None:
        engine = self.engine
        if engine is None:
            return
        if event.kind != "removed" and event.info is not None:  # status, close, grid or floor moved
            engine.register_market(event.info)
        if event.kind == "determined":
            self._settle(engine, event)
        self._changes.publish("markets", "books", "fairvalue")

    def _settle(self, engine: ExecutionEngine, event: MarketLifecycle) -> None:
        result: Side | int | None = None
        if event.settlement_value is not None:  # a settlement floor can lift a "no" above $0
            result = event.settlement_value
        elif event.result in ("yes", "no"):
            result = Side(event.result)
        if result is None:
            return
        if engine.tracker.position(event.ticker).qty == 0 and not engine.tracker.open_orders(event.ticker):
            return
        try:  # once: reconciliation applies the exchange's settlement record through the same call
            engine.on_settlement(event.ticker, result, source="lifecycle")
        except ValueError as exc:
            log.warning("settlement_ignored", ticker=event.ticker, error=str(exc))
            return
        self.on_settled()

    def on_settled(self) -> None:
        """A market settled for us (the lifecycle feed, or the venue said so)."""
        self._balance_due.set()
        self._changes.publish("positions", "pnl", "balance", "risk")

    # ------------------------------------------------------------------------------------------
    # Loops

    async def _refresh_balance(self) -> None:
        if self.venue is None:
            return
        try:
            reply = await self.venue.balance()
        except VenueError as exc:
            self._balance_error = _one_line(exc)
            return
        self._balance_error = ""
        self._balance = BalanceView(reply.cash, reply.portfolio_value, _wall_ms())
        self._changes.publish("balance")

    async def _balance_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):
                    await self._balance_due.wait()
            self._balance_due.clear()
            await self._refresh_balance()
            await asyncio.sleep(0.5)

    async def _sample_loop(self) -> None:
        # The daily_pnl rows are the engine's (per trading day of market time); samples stay in memory.
        while True:
            await asyncio.sleep(self.options.sample_interval_s)
            try:
                self._watch_feed()
                self._sample()
            except Exception:
                log.exception("sample_failed")
            self._changes.publish("pnl", "health", "connection", "risk", "strategies", "markets")

    def _watch_feed(self) -> None:
        ws, risk = self.ws, self.risk_manager
        if ws is None or risk is None:
            return
        if ws.connected:
            risk.feed_alive()
        elif self._feed_up:
            risk.feed_lost()
        self._feed_up = ws.connected

    def _marks(self) -> dict[str, int]:
        marks: dict[str, int] = {}
        if self.monitor is None:
            return marks
        for ticker, book in self.monitor.books.items():
            mark = book.mark()
            if mark is not None and not book.stale:
                marks[ticker] = mark
        return marks

    def _sample(self) -> PnlPoint:
        engine, now = self.require_engine(), self._market_ms()
        tracker = engine.tracker
        point = PnlPoint(
            ts_ms=_wall_ms(),
            market_ms=now,
            balance=self._balance.balance,
            exposure=engine.risk.total_exposure(),
            realized=tracker.realized_pnl(),
            unrealized=tracker.unrealized_pnl(self._marks()),
            fees=tracker.fees_paid(),
        )
        self._pnl.append(point)
        fair = self.fair_value_map()
        if self.monitor is not None:
            for ticker, book in self.monitor.books.items():
                fv = fair.get(ticker)
                history = self._history.get(ticker)
                if history is None:
                    history = self._history[ticker] = deque(maxlen=HISTORY_POINTS)
                history.append(
                    PricePoint(now, book.mid(), fv.price if fv else None, book.best_yes_bid(), book.best_yes_ask())
                )
            for gone in set(self._history) - set(self.monitor.books):
                del self._history[gone]
        return point

    # ------------------------------------------------------------------------------------------
    # Strategy inputs

    def snapshots(self) -> dict[str, MarketSnapshot]:
        monitor, ws = self.monitor, self.ws
        if monitor is None:
            return {}
        now, live = self._market_ms(), ws is not None and ws.connected
        out: dict[str, MarketSnapshot] = {}
        for ticker, info in monitor.markets.items():
            book = monitor.book(ticker)
            if book is None:
                continue
            fresh = live and not book.stale
            out[ticker] = MarketSnapshot.from_tops(
                info,
                self._ladder_top(book, Side.YES),
                self._ladder_top(book, Side.NO),
                updated_ms=now if fresh else 0,
                stale=not fresh,
            )
        return out

    def fair_value_map(self) -> Mapping[str, FairValue]:
        return self.fair.values if self.fair is not None else {}

    # ------------------------------------------------------------------------------------------
    # Read models (readmodels.NodeApi)

    def balance(self) -> BalanceView:
        return self._balance

    def _title(self, ticker: str) -> tuple[str, str]:
        info = self.monitor.markets.get(ticker) if self.monitor is not None else None
        return (info.title, info.yes_sub_title) if info is not None else ("", "")

    def positions(self) -> list[PositionView]:
        engine = self.require_engine()
        tracker, marks = engine.tracker, self._marks()
        out = []
        for p in sorted(tracker.positions(), key=lambda p: p.ticker):
            mark = marks.get(p.ticker)
            out.append(
                PositionView(
                    ticker=p.ticker,
                    title=self._title(p.ticker)[0],
                    qty=p.qty,
                    average_cost=tracker.average_cost(p.ticker),
                    cost=p.cost,
                    mark=Price(mark) if mark is not None else None,
                    unrealized=tracker.unrealized_pnl({p.ticker: mark} if mark is not None else {}),
                    realized=p.realized_pnl,
                    fees=p.fees_paid,
                    exposure=Money(-(-engine.risk.exposure(p.ticker).loss // 100)),
                )
            )
        return out

    @staticmethod
    def _order_view(t: TrackedOrder) -> OrderView:
        return OrderView(
            client_order_id=t.client_order_id,
            order_id=t.order_id,
            ticker=t.ticker,
            side=t.side,
            price=t.price,
            size=t.size,
            filled=t.filled,
            remaining=t.remaining,
            state=t.state.value,
            tif=t.tif.value,
            post_only=t.post_only,
            reduce_only=t.reduce_only,
            strategy=t.strategy,
            reason=t.reason,
            updated_ms=t.exchange_ms,
            last_update_reason=t.last_update_reason,
        )

    def orders(self, *, open_only: bool = True, limit: int = 500) -> list[OrderView]:
        engine = self.require_engine()
        tracked = engine.open_orders() if open_only else engine.orders()
        views = [self._order_view(t) for t in tracked]
        views.sort(key=lambda v: (v.updated_ms, v.client_order_id), reverse=True)
        return views[:limit]

    def fills(self, *, limit: int = 200) -> list[FillView]:
        engine = self.require_engine()
        out = []
        for fill in list(self._fills)[::-1][:limit]:
            tracked = engine.tracker.order(fill.order_id)
            out.append(
                FillView(
                    fill_id=fill.fill_id,
                    order_id=fill.order_id,
                    client_order_id=fill.client_order_id or (tracked.client_order_id if tracked else ""),
                    ticker=fill.ticker,
                    side=fill.side,
                    price=fill.price,
                    qty=fill.qty,
                    fee=fill.fee,
                    is_taker=fill.is_taker,
                    ts_ms=fill.ts_ms,
                    strategy=tracked.strategy if tracked else "",
                )
            )
        return out

    def markets(self) -> list[MarketView]:
        monitor, engine = self.monitor, self.require_engine()
        if monitor is None:
            return []
        fair = self.fair_value_map()
        out = []
        for ticker, info in sorted(monitor.markets.items(), key=lambda kv: (kv[1].close_ms, kv[0])):
            book = monitor.book(ticker)
            tick = self._tickers.get(ticker)
            fv = fair.get(ticker)
            out.append(
                MarketView(
                    ticker=ticker,
                    event_ticker=info.event_ticker,
                    series_ticker=info.series_ticker,
                    title=info.title,
                    subtitle=info.yes_sub_title,
                    status=info.status.value,
                    close_ms=info.close_ms,
                    best_bid=book.best_yes_bid() if book else None,
                    best_ask=book.best_yes_ask() if book else None,
                    bid_qty=book.best_yes_bid_size() if book else Qty(0),
                    ask_qty=book.best_yes_ask_size() if book else Qty(0),
                    last_price=tick.last_price if tick and tick.last_price else None,
                    volume=tick.volume if tick else Qty(0),
                    fair_value=fv.price if fv else None,
                    stale=book.stale if book else True,
                    position=engine.tracker.position(ticker).qty,
                )
            )
        return out

    def book(self, ticker: str, *, depth: int = 10) -> BookView | None:
        monitor, engine = self.monitor, self.require_engine()
        book = monitor.book(ticker) if monitor is not None else None
        if book is None:
            return None
        title, subtitle = self._title(ticker)
        fv = self.fair_value_map().get(ticker)
        asks = tuple(Level(complement(lv.price), lv.qty) for lv in book.depth(Side.NO, depth))
        return BookView(
            ticker=ticker,
            title=title,
            subtitle=subtitle,
            stale=book.stale,
            yes_bids=tuple(book.depth(Side.YES, depth)),
            yes_asks=asks,
            fair_value=fv.price if fv else None,
            uncertainty=fv.uncertainty if fv else None,
            own_orders=tuple(self._order_view(t) for t in engine.open_orders(ticker)),
            history=tuple(self._history.get(ticker, ())),
        )

    def fair_values(self) -> list[FairValueView]:
        monitor = self.monitor
        out = []
        for ticker, fv in sorted(self.fair_value_map().items()):
            info: MarketInfo | None = monitor.markets.get(ticker) if monitor is not None else None
            book = monitor.book(ticker) if monitor is not None else None
            out.append(
                FairValueView(
                    ticker=ticker,
                    event_ticker=info.event_ticker if info else "",
                    title=f"{info.title}" if info else "",
                    price=fv.price,
                    uncertainty=fv.uncertainty,
                    as_of_ms=fv.as_of_ms,
                    source=fv.source,
                    mid=book.mid() if book is not None and not book.stale else None,
                )
            )
        return out

    def pnl(self, *, limit: int = 2000) -> list[PnlPoint]:
        points = list(self._pnl)
        if len(points) <= limit:
            return points
        step = len(points) / limit
        return [points[int(i * step)] for i in range(limit - 1)] + [points[-1]]

    def _strategy_view(self, name: str) -> StrategyView:
        host = self.host
        if host is None:
            raise CommandError("the node is not running")
        try:
            h = host.hosted(name)
        except KeyError:
            raise CommandError(f"no strategy named {name!r}; known: {', '.join(host.names)}") from None
        own = host.own_orders(name)
        decisions = sorted(h.decisions.values(), key=lambda d: (d.ts_ms, d.ticker), reverse=True)[:50]
        tickers = {f.ticker for f in h.fills}
        positions = sum(1 for p in self.require_engine().positions() if p.ticker in tickers and p.qty)
        return StrategyView(
            name=name,
            title=h.title,
            enabled=h.runner.strategy.enabled,
            running=h.runner.running,
            open_orders=len(own),
            positions=positions,
            fills=len(h.fills),
            steps=h.steps,
            actions=h.actions,
            refused=h.refused,
            last_error=h.last_error,
            decisions=tuple(DecisionView(d.ticker, d.verdict.value, d.reason, d.ts_ms) for d in decisions),
        )

    def strategies(self) -> list[StrategyView]:
        return [self._strategy_view(name) for name in (self.host.names if self.host else [])]

    def risk(self) -> RiskView:
        engine = self.require_engine()
        risk, limits = engine.risk, self.limits
        kill = risk.kill_switch
        open_breakers = {b.rule.value: b for b in risk.open_breakers()}
        breakers = tuple(
            BreakerView(
                rule.value,
                rule.value in open_breakers,
                open_breakers[rule.value].reason if rule.value in open_breakers else "",
                open_breakers[rule.value].tripped_ms if rule.value in open_breakers else None,
            )
            for rule in BREAKERS
        )
        status = engine.status()
        return RiskView(
            halted=risk.halted,
            kill_switch=kill is not None,
            kill_who=kill.who if kill else "",
            kill_why=kill.why if kill else "",
            breakers=breakers,
            total_exposure=risk.total_exposure(),
            max_total_exposure=limits.max_total_exposure,
            day_pnl=risk.day_pnl,
            daily_loss_limit=limits.daily_loss_limit,
            open_orders=status.open_orders,
            max_open_orders=limits.max_open_orders,
            submitted=status.submitted,
            refused=status.refused,
            rejected=status.rejected,
            errors=status.errors,
        )

    def connection(self) -> ConnectionView:
        ws, monitor, recorder, store = self.ws, self.monitor, self.recorder, self.store
        stats = ws.stats if ws is not None else None
        books = monitor.books if monitor is not None else {}
        last = self.reconciler.last if self.reconciler is not None else None
        return ConnectionView(
            mode=self.mode,
            rest_url=self.rest_url,
            ws_url=self.ws_url,
            ws_connected=ws is not None and ws.connected and not self._stopped,
            connects=stats.connects if stats else 0,
            disconnects=stats.disconnects if stats else 0,
            frames=stats.frames if stats else 0,
            books_fresh=sum(1 for b in books.values() if not b.stale),
            books_total=len(books),
            market_time_ms=self._market_ms(),
            speed=self.speed_text,
            store=store.url if store is not None else "",
            store_pending=recorder.pending if recorder is not None else 0,
            store_error=redact_text(recorder.last_error or "") if recorder is not None else "",
            last_reconcile=(
                f"{last.reason}: {last.resting} resting, {len(last.discrepancies)} discrepancies" if last else ""
            ),
            feed_delays=_feed_delays(ws),
        )

    def health(self) -> HealthView:
        if not self._running:
            return HealthView("stopped", self.mode, time.monotonic() - self._started_mono, ())
        conn, risk = self.connection(), self.risk()
        fair = self.fair
        checks = [
            HealthCheck("exchange feed", conn.ws_connected, "connected" if conn.ws_connected else "disconnected"),
            HealthCheck(
                "order books",
                conn.books_total > 0 and conn.books_fresh == conn.books_total,
                f"{conn.books_fresh}/{conn.books_total} fresh",
            ),
            HealthCheck(
                "balance",
                not self._balance_error,
                self._balance_error or f"read {max(0, (_wall_ms() - self._balance.as_of_ms) // 1000)} s ago",
            ),
            HealthCheck(
                "store",
                not conn.store_error,
                conn.store_error or f"{conn.store} ({conn.store_pending} pending)",
            ),
            HealthCheck(
                "risk",
                not risk.halted,
                "halted: kill switch" if risk.kill_switch else ("halted: breaker open" if risk.halted else "trading"),
            ),
            HealthCheck(
                "fair values",
                fair is not None and not fair.errors,
                f"{len(fair.values)} markets priced" + (f"; {len(fair.errors)} events failed" if fair.errors else "")
                if fair is not None
                else "not running",
            ),
        ]
        status = "ok" if all(c.ok for c in checks[:4]) else "degraded"
        return HealthView(status, self.mode, time.monotonic() - self._started_mono, tuple(checks))

    # ------------------------------------------------------------------------------------------
    # Commands

    def _require_running(self) -> StrategyHost:
        if not self._running or self.host is None:
            raise CommandError("the node is not running")
        return self.host

    async def start_strategy(self, name: str, *, who: str) -> StrategyView:
        host = self._require_running()
        view = self._strategy_view(name)
        if not view.enabled:
            raise CommandError(f"strategy {name} is disabled in config (strategies.{name}.enabled)")
        risk = self.require_engine().risk
        if risk.kill_switch is not None:
            raise CommandError("the kill switch is engaged; reset risk first")
        host.start(name)
        log.info("strategy_started", strategy=name, who=who)
        self._wake.set()
        return self._strategy_view(name)

    async def stop_strategy(self, name: str, *, who: str) -> StrategyView:
        host = self._require_running()
        self._strategy_view(name)
        host.stop(name)
        log.info("strategy_stopped", strategy=name, who=who)
        return self._strategy_view(name)

    async def kill(self, *, who: str, why: str, flatten: bool = False) -> KillReport:
        host = self._require_running()
        if not who.strip() or not why.strip():
            raise CommandError("the kill switch needs who and why")
        stopped = tuple(host.stop_all())
        engine = self.require_engine()
        try:
            async with asyncio.timeout(self.options.shutdown_timeout_s):
                report = await engine.kill(who=who, why=why, flatten=flatten)
        except TimeoutError:
            raise CommandError("the cancel-all sweep did not finish in time; check the orders") from None
        self._changes.publish("risk", "orders", "strategies", "health")
        return KillReport(report.canceled, report.still_resting, flatten, stopped)

    async def reset_risk(self, *, who: str, why: str) -> RiskView:
        self._require_running()
        if not who.strip() or not why.strip():
            raise CommandError("a reset needs who and why")
        engine = self.require_engine()
        if engine.risk.kill_switch is not None:
            await engine.reset_kill(who=who, why=why)
        for breaker in engine.risk.open_breakers():
            engine.risk.reset_breaker(breaker.rule, who=who, why=why)
        engine.tick()
        self._changes.publish("risk", "health")
        return self.risk()


def _feed_delays(ws: WsSession | None) -> tuple[FeedDelayView, ...]:
    """The session's per-channel frame delays, channels with frames only, busiest first."""
    if ws is None:
        return ()
    views = []
    for channel, delays in ws.delays.items():
        d = delays.snapshot()
        if d.count:
            views.append(
                FeedDelayView(channel, d.count, d.p50_ms, d.p99_ms, d.max_ms, d.negative, BUCKETS_S, d.buckets, d.sum_s)
            )
    views.sort(key=lambda v: (-v.frames, v.channel))
    return tuple(views)
