"""A backtest: recorded market data through the trading node's own path, the paper venue as the
exchange, on the clock the records drive.

Contract:
- ``await run_backtest(spec, on_progress=None)`` replays ``spec.data`` (``data.open_data``: a
  recording, or a history download through the trade-based model) and returns a
  ``collect.BacktestResult``. The parts are the node's: ``MarketReplay`` (the ``WsSession`` parser,
  ``Monitor`` books and lifecycle), the weather ``FairValueFeed`` over the recorded NWS answers,
  the strategies in a ``StrategyHost``, ``RiskManager`` with the configured limits, and the
  ``ExecutionEngine`` (its audit trail recorded through the same ``Recorder`` calls into a sink
  that keeps nothing: ``memory``) trading on a ``PaperVenue`` (its record in memory) fed by the
  replayed books and trades (``paperfeed``). Its private events come
  back through ``execution.feed.EngineEvents``.
- **Time** is the replay clock: market time and risk's clock alike. Before each record the timers
  that fall due by its time run, in this order: the engine's and the paper venue's housekeeping
  (every ``tick_ms``), the monitor's close sweep (every ``sweep_ms``), a fair-value refresh (every
  ``fair_interval_ms``), a sample for the report (every ``sample_ms``). After it, the strategies
  step when the books changed and ``step_min_ms`` passed since the last step, or when
  ``step_max_ms`` passed anyway (the host's live rule, in market time). Then every order request
  the step queued is carried out and every venue event delivered before the next record. Nothing
  sleeps; nothing depends on the wall clock, so the same data and settings give the same fills.
- ``spec.start_ms`` / ``end_ms``: the records before ``start_ms`` build the books, markets and
  fair values (a warm-up: strategies are not running yet); the replay stops at ``end_ms``.
  At the end the strategies are stopped (their resting orders canceled); positions stay open
  and are marked at the last mids (settled ones at their value).
- Ids are deterministic: paper order ids count up, client order ids use a fixed salt.
- The replay runs under ``heap.replay_heap`` (the start-up heap frozen, young collections rarer).
- ``on_host(host)``, when given, sees the ``StrategyHost`` before the replay starts (a tool that
  watches the strategies' decisions).
- ``BacktestError``: the data cannot be backtested (one line).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from kalshi_trader.backtest.clock import ReplayClock
from kalshi_trader.backtest.collect import BacktestResult, Collector
from kalshi_trader.backtest.data import BacktestData, BacktestError, open_data
from kalshi_trader.backtest.heap import replay_heap
from kalshi_trader.backtest.memory import DiscardSink, MemoryPaperRecord
from kalshi_trader.backtest.replay import MarketReplay
from kalshi_trader.config import Settings
from kalshi_trader.domain import PRICE_SCALE, Fill, LadderTop, MarketInfo, Money, Price, Side, TopOfBook, complement
from kalshi_trader.execution.desk import EngineConfig
from kalshi_trader.execution.engine import ExecutionEngine
from kalshi_trader.execution.feed import EngineEvents
from kalshi_trader.fairvalue.blend import MarketBlend, top_mid
from kalshi_trader.host.fair import FairValueFeed
from kalshi_trader.host.strategies import StrategyHost
from kalshi_trader.marketdata.book import L2Book
from kalshi_trader.marketdata.monitor import BookChanged, BookFresh, BookStale, MarketLifecycle
from kalshi_trader.node.paper import PaperFeed, own_levels, with_own
from kalshi_trader.paper.exchange import PaperExchange
from kalshi_trader.paper.venue import PaperVenue
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.store import Recorder
from kalshi_trader.strategy import registry
from kalshi_trader.strategy.base import FairValue, MarketSnapshot, StrategyRunner

__all__ = ["BacktestError", "BacktestSpec", "Progress", "run_backtest"]

SNAPSHOT_DEPTH = 5
ID_SALT = "backtest"
_NO_OWN: tuple[dict[int, int], dict[int, int]] = ({}, {})
NEVER_S = 1e9
"""The engine's own housekeeping timer (real seconds) never fires: the replay ticks it."""


@dataclass(frozen=True, slots=True)
class BacktestSpec:
    data: Path
    settings: Settings
    strategies: tuple[str, ...] = registry.default_names()
    start_ms: int | None = None
    end_ms: int | None = None
    step_min_ms: int = 1_000
    step_max_ms: int = 60_000
    fair_interval_ms: int = 60_000
    tick_ms: int = 1_000
    sweep_ms: int = 5_000
    sample_ms: int = 300_000
    overrides: tuple[tuple[str, str], ...] = ()
    """The ``--set`` values the settings were built with (shown in the report)."""


