"""The strategy contract: a strategy is a pure function of the market, its own orders and
positions, its params, fair values and the clock — it decides, the node acts.

Contract:
- **Pure.** ``decide(state, memory) -> StrategyResult`` reads only its arguments and the params it
  was built with: no I/O, no JSON, no wall clock, no randomness. The same inputs give the same
  result (client order ids included: ``client_order_id`` derives them from the inputs). The node
  builds the inputs from its read models and hands the output to risk and then to execution.
- **Inputs** (``StrategyState``): the clock ``now_ms``; one ``MarketSnapshot`` per market the
  strategy may trade (top of book on both legs, depth, grid, fees, close time, staleness — plain
  domain values, built by the node from its L2 books with ``MarketSnapshot.from_levels``);
  ``FairValue`` per market where a model prices it; the strategy's **own** open orders (pending,
  resting or partially filled — the node attributes orders by the intent's ``strategy`` field);
  positions per market (signed, netted, > 0 long YES); the strategy's own fills since it started
  (with ``client_order_id`` filled in by the node's order tracker); and ``id_salt``, a per-process
  string that keeps client order ids unique across restarts. All times are on one clock.
- **Memory** is the strategy's own state between calls (cool-downs, trades in play). It is an
  immutable value: ``decide`` returns the next one in its result and the host passes it back next
  time (``StrategyRunner`` does exactly that). A strategy with nothing to remember uses ``None``.
- **Outputs** (``StrategyResult``): ``actions`` in the order they must be carried out —
  ``OrderIntent`` (place / amend / cancel; risk judges each), ``BracketRequest`` /
  ``BracketCancel`` (domain.py: the execution engine protects or stops protecting a filled entry) —
  and ``decisions``: one ``Decision`` per market looked at, saying what was done *or why nothing
  was* (``Verdict.SKIP`` with the reason), so the audit log and dashboard answer "why did it (not)
  trade?". Every action carries ``strategy``, a readable ``reason`` and its ``inputs`` (the numbers,
  prices in $0.0001 units, quantities in hundredths of a contract, times in ms).
- **Lifecycle**, independent per strategy and host-agnostic: ``enabled`` (from config) says whether
  the host should start it; ``on_start`` returns the cancels that clear leftovers of an earlier run;
  ``on_stop`` returns the cancels of every order the strategy has resting. Stopping never flattens
  positions: brackets stay armed in the engine, and flattening is a risk / kill-switch decision.
- **Params** are frozen dataclasses of integer units (``Price``, ``Money``, ``Qty``, ms) with
  defaults, built from the ``strategies.<name>`` section of ``config.py`` with ``from_config`` (a
  plain mapping such as ``settings.strategies.favorite.model_dump()``: strategies do not import
  config). ``ConfigReader`` does the exact conversions.

Imports: ``domain`` only (import-linter: strategies never import kalshi, execution, store, web,
sim, marketdata or risk).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from kalshi_trader.domain import (
    PRICE_SCALE,
    BookSide,
    BracketCancel,
    BracketRequest,
    FeeSchedule,
    Fill,
    IntentAction,
    Level,
    MarketInfo,
    MarketStatus,
    Money,
    Order,
    OrderIntent,
    OrderStatus,
    Position,
    Price,
    Qty,
    Side,
    TickGrid,
    complement,
    format_price,
    parse_money,
    parse_price,
    parse_qty,
)

__all__ = [
    "Action",
    "ConfigReader",
    "Decision",
    "Facts",
    "FairValue",
    "InFlight",
    "MarketSnapshot",
    "Strategy",
    "StrategyResult",
    "StrategyRunner",
    "StrategyState",
    "Verdict",
    "cancel_intent",
    "cancel_orders",
    "client_order_id",
    "dollars",
    "effective_orders",
]

M = TypeVar("M")

Action = OrderIntent | BracketRequest | BracketCancel
"""What a strategy asks the node to do, in order."""

Facts = tuple[tuple[str, str | int], ...]
"""The numbers behind an action or decision, as ``OrderIntent.inputs`` holds them."""


def dollars(price: int) -> str:
    """A price or amount for a reason sentence: ``5600`` → ``"$0.5600"``."""
    return "$" + format_price(price) if price >= 0 else "-$" + format_price(-price)


# --------------------------------------------------------------------------------------------
# Decisions: what was done, or why nothing was


class Verdict(StrEnum):
    TRADE = "trade"
    """Actions were emitted for this market (the reason says which and why)."""
    HOLD = "hold"
    """What rests and what is held stays as it is (e.g. quotes within the requote threshold)."""
    SKIP = "skip"
    """No trade: the market did not qualify, or trading it was unsafe (the reason says why)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """One strategy's verdict on one market at one time, with the reason and the numbers."""

    strategy: str
    ticker: str
    verdict: Verdict
    reason: str
    inputs: Facts = ()
    ts_ms: int = 0

    def __str__(self) -> str:
        return f"{self.strategy} {self.ticker}: {self.verdict.value} — {self.reason}"


