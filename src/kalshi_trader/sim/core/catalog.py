"""The embedded exchange's catalog: series, events and market metadata.

Contract: the catalog holds what Kalshi reports about instruments but the matching engine does not
need (titles, rules, strikes, schedule times, settlement sources). Trading state of a market —
status, grid, fees, result — lives in the engine's ``MarketState``; the server joins the two when
it renders a Market. Registration order is preserved (it is the listing order). Lookups of unknown
tickers raise ``KeyError``; the server turns that into Kalshi's 404. Times are exchange-clock
milliseconds. No I/O. An event's ``collateral_return_type`` is ``MECNET``, ``DIRECNET`` or ``""`` and
it is ``mutually_exclusive`` exactly when ``MECNET`` (a ``ValueError`` otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from kalshi_trader.domain import FeeType

COLLATERAL_RETURN_TYPES = frozenset({"MECNET", "DIRECNET", ""})
"""An event's collateral-return netting: mutually exclusive markets, directional, or none."""

StrikeType = Literal[
    "greater", "greater_or_equal", "less", "less_or_equal", "between", "functional", "custom", "structured"
]


@dataclass(frozen=True, slots=True)
class SettlementSource:
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    ticker: str
    title: str
    category: str
    """The primary category (first of ``all_categories``)."""
    frequency: str
    fee_type: FeeType = FeeType.QUADRATIC
    fee_multiplier: tuple[int, int] = (1, 1)
    tags: tuple[str, ...] = ()
    settlement_sources: tuple[SettlementSource, ...] = ()
    contract_url: str = ""
    contract_terms_url: str = ""
    updated_ms: int = 0
    categories: tuple[str, ...] = ()
    """Further discovery categories besides ``category``."""

    @property
    def all_categories(self) -> list[str]:
        """``category`` first, then the others (Kalshi's ``Series.categories``)."""
        return list(dict.fromkeys((self.category, *self.categories)))


@dataclass(frozen=True, slots=True)
class EventInfo:
    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str
    mutually_exclusive: bool = False
    collateral_return_type: str = ""
    strike_date_ms: int | None = None
    strike_period: str | None = None
    updated_ms: int = 0


@dataclass(slots=True)
class MarketMeta:
    """Descriptive fields of one market. Mutable only for schedule changes (close moved) and
    settlement facts (``expiration_value``, ``settled_ms``)."""

    ticker: str
    event_ticker: str
    market_id: str
    title: str
    yes_sub_title: str
    no_sub_title: str
    open_ms: int
    close_ms: int
    expected_expiration_ms: int | None
    latest_expiration_ms: int
    created_ms: int
    strike_type: StrikeType
    floor_strike: float | None = None
    cap_strike: float | None = None
    rules_primary: str = ""
    rules_secondary: str = ""
    can_close_early: bool = False
    settlement_timer_seconds: int = 3600
    subtitle: str = ""
    updated_ms: int = 0
    expiration_value: str = ""
    determined_ms: int | None = None
    settled_ms: int | None = None


@dataclass
class Catalog:
    _series: dict[str, SeriesInfo] = field(default_factory=dict)
    _events: dict[str, EventInfo] = field(default_factory=dict)
    _markets: dict[str, MarketMeta] = field(default_factory=dict)
    _by_market_id: dict[str, str] = field(default_factory=dict)
    _event_markets: dict[str, list[str]] = field(default_factory=dict)

    # -- registration ---------------------------------------------------------------------

    def add_series(self, series: SeriesInfo) -> None:
        if series.ticker in self._series:
            raise ValueError(f"series {series.ticker} already exists")
        self._series[series.ticker] = series

    def add_event(self, event: EventInfo) -> None:
        if event.series_ticker not in self._series:
            raise ValueError(f"event {event.event_ticker} names unknown series {event.series_ticker}")
        crt = event.collateral_return_type
        if crt not in COLLATERAL_RETURN_TYPES:
            raise ValueError(f"event {event.event_ticker}: collateral_return_type {crt!r} is not MECNET/DIRECNET/''")
        if event.mutually_exclusive != (crt == "MECNET"):
            raise ValueError(f"event {event.event_ticker}: mutually_exclusive is true exactly for MECNET events")
        if event.event_ticker in self._events:
            raise ValueError(f"event {event.event_ticker} already exists")
        self._events[event.event_ticker] = event
        self._event_markets[event.event_ticker] = []

    def add_market(self, market: MarketMeta) -> None:
        if market.event_ticker not in self._events:
            raise ValueError(f"market {market.ticker} names unknown event {market.event_ticker}")
        if market.ticker in self._markets:
            raise ValueError(f"market {market.ticker} already exists")
        self._markets[market.ticker] = market
        self._by_market_id[market.market_id] = market.ticker
        self._event_markets[market.event_ticker].append(market.ticker)

    # -- lookups ----------------------------------------------------------------------------

    def series(self, ticker: str) -> SeriesInfo:
        return self._series[ticker]

    def event(self, event_ticker: str) -> EventInfo:
        return self._events[event_ticker]

    def market(self, ticker: str) -> MarketMeta:
        return self._markets[ticker]

    def has_market(self, ticker: str) -> bool:
        return ticker in self._markets

    def ticker_for_market_id(self, market_id: str) -> str:
        return self._by_market_id[market_id]

    def series_of_market(self, ticker: str) -> SeriesInfo:
        return self._series[self._events[self._markets[ticker].event_ticker].series_ticker]

    def all_series(self) -> list[SeriesInfo]:
        return list(self._series.values())

    def all_events(self) -> list[EventInfo]:
        return list(self._events.values())

    def all_markets(self) -> Iterator[MarketMeta]:
        return iter(self._markets.values())

    def event_market_tickers(self, event_ticker: str) -> list[str]:
        return list(self._event_markets[event_ticker])
