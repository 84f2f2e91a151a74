"""Measuring the living world the way the published studies measured Kalshi, against the figures
of ``sim/world/calibration_targets.py``.

Contract:
- ``Sampler(exchange, world)`` listens to the exchange's trades from its creation: every print of
  a world market is kept with the world's calibrated probability of YES at that instant (the
  oracle every informed trader reads). ``sample(now_ms)`` records the top of book of every active
  weather market (call it on a schedule, e.g. hourly), and for every daily-high market 24 h and
  12 h (± half the sampling interval) before its close the market mid, the naive forecast
  (``WeatherWorld.public_probability``) and the oracle's probability.
- ``measure(exchange, world, sampler)`` returns one ``Measured`` per figure of
  ``calibration.FIGURES`` (``None`` value when the run produced no data for it):
  * every print is two purchases — YES at its price, NO at $1 minus it — whose expected payout is
    the oracle's probability at the trade (the settled result is one draw of it; the expectation
    measures the same thing without the noise of a few dozen events);
  * weather ladder returns by bucket the way fairline measured them: the last print of every
    weather market, one contract a side; return = mean (payout − price) / price in the bucket;
  * win rates of 5¢ and 95¢ contracts of the other markets; makers' and takers' excess return
    (payout − price, cents per contract, before fees) and the gap of their average returns
    ((payout − price) / price);
  * spreads, two-sided shares and depth from the samples of weather markets (spread = best YES
    ask − best YES bid of two-sided books; depth = the best YES bid's size, liquid highs priced
    10–90¢, 9:00–18:00 New York time);
  * Brier skill of the naive forecast against the mid (one-sided books: the mid of the one side
    and 0 or $1), 1 − Brier(naive) / Brier(mid) in percent, Brier taken against the oracle's
    probability (expected Brier);
  * the listing lead of every weather market (close − created).
  ``deciles(sampler, world)`` gives the weather win rate by price decile (the favourite–longshot
  curve as traded) beside the calibration curve's.
- ``run_calibration(seed, days, ...)`` builds a stepped exchange with the living world (every
  Kalshi temperature series by default), runs it for ``days`` simulated days sampling hourly,
  lets everything listed settle, and returns the measurements; ``report(measured)`` renders the
  measured-vs-target table. Deterministic for a seed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from kalshi_trader.domain import PRICE_SCALE, QTY_SCALE, BookSide, MarketStatus
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.core.state import EngineEvent, TradeEvent
from kalshi_trader.sim.world.calibration_targets import DEEP_SERIES, FIGURES, WEATHER_PRICES, Figure
from kalshi_trader.sim.world.cities import ALL_SERIES
from kalshi_trader.sim.world.traders import Pace

if TYPE_CHECKING:
    from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
    from kalshi_trader.sim.world.living_world import LivingWorld

HOUR_MS: Final = 3_600_000
HORIZONS_H: Final = (24, 12)
_EASTERN: Final = ZoneInfo("America/New_York")


@dataclass(frozen=True, slots=True)
class Top:
    """One sample of a market's top of book (prices in dollars, sizes in contracts)."""

    ticker: str
    ts_ms: int
    yes_bid: float | None
    bid_size: float
    yes_ask: float | None

    @property
    def two_sided(self) -> bool:
        return self.yes_bid is not None and self.yes_ask is not None

    @property
    def mid(self) -> float | None:
        if self.yes_bid is not None and self.yes_ask is not None:
            return (self.yes_bid + self.yes_ask) / 2
        if self.yes_bid is not None:
            return (self.yes_bid + 1.0) / 2
        if self.yes_ask is not None:
            return self.yes_ask / 2
        return None


@dataclass(frozen=True, slots=True)
class Forecasts:
    """The mid, the naive forecast and the oracle of one daily-high market at one horizon."""

    ticker: str
    horizon_h: int
    mid: float
    naive: float
    truth: float
    """The world's calibrated probability of YES at that moment."""


@dataclass(frozen=True, slots=True)
class Print:
    """One trade of a world market and the oracle's P(YES) when it happened."""

    trade_id: str
    ticker: str
    price: float
    count: float
    taker_bought_yes: bool
    p_yes: float


