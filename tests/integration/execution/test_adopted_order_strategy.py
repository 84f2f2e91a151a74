"""An order a strategy left resting when its process stopped is that strategy's again after the
restart: reconciliation adopts it from the exchange as sent by the strategy the record names, so
the strategy sees it among its own orders and a fill on it counts toward its own position.

Over real sockets against the embedded exchange; the record on SQLite and, when
``KALSHI_TRADER_TEST_POSTGRES_URL`` is set, on Postgres."""

from __future__ import annotations

import pytest
from tests.integration.execution.kit import Liquidity, Node, eventually, trading_node, wall_ms
from tests.support.exchange import RunningExchange

from kalshi_trader.config import Settings
from kalshi_trader.domain import BookSide, OrderIntent, Qty
from kalshi_trader.execution.views import Outcome
from kalshi_trader.host.strategies import StrategyHost
from kalshi_trader.node.wiring import own_holdings
from kalshi_trader.strategy import registry
from kalshi_trader.strategy.base import StrategyRunner

pytestmark = pytest.mark.timeout(90)

T = "KXADOPTS-26JAN01-T50"
MM = "weather_mm"
COID = "adopt-mm-bid-1"


def idle_host(node: Node) -> StrategyHost:
    """A host of the market maker over ``node``'s engine, never started: it only keeps what is its."""
    strategy = registry.spec(MM).build(registry.section(Settings().strategies, MM))
    return StrategyHost(
        [(StrategyRunner(strategy), "Weather MM")],
        node.engine,
        markets=dict,
        fair_values=dict,
        top_of=lambda ticker: None,
        clock_ms=wall_ms,
    )


async def test_an_order_left_resting_is_its_strategys_after_a_restart(
    exchange: RunningExchange, any_db_url: str, liquidity: Liquidity
) -> None:
    exchange.add_market(T)
    for side, price in ((BookSide.BID, 3000), (BookSide.ASK, 7000)):  # a two-sided book to trade on
        await liquidity.quote(T, side, price, 10)

    async with trading_node(exchange, any_db_url, [T]) as node:
        sent = await node.engine.submit(OrderIntent.place(T, BookSide.BID, 4000, 200, COID, strategy=MM))
        assert sent.outcome is Outcome.ACCEPTED, sent.reason
        await eventually(lambda: any(t.order_id for t in node.engine.open_orders(strategy=MM)))
        order_id = node.engine.open_orders(strategy=MM)[0].order_id
        await node.engine.queue.drain()  # the process stops; the order is left resting

    async with trading_node(exchange, any_db_url, [T]) as node:
        assert node.reconciler.last is not None
        assert node.reconciler.last.adopted == 1
        mine = node.engine.open_orders(strategy=MM)
        assert [(t.client_order_id, t.order_id, t.remaining) for t in mine] == [(COID, order_id, Qty(200))]
        host = idle_host(node)
        host.restore(await own_holdings(node.recorder, node.store))
        assert [t.client_order_id for t in host.own_orders(MM)] == [COID]
        assert host.state_for(MM).own_positions == {}

        await liquidity.take(T, BookSide.ASK, 4000, 1)  # someone sells 1 into the adopted bid
        await eventually(lambda: node.engine.tracker.position(T).qty == Qty(100))
        await node.recorder.flush()
        (fill,) = [f for f in await node.store.fills() if f.ticker == T and f.client_order_id == COID]
        host.on_fill(fill)  # as the node hands every new fill to its host
        assert host.state_for(MM).own_positions == {T: Qty(100)}
        assert [t.remaining for t in host.own_orders(MM)] == [Qty(100)]
