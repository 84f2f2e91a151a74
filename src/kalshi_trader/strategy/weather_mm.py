"""The weather market maker (seed 002): a post-only bid and ask around the model's fair value on
every open bracket of a daily temperature event, skewed by inventory, amended rather than replaced.

Contract (``WeatherMMStrategy.decide(state, memory)``, pure — see ``strategy.base``):

- **Universe.** Every market in ``state.markets`` (restricted to ``params.series`` when set) that
  has a ``FairValue``, plus any market where the strategy still has orders. Quoting a market
  needs it active, its book fresh (not stale, younger than ``max_book_age_ms``), its fair value
  younger than ``max_fair_age_ms``, its close more than ``stop_before_close_ms`` away and no
  contracts there but its own; otherwise every quote there is cancelled and the decision says why
  (``Verdict.SKIP``).
- **Inventory** is the strategy's own (``state.own_position``): every skew, size and first side
  below reads it, never the account's; risk's room still judges the account.
- **Another's contracts**: a market where the account holds contracts that are not the market
  maker's (another strategy's, or nobody's, as by hand) is not quoted — a fill there would trade
  against that holding, the exchange netting it away under the owner's stop and take-profit.
- **Half-spread** (``plan_quotes``), per contract, at the fair price: the maker fee of the
  market's fee type + ``unwind_fee_pct``% of the taker fee it would pay to unwind a fill + the
  fair value's uncertainty × ``uncertainty_pct``% + ``min_edge``; at least ``min_half_spread``.
  Fees are estimated on a ``quote_size`` order rounded up to ``fee_rounding`` (a cent: an ordinary
  account's balance moves in cents). A half-spread above ``max_half_spread`` means the model is too
  unsure (or fees too high) to quote: no quotes.
- **Prices.** bid = fair − half rounded down on the grid, ask = fair + half rounded up (toward
  safety), then both moved by the inventory skew in grid levels: ``inventory_skew_ticks`` of the
  strategy's position in the market (±``max_skew_ticks``) plus that of the event's net position summed over its
  brackets (±``max_event_skew_ticks``) — long YES quotes lower, long NO higher. Skew never
  moves a quote past ``fair ∓ (maker fee + min_edge)`` rounded toward safety, so after rounding
  **bid < fair < ask** always, and both are valid order prices strictly inside ($0, $1).
  **Post-only everywhere**: a bid at or above the best ask drops to the level below it (an ask at
  or below the best bid rises to the level above); every quote is a post-only GTC order.
- **Sizes.** ``quote_size``, cut so that a full fill keeps the market's position within
  ``±max_position`` and the event's net position within ``±max_event_position``, and so that the
  quote's cost (bid × size, or (1 − ask) × size) stays within ``max_quote_risk``; rounded down to
  ``size_step``. A side with no size left is not quoted (the decision says which limit).
- **Quote budget.** At most ``max_quotes`` quotes in all (the market maker's share of the risk
  limit on open orders: two sides of every bracket can exceed it — 14 events × 6 brackets × 2 =
  168). When the quotes wanted exceed it, every market keeps its *first* side — the one reducing
  its position, else the one whose worst case costs less a contract (the bid below a fair of
  $0.50, the ask above) — then second sides already resting, then the other second sides,
  cheapest worst case first; the sides left out are not quoted (the decision says so).
- **Requotes.** One resting order per side. A missing quote is placed; an unwanted one cancelled;
  a resting one is **amended** (never cancel-and-replace) only when the wanted price moved by
  ``requote_threshold`` or more, its remaining size fell below ``top_up_pct``% of the wanted size,
  or it became unsafe (priced beyond the fee/edge bound after a fair-value move, or larger than
  the limits now allow) — so small moves of the fair value or the book cause no churn. Extra orders
  on a side are cancelled.
- **What goes first.** The host sends places and amends only while the write budget lasts and
  defers the rest to the next decision, so actions come out most urgent first (never by ticker
  alone, which would starve the same markets every time): cancels; amends of unsafe quotes (beyond
  the fee/edge bound, or larger than the limits allow); first quotes in a market with none;
  second sides; then the other amends, largest price move first.
- **Inside the risk limits.** Every place and amend is sized with ``state.room`` (``claim``, in the
  order the actions go out, so urgent ones get the room first): a quote the limits cut is sent
  smaller (rounded down to ``size_step``), one they leave no room for is not sent and the decision
  says which limit.
- **No duplicates in flight.** Called on every book change, the strategy may decide again before
  its last amend or cancel is answered: it decides against the orders as they will be once the
  changes in ``state.in_flight`` land (``base.effective_orders``), so each action is sent once. A
  refused place never shows among the open orders, so it is never amended or cancelled.
- **Lifecycle.** ``on_start`` and ``on_stop`` cancel every order the strategy has open.
- **Work is not redone.** A market's plan and first side are kept while every input ``plan_quotes``
  reads is the same (grid, fees, best prices, fair price and uncertainty, positions), the plan the
  quote budget cuts from it while the plan and the sides left out are, and the actions turning its
  orders into it while the plan, its orders and first side are (unless they place: a place's client
  order id reads the clock), with the decision's reason; the orders as they will be (by market)
  while the open orders and the changes in flight are. ``tests/unit/strategy/reference_mm.py``
  keeps nothing: both decide alike.

``fair_values_from_distribution`` turns the fair-value model's output (``fairvalue.weather``) into
``FairValue`` inputs, with the uncertainty taken as the bracket probability's sensitivity to the
forecast centre moving by ±``shift_f`` °F.

Imports: ``domain``, ``config``'s field types, ``fairvalue`` (pure values and the station table)
and ``strategy.base`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from kalshi_trader.config import Contracts, Dollars, Duration, PriceBound, Seconds, Share
from kalshi_trader.domain import (
    PRICE_SCALE,
    QTY_SCALE,
    BookSide,
    FeeSchedule,
    IntentAction,
    MarketStatus,
    Money,
    Order,
    OrderIntent,
    Price,
    Qty,
    TickGrid,
    format_qty,
    inventory_skew_ticks,
    shift_on_grid,
)
from kalshi_trader.fairvalue.partition import probabilities_between
from kalshi_trader.fairvalue.weather import Bracket, TempDistribution, check_partition, fair_price
from kalshi_trader.strategy.base import (
    Action,
    ConfigReader,
    ConfiguredStrategy,
    Decision,
    Facts,
    FairValue,
    MarketSnapshot,
    OrderChange,
    StrategyResult,
    StrategySpec,
    StrategyState,
    Verdict,
    cancel_intent,
    cancel_orders,
    client_order_id,
    dollars,
    effective_orders,
)

__all__ = [
    "SPEC",
    "Quote",
    "QuotePlan",
    "WeatherMMMemory",
    "WeatherMMParams",
    "WeatherMMSettings",
    "WeatherMMStrategy",
    "budget_quotes",
    "fair_values_from_distribution",
    "first_side",
    "plan_quotes",
]

NAME = "weather_mm"


class WeatherMMSettings(BaseModel):
    """The ``strategies.weather_mm`` section (env ``KALSHI_TRADER_STRATEGIES__WEATHER_MM__<FIELD>``),
    in dollars, contracts and seconds: ``WeatherMMParams.from_config`` turns it into the integer
    params."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    series: list[str] = []
    quote_size_contracts: Contracts = Decimal(5)
    size_step_contracts: Contracts = Decimal(1)
    max_position_contracts: Contracts = Decimal(25)
    max_event_position_contracts: Contracts = Decimal(50)
    max_quote_risk_dollars: Dollars = Decimal(10)
    min_edge_dollars: PriceBound = Decimal("0.005")
    min_half_spread_dollars: PriceBound = Decimal("0.01")
    max_half_spread_dollars: PriceBound = Decimal("0.25")
    """Above this half-spread the model is too unsure to quote. The half-spread already carries the fair
    value's uncertainty (its change for a 1 °F forecast shift, ~0.13 on a tail bracket whose strike sits
    at the forecast high); at 0.15 those brackets — the ones straddling the forecast — went unquoted."""
    uncertainty_multiplier: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)] = Decimal(1)
    """Half-spread added per unit of the fair value's uncertainty (its ±1σ band)."""
    unwind_fee_share: Share = Decimal(1)
    """Share of the taker fee to unwind a fill that the half-spread must cover."""
    max_skew_ticks: int = Field(3, ge=0, le=100)
    max_event_skew_ticks: int = Field(2, ge=0, le=100)
    requote_threshold_dollars: PriceBound = Decimal("0.02")
    top_up_fraction: Share = Decimal("0.5")
    """A resting quote is topped up (amended) when its remaining size falls below this share."""
    max_book_age_s: Seconds = 5.0
    max_fair_age_s: Seconds = 900.0
    stop_before_close_s: Duration = 1_800.0
    fee_rounding_dollars: PriceBound = Decimal("0.01")
    """Fees are estimated per order rounded up to this (an ordinary account moves in cents)."""
    max_open_quotes: int = Field(120, gt=0, le=200_000)
    """The market maker's own cap on its quotes, within `risk.max_open_orders` (150) with room left for
    the favourite: two sides of every open bracket (up to 84 brackets, 168 quotes) do not fit, so past
    it every bracket keeps one side first (the one reducing the position, else the cheaper worst case)."""


