"""Property: whatever the market does and however late the exchange's answers, reports and fills
reach the engine, a bracket's take-profit never sells more than is held — the position never
crosses zero through it.

The state machine drives the real bracket policy (``execution.protection.Protection`` and
``execution.brackets.plan``) and the real ``OrderTracker`` against a model of the exchange, the way
the engine connects them: every intent ``Protection`` submits becomes a job on one ordered queue;
a job changes the exchange when it runs (a create rests or, for the stop's reduce-only IOC exit,
trades at once, capped at the position; an amend becomes the engine's own request,
``execution.amends.request``, carried out as Kalshi does: a new total count, a decrease taken off
what the exchange has left, or a cancel; a cancel) and its answer reaches the tracker then, as the
engine applies it (a cancel's says what still rested). Fills (the entry bought by a seller,
the take-profit lifted by a buyer, the exit's trades) and order reports reach the tracker
whenever the machine chooses, in any order; a cancel or an amend may fail at the exchange (nothing
done). The book moves through the stop and back; trading is halted and resumed; a kill switch
cancels every resting order. After every step: the position at the exchange is never short, and
the take-profits resting there never hold more than it.

``BracketNeverFlips`` checks the bracket policy on its own. ``ExitsNeverFlipThroughTheBracket``
adds other exits (a strategy's reduce-only IOC sells) the way the engine sends them: an approved
exit first lets the bracket take its take-profit away (``Protection.before_exit``), and as it
leaves it is cut to the engine's ``exit_room`` (refused if there is none).

Counterexamples (found by the property, some only in runs much longer than the suite's, or by
reading the engine against it) are replayed step by step below."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, ClassVar, cast

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kalshi_trader.domain import (
    BookSide,
    Fill,
    IntentAction,
    Money,
    Order,
    OrderIntent,
    OrderStatus,
    Price,
    Qty,
    TickGrid,
    TimeInForce,
    TopOfBook,
)
from kalshi_trader.execution import amends
from kalshi_trader.execution.brackets import BracketSpec
from kalshi_trader.execution.engine import ExecutionEngine
from kalshi_trader.execution.orders import OrderTracker
from kalshi_trader.execution.protection import Protection
from kalshi_trader.execution.views import Outcome, Result

T = "T"
SAFE = (Price(4000), Price(5000))
THROUGH = (Price(3000), Price(3100))  # the best bid is below the 0.35 stop


class Answer:
    """The engine's ``Submission.result``, resolved when the model exchange ran the job."""

    def __init__(self) -> None:
        self._result: Result | None = None
        self._callbacks: list[Callable[[Answer], None]] = []

    def add_done_callback(self, fn: Callable[[Answer], None]) -> None:
        self._callbacks.append(fn)

    def cancelled(self) -> bool:
        return False

    def result(self) -> Result:
        assert self._result is not None
        return self._result

    def resolve(self, result: Result) -> None:
        self._result = result
        for fn in self._callbacks:
            fn(self)


@dataclass
class ExOrder:
    """One order as the exchange holds it."""

    order_id: str
    coid: str
    side: BookSide
    price: int
    size: int
    filled: int = 0
    canceled: bool = False

    @property
    def remaining(self) -> int:
        return 0 if self.canceled else self.size - self.filled

    def report(self) -> Order:
        status = (
            OrderStatus.RESTING if self.remaining else OrderStatus.CANCELED if self.canceled else OrderStatus.EXECUTED
        )
        return Order(
            order_id=self.order_id,
            client_order_id=self.coid,
            ticker=T,
            side=self.side,
            price=Price(self.price),
            initial=Qty(self.size),
            filled=Qty(self.filled),
            remaining=Qty(self.remaining),
            status=status,
        )


