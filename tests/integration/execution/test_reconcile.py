"""Reconciliation against the embedded exchange: what the WebSocket missed while it was down
(a fill, an order placed behind the engine's back) is read back over REST after the reconnect,
applied once, and every discrepancy is in the audit log; unknown orders are canceled or adopted by
policy; positions without a bracket get one from the protection policy."""

from __future__ import annotations

import pytest
from tests.integration.execution.kit import (
    Liquidity,
    client_for,
    eventually,
    orders_at,
    positions_at,
    resting,
    trading_node,
)
from tests.support.exchange import RunningExchange

from kalshi_trader.domain import BookSide, OrderIntent, OrderStatus, Price, Qty, TimeInForce
from kalshi_trader.execution.reconcile import FixedProtection, UnknownOrderPolicy
from kalshi_trader.kalshi import convert
from kalshi_trader.sim.api.faults import FaultSpec
from kalshi_trader.store import AuditKind

pytestmark = pytest.mark.timeout(60)

TICKER = "KXREC-26JAN01-T50"


async def test_after_a_reconnect_missed_fills_and_foreign_orders_are_reconciled(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER)
    await liquidity.quote(ticker, BookSide.ASK, 6000, 10)
    async with trading_node(exchange, db_url, [ticker]) as node:
        engine = node.engine
        assert (await engine.submit(OrderIntent.place(ticker, BookSide.BID, 4500, 500, "r-bid"))).ok
        sweeps = node.reconciler.sweeps

        faults = exchange.exchange.faults
        faults.set_spec(FaultSpec(ws_drop=1_000_000))  # every frame kills the socket: we hear nothing
        await liquidity.take(ticker, BookSide.ASK, 4500, 3)  # fills 3 of our bid while we are deaf
        await eventually(lambda: not node.ws.connected)
        foreign = convert.create_request(ticker, BookSide.BID, Price(1000), Qty(100))
        await node.rest.create_order(foreign)  # an order placed behind the engine's back
        assert engine.positions() == []
        faults.set_spec(FaultSpec())

        await eventually(lambda: node.reconciler.sweeps > sweeps)  # the reconnect asked for a sweep
        await engine.queue.drain()
        assert [(p.ticker, p.qty) for p in engine.positions()] == [(ticker, 300)]
        assert await positions_at(node.rest) == {ticker: 300}
        bid = engine.tracker.order("r-bid")
        assert bid is not None
        assert (bid.filled, bid.remaining) == (300, 200)
        assert node.risk.reservation("r-bid").qty == 200  # type: ignore[union-attr]
        at_exchange = {o.client_order_id: o for o in await orders_at(node.rest, ticker)}
        assert at_exchange[str(foreign.client_order_id)].status is OrderStatus.CANCELED  # policy: cancel
        assert [o.client_order_id for o in await resting(node.rest)] == ["r-bid"]

        await node.recorder.flush()
        fills = await node.store.fills()
        assert sum(f.qty for f in fills) == 300
        assert len({f.fill_id for f in fills}) == len(fills)
        kinds = {e.payload.get("kind") for e in await node.store.audit_log(50, kind=AuditKind.RECONCILE)}
        assert {"missed_fill", "unknown_order"} <= kinds

        again = await node.reconciler.reconcile("periodic")  # a second sweep finds nothing new
        assert (again.new_fills, again.canceled, again.adopted) == (0, 0, 0)
        assert not [d for d in again.discrepancies if d.kind != "unprotected_position"]


async def test_foreign_orders_are_adopted_under_the_adopt_policy_and_positions_get_protected(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER)
    await liquidity.quote(ticker, BookSide.ASK, 5000, 10)
    await liquidity.quote(ticker, BookSide.BID, 4000, 10)
    # Before the node starts: a position and a resting order, made by hand.
    async with client_for(exchange, exchange.trader) as by_hand:
        await by_hand.create_order(
            convert.create_request(
                ticker, BookSide.BID, Price(5000), Qty(400), time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL
            )
        )
        foreign = convert.create_request(ticker, BookSide.BID, Price(3000), Qty(200))
        await by_hand.create_order(foreign)

    async with trading_node(exchange, db_url, [ticker], policy=UnknownOrderPolicy.ADOPT, reconcile=False) as node:
        node.reconciler.protection = FixedProtection(take_profit=Price(800), stop_loss=Price(1500))
        report = await node.reconciler.start()
        assert report.adopted == 1
        assert report.canceled == 0
        coid = str(foreign.client_order_id)
        assert node.risk.reservation(coid) is not None  # adopted: risk counts it
        assert [(p.ticker, p.qty) for p in node.engine.positions()] == [(ticker, 400)]
        assert report.protected == 1
        bracket_id = node.engine.bracket_for(ticker)
        assert bracket_id is not None

        async def tp_rests() -> bool:
            orders = {o.client_order_id: o for o in await resting(node.rest)}
            tp = orders.get(f"{bracket_id}-tp1")
            return tp is not None and (tp.side, tp.price, tp.remaining) == (BookSide.ASK, 5800, 400)

        await eventually(tp_rests)  # a take-profit 0.08 above the 0.50 paid, for all 4 held
        view = node.engine.bracket(bracket_id)
        assert view is not None
        assert (view.state, view.stop_loss) == ("active", 3500)
        assert coid in {o.client_order_id for o in await resting(node.rest)}


async def test_a_restart_adopts_more_resting_orders_than_a_second_of_writes(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    """Adopting an order that already rests writes nothing: the write budget (one place a second
    here) refuses none of them, where judging them as new places would cancel all but the first."""
    ticker = exchange.add_market(TICKER)
    await liquidity.quote(ticker, BookSide.ASK, 6000, 10)
    await liquidity.quote(ticker, BookSide.BID, 2000, 10)
    async with client_for(exchange, exchange.trader) as by_hand:
        coids = []
        for n in range(4):
            req = convert.create_request(ticker, BookSide.BID, Price(3000 + 100 * n), Qty(100))
            await by_hand.create_order(req)
            coids.append(str(req.client_order_id))
    async with trading_node(
        exchange, db_url, [ticker], policy=UnknownOrderPolicy.ADOPT, reconcile=False, risk={"max_writes_per_second": 1}
    ) as node:
        report = await node.reconciler.start()
        assert (report.adopted, report.canceled) == (4, 0)
        assert report.reason == "start"
        assert all(node.risk.reservation(coid) is not None for coid in coids)
        assert sorted(o.client_order_id for o in await resting(node.rest)) == sorted(coids)