@dataclass(frozen=True, slots=True)
class WeatherMMParams:
    """Tunables in integer units (``Price``/``Money`` $0.0001, ``Qty`` 0.01 contract, ms, percent).
    ``config.WeatherMMSettings`` mirrors them in dollars/contracts/seconds (``from_config``)."""

    enabled: bool = True
    series: frozenset[str] = frozenset()
    quote_size: Qty = Qty(500)
    size_step: Qty = Qty(100)
    max_position: Qty = Qty(2_500)
    max_event_position: Qty = Qty(5_000)
    max_quote_risk: Money = Money(100_000)
    min_edge: Price = Price(50)
    min_half_spread: Price = Price(100)
    max_half_spread: Price = Price(2_500)
    uncertainty_pct: int = 100
    unwind_fee_pct: int = 100
    max_skew_ticks: int = 3
    max_event_skew_ticks: int = 2
    requote_threshold: Price = Price(200)
    top_up_pct: int = 50
    max_book_age_ms: int = 5_000
    max_fair_age_ms: int = 900_000
    stop_before_close_ms: int = 1_800_000
    fee_rounding: Money = Money(100)
    max_quotes: int = 120

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.min_edge < 1:
            problems.append("min_edge must be at least $0.0001 (quotes stay strictly off the fair value)")
        if not self.min_edge <= self.min_half_spread <= self.max_half_spread < PRICE_SCALE // 2:
            problems.append("need min_edge <= min_half_spread <= max_half_spread < $0.50")
        if self.size_step <= 0 or self.quote_size < self.size_step:
            problems.append("size_step must be positive and quote_size at least one step")
        if self.max_position <= 0 or self.max_event_position <= 0 or self.max_quote_risk <= 0:
            problems.append("max_position, max_event_position and max_quote_risk must be positive")
        if self.max_skew_ticks < 0 or self.max_event_skew_ticks < 0 or self.uncertainty_pct < 0:
            problems.append("skews and uncertainty_pct must not be negative")
        if not 0 <= self.unwind_fee_pct <= 100 or not 0 <= self.top_up_pct <= 100:
            problems.append("unwind_fee_pct and top_up_pct are percentages 0..100")
        if self.requote_threshold <= 0 or self.fee_rounding <= 0:
            problems.append("requote_threshold and fee_rounding must be positive")
        if min(self.max_book_age_ms, self.max_fair_age_ms) <= 0 or self.stop_before_close_ms < 0:
            problems.append("ages must be positive and stop_before_close not negative")
        if self.max_quotes <= 0:
            problems.append("max_quotes must be positive")
        if problems:
            raise ValueError("invalid weather_mm params: " + "; ".join(problems))

    @staticmethod
    def from_config(values: Mapping[str, object]) -> WeatherMMParams:
        """From ``settings.strategies.weather_mm.model_dump()``."""
        c = ConfigReader(values)
        return WeatherMMParams(
            enabled=c.flag("enabled"),
            series=c.names("series"),
            quote_size=c.qty("quote_size_contracts"),
            size_step=c.qty("size_step_contracts"),
            max_position=c.qty("max_position_contracts"),
            max_event_position=c.qty("max_event_position_contracts"),
            max_quote_risk=c.money("max_quote_risk_dollars"),
            min_edge=c.price("min_edge_dollars"),
            min_half_spread=c.price("min_half_spread_dollars"),
            max_half_spread=c.price("max_half_spread_dollars"),
            uncertainty_pct=c.percent("uncertainty_multiplier"),
            unwind_fee_pct=c.percent("unwind_fee_share"),
            max_skew_ticks=c.integer("max_skew_ticks"),
            max_event_skew_ticks=c.integer("max_event_skew_ticks"),
            requote_threshold=c.price("requote_threshold_dollars"),
            top_up_pct=c.percent("top_up_fraction"),
            max_book_age_ms=c.ms("max_book_age_s"),
            max_fair_age_ms=c.ms("max_fair_age_s"),
            stop_before_close_ms=c.ms("stop_before_close_s"),
            fee_rounding=c.money("fee_rounding_dollars"),
            max_quotes=c.integer("max_open_quotes"),
        )


