"""The change feed coalesces and fans out; the node refuses modes it cannot run; ``config show``'s
view redacts secrets and round-trips through TOML."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import pytest

from kalshi_trader.config import load_settings
from kalshi_trader.node import Mode, NodeError, NodeOptions, TradingNode
from kalshi_trader.readmodels import ChangeFeed
from kalshi_trader.settings_view import effective_settings, to_toml
from kalshi_trader.strategy import registry


async def test_change_feed_coalesces_per_subscriber() -> None:
    feed = ChangeFeed()
    with feed.subscribe() as a, feed.subscribe() as b:
        feed.publish("orders", "fills")
        feed.publish("orders")
        assert await a.next() == {"orders", "fills"}
        feed.publish("risk")
        assert await b.next() == {"orders", "fills", "risk"}
        assert await a.next() == {"risk"}
        waiting = asyncio.ensure_future(a.next())
        await asyncio.sleep(0)
        assert not waiting.done()
        feed.publish("pnl")
        assert await asyncio.wait_for(waiting, 1) == {"pnl"}
    assert feed.subscribers == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (NodeOptions(mode=Mode.PAPER, data_env="sim"), "demo or prod"),
        (NodeOptions(mode=Mode.PROD), "--yes-trade-real-money"),
        (NodeOptions(scenario="nope"), "unknown scenario"),
    ],
)
def test_node_refuses_what_it_cannot_run(tmp_path: Path, options: NodeOptions, message: str) -> None:
    with pytest.raises(NodeError, match=message):
        TradingNode(load_settings(data_dir=tmp_path), options)


def test_settings_view_redacts_and_round_trips(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        store={"url": "postgresql://me:s3cret@db:5432/x"},
        api={"key_id": "0123456789abcdef", "key_passphrase": "open sesame"},
    )
    values = effective_settings(settings)
    assert values["store"]["url"] == "postgresql://me:***@db:5432/x"
    assert "89abcdef" not in values["api"]["key_id"]
    assert values["api"]["key_passphrase"] == "***"
    assert "open sesame" not in repr(settings)
    text = to_toml(values)
    assert "s3cret" not in text
    assert "open sesame" not in text
    parsed = tomllib.loads(text)
    assert parsed["risk"]["max_order_size"] == "100"
    assert parsed["strategies"]["weather_mm"]["enabled"] is True
    config = tmp_path / "back.toml"
    config.write_text(text.replace(parsed["api"]["key_id"], "k").replace("***", "pw"))
    again = load_settings(config)
    assert again.risk == settings.risk
    for name in registry.names():  # every strategy shown with its defaults, read back the same
        assert registry.section(again.strategies, name) == registry.section(settings.strategies, name)
