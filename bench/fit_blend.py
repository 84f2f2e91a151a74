"""Fit the fair value's market blend (``fairvalue.blend``) on the simulated world, and check it out
of sample.

For each seed: run the embedded exchange's living world (background makers, noise and informed
traders; every Kalshi temperature series by default) on a stepped clock, with its NWS on loopback.
Every ``--sample-minutes`` of market time, for every open weather event: the NWS model's
probability of each bracket (``fairvalue.live.event_fair_values`` over HTTP, as the node prices
it), the book's mid (one-sided books: halfway to $0 or $1, as ``sim.world.measurements`` does)
and the hours to the close. After settlement each row gets its outcome. Rows are cached per seed
in ``--cache`` (CSV), so fitting again is quick.

Fit (``--fit-seeds``): for daily highs and daily lows apart, for each knot of hours to close, the
model weight w in 0..1 (grid of 0.05) minimising the Brier score of ``MarketBlend.blend_event``
over that kind's rows within the knot's band. Check (``--test-seeds``, other seeds): Brier of the
blended fair value, the mid and the model alone at 24/12/6/2/0.5 h before the close (the sample
nearest each, within half a sample interval), by kind and in all, and the knots for
``fair_value.model_weight_by_hours`` (highs) and ``fair_value.low_model_weight_by_hours`` (lows).
The cache holds the model's values as computed when collected: collect again (another
``--cache``) after changing the model.

    .venv/bin/python bench/fit_blend.py --days 4 --fit-seeds 11 12 13 --test-seeds 21 22 23
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import math
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from kalshi_trader.config import NwsSettings
from kalshi_trader.domain import PRICE_SCALE, MarketStatus
from kalshi_trader.fairvalue.blend import MarketBlend, book_mid
from kalshi_trader.fairvalue.live import event_fair_values
from kalshi_trader.fairvalue.nws import NwsClient, NwsError
from kalshi_trader.fairvalue.stations import STATIONS
from kalshi_trader.fairvalue.weather import Bracket, BracketError, Extreme
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.world.cities import ALL_SERIES, DEFAULT_SERIES
from kalshi_trader.sim.world.living_world import LivingWorld
from kalshi_trader.sim.world.nws_routes import mount_nws, nws_base_url

HOUR_MS = 3_600_000
HORIZONS_H = (24.0, 12.0, 6.0, 2.0, 0.5)
KNOTS_H = (0.5, 1.0, 2.0, 4.0, 6.0, 9.0, 12.0, 18.0, 24.0, 32.0, 42.0)
WEIGHTS = tuple(i / 20 for i in range(21))


@dataclass(frozen=True, slots=True)
class Row:
    seed: int
    event: str
    ticker: str
    ms: int
    hours: float
    model: float
    mid: float | None
    outcome: int

    @property
    def kind(self) -> Extreme:
        """Whether the event settles on the day's high or low (its series' station)."""
        return STATIONS[self.event.split("-")[0]].extreme


async def collect(seed: int, days: int, series: Sequence[str], step_ms: int, sample_ms: int) -> list[Row]:
    start = date(2026, 4, 6)
    begin = int(datetime(start.year, start.month, start.day, 12, tzinfo=UTC).timestamp()) * 1000
    clock = SimClock(start=begin, speed=0)
    exchange = EmbeddedExchange(seed=seed, clock_ms=clock, tier=None)
    world = LivingWorld(seed, series=series, until=start + timedelta(days=days))
    world.install(exchange)
    exchange.add_periodic(world.tick, next_due=world.next_due)
    mount_nws(exchange, world.weather)
    await exchange.start("127.0.0.1", 0)
    quiet = world.quiet_after_ms()
    assert quiet is not None
    settings = NwsSettings(user_agent="kalshi-trader bench (fit_blend)", max_requests_per_s=1_000)
    raw: list[tuple[str, str, int, float, float, float | None]] = []
    next_sample = begin
    try:
        async with NwsClient(
            settings,
            base_url=nws_base_url(exchange),
            clock=lambda: datetime.fromtimestamp(clock.now_ms() / 1000, tz=UTC),
            monotonic=lambda: clock.now_ms() / 1000,
        ) as client:
            while clock.now_ms() < quiet:
                clock.advance(step_ms)
                exchange.housekeeping()
                now = clock.now_ms()
                if now < next_sample:
                    continue
                next_sample = now - now % sample_ms + sample_ms
                raw.extend(await _sample(exchange, world, client, now))
    finally:
        await exchange.stop()
    results = {t: (1 if world.weather.events[e].brackets[i].wins(v) else 0) for e, t, i, v in _settled(world)}
    return [Row(seed, e, t, ms, h, p, m, results[t]) for e, t, ms, h, p, m in raw if t in results]


def _settled(world: LivingWorld) -> Iterable[tuple[str, str, int, int]]:
    for key, event in world.weather.events.items():
        if event.value is not None:
            for i, ticker in enumerate(event.tickers):
                yield key, ticker, i, event.value


async def _sample(
    exchange: EmbeddedExchange, world: LivingWorld, client: NwsClient, now: int
) -> list[tuple[str, str, int, float, float, float | None]]:
    engine, out = exchange.engine, []
    at = datetime.fromtimestamp(now / 1000, tz=UTC)
    for event in world.weather.live_events:
        if not event.open_ms <= now < event.close_ms:
            continue
        if any(engine.market(t).status is not MarketStatus.ACTIVE for t in event.tickers):
            continue
        brackets = [Bracket(t, *b.bounds()) for t, b in zip(event.tickers, event.brackets, strict=True)]
        try:
            fv = await event_fair_values(client, STATIONS[event.series.ticker], event.day, brackets, now=at)
        except (NwsError, BracketError):
            continue
        hours = (event.close_ms - now) / HOUR_MS
        for bp in fv.brackets:
            yes_bid, _, no_bid, _ = engine.top(bp.bracket.ticker)
            bid = None if yes_bid is None else yes_bid / PRICE_SCALE
            ask = None if no_bid is None else (PRICE_SCALE - no_bid) / PRICE_SCALE
            mid = book_mid(bid, ask)
            out.append((event.event_ticker, bp.bracket.ticker, now, hours, bp.probability, mid))
    return out


# -- cache ----------------------------------------------------------------------------------------


def _cache_file(cache: Path, seed: int, days: int, series: str, sample_ms: int) -> Path:
    return cache / f"blend-rows-s{seed}-d{days}-{series}-m{sample_ms // 60_000}.csv"


def load_or_collect(args: argparse.Namespace, seed: int) -> list[Row]:
    series = ALL_SERIES if args.series == "all" else DEFAULT_SERIES
    path = _cache_file(args.cache, seed, args.days, args.series, args.sample_minutes * 60_000)
    if path.exists():
        with path.open() as f:
            return [
                Row(
                    int(r["seed"]),
                    r["event"],
                    r["ticker"],
                    int(r["ms"]),
                    float(r["hours"]),
                    float(r["model"]),
                    float(r["mid"]) if r["mid"] else None,
                    int(r["outcome"]),
                )
                for r in csv.DictReader(f)
            ]
    began = time.perf_counter()
    rows = asyncio.run(collect(seed, args.days, series, args.step_minutes * 60_000, args.sample_minutes * 60_000))
    print(f"seed {seed}: {len(rows)} rows in {time.perf_counter() - began:.0f} s", flush=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["seed", "event", "ticker", "ms", "hours", "model", "mid", "outcome"])
        for r in rows:
            w.writerow([r.seed, r.event, r.ticker, r.ms, f"{r.hours:.4f}", f"{r.model:.6f}", r.mid or "", r.outcome])
    return rows


# -- fit and check --------------------------------------------------------------------------------

Snapshot = list[Row]
"""The rows of one event at one sample time (its brackets)."""


def snapshots(rows: Iterable[Row]) -> list[Snapshot]:
    grouped: dict[tuple[int, str, int], list[Row]] = defaultdict(list)
    for r in rows:
        grouped[(r.seed, r.event, r.ms)].append(r)
    return [g for g in grouped.values() if all(r.mid is not None for r in g)]


def brier(pairs: Iterable[tuple[float, int]]) -> float:
    values = [(p - o) ** 2 for p, o in pairs]
    return math.fsum(values) / len(values) if values else math.nan


def blended(snap: Snapshot, blend: MarketBlend) -> list[float]:
    return blend.blend_event([r.model for r in snap], [r.mid for r in snap], snap[0].hours, snap[0].kind)


def fit_blend(snaps: list[Snapshot]) -> MarketBlend:
    """Knots fitted for the highs' snapshots and, apart, for the lows'."""
    highs = fit([s for s in snaps if s[0].kind == "high"])
    lows = fit([s for s in snaps if s[0].kind == "low"])
    return MarketBlend(highs or lows, lows or None)


def compact(knots: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    """The same weights by hours (linear between knots, flat outside) with the fewest knots: runs of
    equal weights at either end and in between lose the knots they do not need."""
    out = list(knots)
    while len(out) > 1 and out[0][1] == out[1][1]:
        out.pop(0)
    while len(out) > 1 and out[-1][1] == out[-2][1]:
        out.pop()
    return tuple(k for i, k in enumerate(out) if i in (0, len(out) - 1) or not out[i - 1][1] == k[1] == out[i + 1][1])


def fit(snaps: list[Snapshot]) -> tuple[tuple[float, float], ...]:
    """For each knot, the weight fitted over the snapshots nearest that knot (each snapshot counted
    at the knot whose band it falls in): the least Brier score over all fit seeds among the
    weights whose fair value is at or below the mid's Brier score on *every* fit seed (the goal is
    a fair value never worse than the mid); when none is, the weight whose worst seed is the least
    above the mid."""
    bands: dict[float, list[Snapshot]] = defaultdict(list)
    for snap in snaps:
        h = snap[0].hours
        bands[min(KNOTS_H, key=lambda k: abs(math.log(max(h, 0.05)) - math.log(k)))].append(snap)
    knots = []
    for knot in KNOTS_H:
        band = bands.get(knot, [])
        if band:
            knots.append((knot, min(WEIGHTS, key=lambda w: _fit_score(band, w))))
    return tuple(knots)


def _fit_score(band: list[Snapshot], weight: float) -> tuple[float, float]:
    """(how far the worst fit seed's fair value is above its mid, ≥ 0; Brier over all) at ``weight``."""
    blend = MarketBlend(((1.0, weight),))
    fair: dict[int, list[tuple[float, int]]] = defaultdict(list)
    mid: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for s in band:
        for p, r in zip(blend.blend_event([r.model for r in s], [r.mid for r in s], 1.0), s, strict=True):
            fair[r.seed].append((p, r.outcome))
            mid[r.seed].append((r.mid or 0.0, r.outcome))
    worst = max(brier(fair[seed]) - brier(mid[seed]) for seed in fair)
    return max(0.0, worst), brier(pair for pairs in fair.values() for pair in pairs)


def at_horizons(snaps: list[Snapshot], half_ms: int) -> dict[float, list[Snapshot]]:
    """For each horizon, every event's snapshot nearest that many hours before its close."""
    out: dict[float, list[Snapshot]] = {}
    for h in HORIZONS_H:
        best: dict[tuple[int, str], Snapshot] = {}
        for snap in snaps:
            gap = abs(snap[0].hours - h) * HOUR_MS
            if gap > half_ms:
                continue
            key = (snap[0].seed, snap[0].event)
            if key not in best or gap < abs(best[key][0].hours - h) * HOUR_MS:
                best[key] = snap
        out[h] = list(best.values())
    return out


def table(snaps: list[Snapshot], blend: MarketBlend, half_ms: int) -> list[str]:
    """Brier at each horizon for the highs, the lows and all events (the model weights shown as
    high / low)."""
    lines = [
        "| events | hours to close | events | brackets | Brier fair (blend) | Brier mid | Brier model only |"
        " fair − mid | model weight |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    horizons = at_horizons(snaps, half_ms)
    for kind in ("high", "low", None):
        for h, every in horizons.items():
            group = [s for s in every if kind is None or s[0].kind == kind]
            fair = [(p, r.outcome) for s in group for p, r in zip(blended(s, blend), s, strict=True)]
            mid = [(r.mid or 0.0, r.outcome) for s in group for r in s]
            model = [(r.model, r.outcome) for s in group for r in s]
            bf, bm, bo = brier(fair), brier(mid), brier(model)
            weights = f"{blend.weight(h, 'high'):.2f} / {blend.weight(h, 'low'):.2f}"
            lines.append(
                f"| {kind or 'all'} | {h:g} | {len(group)} | {len(fair)} | {bf:.4f} | {bm:.4f} | {bo:.4f} |"
                f" {bf - bm:+.4f} | {weights} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--fit-seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--test-seeds", type=int, nargs="+", default=[21, 22, 23])
    parser.add_argument("--series", choices=["all", "default"], default="all")
    parser.add_argument("--step-minutes", type=int, default=5, help="housekeeping step of the stepped clock")
    parser.add_argument("--sample-minutes", type=int, default=30)
    parser.add_argument("--cache", type=Path, default=Path("data/bench-cache"))
    parser.add_argument("--collect", type=int, metavar="SEED", help="only simulate this seed into the cache")
    args = parser.parse_args(argv)
    if args.collect is not None:
        load_or_collect(args, args.collect)
        return 0
    if set(args.fit_seeds) & set(args.test_seeds):
        parser.error("the test seeds must differ from the fit seeds")
    t0 = time.perf_counter()
    fit_rows = [r for s in args.fit_seeds for r in load_or_collect(args, s)]
    test_rows = [r for s in args.test_seeds for r in load_or_collect(args, s)]
    blend = fit_blend(snapshots(fit_rows))
    half = args.sample_minutes * 60_000 // 2
    print(f"\nfitted knots (hours to close, model weight), highs: {blend.knots}")
    print(f"fitted knots (hours to close, model weight), lows: {blend.low_knots}")
    print(f"fair_value.model_weight_by_hours = {compact(blend.knots)}")
    print(f"fair_value.low_model_weight_by_hours = {compact(blend.low_knots or blend.knots)}")
    print(f"\nIn sample (fit seeds {args.fit_seeds}):")
    print("\n".join(table(snapshots(fit_rows), blend, half)))
    print(f"\nOut of sample (test seeds {args.test_seeds}):")
    print("\n".join(table(snapshots(test_rows), blend, half)))
    events = {(r.seed, r.event) for r in test_rows}
    print(
        f"\n{len(events)} test events, {len(test_rows)} test rows; median hours sampled "
        f"{statistics.median(r.hours for r in test_rows):.1f}; {time.perf_counter() - t0:.0f} s; "
        f"command: {' '.join(sys.argv)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
