"""The registry's worked example runs end to end: ``value_taker``, loaded by name as
``run --strategy value_taker`` loads it, buys through risk and the engine at the embedded exchange
over loopback (its orders reach the exchange and are answered)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.execution.kit import eventually

from kalshi_trader.config import load_settings
from kalshi_trader.node import NodeOptions, TradingNode

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


async def test_the_example_strategy_places_orders_the_exchange_answers(tmp_path: Path) -> None:
    eager = {"value_taker": {"min_edge_dollars": "0", "max_fair_age_s": 7_200, "cooldown_s": 60}}
    settings = load_settings(data_dir=tmp_path, exchange={"port": 0}, strategies=eager)
    node = TradingNode(settings, NodeOptions(speed=300.0, strategies=("value_taker",)))
    await node.start()
    try:
        host, engine = node.host, node.engine
        assert host is not None
        assert engine is not None
        assert [h.name for h in host.all()] == ["value_taker"]
        assert host.hosted("value_taker").title == "Value taker (example)"

        def answered() -> list[str]:
            return [t.client_order_id for t in engine.tracker.orders() if t.strategy == "value_taker" and t.order_id]

        await eventually(lambda: bool(answered()), timeout_s=150)
        assert host.hosted("value_taker").last_error == ""
    finally:
        await node.stop("test over")
