"""sim/core/matching.py under random order flow (hypothesis).

Three accounts, two markets on different grids and fee types, random create/cancel/amend/decrease
(all TIFs, both STP modes, post-only, reduce-only, GTT with a moving clock, order groups), and
sometimes a settlement in the middle. After every operation:

1. the book is never crossed (best YES bid + best NO bid < $1);
2. money is conserved exactly: Σ(cash + reserved) + $1 × open contracts + fees_collected equals
   the opening cash (open contracts: Σ positive positions, which equals Σ NO holdings);
3. no order has filled more than its size and filled/remaining are consistent;
4. each account's reserved cash equals the collateral of its resting orders;
5. replaying every BookDelta onto empty books reproduces ``book()``.

A rejected operation must leave the whole observable state unchanged and emit nothing.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.sim.core.engine_kit import ASK, BID, Harness, check_invariants, order, replay_book, snapshot

from kalshi_trader.domain import FeeType, MarketStatus, Price, Qty, SelfTradePrevention, TickGrid, TimeInForce
from kalshi_trader.sim.core.state import ExchangeError

USERS = ("u0", "u1", "u2")
MARKETS = ("A", "B")


def _prices(structure: str) -> list[Price]:
    """Grid prices biased to where orders cross, plus the extreme ticks."""
    levels = [p for p in TickGrid.named(structure).levels() if 0 < p < 10_000]
    middle = [p for p in levels if 4_500 <= p <= 5_500]
    return middle[:: max(1, len(middle) // 8)] + levels[:2] + levels[-2:]


PRICES = {"A": _prices("linear_cent"), "B": _prices("tapered_deci_cent")}

counts = st.one_of(st.integers(1, 3).map(lambda n: n * 100), st.integers(1, 1_500))
places = st.tuples(
    st.just("place"),
    st.sampled_from(USERS),
    st.sampled_from(MARKETS),
    st.sampled_from([BID, ASK]),
    st.integers(0, 100),
    counts,
    st.sampled_from([TimeInForce.GOOD_TILL_CANCELED] * 3 + [TimeInForce.IMMEDIATE_OR_CANCEL, TimeInForce.FILL_OR_KILL]),
    st.sampled_from(list(SelfTradePrevention)),
    st.sampled_from(["", "post_only", "reduce_only", "gtt", "group", "pause"]),
)
cancels = st.tuples(st.just("cancel"), st.sampled_from(USERS), st.integers(0, 50))
amends = st.tuples(st.just("amend"), st.sampled_from(USERS), st.integers(0, 50), st.integers(0, 100), counts)
decreases = st.tuples(st.just("decrease"), st.sampled_from(USERS), st.integers(0, 50), st.booleans(), counts)
ticks = st.tuples(st.just("tick"), st.integers(1, 20_000))
groups = st.tuples(st.just("group"), st.sampled_from(USERS), st.sampled_from(["trigger", "reset", "limit"]), counts)
lifecycle = st.tuples(st.just("status"), st.sampled_from(MARKETS), st.sampled_from(["inactive", "active"]))
settles = st.tuples(st.just("settle"), st.sampled_from(MARKETS), st.sampled_from(["yes", "no"]))
_BY_KIND = {
    "place": places,
    "cancel": cancels,
    "amend": amends,
    "decrease": decreases,
    "tick": ticks,
    "group": groups,
    "status": lifecycle,
    "settle": settles,
}
_WEIGHTS = {"place": 80, "cancel": 12, "amend": 16, "decrease": 8, "tick": 4, "group": 4, "status": 1, "settle": 1}
operation = st.sampled_from([kind for kind, weight in _WEIGHTS.items() for _ in range(weight)]).flatmap(
    lambda kind: _BY_KIND[kind]
)


class Run:
    def __init__(self) -> None:
        self.h = Harness(users=USERS, cash="150.00")
        self.h.add_market("A")
        self.h.add_market("B", "tapered_deci_cent", FeeType.QUADRATIC_WITH_MAKER_FEES, (1, 2))
        self.groups = {u: self.h.engine.create_group(u, Qty(500)) for u in USERS}

    def pick(self, user: str, index: int) -> str | None:
        orders = self.h.engine.orders(user)
        return orders[index % len(orders)].order_id if orders else None

    def apply(self, op: tuple[Any, ...]) -> None:
        e = self.h.engine
        kind = op[0]
        if kind == "place":
            _, user, ticker, side, price_index, count, tif, stp, flag = op
            prices = PRICES[ticker]
            extra: dict[str, Any] = {}
            if flag in ("post_only", "reduce_only"):
                extra[flag] = True
            elif flag == "gtt":
                extra["expiration_ms"] = self.h.clock.now + 5_000
            elif flag == "group":
                extra["order_group_id"] = self.groups[user].group_id
            elif flag == "pause":
                extra["cancel_order_on_pause"] = True
            new = order(side, "0.5", "1", ticker=ticker, tif=tif, stp=stp, **extra)
            new.price = prices[price_index % len(prices)]
            new.count = count
            e.place(user, new)
        elif kind == "cancel":
            _, user, index = op
            order_id = self.pick(user, index)
            if order_id is not None:
                e.cancel(user, order_id)
        elif kind == "amend":
            _, user, index, price_index, count = op
            order_id = self.pick(user, index)
            if order_id is not None:
                current = e.order(user, order_id)
                prices = PRICES[current.ticker]
                price = prices[price_index % len(prices)]
                e.amend(user, order_id, ticker=current.ticker, side=current.side, price=price, count=count)
        elif kind == "decrease":
            _, user, index, by, amount = op
            order_id = self.pick(user, index)
            if order_id is not None:
                if by:
                    e.decrease(user, order_id, reduce_by=amount)
                else:
                    e.decrease(user, order_id, reduce_to=amount // 2)
        elif kind == "tick":
            self.h.clock.advance(op[1])
            e.expire_orders()
        elif kind == "group":
            _, user, action, limit = op
            group_id = self.groups[user].group_id
            if action == "trigger":
                e.trigger_group(user, group_id)
            elif action == "reset":
                e.reset_group(user, group_id)
            else:
                e.set_group_limit(user, group_id, limit)
        elif kind == "status":
            e.set_market_status(op[1], MarketStatus(op[2]))
        elif kind == "settle":
            e.determine(op[1], op[2])
            e.settle(op[1])

    def check(self) -> None:
        check_invariants(self.h.engine, USERS, self.h.initial_cash)
        replayed = replay_book(self.h.events)
        for ticker in MARKETS:
            assert replayed.get(ticker, ([], [])) == self.h.engine.book(ticker)


@pytest.mark.slow  # ./test.sh --fast leaves it out
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=20, max_size=80))
def test_random_order_flow_keeps_every_invariant(operations: list[tuple[Any, ...]]) -> None:
    run = Run()
    for op in operations:
        before = snapshot(run.h.engine, USERS)
        events = len(run.h.events)
        try:
            run.apply(op)
        except ExchangeError:
            assert snapshot(run.h.engine, USERS) == before, f"rejected {op} changed state"
            assert len(run.h.events) == events, f"rejected {op} emitted events"
        run.check()


@settings(max_examples=100, deadline=None)
@given(st.lists(places, min_size=5, max_size=80), st.sampled_from(["yes", "no"]))
def test_settlement_pays_out_every_open_contract(operations: list[tuple[Any, ...]], result: str) -> None:
    run = Run()
    for op in operations:
        with contextlib.suppress(ExchangeError):
            run.apply(op)
    engine = run.h.engine
    for ticker in MARKETS:
        open_interest = engine.market(ticker).open_interest
        cash_before = sum(engine.account(u).cash + engine.account(u).reserved for u in USERS)
        engine.determine(ticker, "yes" if result == "yes" else "no")
        records = engine.settle(ticker)
        assert sum(r.revenue for r in records) == open_interest * 100
        assert (
            sum(engine.account(u).cash + engine.account(u).reserved for u in USERS) == cash_before + open_interest * 100
        )
        run.check()
    assert sum(engine.account(u).cash for u in USERS) + engine.fees_collected == run.h.initial_cash
    assert all(engine.account(u).reserved == 0 and not engine.account(u).positions for u in USERS)


@settings(max_examples=40, deadline=None)
@given(st.lists(operation, min_size=10, max_size=40))
def test_listeners_see_consistent_state_at_every_event(operations: list[tuple[Any, ...]]) -> None:
    run = Run()
    failures: list[str] = []

    def audit(event: object) -> None:
        try:
            run.check()
        except AssertionError as err:  # the engine swallows listener errors, so record them
            failures.append(f"{event!r}: {err}")

    run.h.engine.add_listener(audit)
    for op in operations:
        with contextlib.suppress(ExchangeError):
            run.apply(op)
    assert failures == []


@settings(max_examples=40, deadline=None)
@given(st.lists(operation, min_size=10, max_size=60))
def test_the_same_operations_give_the_same_outcome(operations: list[tuple[Any, ...]]) -> None:
    first, second = Run(), Run()
    for op in operations:
        outcomes = []
        for run in (first, second):
            try:
                run.apply(op)
                outcomes.append("ok")
            except ExchangeError as err:
                outcomes.append(err.code)
        assert outcomes[0] == outcomes[1]
    assert snapshot(first.h.engine, USERS) == snapshot(second.h.engine, USERS)
    assert [repr(e) for e in first.h.events] == [repr(e) for e in second.h.events]