@dataclass
class ModelEngine:
    """What ``Protection`` reads from the engine, wired to the model exchange (the engine's own
    order index and position arithmetic: ``working_orders``, ``sellable``, ``exit_room``)."""

    tracker: OrderTracker = field(default_factory=OrderTracker)
    jobs: deque[tuple[OrderIntent, Answer]] = field(default_factory=deque)
    top: tuple[Price, Price] = SAFE
    now_ms: int = 0
    running: bool = True
    _working: dict[str, set[str]] = field(default_factory=dict)
    _amending: dict[str, Qty] = field(default_factory=dict)

    working_orders: ClassVar[Any] = ExecutionEngine.working_orders
    sellable: ClassVar[Any] = ExecutionEngine.sellable
    exit_room: ClassVar[Any] = ExecutionEngine.exit_room
    _work: ClassVar[Any] = ExecutionEngine._work

    def __post_init__(self) -> None:
        self.config = SimpleNamespace(stop_slippage=Price(300), retry_ms=0)
        self.risk = SimpleNamespace(halted=False)
        self.recorder = SimpleNamespace(audit=lambda *args: None)

    def clock_ms(self) -> int:
        return self.now_ms

    def market_ms(self) -> int:
        return self.now_ms

    def grid(self, ticker: str) -> TickGrid:
        return TickGrid.named("linear_cent")

    def book(self, ticker: str) -> TopOfBook:
        return TopOfBook(T, self.top[0], self.top[1], self.now_ms, False)

    def submit(self, intent: OrderIntent, **_: Any) -> Any:
        if intent.action is IntentAction.PLACE:
            self.tracker.on_submitted(intent)
            self._work(intent.ticker, intent.client_order_id)
        elif intent.action is IntentAction.AMEND:  # the engine's basis for ``amends.request``
            tracked = self.tracker.order(intent.client_order_id)
            assert tracked is not None
            self._amending[intent.client_order_id] = tracked.filled
        answer = Answer()
        self.jobs.append((intent, answer))
        return SimpleNamespace(approved=True, result=answer)


