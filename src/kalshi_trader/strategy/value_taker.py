"""The value taker, the worked example of ``docs/writing-a-strategy.md``: buy whichever side the
fair-value model prices above what the book asks for it, by more than an edge plus the fee.

Contract (``ValueTakerStrategy.decide(state, memory)``, pure — see ``strategy.base``):

- **Universe.** Every market in ``state.markets`` with a ``FairValue`` (restricted to
  ``params.series`` when set). A market is looked at when it is active, its book fresh (not stale,
  younger than ``max_book_age_ms``), its fair value younger than ``max_fair_age_ms``, its close more
  than ``min_time_to_close_ms`` away, nothing of ours rests there and it is not cooling down.
- **Edge.** YES is worth ``fair``; buying it costs the best YES ask plus the taker fee. NO is worth
  $1 − fair and costs $1 − the best YES bid plus the fee. The side whose value beats its cost by at
  least ``min_edge`` is bought (the larger edge if both do).
- **Order.** An immediate-or-cancel limit at the price shown, for ``contracts`` at most, no more
  than the size shown there, no more than keeps the leg held within ``max_position`` — and cut to
  what the risk limits leave (``state.room.claim``), in whole ``size_step`` s. Nothing left: a skip
  saying which limit.
- **Pace.** After a buy the market cools down for ``cooldown_ms``. A buy that was not carried out
  (``state.refused``) ends the cool-down at once, so the next call may try again.
- Every market looked at gets a ``Decision`` (trade, or skip with the reason).

Imports: ``domain``, ``config``'s field types and ``strategy.base`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from kalshi_trader.config import Contracts, Duration, PriceBound, Seconds
from kalshi_trader.domain import (
    PRICE_SCALE,
    QTY_SCALE,
    BookSide,
    MarketStatus,
    OrderIntent,
    Price,
    Qty,
    TimeInForce,
    format_qty,
)
from kalshi_trader.strategy.base import (
    Action,
    ConfigReader,
    ConfiguredStrategy,
    Decision,
    MarketSnapshot,
    StrategyResult,
    StrategySpec,
    StrategyState,
    Verdict,
    client_order_id,
    dollars,
)

__all__ = ["SPEC", "ValueTakerMemory", "ValueTakerParams", "ValueTakerSettings", "ValueTakerStrategy"]

NAME = "value_taker"


class ValueTakerSettings(BaseModel):
    """The ``strategies.value_taker`` section (env ``KALSHI_TRADER_STRATEGIES__VALUE_TAKER__<FIELD>``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    series: list[str] = []
    """Series to trade (empty: every market with a fair value)."""
    min_edge_dollars: PriceBound = Decimal("0.05")
    """Buy only when the fair value beats the price plus the taker fee by this much."""
    contracts: Contracts = Decimal(2)
    max_position_contracts: Contracts = Decimal(5)
    size_step_contracts: Contracts = Decimal(1)
    max_book_age_s: Seconds = 5.0
    max_fair_age_s: Seconds = 900.0
    min_time_to_close_s: Duration = 3_600.0
    cooldown_s: Duration = 600.0


@dataclass(frozen=True, slots=True)
class ValueTakerParams:
    """``ValueTakerSettings`` in integer units (``Price`` $0.0001, ``Qty`` 0.01 contract, ms)."""

    enabled: bool = True
    series: frozenset[str] = frozenset()
    min_edge: Price = Price(500)
    contracts: Qty = Qty(200)
    max_position: Qty = Qty(500)
    size_step: Qty = Qty(100)
    max_book_age_ms: int = 5_000
    max_fair_age_ms: int = 900_000
    min_time_to_close_ms: int = 3_600_000
    cooldown_ms: int = 600_000

    @staticmethod
    def from_config(values: Mapping[str, object]) -> ValueTakerParams:
        c = ConfigReader(values)
        return ValueTakerParams(
            enabled=c.flag("enabled"),
            series=c.names("series"),
            min_edge=c.price("min_edge_dollars"),
            contracts=c.qty("contracts"),
            max_position=c.qty("max_position_contracts"),
            size_step=c.qty("size_step_contracts"),
            max_book_age_ms=c.ms("max_book_age_s"),
            max_fair_age_ms=c.ms("max_fair_age_s"),
            min_time_to_close_ms=c.ms("min_time_to_close_s"),
            cooldown_ms=c.ms("cooldown_s"),
        )


@dataclass(frozen=True, slots=True)
class ValueTakerMemory:
    cooldown_until: Mapping[str, int] = field(default_factory=dict)
    """By ticker: no new buy before this time."""
    last_buy: Mapping[str, str] = field(default_factory=dict)
    """By ticker: the client order id of the last buy (a refusal of it ends the cool-down)."""


class ValueTakerStrategy(ConfiguredStrategy[ValueTakerParams]):
    """See the module docstring."""

    def __init__(self, params: ValueTakerParams | None = None, name: str = NAME) -> None:
        super().__init__(params if params is not None else ValueTakerParams(), name)

    def initial_memory(self) -> ValueTakerMemory:
        return ValueTakerMemory()

    def on_start(self, state: StrategyState, memory: ValueTakerMemory) -> StrategyResult[ValueTakerMemory]:
        return StrategyResult(memory)  # IOC orders only: nothing of ours can rest

    def on_stop(self, state: StrategyState, memory: ValueTakerMemory) -> StrategyResult[ValueTakerMemory]:
        return StrategyResult(memory)

    def decide(self, state: StrategyState, memory: ValueTakerMemory) -> StrategyResult[ValueTakerMemory]:
        now = state.now_ms
        refused = {r.client_order_id for r in state.refused}
        cooling = {
            t: until
            for t, until in memory.cooldown_until.items()
            if until > now and memory.last_buy.get(t) not in refused
        }
        last_buy = {t: coid for t, coid in memory.last_buy.items() if t in cooling}
        actions: list[Action] = []
        decisions: list[Decision] = []
        for ticker, snap in sorted(state.markets.items()):
            if ticker not in state.fair_values or (self.params.series and snap.series_ticker not in self.params.series):
                continue
            why = self._why_not(state, snap, cooling.get(ticker))
            intent = None if why else self._buy(state, snap)
            if isinstance(intent, str):
                why, intent = intent, None
            if intent is None:
                decisions.append(Decision(self.name, ticker, Verdict.SKIP, why, ts_ms=now))
                continue
            actions.append(intent)
            cooling[ticker] = now + self.params.cooldown_ms
            last_buy[ticker] = intent.client_order_id
            decisions.append(Decision(self.name, ticker, Verdict.TRADE, intent.reason, intent.inputs, now))
        return StrategyResult(ValueTakerMemory(cooling, last_buy), tuple(actions), tuple(decisions))

    def _why_not(self, state: StrategyState, snap: MarketSnapshot, cooling_until: int | None) -> str:
        p, now = self.params, state.now_ms
        if snap.status is not MarketStatus.ACTIVE:
            return f"market is {snap.status.value}"
        if snap.stale or snap.age_ms(now) > p.max_book_age_ms:
            return "book is stale"
        if now - state.fair_values[snap.ticker].as_of_ms > p.max_fair_age_ms:
            return "fair value is stale"
        if snap.time_to_close_ms(now) <= p.min_time_to_close_ms:
            return f"closes within {p.min_time_to_close_ms // 60_000} min"
        if state.orders_in(snap.ticker):
            return "an order of ours is still working here"
        if cooling_until is not None:
            return f"cooling down after a buy ({(cooling_until - now) // 1000} s left)"
        return ""

    def _buy(self, state: StrategyState, snap: MarketSnapshot) -> OrderIntent | str:
        """The buy this market calls for, or why there is none."""
        p, fair = self.params, state.fair_values[snap.ticker].price
        held = state.position(snap.ticker)
        options: list[tuple[int, BookSide, Price, Qty, int]] = []  # edge, side, YES price, shown, held
        if snap.best_ask is not None:
            fee = snap.fees.fee(snap.best_ask, QTY_SCALE, taker=True)
            options.append((fair - snap.best_ask - fee, BookSide.BID, snap.best_ask, snap.best_ask_qty, max(0, held)))
        if snap.best_bid is not None:
            fee = snap.fees.fee(PRICE_SCALE - snap.best_bid, QTY_SCALE, taker=True)
            options.append((snap.best_bid - fair - fee, BookSide.ASK, snap.best_bid, snap.best_bid_qty, max(0, -held)))
        if not options:
            return "book is empty"
        edge, side, price, shown, leg_held = max(options, key=lambda o: o[0])
        if edge < p.min_edge:
            return f"best edge {dollars(edge)} after the fee is below {dollars(p.min_edge)}"
        wanted = min(p.contracts, shown, p.max_position - leg_held)
        fit = state.room.claim(snap.ticker, side, price, Qty(max(0, wanted)))
        qty = fit.qty - fit.qty % p.size_step
        if qty <= 0:
            limit = fit.reason or f"the {format_qty(p.max_position)}-contract position cap"
            return f"edge {dollars(edge)}, but no size left: {limit}"
        leg = side.outcome.value.upper()
        cost = price if side is BookSide.BID else PRICE_SCALE - price
        reason = (
            f"{leg} worth {dollars(fair if side is BookSide.BID else PRICE_SCALE - fair)}, offered at {dollars(cost)}"
        )
        return OrderIntent.place(
            snap.ticker,
            side,
            price,
            Qty(qty),
            client_order_id(self.name, snap.ticker, "buy", state.now_ms, state.id_salt),
            tif=TimeInForce.IMMEDIATE_OR_CANCEL,
            strategy=self.name,
            reason=f"{reason}: edge {dollars(edge)} after the fee, buy {format_qty(qty)} (IOC)",
            inputs=(("fair", fair), ("edge", edge), ("yes_price", price), ("qty", qty)),
        )


def _build(section: BaseModel) -> ValueTakerStrategy:
    return ValueTakerStrategy(ValueTakerParams.from_config(section.model_dump()))


SPEC = StrategySpec(NAME, "Value taker (example)", ValueTakerSettings, _build, default=False)
