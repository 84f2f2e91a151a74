"""Audit log ordering, filters and payload round-trip; positions and daily P&L."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.integration.store.kit import T0, position

from kalshi_trader.domain import Money, Position, Qty
from kalshi_trader.store import AuditKind, Store


async def test_audit_log_is_newest_first_in_recorded_order(store: Store) -> None:
    kinds = [AuditKind.INTENT, AuditKind.RISK_DECISION, AuditKind.BREAKER_TRIP, AuditKind.BREAKER_RESET]
    for i in range(12):
        # same timestamp for all: order comes from the log, not the clock
        await store.audit(kinds[i % 4], f"T{i % 3}", {"i": i}, reason=f"r{i}", ts_ms=T0)
    log = await store.audit_log(limit=100)
    assert [e.payload["i"] for e in log] == list(range(11, -1, -1))
    assert [e.payload["i"] for e in await store.audit_log(limit=3)] == [11, 10, 9]
    assert [e.payload["i"] for e in await store.audit_log(kind=AuditKind.BREAKER_TRIP)] == [10, 6, 2]
    assert [e.payload["i"] for e in await store.audit_log(kind="risk_decision", subject="T1")] == [1]
    assert all(e.ts == datetime(2026, 1, 1, tzinfo=UTC) for e in log)


async def test_audit_payload_and_reason_round_trip(store: Store) -> None:
    payload = {
        "intent": {"ticker": "KXHIGHNY-26JAN01-B45.5", "side": "bid", "price": 5600, "qty": 1050},
        "limits": [1, 2, 3],
        "notional": 9_007_199_254_740_993,  # beyond a double's exact integers
        "ok": False,
        "none": None,
        "unicode": "70°F — ≥ 1¢",
        "ratio": 0.1,
    }
    await store.audit(AuditKind.RISK_DECISION, "KXHIGHNY-26JAN01-B45.5", payload, reason="max position 10 reached")
    await store.audit(AuditKind.KILL_SWITCH, None)
    entry = (await store.audit_log(limit=1, kind=AuditKind.RISK_DECISION))[0]
    assert entry.payload == payload
    assert type(entry.payload["notional"]) is int
    assert entry.reason == "max position 10 reached"
    assert entry.subject == "KXHIGHNY-26JAN01-B45.5"
    assert abs(entry.ts - datetime.now(UTC)) < timedelta(minutes=5)
    bare = (await store.audit_log(limit=1))[0]
    assert (bare.kind, bare.subject, bare.payload, bare.reason) == ("kill_switch", None, {}, None)


async def test_audit_payloads_never_fail_to_serialize(store: Store) -> None:
    await store.audit("intent", "T", {"side": AuditKind.INTENT, "day": date(2026, 1, 2), "tags": {"b", "a"}})
    assert (await store.audit_log(limit=1))[0].payload == {"side": "intent", "day": "2026-01-02", "tags": ["a", "b"]}


async def test_positions_are_last_write_wins_per_ticker(store: Store) -> None:
    await store.upsert_position(position("A", 1000, 560_000))
    await store.upsert_position(position("B", -250, 10_000))
    latest = Position("A", Qty(1500), Money(840_000), Money(-12_345), Money(2_100))
    await store.upsert_position(latest)
    assert await store.positions() == [latest, position("B", -250, 10_000)]


async def test_daily_pnl_upserts_by_day_and_filters_by_range(store: Store) -> None:
    await store.record_daily_pnl(date(2026, 1, 1), Money(10_000), Money(-2_500), Money(300))
    await store.record_daily_pnl(date(2026, 1, 2), Money(1), Money(2), Money(3))
    await store.record_daily_pnl(date(2026, 1, 1), Money(-999_999_999_999), Money(0), Money(700))
    rows = await store.daily_pnl()
    assert [(r.day, r.realized, r.unrealized, r.fees) for r in rows] == [
        (date(2026, 1, 1), -999_999_999_999, 0, 700),
        (date(2026, 1, 2), 1, 2, 3),
    ]
    assert rows[1].net == Money(0)
    assert [r.day for r in await store.daily_pnl(since=date(2026, 1, 2))] == [date(2026, 1, 2)]
    assert [r.day for r in await store.daily_pnl(until=date(2026, 1, 1))] == [date(2026, 1, 1)]
