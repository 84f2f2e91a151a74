"""Reconciliation after a long downtime: while the node was stopped its resting orders filled and a
market settled, then the exchange's clock ran past every historical cutoff, so those records are
only under ``/historical/...``. On restart every fill is recorded exactly once, the settlement is
applied once, the orders are known executed, and positions and cash match the exchange's.

The embedded exchange runs on a simulated clock (market time), the node's engine and store over
loopback and SQLite (and Postgres when ``KALSHI_TRADER_TEST_POSTGRES_URL`` is set). Expected
figures come from the exchange (its balance and its fills, read over REST), never from the engine."""

from __future__ import annotations

import pytest
from tests.integration.execution.kit import (
    Desk,
    Liquidity,
    Node,
    advance_to,
    client_for,
    eventually,
    positions_at,
    sim_exchange,
    trading_node,
)
from tests.integration.execution.test_settlements import NOON_MS, balance, settlement_entries
from tests.support.exchange import RunningExchange

from kalshi_trader.domain import BookSide, Fill, Money, OrderIntent
from kalshi_trader.execution.engine import EngineConfig
from kalshi_trader.execution.orders import OrderState
from kalshi_trader.kalshi import account_history
from kalshi_trader.sim.api.archive import DAY_MS
from kalshi_trader.sim.core.clock import SimClock

pytestmark = pytest.mark.timeout(120)

SETTLES = "KXLONG-26MAR02-T50"
STAYS = "KXOPEN-26JUN30-T50"
FAST = EngineConfig(tick_s=0.05, pnl_record_s=0.1)


async def exchange_fills(running: RunningExchange) -> list[Fill]:
    """Every fill of the trader, live and archived."""
    rest = client_for(running, running.trader)
    try:
        return await account_history.fills_since(rest, None)
    finally:
        await rest.close()


async def rest_resting(node: Node, coid: str, side: BookSide, price: int, qty: int, ticker: str) -> None:
    intent = OrderIntent.place(ticker, side, price, qty, coid)
    assert (await node.engine.submit(intent)).ok
    await eventually(lambda: (t := node.engine.tracker.order(coid)) is not None and t.state is OrderState.RESTING)


def assert_matches_exchange(node: Node, fills: list[Fill]) -> None:
    tracker = node.engine.tracker
    assert tracker.position(SETTLES).qty == 0
    assert tracker.settled_value(SETTLES) == 10_000
    assert [(p.ticker, p.qty) for p in node.engine.positions()] == [(STAYS, 800)]
    assert tracker.fees_paid() == sum(f.fee for f in fills)


async def test_after_a_long_downtime_every_fill_counts_once_and_cash_matches_the_exchange(any_db_url: str) -> None:
    async with sim_exchange(NOON_MS) as (running, clock):
        liquidity = Liquidity(running)
        try:
            await downtime(any_db_url, running, clock, liquidity)
        finally:
            await liquidity.close()


async def downtime(db_url: str, running: RunningExchange, clock: SimClock, liquidity: Liquidity) -> None:
    settles, stays = running.add_market(SETTLES), running.add_market(STAYS)
    before = await balance(running)
    async with trading_node(running, db_url, [settles, stays], config=FAST, market_ms=clock.now_ms) as node:
        desks = Desk(node, liquidity, settles), Desk(node, liquidity, stays)  # alive: distinct order ids
        await desks[0].take(BookSide.BID, 4000, 10)  # long 10 YES at $0.40
        await desks[1].take(BookSide.BID, 3000, 5)  # long 5 YES at $0.30
        await rest_resting(node, "long-ask", BookSide.ASK, 5500, 400, settles)  # sell 4 at $0.55
        await rest_resting(node, "long-bid", BookSide.BID, 2500, 300, stays)  # buy 3 more at $0.25
        await rest_resting(node, "long-far", BookSide.BID, 1000, 200, settles)  # never fills

    # Stopped. Two resting orders fill; the first market settles YES (its close cancels the
    # third); then 100 days pass, so the fills, the finished orders, the market and the settled
    # position are all archived.
    await liquidity.take(settles, BookSide.BID, 5500, 4)
    await liquidity.take(stays, BookSide.ASK, 2500, 3)
    advance_to(running, clock, NOON_MS + 3_600_000)
    running.exchange.engine.determine(settles, "yes")
    running.exchange.engine.settle(settles)
    advance_to(running, clock, NOON_MS + 100 * DAY_MS)
    after = await balance(running)
    fills = await exchange_fills(running)
    assert len(fills) >= 4
    async with client_for(running, running.trader) as rest:
        assert [f async for f in rest.iter_fills()] == []  # nothing of it is live any more
        assert [s async for s in rest.iter_settlements()] == []
        assert [o async for o in rest.iter_orders()] == []

    # Restarted on the same record.
    async with trading_node(running, db_url, [settles, stays], config=FAST, market_ms=clock.now_ms) as node:
        tracker = node.engine.tracker
        report = node.reconciler.last
        assert report is not None
        assert report.new_fills == 2  # the two made while stopped, from /historical/fills
        assert_matches_exchange(node, fills)
        held = tracker.position(STAYS)
        assert tracker.realized_pnl() - tracker.fees_paid() - held.cost == after - before
        assert tracker.realized_pnl() == 4 * (5500 - 4000) + 6 * (10_000 - 4000)
        assert await positions_at(node.rest) == {STAYS: 800}
        states = {coid: getattr(tracker.order(coid), "state", None) for coid in ("long-ask", "long-bid", "long-far")}
        assert states == {
            "long-ask": OrderState.EXECUTED,
            "long-bid": OrderState.EXECUTED,
            "long-far": OrderState.CANCELED,
        }
        [far] = [d for d in report.discrepancies if d.kind == "order_state"]
        assert far.detail.endswith("exchange: canceled, filled 0")  # read back from /historical/orders
        [entry] = await settlement_entries(node)
        assert (entry.subject, entry.payload["qty"], entry.payload["payout"]) == (SETTLES, 600, Money(60_000))
        await node.recorder.flush()
        recorded = await node.store.fills()
        assert sorted(f.fill_id for f in recorded) == sorted(f.fill_id for f in fills)  # each exactly once

        again = await node.reconciler.reconcile("periodic")
        assert again.new_fills == 0
        assert not [d for d in again.discrepancies if d.kind.startswith("settlement")]

    # Once more: everything replays from the record; nothing is applied or recorded again.
    async with trading_node(running, db_url, [settles, stays], config=FAST, market_ms=clock.now_ms) as node:
        assert node.reconciler.last is not None
        assert node.reconciler.last.new_fills == 0
        assert_matches_exchange(node, fills)
        assert len(await settlement_entries(node)) == 1
        await node.recorder.flush()
        assert len(await node.store.fills()) == len(fills)
