"""An account for engine tests without sockets: the real engine, risk and record (SQLite) against
the paper venue (the real local matching) in one market, on a clock that moves 10 ms per read.

``paper_account(tmp_path, venue=..., events=...)`` yields an ``Account`` with the market
``T`` (YES 0.50 bid / 0.56 ask, 30 contracts a side) registered and its top of book given to the
engine. ``venue`` wraps the paper venue the engine talks to (default: none); ``events`` receives
the venue's private events (default: the engine, as the node wires it)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kalshi_trader.config import RiskSettings
from kalshi_trader.domain import (
    BookSide,
    MarketInfo,
    MarketStatus,
    Price,
    Qty,
    TickGrid,
    TimeInForce,
    TopOfBook,
    parse_money,
)
from kalshi_trader.execution.engine import EngineConfig, ExecutionEngine
from kalshi_trader.execution.feed import EngineEvents
from kalshi_trader.execution.orders import OrderState
from kalshi_trader.paper.venue import PaperVenue
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.store import Store

T = "KXHIGHCHI-26DEC08-B27.5"
SELL, BUY = BookSide.ASK, BookSide.BID
GTC, IOC = TimeInForce.GOOD_TILL_CANCELED, TimeInForce.IMMEDIATE_OR_CANCEL
GRID = TickGrid.named("linear_cent")


def c(n: int) -> Qty:
    """``n`` whole contracts."""
    return Qty(n * 100)


@dataclass
class Account:
    venue: PaperVenue
    engine: ExecutionEngine
    clock: Callable[[], int]

    def book(self, bid: int, ask: int) -> None:
        self.engine.on_book(TopOfBook(T, Price(bid), Price(ask), self.clock()))

    async def until(self, condition: Callable[[], bool]) -> None:
        for _ in range(500):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the condition never held")

    def position(self) -> int:
        return self.engine.tracker.position(T).qty

    def state(self, coid: str) -> OrderState:
        t = self.engine.tracker.order(coid)
        assert t is not None
        return t.state


@asynccontextmanager
async def paper_account(
    tmp_path: Path,
    *,
    venue: Callable[[PaperVenue], Any] = lambda v: v,
    events: Callable[[ExecutionEngine], Any] = EngineEvents,
) -> AsyncIterator[Account]:
    ms = itertools.count(1_767_268_800_000, 10)

    def clock() -> int:
        return next(ms)

    async with AsyncExitStack() as stack:
        ids = itertools.count(1)
        paper = await PaperVenue.open(
            tmp_path / "paper.db",
            starting_cash=parse_money("1000.00"),
            clock_ms=clock,
            new_id=lambda: f"o-{next(ids)}",
            tick_s=3600,
        )
        stack.push_async_callback(paper.close)
        store = await Store.open(f"sqlite:///{tmp_path / 'record.db'}")
        stack.push_async_callback(store.close)
        recorder = store.recorder()
        stack.push_async_callback(recorder.close)
        settings = RiskSettings(max_writes_per_second=1_000, max_open_orders=1_000)
        risk = RiskManager(RiskLimits.from_settings(settings), clock=clock, market_clock=clock)
        engine = ExecutionEngine(
            venue(paper), risk, recorder, config=EngineConfig(tick_s=3600), clock_ms=clock, market_ms=clock
        )
        paper.add_market(T, GRID)
        paper.on_book_snapshot(T, [(Price(5000), c(30))], [(Price(4400), c(30))])
        engine.register_market(MarketInfo(T, "KXHIGHCHI-26DEC08", "KXHIGHCHI", MarketStatus.ACTIVE, GRID, 2**62))
        await paper.open_stream(events(engine))
        await engine.start()
        stack.push_async_callback(engine.close)
        account = Account(paper, engine, clock)
        account.book(5000, 5600)
        yield account
