"""Background traders of the living world: market makers, noise takers and informed traders.

Contract:
- ``Traders(engine, oracle, *, seed, specs=DEFAULT_TRADERS, pace=Pace())`` is a population of
  traders, each on its own funded account (``open_accounts()``), acting only through the
  ``MatchingEngine`` it is given (``place``/``amend``/``cancel``, in process, like any other
  member): they see nothing but the public book, their own orders and positions, and the
  ``Oracle``.
- The ``Oracle`` is how the world lets traders read its hidden truth:
  ``probability(ticker, now_ms, shift)`` is the calibrated P(YES) an informed observer would give
  at ``now_ms``, with ``shift`` moving the observer's view by that many standard deviations of what
  is still unknown (the same shift moves every market of an event consistently). Each trader
  carries its own persistent, slowly changing shift per event (an AR(1) process with standard
  deviation ``skill_sd``), so market makers quote around their own noisy estimate and informed
  traders (small ``skill_sd``) trade against stale or wrong quotes.
- ``watch(MarketView)`` / ``forget(ticker)`` say which markets exist; traders act only on markets
  that are ``active`` and before their close. A ``MarketView`` carries how the market prices
  probabilities (``prices``: a ``calibration.FavouriteLongshot`` curve — cheap contracts dearer than
  their chance, favourites cheaper; None = at their chance) and its ``liquidity`` tier (which makers
  quote it, how large, how often noise takers come). ``tick(now_ms)`` runs the population for the
  simulated time since the previous tick, in rounds: a tick shorter than ``pace.round_ms`` is
  carried to the next one; a longer one runs at most ``pace.max_rounds`` rounds, each covering at
  most ``pace.max_span_ms`` (arrival rates scale with the time covered). The rest of a long jump is
  skipped (``stats.skipped_ms``), so one tick's work is bounded however far the clock jumped: a
  very fast clock trades less per simulated hour rather than burning CPU.
- Makers quote one post-only bid and ask per market of their tiers around the market's price of
  their estimate (``prices.price(p)``), skewed against inventory (in proportion to ``4p(1−p)``,
  the risk a contract carries), sizes × the tier's ``size``;
  the side that would add to a position at ``inventory_limit`` is not quoted (so a position
  passes the limit by one quote at most). A quote that would cross joins one tick behind the
  other side instead, and a quote left far on the wrong side of the estimate (news) is taken
  first. Size shrinks away from the money (``4p(1−p)``, floor 10%) and
  toward the close (to a quarter over ``close_ramp_ms``), spreads widen toward the close (to 3×)
  and narrow toward $0 and $1 (``4p(1−p)`` of the price, floor a tenth: a near-dead bracket
  is offered at 1¢) and quotes are pulled ``pull_before_close_ms`` before it. Quotes are refreshed every
  ``requote_ms`` or so (up to 3× slower far from the money) and at once after a fill.
- Noise takers arrive at random (Poisson, × the tier's ``activity``, thinned to 15% far from the
  money), pick a side with a mild favourite–longshot tilt and cross the spread with IOC orders
  (the touch plus a random slippage), sometimes for fractional counts; on a one-sided book (a
  near-certain market) they now and then buy the cheap side as a lottery ticket (``lottery``).
  Informed traders look at random markets and take liquidity only when the book is wrong by
  more than their edge plus the taker fee, within a position limit.
- Prices leave this module only as valid grid prices of the market (``GridIndex``), strictly
  inside ($0, $1); makers and informed traders round toward safety (a buyer down, a seller up).
  Probabilities and noise are floats until that edge; sizes are whole ``Qty``.
- A rejected request (``ExchangeError``: balance, market just closed, ...) never stops the loop:
  it is counted in ``stats.rejections`` by error code.
- Deterministic: each trader has its own RNG seeded from the world seed and its user id; the
  order of work is fixed (traders in spec order, markets in watch order), so the same seed and
  the same tick times give the same orders and trades.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from kalshi_trader.domain import (
    PRICE_SCALE,
    QTY_SCALE,
    BookSide,
    MarketStatus,
    Money,
    OrderStatus,
    Price,
    Qty,
    SelfTradePrevention,
    TickGrid,
    TimeInForce,
)
from kalshi_trader.sim.core.matching import MatchingEngine
from kalshi_trader.sim.core.state import ExchangeError, MarketState, NewOrder, SimOrder
from kalshi_trader.sim.world.calibration_targets import LIQUIDITY, FavouriteLongshot, Liquidity, Tier

MINUTE_MS: Final = 60_000
HOUR_MS: Final = 60 * MINUTE_MS
_DOLLAR: Final = PRICE_SCALE
_CONTRACT: Final = QTY_SCALE
_BID: Final = BookSide.BID
_ASK: Final = BookSide.ASK
_ACTIVE: Final = MarketStatus.ACTIVE
_RESTING: Final = OrderStatus.RESTING
_GTC: Final = TimeInForce.GOOD_TILL_CANCELED
_IOC: Final = TimeInForce.IMMEDIATE_OR_CANCEL


class Oracle(Protocol):
    """The world's hidden truth as traders may read it (see the module docstring)."""

    def probability(self, ticker: str, now_ms: int, shift: float = 0.0) -> float | None: ...


