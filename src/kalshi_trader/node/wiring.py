"""How a node is wired for its mode: where the exchange is (embedded sim, a remote exchange, Kalshi
demo or prod, or Kalshi's data for paper), the request signer, the venue orders go to (Kalshi, or
the paper venue on its own record), the record's database and the markets followed.

Shared with tests that build the parts themselves (``tests/integration/execution/kit.py``):
``execution_parts`` (the engine on a venue and its reconciler, as every mode has them),
``own_holdings`` (each strategy's own net positions from the record, for ``StrategyHost.restore``
at start-up), ``top_of_book`` (what the engine is told of a book: on risk's clock, stale unless the book is
fresh on a live connection, with the market's settlement floor) and ``settle_from_lifecycle`` (a
``determined`` market settled in the engine from the market-data feed: its settlement value,
else its result; only when something of ours is in it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import structlog

from kalshi_trader.config import ENV_URLS, SHARED_ENV_URLS
from kalshi_trader.domain import PRICE_SCALE, Money, Price, Side, TopOfBook
from kalshi_trader.execution.desk import EngineConfig
from kalshi_trader.execution.engine import ExecutionEngine
from kalshi_trader.execution.reconcile import Reconciler, UnknownOrderPolicy
from kalshi_trader.execution.venue import Venue
from kalshi_trader.kalshi.auth import KeyFileError, Signer
from kalshi_trader.kalshi.readonly import PublicReads
from kalshi_trader.kalshi.rest import signer_from_settings
from kalshi_trader.marketdata.book import L2Book
from kalshi_trader.marketdata.monitor import (
    MarketFilter,
    MarketLifecycle,
)
from kalshi_trader.node.options import (
    Mode,
    NodeError,
)
from kalshi_trader.node.state import NodeState, monotonic_ms, one_line, wall_ms
from kalshi_trader.paper.venue import PaperVenue
from kalshi_trader.recording.feed import FeedRecorder
from kalshi_trader.recording.manifest import ManifestError, Source
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.store import Recorder, Store, StoreError
from kalshi_trader.strategy import registry
from kalshi_trader.strategy.favorite import FavoriteSettings

__all__ = ["NodeWiring", "execution_parts", "settle_from_lifecycle", "top_of_book"]

log = structlog.get_logger(__name__)


class NodeWiring(NodeState):
    """See the module docstring."""

    async def _paper_venue(self) -> PaperVenue:
        """The paper venue on its record (resumed; a new one funded from ``paper`` settings)."""
        path = self.settings.data_dir / "paper-venue.db"
        cash = Money(self.settings.paper.starting_balance_dollars * PRICE_SCALE)
        try:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            venue = await PaperVenue.open(path, starting_cash=cash, clock_ms=self._market_ms)
        except (OSError, StoreError) as exc:
            raise NodeError(f"cannot open the paper record {path}: {one_line(exc)}") from None
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
            raise NodeError(f"cannot record to {self.options.record_dir}: {one_line(exc)}") from None
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


def execution_parts(
    venue: Venue,
    risk: RiskManager,
    recorder: Recorder,
    store: Store,
    *,
    config: EngineConfig | None = None,
    clock_ms: Callable[[], int] = monotonic_ms,
    market_ms: Callable[[], int] = wall_ms,
    policy: UnknownOrderPolicy = UnknownOrderPolicy.CANCEL,
    reconcile_interval_s: float | None = 30.0,
) -> tuple[ExecutionEngine, Reconciler]:
    """The execution engine trading on ``venue`` and the reconciler that keeps it equal to it."""
    engine = ExecutionEngine(venue, risk, recorder, config=config, clock_ms=clock_ms, market_ms=market_ms)
    return engine, Reconciler(engine, store, policy=policy, interval_s=reconcile_interval_s)


async def own_holdings(recorder: Recorder, store: Store) -> dict[str, dict[str, int]]:
    """Each strategy's own net position per market from the record, once everything queued (such
    as the fills reconcile replayed) is written."""
    try:
        await recorder.flush(timeout_s=30)
        return await store.strategy_holdings()
    except StoreError as exc:
        raise NodeError(f"cannot read the strategies' own positions: {one_line(exc)}") from None


def settle_from_lifecycle(engine: ExecutionEngine, event: MarketLifecycle) -> bool:
    """Settle a ``determined`` market in the engine (see the module docstring); True if it did now."""
    result: Side | int | None = None
    if event.settlement_value is not None:  # a settlement floor can lift a "no" above $0
        result = event.settlement_value
    elif event.result in ("yes", "no"):
        result = Side(event.result)
    if result is None:
        return False
    if engine.tracker.position(event.ticker).qty == 0 and not engine.tracker.open_orders(event.ticker):
        return False
    try:  # once: reconciliation applies the exchange's settlement record through the same call
        return engine.on_settlement(event.ticker, result, source="lifecycle") is not None
    except ValueError as exc:
        log.warning("settlement_ignored", ticker=event.ticker, error=str(exc))
        return False


def top_of_book(book: L2Book, *, live: bool, bid: Price | None = None, ask: Price | None = None) -> TopOfBook:
    """The engine's view of ``book`` now (``bid``/``ask`` replace the book's own when given)."""
    return TopOfBook(
        book.ticker,
        bid if bid is not None else book.best_yes_bid(),
        ask if ask is not None else book.best_yes_ask(),
        monotonic_ms(),
        not (live and not book.stale),
        book.settlement_floor,
    )
