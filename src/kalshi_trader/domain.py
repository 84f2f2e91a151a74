"""Value types shared by every layer of kalshi-trader.

Contract:
- Money and prices are integers in units of $0.0001 (``Price`` for a per-contract price in
  [$0, $1], ``Money`` for any dollar amount, signed, unbounded). Counts are integers in hundredths
  of a contract (``Qty``). Nothing in the system holds a float price or count.
- Kalshi's wire strings (``"0.5600"`` dollars, ``"10.00"`` ``_fp`` counts) are parsed exactly here
  and only here; floats, NaN, infinities, exponents, too many decimals and out-of-range values are
  rejected with ``ValueError`` carrying a message a person understands.
- One book, two names: a YES bid at p is the same offer as a NO ask at $1 - p (``complement``).
- ``TickGrid`` is a market's price grid built from ``price_ranges``; it answers "is this price
  valid here" and rounds toward safety.
- ``OrderIntent`` (place / amend / cancel, with the strategy's reason) and ``TopOfBook`` are the
  values strategies, risk and execution pass each other; an intent is not validated here — risk
  judges it.
- ``BracketRequest`` / ``BracketCancel`` ask the execution engine to protect (or stop protecting) the
  position an entry order opened with a resting take-profit and an emulated stop-loss (one OCO pair).
- ``FeeSchedule`` is a market's trading-fee rule (docs/kalshi-protocol.md, Fees) as exact integer arithmetic:
  the trade fee in micro-dollars ($0.000001, Kalshi's fee_rounding page), its balance effect in ``Money``;
  ``round_fill_balance`` is the documented rounding of one fill's balance change (fee_rounding page)
  and ``net_purchase`` the netting of a purchase into a signed position — the pieces every venue
  that books fills (the embedded exchange, the paper venue) shares.
- ``inventory_skew_ticks`` / ``shift_on_grid`` are the market maker's inventory skew (used by
  strategies, re-exported by ``risk.skew``).
- ``trading_day(market_ms)`` is the trading day a moment of market time belongs to: the calendar
  date in New York (Kalshi's home time zone), so daily limits and daily P&L roll at midnight ET.
- ``Candle`` (with ``Ohlc``) is one candlestick of a market; ``HistoricalCutoff`` says where an
  exchange's live data set ends and its historical endpoints take over.

This module imports nothing of the project.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import NamedTuple, NewType, cast
from zoneinfo import ZoneInfo

import msgspec

Price = NewType("Price", int)
"""A per-contract price in units of $0.0001, 0..10_000 ($0.00 .. $1.00)."""

Money = NewType("Money", int)
"""A signed dollar amount in units of $0.0001."""

Qty = NewType("Qty", int)
"""A signed contract count in hundredths of a contract (100 == one contract)."""

PRICE_SCALE = 10_000
"""Price units per dollar."""
QTY_SCALE = 100
"""Qty units per contract."""
ONE_DOLLAR = Price(PRICE_SCALE)
ZERO_PRICE = Price(0)

TRADING_TIME_ZONE = ZoneInfo("America/New_York")
"""Where a trading day begins and ends (midnight to midnight, local time)."""

_MAX_MONEY_DIGITS = 15
_MAX_QTY_DIGITS = 12

_POW10 = (1, 10, 100, 1_000, 10_000)
_DECIMAL_RE = re.compile(r"(-)?([0-9]+)(?:\.([0-9]*))?")


class Side(StrEnum):
    """An outcome side: which contract a position or an order's purchase is long."""

    YES = "yes"
    NO = "no"

    @property
    def other(self) -> Side:
        return Side.NO if self is Side.YES else Side.YES


class BookSide(StrEnum):
    """A side of the single YES-denominated book: ``bid`` buys YES (sells NO), ``ask`` sells YES
    (buys NO). ``bid`` is always the YES outcome and ``ask`` the NO outcome."""

    BID = "bid"
    ASK = "ask"

    @property
    def outcome(self) -> Side:
        return Side.YES if self is BookSide.BID else Side.NO

    @property
    def other(self) -> BookSide:
        return BookSide.ASK if self is BookSide.BID else BookSide.BID

    @staticmethod
    def of(outcome: Side) -> BookSide:
        return BookSide.BID if outcome is Side.YES else BookSide.ASK


class TimeInForce(StrEnum):
    GOOD_TILL_CANCELED = "good_till_canceled"
    IMMEDIATE_OR_CANCEL = "immediate_or_cancel"
    FILL_OR_KILL = "fill_or_kill"


class SelfTradePrevention(StrEnum):
    TAKER_AT_CROSS = "taker_at_cross"
    MAKER = "maker"


class OrderStatus(StrEnum):
    RESTING = "resting"
    CANCELED = "canceled"
    EXECUTED = "executed"
    UNKNOWN = "unknown"
    """Kalshi could not tell the order's state in that report: trust its counts, not its status."""


class MarketStatus(StrEnum):
    """Kalshi's market object statuses (current API)."""

    INITIALIZED = "initialized"
    INACTIVE = "inactive"
    ACTIVE = "active"
    CLOSED = "closed"
    DETERMINED = "determined"
    DISPUTED = "disputed"
    AMENDED = "amended"
    FINALIZED = "finalized"


