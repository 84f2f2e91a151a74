"""``--set``: any setting, validated by the settings model, one clear line for a mistake."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kalshi_trader.backtest.overrides import apply, parse_assignment
from kalshi_trader.config import Settings
from kalshi_trader.strategy import registry


def test_a_field_of_any_section_is_set_as_the_settings_would_read_it() -> None:
    base = Settings()
    changed = apply(
        base,
        [
            parse_assignment("risk.max_open_orders=7"),
            parse_assignment("strategies.favorite.min_probability=0.9"),
            parse_assignment("strategies.weather_mm.series=KXHIGHNY,KXHIGHCHI"),
            parse_assignment("strategies.favorite.enabled=false"),
        ],
    )
    assert changed.risk.max_open_orders == 7
    favorite = registry.section(changed.strategies, "favorite")
    weather_mm = registry.section(changed.strategies, "weather_mm")
    assert favorite.min_probability == Decimal("0.9")
    assert weather_mm.series == ["KXHIGHNY", "KXHIGHCHI"]
    assert favorite.enabled is False
    assert base.risk.max_open_orders != 7  # the base is not changed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("risk.nope=1", "risk has no field 'nope'"),
        ("riskk.max_open_orders=1", "the settings has no field 'riskk'"),
        ("risk.max_open_orders=many", "--set risk.max_open_orders: Input should be a valid integer"),
        ("risk.max_open_orders.x=1", "risk.max_open_orders is a value, not a section"),
        ("strategies.nope.x=1", "unknown strategy 'nope'"),
        ("strategies.favorite.nope=1", "strategy favorite has no field 'nope'"),
        ("strategies.favorite.min_probability=2", "strategies.favorite.min_probability"),
    ],
)
def test_a_mistake_is_one_line_naming_it(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^[^\n]*$") as caught:
        apply(Settings(), [parse_assignment(text)])
    assert message in str(caught.value)


@pytest.mark.parametrize("text", ["risk", "=3", "max_open_orders=3"])
def test_an_assignment_needs_a_dotted_name_and_a_value(text: str) -> None:
    with pytest.raises(ValueError, match=r"section\.field"):
        parse_assignment(text)
