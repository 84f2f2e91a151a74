"""``host.strategies.StrategyHost``: strategies' actions reach the exchange through a real
``ExecutionEngine`` and ``RiskManager`` (the embedded exchange over loopback, the record on
SQLite), with the freshest book and the fair value; places and amends beyond the write budget are
deferred; risk-adding actions are held while risk is halted; fills are attributed to the strategy
that placed the order; each strategy sees only its own orders; decisions are kept per market;
strategies start and stop independently and a failing one is stopped alone; ``run`` steps on
wake-ups and on its timer.

The strategies are scripted test inputs (the host's contract is to carry out whatever they
return); everything they act through is real. Fills reach the engine and then the host the way
the node delivers them (``engine.on_fill`` then ``host.on_fill``), read from the exchange over
REST. Risk's clock is the test's (frozen unless moved), so the write budget refills only when a
test says a second has passed."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec
import pytest
from tests.integration.execution.kit import LOOSE, Liquidity, client_for, orders_at, positions_at, resting
from tests.support.exchange import RunningExchange

from kalshi_trader.config import RiskSettings
from kalshi_trader.domain import (
    BookSide,
    Fill,
    IntentAction,
    MarketInfo,
    MarketStatus,
    OrderIntent,
    OrderStatus,
    Price,
    Qty,
    TickGrid,
    TimeInForce,
    TopOfBook,
)
from kalshi_trader.execution.engine import EngineConfig, ExecutionEngine
from kalshi_trader.host.strategies import MAX_DECISIONS, StrategyHost
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.kalshi.venue import KalshiVenue
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.store import AuditKind, Store
from kalshi_trader.strategy.base import (
    Action,
    Decision,
    FairValue,
    StrategyResult,
    StrategyRunner,
    StrategyState,
    Verdict,
    cancel_orders,
)

pytestmark = pytest.mark.timeout(60)

T = "KXHOST-26JAN01-T50"
U = "KXHOSTU-26JAN01-T50"
GRID = TickGrid.named("linear_cent")

Plan = Callable[[StrategyState], Sequence[Action] | tuple[Sequence[Action], Sequence[Decision]]]


class Scripted:
    """A strategy whose steps are scripted by the test: each ``decide`` runs the next plan (none
    left: nothing to do); ``on_stop`` cancels its open orders, as real strategies do. It keeps the
    states it was given."""

    def __init__(self, name: str, *plans: Plan, enabled: bool = True, on_start: Plan | None = None) -> None:
        self._name = name
        self._enabled = enabled
        self.plans: deque[Plan] = deque(plans)
        self.start_plan = on_start
        self.states: list[StrategyState] = []
        self.stepped = asyncio.Event()

    @property
    def name(self) -> str:
        return self._name

    @property
    def enabled(self) -> bool:
        return self._enabled

    def initial_memory(self) -> int:
        return 0

    def _result(self, plan: Plan | None, state: StrategyState, memory: int) -> StrategyResult[int]:
        out = plan(state) if plan is not None else ()
        if isinstance(out, tuple) and len(out) == 2 and all(isinstance(part, list | tuple) for part in out):
            actions, decisions = out
        else:
            actions, decisions = out, ()
        return StrategyResult(memory + 1, tuple(actions), tuple(decisions))

    def on_start(self, state: StrategyState, memory: int) -> StrategyResult[int]:
        return self._result(self.start_plan, state, memory)

    def decide(self, state: StrategyState, memory: int) -> StrategyResult[int]:
        self.states.append(state)
        self.stepped.set()
        return self._result(self.plans.popleft() if self.plans else None, state, memory)

    def on_stop(self, state: StrategyState, memory: int) -> StrategyResult[int]:
        actions, decisions = cancel_orders(state, self.name, "strategy stopped")
        return StrategyResult(memory, actions, decisions)


def place(
    strategy: str,
    coid: str,
    side: BookSide,
    price: int,
    contracts: int,
    *,
    ticker: str = T,
    tif: TimeInForce = TimeInForce.GOOD_TILL_CANCELED,
    reduce_only: bool = False,
) -> OrderIntent:
    return OrderIntent.place(
        ticker,
        side,
        price,
        contracts * 100,
        coid,
        tif=tif,
        reduce_only=reduce_only,
        strategy=strategy,
        reason="scripted",
    )


def cancel(strategy: str, coid: str, ticker: str = T) -> OrderIntent:
    return OrderIntent.cancel(ticker, coid, strategy=strategy, reason="scripted")


class ManualClock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


@dataclass
class Desk:
    """The engine, risk and exchange a host acts through, and the inputs the node would give it."""

    exchange: RunningExchange
    store: Store
    rest: KalshiRest
    risk: RiskManager
    engine: ExecutionEngine
    clock: ManualClock
    liquidity: Liquidity
    books: dict[str, TopOfBook] = field(default_factory=dict)
    fair: dict[str, FairValue] = field(default_factory=dict)
    market_ms: int = 1_767_268_800_000  # 2026-01-01T12:00Z

    def host(self, *strategies: Scripted, **kw: Any) -> StrategyHost:
        return StrategyHost(
            [(StrategyRunner(s), s.name.title()) for s in strategies],
            self.engine,
            markets=dict,
            fair_values=lambda: dict(self.fair),
            top_of=self.books.get,
            clock_ms=lambda: self.market_ms,
            **kw,
        )

    def book(self, ticker: str, bid: int | None, ask: int | None) -> None:
        """What ``top_of`` answers for ``ticker`` (fresh, on risk's clock). The engine's own copy
        is not touched: what reaches risk is what the host passed."""
        self.books[ticker] = TopOfBook(
            ticker,
            Price(bid) if bid is not None else None,
            Price(ask) if ask is not None else None,
            self.clock(),
            False,
        )

    def next_second(self) -> None:
        """Risk's clock moves a second on: the write budget is full again (books stay fresh)."""
        self.clock.ms += 1_000
        for ticker, top in list(self.books.items()):
            self.books[ticker] = msgspec.structs.replace(top, as_of_ms=self.clock())

    async def settle(self) -> None:
        """Every queued request answered."""
        await self.engine.queue.drain()

    async def deliver_fills(self, host: StrategyHost, *, without_client_id: bool = False) -> list[Fill]:
        """New fills from the exchange, into the engine then the host (the node's order)."""
        await self.settle()
        fills = sorted([convert.fill(f) async for f in self.rest.iter_fills()], key=lambda f: (f.ts_ms, f.fill_id))
        new = []
        for fill in fills:
            if without_client_id:  # as a fill message that does not name the client order id
                fill = replace(fill, client_order_id="")
            if self.engine.on_fill(fill):
                host.on_fill(fill)
                new.append(fill)
        return new


@pytest.fixture
async def desk_factory(exchange: RunningExchange, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    async with AsyncExitStack() as stack:

        async def make(**risk: Any) -> Desk:
            store = await Store.open(f"sqlite:///{tmp_path / 'host.db'}")
            stack.push_async_callback(store.close)
            recorder = store.recorder()
            stack.push_async_callback(recorder.close)
            rest = client_for(exchange, exchange.trader)
            stack.push_async_callback(rest.close)
            clock = ManualClock(50_000_000)
            manager = RiskManager(RiskLimits.from_settings(RiskSettings(**{**LOOSE, **risk})), clock=clock)
            engine = ExecutionEngine(
                KalshiVenue(rest), manager, recorder, config=EngineConfig(tick_s=3600), clock_ms=clock
            )
            for ticker in (T, U):
                exchange.add_market(ticker)
                event = ticker.rsplit("-", 1)[0]
                series = ticker.split("-")[0]
                engine.register_market(
                    MarketInfo(ticker, event, series, MarketStatus.ACTIVE, GRID, int(time.time() * 1000) + 86_400_000)
                )
            await engine.start()
            stack.push_async_callback(engine.close)
            liquidity = Liquidity(exchange)
            stack.push_async_callback(liquidity.close)
            return Desk(exchange, store, rest, manager, engine, clock, liquidity)

        yield make


@pytest.fixture
async def desk(desk_factory: Callable[..., Any]) -> Desk:
    made: Desk = await desk_factory()
    return made


async def resting_coids(desk: Desk) -> set[str]:
    await desk.settle()
    return {o.client_order_id for o in await resting(desk.rest)}


# ------------------------------------------------------------------------------------------------
# Actions → engine


async def test_actions_reach_risk_with_the_freshest_book_and_the_fair_value(desk: Desk) -> None:
    desk.book(T, 3000, 6000)
    desk.fair[T] = FairValue(T, Price(4000), desk.market_ms)
    a = Scripted(
        "alpha",
        lambda s: [
            place("alpha", "a-near", BookSide.BID, 4500, 1),  # $0.05 worse than fair: within $0.10
            place("alpha", "a-far", BookSide.BID, 5200, 1),  # $0.12 worse than fair
            place("alpha", "a-nobook", BookSide.BID, 4000, 1, ticker=U),  # top_of knows no book for U
        ],
    )
    host = desk.host(a)
    host.start("alpha")
    host.step()

    hosted = host.hosted("alpha")
    assert (hosted.steps, hosted.actions, hosted.refused) == (1, 3, 2)
    assert hosted.refused_by == {"price_far_from_fair": 1, "stale_book": 1}
    assert await resting_coids(desk) == {"a-near"}


async def test_places_and_amends_beyond_the_write_budget_are_deferred_and_cancels_still_go(
    desk_factory: Callable[..., Any],
) -> None:
    desk: Desk = await desk_factory(max_writes_per_second=3)
    desk.book(T, 3000, 6000)
    a = Scripted(
        "alpha",
        lambda s: [place("alpha", "a-0", BookSide.BID, 3000, 1)],
        lambda s: [
            *(place("alpha", f"a-{n}", BookSide.BID, 3000 + n * 100, 1) for n in range(1, 6)),
            cancel("alpha", "a-0"),
            OrderIntent.amend(T, BookSide.BID, 3500, 100, "a-1", strategy="alpha"),
            place("alpha", "a-6", BookSide.BID, 3600, 1),
        ],
        lambda s: [place("alpha", f"a-{n}", BookSide.BID, 3000 + n * 100, 1) for n in (4, 5)],
    )
    host = desk.host(a)
    host.start("alpha")
    host.step()
    assert await resting_coids(desk) == {"a-0"}

    desk.next_second()  # three writes available again
    refused_before = desk.engine.counters.refused
    host.step()
    hosted = host.hosted("alpha")
    # a-1..a-3 spend the budget; a-4, a-5, the amend and a-6 wait; the cancel is sent anyway.
    assert hosted.deferred == 4
    assert hosted.refused == 0
    assert desk.engine.counters.refused == refused_before  # nothing refused, nothing audited as refused
    assert await resting_coids(desk) == {"a-1", "a-2", "a-3"}

    desk.next_second()
    host.step()  # the strategy asks again
    assert hosted.deferred == 4
    assert await resting_coids(desk) == {"a-1", "a-2", "a-3", "a-4", "a-5"}


async def test_a_refusal_repeated_by_the_same_rule_is_neither_sent_nor_audited_again(
    desk_factory: Callable[..., Any],
) -> None:
    """A strategy pressing on a full limit every step: one refusal, one audit entry; the repeats
    are judged as dry runs and counted; once the limit has room the intent is sent again."""
    desk: Desk = await desk_factory(max_open_orders=2)
    desk.book(T, 3000, 6000)
    a = Scripted(
        "alpha",
        lambda s: [place("alpha", "a-1", BookSide.BID, 3000, 1), place("alpha", "a-2", BookSide.BID, 3100, 1)],
        *(lambda s, n=n: [place("alpha", f"a-more-{n}", BookSide.BID, 3200, 1)] for n in range(4)),
        lambda s: [cancel("alpha", "a-1")],
        lambda s: [place("alpha", "a-more-4", BookSide.BID, 3200, 1)],
    )
    host = desk.host(a)
    host.start("alpha")
    host.step()
    refused_before = desk.engine.counters.refused
    for _ in range(4):
        desk.next_second()
        host.step()
    hosted = host.hosted("alpha")
    assert (hosted.refused, hosted.repeated) == (1, 3)
    assert hosted.refused_by == {"max_open_orders": 1}
    assert desk.engine.counters.refused == refused_before + 1
    await desk.settle()
    desk.next_second()
    host.step()  # a-1 canceled: room again
    await desk.settle()
    desk.next_second()
    host.step()
    assert (hosted.refused, hosted.repeated) == (1, 3)
    assert await resting_coids(desk) == {"a-2", "a-more-4"}
    await desk.engine.recorder.flush()
    audited = sorted(e.subject for e in await desk.store.audit_log(kind=AuditKind.INTENT) if "a-more" in e.subject)
    assert audited == ["a-more-0", "a-more-4"]  # the repeats never reached the audit log


async def test_while_risk_is_halted_risk_adding_actions_are_held_and_exits_and_cancels_still_go(desk: Desk) -> None:
    desk.book(T, 4800, 5000)
    await desk.liquidity.quote(T, BookSide.ASK, 5000, 3)
    await desk.liquidity.quote(T, BookSide.BID, 4800, 10)
    a = Scripted(
        "alpha",
        lambda s: [place("alpha", "a-buy", BookSide.BID, 5000, 3, tif=TimeInForce.IMMEDIATE_OR_CANCEL)],
        lambda s: [
            place("alpha", "a-more", BookSide.BID, 4700, 1),  # adds risk: held
            OrderIntent.amend(T, BookSide.BID, 4600, 100, "a-more", strategy="alpha"),  # held
            place(
                "alpha", "a-exit", BookSide.ASK, 4800, 1, tif=TimeInForce.IMMEDIATE_OR_CANCEL, reduce_only=True
            ),  # reduces the position: sent
            cancel("alpha", "a-buy"),  # a cancel: sent (nothing rests under it any more)
        ],
    )
    host = desk.host(a)
    host.start("alpha")
    host.step()
    await desk.deliver_fills(host)
    assert await positions_at(desk.rest) == {T: 300}

    report = await desk.engine.kill(who="test", why="halt the desk")
    assert report.still_resting == 0
    assert desk.risk.halted
    refused_before = desk.engine.counters.refused
    desk.next_second()
    host.step()

    hosted = host.hosted("alpha")
    assert hosted.held_halted == 2
    assert hosted.refused == 0
    assert desk.engine.counters.refused == refused_before  # no refusal audited for the held ones
    await desk.deliver_fills(host)
    assert await positions_at(desk.rest) == {T: 200}  # the exit went through
    assert {o.client_order_id for o in await orders_at(desk.rest, T)} == {"a-buy", "a-exit"}
    await desk.engine.recorder.flush()
    intents = await desk.store.audit_log(kind=AuditKind.INTENT)
    assert sorted((e.subject, e.payload["action"]) for e in intents) == [
        ("a-buy", "cancel"),
        ("a-buy", "place"),
        ("a-exit", "place"),
    ]  # the held ones never reached risk or the audit log


# ------------------------------------------------------------------------------------------------
# Inputs: own orders, fills, positions


async def three_bids_filled(desk: Desk, *, without_client_id: bool = False) -> StrategyHost:
    """alpha's bid of 3 and beta's of 2, and a manual one of 1, all filled: the host that ran them."""
    desk.book(T, 3000, 6000)
    a = Scripted("alpha", lambda s: [place("alpha", "a-bid", BookSide.BID, 4000, 3)])
    b = Scripted("beta", lambda s: [place("beta", "b-bid", BookSide.BID, 3900, 2)])
    host = desk.host(a, b)
    host.start("alpha")
    host.start("beta")
    host.step()
    # An order no hosted strategy placed (e.g. by hand through the engine).
    desk.engine.submit(place("", "manual-bid", BookSide.BID, 3800, 1), book=desk.books[T])
    assert await resting_coids(desk) == {"a-bid", "b-bid", "manual-bid"}

    await desk.liquidity.take(T, BookSide.ASK, 3800, 6)  # someone sells into all three bids
    fills = await desk.deliver_fills(host, without_client_id=without_client_id)
    assert len(fills) == 3
    return host


async def test_fills_are_attributed_to_the_strategy_that_placed_the_order(desk: Desk) -> None:
    host = await three_bids_filled(desk, without_client_id=True)

    alpha, beta = host.state_for("alpha"), host.state_for("beta")
    assert [(f.client_order_id, f.price, f.qty) for f in alpha.fills] == [("a-bid", 4000, 300)]
    assert [(f.client_order_id, f.price, f.qty) for f in beta.fills] == [("b-bid", 3900, 200)]
    assert alpha.positions[T].qty == beta.positions[T].qty == 600  # positions are the account's
    assert (alpha.own_positions, beta.own_positions) == ({T: 300}, {T: 200})  # the manual one is nobody's

    # A restart of the strategy forgets the fills it saw, not the position they made.
    host.stop("alpha")
    host.start("alpha")
    assert host.state_for("alpha").fills == ()
    assert host.state_for("alpha").own_positions == {T: 300}
    assert [f.client_order_id for f in host.state_for("beta").fills] == ["b-bid"]


async def test_own_positions_come_back_from_the_record_in_a_new_host(desk: Desk) -> None:
    """A new host (as after a restart) gets each strategy's own positions back from the fills the
    record keeps of its orders, cut to what the account holds; the manual order is still nobody's."""
    await three_bids_filled(desk)
    await desk.engine.recorder.flush()

    again = desk.host(Scripted("alpha"), Scripted("beta"))
    assert again.state_for("alpha").own_positions == {}  # nothing attributed in this host yet
    again.restore({**await desk.store.strategy_holdings(), "gone": {T: 100}})
    assert (again.state_for("alpha").own_positions, again.state_for("beta").own_positions) == ({T: 300}, {T: 200})
    again.restore({"alpha": {T: 900}})  # more than the account's 600: cut to it
    assert again.state_for("alpha").own_positions == {T: 600}


async def test_a_strategys_own_position_never_exceeds_what_the_account_still_holds(desk: Desk) -> None:
    desk.book(T, 3000, 6000)
    a = Scripted("alpha", lambda s: [place("alpha", "a-bid", BookSide.BID, 4000, 3)])
    host = desk.host(a)
    host.start("alpha")
    host.step()
    assert await resting_coids(desk) == {"a-bid"}
    await desk.liquidity.take(T, BookSide.ASK, 4000, 3)
    await desk.deliver_fills(host)
    assert host.state_for("alpha").own_positions == {T: 300}

    # Sold by hand (as a flatten would): the account holds 1, so alpha holds at most that.
    await desk.liquidity.quote(T, BookSide.BID, 3500, 2)
    assert desk.engine.submit(place("", "manual-ask", BookSide.ASK, 3500, 2), book=desk.books[T]).approved
    await desk.deliver_fills(host)
    assert host.state_for("alpha").own_positions == {T: 100}
    # Then flat, and bought again by hand: what was taken away stays forgotten.
    await desk.liquidity.quote(T, BookSide.BID, 3500, 1)
    assert desk.engine.submit(place("", "manual-ask-2", BookSide.ASK, 3500, 1), book=desk.books[T]).approved
    await desk.deliver_fills(host)
    assert host.state_for("alpha").own_positions == {}
    await desk.liquidity.quote(T, BookSide.ASK, 4500, 2)
    assert desk.engine.submit(place("", "manual-bid", BookSide.BID, 4500, 2), book=desk.books[T]).approved
    await desk.deliver_fills(host)
    assert host.state_for("alpha").positions[T].qty == 200
    assert host.state_for("alpha").own_positions == {}


async def test_each_strategy_sees_only_its_own_open_orders_pending_ones_included(desk: Desk) -> None:
    desk.book(T, 3000, 6000)
    a = Scripted("alpha", lambda s: [place("alpha", "a-1", BookSide.BID, 4000, 1)], lambda s: [])
    b = Scripted("beta", lambda s: [place("beta", "b-1", BookSide.ASK, 5500, 1)], lambda s: [])
    host = desk.host(a, b)
    host.start("alpha")
    host.start("beta")
    host.step()

    # Not sent yet (the queue has not run): already the strategy's own, pending order.
    pending = host.state_for("alpha").open_orders
    assert [(o.client_order_id, o.order_id, o.status) for o in pending] == [("a-1", "", OrderStatus.RESTING)]

    await desk.settle()
    host.step()
    assert [[o.client_order_id for o in s.open_orders] for s in a.states] == [[], ["a-1"]]
    assert [[o.client_order_id for o in s.open_orders] for s in b.states] == [[], ["b-1"]]
    assert all(o.order_id for o in a.states[-1].open_orders)
    assert [s.now_ms for s in a.states] == [desk.market_ms, desk.market_ms]  # market time, from clock_ms
    assert all(s.id_salt == host.salt for s in [*a.states, *b.states])


# ------------------------------------------------------------------------------------------------
# Decisions


def decide(ticker: str, why: str) -> Decision:
    return Decision("alpha", ticker, Verdict.SKIP, why)


async def test_the_newest_decision_per_market_is_kept_and_the_oldest_markets_drop_out(desk: Desk) -> None:
    many = [f"KXMANY-{n:03d}" for n in range(MAX_DECISIONS + 5)]
    a = Scripted(
        "alpha",
        lambda s: ([], [decide("X", "first look"), decide("Y", "first look"), decide("", "about nothing")]),
        lambda s: ([], [decide("X", "second look")]),
        lambda s: ([], [decide(t, "crowd") for t in many]),
        lambda s: ([], [decide(many[10], "again")]),
    )
    host = desk.host(a)
    host.start("alpha")
    hosted = host.hosted("alpha")

    host.step()
    assert {t: d.reason for t, d in hosted.decisions.items()} == {"X": "first look", "Y": "first look"}
    host.step()
    assert {t: d.reason for t, d in hosted.decisions.items()} == {"Y": "first look", "X": "second look"}

    host.step()
    assert len(hosted.decisions) == MAX_DECISIONS
    assert list(hosted.decisions) == many[5:]  # X, Y and the five oldest dropped out
    host.step()
    assert list(hosted.decisions)[-1] == many[10]  # decided again: now the newest
    assert hosted.decisions[many[10]].reason == "again"
    assert len(hosted.decisions) == MAX_DECISIONS


# ------------------------------------------------------------------------------------------------
# Lifecycle


async def test_strategies_start_and_stop_independently(desk: Desk) -> None:
    desk.book(T, 3000, 6000)
    a = Scripted("alpha", lambda s: [place("alpha", "a-1", BookSide.BID, 4000, 1)])
    b = Scripted("beta", lambda s: [place("beta", "b-1", BookSide.BID, 3900, 1)])
    off = Scripted("gamma", lambda s: [place("gamma", "g-1", BookSide.BID, 3800, 1)], enabled=False)
    host = desk.host(a, b, off)

    host.start("alpha")
    assert [h.name for h in host.all() if h.runner.running] == ["alpha"]
    host.step()
    host.start("beta")
    host.start("gamma")  # disabled in config: stays stopped
    host.step()
    assert (len(a.states), len(b.states), len(off.states)) == (2, 1, 0)
    assert await resting_coids(desk) == {"a-1", "b-1"}

    host.stop("alpha")  # cancels alpha's orders only
    assert await resting_coids(desk) == {"b-1"}
    host.step()
    assert (len(a.states), len(b.states)) == (2, 2)

    assert host.stop_all() == ["beta"]
    assert await resting_coids(desk) == set()
    assert host.stop_all() == []
    with pytest.raises(KeyError):
        host.start("delta")


async def test_on_start_actions_are_carried_out(desk: Desk) -> None:
    desk.book(T, 3000, 6000)
    desk.engine.submit(place("alpha", "left-over", BookSide.BID, 3500, 1), book=desk.books[T])
    assert await resting_coids(desk) == {"left-over"}
    # A strategy clearing what an earlier run left (as the real ones do in on_start).
    a = Scripted("alpha", on_start=lambda s: cancel_orders(s, "alpha", "started: clear leftovers"))
    host = desk.host(a)
    host.start("alpha")
    assert await resting_coids(desk) == set()


async def test_a_strategy_that_raises_is_stopped_alone_with_its_orders_canceled(desk: Desk) -> None:
    desk.book(T, 3000, 6000)

    def boom(state: StrategyState) -> list[Action]:
        raise RuntimeError("bad arithmetic")

    a = Scripted("alpha", lambda s: [place("alpha", "a-1", BookSide.BID, 4000, 1)], boom)
    b = Scripted(
        "beta",
        lambda s: [place("beta", "b-1", BookSide.BID, 3900, 1)],
        lambda s: [place("beta", "b-2", BookSide.BID, 3800, 1)],
    )
    changes: list[int] = []
    host = desk.host(a, b, on_change=lambda: changes.append(1))
    host.start("alpha")
    host.start("beta")
    host.step()
    assert await resting_coids(desk) == {"a-1", "b-1"}

    host.step()
    alpha, beta = host.hosted("alpha"), host.hosted("beta")
    assert not alpha.runner.running
    assert alpha.last_error == "RuntimeError: bad arithmetic"
    assert alpha.steps == 1
    assert beta.runner.running
    assert beta.steps == 2
    assert await resting_coids(desk) == {"b-1", "b-2"}
    assert changes

    host.start("alpha")
    assert alpha.runner.running
    assert alpha.last_error == ""


# ------------------------------------------------------------------------------------------------
# run()


async def test_run_steps_when_woken_at_most_once_per_min_interval_and_on_its_timer(desk: Desk) -> None:
    a = Scripted("alpha")
    host = desk.host(a, min_interval_s=0.3, max_interval_s=1.0)
    host.start("alpha")
    wake = asyncio.Event()
    task = asyncio.get_running_loop().create_task(host.run(wake))
    try:
        wake.set()
        async with asyncio.timeout(5):
            await a.stepped.wait()  # woken: it steps at once

        # Woken over and over for 0.65 s: one step per 0.3 s at most.
        before, started = len(a.states), time.monotonic()
        while time.monotonic() - started < 0.65:
            wake.set()
            await asyncio.sleep(0.01)
        assert len(a.states) - before <= 3

        # Left alone, it still steps on its timer (every max_interval_s).
        a.stepped.clear()
        async with asyncio.timeout(5):
            await a.stepped.wait()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert host.hosted("alpha").steps == len(a.states)


async def test_the_next_state_says_what_was_refused_what_is_in_flight_and_how_much_room_is_left(
    desk_factory: Callable[..., Any],
) -> None:
    """A refused place is reported on the next call (and never among the open orders); an amend
    is in flight until the exchange answers it; the room is risk's, fresh for every call."""
    desk: Desk = await desk_factory(max_order_size=2)
    desk.book(T, 3000, 6000)
    a = Scripted(
        "alpha",
        lambda s: [
            place("alpha", "a-big", BookSide.BID, 3000, 5),
            place("alpha", "a-ok", BookSide.BID, 3000, 2),
            place(
                "alpha", "a-nothing-held", BookSide.ASK, 4000, 1, tif=TimeInForce.IMMEDIATE_OR_CANCEL, reduce_only=True
            ),
        ],
        lambda s: [OrderIntent.amend(T, BookSide.BID, Price(3100), desk_qty(1), "a-ok", strategy="alpha")],
        lambda s: [],
    )
    host = desk.host(a)
    host.start("alpha")
    host.step()
    assert a.states[0].room.fit(T, BookSide.BID, Price(3000), desk_qty(5)).qty == desk_qty(2)
    await desk.settle()  # the exchange answers: a reduce-only order with nothing held is rejected
    desk.next_second()
    host.step()
    second = a.states[1]
    assert [(r.client_order_id, r.rule) for r in second.refused] == [
        ("a-big", "max_order_size"),
        ("a-nothing-held", "rejected"),
    ]
    assert {o.client_order_id for o in second.open_orders} == {"a-ok"}
    desk.next_second()
    host.step()
    third = a.states[2]
    assert third.refused == ()  # handed over once
    flying = third.in_flight["a-ok"]  # nothing awaited since it was sent: not answered yet
    assert (flying.action, flying.price, flying.qty) == (IntentAction.AMEND, Price(3100), desk_qty(1))
    await desk.settle()
    desk.next_second()
    host.step()
    assert a.states[3].in_flight == {}
    assert [(o.price, o.remaining) for o in a.states[3].open_orders] == [(Price(3100), desk_qty(1))]


def desk_qty(contracts: int) -> Qty:
    return Qty(contracts * 100)