# --------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True)
class FairValue:
    """A model's value of one market's YES contract.

    ``price`` is P(YES) as a YES price ($0.0001 units, not on any tick grid); ``uncertainty`` is the
    model's ±1σ band of that probability in the same units (0 when unknown); ``as_of_ms`` is when
    the model's inputs were last refreshed (a fair value older than a strategy's limit is stale)."""

    ticker: str
    price: Price
    as_of_ms: int
    uncertainty: Price = Price(0)
    source: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.price <= PRICE_SCALE:
            raise ValueError(f"fair value of {self.ticker} must be within $0..$1")
        if self.uncertainty < 0:
            raise ValueError(f"uncertainty of {self.ticker}'s fair value must not be negative")


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """What a strategy sees of one market: plain values, in YES prices.

    ``best_bid`` is the best YES bid and ``best_ask`` the best YES ask (= $1 − best NO bid), with the
    sizes resting there; ``bid_depth`` / ``ask_depth`` sum the sizes of the best few levels of each
    ladder (the node chooses how many). ``updated_ms`` is when the book was last known to match the
    exchange, on the strategy's clock; ``stale`` is the book's own verdict (no snapshot yet, or a
    sequence gap). The NO leg is read through ``leg_bid`` / ``leg_ask``: buying NO costs
    $1 − best YES bid."""

    ticker: str
    event_ticker: str
    grid: TickGrid
    close_ms: int
    best_bid: Price | None
    best_ask: Price | None
    best_bid_qty: Qty = Qty(0)
    best_ask_qty: Qty = Qty(0)
    bid_depth: Qty = Qty(0)
    ask_depth: Qty = Qty(0)
    updated_ms: int = 0
    stale: bool = False
    status: MarketStatus = MarketStatus.ACTIVE
    series_ticker: str = ""
    fees: FeeSchedule = FeeSchedule()

    @staticmethod
    def from_levels(
        info: MarketInfo,
        yes_bids: Sequence[Level],
        no_bids: Sequence[Level],
        *,
        updated_ms: int,
        stale: bool,
        fees: FeeSchedule = FeeSchedule(),
    ) -> MarketSnapshot:
        """Build from a market's info and the best few levels of its two bid ladders, best first,
        each in its own leg's prices (what ``L2Book.depth(side, n)`` returns)."""
        best_ask = complement(no_bids[0].price) if no_bids else None
        return MarketSnapshot(
            ticker=info.ticker,
            event_ticker=info.event_ticker,
            grid=info.grid,
            close_ms=info.close_ms,
            best_bid=yes_bids[0].price if yes_bids else None,
            best_ask=best_ask,
            best_bid_qty=yes_bids[0].qty if yes_bids else Qty(0),
            best_ask_qty=no_bids[0].qty if no_bids else Qty(0),
            bid_depth=Qty(sum(level.qty for level in yes_bids)),
            ask_depth=Qty(sum(level.qty for level in no_bids)),
            updated_ms=updated_ms,
            stale=stale,
            status=info.status,
            series_ticker=info.series_ticker,
            fees=fees,
        )

    @property
    def spread(self) -> Price | None:
        if self.best_bid is None or self.best_ask is None:
            return None
        return Price(self.best_ask - self.best_bid)

    @property
    def mid_x2(self) -> int | None:
        """YES bid + YES ask (twice the mid, exact), or None when a side is empty."""
        if self.best_bid is None or self.best_ask is None:
            return None
        return self.best_bid + self.best_ask

    def leg_bid(self, outcome: Side) -> Price | None:
        """The best price someone pays for ``outcome``'s contract (what selling it fetches)."""
        if outcome is Side.YES:
            return self.best_bid
        return None if self.best_ask is None else complement(self.best_ask)

    def leg_ask(self, outcome: Side) -> Price | None:
        """The best price ``outcome``'s contract is offered at (what buying it costs)."""
        if outcome is Side.YES:
            return self.best_ask
        return None if self.best_bid is None else complement(self.best_bid)

    def leg_ask_qty(self, outcome: Side) -> Qty:
        return self.best_ask_qty if outcome is Side.YES else self.best_bid_qty

    def leg_mid_x2(self, outcome: Side) -> int | None:
        """Twice ``outcome``'s mid price (its implied probability, doubled)."""
        twice = self.mid_x2
        if twice is None:
            return None
        return twice if outcome is Side.YES else 2 * PRICE_SCALE - twice

    def age_ms(self, now_ms: int) -> int:
        return now_ms - self.updated_ms

    def time_to_close_ms(self, now_ms: int) -> int:
        return self.close_ms - now_ms


