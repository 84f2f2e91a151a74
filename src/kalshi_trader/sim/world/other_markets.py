"""Non-weather markets of the living world: favourites that drift, upsets at honest odds.

Contract:
- ``OtherMarkets(seed, *, series=DEFAULT_OTHER_SERIES, until_ms=None)`` is a ``World``
  (``install(exchange)`` once, then ``tick(now_ms)``) and an ``Oracle`` (``probability``) for the
  markets it lists. It lists events of a few series on a fixed UTC schedule (each series: a new
  event every ``period_ms``, closing at ``close_offset_ms`` past each period boundary, open for
  ``lifetime_ms`` before its close, listed ``list_ahead_ms`` before it opens), lets the exchange's
  housekeeping open and close them, and on ``tick`` determines each event
  ``determine_delay_ms`` after its close and settles (finalizes) it ``settlement_timer_s`` later.
  Events closing after ``until_ms`` (when given) are never listed, so a run can end with every
  event settled.
- Hidden truth: every event is driven by a latent Brownian path ``X`` sampled on a fixed 60 s grid
  from its own RNG (seeded from the world seed and a stable name, never from the clock), and each
  of its markets is "YES iff X at the close is above strike k". The calibrated probability at time
  t is ``Φ((X_t − k) / √V(t))`` where ``V(t)`` is the variance still to come before the close, so
  the favourite (priced above ~85% at listing) drifts with the path and loses at the rate its
  probability implies. ``probability(ticker, now_ms, shift)`` adds ``shift`` (in standard
  deviations of what is still unknown) for traders with a biased view; after the close it is 0 or
  1.
- Series shapes: single-market favourites (a game with most of its variance in the last hours
  before the close; a vote with uniform variance) whose YES side is the favourite or the underdog
  at random, and a daily index ladder of ``greater`` strikes sharing one index path (deep
  favourites, near the money, long shots). Each series has its own tick grid and fee type.
- Deterministic: the same seed and the same sequence of ``tick`` times give the same catalog,
  books and ids; the latent paths, strikes and settlement values depend only on the seed and the
  schedule (not on how often ``tick`` runs). Settlement values are in ``settlement_values`` (event
  ticker → ``expiration_value``) and ``results`` (market ticker → ``"yes"``/``"no"``).
- Floats are used only for the latent paths and probabilities; nothing here touches money.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Literal

from kalshi_trader.domain import FeeType, MarketStatus, Price, TickGrid
from kalshi_trader.sim.core.catalog import EventInfo, MarketMeta, SeriesInfo, StrikeType
from kalshi_trader.sim.core.state import MarketState
from kalshi_trader.sim.world.scenario import date_code

if TYPE_CHECKING:
    from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange

MINUTE_MS: Final = 60_000
HOUR_MS: Final = 60 * MINUTE_MS
DAY_MS: Final = 24 * HOUR_MS
PATH_STEP_MS: Final = MINUTE_MS
"""Grid of every latent path: values change only at whole simulated minutes."""
_MARK_MS: Final = HOUR_MS
"""Path values at whole hours are remembered (listing and close times are whole hours)."""
_MARK_KEEP_MS: Final = 10 * DAY_MS
_SQRT2: Final = math.sqrt(2.0)


def normal_cdf(x: float) -> float:
    """Φ(x), the standard normal CDF."""
    return 0.5 * (1.0 + math.erf(x / _SQRT2))


def normal_ppf(p: float) -> float:
    """Φ⁻¹(p) by bisection (only used when listing, so speed does not matter)."""
    if not 0.0 < p < 1.0:
        raise ValueError("normal_ppf needs 0 < p < 1")
    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if normal_cdf(mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


class Shape(StrEnum):
    """How a series' events are built."""

    GAME = "game"
    """One market; the favourite side is YES or NO at random; most variance in the last hours."""
    VOTE = "vote"
    """One market; favourite YES or NO at random; uniform variance."""
    LADDER = "ladder"
    """``greater`` strikes on one index path shared by every event of the series."""


