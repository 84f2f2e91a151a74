"""Record the sample that ships in src/kalshi_trader/samples/weather-day: a simulated day of the
embedded exchange's weather world (New York's and Chicago's daily highs, no other markets): 20
hours from 20:00 UTC — the first day's last trading hours, its close and its determination the
next morning, and the second day's morning —
recorded exactly as `kalshi-trader record` records (every WebSocket frame, the markets, the NWS
answers of the fair-value model) on a stepped clock, so the same seed gives the same world.

    .venv/bin/python scripts/record_sample.py [OUT_DIR] [--hours 20] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.recorded_world import record_world
from tests.support.world import HOUR_MS, START_MS

from kalshi_trader.recording.format import compress_block, read_blocks

SERIES = ("KXHIGHNY", "KXHIGHCHI")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "kalshi_trader" / "samples" / "weather-day"


def recompress(directory: Path) -> None:
    """Recompress every block at zlib's best level (the format is unchanged: smaller to ship)."""
    for segment in sorted(directory.glob("segment-*.rec.gz")):
        blocks = [compress_block(b.content, level=9) for b in read_blocks(segment) if not b.problem]
        segment.write_bytes(b"".join(blocks))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--hours", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    start = START_MS + 10 * HOUR_MS  # the world lives an hour, then the recording starts at 20:00 UTC
    await record_world(args.out, seed=args.seed, series=SERIES, hours=args.hours, fair_every=5, start_ms=start)
    (args.out / ".lock").unlink(missing_ok=True)
    recompress(args.out)
    size = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"{args.out}: {size / 1e6:.1f} MB")


if __name__ == "__main__":
    asyncio.run(main())
