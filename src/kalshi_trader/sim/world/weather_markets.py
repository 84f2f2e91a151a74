"""The weather world of the embedded exchange: Kalshi's daily temperature markets — highs and lows —
over a simulated climate (``sim/world/climate.py``).

Contract:
- ``WeatherWorld(exchange, *, seed, series=DEFAULT_SERIES, start=None, until=None, spread=...,
  obs_lag_ms=...)``; ``install()`` lists the given series (``sim/world/cities.py``: seven daily highs
  and three daily lows by default, ``ALL_SERIES`` for the 40 Kalshi lists) and every event live
  at that moment;
  ``tick(now_ms)`` lists upcoming events and determines / settles due ones; ``next_due_ms(now_ms)``
  tells the exchange's housekeeping when the next of those is scheduled (so under a fast
  ``SimClock`` each happens at its exact time). ``build_weather_world`` does all three.
  ``install(exchange)`` also satisfies the ``World`` protocol of ``sim/world/scenario.py``.
- One event per series and climate day (midnight–midnight local standard time), ticker
  ``SERIES-YYMONDD``, settling on the day's maximum (``KXHIGH…``) or minimum (``KXLOWT…``), six
  markets as Kalshi builds them: a ``less`` tail ``-T{a}`` (YES iff
  T < a), four 2 °F ``between`` bands ``-B{f+0.5}`` (YES iff f ≤ T ≤ f+1) for f = a, a+2, a+4,
  a+6, and a ``greater`` tail ``-T{a+7}`` (YES iff T > a+7) — they partition the integers.
  The bands are centred on the public forecast when the event is listed (parity varies by day).
  Linear-cent grid, quadratic fees (no maker fee), rules text naming the station, highest or
  lowest temperature, and the NWS Daily Climate Report; the series' settlement source links the
  station's CLI product.
- Schedule (exchange clock): listed and opened ``calibration.LISTING_LEAD_MS`` (42 h) before it
  closes, at 23:59 LST of the day (the end of the climate day); determined from the final CLI's
  maximum or minimum at 10:00 ET the next morning (never before the CLI is issued, which
  ``expected_expiration_time`` announces); settled ``settlement_timer_seconds`` later (3600 s
  NYC/CHI, 1800 s elsewhere).
  ``latest_expiration_time`` is the close + 7 days. A tick that spans several of these runs them
  all, in order.
- ``start`` (a date) lists climate days from that date on (those already over are determined and
  settled on install); default: the days not yet settled at install time. ``until`` (a date)
  stops listing after that day, so a run can end with everything settled.
- Reads for the NWS endpoints and traders (by any series ticker of a city): ``truth`` (of the
  series' extreme), ``forecast`` / ``forecast_high`` / ``forecast_for_lead`` (public),
  ``observations`` (published ``obs_lag_ms`` after they are taken, never in the future),
  ``cli_reports`` (issued by now), and the ``probability(ticker, now_ms, shift)`` oracle: the
  calibrated P(YES) of an informed observer (the market's sharper forecast with its σ, the
  observed maximum so far as a floor — the minimum as a ceiling for a low; 0/1 once the day's
  observations are complete). ``series_of(ticker)`` names a market's series.
- Deterministic: the same seed gives the same truths, forecasts, brackets, market ids and
  settlement values whatever the tick times (``settlement_values``, ``results``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Final, Literal

from kalshi_trader.domain import FeeType, MarketStatus, TickGrid
from kalshi_trader.sim.core.catalog import EventInfo, MarketMeta, SeriesInfo, SettlementSource, StrikeType
from kalshi_trader.sim.core.state import MarketState
from kalshi_trader.sim.world.calibration_targets import LISTING_LEAD_MS
from kalshi_trader.sim.world.cities import DEFAULT_SERIES, SERIES, City, Extreme, TemperatureSeries
from kalshi_trader.sim.world.climate import (
    DAY_MS,
    DEFAULT_SPREAD,
    HOUR_MS,
    MINUTE_MS,
    CliReport,
    Observation,
    WeatherModel,
    climate_date,
    day_start_ms,
    local_ms,
    normal_cdf,
    round_half_up,
)
from kalshi_trader.sim.world.scenario import date_code

if TYPE_CHECKING:
    from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange

EASTERN: Final = "America/New_York"
BAND_COUNT: Final = 4
DEFAULT_OBS_LAG_MS: Final = 5 * MINUTE_MS
_DONE: Final = (MarketStatus.DETERMINED, MarketStatus.AMENDED, MarketStatus.FINALIZED)
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WORDS: Final[dict[Extreme, tuple[str, str, str]]] = {
    "high": ("Highest", "highest", "high"),
    "low": ("Lowest", "lowest", "low"),
}
"""(title word, rules word, market-title word) per extreme."""


@dataclass(frozen=True, slots=True)
class Bracket:
    """One market of an event: its ticker suffix and strike fields."""

    suffix: str
    strike_type: StrikeType
    floor: int | None
    cap: int | None

    def wins(self, value: int) -> bool:
        """Kalshi's strike rule for the integer settlement value."""
        if self.strike_type == "less":
            return self.cap is not None and value < self.cap
        if self.strike_type == "greater":
            return self.floor is not None and value > self.floor
        return self.floor is not None and self.cap is not None and self.floor <= value <= self.cap

    def bounds(self) -> tuple[int | None, int | None]:
        """Lowest and highest integer that resolve YES (None = unbounded)."""
        if self.strike_type == "less":
            return None, None if self.cap is None else self.cap - 1
        if self.strike_type == "greater":
            return None if self.floor is None else self.floor + 1, None
        return self.floor, self.cap


