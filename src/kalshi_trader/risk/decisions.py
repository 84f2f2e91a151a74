"""What risk says: rule names, decisions, requested actions and audit events — frozen values.

Contract:
- ``Rule`` is the complete list of risk's rule names. Each value is stable (the audit log and
  ``GUARDS.md`` use it) and every one has a row in ``risk/GUARDS.md`` (a test checks both ways).
- ``RiskDecision`` is the verdict on one intent: approved or not, the one rule that decided, a reason
  a person can read, the reservation it holds (approved places and amends) and the numbers behind
  it (``details``, read-only: a mapping given is copied, except a ``MappingProxyType``, which is
  kept as the view it is — risk hands over one of a dict it never touches again).
- ``RiskAction`` is something risk asks the actor (the execution engine) to do — risk itself never
  acts: cancel every resting order, or flatten the listed markets.
- ``RiskEvent`` is an audit record of a state change: a breaker tripped or reset, the kill switch
  engaged or reset, a new trading day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import msgspec

__all__ = ["ActionKind", "EventKind", "RiskAction", "RiskDecision", "RiskEvent", "Rule"]


class Rule(StrEnum):
    """Every rule risk applies, by its stable audit name."""

    APPROVED = "approved"
    INVALID_INTENT = "invalid_intent"
    UNKNOWN_MARKET = "unknown_market"
    MARKET_NOT_ACTIVE = "market_not_active"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    UNKNOWN_ORDER = "unknown_order"
    KILL_SWITCH = "kill_switch"
    CONSECUTIVE_ERRORS = "consecutive_errors"
    LOSS_VELOCITY = "loss_velocity"
    FEED_DOWN = "feed_down"
    DAILY_LOSS_LIMIT = "daily_loss_limit"
    MAX_ORDER_SIZE = "max_order_size"
    PRICE_OFF_GRID = "price_off_grid"
    BELOW_SETTLEMENT_FLOOR = "below_settlement_floor"
    STALE_BOOK = "stale_book"
    PRICE_THROUGH_BOOK = "price_through_book"
    PRICE_FAR_FROM_FAIR = "price_far_from_fair"
    MAX_OPEN_ORDERS = "max_open_orders"
    MAX_POSITION_PER_MARKET = "max_position_per_market"
    MAX_EVENT_EXPOSURE = "max_event_exposure"
    MAX_TOTAL_EXPOSURE = "max_total_exposure"
    RATE_BUDGET = "rate_budget"


BREAKERS = (Rule.CONSECUTIVE_ERRORS, Rule.LOSS_VELOCITY, Rule.FEED_DOWN, Rule.DAILY_LOSS_LIMIT)
"""The rules that are circuit breakers: latched states, tripped by events, that block new risk."""


_force_setattr = msgspec.structs.force_setattr


class RiskDecision(msgspec.Struct, frozen=True):
    approved: bool
    reason: str
    rule: Rule
    reservation_id: str | None = None
    details: Mapping[str, int | str] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        details = self.details
        if type(details) is not MappingProxyType:  # risk hands over a view of a dict of its own
            _force_setattr(self, "details", MappingProxyType(dict(details)))

    def __str__(self) -> str:
        verdict = "approved" if self.approved else "rejected"
        return f"{verdict} [{self.rule.value}] {self.reason}"


class ActionKind(StrEnum):
    CANCEL_ALL = "cancel_all"
    """Cancel every resting order."""
    FLATTEN = "flatten"
    """Close the positions in ``tickers`` with reduce-only orders."""


@dataclass(frozen=True, slots=True)
class RiskAction:
    kind: ActionKind
    rule: Rule
    reason: str
    tickers: tuple[str, ...] = ()


class EventKind(StrEnum):
    BREAKER_TRIPPED = "breaker_tripped"
    BREAKER_RESET = "breaker_reset"
    KILL_SWITCH_ENGAGED = "kill_switch_engaged"
    KILL_SWITCH_RESET = "kill_switch_reset"
    DAY_STARTED = "day_started"


@dataclass(frozen=True, slots=True)
class RiskEvent:
    ts_ms: int
    kind: EventKind
    rule: Rule | None
    reason: str
    who: str = "risk"
    """Who caused it: ``risk`` (automatic) or the person/process named in a manual call."""
