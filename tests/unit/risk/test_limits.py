"""The ``risk`` settings section: defaults, file and environment, validation, exact conversion."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from tests.unit.risk.kit import Clock

from kalshi_trader.config import RiskSettings, Settings, load_settings
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager


def test_defaults_are_sensible_and_exact() -> None:
    limits = RiskLimits.from_settings(Settings().risk)
    assert limits.max_order_size == 100_00
    assert limits.max_position_per_market == 500_00
    assert limits.max_event_exposure == 250_0000
    assert limits.max_total_exposure == 1_000_0000
    assert limits.max_open_orders == 150
    assert limits.daily_loss_limit == 100_0000
    assert limits.max_through_book == 500
    assert limits.max_fair_value_deviation == 1_000
    assert (limits.max_book_age_ms, limits.feed_stale_ms) == (5_000, 10_000)
    assert limits == RiskLimits.defaults()


def test_environment_sets_risk_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_TRADER_RISK__MAX_POSITION_PER_MARKET", "5")
    monkeypatch.setenv("KALSHI_TRADER_RISK__MAX_EVENT_EXPOSURE_DOLLARS", "12.34")
    monkeypatch.setenv("KALSHI_TRADER_RISK__MAX_OPEN_ORDERS", "7")
    limits = RiskLimits.from_settings(Settings().risk)
    assert (limits.max_position_per_market, limits.max_event_exposure, limits.max_open_orders) == (500, 12_3400, 7)


def test_file_values_convert_exactly(tmp_path: Path) -> None:
    cfg = tmp_path / "kt.toml"
    cfg.write_text(
        "[risk]\n"
        'max_total_exposure_dollars = "1000.10"\n'
        "max_event_exposure_dollars = 0.1\n"  # a TOML float: the literal is kept, not 0.1000000000000000055
        "daily_loss_limit_dollars = 250\n"
        'max_order_size = "2.5"\n'
        "loss_velocity_window_s = 90\n"
    )
    settings = load_settings(cfg)
    assert settings.risk.max_event_exposure_dollars == Decimal("0.1")
    limits = RiskLimits.from_settings(settings.risk)
    assert limits.max_total_exposure == 1_000_1000
    assert limits.max_event_exposure == 1_000
    assert limits.daily_loss_limit == 250_0000
    assert limits.max_order_size == 250
    assert limits.loss_velocity_window_ms == 90_000
    manager = RiskManager.from_settings(settings.risk, clock=Clock())
    assert manager.limits == limits


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("max_position_per_market", "0", "greater than 0"),
        ("max_position_per_market", "-5", "greater than 0"),
        ("max_order_size", "1.005", "decimal places"),
        ("max_total_exposure_dollars", "0.00001", "decimal places"),
        ("max_total_exposure_dollars", "NaN", "finite"),
        ("daily_loss_limit_dollars", "lots", "decimal"),
        ("max_open_orders", "0", "greater than 0"),
        ("max_through_book_dollars", "1.5", "less than or equal to 1"),
        ("feed_stale_s", "0", "greater than 0"),
    ],
)
def test_bad_values_are_rejected_with_the_field_named(
    monkeypatch: pytest.MonkeyPatch, field: str, value: str, words: str
) -> None:
    monkeypatch.setenv(f"KALSHI_TRADER_RISK__{field.upper()}", value)
    with pytest.raises(ValidationError, match=field) as info:
        Settings()
    assert words in str(info.value)


def test_unknown_risk_keys_are_rejected() -> None:
    with pytest.raises(ValidationError, match="max_positon"):
        RiskSettings.model_validate({"max_positon_per_market": 5})
