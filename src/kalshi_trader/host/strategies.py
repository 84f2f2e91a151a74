"""Hosting the pure strategies: inputs from the node's state, actions to the execution engine.

Contract:
- ``StrategyHost(runners, engine, markets=..., fair_values=..., clock_ms=...)`` drives one
  ``StrategyRunner`` per strategy. ``start(name)`` / ``stop(name)`` run the strategy's
  ``on_start`` / ``on_stop`` and carry out their actions (stopping cancels the strategy's resting
  orders; positions stay, with their brackets armed in the engine). ``step()`` calls ``decide`` of
  every running strategy once and carries out the actions in order.
- **Inputs** (``StrategyState``): ``now_ms`` from ``clock_ms`` (market time: the exchange's clock);
  ``markets`` from ``markets()``; ``fair_values()``; the strategy's **own** open orders (the
  tracker's orders whose intent named this strategy; pending ones included, so an order just sent
  is never sent twice); every position of the account; the strategy's **own** position per market
  (``own_positions``: the net of the fills of its orders — those ``restore`` hands over from the
  record at start-up, such as from before a restart, plus those since — kept across a stop and
  start, and never beyond the account's — a part the account no longer holds, taken by a flatten,
  a settlement or the exchange netting it against another strategy's, is forgotten; fills of
  orders no strategy sent are nobody's);
  the strategy's own fills since it started (attributed through the tracker); and a per-process
  ``id_salt``.
- **Actions**: an ``OrderIntent`` goes to ``engine.submit`` with the market's freshest top of book
  (``top_of(ticker)``, on risk's clock) and its fair value when one exists, so risk judges the
  price against it; ``BracketRequest`` / ``BracketCancel`` go to the engine's bracket handling.
  Refusals are counted per strategy and rule (``refused_by``); risk has audited them already. Once
  risk refuses for the write budget — or its budget has no write left (``writes_available``), checked
  before each place or amend — the step's remaining places and amends are not sent (``deferred``:
  they would be refused too; the strategy asks again on its next step); cancels always are. While
  risk is halted, places and amends that are not reduce-only are held back too (``held_halted``),
  so a halted node does not audit a refusal per market per step. Likewise, once risk refused a
  place or amend in a market and side, the same kind of intent there is first judged as a dry run
  (``risk.check``): refused again by the same rule, it is not sent and not audited again
  (``repeated``) — a market maker pressing on a full exposure limit every step leaves one audit
  entry per episode, not one per step; anything else goes through ``submit`` as usual.
- **Feedback** in the next ``StrategyState``: ``refused`` lists every intent of the strategy not
  carried out since its last call — refused by risk or the engine, deferred, held, repeated, or
  (rule ``rejected`` / ``purged``) approved but then rejected by the exchange or the engine as it
  left, or dropped unsent;
  ``in_flight`` the amends and cancels sent whose answer has not come (the engine's ``Submission``
  is not done); ``room`` is risk's ``room()`` view, fresh for each call.
- ``run(wake)`` steps whenever ``wake`` is set (books changed, fills), at most once per
  ``min_interval_s`` and at least every ``max_interval_s`` (strategies have timers), until
  cancelled. A strategy whose ``decide`` raises is stopped (its orders canceled) and the error is
  kept in ``last_error``: one bad strategy never takes the node down.
- Decisions: the newest per market are kept (``decisions(name)``) for the dashboard.
- What the host reads of the tracker (each strategy's open orders, the account's positions) is
  kept while the tracker's revisions stand: a step with no order change reads nothing again.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from kalshi_trader.domain import (
    BookSide,
    BracketCancel,
    BracketRequest,
    Fill,
    IntentAction,
    Order,
    OrderIntent,
    OrderStatus,
    Position,
    Qty,
    TopOfBook,
)
from kalshi_trader.execution.engine import ExecutionEngine, Submission
from kalshi_trader.execution.orders import OrderState, TrackedOrder
from kalshi_trader.execution.views import Outcome
from kalshi_trader.strategy.base import (
    Decision,
    FairValue,
    MarketSnapshot,
    OrderChange,
    Refusal,
    StrategyResult,
    StrategyRunner,
    StrategyState,
)

__all__ = ["HostedStrategy", "StrategyHost"]

log = structlog.get_logger(__name__)

MAX_DECISIONS = 200
RATE_BUDGET = "rate_budget"
"""Risk's rule name for the write budget (``risk.decisions.Rule.RATE_BUDGET``)."""
HELD_HALTED = "halted"
"""The rule a ``Refusal`` names for an intent held back while risk is halted."""
MAX_FILLS = 2_000


