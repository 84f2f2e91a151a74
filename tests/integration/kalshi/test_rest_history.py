"""The client's candlestick and historical-tier methods against the embedded exchange over a real
socket, and ``kalshi.account_history`` reading an account's past across the live and historical
tiers: every record once, whatever the cutoff, as the exchange's own numbers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from tests.support.exchange import RunningExchange, running_exchange

from kalshi_trader.domain import BookSide, Fill, HistoricalCutoff, OrderStatus, Price, Qty, TimeInForce
from kalshi_trader.kalshi import account_history, convert
from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.kalshi.errors import NotFoundError
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.sim.api import candles
from kalshi_trader.sim.api.archive import DAY_MS, ORDERS_UPDATED, TRADES_CREATED
from kalshi_trader.sim.core.clock import SimClock

TICKER = "KXPAST-26JAN01-T50"
MINUTE_MS = 60_000


@dataclass
class Setup:
    running: RunningExchange
    clock: SimClock
    rest: KalshiRest
    maker: KalshiRest

    def advance(self, ms: int) -> None:
        self.clock.advance(ms)
        self.running.exchange.housekeeping()


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    clock = SimClock(speed=0)
    async with running_exchange(clock_ms=clock) as running:
        running.add_market(TICKER)
        running.exchange.catalog.market(TICKER).close_ms = clock.now_ms() + 400 * DAY_MS
        trader, liquidity = running.trader, running.liquidity
        async with (
            KalshiRest(running.rest_url, Signer(trader.key_id, trader.private_key), tier="prestige") as rest,
            KalshiRest(running.rest_url, Signer(liquidity.key_id, liquidity.private_key), tier="prestige") as maker,
        ):
            yield Setup(running, clock, rest, maker)


async def order(client: KalshiRest, side: BookSide, cents: int, contracts: int, tif: TimeInForce) -> str:
    req = convert.create_request(TICKER, side, Price(cents * 100), Qty(contracts * 100), time_in_force=tif)
    return (await client.create_order(req)).order_id


async def trade(s: Setup) -> list[str]:
    """Three fills a minute apart (the trader takes the maker's asks), then the market settles YES."""
    gtc, ioc = TimeInForce.GOOD_TILL_CANCELED, TimeInForce.IMMEDIATE_OR_CANCEL
    s.advance(MINUTE_MS - s.clock.now_ms() % MINUTE_MS + 1000)
    await order(s.maker, BookSide.ASK, 40, 10, gtc)
    await order(s.maker, BookSide.BID, 30, 10, gtc)
    ids = []
    for contracts in (1, 2, 3):
        ids.append(await order(s.rest, BookSide.BID, 40, contracts, ioc))
        s.advance(MINUTE_MS)
    s.running.exchange.engine.determine(TICKER, "yes")
    s.advance(MINUTE_MS)
    s.running.exchange.engine.settle(TICKER)
    return ids


async def test_cutoff_and_candles_arrive_as_the_exchanges_own_values(setup: Setup) -> None:
    s = setup
    await trade(s)
    archive = s.running.exchange.archive
    c = archive.cutoff()
    got = convert.historical_cutoff(await s.rest.get_historical_cutoff())
    assert got == HistoricalCutoff(c.market_settled_ms, c.trades_created_ms, c.orders_updated_ms, c.positions_ms)

    history = s.running.exchange.history
    start, end = s.clock.now_ms() // 1000 - 3600, s.clock.now_ms() // 1000 + 60
    own = candles.candles(history.trades(TICKER), history.bars(TICKER), start_s=start, end_s=end, period_s=60)
    # one candle per fill's minute, then the close (book pulled) and settlement (open interest 0)
    assert [(c.volume, c.open_interest) for c in own] == [(100, 100), (200, 300), (300, 600), (0, 600), (0, 0)]
    live = await s.rest.get_market_candlesticks("KXPAST", TICKER, start_ts=start, end_ts=end, period_interval=1)
    assert [convert.candle(x, TICKER) for x in live.candlesticks] == own
    batch = await s.rest.get_candlesticks_batch([TICKER], start_ts=start, end_ts=end, period_interval=1)
    assert [convert.candle(x) for x in batch.markets[0].candlesticks] == own

    s.advance(91 * DAY_MS)  # archived: the same candles, in the historical shape
    with pytest.raises(NotFoundError):
        await s.rest.get_market_candlesticks("KXPAST", TICKER, start_ts=start, end_ts=end, period_interval=1)
    old = await s.rest.get_historical_candlesticks(TICKER, start_ts=start, end_ts=end, period_interval=1)
    assert [convert.historical_candle(x, TICKER) for x in old.candlesticks] == own
    market = await s.rest.get_historical_market(TICKER)
    assert convert.settled_value(market) == (Price(10_000), s.running.exchange.catalog.market(TICKER).settled_ms)
    assert [m.ticker async for m in s.rest.iter_historical_markets(page_size=1, series_ticker="KXPAST")] == [TICKER]
    assert len([t async for t in s.rest.iter_historical_trades(page_size=1, ticker=TICKER)]) == 3
    [position] = [p async for p in s.rest.iter_historical_positions(page_size=1)]
    assert convert.position(position).realized_pnl == 6 * (10_000 - 4000)


async def test_every_fill_and_order_is_found_once_whichever_side_of_the_cutoff(setup: Setup) -> None:
    s = setup
    ids = await trade(s)
    everything: list[Fill] = await account_history.fills_since(s.rest, None)
    assert [f.qty for f in everything] == [Qty(100), Qty(200), Qty(300)]
    first_s = everything[0].ts_ms // 1000
    archive = s.running.exchange.archive
    for fill in [*everything, None]:  # cut before each fill in turn, then after all of them
        at = fill.ts_ms if fill is not None else s.clock.now_ms()
        archive.pin(TRADES_CREATED, at)
        archive.pin(ORDERS_UPDATED, at)
        assert await account_history.fills_since(s.rest, None) == everything
        assert await account_history.fills_since(s.rest, first_s) == everything
        assert await account_history.fills_since(s.rest, everything[-1].ts_ms // 1000) == everything[-1:]
        for order_id in ids:
            found = await account_history.order_by_id(s.rest, order_id, ticker=TICKER)
            assert found is not None
            assert (found.order_id, found.status) == (order_id, OrderStatus.EXECUTED)
    live_archived = [f async for f in s.rest.iter_historical_fills(page_size=1)]
    assert [convert.fill(f) for f in live_archived][::-1] == everything  # newest first
    with pytest.raises(NotFoundError):
        await s.rest.get_order(ids[0])  # archived orders are gone from the live tier, even by id
    coid = next(o for o in [o async for o in s.rest.iter_historical_orders(page_size=1)] if o.order_id == ids[1])
    by_coid = await account_history.find_order(s.rest, coid.client_order_id, ticker=TICKER)
    assert by_coid is not None
    assert by_coid.order_id == ids[1]
    assert await account_history.order_by_id(s.rest, "00000000-0000-4000-8000-000000000000") is None


async def test_a_settlement_is_read_live_then_from_the_archived_position_and_its_market(setup: Setup) -> None:
    s = setup
    await trade(s)
    settled_ms = s.running.exchange.catalog.market(TICKER).settled_ms
    assert settled_ms is not None
    [live], unreadable = await account_history.live_settlements(s.rest, None)
    assert unreadable == []
    assert (live.ticker, live.yes_value, live.settled_ms, live.net, live.revenue_cents) == (
        TICKER,
        Price(10_000),
        settled_ms,
        Qty(600),
        600,
    )
    assert await account_history.archived_settlements(s.rest, [TICKER]) == ([], [])  # not handed off yet
    s.advance(91 * DAY_MS)
    assert await account_history.live_settlements(s.rest, None) == ([], [])
    reports, unreadable = await account_history.archived_settlements(s.rest, [TICKER, "KXPAST-26JAN01-T99"])
    assert unreadable == []
    assert reports == [account_history.SettlementReport(TICKER, Price(10_000), settled_ms, None, None)]
