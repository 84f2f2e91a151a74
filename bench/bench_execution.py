"""Execution hot path benchmark: intent → risk → order request serialized, in process.

Run: ``.venv/bin/python bench/bench_execution.py [--intents N] [--runs R]``

Each path handles the same N place intents (bids and asks over 100 markets on three tick grids,
on-grid prices near a fresh top of book) and is timed per intent with ``perf_counter_ns``; the
figures are p50 / p99 / mean in µs over every intent of every run (R runs, paths interleaved per
run). What is timed ends with the exact bytes the REST client would send
(``schemas.ENCODER.encode(body)``, as ``KalshiRest._call`` does):

  (a) baseline: msgspec-encode a prebuilt ``CreateOrderV2Request`` (the floor: serialization alone);
  (b) request: ``convert.create_request`` from the intent + encode;
  (c) risk + request: ``RiskManager.check_and_reserve`` + (b) — the judge alone;
  (d) engine: ``ExecutionEngine.submit`` (gate, check-and-reserve, audit records of the intent and
      the decision, order tracker, pending-order record, request built, job queued) + encode of
      the request it built — what a strategy's intent costs before the queue sends it.

Nothing is sent: the engine's queue worker never gets the loop during timing and the recorder
only appends (its writer is not started), exactly what the hot path does. Risk's clock advances
1 ms per intent (so its write-rate budget never binds) and each intent carries a top of book
stamped with that clock; every intent must be approved (checked). Between runs, outside timing,
the queued jobs are dropped (as if sent) and reservations released; the order tracker keeps every
order, as it does in a running node.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import msgspec
import structlog

from kalshi_trader.config import RiskSettings
from kalshi_trader.domain import (
    BookSide,
    MarketInfo,
    MarketStatus,
    OrderIntent,
    Price,
    Qty,
    TickGrid,
    TopOfBook,
)
from kalshi_trader.execution.engine import EngineConfig, ExecutionEngine
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.kalshi.venue import KalshiVenue
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.store import Recorder
from kalshi_trader.store.ops import Op

SEED = 20261121
GRIDS = ("linear_cent", "deci_cent", "tapered_deci_cent")


class NullSink:
    """The recorder's database, never reached: its writer is not started."""

    async def apply(self, ops: Sequence[Op]) -> None:
        raise AssertionError("nothing is written during the benchmark")

    def describe_failure(self, context: str, exc: BaseException) -> str:
        return context


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        self.now += 1
        return self.now


def markets(count: int) -> list[MarketInfo]:
    return [
        MarketInfo(
            ticker=f"KXBENCH-26JAN01-T{i}",
            event_ticker=f"KXBENCH-26JAN01-E{i % 10}",
            series_ticker="KXBENCH",
            status=MarketStatus.ACTIVE,
            grid=TickGrid.named(GRIDS[i % len(GRIDS)]),
            close_ms=2**62,
        )
        for i in range(count)
    ]


def intents(infos: list[MarketInfo], n: int, run: int) -> list[tuple[OrderIntent, Price, Price]]:
    """(intent, best bid, best ask): a passive on-grid price one level inside the spread or at it."""
    rng = random.Random(SEED + run)
    out = []
    for i in range(n):
        info = rng.choice(infos)
        levels = [p for p in info.grid.levels() if 0 < p < 10_000]
        mid = rng.randrange(len(levels) // 4, 3 * len(levels) // 4)
        bid, ask = levels[mid - 2], levels[mid + 2]
        side = BookSide.BID if rng.random() < 0.5 else BookSide.ASK
        price = levels[mid - 1] if side is BookSide.BID else levels[mid + 1]
        qty = Qty(100 * rng.randint(1, 20))
        coid = f"bench-{run}-{i:07d}"
        out.append((OrderIntent.place(info.ticker, side, price, qty, coid, strategy="bench", reason="bench"), bid, ask))
    return out


def limits() -> RiskLimits:
    return RiskLimits.from_settings(
        RiskSettings(
            max_order_size=Decimal(1_000),
            max_position_per_market=Decimal(10_000_000),
            max_event_exposure_dollars=Decimal(1_000_000_000),
            max_total_exposure_dollars=Decimal(1_000_000_000),
            max_open_orders=200_000,
            max_writes_per_second=10_000,
        )
    )


Path_ = Callable[[OrderIntent, TopOfBook], bytes]


def build_paths(infos: list[MarketInfo], clock: Clock, engine: ExecutionEngine) -> dict[str, Path_]:
    encode = w.ENCODER.encode
    create_request = convert.create_request
    risk = engine.risk
    prebuilt: dict[str, w.CreateOrderV2Request] = {}

    def baseline(intent: OrderIntent, top: TopOfBook) -> bytes:
        return encode(prebuilt[intent.client_order_id])

    def request(intent: OrderIntent, top: TopOfBook) -> bytes:
        return encode(
            create_request(intent.ticker, intent.side, intent.price, intent.qty, client_order_id=intent.client_order_id)
        )

    def risk_request(intent: OrderIntent, top: TopOfBook) -> bytes:
        decision = risk.check_and_reserve(intent, book=top)
        if not decision.approved:
            raise SystemExit(f"risk refused a benchmark intent: {decision}")
        return encode(
            create_request(intent.ticker, intent.side, intent.price, intent.qty, client_order_id=intent.client_order_id)
        )

    def engine_path(intent: OrderIntent, top: TopOfBook) -> bytes:
        sub = engine.submit(intent, book=top)
        if sub.request is None:
            raise SystemExit(f"the engine refused a benchmark intent: {sub.rule}: {sub.reason}")
        return encode(sub.request)

    def prepare_baseline(work: list[tuple[OrderIntent, Price, Price]]) -> None:
        prebuilt.clear()
        for intent, _, _ in work:
            prebuilt[intent.client_order_id] = create_request(
                intent.ticker, intent.side, intent.price, intent.qty, client_order_id=intent.client_order_id
            )

    baseline.prepare = prepare_baseline  # type: ignore[attr-defined]
    return {
        "(a) baseline: encode a prebuilt request": baseline,
        "(b) request: build + encode": request,
        "(c) risk check-and-reserve + request": risk_request,
        "(d) engine.submit + encode": engine_path,
    }


Work = list[tuple[OrderIntent, Price, Price]]


def renamed(work: Work, suffix: str) -> Work:
    """The same intents under client_order_ids of their own (each path reserves its own)."""
    return [(msgspec.structs.replace(i, client_order_id=i.client_order_id + suffix), bid, ask) for i, bid, ask in work]


def time_path(path: Path_, work: Work, clock: Clock) -> list[int]:
    samples = []
    perf = time.perf_counter_ns
    for intent, bid, ask in work:
        top = TopOfBook(intent.ticker, bid, ask, clock.now + 1)
        t0 = perf()
        path(intent, top)
        samples.append(perf() - t0)
    return samples


def reset(engine: ExecutionEngine) -> None:
    """Between runs, outside timing: drop the queued creates (nothing is sent) and free risk."""
    engine.queue.purge("benchmark run over")
    for res in engine.risk.reservations():
        engine.risk.release(res.reservation_id)


def machine_info() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.python_implementation()} {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"cpu: {cpu or '?'} x{os.cpu_count()}, msgspec {msgspec.__version__}, gc {'on' if gc.isenabled() else 'off'}"
    )


def pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000


async def run(n: int, runs: int) -> None:
    infos = markets(100)
    clock = Clock()
    risk = RiskManager(limits(), clock=clock)
    rest = KalshiRest("http://127.0.0.1:9/trade-api/v2")  # never called
    recorder = Recorder(NullSink())  # appends only: the writer is not started
    engine = ExecutionEngine(
        KalshiVenue(rest), risk, recorder, config=EngineConfig(order_group_limit=None), clock_ms=clock
    )
    for info in infos:
        engine.register_market(info)
    await engine.start()  # the queue worker gets no turn until the timed loops are over
    paths = build_paths(infos, clock, engine)
    samples: dict[str, list[int]] = {label: [] for label in paths}
    timer = [time.perf_counter_ns() - time.perf_counter_ns() for _ in range(1000)]
    print(machine_info())
    overhead = -statistics.median(timer)
    print(f"{n:,} intents per path per run, {runs} runs, paths interleaved; timer overhead ~{overhead} ns")
    warm = intents(infos, 2_000, -1)
    for label, path in paths.items():
        mine = renamed(warm, f"-{label[1]}")
        if hasattr(path, "prepare"):
            path.prepare(mine)
        time_path(path, mine, clock)
        reset(engine)
    engine.recorder = Recorder(NullSink())
    for r in range(runs):
        work = intents(infos, n, r)
        for label, path in paths.items():
            mine = renamed(work, f"-{label[1]}")
            if hasattr(path, "prepare"):
                path.prepare(mine)
            gc.collect()
            samples[label].extend(time_path(path, mine, clock))
            reset(engine)
            engine.recorder = Recorder(NullSink())  # drop the appended records (memory only, never written)
    base = statistics.median(samples["(a) baseline: encode a prebuilt request"]) / 1000
    print(f"  {'path':<42} {'p50 µs':>8} {'p99 µs':>8} {'mean µs':>8}  p50 vs (a)")
    for label, values in samples.items():
        p50 = pct(values, 0.50)
        mean = statistics.fmean(values) / 1000
        print(f"  {label:<42} {p50:8.2f} {pct(values, 0.99):8.2f} {mean:8.2f}  {p50 / base:6.1f}×")
    sizes = [
        len(
            w.ENCODER.encode(
                convert.create_request(i.ticker, i.side, i.price, i.qty, client_order_id=i.client_order_id)
            )
        )
        for i, _, _ in work[:100]
    ]
    print(
        f"  request body: {statistics.median(sizes):.0f} bytes; engine approved {engine.counters.submitted:,}, "
        f"refused {engine.counters.refused}"
    )
    await engine.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--intents", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--gc-off", action="store_true", help="disable the cyclic GC (shows what its pauses cost)")
    args = ap.parse_args()
    if args.gc_off:
        gc.disable()
    # The recorder warns about its growing backlog: here that is by design (its writer is not started).
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    asyncio.run(run(args.intents, args.runs))


if __name__ == "__main__":
    main()
