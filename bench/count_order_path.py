"""Instructions per tick on the order path, counted by valgrind (noise-free on a shared machine).

Run: ``.venv/bin/python bench/count_order_path.py [--n N] [--src DIR]`` (needs ``valgrind``).

Wall and CPU-clock percentiles (bench_signing.py) move with whatever else the machine runs;
instruction counts do not, so two versions of the code compare exactly. This script runs itself
under ``valgrind --tool=callgrind`` and counts, per call, the stages of bench_signing.py's
tick-to-order path — snapshot (``MarketSnapshot`` from the book), ``decide`` (with risk's
``room()`` view), ``TopOfBook``, ``check_and_reserve``, the unsigned request (``create_request`` +
encode) and the Ed25519 headers — each run ``N`` times over its own inputs, and then the whole path
(bench_signing.py's tables 3 (a)–(c)) per frame. Pre-signed rows (a checkout that has
``Signer.prepare``): taking kept Ed25519 headers (signed beforehand, uncounted), one refill
(``Signer.prepare``), and the whole path taking them, (d) without the refill after each frame (what
a tick waits for) and (e) with it (what it all costs). ``--src`` counts another checkout (e.g.
``git worktree add /tmp/before <commit>``; its ``src`` and its own bench helpers beside it), so
versions are compared on the same inputs. Instructions are not time: a cache miss
costs hundreds of cycles and counts as one; the percentiles stay bench_signing.py's job.

The count of each stage is the instructions between two ``os.getppid()`` calls, at which callgrind
dumps its counters (``--dump-before=getppid``). The heap built by the set-up is frozen first, as
the node freezes its start-up heap: otherwise a full collection over it (tens of millions of
instructions) lands in whichever stage happens to meet it, and moves from stage to stage between
versions of the code. Young collections stay in (each stage pays for its own garbage).
"""

from __future__ import annotations

import argparse
import gc
import glob
import logging
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = (
    "snapshot",
    "decide (room view)",
    "TopOfBook",
    "check_and_reserve",
    "request, unsigned",
    "Ed25519 headers",
    "pre-signed headers taken",
)
PATHS = (
    "(a) frame → book → top read",
    "(b) whole path, unsigned",
    "(c) whole path, Ed25519",
    "(d) whole path, pre-signed",
    "(e) (d) + refill after each frame",
)


def mark() -> None:
    os.getppid()  # callgrind dumps its counters here


