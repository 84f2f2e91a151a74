"""Helpers for the matching-engine tests: a controllable clock, deterministic ids, terse order
construction, a deep state snapshot and the engine's invariants (conservation, collateral, book
replay)."""

from __future__ import annotations

import dataclasses
import itertools
import operator
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from kalshi_trader.domain import (
    BookSide,
    FeeType,
    Money,
    Price,
    Qty,
    SelfTradePrevention,
    Side,
    TickGrid,
    TimeInForce,
    parse_money,
    parse_price,
    parse_qty,
)
from kalshi_trader.sim.core.matching import MatchingEngine
from kalshi_trader.sim.core.state import BookDelta, EngineEvent, MarketState, NewOrder

START_MS = 1_750_000_000_000
BID = BookSide.BID
ASK = BookSide.ASK
GTC = TimeInForce.GOOD_TILL_CANCELED
IOC = TimeInForce.IMMEDIATE_OR_CANCEL
FOK = TimeInForce.FILL_OR_KILL


class Clock:
    def __init__(self, now: int = START_MS) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


def usd(text: str) -> Money:
    return parse_money(text)


def px(text: str) -> Price:
    return parse_price(text)


def qty(text: str) -> Qty:
    return parse_qty(text)


def market(
    ticker: str = "MKT",
    structure: str = "linear_cent",
    fee_type: FeeType = FeeType.QUADRATIC,
    multiplier: tuple[int, int] = (1, 1),
) -> MarketState:
    return MarketState(ticker, f"EV-{ticker}", TickGrid.named(structure), fee_type, multiplier)


class Harness:
    """An engine with a clock, deterministic ids, recorded events and funded accounts."""

    def __init__(self, *, users: tuple[str, ...] = ("alice", "bob", "carol"), cash: str = "1000.00") -> None:
        self.clock = Clock()
        counter = itertools.count(1)
        self.engine = MatchingEngine(clock_ms=self.clock, new_id=lambda: f"id-{next(counter)}")
        self.events: list[EngineEvent] = []
        self.engine.add_listener(self.events.append)
        self.users = users
        for user in users:
            self.engine.open_account(user, usd(cash))
        self.initial_cash = usd(cash) * len(users)

    def add_market(self, *args: Any, **kwargs: Any) -> MarketState:
        state = market(*args, **kwargs)
        self.engine.add_market(state)
        return state

    def events_of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def order(
    side: BookSide,
    price: str,
    count: str,
    *,
    ticker: str = "MKT",
    tif: TimeInForce = GTC,
    stp: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS,
    **extra: Any,
) -> NewOrder:
    return NewOrder(
        ticker=ticker,
        side=side,
        price=parse_price(price),
        count=parse_qty(count),
        time_in_force=tif,
        self_trade_prevention=stp,
        **extra,
    )


_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _values(obj: Any) -> tuple[Any, ...]:
    """A shallow copy of a dataclass's fields (lists copied to tuples)."""
    getter = _GETTERS.get(type(obj))
    if getter is None:
        getter = _GETTERS[type(obj)] = operator.attrgetter(*(f.name for f in dataclasses.fields(obj)))
    return tuple(tuple(v) if isinstance(v, list) else v for v in getter(obj))


def snapshot(engine: MatchingEngine, users: tuple[str, ...]) -> dict[str, Any]:
    """Everything observable, copied into plain data (immutable records are kept as they are)."""
    state: dict[str, Any] = {
        "fees": engine.fees_collected,
        "markets": [_values(m) for m in engine.markets()],
        "books": {m.ticker: engine.book(m.ticker) for m in engine.markets()},
        "tops": {m.ticker: engine.top(m.ticker) for m in engine.markets()},
        "trades": engine.trades(),
    }
    for user in users:
        account = engine.account(user)
        state[user] = {
            "account": (account.cash, account.reserved),
            "positions": {t: _values(p) for t, p in account.positions.items()},
            "orders": [_values(o) for o in engine.orders(user)],
            "fills": engine.fills(user),
            "settlements": engine.settlements(user),
            "groups": [_values(g) for g in engine.groups(user)],
            "queue": {
                o.order_id: engine.queue_position(user, o.order_id)
                for o in engine.orders(user)
                if o.status == "resting"
            },
        }
    return state


def conservation_gap(engine: MatchingEngine, users: tuple[str, ...], initial_cash: int) -> int:
    """Σ(cash + reserved) + ($1 − floor) × open contracts + fees_collected − initial cash (must be 0;
    a settlement floor was paid out to YES holders when it rose)."""
    total: int = engine.fees_collected
    for user in users:
        account = engine.account(user)
        total += account.cash + account.reserved
        for p in account.positions.values():
            floor = engine.market(p.ticker).settlement_floor or 0
            total += max(p.position, 0) * (10_000 - floor) // 100
    return total - initial_cash


def check_invariants(engine: MatchingEngine, users: tuple[str, ...], initial_cash: int) -> None:
    assert conservation_gap(engine, users, initial_cash) == 0
    for state in engine.markets():
        yes_bid, _, no_bid, _ = engine.top(state.ticker)
        if yes_bid is not None and no_bid is not None:
            assert yes_bid + no_bid < 10_000, f"crossed book on {state.ticker}"
        longs = shorts = 0
        for user in users:
            position = engine.account(user).positions.get(state.ticker)
            if position is not None:
                longs += max(position.position, 0)
                shorts += max(-position.position, 0)
        assert longs == shorts == state.open_interest
    for user in users:
        account = engine.account(user)
        collateral = 0
        for o in engine.orders(user):
            assert 0 <= o.filled <= o.initial
            assert o.remaining >= 0
            assert o.filled + o.remaining <= o.initial
            if o.status == "resting":
                assert o.remaining > 0
                leg = o.price if o.side is BookSide.BID else 10_000 - o.price
                collateral += -(-leg * o.remaining // 100)
            else:
                assert o.remaining == 0
        assert account.reserved == collateral, f"{user}: reserved {account.reserved} != {collateral}"


def replay_book(events: list[EngineEvent]) -> dict[str, tuple[list[tuple[int, int]], list[tuple[int, int]]]]:
    """Apply every BookDelta to empty books; returns books in ``engine.book`` shape."""
    levels: dict[tuple[str, Side], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for event in events:
        if isinstance(event, BookDelta):
            ladder = levels[(event.ticker, event.side)]
            ladder[event.price] += event.delta
            assert ladder[event.price] >= 0
    books: dict[str, tuple[list[tuple[int, int]], list[tuple[int, int]]]] = {}
    tickers = {ticker for ticker, _ in levels}
    for ticker in tickers:
        books[ticker] = (
            sorted((p, q) for p, q in levels[(ticker, Side.YES)].items() if q),
            sorted((p, q) for p, q in levels[(ticker, Side.NO)].items() if q),
        )
    return books