@dataclass(slots=True)
class Sampler:
    """Listens to the world's trades and samples its books (see the module docstring)."""

    exchange: EmbeddedExchange
    world: LivingWorld
    interval_ms: int = HOUR_MS
    prints: list[Print] = field(default_factory=list)
    tops: list[Top] = field(default_factory=list)
    forecasts: list[Forecasts] = field(default_factory=list)
    _seen: set[tuple[str, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.exchange.engine.add_listener(self._on_event)

    def _on_event(self, event: EngineEvent) -> None:
        if type(event) is not TradeEvent:
            return
        trade = event.trade
        p = self.world.probability(trade.ticker, trade.ts_ms)
        if p is not None:
            self.prints.append(
                Print(
                    trade.trade_id,
                    trade.ticker,
                    trade.price / PRICE_SCALE,
                    trade.count / QTY_SCALE,
                    trade.taker_side is BookSide.BID,
                    p,
                )
            )

    def sample(self, now_ms: int) -> None:
        engine, weather = self.exchange.engine, self.world.weather
        for event in weather.live_events:
            if not event.open_ms <= now_ms < event.close_ms:
                continue
            for ticker in event.tickers:
                if engine.market(ticker).status is not MarketStatus.ACTIVE:
                    continue
                yes_bid, bid_size, no_bid, _ = engine.top(ticker)
                top = Top(
                    ticker,
                    now_ms,
                    None if yes_bid is None else yes_bid / PRICE_SCALE,
                    bid_size / QTY_SCALE,
                    None if no_bid is None else (PRICE_SCALE - no_bid) / PRICE_SCALE,
                )
                self.tops.append(top)
                if event.extreme != "high":
                    continue
                for horizon in HORIZONS_H:
                    key = (ticker, horizon)
                    if key in self._seen or abs(now_ms - (event.close_ms - horizon * HOUR_MS)) > self.interval_ms // 2:
                        continue
                    naive, truth, mid = (
                        weather.public_probability(ticker, now_ms),
                        weather.probability(ticker, now_ms),
                        top.mid,
                    )
                    if naive is not None and truth is not None and mid is not None:
                        self._seen.add(key)
                        self.forecasts.append(Forecasts(ticker, horizon, mid, naive, truth))


@dataclass(frozen=True, slots=True)
class Measured:
    """A figure and what the world did."""

    figure: Figure
    value: float | None
    samples: int

    @property
    def passes(self) -> bool:
        return self.value is not None and abs(self.value - self.figure.target) <= self.figure.tolerance


@dataclass(frozen=True, slots=True)
class Bought:
    """Contracts bought at a price and their (expected) payout per contract."""

    price: float
    payout: float
    count: float


def purchases(prints: Iterable[Print]) -> tuple[list[Bought], list[Bought], list[Bought]]:
    """(every purchase, takers' purchases, makers' purchases) of the prints: YES at the price and NO
    at $1 minus it, paying the oracle's P(YES) and 1 minus it."""
    every: list[Bought] = []
    takers: list[Bought] = []
    makers: list[Bought] = []
    for p in prints:
        yes, no = Bought(p.price, p.p_yes, p.count), Bought(1.0 - p.price, 1.0 - p.p_yes, p.count)
        every += (yes, no)
        takers.append(yes if p.taker_bought_yes else no)
        makers.append(no if p.taker_bought_yes else yes)
    return every, takers, makers


def _total(rows: Sequence[Bought]) -> float:
    return math.fsum(r.count for r in rows)


def _mean_return(rows: Sequence[Bought]) -> float | None:
    """Average (payout − price) / price per contract, percent."""
    total = _total(rows)
    if not total:
        return None
    return 100.0 * math.fsum(r.count * (r.payout - r.price) / r.price for r in rows) / total


def _excess(rows: Sequence[Bought]) -> float | None:
    """Average payout − price per contract, cents."""
    total = _total(rows)
    return None if not total else 100.0 * math.fsum(r.count * (r.payout - r.price) for r in rows) / total


def _win_rate(rows: Sequence[Bought]) -> float | None:
    total = _total(rows)
    return None if not total else 100.0 * math.fsum(r.count * r.payout for r in rows) / total


def _between(rows: Sequence[Bought], low: float, high: float) -> list[Bought]:
    return [r for r in rows if low <= r.price < high]


@dataclass(frozen=True, slots=True)
class Decile:
    """Weather contracts bought in one price decile: mean price, win rate as traded, the curve's."""

    low: float
    count: float
    mean_price: float
    win_rate: float
    curve: float

    @property
    def mean_return(self) -> float:
        return (self.win_rate - self.mean_price) / self.mean_price


def deciles(prints: Iterable[Print]) -> list[Decile]:
    """Weather win rate by price decile (prints of weather markets only, see the module docstring)."""
    groups: list[list[Bought]] = [[] for _ in range(10)]
    for row in purchases(prints)[0]:
        groups[min(9, int(row.price * 10))].append(row)
    out = []
    for i, rows in enumerate(groups):
        total = _total(rows)
        if not total:
            continue
        mean_price = math.fsum(r.count * r.price for r in rows) / total
        win = math.fsum(r.count * r.payout for r in rows) / total
        curve = math.fsum(r.count * WEATHER_PRICES.win_rate(r.price) for r in rows) / total
        out.append(Decile(i / 10, total, mean_price, win, curve))
    return out


def _last_trades(prints: Iterable[Print]) -> list[Bought]:
    """The last print of every market, YES and NO, one contract each, paying the oracle's
    probability at that trade."""
    last: dict[str, Print] = {}
    for p in prints:
        last[p.ticker] = p
    return [
        r for p in last.values() for r in (Bought(p.price, p.p_yes, 1.0), Bought(1.0 - p.price, 1.0 - p.p_yes, 1.0))
    ]


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _expected_brier(pairs: Sequence[tuple[float, float]]) -> float:
    """Mean Brier score of forecasts q against outcomes of probability p: (q − p)² + p(1 − p)."""
    return math.fsum((q - p) ** 2 + p * (1.0 - p) for q, p in pairs) / len(pairs)


def measure(exchange: EmbeddedExchange, world: LivingWorld, sampler: Sampler) -> list[Measured]:
    """Every figure of ``calibration.FIGURES`` as the world reproduced it (module docstring)."""
    weather = world.weather
    weather_tickers = [t for e in weather.events.values() for t in e.tickers]
    in_weather = set(weather_tickers)
    weather_prints = [p for p in sampler.prints if p.ticker in in_weather]
    other_prints = [p for p in sampler.prints if p.ticker not in in_weather]
    every, takers, makers = purchases(sampler.prints)
    values: dict[str, tuple[float | None, int]] = {}

    last = _last_trades(weather_prints)
    cheap, dear = _between(last, 0.0, 0.10), _between(last, 0.90, 1.0)
    values["weather_cheap_return"] = (_mean_return(cheap), len(cheap))
    values["weather_dear_return"] = (_mean_return(dear), len(dear))
    others = purchases(other_prints)[0]
    fives, nineties = _between(others, 0.03, 0.07), _between(others, 0.93, 0.97)
    values["cheap_win_rate"] = (_win_rate(fives), len(fives))
    values["favourite_win_rate"] = (_win_rate(nineties), len(nineties))
    values["maker_excess_return"] = (_excess(makers), len(makers))
    values["taker_excess_return"] = (_excess(takers), len(takers))
    maker_return, taker_return = _mean_return(makers), _mean_return(takers)
    gap = None if maker_return is None or taker_return is None else maker_return - taker_return
    values["maker_taker_return_gap"] = (gap, len(every))

    forecasts = sampler.forecasts
    if forecasts:
        naive = _expected_brier([(f.naive, f.truth) for f in forecasts])
        mid = _expected_brier([(f.mid, f.truth) for f in forecasts])
        values["naive_brier_skill"] = (100.0 * (1.0 - naive / mid), len(forecasts))
    else:
        values["naive_brier_skill"] = (None, 0)

    kind_of: dict[str, str] = {}
    for event in weather.events.values():
        kind = "low" if event.extreme == "low" else "deep" if event.series.ticker in DEEP_SERIES else "high"
        kind_of.update(dict.fromkeys(event.tickers, kind))
    spreads: dict[str, list[float]] = {"deep": [], "high": [], "low": []}
    sided: dict[str, list[bool]] = {"high": [], "low": []}
    depth: list[float] = []
    for top in sampler.tops:
        found = kind_of.get(top.ticker)
        if found is None:
            continue
        kind = found
        sided["low" if kind == "low" else "high"].append(top.two_sided)
        if top.yes_bid is not None and top.yes_ask is not None:
            spreads[kind].append(100.0 * (top.yes_ask - top.yes_bid))
            hour = datetime.fromtimestamp(top.ts_ms / 1000, tz=_EASTERN).hour
            if kind != "low" and 0.10 <= (top.mid or 0.0) <= 0.90 and 9 <= hour < 18:
                depth.append(top.bid_size)
    values["liquid_high_spread"] = (_median(spreads["deep"]), len(spreads["deep"]))
    values["high_spread"] = (_median(spreads["high"]), len(spreads["high"]))
    values["low_spread"] = (_median(spreads["low"]), len(spreads["low"]))
    for key, rows in (("high_two_sided", sided["high"]), ("low_two_sided", sided["low"])):
        values[key] = (100.0 * sum(rows) / len(rows) if rows else None, len(rows))
    values["top_of_book_depth"] = (_median(depth), len(depth))
    leads = [
        (exchange.catalog.market(t).close_ms - exchange.catalog.market(t).created_ms) / HOUR_MS for t in weather_tickers
    ]
    values["listing_lead"] = (_median(leads), len(leads))
    return [Measured(f, *values.get(f.key, (None, 0))) for f in FIGURES]


def report(measured: Sequence[Measured], table: Sequence[Decile] = ()) -> list[str]:
    """The measured-vs-target table, one line per figure, then the weather deciles if given."""
    lines = [f"{'figure':<24} {'measured':>10} {'target':>9} {'±':>6}  {'n':>7}  ok   unit"]
    for m in measured:
        shown = "—" if m.value is None else f"{m.value:10.2f}"
        f = m.figure
        ok = "yes" if m.passes else "NO"
        lines.append(f"{f.key:<24} {shown:>10} {f.target:9.2f} {f.tolerance:6.2f}  {m.samples:7d}  {ok:<4} {f.unit}")
    if table:
        lines.append(
            f"{'weather decile':<16} {'contracts':>10} {'price':>7} {'win rate':>9} {'curve':>7} {'return':>8}"
        )
        lines += [
            f"[{d.low:.1f}, {d.low + 0.1:.1f}){'':<6} {d.count:10.0f} {d.mean_price:7.3f} {d.win_rate:9.4f} "
            f"{d.curve:7.4f} {100 * d.mean_return:7.1f}%"
            for d in table
        ]
    return lines


@dataclass(frozen=True, slots=True)
class CalibrationRun:
    exchange: EmbeddedExchange
    world: LivingWorld
    sampler: Sampler
    measured: list[Measured]

    def weather_deciles(self) -> list[Decile]:
        weather = {t for e in self.world.weather.events.values() for t in e.tickers}
        return deciles(p for p in self.sampler.prints if p.ticker in weather)


def run_calibration(
    seed: int,
    days: int,
    *,
    series: Sequence[str] = ALL_SERIES,
    start: date = date(2026, 4, 6),
    step_ms: int = 5 * 60_000,
    pace: Pace = Pace(),
) -> CalibrationRun:
    """Run the living world for ``days`` simulated days from 12:00 UTC on ``start`` on a stepped
    clock (``step_ms`` a housekeeping pass), sampling hourly, then until everything it listed has
    settled; measure it (module docstring)."""
    from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
    from kalshi_trader.sim.world.living_world import LivingWorld

    begin = int(datetime(start.year, start.month, start.day, 12, tzinfo=UTC).timestamp()) * 1000
    clock = SimClock(start=begin, speed=0)
    exchange = EmbeddedExchange(seed=seed, clock_ms=clock, tier=None)
    world = LivingWorld(seed, series=series, pace=pace, until=start + timedelta(days=days))
    sampler = Sampler(exchange, world)  # listening before the first trade
    world.install(exchange)
    exchange.add_periodic(world.tick, next_due=world.next_due)
    quiet = world.quiet_after_ms()
    if quiet is None:  # pragma: no cover - ``until`` is given
        raise AssertionError("a calibration run has an end")
    next_sample = begin
    while clock.now_ms() < quiet:
        clock.advance(step_ms)
        exchange.housekeeping()
        now = clock.now_ms()
        if now >= next_sample:
            sampler.sample(now)
            next_sample = now - now % sampler.interval_ms + sampler.interval_ms
    return CalibrationRun(exchange, world, sampler, measure(exchange, world, sampler))


__all__ = [
    "Bought",
    "CalibrationRun",
    "Decile",
    "Forecasts",
    "Measured",
    "Print",
    "Sampler",
    "Top",
    "deciles",
    "measure",
    "purchases",
    "report",
    "run_calibration",
]