@dataclass(frozen=True, slots=True)
class StrategyState:
    """Everything a strategy may look at (see the module contract)."""

    now_ms: int
    markets: Mapping[str, MarketSnapshot] = field(default_factory=dict)
    fair_values: Mapping[str, FairValue] = field(default_factory=dict)
    open_orders: tuple[Order, ...] = ()
    positions: Mapping[str, Position] = field(default_factory=dict)
    fills: tuple[Fill, ...] = ()
    id_salt: str = ""

    def position(self, ticker: str) -> Qty:
        """Signed position in ``ticker`` (> 0 long YES, < 0 long NO; 0 when flat or unknown)."""
        held = self.positions.get(ticker)
        return held.qty if held is not None else Qty(0)

    def orders_in(self, ticker: str) -> list[Order]:
        return [order for order in self.open_orders if order.ticker == ticker]


@dataclass(frozen=True, slots=True)
class StrategyResult(Generic[M]):
    """What one call returns: the next memory, the actions in order, and the decisions."""

    memory: M
    actions: tuple[Action, ...] = ()
    decisions: tuple[Decision, ...] = ()

    @property
    def intents(self) -> tuple[OrderIntent, ...]:
        return tuple(a for a in self.actions if isinstance(a, OrderIntent))


# --------------------------------------------------------------------------------------------
# The protocol and a host-agnostic runner


class Strategy(Protocol[M]):
    """A trading strategy. Implementations are immutable (params fixed at construction)."""

    @property
    def name(self) -> str:
        """Stable id, used as ``OrderIntent.strategy`` and in client order ids."""
        ...

    @property
    def enabled(self) -> bool:
        """Whether the host should start it (config)."""
        ...

    def initial_memory(self) -> M: ...

    def on_start(self, state: StrategyState, memory: M) -> StrategyResult[M]:
        """Clear leftovers of an earlier run (cancels of its orders the host still knows of)."""
        ...

    def decide(self, state: StrategyState, memory: M) -> StrategyResult[M]:
        """The pure decision: actions and decisions for this state."""
        ...

    def on_stop(self, state: StrategyState, memory: M) -> StrategyResult[M]:
        """Cancel every order the strategy has resting; positions stay (brackets stay armed)."""
        ...


class _Switchable(Protocol):
    @property
    def enabled(self) -> bool: ...


P = TypeVar("P", bound=_Switchable)