@dataclass(frozen=True, slots=True)
class MarketView:
    """What a trader knows about a market's listing."""

    ticker: str
    event_ticker: str
    close_ms: int
    grid: TickGrid
    prices: FavouriteLongshot | None = None
    """How the market prices a probability (None: at the probability itself)."""
    liquidity: Liquidity = LIQUIDITY["standard"]


# --------------------------------------------------------------------------------------------
# Specs


@dataclass(frozen=True, slots=True)
class MakerSpec:
    """A market maker: one bid and one ask per market around its own estimate."""

    user_id: str
    cash: Money
    skill_sd: float = 0.25
    noise_tau_ms: int = 2 * HOUR_MS
    half_spread: int = 200
    """Half the quoted spread at the money, in ``Price`` units ($0.0001)."""
    quote_size: Qty = Qty(50 * _CONTRACT)
    """Size per side at the money, far from the close."""
    min_size: Qty = Qty(1 * _CONTRACT)
    inventory_limit: Qty = Qty(600 * _CONTRACT)
    skew: int = 300
    """Price shift (``Price`` units) against the position when it is at the limit."""
    requote_ms: int = 5 * MINUTE_MS
    close_ramp_ms: int = 3 * HOUR_MS
    """Over the last ``close_ramp_ms`` size falls to a quarter and the spread widens to 3×."""
    pull_before_close_ms: int = 2 * MINUTE_MS
    tiers: frozenset[Tier] = frozenset({"deep", "standard", "thin"})
    """The liquidity tiers whose markets this maker quotes."""
    min_chance: float = 0.0002
    """Both sides are quoted while the estimate is within [min_chance, 1 − min_chance], at worst at
    the grid's lowest bid / highest ask (a near-dead bracket still bids 1¢)."""


@dataclass(frozen=True, slots=True)
class NoiseSpec:
    """A noise taker: random-side IOC orders that cross the spread."""

    user_id: str
    cash: Money
    orders_per_hour: float = 3.0
    """Arrival rate per market at the money (×0.15 at the extremes)."""
    mean_contracts: float = 8.0
    max_contracts: int = 60
    max_slippage: int = 200
    """How far past the best price (``Price`` units) the IOC limit reaches."""
    longshot_tilt: float = 0.12
    """Extra chance of buying the cheap side when a market is below 25% or above 75%."""
    lottery: float = 0.25
    """Chance that an arrival on a one-sided (near-certain) market buys the cheap side anyway."""


