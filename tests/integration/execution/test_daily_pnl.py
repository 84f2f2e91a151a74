"""The engine's daily P&L rows, end to end: the embedded exchange on a simulated clock (market
time), the trader's engine over loopback, the record on SQLite and (when
``KALSHI_TRADER_TEST_POSTGRES_URL`` is set) Postgres. Fills are made at the exchange by the
liquidity account and the engine's IOC orders; expected figures come from the prices traded and
the fees the exchange charged (read over REST), never from the engine's own tracker.

A trading day is the New York calendar date of market time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from tests.integration.execution.kit import (
    DAY1,
    DAY2,
    LOOSE,
    MIDNIGHT_MS,
    NEW_YORK,
    Desk,
    Liquidity,
    Node,
    advance_to,
    eventually,
    sim_exchange,
    trading_node,
)
from tests.support.trading import taker_fee_cents

from kalshi_trader.config import RiskSettings
from kalshi_trader.domain import BookSide, Fill, Money, Price, Qty, TopOfBook
from kalshi_trader.execution.engine import EngineConfig, ExecutionEngine
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.kalshi.venue import KalshiVenue
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.store import DailyPnl, Store

pytestmark = pytest.mark.timeout(60)

TICKER = "KXPNL-26MAR03-T50"
FAST = EngineConfig(tick_s=0.05, pnl_record_s=0.1)


def trading_day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, NEW_YORK).date()


def fees_on(fills: list[Fill], day: date) -> Money:
    return Money(sum(f.fee for f in fills if trading_day(f.ts_ms) == day))


def figures(rows: list[DailyPnl]) -> dict[date, tuple[int, int, int]]:
    return {r.day: (r.realized, r.unrealized, r.fees) for r in rows}


async def rows_become(node: Node, want: dict[date, tuple[int, int, int]], store: Store | None = None) -> None:
    """The ``daily_pnl`` table eventually holds exactly ``want`` (day → realized, unrealized, fees)."""
    seen: dict[date, tuple[int, int, int]] = {}

    async def check() -> bool:
        nonlocal seen
        await node.recorder.flush()
        seen = figures(await (store or node.store).daily_pnl())
        return seen == want

    try:
        await eventually(check, timeout_s=10)
    except TimeoutError:
        raise AssertionError(f"daily_pnl rows {seen} never became {want}") from None


@pytest.fixture
async def liquidity_for() -> AsyncIterator[list[Liquidity]]:
    made: list[Liquidity] = []
    yield made
    for liq in made:
        await liq.close()


async def test_a_fill_makes_todays_row_with_its_realized_pnl_fees_and_marked_position(
    any_db_url: str, liquidity_for: list[Liquidity]
) -> None:
    noon = int(datetime(2026, 3, 2, 12, tzinfo=NEW_YORK).timestamp() * 1000)
    async with sim_exchange(noon) as (running, clock):
        ticker = running.add_market(TICKER)
        liquidity = Liquidity(running)
        liquidity_for.append(liquidity)
        async with trading_node(running, any_db_url, [ticker], config=FAST, market_ms=clock.now_ms) as node:
            desk = Desk(node, liquidity, ticker)
            await desk.take(BookSide.BID, 4000, 10)  # long 10 YES at $0.40
            await desk.take(BookSide.ASK, 4600, 4)  # sell 4 of them at $0.46: +$0.24 realized
            # A fresh two-sided book marks the 6 left at the mid ($0.48): +$0.48 unrealized.
            await liquidity.quote(ticker, BookSide.BID, 4500, 5)
            await liquidity.quote(ticker, BookSide.ASK, 5100, 5)
            await eventually(lambda: node.engine.marks().get(ticker) == 4800)

            fills = await desk.exchange_fills()
            assert len(fills) == 2
            fees = fees_on(fills, DAY1)
            assert fees == (taker_fee_cents(10, 40) + taker_fee_cents(4, 46)) * 100  # the exchange's own fees
            await rows_become(node, {DAY1: (2400, 4800, fees)})


async def test_a_new_market_day_starts_a_new_row_measured_from_the_boundary(
    any_db_url: str, liquidity_for: list[Liquidity]
) -> None:
    async with sim_exchange(MIDNIGHT_MS - 10 * 60_000) as (running, clock):  # 23:50 in New York
        ticker = running.add_market(TICKER)
        liquidity = Liquidity(running)
        liquidity_for.append(liquidity)
        async with trading_node(running, any_db_url, [ticker], config=FAST, market_ms=clock.now_ms) as node:
            desk = Desk(node, liquidity, ticker)
            await desk.take(BookSide.BID, 4000, 10)
            await desk.take(BookSide.ASK, 4600, 4)  # DAY1: +$0.24
            fees1 = fees_on(await desk.exchange_fills(), DAY1)
            await rows_become(node, {DAY1: (2400, 0, fees1)})

            advance_to(running, clock, MIDNIGHT_MS + 10 * 60_000)  # 00:10, the next day
            await rows_become(node, {DAY1: (2400, 0, fees1), DAY2: (0, 0, 0)})

            await desk.take(BookSide.ASK, 5000, 3)  # DAY2: 3 × ($0.50 − $0.40) = +$0.30
            fills = await desk.exchange_fills()
            assert sorted(trading_day(f.ts_ms) for f in fills) == [DAY1, DAY1, DAY2]
            fees2 = fees_on(fills, DAY2)
            assert fees2 == taker_fee_cents(3, 50) * 100
            await rows_become(node, {DAY1: (2400, 0, fees1), DAY2: (3000, 0, fees2)})


async def test_a_restart_keeps_the_days_row_and_carries_on_from_it(
    any_db_url: str, liquidity_for: list[Liquidity]
) -> None:
    async with sim_exchange(MIDNIGHT_MS - 10 * 60_000) as (running, clock):
        ticker = running.add_market(TICKER)
        liquidity = Liquidity(running)
        liquidity_for.append(liquidity)
        async with trading_node(running, any_db_url, [ticker], config=FAST, market_ms=clock.now_ms) as node:
            desk = Desk(node, liquidity, ticker)
            await desk.take(BookSide.BID, 4000, 10)
            await desk.take(BookSide.ASK, 4600, 4)  # DAY1: +$0.24
            advance_to(running, clock, MIDNIGHT_MS + 10 * 60_000)
            await desk.take(BookSide.ASK, 5000, 3)  # DAY2: +$0.30
            fills = await desk.exchange_fills()
            fees1, fees2 = fees_on(fills, DAY1), fees_on(fills, DAY2)
            await rows_become(node, {DAY1: (2400, 0, fees1), DAY2: (3000, 0, fees2)})

        # Stopped: the rows are on disk.
        store = await Store.open(any_db_url)
        try:
            assert figures(await store.daily_pnl()) == {DAY1: (2400, 0, fees1), DAY2: (3000, 0, fees2)}
        finally:
            await store.close()

        # A fresh engine and store on the same database, later the same day: the fills replayed from
        # the record rebuild the day's figures (the earlier day's fills are its baseline).
        advance_to(running, clock, MIDNIGHT_MS + 20 * 60_000)
        restarted = datetime.now(UTC)
        async with trading_node(running, any_db_url, [ticker], config=FAST, market_ms=clock.now_ms) as node:
            assert node.engine.tracker.position(ticker).qty == 300

            async def rewritten() -> bool:  # refreshed since the restart, with the rebuilt figures
                await node.recorder.flush()
                rows = {r.day: r for r in await node.store.daily_pnl()}
                return DAY2 in rows and rows[DAY2].updated_at > restarted

            await eventually(rewritten)
            await rows_become(node, {DAY1: (2400, 0, fees1), DAY2: (3000, 0, fees2)})

            desk = Desk(node, liquidity, ticker)
            await desk.take(BookSide.ASK, 5000, 1)  # DAY2 again: +$0.10
            fills = await desk.exchange_fills()
            fees2 = fees_on(fills, DAY2)
            assert fees2 == (taker_fee_cents(3, 50) + taker_fee_cents(1, 50)) * 100
            await rows_become(node, {DAY1: (2400, 0, fees1), DAY2: (4000, 0, fees2)})


def test_the_market_day_boundary_is_new_york_midnight() -> None:
    assert datetime.fromtimestamp(MIDNIGHT_MS / 1000, NEW_YORK) == datetime(2026, 3, 3, tzinfo=NEW_YORK)
    assert trading_day(MIDNIGHT_MS - 1) == DAY1
    assert trading_day(MIDNIGHT_MS) == DAY2 == DAY1 + timedelta(days=1)


# ------------------------------------------------------------------------------------------------
# The engine alone, fed fills the way the user stream and the start-up replay deliver them, with
# market time and risk's clock in the test's hands. Its REST client points at a closed port: no
# request is made.


class ManualClock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def new_york_ms(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, ms: int = 0) -> int:
    return int(datetime(2026, month, day, hour, minute, second, tzinfo=NEW_YORK).timestamp() * 1000) + ms


BARE = "KXBARE-26MAR09-T50"


def a_fill(n: int, side: BookSide, price: int, contracts: int, fee: int, ts_ms: int) -> Fill:
    return Fill(f"bare-{n}", "bare-order", BARE, side, Price(price), Qty(contracts * 100), Money(fee), True, ts_ms)


@asynccontextmanager
async def bare_engine(
    db_url: str, market: ManualClock, steady: ManualClock, pnl_record_s: float
) -> AsyncIterator[tuple[ExecutionEngine, Store]]:
    store = await Store.open(db_url)
    recorder = store.recorder()
    rest = KalshiRest("http://127.0.0.1:9/trade-api/v2")
    risk = RiskManager(RiskLimits.from_settings(RiskSettings(**LOOSE)), clock=steady, market_clock=market)
    config = EngineConfig(tick_s=3600, pnl_record_s=pnl_record_s)
    engine = ExecutionEngine(KalshiVenue(rest), risk, recorder, config=config, clock_ms=steady, market_ms=market)
    try:
        await engine.start()
        yield engine, store
    finally:
        await engine.close()
        await recorder.close()
        await rest.close()
        await store.close()


async def stored(engine: ExecutionEngine, store: Store) -> dict[date, tuple[int, int, int]]:
    await engine.recorder.flush()
    return figures(await store.daily_pnl())


async def test_on_a_23_hour_day_replayed_fills_of_earlier_days_are_the_baseline_and_late_fills_go_to_their_day(
    any_db_url: str,
) -> None:
    march8, march9 = date(2026, 3, 8), date(2026, 3, 9)  # clocks go forward at 02:00 on March 8
    market, steady = ManualClock(new_york_ms(3, 8, 10)), ManualClock(1_000_000)
    async with bare_engine(any_db_url, market, steady, pnl_record_s=60) as (engine, store):
        # The start-up replay: two fills of March 7 (+$0.10 realized) and one of March 8 (+$0.14).
        engine.load_fill(a_fill(1, BookSide.BID, 4000, 10, 100, new_york_ms(3, 7, 15)))
        engine.load_fill(a_fill(2, BookSide.ASK, 4500, 2, 50, new_york_ms(3, 7, 16)))
        engine.load_fill(a_fill(3, BookSide.ASK, 4700, 2, 30, new_york_ms(3, 8, 1, 30)))
        steady.ms += 60_000
        engine.tick()
        assert await stored(engine, store) == {march8: (1400, 0, 30)}

        engine.on_fill(a_fill(4, BookSide.ASK, 4200, 1, 10, new_york_ms(3, 8, 23, 59, 59, 999)))  # +$0.02
        # Stamped 00:30 on March 9 (04:30 UTC, less than 24 h after March 8 began): the day rolls.
        engine.on_fill(a_fill(5, BookSide.ASK, 4400, 1, 10, new_york_ms(3, 9, 0, 30)))  # +$0.04
        assert await stored(engine, store) == {march8: (1600, 0, 40), march9: (0, 0, 0)}
        # A late fill of March 8 (−$0.01): it rewrites March 8's row, March 9 does not count it.
        engine.on_fill(a_fill(6, BookSide.ASK, 3900, 1, 10, new_york_ms(3, 8, 23, 30)))
        assert await stored(engine, store) == {march8: (1500, 0, 50), march9: (0, 0, 0)}

        # Market time still reads March 8 here: the day never rolls back.
        engine.on_book(TopOfBook(BARE, Price(4500), Price(4700), steady.ms, False))  # 3 left, marked at $0.46
        steady.ms += 60_000
        engine.tick()
        assert await stored(engine, store) == {march8: (1500, 0, 50), march9: (400, 1800, 10)}


async def test_the_row_is_refreshed_at_most_once_per_interval_and_at_stop(db_url: str) -> None:
    market, steady = ManualClock(new_york_ms(3, 2, 12)), ManualClock(5_000_000)
    async with bare_engine(db_url, market, steady, pnl_record_s=60) as (engine, store):
        steady.ms += 59_999
        engine.tick()
        assert await stored(engine, store) == {}
        steady.ms += 1
        engine.tick()
        assert await stored(engine, store) == {DAY1: (0, 0, 0)}

        engine.on_fill(a_fill(1, BookSide.BID, 4000, 10, 100, new_york_ms(3, 2, 12, 1)))
        engine.on_fill(a_fill(2, BookSide.ASK, 4300, 10, 100, new_york_ms(3, 2, 12, 2)))
        steady.ms += 59_000
        engine.tick()
        assert await stored(engine, store) == {DAY1: (0, 0, 0)}  # not yet
    store = await Store.open(db_url)
    try:
        assert figures(await store.daily_pnl()) == {DAY1: (3000, 0, 200)}  # written when the engine stopped
    finally:
        await store.close()
