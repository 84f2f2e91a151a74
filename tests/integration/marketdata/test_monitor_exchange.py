"""The monitor and its ``WsSession`` against the embedded exchange over real sockets.

The property: after thousands of random orders (placed, amended, decreased, canceled; many
crossing) every local book equals ``GET /markets/{ticker}/orderbook``. Then the faults: an injected
seq gap, a dropped socket and a malformed frame (one-shot ``Feed.frame_hook``s on the bot's own
connection) each end with correct books and restored subscriptions, with the markets reported stale
in between; and the same under ``sim/api/faults.py``'s random faults. Lifecycle: created, determined and
settled markets are followed and dropped.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from tests.support.exchange import RunningExchange, running_exchange

from kalshi_trader.domain import BookSide, MarketStatus, Money, Qty, SelfTradePrevention, TimeInForce, parse_price
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.kalshi.markets import RestMarkets
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.kalshi.ws import ORDERBOOK, Backoff, WsSession
from kalshi_trader.marketdata.monitor import (
    BookChanged,
    BookFresh,
    BookStale,
    MarketFilter,
    MarketLifecycle,
    Monitor,
    MonitorEvent,
    TradePrinted,
)
from kalshi_trader.sim.api.faults import FaultSpec
from kalshi_trader.sim.core.state import ExchangeError, NewOrder

pytestmark = pytest.mark.timeout(60)

FAST = Backoff(initial_s=0.02, max_s=0.2, jitter=0.5)


def tradable(exchange: RunningExchange, count: int) -> list[str]:
    """``count`` open markets that stay open for the test, spread over the tick grids."""
    ex = exchange.exchange
    now = ex.clock_ms()
    by_grid: dict[str, list[str]] = {}
    for t in exchange.scenario.tickers:
        if ex.engine.market(t).status is MarketStatus.ACTIVE and ex.catalog.market(t).close_ms > now + 3_600_000:
            by_grid.setdefault(ex.engine.market(t).grid.structure, []).append(t)
    chosen: list[str] = []
    while len(chosen) < count and any(by_grid.values()):
        for tickers in by_grid.values():
            if tickers and len(chosen) < count:
                chosen.append(tickers.pop(0))
    assert len(chosen) == count
    return chosen


@dataclass
class Bot:
    exchange: RunningExchange
    rest: KalshiRest
    ws: WsSession
    monitor: Monitor
    tickers: list[str]
    events: list[MonitorEvent] = field(default_factory=list)

    async def flush(self) -> None:
        """Every frame the exchange queued before now has been handled (replies keep stream order)."""
        await self.ws.list_subscriptions()

    async def settle(self) -> None:
        async with asyncio.timeout(10):
            await self.monitor.wait_fresh(self.tickers)
            await self.flush()
            await self.monitor.wait_fresh(self.tickers)

    async def assert_books_match(self) -> None:
        await self.settle()
        for ticker in self.tickers:
            yes, no = convert.orderbook(await self.rest.get_orderbook(ticker), ticker)
            book = self.monitor.books[ticker]
            assert not book.stale, ticker
            assert book.as_tuples() == ([(int(p), int(q)) for p, q in yes], [(int(p), int(q)) for p, q in no]), ticker

    def kinds(self, ticker: str) -> list[str]:
        """Stale/fresh transitions of one market, in order."""
        return [type(e).__name__ for e in self.events if isinstance(e, BookStale | BookFresh) and e.ticker == ticker]


@asynccontextmanager
async def bot(count: int = 5, *, exchange: RunningExchange | None = None) -> AsyncIterator[Bot]:
    async with running_exchange() if exchange is None else _given(exchange) as ex:
        tickers = tradable(ex, count)
        signer = Signer(ex.trader.key_id, ex.trader.private_key)
        async with KalshiRest(ex.rest_url, signer, tier="prestige") as rest:
            ws = WsSession(ex.ws_url, signer, backoff=FAST, command_timeout_s=5)
            monitor = Monitor(RestMarkets(rest), ws, MarketFilter(tickers=frozenset(tickers)), own_session=True)
            b = Bot(ex, rest, ws, monitor, tickers)
            for kind in (BookStale, BookFresh, MarketLifecycle):
                monitor.subscribe(kind, b.events.append)
            await monitor.start()
            try:
                await b.settle()
                yield b
            finally:
                await monitor.close()


@asynccontextmanager
async def _given(exchange: RunningExchange) -> AsyncIterator[RunningExchange]:
    yield exchange


class Orders:
    """Random order flow straight through the matching engine (two rich accounts)."""

    def __init__(self, exchange: RunningExchange, tickers: Sequence[str], seed: int) -> None:
        self.ex = exchange.exchange
        self.scenario = exchange.scenario
        self.tickers = list(tickers)
        self.rng = random.Random(seed)
        self.live: list[tuple[str, str]] = []
        self.users = ["liquidity", "other"]
        exchange.add_trader("other", Money(10_000_000 * 10_000))

    def price(self, ticker: str) -> int:
        fair = self.scenario.fair[ticker]
        grid = self.ex.engine.market(ticker).grid
        return self.rng.choice([p for p in grid.levels() if 0 < p < 10_000 and abs(p - fair) <= 800])

    def step(self) -> None:
        engine, rng = self.ex.engine, self.rng
        roll = rng.random()
        try:
            if roll < 0.25 and self.live:
                owner, order_id = self.live.pop(rng.randrange(len(self.live)))
                if engine.order(owner, order_id).status == "resting":
                    engine.cancel(owner, order_id)
            elif roll < 0.35 and self.live:
                owner, order_id = rng.choice(self.live)
                order = engine.order(owner, order_id)
                if order.status == "resting":
                    engine.amend(owner, order_id, ticker=order.ticker, side=order.side, price=self.price(order.ticker),
                                 count=order.filled + rng.randint(1, 20) * 100)  # fmt: skip
            elif roll < 0.4 and self.live:
                owner, order_id = rng.choice(self.live)
                if engine.order(owner, order_id).status == "resting":
                    engine.decrease(owner, order_id, reduce_by=rng.choice((1, 25, 100)))
            else:
                ticker = rng.choice(self.tickers)
                req = NewOrder(
                    ticker=ticker,
                    side=rng.choice((BookSide.BID, BookSide.ASK)),
                    price=self.price(ticker),
                    count=rng.randint(1, 3000),  # fractional contracts too
                    time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL if roll > 0.92 else TimeInForce.GOOD_TILL_CANCELED,
                    self_trade_prevention=SelfTradePrevention.TAKER_AT_CROSS,
                )
                self.live.append((rng.choice(self.users), ""))
                owner = self.live[-1][0]
                self.live[-1] = (owner, engine.place(owner, req).order.order_id)
        except ExchangeError as exc:
            if exc.status not in (400, 404, 409):
                raise

    async def run(self, count: int) -> None:
        for i in range(count):
            self.step()
            if i % 25 == 0:
                await asyncio.sleep(0)  # let the feed's writer drain


class OneShot:
    """A ``Feed.frame_hook`` that does ``action`` to the next orderbook_delta frame sent to ``user``."""

    def __init__(self, user: str, action: Callable[[bytes], Sequence[bytes] | None]) -> None:
        self.user = user
        self.action = action
        self.fired = False

    def on_send(self, conn_id: int, user_id: str, frame: bytes) -> Sequence[bytes] | None:
        if not self.fired and user_id == self.user and frame.startswith(b'{"type":"orderbook_delta"'):
            self.fired = True
            return self.action(frame)
        return (frame,)


# -- the property --------------------------------------------------------------------------------------------


async def test_books_equal_the_rest_orderbooks_after_thousands_of_random_orders() -> None:
    async with bot(5) as b:
        changed: list[BookChanged] = []
        b.monitor.subscribe(BookChanged, changed.append)
        orders = Orders(b.exchange, b.tickers, seed=20261121)
        for _ in range(4):
            await orders.run(1_000)
            await b.assert_books_match()
        assert len(changed) > 2_000  # deltas applied and passed on (plus one per snapshot)
        assert b.ws.stats.seq_gaps == b.ws.stats.bad_frames == b.ws.stats.handler_errors == 0
        assert b.monitor.stats.bad_values == b.monitor.stats.listener_errors == 0
        assert {e.ticker for e in changed} == set(b.tickers)
        assert all(b.kinds(t) == ["BookFresh"] for t in b.tickers)


# -- faults ----------------------------------------------------------------------------------------------------


async def test_an_injected_seq_gap_marks_books_stale_and_recovers_them() -> None:
    async with bot(3) as b:
        orders = Orders(b.exchange, b.tickers, seed=7)
        hook = OneShot("trader", lambda frame: ())  # swallowed: its seq is gone for good
        b.exchange.exchange.feed.frame_hook = hook
        await orders.run(300)
        await b.assert_books_match()
        assert hook.fired
        assert b.ws.stats.seq_gaps == 1
        assert b.ws.stats.resyncs >= 1
        assert b.ws.stats.connects == 1
        for ticker in b.tickers:  # every market of the subscription went stale, then fresh again
            assert b.kinds(ticker) == ["BookFresh", "BookStale", "BookFresh"], ticker
        await orders.run(300)
        await b.assert_books_match()


async def test_a_dropped_socket_reconnects_restores_subscriptions_and_books() -> None:
    async with bot(3) as b:
        orders = Orders(b.exchange, b.tickers, seed=11)
        before = {(s.channel) for s in await b.ws.list_subscriptions()}
        hook = OneShot("trader", lambda frame: None)  # the exchange closes the connection instead
        b.exchange.exchange.feed.frame_hook = hook
        await orders.run(200)  # the drop happens early in here; the rest changes books meanwhile
        await b.assert_books_match()
        assert hook.fired
        assert b.ws.stats.connects == 2
        assert b.ws.stats.disconnects == 1
        after = {s.channel for s in await b.ws.list_subscriptions()}
        assert after == before == {ORDERBOOK, "ticker", "trade", "market_lifecycle_v2"}
        for ticker in b.tickers:
            assert b.kinds(ticker) == ["BookFresh", "BookStale", "BookFresh"], ticker
        stale = [e for e in b.events if isinstance(e, BookStale)]
        assert all("connection closed" in e.reason for e in stale)
        await orders.run(300)
        await b.assert_books_match()


async def test_a_malformed_frame_is_counted_the_session_lives_and_the_book_recovers() -> None:
    async with bot(3) as b:
        orders = Orders(b.exchange, b.tickers, seed=13)
        hook = OneShot("trader", lambda frame: (frame[: len(frame) // 2],))
        b.exchange.exchange.feed.frame_hook = hook
        await orders.run(300)
        await b.assert_books_match()
        assert hook.fired
        assert b.ws.stats.bad_frames == 1
        assert b.ws.stats.connects == 1
        assert b.ws.stats.seq_gaps == 1  # the next frame's seq shows the hole
        assert all(b.kinds(t) == ["BookFresh", "BookStale", "BookFresh"] for t in b.tickers)


async def test_books_stay_right_under_random_ws_faults() -> None:
    async with bot(4) as b:
        faults = b.exchange.exchange.faults
        faults.set_spec(FaultSpec.parse("seq_skip=0.01,seq_repeat=0.01,malformed=0.005,ws_drop=0.002"))
        orders = Orders(b.exchange, b.tickers, seed=17)
        for _ in range(4):
            await orders.run(500)
            await asyncio.sleep(0.05)
        faults.set_spec(FaultSpec())
        await asyncio.sleep(0.5)  # let a pending reconnect finish
        await b.assert_books_match()
        injected = faults.injected
        assert sum(injected.values()) >= 5, injected
        stats = b.ws.stats
        assert stats.duplicates >= injected["seq_repeat"] > 0 or injected["seq_repeat"] == 0
        assert stats.seq_gaps + stats.disconnects > 0
        assert stats.handler_errors == 0


# -- lifecycle --------------------------------------------------------------------------------------------------


async def test_created_determined_and_settled_markets_are_followed_and_dropped() -> None:
    async with running_exchange() as ex:
        signer = Signer(ex.trader.key_id, ex.trader.private_key)
        async with KalshiRest(ex.rest_url, signer, tier="prestige") as rest:
            ws = WsSession(ex.ws_url, signer, backoff=FAST)
            monitor = Monitor(RestMarkets(rest), ws, MarketFilter(series=frozenset({"KXTESTNEW"})), own_session=True)
            events: list[MonitorEvent] = []
            for kind in (MarketLifecycle, BookFresh):
                monitor.subscribe(kind, events.append)
            async with monitor:
                assert monitor.markets == {}
                ticker = ex.add_market("KXTESTNEW-26JAN01-T50")
                ex.add_market("KXOTHER-26JAN01-T50")  # not admitted by the filter
                async with asyncio.timeout(10):
                    await _until(lambda: ticker in monitor.books and not monitor.books[ticker].stale)
                assert list(monitor.markets) == [ticker]
                ex.exchange.engine.determine(ticker, "yes")
                async with asyncio.timeout(10):
                    await _until(lambda: ticker not in monitor.markets)
                kinds = [(e.ticker, e.kind) for e in events if isinstance(e, MarketLifecycle)]
                assert (ticker, "created") in kinds
                assert kinds.index((ticker, "added")) < kinds.index((ticker, "determined"))
                assert kinds[-1] == (ticker, "removed")
                determined = next(e for e in events if isinstance(e, MarketLifecycle) and e.kind == "determined")
                assert determined.result == "yes"
                async with asyncio.timeout(5):
                    await _until(lambda: ORDERBOOK not in ws.subscriptions())
                assert ("KXOTHER-26JAN01-T50", "added") not in kinds


async def _until(pred: Callable[[], bool]) -> None:
    for _ in range(100_000):  # bounded by the caller's timeout
        if pred():
            return
        await asyncio.sleep(0.01)


# -- gaps on the other sequenced channels (trade, market_lifecycle_v2) ----------------------------------------


async def test_a_swallowed_trade_is_recovered_from_rest() -> None:
    """A ``trade`` frame lost on the wire (``faults.swallow``) leaves a seq gap on the trade sid; the
    monitor reads the missed trade back over REST and reports every trade exactly once."""
    async with running_exchange() as ex:
        ticker = ex.add_market("KXGAPTRADE-26JAN01-T50", fee_multiplier=(0, 1))
        engine = ex.exchange.engine
        signer = Signer(ex.trader.key_id, ex.trader.private_key)
        async with KalshiRest(ex.rest_url, signer, tier="prestige") as rest:
            ws = WsSession(ex.ws_url, signer, backoff=FAST)
            monitor = Monitor(
                RestMarkets(rest), ws, MarketFilter(tickers=frozenset({ticker})), channels=("trade",), own_session=True
            )
            trades: list[TradePrinted] = []
            monitor.subscribe(TradePrinted, trades.append)
            async with monitor:

                def cross(price: str) -> str:
                    engine.place("liquidity", _new(ticker, BookSide.BID, price))
                    taker = engine.place("trader", _new(ticker, BookSide.ASK, price, TimeInForce.IMMEDIATE_OR_CANCEL))
                    return taker.fills[0].trade_id

                first = cross("0.40")
                async with asyncio.timeout(10):
                    await _until(lambda: len(trades) == 1)
                ex.exchange.faults.swallow("trade")
                lost = cross("0.41")
                seen = cross("0.42")  # reveals the gap
                async with asyncio.timeout(10):
                    await _until(lambda: len(trades) == 3)
                await asyncio.sleep(0.2)  # nothing else arrives
                assert ex.exchange.faults.injected["swallowed"] == 1
                assert ws.stats.seq_gaps == 1
                assert monitor.stats.recovered == 1
                printed = {t.trade_id: t.yes_price for t in trades}
                assert printed == {first: 4000, lost: 4100, seen: 4200}  # each once, the lost one too
                assert [t.trade_id for t in trades][1:] == [seen, lost]  # the recovered one after the gap


async def test_a_swallowed_lifecycle_event_is_recovered_from_rest() -> None:
    """Lifecycle frames lost on the wire: the next one reveals the gap, and the monitor re-reads its
    markets over REST and reports what it missed (a pause, and a determination with its result)."""
    async with running_exchange() as ex:
        paused = ex.add_market("KXGAPLIFE-26JAN01-T50")
        decided = ex.add_market("KXGAPDEC-26JAN01-T50")
        other = ex.add_market("KXGAPOTHER-26JAN01-T50")
        engine = ex.exchange.engine
        signer = Signer(ex.trader.key_id, ex.trader.private_key)
        async with KalshiRest(ex.rest_url, signer, tier="prestige") as rest:
            ws = WsSession(ex.ws_url, signer, backoff=FAST)
            wanted = MarketFilter(tickers=frozenset({paused, decided}))
            monitor = Monitor(RestMarkets(rest), ws, wanted, channels=(), own_session=True)
            events: list[MarketLifecycle] = []
            monitor.subscribe(MarketLifecycle, events.append)
            async with monitor:
                await monitor.wait_fresh()
                before = ws.stats.frames
                engine.set_market_status(other, MarketStatus.INACTIVE)  # the first frame starts the count
                async with asyncio.timeout(10):
                    await _until(lambda: ws.stats.frames > before)
                events.clear()
                ex.exchange.faults.swallow("market_lifecycle_v2", count=3)
                engine.set_market_status(paused, MarketStatus.INACTIVE)  # deactivated: lost
                engine.determine(decided, "yes")  # determined (its close is not announced): lost
                engine.set_market_status(other, MarketStatus.ACTIVE)  # lost too
                engine.set_market_status(other, MarketStatus.INACTIVE)  # arrives: the gap shows
                async with asyncio.timeout(10):
                    await _until(lambda: decided not in monitor.markets)
                kinds = [(e.ticker, e.kind) for e in events]
                assert (paused, "deactivated") in kinds
                assert monitor.markets[paused].status is MarketStatus.INACTIVE  # paused, still followed
                determined = next(e for e in events if (e.ticker, e.kind) == (decided, "determined"))
                assert (determined.result, determined.settlement_value) == ("yes", 10_000)
                assert kinds.index((decided, "determined")) < kinds.index((decided, "removed"))
                assert ex.exchange.faults.injected["swallowed"] == 3
                assert ws.stats.seq_gaps == 1
                assert monitor.stats.recoveries >= 1


def _new(ticker: str, side: BookSide, price: str, tif: TimeInForce = TimeInForce.GOOD_TILL_CANCELED) -> NewOrder:
    return NewOrder(
        ticker=ticker,
        side=side,
        price=parse_price(price),
        count=Qty(100),
        time_in_force=tif,
        self_trade_prevention=SelfTradePrevention.TAKER_AT_CROSS,
    )


async def test_discovery_with_a_close_window_is_accepted_by_the_exchange() -> None:
    """The node's filter (open markets closing within a horizon) is a query Kalshi answers: the
    exchange refuses close-time bounds together with ``status=open``, so the window is applied
    locally and exactly the open markets closing in it come back."""
    async with running_exchange() as ex:
        signer = Signer(ex.trader.key_id, ex.trader.private_key)
        now = ex.exchange.clock_ms()
        window = MarketFilter(min_time_to_close_ms=60_000, max_time_to_close_ms=3 * 86_400_000)
        async with KalshiRest(ex.rest_url, signer, tier="prestige") as rest:
            found = await RestMarkets(rest, clock_ms=ex.exchange.clock_ms).list_markets(window)
        expected = {
            t
            for t in ex.scenario.tickers
            if ex.exchange.engine.market(t).status is MarketStatus.ACTIVE
            and now + 60_000 <= ex.exchange.catalog.market(t).close_ms <= now + 3 * 86_400_000
        }
        assert expected
        assert {m.ticker for m in found if window.accepts_market(m, now)} == expected