@dataclass(frozen=True, slots=True)
class InformedSpec:
    """A better-informed trader: takes mispriced liquidity with IOC orders."""

    user_id: str
    cash: Money
    skill_sd: float = 0.08
    noise_tau_ms: int = 2 * HOUR_MS
    edge: int = 150
    """Required mispricing beyond the taker fee, ``Price`` units."""
    looks_per_hour: float = 6.0
    """How often per market it checks the book."""
    max_contracts: int = 40
    position_limit: Qty = Qty(400 * _CONTRACT)


TraderSpec = MakerSpec | NoiseSpec | InformedSpec


def _usd(dollars: int) -> Money:
    return Money(dollars * _DOLLAR)


DEFAULT_TRADERS: Final[tuple[TraderSpec, ...]] = (
    MakerSpec(
        "bg-maker-tight",
        _usd(3_000_000),
        skill_sd=0.08,
        half_spread=150,
        quote_size=Qty(300 * _CONTRACT),
        inventory_limit=Qty(3_000 * _CONTRACT),
        skew=200,
        requote_ms=2 * MINUTE_MS,
        tiers=frozenset({"deep", "standard"}),
    ),
    MakerSpec(
        "bg-maker-core",
        _usd(4_000_000),
        skill_sd=0.1,
        half_spread=200,
        quote_size=Qty(250 * _CONTRACT),
        inventory_limit=Qty(3_000 * _CONTRACT),
        requote_ms=2 * MINUTE_MS,
    ),
    NoiseSpec("bg-noise-a", _usd(1_000_000), mean_contracts=30.0, max_contracts=300, longshot_tilt=0.2),
    NoiseSpec(
        "bg-noise-b",
        _usd(1_000_000),
        orders_per_hour=2.0,
        mean_contracts=50.0,
        max_contracts=400,
        longshot_tilt=0.3,
    ),
    InformedSpec("bg-sharp-1", _usd(1_000_000), skill_sd=0.04, edge=200, looks_per_hour=4.0, max_contracts=15),
    InformedSpec("bg-sharp-2", _usd(1_000_000), skill_sd=0.06, edge=300, looks_per_hour=2.0, max_contracts=25),
)
"""A tight maker on the liquid series, a wider one everywhere, two noise takers, two informed
traders (sizes and rates from ``sim/world/calibration_targets.py``'s figures: makers earn, takers lose)."""


@dataclass(frozen=True, slots=True)
class Pace:
    """How simulated time turns into work per ``tick``."""

    round_ms: int = 15_000
    """Simulated time one round of activity normally covers (a tick shorter than this waits)."""
    max_rounds: int = 3
    """Rounds per tick at most; after a longer jump each round covers more time..."""
    max_span_ms: int = 10 * MINUTE_MS
    """...but never more than this: time beyond ``max_rounds × max_span_ms`` per tick is skipped
    (``stats.skipped_ms``), which bounds one tick's work at any clock speed."""

    def __post_init__(self) -> None:
        if self.round_ms <= 0 or self.max_rounds <= 0 or self.max_span_ms < self.round_ms:
            raise ValueError("round_ms and max_rounds must be positive and max_span_ms >= round_ms")


@dataclass(slots=True)
class TraderStats:
    """What the population did (counts of requests, by kind)."""

    placed: int = 0
    amended: int = 0
    canceled: int = 0
    taker_orders: int = 0
    rounds: int = 0
    skipped_ms: int = 0
    """Simulated time not covered by rounds because a tick jumped too far."""
    rejections: Counter[str] = field(default_factory=Counter)


# --------------------------------------------------------------------------------------------
# Grid rounding (fast: one bisect per price)


