"""Helpers for the paper-venue tests: a controllable clock, deterministic ids, one market with a
book set from dollar strings, terse requests, and the exchange's invariants."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from tests.unit.sim.core.engine_kit import Clock, px, qty, usd

from kalshi_trader.domain import (
    BookSide,
    FeeSchedule,
    Fill,
    Money,
    Order,
    Qty,
    SelfTradePrevention,
    Side,
    TickGrid,
    TimeInForce,
    notional_ceil,
    parse_money,
)
from kalshi_trader.execution.venue import PlaceRequest, Settlement
from kalshi_trader.paper.exchange import PaperExchange

__all__ = [
    "ASK",
    "BID",
    "CASH",
    "FOK",
    "GTC",
    "IOC",
    "MAKER_STP",
    "NO",
    "TICKER",
    "WAIT_MS",
    "YES",
    "Clock",
    "Kit",
    "check_invariants",
    "px",
    "qty",
    "usd",
]

TICKER = "KXHIGHNY-26OCT08-B70"
BID = BookSide.BID
ASK = BookSide.ASK
YES = Side.YES
NO = Side.NO
GTC = TimeInForce.GOOD_TILL_CANCELED
IOC = TimeInForce.IMMEDIATE_OR_CANCEL
FOK = TimeInForce.FILL_OR_KILL
MAKER_STP = SelfTradePrevention.MAKER
CASH = parse_money("1000.00")
WAIT_MS = 2_000


class Kit:
    """One exchange, one market, a clock and every event it emitted."""

    def __init__(
        self,
        *,
        fees: FeeSchedule | None = None,
        cash: Money = CASH,
        precision_micros: int | None = None,
        exchange: type[PaperExchange] = PaperExchange,
    ):
        self.clock = Clock()
        self.start_cash = cash
        counter = itertools.count(1)
        extra = {} if precision_micros is None else {"precision_micros": precision_micros}
        self.ex = exchange(
            cash=cash, clock_ms=self.clock, new_id=lambda: f"id-{next(counter)}", trade_wait_ms=WAIT_MS, **extra
        )
        self.ex.add_market(TICKER, TickGrid.named("linear_cent"), fees)
        self.coids = itertools.count(1)
        self.fills: list[Fill] = []
        self.orders: list[Order] = []
        self.settlements: list[Settlement] = []

    # -- the feed ----------------------------------------------------------------------------

    def book(self, yes: Sequence[tuple[str, str]] = (), no: Sequence[tuple[str, str]] = ()) -> None:
        """A snapshot: YES bids and NO bids as (leg price, contracts) dollar strings."""
        self.ex.on_book_snapshot(TICKER, [(px(p), qty(q)) for p, q in yes], [(px(p), qty(q)) for p, q in no])
        self.collect()

    def delta(self, side: Side, price: str, change: str) -> None:
        self.ex.on_book_delta(TICKER, side, px(price), qty(change))
        self.collect()

    def trade(self, yes_price: str, count: str, taker: BookSide) -> None:
        """A public trade at a YES price; ``taker`` BID bought YES (hit a NO bid), ASK sold YES."""
        self.ex.on_trade(TICKER, px(yes_price), qty(count), taker)
        self.collect()

    def sold(self, yes_price: str, count: str) -> None:
        """Someone sold YES into the YES bids at ``yes_price``: the book decrease, then the trade
        (the order the embedded exchange sends them in)."""
        self.delta(YES, yes_price, f"-{count}")
        self.trade(yes_price, count, ASK)

    def later(self, ms: int = WAIT_MS + 1) -> None:
        self.clock.advance(ms)
        self.ex.tick()
        self.collect()

    # -- orders ------------------------------------------------------------------------------

    def place(
        self,
        side: BookSide,
        price: str,
        count: str,
        *,
        tif: TimeInForce = GTC,
        post_only: bool = False,
        reduce_only: bool = False,
        stp: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS,
        group: str | None = None,
        coid: str | None = None,
    ) -> Order:
        request = PlaceRequest(
            TICKER,
            side,
            px(price),
            qty(count),
            coid or f"c-{next(self.coids)}",
            time_in_force=tif,
            self_trade_prevention=stp,
            post_only=post_only,
            reduce_only=reduce_only,
            order_group_id=group,
        )
        order = self.ex.place(request)
        self.collect()
        return order

    def collect(self) -> None:
        """Move the exchange's pending events into the lists (and check its invariants)."""
        changes = self.ex.take_changes()
        for event in changes.events:
            if isinstance(event, Fill):
                self.fills.append(event)
            elif isinstance(event, Order):
                self.orders.append(event)
            elif isinstance(event, Settlement):
                self.settlements.append(event)
        check_invariants(self.ex, self.start_cash)

    def fills_of(self, order: Order) -> list[Fill]:
        return [f for f in self.fills if f.order_id == order.order_id]

    def filled(self, order: Order) -> Qty:
        return Qty(sum(f.qty for f in self.fills_of(order)))

    def current(self, order: Order) -> Order:
        found = self.ex.order(order.order_id)
        assert found is not None
        return found

    def ahead(self, order: Order) -> Qty:
        return self.ex.queue_position(order.order_id)


def check_invariants(ex: PaperExchange, start_cash: int) -> None:
    """Money is conserved; every order's counts add up; collateral matches what rests."""
    assert ex.conserved() == start_cash
    reserved = 0
    for order in ex._orders.values():
        assert order.filled + order.remaining <= order.initial
        assert order.remaining >= 0
        assert order.filled >= 0
        if order.resting:
            assert order.remaining > 0
            assert order.collateral == notional_ceil(order.leg, order.remaining)
            assert order.ahead >= 0
        else:
            assert order.remaining == 0
            assert order.collateral == 0
        reserved += order.collateral
    assert ex.ledger.reserved == reserved