# --------------------------------------------------------------------------------------------
# Quote planning (pure, per market)


class Quote(msgspec.Struct, frozen=True):
    side: BookSide
    price: Price
    qty: Qty


class QuotePlan(msgspec.Struct, frozen=True):
    """The quotes wanted in one market and the numbers behind them.

    ``max_bid`` / ``min_ask`` are the safety bounds (fair ∓ (maker fee + min edge), on the grid): a
    resting quote beyond them must move whatever the requote threshold. ``why_no_bid`` /
    ``why_no_ask`` say why a side is not quoted."""

    ticker: str
    fair: Price
    half_spread: Price
    skew_ticks: int
    max_bid: Price
    min_ask: Price
    bid: Quote | None
    ask: Quote | None
    why_no_bid: str = ""
    why_no_ask: str = ""
    facts: Facts = ()

    def quote(self, side: BookSide) -> Quote | None:
        return self.bid if side is BookSide.BID else self.ask

    def why_not(self, side: BookSide) -> str:
        return self.why_no_bid if side is BookSide.BID else self.why_no_ask


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _fee_per_contract(snap: MarketSnapshot, params: WeatherMMParams, price: int, *, taker: bool) -> int:
    """Fee per contract of a ``quote_size`` order at ``price``, rounded up to ``fee_rounding`` per
    order, then up to $0.0001 per contract."""
    size = params.quote_size
    total = snap.fees.fee(price, size, taker=taker, round_to=params.fee_rounding)
    return _ceil_div(total * QTY_SCALE, size)


