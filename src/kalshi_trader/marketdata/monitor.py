"""Live market data: discovers markets over REST, keeps their L2 books from the WebSocket feed,
filters them, follows their lifecycle and tells subscribers what changed.

Contract:

- ``Monitor(source, ws, market_filter)``: ``start()`` lists the markets the filter admits through
  ``source`` (REST: ``kalshi.markets.RestMarkets``), creates one stale ``L2Book`` per market on its
  tick grid, installs its ``kalshi.market_feed.MarketFeed`` (Kalshi's frames as values, with this
  monitor as the feed's ``MarketSink``) as the ``WsSession``'s handler, starts the session if needed,
  and subscribes ``orderbook_delta`` (plus ``ticker`` and ``trade``, see ``channels``) for those
  markets and ``market_lifecycle_v2`` for all. Books turn fresh with their snapshots;
  ``wait_fresh`` waits for that. ``close()`` stops the background tasks (not the session it was
  given, unless ``own_session``).
- ``MarketFilter`` has two halves. *Market* criteria (status, series, event, tickers, time to
  close) decide which markets are discovered and followed. *Book* criteria (depth, spread,
  probability band on the mid) are answered live by ``accepts_book`` / ``Monitor.selected()`` and
  never unsubscribe anything: a market drifting out of the band comes back when it drifts in.
- Events (frozen ``msgspec`` structs, see ``MonitorEvent``): ``BookChanged`` (one per applied
  delta, and one with ``side == ""`` per snapshot), ``TradePrinted``, ``TickerUpdated``,
  ``MarketLifecycle`` (``added``, ``removed``, ``closed`` and every ``market_lifecycle_v2``
  ``event_type``), ``BookStale`` and ``BookFresh``. ``subscribe(EventType, callback)`` registers a
  callback (returns a function that unregisters it). Callbacks are called synchronously, in
  registration order, from the frame handler: frame → book → callback with no queue and no task.
  They must not block; an exception in one is logged and counted (``stats.listener_errors``) and
  the others still run.
- Staleness: a book is stale until its snapshot, and again after a seq gap, a reconnect, an
  off-grid level, a malformed value or a tick-grid change (``BookStale`` with the reason; fresh
  snapshots are requested through the session). While stale, deltas for it are dropped and no
  ``BookChanged`` is sent; the next snapshot makes it fresh (``BookFresh``) and replaces it whole.
- Lifecycle: ``created`` markets the filter could admit are fetched over REST and followed;
  ``determined`` / ``settled`` markets (and, in the periodic sweep, markets whose close time has
  passed — Kalshi sends no event for that) are reported and dropped from the subscriptions; a
  market dropped at its close time is still remembered (the newest ``CLOSED_MEMORY``) so that its
  ``determined`` / ``settled`` events, which come hours later, are reported too (a position in it
  settles then);
  ``activated``/``deactivated``/``close_date_updated``/``metadata_updated`` update ``markets``;
  ``price_level_structure_updated`` rebuilds the book on the new grid. With ``rediscover_s`` set,
  the REST listing is repeated that often to pick up markets that opened without an event, and
  the followed markets are read again (``refresh``) to pick up settlement-floor changes.
- Gaps: ``trade`` and ``market_lifecycle_v2`` are sequenced. When the session reports a gap on one
  (``on_gap``), or after a reconnect (frames were lost while down), the monitor recovers from REST,
  once per burst: *lifecycle* — every followed and remembered-closed market is read again
  (``MarketSource.get_markets``) and each difference from what the monitor knows is applied as the
  lifecycle event it stands for (``deactivated``/``activated``, ``close_date_updated``,
  ``price_level_structure_updated``, ``determined`` with its result and value, ``settled``), then
  the listing is repeated (markets created meanwhile); *trade* — the trades printed since the
  newest one seen (``MarketSource.trades_since``) are reported as ``TradePrinted``, oldest first,
  skipping those already reported (trade ids are remembered, the newest ``TRADE_MEMORY``).
  ``refresh(tickers)`` runs the lifecycle part for some markets (e.g. when an order was canceled by
  a settlement-floor raise, which no lifecycle message announces: a changed floor is reported as
  ``metadata_updated``).
- Values arrive converted (prices and sizes exact, by the feed; ``MarketSink``); the monitor never
  reads Kalshi's wire structs.
- Hot path: ``on_book_delta`` is a closure over the monitor's tables (built once in ``__init__``);
  a delta costs the feed's parses, one book lookup, ``L2Book.apply_delta``, one event and the
  callbacks (bench/bench_feed.py measures it).

Imports: ``kalshi`` (the session, the feed's and the markets' values — never its wire structs or
REST client), ``domain``, ``marketdata.book`` and the standard library (import-linter).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import msgspec
import structlog

from kalshi_trader.domain import MarketInfo, MarketStatus, Price, Qty, Side
from kalshi_trader.kalshi.market_feed import LifecycleChange, MarketFeed, TickerUpdated, TradePrinted
from kalshi_trader.kalshi.markets import MarketReport
from kalshi_trader.kalshi.ws import ORDERBOOK, WsSession
from kalshi_trader.marketdata.book import BookError, L2Book

__all__ = [
    "BookChanged",
    "BookFresh",
    "BookStale",
    "MarketFilter",
    "MarketLifecycle",
    "MarketReport",
    "MarketSource",
    "Monitor",
    "MonitorEvent",
    "MonitorStats",
    "TickerUpdated",
    "TradePrinted",
]

log = structlog.get_logger(__name__)

LIFECYCLE: Final = "market_lifecycle_v2"
DEFAULT_CHANNELS: Final = ("ticker", "trade")
_REMOVED_ON: Final = frozenset({"determined", "settled"})
CLOSED_MEMORY: Final = 10_000
"""Markets dropped at their close time whose outcome events are still reported."""
TRADE_MEMORY: Final = 10_000
"""Trade ids remembered to report each trade once when a gap is recovered."""
_TRADE: Final = "trade"
_RESULT_STATUSES: Final = frozenset({MarketStatus.DETERMINED, MarketStatus.AMENDED, MarketStatus.FINALIZED})


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


# ------------------------------------------------------------------------------------------------
# Events


class BookChanged(msgspec.Struct, frozen=True, gc=False):
    """A book changed: one delta (``side`` ``"yes"``/``"no"`` — the bid ladder — ``price`` in that
    ladder's leg, signed ``delta``), or a whole snapshot (``side == ""``, ``price``/``delta`` 0).
    ``client_order_id`` is set when our own order caused the change."""

    ticker: str
    book: L2Book
    side: str
    price: Price
    delta: Qty
    ts_ms: int
    client_order_id: str = ""


class MarketLifecycle(msgspec.Struct, frozen=True, gc=False):
    """A market's lifecycle moved. ``kind``: ``added`` / ``removed`` (followed or not by this
    monitor), ``closed`` (close time passed), or a ``market_lifecycle_v2`` ``event_type``
    (``created``, ``activated``, ``deactivated``, ``close_date_updated``, ``determined``,
    ``settled``, ``price_level_structure_updated``, ``metadata_updated``). ``info`` is the market
    after the change (None for a market this monitor does not follow); ``result`` and
    ``settlement_value`` are set on ``determined``."""

    ticker: str
    kind: str
    info: MarketInfo | None
    result: str = ""
    settlement_value: Price | None = None
    reason: str = ""


class BookStale(msgspec.Struct, frozen=True, gc=False):
    """The book can no longer be trusted (do not trade on it) until ``BookFresh``."""

    ticker: str
    reason: str


class BookFresh(msgspec.Struct, frozen=True, gc=False):
    """A snapshot arrived: the book matches the exchange again."""

    ticker: str
    book: L2Book


MonitorEvent = BookChanged | TradePrinted | TickerUpdated | MarketLifecycle | BookStale | BookFresh
E = TypeVar("E", BookChanged, TradePrinted, TickerUpdated, MarketLifecycle, BookStale, BookFresh)


@dataclass(slots=True)
class MonitorStats:
    snapshots: int = 0
    dropped_stale: int = 0
    """Deltas for a stale book (dropped; its snapshot replaces it)."""
    dropped_unknown: int = 0
    """Book frames for a market this monitor does not follow."""
    bad_values: int = 0
    """Frames with an unparsable or off-grid price or size (the book goes stale)."""
    listener_errors: int = 0
    discoveries: int = 0
    recoveries: int = 0
    """REST recoveries after a gap or a reconnect (lifecycle and trade counted apart)."""
    recovered: int = 0
    """Lifecycle events and trades that a recovery found missing and reported."""


# ------------------------------------------------------------------------------------------------
# Filter


@dataclass(frozen=True, slots=True)
class MarketFilter:
    """Which markets to follow (market criteria) and which of them are tradable now (book criteria).

    Empty sets mean "any". Times are milliseconds; prices ``Price`` ($0.0001), sizes ``Qty``."""

    statuses: frozenset[MarketStatus] = frozenset({MarketStatus.ACTIVE})
    series: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()
    tickers: frozenset[str] = frozenset()
    min_time_to_close_ms: int = 0
    """Follow a market only while its close is at least this far away."""
    max_time_to_close_ms: int | None = None
    """... and at most this far away."""
    min_depth: int = 0
    """Book: at least this ``Qty`` within the best ``depth_levels`` levels of each ladder."""
    depth_levels: int = 1
    max_spread: int | None = None
    """Book: YES ask - YES bid at most this (both sides must exist)."""
    min_yes: int | None = None
    """Book: probability band on the YES mid, e.g. ``Price(8500)`` for "YES above 85%"."""
    max_yes: int | None = None

    def accepts_market(self, info: MarketInfo, now_ms: int) -> bool:
        if self.statuses and info.status not in self.statuses:
            return False
        if not self.accepts_names(info.ticker, info.event_ticker, info.series_ticker):
            return False
        left = info.close_ms - now_ms
        if left < self.min_time_to_close_ms:
            return False
        return self.max_time_to_close_ms is None or left <= self.max_time_to_close_ms

    def accepts_names(self, ticker: str, event_ticker: str, series_ticker: str) -> bool:
        return (
            (not self.tickers or ticker in self.tickers)
            and (not self.events or event_ticker in self.events)
            and (not self.series or series_ticker in self.series)
        )

    def accepts_book(self, book: L2Book) -> bool:
        """The live half: a fresh book with enough depth, a tight enough spread and its mid in band."""
        if book.stale:
            return False
        if self.min_depth:
            for side in (Side.YES, Side.NO):
                if sum(int(level.qty) for level in book.depth(side, self.depth_levels)) < self.min_depth:
                    return False
        if self.max_spread is not None:
            spread = book.spread()
            if spread is None or spread > self.max_spread:
                return False
        if self.min_yes is not None or self.max_yes is not None:
            twice = book.mid_x2()
            if twice is None:
                return False
            if self.min_yes is not None and twice < 2 * self.min_yes:
                return False
            if self.max_yes is not None and twice > 2 * self.max_yes:
                return False
        return True


# ------------------------------------------------------------------------------------------------
# Where markets come from


class MarketSource(Protocol):
    """Market discovery (REST). ``list_markets`` may pre-filter server-side but must return every
    market the filter's market criteria admit; the monitor re-checks each one."""

    async def list_markets(self, market_filter: MarketFilter) -> list[MarketInfo]: ...

    async def get_market(self, ticker: str) -> MarketInfo | None:
        """None when the market does not exist."""

    async def get_markets(self, tickers: Sequence[str]) -> list[MarketReport]:
        """These markets now (those that exist)."""

    async def trades_since(self, since_ms: int) -> list[TradePrinted]:
        """Every public trade printed at or after ``since_ms``, oldest first."""


