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
  the account's positions per market (signed, netted, > 0 long YES: what risk judges); the
  strategy's **own** position per market (``own_positions``: the net of the fills of its own
  orders, never beyond the account's); the strategy's own fills since it started
  (with ``client_order_id`` filled in by the node's order tracker); and ``id_salt``, a per-process
  string that keeps client order ids unique across restarts. All times are on one clock.
- **What became of the last actions**: ``in_flight`` holds the amends and cancels of its orders
  that were sent and not yet answered (by client order id: an order is shown as it will be with
  ``effective_orders``); ``refused`` the intents of its earlier calls that were not carried out
  (refused by risk or the engine, or held back by the host), each with the rule and reason — so a
  strategy never waits for, amends or cancels an order that was never placed. Places are visible
  in ``open_orders`` as soon as they are sent.
- **Room** (``room``, a ``RiskRoom``): what the risk limits leave for a new order or an amend —
  order size, open orders, worst-case position per market, event and total exposure — so a
  strategy sizes inside them (a smaller order, or a skip that says which limit) instead of
  proposing what risk must refuse. ``claim`` counts what it grants for the rest of the call, so
  several orders of one decision fit the limits together. Hosts without risk pass ``UNLIMITED``.
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
  defaults, built with ``from_config`` from the strategy's ``strategies.<name>`` settings section
  (a pydantic model the strategy's module defines, with config's exact field types, passed as a
  plain mapping: ``model_dump()``). ``ConfigReader`` does the exact conversions.
- **Registration** (``StrategySpec``): each strategy module exposes one ``SPEC`` — its name, title,
  settings model and factory — and ``strategy.registry`` lists them; config sections, the CLI's
  ``--strategy`` choices and the dashboard's titles come from there.

Imports: ``domain`` (and pydantic for settings models; import-linter: strategies never import
kalshi, execution, store, web, sim, marketdata or risk).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from hashlib import sha1
from typing import Any, Generic, Protocol, TypeVar

import msgspec
from pydantic import BaseModel

from kalshi_trader.domain import (
    PRICE_SCALE,
    BookSide,
    BracketCancel,
    BracketRequest,
    FeeSchedule,
    Fill,
    Fit,
    IntentAction,
    LadderTop,
    Level,
    MarketInfo,
    MarketStatus,
    Money,
    Order,
    OrderIntent,
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
    "UNLIMITED",
    "Action",
    "ConfigReader",
    "Decision",
    "Facts",
    "FairValue",
    "MarketSnapshot",
    "OrderChange",
    "Refusal",
    "RiskRoom",
    "Strategy",
    "StrategyResult",
    "StrategyRunner",
    "StrategySpec",
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


class Decision(msgspec.Struct, frozen=True):
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


class MarketSnapshot(msgspec.Struct, frozen=True):
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
        return MarketSnapshot.from_tops(
            info, LadderTop.of(yes_bids), LadderTop.of(no_bids), updated_ms=updated_ms, stale=stale, fees=fees
        )

    @staticmethod
    def from_tops(
        info: MarketInfo,
        yes: LadderTop,
        no: LadderTop,
        *,
        updated_ms: int,
        stale: bool,
        fees: FeeSchedule = FeeSchedule(),
    ) -> MarketSnapshot:
        """``from_levels`` from the two ladders' sums (``L2Book.top(side, n)``): the same snapshot,
        without the levels themselves."""
        return MarketSnapshot(
            info.ticker,
            info.event_ticker,
            info.grid,
            info.close_ms,
            yes.best,
            None if no.best is None else complement(no.best),
            yes.best_qty,
            no.best_qty,
            yes.depth,
            no.depth,
            updated_ms,
            stale,
            info.status,
            info.series_ticker,
            fees,
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


class RiskRoom(Protocol):
    """What the risk limits leave room for (read-only; see the module contract). ``replacing``
    names the client order id of the order an amend changes ("" for a new order)."""

    def fit(self, ticker: str, side: BookSide, price: Price, qty: Qty, *, replacing: str = "") -> Fit:
        """The largest size up to ``qty`` that fits, and the limit that bound it."""
        ...

    def claim(self, ticker: str, side: BookSide, price: Price, qty: Qty, *, replacing: str = "") -> Fit:
        """``fit``, then count the granted size against the limits for the rest of the call."""
        ...

    def open_orders_left(self) -> int:
        """New orders the open-orders limit still allows."""
        ...


class _Unlimited:
    """A room with no limits (hosts without a risk manager, tests)."""

    def fit(self, ticker: str, side: BookSide, price: Price, qty: Qty, *, replacing: str = "") -> Fit:
        return Fit(qty)

    def claim(self, ticker: str, side: BookSide, price: Price, qty: Qty, *, replacing: str = "") -> Fit:
        return Fit(qty)

    def open_orders_left(self) -> int:
        return 1 << 30


UNLIMITED: RiskRoom = _Unlimited()


@dataclass(frozen=True, slots=True)
class OrderChange:
    """An amend or cancel of one of the strategy's orders, sent and not yet answered: the terms it
    asks for (a cancel's are the order's own)."""

    action: IntentAction
    price: Price
    qty: Qty


@dataclass(frozen=True, slots=True)
class Refusal:
    """One of the strategy's intents that was not carried out, and why (``rule``: risk's or the
    engine's rule name, or the host's reason for holding it back)."""

    client_order_id: str
    ticker: str
    side: BookSide
    action: IntentAction
    rule: str
    reason: str

    @staticmethod
    def of(intent: OrderIntent, rule: str, reason: str) -> Refusal:
        return Refusal(intent.client_order_id, intent.ticker, intent.side, intent.action, rule, reason)


class StrategyState(msgspec.Struct, frozen=True):
    """Everything a strategy may look at (see the module contract)."""

    now_ms: int
    markets: Mapping[str, MarketSnapshot] = msgspec.field(default_factory=dict)
    fair_values: Mapping[str, FairValue] = msgspec.field(default_factory=dict)
    open_orders: tuple[Order, ...] = ()
    positions: Mapping[str, Position] = msgspec.field(default_factory=dict)
    own_positions: Mapping[str, Qty] = msgspec.field(default_factory=dict)
    fills: tuple[Fill, ...] = ()
    id_salt: str = ""
    in_flight: Mapping[str, OrderChange] = msgspec.field(default_factory=dict)
    refused: tuple[Refusal, ...] = ()
    room: RiskRoom = UNLIMITED

    def position(self, ticker: str) -> Qty:
        """Signed position in ``ticker`` (> 0 long YES, < 0 long NO; 0 when flat or unknown)."""
        held = self.positions.get(ticker)
        return held.qty if held is not None else Qty(0)

    def own_position(self, ticker: str) -> Qty:
        """The strategy's own signed position in ``ticker`` (its share of ``position``)."""
        return self.own_positions.get(ticker, Qty(0))

    def orders_in(self, ticker: str) -> list[Order]:
        return [order for order in self.open_orders if order.ticker == ticker]

    def refusal(self, client_order_id: str) -> Refusal | None:
        """The refusal of an earlier intent about ``client_order_id``, if it was refused."""
        return next((r for r in self.refused if r.client_order_id == client_order_id), None)


class StrategyResult(msgspec.Struct, Generic[M], frozen=True):
    """What one call returns: the next memory, the actions in order, and the decisions."""

    memory: M
    actions: tuple[Action, ...] = ()
    decisions: tuple[Decision, ...] = ()

    @property
    def intents(self) -> tuple[OrderIntent, ...]:
        actions = self.actions
        if len(actions) == 1 and type(actions[0]) is OrderIntent:  # the usual one: no generator
            return actions  # type: ignore[return-value]
        return tuple(a for a in actions if isinstance(a, OrderIntent))


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


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """What the registry knows of one strategy: its ``name`` (``OrderIntent.strategy``, the config
    section ``strategies.<name>``, the CLI's ``--strategy`` value), a ``title`` for people, its
    ``settings`` model (pydantic, ``extra="forbid"``; every field has a default), the ``build``
    factory (a validated section in, a strategy out), whether ``run`` loads it by ``default``,
    and the series it follows on Kalshi (``follows``: from its section; sim hands it every
    market)."""

    name: str
    title: str
    settings: type[BaseModel]
    build: Callable[[BaseModel], Strategy[Any]]
    default: bool = True
    follows: Callable[[BaseModel], frozenset[str]] = lambda section: frozenset(getattr(section, "series", ()))


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
_ID_PREFIX = _ID_NAMESPACE.bytes
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
"""The hex digit that carries the variant bits (10) in place of a digest's digit."""


def client_order_id(strategy: str, ticker: str, purpose: str, now_ms: int, salt: str = "") -> str:
    """A deterministic, UUID-shaped client order id (Kalshi recommends UUIDs) for the order a
    strategy creates for ``purpose`` in ``ticker`` at ``now_ms``. Unique as long as a strategy makes
    at most one order per (ticker, purpose, ms) — and across restarts thanks to ``salt``.

    It is ``uuid.uuid5`` of ``salt|strategy|ticker|purpose|now_ms`` in this module's namespace, built
    straight from the SHA-1 digest (RFC 4122 §4.3: version 5, variant bits 10) without the
    ``uuid.UUID`` object in between: the version and variant digits are set in the hex text."""
    h = sha1(_ID_PREFIX + f"{salt}|{strategy}|{ticker}|{purpose}|{now_ms}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


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


def effective_orders(open_orders: Sequence[Order], in_flight: Mapping[str, OrderChange]) -> list[Order]:
    """The strategy's orders as they will be once its changes in flight land: an order being
    amended shows the terms asked for, one being cancelled is left out."""
    effective: list[Order] = []
    for order in open_orders:
        change = in_flight.get(order.client_order_id)
        if change is None:
            effective.append(order)
        elif change.action is IntentAction.AMEND:
            effective.append(replace(order, price=change.price, remaining=change.qty))
    return effective


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
