"""The live public market data into the paper venue: what a paper node's orders match against.

Contract:
- ``PaperFeed(venue, monitor, reads)``; ``attach()`` subscribes to the monitor's events and hands
  the paper venue every followed market (grid, status, its series' fees) and, as they come, every
  book snapshot (the whole L2 book), delta, staleness, public trade, status change and result:
  ``BookChanged`` → ``on_book_snapshot`` / ``on_book_delta``; ``BookStale`` → ``on_book_stale``;
  ``TradePrinted`` → ``on_trade``; ``MarketLifecycle`` → ``add_market`` (added, new grid),
  ``on_market_status`` (paused, resumed, closed) and ``on_market_determined`` (the YES value:
  the settlement value when given, else $1 for ``yes`` and $0 for ``no``).
- Fees: each series is read once (``reads.get_series``, a public read) for its fee type and
  multiplier; until that answer arrives (or if it fails: logged) the market trades on the
  default schedule (quadratic, multiplier 1), then on the series' own.
- Everything is synchronous on the monitor's callbacks except the series reads (tasks; ``close``
  cancels them).
- **Own orders on the book.** On Kalshi the public book shows our resting orders; the live feed a
  paper node reads cannot (they never reached Kalshi). ``own_levels(orders)`` gathers the paper
  orders that rest (YES bids by YES price, NO bids — our asks — by NO price) and
  ``with_own(levels, own, depth)`` lays them over one ladder (best first), so strategies and the
  engine see the book they would see on Kalshi (and do not, e.g., quote a post-only bid into
  their own ask). ``best_without_own(levels, own)`` is the reverse for a book that shows them
  (Kalshi's): the best price of a ladder once our own orders are taken out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

import structlog

from kalshi_trader.domain import (
    PRICE_SCALE,
    BookSide,
    FeeSchedule,
    Level,
    MarketInfo,
    MarketStatus,
    Price,
    Qty,
    Side,
    complement,
)
from kalshi_trader.execution.orders import TrackedOrder
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.errors import KalshiError
from kalshi_trader.kalshi.readonly import PublicReads
from kalshi_trader.marketdata.monitor import (
    BookChanged,
    BookStale,
    MarketLifecycle,
    Monitor,
    TradePrinted,
)
from kalshi_trader.paper.venue import PaperVenue

__all__ = ["PaperFeed", "best_without_own", "own_levels", "with_own"]

log = structlog.get_logger(__name__)

_STATUS_KINDS = frozenset({"activated", "deactivated", "closed", "settled"})


class PaperFeed:
    """See the module docstring."""

    def __init__(self, venue: PaperVenue, monitor: Monitor, reads: PublicReads) -> None:
        self.venue = venue
        self.monitor = monitor
        self.reads = reads
        self._fees: dict[str, FeeSchedule] = {}
        self._asked: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    def attach(self) -> None:
        """Follow the monitor from now on (call after ``monitor.start()``: its markets are added)."""
        for info in self.monitor.markets.values():
            self._add(info)
            book = self.monitor.book(info.ticker)
            if book is not None and not book.stale:
                self.venue.on_book_snapshot(info.ticker, *book.as_tuples())
        self.monitor.subscribe(BookChanged, self._on_book)
        self.monitor.subscribe(BookStale, self._on_stale)
        self.monitor.subscribe(TradePrinted, self._on_trade)
        self.monitor.subscribe(MarketLifecycle, self._on_lifecycle)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _add(self, info: MarketInfo) -> None:
        self.venue.add_market(info.ticker, info.grid, self._fees.get(info.series_ticker), info.status)
        series = info.series_ticker
        if series and series not in self._asked:
            self._asked.add(series)
            task = asyncio.get_running_loop().create_task(self._read_fees(series), name=f"paper-fees-{series}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _read_fees(self, series: str) -> None:
        try:
            fees = convert.fee_schedule(await self.reads.get_series(series))
        except (KalshiError, ValueError) as exc:
            log.warning("paper_fees_unknown", series=series, error=str(exc))
            return
        self._fees[series] = fees
        for info in self.monitor.markets.values():
            if info.series_ticker == series:
                self.venue.add_market(info.ticker, info.grid, fees, info.status)

    def _on_book(self, event: BookChanged) -> None:
        side = event.side
        if side == "":
            self.venue.on_book_snapshot(event.ticker, *event.book.as_tuples())
        else:
            self.venue.on_book_delta(
                event.ticker, side if isinstance(side, Side) else Side(side), event.price, event.delta
            )

    def _on_stale(self, event: BookStale) -> None:
        self.venue.on_book_stale(event.ticker)

    def _on_trade(self, event: TradePrinted) -> None:
        self.venue.on_trade(event.ticker, event.yes_price, event.qty, event.taker_side)

    def _on_lifecycle(self, event: MarketLifecycle) -> None:
        info, kind = event.info, event.kind
        if info is None:
            return
        if kind in ("added", "price_level_structure_updated"):
            self._add(info)
        elif kind == "closed":
            self.venue.on_market_status(info.ticker, MarketStatus.CLOSED)
        elif kind in _STATUS_KINDS:
            self.venue.on_market_status(info.ticker, info.status)
        elif kind == "determined":
            value = event.settlement_value
            if value is None and event.result in ("yes", "no"):
                value = Price(PRICE_SCALE if event.result == "yes" else 0)
            if value is not None:
                try:
                    self.venue.on_market_determined(info.ticker, value)
                except ValueError as exc:
                    log.warning("paper_settlement_ignored", ticker=info.ticker, error=str(exc))


def own_levels(orders: Iterable[TrackedOrder]) -> tuple[dict[int, int], dict[int, int]]:
    """What our resting orders add to the book: (YES bids by YES price, NO bids by NO price)."""
    yes: dict[int, int] = {}
    no: dict[int, int] = {}
    for t in orders:
        if t.order_id is None or not t.state.is_open or t.remaining <= 0:
            continue
        if t.side is BookSide.BID:
            yes[t.price] = yes.get(t.price, 0) + t.remaining
        else:
            leg = complement(t.price)
            no[leg] = no.get(leg, 0) + t.remaining
    return yes, no


def best_without_own(levels: Sequence[Level], own: dict[int, int]) -> Price | None:
    """The best price of one bid ladder (best first, at least ``len(own) + 1`` levels of it) that
    holds more than our own orders at that price; None when only ours are left."""
    for level in levels:
        if int(level.qty) > own.get(int(level.price), 0):
            return level.price
    return None


def with_own(levels: Sequence[Level], own: dict[int, int], depth: int) -> list[Level]:
    """One bid ladder (best first) with our own orders added, cut to ``depth`` levels."""
    if not own:
        return list(levels[:depth])
    merged = {int(level.price): int(level.qty) for level in levels}
    for price, qty in own.items():
        merged[price] = merged.get(price, 0) + qty
    return [Level(Price(p), Qty(q)) for p, q in sorted(merged.items(), reverse=True)[:depth]]
