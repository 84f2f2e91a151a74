"""The write-behind Recorder on a real database: order, batching, durable points, close."""

from __future__ import annotations

import logging
from datetime import date

import pytest
import structlog
from sqlalchemy import text
from tests.integration.store.kit import T0, fill, order, position

from kalshi_trader.domain import BookSide, Money, Price, Qty
from kalshi_trader.store import AuditKind, OrderState, Store, StoreError


async def test_close_writes_everything_in_submission_order(store: Store) -> None:
    rec = store.recorder(max_batch=64)
    for i in range(500):
        rec.audit(AuditKind.RISK_DECISION, f"T{i % 5}", {"i": i}, reason="ok")
        if i % 5 == 0:
            rec.record_fill(fill(i))
        if i % 50 == 0:
            rec.upsert_position(position(qty=i))
    assert rec.pending == 500 + 100 + 10  # submitting wrote nothing yet: no await happened
    await rec.close()
    assert rec.pending == 0
    assert [e.payload["i"] for e in await store.audit_log(limit=1000)] == list(range(499, -1, -1))
    assert len(await store.fills()) == 100
    assert await store.positions() == [position(qty=450)]


async def test_flush_is_a_durable_point_another_connection_can_see(store: Store, db_url: str) -> None:
    rec = store.recorder()
    rec.audit(AuditKind.INTENT, "cid-7", {"qty": 100})
    rec.record_order_intent("cid-7", "T", BookSide.BID, Price(4200), Qty(100), T0)
    await rec.flush()
    other = await Store.open(db_url, migrate=False)
    try:
        seen = await other.order(client_order_id="cid-7")
        assert seen is not None
        assert seen.state is OrderState.PENDING
        assert [e.subject for e in await other.audit_log()] == ["cid-7"]
    finally:
        await other.close()
        await rec.close()


async def test_every_kind_of_record_goes_through(store: Store) -> None:
    rec = store.recorder()
    rec.record_order_intent("cid-1", "KXHIGHNY-26JAN01-B45.5", BookSide.BID, Price(5600), Qty(1000), T0)
    rec.record_order(order(updated_ms=T0 + 1))
    rec.record_order_event("acked", client_order_id="cid-1", order_id="ord-1", payload={"x": 1}, event_id="e1")
    rec.record_order_event("acked", client_order_id="cid-1", order_id="ord-1", payload={"x": 1}, event_id="e1")
    rec.record_fill(fill(1))
    rec.upsert_position(position())
    rec.record_daily_pnl(date(2026, 1, 1), Money(5), Money(-1), Money(2))
    rec.record_order_intent("cid-2", "T", BookSide.ASK, Price(100), Qty(1), T0)
    rec.record_order_rejected("cid-2")
    await rec.close()
    assert [(o.client_order_id, o.state) for o in await store.orders()] == [
        ("cid-1", OrderState.RESTING),
        ("cid-2", OrderState.REJECTED),
    ]
    assert [e.kind for e in await store.order_events()] == ["acked"]
    assert await store.fills() == [fill(1)]
    assert await store.positions() == [position()]
    assert [p.net for p in await store.daily_pnl()] == [Money(2)]
    with pytest.raises(StoreError, match="closed"):
        rec.record_fill(fill(2))


async def test_a_refused_record_is_dropped_alone_and_reported(store: Store) -> None:
    rec = store.recorder()
    rec.record_order(order())
    await rec.flush()
    rec.audit("intent", "before", {})
    rec.record_order(order(order_id="ord-OTHER"))  # same client id, other exchange id: refused
    rec.audit("intent", "after", {})
    with pytest.raises(StoreError, match="1 record"):
        await rec.flush()
    assert rec.dropped == 1
    assert [e.subject for e in await store.audit_log()] == ["after", "before"]
    await rec.flush()  # reported once
    await rec.close()


async def test_a_password_never_reaches_logs_or_errors(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("only a Postgres URL carries a password")
    secret = "pw-Zq9-never-logged"
    scheme, rest = db_url.split("://", 1)
    user, host = rest.split("@", 1)
    url = f"{scheme}://{user}:{secret}@{host}"
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as events:
        store = await Store.open(url, echo=True)
        rec = store.recorder()
        rec.audit("intent", "T", {"q": 1})
        rec.record_fill(fill(1))
        await rec.flush()
        async with store.engine.begin() as conn:
            await conn.execute(text("DROP TABLE fills"))
        rec.record_fill(fill(2))
        with pytest.raises(StoreError) as flush_error:
            await rec.flush()
        with pytest.raises(StoreError) as read_error:
            await store.fills()
        await rec.close()
        await store.close()
    texts = [caplog.text, repr(events), str(flush_error.value), str(read_error.value), store.url, rec.last_error or ""]
    assert "***" in store.url
    assert any(e["event"] == "store_record_dropped" for e in events)
    for t in texts:
        assert secret not in t