@dataclass(slots=True)
class HostedStrategy:
    runner: StrategyRunner[Any]
    title: str
    fills: deque[Fill] = field(default_factory=lambda: deque(maxlen=MAX_FILLS))
    holdings: dict[str, int] = field(default_factory=dict)
    """ticker → the strategy's own signed position (see ``own_positions`` in the module contract)."""
    decisions: dict[str, Decision] = field(default_factory=dict)
    steps: int = 0
    actions: int = 0
    refused: int = 0
    refused_by: dict[str, int] = field(default_factory=dict)
    """Refusals per rule (risk's or the engine's)."""
    deferred: int = 0
    """Places and amends not sent because the write budget was spent earlier in the same step
    (the strategy asks again on its next step)."""
    held_halted: int = 0
    """Places and amends that add risk, not sent while risk is halted (kill switch or an open
    breaker: risk would refuse them all; reduce-only exits and cancels are still sent)."""
    repeated: int = 0
    """Places and amends a dry run found refused again by the rule that refused the last one in the
    same market, side and kind: not sent, not audited again."""
    refusing: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """(ticker, side, intent kind) → the rule that refused the last such intent."""
    last_error: str = ""
    not_done: list[Refusal] = field(default_factory=list)
    """Intents not carried out since the strategy's last call (handed to it in ``refused``)."""
    changing: dict[str, tuple[OrderChange, Submission]] = field(default_factory=dict)
    """Amends and cancels sent and not yet answered, by client order id."""
    sent: list[Submission] = field(default_factory=list)
    """Places and amends approved and not yet answered (a rejection is reported as a refusal)."""
    shown_orders: tuple[int, tuple[Order, ...]] = (-1, ())
    """(the tracker's ``revision``, the strategy's open orders as read then): read again only
    after a change to the orders."""
    as_orders: dict[str, tuple[TrackedOrder, Order]] = field(default_factory=dict)
    """client order id → (the tracker's read of an open order, the ``Order`` built from it)."""

    @property
    def name(self) -> str:
        return self.runner.name

    def answered(self) -> None:
        """Move the places and amends the exchange (or the engine, as they left) rejected, or that
        were dropped unsent, to the refusals the strategy hears of next."""
        waiting: list[Submission] = []
        for sub in self.sent:
            if not sub.result.done():
                waiting.append(sub)
                continue
            result = sub.result.result()
            if result.outcome in (Outcome.REJECTED, Outcome.PURGED):
                self.not_carried_out(sub.intent, result.outcome.value, result.reason)
        self.sent = waiting

    def in_flight(self) -> dict[str, OrderChange]:
        """The changes still unanswered (answered ones are dropped here)."""
        for coid in [c for c, (_, sub) in self.changing.items() if sub.result.done()]:
            del self.changing[coid]
        return {coid: change for coid, (change, _) in self.changing.items()}

    def not_carried_out(self, intent: OrderIntent, rule: str, reason: str) -> None:
        self.not_done.append(Refusal.of(intent, rule, reason))


def _as_order(t: TrackedOrder) -> Order:
    status = OrderStatus.RESTING if t.state.is_open else OrderStatus.CANCELED
    if t.state is OrderState.EXECUTED:
        status = OrderStatus.EXECUTED
    return Order(
        order_id=t.order_id or "",
        client_order_id=t.client_order_id,
        ticker=t.ticker,
        side=t.side,
        price=t.price,
        initial=t.size,
        filled=t.filled,
        remaining=t.remaining,
        status=status,
        created_ms=t.exchange_ms,
        updated_ms=t.exchange_ms,
    )


def _own_positions(holdings: dict[str, int], account: Mapping[str, Position]) -> dict[str, Qty]:
    """The non-zero ``holdings``, each cut to what the account holds on the same leg (0 when the
    account is flat or holds the other leg); ``holdings`` keep the cut values."""
    own: dict[str, Qty] = {}
    for ticker, held in list(holdings.items()):
        total = account[ticker].qty if ticker in account else 0
        kept = 0 if held * total <= 0 else max(-abs(total), min(abs(total), held))
        if kept:
            holdings[ticker] = own[ticker] = Qty(kept)
        else:
            del holdings[ticker]
    return own


