"""The same order stream sent to a paper node (fed by the embedded exchange's public WebSocket
feed) and, by a mirror account, to the embedded exchange itself: marketable orders fill
identically level by level (price, size, fee), and a resting order never fills in paper before
the same order resting at the exchange."""

from __future__ import annotations

from pathlib import Path

from tests.integration.execution.kit import Liquidity, client_for, eventually
from tests.integration.node.test_paper_mode import paper_node, taker_account
from tests.support.exchange import RunningExchange

from kalshi_trader.domain import BookSide, FeeType, OrderIntent, Price, Qty, TimeInForce
from kalshi_trader.execution.views import Outcome
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.marketdata.monitor import TradePrinted
from kalshi_trader.node import TradingNode

TICKER = "KXPAPERD-26JAN01-T50"


async def exchange_fills(rest: KalshiRest, order_id: str) -> list[tuple[int, int, int]]:
    return sorted(
        (f.price, f.qty, f.fee)
        for f in [convert.fill(x) async for x in rest.iter_fills(ticker=TICKER)]
        if f.order_id == order_id
    )


def paper_fills(node: TradingNode, coid: str) -> list[tuple[int, int, int]]:
    return sorted((f.price, f.qty, f.fee) for f in node.fills() if f.client_order_id == coid)


async def test_marketable_orders_fill_identically_and_resting_ones_never_earlier(
    exchange: RunningExchange, tmp_path: Path
) -> None:
    exchange.add_market(TICKER, fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES)
    liquidity = Liquidity(exchange)
    for side, price, contracts in ((BookSide.ASK, 5500, 3), (BookSide.ASK, 5700, 4), (BookSide.ASK, 6000, 5)):
        await liquidity.quote(TICKER, side, price, contracts)
    for side, price, contracts in ((BookSide.BID, 4500, 3), (BookSide.BID, 4300, 4)):
        await liquidity.quote(TICKER, side, price, contracts)
    mirror = client_for(exchange, taker_account(exchange, "mirror", 3))
    taker = client_for(exchange, taker_account(exchange, "taker", 2))
    node = paper_node(exchange, tmp_path)
    trades: list[TradePrinted] = []
    try:
        await node.start()
        engine = node.require_engine()
        assert node.monitor is not None
        node.monitor.subscribe(TradePrinted, trades.append)  # after the paper feed: it has seen each one
        await eventually(lambda: (top := engine.book(TICKER)) is not None and top.best_ask == 5500)

        async def both(side: BookSide, price: int, count: int, tif: TimeInForce, n: int) -> tuple[str, str]:
            """The paper order first, then the same order at the exchange."""
            coid = f"diff-{n}"
            intent = OrderIntent.place(TICKER, side, Price(price), Qty(count), coid, tif=tif)
            assert (await engine.submit(intent)).outcome is Outcome.ACCEPTED
            req = convert.create_request(TICKER, side, Price(price), Qty(count), time_in_force=tif)
            return coid, (await mirror.create_order(req)).order_id

        # Marketable: a buy sweeping two ask levels, then a sell sweeping two bid levels.
        ioc = TimeInForce.IMMEDIATE_OR_CANCEL
        for n, (side, price, count) in enumerate(((BookSide.BID, 5800, 500), (BookSide.ASK, 4300, 400))):
            coid, order_id = await both(side, price, count, ioc, n)
            await eventually(lambda c=coid, want=count: sum(f[1] for f in paper_fills(node, c)) == want)  # type: ignore[misc]
            there = await exchange_fills(mirror, order_id)
            assert paper_fills(node, coid) == there
            assert len(there) == 2  # two levels, each at its own price and fee

        # Resting: a bid joining the 3 contracts the sweep left displayed at $0.43.
        await eventually(lambda: (top := engine.book(TICKER)) is not None and top.best_bid == 4300)
        coid, order_id = await both(BookSide.BID, 4300, 100, TimeInForce.GOOD_TILL_CANCELED, 9)
        seen = len(trades)
        await taker.create_order(convert.create_request(TICKER, BookSide.ASK, Price(4300), Qty(200), time_in_force=ioc))
        await eventually(lambda: len(trades) > seen)
        assert await exchange_fills(mirror, order_id) == []  # two of the three ahead traded
        assert paper_fills(node, coid) == []  # so not in paper either
        seen = len(trades)
        await taker.create_order(convert.create_request(TICKER, BookSide.ASK, Price(4300), Qty(300), time_in_force=ioc))
        await eventually(lambda: len(trades) > seen)
        there = await exchange_fills(mirror, order_id)
        assert [(p, q) for p, q, _ in there] == [(4300, 100)]  # the rest ahead, then ours
        await eventually(lambda: paper_fills(node, coid) != [])
        assert paper_fills(node, coid) == there  # the same maker fill, fee included
    finally:
        await node.stop()
        await liquidity.close()
        await mirror.close()
        await taker.close()
