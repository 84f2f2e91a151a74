"""The paper node's Kalshi client can only read: it has no method that writes to Kalshi."""

from __future__ import annotations

import inspect

from kalshi_trader.kalshi.readonly import ReadOnlyRest
from kalshi_trader.kalshi.rest import KalshiRest

WRITES = {
    "create_order",
    "batch_create_orders",
    "cancel_order",
    "cancel_all",
    "batch_cancel_orders",
    "amend_order",
    "decrease_order",
    "create_order_group",
    "reset_order_group",
    "trigger_order_group",
    "set_order_group_limit",
    "delete_order_group",
}


def public_methods(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, callable) if not name.startswith("_")}


def test_the_full_client_has_the_writes_this_test_names() -> None:
    assert public_methods(KalshiRest) >= WRITES  # the list is not stale


def test_the_read_only_client_has_no_order_entry_cancel_or_group_method() -> None:
    assert public_methods(ReadOnlyRest) & WRITES == set()
    assert public_methods(ReadOnlyRest) == {
        "close",
        "from_settings",
        "get_event",
        "get_exchange_status",
        "get_market",
        "get_orderbook",
        "get_series",
        "iter_markets",
        "iter_trades",
        "probe",
    }


def test_it_exposes_no_inner_client() -> None:
    client = ReadOnlyRest("http://127.0.0.1:9/trade-api/v2")
    assert not any(isinstance(value, KalshiRest) for name, value in vars(client).items() if not name.startswith("_"))
    assert "ReadOnlyRest" in repr(client)
