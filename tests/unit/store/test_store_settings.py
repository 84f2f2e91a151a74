"""The ``store`` settings section and opening a store that cannot be reached."""

from __future__ import annotations

import pytest

from kalshi_trader.config import Settings
from kalshi_trader.store import Store, StoreError


def test_store_url_from_the_environment_and_hidden_from_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (Settings().store.url, Settings().store.echo) == (None, False)
    monkeypatch.setenv("KALSHI_TRADER_STORE__URL", "postgresql://u:pw-secret-9@h:5432/db")
    monkeypatch.setenv("KALSHI_TRADER_STORE__ECHO", "true")
    s = Settings()
    assert s.store.url == "postgresql://u:pw-secret-9@h:5432/db"
    assert s.store.echo is True
    assert "pw-secret-9" not in repr(s)
    assert "pw-secret-9" not in str(s)


async def test_unreachable_database_is_a_redacted_store_error() -> None:
    with pytest.raises(StoreError, match=r"^cannot open postgresql\+asyncpg://trader:\*\*\*@127\.0\.0\.1:1/db: ") as e:
        await Store.open("postgresql://trader:pw-secret-9@127.0.0.1:1/db")
    assert "pw-secret-9" not in str(e.value)
    assert "\n" not in str(e.value)


async def test_in_memory_sqlite_works_for_quick_use() -> None:
    store = await Store.open("sqlite://")
    try:
        await store.audit("intent", "T", {"a": 1})
        assert [e.payload for e in await store.audit_log()] == [{"a": 1}]
    finally:
        await store.close()