class ConfiguredStrategy(Generic[P]):
    """The plumbing every strategy shares: its immutable ``params`` (which say whether it is
    ``enabled``) and its ``name``."""

    def __init__(self, params: P, name: str) -> None:
        self.params = params
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def enabled(self) -> bool:
        return self.params.enabled


class StrategyRunner(Generic[M]):
    """Holds one strategy's memory and running flag for whichever host drives it: ``start``,
    ``step`` and ``stop`` call the strategy with the stored memory and keep the memory it returns.
    No I/O and no clock of its own; a stopped runner's ``step`` returns nothing."""

    def __init__(self, strategy: Strategy[M]) -> None:
        self.strategy = strategy
        self.memory: M = strategy.initial_memory()
        self.running = False

    @property
    def name(self) -> str:
        return self.strategy.name

    def start(self, state: StrategyState) -> StrategyResult[M]:
        if self.running:
            return StrategyResult(self.memory)
        if not self.strategy.enabled:
            skipped = Decision(self.name, "", Verdict.SKIP, "strategy is disabled in config", ts_ms=state.now_ms)
            return StrategyResult(self.memory, decisions=(skipped,))
        self.running = True
        return self._keep(self.strategy.on_start(state, self.memory))

    def step(self, state: StrategyState) -> StrategyResult[M]:
        if not self.running:
            return StrategyResult(self.memory)
        return self._keep(self.strategy.decide(state, self.memory))

    def stop(self, state: StrategyState) -> StrategyResult[M]:
        if not self.running:
            return StrategyResult(self.memory)
        self.running = False
        return self._keep(self.strategy.on_stop(state, self.memory))

    def _keep(self, result: StrategyResult[M]) -> StrategyResult[M]:
        self.memory = result.memory
        return result


# --------------------------------------------------------------------------------------------
# Helpers shared by strategies


_ID_NAMESPACE = uuid.UUID("6f1f9f4e-2b0c-5c3e-9a57-4b1f6c1d2e01")


def client_order_id(strategy: str, ticker: str, purpose: str, now_ms: int, salt: str = "") -> str:
    """A deterministic, UUID-shaped client order id (Kalshi recommends UUIDs) for the order a
    strategy creates for ``purpose`` in ``ticker`` at ``now_ms``. Unique as long as a strategy makes
    at most one order per (ticker, purpose, ms) — and across restarts thanks to ``salt``."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{salt}|{strategy}|{ticker}|{purpose}|{now_ms}"))


def cancel_intent(order: Order, strategy: str, reason: str, inputs: Facts = ()) -> OrderIntent:
    """Cancel one of the strategy's orders, explained."""
    return OrderIntent(
        IntentAction.CANCEL,
        order.ticker,
        order.client_order_id,
        order.side,
        order.price,
        order.remaining,
        strategy=strategy,
        reason=reason,
        inputs=inputs,
    )


def cancel_orders(
    state: StrategyState,
    strategy: str,
    reason: str,
    tickers: Sequence[str] | None = None,
    orders: Sequence[Order] | None = None,
) -> tuple[tuple[OrderIntent, ...], tuple[Decision, ...]]:
    """Cancels for every open order of the strategy (``orders`` if given, else the state's; in
    ``tickers`` if given), one decision per market touched."""
    wanted = None if tickers is None else set(tickers)
    cancels: list[OrderIntent] = []
    touched: dict[str, int] = {}
    for order in state.open_orders if orders is None else orders:
        if wanted is not None and order.ticker not in wanted:
            continue
        cancels.append(cancel_intent(order, strategy, reason, (("remaining", order.remaining),)))
        touched[order.ticker] = touched.get(order.ticker, 0) + 1
    decisions = tuple(
        Decision(strategy, ticker, Verdict.TRADE, f"{reason}: cancel {n} order(s)", (("orders", n),), state.now_ms)
        for ticker, n in touched.items()
    )
    return tuple(cancels), decisions