@dataclass(frozen=True, slots=True)
class Progress:
    records: int
    total: int
    """Records in the data (an estimate from the manifest; 0 when unknown)."""
    market_ms: int
    wall_s: float


@dataclass(slots=True)
class _Due:
    tick: int = 0
    sweep: int = 0
    fair: int = 0
    sample: int = 0
    step: int = 0
    wake: bool = False
    primed: bool = False
    """A fair-value refresh ran after the first book snapshot (the node starts its strategies then)."""


def build_runners(names: tuple[str, ...], settings: Settings) -> list[tuple[StrategyRunner[Any], str]]:
    """The strategies by registry name, built from their ``strategies.<name>`` settings as the node
    builds them (``ValueError`` for an unknown name or a bad setting)."""
    runners: list[tuple[StrategyRunner[Any], str]] = []
    for name in names:
        spec = registry.spec(name)
        runners.append((StrategyRunner(spec.build(registry.section(settings.strategies, name))), spec.title))
    return runners


@dataclass(slots=True)
class _KeptSnapshot:
    """One market's last snapshot and what it was built from: its book (and the book's event count),
    our resting orders' levels, the two ladders' tops and the market's info."""

    book: L2Book
    version: int
    own: tuple[dict[int, int], dict[int, int]]
    tops: tuple[LadderTop, LadderTop]
    info: MarketInfo
    snapshot: MarketSnapshot


class _Events(EngineEvents):
    def __init__(self, engine: ExecutionEngine, on_fill: Callable[[Fill], None]) -> None:
        super().__init__(engine)
        self._on_fill = on_fill

    def after_fill(self, fill: Fill) -> None:
        self._on_fill(fill)


async def run_backtest(
    spec: BacktestSpec,
    on_progress: Callable[[Progress], None] | None = None,
    on_host: Callable[[StrategyHost], None] | None = None,
) -> BacktestResult:
    try:
        runners = build_runners(spec.strategies, spec.settings)
    except ValueError as exc:
        raise BacktestError(f"strategy settings: {exc}") from None
    data = open_data(spec.data)
    with replay_heap():
        return await _Backtest(spec, data, runners).run(on_progress, on_host)


