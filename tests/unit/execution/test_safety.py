"""The cancel-all sweep's batch cancels (execution/safety.py) tell the order tracker what the
exchange had filled, as a single cancel does: an order that fills just before its batch cancel is
never taken for less filled than it is while its fills are on their way.

The real engine, risk and record against the paper venue, whose one-request cancel-all is refused
(so the sweep cancels in batches) and whose private events never reach the engine (the fills are
"on their way" for the whole test)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.execution.kit import BUY, SELL, T, c, paper_account

from kalshi_trader.domain import OrderIntent, Price, Side
from kalshi_trader.execution.engine import ExecutionEngine
from kalshi_trader.execution.orders import OrderState
from kalshi_trader.execution.venue import CancelResult, VenueError, VenueRejected
from kalshi_trader.paper.venue import PaperVenue

pytestmark = pytest.mark.timeout(60)


class Deaf:
    """A private-event sink that hears nothing (the engine never learns of a fill by the feed)."""

    def __init__(self, engine: ExecutionEngine) -> None:
        pass

    def __getattr__(self, name: str) -> object:
        return lambda *args, **kw: None


class BatchesOnly:
    """The paper venue, but a cancel-all request is refused, and sellers hit our resting bid at
    0.50 just before the first batch cancel reaches the exchange."""

    def __init__(self, venue: PaperVenue) -> None:
        self.venue = venue
        self.batches = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.venue, name)

    async def cancel_all(self) -> None:
        raise VenueRejected("cancel-all is not available", code="unavailable")

    async def cancel_batch(self, order_ids: list[str], **kw: object) -> list[CancelResult | VenueError]:
        if not self.batches:  # 34 sold at 0.50: the 30 ahead of us, then 4 of ours
            self.venue.on_book_delta(T, Side.YES, Price(5000), -c(34))
            self.venue.on_trade(T, Price(5000), c(34), SELL)
        self.batches += 1
        return await self.venue.cancel_batch(order_ids, **kw)  # type: ignore[arg-type]


async def test_a_batch_cancel_tells_the_tracker_what_the_exchange_had_filled(tmp_path: Path) -> None:
    wrapped: list[BatchesOnly] = []

    def venue(paper: PaperVenue) -> BatchesOnly:
        wrapped.append(BatchesOnly(paper))
        return wrapped[0]

    async with paper_account(tmp_path, venue=venue, events=Deaf) as account:
        engine = account.engine
        assert (await engine.submit(OrderIntent.place(T, BUY, Price(5000), c(10), "bid-1"))).ok
        report = await engine.cancel_all(reason="test sweep")
        assert wrapped[0].batches == 1
        assert (report.canceled, report.still_resting) == (1, 0)
        t = engine.tracker.order("bid-1")
        assert t is not None
        assert t.state is OrderState.CANCELED
        assert t.filled == c(4)  # the batch answer's reduced_by: 10 - 6
        assert t.unconfirmed_fill_qty == c(4)  # reported filled, fills not yet received