@dataclass(frozen=True, slots=True)
class InFlight:
    """An order action a strategy sent that the open orders may not show yet (the engine, the
    exchange and the tracker take a moment). A strategy called on every book change keeps these in
    its memory so it does not send the same place / amend / cancel again before it lands."""

    ticker: str
    side: BookSide
    action: IntentAction
    price: Price
    qty: Qty
    sent_ms: int

    @staticmethod
    def of(intent: OrderIntent, now_ms: int) -> InFlight:
        return InFlight(intent.ticker, intent.side, intent.action, intent.price, intent.qty, now_ms)


def effective_orders(
    open_orders: Sequence[Order], in_flight: Mapping[str, InFlight], now_ms: int, timeout_ms: int
) -> tuple[list[Order], dict[str, InFlight]]:
    """The strategy's orders as they will be once its actions in flight land, and the actions
    still unconfirmed (by client order id). An action older than ``timeout_ms`` is forgotten (what
    the open orders show wins). Until confirmed: a place not yet visible counts as resting at its
    terms; an amend shows its new price and size; an order being cancelled is left out. A place is
    confirmed when its order is visible, an amend when the order shows its terms, a cancel when the
    order is gone; an amend or cancel of an order no longer open is over."""
    pending = {coid: f for coid, f in in_flight.items() if now_ms - f.sent_ms < timeout_ms}
    visible = {o.client_order_id for o in open_orders}
    effective: list[Order] = []
    for order in open_orders:
        f = pending.get(order.client_order_id)
        if f is None or f.action is IntentAction.PLACE:
            pending.pop(order.client_order_id, None)
            effective.append(order)
        elif f.action is IntentAction.AMEND:
            if (order.price, order.remaining) == (f.price, f.qty):
                del pending[order.client_order_id]
                effective.append(order)
            else:
                effective.append(replace(order, price=f.price, remaining=f.qty))
    for coid, f in list(pending.items()):
        if coid in visible:
            continue
        if f.action is IntentAction.PLACE:
            effective.append(
                Order("", coid, f.ticker, f.side, f.price, f.qty, Qty(0), f.qty, OrderStatus.RESTING, f.sent_ms)
            )
        else:
            del pending[coid]
    return effective, pending


def yes_price_of_leg(leg: int, outcome: Side) -> Price:
    """The YES price of an order trading ``outcome``'s contract at ``leg`` (its own leg's price)."""
    return Price(leg) if outcome is Side.YES else complement(leg)


def book_side_buying(outcome: Side) -> BookSide:
    """The order side that buys ``outcome`` (``BID`` buys YES, ``ASK`` buys NO)."""
    return BookSide.of(outcome)


class ConfigReader:
    """Exact conversions of one ``strategies.<name>`` config section (a plain mapping of the
    pydantic values: ``Decimal`` dollars/contracts, float seconds) to a strategy's integer params.
    A missing key raises ``KeyError``."""

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = values

    def _text(self, key: str) -> str:
        value = self._values[key]
        if isinstance(value, Decimal):
            return format(value, "f")
        return str(value)

    def price(self, key: str) -> Price:
        return parse_price(self._text(key))

    def money(self, key: str) -> Money:
        return parse_money(self._text(key))

    def qty(self, key: str) -> Qty:
        return parse_qty(self._text(key))

    def ms(self, key: str) -> int:
        """Seconds → milliseconds (nearest)."""
        return round(Decimal(self._text(key)) * 1000)

    def percent(self, key: str) -> int:
        """A fraction with at most 2 decimals → whole percent (``0.5`` → 50)."""
        scaled = Decimal(self._text(key)) * 100
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{key} must have at most 2 decimals")
        return int(scaled)

    def integer(self, key: str) -> int:
        value = self._values[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{key} must be an integer")
        return value

    def flag(self, key: str) -> bool:
        value = self._values[key]
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        return value

    def text(self, key: str) -> str:
        return str(self._values[key])

    def names(self, key: str) -> frozenset[str]:
        value = self._values[key]
        if isinstance(value, str) or not isinstance(value, Sequence | frozenset | set):
            raise ValueError(f"{key} must be a list of names")
        return frozenset(str(v) for v in value)
