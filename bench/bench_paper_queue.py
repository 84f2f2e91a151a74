"""Paper venue against the exchange it mirrors: the same orders, side by side, over real sockets.

Run: ``.venv/bin/python bench/bench_paper_queue.py [--seconds S] [--speed X] [--seed N]``

The embedded exchange runs the weather world (background traders) in this process at ``--speed``
times real time; a node in paper mode takes its market data from it over the WebSocket (the
node's own ``Monitor`` → ``node.paper.PaperFeed`` → ``PaperVenue``). A second account ("mirror")
sends every order the paper node sends to the exchange itself, right after the paper venue has
answered:
- *marketable*: an IOC buy at the best ask for at most its displayed size — paper and exchange
  fills compared (price, size, fee);
- *resting*: a GTC bid joining the best bid — for each pair, when each first filled (wall time,
  seen by polling both every ``--poll`` s). The paper order is placed first, so the mirror's own
  contracts show up behind it in the public book the paper venue reads.
Reported: pairs, identical marketable fills, resting pairs filled at the exchange / in paper /
both, pairs where paper filled first (the queue model promises none beyond the polling
resolution), and the median delay paper − exchange on pairs both filled. No thresholds: figures.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from kalshi_trader.config import ApiSettings, PaperSettings, Settings
from kalshi_trader.domain import PRICE_SCALE, BookSide, Money, OrderIntent, Price, Qty, TimeInForce
from kalshi_trader.execution.views import Outcome
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.auth import Signer, generate_private_key
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.node import Mode, NodeOptions, TradingNode
from kalshi_trader.sim.standalone import build_exchange


@dataclass
class Pair:
    coid: str
    mirror_id: str
    placed: float
    paper_filled: float | None = None
    exchange_filled: float | None = None


@dataclass
class Figures:
    marketable: int = 0
    identical: int = 0
    different: list[str] = field(default_factory=list)
    resting: list[Pair] = field(default_factory=list)


async def run(seconds: float, speed: float, seed: int, poll_s: float) -> Figures:
    figures = Figures()
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        built = build_exchange(
            data_dir=data, seed=seed, cash=Money(10_000 * PRICE_SCALE), scenario="weather", speed=speed
        )
        await built.exchange.start("127.0.0.1", 0)
        exchange = built.exchange
        key = generate_private_key()
        exchange.open_account("mirror", Money(100_000 * PRICE_SCALE))
        mirror = KalshiRest(
            exchange.endpoints.rest_url, Signer(exchange.add_api_key("mirror", key.public_key()), key), tier="prestige"
        )
        settings = Settings(
            data_dir=data,
            api=ApiSettings(url=exchange.endpoints.rest_url),
            paper=PaperSettings(starting_balance_dollars=100_000),
        )
        node = TradingNode(settings, NodeOptions(mode=Mode.PAPER, strategies=(), autostart=False))
        try:
            await node.start()
            engine = node.require_engine()
            deadline = time.monotonic() + seconds
            n = 0
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                fresh = [t for t in node.snapshots().values() if not t.stale and t.best_bid and t.best_ask]
                if not fresh:
                    continue
                snap = rng.choice(fresh)
                n += 1
                if n % 3 == 0 and snap.best_ask is not None and snap.best_ask_qty >= 100:
                    await marketable(node, mirror, snap.ticker, snap.best_ask, n, figures)
                elif snap.best_bid is not None and snap.best_bid > 100:
                    coid = f"q-{n}"
                    intent = OrderIntent.place(snap.ticker, BookSide.BID, snap.best_bid, Qty(100), coid, post_only=True)
                    if (await engine.submit(intent)).outcome is not Outcome.ACCEPTED:
                        continue
                    req = convert.create_request(snap.ticker, BookSide.BID, snap.best_bid, Qty(100), post_only=True)
                    try:
                        ack = await mirror.create_order(req)
                    except Exception:
                        engine.cancel(coid)
                        continue
                    figures.resting.append(Pair(coid, ack.order_id, time.monotonic()))
                await observe(node, mirror, figures.resting)
            end = time.monotonic() + 10 * poll_s
            while time.monotonic() < end:
                await observe(node, mirror, figures.resting)
                await asyncio.sleep(poll_s)
        finally:
            await node.stop()
            await mirror.close()
            await exchange.stop()
    return figures


async def marketable(node: TradingNode, mirror: KalshiRest, ticker: str, ask: Price, n: int, figures: Figures) -> None:
    engine = node.require_engine()
    coid = f"m-{n}"
    intent = OrderIntent.place(ticker, BookSide.BID, ask, Qty(100), coid, tif=TimeInForce.IMMEDIATE_OR_CANCEL)
    if (await engine.submit(intent)).outcome is not Outcome.ACCEPTED:
        return
    req = convert.create_request(ticker, BookSide.BID, ask, Qty(100), time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL)
    ack = await mirror.create_order(req)
    await asyncio.sleep(0.3)
    paper = sorted((f.price, f.qty, f.fee) for f in node.fills(limit=2000) if f.client_order_id == coid)
    there = sorted(
        (c.price, c.qty, c.fee)
        for c in [convert.fill(f) async for f in mirror.iter_fills(ticker=ticker)]
        if c.order_id == ack.order_id
    )
    figures.marketable += 1
    if paper == there:
        figures.identical += 1
    else:
        figures.different.append(f"{ticker} @ {ask}: paper {paper} exchange {there}")


async def observe(node: TradingNode, mirror: KalshiRest, pairs: list[Pair]) -> None:
    now = time.monotonic()
    engine = node.require_engine()
    waiting = [p for p in pairs if p.exchange_filled is None]
    if waiting:
        filled = {o.order_id for o in [convert.order(x) async for x in mirror.iter_orders()] if o.filled > 0}
        for p in waiting:
            if p.mirror_id in filled:
                p.exchange_filled = now
    for p in pairs:
        t = engine.tracker.order(p.coid)
        if p.paper_filled is None and t is not None and t.filled > 0:
            p.paper_filled = now


def report(f: Figures, seconds: float, speed: float, poll_s: float) -> None:
    both = [p for p in f.resting if p.paper_filled is not None and p.exchange_filled is not None]
    exchange = sum(p.exchange_filled is not None for p in f.resting)
    paper = sum(p.paper_filled is not None for p in f.resting)
    earlier = [
        p
        for p in both
        if p.paper_filled is not None and p.exchange_filled is not None and p.paper_filled < p.exchange_filled - poll_s
    ]
    delays = [
        p.paper_filled - p.exchange_filled for p in both if p.paper_filled is not None and p.exchange_filled is not None
    ]
    print(f"{seconds:.0f} s wall at {speed:g}x ({seconds * speed / 60:.0f} min of market time), poll {poll_s} s")
    print(f"marketable pairs: {f.marketable}, identical fills (price, size, fee): {f.identical}")
    for d in f.different[:5]:
        print("  differs:", d)
    print(f"resting pairs: {len(f.resting)}; filled at the exchange {exchange}, in paper {paper}, both {len(both)}")
    print(f"paper filled first by more than the poll: {len(earlier)}")
    if delays:
        median, worst = statistics.median(delays), max(delays)
        print(f"delay paper - exchange on pairs both filled: median {median:.2f} s wall, max {worst:.2f} s")
    print(f"paper filled / exchange filled: {paper / exchange:.2f}" if exchange else "no exchange fills")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--poll", type=float, default=0.25)
    args = parser.parse_args()
    command = f"bench/bench_paper_queue.py --seconds {args.seconds:g} --speed {args.speed:g} --seed {args.seed}"
    print(f"CPython {sys.version.split()[0]}; {command}")
    figures = asyncio.run(run(args.seconds, args.speed, args.seed, args.poll))
    report(figures, args.seconds, args.speed, args.poll)


if __name__ == "__main__":
    main()
