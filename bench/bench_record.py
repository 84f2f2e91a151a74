"""Recording's cost on the node's hot path: frames/s through the real ``WsSession`` + ``Monitor``
path with and without the recorder's tap, in the same run.

Run: ``.venv/bin/python bench/bench_record.py [--deltas N] [--runs R]``

The stream of bench/bench_book.py (``build_stream``: current-format ``orderbook_delta`` frames over
50 markets, one snapshot each first) is fed, as ``bytes``, to ``WsSession.on_text`` with a
``Monitor`` and one ``BookChanged`` subscriber (bench/bench_feed.py's "real" path), three ways,
interleaved slice by slice (bench_book.measure):
  (off)    no tap;
  (wall)   ``FeedRecorder`` tapping every frame into a real ``RecordingWriter`` (its thread
           compressing and writing a block a second to a temporary directory, as in ``record``);
  (market) the same with a market clock read per frame (``run --record`` in sim: the exchange's
           ``SimClock``).
The writer thread's work (encoding, gzip, writes) runs during the measurement, so its share of the
CPU and the GIL is counted. Reported: median ns/frame, frames/s, and the median per-run ratio to
(off). Afterwards every recording is read back and checked frame for frame.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_book import build_stream, machine_info, measure
from bench_feed import SUBSCRIBED, make_monitor
from kalshi_trader.domain import TickGrid
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.kalshi.ws import ORDERBOOK
from kalshi_trader.marketdata.monitor import BookChanged
from kalshi_trader.recording.feed import FeedRecorder
from kalshi_trader.recording.manifest import Source
from kalshi_trader.recording.reader import read_recording
from kalshi_trader.recording.writer import RecordingWriter
from kalshi_trader.sim.core.clock import SimClock

Feed = Callable[[list[bytes]], None]


def path(grids: dict[str, TickGrid], record: str, dirs: list[Path], writers: list[RecordingWriter]) -> Feed:
    ws, monitor = make_monitor(grids)

    async def setup() -> None:
        await monitor.add_markets(grids)
        await ws.subscribe([ORDERBOOK], list(grids))

    loop = asyncio.new_event_loop()
    loop.run_until_complete(setup())
    loop.close()
    if record != "off":
        where = Path(tempfile.mkdtemp(prefix="bench-record-"))
        dirs.append(where)
        writer = RecordingWriter.open(where, Source())
        writers.append(writer)
        clock = SimClock(speed=60) if record == "market" else None
        rest = KalshiRest("http://127.0.0.1:9/trade-api/v2")  # never used: no metadata in this bench
        ws.set_tap(FeedRecorder(writer, rest, market_clock=clock))
    ws.on_text(SUBSCRIBED % 1)

    def on_book(event: BookChanged) -> None:
        book = event.book
        book.yes_bid  # noqa: B018 - the read is the point
        book.yes_ask  # noqa: B018

    monitor.subscribe(BookChanged, on_book)
    on_text = ws.on_text

    def feed(frames: list[bytes]) -> None:
        for raw in frames:
            on_text(raw)

    return feed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deltas", type=int, default=1_000_000)
    ap.add_argument("--markets", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    frames, _, grids = build_stream(args.deltas, args.markets)
    gc.freeze()
    print(machine_info())
    n = len(frames)
    print(f"stream: {n:,} frames, {sum(map(len, frames)) / n:.0f} B/frame avg; median of {args.runs} runs")
    dirs: list[Path] = []
    writers: list[RecordingWriter] = []
    paths = {
        label: (lambda record=record: path(grids, record, dirs, writers), args.runs)
        for label, record in (("(off)", "off"), ("(wall)", "wall"), ("(market)", "market"))
    }
    samples = measure(paths, frames)
    for writer in writers:
        writer.close()
    med = {label: statistics.median(v) for label, v in samples.items()}
    for label, values in samples.items():
        ratio = statistics.median(v / o for v, o in zip(values, samples["(off)"], strict=True))
        shown = ", ".join(f"{v:.0f}" for v in values)
        print(
            f"  {label:<9} {med[label]:6.0f} ns/frame  {1e9 / med[label]:>10,.0f} frames/s  "
            f"x{ratio:.2f} of (off)  [{shown}]"
        )
    disk = [sum(p.stat().st_size for p in d.glob("segment-*")) for d in dirs]
    ratio = sum(map(len, frames)) / statistics.median(disk)
    print(f"  on disk: {statistics.median(disk) / n:.1f} B/frame ({ratio:.1f}x smaller than the frames)")
    for d in dirs:
        got = [r.payload for r in read_recording(d) if r.kind == "ws"]
        if got != [SUBSCRIBED % 1, *frames]:
            raise SystemExit(f"{d}: the recording does not read back frame for frame")
    print("  every recording read back frame for frame")


if __name__ == "__main__":
    main()
