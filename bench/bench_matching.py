"""Matching-engine throughput: in-process order operations per second on one core.

Run: ``.venv/bin/python bench/bench_matching.py [--ops N] [--runs R]``

A deterministic (seeded) stream of order operations over 4 markets on two tick grids and 20
accounts, generated up front and replayed against a fresh ``MatchingEngine`` per run:

  ~55 % resting adds   GTC limit orders 1-15 ticks behind a drifting mid, fractional sizes sometimes;
  ~15 % crosses        IOC orders up to 4 ticks through the mid, sweeping one or more levels;
  ~25 % cancels        of a random order of the same account that is still resting at that point;
  ~5 %  amends         price/size changes of a resting order (some cross, some lose priority).

The stream is generated against a live engine (so that cancels and amends name live orders) and
then replayed, identically, on fresh engines.

A second stream, "simple place/cancel", has only resting adds (never crossing) and cancels of
them, about half each, with up to 2,000 orders resting.

Paths, each the median of R runs, in operations per second:

  (a) baseline: the same operations appended as tuples to a dict keyed by order id (adds and
      amends store, cancels pop) — no validation, no matching, no accounting;
  (b) engine, no listeners (no event objects are built);
  (c) engine with one listener that only counts events (what the server pays at minimum);
  (d) as (c) plus the exchange's market history (``sim/api/market_history.py``: top of book per minute for
      candlesticks, settled positions), which every embedded exchange attaches.

Ids come from a counter so that uuid4 generation is not measured (the exchange's own id source
is injected the same way). Machine information is printed with the figures.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from kalshi_trader.domain import (
    BookSide,
    FeeType,
    Money,
    OrderStatus,
    Price,
    Qty,
    SelfTradePrevention,
    TickGrid,
    TimeInForce,
)
from kalshi_trader.sim.api.market_history import MarketHistory
from kalshi_trader.sim.core.matching import MatchingEngine
from kalshi_trader.sim.core.state import EngineEvent, ExchangeError, MarketState, NewOrder, SimOrder

SEED = 20260516
USERS = [f"user{i:02d}" for i in range(20)]
MARKETS = [("BENCH-A", "linear_cent"), ("BENCH-B", "linear_cent"), ("BENCH-C", "deci_cent"), ("BENCH-D", "deci_cent")]
GTC = TimeInForce.GOOD_TILL_CANCELED
IOC = TimeInForce.IMMEDIATE_OR_CANCEL
STP = SelfTradePrevention.MAKER

Op = tuple[Any, ...]


def apply(engine: MatchingEngine, op: Op, ids: list[str]) -> SimOrder | None:
    """Run one operation; a create appends its order id (or "" if rejected) to ``ids``."""
    kind = op[0]
    try:
        if kind == "place":
            _, user, ticker, side, price, count, tif = op
            order = engine.place(user, NewOrder(ticker, side, Price(price), Qty(count), tif, STP)).order
            ids.append(order.order_id)
            return order
        if kind == "cancel":
            engine.cancel(op[1], ids[op[2]])
        else:
            _, user, index, ticker, side, price, count = op
            engine.amend(user, ids[index], ticker=ticker, side=side, price=Price(price), count=Qty(count))
    except ExchangeError:
        if kind == "place":
            ids.append("")
        raise
    return None


def generate(n_ops: int, seed: int = SEED) -> list[Op]:
    """Operations referring to orders by their creation index (ids are assigned at replay).

    The stream is generated against a live engine so that cancels and amends pick orders that are
    still resting at that point; replaying it on a fresh engine reproduces the same states."""
    rng = random.Random(seed)
    engine = fresh_engine(None)
    steps = {ticker: TickGrid.named(structure).bands[0].step for ticker, structure in MARKETS}
    mid = {ticker: 5_000 for ticker, _ in MARKETS}
    resting: dict[str, list[int]] = {u: [] for u in USERS}
    ids: list[str] = []
    ops: list[Op] = []

    def pick_resting(user: str) -> int | None:
        live = resting[user]
        while live:
            slot = rng.randrange(len(live))
            if engine.order(user, ids[live[slot]]).status is OrderStatus.RESTING:
                return live[slot]
            live[slot] = live[-1]
            live.pop()
        return None

    while len(ops) < n_ops:
        user = rng.choice(USERS)
        ticker, _ = rng.choice(MARKETS)
        step = steps[ticker]
        mid[ticker] = min(7_000, max(3_000, mid[ticker] + rng.choice((-step, 0, 0, 0, step))))
        roll = rng.random()
        count = rng.randint(1, 20) * 100 if rng.random() < 0.8 else rng.randint(1, 2_000)
        side = BookSide.BID if rng.random() < 0.5 else BookSide.ASK
        sign = -1 if side is BookSide.BID else 1
        op: Op
        index: int | None = None
        if roll < 0.55:
            op = ("place", user, ticker, side, mid[ticker] + sign * rng.randint(1, 15) * step, count, GTC)
        elif roll < 0.70:
            op = ("place", user, ticker, side, mid[ticker] - sign * rng.randint(0, 4) * step, count, IOC)
        elif (index := pick_resting(user)) is None:
            continue
        elif roll < 0.95:
            op = ("cancel", user, index)
        else:
            target = engine.order(user, ids[index])
            target_sign = -1 if target.side is BookSide.BID else 1
            price = mid[target.ticker] + target_sign * rng.randint(-1, 10) * steps[target.ticker]
            op = ("amend", user, index, target.ticker, target.side, price, count)
        try:
            placed = apply(engine, op, ids)
        except ExchangeError:
            placed = None
        if placed is not None and placed.status is OrderStatus.RESTING:
            resting[user].append(len(ids) - 1)
        ops.append(op)
    return ops


def generate_simple(n_ops: int, seed: int = SEED) -> list[Op]:
    """Only resting adds and cancels (no crossing): each add behind the touch, cancelled later."""
    rng = random.Random(seed + 1)
    ops: list[Op] = []
    live: list[tuple[str, int]] = []
    created = 0
    while len(ops) < n_ops:
        if live and (len(live) > 2_000 or rng.random() < 0.5):
            user, index = live.pop(rng.randrange(len(live)))
            ops.append(("cancel", user, index))
            continue
        user = rng.choice(USERS)
        ticker, _ = rng.choice(MARKETS)
        side = BookSide.BID if rng.random() < 0.5 else BookSide.ASK
        price = rng.randint(30, 45) * 100 if side is BookSide.BID else rng.randint(55, 70) * 100
        ops.append(("place", user, ticker, side, price, rng.randint(1, 20) * 100, GTC))
        live.append((user, created))
        created += 1
    return ops


def fresh_engine(listener: Callable[[EngineEvent], None] | None, *, history: bool = False) -> MatchingEngine:
    counter = iter(range(1, 1 << 62))
    engine = MatchingEngine(clock_ms=lambda: 1_750_000_000_000, new_id=lambda: f"{next(counter):x}")
    if listener is not None:
        engine.add_listener(listener)
    if history:
        MarketHistory(engine)
    for ticker, structure in MARKETS:
        engine.add_market(MarketState(ticker, f"EV-{ticker}", TickGrid.named(structure), FeeType.QUADRATIC))
    for user in USERS:
        engine.open_account(user, Money(10_000_000 * 10_000))
    return engine


def run_engine(
    ops: list[Op], listener: Callable[[EngineEvent], None] | None, *, history: bool = False
) -> tuple[float, int, int]:
    """Seconds for the whole stream, trades made, rejections."""
    engine = fresh_engine(listener, history=history)
    ids: list[str] = []
    rejected = 0
    gc.collect()
    start = time.perf_counter()
    for op in ops:
        try:
            apply(engine, op, ids)
        except ExchangeError:
            rejected += 1
    elapsed = time.perf_counter() - start
    return elapsed, len(engine.trades()), rejected


def run_baseline(ops: list[Op]) -> float:
    store: dict[int, tuple[Any, ...]] = {}
    created = 0
    gc.collect()
    start = time.perf_counter()
    for op in ops:
        kind = op[0]
        if kind == "place":
            store[created] = op
            created += 1
        elif kind == "cancel":
            store.pop(op[2], None)
        else:
            store[op[2]] = op
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    print(f"python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} logical CPUs, processor {platform.processor() or '?'}")
    for name, ops in (("realistic mix", generate(args.ops)), ("simple place/cancel", generate_simple(args.ops))):
        report(name, ops, args.runs)
    sys.stdout.flush()


def report(name: str, ops: list[Op], runs: int) -> None:
    kinds = {k: sum(1 for op in ops if op[0] == k) for k in ("place", "cancel", "amend")}
    iocs = sum(1 for op in ops if op[0] == "place" and op[6] is IOC)
    print(
        f"\n== {name}: {len(ops):,} ops = {kinds['place'] - iocs:,} resting adds, {iocs:,} IOC crosses, "
        f"{kinds['cancel']:,} cancels, {kinds['amend']:,} amends; {len(MARKETS)} markets, {len(USERS)} accounts"
    )
    events = [0]

    def counting(_: EngineEvent) -> None:
        events[0] += 1

    baseline = [len(ops) / run_baseline(ops) for _ in range(runs)]
    bare: list[float] = []
    listened: list[float] = []
    remembered: list[float] = []
    trades = rejected = counted = 0
    for _ in range(runs):
        seconds, trades, rejected = run_engine(ops, None)
        bare.append(len(ops) / seconds)
        events[0] = 0
        seconds, _, _ = run_engine(ops, counting)
        listened.append(len(ops) / seconds)
        counted = events[0]
        seconds, _, _ = run_engine(ops, counting, history=True)
        remembered.append(len(ops) / seconds)
    print(f"per run: {trades:,} trades, {rejected:,} rejected ops, {counted:,} events (listener path)")
    base_median = statistics.median(baseline)
    print(f"{'path':<36}{'median ops/s':>16}{'min':>14}{'max':>14}{'vs baseline':>14}")
    for label, figures in (
        ("(a) baseline: dict of tuples", baseline),
        ("(b) engine, no listener", bare),
        ("(c) engine, counting listener", listened),
        ("(d) (c) + market history", remembered),
    ):
        median = statistics.median(figures)
        print(f"{label:<36}{median:>16,.0f}{min(figures):>14,.0f}{max(figures):>14,.0f}{median / base_median:>13.4f}x")


if __name__ == "__main__":
    main()