class _Backtest:
    def __init__(self, spec: BacktestSpec, data: BacktestData, runners: list[tuple[StrategyRunner[Any], str]]) -> None:
        self.spec = spec
        self.data = data
        self.runners = runners
        self.clock = ReplayClock()
        self.replay = MarketReplay(self.clock)
        self._own_levels: dict[str, tuple[int, tuple[dict[int, int], dict[int, int]]]] = {}
        """ticker → (the tracker's ``market_revision``, our resting orders' levels as read then)."""
        self._books_changed = 0
        self._book_versions: dict[str, int] = {}
        self._snapshots: tuple[tuple[int, int, int, bool], Mapping[str, MarketSnapshot]] | None = None
        self._kept: dict[str, _KeptSnapshot] = {}
        """ticker → what its last snapshot was built from, and the snapshot."""
        self.collector = Collector(str(spec.data), data.kind, list(spec.strategies), dict(spec.overrides))

    async def run(
        self, on_progress: Callable[[Progress], None] | None, on_host: Callable[[StrategyHost], None] | None
    ) -> BacktestResult:
        spec, clock, replay = self.spec, self.clock, self.replay
        now = clock.now_ms
        recorder = Recorder(DiscardSink())
        recorder.start()
        record = MemoryPaperRecord()
        cash = Money(int(spec.settings.exchange.starting_balance_dollars * PRICE_SCALE))
        ids = itertools.count(1)
        exchange = PaperExchange(cash=cash, clock_ms=now, new_id=lambda: f"paper-{next(ids):08d}")
        venue = PaperVenue(exchange, record)
        risk = RiskManager(RiskLimits.from_settings(spec.settings.risk), clock=now, market_clock=now)
        engine = ExecutionEngine(
            venue, risk, recorder, config=EngineConfig(tick_s=NEVER_S), clock_ms=now, market_ms=now
        )
        fair = FairValueFeed(
            replay.nws,
            lambda: replay.monitor.markets,
            now,
            blend=MarketBlend.from_settings(spec.settings.fair_value),
            mids=lambda ticker: top_mid(self._top(ticker, own=False)),
        )
        host = StrategyHost(
            self.runners,
            engine,
            markets=self.snapshots,
            fair_values=lambda: fair.values,
            top_of=self.top_of,
            clock_ms=now,
        )
        host.salt = ID_SALT
        if on_host is not None:
            on_host(host)
        self.engine, self.venue, self.host, self.fair = engine, venue, host, fair
        collector = self.collector
        collector.attach(engine, host, replay.monitor, fair)
        PaperFeed(venue, replay.monitor, replay.reads).attach()
        monitor = replay.monitor
        monitor.subscribe(BookChanged, self._on_book)
        monitor.subscribe(BookFresh, self._on_book)
        monitor.subscribe(BookStale, self._on_stale)
        monitor.subscribe(MarketLifecycle, self._on_lifecycle)

        def on_fill(fill: Fill) -> None:
            host.on_fill(fill)
            collector.on_fill(fill)
            self.due.wake = True

        await venue.open_stream(_Events(engine, on_fill))
        self.due = due = _Due()
        await replay.setup()
        await engine.start()
        trading = False
        queue = engine.queue
        started = time.monotonic()
        total = self.data.estimate
        count = 0
        try:
            for rec in self.data.records():
                t = rec.time_ms
                if spec.end_ms is not None and t > spec.end_ms:
                    break
                if count == 0:
                    collector.first_record(t)
                    due.tick = due.sweep = due.fair = due.sample = due.step = t
                clock.advance_to(t)
                if t >= due.tick or t >= due.sweep or t >= due.fair or t >= due.sample:
                    await self._timers(t, trading)
                if not trading and due.primed and (spec.start_ms is None or t >= spec.start_ms):
                    trading = True
                    collector.started(t)
                    for hosted in host.all():
                        if hosted.runner.strategy.enabled:  # as the node starts them
                            host.start(hosted.name)
                await replay.apply(rec)
                if trading and ((due.wake and t - due.step >= spec.step_min_ms) or t - due.step >= spec.step_max_ms):
                    due.step, due.wake = t, False
                    host.step()
                    collector.after_step()
                if queue.depth or queue.current is not None or exchange.changed:
                    await self._settle()
                count += 1
                if on_progress is not None and count % 20_000 == 0:
                    on_progress(Progress(count, total, t, time.monotonic() - started))
            if trading:
                host.stop_all()
                await self._settle()
            collector.finish(clock.now_ms(), count, time.monotonic() - started, replay)
            if on_progress is not None:
                on_progress(Progress(count, total, clock.now_ms(), time.monotonic() - started))
        finally:
            await engine.close()
            await venue.close()
            await recorder.close()
        if count == 0:
            raise BacktestError(f"{spec.data} holds no records in the chosen time range")
        return collector.result()

    async def _timers(self, t: int, trading: bool) -> None:
        spec, due = self.spec, self.due
        if t >= due.tick:
            due.tick = t + spec.tick_ms
            if self.replay.connected:  # the node's feed watch: alive while connected
                self.engine.risk.feed_alive()
            else:
                self.engine.risk.feed_lost()
            self.venue.exchange.tick()
            if trading:
                self.engine.tick()
        if t >= due.sweep:
            due.sweep = t + spec.sweep_ms
            await self.replay.monitor.sweep()
        if t >= due.fair:
            due.fair = t + spec.fair_interval_ms
            await self.fair.refresh()
            self.collector.on_fair_values()
            due.wake = True
            due.primed = due.primed or any(not b.stale for b in self.replay.monitor.books.values())
        if t >= due.sample:
            due.sample = t + spec.sample_ms
            self.collector.sample()

    async def _settle(self) -> None:
        """Carry out every queued order request and deliver every venue event."""
        engine, venue = self.engine, self.venue
        while engine.queue.depth or engine.queue.current is not None or venue.exchange.changed:
            await engine.queue.drain()
            await venue.commit()

    # -- the node's views of the books -------------------------------------------------------------

    def _own(self, ticker: str) -> tuple[dict[int, int], dict[int, int]]:
        """Our resting orders' levels in ``ticker`` (one object, read again only after a change to
        the market's orders)."""
        tracker = self.engine.tracker
        revision = tracker.market_revision(ticker)
        kept = self._own_levels.get(ticker)
        if kept is not None and kept[0] == revision:
            return kept[1]
        orders = tracker.open_orders(ticker)
        own = own_levels(orders) if orders else _NO_OWN
        self._own_levels[ticker] = (revision, own)
        return own

    def _book_changed(self, ticker: str) -> None:
        self._books_changed += 1
        self._book_versions[ticker] = self._book_versions.get(ticker, 0) + 1

    def _top(self, ticker: str, *, own: bool = True) -> TopOfBook | None:
        """Top of book as the paper node sees it: the recorded book with our resting orders on it
        (``own=False``: the market's alone, what the fair value pools with)."""
        book = self.replay.monitor.book(ticker)
        if book is None:
            return None
        live = self.replay.connected and not book.stale
        bid, ask = book.best_yes_bid(), book.best_yes_ask()
        yes, no = self._own(ticker) if own else ({}, {})
        if yes:
            bid = Price(max(bid or 0, max(yes)))
        if no:
            ask = Price(min(ask if ask is not None else PRICE_SCALE, complement(max(no))))
        return TopOfBook(ticker, bid, ask, self.clock.now_ms(), not live, book.settlement_floor)

    def top_of(self, ticker: str) -> TopOfBook | None:
        return self._top(ticker)

    def _ladder(self, book: L2Book, side: Side, own: dict[int, int]) -> LadderTop:
        if not own:
            return book.top(side, SNAPSHOT_DEPTH)
        return LadderTop.of(with_own(book.depth(side, SNAPSHOT_DEPTH + len(own)), own, SNAPSHOT_DEPTH))

    def snapshots(self) -> Mapping[str, MarketSnapshot]:
        """What the strategies see of every market (the node's view, our resting orders on the
        book); built once per state of the books, orders and clock (every strategy reads it)."""
        monitor, now, live = self.replay.monitor, self.clock.now_ms(), self.replay.connected
        key = (now, self._books_changed, self.engine.tracker.revision, live)
        if self._snapshots is not None and self._snapshots[0] == key:
            return self._snapshots[1]
        out: dict[str, MarketSnapshot] = {}
        kept_all, versions, books, own_levels = self._kept, self._book_versions, monitor.books, self._own_levels
        market_revision = self.engine.tracker.market_revision
        for ticker, info in monitor.markets.items():
            book = books.get(ticker)
            if book is None:
                continue
            levels = own_levels.get(ticker)  # ``_own`` without the call while the market's orders stand
            own = levels[1] if levels is not None and levels[0] == market_revision(ticker) else self._own(ticker)
            fresh = live and not book.stale
            updated_ms = now if fresh else 0
            # the ladders are read again only after an event of the book or a change of our orders
            # in it; the rest of the snapshot is a few fields of the market's info and the clock
            version = versions.get(ticker, 0)
            kept = kept_all.get(ticker)
            if kept is not None and kept.book is book and kept.version == version and kept.own is own:
                if kept.info is info and kept.snapshot.stale is (not fresh):
                    snap = kept.snapshot
                    if snap.updated_ms != updated_ms:
                        snap = kept.snapshot = msgspec.structs.replace(snap, updated_ms=updated_ms)
                    out[ticker] = snap
                    continue
                tops = kept.tops
            else:
                tops = (self._ladder(book, Side.YES, own[0]), self._ladder(book, Side.NO, own[1]))
            snap = MarketSnapshot.from_tops(info, *tops, updated_ms=updated_ms, stale=not fresh)
            kept_all[ticker] = _KeptSnapshot(book, version, own, tops, info, snap)
            out[ticker] = snap
        self._snapshots = (key, out)
        return out

    def fair_values(self) -> Mapping[str, FairValue]:
        return self.fair.values

    def _on_book(self, event: BookChanged | BookFresh) -> None:
        self._book_changed(event.ticker)
        top = self._top(event.ticker)
        if top is not None:
            self.engine.on_book(top)
        due = self.due
        due.wake = True
        if not due.primed:  # the first fair values as soon as books are fresh, as the node does
            due.fair = min(due.fair, self.clock.now_ms())

    def _on_stale(self, event: BookStale) -> None:
        self._book_changed(event.ticker)
        top = self._top(event.ticker)
        if top is not None:
            self.engine.on_book(top)

    def _on_lifecycle(self, event: MarketLifecycle) -> None:
        self._book_changed(event.ticker)
        if event.kind != "removed" and event.info is not None:
            self.engine.register_market(event.info)
        self.collector.on_lifecycle(event)
