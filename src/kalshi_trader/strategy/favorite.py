"""The favourite strategy (seed 000): buy the high-probability side of liquid markets, protect every
fill with a take-profit and an emulated stop-loss, get out when the thesis breaks.

Contract (``FavoriteStrategy.decide(state, memory)``, pure — see ``strategy.base``):

- **Universe.** Every market in ``state.markets`` (restricted to ``params.series`` when set). A
  market qualifies for an entry when it is active, its book fresh (not stale, younger than
  ``max_book_age_ms``) and two-sided, its close is between ``min_time_to_close_ms`` and
  ``max_time_to_close_ms`` away, one side's mid is at least ``min_probability`` (that side is the
  *favourite*, YES or NO), the spread is at most ``max_spread``, both ladders hold ``min_depth``, the
  market is flat, it is not cooling down and fewer than ``max_open_trades`` trades are open. Each
  failed test is a ``Verdict.SKIP`` decision naming it.
- **Entry.** One limit buy of the favourite leg (V2 quotes the YES leg: buying NO is an ``ask`` at
  $1 − NO price). ``EntryMode.JOIN`` bids at the leg's best bid, ``IMPROVE`` one grid level better
  (joining when that would touch the ask) — both post-only GTC; ``TAKE`` lifts the leg's best ask
  with an IOC order, for at most the size shown there. The leg price never exceeds
  ``max_entry_price``; prices are rounded on the grid toward safety.
- **Sizing by risk.** The planned loss per contract is entry − stop limit + the entry fee (taker
  for ``TAKE``, else maker) + the taker fee of the stop's exit; the size is
  ``max_risk_per_trade / loss per contract``, at most ``max_contracts``, rounded down to
  ``size_step``. A gap through the stop can lose more — risk's position and exposure limits bound
  that.
- **Inside the risk limits.** The size is then cut to what ``state.room`` grants (``claim``: order
  size, open orders, worst-case position, event and total exposure), rounded down to
  ``size_step``; when nothing fits the market is skipped and the decision names the limit. An
  entry that was not carried out (``state.refused``) ends its trade at once, with no cool-down
  unless the exchange rejected it (the decision says why); an amend or cancel of it that was
  refused is forgotten.
- **Protection.** Whenever the entry's cumulative filled quantity grows (own fills carry the entry's
  ``client_order_id``), the strategy emits a ``BracketRequest`` (domain.py) for the cumulative
  quantity: take-profit ``take_profit`` above the average entry price, stop trigger ``stop_loss``
  below it, stop limit ``stop_slippage`` beyond the trigger (all on the held leg, converted to YES
  prices, rounded toward safety for the exit side). The execution engine rests the take-profit and
  emulates the stop (firing once the touch has stayed through it for a moment, see
  ``execution.protection``). The distances are sized to the noise of a favourite's price: in the
  simulated world the bid of favourites bought at $0.85–0.95 that went on to win dipped (for 5 s
  or more) by a median 3¢, 9¢ at the 75th percentile; a stop 6¢ away was reached by 36% of the
  winners (and 81% of the losers), one 8¢ away by 29% (68%), so the stop sits 8¢ away and the
  take-profit 4¢ above.
- **Resting entries** are cancelled when the market stops qualifying, the book goes stale or
  ``entry_timeout_ms`` passes, and amended (not replaced) when outbid by ``reprice_threshold`` or
  more — never above ``max_entry_price``. An amend or cancel is sent once: the entry is left alone
  while it is in flight (``state.in_flight``; without one, until it shows or ``ack_grace_ms``
  passes), however often the strategy is called meanwhile.
- **Exits.** When the close is ``exit_before_close_ms`` away, or the held leg's best bid has stayed
  at or below the stop trigger for ``stop_confirm_ms`` (a backstop to the engine's emulated stop:
  the first fresh snapshot at or below the trigger starts the clock, ``Trade.breach_ms``, a fresh
  one above it stops it, a stale one or an empty bid leaves it running; an exit needs a fresh bid
  at or below the trigger that long after the first — one snapshot of a thin or repricing book is
  not a fall), the strategy cancels the bracket (``BracketCancel``) and any resting entry and
  sells the position with a reduce-only IOC limit order ``exit_slippage`` below the leg's best bid,
  retrying every ``exit_retry_ms`` while a position remains (even if the bid recovers meanwhile:
  the bracket is gone) — but never while an order of ours still sells there (the last exit, or the
  take-profit whose cancel goes ahead of it): at any clock speed an exit is retried only once the
  one before it is over. The close exit needs no confirmation.
- **Cool-downs.** A trade ends when the entry is gone (seen by the node, or ``ack_grace_ms`` after
  it was placed) and the position is flat — closed by take-profit, stop, exit or an unfilled entry.
  The market then cools down for ``cooldown_ms``: no new entry, so the strategy never churns on
  one market. Late fills of the ended entry during the cool-down re-open the trade and protect
  them.
- **Memory** (``FavoriteMemory``): the trades in play and cooling down. Positions are per market,
  so the strategy assumes no other strategy trades the markets it holds.

Imports: ``domain``, ``config``'s field types and ``strategy.base`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

import msgspec
from msgspec.structs import replace
from pydantic import BaseModel, ConfigDict, Field

from kalshi_trader.config import Contracts, Count, Dollars, Duration, PriceBound, Probability, Seconds
from kalshi_trader.domain import (
    PRICE_SCALE,
    QTY_SCALE,
    BookSide,
    BracketCancel,
    BracketRequest,
    FeeSchedule,
    IntentAction,
    MarketStatus,
    Money,
    Order,
    OrderIntent,
    Price,
    Qty,
    Side,
    TickGrid,
    TimeInForce,
    complement,
    format_qty,
    leg_price,
    order_levels,
    shift_on_grid,
)
from kalshi_trader.strategy.base import (
    Action,
    ConfigReader,
    ConfiguredStrategy,
    Decision,
    Facts,
    MarketSnapshot,
    StrategyResult,
    StrategySpec,
    StrategyState,
    Verdict,
    cancel_intent,
    cancel_orders,
    client_order_id,
    dollars,
    yes_price_of_leg,
)

__all__ = ["SPEC", "EntryMode", "FavoriteMemory", "FavoriteParams", "FavoriteSettings", "FavoriteStrategy", "Trade"]

NAME = "favorite"
REJECTED = "rejected"
"""The rule of a refusal the exchange made after risk approved (``strategy.base.Refusal``)."""


class FavoriteSettings(BaseModel):
    """The ``strategies.favorite`` section (env ``KALSHI_TRADER_STRATEGIES__FAVORITE__<FIELD>``), in
    dollars, contracts and seconds: ``FavoriteParams.from_config`` turns it into the integer params,
    whose defaults are the same (a test keeps them so)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    series: list[str] = []
    """Series to trade (empty: any market the node hands the strategy)."""
    min_probability: Probability = Decimal("0.85")
    """The favourite side's mid must be at least this."""
    max_entry_price: Probability = Decimal("0.95")
    """Never pay more than this for the favourite leg."""
    min_depth_contracts: Count = Decimal(10)
    max_spread_dollars: PriceBound = Decimal("0.03")
    min_time_to_close_s: Duration = 1_800.0
    max_time_to_close_s: Duration = 3 * 86_400.0
    entry_mode: Literal["join", "improve", "take"] = "improve"
    entry_timeout_s: Seconds = 300.0
    reprice_threshold_dollars: PriceBound = Decimal("0.01")
    take_profit_dollars: PriceBound = Decimal("0.04")
    """The take-profit rests this far above the average entry price (on the leg held)."""
    stop_loss_dollars: PriceBound = Decimal("0.08")
    """The stop triggers this far below the average entry price: outside the ordinary swings of a
    favourite's price (in the simulated world, winners bought at 0.85–0.95 dipped a median 0.03 and
    0.09 at the 75th percentile for 5 s or more; a 0.06 stop was reached by 36% of them, 0.08 by 29%)."""
    stop_slippage_dollars: PriceBound = Decimal("0.03")
    """The stop's exit is never worse than this beyond the trigger."""
    stop_confirm_s: Duration = 5.0
    """The strategy's own stop backstop sells only once the held leg's bid has stayed at or below the
    trigger this long (seen fresh at the start and the end; one snapshot of a repricing book is not a
    fall). The engine's emulated stop confirms on its own, shorter window (``execution.protection``);
    0 exits on the first sight."""
    exit_slippage_dollars: PriceBound = Decimal("0.03")
    exit_before_close_s: Duration = 600.0
    exit_retry_s: Seconds = 5.0
    max_risk_per_trade_dollars: Dollars = Decimal(20)
    max_contracts: Contracts = Decimal(100)
    size_step_contracts: Contracts = Decimal(1)
    max_open_trades: int = Field(5, gt=0, le=10_000)
    cooldown_s: Duration = 900.0
    max_book_age_s: Seconds = 5.0
    ack_grace_s: Seconds = 10.0