class GridIndex:
    """A market's valid order prices, for rounding floats (in ``Price`` units) onto the grid."""

    __slots__ = ("_prices",)

    _cache: dict[TickGrid, GridIndex] = {}  # noqa: RUF012 - shared, immutable entries

    def __init__(self, grid: TickGrid) -> None:
        self._prices = tuple(p for p in grid.levels() if 0 < p < PRICE_SCALE)

    @classmethod
    def of(cls, grid: TickGrid) -> GridIndex:
        index = cls._cache.get(grid)
        if index is None:
            index = cls._cache[grid] = cls(grid)
        return index

    @property
    def lowest(self) -> Price:
        return Price(self._prices[0])

    @property
    def highest(self) -> Price:
        return Price(self._prices[-1])

    def down(self, units: float) -> Price | None:
        """The highest valid order price ≤ ``units`` (``None`` if there is none)."""
        i = bisect.bisect_right(self._prices, math.floor(units))
        return Price(self._prices[i - 1]) if i else None

    def up(self, units: float) -> Price | None:
        """The lowest valid order price ≥ ``units`` (``None`` if there is none)."""
        prices = self._prices
        i = bisect.bisect_left(prices, math.ceil(units))
        return Price(prices[i]) if i < len(prices) else None

    def step_above(self, price: int) -> int:
        """Distance to the next valid price above ``price`` (0 at the top)."""
        prices = self._prices
        i = bisect.bisect_right(prices, price)
        return prices[i] - price if i < len(prices) else 0


def money_factor(p: float) -> float:
    """1 at the money, toward 0 for near-certain markets: ``4p(1−p)``."""
    return 4.0 * p * (1.0 - p)


def _taker_fee_units(p: float) -> float:
    """Quadratic taker fee per contract (``Price`` units, before rounding): 0.07·p·(1−p)·$1."""
    return 0.07 * p * (1.0 - p) * _DOLLAR


# --------------------------------------------------------------------------------------------
# Traders


@dataclass(slots=True)
class _Market:
    view: MarketView
    grid: GridIndex
    state: MarketState
    """The engine's live state of the market (read for its status)."""


class _Belief:
    """A trader's persistent view shifts, one AR(1) process per event."""

    __slots__ = ("_rng", "_sd", "_state", "_tau")

    def __init__(self, rng: random.Random, sd: float, tau_ms: int) -> None:
        self._rng, self._sd, self._tau = rng, sd, tau_ms
        self._state: dict[str, tuple[float, int]] = {}

    def shift(self, event_ticker: str, now_ms: int) -> float:
        if self._sd == 0.0:
            return 0.0
        state = self._state.get(event_ticker)
        if state is None:
            z = self._rng.gauss(0.0, 1.0)
        else:
            z, last = state
            if now_ms > last:
                rho = math.exp(-(now_ms - last) / self._tau)
                z = rho * z + math.sqrt(1.0 - rho * rho) * self._rng.gauss(0.0, 1.0)
        self._state[event_ticker] = (z, now_ms)
        return self._sd * z

    def forget(self, event_ticker: str) -> None:
        self._state.pop(event_ticker, None)


