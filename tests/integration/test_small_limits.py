"""A first real run with small limits, as the README advises: the node as ``kalshi-trader run``
builds it (settings from the environment, the embedded exchange over loopback on a fast clock,
both strategies) trades inside ``max_order_size=2`` and ``max_position_per_market=3`` — orders
that risk accepts and that fill — and never cancels or amends an order it did not place."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from kalshi_trader.config import load_settings
from kalshi_trader.node import NodeOptions, TradingNode
from kalshi_trader.store import AuditKind

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SPEED = 300.0
MARKET_HOUR_MS = 3_600_000
SIZING_RULES = ("max_order_size", "max_position_per_market")
NEVER_PLACED = ("unknown_order", "amend_in_flight")


async def test_small_limits_trade_inside_them_and_touch_only_orders_that_were_placed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_TRADER_RISK__MAX_ORDER_SIZE", "2")
    monkeypatch.setenv("KALSHI_TRADER_RISK__MAX_POSITION_PER_MARKET", "3")
    settings = load_settings(data_dir=tmp_path, exchange={"port": 0})
    assert (settings.risk.max_order_size, settings.risk.max_position_per_market) == (2, 3)
    node = TradingNode(settings, NodeOptions(speed=SPEED))
    await node.start()
    try:
        host, engine, store, recorder = node.host, node.engine, node.store, node.recorder
        assert host is not None
        assert engine is not None
        assert store is not None
        assert recorder is not None
        started = node.market_ms()
        deadline = time.monotonic() + 200
        # Fills within six market hours (72 s at this speed), then at least two market hours in all.
        while time.monotonic() < deadline and node.market_ms() - started < 6 * MARKET_HOUR_MS:
            fills = sum(len(h.fills) for h in host.all())
            if fills > 0 and node.market_ms() - started >= 2 * MARKET_HOUR_MS:
                break
            await asyncio.sleep(0.5)
        fills = sum(len(h.fills) for h in host.all())
        assert fills > 0, "nothing filled within six market hours"
        refused = {h.name: dict(h.refused_by) for h in host.all()}
        sizing = sum(n for by in refused.values() for rule, n in by.items() if rule in SIZING_RULES)
        placed = engine.counters.submitted
        assert sizing <= max(2, placed // 100), refused  # zero or near zero
        assert not any(rule in NEVER_PLACED for by in refused.values() for rule in by), refused
        await recorder.flush()
        decisions = await store.audit_log(1_000_000, kind=AuditKind.RISK_DECISION)
        intents = await store.audit_log(1_000_000, kind=AuditKind.INTENT)
        approved = {d.subject for d in decisions if d.payload.get("approved") is True}
        places = {i.subject for i in intents if i.payload.get("action") == "place"}
        ever_placed = places & approved
        changes = [i for i in intents if i.payload.get("action") in ("amend", "cancel")]
        assert changes, "the strategies never moved or pulled an order"
        strays = [(i.payload["action"], i.subject) for i in changes if i.subject not in ever_placed]
        assert strays == []
        assert await store.audit_log(10, kind="engine_refusal") == []
    finally:
        await node.stop("test over")