def plan_quotes(
    params: WeatherMMParams, snap: MarketSnapshot, fair_value: FairValue, position: int, event_position: int
) -> QuotePlan:
    """The bid and ask wanted in ``snap``'s market (see the module contract). ``position`` is the
    market's signed position, ``event_position`` the sum of the signed positions over the event's
    brackets (including this one)."""
    p, grid, fair = params, snap.grid, fair_value.price
    maker = _fee_per_contract(snap, p, fair, taker=False)
    taker = _fee_per_contract(snap, p, fair, taker=True)
    unwind = _ceil_div(taker * p.unwind_fee_pct, 100)
    doubt = _ceil_div(fair_value.uncertainty * p.uncertainty_pct, 100)
    half = Price(max(p.min_half_spread, maker + unwind + doubt + p.min_edge))
    skew = inventory_skew_ticks(position, p.max_position, p.max_skew_ticks) + inventory_skew_ticks(
        event_position, p.max_event_position, p.max_event_skew_ticks
    )
    max_bid = grid.round_down(max(0, fair - maker - p.min_edge))
    min_ask = grid.round_up(min(PRICE_SCALE, fair + maker + p.min_edge))
    best_bid, best_ask = snap.best_bid, snap.best_ask
    facts: Facts = (
        ("fair", fair),
        ("uncertainty", fair_value.uncertainty),
        ("maker_fee", maker),
        ("unwind_fee", unwind),
        ("half_spread", half),
        ("position", position),
        ("event_position", event_position),
        ("skew_ticks", skew),
        ("yes_bid", best_bid if best_bid is not None else -1),
        ("yes_ask", best_ask if best_ask is not None else -1),
    )
    if half > p.max_half_spread:
        why = f"half-spread {dollars(half)} is above the {dollars(p.max_half_spread)} maximum (fees or model doubt)"
        return QuotePlan(snap.ticker, fair, half, skew, max_bid, min_ask, None, None, why, why, facts)

    bid_price = _shifted(grid, grid.round_down(max(0, fair - half)), skew)
    ask_price = _shifted(grid, grid.round_up(min(PRICE_SCALE, fair + half)), skew)
    why_bid = why_ask = ""
    if bid_price is not None:
        bid_price = min(bid_price, max_bid)
        if best_ask is not None and bid_price >= best_ask:
            below = shift_on_grid(grid, best_ask, -1)
            bid_price = min(bid_price, below) if below < best_ask else None
    if bid_price is None or not grid.is_valid_order_price(bid_price):
        bid_price, why_bid = None, f"no valid bid price below {dollars(fair)} after fees and edge"
    if ask_price is not None:
        ask_price = max(ask_price, min_ask)
        if best_bid is not None and ask_price <= best_bid:
            above = shift_on_grid(grid, best_bid, 1)
            ask_price = max(ask_price, above) if above > best_bid else None
    if ask_price is None or not grid.is_valid_order_price(ask_price):
        ask_price, why_ask = None, f"no valid ask price above {dollars(fair)} after fees and edge"

    bid = ask = None
    if bid_price is not None:
        qty, why_bid = _size(p, p.max_position - position, p.max_event_position - event_position, bid_price)
        bid = Quote(BookSide.BID, bid_price, qty) if qty else None
    if ask_price is not None:
        qty, why_ask = _size(
            p, p.max_position + position, p.max_event_position + event_position, PRICE_SCALE - ask_price
        )
        ask = Quote(BookSide.ASK, ask_price, qty) if qty else None
    return QuotePlan(snap.ticker, fair, half, skew, max_bid, min_ask, bid, ask, why_bid, why_ask, facts)


def _shifted(grid: TickGrid, base: Price, skew: int) -> Price | None:
    """``base`` moved by the ``skew``; None when it starts off the order grid ($0 or $1) and the
    skew does not bring it inside."""
    if grid.is_valid_order_price(base):
        return shift_on_grid(grid, base, skew) if skew else base
    inward = (base <= 0 and skew > 0) or (base >= PRICE_SCALE and skew < 0)
    return shift_on_grid(grid, base, skew) if inward else None


_LIMITS = ("quote size", "the market position limit", "the event position limit", "the per-quote risk limit")


def _size(params: WeatherMMParams, room_market: int, room_event: int, cost_per_contract: int) -> tuple[Qty, str]:
    """The quote size within every limit (``quote_size``, the market's and the event's room, the
    per-quote risk for this cost a contract), rounded down to ``size_step``; (0, the first limit
    binding) if none."""
    by_risk = params.max_quote_risk * QTY_SCALE // max(1, cost_per_contract)
    qty = min(params.quote_size, room_market, room_event, by_risk)
    step = params.size_step
    if qty - qty % step > 0:
        return Qty(qty - qty % step), ""
    binding = _LIMITS[(params.quote_size, room_market, room_event, by_risk).index(qty)]
    return Qty(0), f"no size left under {binding}"


# --------------------------------------------------------------------------------------------
# The quote budget (pure, across markets)


def _worst_cost(quote: Quote) -> int:
    """What one contract of ``quote`` can lose: the bid's price, or $1 − the ask's."""
    return quote.price if quote.side is BookSide.BID else PRICE_SCALE - quote.price


def first_side(plan: QuotePlan, position: int) -> BookSide | None:
    """The side ``plan``'s market keeps when the quote budget allows it one: the only side wanted,
    else the one reducing ``position``, else the one whose worst case costs less a contract (on a
    tie, the bid); None when no side is wanted."""
    bid, ask = plan.bid, plan.ask
    if bid is None or ask is None:
        return BookSide.BID if bid is not None else BookSide.ASK if ask is not None else None
    if position:
        return BookSide.ASK if position > 0 else BookSide.BID
    return BookSide.BID if bid.price <= PRICE_SCALE - ask.price else BookSide.ASK


def budget_quotes(
    plans: Sequence[QuotePlan],
    positions: Mapping[str, int],
    resting: AbstractSet[tuple[str, BookSide]],
    max_quotes: int,
) -> list[QuotePlan]:
    """``plans`` with at most ``max_quotes`` quotes left in all: every market's first side
    (``first_side``) first, then second sides in ``resting`` (ticker, side), then the other second
    sides — each group cheapest worst case first, then by ticker. A side left out is not quoted and
    says why."""
    firsts = {plan.ticker: first_side(plan, positions.get(plan.ticker, 0)) for plan in plans}
    left_out = _left_out(plans, firsts, {(ticker, side is BookSide.ASK) for ticker, side in resting}, max_quotes)
    if not left_out:
        return list(plans)
    return [_cut(plan, (plan.ticker, False) in left_out, (plan.ticker, True) in left_out, max_quotes) for plan in plans]


