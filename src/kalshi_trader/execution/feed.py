"""The venue's private events into the engine: fills, order reports, settlements, order groups.

Contract:
- ``EngineEvents(engine, on_gap=...)`` is the ``execution.venue.VenueEvents`` sink a node hands to
  ``Venue.open_stream``: ``on_fill`` / ``on_order_update`` / ``on_order_group_event`` go to the
  engine's inputs of the same names, synchronously (no queue); ``on_settlement`` settles the
  market through ``engine.on_settlement`` stamped with the venue's time (once: a market already
  settled changes nothing; an entry without a payable value is logged and skipped);
  ``on_stream_gap`` (events may have been missed: a reconnect) calls ``on_gap`` — the node's
  reconciler.
- Subclasses add what the node does on top (``after_fill`` and friends are called after the
  engine applied the event); the sink never raises into the venue for a bad event.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from kalshi_trader.domain import Fill, Order
from kalshi_trader.execution.engine import ExecutionEngine
from kalshi_trader.execution.venue import GroupEvent, Settlement

__all__ = ["EngineEvents"]

log = structlog.get_logger(__name__)


class EngineEvents:
    """See the module docstring."""

    def __init__(self, engine: ExecutionEngine, *, on_gap: Callable[[], object] | None = None) -> None:
        self.engine = engine
        self.on_gap = on_gap

    def on_fill(self, fill: Fill) -> bool:
        new = self.engine.on_fill(fill)
        if new:
            self.after_fill(fill)
        return new

    def on_order_update(self, order: Order) -> None:
        self.engine.on_order_update(order)
        self.after_order(order)

    def on_settlement(self, settlement: Settlement) -> None:
        if settlement.yes_value is None:
            log.warning("venue_settlement_unreadable", ticker=settlement.ticker, problem=settlement.problem)
            return
        try:
            settled = self.engine.on_settlement(
                settlement.ticker, settlement.yes_value, ts_ms=settlement.settled_ms, source="venue"
            )
        except ValueError as exc:
            log.warning("venue_settlement_ignored", ticker=settlement.ticker, error=str(exc))
            return
        if settled is not None:
            self.after_settlement(settlement)

    def on_order_group_event(self, group_id: str, kind: GroupEvent) -> None:
        self.engine.on_order_group_event(group_id, kind)
        self.after_group_event(group_id, kind)

    def on_stream_gap(self) -> None:
        if self.on_gap is not None:
            self.on_gap()

    # -- what a node adds ------------------------------------------------------------------

    def after_fill(self, fill: Fill) -> None:
        """A new fill was applied."""

    def after_order(self, order: Order) -> None:
        """An order report was applied."""

    def after_settlement(self, settlement: Settlement) -> None:
        """A settlement was applied (the first report of it)."""

    def after_group_event(self, group_id: str, kind: GroupEvent) -> None:
        """An order-group event was applied."""
