"""Order-book hot path benchmark: WS frame bytes → decode → book update → best bid/ask.

Run: ``.venv/bin/python bench/bench_book.py [--deltas N] [--runs R]``

A deterministic stream (seeded) of Kalshi ``orderbook_delta`` frames in the current fixed-point format
(``sending_ts_ms`` on every frame, as Kalshi sends since October 2026) over ~50 markets on three tick
grids, one ``orderbook_snapshot`` per market first, all on one ``sid``, held in memory as ``bytes``.
Each path processes the whole stream from fresh books; the figure is the median of R runs in ns per
frame (the paths are fed interleaved slices of the stream, see ``measure``):

  (a) near-limit: msgspec typed decode into a flat per-tick list per side, no checks at all;
  (b) naive: ``json.loads`` into dict-of-dicts books keyed by ``Decimal`` price, seq check, level
      removal at <= 0 (b+ adds the naive best bid/ask read, ``max`` over each ladder);
  (c) ours: msgspec typed decode + seq-contiguity check per sid + ``domain.parse_price`` /
      ``parse_qty`` + ``L2Book.apply_delta`` + ``best_yes_bid()`` / ``best_yes_ask()``.

(c) is checked once, before timing, against the generator's own books. ``--stages`` adds a cumulative
breakdown of (c) (each line adds one step to the loop above it; the steps interact through caches
and allocation, so read the increments as rough).
"""

from __future__ import annotations

import argparse
import bisect
import functools
import gc
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import msgspec

from kalshi_trader.domain import Side, TickGrid, parse_price, parse_qty
from kalshi_trader.marketdata.book import L2Book

SEED = 20260516
SID = 1

# --------------------------------------------------------------------------------------------
# Wire structs (as the adapter would define them; defined here so the bench stands alone)


class DeltaMsg(msgspec.Struct, gc=False):
    market_ticker: str
    price_dollars: str
    delta_fp: str
    side: Side
    market_id: str = ""
    ts_ms: int = 0


class SnapshotMsg(msgspec.Struct, gc=False):
    market_ticker: str
    market_id: str = ""
    yes_dollars_fp: list[tuple[str, str]] = []
    no_dollars_fp: list[tuple[str, str]] = []


class DeltaFrame(msgspec.Struct, tag_field="type", tag="orderbook_delta", gc=False):
    sid: int
    seq: int
    msg: DeltaMsg


class SnapshotFrame(msgspec.Struct, tag_field="type", tag="orderbook_snapshot", gc=False):
    sid: int
    seq: int
    msg: SnapshotMsg


# --------------------------------------------------------------------------------------------
# Deterministic stream


def _qty_text(units: int) -> str:
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 100)
    return f"{sign}{whole}.{frac:02d}"


