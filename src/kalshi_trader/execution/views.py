"""Read models of the execution engine: frozen values for the node, the web dashboard and the CLI.

Contract: every value here is immutable and made of domain types, ints and strings, so a reader
can keep it, compare it or serialise it while the engine goes on. ``Result`` is what one
submission came to; ``EngineStatus`` is one consistent picture of the engine (taken between two
event-loop steps); ``CancelAllReport`` and ``ReconcileReport`` describe one sweep each.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kalshi_trader.domain import BookSide, Position, Price, Qty
from kalshi_trader.execution.orders import TrackedOrder
from kalshi_trader.risk.breakers import BreakerState
from kalshi_trader.risk.manager import KillSwitchState

__all__ = [
    "BracketView",
    "CancelAllReport",
    "Discrepancy",
    "EngineStatus",
    "GroupView",
    "Outcome",
    "ReconcileReport",
    "Result",
]


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    """The exchange did it (an order was created, amended, decreased or canceled)."""
    REFUSED = "refused"
    """Risk or the engine said no: nothing was sent."""
    REJECTED = "rejected"
    """The exchange said no (or the order was no longer there)."""
    UNKNOWN = "unknown"
    """No answer after every retry: the order may exist; a lookup by client_order_id, and
    reconciliation after it, decide."""
    PURGED = "purged"
    """Dropped from the queue before it was sent (kill switch, breaker, shutdown, store failure)."""


@dataclass(frozen=True, slots=True)
class Result:
    client_order_id: str
    outcome: Outcome
    reason: str
    order: TrackedOrder | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


@dataclass(frozen=True, slots=True)
class BracketView:
    bracket_id: str
    ticker: str
    strategy: str
    state: str
    held_side: BookSide
    open_qty: Qty
    take_profit: Price
    stop_loss: Price
    take_profit_order: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class GroupView:
    strategy: str
    group_id: str
    triggered: bool


@dataclass(frozen=True, slots=True)
class CancelAllReport:
    reason: str
    canceled: int
    """Orders the sweep canceled at the exchange."""
    still_resting: int
    """Resting orders the exchange listed after the last round (0 is success; -1: it could not be
    listed)."""
    rounds: int
    groups_triggered: int
    purged: int
    """Queued places/amends dropped before they were sent."""

    @property
    def clean(self) -> bool:
        return self.still_resting == 0


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """Something the exchange and the engine disagreed about, and what was done."""

    kind: str
    subject: str
    detail: str


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    reason: str
    duration_ms: int
    resting: int
    """Resting orders at the exchange after the sweep (before any cancel it queued)."""
    new_fills: int
    adopted: int
    canceled: int
    resolved: int
    """Orders whose state the sweep corrected (missed reports, lost acks, never sent)."""
    protected: int
    """Open positions whose protective exits were (re)built or checked."""
    discrepancies: tuple[Discrepancy, ...]
    positions: tuple[Position, ...]


@dataclass(frozen=True, slots=True)
class EngineStatus:
    running: bool
    halted: bool
    kill_switch: KillSwitchState | None
    breakers: tuple[BreakerState, ...]
    queue_depth: int
    in_flight: str | None
    open_orders: int
    unknown_orders: int
    """Orders whose create got no answer and are not resolved yet."""
    positions: tuple[Position, ...]
    brackets: tuple[BracketView, ...]
    groups: tuple[GroupView, ...]
    submitted: int
    refused: int
    rejected: int
    errors: int
    last_fill_ms: int
