"""Watching a strategy host's decisions, to compare two runs of the same strategies.

Contract: ``DecisionLog.watch(host)`` wraps every hosted strategy so that each ``decide`` call is
logged (the strategy itself is called unchanged and its result returned as is). For every market
in the state, the log keeps what the strategy saw of *that* market — its snapshot (less the stamp
of when it was taken), its fair value and the value's age in whole minutes, the strategy's own
orders, their changes in flight, its fills and refusals there, its position, the positions and
orders in the markets of its event, its own positions there, whether its book and fair value are
older than it accepts, how many orders it has open and markets it sees (its quote budget spans
them), whole minutes to close, risk's room there and the strategy's memory — and
what it did there: its order intents (action, side, price, size, time in force, flags; not the
client order id, which carries the clock) and bracket requests. ``compare(a, b)``
pairs the entries whose inputs are identical and returns (pairs, the pairs whose outputs differ).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import msgspec

from kalshi_trader.domain import BookSide, BracketCancel, BracketRequest, OrderIntent, Price, Qty
from kalshi_trader.host.strategies import StrategyHost
from kalshi_trader.strategy.base import StrategyResult, StrategyState

Key = tuple[Any, ...]
Out = tuple[Any, ...]


class _Watched:
    def __init__(self, inner: Any, log: DecisionLog) -> None:
        self.inner = inner
        self.log = log

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def decide(self, state: StrategyState, memory: Any) -> StrategyResult[Any]:
        room = {t: (*_room_of(state, t), *_ages_of(self.inner, state, t)) for t in state.markets}  # before any claim
        result = self.inner.decide(state, memory)
        self.log.add(self.inner.name, state, memory, result, room)
        return result


def _ages_of(strategy: Any, state: StrategyState, ticker: str) -> tuple[bool, bool]:
    """Whether the book and the fair value are older than the strategy accepts: ages are compared
    in whole minutes, but a strategy's limits (seconds) fall inside a minute."""
    params = getattr(strategy, "params", None)
    snap, now = state.markets[ticker], state.now_ms
    book_limit = getattr(params, "max_book_age_ms", None)
    fair_limit = getattr(params, "max_fair_age_ms", None)
    fair = state.fair_values.get(ticker)
    book_old = book_limit is not None and snap.age_ms(now) > book_limit
    fair_old = fair_limit is not None and fair is not None and now - fair.as_of_ms > fair_limit
    return book_old, fair_old


def _room_of(state: StrategyState, ticker: str) -> tuple[Any, ...]:
    """What risk's room allows in ``ticker``: what fits of a large order on each side at three
    prices (the open orders left are the account's, which the live node's and the backtest's
    differ in; near that limit the decisions would)."""
    room = state.room
    probes = tuple(
        repr(room.fit(ticker, side, Price(price), Qty(1_000_000)))
        for side in (BookSide.BID, BookSide.ASK)
        for price in (1_000, 5_000, 9_000)
    )
    return probes


def _memory_of(memory: Any) -> str:
    """The strategy's whole memory (what it remembers of other markets can matter: a limit on the
    trades it has open, say)."""
    if memory is None or not dataclasses.is_dataclass(memory):
        return repr(memory)
    parts = []
    for f in dataclasses.fields(memory):
        value = getattr(memory, f.name)
        parts.append(repr(sorted(value.items())) if isinstance(value, Mapping) else repr(value))
    return "|".join(parts)


def _out(action: Any) -> tuple[Any, ...] | None:
    if isinstance(action, OrderIntent):
        return (
            "intent",
            action.action.value,
            action.side.value,
            action.price,
            action.qty,
            action.tif.value,
            action.post_only,
            action.reduce_only,
        )
    if isinstance(action, BracketRequest | BracketCancel):
        return (type(action).__name__, repr(dataclasses.replace(action)))
    return None


class DecisionLog:
    def __init__(self) -> None:
        self.entries: dict[Key, set[Out]] = {}
        self.calls = 0

    def watch(self, host: StrategyHost) -> None:
        for hosted in host.all():
            hosted.runner.strategy = _Watched(hosted.runner.strategy, self)  # type: ignore[assignment]

    def add(
        self,
        strategy: str,
        state: StrategyState,
        memory: Any,
        result: StrategyResult[Any],
        room: Mapping[str, tuple[Any, ...]],
    ) -> None:
        self.calls += 1
        now = state.now_ms
        by_ticker: dict[str, list[tuple[Any, ...]]] = {}
        for action in result.actions:
            out = _out(action)
            ticker = getattr(action, "ticker", "")
            if out is not None:
                by_ticker.setdefault(ticker, []).append(out)
        remembered = _memory_of(memory)
        events: dict[str, list[str]] = {}
        for ticker, snap in state.markets.items():
            events.setdefault(snap.event_ticker, []).append(ticker)
        for ticker, snap in state.markets.items():
            fv = state.fair_values.get(ticker)
            position = state.positions.get(ticker)
            siblings = events[snap.event_ticker]
            here = {o.client_order_id for o in state.open_orders if o.ticker == ticker}
            key = (
                strategy,
                ticker,
                repr(msgspec.structs.replace(snap, updated_ms=0)),
                None if fv is None else (fv.price, fv.uncertainty, (now - fv.as_of_ms) // 60_000),
                tuple(sorted((o.side.value, o.price, o.remaining) for o in state.open_orders if o.ticker == ticker)),
                repr(sorted((k, repr(v)) for k, v in state.in_flight.items() if k in here)),
                tuple((f.side.value, f.price, f.qty) for f in state.fills if f.ticker == ticker),
                repr([r for r in state.refused if getattr(r, "ticker", "") == ticker]),
                None if position is None else position.qty,
                state.own_positions.get(ticker),
                tuple((t, state.own_positions[t]) for t in siblings if t in state.own_positions),
                tuple((t, state.positions[t].qty) for t in siblings if t in state.positions),
                tuple(sorted((o.ticker, o.side.value, o.remaining) for o in state.open_orders if o.ticker in siblings)),
                (snap.close_ms - now) // 60_000,
                (len(state.open_orders), len(state.markets)),  # budgets across markets (the quote budget)
                room[ticker],
                remembered,
            )
            self.entries.setdefault(key, set()).add(tuple(sorted(by_ticker.get(ticker, []))))


def compare(a: DecisionLog, b: DecisionLog) -> tuple[list[Key], list[Key]]:
    pairs = [k for k in a.entries if k in b.entries]
    differ = [k for k in pairs if a.entries[k] != b.entries[k]]
    return pairs, differ
