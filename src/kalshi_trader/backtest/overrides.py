"""``--set section.field=value``: any setting changed for one backtest.

Contract: ``parse_assignment("risk.max_position=5")`` → ``("risk.max_position", "5")`` (``ValueError``
without ``=`` or a dotted name). ``apply(settings, assignments)`` returns new settings with each
field set, validated by the settings' own model (so a value is read exactly as the TOML file or
an environment variable would be: ``5``, ``0.25``, ``true``, a JSON list ``["KXHIGHNY"]`` or a
comma-separated list); a strategy's field is ``strategies.<name>.<field>`` (the strategy registry's
name, validated by its own settings model). An unknown section, strategy or field, or a value the
field refuses, raises ``ValueError`` with one line naming it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, get_origin

from pydantic import BaseModel, ValidationError

from kalshi_trader.config import Settings
from kalshi_trader.strategy import registry

__all__ = ["apply", "parse_assignment"]


def parse_assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"{text!r} is not section.field=value")
    if "." not in name:
        raise ValueError(f"{name!r} is not section.field (e.g. risk.max_position or strategies.favorite.min_yes)")
    return name, value.strip()


def _value(raw: str, current: Any, annotation: Any = None) -> Any:
    if isinstance(current, Decimal):
        return raw  # exact, never through a float
    listed = isinstance(current, list | tuple | frozenset | set) or get_origin(annotation) in (list, set, frozenset)
    if listed and not raw.startswith("["):
        return [v.strip() for v in raw.split(",") if v.strip()]
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _set_strategy(body: dict[str, Any], name: str, path: list[str], raw: str) -> str:
    if len(path) != 3:
        raise ValueError(f"--set {name}: a strategy's setting is strategies.<strategy>.<field>")
    strategy, field = path[1], path[2]
    try:
        model = registry.spec(strategy).settings
    except ValueError as exc:
        raise ValueError(f"--set {name}: {exc}") from None
    info = model.model_fields.get(field)
    if info is None:
        known = ", ".join(sorted(model.model_fields))
        raise ValueError(f"--set {name}: strategy {strategy} has no field {field!r} (known: {known})")
    body.setdefault("strategies", {}).setdefault(strategy, {})[field] = _value(raw, info.default, info.annotation)
    return strategy


def apply(settings: Settings, assignments: Sequence[tuple[str, str]]) -> Settings:
    body = settings.model_dump()
    strategies: set[str] = set()
    for name, raw in assignments:
        path = name.split(".")
        if path[0] == "strategies":
            strategies.add(_set_strategy(body, name, path, raw))
            continue
        model: BaseModel = settings
        node = body
        for i, part in enumerate(path):
            fields = type(model).model_fields
            if part not in fields:
                where = ".".join(path[:i]) or "the settings"
                known = ", ".join(sorted(fields))
                raise ValueError(f"--set {name}: {where} has no field {part!r} (known: {known})")
            if i == len(path) - 1:
                node[part] = _value(raw, getattr(model, part))
                break
            child = getattr(model, part)
            if not isinstance(child, BaseModel):
                raise ValueError(f"--set {name}: {'.'.join(path[: i + 1])} is a value, not a section")
            model, node = child, node[part]
    try:
        changed = Settings.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ValueError(f"--set {where}: {error['msg']}") from None
    for strategy in sorted(strategies):
        try:
            registry.section(changed.strategies, strategy)
        except ValueError as exc:
            raise ValueError(f"--set {exc}") from None
    return changed