@dataclass(frozen=True, slots=True)
class OtherSeriesSpec:
    """One series of the other markets (times in exchange-clock milliseconds)."""

    ticker: str
    title: str
    category: str
    shape: Shape
    grid: str
    """A ``price_level_structure`` name."""
    fee_type: FeeType
    fee_multiplier: tuple[int, int]
    period_ms: int
    close_offset_ms: int
    """Closes at ``k × period_ms + close_offset_ms`` (UTC epoch based)."""
    lifetime_ms: int
    """Open → close."""
    list_ahead_ms: int = 2 * HOUR_MS
    determine_delay_ms: int = 15 * MINUTE_MS
    settlement_timer_s: int = 1_800
    favourite_range: tuple[float, float] = (0.86, 0.97)
    """Probability of the favourite at listing (single-market shapes)."""
    yes_is_favourite: float = 0.7
    """Chance that YES is the favourite (single-market shapes)."""
    final_share: float = 0.65
    """GAME: share of the variance that arrives in the last ``final_ms`` before the close."""
    final_ms: int = 3 * HOUR_MS
    ladder_targets: tuple[float, ...] = (0.97, 0.9, 0.5, 0.1, 0.03)
    """LADDER: probability of each strike at listing (rounded strikes land near these)."""
    index_start: float = 5_000.0
    index_daily_sd: float = 60.0
    strike_step: float = 5.0

    def __post_init__(self) -> None:
        for name in ("period_ms", "close_offset_ms", "lifetime_ms", "list_ahead_ms"):
            value = getattr(self, name)
            if value < 0 or value % _MARK_MS:
                raise ValueError(f"{self.ticker}: {name} must be a non-negative whole number of hours")
        if self.period_ms <= 0 or self.lifetime_ms <= 0:
            raise ValueError(f"{self.ticker}: period and lifetime must be positive")
        if self.shape is Shape.GAME and not 0 < self.final_ms < self.lifetime_ms:
            raise ValueError(f"{self.ticker}: final_ms must be inside the lifetime")


DEFAULT_OTHER_SERIES: Final = (
    OtherSeriesSpec(
        ticker="KXSIMGAME",
        title="Simulated league: who wins?",
        category="Sports",
        shape=Shape.GAME,
        grid="tapered_deci_cent",
        fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES,
        fee_multiplier=(1, 1),
        period_ms=6 * HOUR_MS,
        close_offset_ms=3 * HOUR_MS,
        lifetime_ms=24 * HOUR_MS,
    ),
    OtherSeriesSpec(
        ticker="KXSIMVOTE",
        title="Simulated council vote",
        category="Politics",
        shape=Shape.VOTE,
        grid="linear_cent",
        fee_type=FeeType.QUADRATIC,
        fee_multiplier=(1, 1),
        period_ms=2 * DAY_MS,
        close_offset_ms=17 * HOUR_MS,
        lifetime_ms=3 * DAY_MS,
        list_ahead_ms=6 * HOUR_MS,
        yes_is_favourite=0.6,
    ),
    OtherSeriesSpec(
        ticker="KXSIMIDX",
        title="Simulated index daily close",
        category="Financials",
        shape=Shape.LADDER,
        grid="deci_cent",
        fee_type=FeeType.QUADRATIC,
        fee_multiplier=(1, 2),
        period_ms=DAY_MS,
        close_offset_ms=21 * HOUR_MS,
        lifetime_ms=30 * HOUR_MS,
    ),
)
"""Three series, about 16 live markets at any time."""

_TEAMS: Final = (
    ("OWL", "Owls"),
    ("HWK", "Hawks"),
    ("FOX", "Foxes"),
    ("BEA", "Bears"),
    ("ELK", "Elks"),
    ("LYN", "Lynxes"),
    ("OTT", "Otters"),
    ("RAV", "Ravens"),
    ("WOL", "Wolves"),
    ("BIS", "Bison"),
    ("HER", "Herons"),
    ("STA", "Stags"),
)


# --------------------------------------------------------------------------------------------
# Latent paths