def brackets_for(low: int) -> list[Bracket]:
    """The six markets whose bands start at ``low``: T{low} less, B{low+.5} … B{low+6.5}, T{low+7}."""
    out = [Bracket(f"T{low}", "less", None, low)]
    for k in range(BAND_COUNT):
        f = low + 2 * k
        out.append(Bracket(f"B{(2 * f + 1) / 2:.1f}", "between", f, f + 1))
    top = low + 2 * BAND_COUNT - 1
    out.append(Bracket(f"T{top}", "greater", top, None))
    return out


@dataclass(slots=True)
class WeatherEvent:
    """One listed series-day and its schedule (exchange-clock ms)."""

    series: TemperatureSeries
    day: date
    event_ticker: str
    brackets: list[Bracket]
    tickers: list[str]
    list_ms: int
    open_ms: int
    close_ms: int
    determine_ms: int
    settle_ms: int
    value: int | None = None
    determined: bool = False
    settled: bool = False

    @property
    def city(self) -> City:
        return self.series.city

    @property
    def extreme(self) -> Extreme:
        return self.series.extreme


def _long_date(day: date) -> str:
    return f"{_MONTH_NAMES[day.month - 1]} {day.day}, {day.year}"


def _short_date(day: date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def _series_list(series: Iterable[str | TemperatureSeries]) -> tuple[TemperatureSeries, ...]:
    chosen = tuple(SERIES[s] if isinstance(s, str) else s for s in series)
    if not chosen or len({s.ticker for s in chosen}) != len(chosen):
        raise ValueError("series must be a non-empty list of distinct temperature series")
    return chosen


@dataclass(slots=True)
class WeatherWorld:
    """Temperature markets over a simulated climate (see the module docstring)."""

    exchange: EmbeddedExchange
    _: KW_ONLY
    seed: int
    series: Sequence[str | TemperatureSeries] = DEFAULT_SERIES
    start: date | None = None
    until: date | None = None
    spread: Sequence[tuple[float, float]] = DEFAULT_SPREAD
    obs_lag_ms: int = DEFAULT_OBS_LAG_MS
    model: WeatherModel = field(init=False)
    listed: tuple[TemperatureSeries, ...] = field(init=False)
    """The series this world lists, in listing order."""
    events: dict[str, WeatherEvent] = field(default_factory=dict, init=False)
    """Every event listed, in listing order."""
    settlement_values: dict[str, str] = field(default_factory=dict, init=False)
    """Event ticker → the settled temperature (``expiration_value``)."""
    results: dict[str, Literal["yes", "no"]] = field(default_factory=dict, init=False)
    _market_event: dict[str, tuple[WeatherEvent, int]] = field(default_factory=dict, init=False)
    _pending: list[WeatherEvent] = field(default_factory=list, init=False)
    _next_day: dict[str, date] = field(default_factory=dict, init=False)
    _installed: bool = field(default=False, init=False)
    _views: dict[tuple[str, int, bool], tuple[float, float, int | None]] = field(default_factory=dict, init=False)
    _views_at: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.listed = _series_list(self.series)
        self.model = WeatherModel(self.seed, [s.city for s in self.listed], self.spread)

    # -- World ---------------------------------------------------------------------------------

    def install(self, exchange: EmbeddedExchange | None = None) -> None:
        """List the series and the events live now (see the module docstring)."""
        if exchange is not None and exchange is not self.exchange:
            raise ValueError("install() got a different exchange than the world was built for")
        if self._installed:
            raise RuntimeError("the weather world is already installed")
        self._installed = True
        now = self.exchange.clock_ms()
        for series in self.listed:
            self.exchange.catalog.add_series(self._series_info(series, now))
            city = series.city
            day = self.start if self.start is not None else climate_date(city, now) - timedelta(days=3)
            while self._listable(day) and self._list_ms(city, day) <= now:
                if self.start is not None or self._settle_ms(city, day) > now:
                    self._list(series, day, now)
                day += timedelta(days=1)
            self._next_day[series.ticker] = day
        self.tick(now)

    def tick(self, now_ms: int) -> None:
        """List due events, then determine and settle due ones, in time order per event."""
        if not self._installed:
            raise RuntimeError("the weather world is not installed")
        for series in self.listed:
            day = self._next_day[series.ticker]
            while self._listable(day) and self._list_ms(series.city, day) <= now_ms:
                self._list(series, day, now_ms)
                day += timedelta(days=1)
            self._next_day[series.ticker] = day
        for event in list(self._pending):
            if not event.determined and now_ms >= event.determine_ms:
                self._determine(event)
            if event.determined and not event.settled and now_ms >= event.settle_ms:
                self._settle(event)
                self._pending.remove(event)

    def next_due_ms(self, now_ms: int) -> int | None:
        """The earliest listing, determination or settlement scheduled after ``now_ms``."""
        times = []
        for series in self.listed:
            day = self._next_day[series.ticker]
            if self._listable(day) and self._list_ms(series.city, day) > now_ms:
                times.append(self._list_ms(series.city, day))
        for event in self._pending:
            due = event.settle_ms if event.determined else event.determine_ms
            if due > now_ms:
                times.append(due)
        return min(times, default=None)

    # -- reads ---------------------------------------------------------------------------------

    def now_ms(self) -> int:
        return self.exchange.clock_ms()

    def city(self, series: str) -> City:
        """The city of a series (either of its tickers)."""
        return SERIES[series].city

    def series_of(self, ticker: str) -> TemperatureSeries | None:
        """The series of one of this world's markets (None if the ticker is not ours)."""
        found = self._market_event.get(ticker)
        return None if found is None else found[0].series

    def event_for(self, series: str, day: date) -> WeatherEvent | None:
        return self.events.get(f"{series}-{date_code(day)}")

    def event_of(self, ticker: str) -> WeatherEvent | None:
        found = self._market_event.get(ticker)
        return None if found is None else found[0]

    @property
    def live_events(self) -> list[WeatherEvent]:
        """Listed and not yet settled, in listing order."""
        return list(self._pending)

    def truth(self, series: str, day: date) -> int:
        """The hidden value ``series`` settles on for ``day`` (°F): its maximum or minimum."""
        spec = SERIES[series]
        return self.model.truth_of(spec.city, day, spec.extreme)

    def forecast(self, series: str, day: date, at_ms: int | None = None) -> float:
        """The public forecast (°F, continuous) of what ``series`` settles on, in force at ``at_ms``."""
        spec = SERIES[series]
        return self.model.forecast(spec.city, day, self.now_ms() if at_ms is None else at_ms, spec.extreme)

    def forecast_high(self, series: str, day: date, at_ms: int | None = None) -> float:
        """The public forecast high (°F, continuous) of the series' city in force at ``at_ms``."""
        return self.model.forecast_high(self.city(series), day, self.now_ms() if at_ms is None else at_ms)

    def forecast_for_lead(self, series: str, day: date, lead_hours: int) -> float:
        """The public forecast issued ``lead_hours`` before the reference time of the series' extreme."""
        spec = SERIES[series]
        return self.model.forecast_for_lead(spec.city, day, lead_hours, spec.extreme)

    def forecast_sigma(self, series: str, day: date, at_ms: int | None = None) -> float:
        spec = SERIES[series]
        lead = self.model.lead_hours(spec.city, day, self.now_ms() if at_ms is None else at_ms, spec.extreme)
        return self.model.sigma(lead)

    def published_until(self, now_ms: int | None = None) -> int:
        """Observations taken at or before this time are published."""
        return (self.now_ms() if now_ms is None else now_ms) - self.obs_lag_ms

    def observations(self, series: str, start_ms: int, end_ms: int, now_ms: int | None = None) -> list[Observation]:
        """Published observations with ``start_ms <= ts <= end_ms``, oldest first."""
        until = min(end_ms, self.published_until(now_ms))
        return self.model.observations_between(self.city(series), start_ms, until)

    def latest_observation(self, series: str, now_ms: int | None = None) -> Observation:
        until = self.published_until(now_ms)
        return self.model.observations_between(self.city(series), until - 2 * HOUR_MS, until)[-1]

    def cli_reports(self, series: str, now_ms: int | None = None, days: int = 14) -> list[CliReport]:
        """CLI products issued by now for the last ``days`` days, newest first."""
        return self.model.cli_reports_issued(self.city(series), self.now_ms() if now_ms is None else now_ms, days)

    # -- oracle --------------------------------------------------------------------------------

    def probability(self, ticker: str, now_ms: int, shift: float = 0.0) -> float | None:
        """Calibrated P(YES) of one of these markets at ``now_ms`` for an informed observer: the
        market's forecast with its σ, the extreme observed so far a floor (a high) or a ceiling (a
        low). ``shift``: bias in σ units of the forecast; ``None`` if the ticker is not ours."""
        return self._probability(ticker, now_ms, shift, informed=True)

    def public_probability(self, ticker: str, now_ms: int) -> float | None:
        """The same from public information only (the NWS forecast with its σ and the published
        observations): the calibrated naive forecast an informed market can beat."""
        return self._probability(ticker, now_ms, 0.0, informed=False)

    def _probability(self, ticker: str, now_ms: int, shift: float, *, informed: bool) -> float | None:
        found = self._market_event.get(ticker)
        if found is None:
            return None
        event, index = found
        bracket = event.brackets[index]
        city, day, extreme = event.city, event.day, event.extreme
        published = self.published_until(now_ms)
        if published >= day_start_ms(city, day) + DAY_MS or event.value is not None:
            value = event.value if event.value is not None else self.model.truth_of(city, day, extreme)
            return 1.0 if bracket.wins(value) else 0.0
        mean, sigma, seen = self._view(event, now_ms, published, informed)
        mean += shift * sigma
        lo, hi = bracket.bounds()
        if extreme == "low":  # mirror: P(low ≤ T ≤ high) of T is P(−high ≤ −T ≤ −low) of −T
            mean = -mean
            seen = None if seen is None else -seen
            lo, hi = (None if hi is None else -hi), (None if lo is None else -lo)
        return _floored(mean, sigma, seen, lo, hi)

    def _view(
        self, event: WeatherEvent, now_ms: int, published: int, informed: bool
    ) -> tuple[float, float, int | None]:
        """(forecast, σ, extreme observed so far) of an event's day at ``now_ms`` — the same for
        all its markets and every trader, so kept for the rest of that instant."""
        key = (event.event_ticker, now_ms, informed)
        found = self._views.get(key)
        if found is not None:
            return found
        if self._views_at != now_ms:
            self._views.clear()
            self._views_at = now_ms
        model, city, day, extreme = self.model, event.city, event.day, event.extreme
        lead = model.lead_hours(city, day, now_ms, extreme)
        if informed:
            mean, sigma = model.market_forecast(city, day, now_ms, extreme), model.market_sigma(lead)
        else:
            mean, sigma = model.forecast(city, day, now_ms, extreme), model.sigma(lead)
        found = self._views[key] = (mean, sigma, model.observed(city, day, published, extreme))
        return found

    # -- schedule ------------------------------------------------------------------------------

    def _listable(self, day: date) -> bool:
        return self.until is None or day <= self.until

    @staticmethod
    def _close_ms(city: City, day: date) -> int:
        return day_start_ms(city, day) + DAY_MS - MINUTE_MS

    def _list_ms(self, city: City, day: date) -> int:
        """Listed and opened ``LISTING_LEAD_MS`` before the close."""
        return self._close_ms(city, day) - LISTING_LEAD_MS

    def _determine_ms(self, city: City, day: date) -> int:
        cli = self.model.cli_issue_ms(city, day, "final")
        return max(local_ms(EASTERN, day + timedelta(days=1), 10), cli + 15 * MINUTE_MS)

    def _settle_ms(self, city: City, day: date) -> int:
        return self._determine_ms(city, day) + city.settlement_timer_s * 1000

    # -- listing -------------------------------------------------------------------------------

    def _series_info(self, series: TemperatureSeries, now_ms: int) -> SeriesInfo:
        city = series.city
        title, _, _ = _WORDS[series.extreme]
        return SeriesInfo(
            ticker=series.ticker,
            title=f"{title} temperature in {city.label}",
            category="Climate and Weather",
            frequency="daily",
            fee_type=FeeType.QUADRATIC,
            tags=("Weather", "Daily temperature"),
            settlement_sources=(
                SettlementSource(
                    "NWS Climatological Report",
                    f"https://forecast.weather.gov/product.php?site={city.wfo}&product=CLI&issuedby={city.cli_location}",
                ),
            ),
            contract_url=f"https://kalshi.com/markets/{series.ticker.lower()}",
            contract_terms_url="https://kalshi-public-docs.s3.amazonaws.com/contract_terms/"
            + ("NHIGH.pdf" if series.extreme == "high" else "NLOW.pdf"),
            updated_ms=now_ms - 30 * DAY_MS,
        )

    def _list(self, series: TemperatureSeries, day: date, now_ms: int) -> None:
        exchange, city, extreme = self.exchange, series.city, series.extreme
        title_word, rules_word, market_word = _WORDS[extreme]
        event_ticker = f"{series.ticker}-{date_code(day)}"
        close_ms = self._close_ms(city, day)
        list_ms = open_ms = self._list_ms(city, day)
        determine_ms = self._determine_ms(city, day)
        centre = round_half_up(self.model.forecast(city, day, list_ms, extreme))
        low = centre - 3 - self.model.rng(city, day, "parity" if extreme == "high" else "parity-low").randint(0, 1)
        brackets = brackets_for(low)
        event = WeatherEvent(
            series=series,
            day=day,
            event_ticker=event_ticker,
            brackets=brackets,
            tickers=[f"{event_ticker}-{b.suffix}" for b in brackets],
            list_ms=list_ms,
            open_ms=open_ms,
            close_ms=close_ms,
            determine_ms=determine_ms,
            settle_ms=determine_ms + city.settlement_timer_s * 1000,
        )
        exchange.catalog.add_event(
            EventInfo(
                event_ticker=event_ticker,
                series_ticker=series.ticker,
                title=f"{title_word} temperature in {city.label} on {_short_date(day)}",
                sub_title=f"On {_short_date(day)}",
                mutually_exclusive=True,
                collateral_return_type="MECNET",
                strike_date_ms=close_ms,
                updated_ms=list_ms,
            )
        )
        status = MarketStatus.INITIALIZED
        if now_ms >= close_ms:
            status = MarketStatus.CLOSED
        elif now_ms >= open_ms:
            status = MarketStatus.ACTIVE
        for index, (bracket, ticker) in enumerate(zip(brackets, event.tickers, strict=True)):
            label, phrase, rule = self._texts(bracket)
            exchange.catalog.add_market(
                MarketMeta(
                    ticker=ticker,
                    event_ticker=event_ticker,
                    market_id=self.model.stable_uuid(f"market:{ticker}"),
                    title=f"Will the {market_word} temp in {city.label} be {phrase} on {_short_date(day)}?",
                    yes_sub_title=label,
                    no_sub_title=label,
                    open_ms=open_ms,
                    close_ms=close_ms,
                    expected_expiration_ms=determine_ms,
                    latest_expiration_ms=close_ms + 7 * DAY_MS,
                    created_ms=list_ms,
                    updated_ms=list_ms,
                    strike_type=bracket.strike_type,
                    floor_strike=None if bracket.floor is None else float(bracket.floor),
                    cap_strike=None if bracket.cap is None else float(bracket.cap),
                    rules_primary=f"If the {rules_word} temperature recorded {city.rules_place} for "
                    f"{_long_date(day)} as reported by the National Weather Service's Climatological Report "
                    f"(Daily), is {rule}, then the market resolves to Yes.",
                    rules_secondary="Settlement uses the final NWS Daily Climate Report for the station. "
                    "Preliminary reports and real-time observations can differ from it through rounding "
                    "and unit conversion; they are not used to settle the market.",
                    can_close_early=True,
                    settlement_timer_seconds=city.settlement_timer_s,
                )
            )
            exchange.engine.add_market(
                MarketState(
                    ticker=ticker,
                    event_ticker=event_ticker,
                    grid=TickGrid.named("linear_cent"),
                    fee_type=FeeType.QUADRATIC,
                    fee_multiplier=(1, 1),
                    status=status,
                )
            )
            self._market_event[ticker] = (event, index)
        self.events[event_ticker] = event
        self._pending.append(event)

    @staticmethod
    def _texts(bracket: Bracket) -> tuple[str, str, str]:
        """(yes_sub_title, title phrase, rules phrase) for a bracket."""
        if bracket.strike_type == "less" and bracket.cap is not None:
            return f"{bracket.cap - 1}° or below", f"<{bracket.cap}°", f"less than {bracket.cap}°"
        if bracket.strike_type == "greater" and bracket.floor is not None:
            return f"{bracket.floor + 1}° or above", f">{bracket.floor}°", f"greater than {bracket.floor}°"
        return (
            f"{bracket.floor}° to {bracket.cap}°",
            f"{bracket.floor}-{bracket.cap}°",
            f"between {bracket.floor}-{bracket.cap}°",
        )

    # -- determination and settlement ---------------------------------------------------------

    def _determine(self, event: WeatherEvent) -> None:
        report = self.model.cli_report(event.city, event.day, "final")
        value = report.max_f if event.extreme == "high" else report.min_f
        event.value = value
        self.settlement_values[event.event_ticker] = str(value)
        catalog, engine = self.exchange.catalog, self.exchange.engine
        for bracket, ticker in zip(event.brackets, event.tickers, strict=True):
            result: Literal["yes", "no"] = "yes" if bracket.wins(value) else "no"
            self.results[ticker] = result
            if engine.market(ticker).status in _DONE:
                continue  # determined by someone else (an operator); leave it alone
            catalog.market(ticker).expiration_value = str(value)
            engine.determine(ticker, result)
        event.determined = True

    def _settle(self, event: WeatherEvent) -> None:
        engine = self.exchange.engine
        for ticker in event.tickers:
            if engine.market(ticker).status in (MarketStatus.DETERMINED, MarketStatus.AMENDED):
                engine.settle(ticker)
        event.settled = True


def _floored(mean: float, sigma: float, floor: int | None, lo: int | None, hi: int | None) -> float:
    """P(lo ≤ T ≤ hi) for T = round(Y), Y ~ N(mean, σ) conditioned on T ≥ ``floor`` (what has been
    observed already), ``None`` bounds unbounded."""

    def cdf(x: float) -> float:
        return normal_cdf((x - mean) / sigma)

    if floor is not None:
        lo = floor if lo is None else max(lo, floor)
        if hi is not None and hi < lo:
            return 0.0
    mass = 1.0 - cdf(floor - 0.5) if floor is not None else 1.0
    if mass < 1e-12:  # the forecast is far below what was observed: the floor is the answer
        inside = floor is not None and (lo is None or floor >= lo) and (hi is None or floor <= hi)
        return 1.0 if inside else 0.0
    upper = 1.0 if hi is None else cdf(hi + 0.5)
    lower = 0.0 if lo is None else cdf(lo - 0.5)
    return max(0.0, min(1.0, (upper - lower) / mass))


def build_weather_world(
    exchange: EmbeddedExchange,
    *,
    seed: int,
    series: Iterable[str | TemperatureSeries] = DEFAULT_SERIES,
    start: date | None = None,
    until: date | None = None,
    spread: Sequence[tuple[float, float]] = DEFAULT_SPREAD,
) -> WeatherWorld:
    """Build the world, install it and hook it into the exchange's housekeeping (with its
    schedule, so a fast ``SimClock`` stops at every listing, determination and settlement)."""
    world = WeatherWorld(exchange, seed=seed, series=tuple(series), start=start, until=until, spread=spread)
    world.install()
    exchange.add_periodic(world.tick, next_due=world.next_due_ms)
    return world


def bracket_probabilities(mean: float, sigma: float, brackets: Sequence[Bracket]) -> list[float]:
    """P(YES) of each bracket for a normal forecast integerized with ±0.5 (sums to 1 over a
    partition). A helper for traders and tests; ``WeatherWorld.probability`` adds the
    observed floor."""
    return [_floored(mean, sigma, None, *bracket.bounds()) for bracket in brackets]


__all__ = [
    "Bracket",
    "WeatherEvent",
    "WeatherWorld",
    "bracket_probabilities",
    "brackets_for",
    "build_weather_world",
]