class BracketNeverFlips(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = ModelEngine()
        self.protection = Protection(self.engine, stop_confirm_ms=0)  # type: ignore[arg-type]
        self.position = 0  # at the exchange: YES held (> 0) or NO (< 0)
        self.orders: dict[str, ExOrder] = {}
        self.fills: list[Fill] = []  # made at the exchange, not yet delivered to the engine
        self.ids = itertools.count(1)
        entry = OrderIntent.place(T, BookSide.BID, 5000, 2_000, "e", strategy="fav")
        self.protection.place(BracketSpec(entry, Price(6000), Price(3500)))
        self.run_job(liquidity=0)  # the entry rests

    # -- the exchange -------------------------------------------------------------------------

    def _trade(self, order: ExOrder, qty: int) -> None:
        if qty <= 0:
            return
        order.filled += qty
        self.position += qty if order.side is BookSide.BID else -qty
        n = next(self.ids)
        fill = Fill(
            f"f{n}", order.order_id, T, order.side, Price(order.price), Qty(qty), Money(0), False, n, order.coid
        )
        self.fills.append(fill)

    def _after(self) -> None:
        self.engine.now_ms += 1
        self.protection.after_change(T)

    def _take_profits(self) -> list[ExOrder]:
        """The take-profits resting at the exchange (``e-tp<n>``)."""
        return [o for o in self.orders.values() if o.remaining and o.coid.startswith("e-tp")]

    guarded = False
    """Whether exits are cut to the engine's ``exit_room`` as they leave."""

    @rule(liquidity=st.integers(0, 2_500), fails=st.booleans())
    def run_job(self, liquidity: int, fails: bool = False) -> None:
        """The next queued request reaches the exchange (a cancel or an amend may fail there, doing
        nothing); its answer reaches the engine."""
        if not self.engine.jobs:
            return
        intent, answer = self.engine.jobs.popleft()
        tracker, coid = self.engine.tracker, intent.client_order_id
        outcome = Outcome.ACCEPTED
        basis = self.engine._amending.pop(coid, Qty(0))
        if fails and intent.action is not IntentAction.PLACE:
            answer.resolve(Result(coid, Outcome.REJECTED, "503 service unavailable"))
            self._after()
            return
        if intent.action is IntentAction.PLACE:
            count: int = intent.qty
            if intent.reduce_only:
                assert intent.tif is TimeInForce.IMMEDIATE_OR_CANCEL  # as Kalshi requires
                room = self.engine.exit_room(T, intent.side, coid) if self.guarded else None
                if room is not None:
                    count = min(count, room)
                count = min(count, max(self.position, 0) if intent.side is BookSide.ASK else max(-self.position, 0))
            if count <= 0:
                tracker.on_rejected(coid, "reduce only order would increase position")
                outcome = Outcome.REJECTED
            else:
                order = ExOrder(f"x{next(self.ids)}", coid, intent.side, intent.price, count)
                self.orders[coid] = order
                if intent.tif is TimeInForce.IMMEDIATE_OR_CANCEL:
                    self._trade(order, min(count, liquidity))
                    order.canceled = True
                tracker.on_ack(coid, order_id=order.order_id, filled=order.filled, remaining=order.remaining)
        else:
            t = tracker.order(coid)
            order = self.orders[coid]
            if t is None or not t.state.is_open:
                outcome = Outcome.REJECTED
            elif intent.action is IntentAction.CANCEL:
                if order.remaining:
                    tracker.on_canceled(coid, reduced_by=order.remaining)
                    order.canceled = True
                else:  # 404: the engine reads the order back
                    tracker.on_order_update(order.report())
            else:  # the engine's request for the amend, carried out as Kalshi does
                call = amends.request(t, intent.price, intent.qty, basis)
                if not order.remaining or (isinstance(call, amends.Amend) and call.total <= order.filled):
                    outcome = Outcome.REJECTED  # not resting; an amend's count must exceed the filled count
                    tracker.on_order_update(order.report())
                elif isinstance(call, amends.Amend):  # the new total, filled included
                    order.size, order.price = call.total, call.price
                    tracker.on_amended(coid, price=call.price, size=call.total, remaining=order.remaining)
                elif isinstance(call, amends.Withdraw):  # a cancel
                    tracker.on_canceled(coid, reduced_by=order.remaining)
                    order.canceled = True
                else:  # a decrease comes off what rests at the exchange, all of it at most
                    order.size -= min(call.reduce_by, order.remaining)
                    if order.remaining:
                        tracker.on_amended(coid, price=t.price, size=call.total, remaining=order.remaining)
                    else:  # emptied: the engine reads the order back
                        order.canceled = True
                        tracker.on_canceled(coid)
                        tracker.on_order_update(order.report())
        answer.resolve(Result(coid, outcome, ""))
        self._after()

    @rule(qty=st.integers(1, 800))
    def a_seller_hits_the_entry(self, qty: int) -> None:
        entry = self.orders.get("e")
        if entry is not None and entry.remaining:
            self._trade(entry, min(qty, entry.remaining))

    @rule(qty=st.integers(1, 800))
    def a_buyer_lifts_the_take_profit(self, qty: int) -> None:
        for order in self._take_profits():
            self._trade(order, min(qty, order.remaining))

    @rule(data=st.data())
    def a_fill_reaches_the_engine(self, data: st.DataObject) -> None:
        if self.fills:
            fill = self.fills.pop(data.draw(st.integers(0, len(self.fills) - 1)))
            self.engine.tracker.on_fill(fill)
            self._after()

    @rule(data=st.data())
    def an_order_report_reaches_the_engine(self, data: st.DataObject) -> None:
        if self.orders:
            order = data.draw(st.sampled_from(sorted(self.orders.values(), key=lambda o: o.coid)))
            self.engine.tracker.on_order_update(order.report())
            self._after()

    @rule(through=st.booleans())
    def the_book_moves(self, through: bool) -> None:
        self.engine.top = THROUGH if through else SAFE
        self.engine.now_ms += 1
        self.protection.on_book(self.engine.book(T))

    @rule(halted=st.booleans())
    def trading_is_halted_or_resumed(self, halted: bool) -> None:
        self.engine.risk.halted = halted
        self._after()

    @precondition(lambda self: not self.engine.risk.halted)
    @rule()
    def a_kill_switch_cancels_every_resting_order(self) -> None:
        """The engine's sweep: risk halts, every resting order is listed, then canceled."""
        self.engine.risk.halted = True
        for order in self.orders.values():
            self.engine.tracker.on_order_update(order.report())
            if order.remaining:
                order.canceled = True
                self.engine.tracker.on_canceled(order.coid)
        self._after()

    # -- the property -------------------------------------------------------------------------

    @invariant()
    def the_position_never_flips_through_the_take_profit(self) -> None:
        assert self.position >= 0, f"the position crossed zero: {self.position}"
        resting = sum(o.remaining for o in self._take_profits())
        assert resting <= self.position, f"take-profits rest for {resting} with {self.position} held"


class ExitsNeverFlipThroughTheBracket(BracketNeverFlips):
    guarded = True

    @rule(qty=st.integers(1, 2_500))
    def a_strategy_exits(self, qty: int) -> None:
        """A reduce-only IOC sell, as the engine sends an approved one."""
        intent = OrderIntent.place(
            T, BookSide.ASK, 3000, qty, f"x{next(self.ids)}", tif=TimeInForce.IMMEDIATE_OR_CANCEL, reduce_only=True
        )
        self.protection.before_exit(intent)
        self.engine.submit(intent)


class Pick:
    """``st.data()`` when a run is replayed by hand: every draw takes choice ``index``."""

    def __init__(self, index: int = 0) -> None:
        self.index = index

    def draw(self, strategy: Any) -> int:
        return self.index


def replay(machine: BracketNeverFlips, steps: list[Callable[[], None]]) -> None:
    """Run ``steps`` on ``machine``, checking the property after each, as hypothesis would."""
    machine.the_position_never_flips_through_the_take_profit()
    for step in steps:
        step()
        machine.the_position_never_flips_through_the_take_profit()


def test_a_take_profit_fill_while_its_growth_waits_in_the_queue_is_not_rested_again() -> None:
    """The entry fills 2, the take-profit is placed for 2; the entry fills 1 more and, once the
    take-profit rests, its growth to 3 is queued; a buyer lifts 1 of it and that fill reaches the
    engine before the growth leaves. The growth counts from what had filled when it was asked for
    (a total of 3: 2 left to rest, the position held), not from the fill since (3 more to rest)."""
    m, first = BracketNeverFlips(), cast(st.DataObject, Pick(0))
    replay(
        m,
        [
            lambda: m.a_seller_hits_the_entry(qty=2),
            lambda: m.a_fill_reaches_the_engine(first),
            lambda: m.a_seller_hits_the_entry(qty=1),
            lambda: m.a_fill_reaches_the_engine(first),
            lambda: m.run_job(fails=False, liquidity=0),  # the take-profit rests for 2; growth to 3 queued
            lambda: m.a_buyer_lifts_the_take_profit(qty=1),
            lambda: m.a_fill_reaches_the_engine(first),
            lambda: m.run_job(fails=False, liquidity=0),  # the growth leaves
        ],
    )
    assert m.position == 2
    assert [(o.filled, o.remaining) for o in m._take_profits()] == [(1, 2)]


def test_a_shrink_also_takes_off_fills_the_engine_has_not_heard_of() -> None:
    """The take-profit rests for 3, all that is held. A strategy's exit of 1 is queued behind the
    take-profit's cancel, and the take-profit shrinks to 2 to make room for it; a buyer lifts 1 of
    the take-profit, a second exit of 1 is queued, and both cancels fail. The shrink leaves before
    the engine hears of that fill: it takes 1 off what the exchange has left (1 rests), not down to
    2 — which the second exit, let through beside a take-profit of 2, would have left resting for
    more than the 1 still held."""
    m, first = ExitsNeverFlipThroughTheBracket(), cast(st.DataObject, Pick(0))
    replay(
        m,
        [
            lambda: m.a_seller_hits_the_entry(qty=3),
            lambda: m.a_fill_reaches_the_engine(first),
            lambda: m.run_job(fails=False, liquidity=0),  # the take-profit rests for 3
            lambda: m.a_strategy_exits(qty=1),  # its cancel and the exit are queued ...
            lambda: m.trading_is_halted_or_resumed(halted=False),  # ... then the shrink to 2
            lambda: m.a_buyer_lifts_the_take_profit(qty=1),
            lambda: m.a_strategy_exits(qty=1),
            lambda: m.run_job(fails=True, liquidity=5),  # the first cancel fails
            lambda: m.run_job(fails=False, liquidity=5),  # the first exit: no room beside 3
            lambda: m.run_job(fails=False, liquidity=5),  # the shrink
            lambda: m.run_job(fails=True, liquidity=5),  # the second cancel fails
            lambda: m.run_job(fails=False, liquidity=5),  # the second exit sells 1
        ],
    )
    assert m.position == 1
    assert [(o.filled, o.remaining) for o in m._take_profits()] == [(1, 1)]


def test_an_amend_answer_counts_the_fills_it_reveals_before_they_arrive() -> None:
    """The take-profit rests for 3; a buyer lifts 2 of it (the engine does not hear of it yet) and
    the entry fills 1 more, so the engine grows the take-profit to a total of 4: 2 rest. When the
    two fills arrive the take-profit still rests for 2 — it has not filled out — so no second
    take-profit is placed beside it."""
    m, first, entry_fill = BracketNeverFlips(), cast(st.DataObject, Pick(0)), cast(st.DataObject, Pick(1))
    replay(
        m,
        [
            lambda: m.a_seller_hits_the_entry(qty=3),
            lambda: m.a_fill_reaches_the_engine(first),
            lambda: m.run_job(fails=False, liquidity=0),  # the take-profit rests for 3
            lambda: m.a_buyer_lifts_the_take_profit(qty=2),
            lambda: m.a_seller_hits_the_entry(qty=1),
            lambda: m.a_fill_reaches_the_engine(entry_fill),  # growth to 4 queued
            lambda: m.run_job(fails=False, liquidity=0),  # the growth leaves: 2 rest
            lambda: m.a_fill_reaches_the_engine(first),  # the take-profit's fill arrives
            lambda: m.run_job(fails=False, liquidity=0),
            lambda: m.run_job(fails=False, liquidity=0),
        ],
    )
    assert m.position == 2
    assert [(o.coid, o.filled, o.remaining) for o in m._take_profits()] == [("e-tp1", 2, 2)]
    assert not m.engine.jobs


def test_a_take_profit_canceled_after_fills_not_yet_heard_of_is_not_placed_again_for_them() -> None:
    """6 held, the take-profit for 6 is queued; a strategy's exit of 1 queues its cancel ahead of
    the exit. The take-profit rests, a buyer lifts 5 of it, then the cancel takes the last one off.
    The cancel's answer (1 still rested) tells the engine 5 had filled before their fills arrive:
    the next take-profit is for the 1 held, not for 6."""
    m, first = ExitsNeverFlipThroughTheBracket(), cast(st.DataObject, Pick(0))
    steps: list[Callable[[], None]] = [
        lambda: m.a_seller_hits_the_entry(qty=6),
        lambda: m.a_fill_reaches_the_engine(first),  # the take-profit for 6 is queued
        lambda: m.a_strategy_exits(qty=1),  # its cancel and the exit queued behind it
        lambda: m.run_job(fails=False, liquidity=0),  # the take-profit rests for 6
        lambda: m.a_buyer_lifts_the_take_profit(qty=5),
    ]
    replay(m, steps + [lambda: m.run_job(fails=False, liquidity=0)] * 5)
    assert m.position == 1
    assert [(o.coid, o.remaining) for o in m._take_profits()] == [("e-tp2", 1)]


PROPERTY = settings(
    max_examples=300, stateful_step_count=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
BracketNeverFlips.TestCase.settings = PROPERTY
ExitsNeverFlipThroughTheBracket.TestCase.settings = PROPERTY
# Slow: ./test.sh --fast leaves them out.
TestBracketNeverFlips = pytest.mark.slow(BracketNeverFlips.TestCase)
TestExitsNeverFlipThroughTheBracket = pytest.mark.slow(ExitsNeverFlipThroughTheBracket.TestCase)
