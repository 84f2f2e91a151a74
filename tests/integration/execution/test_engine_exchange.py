"""The engine's order path against the embedded exchange: idempotent creates under lost
responses, risk's atomic check-and-reserve under concurrency, amend/decrease/cancel/batches, and
the durable record before every send. Counts are taken at the exchange, over REST."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from tests.integration.execution.kit import Liquidity, Node, eventually, orders_at, trading_node
from tests.support.exchange import RunningExchange

from kalshi_trader.domain import BookSide, OrderIntent, OrderStatus, TimeInForce
from kalshi_trader.execution.engine import Submission
from kalshi_trader.execution.orders import OrderState as TrackedState
from kalshi_trader.execution.orders import TrackedOrder
from kalshi_trader.execution.queue import Job
from kalshi_trader.execution.views import Outcome
from kalshi_trader.kalshi import convert
from kalshi_trader.sim.api.faults import FaultSpec
from kalshi_trader.store import AuditKind, OrderState

pytestmark = pytest.mark.timeout(60)

IOC = TimeInForce.IMMEDIATE_OR_CANCEL
TICKER = "KXENG-26JAN01-T50"
V2 = "/trade-api/v2/portfolio/events/orders"


async def test_a_create_whose_response_is_lost_is_retried_without_a_duplicate(
    exchange: RunningExchange, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER)
    async with trading_node(exchange, db_url, [ticker]) as node:
        faults = exchange.exchange.faults
        faults.arm("lost_response", method="POST", path=V2)
        result = await node.engine.submit(OrderIntent.place(ticker, BookSide.BID, 4500, 300, "lost-1"))
        assert faults.injected["lost_response"] == 1  # the first attempt was executed, its answer lost
        assert result.outcome is Outcome.ACCEPTED
        orders = await orders_at(node.rest, ticker)
        assert [(o.client_order_id, o.remaining) for o in orders] == [("lost-1", 300)]
        assert result.order is not None
        assert result.order.order_id == orders[0].order_id
        await node.recorder.flush()
        stored = await node.store.order(client_order_id="lost-1")
        assert stored is not None
        assert stored.order_id == orders[0].order_id
        assert stored.state is OrderState.RESTING


async def test_a_create_with_every_answer_lost_is_found_by_its_client_order_id(
    exchange: RunningExchange, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER)
    async with trading_node(exchange, db_url, [ticker]) as node:
        engine = node.engine
        exchange.exchange.faults.arm("lost_response", method="POST", path=V2, count=4)  # 1 try + 3 retries
        result = await engine.submit(OrderIntent.place(ticker, BookSide.BID, 4500, 300, "lost-all"))
        assert result.outcome is Outcome.UNKNOWN
        assert node.risk.reservation("lost-all") is not None  # may exist: its risk stays reserved
        await eventually(lambda: (t := engine.tracker.order("lost-all")) is not None and t.order_id is not None)
        orders = await orders_at(node.rest, ticker)
        assert [o.client_order_id for o in orders] == ["lost-all"]
        assert engine.status().unknown_orders == 0
        assert node.risk.reservation("lost-all") is not None  # it rests: still reserved


async def test_a_create_the_exchange_refuses_releases_its_risk_and_is_recorded_rejected(
    exchange: RunningExchange, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER)
    async with trading_node(exchange, db_url, [ticker]) as node:
        # Reduce-only with nothing held: the exchange refuses it (400), risk let it through.
        exit_ = OrderIntent.place(ticker, BookSide.ASK, 4500, 100, "ro-1", tif=IOC, reduce_only=True)
        sub = node.engine.submit(exit_)
        assert sub.approved
        result = await sub
        assert result.outcome is Outcome.REJECTED
        assert "reduce only" in result.reason
        assert node.risk.reservation("ro-1") is None
        await node.recorder.flush()
        stored = await node.store.order(client_order_id="ro-1")
        assert stored is not None
        assert stored.state is OrderState.REJECTED
        assert node.engine.status().errors == 0  # a routine refusal, not an error


async def test_100_concurrent_intents_against_a_limit_that_fits_10_put_at_most_10_orders_at_the_exchange(
    exchange: RunningExchange, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER)
    # 1-contract bids; the per-market worst-case position allows 10 contracts.
    async with trading_node(exchange, db_url, [ticker], risk={"max_position_per_market": 10}) as node:
        engine = node.engine

        async def one(i: int) -> Outcome:
            await asyncio.sleep(0)  # every task is scheduled before any submits
            sub = engine.submit(OrderIntent.place(ticker, BookSide.BID, 100 * (10 + i % 30), 100, f"c-{i}"))
            return (await sub).outcome

        outcomes = await asyncio.gather(*(one(i) for i in range(100)))
        assert outcomes.count(Outcome.ACCEPTED) == 10
        assert outcomes.count(Outcome.REFUSED) == 90
        at_exchange = await orders_at(node.rest, ticker)
        assert len(at_exchange) == 10
        assert sum(o.remaining for o in at_exchange) == 1000
        await node.recorder.flush()
        refusals = [
            e for e in await node.store.audit_log(500, kind=AuditKind.RISK_DECISION) if not e.payload["approved"]
        ]
        assert len(refusals) == 90
        assert {e.payload["rule"] for e in refusals} == {"max_position_per_market"}


async def test_amend_decrease_cancel_and_batches_keep_engine_and_exchange_equal(
    exchange: RunningExchange, db_url: str
) -> None:
    ticker = exchange.add_market(TICKER)
    async with trading_node(exchange, db_url, [ticker]) as node:
        engine = node.engine
        subs = engine.submit_batch(
            [OrderIntent.place(ticker, BookSide.BID, 3000 + 100 * i, 500, f"b-{i}") for i in range(5)]
        )
        assert all(s.approved for s in subs)
        assert all(r.ok for r in await asyncio.gather(*subs))
        first = await orders_at(node.rest, ticker)
        assert sorted(o.client_order_id for o in first) == [f"b-{i}" for i in range(5)]

        moved = await engine.amend("b-0", price=2500, remaining=700)  # price change: an amend
        assert moved.ok
        shrunk = await engine.decrease("b-1", remaining=200)  # size only: a decrease (keeps priority)
        assert shrunk.ok
        gone = await engine.cancel("b-2", reason="test")
        assert gone.ok
        assert engine.submit(OrderIntent.amend(ticker, BookSide.BID, 1000, 100, "nope")).rule == "unknown_order"

        exchange_view = {o.client_order_id: o for o in await orders_at(node.rest, ticker)}
        assert (exchange_view["b-0"].price, exchange_view["b-0"].remaining) == (2500, 700)
        assert (exchange_view["b-1"].price, exchange_view["b-1"].remaining) == (3100, 200)
        assert exchange_view["b-2"].status is OrderStatus.CANCELED
        for coid, order in exchange_view.items():
            tracked = engine.tracker.order(coid)
            assert tracked is not None
            assert (tracked.order_id, tracked.price, tracked.remaining) == (
                order.order_id,
                order.price,
                order.remaining,
            )
        # Risk holds exactly what can still fill.
        assert {r.reservation_id: r.qty for r in node.risk.reservations()} == {
            "b-0": 700,
            "b-1": 200,
            "b-3": 500,
            "b-4": 500,
        }
        await node.recorder.flush()
        events = [e.kind for e in await node.store.order_events(client_order_id="b-1")]
        assert events.index("acked") < events.index("decreased")


async def test_a_resize_counts_its_size_from_the_fills_known_when_it_was_asked_for(
    exchange: RunningExchange, db_url: str
) -> None:
    """An amend's remaining size is what was wanted when it was submitted: contracts that fill while
    it waits in the queue — even once the engine has heard of them — come off it, as Kalshi's total
    count would take them off, instead of being rested again."""
    ticker = exchange.add_market(TICKER)
    liquidity = Liquidity(exchange)
    try:
        async with trading_node(exchange, db_url, [ticker]) as node:
            await resize_while_it_fills(exchange, node, liquidity, ticker)
    finally:
        await liquidity.close()


async def resize_while_it_fills(exchange: RunningExchange, node: Node, liquidity: Liquidity, ticker: str) -> None:
    engine, faults = node.engine, exchange.exchange.faults

    def tracked(coid: str) -> TrackedOrder:
        t = engine.tracker.order(coid)
        assert t is not None
        return t

    async def resize_while_selling(resize: Callable[[], Submission], coid: str, sold: int, *, heard: bool) -> None:
        """Ask for ``resize`` while the queue is held and let someone sell ``sold`` contracts into
        order ``coid``; then let the request leave — once the engine has heard of the sale
        (``heard``), or while the sale is still on its way (the exchange handles every request
        0.3 s after it arrives, so the sale is executed first and the engine cannot have heard of
        it when the request leaves)."""
        before = tracked(coid).filled
        release = asyncio.Event()
        engine.queue.put(Job("hold", release.wait))
        sub = resize()
        assert sub.approved
        if heard:
            await liquidity.take(ticker, BookSide.ASK, 4000, sold)
            await eventually(lambda: tracked(coid).filled == before + sold * 100)
            release.set()
            assert (await sub).ok
            return
        faults.set_spec(FaultSpec(latency_ms=300))
        try:
            sale = asyncio.create_task(liquidity.take(ticker, BookSide.ASK, 4000, sold))
            await asyncio.sleep(0.05)  # the sale has left
            release.set()
            assert (await sub).ok
            await sale
        finally:
            faults.set_spec(FaultSpec())
        await eventually(lambda: tracked(coid).fill_qty == before + sold * 100)

    async def at_exchange(coid: str) -> tuple[int, int, OrderStatus]:
        order = next(o for o in await orders_at(node.rest, ticker) if o.client_order_id == coid)
        return order.filled, order.remaining, order.status

    assert (await engine.submit(OrderIntent.place(ticker, BookSide.BID, 4000, 800, "r-1"))).ok
    # Grow to 10 (an amend): 2 sold meanwhile, so 8 rest (not 10: 12 bought in all).
    await resize_while_selling(lambda: engine.amend("r-1", price=4000, remaining=1000), "r-1", 2, heard=True)
    assert await at_exchange("r-1") == (200, 800, OrderStatus.RESTING)
    # Shrink to 6 (a decrease): 1 sold meanwhile, so 5 rest.
    await resize_while_selling(lambda: engine.decrease("r-1", remaining=600), "r-1", 1, heard=True)
    assert await at_exchange("r-1") == (300, 500, OrderStatus.RESTING)
    # Shrink to 3 while a sale of 1 is on its way: the decrease comes off what the exchange has
    # left, so 2 rest (not 3).
    await resize_while_selling(lambda: engine.decrease("r-1", remaining=300), "r-1", 1, heard=False)
    assert await at_exchange("r-1") == (400, 200, OrderStatus.RESTING)
    assert (tracked("r-1").size, tracked("r-1").remaining) == (600, 200)
    # Shrink to 1 while a sale of 1 is on its way: nothing is left to rest.
    await resize_while_selling(lambda: engine.decrease("r-1", remaining=100), "r-1", 1, heard=False)
    assert await at_exchange("r-1") == (500, 0, OrderStatus.CANCELED)
    assert (tracked("r-1").filled, tracked("r-1").state) == (500, TrackedState.CANCELED)

    # Shrink a second order to 1 after 1 sold meanwhile: what was wanted has filled, the rest goes.
    assert (await engine.submit(OrderIntent.place(ticker, BookSide.BID, 4000, 300, "r-2"))).ok
    await resize_while_selling(lambda: engine.decrease("r-2", remaining=100), "r-2", 1, heard=True)
    assert await at_exchange("r-2") == (100, 0, OrderStatus.CANCELED)
    assert (tracked("r-2").filled, tracked("r-2").state) == (100, TrackedState.CANCELED)


async def test_every_order_is_durable_before_it_is_sent(exchange: RunningExchange, db_url: str) -> None:
    ticker = exchange.add_market(TICKER)
    async with trading_node(exchange, db_url, [ticker]) as node:
        seen_at_send: list[OrderState | None] = []
        real_create = node.rest.create_order

        async def spying_create(req):  # type: ignore[no-untyped-def]
            stored = await node.store.order(client_order_id=req.client_order_id)
            audit = await node.store.audit_log(10, subject=req.client_order_id)
            audited = {e.kind for e in audit} >= {"intent", "risk_decision"}
            seen_at_send.append(stored.state if stored is not None and audited else None)
            return await real_create(req)

        node.rest.create_order = spying_create  # type: ignore[method-assign]
        for i in range(3):
            assert (await node.engine.submit(OrderIntent.place(ticker, BookSide.BID, 2000 + i * 100, 100, f"d-{i}"))).ok
        assert seen_at_send == [OrderState.PENDING] * 3


async def test_an_order_taken_for_never_placed_that_rests_after_all_counts_toward_the_limits(
    exchange: RunningExchange, db_url: str
) -> None:
    """A create with no answer that the exchange does not know yet is taken for rejected and its
    risk released; when the order shows up resting after all (a slow exchange ran it late), it
    holds risk again — so the open-orders limit counts it and is never exceeded."""
    ticker = exchange.add_market(TICKER)
    async with trading_node(exchange, db_url, [ticker], risk={"max_open_orders": 1}) as node:
        engine = node.engine
        exchange.exchange.faults.arm("http_503", method="POST", path=V2, count=4)  # 1 try + 3 retries
        result = await engine.submit(OrderIntent.place(ticker, BookSide.BID, 4500, 300, "late-1"))
        assert result.outcome is Outcome.UNKNOWN
        await eventually(lambda: (t := engine.tracker.order("late-1")) is not None and t.state is TrackedState.REJECTED)
        assert node.risk.reservation("late-1") is None
        # The create runs late at the exchange: the order rests under its client_order_id.
        await node.rest.create_order(convert.create_request(ticker, BookSide.BID, 4500, 300, client_order_id="late-1"))
        await eventually(lambda: (t := engine.tracker.order("late-1")) is not None and t.state.is_open)
        assert node.risk.reservation("late-1") is not None
        refused = engine.submit(OrderIntent.place(ticker, BookSide.BID, 4400, 100, "one-too-many"))
        assert (refused.approved, refused.rule) == (False, "max_open_orders")
        assert len(engine.open_orders()) == 1
