"""Request signing benchmark: what each API key type costs, per request and on the tick-to-order path.

Run: ``.venv/bin/python bench/bench_signing.py [--n N] [--runs R]``

Everything is in process (no socket) and timed per call with ``perf_counter_ns`` (wall clock) and
``thread_time_ns`` (this thread's CPU time, which leaves out the time other processes of a shared
machine held the CPU); figures are p50 / p99 in µs over every call of every run (R runs, the paths
of a table interleaved run by run, the GC collected between paths, never disabled). Each table has a
baseline measured in the same run.

1. **Signing**: ``Signer.headers("POST", "/trade-api/v2/portfolio/events/orders")`` — the three
   ``KALSHI-ACCESS-*`` headers — with (b) an Ed25519 key and (c) an RSA-2048 key; baseline (a): the
   same headers with the signature left out (clock read, pre-sign text, dict).
2. **Intent → signed order request**: from a place ``OrderIntent`` to the exact bytes and headers
   ``KalshiRest`` sends (``convert.create_request`` → ``schemas.ENCODER.encode`` →
   ``Signer.headers``, as ``KalshiRest._send`` does) with each key type; baseline (a): the same
   without the headers (bench_execution.py's (b)). Intents as in bench_execution.py. (d): Ed25519
   with pre-signed headers (``Signer.prepare``, see below).
3. **Tick to order**: one ``orderbook_delta`` frame (bytes) → ``WsSession.on_text`` → ``Monitor``
   (exact parsing, tick grid, ``L2Book`` update) → ``BookChanged`` → the changed market's
   ``MarketSnapshot`` (from the book's best 5 levels, as the node builds it) → the favourite
   strategy's ``decide`` (sizing in risk's ``room()`` view, as the node's strategy host hands it) →
   ``RiskManager.check_and_reserve`` → signed order request bytes, as in 2.
   Frames: 40 markets whose YES side is the favourite (bid 0.86–0.90, spread 1–3 ticks, depth ≥ 10),
   deltas a few levels deep, so every tick passes the entry filters and becomes an order (the
   strategy's memory is not carried from tick to tick: each tick is an entry decision). The
   strategy prices an entry once per distinct top of book and risk writes an approval's reason once
   per distinct intent terms, as in the node; these frames hold few distinct tops (about 200 in
   100,000 ticks), so (f) clears both before every tick: every top unseen, the costliest. Risk's
   limits are loose (bench_execution.py's) so every intent is approved (checked).
   Baseline (a): the same frame through ``on_text`` → ``Monitor`` → a subscriber reading the top of
   book (bench_feed.py's real path); (b) the whole path without the signature; (c)/(d) with Ed25519
   / RSA signing inline; (e) Ed25519 with pre-signed headers; (f) (e) with every top unseen.
4. **Stage split** of 3 (c): the same path timed stage by stage on the thread's CPU clock (snapshot,
   ``decide``, ``check_and_reserve``, request + signature; what is left is the frame, the book and
   the event), in its own pass so the extra clock reads stay out of table 3.

Pre-signed rows: Kalshi's signature covers ``timestamp + METHOD + path`` and no body, so the node
signs the next order's headers before the tick arrives (``KalshiRest`` just after each create is
sent, and ``keep_presigned`` every 50 ms). Here the refill — one ``Signer.prepare`` — runs between
calls as the node does it, OUTSIDE the timed region; its own cost is printed after the table. Each
timed call is checked to have taken the kept headers (none left over), never signed inline.

GC: as the node does once started (``TradingNode.start``), the heap built by start-up (imports,
the books, the strategy, risk) is frozen (``gc.freeze``) before timing; ``--no-freeze`` leaves it in
the collector's generations. Printed: the collector's state, the collections each generation ran
during the timed calls, and what one full collection costs over the heap with and without the
freeze (CPython runs one by itself whenever the survivors since the last reach a quarter of the
long-lived heap: a tick that meets it waits that long).

Goals (issue: Ed25519 keys): signed request p99 ≤ 50 µs and tick-to-order p99 ≤ 60 µs with Ed25519.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_execution import Clock, intents, limits, machine_info, markets, pct
from bench_feed import StaticMarkets
from kalshi_trader.domain import OrderIntent, Side, TickGrid, TopOfBook
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.kalshi.auth import (
    HEADER_KEY,
    HEADER_TIMESTAMP,
    KeyType,
    Signer,
    generate_private_key,
    message_to_sign,
)
from kalshi_trader.kalshi.ws import ORDERBOOK, WsSession
from kalshi_trader.marketdata.monitor import BookChanged, Monitor
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.strategy.base import MarketSnapshot, StrategyState
from kalshi_trader.strategy.favorite import FavoriteParams, FavoriteStrategy

ORDERS_PATH = "/trade-api/v2/portfolio/events/orders"
KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"
SNAPSHOT_DEPTH = 5
SEED = 20261008
STAGES = (
    "snapshot (book → MarketSnapshot)",
    "room() + FavoriteStrategy.decide",
    "RiskManager.check_and_reserve",
    "request + Ed25519 signature",
)

Call = Callable[[Any], object]


def unsigned_headers(clock_ms: Callable[[], int]) -> Callable[[str, str], dict[str, str]]:
    """The headers without the signature: the baseline of table 1."""

    def headers(method: str, path: str) -> dict[str, str]:
        ts = str(clock_ms())
        message_to_sign(ts, method, path)
        return {HEADER_KEY: KEY_ID, HEADER_TIMESTAMP: ts}

    return headers


def order_request(headers: Callable[[str, str], dict[str, str]] | None) -> Callable[[OrderIntent], object]:
    """Intent → (body bytes, headers) as ``KalshiRest._send`` builds them (no headers: the baseline)."""
    encode, create_request = w.ENCODER.encode, convert.create_request

    def build(intent: OrderIntent) -> object:
        body = encode(
            create_request(intent.ticker, intent.side, intent.price, intent.qty, client_order_id=intent.client_order_id)
        )
        if headers is None:
            return body
        sent = headers("POST", ORDERS_PATH)
        sent["Content-Type"] = "application/json"
        return body, sent

    return build


Samples = tuple[list[int], list[int], list[float]]
"""(wall-clock ns, on-CPU ns) per call, and the CPU p99 (µs) of each run."""


def time_calls(
    call: Call, items: list[Any], between: Callable[[], object] | None = None
) -> tuple[list[int], list[int]]:
    """Each call timed on the wall clock and on this thread's CPU clock (which leaves out the time
    the thread was not running: on a shared machine the wall-clock tail is mostly other processes).
    ``between`` runs after each call, untimed."""
    perf, cpu = time.perf_counter_ns, time.thread_time_ns
    wall, on_cpu = [], []
    for item in items:
        c0 = cpu()
        t0 = perf()
        call(item)
        t1 = perf()
        on_cpu.append(cpu() - c0)
        wall.append(t1 - t0)
        if between is not None:
            between()
    return wall, on_cpu


def presigned_signer(signers: dict[KeyType, Signer]) -> Signer:
    """The Ed25519 key's signer for the pre-signed rows, on a clock that moves 1 ms per read: every
    pre-signed timestamp is later than the last one sent (1 ms past it when the clock has not moved), so at
    this bench's dozens of orders a millisecond the wall clock would fall behind them and the kept
    headers would look too far ahead to use; the node sends far fewer."""
    return Signer(KEY_ID, signers[KeyType.ED25519].private_key, clock_ms=Clock())


class Refill:
    """The node's refill between orders, untimed: check the last order took the kept headers (and,
    given ``sent``, the timestamp it sent), then pre-sign the next ones (``Signer.prepare``), timing
    each on the thread's CPU clock. ``fresh()`` before a pass is the node's periodic refresh."""

    def __init__(self, signer: Signer) -> None:
        self.signer, self.cpu_ns = signer, list[int]()
        self.sent: Callable[[], str] | None = None
        self.fresh()

    def fresh(self) -> None:
        self.signer.prepare("POST", ORDERS_PATH)
        self.kept = self.signer.pending_ms("POST", ORDERS_PATH)

    def __call__(self) -> None:
        taken = self.signer.pending_ms("POST", ORDERS_PATH) is None
        if not taken or (self.sent is not None and self.sent() != str(self.kept)):
            raise SystemExit("an order did not take the pre-signed headers")
        c0 = time.thread_time_ns()
        self.signer.prepare("POST", ORDERS_PATH)
        self.cpu_ns.append(time.thread_time_ns() - c0)
        self.kept = self.signer.pending_ms("POST", ORDERS_PATH)

    def report(self) -> None:
        ns = self.cpu_ns
        print(
            f"  refill between calls (Signer.prepare, untimed above), thread CPU: p50 {pct(ns, 0.50):.2f} µs, "
            f"p99 {pct(ns, 0.99):.2f} µs over {len(ns):,} refills"
        )


class Machine:
    """What else the machine did while a table ran: the load average and the share of CPU time
    the hypervisor stole from this VM (``/proc/stat``; time a vCPU waited for a physical CPU,
    which a thread's CPU clock counts as its own)."""

    def __init__(self) -> None:
        self.load, self.ticks = os.getloadavg()[0], _cpu_ticks()

    def since(self) -> str:
        ticks = _cpu_ticks()
        total = sum(ticks) - sum(self.ticks)
        steal = ticks[7] - self.ticks[7] if len(ticks) > 7 else 0
        share = f"{100 * steal / total:.1f}%" if total > 0 else "?"
        return f"load average {self.load:.1f} → {os.getloadavg()[0]:.1f}, hypervisor steal {share} of CPU time"


def _cpu_ticks() -> list[int]:
    try:
        return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return [0]


def report(title: str, samples: dict[str, Samples], machine: Machine) -> None:
    """Percentiles over every call of every run; the last column is the CPU p99 of each run alone
    (lowest–highest): runs that disagree say the tail belongs to the machine, not the code."""
    base = statistics.median(next(iter(samples.values()))[0]) / 1000
    print(f"\n{title}\n  ({machine.since()})")
    print(f"  {'path':<44} {'p50 µs':>8} {'p99 µs':>8}  {'CPU p50':>8} {'CPU p99':>8}  p50 vs (a)  CPU p99 by run")
    for label, (wall, on_cpu, per_run) in samples.items():
        p50 = pct(wall, 0.50)
        spread = f"{min(per_run):.1f}–{max(per_run):.1f}" if per_run else "-"
        print(
            f"  {label:<44} {p50:8.2f} {pct(wall, 0.99):8.2f}  {pct(on_cpu, 0.50):8.2f} {pct(on_cpu, 0.99):8.2f}"
            f"  {p50 / base:7.1f}×  {spread:>14}"
        )


def extend(into: Samples, more: tuple[list[int], list[int]]) -> None:
    into[0].extend(more[0])
    into[1].extend(more[1])
    into[2].append(pct(more[1], 0.99))


# --------------------------------------------------------------------------------------------
# Tables 1 and 2


def signing_table(signers: dict[KeyType, Signer], n: int, runs: int) -> None:
    paths: dict[str, Callable[[str, str], dict[str, str]]] = {
        "(a) baseline: headers without signature": unsigned_headers(
            Signer(KEY_ID, signers[KeyType.ED25519].private_key).clock_ms
        ),
        "(b) Ed25519": signers[KeyType.ED25519].headers,
        "(c) RSA-PSS 2048": signers[KeyType.RSA].headers,
    }
    samples: dict[str, Samples] = {label: ([], [], []) for label in paths}
    machine = Machine()
    work = [("POST", ORDERS_PATH)] * n
    for headers in paths.values():  # warm-up
        time_calls(lambda mp, h=headers: h(*mp), work[:500])
    for _ in range(runs):
        for label, headers in paths.items():
            gc.collect()
            extend(samples[label], time_calls(lambda mp, h=headers: h(*mp), work))
    report(f"1. Signer.headers(POST, {ORDERS_PATH}), {n:,} calls × {runs} runs", samples, machine)


def request_table(signers: dict[KeyType, Signer], n: int, runs: int) -> None:
    infos = markets(100)
    refill = Refill(presigned_signer(signers))
    presigned = refill.signer
    paths = {
        "(a) baseline: request, unsigned": order_request(None),
        "(b) request signed with Ed25519": order_request(signers[KeyType.ED25519].headers),
        "(c) request signed with RSA-PSS 2048": order_request(signers[KeyType.RSA].headers),
        "(d) request, Ed25519 pre-signed": order_request(presigned.headers),
    }
    between = {"(d) request, Ed25519 pre-signed": refill}
    samples: dict[str, Samples] = {label: ([], [], []) for label in paths}
    machine = Machine()
    warm = [i for i, _, _ in intents(infos, 500, -1)]
    for label, build in paths.items():
        time_calls(build, warm, between.get(label))
    refill.cpu_ns.clear()
    for r in range(runs):
        work = [i for i, _, _ in intents(infos, n, r)]
        for label, build in paths.items():
            gc.collect()
            refill.fresh()
            extend(samples[label], time_calls(build, work, between.get(label)))
    sizes = [len(order_request(None)(i)) for i in warm[:100]]  # type: ignore[arg-type]
    report(
        f"2. intent → signed order request, {n:,} intents × {runs} runs (body {statistics.median(sizes):.0f} B)",
        samples,
        machine,
    )
    refill.report()


# --------------------------------------------------------------------------------------------
# Table 3: tick to order


@dataclass
class FavMarket:
    ticker: str
    yes: dict[int, int]  # price (1/10000) → qty (1/100)
    no: dict[int, int]


def favourite_stream(n_deltas: int, n_markets: int = 40) -> tuple[list[bytes], list[bytes], dict[str, TickGrid]]:
    """(snapshots, deltas, grids): markets whose YES side is the favourite, and deltas that leave the
    best levels alone (so every tick qualifies for an entry)."""
    rnd = random.Random(SEED)
    grid = TickGrid.named("linear_cent")
    books: list[FavMarket] = []
    for k in range(n_markets):
        best_bid = 8_600 + 100 * (k % 5)  # 0.86 .. 0.90
        best_ask = best_bid + 100 * (1 + k % 3)  # spread 1..3 ticks
        yes = {best_bid - 100 * i: 5_000 for i in range(8)}
        no = {10_000 - best_ask - 100 * i: 5_000 for i in range(8)}
        books.append(FavMarket(f"KXFAV-26OCT09-T{k:02d}", yes, no))
    snapshots = []
    for seq, m in enumerate(books, start=1):
        yes = ",".join(f'["{p / 10_000:.4f}","{q / 100:.2f}"]' for p, q in sorted(m.yes.items()))
        no = ",".join(f'["{p / 10_000:.4f}","{q / 100:.2f}"]' for p, q in sorted(m.no.items()))
        snapshots.append(
            f'{{"type":"orderbook_snapshot","sid":1,"seq":{seq},"msg":{{"market_ticker":"{m.ticker}",'
            f'"market_id":"m{seq}","yes_dollars_fp":[{yes}],"no_dollars_fp":[{no}]}}}}'.encode()
        )
    deltas = []
    seq = len(books)
    for _ in range(n_deltas):
        seq += 1
        m = rnd.choice(books)
        side = rnd.choice(("yes", "no"))
        ladder = m.yes if side == "yes" else m.no
        price = sorted(ladder)[rnd.randrange(0, len(ladder) - 1)]  # never the best level
        change = rnd.choice((-100, 100)) if ladder[price] > 1_000 else 100
        ladder[price] += change
        deltas.append(
            f'{{"type":"orderbook_delta","sid":1,"seq":{seq},"msg":{{"market_ticker":"{m.ticker}",'
            f'"market_id":"m","price_dollars":"{price / 10_000:.4f}","delta_fp":"{change / 100:.2f}",'
            f'"side":"{side}","ts_ms":1}}}}'.encode()
        )
    return snapshots, deltas, {m.ticker: grid for m in books}


class TickToOrder:
    """One in-process node slice: session → monitor → (strategy → risk → signed request) per change."""

    def __init__(
        self,
        grids: dict[str, TickGrid],
        snapshots: list[bytes],
        clock: Clock,
        headers: Callable[[str, str], dict[str, str]] | None,
        *,
        trade: bool,
        staged: bool = False,
        unseen: bool = False,
    ) -> None:
        self.clock = clock
        self.unseen = unseen
        self.ws = WsSession("ws://127.0.0.1:9/trade-api/ws/v2", None)
        source = StaticMarkets(grids)
        far = clock.now + 86_400_000
        for ticker, info in list(source.infos.items()):
            source.infos[ticker] = type(info)(
                info.ticker, info.event_ticker, info.series_ticker, info.status, info.grid, far
            )
        self.monitor = Monitor(source, self.ws, channels=(), follow_lifecycle=False)

        async def setup() -> None:
            await self.monitor.add_markets(grids)
            await self.ws.subscribe([ORDERBOOK], list(grids))

        loop = asyncio.new_event_loop()
        loop.run_until_complete(setup())
        loop.close()
        self.ws.on_text(b'{"type":"subscribed","msg":{"channel":"orderbook_delta","sid":1},"id":1}')
        for frame in snapshots:
            self.ws.on_text(frame)
        self.risk = RiskManager(limits(), clock=clock, market_clock=clock)
        for info in self.monitor.markets.values():
            self.risk.register_market(info)
        self.strategy = FavoriteStrategy(FavoriteParams())
        self.memory = self.strategy.initial_memory()
        self.request = order_request(headers)
        self.out: list[object] = []
        self.orders = 0
        self.stages: dict[str, list[int]] = {stage: [] for stage in STAGES}
        handler = self.on_trade_staged if staged else self.on_trade if trade else self.on_book
        self.monitor.subscribe(BookChanged, handler)

    def on_trade_staged(self, event: BookChanged) -> None:
        """``on_trade`` with each stage timed on the thread's CPU clock into ``self.stages``."""
        cpu = time.thread_time_ns
        t0 = cpu()
        book, now = event.book, self.clock()
        info = self.monitor.markets[event.ticker]
        snap = MarketSnapshot.from_tops(
            info, book.top(Side.YES, SNAPSHOT_DEPTH), book.top(Side.NO, SNAPSHOT_DEPTH), updated_ms=now, stale=False
        )
        t1 = cpu()
        result = self.strategy.decide(StrategyState(now, {event.ticker: snap}, room=self.risk.room()), self.memory)
        t2 = cpu()
        top = TopOfBook(event.ticker, book.yes_bid, book.yes_ask, now)
        for intent in result.intents:
            decision = self.risk.check_and_reserve(intent, book=top)
            t3 = cpu()
            if not decision.approved:
                raise SystemExit(f"risk refused a benchmark intent: {decision}")
            self.out.append(self.request(intent))
            t4 = cpu()
            self.orders += 1
            for stage, ns in zip(self.stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                self.stages[stage].append(ns)

    def on_book(self, event: BookChanged) -> None:
        book = event.book
        self.out.append((book.yes_bid, book.yes_ask))

    def on_trade(self, event: BookChanged) -> None:
        if self.unseen:  # every top as if never seen: the entry is priced and explained afresh
            self.strategy._plans.clear()
            self.risk._approval_heads.clear()
        book, now = event.book, self.clock()
        info = self.monitor.markets[event.ticker]
        snap = MarketSnapshot.from_tops(
            info, book.top(Side.YES, SNAPSHOT_DEPTH), book.top(Side.NO, SNAPSHOT_DEPTH), updated_ms=now, stale=False
        )
        result = self.strategy.decide(StrategyState(now, {event.ticker: snap}, room=self.risk.room()), self.memory)
        top = TopOfBook(event.ticker, book.yes_bid, book.yes_ask, now)
        for intent in result.intents:
            decision = self.risk.check_and_reserve(intent, book=top)
            if not decision.approved:
                raise SystemExit(f"risk refused a benchmark intent: {decision}")
            self.out.append(self.request(intent))
            self.orders += 1

    def reset(self) -> None:
        """Between runs, outside timing: as if every order were sent and done."""
        for res in self.risk.reservations():
            self.risk.release(res.reservation_id)
        self.out.clear()


def _last_timestamp(out: list[object]) -> Callable[[], str]:
    return lambda: out[-1][1][HEADER_TIMESTAMP]  # type: ignore[index]


def tick_table(signers: dict[KeyType, Signer], n: int, runs: int, freeze: bool) -> None:
    snapshots, deltas, grids = favourite_stream(n * (runs + 1))
    clock = Clock()
    ed25519 = signers[KeyType.ED25519].headers
    refill = Refill(presigned_signer(signers))
    refill_unseen = Refill(presigned_signer(signers))
    presigned = refill.signer
    paths = {
        "(a) baseline: frame → book → top read": TickToOrder(grids, snapshots, clock, None, trade=False),
        "(b) frame → … → risk → request, unsigned": TickToOrder(grids, snapshots, clock, None, trade=True),
        "(c) … signed with Ed25519": TickToOrder(grids, snapshots, clock, ed25519, trade=True),
        "(d) … signed with RSA-PSS 2048": TickToOrder(
            grids, snapshots, clock, signers[KeyType.RSA].headers, trade=True
        ),
        "(e) … Ed25519, pre-signed": TickToOrder(grids, snapshots, clock, presigned.headers, trade=True),
        "(f) … (e) with every top unseen": TickToOrder(
            grids, snapshots, clock, refill_unseen.signer.headers, trade=True, unseen=True
        ),
    }
    between = {"(e) … Ed25519, pre-signed": refill, "(f) … (e) with every top unseen": refill_unseen}
    for label, filler in between.items():
        filler.sent = _last_timestamp(paths[label].out)
    staged = TickToOrder(grids, snapshots, clock, ed25519, trade=True, staged=True)
    print(f"\nGC: {gc_heap(freeze)}")
    samples: dict[str, Samples] = {label: ([], [], []) for label in paths}
    machine = Machine()
    chunks = [deltas[i * n : (i + 1) * n] for i in range(runs + 1)]
    collections = [0, 0, 0]
    for r, chunk in enumerate(chunks):  # chunk 0 warms up
        for label, path in [*paths.items(), ("(f) stage split", staged)]:
            gc.collect()
            refill.fresh()
            refill_unseen.fresh()
            before = [g["collections"] for g in gc.get_stats()]
            timed = time_calls(path.ws.on_text, chunk, between.get(label))
            if r and path is not staged:
                extend(samples[label], timed)
                collections = [
                    c + g["collections"] - b for c, g, b in zip(collections, gc.get_stats(), before, strict=True)
                ]
            if path is not paths["(a) baseline: frame → book → top read"] and path.orders != len(chunk) * (r + 1):
                raise SystemExit(f"{label}: {path.orders} orders for {len(chunk) * (r + 1)} ticks")
            if not r:
                for timings in staged.stages.values():
                    timings.clear()
                refill.cpu_ns.clear()
            path.reset()
    for label, path in [*paths.items(), ("(f) stage split", staged)]:
        stats = path.ws.stats
        if stats.seq_gaps or stats.bad_frames or stats.handler_errors:
            raise SystemExit(f"{label}: feed trouble {stats}")
    report(
        f"3. tick → order in process, {n:,} orderbook_delta frames × {runs} runs (every tick an order)",
        samples,
        machine,
    )
    refill.report()
    print(f"  collections during the timed calls of table 3, by generation: {collections}")
    print(f"\n4. stage split of 3 (c), thread CPU clock, {len(staged.stages[STAGES[0]]):,} ticks")
    print(f"  {'stage':<44} {'p50 µs':>8} {'p99 µs':>8}")
    for stage, ns in staged.stages.items():
        print(f"  {stage:<44} {pct(ns, 0.50):8.2f} {pct(ns, 0.99):8.2f}")


def full_collection_ms() -> float:
    """The least CPU time of a few full collections, in ms."""
    best = []
    for _ in range(5):
        t0 = time.thread_time_ns()
        gc.collect()
        best.append(time.thread_time_ns() - t0)
    return min(best) / 1e6


def gc_heap(freeze: bool) -> str:
    """Freeze the start-up heap as the node does (or not), and say what a full collection costs."""
    tracked, unfrozen_ms = len(gc.get_objects()), full_collection_ms()
    gc.freeze()
    frozen_ms = full_collection_ms()
    if not freeze:
        gc.unfreeze()
    threshold = "/".join(map(str, gc.get_threshold()))
    return (
        f"{'on' if gc.isenabled() else 'off'}, thresholds {threshold}, start-up heap {tracked:,} tracked objects "
        f"{'frozen' if freeze else 'NOT frozen (--no-freeze)'}; a full collection over it costs "
        f"{unfrozen_ms:.1f} ms, {frozen_ms:.2f} ms frozen (CPU)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000, help="calls per path per run")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-freeze", action="store_true", help="leave the start-up heap unfrozen (the node freezes it)")
    ap.add_argument("--tick-only", action="store_true", help="tables 3 and 4 only")
    args = ap.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    signers = {kind: Signer(KEY_ID, generate_private_key(kind)) for kind in KeyType}
    print(machine_info())
    if not args.tick_only:
        signing_table(signers, args.n, args.runs)
        request_table(signers, args.n, args.runs)
    tick_table(signers, args.n, args.runs, not args.no_freeze)


if __name__ == "__main__":
    main()
