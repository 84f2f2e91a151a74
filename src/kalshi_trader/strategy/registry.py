"""The strategies this program knows: one line per strategy module.

Contract: ``STRATEGIES`` lists every strategy's ``StrategySpec`` (``strategy.base``), in the order
they are shown. Adding a strategy is one module exposing ``SPEC`` plus one line here: the config
sections (``strategies.<name>``), ``run --strategy`` choices, the dashboard's titles and
``config show`` derive from this list. ``section`` validates a strategy's config section (the
given values over its defaults) and refuses an unknown strategy name or field with a message
naming it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, get_origin

from pydantic import BaseModel, ValidationError

from kalshi_trader.strategy import favorite, value_taker, weather_mm
from kalshi_trader.strategy.base import StrategySpec

__all__ = ["STRATEGIES", "default_names", "names", "section", "spec"]

STRATEGIES: tuple[StrategySpec, ...] = (
    favorite.SPEC,
    weather_mm.SPEC,
    value_taker.SPEC,
)


def names() -> tuple[str, ...]:
    return tuple(s.name for s in STRATEGIES)


def default_names() -> tuple[str, ...]:
    """What ``run`` loads when no ``--strategy`` is given."""
    return tuple(s.name for s in STRATEGIES if s.default)


def spec(name: str) -> StrategySpec:
    for s in STRATEGIES:
        if s.name == name:
            return s
    raise ValueError(f"unknown strategy {name!r}; known: {', '.join(names())}")


def section(sections: Mapping[str, Mapping[str, Any]], name: str) -> BaseModel:
    """``strategies.<name>`` validated by the strategy's settings model (defaults for what is not
    given). Raises ``ValueError`` naming the strategy and the field for a bad or unknown value,
    or an unknown strategy among ``sections``."""
    unknown = sorted(set(sections) - set(names()))
    if unknown:
        raise ValueError(f"strategies.{unknown[0]}: no such strategy; known: {', '.join(names())}")
    model = spec(name).settings
    try:
        return model.model_validate(_decoded(model, sections.get(name, {})))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"strategies.{name}.{where}: {first['msg']}") from None


def _decoded(model: type[BaseModel], given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` with list values that arrived as JSON text (an environment variable such as
    ``KALSHI_TRADER_STRATEGIES__FAVORITE__SERIES='["KXHIGHNY"]'``) decoded."""
    out = dict(given)
    for key, value in given.items():
        field = model.model_fields.get(key)
        if field is not None and isinstance(value, str) and get_origin(field.annotation) in (list, set, frozenset):
            try:
                out[key] = json.loads(value)
            except ValueError:
                raise ValueError(f'{key}: give a JSON list, e.g. ["KXHIGHNY"], not {value!r}') from None
    return out
