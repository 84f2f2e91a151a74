"""Orders: upserts by client_order_id and order_id through a lifecycle; rows never go backwards."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from tests.integration.store.kit import T0, fill, order

from kalshi_trader.domain import BookSide, OrderStatus, Price, Qty
from kalshi_trader.store import OrderState, Store, StoreError


async def test_lifecycle_from_intent_to_executed_is_one_row(store: Store) -> None:
    intent = ("cid-1", "KXHIGHNY-26JAN01-B45.5", BookSide.BID, Price(5600), Qty(1000), T0)
    assert await store.record_order_intent(*intent)
    assert not await store.record_order_intent(*intent)  # a retry of the same create
    pending = await store.order(client_order_id="cid-1")
    assert pending is not None
    assert (pending.state, pending.order_id, pending.to_order()) == (OrderState.PENDING, None, None)
    assert [o.client_order_id for o in await store.orders(open_only=True)] == ["cid-1"]

    acked = order(updated_ms=T0 + 10)
    await store.record_order(acked)
    partial = order(filled=Qty(300), remaining=Qty(700), updated_ms=T0 + 20)
    await store.record_order(partial)
    done = order(OrderStatus.EXECUTED, filled=Qty(1000), remaining=Qty(0), updated_ms=T0 + 30)
    await store.record_order(done)

    rows = await store.orders()
    assert len(rows) == 1
    assert rows[0].to_order() == done
    assert await store.order(order_id="ord-1") == rows[0]
    assert await store.orders(open_only=True) == []
    assert [o.order_id for o in await store.orders(states=[OrderState.EXECUTED])] == ["ord-1"]


async def test_a_stale_snapshot_never_moves_an_order_backwards(store: Store) -> None:
    done = order(OrderStatus.EXECUTED, filled=Qty(1000), remaining=Qty(0), updated_ms=T0 + 30)
    await store.record_order(done)
    await store.record_order(order(filled=Qty(300), remaining=Qty(700), updated_ms=T0 + 20))  # older stamp
    await store.record_order(order(filled=Qty(300), remaining=Qty(700), updated_ms=T0 + 40))  # fewer filled
    await store.record_order(order(OrderStatus.RESTING, filled=Qty(1000), remaining=Qty(0), updated_ms=T0 + 50))
    stored = await store.order(order_id="ord-1")
    assert stored is not None
    assert stored.to_order() == done


async def test_an_order_seen_first_without_client_id_merges_into_one_row(store: Store) -> None:
    await store.record_order(order(client_order_id="", order_id="ord-9", updated_ms=T0))
    assert (await store.orders())[0].client_order_id is None
    await store.record_order_intent("cid-9", "KXHIGHNY-26JAN01-B45.5", BookSide.BID, Price(5600), Qty(1000), T0)
    await store.record_order(order(client_order_id="cid-9", order_id="ord-9", updated_ms=T0 + 5))
    rows = await store.orders()
    assert [(o.client_order_id, o.order_id, o.state) for o in rows] == [("cid-9", "ord-9", OrderState.RESTING)]


async def test_conflicting_ids_are_refused(store: Store) -> None:
    await store.record_order(order())
    with pytest.raises(ValueError, match="recorded as exchange order 'ord-1'"):
        await store.record_order(order(order_id="ord-2"))
    with pytest.raises(ValueError, match="needs a client_order_id or an order_id"):
        await store.record_order(order(client_order_id="", order_id=""))


async def test_rejection_closes_a_pending_order_and_the_exchange_word_overrides_it(store: Store) -> None:
    await store.record_order_intent("cid-2", "T", BookSide.ASK, Price(100), Qty(500), T0)
    assert await store.record_order_rejected("cid-2") is True
    assert await store.record_order_rejected("cid-2") is False  # no longer pending
    rejected = await store.order(client_order_id="cid-2")
    assert rejected is not None
    assert rejected.state is OrderState.REJECTED
    assert rejected.state.is_final
    # a reconcile finds it at the exchange after all: the exchange is the truth
    await store.record_order(order(client_order_id="cid-2", order_id="ord-2", ticker="T", updated_ms=T0 + 1))
    found = await store.order(order_id="ord-2")
    assert found is not None
    assert found.state is OrderState.RESTING


async def test_order_events_keep_their_order_and_dedupe_by_event_id(store: Store) -> None:
    await store.record_order_event("submitted", client_order_id="cid-1", payload={"price": 5600}, ts_ms=T0)
    await store.record_order_event("acked", client_order_id="cid-1", order_id="ord-1", event_id="ev-1", ts_ms=T0 + 5)
    await store.record_order_event("acked", client_order_id="cid-1", order_id="ord-1", event_id="ev-1", ts_ms=T0 + 5)
    await store.record_order_event("canceled", order_id="ord-1", payload={"reason": "tp hit"})
    await store.record_order_event("canceled", order_id="ord-other")
    events = await store.order_events(client_order_id="cid-1", order_id="ord-1")
    assert [e.kind for e in events] == ["submitted", "acked", "canceled"]
    assert events[0].payload == {"price": 5600}
    assert events[0].ts.tzinfo is not None
    assert len(await store.order_events()) == 4
    with pytest.raises(ValueError, match="needs a client_order_id or an order_id"):
        await store.record_order_event("lost")


async def test_a_database_failure_is_one_line_store_error(store: Store) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(text("DROP TABLE audit_log"))
    with pytest.raises(StoreError, match=r"^cannot write the audit log \(.+\): \w+") as caught:
        await store.audit("intent", "T", {})
    assert "\n" not in str(caught.value)


async def test_a_closed_store_refuses_work(store: Store) -> None:
    await store.close()
    with pytest.raises(StoreError, match="is closed"):
        await store.audit("intent", "T", {})
    with pytest.raises(StoreError, match="is closed"):
        await store.fills()


async def test_why_an_order_ended_is_recorded(store: Store) -> None:
    """``last_update_reason`` of the newest report is kept with the row (and its reason is not
    taken back by an older report); a report in ``unknown`` state is recorded as such."""
    await store.record_order(order(last_update_reason="Amend", updated_ms=T0 + 10))
    ended = order(
        OrderStatus.CANCELED, remaining=Qty(0), updated_ms=T0 + 20, last_update_reason="SettlementBoundsCancel"
    )
    await store.record_order(ended)
    await store.record_order(order(updated_ms=T0 + 15, last_update_reason="Trade"))  # older: ignored
    stored = await store.order(order_id="ord-1")
    assert stored is not None
    assert (stored.state, stored.last_update_reason) == (OrderState.CANCELED, "SettlementBoundsCancel")
    assert stored.to_order() == ended
    await store.record_order(order(OrderStatus.UNKNOWN, order_id="ord-2", client_order_id="cid-2"))
    vague = await store.order(order_id="ord-2")
    assert vague is not None
    assert (vague.state, vague.state.is_open, vague.last_update_reason) == (OrderState.UNKNOWN, True, "")


async def test_fills_net_per_strategy_that_sent_their_orders(store: Store) -> None:
    """An order names the strategy that sent it; the exchange's later snapshots keep that name,
    and the fills of its orders (matched by either id) net per strategy and market."""
    await store.record_order_intent("cid-1", "T", BookSide.BID, Price(5600), Qty(1000), T0, strategy="mm")
    await store.record_order(order(ticker="T", updated_ms=T0 + 5))
    await store.record_order_intent("cid-2", "T", BookSide.ASK, Price(5700), Qty(1000), T0, strategy="mm")
    await store.record_order(order(client_order_id="cid-2", order_id="ord-2", ticker="T", side=BookSide.ASK))
    await store.record_order_intent("cid-3", "U", BookSide.BID, Price(100), Qty(500), T0, strategy="other")
    await store.record_order(order(client_order_id="", order_id="ord-9", ticker="U"))  # nobody's order
    await store.record_fills(
        [
            fill(1, ticker="T", qty=Qty(700)),
            fill(2, ticker="T", qty=Qty(300), client_order_id=""),  # matched by order id
            fill(3, ticker="T", order_id="ord-2", client_order_id="cid-2", side=BookSide.ASK, qty=Qty(400)),
            fill(4, ticker="U", order_id="ord-3", client_order_id="cid-3", qty=Qty(500)),
            fill(5, ticker="U", order_id="ord-9", client_order_id="", qty=Qty(900)),
            fill(6, ticker="U", order_id="ord-3", client_order_id="cid-3", side=BookSide.ASK, qty=Qty(500)),
        ]
    )
    assert await store.strategy_holdings() == {"mm": {"T": 600}}
