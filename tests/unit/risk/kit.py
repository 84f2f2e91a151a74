"""Helpers for the risk tests: a fake clock, registered markets, books and intents in readable units."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

from kalshi_trader.domain import (
    BookSide,
    Fill,
    MarketInfo,
    MarketStatus,
    Money,
    OrderIntent,
    Position,
    Price,
    Qty,
    TickGrid,
    TimeInForce,
    TopOfBook,
    parse_money,
    parse_price,
    parse_qty,
)
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager

BID, ASK = BookSide.BID, BookSide.ASK
CENT = TickGrid.named("linear_cent")
START_MS = 1_000_000

_ids = itertools.count(1)


def px(text: str) -> Price:
    return parse_price(text)


def qty(text: str | int) -> Qty:
    return parse_qty(str(text))


def usd(text: str | int) -> Money:
    return parse_money(str(text))


MARKET_START_MS = 1_795_273_200_000
"""2026-11-21 15:00 UTC = 10:00 in New York: market time at the start of every test."""


class Clock:
    def __init__(self, now_ms: int = START_MS) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms


ROOMY = RiskLimits(
    max_order_size=qty(1_000),
    max_position_per_market=qty(10_000),
    max_event_exposure=usd(100_000),
    max_total_exposure=usd(1_000_000),
    max_open_orders=10_000,
    daily_loss_limit=usd(1_000),
    max_writes_per_second=10_000,
    max_through_book=px("0.05"),
    max_fair_value_deviation=px("0.10"),
    max_book_age_ms=5_000,
    max_consecutive_errors=3,
    error_cooldown_ms=60_000,
    loss_velocity_limit=usd(50),
    loss_velocity_window_ms=300_000,
    loss_velocity_cooldown_ms=900_000,
    feed_stale_ms=10_000,
)
"""Limits loose enough that only the one a test tightens can bite."""


CLOSE_MS = MARKET_START_MS + 86_400_000
"""Every test market closes a market day after the test starts."""


def market(
    ticker: str, event: str = "EV-1", status: MarketStatus = MarketStatus.ACTIVE, close_ms: int = CLOSE_MS
) -> MarketInfo:
    return MarketInfo(ticker, event, "SER", status, CENT, close_ms=close_ms)


class Desk:
    """A risk manager on a fake clock with markets A1, A2 (event EV-1) and B1 (event EV-2)."""

    def __init__(self, **limits: Any) -> None:
        self.clock = Clock()
        self.market = Clock(MARKET_START_MS)
        """Market time (the exchange's clock): loss velocity and the trading day run on it."""
        self.risk = RiskManager(replace(ROOMY, **limits), clock=self.clock, market_clock=self.market)
        for m in (market("A1", "EV-1"), market("A2", "EV-1"), market("B1", "EV-2")):
            self.risk.register_market(m)

    def book(self, ticker: str, bid: str | None = "0.49", ask: str | None = "0.51", **kw: Any) -> TopOfBook:
        as_of = kw.pop("as_of_ms", self.clock.now_ms)
        return TopOfBook(ticker, None if bid is None else px(bid), None if ask is None else px(ask), as_of, **kw)

    def place(
        self,
        ticker: str,
        side: BookSide,
        price: str,
        count: str | int,
        *,
        coid: str | None = None,
        book: TopOfBook | None = None,
        fair: str | None = None,
        reduce_only: bool = False,
        tif: TimeInForce | None = None,
    ) -> Any:
        """A place; a ``reduce_only`` one is immediate-or-cancel unless ``tif`` says otherwise."""
        if tif is None:
            tif = TimeInForce.IMMEDIATE_OR_CANCEL if reduce_only else TimeInForce.GOOD_TILL_CANCELED
        intent = OrderIntent.place(
            ticker, side, px(price), qty(count), coid or f"c{next(_ids)}", tif=tif, reduce_only=reduce_only
        )
        return self.risk.check_and_reserve(
            intent, book=book or self.book(ticker), fair_value=None if fair is None else px(fair)
        )

    def amend(self, ticker: str, side: BookSide, price: str, count: str | int, coid: str) -> Any:
        intent = OrderIntent.amend(ticker, side, px(price), qty(count), coid)
        return self.risk.check_and_reserve(intent, book=self.book(ticker))

    def fill(self, coid: str, ticker: str, side: BookSide, price: str, count: str | int, position: Position) -> None:
        f = Fill(f"f{next(_ids)}", f"o-{coid}", ticker, side, px(price), qty(count), Money(0), True, 0, coid)
        self.risk.on_fill(f, position)
