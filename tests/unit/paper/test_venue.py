"""The paper venue over its record: events only after they are durable, every request answered in
domain values, and the same state after a restart — or after a crash, for everything anybody
was told."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from tests.unit.paper.kit import ASK, BID, CASH, GTC, IOC, TICKER, YES, Clock, px, qty, usd

from kalshi_trader.domain import Fill, MarketStatus, Order, OrderStatus, TickGrid
from kalshi_trader.execution.venue import (
    AmendRequest,
    GroupEvent,
    PlaceRequest,
    Settlement,
    VenueNotFound,
    VenueRejected,
    VenueTransient,
)
from kalshi_trader.paper.model import Changes
from kalshi_trader.paper.record import PaperRecord
from kalshi_trader.paper.venue import PaperVenue
from kalshi_trader.store import StoreError


class Sink:
    """A ``VenueEvents`` that keeps every event, in order."""

    def __init__(self) -> None:
        self.events: list[object] = []

    def on_order_update(self, order: Order) -> None:
        self.events.append(order)

    def on_fill(self, fill: Fill) -> None:
        self.events.append(fill)

    def on_settlement(self, settlement: Settlement) -> None:
        self.events.append(settlement)

    def on_order_group_event(self, group_id: str, kind: GroupEvent) -> None:
        self.events.append((group_id, kind))

    def on_stream_gap(self) -> None:
        self.events.append("gap")

    def fills(self) -> list[Fill]:
        return [e for e in self.events if isinstance(e, Fill)]


async def open_venue(path: Path, clock: Clock, tag: str = "a") -> PaperVenue:
    counter = itertools.count(1)
    venue = await PaperVenue.open(
        path, starting_cash=CASH, clock_ms=clock, new_id=lambda: f"{tag}-{next(counter)}", tick_s=3600
    )
    venue.add_market(TICKER, TickGrid.named("linear_cent"))
    venue.on_book_snapshot(TICKER, [(px("0.50"), qty("30"))], [(px("0.44"), qty("20"))])  # 0.50 / 0.56
    return venue


def request(price: str, count: str, coid: str, *, side: object = BID, tif: object = GTC) -> PlaceRequest:
    return PlaceRequest(TICKER, side, px(price), qty(count), coid, time_in_force=tif)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def venue(tmp_path: Path, clock: Clock) -> AsyncIterator[PaperVenue]:
    v = await open_venue(tmp_path / "paper.db", clock)
    yield v
    await v.close()


async def until(condition: Callable[[], bool]) -> None:
    """Let the event loop run until ``condition`` holds."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def abandon(venue: PaperVenue) -> None:
    """What a SIGKILL leaves: no final flush — only the tasks stopped and the file let go."""
    for task in (venue._housekeeping, venue._flush):
        if task is not None:
            task.cancel()
    await asyncio.sleep(0)
    await venue.record.close()


async def test_a_place_is_answered_in_domain_values_and_its_events_follow_durably(venue: PaperVenue) -> None:
    sink = Sink()
    await venue.open_stream(sink)
    order = await venue.place(request("0.56", "5", "c1", tif=IOC))
    assert (order.status, order.filled, order.client_order_id) == (OrderStatus.EXECUTED, qty("5"), "c1")
    (fill,) = sink.fills()
    assert sink.events[-1] == order  # the order report (its acknowledgement) after its fill
    assert await venue.fills_since(None) == [fill]
    assert (await venue.get_order(order.order_id)) == order
    assert (await venue.find_order("c1", ticker=TICKER)) == order
    assert await venue.find_order("c1", ticker="ELSEWHERE") is None
    with pytest.raises(VenueNotFound):
        await venue.get_order("nope")


async def test_a_fill_the_feed_causes_reaches_the_sink_only_once_written(venue: PaperVenue, tmp_path: Path) -> None:
    sink = Sink()
    await venue.open_stream(sink)
    resting = await venue.place(request("0.50", "10", "c1"))
    venue.on_book_delta(TICKER, YES, px("0.50"), -qty("35"))
    venue.on_trade(TICKER, px("0.50"), qty("35"), ASK)  # 30 in front, 5 to us
    assert sink.fills() == []  # not yet durable
    await venue.commit()
    (fill,) = sink.fills()
    assert (fill.order_id, fill.qty, fill.is_taker) == (resting.order_id, qty("5"), False)
    record = await PaperRecord.open(tmp_path / "paper.db")
    try:
        assert await record.fills_since(None) == [fill]
    finally:
        await record.close()


