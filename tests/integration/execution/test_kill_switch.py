"""The kill switch against the embedded exchange: every resting order is gone (checked through
the exchange's REST API) — the engine's, a bracket's take-profit, and one placed behind the engine's
back — queued places never leave, the halt holds until a person resets it, and flatten closes the
positions. Order groups: the exchange-side breaker of each strategy."""

from __future__ import annotations

import pytest
from tests.integration.execution.kit import Liquidity, eventually, orders_at, positions_at, resting, trading_node
from tests.support.exchange import RunningExchange

from kalshi_trader.domain import BookSide, OrderIntent, Price, Qty, TimeInForce
from kalshi_trader.execution.brackets import BracketSpec
from kalshi_trader.execution.engine import EngineConfig
from kalshi_trader.execution.views import Outcome
from kalshi_trader.kalshi import convert
from kalshi_trader.store import AuditKind

pytestmark = pytest.mark.timeout(60)

A, B = "KXKILLA-26JAN01-T50", "KXKILLB-26JAN01-T50"
CREATE_PATH = "/trade-api/v2/portfolio/events/orders"


async def test_kill_switch_leaves_zero_resting_orders_and_stays_halted_until_reset(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    a, b = exchange.add_market(A), exchange.add_market(B)
    await liquidity.quote(a, BookSide.ASK, 5000, 10)
    await liquidity.quote(a, BookSide.BID, 4000, 10)
    async with trading_node(exchange, db_url, [a, b]) as node:
        engine = node.engine
        for i in range(6):
            assert (
                await engine.submit(OrderIntent.place(b, BookSide.BID, 1000 + 100 * i, 200, f"k-{i}", strategy="mm"))
            ).ok
        entry = OrderIntent.place(a, BookSide.BID, 5000, 500, "k-entry", strategy="fav")
        engine.place_bracket(BracketSpec(entry, Price(6000), Price(3500)))
        await eventually(lambda: engine.bracket("k-entry").take_profit_order is not None)  # type: ignore[union-attr]
        await engine.queue.drain()
        # An order placed behind the engine's back (by hand, same account).
        await node.rest.create_order(convert.create_request(b, BookSide.ASK, Price(9000), Qty(100)))
        # And a burst of places still queued when the switch is thrown.
        queued = [
            engine.submit(OrderIntent.place(b, BookSide.BID, 2000 + 10 * i, 100, f"q-{i}", strategy="mm"))
            for i in range(20)
        ]
        assert len(await resting(node.rest)) >= 8

        report = await engine.kill(who="ops", why="test: stop everything")

        assert report.clean
        assert await resting(node.rest) == []  # the exchange lists no resting order of ours
        outcomes = [(await q).outcome for q in queued]
        assert Outcome.PURGED in outcomes  # some never left the queue
        purged = {q.intent.client_order_id for q, o in zip(queued, outcomes, strict=True) if o is Outcome.PURGED}
        sent = {o.client_order_id for o in await orders_at(node.rest, b)}
        assert not purged & sent
        assert report.purged == len(purged)
        assert all(g.triggered for g in engine.status().groups)  # every strategy's group too
        assert engine.open_orders() == []
        assert node.risk.reservations() == []

        # Halted: no new risk, no resting order of any kind — even a sell that only reduces.
        refused = engine.submit(OrderIntent.place(b, BookSide.BID, 1500, 100, "after-kill", strategy="mm"))
        assert (refused.approved, refused.rule) == (False, "kill_switch")
        tp_like = engine.submit(OrderIntent.place(a, BookSide.ASK, 6000, 100, "tp-like", strategy="fav"))
        assert (tp_like.approved, tp_like.rule) == (False, "kill_switch")
        engine.tick()  # the bracket does not re-place its take-profit while halted
        await engine.queue.drain()
        assert await resting(node.rest) == []
        assert engine.status().kill_switch is not None

        await node.recorder.flush()
        kills = await node.store.audit_log(20, kind=AuditKind.KILL_SWITCH)
        assert [(e.reason, e.payload["who"]) for e in kills] == [("test: stop everything", "ops")]
        sweeps = await node.store.audit_log(20, kind="cancel_all")
        assert sweeps[0].payload["still_resting"] == 0

        assert await engine.reset_kill(who="ops", why="test over")
        assert not any(g.triggered for g in engine.status().groups)
        again = await engine.submit(OrderIntent.place(b, BookSide.BID, 1500, 100, "after-reset", strategy="mm"))
        assert again.ok  # the strategy's group was reset too: the exchange accepts it
        # and the bracket's take-profit comes back
        await eventually(lambda: engine.bracket("k-entry").take_profit_order is not None)  # type: ignore[union-attr]


async def test_kill_switch_with_flatten_closes_every_position(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    a, b = exchange.add_market(A), exchange.add_market(B)
    for ticker in (a, b):
        await liquidity.quote(ticker, BookSide.ASK, 5000, 10)
        await liquidity.quote(ticker, BookSide.BID, 4900, 10)
    async with trading_node(exchange, db_url, [a, b]) as node:
        engine = node.engine
        ioc = TimeInForce.IMMEDIATE_OR_CANCEL
        assert (await engine.submit(OrderIntent.place(a, BookSide.BID, 5000, 300, "f-yes", tif=ioc))).ok
        assert (await engine.submit(OrderIntent.place(b, BookSide.ASK, 4900, 200, "f-no", tif=ioc))).ok
        await eventually(lambda: len(engine.positions()) == 2)
        assert await positions_at(node.rest) == {a: 300, b: -200}

        report = await engine.kill(who="ops", why="test: flatten", flatten=True)
        assert report.clean
        await eventually(positions_flat(node), timeout_s=5)
        assert await resting(node.rest) == []
        assert engine.positions() == []


def positions_flat(node):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return await positions_at(node.rest) == {}

    return check


async def test_an_order_group_trigger_is_a_breaker_for_that_strategy_only(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    a = exchange.add_market(A)
    await liquidity.quote(a, BookSide.ASK, 5000, 50)
    config = EngineConfig(tick_s=0.05, order_group_limit=Qty(500))  # 5 contracts per 15 s per strategy
    async with trading_node(exchange, db_url, [a], config=config) as node:
        engine = node.engine
        resting_bid = await engine.submit(OrderIntent.place(a, BookSide.BID, 3000, 100, "g-rest", strategy="fast"))
        assert resting_bid.ok
        # 6 contracts filled within the window: the exchange triggers the group and cancels its orders.
        assert (await engine.submit(OrderIntent.place(a, BookSide.BID, 5000, 600, "g-take", strategy="fast"))).ok
        await eventually(lambda: any(g.triggered for g in engine.status().groups))
        await eventually(lambda: not engine.open_orders())
        assert await resting(node.rest) == []
        refused = engine.submit(OrderIntent.place(a, BookSide.BID, 3000, 100, "g-after", strategy="fast"))
        assert (refused.approved, refused.rule) == (False, "order_group_triggered")
        other = await engine.submit(OrderIntent.place(a, BookSide.BID, 3000, 100, "g-other", strategy="slow"))
        assert other.ok  # another strategy's group is untouched
        await node.recorder.flush()
        trips = await node.store.audit_log(10, kind=AuditKind.BREAKER_TRIP)
        assert [e.subject for e in trips] == ["order_group:fast"]

        assert await engine.reset_order_group("fast", who="ops", why="limit understood")
        assert (await engine.submit(OrderIntent.place(a, BookSide.BID, 3000, 100, "g-again", strategy="fast"))).ok


async def test_a_breaker_trip_is_audited_and_its_cancel_all_is_carried_out(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    a = exchange.add_market(A)
    async with trading_node(exchange, db_url, [a], risk={"max_consecutive_errors": 3}) as node:
        engine = node.engine
        for i in range(3):
            assert (await engine.submit(OrderIntent.place(a, BookSide.BID, 1000 + 100 * i, 100, f"e-rest-{i}"))).ok
        # Three requests failing in a row (the exchange answers 403: not a refusal of the order).
        exchange.exchange.faults.arm("http_403", method="POST", path=CREATE_PATH, count=3)
        for i in range(3):
            result = await engine.submit(OrderIntent.place(a, BookSide.BID, 2000, 100, f"e-bad-{i}"))
            assert result.outcome is Outcome.REJECTED
        assert [b.rule.value for b in node.risk.open_breakers()] == ["consecutive_errors"]
        await engine.queue.drain()
        assert await resting(node.rest) == []  # risk asked for everything to be canceled: done
        refused = engine.submit(OrderIntent.place(a, BookSide.BID, 1000, 100, "e-after"))
        assert (refused.approved, refused.rule) == (False, "consecutive_errors")
        await node.recorder.flush()
        trips = await node.store.audit_log(10, kind=AuditKind.BREAKER_TRIP)
        assert [e.subject for e in trips] == ["consecutive_errors"]
        assert [e.reason for e in await node.store.audit_log(10, kind="cancel_all")] == [
            f"consecutive_errors: {node.risk.open_breakers()[0].reason}"
        ]


async def test_routine_refusals_by_the_exchange_never_trip_the_error_breaker(
    exchange: RunningExchange, liquidity: Liquidity, db_url: str
) -> None:
    """Post-only orders that would cross and reduce-only orders with nothing held are refused by
    the exchange as a matter of course: many in a row are not errors."""
    a = exchange.add_market(A)
    await liquidity.quote(a, BookSide.BID, 4000, 500)
    await liquidity.quote(a, BookSide.ASK, 6000, 500)
    async with trading_node(exchange, db_url, [a], risk={"max_consecutive_errors": 3}) as node:
        engine = node.engine
        for i in range(4):
            cross = OrderIntent.place(a, BookSide.BID, 6000, 100, f"e-cross-{i}", post_only=True)
            assert (await engine.submit(cross)).outcome is Outcome.REJECTED
            nothing_held = OrderIntent.place(
                a, BookSide.ASK, 4000, 100, f"e-held-{i}", tif=TimeInForce.IMMEDIATE_OR_CANCEL, reduce_only=True
            )
            assert (await engine.submit(nothing_held)).outcome is Outcome.REJECTED
        assert node.risk.open_breakers() == []
        assert engine.status().errors == 0
        assert (await engine.submit(OrderIntent.place(a, BookSide.BID, 3000, 100, "e-after"))).ok
