"""What the engine's helpers see of it: the ``Desk`` protocol, its configuration and submissions.

Contract:
- ``Desk`` is the narrow view of the ``ExecutionEngine`` that ``protection`` (brackets) and
  ``safety`` (kill switch, cancel-all, flatten, order groups) work through: submit and refuse
  intents, read the tracker, books and grids, keep risk in step, audit, queue jobs, and reach
  the venue. They import this module, never the engine, so ``engine → protection / safety →
  desk`` has no cycle.
- ``EngineConfig``: the engine's settings. ``Submission``: one intent handed to the engine — the
  verdict now and an awaitable ``Result`` resolved when the venue answered; ``request`` is the
  venue's ``PlaceRequest`` built on the hot path (places only).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kalshi_trader.domain import BookSide, Order, OrderIntent, Price, Qty, SelfTradePrevention, TickGrid, TopOfBook
from kalshi_trader.execution.orders import OrderTracker, TrackedOrder
from kalshi_trader.execution.queue import ExecutionQueue
from kalshi_trader.execution.venue import PlaceRequest, Venue
from kalshi_trader.execution.views import Result
from kalshi_trader.risk.decisions import RiskDecision
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.store import Recorder

__all__ = ["Desk", "EngineConfig", "Submission"]


@dataclass(frozen=True, slots=True)
class EngineConfig:
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS
    order_group_limit: Qty | None = Qty(1_000_000)
    """Contracts one strategy's group may fill in 15 s before the venue cancels its orders
    (10,000 by default); None: no order groups."""
    stop_slippage: Price = Price(300)
    """Default distance past the touch a stop's aggressive exit may go ($0.03)."""
    retry_ms: int = 250
    """Wait before retrying a protective action risk refused (stale book, write budget)."""
    tick_s: float = 1.0
    """Period of the housekeeping tick (risk timers, P&L, retries)."""
    cancel_all_rounds: int = 5
    pnl_record_s: float = 60.0
    """Least time (on risk's clock) between two refreshes of the day's ``daily_pnl`` row."""


@dataclass(eq=False, slots=True)
class Submission:
    """One intent handed to the engine: the verdict now, the venue's answer later (``await``)."""

    intent: OrderIntent
    approved: bool
    rule: str
    reason: str
    decision: RiskDecision | None
    result: asyncio.Future[Result]
    request: PlaceRequest | None = None
    """The venue request built on the hot path (places only)."""

    def __await__(self) -> Generator[Any, None, Result]:
        return asyncio.shield(self.result).__await__()


class Desk(Protocol):
    """The engine as its helpers see it (``ExecutionEngine`` implements it)."""

    venue: Venue
    risk: RiskManager
    recorder: Recorder
    tracker: OrderTracker
    config: EngineConfig
    queue: ExecutionQueue
    clock_ms: Callable[[], int]
    """Risk's clock (monotonic ms)."""
    market_ms: Callable[[], int]
    """Market time (epoch ms)."""

    @property
    def running(self) -> bool: ...

    def submit(
        self, intent: OrderIntent, *, book: TopOfBook | None = None, fair_value: int | None = None
    ) -> Submission: ...

    def refuse(self, intent: OrderIntent, rule: str, reason: str, decision: RiskDecision | None) -> Submission: ...

    def book(self, ticker: str) -> TopOfBook | None: ...

    def grid(self, ticker: str) -> TickGrid | None: ...

    def working_orders(self, ticker: str) -> list[TrackedOrder]: ...

    def sellable(self, ticker: str, side: BookSide, working: Sequence[TrackedOrder] | None = None) -> int: ...

    def protective(self, intent: OrderIntent) -> bool: ...

    def on_order_update(self, order: Order) -> TrackedOrder: ...

    def record_state(
        self, t: TrackedOrder, event: str, payload: dict[str, Any] | None = None, ts_ms: int | None = None
    ) -> None: ...

    def sync_risk(self, client_order_id: str) -> None: ...

    def maintain_all(self) -> None:
        """Re-check every bracket (after a sweep or a reset)."""
        ...

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None: ...