def _left_out(
    plans: Sequence[QuotePlan],
    firsts: Mapping[str, BookSide | None],
    resting: AbstractSet[tuple[str, bool]],
    max_quotes: int,
) -> set[tuple[str, bool]]:
    """The sides ``budget_quotes`` leaves out; sides are (ticker, is the ask) here, ``resting`` too;
    ``firsts`` holds each plan's ``first_side``. Every first side ranks before every second side:
    while the first sides fit, only the second sides are ranked, for the places left; when they do
    not, every second side is left out and the first sides are ranked."""
    wanted = 0
    firsts_in = 0
    seconds: list[tuple[int, int, str, bool]] = []  # (tier, worst cost, ticker, is the ask)
    bid_side = BookSide.BID
    for plan in plans:
        ticker, bid, ask = plan.ticker, plan.bid, plan.ask
        if bid is None and ask is None:
            continue
        firsts_in += 1
        if bid is None or ask is None:
            wanted += 1
            continue
        wanted += 2
        if firsts[ticker] is bid_side:
            seconds.append((1 if (ticker, True) in resting else 2, PRICE_SCALE - ask.price, ticker, True))
        else:
            seconds.append((1 if (ticker, False) in resting else 2, bid.price, ticker, False))
    if wanted <= max_quotes:
        return set()
    if firsts_in <= max_quotes:
        seconds.sort()
        return {(ticker, is_ask) for _, _, ticker, is_ask in seconds[max_quotes - firsts_in :]}
    ranked = sorted(
        (_worst_cost(quote), plan.ticker, quote.side is not bid_side)
        for plan in plans
        for quote in (plan.bid, plan.ask)
        if quote is not None and quote.side is firsts[plan.ticker]
    )
    return {(ticker, is_ask) for _, ticker, is_ask in ranked[max_quotes:]} | {(t, a) for _, _, t, a in seconds}


def _cut(plan: QuotePlan, bid_out: bool, ask_out: bool, max_quotes: int) -> QuotePlan:
    """``plan`` without the sides the quote budget leaves out, each saying why."""
    why = f"over the {max_quotes}-quote budget (one side in every market first, then the cheapest second sides)"
    if bid_out:
        plan = msgspec.structs.replace(plan, bid=None, why_no_bid=why)
    if ask_out:
        plan = msgspec.structs.replace(plan, ask=None, why_no_ask=why)
    return plan


# --------------------------------------------------------------------------------------------
# The strategy

_PlanInputs = tuple[TickGrid, FeeSchedule, Price | None, Price | None, Price, Price, int, int]
_Keyed = list[tuple[tuple[int, int], Action]]
_Orders = tuple[list[Order], dict[str, list[Order]], set[tuple[str, bool]]]
_Cuts = dict[str, tuple[bool, bool]]

_CANCEL, _UNSAFE, _FIRST, _SECOND, _AMEND = range(5)
"""Action priorities (lowest first): the host sends places and amends only while the write budget
lasts, so the urgent ones must come first."""


@dataclass(frozen=True, slots=True)
class WeatherMMMemory:
    """Nothing to remember between calls: what is in flight and what was refused come with the
    state."""


