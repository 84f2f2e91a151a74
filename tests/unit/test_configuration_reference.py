"""The configuration reference (docs/configuration.md) is a contract: every setting has exactly one
row naming its environment variable and its real default, and no row names a setting that does not
exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kalshi_trader.config import Settings
from kalshi_trader.strategy import registry

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
ROW = re.compile(r"^\| `([a-z_.]+)` \| `(KALSHI_TRADER_[A-Z_]+)` \| `([^`]*)` \|(.*)\|$", re.M)


def _settings(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from _settings(kind, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", field.get_default(call_default_factory=True)


def _shown(default: Any) -> str:
    return "unset" if default is None else str(default)


def test_every_setting_has_one_row_with_its_env_var_and_default() -> None:
    rows = ROW.findall(REFERENCE.read_text())
    names = [r[0] for r in rows]
    assert len(names) == len(set(names)), "a setting appears twice"
    table = {name: (env, default, what) for name, env, default, what in rows}
    expected = {name: default for name, default in _settings(Settings) if name != "strategies"}
    for spec in registry.STRATEGIES:  # strategies.<name>.* come from each registered strategy's model
        expected.update(_settings(spec.settings, f"strategies.{spec.name}."))
    assert sorted(table) == sorted(expected)
    for name, default in expected.items():
        env, shown, what = table[name]
        assert env == "KALSHI_TRADER_" + name.upper().replace(".", "__"), name
        assert shown == _shown(default), f"{name}: docs/configuration.md says {shown!r}, the code {_shown(default)!r}"
        assert what.strip(), f"{name}: say what it does"
