"""The trading node itself: starts its parts in order, routes the feed, the venue's events and the
strategies' inputs, runs its loops, stops (see the package docstring).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog

from kalshi_trader.domain import (
    PRICE_SCALE,
    Fill,
    LadderTop,
    Level,
    Order,
    Price,
    Side,
    TopOfBook,
    complement,
)
from kalshi_trader.execution.engine import ExecutionEngine
from kalshi_trader.execution.feed import EngineEvents
from kalshi_trader.execution.venue import GroupEvent, Settlement, Venue, VenueError
from kalshi_trader.fairvalue.blend import MarketBlend, book_mid
from kalshi_trader.fairvalue.nws import NwsClient
from kalshi_trader.host.fair import FairValueFeed
from kalshi_trader.host.strategies import StrategyHost
from kalshi_trader.kalshi.errors import KalshiError
from kalshi_trader.kalshi.markets import RestMarkets
from kalshi_trader.kalshi.readonly import ReadOnlyRest
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.kalshi.venue import KalshiVenue
from kalshi_trader.kalshi.ws import Backoff, WsSession
from kalshi_trader.marketdata.book import L2Book
from kalshi_trader.marketdata.monitor import (
    BookChanged,
    BookFresh,
    BookStale,
    MarketLifecycle,
    Monitor,
    TickerUpdated,
)
from kalshi_trader.node import startup
from kalshi_trader.node.commands import NodeCommands
from kalshi_trader.node.options import (
    FAIR_MIN_WALL_S,
    HISTORY_POINTS,
    SNAPSHOT_DEPTH,
    Mode,
    NodeError,
    ShutdownReport,
)
from kalshi_trader.node.paper import PaperFeed, best_without_own, own_levels, with_own
from kalshi_trader.node.state import monotonic_ms, one_line, wall_ms
from kalshi_trader.node.wiring import NodeWiring, execution_parts, own_holdings, settle_from_lifecycle, top_of_book
from kalshi_trader.readmodels import (
    BalanceView,
    PnlPoint,
    PricePoint,
)
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.store import Store, StoreError
from kalshi_trader.strategy import registry
from kalshi_trader.strategy.base import MarketSnapshot, StrategyRunner

__all__ = ["TradingNode"]

log = structlog.get_logger(__name__)


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
        self._node.on_own_order(order.ticker)
        self._node.changes.publish("orders", "strategies")

    def after_settlement(self, settlement: Settlement) -> None:
        self._node.on_settled()

    def after_group_event(self, group_id: str, kind: GroupEvent) -> None:
        self._node.changes.publish("risk", "orders")


class TradingNode(NodeCommands, NodeWiring):
    """See the package docstring."""

    async def start(self) -> None:
        """Start every part; a transient fault (``node.startup``) closes what was started and starts
        again after the WebSocket's reconnect backoff, saying so through ``on_progress``, until
        ``start_timeout_s`` has passed. Anything else ends the start with one line at once."""
        if self._running:
            return
        began, attempt, answered = time.monotonic(), 0, False
        backoff, rng = Backoff(), random.Random()
        while True:
            try:
                await self._start()
                break
            except BaseException as exc:
                await self._close_parts()
                if not isinstance(exc, Exception):
                    raise
                reason = startup.transient(exc, answered=answered or attempt > 0)
                answered = answered or reason is not None
                delay = backoff.delay(attempt, rng)
                attempt += 1
                spent = time.monotonic() - began
                external = not (self.options.mode is Mode.SIM and self.options.embedded)
                if reason is None:
                    raise startup.start_error(exc, self.rest_url, external=external) from None
                if spent + delay > self.options.start_timeout_s:
                    what = f"the exchange at {self.rest_url}" if external else "the embedded exchange"
                    raise NodeError(
                        f"cannot start the node: {what} kept failing for {spent:.0f} s ({attempt} attempts): {reason}"
                    ) from None
                self.on_progress(f"Start-up: {reason}; trying again in {delay:.1f} s (attempt {attempt + 1})")
                await asyncio.sleep(delay)
        self._running = True
        gc.freeze()  # see the module contract: full collections skip what start-up built
        self._changes.publish("health", "connection", "strategies", "risk")
        self.alerts_service.start(self)

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
        self.risk_manager = risk = RiskManager(self.limits, clock=monotonic_ms, market_clock=self.market_ms)
        self.ws = ws = WsSession(self.ws_url, signer)
        self._stack.push_async_callback(ws.close)
        venue: Venue
        if isinstance(rest, ReadOnlyRest):
            self.paper = venue = await self._paper_venue()
        else:
            venue = KalshiVenue(rest, ws, name=f"kalshi-{self.mode}")
        self.venue = venue
        self.engine, self.reconciler = engine, reconciler = execution_parts(
            venue, risk, recorder, store, market_ms=self.market_ms, reconcile_interval_s=opts.reconcile_interval_s
        )
        self.monitor = monitor = Monitor(
            feed_recorder.market_source(clock_ms=self._market_ms)
            if feed_recorder
            else RestMarkets(rest, clock_ms=self._market_ms),
            ws,
            self._market_filter(),
            rediscover_s=60.0,
            clock_ms=self._market_ms,
        )
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
            raise NodeError(f"cannot reach the exchange at {self.rest_url}: {one_line(exc)}") from None
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
            raise NodeError(f"reconciliation failed: {one_line(exc)}") from None
        self._feed_up = ws.connected
        if ws.connected:
            risk.feed_alive()
        await self._start_fair_values()
        self._start_strategies(await own_holdings(recorder, store))
        await self._refresh_balance()
        self._sample()
        self._spawn(self._balance_loop(), "node-balance")
        self._spawn(self._sample_loop(), "node-sample")
        if isinstance(rest, KalshiRest):  # orders go out: keep their headers signed ahead
            self._spawn(rest.keep_presigned(), "node-presign")

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
        self.fair = fair = FairValueFeed(
            client,
            lambda: monitor.markets,
            self._market_ms,
            blend=MarketBlend.from_settings(settings.fair_value),
            mids=self.market_mid,
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await fair.refresh()

        def updated() -> None:
            self._changes.publish("fairvalue", "markets", "books")
            self._wake.set()

        self._spawn(fair.run(opts.fair_interval_s, updated, min_wall_s=FAIR_MIN_WALL_S), "node-fair-values")

    def _start_strategies(self, holdings: Mapping[str, Mapping[str, int]]) -> None:
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
        host.restore(holdings)
        if self.options.autostart:
            for hosted in host.all():
                if hosted.runner.strategy.enabled:
                    host.start(hosted.name)
        self._spawn(host.run(self._wake), "node-strategies")

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
        self.alerts_service.stop_watching()  # the shutdown's own kill switch is not news
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
            log.error("shutdown_cancel_failed", error=one_line(exc))
        finally:
            await self._close_parts()
            self._changes.publish("health", "connection", "strategies")
        await self.alerts_service.stopped(
            reason, canceled=report.canceled, still_resting=report.still_resting, open_positions=report.open_positions
        )
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
        live = self.ws is not None and self.ws.connected
        if self.paper is None:
            return top_of_book(book, live=live)
        bid, ask = book.best_yes_bid(), book.best_yes_ask()  # with our paper orders, as Kalshi's book shows them
        yes, no = self._own(book.ticker)
        if yes:
            bid = Price(max(bid or 0, max(yes)))
        if no:
            ask = Price(min(ask if ask is not None else PRICE_SCALE, complement(max(no))))
        return top_of_book(book, live=live, bid=bid, ask=ask)

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

    def market_mid(self, ticker: str) -> float | None:
        """The market's own mid, without our resting orders: what the fair value pools with (our
        quotes sit around the fair value; in the mid they would pull it back to the model).
        Paper: the feed's book, which never shows our paper orders; live: the book less ours."""
        book = self.monitor.book(ticker) if self.monitor is not None else None
        if book is None or book.stale or self.ws is None or not self.ws.connected:
            return None
        yes, no = self._own(ticker) if self.paper is None else ({}, {})
        bid = best_without_own(book.depth(Side.YES, len(yes) + 1), yes)
        no_bid = best_without_own(book.depth(Side.NO, len(no) + 1), no)
        ask = None if no_bid is None else complement(no_bid)
        return book_mid(None if bid is None else bid / PRICE_SCALE, None if ask is None else ask / PRICE_SCALE)

    def on_own_order(self, ticker: str) -> None:
        """Paper: one of our orders rested, changed or left — on Kalshi the book would show it, so
        the engine gets the book as it would look (the live feed shows nothing of it)."""
        if self.paper is None or self.engine is None or self.monitor is None:
            return
        book = self.monitor.book(ticker)
        if book is not None:
            self.engine.on_book(self._top(book))

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
        if settle_from_lifecycle(engine, event):
            self.on_settled()

    def on_settled(self) -> None:
        """A market settled for us (the lifecycle feed, or the venue said so)."""
        self._balance_due.set()
        self._changes.publish("positions", "pnl", "balance", "risk")

    async def _refresh_balance(self) -> None:
        if self.venue is None:
            return
        try:
            reply = await self.venue.balance()
        except VenueError as exc:
            self._balance_error = one_line(exc)
            return
        self._balance_error = ""
        self._balance = BalanceView(reply.cash, reply.portfolio_value, wall_ms())
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

    def _sample(self) -> PnlPoint:
        engine, now = self.require_engine(), self._market_ms()
        tracker = engine.tracker
        point = PnlPoint(
            ts_ms=wall_ms(),
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
