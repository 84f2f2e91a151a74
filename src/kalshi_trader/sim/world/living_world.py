"""The living world of the embedded exchange: weather, other markets and background traders.

Contract:
- ``LivingWorld(seed, *, series, until, ...)`` implements the ``World`` protocol of
  ``sim/world/scenario.py``: ``install(exchange)`` once (lists the temperature series of
  ``WeatherWorld`` (``sim/world/weather_markets.py``) and the other markets of ``OtherMarkets``
  (``sim/world/other_markets.py``), opens the background traders' accounts), then ``tick(now_ms)`` from
  the exchange's housekeeping: the weather world and the other markets list, determine and settle
  their events, then the traders (``sim/world/traders.py``) act on every active market of the world.
  ``next_due(now_ms)`` reports the next scheduled listing/determination/settlement of either part
  so a ``SimClock``-driven housekeeping stops exactly there. ``build_living_world(exchange, seed,
  ...)`` installs the world and registers both with ``exchange.add_periodic``.
- Traders read the hidden truth only through the world's ``probability(ticker, now_ms, shift)``
  (the ``Oracle``): the other markets' calibrated latent-path probability, or for a temperature
  market a forecast-like distribution of the day's high or low. They learn about markets from
  the engine's ``MarketEvent``s (``created`` → watched once the oracle knows the ticker,
  ``settled`` → forgotten), so any market either part lists is traded without further wiring.
  Each watched market carries its price curve and liquidity tier from ``sim/world/calibration_targets.py``:
  weather markets the weather favourite–longshot curve and their series' tier, other markets the
  Kalshi-wide curve and the standard tier.
- Deterministic: the same seed, start time and sequence of tick times give the same catalog,
  orders, trades (ids included, with a seeded exchange) and settlement values; the settlement
  values do not depend on the tick times at all.
- ``settlements()`` lists every finalized market with its result and ``expiration_value``.
  ``until`` (a date, optional) is the last climate day listed and the other markets list nothing
  that closes after the end of that UTC day, so a finite run can end with everything settled
  (``quiet_after_ms()`` says when).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

from kalshi_trader.domain import MarketStatus, Money
from kalshi_trader.sim.core.state import EngineEvent, MarketEvent
from kalshi_trader.sim.world.calibration_targets import KALSHI_WIDE_PRICES, WEATHER_PRICES, tier_of
from kalshi_trader.sim.world.cities import DEFAULT_SERIES, TemperatureSeries
from kalshi_trader.sim.world.other_markets import DEFAULT_OTHER_SERIES, OtherMarkets, OtherSeriesSpec
from kalshi_trader.sim.world.traders import DEFAULT_TRADERS, MarketView, Pace, Traders, TraderSpec
from kalshi_trader.sim.world.weather_markets import WeatherWorld

if TYPE_CHECKING:
    from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange


@dataclass(frozen=True, slots=True)
class Settled:
    """One finalized market."""

    ticker: str
    event_ticker: str
    result: Literal["yes", "no", "scalar", ""]
    expiration_value: str
    settled_ms: int | None


class LivingWorld:
    """Weather + other markets + background traders (see the module docstring)."""

    def __init__(
        self,
        seed: int,
        *,
        series: Sequence[str | TemperatureSeries] = DEFAULT_SERIES,
        other_series: Sequence[OtherSeriesSpec] = DEFAULT_OTHER_SERIES,
        traders: Iterable[TraderSpec] = DEFAULT_TRADERS,
        pace: Pace = Pace(),
        until: date | None = None,
    ) -> None:
        self.seed = seed
        self.until = until
        self._series = tuple(series)
        until_ms = None if until is None else _ms(datetime.combine(until + timedelta(days=1), time(0), UTC))
        self.other = OtherMarkets(seed, tuple(other_series), until_ms)
        self._trader_specs = tuple(traders)
        self._pace = pace
        self._weather: WeatherWorld | None = None
        self._exchange: EmbeddedExchange | None = None
        self._traders: Traders | None = None
        self._created: list[str] = []
        self._settled: list[str] = []

    # -- World ---------------------------------------------------------------------------------

    def install(self, exchange: EmbeddedExchange) -> None:
        if self._exchange is not None:
            raise RuntimeError("the living world is already installed")
        self._exchange = exchange
        self._traders = Traders(exchange.engine, self, seed=self.seed, specs=self._trader_specs, pace=self._pace)
        self._traders.open_accounts()
        exchange.engine.add_listener(self._on_event)
        self._weather = WeatherWorld(exchange, seed=self.seed, series=self._series, until=self.until)
        self._weather.install()
        self.other.install(exchange)

    def tick(self, now_ms: int) -> None:
        exchange, traders = self._require()
        self.weather.tick(now_ms)
        self.other.tick(now_ms)
        self._sync_markets(exchange, traders, now_ms)
        traders.tick(now_ms)

    def next_due(self, now_ms: int) -> int | None:
        times = [t for t in (self.weather.next_due_ms(now_ms), self.other.next_due(now_ms)) if t is not None]
        return min(times, default=None)

    # -- Oracle --------------------------------------------------------------------------------

    def probability(self, ticker: str, now_ms: int, shift: float = 0.0) -> float | None:
        """The weather world's forecast-based P(YES) for a temperature market, the latent-path
        probability for another market, ``None`` for a market the world does not own."""
        if self._weather is not None:
            p = self._weather.probability(ticker, now_ms, shift)
            if p is not None:
                return p
        return self.other.probability(ticker, now_ms, shift)

    # -- reads ---------------------------------------------------------------------------------

    @property
    def weather(self) -> WeatherWorld:
        if self._weather is None:
            raise RuntimeError("the living world is not installed")
        return self._weather

    def quiet_after_ms(self) -> int | None:
        """With ``until``: a time by which every event the world will ever list has settled
        (00:00 UTC two days after ``until``); ``None`` without ``until``."""
        if self.until is None:
            return None
        return _ms(datetime.combine(self.until + timedelta(days=2), time(0), UTC))

    def settlement_values(self) -> dict[str, str]:
        """Event ticker → ``expiration_value`` of every event determined so far (both parts)."""
        return {**self.weather.settlement_values, **self.other.settlement_values}

    @property
    def traders(self) -> Traders:
        return self._require()[1]

    @property
    def trader_ids(self) -> list[str]:
        return self.traders.user_ids

    @property
    def traders_cash(self) -> Money:
        """What the background traders' accounts were opened with, in total."""
        return self.traders.opening_cash

    def settlements(self) -> list[Settled]:
        """Every finalized market of the exchange, in listing order."""
        exchange, _ = self._require()
        out: list[Settled] = []
        for meta in exchange.catalog.all_markets():
            state = exchange.engine.market(meta.ticker)
            if state.status is MarketStatus.FINALIZED:
                out.append(
                    Settled(meta.ticker, meta.event_ticker, state.result, meta.expiration_value, meta.settled_ms)
                )
        return out

    # -- plumbing ------------------------------------------------------------------------------

    def _require(self) -> tuple[EmbeddedExchange, Traders]:
        if self._exchange is None or self._traders is None:
            raise RuntimeError("the living world is not installed")
        return self._exchange, self._traders

    def _on_event(self, event: EngineEvent) -> None:
        if type(event) is MarketEvent:
            if event.kind == "created":
                self._created.append(event.ticker)
            elif event.kind == "settled":
                self._settled.append(event.ticker)

    def _sync_markets(self, exchange: EmbeddedExchange, traders: Traders, now_ms: int) -> None:
        """Watch the markets listed since the last tick that the oracle knows; forget settled."""
        if self._created:
            created, self._created = self._created, []
            for ticker in created:
                if not exchange.catalog.has_market(ticker) or self.probability(ticker, now_ms) is None:
                    continue
                meta = exchange.catalog.market(ticker)
                grid = exchange.engine.market(ticker).grid
                series = self.weather.series_of(ticker)
                if series is None:
                    view = MarketView(ticker, meta.event_ticker, meta.close_ms, grid, KALSHI_WIDE_PRICES)
                else:
                    liquidity = tier_of(series.ticker, series.extreme)
                    view = MarketView(ticker, meta.event_ticker, meta.close_ms, grid, WEATHER_PRICES, liquidity)
                traders.watch(view)
        if self._settled:
            settled, self._settled = self._settled, []
            for ticker in settled:
                traders.forget(ticker)


def _ms(dt: datetime) -> int:
    return int(dt.timestamp()) * 1000


def build_living_world(
    exchange: EmbeddedExchange,
    seed: int,
    *,
    series: Sequence[str | TemperatureSeries] = DEFAULT_SERIES,
    other_series: Sequence[OtherSeriesSpec] = DEFAULT_OTHER_SERIES,
    traders: Iterable[TraderSpec] = DEFAULT_TRADERS,
    pace: Pace = Pace(),
    until: date | None = None,
) -> LivingWorld:
    """Install a ``LivingWorld`` on ``exchange`` and drive it from the exchange's housekeeping."""
    world = LivingWorld(seed, series=series, other_series=other_series, traders=traders, pace=pace, until=until)
    world.install(exchange)
    exchange.add_periodic(world.tick, next_due=world.next_due)
    return world


__all__ = ["LivingWorld", "Settled", "build_living_world"]
