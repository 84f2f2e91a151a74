"""Risk limits as exact integers, built from the ``risk`` settings.

Contract: every amount is a domain integer — contracts in ``Qty`` (hundredths), dollars in ``Money``
and price distances in ``Price`` ($0.0001), durations in milliseconds. Settings arrive as ``Decimal``
values already validated for their number of decimals (``config.RiskSettings``), so the conversion
here is exact; a value that would not be exact raises ``ValueError`` instead of rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kalshi_trader.config import RiskSettings
from kalshi_trader.domain import PRICE_SCALE, QTY_SCALE, Money, Price, Qty

__all__ = ["RiskLimits"]


def _exact(value: Decimal, scale: int, what: str) -> int:
    scaled = value * scale
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{what} {value} is finer than 1/{scale}")
    return int(scaled)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    max_order_size: Qty
    max_position_per_market: Qty
    max_event_exposure: Money
    max_total_exposure: Money
    max_open_orders: int
    daily_loss_limit: Money
    max_writes_per_second: int
    max_through_book: Price
    max_fair_value_deviation: Price
    max_book_age_ms: int
    max_consecutive_errors: int
    error_cooldown_ms: int
    loss_velocity_limit: Money
    loss_velocity_window_ms: int
    loss_velocity_cooldown_ms: int
    feed_stale_ms: int

    @staticmethod
    def from_settings(s: RiskSettings) -> RiskLimits:
        return RiskLimits(
            max_order_size=Qty(_exact(s.max_order_size, QTY_SCALE, "max_order_size")),
            max_position_per_market=Qty(_exact(s.max_position_per_market, QTY_SCALE, "max_position_per_market")),
            max_event_exposure=Money(_exact(s.max_event_exposure_dollars, PRICE_SCALE, "max_event_exposure")),
            max_total_exposure=Money(_exact(s.max_total_exposure_dollars, PRICE_SCALE, "max_total_exposure")),
            max_open_orders=s.max_open_orders,
            daily_loss_limit=Money(_exact(s.daily_loss_limit_dollars, PRICE_SCALE, "daily_loss_limit")),
            max_writes_per_second=s.max_writes_per_second,
            max_through_book=Price(_exact(s.max_through_book_dollars, PRICE_SCALE, "max_through_book")),
            max_fair_value_deviation=Price(
                _exact(s.max_fair_value_deviation_dollars, PRICE_SCALE, "max_fair_value_deviation")
            ),
            max_book_age_ms=_ms(s.max_book_age_s),
            max_consecutive_errors=s.max_consecutive_errors,
            error_cooldown_ms=_ms(s.error_cooldown_s),
            loss_velocity_limit=Money(_exact(s.loss_velocity_limit_dollars, PRICE_SCALE, "loss_velocity_limit")),
            loss_velocity_window_ms=_ms(s.loss_velocity_window_s),
            loss_velocity_cooldown_ms=_ms(s.loss_velocity_cooldown_s),
            feed_stale_ms=_ms(s.feed_stale_s),
        )

    @staticmethod
    def defaults() -> RiskLimits:
        return RiskLimits.from_settings(RiskSettings())
