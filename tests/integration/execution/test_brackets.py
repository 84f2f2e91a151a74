"""Brackets end to end against the embedded exchange, as Kalshi now behaves (a resting reduce-only
order is refused): the take-profit rests at the exchange as a plain sell sized to the position, the
stop-loss is emulated by the engine from the live book (driven through the stop by the liquidity
account), they cancel each other, and partial fills resize them; whatever happens — partial fills,
a stop firing while the take-profit rests and its cancel fails, another exit, a kill switch that
flattens — the position never crosses zero (read from the exchange's own fill records). Everything
is checked through the exchange, not the engine's own view."""

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

from kalshi_trader.domain import (
    BookSide,
    BracketCancel,
    BracketRequest,
    Order,
    OrderIntent,
    OrderStatus,
    Price,
    Qty,
    TimeInForce,
)
from kalshi_trader.execution.brackets import BracketSpec
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.errors import BadRequestError
from kalshi_trader.store import AuditKind

pytestmark = pytest.mark.timeout(60)

TICKER = "KXBRK-26JAN01-T50"


async def tp_at_exchange(node: Node, bracket_id: str) -> Order | None:
    view = node.engine.bracket(bracket_id)
    if view is None or view.take_profit_order is None:
        return None
    return by_coid(await orders_at(node.rest, TICKER)).get(view.take_profit_order)