# ------------------------------------------------------------------------------------------------
# The monitor


class Monitor:
    """Markets, books and events (see the module docstring)."""

    def __init__(
        self,
        source: MarketSource,
        ws: WsSession,
        market_filter: MarketFilter | None = None,
        *,
        channels: Sequence[str] = DEFAULT_CHANNELS,
        follow_lifecycle: bool = True,
        rediscover_s: float | None = None,
        sweep_s: float = 5.0,
        clock_ms: Callable[[], int] = wall_clock_ms,
        own_session: bool = False,
    ) -> None:
        self.source = source
        self.ws = ws
        self.filter = market_filter or MarketFilter()
        self.channels = tuple(c for c in channels if c != ORDERBOOK)
        self.follow_lifecycle = follow_lifecycle
        self.rediscover_s = rediscover_s
        self.sweep_s = sweep_s
        self.clock_ms = clock_ms
        self.own_session = own_session
        self.stats = MonitorStats()
        self._books: dict[str, L2Book] = {}
        self._markets: dict[str, MarketInfo] = {}
        self._closed: dict[str, MarketInfo] = {}
        """Dropped at close time, awaiting their outcome (oldest first, at most ``CLOSED_MEMORY``)."""
        self._listeners: dict[type[Any], list[Callable[[Any], None]]] = {
            cls: [] for cls in (BookChanged, TradePrinted, TickerUpdated, MarketLifecycle, BookStale, BookFresh)
        }
        self._on_book = self._listeners[BookChanged]
        self._tasks: set[asyncio.Task[Any]] = set()
        self._background: list[asyncio.Task[None]] = []
        self._fresh = asyncio.Event()
        self._started = False
        self._connections = 0
        self._recovering: dict[str, asyncio.Task[None]] = {}
        self._recover_again: set[str] = set()
        self._trade_ids: dict[str, None] = {}
        """Ids of the trades reported, oldest first (at most ``TRADE_MEMORY``)."""
        self._last_trade_ms = 0
        self.on_book_delta = self._delta_handler()
        """``MarketSink.on_book_delta``: apply one delta, tell the ``BookChanged`` subscribers."""
        self.feed = MarketFeed(self)
        """The session's handler: Kalshi's frames as values, into this monitor."""
        ws.set_handler(self.feed)

    # -- reading -----------------------------------------------------------------------------------

    @property
    def books(self) -> Mapping[str, L2Book]:
        return self._books

    @property
    def markets(self) -> Mapping[str, MarketInfo]:
        return self._markets

    def book(self, ticker: str) -> L2Book | None:
        return self._books.get(ticker)

    def selected(self) -> list[str]:
        """Followed markets whose books pass the filter's book criteria right now."""
        return [t for t, book in self._books.items() if self.filter.accepts_book(book)]

    def subscribe(self, kind: type[E], callback: Callable[[E], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for every event of type ``kind``; returns the unsubscriber."""
        listeners = self._listeners[kind]
        listeners.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                listeners.remove(callback)

        return unsubscribe

    async def wait_fresh(self, tickers: Iterable[str] | None = None) -> None:
        """Return once every book of ``tickers`` (default: all followed) is fresh. Bound the wait
        with ``asyncio.timeout``."""
        wanted = list(self._books) if tickers is None else list(tickers)
        while True:
            if all((b := self._books.get(t)) is not None and not b.stale for t in wanted):
                return
            self._fresh.clear()
            await self._fresh.wait()

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Discover, subscribe, and start following (see the module docstring)."""
        if self._started:
            return
        self._started = True
        self._last_trade_ms = self.clock_ms()
        found = await self._discover()
        for info in found:
            self._follow(info)
        if not self.ws.connected:
            await self.ws.start()
        if self.follow_lifecycle:
            await self.ws.subscribe([LIFECYCLE])
        await self._subscribe_books(list(self._markets))
        loop = asyncio.get_running_loop()
        self._background.append(loop.create_task(self._sweep_loop(), name="monitor-sweep"))
        if self.rediscover_s:
            self._background.append(loop.create_task(self._rediscover_loop(), name="monitor-rediscover"))

    async def close(self) -> None:
        for task in [*self._background, *self._tasks]:
            task.cancel()
        for task in [*self._background, *self._tasks]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._background.clear()
        self._tasks.clear()
        if self.own_session:
            await self.ws.close()
        self._started = False

    async def __aenter__(self) -> Monitor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def add_markets(self, tickers: Iterable[str]) -> list[str]:
        """Follow these markets (fetched over REST) whatever the filter says; returns those found."""
        added: list[str] = []
        for ticker in dict.fromkeys(tickers):
            if ticker in self._markets:
                added.append(ticker)
                continue
            info = await self.source.get_market(ticker)
            if info is None:
                log.warning("monitor_market_not_found", ticker=ticker)
                continue
            self._follow(info)
            added.append(ticker)
        if self._started:
            await self._subscribe_books(added)
        return added

    async def remove_markets(self, tickers: Iterable[str], reason: str = "removed") -> None:
        gone = [t for t in dict.fromkeys(tickers) if t in self._markets]
        for ticker in gone:
            self._unfollow(ticker, reason)
        if gone and self._started:
            await self.ws.unsubscribe([ORDERBOOK, *self.channels], gone)

    async def rediscover(self, *, drop: bool = True) -> None:
        """List markets again: follow the new ones the filter admits, drop those it no longer does
        (unless ``drop`` is False)."""
        found = {info.ticker: info for info in await self._discover()}
        new = [t for t in found if t not in self._markets]
        for ticker in new:
            self._follow(found[ticker])
        if new:
            await self._subscribe_books(new)
        if not drop:
            return
        now = self.clock_ms()
        stale = [t for t, info in self._markets.items() if t not in found and not self.filter.accepts_market(info, now)]
        if stale:
            await self.remove_markets(stale, "no longer matches the filter")

    async def _discover(self) -> list[MarketInfo]:
        self.stats.discoveries += 1
        now = self.clock_ms()
        return [info for info in await self.source.list_markets(self.filter) if self.filter.accepts_market(info, now)]

    async def _subscribe_books(self, tickers: list[str]) -> None:
        if tickers:
            await self.ws.subscribe([ORDERBOOK, *self.channels], tickers)

    def _follow(self, info: MarketInfo) -> None:
        self._markets[info.ticker] = info
        if info.ticker not in self._books:
            self._books[info.ticker] = L2Book(info.ticker, info.grid, info.settlement_floor or 0)
        self._emit(MarketLifecycle(info.ticker, "added", info))

    def _unfollow(self, ticker: str, reason: str, kind: str = "removed") -> None:
        info = self._markets.pop(ticker, None)
        self._books.pop(ticker, None)
        self._emit(MarketLifecycle(ticker, kind, info, reason=reason))

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_s)
            try:
                await self.sweep()
            except Exception:  # keep sweeping: a failed unsubscribe is retried next time
                log.exception("monitor_sweep_failed")

    async def sweep(self) -> None:
        """Drop markets whose close time has passed (Kalshi announces no event for it)."""
        now = self.clock_ms()
        closed = [t for t, info in self._markets.items() if info.close_ms and info.close_ms <= now]
        for ticker in closed:
            info = self._markets[ticker]
            self._markets[ticker] = dataclasses.replace(info, status=MarketStatus.CLOSED)
            self._unfollow(ticker, "close time passed", kind="closed")
            self._closed[ticker] = self._closed.pop(ticker, info)
            while len(self._closed) > CLOSED_MEMORY:
                del self._closed[next(iter(self._closed))]
        if closed:
            await self.ws.unsubscribe([ORDERBOOK, *self.channels], closed)

    async def _rediscover_loop(self) -> None:
        assert self.rediscover_s
        while True:
            await asyncio.sleep(self.rediscover_s)
            try:
                await self.rediscover()
                await self.refresh(list(self._markets))  # settlement floors move without a message
            except Exception:
                log.exception("monitor_rediscover_failed")

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("monitor_task_failed", task=task.get_name(), error=repr(task.exception()))

    # -- emitting ------------------------------------------------------------------------------------

    def _emit(self, event: MonitorEvent) -> None:
        for callback in self._listeners[type(event)]:
            try:
                callback(event)
            except Exception:
                self._listener_failed(callback)

    def _listener_failed(self, callback: Callable[[Any], None]) -> None:
        self.stats.listener_errors += 1
        if self.stats.listener_errors <= 10 or self.stats.listener_errors % 1000 == 0:
            log.exception("monitor_listener_failed", callback=getattr(callback, "__qualname__", repr(callback)))

    def _mark_stale(self, ticker: str, book: L2Book, reason: str) -> None:
        book.mark_stale()
        self._emit(BookStale(ticker, reason))

    # -- MarketSink (the feed calls it for every frame) -----------------------------------------

    def _delta_handler(self) -> Callable[[str, Side, Price, Qty, int, str], None]:
        """Build ``on_book_delta``, the hot path (one level of one book changed): a closure, so
        that what it touches per frame is a local rather than an attribute or global lookup."""
        books, listeners = self._books, self._on_book
        bad, dropped, failed, changed = self._bad_value, self._dropped, self._listener_failed, BookChanged

        def on_book_delta(ticker: str, side: Side, price: Price, qty: Qty, ts: int, cid: str) -> None:
            book = books.get(ticker)
            if book is None or book.stale:
                dropped(book)
                return
            try:
                book.apply_delta(side, price, qty, ts)
            except (BookError, ValueError) as exc:
                bad(ticker, exc)
                return
            if listeners:
                event = changed(ticker, book, side, price, qty, ts, cid)
                for callback in listeners:
                    try:
                        callback(event)
                    except Exception:
                        failed(callback)

        return on_book_delta

    def on_book_snapshot(self, ticker: str, yes: list[tuple[int, int]], no: list[tuple[int, int]]) -> None:
        book = self._books.get(ticker)
        if book is None:
            self.stats.dropped_unknown += 1
            return
        was_stale = book.stale
        try:
            book.apply_snapshot(yes, no)
        except (BookError, ValueError) as exc:
            self._bad_value(ticker, exc)
            return
        self.stats.snapshots += 1
        if was_stale:
            self._emit(BookFresh(ticker, book))
            self._fresh.set()
        self._emit(BookChanged(ticker, book, "", Price(0), Qty(0), 0, ""))

    def on_bad_value(self, ticker: str, error: Exception) -> None:
        book = self._books.get(ticker)
        if book is None or book.stale:
            self._dropped(book)
        else:
            self._bad_value(ticker, error)

    def on_unreadable(self, what: str, ticker: str, error: Exception) -> None:
        if ticker in self._markets:
            self.stats.bad_values += 1
            log.warning(f"monitor_bad_{what}", ticker=ticker, error=str(error))

    def _dropped(self, book: L2Book | None) -> None:
        if book is None:
            self.stats.dropped_unknown += 1
        else:
            self.stats.dropped_stale += 1

    def _bad_value(self, ticker: str, exc: Exception) -> None:
        self.stats.bad_values += 1
        log.warning("monitor_bad_book_value", ticker=ticker, error=str(exc))
        book = self._books.get(ticker)
        if book is not None:
            self._mark_stale(ticker, book, f"bad book value: {exc}")
        self.ws.resync([ticker])

    def on_stale(self, tickers: Sequence[str], reason: str) -> None:
        for ticker in tickers:
            book = self._books.get(ticker)
            if book is not None and not book.stale:
                self._mark_stale(ticker, book, reason)

    def on_connection(self, connected: bool) -> None:
        log.info("monitor_connection", connected=connected)
        if not connected:
            return
        self._connections += 1
        if self._connections > 1:  # frames were lost while the connection was down
            if self.follow_lifecycle:
                self._recover(LIFECYCLE)
            if _TRADE in self.channels:
                self._recover(_TRADE)

    def on_gap(self, channel: str, reason: str) -> None:
        if channel in (LIFECYCLE, _TRADE):
            log.warning("monitor_channel_gap", channel=channel, reason=reason)
            self._recover(channel)

    # -- recovery from REST (gaps, reconnects) ----------------------------------------------------

    def _recover(self, channel: str) -> None:
        """Recover ``channel`` from REST soon: one recovery at a time per channel, and one more if
        another gap was reported while it ran."""
        if not self._started:
            return
        if channel in self._recovering:
            self._recover_again.add(channel)
            return
        task = asyncio.get_running_loop().create_task(self._recovery(channel), name=f"monitor-recover-{channel}")
        self._recovering[channel] = task
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    async def _recovery(self, channel: str) -> None:
        try:
            while True:
                self._recover_again.discard(channel)
                self.stats.recoveries += 1
                if channel == LIFECYCLE:
                    await self.refresh([*self._markets, *self._closed])
                    await self.rediscover(drop=False)  # markets created meanwhile; a pause drops nothing
                else:
                    await self._recover_trades()
                if channel not in self._recover_again:
                    return
        finally:
            self._recovering.pop(channel, None)

    async def refresh(self, tickers: Iterable[str]) -> None:
        """Read these followed (or remembered-closed) markets again over REST and apply what changed
        as the lifecycle events that were missed; a changed settlement floor or strike is reported
        as ``metadata_updated``."""
        wanted = [t for t in dict.fromkeys(tickers) if t in self._markets or t in self._closed]
        if wanted:
            for report in await self.source.get_markets(wanted):
                self._apply_report(report)

    def _apply_report(self, report: MarketReport) -> None:
        ticker = report.info.ticker
        known = self._markets.get(ticker) or self._closed.get(ticker)
        if known is None:
            return
        for change in missed_lifecycle(known, report):
            self.stats.recovered += 1
            self.on_lifecycle(change)
        info, now = self._markets.get(ticker), report.info
        if info is None:
            return
        fields = ("settlement_floor", "strike_type", "floor_strike", "cap_strike", "yes_sub_title", "title")
        if any(getattr(info, f) != getattr(now, f) for f in fields):
            info = dataclasses.replace(info, **{f: getattr(now, f) for f in fields})
            self._markets[ticker] = info
            book = self._books.get(ticker)
            if book is not None:
                book.settlement_floor = Price(info.settlement_floor or 0)
            self._emit(MarketLifecycle(ticker, "metadata_updated", info))

    async def _recover_trades(self) -> None:
        if not self._listeners[TradePrinted]:
            return
        since = max(0, self._last_trade_ms - 1000)  # REST filters by whole seconds
        for printed in await self.source.trades_since(since):
            if printed.ticker in self._markets and printed.trade_id not in self._trade_ids:
                self.stats.recovered += 1
                self._report_trade(printed)

    def _report_trade(self, event: TradePrinted) -> None:
        ids = self._trade_ids
        ids[event.trade_id] = None
        if len(ids) > TRADE_MEMORY:
            del ids[next(iter(ids))]
        self._last_trade_ms = max(self._last_trade_ms, event.ts_ms)
        self._emit(event)

    def on_ticker(self, event: TickerUpdated) -> None:
        if event.ticker in self._markets and self._listeners[TickerUpdated]:
            self._emit(event)

    def on_trade(self, event: TradePrinted) -> None:
        if event.ticker not in self._markets or not self._listeners[TradePrinted]:
            return
        if event.trade_id not in self._trade_ids:  # a recovery may have reported it already
            self._report_trade(event)

    def on_lifecycle(self, m: LifecycleChange) -> None:
        ticker, kind = m.ticker, m.kind
        info = self._markets.get(ticker)
        if kind == "created":
            if info is None and self.filter.accepts_names(ticker, m.event_ticker, m.series_ticker) and self._started:
                self._spawn(self._adopt(ticker), f"monitor-adopt-{ticker}")
            self._emit(MarketLifecycle(ticker, kind, info))
            return
        closed = info is None
        if closed:
            info = self._closed.get(ticker)
            if info is None or kind not in _REMOVED_ON:
                return
        assert info is not None
        result, settlement = "", None
        if kind in ("activated", "deactivated"):
            paused = m.paused if m.paused is not None else kind == "deactivated"
            info = dataclasses.replace(info, status=MarketStatus.INACTIVE if paused else MarketStatus.ACTIVE)
        elif kind == "close_date_updated" and m.close_ms is not None:
            info = dataclasses.replace(info, close_ms=m.close_ms)
        elif kind == "determined":
            result, settlement = m.result, m.settlement_value
            info = dataclasses.replace(info, status=MarketStatus.DETERMINED)
        elif kind == "settled":
            info = dataclasses.replace(info, status=MarketStatus.FINALIZED)
        elif kind == "price_level_structure_updated" and m.grid_error:
            log.warning("monitor_bad_price_ranges", ticker=ticker, error=m.grid_error)
        elif kind == "price_level_structure_updated" and m.grid is not None:
            info = dataclasses.replace(info, grid=m.grid)
            # stale until the snapshot on the new grid
            self._books[ticker] = L2Book(ticker, m.grid, info.settlement_floor or 0)
            self._emit(BookStale(ticker, "tick grid changed"))
            self.ws.resync([ticker])
        elif kind == "metadata_updated":
            info = dataclasses.replace(
                info,
                strike_type=m.strike_type if m.strike_type is not None else info.strike_type,
                floor_strike=m.floor_strike if m.floor_strike is not None else info.floor_strike,
                cap_strike=m.cap_strike if m.cap_strike is not None else info.cap_strike,
                yes_sub_title=m.yes_sub_title if m.yes_sub_title is not None else info.yes_sub_title,
            )
        if closed:  # its outcome, hours after the close: reported, not followed again
            if kind == "settled":
                self._closed.pop(ticker, None)
            else:
                self._closed[ticker] = info
            self._emit(MarketLifecycle(ticker, kind, info, result=result, settlement_value=settlement))
            return
        self._markets[ticker] = info
        self._emit(MarketLifecycle(ticker, kind, info, result=result, settlement_value=settlement))
        if kind in _REMOVED_ON:
            self._unfollow(ticker, f"market {kind}")
            if self._started:
                self._spawn(self.ws.unsubscribe([ORDERBOOK, *self.channels], [ticker]), f"monitor-drop-{ticker}")

    async def _adopt(self, ticker: str) -> None:
        """A ``created`` market the filter may admit: fetch it and follow it if it does."""
        info = await self.source.get_market(ticker)
        if info is None or ticker in self._markets or not self.filter.accepts_market(info, self.clock_ms()):
            return
        self._follow(info)
        await self._subscribe_books([ticker])


def missed_lifecycle(known: MarketInfo, report: MarketReport) -> list[LifecycleChange]:
    """The lifecycle changes that take a market from what was ``known`` of it to what REST
    ``report``s now, in the order Kalshi would have sent them."""
    now, ticker = report.info, report.info.ticker
    missed: list[LifecycleChange] = []
    if now.grid != known.grid:
        missed.append(LifecycleChange(ticker, "price_level_structure_updated", grid=now.grid))
    if now.close_ms != known.close_ms and now.status not in _RESULT_STATUSES:
        missed.append(LifecycleChange(ticker, "close_date_updated", close_ms=now.close_ms // 1000 * 1000))
    if known.status is MarketStatus.ACTIVE and now.status is MarketStatus.INACTIVE:
        missed.append(LifecycleChange(ticker, "deactivated", paused=True))
    elif known.status is MarketStatus.INACTIVE and now.status is MarketStatus.ACTIVE:
        missed.append(LifecycleChange(ticker, "activated", paused=False))
    value = report.settlement_value
    if now.status in _RESULT_STATUSES and known.status not in _RESULT_STATUSES and (report.result or value is not None):
        missed.append(LifecycleChange(ticker, "determined", result=report.result, settlement_value=value))
    if now.status is MarketStatus.FINALIZED and known.status is not MarketStatus.FINALIZED:
        missed.append(LifecycleChange(ticker, "settled"))
    return missed
