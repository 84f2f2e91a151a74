"""``WeatherMMStrategy`` keeps work between calls (plans, first sides, actions): across random
sequences of states that change a little from call to call, it must decide exactly as the
reference (``reference_mm.ReferenceWeatherMM``: every market worked out afresh on every call);
``plan_quotes`` must plan exactly as the reference's, on any grid, fee type, book and positions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.strategy.kit import GRID, HOUR, NOW, order, snap, state
from tests.unit.strategy.reference_mm import ReferenceWeatherMM
from tests.unit.strategy.reference_mm import plan_quotes as reference_plan_quotes

from kalshi_trader.domain import (
    BookSide,
    FeeSchedule,
    FeeType,
    Fit,
    IntentAction,
    MarketStatus,
    Money,
    Order,
    Price,
    Qty,
    TickGrid,
)
from kalshi_trader.strategy.base import FairValue, MarketSnapshot, OrderChange, StrategyState
from kalshi_trader.strategy.weather_mm import WeatherMMMemory, WeatherMMParams, WeatherMMStrategy, plan_quotes

TICKERS = tuple(f"KXHIGHNY-26MAY1{e}-B7{b}.5" for e in (6, 7) for b in range(3))
PRICES = ("0.05", "0.20", "0.40", "0.45", "0.50", "0.55", "0.60", "0.80", "0.95")


@dataclass
class _Capped:
    """A risk room that grants at most ``cap`` per order and ``orders`` new orders in all."""

    cap: int
    orders: int

    def fit(self, ticker: str, side: BookSide, price: Price, qty: Qty, *, replacing: str = "") -> Fit:
        if not replacing and self.orders <= 0:
            return Fit(Qty(0), "max_open_orders", "no open orders left")
        return Fit(qty) if qty <= self.cap else Fit(Qty(self.cap), "max_order_size", "order size limit")

    def claim(self, ticker: str, side: BookSide, price: Price, qty: Qty, *, replacing: str = "") -> Fit:
        fit = self.fit(ticker, side, price, qty, replacing=replacing)
        if not replacing and fit.qty:
            self.orders -= 1
        return fit

    def open_orders_left(self) -> int:
        return self.orders


def _market(ticker: str, book: tuple[int, int], stale: bool, status: MarketStatus, now: int) -> MarketSnapshot:
    bid, ask = sorted(book)
    return snap(
        ticker,
        bid=PRICES[bid] if bid else None,
        ask=PRICES[ask] if ask != bid else None,
        now=now,
        close_in=6 * HOUR if status is MarketStatus.ACTIVE else HOUR // 4,
        stale=stale,
        event=ticker.rsplit("-", 1)[0],
        grid=GRID,
    )


changes = st.one_of(
    st.tuples(st.just("book"), st.sampled_from(TICKERS), st.integers(0, 8), st.integers(0, 8)),
    st.tuples(st.just("fair"), st.sampled_from(TICKERS), st.one_of(st.none(), st.integers(1, 7)), st.integers(0, 3)),
    st.tuples(st.just("own"), st.sampled_from(TICKERS), st.integers(-30, 30), st.booleans()),
    st.tuples(st.just("order"), st.sampled_from(TICKERS), st.sampled_from(BookSide), st.integers(0, 8)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("flight"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("stale"), st.sampled_from(TICKERS), st.booleans(), st.booleans()),
    st.tuples(st.just("wait"), st.sampled_from((0, 1_000, 10_000, 1_000_000))),
)


@dataclass
class _World:
    """What the strategy sees, changed a little between calls."""

    now: int = NOW
    books: dict[str, tuple[int, int]] = field(default_factory=lambda: dict.fromkeys(TICKERS, (2, 4)))
    flags: dict[str, tuple[bool, MarketStatus]] = field(
        default_factory=lambda: dict.fromkeys(TICKERS, (False, MarketStatus.ACTIVE))
    )
    fairs: dict[str, FairValue] = field(
        default_factory=lambda: {t: FairValue(t, Price(4500), NOW, Price(100)) for t in TICKERS}
    )
    own: dict[str, int] = field(default_factory=dict)
    others: dict[str, int] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    in_flight: dict[str, OrderChange] = field(default_factory=dict)
    made: int = 0

    def change(self, kind: str, *a: Any) -> None:
        if kind == "book":
            self.books[a[0]] = (a[1], a[2])
        elif kind == "fair" and a[1] is None:
            self.fairs.pop(a[0], None)
        elif kind == "fair":
            self.fairs[a[0]] = FairValue(a[0], Price(a[1] * 1250), self.now, Price(a[2] * 150))
        elif kind == "own":
            self.own[a[0]] = a[1] * 100
            self.others[a[0]] = 100 if a[2] else 0
        elif kind == "order":
            self.made += 1
            self.orders.append(order(a[0], a[1], PRICES[a[2]], 5, f"o{self.made}", created=self.now))
        elif kind == "cancel" and self.orders:
            self.orders.pop(a[0] % len(self.orders))
        elif kind == "flight" and self.orders:
            o = self.orders[a[0] % len(self.orders)]
            action = IntentAction.AMEND if a[1] else IntentAction.CANCEL
            self.in_flight[o.client_order_id] = OrderChange(action, Price(o.price + 100), o.remaining)
        elif kind == "stale":
            self.flags[a[0]] = (a[1], MarketStatus.CLOSED if a[2] else MarketStatus.ACTIVE)
        elif kind == "wait":
            self.now += a[0]

    def state(self, room: _Capped) -> StrategyState:
        return state(
            self.now,
            [_market(t, self.books[t], *self.flags[t], self.now) for t in TICKERS],
            orders=self.orders,
            positions={t: (self.own.get(t, 0) + self.others.get(t, 0)) / 100 for t in TICKERS},
            own_positions={t: q / 100 for t, q in self.own.items()},
            fair_values=self.fairs.values(),
            in_flight=self.in_flight,
            room=room,
        )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(changes, max_size=4), min_size=1, max_size=12),
    st.integers(1, 14),
    st.integers(1, 8),
    st.integers(0, 6),
)
def test_kept_work_decides_as_the_reference(
    steps: list[list[tuple[Any, ...]]], max_quotes: int, cap: int, new_orders: int
) -> None:
    params = WeatherMMParams(max_quotes=max_quotes)
    kept, reference = WeatherMMStrategy(params), ReferenceWeatherMM(params)
    world = _World()
    for changes_now in steps:
        for change in changes_now:
            world.change(*change)
        got = kept.decide(world.state(_Capped(cap * 100, new_orders)), WeatherMMMemory())
        want = reference.decide(world.state(_Capped(cap * 100, new_orders)), WeatherMMMemory())
        assert got == want


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(("linear_cent", "deci_cent", "tapered_deci_cent")),
    st.sampled_from(FeeType),
    st.integers(0, 10_000),
    st.integers(0, 3_000),
    st.one_of(st.none(), st.integers(1, 9_999)),
    st.one_of(st.none(), st.integers(1, 9_999)),
    st.integers(-3_000, 3_000),
    st.integers(-6_000, 6_000),
    st.integers(1, 200),
)
def test_plan_quotes_plans_as_the_reference(
    grid: str,
    fee_type: FeeType,
    fair: int,
    uncertainty: int,
    best_bid: int | None,
    best_ask: int | None,
    position: int,
    event_position: int,
    max_quote_risk: int,
) -> None:
    params = WeatherMMParams(max_quote_risk=Money(max_quote_risk * 100))
    market = msgspec.structs.replace(
        snap(grid=TickGrid.named(grid), fees=FeeSchedule(fee_type)),
        best_bid=None if best_bid is None else Price(best_bid),
        best_ask=None if best_ask is None else Price(best_ask),
    )
    fair_value = FairValue(market.ticker, Price(fair), NOW, Price(uncertainty))
    want = reference_plan_quotes(params, market, fair_value, position, event_position)
    assert plan_quotes(params, market, fair_value, position, event_position) == want