class Variance:
    """A piecewise-constant variance rate (per ms) over ``[start_ms, end_ms)``; zero outside."""

    __slots__ = ("_segments",)

    def __init__(self, segments: list[tuple[int, int, float]]) -> None:
        self._segments = segments

    def rate(self, t_ms: int) -> float:
        for start, end, rate in self._segments:
            if start <= t_ms < end:
                return rate
        return 0.0

    def remaining(self, t_ms: int) -> float:
        """Variance still to arrive after ``t_ms`` (grid-aligned, as the path accrues it)."""
        t_ms -= t_ms % PATH_STEP_MS
        return sum(rate * max(0, end - max(start, t_ms)) for start, end, rate in self._segments)


class LatentPath:
    """A Brownian path on the ``PATH_STEP_MS`` grid, generated lazily forward from its own RNG.

    ``value(t)`` is the value at the last grid point ≤ t; it may only be asked for times at or
    after the path's current position, except whole hours, which are remembered for 10 days."""

    __slots__ = ("_marks", "_rng", "_t", "_variance", "_x", "start_ms", "x0")

    def __init__(self, name: str, start_ms: int, x0: float, variance: Variance) -> None:
        self._rng = random.Random(name)
        self.start_ms = start_ms - start_ms % PATH_STEP_MS
        self.x0 = x0
        self._t = self.start_ms
        self._x = x0
        self._variance = variance
        self._marks: dict[int, float] = {self._t: x0}

    def value(self, t_ms: int) -> float:
        target = t_ms - t_ms % PATH_STEP_MS
        if target <= self.start_ms:
            return self.x0
        if target < self._t:
            mark = self._marks.get(target)
            if mark is None:
                raise ValueError(f"path value at {target} is no longer known (path is at {self._t})")
            return mark
        rng, variance, x, t = self._rng, self._variance, self._x, self._t
        while t < target:
            sd = math.sqrt(variance.rate(t) * PATH_STEP_MS)
            x += rng.gauss(0.0, sd) if sd > 0 else 0.0
            t += PATH_STEP_MS
            if t % _MARK_MS == 0:
                self._marks[t] = x
        self._x, self._t = x, t
        if len(self._marks) > _MARK_KEEP_MS // _MARK_MS + 24:
            cutoff = t - _MARK_KEEP_MS
            self._marks = {k: v for k, v in self._marks.items() if k >= cutoff}
        return x


# --------------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True, slots=True)
class _Describe:
    """An event's ``expiration_value`` from its path's value at the close: the level itself, or
    the name of the side that won (``yes`` if the value is above zero, else ``no``)."""

    kind: Literal["level", "names"]
    yes: str = ""
    no: str = ""

    def __call__(self, x: float) -> str:
        if self.kind == "level":
            return f"{x:.2f}"
        return self.yes if x > 0 else self.no


@dataclass(slots=True)
class OtherEvent:
    """One listed event and what decides it."""

    event_ticker: str
    series: OtherSeriesSpec
    tickers: list[str]
    strikes: list[float]
    """Market i resolves YES iff the path's value at the close is above ``strikes[i]``."""
    path: LatentPath
    variance: Variance
    open_ms: int
    close_ms: int
    describe: _Describe
    determined_ms: int | None = None
    settled: bool = False

    def probability(self, index: int, now_ms: int, shift: float = 0.0) -> float:
        if now_ms >= self.close_ms:
            return 1.0 if self.path.value(self.close_ms) > self.strikes[index] else 0.0
        x = self.path.value(now_ms)
        remaining = self.variance.remaining(now_ms)
        if remaining <= 0.0:
            return 1.0 if x > self.strikes[index] else 0.0
        return normal_cdf((x - self.strikes[index]) / math.sqrt(remaining) + shift)


@dataclass(slots=True)
class _SeriesState:
    spec: SeriesInfo
    next_close_ms: int
    path: LatentPath | None = None
    """LADDER: the index path shared by the series' events."""