def inner(n: int, bench: Path) -> None:
    """Under valgrind: the stages, then the paths, each between two marks."""
    import structlog

    sys.path.insert(0, str(bench))
    from bench_execution import Clock
    from bench_signing import (
        KEY_ID,
        ORDERS_PATH,
        SNAPSHOT_DEPTH,
        TickToOrder,
        favourite_stream,
        order_request,
    )
    from kalshi_trader.domain import Side, TopOfBook
    from kalshi_trader.kalshi.auth import KeyType, Signer, generate_private_key
    from kalshi_trader.strategy.base import MarketSnapshot, StrategyState

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    signer = Signer(KEY_ID, generate_private_key(KeyType.ED25519))
    snapshots, deltas, grids = favourite_stream(2 * n)
    clock = Clock()
    node = TickToOrder(grids, snapshots, clock, None, trade=True)
    tickers = (list(grids) * (n // len(grids) + 1))[:n]
    books = [node.monitor.book(t) for t in tickers]
    infos = [node.monitor.markets[t] for t in tickers]
    now = clock()

    def snapshot(i: int) -> MarketSnapshot:
        book = books[i]
        if hasattr(book, "top"):
            yes, no = book.top(Side.YES, SNAPSHOT_DEPTH), book.top(Side.NO, SNAPSHOT_DEPTH)
            return MarketSnapshot.from_tops(infos[i], yes, no, updated_ms=now, stale=False)
        yes_levels, no_levels = book.depth(Side.YES, SNAPSHOT_DEPTH), book.depth(Side.NO, SNAPSHOT_DEPTH)
        return MarketSnapshot.from_levels(infos[i], yes_levels, no_levels, updated_ms=now, stale=False)

    memory = node.strategy.initial_memory()
    gc.collect()
    gc.freeze()  # the start-up heap, as the node freezes it (TradingNode.start)
    mark()
    snaps = [snapshot(i) for i in range(n)]
    mark()
    results = [
        node.strategy.decide(StrategyState(now + k, {s.ticker: s}, room=node.risk.room()), memory)
        for k, s in enumerate(snaps)
    ]
    mark()
    tops = [TopOfBook(b.ticker, b.yes_bid, b.yes_ask, now) for b in books]
    mark()
    intents = [r.intents[0] for r in results]
    mark()
    verdicts = [node.risk.check_and_reserve(i, book=t) for i, t in zip(intents, tops, strict=True)]
    mark()
    if not all(v.approved for v in verdicts):
        raise SystemExit(f"risk refused a benchmark intent: {verdicts[0]}")
    build = order_request(None)
    mark()
    [build(i) for i in intents]
    mark()
    mark()
    [signer.headers("POST", ORDERS_PATH) for _ in intents]
    mark()
    ahead = Signer(KEY_ID, signer.private_key, clock_ms=Clock())  # 1 ms a read: kept headers stay fresh
    paths = [
        TickToOrder(grids, snapshots, clock, None, trade=False),
        TickToOrder(grids, snapshots, clock, None, trade=True),
        TickToOrder(grids, snapshots, clock, signer.headers, trade=True),
    ]
    for path in paths:
        for frame in deltas[:n]:  # the same frames up to the counted ones: no sequence gap
            path.ws.on_text(frame)
        path.reset()
    for path in paths:
        mark()
        for frame in deltas[n:]:
            path.ws.on_text(frame)
        mark()
        path.reset()
    if not hasattr(Signer, "prepare"):  # a checkout from before pre-signing
        return
    signers = [Signer(KEY_ID, signer.private_key, clock_ms=Clock()) for _ in intents]
    for one in signers:
        one.prepare("POST", ORDERS_PATH)
    mark()
    [one.headers("POST", ORDERS_PATH) for one in signers]
    mark()
    presigned = TickToOrder(grids, snapshots, clock, ahead.headers, trade=True)
    ahead.prepare("POST", ORDERS_PATH)
    for frame in deltas[:n]:
        presigned.ws.on_text(frame)
        ahead.prepare("POST", ORDERS_PATH)
    presigned.reset()
    mark()
    for frame in deltas[n:]:
        presigned.ws.on_text(frame)
        ahead.prepare("POST", ORDERS_PATH)
    mark()
    if ahead.pending_ms("POST", ORDERS_PATH) is None or presigned.orders != 2 * n:
        raise SystemExit("the pre-signed path did not place an order per frame")
    mark()
    for _ in range(n):
        ahead.prepare("POST", ORDERS_PATH)
    mark()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="calls per stage, frames per path")
    ap.add_argument("--src", type=Path, default=HERE.parent, help="the checkout to count (default: this one)")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        inner(args.n, args.src / "bench")
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        env = {**os.environ, "PYTHONPATH": str(args.src.resolve() / "src")}
        cmd = ["valgrind", "--tool=callgrind", "--dump-before=getppid", f"--callgrind-out-file={out}"]
        cmd += [sys.executable, __file__, "--inner", "--n", str(args.n), "--src", str(args.src.resolve())]
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        dumps = sorted(glob.glob(f"{out}.*"), key=lambda f: int(f.rsplit(".", 1)[1]))
        counts = [int(re.search(r"^summary: (\d+)", Path(f).read_text(), re.M).group(1)) for f in dumps]  # type: ignore[union-attr]
    # dump 1 is the set-up; then each stage is the dump after its opening mark.
    presigned = len(counts) >= 22
    stage_dumps = (2, 3, 4, 6, 8, 10, 18)[: 7 if presigned else 6]
    per_frame = [counts[12 - 1], counts[14 - 1], counts[16 - 1]]
    if presigned:
        refill = counts[22 - 1]  # n × Signer.prepare
        per_frame += [counts[20 - 1] - refill, counts[20 - 1]]
    print(f"instructions per call, {args.n:,} calls each, src {args.src}")
    for name, k in zip(STAGES, stage_dumps, strict=False):
        print(f"  {name:<32} {counts[k - 1] / args.n:>10,.0f}")
    if presigned:
        print(f"  {'refill (Signer.prepare)':<32} {refill / args.n:>10,.0f}")
    print("instructions per frame")
    for name, total in zip(PATHS, per_frame, strict=False):
        print(f"  {name:<32} {total / args.n:>10,.0f}")


if __name__ == "__main__":
    main()