class WeatherMMStrategy(ConfiguredStrategy[WeatherMMParams]):
    """See the module docstring."""

    def __init__(self, params: WeatherMMParams | None = None, name: str = NAME) -> None:
        super().__init__(params if params is not None else WeatherMMParams(), name)
        self._plans: dict[str, tuple[_PlanInputs, tuple[QuotePlan, BookSide | None]]] = {}
        self._cuts: dict[str, tuple[QuotePlan, tuple[bool, bool], tuple[QuotePlan, BookSide | None]]] = {}
        self._reconciled: dict[str, tuple[QuotePlan, list[Order], BookSide | None, _Keyed, str]] = {}
        self._orders_kept: tuple[tuple[Order, ...], dict[str, OrderChange], _Orders] | None = None

    def _plan(
        self, snap: MarketSnapshot, fair_value: FairValue, position: int, event_position: int
    ) -> tuple[QuotePlan, BookSide | None]:
        """``plan_quotes`` with these params and the plan's ``first_side``; the market's last ones
        again when none of the inputs they read changed (the market's grid, fees and best prices,
        the fair price and its uncertainty, the positions)."""
        inputs = (
            snap.grid,
            snap.fees,
            snap.best_bid,
            snap.best_ask,
            fair_value.price,
            fair_value.uncertainty,
            position,
            event_position,
        )
        kept = self._plans.get(snap.ticker)
        if kept is not None and kept[0] == inputs:
            return kept[1]
        plan = plan_quotes(self.params, snap, fair_value, position, event_position)
        made = plan, first_side(plan, position)
        self._plans[snap.ticker] = (inputs, made)
        return made

    def _budgeted(self, plan: QuotePlan, bid_out: bool, ask_out: bool) -> tuple[QuotePlan, BookSide | None]:
        """``plan`` without the sides the quote budget leaves out, and its first side (the same
        objects again while the plan and the sides left out are)."""
        kept = self._cuts.get(plan.ticker)
        if kept is not None and kept[0] is plan and kept[1] == (bid_out, ask_out):
            return kept[2]
        cut = _cut(plan, bid_out, ask_out, self.params.max_quotes)
        made = cut, first_side(cut, 0)  # one side left at most: the position cannot choose
        self._cuts[plan.ticker] = (plan, (bid_out, ask_out), made)
        return made

    def _reconcile_once(
        self, state: StrategyState, plan: QuotePlan, orders: list[Order], first: BookSide | None
    ) -> tuple[_Keyed, str]:
        """``_reconcile``, with its notes joined into the decision's reason; the market's last actions
        and reason again when its plan, orders and first side are the same and those actions held no
        place (a place's client order id reads the clock; nothing else in them does)."""
        kept = self._reconciled.get(plan.ticker)
        if kept is not None and kept[2] is first and (kept[0] is plan or kept[0] == plan) and kept[1] == orders:
            return kept[3], kept[4]
        actions, notes = self._reconcile(state, plan, orders, first)
        reason = "; ".join(notes)
        if any(a.action is IntentAction.PLACE for _, a in actions if isinstance(a, OrderIntent)):
            self._reconciled.pop(plan.ticker, None)
        else:
            self._reconciled[plan.ticker] = (plan, orders, first, actions, reason)
        return actions, reason

    def initial_memory(self) -> WeatherMMMemory:
        return WeatherMMMemory()

    def on_start(self, state: StrategyState, memory: WeatherMMMemory) -> StrategyResult[WeatherMMMemory]:
        """Quotes left from an earlier run are stale: cancel them all."""
        return self._cancel_all(state, memory, "strategy started: cancel quotes from an earlier run")

    def on_stop(self, state: StrategyState, memory: WeatherMMMemory) -> StrategyResult[WeatherMMMemory]:
        """Cancel every quote, including places still in flight."""
        return self._cancel_all(state, memory, "strategy stopped")

    def _cancel_all(
        self, state: StrategyState, memory: WeatherMMMemory, reason: str
    ) -> StrategyResult[WeatherMMMemory]:
        orders = effective_orders(state.open_orders, state.in_flight)
        actions, decisions = cancel_orders(state, self.name, reason, orders=orders)
        return StrategyResult(memory, actions, decisions)

    def decide(self, state: StrategyState, memory: WeatherMMMemory) -> StrategyResult[WeatherMMMemory]:
        p, now = self.params, state.now_ms
        markets, fair_values, own = state.markets, state.fair_values, state.own_positions
        _, orders_in, resting = self._orders(state)
        series = p.series
        in_scope = {t: s for t, s in markets.items() if t in fair_values and (not series or s.series_ticker in series)}
        event_positions: dict[str, int] = {}
        for ticker, held in own.items():  # summed over the event's markets: only held ones add
            market = markets.get(ticker)
            if market is not None:
                event_positions[market.event_ticker] = event_positions.get(market.event_ticker, 0) + held
        keyed: list[tuple[tuple[int, int], Action]] = []
        decisions: list[Decision] = []
        planned: list[tuple[QuotePlan, BookSide | None]] = []
        why_not, plan_for, no_orders = self._why_not_quote, self._plan, ()
        for ticker in sorted(in_scope.keys() | orders_in.keys()):
            snap = in_scope.get(ticker)
            why = why_not(state, ticker, snap)
            if why:
                decisions.append(self._pull(ticker, why, orders_in.get(ticker, no_orders), keyed, now))
                continue
            assert snap is not None
            planned.append(
                plan_for(snap, fair_values[ticker], own.get(ticker, 0), event_positions.get(snap.event_ticker, 0))
            )
        cuts = self._budget_cuts(planned, resting)
        reconciled: list[tuple[str, str, Facts]] = []
        budgeted, reconcile = self._budgeted, self._reconcile_once
        for plan, first in planned:
            ticker = plan.ticker
            cut = cuts.get(ticker)
            if cut is not None:
                plan, first = budgeted(plan, *cut)
            acts, reason = reconcile(state, plan, orders_in.get(ticker, []), first)
            keyed.extend(acts)
            reconciled.append((ticker, reason, plan.facts))
        return self._conclude(state, memory, keyed, reconciled, orders_in.keys(), decisions)

    def _orders(self, state: StrategyState) -> _Orders:
        """The strategy's orders as they will be (``effective_orders``), by market, and the
        (ticker, is the ask) sides they rest on: the same objects again while the open orders and the
        changes in flight are."""
        kept = self._orders_kept
        if kept is not None and kept[0] is state.open_orders and kept[1] == state.in_flight:
            return kept[2]
        orders = effective_orders(state.open_orders, state.in_flight)
        orders_in: dict[str, list[Order]] = {}
        for o in orders:
            orders_in.setdefault(o.ticker, []).append(o)
        ask = BookSide.ASK
        made = orders, orders_in, {(o.ticker, o.side is ask) for o in orders}
        self._orders_kept = (state.open_orders, dict(state.in_flight), made)
        return made

    def _budget_cuts(self, planned: list[tuple[QuotePlan, BookSide | None]], resting: set[tuple[str, bool]]) -> _Cuts:
        """ticker → (bid left out, ask left out) for the markets the quote budget cuts (``_left_out``
        of the plans and their first sides)."""
        firsts = {plan.ticker: first for plan, first in planned}
        left_out = _left_out([plan for plan, _ in planned], firsts, resting, self.params.max_quotes)
        return {ticker: ((ticker, False) in left_out, (ticker, True) in left_out) for ticker, _ in left_out}

    def _pull(self, ticker: str, why: str, orders: Iterable[Order], keyed: _Keyed, now: int) -> Decision:
        """The decision not to quote ``ticker`` (``why``), with cancels of its ``orders`` added to
        ``keyed``."""
        cancels = [cancel_intent(o, self.name, f"pull quote: {why}") for o in orders]
        keyed.extend(((_CANCEL, 0), c) for c in cancels)
        verdict = Verdict.TRADE if cancels else Verdict.SKIP
        text = f"not quoting: {why}" + (f"; cancel {len(cancels)} quote(s)" if cancels else "")
        return Decision(self.name, ticker, verdict, text, (), now)

    def _conclude(
        self,
        state: StrategyState,
        memory: WeatherMMMemory,
        keyed: _Keyed,
        reconciled: list[tuple[str, str, Facts]],
        quoted: AbstractSet[str],
        decisions: list[Decision],
    ) -> StrategyResult[WeatherMMMemory]:
        """The result: ``keyed`` actions most urgent first (in their order within a priority), each
        fitted to the risk room, and after ``decisions`` one per market planned (``reconciled``: its
        ticker, what was done there and the plan's facts; ``quoted``: the markets with orders)."""
        actions: list[Action] = []
        acted: set[str] = set()
        extra: dict[str, list[str]] = {}
        if keyed:
            ranked = sorted(enumerate(keyed), key=lambda item: (item[1][0], item[0]))
            for _, (_, action) in ranked:
                sized = self._within_room(state, action, extra)
                if sized is not None:
                    actions.append(sized)
                    acted.add(sized.ticker)
        now, name = state.now_ms, self.name
        trade, hold, skip = Verdict.TRADE, Verdict.HOLD, Verdict.SKIP
        for ticker, reason, facts in reconciled:
            verdict = trade if ticker in acted else hold if ticker in quoted else skip
            if extra and ticker in extra:
                reason = "; ".join((reason, *extra[ticker]))
            decisions.append(Decision(name, ticker, verdict, reason, facts, now))
        return StrategyResult(memory, tuple(actions), tuple(decisions))

    def _within_room(self, state: StrategyState, action: Action, notes_of: dict[str, list[str]]) -> Action | None:
        """``action`` cut to what the risk limits leave (``state.room``), or None if nothing fits
        (either noted in ``notes_of``). Cancels and brackets pass as they are."""
        if not isinstance(action, OrderIntent) or action.action is IntentAction.CANCEL:
            return action
        replacing = action.client_order_id if action.action is IntentAction.AMEND else ""
        fit = state.room.claim(action.ticker, action.side, action.price, action.qty, replacing=replacing)
        qty = fit.qty - fit.qty % self.params.size_step
        if qty >= action.qty:
            return action
        notes = notes_of.setdefault(action.ticker, [])
        name = action.side.value
        if qty <= 0:
            if action.action is IntentAction.AMEND:
                notes.append(f"no room to amend the {name} ({fit.reason}): pull it")
                return OrderIntent.cancel(
                    action.ticker, action.client_order_id, strategy=self.name, reason=f"pull the {name}: {fit.reason}"
                )
            notes.append(f"skip the {name}: {fit.reason}")
            return None
        notes.append(f"{name} cut to {format_qty(qty)} by the risk limits ({fit.reason})")
        return msgspec.structs.replace(
            action, qty=Qty(qty), inputs=(*action.inputs, ("risk_room", qty), ("risk_limit", fit.rule))
        )

    def why_not_quote(self, state: StrategyState, ticker: str) -> str:
        """Why ``decide`` would not quote ``ticker`` in ``state`` ("" when the market qualifies):
        the same gate ``decide`` applies (feed, fair value, series, status, freshness, close)."""
        p = self.params
        snap = state.markets.get(ticker)
        in_scope = snap is not None and ticker in state.fair_values and (not p.series or snap.series_ticker in p.series)
        return self._why_not_quote(state, ticker, snap if in_scope else None)

    def _why_not_quote(self, state: StrategyState, ticker: str, snap: MarketSnapshot | None) -> str:
        p, now = self.params, state.now_ms
        if snap is None:
            if ticker not in state.markets:
                return "market is not in the feed"
            return "no fair value for this market" if ticker not in state.fair_values else "series not configured"
        if snap.status is not MarketStatus.ACTIVE:
            return f"market is {snap.status.value}"
        if snap.stale:
            return "book is stale"
        held = state.positions.get(ticker)
        others = (0 if held is None else held.qty) - state.own_positions.get(ticker, 0)
        if others:
            return f"{format_qty(abs(others))} contract(s) here are not the market maker's (another strategy's)"
        age = now - snap.updated_ms
        if age > p.max_book_age_ms:
            return f"book is {age // 1000} s old (max {p.max_book_age_ms // 1000} s)"
        fair = state.fair_values[ticker]
        if now - fair.as_of_ms > p.max_fair_age_ms:
            return f"fair value is {(now - fair.as_of_ms) // 1000} s old (max {p.max_fair_age_ms // 1000} s)"
        left = snap.close_ms - now
        if left <= p.stop_before_close_ms:
            return f"market closes in {max(0, left) // 1000} s (stop {p.stop_before_close_ms // 1000} s before)"
        return ""

    def _reconcile(
        self, state: StrategyState, plan: QuotePlan, orders: list[Order], first: BookSide | None
    ) -> tuple[list[tuple[tuple[int, int], Action]], list[str]]:
        """Actions turning the resting orders into the plan, one side at a time, each with its
        priority (see "What goes first"; ``first`` is the market's first side)."""
        p = self.params
        actions: list[tuple[tuple[int, int], Action]] = []
        notes: list[str] = [
            f"fair {dollars(plan.fair)}, half-spread {dollars(plan.half_spread)}, skew {plan.skew_ticks:+d}"
        ]
        bid_side, ask_side = BookSide.BID, BookSide.ASK
        kept = {
            bid_side: plan.bid is not None and any(o.side is bid_side for o in orders),
            ask_side: plan.ask is not None and any(o.side is ask_side for o in orders),
        }
        for side in (bid_side, ask_side):
            name = side.value
            mine = [o for o in orders if o.side is side]
            if len(mine) > 1:
                mine.sort(key=lambda o: (o.created_ms, o.client_order_id))
            keep, extras = (mine[0], mine[1:]) if mine else (None, [])
            actions.extend(((_CANCEL, 0), cancel_intent(o, self.name, f"cancel a duplicate {name}")) for o in extras)
            want = plan.quote(side)
            if want is None:
                why = plan.why_not(side)
                if keep is not None:
                    actions.append(
                        ((_CANCEL, 0), cancel_intent(keep, self.name, f"pull the {name}: {why}", plan.facts))
                    )
                    notes.append(f"pull the {name}: {why}")
                else:
                    notes.append(f"no {name}: {why}")
                continue
            label = f"{name} {format_qty(want.qty)} at {dollars(want.price)}"
            if keep is None:
                reason = f"quote {label} around fair {dollars(plan.fair)}"
                other = BookSide.ASK if side is BookSide.BID else BookSide.BID
                alone = not kept[other] and (side is first or plan.quote(other) is None)
                priority = (_FIRST if alone else _SECOND, 0)
                actions.append(
                    (
                        priority,
                        OrderIntent.place(
                            plan.ticker,
                            side,
                            want.price,
                            want.qty,
                            client_order_id(self.name, plan.ticker, name, state.now_ms, state.id_salt),
                            post_only=True,
                            strategy=self.name,
                            reason=reason,
                            inputs=plan.facts,
                        ),
                    )
                )
                notes.append(reason)
                continue
            why_move, unsafe = self._why_requote(plan, keep, want)
            if not why_move:
                notes.append(f"keep the {name} at {dollars(keep.price)} (within {dollars(p.requote_threshold)})")
                continue
            reason = (
                f"amend the {name} from {format_qty(keep.remaining)} at {dollars(keep.price)} to {label}: {why_move}"
            )
            priority = (_UNSAFE, 0) if unsafe else (_AMEND, -abs(keep.price - want.price))
            actions.append(
                (
                    priority,
                    OrderIntent.amend(
                        plan.ticker,
                        side,
                        want.price,
                        want.qty,
                        keep.client_order_id,
                        strategy=self.name,
                        reason=reason,
                        inputs=(*plan.facts, ("old_price", keep.price), ("old_remaining", keep.remaining)),
                    ),
                )
            )
            notes.append(reason)
        return actions, notes

    def _why_requote(self, plan: QuotePlan, order: Order, want: Quote) -> tuple[str, bool]:
        """Why the resting ``order`` must move to ``want`` ("" when it may stay), and whether it is
        unsafe as it stands (beyond the fee/edge bound, or larger than the limits allow now)."""
        p = self.params
        if order.side is BookSide.BID and order.price > plan.max_bid:
            return f"the bid is above the safe bound {dollars(plan.max_bid)}", True
        if order.side is BookSide.ASK and order.price < plan.min_ask:
            return f"the ask is below the safe bound {dollars(plan.min_ask)}", True
        if order.remaining > want.qty:
            return "the resting size exceeds what the limits allow now", True
        if abs(order.price - want.price) >= p.requote_threshold:
            return f"the wanted price moved {dollars(abs(order.price - want.price))}", False
        if order.remaining * 100 < want.qty * p.top_up_pct:
            return f"only {format_qty(order.remaining)} left, top up", False
        return "", False


