"""Settlements survive a restart, and count once: the embedded exchange on a simulated clock
(market time), the trader's engine over loopback, the record on SQLite and (when
``KALSHI_TRADER_TEST_POSTGRES_URL`` is set) Postgres. Markets are determined and settled at the
exchange; expected figures come from the exchange (the account's balance, its settlement records
and fills, read over REST), never from the engine's own tracker.

A trading day is the New York calendar date of market time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from tests.integration.execution.kit import (
    DAY1,
    DAY2,
    MIDNIGHT_MS,
    NEW_YORK,
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
from tests.support.exchange import RunningExchange

from kalshi_trader.domain import BookSide, Money
from kalshi_trader.execution.engine import SETTLEMENT_AUDIT, EngineConfig
from kalshi_trader.kalshi import convert
from kalshi_trader.risk.exposure import Exposure
from kalshi_trader.store import AuditEntry, AuditKind, Store

pytestmark = pytest.mark.timeout(90)

NOON_MS = int(datetime(2026, 3, 2, 12, tzinfo=NEW_YORK).timestamp() * 1000)
MINUTE = 60_000
TICKER = "KXSET-26MAR02-T50"
FAST = EngineConfig(tick_s=0.05, pnl_record_s=0.1)


@pytest.fixture
async def liquidity_for() -> AsyncIterator[list[Liquidity]]:
    made: list[Liquidity] = []
    yield made
    for liq in made:
        await liq.close()


async def balance(running: RunningExchange) -> Money:
    """The trader's balance as the exchange reports it."""
    rest = client_for(running, running.trader)
    try:
        return convert.balance(await rest.get_balance())
    finally:
        await rest.close()


async def exchange_facts(running: RunningExchange, ticker: str) -> tuple[list[int], Money]:
    """The exchange's settlement revenues for ``ticker`` (cents) and the fees of its fills."""
    rest = client_for(running, running.trader)
    try:
        revenues = [s.revenue async for s in rest.iter_settlements(ticker=ticker)]
        fees = Money(sum([convert.fill(f).fee async for f in rest.iter_fills(ticker=ticker)]))
        return revenues, fees
    finally:
        await rest.close()


async def settlement_entries(node: Node) -> list[AuditEntry]:
    await node.recorder.flush()
    return await node.store.audit_log(100, kind=SETTLEMENT_AUDIT)


async def reconciled(node: Node, kind: str) -> list[AuditEntry]:
    """The reconciliation discrepancies of ``kind`` in the audit log."""
    await node.recorder.flush()
    return [e for e in await node.store.audit_log(500, kind=AuditKind.RECONCILE) if e.payload.get("kind") == kind]


async def rows_become(
    node: Node,
    want: dict[date, tuple[int, int, int]],
    *,
    since: datetime | None = None,
    fresh: set[date] | None = None,
) -> None:
    """The ``daily_pnl`` table eventually holds exactly ``want`` (day → realized, unrealized, fees),
    the rows of the days in ``fresh`` written after ``since``."""
    seen: dict[date, tuple[int, int, int]] = {}

    async def check() -> bool:
        nonlocal seen
        await node.recorder.flush()
        rows = await node.store.daily_pnl()
        seen = {r.day: (r.realized, r.unrealized, r.fees) for r in rows}
        rewritten = since is None or all(r.updated_at > since for r in rows if r.day in (fresh or set()))
        return seen == want and rewritten

    try:
        await eventually(check, timeout_s=10)
    except TimeoutError:
        raise AssertionError(f"daily_pnl rows {seen} never became {want}") from None


def assert_settled_flat(node: Node, ticker: str) -> None:
    assert node.engine.tracker.position(ticker).qty == 0
    assert node.engine.positions() == []
    assert node.risk.exposure(ticker) == Exposure(0, 0, 0)
    assert node.risk.total_exposure() == 0


async def test_a_settlement_made_while_the_engine_was_stopped_is_applied_once_after_the_restart(
    any_db_url: str, liquidity_for: list[Liquidity]
) -> None:
    async with sim_exchange(NOON_MS) as (running, clock):
        ticker = running.add_market(TICKER)
        liquidity = Liquidity(running)
        liquidity_for.append(liquidity)
        before = await balance(running)
        async with trading_node(running, any_db_url, [ticker], config=FAST, market_ms=clock.now_ms) as node:
            desk = Desk(node, liquidity, ticker)
            await desk.take(BookSide.BID, 4000, 10)  # long 10 YES at $0.40
            await desk.take(BookSide.ASK, 4600, 4)  # 4 of them sold at $0.46: +$0.24
            assert node.engine.tracker.position(ticker).qty == 600

        # Stopped. The market is determined YES and settled at the exchange: 6 × $1 paid.
        advance_to(running, clock, NOON_MS + 60 * MINUTE)
        running.exchange.engine.determine(ticker, "yes")
        running.exchange.engine.settle(ticker)
        after = await balance(running)
        revenues, fees = await exchange_facts(running, ticker)
        assert revenues == [600]  # cents
        realized = 2400 + 600 * 100 - 6 * 4000  # the close, then the payout minus the 6 held's cost

        # A fresh engine and store on the same database.
        async with trading_node(running, any_db_url, [ticker], config=FAST, market_ms=clock.now_ms) as node:
            tracker = node.engine.tracker
            assert_settled_flat(node, ticker)
            assert await positions_at(node.rest) == {}
            assert tracker.realized_pnl() == realized
            assert tracker.fees_paid() == fees
            assert tracker.realized_pnl() - tracker.fees_paid() == after - before  # the exchange's cash moved
            assert [e.subject for e in await reconciled(node, "settlement")] == [ticker]
            assert not await reconciled(node, "settlement_position")
            [entry] = await settlement_entries(node)
            assert (entry.subject, entry.payload["qty"], entry.payload["payout"]) == (ticker, 600, 60_000)
            await rows_become(node, {DAY1: (realized, 0, fees)})  # settled today: today's P&L

            again = await node.reconciler.reconcile("periodic")  # seen again: nothing changes
            assert not [d for d in again.discrepancies if d.kind.startswith("settlement")]
            assert tracker.realized_pnl() == realized
            assert len(await settlement_entries(node)) == 1

        # Once more: replayed from the record, not applied (or recorded) again.
        async with trading_node(running, any_db_url, [ticker], config=FAST, market_ms=clock.now_ms) as node:
            tracker = node.engine.tracker
            assert_settled_flat(node, ticker)
            assert tracker.realized_pnl() - tracker.fees_paid() == after - before
            assert len(await settlement_entries(node)) == 1
            assert len(await reconciled(node, "settlement")) == 1
            await rows_become(node, {DAY1: (realized, 0, fees)})


