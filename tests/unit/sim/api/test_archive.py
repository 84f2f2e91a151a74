"""The embedded exchange's live/historical partition: cutoffs in market time and what they archive."""

from __future__ import annotations

import pytest

from kalshi_trader.domain import BookSide, OrderStatus, Price, Qty, SelfTradePrevention, TimeInForce
from kalshi_trader.sim.api.archive import (
    DAY_MS,
    MARKET_SETTLED,
    ORDERS_UPDATED,
    POSITIONS_UPDATED,
    TRADES_CREATED,
    Archive,
)
from kalshi_trader.sim.core.catalog import Catalog, EventInfo, MarketMeta, SeriesInfo
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.core.state import SimOrder

START_MS = 1_780_000_000_000


def _catalog(*tickers: str) -> Catalog:
    catalog = Catalog()
    catalog.add_series(SeriesInfo("KXT", "Test", "Testing", "daily"))
    catalog.add_event(EventInfo("KXT-E1", "KXT", "Event 1", "one"))
    for ticker in tickers:
        catalog.add_market(
            MarketMeta(ticker, "KXT-E1", ticker, ticker, "yes", "no", 0, 1, None, 2, 0, "greater", floor_strike=1.0)
        )
    return catalog


def _order(status: OrderStatus, updated_ms: int) -> SimOrder:
    return SimOrder(
        "o1", "u", "c1", "KXT-E1-A", BookSide.BID, Price(5000), Qty(100), Qty(0), Qty(100), status,
        TimeInForce.GOOD_TILL_CANCELED, SelfTradePrevention.TAKER_AT_CROSS, 0, updated_ms,
    )  # fmt: skip


def test_cutoffs_trail_market_time_by_kalshis_documented_lags() -> None:
    clock = SimClock(start=START_MS, speed=0)
    archive = Archive(clock, _catalog())
    c = archive.cutoff()
    assert c.orders_updated_ms == START_MS - 14 * DAY_MS  # two weeks (Sep 24 changelog)
    assert (c.market_settled_ms, c.trades_created_ms, c.positions_ms) == (START_MS - 90 * DAY_MS,) * 3
    clock.advance(DAY_MS)
    assert archive.cutoff().orders_updated_ms == START_MS - 13 * DAY_MS  # advances with the clock


def test_lags_and_pins_move_each_cutoff_on_its_own() -> None:
    clock = SimClock(start=START_MS, speed=0)
    archive = Archive(clock, _catalog(), lags_ms={TRADES_CREATED: 1000})
    assert archive.cutoff().trades_created_ms == START_MS - 1000
    archive.pin(MARKET_SETTLED, START_MS - 5)
    clock.advance(60_000)
    c = archive.cutoff()
    assert (c.market_settled_ms, c.trades_created_ms) == (START_MS - 5, START_MS + 59_000)
    archive.pin(MARKET_SETTLED, None)
    assert archive.cutoff().market_settled_ms == START_MS + 60_000 - 90 * DAY_MS
    assert archive.pins_ms == {
        MARKET_SETTLED: None,
        TRADES_CREATED: None,
        ORDERS_UPDATED: None,
        POSITIONS_UPDATED: None,
    }


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a: a.pin(ORDERS_UPDATED, START_MS + 1), "cannot be after the exchange's current time"),
        (lambda a: a.pin("orders_ts", START_MS), "unknown cutoff 'orders_ts'"),
        (lambda a: a.set_lag(ORDERS_UPDATED, -1), "must not be negative"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(call: object, message: str) -> None:
    archive = Archive(SimClock(start=START_MS, speed=0), _catalog())
    with pytest.raises(ValueError, match=message):
        call(archive)  # type: ignore[operator]


def test_only_finished_orders_older_than_the_cutoff_are_archived() -> None:
    archive = Archive(SimClock(start=START_MS, speed=0), _catalog())
    c = archive.cutoff()
    old = c.orders_updated_ms - 1
    assert c.order_archived(_order(OrderStatus.EXECUTED, old))
    assert c.order_archived(_order(OrderStatus.CANCELED, old))
    assert not c.order_archived(_order(OrderStatus.RESTING, old))  # resting orders always stay live
    assert not c.order_archived(_order(OrderStatus.EXECUTED, c.orders_updated_ms))
    assert c.trade_archived(c.trades_created_ms - 1)
    assert not c.trade_archived(c.trades_created_ms)


def test_markets_archive_by_settlement_time_and_positions_by_whole_event() -> None:
    catalog = _catalog("KXT-E1-A", "KXT-E1-B")
    clock = SimClock(start=START_MS, speed=0)
    archive = Archive(clock, catalog, lags_ms={MARKET_SETTLED: 0, POSITIONS_UPDATED: 0})
    catalog.market("KXT-E1-A").settled_ms = START_MS - 10
    c = archive.cutoff()
    assert archive.market_archived("KXT-E1-A", c)
    assert not archive.market_archived("KXT-E1-B", c)  # not settled
    assert not archive.event_handed_off("KXT-E1", c)  # B still open: nothing of the event moves
    catalog.market("KXT-E1-B").settled_ms = START_MS
    assert not archive.event_handed_off("KXT-E1", archive.cutoff())  # settled at the cutoff, not before
    clock.advance(1)
    assert archive.event_handed_off("KXT-E1", archive.cutoff())
