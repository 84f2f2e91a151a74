"""REST round trips against the embedded exchange over loopback: create-order vs. a baseline.

Run: ``.venv/bin/python bench/bench_rest.py [--orders N] [--runs R] [--key-type ed25519|rsa]``

One process runs the exchange (default scenario, rate limiting off so the limiter does not throttle
the measurement) and a sequential aiohttp client on one keep-alive connection. Per run, N requests
of each path are timed one by one (send → full response read); each path reports p50 / p99 of its
N latencies, and the figures shown are the median over R runs.

  (a) baseline   GET  /exchange/status, unsigned (HTTP + routing + JSON, no auth, no engine);
  (b) signed GET GET  /portfolio/balance, signed per request (client signing with the API key's
                 algorithm — Ed25519 by default, RSA-PSS with ``--key-type rsa`` — + server
                 verification + an account read);
  (c) create     POST /portfolio/events/orders, signing every request on the client (what a real
                 client pays: one signature per request);
  (d) create, pre-signed: the same orders with one signature per run (the signature covers only
                 timestamp + method + path, so it stays valid within the ±5 s window) — the server
                 side of a create: parse, verify, validate, reserve collateral, rest the order.

Orders are post-only GTC bids of 1 contract at $0.01–$0.05 on a dedicated empty market, so they
rest without matching. Machine information is printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import version

import aiohttp
import msgspec

from kalshi_trader.domain import FeeType, MarketStatus, Money, TickGrid
from kalshi_trader.kalshi.auth import KeyType, Signer
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange, wall_clock_ms
from kalshi_trader.sim.core.catalog import EventInfo, MarketMeta, SeriesInfo
from kalshi_trader.sim.core.state import MarketState
from kalshi_trader.sim.world.scenario import build_default_scenario

TICKER = "KXBENCH-26JAN01-T1"
PREFIX = "/trade-api/v2"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()} | {cpu} | {os.cpu_count()} logical CPUs | "
        f"Python {platform.python_version()} | aiohttp {version('aiohttp')} | msgspec {version('msgspec')}"
    )


def add_bench_market(exchange: EmbeddedExchange) -> None:
    now = wall_clock_ms()
    exchange.catalog.add_series(SeriesInfo("KXBENCH", "Bench", "Testing", "custom"))
    exchange.catalog.add_event(EventInfo("KXBENCH-26JAN01", "KXBENCH", "Bench event", "bench"))
    exchange.catalog.add_market(
        MarketMeta(
            ticker=TICKER,
            event_ticker="KXBENCH-26JAN01",
            market_id=exchange.new_id(),
            title="Bench",
            yes_sub_title="Bench",
            no_sub_title="Bench",
            open_ms=now - 3_600_000,
            close_ms=now + 86_400_000,
            expected_expiration_ms=None,
            latest_expiration_ms=now + 7 * 86_400_000,
            created_ms=now - 3_600_000,
            strike_type="greater",
        )
    )
    exchange.engine.add_market(
        MarketState(
            TICKER, "KXBENCH-26JAN01", TickGrid.named("linear_cent"), FeeType.QUADRATIC, status=MarketStatus.ACTIVE
        )
    )


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


async def timed(n: int, call: Callable[[int], Awaitable[None]]) -> tuple[float, float]:
    """p50 and p99 in microseconds of ``n`` sequential calls."""
    samples: list[float] = []
    clock = time.perf_counter_ns
    for i in range(n):
        start = clock()
        await call(i)
        samples.append((clock() - start) / 1_000)
    samples.sort()
    return percentile(samples, 0.50), percentile(samples, 0.99)


async def run_once(n: int, seed: int, key_type: KeyType) -> dict[str, tuple[float, float]]:
    exchange = EmbeddedExchange(seed=seed, tier=None)
    build_default_scenario(exchange, seed)
    add_bench_market(exchange)
    key_id, key = exchange.create_account("bench", Money(1_000_000 * 10_000), key_type)
    rest_url, _ = await exchange.start("127.0.0.1", 0)
    signer = Signer(key_id, key)
    results: dict[str, tuple[float, float]] = {}
    connector = aiohttp.TCPConnector(limit=1)
    try:
        async with aiohttp.ClientSession(connector=connector) as session:

            async def get(path: str, headers: dict[str, str] | None = None) -> None:
                async with session.get(rest_url + path, headers=headers) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status

            async def create(i: int, headers: dict[str, str]) -> None:
                body = msgspec.json.encode(
                    {
                        "ticker": TICKER,
                        "side": "bid",
                        "count": "1",
                        "price": f"0.0{1 + i % 5}00",
                        "time_in_force": "good_till_canceled",
                        "self_trade_prevention_type": "taker_at_cross",
                        "post_only": True,
                    }
                )
                headers = {**headers, "Content-Type": "application/json"}
                async with session.post(rest_url + "/portfolio/events/orders", data=body, headers=headers) as resp:
                    await resp.read()
                    assert resp.status == 201, resp.status

            for _ in range(50):  # warm up the connection and the code paths
                await get("/exchange/status")
            orders = PREFIX + "/portfolio/events/orders"
            results["(a) baseline GET /exchange/status"] = await timed(n, lambda i: get("/exchange/status"))
            results["(b) signed GET /portfolio/balance"] = await timed(
                n, lambda i: get("/portfolio/balance", signer.headers("GET", PREFIX + "/portfolio/balance"))
            )
            results["(c) create order, signed per request"] = await timed(
                n, lambda i: create(i, signer.headers("POST", orders))
            )
            presigned = signer.headers("POST", orders)
            results["(d) create order, pre-signed"] = await timed(n, lambda i: create(i, presigned))
    finally:
        await exchange.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=1_000, help="requests per path per run")
    parser.add_argument("--runs", type=int, default=5, help="runs; the median is reported")
    parser.add_argument("--key-type", type=KeyType, default=KeyType.ED25519, help="the API key's type")
    args = parser.parse_args()
    print(machine(), f"key type {args.key_type.value}")
    print(f"{args.orders} sequential requests per path per run, median of {args.runs} runs, one keep-alive connection")
    runs = []
    for r in range(args.runs):
        gc.collect()
        runs.append(asyncio.run(run_once(args.orders, seed=r + 1, key_type=args.key_type)))
    print(f"{'path':44s} {'p50 µs':>9s} {'p99 µs':>9s}")
    medians = {}
    for name in runs[0]:
        p50 = statistics.median(run[name][0] for run in runs)
        p99 = statistics.median(run[name][1] for run in runs)
        medians[name] = p50
        print(f"{name:44s} {p50:9.0f} {p99:9.0f}")
    base = medians["(a) baseline GET /exchange/status"]
    for name, p50 in medians.items():
        print(f"{name:44s} p50 = {p50 / base:5.2f} × baseline")


if __name__ == "__main__":
    main()