async def test_the_state_is_the_same_after_a_restart(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "paper.db"
    first = await open_venue(path, clock)
    await first.place(request("0.56", "10", "taken", tif=IOC))  # +10 YES
    resting = await first.place(request("0.50", "4", "rests"))
    ask = await first.place(request("0.70", "3", "ask", side=ASK))
    group = await first.create_order_group(qty("100"))
    first.on_book_delta(TICKER, YES, px("0.50"), -qty("12"))
    first.on_trade(TICKER, px("0.50"), qty("12"), ASK)  # our bid moves up to 18 in front
    before = (
        await first.balance(),
        await first.positions(),
        sorted(await first.resting_orders(), key=lambda o: o.order_id),
        await first.fills_since(None),
        await first.order_groups(),
        first.queue_position(resting.order_id),
        first.exchange.ledger.reserved,
    )
    await first.close()

    second = await open_venue(path, clock, tag="b")
    try:
        after = (
            await second.balance(),
            await second.positions(),
            sorted(await second.resting_orders(), key=lambda o: o.order_id),
            await second.fills_since(None),
            await second.order_groups(),
            second.queue_position(resting.order_id),
            second.exchange.ledger.reserved,
        )
        assert after == before
        assert before[5] == qty("18")
        assert [g.group_id for g in after[4]] == [group]
        with pytest.raises(VenueRejected) as reused:
            await second.place(request("0.40", "1", "taken"))
        assert reused.value.code == "order_already_exists"
        assert (await second.get_order(ask.order_id)).status is OrderStatus.RESTING
        taken = await second.find_order("taken")
        assert taken is not None
        assert taken.filled == qty("10")
        await second.cancel(resting.order_id)  # an order from before the restart
        assert (await second.balance()).cash == before[0].cash + usd("2.00")
    finally:
        await second.close()


async def test_a_crash_loses_no_fill_anybody_was_told_about(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "paper.db"
    first = await open_venue(path, clock)
    sink = Sink()
    await first.open_stream(sink)
    resting = await first.place(request("0.50", "10", "c1"))
    first.on_book_delta(TICKER, YES, px("0.50"), -qty("33"))
    first.on_trade(TICKER, px("0.50"), qty("33"), ASK)
    await until(lambda: bool(sink.fills()))  # the flush the fill scheduled
    told = sink.fills()
    assert [f.qty for f in told] == [qty("3")]
    cash = first.exchange.ledger.cash
    await abandon(first)

    second = await open_venue(path, clock, tag="b")
    try:
        assert await second.fills_since(None) == told
        assert second.exchange.ledger.cash == cash
        (position,) = await second.positions()
        assert position.qty == qty("3")
        assert (await second.get_order(resting.order_id)).remaining == qty("7")
    finally:
        await second.close()


async def test_queue_positions_are_written_lazily_and_a_lost_one_is_only_further_back(
    tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / "paper.db"
    first = await open_venue(path, clock)
    resting = await first.place(request("0.50", "10", "c1"))
    first.on_trade(TICKER, px("0.50"), qty("12"), ASK)  # 30 → 18 in front: no fill, nothing urgent
    assert first.queue_position(resting.order_id) == qty("18")
    await abandon(first)
    second = await open_venue(path, clock, tag="b")
    try:
        assert second.queue_position(resting.order_id) == qty("30")  # the last written, further back
        second.on_trade(TICKER, px("0.50"), qty("12"), ASK)
        await second.commit()
    finally:
        await second.close()
    third = await open_venue(path, clock, tag="c")
    try:
        assert third.queue_position(resting.order_id) == qty("18")
    finally:
        await third.close()


async def test_a_write_that_fails_answers_transient_and_the_next_flush_writes_it(
    venue: PaperVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = Sink()
    await venue.open_stream(sink)
    real_write = venue.record.write

    async def failing(changes: Changes) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(venue.record, "write", failing)
    with pytest.raises(VenueTransient):
        await venue.place(request("0.56", "2", "c1", tif=IOC))
    assert sink.events == []  # nobody was told
    monkeypatch.setattr(venue.record, "write", real_write)
    await venue.commit()
    assert [f.qty for f in sink.fills()] == [qty("2")]
    found = await venue.find_order("c1")
    assert found is not None
    assert found.filled == qty("2")
    assert [f.qty for f in await venue.fills_since(None)] == [qty("2")]


async def test_batches_answer_item_by_item(venue: PaperVenue) -> None:
    results = await venue.place_batch(
        [request("0.40", "1", "a"), request("0.401", "1", "b"), request("0.41", "1", "c")]
    )
    assert isinstance(results[0], Order)
    assert isinstance(results[1], VenueRejected)
    assert isinstance(results[2], Order)
    cancels = await venue.cancel_batch([results[0].order_id, "nope"])
    assert cancels[0].reduced_by == qty("1")  # type: ignore[union-attr]
    assert isinstance(cancels[1], VenueNotFound)
    await venue.cancel_all()
    assert await venue.resting_orders() == []


async def test_settlement_is_delivered_and_kept(venue: PaperVenue, clock: Clock) -> None:
    sink = Sink()
    await venue.open_stream(sink)
    await venue.place(request("0.56", "10", "c1", tif=IOC))
    venue.on_market_status(TICKER, MarketStatus.CLOSED)
    venue.on_market_determined(TICKER, px("1.00"))
    (settlement,) = await venue.settlements_since(clock.now - 1)
    assert (settlement.ticker, settlement.net, settlement.revenue) == (TICKER, qty("10"), usd("10.00"))
    assert sink.events[-1] == settlement
    assert await venue.positions() == []
    assert await venue.settlements_since(clock.now + 1) == []


async def test_group_events_reach_the_sink(venue: PaperVenue) -> None:
    sink = Sink()
    await venue.open_stream(sink)
    group = await venue.create_order_group(qty("10"))
    await venue.trigger_order_group(group)
    await venue.reset_order_group(group)
    await venue.set_order_group_limit(group, qty("20"))
    await venue.delete_order_group(group)
    assert sink.events == [
        (group, GroupEvent.CREATED),
        (group, GroupEvent.TRIGGERED),
        (group, GroupEvent.RESET),
        (group, GroupEvent.LIMIT_UPDATED),
        (group, GroupEvent.DELETED),
    ]


async def test_amend_and_decrease_through_the_venue(venue: PaperVenue) -> None:
    order = await venue.place(request("0.50", "10", "c1"))
    decreased = await venue.decrease(order.order_id, reduce_to=qty("6"))
    assert decreased.remaining == qty("6")
    amended = await venue.amend(order.order_id, AmendRequest(TICKER, BID, px("0.49"), qty("8"), "c1"))
    assert (amended.price, amended.remaining) == (px("0.49"), qty("8"))
    assert venue.queue_position(order.order_id) == 0  # nobody displayed at 0.49


async def test_ended_orders_the_exchange_let_go_of_are_read_from_the_record(tmp_path: Path, clock: Clock) -> None:
    counter = itertools.count(1)
    venue = await PaperVenue.open(
        tmp_path / "paper.db",
        starting_cash=CASH,
        clock_ms=clock,
        new_id=lambda: f"o-{next(counter)}",
        keep_finished=1,
        tick_s=3600,
    )
    try:
        venue.add_market(TICKER, TickGrid.named("linear_cent"))
        venue.on_book_snapshot(TICKER, [(px("0.50"), qty("30"))], [(px("0.44"), qty("20"))])
        first = await venue.place(request("0.56", "1", "first", tif=IOC))
        await venue.place(request("0.56", "1", "second", tif=IOC))
        await venue.place(request("0.56", "1", "third", tif=IOC))
        assert venue.exchange.order(first.order_id) is None  # let go of
        assert await venue.get_order(first.order_id) == first
        assert await venue.find_order("first") == first
    finally:
        await venue.close()