async def test_a_settlement_heard_live_and_read_back_by_reconciliation_counts_once_on_the_day_it_was_applied(
    any_db_url: str, liquidity_for: list[Liquidity]
) -> None:
    async with sim_exchange(MIDNIGHT_MS - 60 * MINUTE) as (running, clock):  # 23:00 in New York
        ticker = running.add_market(TICKER)
        liquidity = Liquidity(running)
        liquidity_for.append(liquidity)
        before = await balance(running)
        async with trading_node(
            running, any_db_url, [ticker], config=FAST, market_ms=clock.now_ms, settle_live=True
        ) as node:
            tracker = node.engine.tracker
            await Desk(node, liquidity, ticker).take(BookSide.BID, 4000, 10)  # long 10 YES at $0.40
            realized = 10 * 10_000 - 10 * 4000  # $10.00 paid − $4.00 cost, in Money units ($0.0001)

            # Determined YES at 23:30: the lifecycle feed settles it at once (the live path).
            advance_to(running, clock, MIDNIGHT_MS - 30 * MINUTE)
            running.exchange.engine.determine(ticker, "yes")
            await eventually(lambda: tracker.settled_value(ticker) is not None)
            assert_settled_flat(node, ticker)
            assert tracker.realized_pnl() == realized

            # Paid out (finalized) at 00:30 the next day; reconciliation reads the same settlement back.
            advance_to(running, clock, MIDNIGHT_MS + 30 * MINUTE)
            running.exchange.engine.settle(ticker)
            after = await balance(running)
            revenues, fees = await exchange_facts(running, ticker)
            assert revenues == [1000]
            report = await node.reconciler.reconcile("periodic")
            assert not [d for d in report.discrepancies if d.kind.startswith("settlement")]
            assert tracker.realized_pnl() == realized
            assert tracker.realized_pnl() - tracker.fees_paid() == after - before
            assert_settled_flat(node, ticker)
            [entry] = await settlement_entries(node)
            assert entry.payload["source"] == "lifecycle"
            await rows_become(node, {DAY1: (realized, 0, fees), DAY2: (0, 0, 0)})

        # Restarted on DAY2: the settlement is replayed from the record at the time it was applied
        # (DAY1, the baseline), not counted again today at the exchange's settled time.
        advance_to(running, clock, MIDNIGHT_MS + 40 * MINUTE)
        restarted = datetime.now(UTC)
        async with trading_node(
            running, any_db_url, [ticker], config=FAST, market_ms=clock.now_ms, settle_live=True
        ) as node:
            tracker = node.engine.tracker
            assert_settled_flat(node, ticker)
            assert tracker.realized_pnl() == realized
            assert tracker.realized_pnl() - tracker.fees_paid() == after - before
            assert len(await settlement_entries(node)) == 1
            assert not await reconciled(node, "settlement")
            # DAY2's row rewritten since the restart, still without the settlement.
            await rows_become(node, {DAY1: (realized, 0, fees), DAY2: (0, 0, 0)}, since=restarted, fresh={DAY2})


async def test_a_settlement_missed_while_running_is_applied_by_the_next_sweep(
    db_url: str, liquidity_for: list[Liquidity]
) -> None:
    async with sim_exchange(NOON_MS) as (running, clock):
        ticker = running.add_market(TICKER)
        liquidity = Liquidity(running)
        liquidity_for.append(liquidity)
        async with trading_node(running, db_url, [ticker], config=FAST, market_ms=clock.now_ms) as node:
            tracker = node.engine.tracker
            await Desk(node, liquidity, ticker).take(BookSide.ASK, 3000, 5)  # long 5 NO at $0.70
            quiet = await node.reconciler.reconcile("periodic")  # nothing settled yet
            assert not [d for d in quiet.discrepancies if d.kind.startswith("settlement")]

            running.exchange.engine.determine(ticker, "yes")  # NO loses: nothing paid
            running.exchange.engine.settle(ticker)
            report = await node.reconciler.reconcile("periodic")
            assert [(d.kind, d.subject) for d in report.discrepancies if d.kind.startswith("settlement")] == [
                ("settlement", ticker)
            ]
            assert_settled_flat(node, ticker)
            assert tracker.realized_pnl() == -5 * 7000
            assert not [d for d in report.discrepancies if d.kind == "position"]
            [entry] = await settlement_entries(node)
            assert entry.payload["source"] == "reconcile (periodic)"

    store = await Store.open(db_url)
    try:
        [position] = [p for p in await store.positions() if p.ticker == ticker]
        assert position.qty == 0
    finally:
        await store.close()
