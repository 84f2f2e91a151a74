"""Exits go first, end to end against the embedded exchange: positions are per account, so another
strategy's quote resting on the exit's side (a market maker's ask in the market a favourite holds)
could sell the same contracts. It neither disarms the favourite's stop nor blocks an exit: the
engine cancels the quote ahead of the exit, the exit sells everything held, and the position —
read from the exchange's own fill records — never crosses zero."""

from __future__ import annotations

import pytest
from tests.integration.execution.kit import (
    Liquidity,
    Node,
    by_coid,
    eventually,
    orders_at,
    positions_after_each_fill,
    positions_at,
    resting,
    trading_node,
)
from tests.support.exchange import RunningExchange

from kalshi_trader.domain import BookSide, OrderIntent, OrderStatus, Price, TimeInForce
from kalshi_trader.execution.brackets import BracketSpec
from kalshi_trader.execution.views import Outcome

pytestmark = pytest.mark.timeout(60)

TICKER = "KXEXITS-26DEC08-B27.5"


async def favourite_holding_behind_a_quote(exchange: RunningExchange, liquidity: Liquidity, node: Node) -> str:
    """The favourite buys 10 YES at 0.50 behind a bracket (take-profit 0.60, stop 0.35); then the
    market maker rests an ask for 10 at 0.55 in the same market. Returns the ticker."""
    entry = OrderIntent.place(TICKER, BookSide.BID, 5000, 1000, "fav-1", strategy="favorite")
    node.engine.place_bracket(BracketSpec(entry, Price(6000), Price(3500)))
    await eventually(lambda: node.engine.tracker.position(TICKER).qty == 1000)
    quote = OrderIntent.place(TICKER, BookSide.ASK, 5500, 1000, "mm-1", post_only=True, strategy="weather_mm")
    assert (await node.engine.submit(quote)).ok

    async def quote_rests_alone() -> bool:  # the take-profit has no room left beside the quote
        return [o.client_order_id for o in await resting(node.rest)] == ["mm-1"]

    await eventually(quote_rests_alone)
    view = node.engine.bracket("fav-1")
    assert view is not None
    assert view.state == "active"  # the quote did not disarm the stop
    return TICKER


async def test_a_stop_fires_while_another_strategys_quote_rests_and_the_position_never_flips(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER)
    await liquidity.quote(ticker, BookSide.ASK, 5000, 10)
    bid = await liquidity.quote(ticker, BookSide.BID, 4000, 10)
    async with trading_node(exchange, db_url, [ticker]) as node:
        await favourite_holding_behind_a_quote(exchange, liquidity, node)
        # The market falls through the stop: the 0.40 bid leaves, 20 buyers wait at 0.34.
        await liquidity.rest.cancel_order(bid.order_id)
        await liquidity.quote(ticker, BookSide.BID, 3400, 20)
        await eventually(lambda: node.engine.bracket("fav-1").state == "done")  # type: ignore[union-attr]
        await node.engine.queue.drain()

        orders = by_coid(await orders_at(node.rest, ticker))
        assert (orders["mm-1"].status, orders["mm-1"].filled) == (OrderStatus.CANCELED, 0)  # it left first
        stops = [o for c, o in orders.items() if c.startswith("fav-1-sl")]
        assert sum(o.filled for o in stops) == 1000  # everything held, in spite of the quote
        assert all(o.side is BookSide.ASK for o in stops)
        assert await positions_at(node.rest) == {}
        assert min(positions_after_each_fill(exchange, ticker)) == 0  # flat at the end, never short
        view = node.engine.bracket("fav-1")
        assert view is not None
        assert "stop-loss 0.3500 hit" in view.reason

        await node.recorder.flush()
        trail = [(e.kind, e.reason) for e in await node.store.audit_log(500)]
        assert any(kind == "intent" and "goes first" in reason for kind, reason in trail)


async def test_a_strategys_exit_is_not_refused_for_another_strategys_quote(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER)
    await liquidity.quote(ticker, BookSide.ASK, 5000, 10)
    await liquidity.quote(ticker, BookSide.BID, 4000, 10)
    async with trading_node(exchange, db_url, [ticker]) as node:
        await favourite_holding_behind_a_quote(exchange, liquidity, node)
        node.engine.cancel_bracket("fav-1", reason="the favourite exits on its own")
        exit_ = OrderIntent.place(
            ticker,
            BookSide.ASK,
            3700,
            1000,
            "fav-1-exit",
            tif=TimeInForce.IMMEDIATE_OR_CANCEL,
            reduce_only=True,
            strategy="favorite",
            reason="stop-loss backstop",
        )
        result = await node.engine.submit(exit_)
        assert result.outcome is Outcome.ACCEPTED, result.reason  # not would_flip_position
        orders = by_coid(await orders_at(node.rest, ticker))
        assert (orders["mm-1"].status, orders["mm-1"].filled) == (OrderStatus.CANCELED, 0)
        assert (orders["fav-1-exit"].status, orders["fav-1-exit"].filled) == (OrderStatus.EXECUTED, 1000)
        assert await positions_at(node.rest) == {}
        assert min(positions_after_each_fill(exchange, ticker)) == 0
        assert await resting(node.rest) == []