@dataclass(slots=True)
class OtherMarkets:
    """The non-weather part of the living world (see the module docstring)."""

    seed: int
    series: tuple[OtherSeriesSpec, ...] = DEFAULT_OTHER_SERIES
    until_ms: int | None = None
    events: dict[str, OtherEvent] = field(default_factory=dict)
    """Every event ever listed, in listing order (event ticker → event)."""
    settlement_values: dict[str, str] = field(default_factory=dict)
    results: dict[str, Literal["yes", "no"]] = field(default_factory=dict)
    _market_event: dict[str, tuple[OtherEvent, int]] = field(default_factory=dict)
    _pending: list[OtherEvent] = field(default_factory=list)
    """Events listed and not yet settled, in close order per series."""
    _state: dict[str, _SeriesState] = field(default_factory=dict)
    _ids: random.Random = field(init=False)
    _exchange: EmbeddedExchange | None = None

    def __post_init__(self) -> None:
        self._ids = random.Random(f"{self.seed}:other-markets:ids")
        names = [spec.ticker for spec in self.series]
        if len(set(names)) != len(names):
            raise ValueError("series tickers must be unique")

    # -- World ---------------------------------------------------------------------------------

    def install(self, exchange: EmbeddedExchange) -> None:
        """List the series and every event that is live (or about to be listed) now."""
        if self._exchange is not None:
            raise RuntimeError("other markets are already installed")
        self._exchange = exchange
        now = exchange.clock_ms()
        for spec in self.series:
            info = SeriesInfo(
                ticker=spec.ticker,
                title=spec.title,
                category=spec.category,
                frequency="daily" if spec.period_ms <= DAY_MS else "custom",
                fee_type=spec.fee_type,
                fee_multiplier=spec.fee_multiplier,
                tags=(spec.category, "Simulated"),
                contract_url=f"https://kalshi.com/markets/{spec.ticker.lower()}",
                contract_terms_url="https://kalshi.com/regulatory/rulebook",
                updated_ms=now - 30 * DAY_MS,
            )
            exchange.catalog.add_series(info)
            # The first event listed is the earliest one still open now.
            first = now - (now - spec.close_offset_ms) % spec.period_ms + spec.period_ms
            state = _SeriesState(info, first)
            if spec.shape is Shape.LADDER:
                daily_rate = spec.index_daily_sd**2 / DAY_MS
                start = first - spec.lifetime_ms - spec.list_ahead_ms
                state.path = LatentPath(
                    f"{self.seed}:{spec.ticker}:index",
                    start,
                    spec.index_start + random.Random(f"{self.seed}:{spec.ticker}:start").uniform(-200, 200),
                    Variance([(start, 2**62, daily_rate)]),
                )
            self._state[spec.ticker] = state
        self._list_due(now)

    def tick(self, now_ms: int) -> None:
        """List events that are due, determine closed ones, settle determined ones."""
        self._list_due(now_ms)
        self._settle_due(now_ms)

    def next_due(self, now_ms: int) -> int | None:
        """The earliest time after ``now_ms`` at which ``tick`` has scheduled work: a listing, a
        determination or a settlement (``None`` if nothing is scheduled)."""
        if self._exchange is None:
            return None
        times: list[int] = []
        for spec in self.series:
            close = self._state[spec.ticker].next_close_ms
            if self.until_ms is None or close <= self.until_ms:
                times.append(close - spec.lifetime_ms - spec.list_ahead_ms)
        for event in self._pending:
            determine = event.close_ms + event.series.determine_delay_ms
            times.append(
                determine if event.determined_ms is None else determine + event.series.settlement_timer_s * 1000
            )
        later = [t for t in times if t > now_ms]
        return min(later) if later else None

    # -- Oracle --------------------------------------------------------------------------------

    def probability(self, ticker: str, now_ms: int, shift: float = 0.0) -> float | None:
        """The calibrated P(YES) of one of these markets at ``now_ms`` (``None`` if not ours)."""
        found = self._market_event.get(ticker)
        if found is None:
            return None
        event, index = found
        return event.probability(index, now_ms, shift)

    def event_of(self, ticker: str) -> OtherEvent | None:
        found = self._market_event.get(ticker)
        return None if found is None else found[0]

    @property
    def live_events(self) -> list[OtherEvent]:
        """Listed and not yet settled."""
        return list(self._pending)

    # -- listing -------------------------------------------------------------------------------

    def _require(self) -> EmbeddedExchange:
        if self._exchange is None:
            raise RuntimeError("other markets are not installed")
        return self._exchange

    def _list_due(self, now_ms: int) -> None:
        for spec in self.series:
            state = self._state[spec.ticker]
            while True:
                close = state.next_close_ms
                list_ms = close - spec.lifetime_ms - spec.list_ahead_ms
                if list_ms > now_ms or (self.until_ms is not None and close > self.until_ms):
                    break
                self._list_event(spec, state, close, now_ms)
                state.next_close_ms = close + spec.period_ms

    def _list_event(self, spec: OtherSeriesSpec, state: _SeriesState, close_ms: int, now_ms: int) -> None:
        exchange = self._require()
        open_ms = close_ms - spec.lifetime_ms
        list_ms = open_ms - spec.list_ahead_ms
        when = datetime.fromtimestamp(close_ms // 1000, tz=UTC)
        code = date_code(when.date())
        rng = random.Random(f"{self.seed}:{spec.ticker}:{close_ms}")
        markets: list[tuple[str, StrikeType, float, float | None, str, str]] = []
        """(suffix, strike type, latent strike, floor_strike, yes_sub_title, rule)"""
        if spec.shape is Shape.LADDER:
            assert state.path is not None
            path = state.path
            since = max(list_ms, path.start_ms)
            variance = Variance([(path.start_ms, close_ms, spec.index_daily_sd**2 / DAY_MS)])
            level = path.value(since)
            sd = math.sqrt(variance.remaining(since))
            event_ticker = f"{spec.ticker}-{code}"
            title = f"{spec.title} on {when:%b} {when.day}, {when.year}"
            seen: set[float] = set()
            for target in spec.ladder_targets:
                strike = round((level - sd * normal_ppf(target)) / spec.strike_step) * spec.strike_step
                while strike in seen:
                    strike += spec.strike_step
                seen.add(strike)
                label = f"{strike:,.0f} or above"
                markets.append(
                    (f"T{strike:.0f}", "greater", strike, strike, label, f"the index closes above {strike:,.2f}")
                )
            markets.sort(key=lambda m: m[2])
            describe = _Describe("level")
        else:
            favourite = rng.uniform(*spec.favourite_range)
            yes_fav = rng.random() < spec.yes_is_favourite
            p_yes = favourite if yes_fav else 1.0 - favourite
            if spec.shape is Shape.GAME:
                first, second = rng.sample(range(len(_TEAMS)), 2)
                (yes_code, yes_name), (other_code, other_name) = _TEAMS[first], _TEAMS[second]
                event_ticker = f"{spec.ticker}-{code}{when.hour:02d}{yes_code}{other_code}"
                title = f"{yes_name} vs {other_name} ({when:%b} {when.day}, {when:%H}:00 UTC)"
                early = spec.lifetime_ms - spec.final_ms
                variance = Variance(
                    [
                        (open_ms, close_ms - spec.final_ms, (1.0 - spec.final_share) / early),
                        (close_ms - spec.final_ms, close_ms, spec.final_share / spec.final_ms),
                    ]
                )
                markets.append((yes_code, "custom", 0.0, None, yes_name, f"the {yes_name} win"))
                describe = _Describe("names", yes_name, other_name)
            else:
                event_ticker = f"{spec.ticker}-{code}"
                title = f"{spec.title} on {when:%b} {when.day}, {when.year}"
                variance = Variance([(open_ms, close_ms, 1.0 / spec.lifetime_ms)])
                markets.append(("PASS", "custom", 0.0, None, "Passes", "the measure passes"))
                describe = _Describe("names", "Passed", "Failed")
            # Total variance over the lifetime is 1, so at the open P(YES) = Φ(x0) = p_yes.
            path = LatentPath(f"{self.seed}:{event_ticker}:path", open_ms, normal_ppf(p_yes), variance)

        exchange.catalog.add_event(
            EventInfo(
                event_ticker=event_ticker,
                series_ticker=spec.ticker,
                title=title,
                sub_title=f"Closes {when:%b} {when.day}, {when:%H:%M} UTC",
                mutually_exclusive=False,
                strike_date_ms=close_ms,
                updated_ms=list_ms,
            )
        )
        event = OtherEvent(event_ticker, spec, [], [], path, variance, open_ms, close_ms, describe)
        for suffix, strike_type, latent, floor, label, rule in markets:
            ticker = f"{event_ticker}-{suffix}"
            status = MarketStatus.ACTIVE
            if now_ms < open_ms:
                status = MarketStatus.INITIALIZED
            elif now_ms >= close_ms:
                status = MarketStatus.CLOSED
            exchange.catalog.add_market(
                MarketMeta(
                    ticker=ticker,
                    event_ticker=event_ticker,
                    market_id=str(uuid.UUID(int=self._ids.getrandbits(128), version=4)),
                    title=f"{title}: {label}",
                    yes_sub_title=label,
                    no_sub_title=label,
                    open_ms=open_ms,
                    close_ms=close_ms,
                    expected_expiration_ms=close_ms + spec.determine_delay_ms + spec.settlement_timer_s * 1000,
                    latest_expiration_ms=close_ms + 7 * DAY_MS,
                    created_ms=list_ms,
                    strike_type=strike_type,
                    floor_strike=floor,
                    rules_primary=f"If {rule} ({title}), then the market resolves to Yes.",
                    rules_secondary="Simulated market of the embedded exchange's living world.",
                    settlement_timer_seconds=spec.settlement_timer_s,
                    updated_ms=list_ms,
                )
            )
            exchange.engine.add_market(
                MarketState(
                    ticker=ticker,
                    event_ticker=event_ticker,
                    grid=TickGrid.named(spec.grid),
                    fee_type=spec.fee_type,
                    fee_multiplier=spec.fee_multiplier,
                    status=status,
                    # Index ladders are in events without collateral-return netting: floor markets.
                    settlement_floor=Price(0) if spec.shape is Shape.LADDER else None,
                )
            )
            event.tickers.append(ticker)
            event.strikes.append(latent)
            self._market_event[ticker] = (event, len(event.tickers) - 1)
        self.events[event_ticker] = event
        self._pending.append(event)

    # -- settlement ----------------------------------------------------------------------------

    def _settle_due(self, now_ms: int) -> None:
        exchange = self._require()
        engine, catalog = exchange.engine, exchange.catalog
        still: list[OtherEvent] = []
        for event in self._pending:
            spec = event.series
            if event.determined_ms is None and now_ms >= event.close_ms + spec.determine_delay_ms:
                final = event.path.value(event.close_ms)
                value = event.describe(final)
                self.settlement_values[event.event_ticker] = value
                for ticker, strike in zip(event.tickers, event.strikes, strict=True):
                    result: Literal["yes", "no"] = "yes" if final > strike else "no"
                    catalog.market(ticker).expiration_value = value
                    engine.determine(ticker, result)
                    self.results[ticker] = result
                event.determined_ms = now_ms
            if event.determined_ms is not None and now_ms >= (
                event.close_ms + spec.determine_delay_ms + spec.settlement_timer_s * 1000
            ):
                for ticker in event.tickers:
                    engine.settle(ticker)
                event.settled = True
                continue
            still.append(event)
        self._pending = still


__all__ = [
    "DAY_MS",
    "DEFAULT_OTHER_SERIES",
    "HOUR_MS",
    "MINUTE_MS",
    "PATH_STEP_MS",
    "LatentPath",
    "OtherEvent",
    "OtherMarkets",
    "OtherSeriesSpec",
    "Shape",
    "Variance",
    "normal_cdf",
    "normal_ppf",
]
