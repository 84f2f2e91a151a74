"""Seeded scenarios for the embedded exchange: what is listed and who provides liquidity.

Contract:
- ``build_default_scenario(exchange, seed)`` installs, deterministically for a given seed and
  exchange-clock start time, a catalog of several series on different tick grids and fee types:
  * ``KXHIGHNY`` / ``KXHIGHCHI`` — daily highest-temperature series (``linear_cent``, quadratic
    fees), one event per local climate day with six markets: a ``less`` tail (``-T47``), four 2°F
    ``between`` brackets (``-B47.5`` = 47–48°F …) and a ``greater`` tail (``-T54``). NYC lists
    yesterday's event (closed, determined and settled), today's (open) and tomorrow's (open from
    14:00Z the day before, so unopened early in the UTC day).
  * ``KXFEDDECISION`` — a Fed decision event (``tapered_deci_cent``, quadratic with maker fees)
    with a > 90% favourite.
  * ``KXINXD`` — S&P 500 close thresholds (``deci_cent``, quadratic, fee multiplier 1/2) with
    deep favourites and long shots; their markets have a settlement floor (starting at $0); the
    series is in "Financials" and also in "Economics" (``categories``).
  * ``KXCPIYOY`` — a CPI release whose markets open in three days (always unopened).
  Every open market gets resting two-sided liquidity from the ``liquidity`` account at prices
  around a seeded fair value (three levels per side, on the market's grid). Fair values come from
  exact integer arithmetic (binomial weights for temperatures), never floats.
- The seam for a later "living world" (weather model, background traders, fast clock, faults) is
  the ``World`` protocol: ``install`` once, then ``tick(now_ms)`` from the exchange's housekeeping
  loop. ``DefaultScenario`` is the static world: its ``tick`` only quotes markets that have just
  opened.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from math import comb
from typing import TYPE_CHECKING, Literal, Protocol
from zoneinfo import ZoneInfo

from kalshi_trader.domain import (
    BookSide,
    FeeType,
    MarketStatus,
    Money,
    Price,
    Qty,
    SelfTradePrevention,
    TickGrid,
    TimeInForce,
)
from kalshi_trader.sim.core.catalog import EventInfo, MarketMeta, SeriesInfo, SettlementSource, StrikeType
from kalshi_trader.sim.core.state import MarketState, NewOrder

if TYPE_CHECKING:
    from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange

LIQUIDITY_USER = "liquidity"
LIQUIDITY_CASH = Money(10_000_000 * 10_000)  # $10,000,000

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS


class World(Protocol):
    """Something that populates an exchange and may act on it as time passes."""

    def install(self, exchange: EmbeddedExchange) -> None: ...

    def tick(self, now_ms: int) -> None: ...


def date_code(d: date) -> str:
    """Kalshi's event date code: ``26NOV22``."""
    return f"{d.year % 100:02d}{_MONTHS[d.month - 1]}{d.day:02d}"


def _ms(dt: datetime) -> int:
    return int(dt.timestamp()) * 1000


@dataclass(frozen=True, slots=True)
class _City:
    series: str
    name: str
    station: str
    tz: str
    office: str
    normal_high: int


_CITIES = (
    _City("KXHIGHNY", "NYC", "Central Park, New York", "America/New_York", "OKX", 52),
    _City("KXHIGHCHI", "Chicago", "Chicago Midway", "America/Chicago", "LOT", 44),
)


