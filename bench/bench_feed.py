"""Market-data feed benchmark: the real ``WsSession`` + ``Monitor`` path, per frame and end to end.

Run: ``.venv/bin/python bench/bench_feed.py [--deltas N] [--runs R] [--skip-e2e]``
(``pip install -e '.[bench]'`` adds ``websockets`` for the library comparison).

1. Per frame (no socket). The recorded stream of bench/bench_book.py (``build_stream``: ~1M
   current-format ``orderbook_delta`` frames — dollar-string prices, ``_fp`` sizes — over 50 markets on
   three tick grids, one snapshot each first) is fed, as ``bytes``, to
     (a) near-limit: msgspec typed decode into a flat per-tick list book, no checks (bench_book);
     (b) naive: ``json.loads`` into ``Decimal``-keyed dict books, seq check (bench_book); (b+) adds the
         best bid/ask read, ``max`` over each ladder;
     (real) ``WsSession.on_text`` — the frame handler the transport calls — with a ``Monitor`` as its
         handler and one ``BookChanged`` subscriber that reads the book's ``yes_bid``/``yes_ask``:
         schema decode, seq check per sid, stale tracking, exact price/size parsing, tick-grid
         validation, ``L2Book`` update, typed event dispatch.
   Median ns/frame of R runs, the paths interleaved slice by slice (bench_book.measure). The real
   path's books are checked against the generator's before timing. The GC stays on; the stream
   itself is frozen out of it (``gc.freeze()``: a live process does not hold a million frames).
2. WebSocket libraries: a pre-framed raw sender (a separate process: blocking socket, handshake,
   then pre-encoded frames written in 256 KiB batches) streams the same frames to a client of each
   library that only counts them: ns/frame and frames/s.
3. End to end: the same sender answers the real client's ``subscribe`` and streams every frame;
   the real ``WsSession`` (picows) + ``Monitor`` + subscriber take them into the books: frames/s.
4. Latency: the sender paces deltas at 10k frames/s, stamping ``perf_counter_ns`` (CLOCK_MONOTONIC,
   shared by both processes) as it writes each one; the subscriber stamps each ``BookChanged``:
   p50/p99/p99.9 of write → callback.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import socket
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support.rawws

from tests.support.rawws import encode_frame, handshake_response, parse_client_frame

from bench_book import build_stream, machine_info, measure, naive, near_limit
from kalshi_trader.domain import MarketInfo, MarketStatus, TickGrid
from kalshi_trader.kalshi.ws import ORDERBOOK, WsSession
from kalshi_trader.marketdata.monitor import BookChanged, MarketFilter, Monitor

Feed = Callable[[list[bytes]], None]
SID = 1
SUBSCRIBED = b'{"type":"subscribed","msg":{"channel":"orderbook_delta","sid":1},"id":%d}'


# --------------------------------------------------------------------------------------------
# The real path


class StaticMarkets:
    """A ``MarketSource`` over a fixed set of markets (no REST in a benchmark)."""

    def __init__(self, grids: dict[str, TickGrid]) -> None:
        far = 1 << 62
        self.infos = {
            t: MarketInfo(t, t.rsplit("-", 1)[0], t.split("-")[0], MarketStatus.ACTIVE, g, far)
            for t, g in grids.items()
        }

    async def list_markets(self, market_filter: MarketFilter) -> list[MarketInfo]:
        return list(self.infos.values())

    async def get_market(self, ticker: str) -> MarketInfo | None:
        return self.infos.get(ticker)


def make_monitor(
    grids: dict[str, TickGrid], url: str = "ws://127.0.0.1:9/trade-api/ws/v2"
) -> tuple[WsSession, Monitor]:
    ws = WsSession(url, None)
    monitor = Monitor(StaticMarkets(grids), ws, channels=(), follow_lifecycle=False)
    return ws, monitor


def real(grids: dict[str, TickGrid], keep: list[Monitor] | None = None) -> Feed:
    """``WsSession.on_text`` → ``Monitor`` → a subscriber reading the top of book."""
    ws, monitor = make_monitor(grids)

    async def setup() -> None:  # nothing awaits I/O here: the session is not connected
        await monitor.add_markets(grids)
        await ws.subscribe([ORDERBOOK], list(grids))

    loop = asyncio.new_event_loop()
    loop.run_until_complete(setup())
    loop.close()
    ws.on_text(SUBSCRIBED % 1)  # the server's reply: sid 1 is the orderbook subscription

    def on_book(event: BookChanged) -> None:
        book = event.book
        book.yes_bid  # noqa: B018 - the read is the point
        book.yes_ask  # noqa: B018

    monitor.subscribe(BookChanged, on_book)
    if keep is not None:
        keep.append(monitor)
    on_text = ws.on_text

    def feed(frames: list[bytes]) -> None:
        for raw in frames:
            on_text(raw)

    return feed


def per_frame(frames: list[bytes], markets: dict[str, Any], grids: dict[str, TickGrid], runs: int) -> None:
    kept: list[Monitor] = []
    real(grids, kept)(frames)
    monitor = kept[0]
    for ticker, m in markets.items():
        if monitor.books[ticker].as_tuples() != (sorted(m.yes.items()), sorted(m.no.items())):
            raise SystemExit(f"the real path diverged from the reference on {ticker}")
    ws_stats = monitor.ws.stats
    if ws_stats.seq_gaps or ws_stats.bad_frames or ws_stats.handler_errors or monitor.stats.bad_values:
        raise SystemExit(f"unexpected trouble: {ws_stats} {monitor.stats}")
    paths: dict[str, tuple[Callable[[], Feed], int]] = {
        "(a) near-limit": (lambda: near_limit(grids), runs),
        "(b) naive": (lambda: naive(grids), runs),
        "(b+) naive + best reads": (lambda: naive(grids, read_best=True), runs),
        "(real) ws.on_text+monitor": (lambda: real(grids), runs),
    }
    samples = measure(paths, frames)
    med = {label: statistics.median(values) for label, values in samples.items()}
    print(f"\n1. per frame, median of {runs} runs (ns/frame; every run)")
    for label, values in samples.items():
        shown = ", ".join(f"{v:.0f}" for v in values)
        print(f"  {label:<28} {med[label]:7.0f}  [{shown}]")
    a, b, bp, r = (
        med["(a) near-limit"],
        med["(b) naive"],
        med["(b+) naive + best reads"],
        med["(real) ws.on_text+monitor"],
    )
    per_round = statistics.median(
        ri / ai for ri, ai in zip(samples["(real) ws.on_text+monitor"], samples["(a) near-limit"], strict=True)
    )
    print(f"  real/(a)  = {r / a:.2f}x (per-run median {per_round:.2f}x; target <= 1.5x)")
    print(f"  (b)/real  = {b / r:.2f}x, (b+)/real = {bp / r:.2f}x (target >= 3x)")


# --------------------------------------------------------------------------------------------
# The pre-framed raw sender (its own process)


def _batches(frames: Sequence[bytes], size: int = 256 * 1024) -> list[bytes]:
    out: list[bytes] = []
    part: list[bytes] = []
    n = 0
    for f in frames:
        encoded = encode_frame(f)
        part.append(encoded)
        n += len(encoded)
        if n >= size:
            out.append(b"".join(part))
            part, n = [], 0
    if part:
        out.append(b"".join(part))
    return out


def _handshake(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("client went away during the handshake")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    response = handshake_response(head + b"\r\n\r\n")
    assert response is not None
    conn.sendall(response)
    return rest


def _await_subscribe(conn: socket.socket, buf: bytes) -> None:
    """Answer client commands until the orderbook subscription (any other subscribe: sid 2, 3...)."""
    data = bytearray(buf)
    sid = 1
    while True:
        parsed = parse_client_frame(data)
        if parsed is None:
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionError("client went away before subscribing")
            data += chunk
            continue
        opcode, payload, used = parsed
        del data[:used]
        if opcode != 1:
            continue
        command = msgspec.json.decode(payload)
        if command.get("cmd") == "subscribe":
            channel = command["params"]["channels"][0]
            if channel == ORDERBOOK:
                conn.sendall(encode_frame(SUBSCRIBED % command["id"]))
                return
            sid += 1
            reply = {"type": "subscribed", "msg": {"channel": channel, "sid": sid}, "id": command["id"]}
            conn.sendall(encode_frame(msgspec.json.encode(reply)))


def _drain_until_closed(conn: socket.socket) -> None:
    conn.settimeout(30)
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def sender(pipe: Connection, frames: list[bytes], mode: str, rate: int, paced_from: int) -> None:
    """mode ``raw``: stream right after the handshake; ``session``: first answer the subscribe.
    ``rate`` > 0: frames from index ``paced_from`` on are written one by one at that rate and
    their write times returned through ``pipe``."""
    gc.disable()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    batches = _batches(frames if not rate else frames[:paced_from])
    paced = [encode_frame(f) for f in frames[paced_from:]] if rate else []
    pipe.send(listener.getsockname()[1])
    conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
    rest = _handshake(conn)
    if mode == "session":
        _await_subscribe(conn, rest)
    for batch in batches:
        conn.sendall(batch)
    stamps: list[int] = []
    if rate:
        clock = time.perf_counter_ns
        step = 1_000_000_000 // rate
        start = clock() + 50_000_000
        sleep = time.sleep
        for i, f in enumerate(paced):
            due = start + i * step
            while (left := due - clock()) > 0:  # sleep most of the gap (leave the CPU to the client)
                if left > 40_000:
                    sleep((left - 30_000) / 1e9)
            stamps.append(clock())
            conn.sendall(f)
    pipe.send(stamps)
    _drain_until_closed(conn)
    conn.close()
    listener.close()


class Sender:
    def __init__(self, frames: list[bytes], mode: str, rate: int = 0, paced_from: int = 0) -> None:
        ctx = mp.get_context("fork")  # the child inherits the frames: nothing to pickle
        self.parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=sender, args=(child, frames, mode, rate, paced_from), daemon=True)
        self.proc.start()
        self.port: int = self.parent.recv()
        self.url = f"ws://127.0.0.1:{self.port}/trade-api/ws/v2"

    def stamps(self) -> list[int]:
        stamps: list[int] = self.parent.recv()
        return stamps

    def join(self) -> None:
        self.proc.join(30)
        if self.proc.is_alive():
            self.proc.kill()


# --------------------------------------------------------------------------------------------
# 2. library comparison: receive and count


async def _recv_picows(url: str, n: int) -> float:
    from picows import WSListener, WSMsgType, ws_connect

    done = asyncio.get_running_loop().create_future()
    marks: list[int] = []

    class Counter(WSListener):  # type: ignore[misc]
        count = 0

        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            if frame.msg_type is WSMsgType.TEXT:
                frame.get_payload_as_memoryview()
                self.count += 1
                if self.count == 1:
                    marks.append(time.perf_counter_ns())
                elif self.count == n:
                    marks.append(time.perf_counter_ns())
                    done.set_result(None)

    transport, _ = await ws_connect(Counter, url, max_frame_size=64 * 1024 * 1024)
    await done
    transport.disconnect()
    return (marks[1] - marks[0]) / (n - 1)


async def _recv_aiohttp(url: str, n: int) -> float:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0, autoping=True) as ws:
        count = 0
        t0 = 0
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                count += 1
                if count == 1:
                    t0 = time.perf_counter_ns()
                elif count == n:
                    return (time.perf_counter_ns() - t0) / (n - 1)
    raise RuntimeError("connection closed early")


async def _recv_websockets(url: str, n: int) -> float:
    from websockets.asyncio.client import connect

    async with connect(url, max_size=None, compression=None) as ws:
        await ws.recv(decode=False)
        t0 = time.perf_counter_ns()
        for _ in range(n - 1):
            await ws.recv(decode=False)
        return (time.perf_counter_ns() - t0) / (n - 1)


def libraries(frames: list[bytes], runs: int) -> None:
    clients: dict[str, Callable[[str, int], Any]] = {"picows": _recv_picows, "aiohttp": _recv_aiohttp}
    try:
        import websockets  # noqa: F401

        clients["websockets"] = _recv_websockets
    except ImportError:
        print("  (websockets not installed: pip install -e '.[bench]')")
    n = len(frames)
    print(f"\n2. WebSocket libraries: receive and count {n:,} frames from the raw sender, median of {runs} runs")
    for name, client in clients.items():
        values = []
        for _ in range(runs):
            s = Sender(frames, "raw")
            values.append(asyncio.run(client(s.url, n)))
            s.join()
        med = statistics.median(values)
        version = metadata.version(name)
        shown = ", ".join(f"{v:.0f}" for v in values)
        print(f"  {name + ' ' + version:<20} {med:7.0f} ns/frame  {1e9 / med:>12,.0f} frames/s  [{shown}]")


# --------------------------------------------------------------------------------------------
# 3. end to end and 4. latency through the real client


async def _e2e(grids: dict[str, TickGrid], url: str, n: int) -> tuple[float, Monitor]:
    ws, monitor = make_monitor(grids, url)
    done = asyncio.get_running_loop().create_future()
    marks: list[int] = []
    count = 0

    def on_book(event: BookChanged) -> None:
        nonlocal count
        book = event.book
        book.yes_bid  # noqa: B018 - the read is the point
        book.yes_ask  # noqa: B018
        count += 1
        if count == 1:
            marks.append(time.perf_counter_ns())
        elif count == n:
            marks.append(time.perf_counter_ns())
            done.set_result(None)

    monitor.subscribe(BookChanged, on_book)
    await monitor.start()
    await done
    await monitor.close()
    await ws.close()
    return (n - 1) / ((marks[1] - marks[0]) / 1e9), monitor


def end_to_end(frames: list[bytes], markets: dict[str, Any], grids: dict[str, TickGrid], runs: int) -> None:
    n = len(frames)
    print(
        f"\n3. end to end: {n:,} frames, raw sender → picows → WsSession → Monitor → subscriber; median of {runs} runs"
    )
    values = []
    for _ in range(runs):
        s = Sender(frames, "session")
        rate, monitor = asyncio.run(_e2e(grids, s.url, n))
        s.join()
        values.append(rate)
        for ticker, m in markets.items():
            if monitor.books[ticker].as_tuples() != (sorted(m.yes.items()), sorted(m.no.items())):
                raise SystemExit(f"end to end: book diverged on {ticker}")
    print(
        f"  {statistics.median(values):,.0f} frames/s  [{', '.join(f'{v:,.0f}' for v in values)}]  (target >= 500,000)"
    )


async def _latency(grids: dict[str, TickGrid], url: str, n: int, snapshots: int) -> list[int]:
    ws, monitor = make_monitor(grids, url)
    done = asyncio.get_running_loop().create_future()
    stamps: list[int] = []
    clock = time.perf_counter_ns

    def on_book(event: BookChanged) -> None:
        if event.side:  # a delta (snapshots come unpaced, first)
            stamps.append(clock())
            if len(stamps) == n - snapshots:
                done.set_result(None)

    monitor.subscribe(BookChanged, on_book)
    await monitor.start()
    await done
    await monitor.close()
    await ws.close()
    return stamps


def latency(
    frames: list[bytes], grids: dict[str, TickGrid], snapshots: int, seconds: float, rate: int = 10_000
) -> None:
    count = snapshots + int(rate * seconds)
    part = frames[:count]
    s = Sender(part, "session", rate=rate, paced_from=snapshots)
    received = asyncio.run(_latency(grids, s.url, count, snapshots))
    sent = s.stamps()
    s.join()
    lat = sorted((r - w) / 1000 for r, w in zip(received, sent, strict=True))
    q = statistics.quantiles(lat, n=1000)
    print(f"\n4. latency, socket write → subscriber callback, {len(lat):,} deltas at {rate:,} frames/s")
    print(f"  p50 {q[499]:.1f} µs   p99 {q[989]:.1f} µs   p99.9 {q[998]:.1f} µs   max {lat[-1]:.1f} µs")


# --------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deltas", type=int, default=1_000_000)
    ap.add_argument("--markets", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--e2e-runs", type=int, default=3)
    ap.add_argument("--lib-frames", type=int, default=300_000)
    ap.add_argument("--latency-s", type=float, default=3.0)
    ap.add_argument("--skip-e2e", action="store_true", help="only the per-frame part")
    args = ap.parse_args()

    t0 = time.perf_counter()
    frames, markets, grids = build_stream(args.deltas, args.markets)
    # The recorded stream (a million bytes objects and the generator's books) is a fixture, not part of
    # the system under test: keep the collector from walking it on every full collection.
    gc.freeze()
    print(machine_info())
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("picows", "aiohttp"))
    print(f"{versions}; load average {Path('/proc/loadavg').read_text().split()[:3]}")
    n = len(frames)
    size = sum(map(len, frames))
    built = time.perf_counter() - t0
    print(f"stream: {n:,} frames ({args.markets} snapshots + {args.deltas:,} deltas), {size / n:.0f} B/frame avg")
    print(f"built in {built:.1f}s")

    per_frame(frames, markets, grids, args.runs)
    if args.skip_e2e:
        return
    libraries(frames[args.markets : args.markets + args.lib_frames], args.e2e_runs)
    end_to_end(frames, markets, grids, args.e2e_runs)
    latency(frames, grids, args.markets, args.latency_s)


if __name__ == "__main__":
    main()
