"""``StrategyHost`` keeps what it read of the tracker (each strategy's open orders as ``Order``
values, the account's positions) until the tracker says they changed: across random sequences of
order events, every state it hands a strategy must equal one read afresh, as the host once built
it on every call (the reference below)."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.execution.test_orders_index import STRATEGIES, apply, events

from kalshi_trader.backtest.memory import DiscardSink, MemoryPaperRecord
from kalshi_trader.config import RiskSettings
from kalshi_trader.domain import Money, Order, OrderStatus, Position, Qty
from kalshi_trader.execution.desk import EngineConfig
from kalshi_trader.execution.engine import ExecutionEngine
from kalshi_trader.execution.orders import OrderState, TrackedOrder
from kalshi_trader.host.strategies import StrategyHost
from kalshi_trader.paper.exchange import PaperExchange
from kalshi_trader.paper.venue import PaperVenue
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.store.recorder import Recorder
from kalshi_trader.strategy.base import StrategyResult, StrategyRunner, StrategyState


class _Idle:
    """A strategy that does nothing (the host's reads are under test, not its actions)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.enabled = True

    def initial_memory(self) -> None:
        return None

    def on_start(self, state: StrategyState, memory: None) -> StrategyResult[None]:
        return StrategyResult(None)

    decide = on_stop = on_start


def _reference_order(t: TrackedOrder) -> Order:
    """The host's conversion of a tracked order, as it was built on every call."""
    status = OrderStatus.RESTING if t.state.is_open else OrderStatus.CANCELED
    if t.state is OrderState.EXECUTED:
        status = OrderStatus.EXECUTED
    return Order(
        t.order_id or "",
        t.client_order_id,
        t.ticker,
        t.side,
        t.price,
        t.size,
        t.filled,
        t.remaining,
        status,
        t.exchange_ms,
        t.exchange_ms,
    )


def _host() -> StrategyHost:
    ids = itertools.count(1)
    exchange = PaperExchange(cash=Money(10**9), clock_ms=lambda: 0, new_id=lambda: f"p{next(ids)}")
    risk = RiskManager(RiskLimits.from_settings(RiskSettings()), clock=lambda: 0)
    engine = ExecutionEngine(
        PaperVenue(exchange, MemoryPaperRecord()),
        risk,
        Recorder(DiscardSink()),
        config=EngineConfig(tick_s=3600),
        clock_ms=lambda: 0,
    )
    runners = [(StrategyRunner(_Idle(name)), name) for name in STRATEGIES]
    return StrategyHost(runners, engine, markets=dict, fair_values=dict, top_of=lambda _: None, clock_ms=lambda: 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(events, max_size=40), st.lists(st.booleans(), min_size=40, max_size=40))
def test_the_kept_reads_equal_fresh_ones(sequence: list[tuple[Any, ...]], reads: list[bool]) -> None:
    host = _host()
    engine = host.engine
    for n, event in enumerate(sequence):
        apply(engine.tracker, event, n)
        if not reads[n]:
            continue  # changes pile up between two reads too
        positions: dict[str, Position] = {p.ticker: p for p in engine.positions() if p.qty != Qty(0)}
        for name in STRATEGIES:
            state = host.state_for(name)
            assert state.open_orders == tuple(_reference_order(t) for t in engine.open_orders(strategy=name))
            assert state.positions == positions
