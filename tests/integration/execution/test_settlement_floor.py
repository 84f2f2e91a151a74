"""A settlement floor rising under the bot: its resting YES bid at or below the new floor is canceled
by the exchange with ``SettlementBoundsCancel``; the tracker and the record say so; once the market
is read again, risk refuses YES at or below the floor and the book marks YES at the floor at least."""

from __future__ import annotations

import pytest
from tests.integration.execution.kit import eventually, trading_node
from tests.support.exchange import RunningExchange

from kalshi_trader.domain import BookSide, OrderIntent, Price
from kalshi_trader.execution.orders import OrderState
from kalshi_trader.execution.views import Outcome
from kalshi_trader.risk.decisions import Rule

pytestmark = pytest.mark.timeout(60)

TICKER = "KXFLOORBOT-26JAN01-T50"


async def test_a_raised_floor_cancels_our_bid_and_becomes_the_lowest_yes_value(
    exchange: RunningExchange, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER, fee_multiplier=(0, 1), settlement_floor=Price(0))
    async with trading_node(exchange, db_url, [ticker]) as node:
        engine = node.engine
        low = await engine.submit(OrderIntent.place(ticker, BookSide.BID, Price(2500), 300, "floor-low"))
        high = await engine.submit(OrderIntent.place(ticker, BookSide.BID, Price(4000), 200, "floor-high"))
        assert low.outcome is high.outcome is Outcome.ACCEPTED
        assert node.monitor.markets[ticker].settlement_floor == 0

        canceled = exchange.exchange.engine.set_settlement_floor(ticker, Price(3000))
        assert [o.client_order_id for o in canceled] == ["floor-low"]

        def ended() -> bool:
            t = engine.tracker.order("floor-low")
            return t is not None and t.state is OrderState.CANCELED

        await eventually(ended)
        low_view = engine.tracker.order("floor-low")
        high_view = engine.tracker.order("floor-high")
        assert low_view is not None
        assert high_view is not None
        assert low_view.last_update_reason == "SettlementBoundsCancel"
        assert high_view.state is OrderState.RESTING
        await node.recorder.flush()
        stored = await node.store.order(client_order_id="floor-low")
        assert stored is not None
        assert stored.last_update_reason == "SettlementBoundsCancel"

        # No lifecycle message carries the floor: the market is read again (the node does this
        # when one of its orders ends with SettlementBoundsCancel), and risk and the book take it.
        await node.monitor.refresh([ticker])
        info = node.monitor.markets[ticker]
        assert info.settlement_floor == 3000
        assert node.monitor.books[ticker].settlement_floor == 3000
        engine.register_market(info)
        refused = await engine.submit(OrderIntent.place(ticker, BookSide.BID, Price(3000), 100, "at-floor"))
        assert refused.outcome is Outcome.REFUSED
        assert "settlement floor 0.3000" in refused.reason
        assert node.risk.check(OrderIntent.place(ticker, BookSide.ASK, Price(2900), 100, "x")).rule is (
            Rule.BELOW_SETTLEMENT_FLOOR
        )
        assert (await engine.submit(OrderIntent.place(ticker, BookSide.BID, Price(3100), 100, "above"))).ok
