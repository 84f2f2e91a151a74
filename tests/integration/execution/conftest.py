"""Execution tests run against the embedded exchange (``exchange`` fixture in tests/conftest.py)
with the record on SQLite in a temporary directory (the store's own tests cover Postgres)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kalshi-trader.db'}"