class EntryMode(StrEnum):
    JOIN = "join"
    """Rest at the favourite leg's best bid (post-only)."""
    IMPROVE = "improve"
    """Rest one grid level above the leg's best bid (post-only); join when that would touch the ask."""
    TAKE = "take"
    """Lift the leg's best ask (IOC), up to ``max_entry_price``."""


@dataclass(frozen=True, slots=True)
class FavoriteParams:
    """Tunables in integer units (``Price``/``Money`` $0.0001, ``Qty`` 0.01 contract, ms).
    ``config.FavoriteSettings`` mirrors them in dollars/contracts/seconds (``from_config``)."""

    enabled: bool = True
    series: frozenset[str] = frozenset()
    min_probability: Price = Price(8_500)
    max_entry_price: Price = Price(9_500)
    min_depth: Qty = Qty(1_000)
    max_spread: Price = Price(300)
    min_time_to_close_ms: int = 30 * 60_000
    max_time_to_close_ms: int = 3 * 86_400_000
    entry_mode: EntryMode = EntryMode.IMPROVE
    entry_timeout_ms: int = 5 * 60_000
    reprice_threshold: Price = Price(100)
    take_profit: Price = Price(400)
    stop_loss: Price = Price(800)
    stop_slippage: Price = Price(300)
    stop_confirm_ms: int = 5_000
    exit_slippage: Price = Price(300)
    exit_before_close_ms: int = 10 * 60_000
    exit_retry_ms: int = 5_000
    max_risk_per_trade: Money = Money(200_000)
    max_contracts: Qty = Qty(10_000)
    size_step: Qty = Qty(100)
    max_open_trades: int = 5
    cooldown_ms: int = 15 * 60_000
    max_book_age_ms: int = 5_000
    ack_grace_ms: int = 10_000

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not 0 < self.min_probability < PRICE_SCALE:
            problems.append("min_probability must be strictly between $0 and $1")
        if not 0 < self.max_entry_price < PRICE_SCALE:
            problems.append("max_entry_price must be strictly between $0 and $1")
        if self.take_profit < 100 or self.stop_loss < 100:
            problems.append("take_profit and stop_loss must be at least $0.01 (the coarsest grid step)")
        if self.stop_slippage < 0 or self.exit_slippage < 0 or self.reprice_threshold <= 0 or self.max_spread < 0:
            problems.append("slippages and max_spread must not be negative, reprice_threshold must be positive")
        if self.max_risk_per_trade <= 0 or self.max_contracts <= 0 or self.size_step <= 0 or self.min_depth < 0:
            problems.append("max_risk_per_trade, max_contracts and size_step must be positive")
        if self.max_open_trades <= 0:
            problems.append("max_open_trades must be positive")
        if not 0 <= self.min_time_to_close_ms <= self.max_time_to_close_ms:
            problems.append("the time-to-close window needs 0 <= min <= max")
        if self.exit_before_close_ms >= self.min_time_to_close_ms:
            problems.append("exit_before_close must be shorter than min_time_to_close (else entries exit at once)")
        if min(self.entry_timeout_ms, self.exit_retry_ms, self.max_book_age_ms, self.ack_grace_ms) <= 0:
            problems.append("timeouts must be positive")
        if self.cooldown_ms < 0 or self.stop_confirm_ms < 0:
            problems.append("cooldown and stop_confirm must not be negative")
        if problems:
            raise ValueError("invalid favorite params: " + "; ".join(problems))

    @staticmethod
    def from_config(values: Mapping[str, object]) -> FavoriteParams:
        """From ``settings.strategies.favorite.model_dump()``."""
        c = ConfigReader(values)
        return FavoriteParams(
            enabled=c.flag("enabled"),
            series=c.names("series"),
            min_probability=c.price("min_probability"),
            max_entry_price=c.price("max_entry_price"),
            min_depth=c.qty("min_depth_contracts"),
            max_spread=c.price("max_spread_dollars"),
            min_time_to_close_ms=c.ms("min_time_to_close_s"),
            max_time_to_close_ms=c.ms("max_time_to_close_s"),
            entry_mode=EntryMode(c.text("entry_mode")),
            entry_timeout_ms=c.ms("entry_timeout_s"),
            reprice_threshold=c.price("reprice_threshold_dollars"),
            take_profit=c.price("take_profit_dollars"),
            stop_loss=c.price("stop_loss_dollars"),
            stop_slippage=c.price("stop_slippage_dollars"),
            stop_confirm_ms=c.ms("stop_confirm_s"),
            exit_slippage=c.price("exit_slippage_dollars"),
            exit_before_close_ms=c.ms("exit_before_close_s"),
            exit_retry_ms=c.ms("exit_retry_s"),
            max_risk_per_trade=c.money("max_risk_per_trade_dollars"),
            max_contracts=c.qty("max_contracts"),
            size_step=c.qty("size_step_contracts"),
            max_open_trades=c.integer("max_open_trades"),
            cooldown_ms=c.ms("cooldown_s"),
            max_book_age_ms=c.ms("max_book_age_s"),
            ack_grace_ms=c.ms("ack_grace_s"),
        )