async def test_take_profit_rests_and_its_fill_disarms_the_stop(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    ticker = await two_sided(exchange, liquidity)
    async with trading_node(exchange, db_url, [ticker]) as node:
        entry = OrderIntent.place(ticker, BookSide.BID, 5000, 1000, "tp-entry", strategy="fav")
        ticket = node.engine.place_bracket(BracketSpec(entry, Price(6000), Price(3500)))
        assert ticket.bracket_id == "tp-entry"
        assert (await ticket.entry).ok

        async def tp_resting() -> bool:
            tp = await tp_at_exchange(node, "tp-entry")
            return tp is not None and tp.status is OrderStatus.RESTING and tp.remaining == 1000

        await eventually(tp_resting)
        tp = await tp_at_exchange(node, "tp-entry")
        assert tp is not None
        assert (tp.side, tp.price) == (BookSide.ASK, 6000)  # sells the YES held, at the take-profit

        await liquidity.take(ticker, BookSide.BID, 6000, 10)  # someone lifts our take-profit
        await eventually(lambda: node.engine.bracket("tp-entry").state == "done")  # type: ignore[union-attr]
        view = node.engine.bracket("tp-entry")
        assert view is not None
        assert view.reason == "take-profit filled"

        # Now the book falls through the stop: a disarmed stop sends nothing.
        await liquidity.cancel_all(ticker)
        await liquidity.quote(ticker, BookSide.BID, 3000, 10)
        await eventually(lambda: (b := node.engine.book(ticker)) is not None and b.best_bid == 3000)
        await node.engine.queue.drain()
        orders = await orders_at(node.rest, ticker)
        assert sorted(o.client_order_id for o in orders) == ["tp-entry", "tp-entry-tp1"]
        assert by_coid(orders)["tp-entry-tp1"].status is OrderStatus.EXECUTED
        assert await positions_at(node.rest) == {}


async def test_stop_hit_sends_an_aggressive_exit_and_cancels_the_take_profit(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER)
    await liquidity.quote(ticker, BookSide.ASK, 5000, 10)
    bid = await liquidity.quote(ticker, BookSide.BID, 4000, 10)
    async with trading_node(exchange, db_url, [ticker]) as node:
        entry = OrderIntent.place(ticker, BookSide.BID, 5000, 1000, "sl-entry", strategy="fav")
        node.engine.place_bracket(BracketSpec(entry, Price(6000), Price(3500)))

        async def tp_resting() -> bool:
            tp = await tp_at_exchange(node, "sl-entry")
            return tp is not None and tp.status is OrderStatus.RESTING

        await eventually(tp_resting)

        # Drive the book through the stop: the 0.40 bid leaves, the best bid becomes 0.34.
        await liquidity.rest.cancel_order(bid.order_id)
        await liquidity.quote(ticker, BookSide.BID, 3400, 10)
        await eventually(lambda: node.engine.bracket("sl-entry").state == "done")  # type: ignore[union-attr]

        orders = by_coid(await orders_at(node.rest, ticker))
        assert orders["sl-entry-tp1"].status is OrderStatus.CANCELED  # one cancels the other
        assert orders["sl-entry-tp1"].filled == 0
        exit_order = orders["sl-entry-sl2"]
        assert exit_order.side is BookSide.ASK
        assert exit_order.price == 3400 - 300  # the touch moved by the engine's slippage: the worst price
        assert (exit_order.filled, exit_order.status) == (1000, OrderStatus.EXECUTED)
        fills = [f async for f in node.rest.iter_fills(order_id=exit_order.order_id)]
        assert {f.yes_price_dollars for f in fills} == {"0.3400"}  # marketable: it took the bid
        assert await positions_at(node.rest) == {}
        view = node.engine.bracket("sl-entry")
        assert view is not None
        assert "stop-loss 0.3500 hit at 0.3400" in view.reason

        await node.recorder.flush()
        trail = [(e.kind, e.reason) for e in await node.store.audit_log(200, subject=ticker)]
        assert ("bracket", view.reason) in trail


async def test_partial_fills_resize_the_take_profit_and_the_stop_sells_what_is_left(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER)
    await liquidity.quote(ticker, BookSide.ASK, 5000, 4)
    bid = await liquidity.quote(ticker, BookSide.BID, 4000, 10)
    async with trading_node(exchange, db_url, [ticker]) as node:
        entry = OrderIntent.place(ticker, BookSide.BID, 5000, 1000, "pf-entry", strategy="fav")
        node.engine.place_bracket(BracketSpec(entry, Price(6000), Price(3500)))

        async def tp_remaining(qty: int) -> bool:
            tp = await tp_at_exchange(node, "pf-entry")
            return tp is not None and tp.status is OrderStatus.RESTING and tp.remaining == qty

        await eventually(lambda: tp_remaining(400))  # 4 of 10 filled: the take-profit covers 4
        first = await tp_at_exchange(node, "pf-entry")
        await liquidity.quote(ticker, BookSide.ASK, 5000, 3)  # 3 more fill the resting entry
        await eventually(lambda: tp_remaining(700))
        resized = await tp_at_exchange(node, "pf-entry")
        assert first is not None
        assert resized is not None
        assert resized.order_id == first.order_id  # amended, not replaced

        await liquidity.take(ticker, BookSide.BID, 6000, 2)  # the take-profit fills 2 of 7
        await eventually(lambda: tp_remaining(500))
        await eventually(lambda: node.engine.bracket("pf-entry").open_qty == 500)  # type: ignore[union-attr]

        # The market falls: a seller hits the rest of our entry (3 more held), then the bids go.
        await liquidity.take(ticker, BookSide.ASK, 5000, 3)
        await eventually(lambda: tp_remaining(800))
        await liquidity.rest.cancel_order(bid.order_id)
        await liquidity.quote(ticker, BookSide.BID, 3400, 10)
        await eventually(lambda: node.engine.bracket("pf-entry").state == "done")  # type: ignore[union-attr]

        orders = by_coid(await orders_at(node.rest, ticker))
        assert (orders["pf-entry"].status, orders["pf-entry"].filled) == (OrderStatus.EXECUTED, 1000)
        assert (orders["pf-entry-tp1"].status, orders["pf-entry-tp1"].filled) == (OrderStatus.CANCELED, 200)
        exits = [o for c, o in orders.items() if c.startswith("pf-entry-sl")]
        assert exits
        assert all(o.side is BookSide.ASK for o in exits)
        assert sum(o.filled for o in exits) == 800  # exactly what was left, never more
        assert await positions_at(node.rest) == {}
        assert node.engine.positions() == []


async def test_a_stop_hit_while_the_entry_still_rests_cancels_the_entry_too(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER)
    await liquidity.quote(ticker, BookSide.ASK, 5000, 4)
    await liquidity.quote(ticker, BookSide.BID, 4000, 10)
    async with trading_node(exchange, db_url, [ticker]) as node:
        engine = node.engine
        # A strategy's entry rests partly filled; its bracket's stop sits at the entry's own price
        # level (a stop of 0.50 on an entry at 0.50), so the touch reaches it while the entry rests.
        entry = OrderIntent.place(ticker, BookSide.BID, 5000, 1000, "st-entry", strategy="fav")
        assert (await engine.submit(entry)).ok
        await eventually(lambda: engine.positions() != [])
        request = BracketRequest(ticker, "st-entry", BookSide.BID, Qty(400), Price(6000), Price(5000), Price(4000))
        assert engine.request_bracket(request) == "st-entry"
        await eventually(lambda: engine.bracket("st-entry").state == "done")  # type: ignore[union-attr]
        orders = by_coid(await orders_at(node.rest, ticker))
        assert (orders["st-entry"].status, orders["st-entry"].filled) == (OrderStatus.CANCELED, 400)
        exits = [o for c, o in orders.items() if c.startswith("st-entry-sl")]
        assert sum(o.filled for o in exits) == 400
        assert all(o.price >= 4000 for o in exits)  # never below the strategy's stop limit
        assert await positions_at(node.rest) == {}


async def test_strategy_bracket_request_moves_the_take_profit_and_a_cancel_disarms_the_stop(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER)
    await liquidity.quote(ticker, BookSide.BID, 6000, 10)
    ask = await liquidity.quote(ticker, BookSide.ASK, 6500, 10)
    async with trading_node(exchange, db_url, [ticker]) as node:
        engine = node.engine
        # Buy NO: an ask at YES 0.60 hits the 0.60 bid; we hold 10 NO.
        fill = engine.submit(
            OrderIntent.place(ticker, BookSide.ASK, 6000, 1000, "no-entry", tif=TimeInForce.IMMEDIATE_OR_CANCEL)
        )
        assert (await fill).ok
        await eventually(lambda: engine.positions() != [])
        assert engine.positions()[0].qty == -1000
        request = BracketRequest(ticker, "no-entry", BookSide.ASK, Qty(1000), Price(4500), Price(7000), Price(7300))
        assert engine.request_bracket(request) == "no-entry"

        async def tp(price: int) -> bool:
            order = await tp_at_exchange(node, "no-entry")
            return order is not None and order.status is OrderStatus.RESTING and order.price == price

        await eventually(lambda: tp(4500))
        first = await tp_at_exchange(node, "no-entry")
        assert first is not None
        assert first.side is BookSide.BID
        engine.request_bracket(  # latest wins: a new take-profit price moves the resting order
            BracketRequest(ticker, "no-entry", BookSide.ASK, Qty(1000), Price(4000), Price(7000), Price(7300))
        )
        await eventually(lambda: tp(4000))
        moved = await tp_at_exchange(node, "no-entry")
        assert moved is not None
        assert moved.order_id == first.order_id

        assert engine.cancel_bracket(BracketCancel(ticker, "no-entry", reason="strategy exits itself"))
        await engine.queue.drain()
        # The YES ask rises through the stop (0.70): nothing is sent any more.
        await liquidity.rest.cancel_order(ask.order_id)
        await liquidity.quote(ticker, BookSide.ASK, 7500, 10)
        await eventually(lambda: (b := engine.book(ticker)) is not None and b.best_ask == 7500)
        await engine.queue.drain()
        orders = by_coid(await orders_at(node.rest, ticker))
        assert sorted(orders) == ["no-entry", "no-entry-tp1"]
        assert orders["no-entry-tp1"].status is OrderStatus.CANCELED
        assert await positions_at(node.rest) == {ticker: -1000}
        await node.recorder.flush()
        kinds = [e.kind for e in await node.store.audit_log(100)]
        assert AuditKind.INTENT in kinds
        assert AuditKind.RISK_DECISION in kinds
        assert "bracket" in kinds


async def two_sided(exchange: RunningExchange, liquidity: Liquidity) -> str:
    """The test market with 10 contracts offered at 0.50 and bid at 0.40."""
    ticker = exchange.add_market(TICKER)
    await liquidity.quote(ticker, BookSide.ASK, 5000, 10)
    await liquidity.quote(ticker, BookSide.BID, 4000, 10)
    return ticker


async def bracket_holding(node: Node, liquidity: Liquidity, ticker: str, bracket_id: str) -> Order:
    """Buy 10 YES at 0.50 behind a bracket (take-profit 0.60, stop 0.35); the take-profit rests."""
    entry = OrderIntent.place(ticker, BookSide.BID, 5000, 1000, bracket_id, strategy="fav")
    node.engine.place_bracket(BracketSpec(entry, Price(6000), Price(3500)))

    async def tp_resting() -> bool:
        tp = await tp_at_exchange(node, bracket_id)
        return tp is not None and tp.status is OrderStatus.RESTING and tp.remaining == 1000

    await eventually(tp_resting)
    tp = await tp_at_exchange(node, bracket_id)
    assert tp is not None
    return tp


async def test_the_exchange_refuses_a_resting_reduce_only_order_so_the_take_profit_is_a_plain_sell(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    ticker = await two_sided(exchange, liquidity)
    async with trading_node(exchange, db_url, [ticker]) as node:
        tp = await bracket_holding(node, liquidity, ticker, "ro-entry")
        assert (tp.side, tp.price, tp.remaining) == (BookSide.ASK, 6000, 1000)
        # What the take-profit used to be — a reduce-only GTC sell — Kalshi (and so the exchange) refuses.
        req = convert.create_request(ticker, BookSide.ASK, Price(6000), Qty(1000), reduce_only=True)
        with pytest.raises(BadRequestError) as refused:
            await node.rest.create_order(req)
        assert (refused.value.status, refused.value.code) == (400, "invalid_order")
        assert "immediate_or_cancel" in refused.value.message
        # Risk refuses it before it is sent; as an immediate-or-cancel exit it is fine.
        resting_ro = node.engine.submit(OrderIntent.place(ticker, BookSide.ASK, 6000, 1000, "ro-gtc", reduce_only=True))
        assert (resting_ro.approved, resting_ro.rule) == (False, "invalid_intent")
        assert sorted(o.client_order_id for o in await orders_at(node.rest, ticker)) == ["ro-entry", "ro-entry-tp1"]
        assert await positions_at(node.rest) == {ticker: 1000}


async def test_a_stop_firing_while_the_take_profit_rests_exits_only_once_the_take_profit_is_gone(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    """The stop fires while the take-profit's cancel keeps failing (503): no exit is sent, and the
    take-profit — lifted meanwhile — closes the position; nothing ever sells past it."""
    ticker = exchange.add_market(TICKER)
    await liquidity.quote(ticker, BookSide.ASK, 5000, 10)
    bid = await liquidity.quote(ticker, BookSide.BID, 4000, 10)
    async with trading_node(exchange, db_url, [ticker], risk={"max_consecutive_errors": 1_000}) as node:
        tp = await bracket_holding(node, liquidity, ticker, "sf-entry")
        faults = exchange.exchange.faults
        faults.arm(
            "http_503", method="DELETE", path=f"/trade-api/v2/portfolio/events/orders/{tp.order_id}", count=10_000
        )
        await liquidity.rest.cancel_order(bid.order_id)
        await liquidity.quote(ticker, BookSide.BID, 3400, 10)  # through the stop: 10 buyers at 0.34
        await eventually(lambda: node.engine.bracket("sf-entry").state == "stopping")  # type: ignore[union-attr]
        await eventually(lambda: faults.injected["http_503"] >= 8)  # two rounds of cancels failed
        orders = by_coid(await orders_at(node.rest, ticker))
        assert not [c for c in orders if c.startswith("sf-entry-sl")]  # no exit while the take-profit rests
        assert await positions_at(node.rest) == {ticker: 1000}

        await liquidity.take(ticker, BookSide.BID, 6000, 10)  # someone lifts the take-profit
        faults.disarm()
        await eventually(lambda: node.engine.bracket("sf-entry").state == "done")  # type: ignore[union-attr]
        await node.engine.queue.drain()
        orders = by_coid(await orders_at(node.rest, ticker))
        assert (orders["sf-entry-tp1"].status, orders["sf-entry-tp1"].filled) == (OrderStatus.EXECUTED, 1000)
        assert sum(o.filled for c, o in orders.items() if c.startswith("sf-entry-sl")) == 0
        assert await positions_at(node.rest) == {}
        assert min(positions_after_each_fill(exchange, ticker)) == 0  # flat at the end, never short


async def test_partial_fills_then_a_stop_never_sell_more_than_was_bought(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    """Entry fills in pieces, the take-profit fills in pieces, then the stop: every filled contract
    was protected, and the take-profit and the stop together sold exactly what was bought."""
    ticker = exchange.add_market(TICKER)
    await liquidity.quote(ticker, BookSide.ASK, 5000, 3)
    bid = await liquidity.quote(ticker, BookSide.BID, 4000, 20)
    async with trading_node(exchange, db_url, [ticker]) as node:
        entry = OrderIntent.place(ticker, BookSide.BID, 5000, 1000, "pp-entry", strategy="fav")
        node.engine.place_bracket(BracketSpec(entry, Price(6000), Price(3500)))
        for more, tp_fill in ((2, 1), (4, 3), (1, 0)):
            await liquidity.quote(ticker, BookSide.ASK, 5000, more)  # the resting entry fills a bit more
            if tp_fill:
                await eventually(lambda: node.engine.bracket("pp-entry").take_profit_order is not None)  # type: ignore[union-attr]
                await liquidity.take(ticker, BookSide.BID, 6000, tp_fill)  # someone lifts part of the take-profit
            positions = await positions_at(node.rest)
            tp = await tp_at_exchange(node, "pp-entry")
            assert tp is None or tp.remaining <= positions.get(ticker, 0)  # never more than held
        await liquidity.rest.cancel_order(bid.order_id)
        await liquidity.quote(ticker, BookSide.BID, 3400, 20)
        await eventually(lambda: node.engine.bracket("pp-entry").state == "done")  # type: ignore[union-attr]
        await node.engine.queue.drain()
        orders = by_coid(await orders_at(node.rest, ticker))
        bought = orders["pp-entry"].filled
        sold = sum(o.filled for c, o in orders.items() if c.startswith("pp-entry-"))
        assert (bought, sold) == (1000, 1000)
        assert await positions_at(node.rest) == {}
        assert min(positions_after_each_fill(exchange, ticker)) >= 0


async def test_another_exit_takes_the_take_profit_away_first(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    """A strategy sells its position with a reduce-only IOC: the engine cancels the take-profit
    ahead of it, so the two never together sell more than is held."""
    ticker = await two_sided(exchange, liquidity)
    async with trading_node(exchange, db_url, [ticker]) as node:
        await bracket_holding(node, liquidity, ticker, "ox-entry")
        exit_ = OrderIntent.place(
            ticker, BookSide.ASK, 3800, 1000, "ox-exit", tif=TimeInForce.IMMEDIATE_OR_CANCEL, reduce_only=True
        )
        assert (await node.engine.submit(exit_)).ok
        await liquidity.take(ticker, BookSide.BID, 6000, 10)  # a buyer at the take-profit finds nothing
        await eventually(lambda: node.engine.bracket("ox-entry").state == "done")  # type: ignore[union-attr]
        orders = by_coid(await orders_at(node.rest, ticker))
        assert (orders["ox-entry-tp1"].status, orders["ox-entry-tp1"].filled) == (OrderStatus.CANCELED, 0)
        assert orders["ox-exit"].filled == 1000
        assert await positions_at(node.rest) == {}
        assert min(positions_after_each_fill(exchange, ticker)) == 0
        view = node.engine.bracket("ox-entry")
        assert view is not None
        assert view.reason == "nothing held any more: another order closed the position"


async def test_a_kill_switch_that_flattens_cancels_the_take_profit_before_the_exit(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    ticker = await two_sided(exchange, liquidity)
    async with trading_node(exchange, db_url, [ticker]) as node:
        await bracket_holding(node, liquidity, ticker, "kf-entry")
        report = await node.engine.kill(who="ops", why="test: flatten", flatten=True)
        assert report.clean
        await eventually(lambda: node.engine.positions() == [])
        await liquidity.take(ticker, BookSide.BID, 6000, 10)  # a buyer at the take-profit finds nothing
        await node.engine.queue.drain()
        orders = by_coid(await orders_at(node.rest, ticker))
        assert (orders["kf-entry-tp1"].status, orders["kf-entry-tp1"].filled) == (OrderStatus.CANCELED, 0)
        flatten = [o for c, o in orders.items() if c.startswith("flat-")]
        assert sum(o.filled for o in flatten) == 1000
        assert await positions_at(node.rest) == {}
        assert min(positions_after_each_fill(exchange, ticker)) == 0
        assert await resting(node.rest) == []  # halted: the bracket places no new take-profit
