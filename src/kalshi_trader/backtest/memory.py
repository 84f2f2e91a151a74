"""Where a backtest's records go: memory, not disk.

Contract:
- ``MemoryPaperRecord`` is the paper venue's record kept in memory: ``write(changes)`` keeps the
  latest state of every order and every fill and settlement (each once: fills by ``fill_id``,
  settlements by ticker); ``order``, ``fills_since`` and ``settlements_since`` answer from it as
  the SQLite record does (``load`` has nothing to resume). A backtest starts from nothing and ends
  with its result, so nothing needs to outlive the process; the venue's logic is unchanged.
- ``DiscardSink`` is a ``store.Recorder`` sink that accepts every batch and keeps nothing: the
  engine records its audit trail exactly as it does live (the same calls, the same durable points
  before each order leaves), only no database is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kalshi_trader.domain import Fill, Order
from kalshi_trader.execution.venue import Settlement
from kalshi_trader.paper.model import Changes, PaperOrder
from kalshi_trader.paper.record import PaperRecord, Snapshot
from kalshi_trader.store.ops import Op

__all__ = ["DiscardSink", "MemoryPaperRecord"]


class MemoryPaperRecord(PaperRecord):
    """See the module docstring."""

    def __init__(self) -> None:  # no database: nothing of the parent's state is used
        self.path = Path("(memory)")
        self._orders: dict[str, PaperOrder] = {}
        """The latest copy of each order (read back as an ``Order`` only when asked for)."""
        self._by_client: dict[str, str] = {}
        self._fills: dict[str, Fill] = {}
        self._settlements: dict[str, Settlement] = {}

    async def close(self) -> None:
        return None

    async def write(self, changes: Changes) -> None:
        for order in changes.orders:  # copies: they do not change after
            self._orders[order.order_id] = order
            self._by_client[order.client_order_id] = order.order_id
        for fill in changes.fills:
            self._fills.setdefault(fill.fill_id, fill)
        for settlement in changes.settlements:
            self._settlements.setdefault(settlement.ticker, settlement)

    async def load(self) -> Snapshot | None:
        return None

    async def order(self, order_id: str | None = None, *, client_order_id: str | None = None) -> Order | None:
        key = order_id if order_id is not None else self._by_client.get(client_order_id or "")
        found = self._orders.get(key) if key is not None else None
        return None if found is None else found.to_order()

    async def fills_since(self, since_ms: int | None) -> list[Fill]:
        chosen = [f for f in self._fills.values() if since_ms is None or f.ts_ms >= since_ms]
        return sorted(chosen, key=lambda f: (f.ts_ms, f.fill_id))

    async def settlements_since(self, since_ms: int | None) -> list[Settlement]:
        chosen = [s for s in self._settlements.values() if since_ms is None or s.settled_ms >= since_ms]
        return sorted(chosen, key=lambda s: (s.settled_ms, s.ticker))


class DiscardSink:
    """See the module docstring."""

    batches = 0

    async def apply(self, ops: Sequence[Op]) -> None:
        self.batches += 1

    def describe_failure(self, context: str, exc: BaseException) -> str:
        return f"{context}: {exc}"