class Trade(msgspec.Struct, frozen=True):
    """One entry and the position it opened, in one market. Prices are the held leg's prices."""

    ticker: str
    outcome: Side
    entry_client_order_id: str
    entry_price: Price
    qty: Qty
    placed_ms: int
    close_ms: int
    grid: TickGrid
    seen: bool = False
    """The entry has been seen among the open orders or fills (so its absence means it ended)."""
    protected_qty: Qty = Qty(0)
    """The cumulative quantity of the last ``BracketRequest``."""
    average_price: Price = Price(0)
    """The average entry price the last bracket was priced from."""
    exiting_ms: int | None = None
    """When the last thesis-break exit order was sent (the bracket is cancelled from then on)."""
    entry_pending_ms: int | None = None
    """When an amend or cancel of the resting entry was sent and not yet seen to land."""
    entry_pending_price: Price = Price(0)
    """The YES price that amend asked for (0: a cancel)."""
    closed_ms: int | None = None
    breach_ms: int | None = None
    """When a fresh snapshot first showed the held leg's bid at or below the stop trigger, in the
    breach still going on (None: no breach)."""

    @property
    def entry_side(self) -> BookSide:
        return BookSide.of(self.outcome)


class FavoriteMemory(msgspec.Struct, frozen=True):
    trades: Mapping[str, Trade] = msgspec.field(default_factory=dict)
    """By ticker: open trades, and ended ones until their cool-down is over."""
    cooldown_until: Mapping[str, int] = msgspec.field(default_factory=dict)


_Entry = tuple[Price, Price, Qty, bool, str, Price]
"""A priced and sized entry order: leg price, YES price, size, taker?, how, and its stop's limit."""

_Plan = tuple[BookSide, Price, Qty, TimeInForce, bool, Price, Price, str, str, Facts]
"""An entry before the risk limits: side, YES price, size, time in force, post-only?, leg price, its
stop's limit, how, and the reason and facts of the whole size."""
_Known = tuple[_Plan | None, str, TickGrid, FeeSchedule]
_PLAN_MEMORY = 4_096
"""Distinct tops whose entries are remembered (then forgotten all at once)."""

_LEG_NAME = {Side.YES: "YES", Side.NO: "NO"}
_SIDE_VALUE = {Side.YES: Side.YES.value, Side.NO: Side.NO.value}
_YES, _NO, _BID, _ASK = Side.YES, Side.NO, BookSide.BID, BookSide.ASK
_ACTIVE = MarketStatus.ACTIVE
_TAKE, _IMPROVE = EntryMode.TAKE, EntryMode.IMPROVE
_PLACE = IntentAction.PLACE
_IOC, _GTC = TimeInForce.IMMEDIATE_OR_CANCEL, TimeInForce.GOOD_TILL_CANCELED
_TRADE, _SKIP = Verdict.TRADE, Verdict.SKIP
# Enum members bound once: on this interpreter reading ``Enum.MEMBER`` costs as much as a call.


