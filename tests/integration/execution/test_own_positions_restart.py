"""The market maker's own position survives a restart: it fills, its process stops, and a fresh
engine, store and host on the same database and exchange (wired as the node wires them) hand it
back its position from the record's fills of its orders — so it quotes that market again, where a
host without the record sees only contracts that are not the market maker's and leaves it.

Over real sockets against the embedded exchange; the record on SQLite and, when
``KALSHI_TRADER_TEST_POSTGRES_URL`` is set, on Postgres."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from tests.integration.execution.kit import Liquidity, Node, eventually, top_of, trading_node, wall_ms
from tests.support.exchange import RunningExchange

from kalshi_trader.config import Settings
from kalshi_trader.domain import BookSide, Price, Qty, Side, TopOfBook
from kalshi_trader.host.strategies import StrategyHost
from kalshi_trader.node.options import SNAPSHOT_DEPTH
from kalshi_trader.node.wiring import own_holdings
from kalshi_trader.strategy import registry
from kalshi_trader.strategy.base import FairValue, MarketSnapshot, StrategyRunner
from kalshi_trader.strategy.weather_mm import WeatherMMStrategy

pytestmark = pytest.mark.timeout(90)

T = "KXOWNPOS-26JAN01-T50"
MM = "weather_mm"


def market_maker() -> WeatherMMStrategy:
    strategy = registry.spec(MM).build(registry.section(Settings().strategies, MM))
    assert isinstance(strategy, WeatherMMStrategy)
    return strategy


def host_on(node: Node) -> StrategyHost:
    """A host with the market maker over ``node``'s parts, as the node builds it."""

    def snapshots() -> Mapping[str, MarketSnapshot]:
        out = {}
        for ticker, info in node.monitor.markets.items():
            book = node.monitor.book(ticker)
            if book is not None:
                fresh = node.ws.connected and not book.stale
                yes, no = book.top(Side.YES, SNAPSHOT_DEPTH), book.top(Side.NO, SNAPSHOT_DEPTH)
                out[ticker] = MarketSnapshot.from_tops(
                    info, yes, no, updated_ms=wall_ms() if fresh else 0, stale=not fresh
                )
        return out

    def top(ticker: str) -> TopOfBook | None:
        book = node.monitor.book(ticker)
        return None if book is None else top_of(book, node.ws)

    return StrategyHost(
        [(StrategyRunner(market_maker()), "Weather MM")],
        node.engine,
        markets=snapshots,
        fair_values=lambda: {T: FairValue(T, Price(5000), wall_ms(), Price(0))},
        top_of=top,
        clock_ms=wall_ms,
    )


async def quoting(host: StrategyHost, node: Node) -> set[BookSide]:
    """Steps the host until the market maker has an order resting at the exchange in ``T``."""
    sides: set[BookSide] = set()

    async def rests() -> bool:
        host.step()
        await node.engine.queue.drain()
        sides.update(t.side for t in host.own_orders(MM) if t.ticker == T and t.order_id)
        return bool(sides)

    await eventually(rests, timeout_s=15)
    return sides


async def test_the_market_makers_position_comes_back_after_a_restart(
    exchange: RunningExchange, any_db_url: str, liquidity: Liquidity
) -> None:
    exchange.add_market(T)
    await liquidity.quote(T, BookSide.BID, 3000, 10)
    await liquidity.quote(T, BookSide.ASK, 7000, 10)

    async with trading_node(exchange, any_db_url, [T]) as node:
        host = host_on(node)
        host.restore(await own_holdings(node.recorder, node.store))
        host.start(MM)
        assert BookSide.BID in await quoting(host, node)
        bid = next(t for t in host.own_orders(MM) if t.side is BookSide.BID)
        await liquidity.take(T, BookSide.ASK, int(bid.price), 1)  # someone sells 1 into its bid

        def filled() -> bool:
            return {p.ticker: p.qty for p in node.engine.positions()}.get(T) == Qty(100)

        await eventually(filled)
        host.stop(MM)
        await node.engine.queue.drain()

    async with trading_node(exchange, any_db_url, [T]) as node:
        forgetful = host_on(node)
        state = forgetful.state_for(MM)
        assert state.positions[T].qty == Qty(100)
        assert state.own_positions == {}
        assert "not the market maker's" in market_maker().why_not_quote(state, T)

        host = host_on(node)
        host.restore(await own_holdings(node.recorder, node.store))
        state = host.state_for(MM)
        assert state.own_positions == {T: Qty(100)}
        assert market_maker().why_not_quote(state, T) == ""
        host.start(MM)
        assert await quoting(host, node)
        host.stop(MM)
        await node.engine.queue.drain()
