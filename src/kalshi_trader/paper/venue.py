"""The paper venue: ``execution.venue.Venue`` for an account that trades against the live public
book without sending a single order anywhere.

Contract:
- ``await PaperVenue.open(path, starting_cash=..., clock_ms=...)`` opens (or creates) its record
  (``paper.record``) and resumes from it: cash, resting orders with their queue places,
  positions, groups, used ids, settled markets. ``starting_cash`` only funds a new record.
  ``close()`` stops its housekeeping, writes what is pending and closes the record.
- **Fed by the public market data** through plain calls the node makes from the market-data
  events (``add_market``, ``on_book_snapshot``, ``on_book_delta``, ``on_book_stale``,
  ``on_trade``, ``on_market_status``, ``on_market_determined``); matching is
  ``paper.exchange`` / ``paper.queue``. These calls are synchronous and never wait on disk.
- **Durability before acknowledgement.** A request (place, amend, cancel, group change...)
  returns only once its effects are committed to the record; fills that the feed causes are
  committed by a flush scheduled at once. Private events reach the ``VenueEvents`` sink given to
  ``open_stream`` only after the write that holds them, in the order they happened; a crash
  loses nothing anybody was told. A failed write is retried by the next flush (``StoreError``
  is logged); a request whose write failed answers ``VenueTransient`` (it did happen in memory and
  is written by the next flush). Queue positions alone are written at the next flush or
  housekeeping tick (a stale one is only further back).
- Housekeeping every ``tick_s``: the queue model's timers (``PaperExchange.tick``) and a flush.
- Reads answer from memory, or from the record for orders the process no longer holds and for
  fills and settlements (after a flush, so they include everything acknowledged).
- Events before ``open_stream`` are not delivered (a consumer reconciles through the reads
  when it starts, as with Kalshi).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from kalshi_trader.domain import (
    ORDINARY_PRECISION_MICROS,
    BookSide,
    FeeSchedule,
    Fill,
    MarketStatus,
    Money,
    Order,
    Position,
    Qty,
    Side,
    TickGrid,
)
from kalshi_trader.execution.venue import (
    AmendRequest,
    AmendResult,
    Balance,
    CancelResult,
    DecreaseResult,
    OrderGroupInfo,
    PlaceRequest,
    Settlement,
    Venue,
    VenueError,
    VenueEvents,
    VenueNotFound,
    VenueTransient,
)
from kalshi_trader.paper.exchange import PaperExchange, new_uuid
from kalshi_trader.paper.model import GroupNotice, PaperEvent
from kalshi_trader.paper.record import PaperRecord
from kalshi_trader.store import StoreError

__all__ = ["PaperVenue"]

log = structlog.get_logger(__name__)

T = TypeVar("T")


class PaperVenue:
    """See the module docstring."""

    name = "paper"
    max_batch_create = 20
    max_batch_cancel = 20

    def __init__(self, exchange: PaperExchange, record: PaperRecord, *, tick_s: float = 1.0) -> None:
        self.exchange = exchange
        self.record = record
        self.tick_s = tick_s
        self._events: VenueEvents | None = None
        self._lock = asyncio.Lock()
        self._flush: asyncio.Task[None] | None = None
        self._housekeeping: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        starting_cash: Money,
        clock_ms: Callable[[], int],
        new_id: Callable[[], str] = new_uuid,
        precision_micros: int = ORDINARY_PRECISION_MICROS,
        trade_wait_ms: int = 2_000,
        keep_finished: int = 10_000,
        tick_s: float = 1.0,
    ) -> PaperVenue:
        record = await PaperRecord.open(path)
        try:
            snapshot = await record.load()
            if snapshot is None:
                await record.start(starting_cash)
            cash = starting_cash if snapshot is None else snapshot.cash
            exchange = PaperExchange(
                cash=cash,
                clock_ms=clock_ms,
                new_id=new_id,
                precision_micros=precision_micros,
                trade_wait_ms=trade_wait_ms,
                keep_finished=keep_finished,
            )
            if snapshot is not None:
                exchange.restore(
                    reserved=snapshot.reserved,
                    orders=snapshot.resting,
                    positions=snapshot.positions,
                    groups=snapshot.groups,
                    used_client_order_ids=snapshot.used_client_order_ids,
                    settled=snapshot.settled,
                )
        except BaseException:
            await record.close()
            raise
        venue = cls(exchange, record, tick_s=tick_s)
        venue._housekeeping = asyncio.get_running_loop().create_task(venue._housekeep(), name="paper-housekeeping")
        return venue

    async def open_stream(self, events: VenueEvents) -> None:
        self._events = events

    async def close(self) -> None:
        for task in (self._housekeeping, self._flush):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._housekeeping = self._flush = None
        try:
            await self.commit()
        except StoreError as exc:
            log.error("paper_record_not_written", error=str(exc))
        await self.record.close()

    # ------------------------------------------------------------------------------------------
    # The public feed

    def add_market(
        self, ticker: str, grid: TickGrid, fees: FeeSchedule | None = None, status: MarketStatus = MarketStatus.ACTIVE
    ) -> None:
        self.exchange.add_market(ticker, grid, fees, status)
        self._changed()

    def on_book_snapshot(self, ticker: str, yes: Sequence[tuple[int, int]], no: Sequence[tuple[int, int]]) -> None:
        self.exchange.on_book_snapshot(ticker, yes, no)
        self._changed()

    def on_book_delta(self, ticker: str, side: Side, price: int, delta: int) -> None:
        self.exchange.on_book_delta(ticker, side, price, delta)
        self._changed()

    def on_book_stale(self, ticker: str) -> None:
        self.exchange.on_book_stale(ticker)

    def on_trade(self, ticker: str, yes_price: int, qty: int, taker_side: BookSide | None) -> None:
        self.exchange.on_trade(ticker, yes_price, qty, taker_side)
        self._changed()

    def on_market_status(self, ticker: str, status: MarketStatus) -> None:
        self.exchange.on_market_status(ticker, status)
        self._changed()

    def on_market_determined(self, ticker: str, yes_value: int) -> None:
        self.exchange.on_market_determined(ticker, yes_value)
        self._changed()

    def _changed(self) -> None:
        if not self.exchange.urgent or (self._flush is not None and not self._flush.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): the next request or tick flushes
            return
        self._flush = loop.create_task(self._flush_quietly(), name="paper-flush")

    async def _flush_quietly(self) -> None:
        """Commit until nothing urgent is left (the feed may change more while a write runs)."""
        try:
            await self.commit()
            while self.exchange.urgent:
                await self.commit()
        except StoreError as exc:
            log.error("paper_record_write_failed", error=str(exc))

    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            self.exchange.tick()
            await self._flush_quietly()

    # ------------------------------------------------------------------------------------------
    # Durability, then events

    async def commit(self) -> None:
        """Write everything changed so far in one transaction, then deliver its events."""
        async with self._lock:
            if not self.exchange.changed:
                return
            changes = self.exchange.take_changes()
            try:
                await self.record.write(changes)
            except BaseException:
                self.exchange.give_back(changes)
                raise
            self._deliver(changes.events)

    def _deliver(self, events: list[PaperEvent]) -> None:
        sink = self._events
        if sink is None:
            return
        for event in events:
            try:
                if isinstance(event, Fill):
                    sink.on_fill(event)
                elif isinstance(event, Order):
                    sink.on_order_update(event)
                elif isinstance(event, Settlement):
                    sink.on_settlement(event)
                elif isinstance(event, GroupNotice):
                    sink.on_order_group_event(event.group_id, event.kind)
            except Exception:
                log.exception("paper_event_sink_failed", event=type(event).__name__)

    async def _durable(self, result: T) -> T:
        """``result`` once what produced it is on disk."""
        try:
            await self.commit()
        except StoreError as exc:
            raise VenueTransient(f"the paper record could not be written: {exc}", code="record_unavailable") from None
        return result

    # ------------------------------------------------------------------------------------------
    # Order entry

    async def place(self, request: PlaceRequest) -> Order:
        return await self._durable(self.exchange.place(request))

    async def place_batch(self, requests: list[PlaceRequest]) -> list[Order | VenueError]:
        return await self._durable([_attempt(self.exchange.place, r) for r in requests])

    async def amend(self, order_id: str, request: AmendRequest) -> AmendResult:
        return await self._durable(self.exchange.amend(order_id, request))

    async def decrease(
        self,
        order_id: str,
        *,
        reduce_by: Qty | None = None,
        reduce_to: Qty | None = None,
        ticker: str | None = None,
    ) -> DecreaseResult:
        return await self._durable(self.exchange.decrease(order_id, reduce_by=reduce_by, reduce_to=reduce_to))

    async def cancel(self, order_id: str, *, ticker: str | None = None) -> CancelResult:
        return await self._durable(self.exchange.cancel(order_id))

    async def cancel_batch(
        self, order_ids: list[str], *, tickers: Mapping[str, str] | None = None
    ) -> list[CancelResult | VenueError]:
        return await self._durable([_attempt(self.exchange.cancel, o) for o in order_ids])

    async def cancel_all(self) -> None:
        await self._durable(self.exchange.cancel_all())

    # ------------------------------------------------------------------------------------------
    # Reads

    async def get_order(self, order_id: str, *, ticker: str | None = None) -> Order:
        order = self.exchange.order(order_id)
        if order is None:
            await self._durable(None)  # an ended order the exchange let go of may be on its way to disk
            order = await self.record.order(order_id)
        if order is None:
            raise VenueNotFound(f"order {order_id} not found", code="not_found")
        return order

    async def find_order(self, client_order_id: str, *, ticker: str | None = None) -> Order | None:
        order = self.exchange.find_order(client_order_id)
        if order is None:
            await self._durable(None)
            order = await self.record.order(client_order_id=client_order_id)
        return order if order is not None and (ticker is None or order.ticker == ticker) else None

    async def resting_orders(self, ticker: str | None = None) -> list[Order]:
        return self.exchange.resting_orders(ticker)

    async def fills_since(self, since_ms: int | None) -> list[Fill]:
        await self._durable(None)
        return await self.record.fills_since(since_ms)

    async def settlements_since(self, since_ms: int | None) -> list[Settlement]:
        await self._durable(None)
        return await self.record.settlements_since(since_ms)

    async def settlements_of(self, tickers: Sequence[str]) -> list[Settlement]:
        """Nothing is archived here: ``settlements_since`` lists every settlement."""
        return []

    async def positions(self) -> list[Position]:
        return self.exchange.positions()

    async def balance(self) -> Balance:
        return self.exchange.balance()

    def queue_position(self, order_id: str) -> Qty:
        """Displayed contracts ahead of a resting paper order (0 if it is not resting)."""
        return self.exchange.queue_position(order_id)

    # ------------------------------------------------------------------------------------------
    # Order groups

    async def create_order_group(self, contracts_limit: Qty) -> str:
        return await self._durable(self.exchange.create_group(contracts_limit))

    async def order_groups(self) -> list[OrderGroupInfo]:
        return self.exchange.groups()

    async def trigger_order_group(self, group_id: str) -> None:
        self.exchange.trigger_group(group_id)
        await self._durable(None)

    async def reset_order_group(self, group_id: str) -> None:
        self.exchange.reset_group(group_id)
        await self._durable(None)

    async def set_order_group_limit(self, group_id: str, contracts_limit: Qty) -> None:
        self.exchange.set_group_limit(group_id, contracts_limit)
        await self._durable(None)

    async def delete_order_group(self, group_id: str) -> None:
        self.exchange.delete_group(group_id)
        await self._durable(None)


def _attempt(call: Callable[[Any], T], arg: Any) -> T | VenueError:
    try:
        return call(arg)
    except VenueError as exc:
        return exc


if TYPE_CHECKING:

    def _implements_the_port(venue: PaperVenue) -> Venue:
        return venue