class FavoriteStrategy(ConfiguredStrategy[FavoriteParams]):
    """See the module docstring."""

    def __init__(self, params: FavoriteParams | None = None, name: str = NAME) -> None:
        super().__init__(params if params is not None else FavoriteParams(), name)
        self._min_probability_text = dollars(self.params.min_probability)
        self._max_risk_text = dollars(self.params.max_risk_per_trade)
        self._planned_fees: dict[tuple[FeeSchedule, int, int, bool], int] = {}
        """The entry's and the stop's fee per contract by (fees, entry leg, stop leg, taker?)."""
        self._plans: dict[tuple[str, Side, Price | None, Price | None, int], _Known] = {}
        """``_plan``'s answers by (market, favourite, YES bid, YES ask, size offered if taking), with the
        grid and fees they were worked out on (another grid or fee schedule: worked out again)."""

    def initial_memory(self) -> FavoriteMemory:
        return FavoriteMemory()

    # -----------------------------------------------------------------------------------------
    # Lifecycle

    def on_start(self, state: StrategyState, memory: FavoriteMemory) -> StrategyResult[FavoriteMemory]:
        """Cancel resting orders that no trade in memory accounts for (leftovers of a past run)."""
        known = {t.entry_client_order_id for t in memory.trades.values() if t.closed_ms is None}
        stray = [o for o in state.open_orders if o.client_order_id not in known]
        actions = tuple(
            cancel_intent(o, self.name, "strategy started: cancel an order from an earlier run") for o in stray
        )
        decisions = tuple(
            Decision(self.name, o.ticker, Verdict.TRADE, "cancel an order left from an earlier run", ts_ms=state.now_ms)
            for o in stray
        )
        return StrategyResult(memory, actions, decisions)

    def on_stop(self, state: StrategyState, memory: FavoriteMemory) -> StrategyResult[FavoriteMemory]:
        """Cancel resting entries; positions stay protected by their brackets."""
        actions, decisions = cancel_orders(state, self.name, "strategy stopped")
        return StrategyResult(memory, actions, decisions)

    # -----------------------------------------------------------------------------------------
    # Decide

    def decide(self, state: StrategyState, memory: FavoriteMemory) -> StrategyResult[FavoriteMemory]:
        now = state.now_ms
        cooldowns: dict[str, int]
        trades: dict[str, Trade]
        if memory.trades or memory.cooldown_until:
            cooldowns = {t: until for t, until in memory.cooldown_until.items() if until > now}
            trades = {
                t: trade for t, trade in memory.trades.items() if trade.closed_ms is None or cooldowns.get(t, 0) > now
            }
            open_trades = sum(1 for t in trades.values() if t.closed_ms is None)  # kept up to date below
        else:  # nothing in play: every market is an entry to consider
            cooldowns, trades, open_trades = {}, {}, 0
        actions: list[Action] = []
        decisions: list[Decision] = []
        series = self.params.series
        for ticker in sorted(set(state.markets) | set(trades)) if trades else sorted(state.markets):
            snap = state.markets.get(ticker)
            trade = trades.get(ticker)
            if trade is None:
                if snap is None or (series and snap.series_ticker not in series):
                    continue
                new_trade, acts, decision = self._consider_entry(state, snap, cooldowns.get(ticker), open_trades)
                if new_trade is not None:
                    trades[ticker] = new_trade
                    open_trades += new_trade.closed_ms is None
            elif trade.closed_ms is None and not trade.seen and state.refusal(trade.entry_client_order_id):
                refusal = state.refusal(trade.entry_client_order_id)
                assert refusal is not None
                open_trades -= 1
                why = f"entry not placed ({refusal.rule}: {refusal.reason})"
                if refusal.rule == REJECTED:  # the exchange said no: as if it ended unfilled
                    trades[ticker] = replace(trade, closed_ms=now)
                    cooldowns[ticker] = now + self.params.cooldown_ms
                    why += f"; cooling down {self.params.cooldown_ms // 1000} s"
                else:
                    del trades[ticker]
                acts, decision = (), self._skip(ticker, now, why, (("rule", refusal.rule),))
            else:
                new_trade, acts, decision = self._manage(state, snap, trade)
                trades[ticker] = new_trade
                open_trades += (new_trade.closed_ms is None) - (trade.closed_ms is None)
                if new_trade.closed_ms is not None and trade.closed_ms is None:
                    cooldowns[ticker] = now + self.params.cooldown_ms
            actions.extend(acts)
            decisions.append(decision)
        return StrategyResult(FavoriteMemory(trades, cooldowns), tuple(actions), tuple(decisions))

    # -----------------------------------------------------------------------------------------
    # Entries

    def _skip(self, ticker: str, now: int, reason: str, facts: Facts = ()) -> Decision:
        return Decision(self._name, ticker, _SKIP, reason, facts, now)

    def _cooling(self, ticker: str, now: int, until: int) -> Decision:
        """The same sentence for the whole cool-down (the numbers are in the inputs), so a log of
        changed decisions records it once."""
        reason = f"cooling down: no new entry within {self.params.cooldown_ms // 1000} s of the last trade's end"
        return self._skip(ticker, now, reason, (("cooldown_until_ms", until), ("cooldown_left_ms", until - now)))

    def _qualifies(self, snap: MarketSnapshot, now: int) -> tuple[Side | None, str, Facts]:
        """The favourite side if the market passes every entry filter, else None and why."""
        p = self.params
        if snap.status is not _ACTIVE:
            return None, f"market is {snap.status.value}, not active", ()
        age = now - snap.updated_ms
        if snap.stale or age > p.max_book_age_ms:
            return None, "book is stale", (("book_age_ms", age), ("stale", int(snap.stale)))
        left = snap.close_ms - now
        if not p.min_time_to_close_ms <= left <= p.max_time_to_close_ms:
            return (
                None,
                f"closes in {left // 60_000} min, outside the {p.min_time_to_close_ms // 60_000}"
                f"–{p.max_time_to_close_ms // 60_000} min entry window",
                (("time_to_close_ms", left),),
            )
        bid, ask = snap.best_bid, snap.best_ask
        if bid is None or ask is None:
            return None, "book is one-sided", ()
        facts: Facts = (("yes_bid", bid), ("yes_ask", ask), ("min_probability", p.min_probability))
        twice = bid + ask  # YES's mid, doubled (NO's is 2 × $1 − that)
        if twice >= 2 * p.min_probability:
            favourite = _YES
        elif 2 * PRICE_SCALE - twice >= 2 * p.min_probability:
            favourite = _NO
        else:
            return None, f"no side's mid is at least {self._min_probability_text}", facts
        spread = ask - bid
        if spread > p.max_spread:
            return None, f"spread {dollars(spread)} is wider than {dollars(p.max_spread)}", (*facts, ("spread", spread))
        bid_depth, ask_depth = snap.bid_depth, snap.ask_depth
        if (bid_depth if bid_depth < ask_depth else ask_depth) < p.min_depth:
            return (
                None,
                f"depth {format_qty(min(bid_depth, ask_depth))} contracts is below {format_qty(p.min_depth)}",
                (*facts, ("bid_depth", bid_depth), ("ask_depth", ask_depth)),
            )
        return favourite, "", facts

    def _consider_entry(
        self, state: StrategyState, snap: MarketSnapshot, cooldown_until: int | None, open_trades: int
    ) -> tuple[Trade | None, tuple[Action, ...], Decision]:
        p, now, ticker = self.params, state.now_ms, snap.ticker
        if cooldown_until is not None:
            return None, (), self._cooling(ticker, now, cooldown_until)
        favourite, why, facts = self._qualifies(snap, now)
        if favourite is None:
            return None, (), self._skip(ticker, now, why, facts)
        held = state.positions.get(ticker)
        if held is not None and held.qty != 0:
            return None, (), self._skip(ticker, now, "already holding a position here", (("position", held.qty),))
        for order in state.open_orders:
            if order.ticker == ticker:
                return None, (), self._skip(ticker, now, "an order of ours already rests here")
        if open_trades >= p.max_open_trades:
            return None, (), self._skip(ticker, now, f"{open_trades} trades already open (max {p.max_open_trades})")
        plan, why = self._plan(snap, favourite)
        if plan is None:
            return None, (), self._skip(ticker, now, why, facts)
        side, yes, qty, tif, post_only, leg, stop_leg, how, reason, plan_facts = plan
        fit = state.room.claim(ticker, side, yes, qty)
        room = fit.qty - fit.qty % p.size_step
        if room <= 0:
            return None, (), self._skip(ticker, now, f"no room under the risk limits: {fit.reason}", facts)
        if room < qty:
            qty, how = Qty(room), f"{how} (size cut by the risk limits: {fit.reason})"
            plan_facts = self._entry_facts(facts, favourite, leg, stop_leg, qty)
            reason = self._entry_reason(snap, favourite, how, qty, leg)
        name = self._name
        coid = client_order_id(name, ticker, "entry", now, state.id_salt)
        intent = OrderIntent(  # ``OrderIntent.place`` spelled out: one call less per entry
            _PLACE, ticker, coid, side, yes, qty, tif, post_only, False, name, reason, plan_facts
        )
        trade = Trade(ticker, favourite, coid, leg, qty, now, snap.close_ms, snap.grid)
        return trade, (intent,), Decision(name, ticker, _TRADE, reason, plan_facts, now)

    def _plan(self, snap: MarketSnapshot, favourite: Side) -> tuple[_Plan | None, str]:
        """The entry ``_price_entry`` makes of this book's top, with its reason and facts for the
        whole size — or None and why not. A pure function of the top, the grid, the fees and the
        params, so it is worked out once per distinct top (``_plans``) and read back after."""
        grid, fees, bid, ask = snap.grid, snap.fees, snap.best_bid, snap.best_ask
        offered = 0
        if self.params.entry_mode is _TAKE:
            offered = snap.best_ask_qty if favourite is _YES else snap.best_bid_qty
        key = (snap.ticker, favourite, bid, ask, offered)
        known = self._plans.get(key)
        if known is not None and known[2] is grid and known[3] is fees:  # the market's grid and fees as then
            return known[0], known[1]
        entry, why = self._price_entry(snap, favourite)
        plan: _Plan | None = None
        if entry is not None and bid is not None and ask is not None:  # a priced entry has both
            leg, yes, qty, taker, how, stop_leg = entry
            facts: Facts = (("yes_bid", bid), ("yes_ask", ask), ("min_probability", self.params.min_probability))
            plan = (
                _BID if favourite is _YES else _ASK,
                yes,
                qty,
                _IOC if taker else _GTC,
                not taker,
                leg,
                stop_leg,
                how,
                self._entry_reason(snap, favourite, how, qty, leg),
                self._entry_facts(facts, favourite, leg, stop_leg, qty),
            )
        if len(self._plans) >= _PLAN_MEMORY:
            self._plans.clear()
        self._plans[key] = (plan, why, grid, fees)
        return plan, why

    def _entry_facts(self, facts: Facts, favourite: Side, leg: int, stop_leg: int, qty: int) -> Facts:
        return (
            *facts,
            ("favourite", _SIDE_VALUE[favourite]),
            ("entry_leg_price", leg),
            ("stop_limit_leg_price", stop_leg),
            ("qty", qty),
            ("max_risk", self.params.max_risk_per_trade),
        )

    def _entry_reason(self, snap: MarketSnapshot, favourite: Side, how: str, qty: int, leg: int) -> str:
        leg_name = _LEG_NAME[favourite]
        bid, ask = snap.best_bid, snap.best_ask
        twice = 0 if bid is None or ask is None else bid + ask if favourite is _YES else 2 * PRICE_SCALE - bid - ask
        return (
            f"{leg_name} is the favourite (mid {dollars(twice // 2)}"
            f" ≥ {self._min_probability_text}): {how}, buy {format_qty(qty)} {leg_name}"
            f" at {dollars(leg)}, sized to lose at most {self._max_risk_text} at the stop"
        )

    def _desired_leg_price(self, snap: MarketSnapshot, outcome: Side) -> tuple[Price | None, bool, str]:
        """(leg price, taker?, how) of an entry now, or (None, _, why not)."""
        p = self.params
        best_bid, best_ask = snap.best_bid, snap.best_ask
        if best_bid is None or best_ask is None:
            return None, False, "book is one-sided"
        yes = outcome is _YES
        bid, ask = (best_bid, best_ask) if yes else (complement(best_ask), complement(best_bid))
        mode = p.entry_mode
        if mode is _TAKE:
            if ask > p.max_entry_price:
                return (
                    None,
                    True,
                    f"{outcome.value.upper()} ask {dollars(ask)} is above the {dollars(p.max_entry_price)} maximum",
                )
            return ask, True, f"take the ask {dollars(ask)}"
        price, improved = bid, False
        if mode is _IMPROVE:  # one grid level up on the leg (down in YES prices for NO)
            better = (
                shift_on_grid(snap.grid, best_bid, 1) if yes else complement(shift_on_grid(snap.grid, best_ask, -1))
            )
            if bid < better < ask and better <= p.max_entry_price:
                price, improved = better, True
        if price > p.max_entry_price:
            return (
                None,
                False,
                f"{outcome.value.upper()} bid {dollars(price)} is above the {dollars(p.max_entry_price)} maximum",
            )
        return (
            price,
            False,
            f"improve the bid {dollars(bid)} by one tick" if improved else f"join the bid {dollars(bid)}",
        )

    def _price_entry(self, snap: MarketSnapshot, outcome: Side) -> tuple[_Entry | None, str]:
        p = self.params
        leg, taker, how = self._desired_leg_price(snap, outcome)
        if leg is None:
            return None, how
        grid = snap.grid
        if outcome is _YES:  # on the grid toward safety: a bid rounds down, an ask up
            yes = leg = grid.round_down(leg)
        else:
            yes = grid.round_up(PRICE_SCALE - leg)
            leg = complement(yes)
        stop_leg = self._stop_prices(grid, outcome, leg)[1]
        key = (snap.fees, leg, stop_leg, taker)
        fees = self._planned_fees.get(key)
        if fees is None:
            schedule = snap.fees
            fees = schedule.fee(leg, QTY_SCALE, taker=taker) + schedule.fee(stop_leg, QTY_SCALE, taker=True)
            self._planned_fees[key] = fees
        loss = leg - stop_leg + fees
        if loss < 1:
            loss = 1
        qty = p.max_risk_per_trade * QTY_SCALE // loss
        if qty > p.max_contracts:
            qty = p.max_contracts
        if taker:
            offered = snap.best_ask_qty if outcome is _YES else snap.best_bid_qty
            if qty > offered:
                qty = offered
        qty -= qty % p.size_step
        if qty <= 0:
            return None, (
                f"size is zero: {dollars(p.max_risk_per_trade)} risk at {dollars(loss)} per contract"
                + (f" and {format_qty(snap.leg_ask_qty(outcome))} offered" if taker else "")
            )
        return (leg, yes, Qty(qty), taker, how, stop_leg), ""

    # -----------------------------------------------------------------------------------------
    # Brackets and exits

    def _stop_prices(self, grid: TickGrid, outcome: Side, average: int) -> tuple[Price, Price]:
        """(trigger, limit) leg prices of the stop for an average entry price, kept inside the grid."""
        p = self.params
        levels = order_levels(grid)
        floor = levels[0] if outcome is _YES else PRICE_SCALE - levels[-1]
        trigger = average - p.stop_loss
        if trigger < floor:
            trigger = floor
        limit = trigger - p.stop_slippage
        return Price(trigger), Price(limit if limit > floor else floor)

    @staticmethod
    def _min_leg(grid: TickGrid, outcome: Side) -> int:
        """The lowest price an order can trade ``outcome``'s contract at on this grid."""
        levels = order_levels(grid)
        return levels[0] if outcome is Side.YES else complement(levels[-1])

    @staticmethod
    def _max_leg(grid: TickGrid, outcome: Side) -> int:
        """The highest price an order can trade ``outcome``'s contract at on this grid."""
        levels = order_levels(grid)
        return levels[-1] if outcome is Side.YES else complement(levels[0])

    def _bracket(self, trade: Trade, filled: int, average: int) -> BracketRequest:
        p = self.params
        exit_side = trade.entry_side.other
        tp_leg = min(average + p.take_profit, self._max_leg(trade.grid, trade.outcome))
        trigger_leg, limit_leg = self._stop_prices(trade.grid, trade.outcome, average)

        def on_grid(leg: int) -> Price:
            return trade.grid.round_toward_safety(yes_price_of_leg(leg, trade.outcome), exit_side)

        leg = trade.outcome.value.upper()
        facts: Facts = (
            ("filled", filled),
            ("average_leg_price", average),
            ("take_profit_leg_price", tp_leg),
            ("stop_trigger_leg_price", trigger_leg),
            ("stop_limit_leg_price", limit_leg),
        )
        return BracketRequest(
            trade.ticker,
            trade.entry_client_order_id,
            trade.entry_side,
            Qty(filled),
            on_grid(tp_leg),
            on_grid(trigger_leg),
            on_grid(limit_leg),
            strategy=self.name,
            reason=(
                f"protect {format_qty(filled)} {leg} bought at {dollars(average)} on average: take profit at"
                f" {dollars(tp_leg)}, stop at {dollars(trigger_leg)} (no worse than {dollars(limit_leg)})"
            ),
            inputs=facts,
        )

    def _watch_stop(self, snap: MarketSnapshot | None, trade: Trade, now: int) -> tuple[Trade, str | None]:
        """Track the held leg's bid against the stop trigger (``Trade.breach_ms``); the reason to
        exit once it has stayed at or below the trigger for ``stop_confirm_ms``, else None."""
        if snap is None or snap.stale or snap.age_ms(now) > self.params.max_book_age_ms:
            return trade, None  # no evidence either way
        bid = snap.leg_bid(trade.outcome)
        if bid is None:
            return trade, None
        trigger = self._stop_prices(snap.grid, trade.outcome, trade.average_price or trade.entry_price)[0]
        if bid > trigger:
            return (replace(trade, breach_ms=None) if trade.breach_ms is not None else trade), None
        since = now if trade.breach_ms is None else trade.breach_ms
        trade = replace(trade, breach_ms=since)
        if now - since < self.params.stop_confirm_ms:
            return trade, None
        leg = trade.outcome.value.upper()
        return trade, (
            f"{leg} bid {dollars(bid)} fell through the stop {dollars(trigger)}"
            f" and stayed there {(now - since) // 1000} s"
        )

    def _exit_reason(self, snap: MarketSnapshot | None, trade: Trade, now: int) -> tuple[Trade, str | None]:
        left = trade.close_ms - now
        trade, broken = self._watch_stop(snap, trade, now)
        if left <= self.params.exit_before_close_ms:
            return trade, f"market closes in {max(0, left) // 1000} s"
        return trade, broken

    # -----------------------------------------------------------------------------------------
    # Managing a trade

    def _manage(
        self, state: StrategyState, snap: MarketSnapshot | None, trade: Trade
    ) -> tuple[Trade, tuple[Action, ...], Decision]:
        p, now, ticker = self.params, state.now_ms, trade.ticker
        entry = next((o for o in state.open_orders if o.client_order_id == trade.entry_client_order_id), None)
        fills = [f for f in state.fills if f.client_order_id == trade.entry_client_order_id and f.ticker == ticker]
        fill_qty = sum(f.qty for f in fills)
        filled = max(fill_qty, entry.filled if entry is not None else 0)
        position = state.position(ticker)
        held = max(0, position) if trade.outcome is Side.YES else max(0, -position)
        seen = trade.seen or entry is not None or filled > 0
        trade = replace(trade, seen=seen)
        leg = trade.outcome.value.upper()
        actions: list[Action] = []
        notes: list[str] = []

        closed_ms = trade.closed_ms
        if closed_ms is not None:  # cooling down: only late fills of the ended entry matter
            if filled > trade.protected_qty and held > 0:
                trade = replace(trade, closed_ms=None)
                notes.append("late fill of the ended entry")
            else:
                until = closed_ms + p.cooldown_ms
                return (
                    trade,
                    (),
                    self._cooling(ticker, now, until),
                )

        # 1. The average entry price of what has filled (a fill reported by the order before its
        #    fill message arrived counts at the entry's limit price).
        if filled > trade.protected_qty and trade.exiting_ms is None:
            notional = sum(leg_price(f.price, f.side) * f.qty for f in fills)
            if filled > fill_qty:
                notional += trade.entry_price * (filled - fill_qty)
            trade = replace(trade, average_price=Price(-(-notional // filled)))

        # 2. Exit when the thesis breaks (then no new bracket: the position is being sold).
        if filled > 0 and held > 0:
            trade, why = self._exit_reason(snap, trade, now)
            if why is None and trade.exiting_ms is not None:
                why = "finish the exit (the bracket is cancelled)"
            if why is None and trade.breach_ms is not None:
                notes.append(
                    f"{leg} bid at or below the stop: exit if it stays there {p.stop_confirm_ms / 1000:g} s"
                    " (the engine's stop may fire first)"
                )
            if why is not None:
                return self._exit(state, snap, trade, entry, (filled, held), why, actions, notes)

        # 3. Protect what has filled.
        if filled > trade.protected_qty and trade.exiting_ms is None:
            bracket = self._bracket(trade, filled, trade.average_price)
            actions.append(bracket)
            trade = replace(trade, protected_qty=Qty(filled))
            notes.append(bracket.reason)

        # 4. A resting entry: keep, amend or cancel it.
        if entry is not None and trade.exiting_ms is None:
            kept, acts, note = self._tend_entry(state, snap, trade, entry)
            actions.extend(acts)
            notes.append(note)
            verdict = Verdict.TRADE if actions else Verdict.HOLD
            return kept, tuple(actions), self._decide(ticker, now, verdict, notes, kept, filled, held)

        # 5. No resting entry.
        if entry is None and not seen and now - trade.placed_ms < p.ack_grace_ms:
            notes.append("waiting for the entry to be acknowledged")
            return trade, tuple(actions), self._decide(ticker, now, Verdict.HOLD, notes, trade, filled, held)
        if held == 0 and entry is None:
            ended = replace(trade, closed_ms=now)
            if filled == 0:
                notes.append(f"entry ended unfilled; cooling down {p.cooldown_ms // 1000} s")
            else:
                notes.append(f"trade closed (position flat); cooling down {p.cooldown_ms // 1000} s")
            verdict = Verdict.TRADE if actions else Verdict.HOLD
            return ended, tuple(actions), self._decide(ticker, now, verdict, notes, trade, filled, held)
        if trade.exiting_ms is not None:
            notes.append(f"exit in progress, {format_qty(held)} {leg} left")
        else:
            notes.append(f"holding {format_qty(held)} {leg}, protected by the bracket")
        verdict = Verdict.TRADE if actions else Verdict.HOLD
        return trade, tuple(actions), self._decide(ticker, now, verdict, notes, trade, filled, held)

    def _decide(
        self, ticker: str, now: int, verdict: Verdict, notes: list[str], trade: Trade, filled: int, held: int
    ) -> Decision:
        facts: Facts = (
            ("entry_client_order_id", trade.entry_client_order_id),
            ("filled", filled),
            ("held", held),
            ("protected_qty", trade.protected_qty),
        )
        return Decision(self.name, ticker, verdict, "; ".join(notes), facts, now)

    def _tend_entry(
        self, state: StrategyState, snap: MarketSnapshot | None, trade: Trade, entry: Order
    ) -> tuple[Trade, tuple[Action, ...], str]:
        p, now = self.params, state.now_ms
        change = state.in_flight.get(entry.client_order_id)
        if change is not None:
            return trade, (), f"waiting for the entry's {change.action.value} to land"
        if trade.entry_pending_ms is not None and state.refusal(entry.client_order_id) is not None:
            trade = replace(trade, entry_pending_ms=None, entry_pending_price=Price(0))
        if trade.entry_pending_ms is not None:
            what = "amend" if trade.entry_pending_price else "cancel"
            landed = bool(trade.entry_pending_price) and entry.price == trade.entry_pending_price
            if not landed and now - trade.entry_pending_ms < p.ack_grace_ms:
                return trade, (), f"waiting for the entry's {what} to land"
            trade = replace(trade, entry_pending_ms=None, entry_pending_price=Price(0))
        if snap is None:
            why = "market left the feed"
        elif now - trade.placed_ms >= p.entry_timeout_ms:
            why = f"entry unfilled after {p.entry_timeout_ms // 1000} s"
        else:
            favourite, why, _ = self._qualifies(snap, now)
            if favourite is not None and favourite is not trade.outcome:
                why = f"{favourite.value.upper()} is the favourite now"
        if why:
            cancel = cancel_intent(entry, self.name, f"cancel the entry: {why}", (("remaining", entry.remaining),))
            return replace(trade, entry_pending_ms=now), (cancel,), cancel.reason
        assert snap is not None
        bid = snap.leg_bid(trade.outcome)
        ours = leg_price(entry.price, entry.side)
        if bid is not None and bid - ours >= p.reprice_threshold:
            desired, _, how = self._desired_leg_price(snap, trade.outcome)
            if desired is None:
                cancel = cancel_intent(entry, self.name, f"cancel the entry: outbid and {how}")
                return replace(trade, entry_pending_ms=now), (cancel,), cancel.reason
            yes = snap.grid.round_toward_safety(yes_price_of_leg(desired, trade.outcome), entry.side)
            new_leg = leg_price(yes, entry.side)
            reason = f"outbid at {dollars(bid)}: move the entry from {dollars(ours)} to {dollars(new_leg)}"
            fit = state.room.claim(trade.ticker, entry.side, yes, entry.remaining, replacing=entry.client_order_id)
            size = fit.qty - fit.qty % p.size_step
            if size <= 0:
                cancel = cancel_intent(entry, self.name, f"cancel the entry: outbid and {fit.reason}")
                return replace(trade, entry_pending_ms=now), (cancel,), cancel.reason
            if size < entry.remaining:
                reason += f", {format_qty(size)} left by the risk limits ({fit.reason})"
            amend = OrderIntent.amend(
                trade.ticker,
                entry.side,
                yes,
                Qty(size),
                entry.client_order_id,
                strategy=self.name,
                reason=reason,
                inputs=(("leg_bid", bid), ("old_leg_price", ours), ("new_yes_price", yes)),
            )
            moved = replace(trade, entry_price=new_leg, entry_pending_ms=now, entry_pending_price=yes)
            return moved, (amend,), reason
        return trade, (), f"entry resting at {dollars(ours)} ({format_qty(entry.remaining)} left)"

    def _exit(
        self,
        state: StrategyState,
        snap: MarketSnapshot | None,
        trade: Trade,
        entry: Order | None,
        amounts: tuple[int, int],
        why: str,
        actions: list[Action],
        notes: list[str],
    ) -> tuple[Trade, tuple[Action, ...], Decision]:
        """Cancel the bracket and the entry, then sell the position (``amounts`` = filled, held)."""
        p, now, ticker = self.params, state.now_ms, trade.ticker
        leg = trade.outcome.value.upper()
        filled, held = amounts
        qty = min(filled, held)
        if trade.exiting_ms is not None and now - trade.exiting_ms < p.exit_retry_ms:
            notes.append(f"{why}; exit sent {(now - trade.exiting_ms) // 1000} s ago, waiting")
            return trade, tuple(actions), self._decide(ticker, now, Verdict.HOLD, notes, trade, filled, held)
        selling = [o for o in state.orders_in(ticker) if o.side is trade.entry_side.other]
        if trade.exiting_ms is not None and selling:
            notes.append(
                f"{why}; {len(selling)} order(s) of ours still selling here (the last exit, or the take-profit)"
            )
            return trade, tuple(actions), self._decide(ticker, now, Verdict.HOLD, notes, trade, filled, held)
        bid = snap.leg_bid(trade.outcome) if snap is not None and not snap.stale else None
        if snap is None or bid is None:
            notes.append(f"{why}, but there is no fresh {leg} bid to sell to; the bracket stays armed")
            return trade, tuple(actions), self._decide(ticker, now, Verdict.HOLD, notes, trade, filled, held)
        exit_side = trade.entry_side.other
        leg_limit = max(self._min_leg(snap.grid, trade.outcome), bid - p.exit_slippage)
        yes = snap.grid.round_toward_safety(yes_price_of_leg(leg_limit, trade.outcome), exit_side)
        if entry is not None:
            actions.append(cancel_intent(entry, self.name, f"cancel the entry: {why}"))
        if trade.exiting_ms is None and trade.protected_qty > 0:
            actions.append(BracketCancel(ticker, trade.entry_client_order_id, self.name, f"exit: {why}"))
        reason = f"{why}: sell {format_qty(qty)} {leg} now, no worse than {dollars(leg_price(yes, exit_side.other))}"
        facts: Facts = (("leg_bid", bid), ("exit_yes_price", yes), ("qty", qty))
        actions.append(
            OrderIntent.place(
                ticker,
                exit_side,
                yes,
                qty,
                client_order_id(self.name, ticker, "exit", now, state.id_salt),
                tif=TimeInForce.IMMEDIATE_OR_CANCEL,
                reduce_only=True,
                strategy=self.name,
                reason=reason,
                inputs=facts,
            )
        )
        notes.append(reason)
        trade = replace(trade, exiting_ms=now)
        return trade, tuple(actions), self._decide(ticker, now, Verdict.TRADE, notes, trade, filled, held)


def _build(section: BaseModel) -> FavoriteStrategy:
    return FavoriteStrategy(FavoriteParams.from_config(section.model_dump()))


SPEC = StrategySpec(NAME, "Favorite (high-probability + bracket)", FavoriteSettings, _build)