@dataclass(slots=True)
class DefaultScenario:
    """The static default world. After ``install``: ``tickers`` lists every market in listing
    order and ``fair`` holds each market's fair YES price."""

    seed: int
    tickers: list[str] = field(default_factory=list)
    fair: dict[str, Price] = field(default_factory=dict)
    quoted: set[str] = field(default_factory=set)
    _rng: random.Random = field(init=False)
    _exchange: EmbeddedExchange | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    # -- World ---------------------------------------------------------------------------------

    def install(self, exchange: EmbeddedExchange) -> None:
        self._exchange = exchange
        now = exchange.clock_ms()
        exchange.open_account(LIQUIDITY_USER, LIQUIDITY_CASH)
        for city in _CITIES:
            self._weather_series(city, now)
        self._fed(now)
        self._index(now)
        self._cpi(now)
        self.tick(now)

    def tick(self, now_ms: int) -> None:
        exchange = self._require()
        for ticker in self.tickers:
            if ticker not in self.quoted and exchange.engine.market(ticker).status is MarketStatus.ACTIVE:
                self.quoted.add(ticker)
                self._quote(ticker)

    # -- catalog helpers -------------------------------------------------------------------------

    def _require(self) -> EmbeddedExchange:
        if self._exchange is None:
            raise RuntimeError("scenario is not installed")
        return self._exchange

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _add_market(
        self,
        *,
        series: SeriesInfo,
        event_ticker: str,
        suffix: str,
        grid: str,
        fair: Price,
        open_ms: int,
        close_ms: int,
        now_ms: int,
        strike_type: StrikeType,
        floor: int | None,
        cap: int | None,
        yes_sub_title: str,
        rules: str,
        expected_ms: int | None = None,
        settlement_floor: Price | None = None,
    ) -> str:
        exchange = self._require()
        ticker = f"{event_ticker}-{suffix}"
        status = MarketStatus.ACTIVE
        if now_ms < open_ms:
            status = MarketStatus.INITIALIZED
        elif now_ms >= close_ms:
            status = MarketStatus.CLOSED
        created = min(open_ms, now_ms) - _DAY_MS
        exchange.catalog.add_market(
            MarketMeta(
                ticker=ticker,
                event_ticker=event_ticker,
                market_id=self._uuid(),
                title=f"{exchange.catalog.event(event_ticker).title}: {yes_sub_title}",
                yes_sub_title=yes_sub_title,
                no_sub_title=yes_sub_title,
                open_ms=open_ms,
                close_ms=close_ms,
                expected_expiration_ms=expected_ms if expected_ms is not None else close_ms + 10 * _HOUR_MS,
                latest_expiration_ms=close_ms + 7 * _DAY_MS,
                created_ms=created,
                updated_ms=created,
                strike_type=strike_type,
                floor_strike=float(floor) if floor is not None else None,
                cap_strike=float(cap) if cap is not None else None,
                rules_primary=rules,
                rules_secondary="The following market refers to the outcome described above. "
                "Settlement follows the exchange rulebook.",
            )
        )
        exchange.engine.add_market(
            MarketState(
                ticker=ticker,
                event_ticker=event_ticker,
                grid=TickGrid.named(grid),
                fee_type=series.fee_type,
                fee_multiplier=series.fee_multiplier,
                status=status,
                settlement_floor=settlement_floor,
            )
        )
        self.tickers.append(ticker)
        self.fair[ticker] = fair
        return ticker

    # -- weather -------------------------------------------------------------------------------

    def _weather_series(self, city: _City, now_ms: int) -> None:
        exchange = self._require()
        series = SeriesInfo(
            ticker=city.series,
            title=f"Highest temperature in {city.name}",
            category="Climate and Weather",
            frequency="daily",
            fee_type=FeeType.QUADRATIC,
            tags=("Weather", "Daily temperature"),
            settlement_sources=(
                SettlementSource(
                    "National Weather Service",
                    f"https://forecast.weather.gov/product.php?site={city.office}&product=CLI",
                ),
            ),
            contract_url=f"https://kalshi.com/markets/{city.series.lower()}",
            contract_terms_url="https://kalshi.com/regulatory/rulebook",
            updated_ms=now_ms - 30 * _DAY_MS,
        )
        exchange.catalog.add_series(series)
        zone = ZoneInfo(city.tz)
        # The climate day is local standard time; "today" is the local standard date now.
        std_offset = datetime(2026, 1, 15, tzinfo=zone).utcoffset() or timedelta(0)
        today = (datetime.fromtimestamp(now_ms // 1000, tz=UTC) + std_offset).date()
        days = (-1, 0, 1) if city.series == "KXHIGHNY" else (0,)
        for offset in days:
            self._weather_event(series, city, zone, today + timedelta(days=offset), offset, now_ms)

    def _weather_event(
        self, series: SeriesInfo, city: _City, zone: ZoneInfo, day: date, offset: int, now_ms: int
    ) -> None:
        exchange = self._require()
        event_ticker = f"{city.series}-{date_code(day)}"
        exchange.catalog.add_event(
            EventInfo(
                event_ticker=event_ticker,
                series_ticker=city.series,
                title=f"Highest temperature in {city.name} on {day:%b} {day.day}, {day.year}",
                sub_title=f"On {day:%b} {day.day}, {day.year}",
                mutually_exclusive=True,
                collateral_return_type="MECNET",
                strike_date_ms=_ms(datetime.combine(day, time(23, 59), zone)),
                updated_ms=now_ms - _DAY_MS,
            )
        )
        open_ms = _ms(datetime.combine(day - timedelta(days=1), time(14, 0), UTC))
        close_ms = _ms(datetime.combine(day, time(23, 59), zone))
        expected_ms = _ms(datetime.combine(day + timedelta(days=1), time(14, 0), UTC))
        forecast = city.normal_high + self._rng.randint(-6, 6)
        # Binomial spread: n = 4σ² (σ ≈ 2°F for today, 3°F for tomorrow).
        n = 16 if offset <= 0 else 36
        low = forecast - self._rng.randint(2, 5)
        bands: list[tuple[str, StrikeType, int | None, int | None, int, int, str]] = [
            (f"T{low}", "less", None, low, -999, low - 1, f"{low - 1}° or below"),
            *(
                (f"B{b}.5", "between", b, b + 1, b, b + 1, f"{b}° to {b + 1}°")
                for b in (low, low + 2, low + 4, low + 6)
            ),
            (f"T{low + 7}", "greater", low + 7, None, low + 8, 999, f"{low + 8}° or above"),
        ]
        observed = forecast + self._rng.randint(-4, 4)
        tickers = []
        for suffix, strike, floor, cap, t_lo, t_hi, label in bands:
            weight = sum(comb(n, k) for k in range(n + 1) if t_lo <= forecast + k - n // 2 <= t_hi)
            fair = Price(max(100, min(9_900, weight * 10_000 // 2**n // 100 * 100)))
            rule = {
                "less": f"less than {cap}°",
                "greater": f"greater than {floor}°",
                "between": f"between {floor}-{cap}°",
            }[strike]
            tickers.append(
                (
                    self._add_market(
                        series=series,
                        event_ticker=event_ticker,
                        suffix=suffix,
                        grid="linear_cent",
                        fair=fair,
                        open_ms=open_ms,
                        close_ms=close_ms,
                        now_ms=now_ms,
                        strike_type=strike,
                        floor=floor,
                        cap=cap,
                        yes_sub_title=label,
                        expected_ms=expected_ms,
                        rules=f"If the highest temperature recorded at {city.station} for {day:%B} {day.day}, "
                        f"{day.year} as reported by the National Weather Service's Climatological Report "
                        f"(Daily) is {rule}, then the market resolves to Yes.",
                    ),
                    t_lo <= observed <= t_hi,
                )
            )
        if now_ms >= close_ms:
            for ticker, wins in tickers:
                self._settle(ticker, "yes" if wins else "no", str(observed))

    def _settle(self, ticker: str, result: Literal["yes", "no"], value: str) -> None:
        exchange = self._require()
        exchange.catalog.market(ticker).expiration_value = value
        exchange.engine.determine(ticker, result)
        exchange.engine.settle(ticker)

    # -- other series --------------------------------------------------------------------------

    def _plain_series(
        self,
        ticker: str,
        title: str,
        category: str,
        frequency: str,
        fee: FeeType,
        multiplier: tuple[int, int],
        *,
        categories: tuple[str, ...] = (),
    ) -> SeriesInfo:
        series = SeriesInfo(
            ticker=ticker,
            title=title,
            category=category,
            categories=categories,
            frequency=frequency,
            fee_type=fee,
            fee_multiplier=multiplier,
            tags=(category,),
            contract_url=f"https://kalshi.com/markets/{ticker.lower()}",
            contract_terms_url="https://kalshi.com/regulatory/rulebook",
        )
        self._require().catalog.add_series(series)
        return series

    def _plain_event(self, series: SeriesInfo, event_ticker: str, title: str, exclusive: bool, now_ms: int) -> None:
        self._require().catalog.add_event(
            EventInfo(
                event_ticker=event_ticker,
                series_ticker=series.ticker,
                title=title,
                sub_title=title,
                mutually_exclusive=exclusive,
                collateral_return_type="MECNET" if exclusive else "",
                updated_ms=now_ms - _DAY_MS,
            )
        )

    def _fed(self, now_ms: int) -> None:
        series = self._plain_series(
            "KXFEDDECISION", "Fed decision", "Economics", "custom", FeeType.QUADRATIC_WITH_MAKER_FEES, (1, 1)
        )
        today = datetime.fromtimestamp(now_ms // 1000, tz=UTC).date()
        meeting = today + timedelta(days=24)
        event = f"KXFEDDECISION-{meeting.year % 100:02d}{_MONTHS[meeting.month - 1]}"
        self._plain_event(series, event, f"Fed decision in {meeting:%b %Y}", True, now_ms)
        hold = Price(9_000 + self._rng.randint(50, 400))
        cut = Price((10_000 - hold) * 3 // 4)
        rest = Price(10_000 - hold - cut)
        close_ms = _ms(datetime.combine(meeting, time(18, 0), UTC))
        for suffix, fair, label in (("H0", hold, "Hold"), ("C25", cut, "Cut 25bps"), ("H25", rest, "Hike 25bps")):
            self._add_market(
                series=series,
                event_ticker=event,
                suffix=suffix,
                grid="tapered_deci_cent",
                fair=fair,
                open_ms=now_ms - 30 * _DAY_MS,
                close_ms=close_ms,
                now_ms=now_ms,
                strike_type="structured",
                floor=None,
                cap=None,
                yes_sub_title=label,
                rules=f"If the Federal Reserve's decision in {meeting:%B %Y} is: {label}, "
                "then the market resolves to Yes.",
            )

    def _index(self, now_ms: int) -> None:
        series = self._plain_series(
            "KXINXD", "S&P 500 daily close", "Financials", "daily", FeeType.QUADRATIC, (1, 2), categories=("Economics",)
        )
        day = datetime.fromtimestamp(now_ms // 1000, tz=UTC).date() + timedelta(days=1)
        event = f"KXINXD-{date_code(day)}"
        self._plain_event(series, event, f"S&P 500 close on {day:%b} {day.day}, {day.year}", False, now_ms)
        spot = 6_800 + 25 * self._rng.randint(-4, 4)
        close_ms = _ms(datetime.combine(day, time(21, 0), UTC))
        for i, strike in enumerate(range(spot - 100, spot + 101, 50)):
            # Deep favourite at the lowest strike, long shot at the highest (deci-cent grid).
            fair = Price((9_750, 8_420, 5_130, 1_870, 315)[i] + self._rng.randint(-40, 40))
            self._add_market(
                series=series,
                event_ticker=event,
                suffix=f"T{strike}",
                grid="deci_cent",
                fair=fair,
                open_ms=now_ms - 2 * _DAY_MS,
                close_ms=close_ms,
                now_ms=now_ms,
                strike_type="greater",
                floor=strike,
                cap=None,
                yes_sub_title=f"{strike:,} or above",
                rules=f"If the S&P 500 closes above {strike} on {day:%B} {day.day}, {day.year}, "
                "then the market resolves to Yes.",
                settlement_floor=Price(0),
            )

    def _cpi(self, now_ms: int) -> None:
        series = self._plain_series("KXCPIYOY", "CPI year over year", "Economics", "monthly", FeeType.QUADRATIC, (1, 1))
        opens = now_ms - now_ms % _HOUR_MS + 3 * _DAY_MS
        release = datetime.fromtimestamp(opens // 1000, tz=UTC).date() + timedelta(days=10)
        event = f"KXCPIYOY-{release.year % 100:02d}{_MONTHS[release.month - 1]}"
        self._plain_event(series, event, f"CPI year over year in {release:%b %Y}", False, now_ms)
        for tenths, fair in ((26, 8_800), (28, 5_500), (30, 1_500)):
            self._add_market(
                series=series,
                event_ticker=event,
                suffix=f"T{tenths // 10}.{tenths % 10}",
                grid="linear_cent",
                fair=Price(fair),
                open_ms=opens,
                close_ms=_ms(datetime.combine(release, time(12, 30), UTC)),
                now_ms=now_ms,
                strike_type="greater",
                floor=None,
                cap=None,
                yes_sub_title=f"Above {tenths // 10}.{tenths % 10}%",
                rules=f"If CPI inflation year over year is above {tenths // 10}.{tenths % 10}%, "
                "then the market resolves to Yes.",
            )

    # -- liquidity -----------------------------------------------------------------------------

    def _quote(self, ticker: str) -> None:
        """Three YES bids below and three YES asks above the fair price, on the market's grid."""
        exchange = self._require()
        grid = exchange.engine.market(ticker).grid
        fair = self.fair[ticker]
        levels = [p for p in grid.levels() if 0 < p < 10_000]
        below = [p for p in levels if p < fair][-4:-1] or [p for p in levels if p < fair][-3:]
        above = [p for p in levels if p > fair][1:4] or [p for p in levels if p > fair][:3]
        for side, prices in ((BookSide.BID, below), (BookSide.ASK, above)):
            for price in prices:
                size = Qty(self._rng.randint(5, 60) * 1_000 + self._rng.choice((0, 0, 0, 50)))
                exchange.engine.place(
                    LIQUIDITY_USER,
                    NewOrder(
                        ticker=ticker,
                        side=side,
                        price=price,
                        count=size,
                        time_in_force=TimeInForce.GOOD_TILL_CANCELED,
                        self_trade_prevention=SelfTradePrevention.MAKER,
                        client_order_id=self._uuid(),
                        post_only=True,
                    ),
                )


def build_default_scenario(exchange: EmbeddedExchange, seed: int) -> DefaultScenario:
    """Install the default world on ``exchange`` and hook its ``tick`` into housekeeping."""
    scenario = DefaultScenario(seed)
    scenario.install(exchange)
    exchange.add_periodic(scenario.tick)
    return scenario


__all__ = [
    "LIQUIDITY_CASH",
    "LIQUIDITY_USER",
    "DefaultScenario",
    "World",
    "build_default_scenario",
    "date_code",
]