class _Agent:
    """Shared plumbing: account id, RNG, engine access with rejections counted."""

    def __init__(self, user_id: str, cash: Money, engine: MatchingEngine, stats: TraderStats, seed: int) -> None:
        self.user_id = user_id
        self.cash = cash
        self.engine = engine
        self.stats = stats
        self.rng = random.Random(f"{seed}:trader:{user_id}")

    def place(self, ticker: str, side: BookSide, price: Price, count: Qty, tif: TimeInForce) -> SimOrder | None:
        """A GTC order is a post-only maker quote; anything else takes liquidity."""
        stp = SelfTradePrevention.MAKER if tif is _GTC else SelfTradePrevention.TAKER_AT_CROSS
        try:
            result = self.engine.place(
                self.user_id, NewOrder(ticker, side, price, count, tif, stp, post_only=tif is _GTC)
            )
        except ExchangeError as exc:
            self.stats.rejections[exc.code] += 1
            return None
        self.stats.placed += 1
        if tif is not _GTC:
            self.stats.taker_orders += 1
        return result.order

    def position(self, ticker: str) -> int:
        position = self.engine.account(self.user_id).positions.get(ticker)
        return 0 if position is None else position.position

    def forget(self, ticker: str, event_ticker: str) -> None:
        """The market is gone (settled)."""

    def act(self, markets: Sequence[_Market], now_ms: int, span_ms: int, oracle: Oracle) -> None:
        raise NotImplementedError


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth; means here are small)."""
    if mean <= 0.0:
        return 0
    if mean > 30.0:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


@dataclass(slots=True)
class _Quotes:
    bid: SimOrder | None = None
    ask: SimOrder | None = None
    due_ms: int = 0
    filled: int = 0
    """Contracts filled on both quotes when they were last set (a change means a hit)."""

    def remember_fills(self) -> None:
        self.filled = (0 if self.bid is None else self.bid.filled) + (0 if self.ask is None else self.ask.filled)


class _Maker(_Agent):
    def __init__(self, spec: MakerSpec, engine: MatchingEngine, stats: TraderStats, seed: int) -> None:
        super().__init__(spec.user_id, spec.cash, engine, stats, seed)
        self.spec = spec
        self.belief = _Belief(self.rng, spec.skill_sd, spec.noise_tau_ms)
        self.quotes: dict[str, _Quotes] = {}

    def forget(self, ticker: str, event_ticker: str) -> None:
        self.quotes.pop(ticker, None)
        self.belief.forget(event_ticker)

    def act(self, markets: Sequence[_Market], now_ms: int, span_ms: int, oracle: Oracle) -> None:
        spec, book = self.spec, self.quotes
        for market in markets:
            view = market.view
            if view.liquidity.tier not in spec.tiers:
                continue
            quotes = book.get(view.ticker)
            if quotes is None:
                quotes = book[view.ticker] = _Quotes(due_ms=now_ms)
            elif now_ms < quotes.due_ms:  # not due: requote only if a quote was hit (inlined: hot loop)
                bid, ask = quotes.bid, quotes.ask
                if (0 if bid is None else bid.filled) + (0 if ask is None else ask.filled) == quotes.filled:
                    continue
            p = self._requote(market, quotes, now_ms, oracle)
            quotes.remember_fills()
            # Quiet markets far from the money are refreshed less often (up to 3× the interval).
            slow = 1.0 if p is None else 1.0 / max(1.0 / 3.0, money_factor(p))
            due = now_ms + int(spec.requote_ms * slow * (0.5 + self.rng.random()))
            pull_ms = view.close_ms - spec.pull_before_close_ms
            quotes.due_ms = min(due, pull_ms) if now_ms < pull_ms else due  # wake up to pull the quotes

    def _requote(self, market: _Market, quotes: _Quotes, now_ms: int, oracle: Oracle) -> float | None:
        """Set both quotes for the maker's current estimate; returns the estimate."""
        spec, view, grid = self.spec, market.view, market.grid
        to_close = view.close_ms - now_ms
        p = None
        if to_close > spec.pull_before_close_ms:
            p = oracle.probability(view.ticker, now_ms, self.belief.shift(view.event_ticker, now_ms))
        if p is None:
            self._set(view.ticker, quotes, _BID, None, 0)
            self._set(view.ticker, quotes, _ASK, None, 0)
            return None
        closeness = 1.0 - min(1.0, to_close / spec.close_ramp_ms)
        size = spec.quote_size * view.liquidity.size * max(0.1, money_factor(p)) * (1.0 - 0.75 * closeness)
        size_qty = max(spec.min_size, int(size) // _CONTRACT * _CONTRACT)
        position = self.position(view.ticker)
        price = p if view.prices is None else view.prices.price(p)
        half = spec.half_spread * view.liquidity.spread * (1.0 + 2.0 * closeness) * max(0.1, money_factor(price))
        # Inventory skew in proportion to the risk a contract carries (none left near $0 or $1).
        lean = max(-1.0, min(1.0, position / spec.inventory_limit)) * max(0.1, money_factor(p))
        center = price * _DOLLAR - spec.skew * lean
        bid = grid.down(center - half) if position < spec.inventory_limit else None
        ask = grid.up(center + half) if position > -spec.inventory_limit else None
        if bid is None and p >= spec.min_chance and position < spec.inventory_limit:
            bid = grid.lowest
        if ask is None and p <= 1.0 - spec.min_chance and position > -spec.inventory_limit:
            ask = grid.highest
        self._take_stale(market, quotes, p, center, half, position)
        # Move the side that gets out of the way first, so the two quotes never cross each other.
        old_bid = quotes.bid.price if quotes.bid is not None and quotes.bid.status is _RESTING else None
        if bid is not None and old_bid is not None and bid > old_bid:
            self._set(view.ticker, quotes, _ASK, self._passive(market, _ASK, ask), size_qty)
            self._set(view.ticker, quotes, _BID, self._passive(market, _BID, bid), size_qty)
        else:
            self._set(view.ticker, quotes, _BID, self._passive(market, _BID, bid), size_qty)
            self._set(view.ticker, quotes, _ASK, self._passive(market, _ASK, ask), size_qty)
        return p

    def _take_stale(
        self, market: _Market, quotes: _Quotes, p: float, center: float, half: float, position: int
    ) -> None:
        """Hit a quote left far on the wrong side of the estimate (beyond three half-spreads, at
        least 4¢, plus the fee) before quoting: what a maker does after news, instead of joining
        behind a stale quote. Its own stale quote on that side is pulled first."""
        spec, ticker, grid = self.spec, market.view.ticker, market.grid
        margin = max(3.0 * half, 400.0) + _taker_fee_units(p)
        for side, own in ((_ASK, quotes.ask), (_BID, quotes.bid)):
            if own is not None and own.status is _RESTING:
                stale = own.price < center - margin if side is _ASK else own.price > center + margin
                if stale:
                    self._set(ticker, quotes, side, None, 0)
        best_bid, _, best_no, _ = self.engine.top(ticker)
        size = Qty(spec.quote_size)
        if best_no is not None and _DOLLAR - best_no < center - margin and position < spec.inventory_limit:
            limit = grid.down(center - margin)
            if limit is not None:
                self.place(ticker, _BID, limit, Qty(min(size, spec.inventory_limit - position)), _IOC)
        elif best_bid is not None and best_bid > center + margin and position > -spec.inventory_limit:
            limit = grid.up(center + margin)
            if limit is not None:
                self.place(ticker, _ASK, limit, Qty(min(size, spec.inventory_limit + position)), _IOC)

    def _passive(self, market: _Market, side: BookSide, price: Price | None) -> Price | None:
        """Makers post liquidity (post-only): a quote that would cross the other side of the book
        as it is now joins one tick behind it instead."""
        if price is None:
            return None
        best_bid, _, best_no, _ = self.engine.top(market.view.ticker)
        if side is _BID and best_no is not None and price >= _DOLLAR - best_no:
            return market.grid.down(_DOLLAR - best_no - 1)
        if side is _ASK and best_bid is not None and price <= best_bid:
            return market.grid.up(best_bid + 1)
        return price

    def _set(self, ticker: str, quotes: _Quotes, side: BookSide, price: Price | None, size: int) -> None:
        order = quotes.bid if side is _BID else quotes.ask
        live = order is not None and order.status is _RESTING
        if price is None:
            if live:
                assert order is not None
                try:
                    self.engine.cancel(self.user_id, order.order_id)
                    self.stats.canceled += 1
                except ExchangeError as exc:
                    self.stats.rejections[exc.code] += 1
            new: SimOrder | None = None
        elif live:
            assert order is not None
            if order.price == price and size // 2 <= order.remaining <= 2 * size:
                return
            try:
                self.engine.amend(
                    self.user_id,
                    order.order_id,
                    ticker=ticker,
                    side=side,
                    price=price,
                    count=Qty(order.filled + size),
                )
                self.stats.amended += 1
                new = order if order.status is _RESTING else None
            except ExchangeError as exc:
                self.stats.rejections[exc.code] += 1
                new = order if order.status is _RESTING else None
        else:
            new = self.place(ticker, side, price, Qty(size), _GTC)
            if new is not None and new.status is not _RESTING:
                new = None
        if side is _BID:
            quotes.bid = new
        else:
            quotes.ask = new


class _Noise(_Agent):
    def __init__(self, spec: NoiseSpec, engine: MatchingEngine, stats: TraderStats, seed: int) -> None:
        super().__init__(spec.user_id, spec.cash, engine, stats, seed)
        self.spec = spec

    def act(self, markets: Sequence[_Market], now_ms: int, span_ms: int, oracle: Oracle) -> None:
        # Arrivals over all markets at the top rate, each kept with its market's intensity share
        # (Poisson thinning): the cost is per arrival, not per market.
        spec, rng, engine = self.spec, self.rng, self.engine
        busiest = max(m.view.liquidity.activity for m in markets)
        arrivals = _poisson(rng, spec.orders_per_hour * busiest * len(markets) * span_ms / HOUR_MS)
        for _ in range(arrivals):
            market = markets[rng.randrange(len(markets))]
            ticker = market.view.ticker
            keep = market.view.liquidity.activity / busiest
            yes_bid, _, no_bid, _ = engine.top(ticker)
            if yes_bid is None or no_bid is None:
                # A one-sided book (a near-certain market): now and then a lottery ticket on the
                # cheap side, at the touch.
                if (yes_bid is None and no_bid is None) or rng.random() >= keep * spec.lottery:
                    continue
                buy_yes = yes_bid is None
            else:
                mid = (yes_bid + _DOLLAR - no_bid) / (2 * _DOLLAR)
                if rng.random() >= keep * (0.15 + 0.85 * money_factor(mid)):
                    continue
                chance = 0.5
                if mid < 0.25:
                    chance += spec.longshot_tilt
                elif mid > 0.75:
                    chance -= spec.longshot_tilt
                buy_yes = rng.random() < chance
            contracts = min(spec.max_contracts, 1 + int(rng.expovariate(1.0 / spec.mean_contracts)))
            count = Qty(contracts * _CONTRACT - (50 if rng.random() < 0.1 else 0))
            if buy_yes and no_bid is not None:
                limit = market.grid.up(_DOLLAR - no_bid + rng.randint(0, spec.max_slippage))
                self.place(ticker, _BID, limit if limit is not None else market.grid.highest, count, _IOC)
            elif yes_bid is not None:
                limit = market.grid.down(yes_bid - rng.randint(0, spec.max_slippage))
                self.place(ticker, _ASK, limit if limit is not None else market.grid.lowest, count, _IOC)


class _Informed(_Agent):
    def __init__(self, spec: InformedSpec, engine: MatchingEngine, stats: TraderStats, seed: int) -> None:
        super().__init__(spec.user_id, spec.cash, engine, stats, seed)
        self.spec = spec
        self.belief = _Belief(self.rng, spec.skill_sd, spec.noise_tau_ms)

    def forget(self, ticker: str, event_ticker: str) -> None:
        self.belief.forget(event_ticker)

    def act(self, markets: Sequence[_Market], now_ms: int, span_ms: int, oracle: Oracle) -> None:
        spec, rng, engine = self.spec, self.rng, self.engine
        looks = _poisson(rng, spec.looks_per_hour * len(markets) * span_ms / HOUR_MS)
        for _ in range(looks):
            market = markets[rng.randrange(len(markets))]
            view = market.view
            yes_bid, _, no_bid, _ = engine.top(view.ticker)
            if yes_bid is None and no_bid is None:
                continue
            p = oracle.probability(view.ticker, now_ms, self.belief.shift(view.event_ticker, now_ms))
            if p is None:
                continue
            fair = p * _DOLLAR
            need = spec.edge + _taker_fee_units(p)
            position = self.position(view.ticker)
            size = rng.randint(1, spec.max_contracts) * _CONTRACT
            if no_bid is not None and _DOLLAR - no_bid <= fair - need and position < spec.position_limit:
                limit = market.grid.down(fair - need)
                count = min(size, spec.position_limit - position)
                if limit is not None and count > 0:
                    self.place(view.ticker, _BID, limit, Qty(count), _IOC)
            elif yes_bid is not None and yes_bid >= fair + need and position > -spec.position_limit:
                limit = market.grid.up(fair + need)
                count = min(size, spec.position_limit + position)
                if limit is not None and count > 0:
                    self.place(view.ticker, _ASK, limit, Qty(count), _IOC)


# --------------------------------------------------------------------------------------------
# The population


class Traders:
    """Background traders acting on one engine (see the module docstring)."""

    def __init__(
        self,
        engine: MatchingEngine,
        oracle: Oracle,
        *,
        seed: int,
        specs: Iterable[TraderSpec] = DEFAULT_TRADERS,
        pace: Pace = Pace(),
    ) -> None:
        self.engine = engine
        self.oracle = oracle
        self.pace = pace
        self.stats = TraderStats()
        self._agents: list[_Agent] = []
        for spec in specs:
            if isinstance(spec, MakerSpec):
                self._agents.append(_Maker(spec, engine, self.stats, seed))
            elif isinstance(spec, NoiseSpec):
                self._agents.append(_Noise(spec, engine, self.stats, seed))
            else:
                self._agents.append(_Informed(spec, engine, self.stats, seed))
        ids = [agent.user_id for agent in self._agents]
        if len(set(ids)) != len(ids):
            raise ValueError("trader user ids must be unique")
        self._markets: dict[str, _Market] = {}
        self._last_ms: int | None = None
        self._carry_ms = 0

    @property
    def user_ids(self) -> list[str]:
        return [agent.user_id for agent in self._agents]

    @property
    def opening(self) -> dict[str, Money]:
        """User id → the cash its account was opened with."""
        return {agent.user_id: agent.cash for agent in self._agents}

    @property
    def opening_cash(self) -> Money:
        return Money(sum(agent.cash for agent in self._agents))

    @property
    def watched(self) -> list[str]:
        return list(self._markets)

    def open_accounts(self) -> None:
        for agent in self._agents:
            self.engine.open_account(agent.user_id, agent.cash)

    def watch(self, view: MarketView) -> None:
        if view.ticker not in self._markets:
            self._markets[view.ticker] = _Market(view, GridIndex.of(view.grid), self.engine.market(view.ticker))

    def forget(self, ticker: str) -> None:
        market = self._markets.pop(ticker, None)
        if market is None:
            return
        event = market.view.event_ticker
        still_listed = any(m.view.event_ticker == event for m in self._markets.values())
        for agent in self._agents:
            agent.forget(ticker, event if not still_listed else "")

    def tick(self, now_ms: int) -> None:
        """Act for the simulated time since the last tick (bounded; see the module docstring)."""
        pace = self.pace
        if self._last_ms is None:
            self._last_ms = now_ms - pace.round_ms  # act once straight away
        self._carry_ms += max(0, now_ms - self._last_ms)
        self._last_ms = now_ms
        carry = self._carry_ms
        if carry < pace.round_ms:
            return
        rounds = min(pace.max_rounds, carry // pace.round_ms)
        span = min(carry // rounds, pace.max_span_ms)
        self.stats.skipped_ms += carry - rounds * span
        self._carry_ms = 0
        markets = [m for m in self._markets.values() if now_ms < m.view.close_ms and m.state.status is _ACTIVE]
        if not markets:
            return
        for _ in range(rounds):
            self.stats.rounds += 1
            for agent in self._agents:
                agent.act(markets, now_ms, span, self.oracle)


__all__ = [
    "DEFAULT_TRADERS",
    "GridIndex",
    "InformedSpec",
    "MakerSpec",
    "MarketView",
    "NoiseSpec",
    "Oracle",
    "Pace",
    "TraderSpec",
    "TraderStats",
    "Traders",
    "money_factor",
]