class _Market:
    """The generator's own (reference) book for one market, in plain ints."""

    def __init__(self, rnd: random.Random, ticker: str, grid: TickGrid) -> None:
        self.ticker = ticker
        self.market_id = f"{rnd.getrandbits(128):032x}"
        self.grid = grid
        inside = [p for p in grid.levels() if 0 < p < 10_000]
        self.prices = inside[:: max(1, len(inside) // 200)]  # where generated orders rest
        self.fair = rnd.randrange(1_500, 8_500)
        self.yes: dict[int, int] = {}
        self.no: dict[int, int] = {}
        for _ in range(rnd.randrange(10, 40)):
            self._add(rnd, self.yes, self.fair, 1_000 + rnd.randrange(200_000))
            self._add(rnd, self.no, 10_000 - self.fair, 1_000 + rnd.randrange(200_000))

    def _add(self, rnd: random.Random, ladder: dict[int, int], ceiling: int, qty: int) -> int:
        # A bid strictly below this ladder's ceiling (its leg's fair), near the top most of the time.
        n_below = bisect.bisect_left(self.prices, ceiling)
        price = self.prices[max(0, n_below - 1 - int(rnd.expovariate(0.25)))]
        ladder[price] = ladder.get(price, 0) + qty
        return price

    def delta(self, rnd: random.Random) -> tuple[str, int, int]:
        if rnd.random() < 0.01:
            self.fair = min(9_000, max(1_000, self.fair + rnd.choice((-100, 100))))
        side = "yes" if rnd.random() < 0.5 else "no"
        ladder = self.yes if side == "yes" else self.no
        other_best = max(self.no if side == "yes" else self.yes, default=0)
        ceiling = min(10_000 - other_best, self.fair if side == "yes" else 10_000 - self.fair)
        if ladder and rnd.random() < 0.55:
            top = sorted(ladder)[-8:]
            price = top[max(0, len(top) - 1 - int(rnd.expovariate(0.7)))]
            have = ladder[price]
            if rnd.random() < 0.3:
                qty = -have
            else:
                qty = -min(have, rnd.randrange(1, 3_000) if rnd.random() < 0.7 else rnd.randrange(1, 300) * 100)
            left = have + qty
            if left <= 0:
                del ladder[price]
            else:
                ladder[price] = left
            return side, price, qty
        qty = rnd.randrange(1, 200) * 100 if rnd.random() < 0.7 else rnd.randrange(1, 50_000)
        price = self._add(rnd, ladder, ceiling, qty)
        return side, price, qty


def build_stream(n_deltas: int, n_markets: int = 50) -> tuple[list[bytes], dict[str, _Market], dict[str, TickGrid]]:
    rnd = random.Random(SEED)
    grid_names = ["linear_cent"] * 6 + ["deci_cent"] * 2 + ["tapered_deci_cent"] * 2
    markets: dict[str, _Market] = {}
    for k in range(n_markets):
        grid = TickGrid.named(grid_names[k % len(grid_names)])
        ticker = f"KXHIGH{('NY', 'CHI', 'MIA', 'AUS', 'LAX')[k % 5]}-26MAY{16 + k // 10}-B{60 + k}.5"
        markets[ticker] = _Market(rnd, ticker, grid)
    frames: list[bytes] = []
    seq = 0
    for m in markets.values():
        seq += 1
        yes = ",".join(f'["{p / 10_000:.4f}","{_qty_text(q)}"]' for p, q in sorted(m.yes.items()))
        no = ",".join(f'["{p / 10_000:.4f}","{_qty_text(q)}"]' for p, q in sorted(m.no.items()))
        frames.append(
            f'{{"type":"orderbook_snapshot","sid":{SID},"seq":{seq},"msg":{{"market_ticker":"{m.ticker}",'
            f'"market_id":"{m.market_id}","yes_dollars_fp":[{yes}],"no_dollars_fp":[{no}]}},'
            f'"sending_ts_ms":1778900000000}}'.encode()
        )
    tickers = list(markets.values())
    ts = 1_778_900_000_000
    for _ in range(n_deltas):
        seq += 1
        ts += rnd.randrange(0, 3)
        m = tickers[int(rnd.paretovariate(1.2) - 1) % len(tickers)]
        side, price, qty = m.delta(rnd)
        frames.append(
            f'{{"type":"orderbook_delta","sid":{SID},"seq":{seq},"msg":{{"market_ticker":"{m.ticker}",'
            f'"market_id":"{m.market_id}","price_dollars":"0.{price:04d}","delta_fp":"{_qty_text(qty)}",'
            f'"side":"{side}","ts_ms":{ts}}},"sending_ts_ms":{ts + 1}}}'.encode()
        )
    return frames, markets, {t: m.grid for t, m in markets.items()}


# --------------------------------------------------------------------------------------------
# (a) near-limit: typed decode, flat list per side indexed by price, no checks
#
# Each path is a factory: it makes fresh books and returns ``feed(chunk)``, which carries the state
# over from chunk to chunk (so the stream can be fed in interleaved slices, see ``measure``).

Feed = Callable[[list[bytes]], None]


def near_limit(grids: dict[str, TickGrid]) -> Feed:
    decode = msgspec.json.Decoder(DeltaFrame | SnapshotFrame).decode
    books: dict[str, tuple[list[int], list[int]]] = {}
    yes_side = Side.YES

    def feed(frames: list[bytes]) -> None:
        for raw in frames:
            f = decode(raw)
            m = f.msg
            if type(m) is DeltaMsg:
                yes, no = books[m.market_ticker]
                (yes if m.side is yes_side else no)[int(m.price_dollars[2:])] += int(m.delta_fp.replace(".", ""))
            else:
                assert type(m) is SnapshotMsg
                book = books[m.market_ticker] = ([0] * 10_001, [0] * 10_001)
                for ladder, levels in ((book[0], m.yes_dollars_fp), (book[1], m.no_dollars_fp)):
                    for p, q in levels:
                        ladder[int(p[2:])] = int(q.replace(".", ""))

    return feed


# --------------------------------------------------------------------------------------------
# (b) naive: json.loads, Decimal-keyed dicts


def naive(grids: dict[str, TickGrid], *, read_best: bool = False) -> Feed:
    loads = json.loads
    books: dict[str, dict[str, dict[Decimal, Decimal]]] = {}
    last_seq: dict[int, int] = {}
    zero = Decimal(0)
    one = Decimal(1)

    def feed(frames: list[bytes]) -> None:
        for raw in frames:
            f = loads(raw)
            sid, seq = f["sid"], f["seq"]
            if sid in last_seq and seq != last_seq[sid] + 1:
                raise RuntimeError("seq gap")
            last_seq[sid] = seq
            m = f["msg"]
            if f["type"] == "orderbook_delta":
                ladder = books[m["market_ticker"]][m["side"]]
                price = Decimal(m["price_dollars"])
                size = ladder.get(price, zero) + Decimal(m["delta_fp"])
                if size <= zero:
                    ladder.pop(price, None)
                else:
                    ladder[price] = size
                if read_best:
                    book = books[m["market_ticker"]]
                    bid = max(book["yes"]) if book["yes"] else None
                    ask = one - max(book["no"]) if book["no"] else None
                    del bid, ask
            else:
                books[m["market_ticker"]] = {
                    "yes": {Decimal(p): Decimal(q) for p, q in m.get("yes_dollars_fp", [])},
                    "no": {Decimal(p): Decimal(q) for p, q in m.get("no_dollars_fp", [])},
                }

    return feed


# --------------------------------------------------------------------------------------------
# (c) ours


class SeqGap(Exception):
    pass


def ours(grids: dict[str, TickGrid], books: dict[str, L2Book] | None = None) -> Feed:
    decode = msgspec.json.Decoder(DeltaFrame | SnapshotFrame).decode
    if books is None:
        books = {}
    books.update({ticker: L2Book(ticker, grid) for ticker, grid in grids.items()})
    last_seq: dict[int, int] = {}

    def feed(frames: list[bytes]) -> None:
        bid = ask = None
        for raw in frames:
            f = decode(raw)
            sid, seq = f.sid, f.seq
            if seq != last_seq.get(sid, seq - 1) + 1:  # the first message on a sid starts its count
                raise SeqGap(f"sid {sid}: seq {seq} after {last_seq[sid]}")
            last_seq[sid] = seq
            m = f.msg
            if type(m) is DeltaMsg:
                book = books[m.market_ticker]
                book.apply_delta(m.side, parse_price(m.price_dollars), parse_qty(m.delta_fp), m.ts_ms)
                bid = book.best_yes_bid()
                ask = book.best_yes_ask()
            else:
                assert type(m) is SnapshotMsg
                books[m.market_ticker].apply_snapshot(
                    [(parse_price(p), parse_qty(q)) for p, q in m.yes_dollars_fp],
                    [(parse_price(p), parse_qty(q)) for p, q in m.no_dollars_fp],
                )
        del bid, ask

    return feed


def ours_stage(grids: dict[str, TickGrid], stage: int) -> Feed:
    """(c) cut after ``stage`` steps: 0 decode+dispatch, 1 seq, 2 book lookup, 3 parse_price,
    4 parse_qty, 5 apply_delta, 6 best reads."""
    decode = msgspec.json.Decoder(DeltaFrame | SnapshotFrame).decode
    books = {ticker: L2Book(ticker, grid) for ticker, grid in grids.items()}
    last_seq: dict[int, int] = {}

    def feed(frames: list[bytes]) -> None:
        book = bid = ask = None
        price = qty = 0
        for raw in frames:
            f = decode(raw)
            if stage >= 1:
                sid, seq = f.sid, f.seq
                if seq != last_seq.get(sid, seq - 1) + 1:
                    raise SeqGap(f"sid {sid}: seq {seq} after {last_seq[sid]}")
                last_seq[sid] = seq
            m = f.msg
            if type(m) is DeltaMsg:
                if stage >= 2:
                    book = books[m.market_ticker]
                if stage >= 3:
                    price = parse_price(m.price_dollars)
                if stage >= 4:
                    qty = parse_qty(m.delta_fp)
                if stage >= 5:
                    assert book is not None
                    book.apply_delta(m.side, price, qty, m.ts_ms)
                if stage >= 6:
                    assert book is not None
                    bid = book.best_yes_bid()
                    ask = book.best_yes_ask()
            elif stage >= 5:
                assert type(m) is SnapshotMsg
                books[m.market_ticker].apply_snapshot(
                    [(parse_price(p), parse_qty(q)) for p, q in m.yes_dollars_fp],
                    [(parse_price(p), parse_qty(q)) for p, q in m.no_dollars_fp],
                )
        del book, bid, ask

    return feed


STAGES = (
    "decode + dispatch",
    "+ seq check",
    "+ book lookup",
    "+ parse_price",
    "+ parse_qty",
    "+ apply_delta",
    "+ 2 reads",
)


def decode_only(grids: dict[str, TickGrid]) -> Feed:
    decode = msgspec.json.Decoder(DeltaFrame | SnapshotFrame).decode

    def feed(frames: list[bytes]) -> None:
        for raw in frames:
            decode(raw)

    return feed


# --------------------------------------------------------------------------------------------


def measure(
    paths: dict[str, tuple[Callable[[], Feed], int]], frames: list[bytes], chunk: int = 20_000
) -> dict[str, list[float]]:
    """ns/frame per run per path. Within a run every path gets fresh books and the stream is fed
    in slices, interleaved path by path (a: slice 1, b: slice 1, c: slice 1, a: slice 2, ...), so a
    burst of noise from a neighbour on a shared machine lands on every path alike."""
    slices = [frames[i : i + chunk] for i in range(0, len(frames), chunk)]
    samples: dict[str, list[float]] = {label: [] for label in paths}
    for round_ in range(max(runs for _, runs in paths.values())):
        active = {label: make() for label, (make, runs) in paths.items() if round_ < runs}
        spent = dict.fromkeys(active, 0)
        for part in slices:
            for label, feed in active.items():
                t0 = time.perf_counter_ns()
                feed(part)
                spent[label] += time.perf_counter_ns() - t0
        for label, ns in spent.items():
            samples[label].append(ns / len(frames))
    return samples


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deltas", type=int, default=1_000_000)
    ap.add_argument("--markets", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--naive-runs", type=int, default=None, help="runs for the slow naive paths (default: --runs)")
    ap.add_argument("--stages", action="store_true", help="also time (c) step by step")
    args = ap.parse_args()

    t0 = time.perf_counter()
    frames, markets, grids = build_stream(args.deltas, args.markets)
    n = len(frames)
    size = sum(map(len, frames))
    print(machine_info())
    print(
        f"stream: {n:,} frames ({args.markets} snapshots + {args.deltas:,} deltas), {size / n:.0f} B/frame avg,"
        f" built in {time.perf_counter() - t0:.1f}s; median of {args.runs} runs"
    )

    # Correctness: (c) must end where the generator's reference books ended.
    books: dict[str, L2Book] = {}
    ours(grids, books)(frames)
    for ticker, m in markets.items():
        want = (sorted(m.yes.items()), sorted(m.no.items()))
        if books[ticker].as_tuples() != want:
            raise SystemExit(f"L2Book diverged from the reference on {ticker}")

    naive_runs = args.naive_runs or args.runs
    paths: dict[str, tuple[Callable[[], Feed], int]] = {
        "decode only (floor)": (lambda: decode_only(grids), args.runs),
        "(a) near-limit": (lambda: near_limit(grids), args.runs),
        "(b) naive": (lambda: naive(grids), naive_runs),
        "(b+) naive + best reads": (lambda: naive(grids, read_best=True), naive_runs),
        "(c) ours": (lambda: ours(grids), args.runs),
    }
    samples = measure(paths, frames)
    med = {label: statistics.median(values) for label, values in samples.items()}
    print(f"  {'path':<26} {'median':>8}  {'min':>6}  (ns/frame; every run)")
    for label, values in samples.items():
        shown = ", ".join(f"{v:.0f}" for v in values)
        print(f"  {label:<26} {med[label]:8.0f}  {min(values):6.0f}  [{shown}]")
    a, b, c = med["(a) near-limit"], med["(b) naive"], med["(c) ours"]
    bp = med["(b+) naive + best reads"]
    pairs = zip(samples["(c) ours"], samples["(a) near-limit"], strict=True)
    per_round = statistics.median(ci / ai for ci, ai in pairs)
    print(f"  (c)/(a) = {c / a:.2f}x  (per-round median {per_round:.2f}x; target <= 1.5x incl. event dispatch)")
    print(f"  (b)/(c) = {b / c:.2f}x   (b+)/(c) = {bp / c:.2f}x   (target >= 3x)")
    lo = {label: min(values) for label, values in samples.items()}
    print(
        f"  on min times: (c)/(a) = {lo['(c) ours'] / lo['(a) near-limit']:.2f}x,"
        f" (b)/(c) = {lo['(b) naive'] / lo['(c) ours']:.2f}x"
    )
    if args.stages:
        staged: dict[str, tuple[Callable[[], Feed], int]] = {
            name: (functools.partial(ours_stage, grids, k), args.runs) for k, name in enumerate(STAGES)
        }
        stage_samples = measure(staged, frames)
        print("  (c) step by step, cumulative median ns/frame (increment):")
        previous = 0.0
        for name, values in stage_samples.items():
            value = statistics.median(values)
            print(f"    {name:<20} {value:6.0f}  ({value - previous:+.0f})")
            previous = value


if __name__ == "__main__":
    main()
