"""``marketdata/monitor.py`` driven through a real (unconnected) ``WsSession.on_text``: the
documented examples into exact books, events, staleness, filters, lifecycle, discovery queries.

Over real sockets against the embedded exchange: tests/integration/marketdata/test_monitor_exchange.py.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest
from tests.support import spec

from kalshi_trader.domain import BookSide, MarketInfo, MarketStatus, Price, Qty, Side, TickGrid
from kalshi_trader.kalshi.errors import NotFoundError
from kalshi_trader.kalshi.markets import MarketReport, RestMarkets
from kalshi_trader.kalshi.ws import ORDERBOOK, WsSession
from kalshi_trader.marketdata.book import L2Book
from kalshi_trader.marketdata.monitor import (
    BookChanged,
    BookFresh,
    BookStale,
    MarketFilter,
    MarketLifecycle,
    Monitor,
    MonitorEvent,
    TickerUpdated,
    TradePrinted,
    missed_lifecycle,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kalshi"
NY = "KXHIGHNY-26MAY16-B78.5"
FED = "FED-23DEC-T3.00"
NOW = 1_778_900_000_000
HOUR = 3_600_000


def info(
    ticker: str,
    *,
    grid: str = "linear_cent",
    close_ms: int = NOW + 24 * HOUR,
    status: MarketStatus = MarketStatus.ACTIVE,
) -> MarketInfo:
    event = ticker.rsplit("-", 1)[0]
    return MarketInfo(ticker, event, event.split("-")[0], status, TickGrid.named(grid), close_ms)


class Source:
    def __init__(self, *markets: MarketInfo) -> None:
        self.markets = {m.ticker: m for m in markets}
        self.listed: list[MarketFilter] = []

    async def list_markets(self, market_filter: MarketFilter) -> list[MarketInfo]:
        self.listed.append(market_filter)
        return list(self.markets.values())

    async def get_market(self, ticker: str) -> MarketInfo | None:
        return self.markets.get(ticker)

    async def get_markets(self, tickers: Sequence[str]) -> list[MarketReport]:
        return [MarketReport(self.markets[t]) for t in tickers if t in self.markets]

    async def trades_since(self, since_ms: int) -> list[TradePrinted]:
        return []


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


async def monitor_for(
    *markets: MarketInfo, sid: int = 2, market_filter: MarketFilter | None = None
) -> tuple[Monitor, WsSession, list[MonitorEvent]]:
    """A monitor following ``markets``, its session holding ``orderbook_delta`` as ``sid`` (and
    ``ticker``, ``trade``, ``market_lifecycle_v2`` as 11, 12, 5 — the examples' sids)."""
    _SEQS.clear()
    ws = WsSession("ws://127.0.0.1:9/trade-api/ws/v2", None)
    monitor = Monitor(Source(*markets), ws, market_filter, clock_ms=Clock())
    await monitor.add_markets(m.ticker for m in markets)
    tickers = [m.ticker for m in markets]
    for channel, channel_sid in ((ORDERBOOK, sid), ("ticker", 11), ("trade", 12), ("market_lifecycle_v2", 5)):
        await ws.subscribe([channel], None if channel == "market_lifecycle_v2" else tickers)
        ws.on_text(msgspec.json.encode({"type": "subscribed", "msg": {"channel": channel, "sid": channel_sid}}))
    events: list[MonitorEvent] = []
    for kind in (BookChanged, BookFresh, BookStale, MarketLifecycle, TickerUpdated, TradePrinted):
        monitor.subscribe(kind, events.append)
    return monitor, ws, events


def frame(**kw: Any) -> bytes:
    return msgspec.json.encode(kw)


_SEQS: dict[int, int] = {}
"""The last seq sent per sid in the running test (``monitor_for`` resets it)."""


def sequenced(payload: dict[str, Any]) -> bytes:
    """``payload`` with the next ``seq`` of its sid (trade and lifecycle frames are sequenced)."""
    sid = payload["sid"]
    _SEQS[sid] = _SEQS.get(sid, 0) + 1
    return msgspec.json.encode(payload | {"seq": _SEQS[sid]})


def examples() -> dict[str, Any]:
    frames: dict[str, Any] = json.loads((FIXTURES / "ws_examples.json").read_text())["frames"]
    return frames


def numbers() -> dict[str, Any]:
    frames: dict[str, Any] = json.loads((FIXTURES / "ws_numbers.json").read_text())["frames"]
    return frames


def asyncapi_example(message: str) -> dict[str, Any]:
    example: dict[str, Any] = spec.asyncapi_document()["components"]["messages"][message]["examples"][0]["payload"]
    return example


def ladders(book: L2Book) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    return book.as_tuples()


# -- the documented examples into exact books ------------------------------------------------------------


async def test_composed_snapshot_and_delta_give_the_exact_book() -> None:
    monitor, ws, events = await monitor_for(info(NY))
    events.clear()
    ws.on_text(json.dumps(examples()["orderbook_snapshot"]).encode())
    book = monitor.books[NY]
    assert ladders(book) == ([(2700, 61400), (3800, 100)], [(4000, 61640), (5900, 600)])  # 616.40 contracts
    assert (book.best_yes_bid(), book.best_yes_ask()) == (3800, 4100)
    ws.on_text(json.dumps(examples()["orderbook_delta"]).encode())
    assert ladders(book) == ([(2700, 61400)], [(4000, 61640), (5900, 600)])
    assert (book.best_yes_bid(), book.best_yes_ask(), book.best_yes_bid_size()) == (2700, 4100, 61400)
    fresh, snap, delta = events
    assert fresh == BookFresh(NY, book)
    assert snap == BookChanged(NY, book, "", Price(0), Qty(0), 0, "")
    assert delta == BookChanged(NY, book, "yes", Price(3800), Qty(-100), 1778900000123, "0b7f5c8e-...")
    assert not book.stale


async def test_asyncapi_examples_with_three_decimal_prices() -> None:
    monitor, ws, _ = await monitor_for(info(FED, grid="deci_cent"))
    ws.on_text(json.dumps(asyncapi_example("orderbookSnapshot")).encode())
    book = monitor.books[FED]
    assert ladders(book) == ([(800, 30000), (2200, 33300)], [(5400, 2000), (5600, 14600)])
    ws.on_text(json.dumps(asyncapi_example("orderbookDelta")).encode())  # "0.960" -54 on an empty level: no-op
    assert ladders(book) == ([(800, 30000), (2200, 33300)], [(5400, 2000), (5600, 14600)])
    assert not book.stale
    assert monitor.stats.bad_values == 0


async def test_numbers_instead_of_strings_and_fractional_sizes() -> None:
    monitor, ws, events = await monitor_for(info(NY))
    ws.on_text(json.dumps(numbers()["orderbook_snapshot_numbers"]).encode())  # seq 1
    book = monitor.books[NY]
    assert ladders(book) == ([(2700, 61400), (3800, 100)], [(4000, 61640)])
    ws.on_text(json.dumps(numbers()["orderbook_delta_numbers"] | {"seq": 2}).encode())  # 0.38 no, -54 (number)
    assert ladders(book) == ([(2700, 61400), (3800, 100)], [(4000, 61640)])  # nothing resting at NO 0.38
    ws.on_text(json.dumps(numbers()["orderbook_delta_fractional"] | {"seq": 3}).encode())  # "74.77" at YES 0.38
    assert ladders(book) == ([(2700, 61400), (3800, 7577)], [(4000, 61640)])
    partial = {"market_ticker": NY, "market_id": "x", "price_dollars": "0.4", "delta_fp": "-16.4", "side": "no"}
    ws.on_text(frame(type="orderbook_delta", sid=2, seq=4, msg=partial))  # one decimal each: the exact parser
    assert ladders(book) == ([(2700, 61400), (3800, 7577)], [(4000, 60000)])
    assert monitor.stats.bad_values == 0
    assert [type(e).__name__ for e in events if isinstance(e, BookChanged)].count("BookChanged") == 4
    last = events[-1]
    assert isinstance(last, BookChanged)
    assert (last.side, last.price, last.delta) == ("no", 4000, -1640)


async def test_ticker_and_trade_examples_become_typed_events() -> None:
    _, ws, events = await monitor_for(info(NY))
    events.clear()
    ws.on_text(json.dumps(examples()["ticker"]).encode())
    ws.on_text(json.dumps(numbers()["ticker_numbers"]).encode())
    ws.on_text(sequenced(examples()["trade"]))
    ticker, ticker_numbers, trade = events
    quote = (Price(3900), Price(3800), Price(4100), Qty(100))
    activity = (Qty(170164), Qty(128865), 1778900000123)
    assert ticker == TickerUpdated(NY, *quote, Qty(600), *activity)
    assert ticker_numbers == TickerUpdated(NY, *quote, Qty(650), *activity)  # 6.5 contracts as a JSON number
    trade_id = "d91bc706-ee49-470d-82d8-11418bda6fed"
    assert trade == TradePrinted(NY, trade_id, Price(3900), Qty(200), BookSide.BID, 1778900000123)


async def test_frames_for_markets_not_followed_are_ignored() -> None:
    monitor, ws, events = await monitor_for(info(NY))
    events.clear()
    other = examples()["orderbook_snapshot"] | {
        "msg": examples()["orderbook_snapshot"]["msg"] | {"market_ticker": "X-1"}
    }
    ws.on_text(json.dumps(other).encode())
    ws.on_text(
        json.dumps(examples()["ticker"] | {"msg": examples()["ticker"]["msg"] | {"market_ticker": "X-1"}}).encode()
    )
    assert events == []
    assert monitor.stats.dropped_unknown == 1


# -- staleness ------------------------------------------------------------------------------------------------


def snap(seq: int, ticker: str = NY, yes: list[list[str]] | None = None, no: list[list[str]] | None = None) -> bytes:
    msg: dict[str, Any] = {"market_ticker": ticker, "market_id": "m"}
    if yes:
        msg["yes_dollars_fp"] = yes
    if no:
        msg["no_dollars_fp"] = no
    return frame(type="orderbook_snapshot", sid=2, seq=seq, msg=msg)


def delta(seq: int, price: str, size: str, side: str = "yes", ticker: str = NY) -> bytes:
    msg = {
        "market_ticker": ticker,
        "market_id": "m",
        "price_dollars": price,
        "delta_fp": size,
        "side": side,
        "ts_ms": seq,
    }
    return frame(type="orderbook_delta", sid=2, seq=seq, msg=msg)


async def test_a_seq_gap_makes_books_stale_until_their_snapshot() -> None:
    other = "KXHIGHNY-26MAY16-T83"
    monitor, ws, events = await monitor_for(info(NY), info(other))
    ws.on_text(snap(1, yes=[["0.40", "10.00"]]))
    ws.on_text(snap(2, other, no=[["0.50", "5.00"]]))
    events.clear()
    ws.on_text(delta(5, "0.41", "3.00"))  # 3 and 4 lost
    assert [type(e) for e in events] == [BookStale, BookStale]
    assert all(isinstance(e, BookStale) and "seq gap" in e.reason for e in events)
    assert monitor.books[NY].stale
    assert monitor.books[other].stale
    assert monitor.selected() == []
    ws.on_text(delta(6, "0.42", "3.00"))  # dropped: the book is stale
    assert monitor.stats.dropped_stale == 2
    assert ladders(monitor.books[NY]) == ([(4000, 1000)], [])
    events.clear()
    ws.on_text(snap(7, yes=[["0.41", "3.00"], ["0.42", "3.00"]]))
    assert [type(e) for e in events] == [BookFresh, BookChanged]
    assert ladders(monitor.books[NY]) == ([(4100, 300), (4200, 300)], [])
    assert not monitor.books[NY].stale
    assert monitor.books[other].stale  # still waiting for its own snapshot


async def test_an_off_grid_price_makes_the_book_stale_and_is_counted() -> None:
    monitor, ws, events = await monitor_for(info(NY))
    ws.on_text(snap(1, yes=[["0.40", "10.00"]]))
    events.clear()
    ws.on_text(delta(2, "0.4050", "1.00"))  # not on the cent grid
    ws.on_text(delta(3, "0.41", "abc"))  # not a number
    assert [type(e) for e in events] == [BookStale]
    stale = events[0]
    assert isinstance(stale, BookStale)
    assert "tick grid" in stale.reason
    assert monitor.stats.bad_values == 1
    assert monitor.stats.dropped_stale == 1
    assert ws.stats.handler_errors == 0


async def test_an_unparsable_size_on_a_fresh_book_makes_it_stale() -> None:
    monitor, ws, events = await monitor_for(info(NY))
    ws.on_text(snap(1, yes=[["0.40", "10.00"]]))
    events.clear()
    ws.on_text(delta(2, "0.41", "1.2.3"))
    assert [type(e) for e in events] == [BookStale]
    assert monitor.stats.bad_values == 1
    assert ladders(monitor.books[NY]) == ([(4000, 1000)], [])


async def test_a_failing_listener_is_counted_and_the_others_still_run() -> None:
    monitor, ws, events = await monitor_for(info(NY))

    def broken(event: BookChanged) -> None:
        raise RuntimeError("strategy bug")

    unsubscribe = monitor.subscribe(BookChanged, broken)
    ws.on_text(snap(1, yes=[["0.40", "10.00"]]))
    ws.on_text(delta(2, "0.41", "1.00"))
    assert monitor.stats.listener_errors == 2
    assert [type(e) for e in events].count(BookChanged) == 2
    unsubscribe()
    ws.on_text(delta(3, "0.41", "1.00"))
    assert monitor.stats.listener_errors == 2
    assert ws.stats.handler_errors == 0


# -- filters ----------------------------------------------------------------------------------------------------


def test_market_criteria() -> None:
    m = info(NY, close_ms=NOW + 10 * HOUR)
    assert MarketFilter().accepts_market(m, NOW)
    assert not MarketFilter().accepts_market(info(NY, status=MarketStatus.CLOSED), NOW)
    assert MarketFilter(statuses=frozenset()).accepts_market(info(NY, status=MarketStatus.CLOSED), NOW)
    assert MarketFilter(series=frozenset({"KXHIGHNY"})).accepts_market(m, NOW)
    assert not MarketFilter(series=frozenset({"KXHIGHCHI"})).accepts_market(m, NOW)
    assert MarketFilter(events=frozenset({"KXHIGHNY-26MAY16"})).accepts_market(m, NOW)
    assert not MarketFilter(events=frozenset({"KXHIGHNY-26MAY17"})).accepts_market(m, NOW)
    assert MarketFilter(tickers=frozenset({NY})).accepts_market(m, NOW)
    assert not MarketFilter(tickers=frozenset({"X"})).accepts_market(m, NOW)
    assert MarketFilter(min_time_to_close_ms=10 * HOUR).accepts_market(m, NOW)
    assert not MarketFilter(min_time_to_close_ms=10 * HOUR + 1).accepts_market(m, NOW)
    assert MarketFilter(max_time_to_close_ms=10 * HOUR).accepts_market(m, NOW)
    assert not MarketFilter(max_time_to_close_ms=10 * HOUR - 1).accepts_market(m, NOW)


def book_with(yes: list[tuple[int, int]], no: list[tuple[int, int]]) -> L2Book:
    book = L2Book(NY, TickGrid.named("linear_cent"))
    book.apply_snapshot(yes, no)
    return book


def test_book_criteria_depth_spread_and_probability_band() -> None:
    favourite = book_with([(8800, 500), (8700, 1000)], [(1000, 300)])  # YES 0.88 bid / 0.90 ask, mid 0.89
    assert MarketFilter().accepts_book(favourite)
    assert MarketFilter(min_yes=8500).accepts_book(favourite)
    assert MarketFilter(min_yes=8900).accepts_book(favourite)
    assert not MarketFilter(min_yes=8901).accepts_book(favourite)
    assert MarketFilter(max_yes=8900).accepts_book(favourite)
    assert not MarketFilter(max_yes=8899).accepts_book(favourite)
    assert MarketFilter(max_spread=200).accepts_book(favourite)
    assert not MarketFilter(max_spread=199).accepts_book(favourite)
    assert MarketFilter(min_depth=300).accepts_book(favourite)
    assert not MarketFilter(min_depth=301).accepts_book(favourite)  # the NO side has 3 contracts
    assert not MarketFilter(min_depth=600, depth_levels=2).accepts_book(favourite)
    one_sided = book_with([(8800, 500)], [])
    assert not MarketFilter(min_yes=8500).accepts_book(one_sided)
    assert not MarketFilter(max_spread=9999).accepts_book(one_sided)
    assert not MarketFilter(min_depth=1).accepts_book(one_sided)
    favourite.mark_stale()
    assert not MarketFilter().accepts_book(favourite)


async def test_selected_applies_the_book_criteria_live() -> None:
    other = "KXHIGHNY-26MAY16-T83"
    monitor, ws, _ = await monitor_for(info(NY), info(other), market_filter=MarketFilter(min_yes=8500))
    ws.on_text(snap(1, NY, yes=[["0.88", "5.00"]], no=[["0.10", "3.00"]]))
    ws.on_text(snap(2, other, yes=[["0.40", "5.00"]], no=[["0.55", "3.00"]]))
    assert monitor.selected() == [NY]
    ws.on_text(delta(3, "0.10", "-3.00", "no"))
    ws.on_text(delta(4, "0.20", "3.00", "no"))  # YES ask now 0.80: mid 0.84
    assert monitor.selected() == []


# -- lifecycle ---------------------------------------------------------------------------------------------------


def lifecycle(**msg: Any) -> bytes:
    return sequenced({"type": "market_lifecycle_v2", "sid": 5, "msg": msg})


async def test_determined_and_settled_markets_are_reported_and_dropped() -> None:
    other = "KXHIGHNY-26MAY16-T83"
    monitor, ws, events = await monitor_for(info(NY), info(other))
    events.clear()
    ws.on_text(sequenced(examples()["market_lifecycle_v2"]))  # NY determined "yes" at $1
    determined, removed = events
    assert isinstance(determined, MarketLifecycle)
    assert (determined.kind, determined.result, determined.settlement_value) == ("determined", "yes", 10_000)
    assert determined.info is not None
    assert determined.info.status is MarketStatus.DETERMINED
    assert isinstance(removed, MarketLifecycle)
    assert (removed.ticker, removed.kind) == (NY, "removed")
    assert list(monitor.books) == [other]
    ws.on_text(lifecycle(market_ticker=other, event_type="settled", settled_ts=1))
    assert monitor.books == {}
    assert [e.kind for e in events if isinstance(e, MarketLifecycle)][-2:] == ["settled", "removed"]


async def test_status_close_date_metadata_and_grid_updates() -> None:
    monitor, ws, events = await monitor_for(info(NY))
    ws.on_text(snap(1, yes=[["0.40", "10.00"]]))
    events.clear()
    ws.on_text(lifecycle(market_ticker=NY, event_type="deactivated", is_deactivated=True))
    assert monitor.markets[NY].status is MarketStatus.INACTIVE
    ws.on_text(lifecycle(market_ticker=NY, event_type="activated", is_deactivated=False))
    assert monitor.markets[NY].status is MarketStatus.ACTIVE
    ws.on_text(lifecycle(market_ticker=NY, event_type="close_date_updated", close_ts=1_779_000_000))
    assert monitor.markets[NY].close_ms == 1_779_000_000_000
    ws.on_text(
        lifecycle(market_ticker=NY, event_type="metadata_updated", floor_strike=79.5, yes_sub_title="80 or above")
    )
    assert (monitor.markets[NY].floor_strike, monitor.markets[NY].yes_sub_title) == (79.5, "80 or above")
    ranges = [{"start": "0.0000", "end": "1.0000", "step": "0.0010"}]
    update = {"price_level_structure": "deci_cent", "price_ranges": ranges}
    ws.on_text(lifecycle(market_ticker=NY, event_type="price_level_structure_updated", **update))
    book = monitor.books[NY]
    assert book.stale
    assert book.grid == monitor.markets[NY].grid == TickGrid.named("deci_cent")
    ws.on_text(snap(2, yes=[["0.405", "1.00"]]))  # sub-penny: valid on the new grid
    assert ladders(book) == ([(4050, 100)], [])
    kinds = [e.kind if isinstance(e, MarketLifecycle) else type(e).__name__ for e in events]
    assert kinds == ["deactivated", "activated", "close_date_updated", "metadata_updated", "BookStale",
                     "price_level_structure_updated", "BookFresh", "BookChanged"]  # fmt: skip


async def test_the_sweep_drops_markets_whose_close_time_passed() -> None:
    soon, later = "KXHIGHNY-26MAY16-T83", NY
    monitor, _, events = await monitor_for(info(soon, close_ms=NOW + HOUR), info(later))
    events.clear()
    await monitor.sweep()
    assert events == []
    clock = monitor.clock_ms
    assert isinstance(clock, Clock)
    clock.now = NOW + HOUR
    await monitor.sweep()
    assert list(monitor.books) == [later]
    (closed,) = events
    assert isinstance(closed, MarketLifecycle)
    assert (closed.ticker, closed.kind) == (soon, "closed")
    assert closed.info is not None
    assert closed.info.status is MarketStatus.CLOSED


async def test_a_market_dropped_at_close_still_reports_its_outcome_hours_later() -> None:
    """Weather brackets close at midnight and are determined the next morning: a position there
    settles only if the monitor still reports the outcome of a market it no longer follows."""
    monitor, ws, events = await monitor_for(info(NY, close_ms=NOW + HOUR), info("KXHIGHNY-26MAY16-T83"))
    clock = monitor.clock_ms
    assert isinstance(clock, Clock)
    clock.now = NOW + HOUR
    await monitor.sweep()
    events.clear()
    ws.on_text(lifecycle(market_ticker=NY, event_type="deactivated", is_deactivated=True))
    assert events == []  # nothing but the outcome is reported for a closed market
    ws.on_text(sequenced(examples()["market_lifecycle_v2"]))  # NY determined "yes" at $1
    (determined,) = events
    assert isinstance(determined, MarketLifecycle)
    assert (determined.ticker, determined.kind, determined.result, determined.settlement_value) == (
        NY,
        "determined",
        "yes",
        10_000,
    )
    assert determined.info is not None
    assert determined.info.status is MarketStatus.DETERMINED
    assert NY not in monitor.books
    assert NY not in monitor.markets
    ws.on_text(lifecycle(market_ticker=NY, event_type="settled", settled_ts=1))
    assert [(e.ticker, e.kind) for e in events if isinstance(e, MarketLifecycle)][-1] == (NY, "settled")
    events.clear()
    ws.on_text(lifecycle(market_ticker=NY, event_type="settled", settled_ts=2))
    assert events == []  # forgotten once settled
    ws.on_text(lifecycle(market_ticker="NEVER-SEEN", event_type="settled", settled_ts=1))
    assert events == []


async def test_discovery_keeps_only_what_the_filter_admits() -> None:
    ws = WsSession("ws://127.0.0.1:9/trade-api/ws/v2", None)
    source = Source(info(NY), info("KXHIGHCHI-26MAY16-B70.5"), info("KXHIGHNY-26MAY16-T83", status=MarketStatus.CLOSED))
    monitor = Monitor(source, ws, MarketFilter(series=frozenset({"KXHIGHNY"})), clock_ms=Clock())
    found = await monitor._discover()
    assert [m.ticker for m in found] == [NY]


# -- the REST source ----------------------------------------------------------------------------------------------


class FakeRest:
    def __init__(self, markets: dict[str, Any]) -> None:
        self.markets = markets
        self.queries: list[dict[str, Any]] = []

    def iter_markets(self, **query: Any) -> AsyncIterator[Any]:
        self.queries.append(query)

        async def gen() -> AsyncIterator[Any]:
            for m in self.markets.values():
                yield m

        return gen()

    async def get_market(self, ticker: str) -> Any:
        if ticker not in self.markets:
            raise NotFoundError("market not found", status=404, code="not_found", method="GET", path="/markets/x")
        return self.markets[ticker]


WIRE_MARKET: dict[str, Any] = {
    "market_type": "binary", "yes_sub_title": "78° to 79°", "no_sub_title": "78° to 79°",
    "created_time": "2026-05-14T14:00:00Z", "updated_time": "2026-05-14T14:00:00Z",
    "open_time": "2026-05-15T14:00:00Z", "close_time": "2026-05-17T04:59:00Z",
    "latest_expiration_time": "2026-05-24T14:00:00Z", "settlement_timer_seconds": 3600,
    "notional_value_dollars": "1.0000", "yes_bid_dollars": "0.4200", "yes_ask_dollars": "0.4400",
    "no_bid_dollars": "0.5600", "no_ask_dollars": "0.5800", "yes_bid_size_fp": "13.00", "yes_ask_size_fp": "17.50",
    "last_price_dollars": "0.4300", "previous_yes_bid_dollars": "0.4000", "previous_yes_ask_dollars": "0.4500",
    "previous_price_dollars": "0.4100", "volume_fp": "1701.64", "volume_24h_fp": "20.00", "open_interest_fp": "1288.65",
    "result": "", "can_close_early": True, "expiration_value": "", "rules_primary": "", "rules_secondary": "",
    "price_level_structure": "linear_cent", "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
    "settlement_bounds_type": "default",
}  # fmt: skip


def wire_market(ticker: str, status: str = "active") -> Any:
    from kalshi_trader.kalshi import schemas as s

    body = WIRE_MARKET | {"ticker": ticker, "event_ticker": ticker.rsplit("-", 1)[0], "status": status}
    return s.decoder_for(s.Market).decode(json.dumps(body))


@pytest.mark.parametrize(
    ("market_filter", "expected"),
    [
        (MarketFilter(), [{"status": "open"}]),
        (MarketFilter(statuses=frozenset()), [{}]),
        (
            MarketFilter(
                series=frozenset({"KXHIGHNY", "KXHIGHCHI"}),
                min_time_to_close_ms=HOUR,
                max_time_to_close_ms=2 * HOUR + 1,
            ),
            [{"status": "open", "series_ticker": "KXHIGHCHI"}, {"status": "open", "series_ticker": "KXHIGHNY"}],
        ),
        (
            MarketFilter(statuses=frozenset(), min_time_to_close_ms=HOUR, max_time_to_close_ms=2 * HOUR + 1),
            [{"min_close_ts": (NOW + HOUR) // 1000, "max_close_ts": (NOW + 2 * HOUR) // 1000 + 1}],
        ),
        (MarketFilter(events=frozenset({"E-1"})), [{"status": "open", "event_ticker": "E-1"}]),
        (MarketFilter(tickers=frozenset({"B-1", "A-1"})), [{"status": "open", "tickers": ["A-1", "B-1"]}]),
    ],
)
async def test_rest_source_queries(market_filter: MarketFilter, expected: list[dict[str, Any]]) -> None:
    rest = FakeRest({})
    source = RestMarkets(rest, clock_ms=Clock())  # type: ignore[arg-type]
    assert await source.list_markets(market_filter) == []
    assert rest.queries == expected


async def test_rest_source_converts_and_skips_unusable_markets() -> None:
    rest = FakeRest({"A-1": wire_market("A-1"), "B-1": wire_market("B-1", status="weird"), "C-1": wire_market("C-1")})
    source = RestMarkets(rest)  # type: ignore[arg-type]
    assert [m.ticker for m in await source.list_markets(MarketFilter())] == ["A-1", "C-1"]
    found = await source.get_market("A-1")
    assert found is not None
    assert found.grid == TickGrid.named("linear_cent")
    assert found.series_ticker == "A"
    assert await source.get_market("NOPE-1") is None
    assert await source.get_market("B-1") is None


def test_events_are_cheap_immutable_values() -> None:
    book = L2Book(NY, TickGrid.named("linear_cent"))
    event = BookChanged(NY, book, "yes", Price(100), Qty(5), 1, "")
    with pytest.raises(AttributeError):
        event.price = Price(200)  # type: ignore[misc]
    assert event == BookChanged(NY, book, "yes", Price(100), Qty(5), 1, "")
    assert event.side == Side.YES


# -- recovery from REST ----------------------------------------------------------------------------------


def test_missed_lifecycle_spells_out_what_changed_in_kalshi_order() -> None:
    known = info(NY)
    moved = dataclasses.replace(known, close_ms=known.close_ms + HOUR, grid=TickGrid.named("deci_cent"))
    paused = dataclasses.replace(moved, status=MarketStatus.INACTIVE)
    changes = missed_lifecycle(known, MarketReport(paused))
    assert [c.kind for c in changes] == ["price_level_structure_updated", "close_date_updated", "deactivated"]
    assert changes[1].close_ms == (known.close_ms + HOUR) // 1000 * 1000  # Kalshi's close_ts: whole seconds
    assert changes[0].grid == TickGrid.named("deci_cent")
    assert changes[2].paused is True
    finalized = dataclasses.replace(known, status=MarketStatus.FINALIZED)
    changes = missed_lifecycle(known, MarketReport(finalized, "no", Price(2500)))
    assert [(c.kind, c.result, c.settlement_value) for c in changes] == [
        ("determined", "no", Price(2500)),
        ("settled", "", None),
    ]
    assert missed_lifecycle(known, MarketReport(known)) == []


async def test_refresh_reports_a_changed_settlement_floor_and_the_book_takes_it() -> None:
    monitor, _, events = await monitor_for(info(NY))
    events.clear()
    source = monitor.source
    assert isinstance(source, Source)
    source.markets[NY] = dataclasses.replace(source.markets[NY], settlement_floor=Price(3000))
    await monitor.refresh([NY, "NOT-FOLLOWED"])
    (event,) = events
    assert isinstance(event, MarketLifecycle)
    assert (event.kind, event.info.settlement_floor if event.info else None) == ("metadata_updated", 3000)
    assert monitor.markets[NY].settlement_floor == 3000
    assert monitor.books[NY].settlement_floor == 3000
    events.clear()
    await monitor.refresh([NY])  # nothing changed: nothing reported
    assert events == []
