"""Paper venue feed cost: what mirroring the public feed into the paper exchange adds per event.

Run: ``.venv/bin/python bench/bench_paper.py [--events N] [--runs R]``

A deterministic stream (seeded) over 20 markets on the cent grid: one snapshot per market, then
book deltas (90 %) and trades (10 %, each preceded by the book decrease it causes, as Kalshi's
feed and the embedded exchange send them) around a drifting mid. Figures are ns per event, the
median of R runs, each path fed the same stream from fresh state:

  (a) baseline: ``marketdata.book.L2Book.apply_delta`` alone (what the node already pays);
  (b) ``PaperExchange`` with no paper orders (the book mirror, pending-decrease bookkeeping);
  (c) ``PaperExchange`` with 10 resting paper orders per market near the touch (queue model,
      crossing checks, fills booked, changes collected every 1,000 events).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import platform
import random
import statistics
import time
from collections.abc import Callable

from kalshi_trader.domain import BookSide, Side, TickGrid
from kalshi_trader.execution.venue import PlaceRequest, VenueError
from kalshi_trader.marketdata.book import L2Book
from kalshi_trader.paper.exchange import PaperExchange

SEED = 20261008
MARKETS = [f"KXBENCH-{i:02d}" for i in range(20)]
GRID = TickGrid.named("linear_cent")

Event = tuple[str, str, Side, int, int]
"""(kind, ticker, ladder, leg price, delta or trade size)."""


def stream(count: int) -> tuple[dict[str, tuple[list[tuple[int, int]], list[tuple[int, int]]]], list[Event]]:
    rng = random.Random(SEED)
    books: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
    snapshots = {}
    for ticker in MARKETS:
        yes = {p * 100: rng.randint(1, 50) * 100 for p in range(35, 50)}
        no = {p * 100: rng.randint(1, 50) * 100 for p in range(35, 50)}
        books[ticker] = (yes, no)
        snapshots[ticker] = (sorted(yes.items()), sorted(no.items()))
    events: list[Event] = []
    while len(events) < count:
        ticker = rng.choice(MARKETS)
        ladder = rng.choice((Side.YES, Side.NO))
        levels = books[ticker][0 if ladder is Side.YES else 1]
        price = rng.randint(35, 49) * 100
        size = levels.get(price, 0)
        if rng.random() < 0.1 and size > 0:
            qty = min(size, rng.randint(1, 10) * 100)
            levels[price] = size - qty
            events.append(("delta", ticker, ladder, price, -qty))
            events.append(("trade", ticker, ladder, price, qty))
        else:
            change = rng.randint(-size // 100, 20) * 100 if size else rng.randint(1, 20) * 100
            levels[price] = size + change
            events.append(("delta", ticker, ladder, price, change))
    return snapshots, events[:count]


def run_book(snapshots: dict[str, tuple[list[tuple[int, int]], list[tuple[int, int]]]], events: list[Event]) -> float:
    books = {t: L2Book(t, GRID) for t in MARKETS}
    for t, (yes, no) in snapshots.items():
        books[t].apply_snapshot(yes, no)
    start = time.perf_counter_ns()
    for kind, ticker, ladder, price, size in events:
        if kind == "delta":
            books[ticker].apply_delta(ladder, price, size)
    return (time.perf_counter_ns() - start) / len(events)


def run_paper(
    snapshots: dict[str, tuple[list[tuple[int, int]], list[tuple[int, int]]]], events: list[Event], orders: int
) -> float:
    clock = itertools.count(1_790_000_000_000, 7)
    ids = itertools.count(1)
    ex = PaperExchange(cash=10**12, clock_ms=lambda: next(clock), new_id=lambda: f"o{next(ids)}")
    for t, (yes, no) in snapshots.items():
        ex.add_market(t, GRID)
        ex.on_book_snapshot(t, yes, no)
        for i in range(orders):
            side = BookSide.BID if i % 2 == 0 else BookSide.ASK
            price = (40 + i // 2) * 100 if side is BookSide.BID else (60 - i // 2) * 100
            with contextlib.suppress(VenueError):
                ex.place(PlaceRequest(t, side, price, 1_000, f"{t}-{i}"))
    ex.take_changes()
    start = time.perf_counter_ns()
    for n, (kind, ticker, ladder, price, size) in enumerate(events):
        if kind == "delta":
            ex.on_book_delta(ticker, ladder, price, size)
        else:
            taker = BookSide.ASK if ladder is Side.YES else BookSide.BID
            yes_price = price if ladder is Side.YES else 10_000 - price
            ex.on_trade(ticker, yes_price, size, taker)
        if n % 1000 == 999:
            ex.take_changes()
    return (time.perf_counter_ns() - start) / len(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    snapshots, events = stream(args.events)
    paths: dict[str, Callable[[], float]] = {
        "(a) baseline L2Book.apply_delta": lambda: run_book(snapshots, events),
        "(b) PaperExchange, no paper orders": lambda: run_paper(snapshots, events, 0),
        "(c) PaperExchange, 10 resting orders per market": lambda: run_paper(snapshots, events, 10),
    }
    results: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(args.runs):
        for name, path in paths.items():
            results[name].append(path())
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"{len(events):,} events ({sum(1 for e in events if e[0] == 'trade'):,} trades), median of {args.runs}")
    base = statistics.median(results["(a) baseline L2Book.apply_delta"])
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:52s} {median:9.0f} ns/event  {median / base:6.1f}×")


if __name__ == "__main__":
    main()
