"""A trading node for execution tests: the real client, feed, risk, store and engine against the
embedded exchange over loopback sockets.

Contract:
- ``trading_node(exchange, db_url, tickers, ...)`` builds, in the order a node does: a
  ``KalshiRest`` for the trader account; the store and its recorder; a ``RiskManager`` (limits from
  ``RiskSettings`` overrides); one ``WsSession`` and the ``KalshiVenue`` on it and the REST
  client; the engine and its reconciler as the node wires them (``node.wiring.execution_parts``:
  market time from ``market_ms``, the wall clock by default, for risk too); the session carries
  both the monitor's books (the ``Monitor``, filtered to ``tickers``) and the venue's private
  events (``EngineEvents``; a gap requests a reconciliation); every followed market is
  registered with the engine and every book change becomes ``engine.on_book`` (top of book on
  risk's clock). With ``settle_live`` the monitor also follows the lifecycle channel and each
  ``determined`` market is settled by the node's own ``node.wiring.settle_from_lifecycle`` (its
  live path). It waits until the books are fresh and yields a ``Node``. On exit everything is
  closed in reverse order (the exchange itself belongs to the caller).
- ``sim_exchange(start_ms)`` runs the embedded exchange (default scenario, funded trader) on a
  frozen ``SimClock`` that only ``advance_to`` moves (market time in the tests' hands).
- ``Liquidity`` is the scenario's liquidity account through its own ``KalshiRest``: ``quote``
  rests an order, ``take`` sends an IOC, ``cancel_all`` pulls its orders — what moves the books.
  ``Desk`` is the trader's engine taking the liquidity account's quotes with IOC orders.
- ``resting(rest)`` / ``orders_at(rest, ticker)`` read the trader's orders back over REST, and
  ``eventually(check)`` polls a condition (the engine hears of fills over the WebSocket).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from tests.support.exchange import DEFAULT_TRADER_CASH, TRADER_USER, Credentials, RunningExchange, process_key

from kalshi_trader.config import RiskSettings
from kalshi_trader.domain import BookSide, Fill, Order, OrderIntent, Position, Price, Qty, TimeInForce, TopOfBook
from kalshi_trader.execution.engine import EngineConfig, ExecutionEngine
from kalshi_trader.execution.feed import EngineEvents
from kalshi_trader.execution.reconcile import Reconciler, UnknownOrderPolicy
from kalshi_trader.execution.views import Outcome
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.kalshi.markets import RestMarkets
from kalshi_trader.kalshi.rest import KalshiRest, RetryPolicy
from kalshi_trader.kalshi.user_stream import UserStream
from kalshi_trader.kalshi.venue import KalshiVenue
from kalshi_trader.kalshi.ws import Backoff, WsSession
from kalshi_trader.marketdata.book import L2Book
from kalshi_trader.marketdata.monitor import (
    BookChanged,
    BookFresh,
    BookStale,
    MarketFilter,
    MarketLifecycle,
    Monitor,
)
from kalshi_trader.node.wiring import execution_parts, settle_from_lifecycle, top_of_book
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.api.ratelimit import TIERS
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.world.scenario import LIQUIDITY_USER, build_default_scenario
from kalshi_trader.store import Recorder, Store

FAST_RETRY = RetryPolicy(base_delay_s=0.005, max_delay_s=0.02)
FAST_BACKOFF = Backoff(initial_s=0.02, max_s=0.2, jitter=0.5)
LOOSE = {"max_writes_per_second": 1_000, "max_open_orders": 1_000}

NEW_YORK = ZoneInfo("America/New_York")
DAY1, DAY2 = date(2026, 3, 2), date(2026, 3, 3)
"""Two trading days for tests that cross midnight in New York (market time)."""
MIDNIGHT_MS = int(datetime(2026, 3, 3, tzinfo=NEW_YORK).timestamp() * 1000)
"""Market time at which DAY2 begins (05:00 UTC)."""


def clock_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def client_for(exchange: Venue, who: Credentials) -> KalshiRest:
    return KalshiRest(exchange.rest_url, Signer(who.key_id, who.private_key), tier="prestige", retry=FAST_RETRY)


def top_of(book: L2Book, ws: WsSession) -> TopOfBook:
    """As the node tells the engine (``node.wiring.top_of_book``)."""
    return top_of_book(book, live=ws.connected)


class Venue(Protocol):
    """Where the node connects, as whom (a ``RunningExchange`` is one)."""

    @property
    def rest_url(self) -> str: ...

    @property
    def ws_url(self) -> str: ...

    @property
    def trader(self) -> Credentials: ...


@dataclass
class Node:
    exchange: Venue
    rest: KalshiRest
    venue: KalshiVenue
    risk: RiskManager
    store: Store
    recorder: Recorder
    engine: ExecutionEngine
    ws: WsSession
    monitor: Monitor
    stream: UserStream
    reconciler: Reconciler


def risk_manager(*, market_clock: Callable[[], int] = wall_ms, **overrides: Any) -> RiskManager:
    settings = RiskSettings(**{**LOOSE, **overrides})
    return RiskManager(RiskLimits.from_settings(settings), clock=clock_ms, market_clock=market_clock)


@asynccontextmanager
async def trading_node(
    exchange: Venue,
    db_url: str,
    tickers: Sequence[str],
    *,
    risk: dict[str, Any] | None = None,
    config: EngineConfig | None = None,
    policy: UnknownOrderPolicy = UnknownOrderPolicy.CANCEL,
    reconcile: bool = True,
    market_ms: Callable[[], int] = wall_ms,
    settle_live: bool = False,
) -> AsyncIterator[Node]:
    async with AsyncExitStack() as stack:
        rest = client_for(exchange, exchange.trader)
        stack.push_async_callback(rest.close)
        store = await Store.open(db_url)
        stack.push_async_callback(store.close)
        recorder = store.recorder()
        stack.push_async_callback(recorder.close)
        manager = risk_manager(market_clock=market_ms, **(risk or {}))
        signer = Signer(exchange.trader.key_id, exchange.trader.private_key)
        ws = WsSession(exchange.ws_url, signer, backoff=FAST_BACKOFF)
        stack.push_async_callback(ws.close)
        venue = KalshiVenue(rest, ws)
        engine, reconciler = execution_parts(
            venue,
            manager,
            recorder,
            store,
            config=config or EngineConfig(tick_s=0.05),
            clock_ms=clock_ms,
            market_ms=market_ms,
            policy=policy,
            reconcile_interval_s=None,
        )
        monitor = Monitor(RestMarkets(rest), ws, MarketFilter(tickers=frozenset(tickers)), follow_lifecycle=settle_live)

        def on_change(event: BookChanged | BookFresh) -> None:
            engine.on_book(top_of(event.book, ws))

        def on_stale(event: BookStale) -> None:
            book = monitor.book(event.ticker)
            if book is not None:
                engine.on_book(top_of(book, ws))

        def on_lifecycle(event: MarketLifecycle) -> None:  # as ``TradingNode._on_lifecycle``
            if event.kind == "determined":
                settle_from_lifecycle(engine, event)

        monitor.subscribe(BookChanged, on_change)
        monitor.subscribe(BookFresh, on_change)
        monitor.subscribe(BookStale, on_stale)
        if settle_live:
            monitor.subscribe(MarketLifecycle, on_lifecycle)
        await monitor.start()
        stack.push_async_callback(monitor.close)
        for info in monitor.markets.values():
            engine.register_market(info)
        await venue.open_stream(EngineEvents(engine, on_gap=lambda: reconciler.request("reconnect")))
        assert venue.stream is not None
        stream = venue.stream
        async with asyncio.timeout(5):
            await monitor.wait_fresh()
        await engine.start()
        stack.push_async_callback(engine.close)
        stack.push_async_callback(reconciler.close)
        if reconcile:
            await reconciler.start()
        yield Node(exchange, rest, venue, manager, store, recorder, engine, ws, monitor, stream, reconciler)


class Liquidity:
    """The liquidity account, over REST."""

    def __init__(self, exchange: RunningExchange) -> None:
        self.rest = client_for(exchange, exchange.liquidity)
        self._n = 0

    async def close(self) -> None:
        await self.rest.close()

    async def order(
        self, ticker: str, side: BookSide, price: int, contracts: int, tif: TimeInForce = TimeInForce.GOOD_TILL_CANCELED
    ) -> Order:
        req = convert.create_request(ticker, side, Price(price), Qty(contracts * 100), time_in_force=tif)
        ack = await self.rest.create_order(req)
        return convert.order_from_ack(req, ack)

    async def quote(self, ticker: str, side: BookSide, price: int, contracts: int) -> Order:
        return await self.order(ticker, side, price, contracts)

    async def take(self, ticker: str, side: BookSide, price: int, contracts: int) -> Order:
        return await self.order(ticker, side, price, contracts, TimeInForce.IMMEDIATE_OR_CANCEL)

    async def cancel_all(self, ticker: str) -> None:
        ids = [o.order_id async for o in self.rest.iter_orders(ticker=ticker, status="resting")]
        if ids:
            await self.rest.batch_cancel_orders(ids)


class Desk:
    """The trader's engine taking the liquidity account's quotes with IOC orders."""

    def __init__(self, node: Node, liquidity: Liquidity, ticker: str) -> None:
        self.node, self.liquidity, self.ticker = node, liquidity, ticker
        self._n = 0

    async def take(self, side: BookSide, price: int, contracts: int) -> None:
        """Rest ``contracts`` on the other side at ``price`` and take them all."""
        engine = self.node.engine
        await self.liquidity.quote(self.ticker, side.other, price, contracts)

        def quoted() -> bool:
            top = engine.book(self.ticker)
            if top is None:
                return False
            return (top.best_ask if side is BookSide.BID else top.best_bid) == price

        await eventually(quoted)
        before = engine.tracker.position(self.ticker).qty
        self._n += 1
        intent = OrderIntent.place(
            self.ticker,
            side,
            price,
            contracts * 100,
            f"pnl-{side.value}-{self._n}-{id(self)}",
            tif=TimeInForce.IMMEDIATE_OR_CANCEL,
        )
        result = await engine.submit(intent)
        assert result.outcome is Outcome.ACCEPTED, result.reason
        moved = contracts * 100 if side is BookSide.BID else -contracts * 100
        await eventually(lambda: engine.tracker.position(self.ticker).qty == before + moved)

    async def exchange_fills(self) -> list[Fill]:
        return [convert.fill(f) async for f in self.node.rest.iter_fills(ticker=self.ticker)]


@asynccontextmanager
async def sim_exchange(start_ms: int) -> AsyncIterator[tuple[RunningExchange, SimClock]]:
    """``tests.support.exchange.running_exchange`` on a frozen ``SimClock`` only ``advance`` moves."""
    clock = SimClock(start=start_ms, speed=0)
    exchange = EmbeddedExchange(seed=1, clock_ms=clock, tier=TIERS["prestige"], housekeeping_interval_ms=100)
    scenario = build_default_scenario(exchange, 1)
    exchange.open_account(TRADER_USER, DEFAULT_TRADER_CASH)
    trader_key, liquidity_key = process_key(0), process_key(1)
    trader = Credentials(TRADER_USER, exchange.add_api_key(TRADER_USER, trader_key.public_key()), trader_key)
    liquidity = Credentials(
        LIQUIDITY_USER, exchange.add_api_key(LIQUIDITY_USER, liquidity_key.public_key()), liquidity_key
    )
    rest_url, ws_url = await exchange.start("127.0.0.1", 0)
    try:
        yield RunningExchange(exchange, scenario, rest_url, ws_url, trader, liquidity), clock
    finally:
        await exchange.stop()


def advance_to(running: RunningExchange, clock: SimClock, ms: int) -> None:
    clock.advance(ms - clock.now_ms())
    running.exchange.housekeeping()  # steps through the scenario's boundaries up to the target
    assert clock.now_ms() == ms


async def orders_at(rest: KalshiRest, ticker: str | None = None, status: str | None = None) -> list[Order]:
    return [convert.order(o) async for o in rest.iter_orders(ticker=ticker, status=status)]


async def resting(rest: KalshiRest) -> list[Order]:
    return await orders_at(rest, status="resting")


async def positions_at(rest: KalshiRest) -> dict[str, int]:
    found: list[Position] = [convert.position(p) async for p in rest.iter_positions()]
    return {p.ticker: p.qty for p in found if p.qty}


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll ``check`` until it is true (``TimeoutError`` after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while True:
        outcome = check()
        if isinstance(outcome, Awaitable):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.01)


def positions_after_each_fill(exchange: RunningExchange, ticker: str) -> list[int]:
    """The trader's position in ``ticker`` after each of its fills, in execution order, as the
    exchange booked them."""
    records = exchange.exchange.engine.fills(TRADER_USER)[::-1]
    return [r.post_position for r in records if r.ticker == ticker]


def by_coid(orders: list[Order]) -> dict[str, Order]:
    return {o.client_order_id: o for o in orders}


def dollars(value: str) -> Price:
    return Price(int(Decimal(value) * 10_000))
