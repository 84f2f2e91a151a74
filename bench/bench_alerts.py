"""Alerts on the event loop: what posting costs and whether a destination that hangs slows the loop.

Run: ``.venv/bin/python bench/bench_alerts.py [--seconds S] [--runs R]``

A 1 ms ticker task stands for the node's hot path: each tick sleeps 1 ms and records how late it
woke (loop lag). Beside it, a producer posts one alert every 2 ms (unique keys, so the throttle lets
a message out whenever its rate allows: 3,600 an hour with a burst of 50) to a ``Dispatcher`` with
a real Apprise JSON webhook on loopback. Cases, interleaved run by run:

(a) baseline: the ticker alone (no alerts).
(b) alerts to a receiver that answers at once.
(c) alerts to a receiver that hangs (answers after 30 s; the send times out after 2 s).

Printed per case: loop lag p50 / p99 / max in µs over every tick of every run, the ratio of its
p99 to (a)'s, and the cost of ``Dispatcher.post`` (p50 / p99 in µs, wall clock).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from kalshi_trader.alerts.dispatcher import Dispatcher
from kalshi_trader.alerts.message import Alert
from kalshi_trader.alerts.sender import ApprisePoster
from kalshi_trader.alerts.throttle import Throttle


@contextmanager
def receiver(hang_s: float) -> Iterator[str]:
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            if hang_s:
                release.wait(hang_s)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"json://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        release.set()
        server.shutdown()
        server.server_close()


async def one_run(seconds: float, url: str | None) -> tuple[list[float], list[float], int]:
    lags: list[float] = []
    posts: list[float] = []
    dispatcher = None
    if url is not None:
        throttle = Throttle(window_s=0, per_hour=3600, burst=50, clock=time.monotonic)
        dispatcher = Dispatcher(ApprisePoster([url], timeout_s=2), throttle, prefix="bench:")
        dispatcher.start()
    end = time.perf_counter() + seconds

    async def ticker() -> None:
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append((time.perf_counter() - t0 - 0.001) * 1e6)

    async def producer() -> None:
        n = 0
        while dispatcher is not None and time.perf_counter() < end:
            n += 1
            t0 = time.perf_counter_ns()
            dispatcher.post(Alert(f"fill:{n}", f"fill {n}", (("n", str(n)),)))
            posts.append((time.perf_counter_ns() - t0) / 1000)
            await asyncio.sleep(0.002)

    await asyncio.gather(ticker(), producer())
    sent = 0
    if dispatcher is not None:
        sent = dispatcher.stats.sent + dispatcher.stats.failed
        await dispatcher.close(timeout_s=0.1)
    return lags, posts, sent


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cases = {"(a) no alerts": None, "(b) receiver answers": 0.0, "(c) receiver hangs": 30.0}
    results: dict[str, tuple[list[float], list[float], int]] = {name: ([], [], 0) for name in cases}
    for _ in range(args.runs):
        for name, hang in cases.items():
            if hang is None:
                out = asyncio.run(one_run(args.seconds, None))
            else:
                with receiver(hang) as url:
                    out = asyncio.run(one_run(args.seconds, url))
            lags, posts, sent = results[name]
            results[name] = (lags + out[0], posts + out[1], sent + out[2])
    base_p99 = pct(results["(a) no alerts"][0], 99)
    heads = ("lag p50", "lag p99", "lag max", "p99 ratio", "post p50", "post p99")
    print(f"{'case':24} " + " ".join(f"{h:>9}" for h in heads) + f" {'sends':>6}")
    for name, (lags, posts, sent) in results.items():
        post = f"{pct(posts, 50):9.1f} {pct(posts, 99):9.1f}" if posts else f"{'—':>9} {'—':>9}"
        print(
            f"{name:24} {pct(lags, 50):9.0f} {pct(lags, 99):9.0f} {max(lags):9.0f} "
            f"{pct(lags, 99) / base_p99:9.2f} {post} {sent:6d}"
        )
    print("(loop lag and post cost in µs; sends: messages attempted, the rest merged or waiting)")


if __name__ == "__main__":
    main()