class FeeType(StrEnum):
    QUADRATIC = "quadratic"
    QUADRATIC_WITH_MAKER_FEES = "quadratic_with_maker_fees"
    QUADRATIC_WITH_COMBO_MAKER_FEES = "quadratic_with_combo_maker_fees"
    FLAT = "flat"


# --------------------------------------------------------------------------------------------
# Exact parsing and formatting


def _reject_non_text(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        kind = type(value).__name__
        raise ValueError(f"{what} must be a decimal string such as '0.5600', not {kind} {value!r}")
    return value if isinstance(value, str) else str(value)


def _parse_fixed(value: object, *, scale_digits: int, what: str, max_int_digits: int) -> int:
    text = _reject_non_text(value, what)
    m = _DECIMAL_RE.fullmatch(text)
    if m is None:
        raise ValueError(f"{what} {text!r} is not a plain decimal number")
    sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
    if len(frac) > scale_digits:
        # Allow trailing zeros beyond the scale ("0.560000"), reject real extra precision.
        if frac[scale_digits:].strip("0"):
            raise ValueError(f"{what} {text!r} has more than {scale_digits} decimal places")
        frac = frac[:scale_digits]
    if len(whole.lstrip("0")) > max_int_digits:
        raise ValueError(f"{what} {text!r} is out of range")
    units = int(whole) * _POW10[scale_digits] + (int(frac.ljust(scale_digits, "0")) if frac else 0)
    return -units if sign else units


_PRICE_TEXT: dict[str, Price] = {
    f"{units // PRICE_SCALE}.{units % PRICE_SCALE:04d}"[: 6 - drop]: Price(units)
    for drop, step in ((2, 100), (1, 10), (0, 1))
    for units in range(0, PRICE_SCALE + 1, step)
}
"""Every price in its 2-, 3- and 4-decimal dollar spelling (``"0.56"``, ``"0.560"``, ``"0.5600"``):
the hot path's parse is one dict lookup (~11k entries, built once at import)."""


def parse_price(value: object) -> Price:
    """Parse a dollar price string (``"0.56"``, ``"0.5600"``) into a ``Price`` in [$0, $1].

    Fast path: the 2-4 decimal spellings Kalshi sends are looked up in ``_PRICE_TEXT``."""
    try:
        return _PRICE_TEXT[value]  # type: ignore[index]
    except (KeyError, TypeError):  # other spellings, non-strings and unhashables: the exact parser decides
        pass
    units = _parse_fixed(value, scale_digits=4, what="price", max_int_digits=1)
    if not 0 <= units <= PRICE_SCALE:
        raise ValueError(f"price {value!r} is outside $0.00..$1.00")
    return Price(units)


def parse_money(value: object) -> Money:
    """Parse a signed dollar amount string (``"-12.3400"``) into ``Money``."""
    return Money(_parse_fixed(value, scale_digits=4, what="dollar amount", max_int_digits=_MAX_MONEY_DIGITS))


_qty_of_digits = cast("Callable[[str], Qty]", int)
"""``int`` typed as returning ``Qty``: calling the ``Qty`` NewType costs a call on the hot path."""


def parse_qty(value: object) -> Qty:
    """Parse a signed ``_fp`` contract count (``"10"``, ``"10.5"``, ``"-2.25"``) into ``Qty``.

    Fast path for Kalshi's 2-decimal form (``"12.50"``, ``"-74.77"``): drop the point and read the
    digits as hundredths. It takes only what the exact parser below accepts with the same result
    (at least one whole digit, at most 12, same digit class as ``\\d``), and leaves everything
    else to it."""
    if type(value) is str and value.isascii():
        try:
            if value[-3] == ".":
                digits = value.replace(".", "", 1)  # a second "." left over fails the digit test
                if digits.isdecimal():
                    if 2 < len(digits) < 15:
                        return _qty_of_digits(digits)
                elif digits[0] == "-" and digits[1:].isdecimal() and 3 < len(digits) < 16:
                    return _qty_of_digits(digits)
        except IndexError:  # shorter than "0.00"
            pass
    return Qty(_parse_fixed(value, scale_digits=2, what="count", max_int_digits=_MAX_QTY_DIGITS))


def format_price(price: int) -> str:
    """``Price`` → Kalshi's 4-decimal dollar string (``5600`` → ``"0.5600"``); a price outside
    $0–$1 is formatted as ``format_money`` does."""
    if 0 <= price <= PRICE_SCALE:
        return _PRICE_SPELLING[price]
    return format_money(price)


_FOUR_DIGITS: tuple[str, ...] = tuple(f"{n:04d}" for n in range(PRICE_SCALE))
_TWO_DIGITS: tuple[str, ...] = tuple(f"{n:02d}" for n in range(QTY_SCALE))
"""Zero-padded decimals by lookup: a format spec costs more than the rest of a formatting."""


def format_money(amount: int) -> str:
    """``Money`` → a 4-decimal dollar string, signed (``-123400`` → ``"-12.3400"``)."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), PRICE_SCALE)
    return f"{sign}{whole}.{_FOUR_DIGITS[frac]}"


_PRICE_SPELLING: tuple[str, ...] = tuple(format_money(price) for price in range(PRICE_SCALE + 1))
"""Every price from $0 to $1 as ``format_money`` writes it (orders and reasons format prices on the
order path: a lookup instead of a division and a format)."""


def format_qty(qty: int) -> str:
    """``Qty`` → Kalshi's 2-decimal ``_fp`` string (``1050`` → ``"10.50"``)."""
    sign = "-" if qty < 0 else ""
    whole, frac = divmod(abs(qty), QTY_SCALE)
    return f"{sign}{whole}.{_TWO_DIGITS[frac]}"


def money_to_cents(amount: int) -> int:
    """Whole cents of a ``Money`` amount, rounded toward zero (for Kalshi's integer-cent fields)."""
    return int(amount / 100) if amount >= 0 else -int(-amount / 100)


def complement(price: int) -> Price:
    """The other leg's price: YES at p is NO at $1 - p."""
    return Price(PRICE_SCALE - price)


def leg_price(yes_price: int, side: BookSide) -> Price:
    """What one contract costs on the leg an order buys: YES price for a bid, NO price for an ask."""
    return Price(yes_price) if side is BookSide.BID else complement(yes_price)


def notional(price: int, qty: int) -> Money:
    """Exact cost of ``qty`` contracts at ``price`` (Money units). Raises if not exact."""
    value, rest = divmod(price * qty, QTY_SCALE)
    if rest:
        # price (1e-4 $) * qty (1e-2 ct) has 1e-6 $ resolution; callers needing rounding use notional_ceil.
        raise ValueError(f"{format_qty(qty)} contracts at {format_price(price)} is not a whole $0.0001")
    return Money(value)


def notional_ceil(price: int, qty: int) -> Money:
    """Cost of ``qty`` contracts at ``price`` rounded up to $0.0001 (collateral, debits)."""
    return Money(-((-price * qty) // QTY_SCALE))


def notional_floor(price: int, qty: int) -> Money:
    """Cost of ``qty`` contracts at ``price`` rounded down to $0.0001 (credits)."""
    return Money((price * qty) // QTY_SCALE)


# --------------------------------------------------------------------------------------------
# Tick grids


@dataclass(frozen=True, slots=True)
class PriceBand:
    """One ``price_ranges`` entry: prices start, start+step, ... up to end (inclusive)."""

    start: Price
    end: Price
    step: Price

    def __post_init__(self) -> None:
        if self.step <= 0:
            raise ValueError("price band step must be positive")
        if not 0 <= self.start < self.end <= PRICE_SCALE:
            raise ValueError("price band must satisfy 0 <= start < end <= 1")

    def contains(self, price: int) -> bool:
        return self.start <= price <= self.end and (price - self.start) % self.step == 0


@dataclass(frozen=True, slots=True)
class TickGrid:
    """A market's valid prices, from its ``price_ranges``. Order prices must be on the grid and
    strictly inside ($0, $1)."""

    bands: tuple[PriceBand, ...]
    structure: str = ""
    _valid: frozenset[int] = field(init=False, repr=False, compare=False)
    _ascending: tuple[Price, ...] = field(init=False, repr=False, compare=False)
    _orders: tuple[Price, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.bands:
            raise ValueError("a tick grid needs at least one price band")
        valid = {p for band in self.bands for p in range(band.start, band.end + 1, band.step)}
        object.__setattr__(self, "_valid", frozenset(valid))
        object.__setattr__(self, "_ascending", tuple(Price(p) for p in sorted(valid)))
        object.__setattr__(self, "_orders", tuple(p for p in self._ascending if 0 < p < PRICE_SCALE))

    @staticmethod
    def from_ranges(ranges: Iterable[tuple[str, str, str]], structure: str = "") -> TickGrid:
        bands = tuple(PriceBand(parse_price(start), parse_price(end), parse_price(step)) for start, end, step in ranges)
        return TickGrid(bands, structure)

    @staticmethod
    def named(structure: str) -> TickGrid:
        """The grid of one of Kalshi's documented ``price_level_structure`` labels."""
        try:
            ranges = PRICE_LEVEL_STRUCTURES[structure]
        except KeyError:
            known = ", ".join(sorted(PRICE_LEVEL_STRUCTURES))
            raise ValueError(f"unknown price_level_structure {structure!r}; known: {known}") from None
        return TickGrid.from_ranges(ranges, structure)

    def is_valid(self, price: int) -> bool:
        """On the grid (any band), including the $0 and $1 endpoints."""
        return price in self._valid

    def is_valid_order_price(self, price: int) -> bool:
        """On the grid and strictly between $0 and $1."""
        return 0 < price < PRICE_SCALE and price in self._valid

    def levels(self) -> list[Price]:
        """Every valid price, ascending."""
        return list(self._ascending)

    def round_down(self, price: int) -> Price:
        """The highest grid price <= ``price`` (a buyer's safe rounding; the lowest if none is)."""
        levels = self._ascending
        return levels[max(0, bisect.bisect_right(levels, price) - 1)]

    def round_up(self, price: int) -> Price:
        """The lowest grid price >= ``price`` (a seller's safe rounding; the highest if none is)."""
        levels = self._ascending
        return levels[min(len(levels) - 1, bisect.bisect_left(levels, price))]

    def round_toward_safety(self, price: int, side: BookSide) -> Price:
        """Round an intended YES price so that the order never pays more (bid) or sells for less
        (ask) than intended."""
        return self.round_down(price) if side is BookSide.BID else self.round_up(price)

    def as_ranges(self) -> list[tuple[str, str, str]]:
        return [(format_price(b.start), format_price(b.end), format_price(b.step)) for b in self.bands]


def _edges(edge: str, center: str) -> list[tuple[str, str, str]]:
    return [("0.0000", "0.1000", edge), ("0.1000", "0.9000", center), ("0.9000", "1.0000", edge)]


PRICE_LEVEL_STRUCTURES: dict[str, list[tuple[str, str, str]]] = {
    "linear_cent": [("0.0000", "1.0000", "0.0100")],
    "deci_cent": [("0.0000", "1.0000", "0.0010")],
    "tapered_deci_cent": _edges("0.0010", "0.0100"),
    "center_whole_edge_half_cent": _edges("0.0050", "0.0100"),
    "center_whole_edge_quint_cent": _edges("0.0020", "0.0100"),
    "center_half_edge_half_cent": [("0.0000", "1.0000", "0.0050")],
    "center_half_edge_quint_cent": _edges("0.0020", "0.0050"),
    "center_half_edge_deci_cent": _edges("0.0010", "0.0050"),
    "center_quint_edge_quint_cent": [("0.0000", "1.0000", "0.0020")],
    "center_quint_edge_deci_cent": _edges("0.0010", "0.0020"),
    "center_centi_edge_centi_cent": [("0.0000", "1.0000", "0.0001")],
    "center_deci_edge_centi_cent": [
        ("0.0000", "0.0100", "0.0001"),
        ("0.0100", "0.9900", "0.0010"),
        ("0.9900", "1.0000", "0.0001"),
    ],
}
"""Kalshi's documented price-level structures (fixed_point_migration page)."""


# --------------------------------------------------------------------------------------------
# Trading value types (what the bot knows about orders, fills, positions and markets)


@dataclass(frozen=True, slots=True)
class Order:
    """A snapshot of one order as the exchange reports it. ``price`` is always the YES price."""

    order_id: str
    client_order_id: str
    ticker: str
    side: BookSide
    price: Price
    initial: Qty
    filled: Qty
    remaining: Qty
    status: OrderStatus
    created_ms: int = 0
    updated_ms: int = 0
    order_group_id: str | None = None
    last_update_reason: str = ""
    """Why the exchange last changed the order (Kalshi's ``last_update_reason``: ``Trade``,
    ``Amend``, ``ExpiryCancel``, ``SettlementBoundsCancel`` …); "" when it did not say."""

    @property
    def outcome(self) -> Side:
        return self.side.outcome


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of one of our orders. ``fill_id`` (Kalshi's trade/fill id) deduplicates."""

    fill_id: str
    order_id: str
    ticker: str
    side: BookSide
    price: Price
    qty: Qty
    fee: Money
    is_taker: bool
    ts_ms: int
    client_order_id: str = ""
    post_position: Qty | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """A signed, netted position in one market: > 0 long YES, < 0 long NO."""

    ticker: str
    qty: Qty
    cost: Money = Money(0)
    realized_pnl: Money = Money(0)
    fees_paid: Money = Money(0)


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """What the bot needs to know about a market to trade it."""

    ticker: str
    event_ticker: str
    series_ticker: str
    status: MarketStatus
    grid: TickGrid
    close_ms: int
    title: str = ""
    yes_sub_title: str = ""
    strike_type: str = ""
    floor_strike: float | None = None
    cap_strike: float | None = None
    rules_primary: str = ""
    """The market's settlement rules (for a weather market: which station, highest or lowest)."""
    settlement_floor: Price | None = None
    """The lowest value a YES contract can settle at (Kalshi's ``settlement_floor_dollars``); None
    for a market with default settlement bounds (no floor, i.e. $0)."""


@dataclass(frozen=True, slots=True)
class Level:
    """One book level: a price and the resting quantity there."""

    price: Price
    qty: Qty


class LadderTop(NamedTuple):
    """The best few levels of one bid ladder, summed up (what a ``MarketSnapshot`` reads): the best
    price (None: the ladder is empty) and its size, and the size over those levels."""

    best: Price | None
    best_qty: Qty
    depth: Qty

    @staticmethod
    def of(levels: Sequence[Level]) -> LadderTop:
        """The sums of levels given best first."""
        if not levels:
            return LadderTop(None, Qty(0), Qty(0))
        return LadderTop(levels[0].price, levels[0].qty, Qty(sum(level.qty for level in levels)))


def levels_from(pairs: Sequence[tuple[int, int]]) -> list[Level]:
    return [Level(Price(p), Qty(q)) for p, q in pairs]


# --------------------------------------------------------------------------------------------
# A market's past: candlesticks and the live/historical partition


@dataclass(frozen=True, slots=True)
class Ohlc:
    """Open, high, low and close of one price over a period."""

    open: Price
    high: Price
    low: Price
    close: Price


@dataclass(frozen=True, slots=True)
class Candle:
    """One candlestick of one market: the period ends at ``end_s`` (Unix seconds, inclusive).

    ``yes_bid`` / ``yes_ask`` are the best YES bid and ask over the period (an empty side counts as
    $0 bid / $1 ask); ``trades`` the traded YES prices, ``None`` when nothing traded in the period;
    ``mean`` their volume-weighted mean; ``previous`` the last traded price before the period;
    ``volume`` contracts traded in the period; ``open_interest`` contracts outstanding at its end."""

    end_s: int
    yes_bid: Ohlc
    yes_ask: Ohlc
    trades: Ohlc | None
    mean: Price | None
    previous: Price | None
    volume: Qty
    open_interest: Qty


@dataclass(frozen=True, slots=True)
class HistoricalCutoff:
    """Where an exchange's live data set ends (Unix milliseconds): older records are served only
    by the historical endpoints. ``positions_ms`` is the settled positions' backfill horizon
    (``None`` when the exchange does not report it)."""

    market_settled_ms: int
    trades_created_ms: int
    orders_updated_ms: int
    positions_ms: int | None = None


def iter_grid_prices(grid: TickGrid, low: int, high: int) -> Iterator[Price]:
    """Grid prices within [low, high], ascending."""
    for p in grid.levels():
        if low <= p <= high:
            yield p


# --------------------------------------------------------------------------------------------
# Intents and top of book (what strategies ask for, what risk judges, what execution acts on)


class IntentAction(StrEnum):
    PLACE = "place"
    AMEND = "amend"
    CANCEL = "cancel"


class OrderIntent(msgspec.Struct, frozen=True):
    """A wish to place, amend or cancel one order: made by a strategy (or a person, or the engine's
    emulated stops), judged by risk, carried out by execution.

    ``client_order_id`` names the order the intent is about: the new order's id for ``PLACE``, the
    existing order's id for ``AMEND`` and ``CANCEL``. ``price`` is the YES price (``side`` says which
    leg is bought, as in ``Order``). For ``AMEND``, ``price`` is the new price and ``qty`` the new
    *remaining* size wanted as of the intent's submission (execution converts it to Kalshi's
    "filled + remaining" count with the filled count known then, so what fills meanwhile comes off
    it). ``CANCEL`` uses neither. ``strategy``, ``reason`` and ``inputs`` explain the intent for the
    audit log.

    Nothing is validated here: an intent is a wish, and risk's ``invalid_intent`` rule judges it."""

    action: IntentAction
    ticker: str
    client_order_id: str
    side: BookSide = BookSide.BID
    price: Price = ZERO_PRICE
    qty: Qty = Qty(0)
    tif: TimeInForce = TimeInForce.GOOD_TILL_CANCELED
    post_only: bool = False
    reduce_only: bool = False
    strategy: str = ""
    reason: str = ""
    inputs: tuple[tuple[str, str | int], ...] = ()

    @staticmethod
    def place(
        ticker: str,
        side: BookSide,
        price: int,
        qty: int,
        client_order_id: str,
        *,
        tif: TimeInForce = TimeInForce.GOOD_TILL_CANCELED,
        post_only: bool = False,
        reduce_only: bool = False,
        strategy: str = "",
        reason: str = "",
        inputs: tuple[tuple[str, str | int], ...] = (),
    ) -> OrderIntent:
        return OrderIntent(
            IntentAction.PLACE,
            ticker,
            client_order_id,
            side,
            Price(price),
            Qty(qty),
            tif=tif,
            post_only=post_only,
            reduce_only=reduce_only,
            strategy=strategy,
            reason=reason,
            inputs=inputs,
        )

    @staticmethod
    def amend(
        ticker: str,
        side: BookSide,
        price: int,
        qty: int,
        client_order_id: str,
        *,
        strategy: str = "",
        reason: str = "",
        inputs: tuple[tuple[str, str | int], ...] = (),
    ) -> OrderIntent:
        return OrderIntent(
            IntentAction.AMEND,
            ticker,
            client_order_id,
            side,
            Price(price),
            Qty(qty),
            strategy=strategy,
            reason=reason,
            inputs=inputs,
        )

    @staticmethod
    def cancel(ticker: str, client_order_id: str, *, strategy: str = "", reason: str = "") -> OrderIntent:
        return OrderIntent(IntentAction.CANCEL, ticker, client_order_id, strategy=strategy, reason=reason)


class TopOfBook(msgspec.Struct, frozen=True):
    """The best prices of one market's book, in YES prices (``None``: that side is empty).

    ``as_of_ms`` is when the book was last known to match the exchange (its last frame or healthy
    heartbeat), on the clock of whoever compares it; ``stale`` is the book's own verdict (no
    snapshot yet, or a sequence gap)."""

    ticker: str
    best_bid: Price | None
    best_ask: Price | None
    as_of_ms: int
    stale: bool = False
    settlement_floor: Price = Price(0)
    """The lowest YES value (the market's settlement floor; $0 without one)."""

    @property
    def mark(self) -> Price | None:
        """The YES mark: the mid of a two-sided book (rounded down), never below the settlement floor."""
        if self.best_bid is None or self.best_ask is None:
            return None
        return Price(max((self.best_bid + self.best_ask) // 2, self.settlement_floor))


class Fit(msgspec.Struct, frozen=True):
    """How much of an order the risk limits leave room for right now: ``qty`` (at most the size
    asked for; 0 when nothing fits), the ``rule`` that bound it ("" when the whole size fits; else
    a risk rule name such as ``max_position_per_market``) and a ``reason`` a person can read."""

    qty: Qty
    rule: str = ""
    reason: str = ""

    @property
    def whole(self) -> bool:
        return not self.rule


# --------------------------------------------------------------------------------------------
# Brackets: take-profit + emulated stop-loss around the position one entry order opened


@dataclass(frozen=True, slots=True)
class BracketRequest:
    """Protect the position opened by one entry order with a take-profit and a stop-loss (OCO).

    Made by a strategy when its entry fills; honoured by the execution engine, which owns the child
    orders. Kalshi has no stop orders, so (docs/architecture.md):

    - **Take-profit** rests as a plain GTC limit order on ``exit_side`` at ``take_profit_price``
      for ``qty`` minus whatever the bracket has already exited, never more than is held (Kalshi
      refuses resting ``reduce_only`` orders: the engine keeps it within the position instead).
    - **Stop-loss** is emulated: the engine watches the market's top of book and, once
      ``stop_triggered(best_bid, best_ask)`` has held on fresh books for a short confirmation window
      (``execution.protection``: a repricing maker's delete-then-add is not a fall), cancels the
      take-profit and sends a marketable IOC limit order on ``exit_side`` at ``stop_limit_price``
      (``reduce_only``) for what is left. An empty exit side does not trigger (there is nothing to
      hit); the engine keeps watching.
    - The two are one OCO pair: a take-profit fill shrinks the stop's size; the stop firing cancels
      the take-profit; partial fills resize the sibling.

    All prices are YES prices, like every order price. ``entry_side`` is the entry order's side
    (``BID`` bought YES, ``ASK`` bought NO); the exits are on ``exit_side`` (the other one):

    ====================  ==========================  ==============================================
    position held         exit orders                 stop triggers when
    ====================  ==========================  ==============================================
    YES (entry ``BID``)   ``ASK`` (sell YES)          best YES bid ≤ ``stop_trigger_price``
    NO  (entry ``ASK``)   ``BID`` (sell NO)           best YES ask ≥ ``stop_trigger_price``
    ====================  ==========================  ==============================================

    **Idempotent, latest wins.** ``qty`` is the *cumulative* filled quantity of the entry to protect
    (not the size of the latest fill), so a repeated request changes nothing and a request lost
    between two fills is made good by the next one. A request with a larger ``qty`` (more of the
    entry filled) or new prices (a new average entry price) resizes the take-profit (amend) and
    re-arms the stop at the new prices. The engine derives the children's ``client_order_id`` from
    ``entry_client_order_id`` (e.g. ``{entry}-tp``, ``{entry}-sl-{n}``). ``strategy``, ``reason``
    and ``inputs`` explain the request for the audit log, as for ``OrderIntent``.

    Construction checks the value makes sense: ``qty`` > 0, prices strictly inside ($0, $1), and
    the stop's limit at or beyond its trigger, which is beyond the entry's side of the take-profit
    (YES held: ``stop_limit ≤ stop_trigger < take_profit``; NO held: the mirror image)."""

    ticker: str
    entry_client_order_id: str
    entry_side: BookSide
    qty: Qty
    take_profit_price: Price
    stop_trigger_price: Price
    stop_limit_price: Price
    strategy: str = ""
    reason: str = ""
    inputs: tuple[tuple[str, str | int], ...] = ()

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError(f"bracket for {self.entry_client_order_id} must protect a positive quantity")
        prices = (self.take_profit_price, self.stop_trigger_price, self.stop_limit_price)
        if not all(0 < p < PRICE_SCALE for p in prices):
            raise ValueError("bracket prices must be strictly between $0 and $1")
        if self.entry_side is BookSide.BID:
            ordered = self.stop_limit_price <= self.stop_trigger_price < self.take_profit_price
        else:
            ordered = self.take_profit_price < self.stop_trigger_price <= self.stop_limit_price
        if not ordered:
            raise ValueError(
                f"bracket prices out of order for a {self.entry_side.outcome.value.upper()} position: "
                f"take-profit {format_price(self.take_profit_price)}, stop {format_price(self.stop_trigger_price)}"
                f" (limit {format_price(self.stop_limit_price)})"
            )

    @property
    def held(self) -> Side:
        """The outcome the protected position is long."""
        return self.entry_side.outcome

    @property
    def exit_side(self) -> BookSide:
        """The side of the take-profit and stop orders (the entry's opposite)."""
        return self.entry_side.other

    def stop_triggered(self, best_bid: int | None, best_ask: int | None) -> bool:
        """Whether this top of book is at or through the stop (YES prices; ``None`` = that side is
        empty); the engine fires once it has stayed so for its confirmation window."""
        if self.entry_side is BookSide.BID:
            return best_bid is not None and best_bid <= self.stop_trigger_price
        return best_ask is not None and best_ask >= self.stop_trigger_price


@dataclass(frozen=True, slots=True)
class BracketCancel:
    """Stop protecting the position opened by ``entry_client_order_id``: the engine cancels the
    bracket's take-profit and disarms its stop (an emulated stop order already sent is not
    recalled). Fills already made stand; the position is the strategy's to manage again (it sends
    this just before its own exit order, in the same list, so the two exits never race)."""

    ticker: str
    entry_client_order_id: str
    strategy: str = ""
    reason: str = ""
    inputs: tuple[tuple[str, str | int], ...] = ()


# --------------------------------------------------------------------------------------------
# Fees


TAKER_FEE_RATE = (7, 100)
"""0.07 (https://docs.kalshi.com/getting_started/fee_rounding), as an exact fraction."""
MAKER_FEE_RATES: dict[FeeType, tuple[int, int]] = {
    FeeType.QUADRATIC: (0, 1),
    FeeType.QUADRATIC_WITH_MAKER_FEES: (7, 400),  # 0.0175 = 0.25 × taker
    FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES: (7, 200),  # 0.035 = 0.5 × taker
    FeeType.FLAT: (0, 1),
}
FLAT_FEE_PER_CONTRACT = Money(100)
"""``flat`` fee type: $0.01 per contract (× multiplier) for takers, none for makers — an
assumption (the fee-schedule PDF's table is not reproduced anywhere we have), the same one the
embedded exchange makes (``sim/core/fees.py`` builds its rules from these constants)."""
MICROS_PER_MONEY = 100
"""Micro-dollars ($0.000001, a ``Price`` unit times a ``Qty`` unit, the grid trade fees are rounded
up to) per ``Money`` unit."""
ORDINARY_PRECISION_MICROS = 10_000
"""Balance grid of a non-direct member's account: $0.01."""
DIRECT_MEMBER_PRECISION_MICROS = 100
"""Balance grid of a direct member's account: $0.0001."""


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """One market's trading fees: its series' ``fee_type`` and ``fee_multiplier`` (an exact
    fraction ``(numerator, denominator)``; an event's ``fee_multiplier_override`` replaces it).

    ``trade_fee_micros`` is the trade fee of one fill of ``qty`` at ``price`` (either leg's price:
    P·(1−P) is the same) as https://docs.kalshi.com/getting_started/fee_rounding defines it: the
    fee model rounded **up** to $0.000001, in micro-dollars (finer than ``Money``, so it is exact):
    taker ``0.07·M·C·P·(1−P)``; maker 0 / ``0.0175·M·C·P·(1−P)`` / ``0.035·M·C·P·(1−P)`` by fee type;
    ``flat``: ``M·$0.01·C`` taker, no maker fee. ``fee(..., round_to=g)`` is that fee's effect on a
    balance kept on a grid of ``g`` ``Money`` units ($0.0001 for direct members, ``round_to=100``
    = $0.01 for the others): the trade fee rounded up to the grid — exactly what a fill whose
    price × count is on the grid costs before any rebate of the order's fee accumulator."""

    fee_type: FeeType = FeeType.QUADRATIC
    multiplier: tuple[int, int] = (1, 1)

    def __post_init__(self) -> None:
        numerator, denominator = self.multiplier
        if denominator <= 0 or numerator < 0:
            raise ValueError(
                f"fee multiplier must be a fraction >= 0 with a positive denominator, not {self.multiplier}"
            )

    def trade_fee_micros(self, price: int, qty: int, *, taker: bool) -> int:
        """The trade fee of one fill, rounded up to $0.000001, in micro-dollars."""
        m_num, m_den = self.multiplier
        if self.fee_type is FeeType.FLAT:
            # micro-dollars = $0.01·M·(qty/100) × 10^6 = FLAT (Money) × 100 × M × qty / 100
            num, den = (FLAT_FEE_PER_CONTRACT * m_num * qty, m_den) if taker else (0, 1)
        else:
            r_num, r_den = TAKER_FEE_RATE if taker else MAKER_FEE_RATES[self.fee_type]
            # micro-dollars = rate·M·(qty/100)·(price/1e4)·((1e4−price)/1e4) × 10^6
            num = r_num * m_num * qty * price * (PRICE_SCALE - price)
            den = r_den * m_den * PRICE_SCALE
        return -(-num // den)

    def fee(self, price: int, qty: int, *, taker: bool, round_to: int = 1) -> Money:
        """The fee of one fill on a balance grid of ``round_to`` Money units (1 = $0.0001): the
        trade fee rounded up to that grid."""
        step = round_to * MICROS_PER_MONEY
        return Money(-(-self.trade_fee_micros(price, qty, taker=taker) // step) * round_to)

    def taker_fee(self, price: int, qty: int) -> Money:
        return self.fee(price, qty, taker=True)

    def maker_fee(self, price: int, qty: int) -> Money:
        return self.fee(price, qty, taker=False)


def round_fill_balance(
    revenue_micros: int, trade_fee_micros: int, accumulator_micros: int, precision_micros: int
) -> tuple[int, int, int, int, int]:
    """Kalshi's fee_rounding page for one fill of one order, in micro-dollars: ``revenue`` is
    signed (negative for a buyer), ``trade_fee_micros`` the trade fee rounded up to $0.000001
    (``FeeSchedule.trade_fee_micros``), the accumulator the order's carried rounding overpayment,
    ``precision_micros`` the account's balance grid. Returns (balance change aligned — floored — to
    the grid, rounding fee, accumulator before rebate, rebate, accumulator carried on).

    The rounding fee joins the accumulator, which is rebated in whole grid steps — but never more
    than the fill's own trade and rounding fees, so its net fee (trade + rounding − rebate) is never
    negative (the page's promise); what that cap holds back stays in the accumulator."""
    change = revenue_micros - trade_fee_micros
    aligned = (change // precision_micros) * precision_micros
    rounding = change - aligned
    accumulated = accumulator_micros + rounding
    rebate = min(accumulated, trade_fee_micros + rounding) // precision_micros * precision_micros
    return aligned, rounding, accumulated, rebate, accumulated - rebate


def net_purchase(position: int, basis: int, sign: int, qty: int, cost: int) -> tuple[int, int, int, int]:
    """Net the purchase of ``qty`` contracts of one leg (``sign`` +1 YES, -1 NO) that cost ``cost``
    (Money, fees excluded) into a signed position (``Qty``, > 0 YES) with average-cost ``basis``.

    Buying the leg opposite to the one held closes ``min(qty, held)`` contracts; each closed
    YES+NO pair is worth exactly $1, so closing realizes ``$1 × closed − (cost of the legs just
    bought that closed) − (basis released)``; any excess opens a position on the bought leg.
    Returns (position, basis, realized P&L of this purchase, contracts closed)."""
    held = position * sign
    if held >= 0:
        return position + sign * qty, basis + cost, 0, 0
    held_abs = -held
    closed = min(qty, held_abs)
    cost_of_closing_legs = cost * closed // qty
    released = basis if closed == held_abs else basis * closed // held_abs
    realized = closed * (PRICE_SCALE // QTY_SCALE) - cost_of_closing_legs - released
    basis -= released
    if qty > closed:  # flipped through zero: the rest opens a position on the bought side
        basis += cost - cost_of_closing_legs
    return position + sign * qty, basis, realized, closed


# --------------------------------------------------------------------------------------------
# Inventory skew (market making): how far to shift quotes, in ticks, given the position


def inventory_skew_ticks(position: int, max_position: int, max_skew_ticks: int) -> int:
    """Quote offset in grid levels for ``position`` (signed, YES > 0): linear in the position's
    share of ``max_position``, rounded to the nearest tick (halves away from zero), clamped to
    ``±max_skew_ticks``. The sign is in YES-price terms and is *added* to both bid and ask: long
    YES gives a negative offset (quote lower: sell YES more readily, buy it less), long NO a
    positive one; flat gives 0; at or beyond the limit, the full ``max_skew_ticks``."""
    if max_position <= 0:
        raise ValueError("max_position must be positive")
    if max_skew_ticks < 0:
        raise ValueError("max_skew_ticks must not be negative")
    numerator = -position * max_skew_ticks
    whole, rest = divmod(abs(numerator), max_position)
    if 2 * rest >= max_position:
        whole += 1
    ticks = whole if numerator >= 0 else -whole
    return max(-max_skew_ticks, min(max_skew_ticks, ticks))


def order_levels(grid: TickGrid) -> tuple[Price, ...]:
    """The grid's valid order prices (strictly inside ($0, $1)), ascending; computed once per grid."""
    return grid._orders


def shift_on_grid(grid: TickGrid, price: int, ticks: int) -> Price:
    """``price`` moved ``ticks`` grid levels (up if positive), kept within the valid order prices
    (levels differ in size across the bands of a tapered grid). An off-grid ``price`` counts as the
    level just below it when moving up and just above it when moving down, so one tick reaches the
    nearest level in the direction of the move."""
    levels = grid._orders
    start = bisect.bisect_right(levels, price) - 1 if ticks >= 0 else bisect.bisect_left(levels, price)
    index = min(len(levels) - 1, max(0, start + ticks))
    return levels[index]


def trading_day(market_ms: int) -> date:
    """The trading day of a moment of market time (epoch milliseconds): its date in New York."""
    return datetime.fromtimestamp(market_ms / 1000, tz=UTC).astimezone(TRADING_TIME_ZONE).date()