class StrategyHost:
    """See the module docstring."""

    def __init__(
        self,
        strategies: Sequence[tuple[StrategyRunner[Any], str]],
        engine: ExecutionEngine,
        *,
        markets: Callable[[], Mapping[str, MarketSnapshot]],
        fair_values: Callable[[], Mapping[str, FairValue]],
        top_of: Callable[[str], TopOfBook | None],
        clock_ms: Callable[[], int],
        on_change: Callable[[], None] = lambda: None,
        min_interval_s: float = 0.2,
        max_interval_s: float = 1.0,
    ) -> None:
        self.engine = engine
        self._hosted = {runner.name: HostedStrategy(runner, title) for runner, title in strategies}
        self._markets = markets
        self._fair_values = fair_values
        self._top_of = top_of
        self._clock_ms = clock_ms
        self._on_change = on_change
        self.min_interval_s = min_interval_s
        self.max_interval_s = max_interval_s
        self.salt = uuid.uuid4().hex[:12]
        self._positions: tuple[int, dict[str, Position]] = (-1, {})
        """(the tracker's ``positions_revision``, the account's non-flat positions as read then)."""

    # -- reads -------------------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return list(self._hosted)

    def hosted(self, name: str) -> HostedStrategy:
        try:
            return self._hosted[name]
        except KeyError:
            raise KeyError(name) from None

    def all(self) -> list[HostedStrategy]:
        return list(self._hosted.values())

    def own_orders(self, name: str) -> list[TrackedOrder]:
        return self.engine.open_orders(strategy=name)

    # -- inputs ------------------------------------------------------------------------------------

    def on_fill(self, fill: Fill) -> None:
        """A fill of the account (after the engine counted it): kept for the strategy that owns it."""
        tracked = self.engine.tracker.order(fill.order_id) or (
            self.engine.tracker.order(fill.client_order_id) if fill.client_order_id else None
        )
        if tracked is None:
            return
        hosted = self._hosted.get(tracked.strategy)
        if hosted is not None:
            if not fill.client_order_id:
                fill = Fill(
                    fill.fill_id,
                    fill.order_id,
                    fill.ticker,
                    fill.side,
                    fill.price,
                    fill.qty,
                    fill.fee,
                    fill.is_taker,
                    fill.ts_ms,
                    tracked.client_order_id,
                    fill.post_position,
                )
            hosted.fills.append(fill)
            bought = fill.qty if fill.side is BookSide.BID else -fill.qty
            hosted.holdings[fill.ticker] = hosted.holdings.get(fill.ticker, 0) + bought

    def restore(self, holdings: Mapping[str, Mapping[str, int]]) -> None:
        """Add each hosted strategy's own net position per market as the record has it (strategy →
        ticker → signed net of the fills of its earlier orders); other names are ignored. Call it
        once, before any strategy starts; the account's positions cut it as usual."""
        for name, held in holdings.items():
            hosted = self._hosted.get(name)
            if hosted is None:
                continue
            for ticker, qty in held.items():
                hosted.holdings[ticker] = hosted.holdings.get(ticker, 0) + qty

    def open_orders_of(self, name: str) -> tuple[Order, ...]:
        """The strategy's open orders (pending ones included) as ``Order`` values, in submission
        order: built again only after the tracker's orders changed, each ``Order`` only after its
        own order did."""
        hosted = self._hosted[name]
        revision = self.engine.tracker.revision
        if hosted.shown_orders[0] == revision:
            return hosted.shown_orders[1]
        known, built = hosted.as_orders, {}
        for t in self.own_orders(name):
            kept = known.get(t.client_order_id)
            built[t.client_order_id] = kept if kept is not None and kept[0] is t else (t, _as_order(t))
        hosted.as_orders = built
        orders = tuple(order for _, order in built.values())
        hosted.shown_orders = (revision, orders)
        return orders

    def positions(self) -> dict[str, Position]:
        """The account's positions that are not flat, by ticker (read again only after a fill or a
        settlement; the same mapping until then: readers never change it)."""
        revision = self.engine.tracker.positions_revision
        if self._positions[0] != revision:
            held = {p.ticker: p for p in self.engine.positions() if p.qty != Qty(0)}
            self._positions = (revision, held)
        return self._positions[1]

    def state_for(self, name: str) -> StrategyState:
        """The strategy's inputs now; hands over (and forgets) the refusals since its last call."""
        positions = self.positions()
        hosted = self._hosted[name]
        own = _own_positions(hosted.holdings, positions)
        hosted.answered()
        refused, hosted.not_done = tuple(hosted.not_done), []
        return StrategyState(
            now_ms=self._clock_ms(),
            markets=self._markets(),
            fair_values=self._fair_values(),
            open_orders=self.open_orders_of(name),
            positions=positions,
            own_positions=own,
            fills=tuple(hosted.fills),
            id_salt=self.salt,
            in_flight=hosted.in_flight(),
            refused=refused,
            room=self.engine.risk.room(),
        )

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self, name: str) -> HostedStrategy:
        hosted = self.hosted(name)
        if not hosted.runner.running:
            hosted.fills.clear()
            hosted.last_error = ""
            self._carry_out(hosted, hosted.runner.start(self.state_for(name)))
            self._on_change()
        return hosted

    def stop(self, name: str) -> HostedStrategy:
        hosted = self.hosted(name)
        if hosted.runner.running:
            self._carry_out(hosted, hosted.runner.stop(self.state_for(name)))
            self._on_change()
        return hosted

    def stop_all(self) -> list[str]:
        stopped = [h.name for h in self._hosted.values() if h.runner.running]
        for name in stopped:
            self.stop(name)
        return stopped

    def step(self) -> None:
        for hosted in self._hosted.values():
            if not hosted.runner.running:
                continue
            try:
                result = hosted.runner.step(self.state_for(hosted.name))
            except Exception as exc:
                hosted.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("strategy_failed", strategy=hosted.name)
                hosted.runner.running = False
                for t in self.own_orders(hosted.name):
                    self.engine.cancel(t.client_order_id, reason="strategy failed", strategy=hosted.name)
                self._on_change()
                continue
            hosted.steps += 1
            self._carry_out(hosted, result)

    async def run(self, wake: asyncio.Event) -> None:
        """Step on ``wake`` (rate-limited) and on a timer, until cancelled."""
        while True:
            try:
                async with asyncio.timeout(self.max_interval_s):
                    await wake.wait()
            except TimeoutError:
                pass
            wake.clear()
            started = time.monotonic()
            try:
                self.step()
            except Exception:  # never let the loop die
                log.exception("strategy_step_failed")
            await asyncio.sleep(max(0.0, self.min_interval_s - (time.monotonic() - started)))

    # -- actions -----------------------------------------------------------------------------------

    def _carry_out(self, hosted: HostedStrategy, result: StrategyResult[Any]) -> None:
        newest = hosted.decisions
        for decision in result.decisions:
            ticker = decision.ticker
            if ticker:
                newest.pop(ticker, None)
                newest[ticker] = decision
                if len(newest) > MAX_DECISIONS:
                    newest.pop(next(iter(newest)))
        if not result.actions:
            return
        fair = self._fair_values()
        budget_spent = False
        for action in result.actions:
            hosted.actions += 1
            if isinstance(action, OrderIntent):
                if action.action is not IntentAction.CANCEL and not action.reduce_only and self.engine.risk.halted:
                    hosted.held_halted += 1
                    hosted.not_carried_out(action, HELD_HALTED, "held back: risk is halted")
                    continue
                if action.action is not IntentAction.CANCEL and (
                    budget_spent or self.engine.risk.writes_available() < 1
                ):
                    budget_spent = True
                    hosted.deferred += 1
                    hosted.not_carried_out(action, RATE_BUDGET, "deferred: the write budget is spent")
                    continue
                fv = fair.get(action.ticker)
                book, price = self._top_of(action.ticker), fv.price if fv is not None else None
                key = (action.ticker, action.side.value, action.action.value)
                last_rule = hosted.refusing.get(key)
                if last_rule is not None and action.action is not IntentAction.CANCEL:
                    again = self.engine.risk.check(action, book=book, fair_value=price)
                    if again.rule == last_rule:
                        hosted.repeated += 1
                        hosted.not_carried_out(action, again.rule.value, again.reason)
                        continue
                    del hosted.refusing[key]
                sub = self.engine.submit(action, book=book, fair_value=price)
                if sub.approved and action.action is not IntentAction.PLACE:
                    change = OrderChange(action.action, action.price, action.qty)
                    hosted.changing[action.client_order_id] = (change, sub)
                if sub.approved and action.action is not IntentAction.CANCEL:
                    hosted.sent.append(sub)
                if not sub.approved:
                    hosted.not_carried_out(action, sub.rule, sub.reason)
                    hosted.refused += 1
                    hosted.refused_by[sub.rule] = hosted.refused_by.get(sub.rule, 0) + 1
                    budget_spent = sub.rule == RATE_BUDGET
                    if action.action is not IntentAction.CANCEL and not budget_spent:
                        hosted.refusing[key] = sub.rule
            elif isinstance(action, BracketRequest):
                if self.engine.request_bracket(action) is None:
                    hosted.refused += 1
            elif isinstance(action, BracketCancel):
                self.engine.cancel_bracket(action)
        self._on_change()