# --------------------------------------------------------------------------------------------
# Fair values from the model


def fair_values_from_distribution(
    distribution: TempDistribution,
    brackets: Iterable[Bracket],
    as_of_ms: int,
    *,
    shift_f: float = 1.0,
    adjust: Callable[[Sequence[str], list[float]], list[float]] | None = None,
) -> dict[str, FairValue]:
    """``FairValue`` per bracket ticker from the model's distribution: ``price`` is P(YES);
    ``uncertainty`` is the larger change of that probability when the distribution's centre moves by
    ±``shift_f`` °F (how much one degree of forecast error moves the bracket's value). ``adjust``,
    when given, turns each set of bracket probabilities (tickers and values in the same order) into
    the fair values (the market blend, ``fairvalue.blend``) — the uncertainty is then that of the
    adjusted values."""
    ordered = check_partition(brackets)
    tickers = [b.ticker for b in ordered]
    edges = [b.high for b in ordered if b.high is not None]  # all but the warmest's

    def probabilities(cdfs: list[float]) -> list[float]:
        values = probabilities_between(cdfs)
        return adjust(tickers, values) if adjust is not None else values

    center = distribution.center_f
    base, up, down = map(probabilities, distribution.cdfs_at(edges, (center, center + shift_f, center - shift_f)))
    out: dict[str, FairValue] = {}
    for ticker, b, u, d in zip(tickers, base, up, down, strict=True):
        spread = max(abs(u - b), abs(d - b))
        out[ticker] = FairValue(ticker, fair_price(b), as_of_ms, fair_price(min(1.0, spread)), source="weather")
    return out


def _build(section: BaseModel) -> WeatherMMStrategy:
    return WeatherMMStrategy(WeatherMMParams.from_config(section.model_dump()))


def _follows(section: BaseModel) -> frozenset[str]:
    """Its series, or (none set) the series of every station the fair-value model knows."""
    from kalshi_trader.fairvalue.stations import STATIONS

    return frozenset(getattr(section, "series", ()) or STATIONS)


SPEC = StrategySpec(NAME, "Weather market maker", WeatherMMSettings, _build, follows=_follows)
