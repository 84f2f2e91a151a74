"""Reference implementation for differential tests: the weather market maker's decision as first
written.

``ReferenceWeatherMM`` overrides ``WeatherMMStrategy.decide`` with the plain version it replaced —
every market planned, budgeted and reconciled afresh on every call (no plan or actions kept between
calls), ``first_side`` and ``budget_quotes`` as written first — and keeps the rest (``plan_quotes``,
the gate ``_why_not_quote``, ``_reconcile`` and ``_within_room``; ``_conclude_as_written`` orders the
actions, fits them to the room and writes the decisions as first written).
``test_weather_mm_kept.py`` checks that both decide alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

import msgspec

from kalshi_trader.domain import PRICE_SCALE, BookSide, Order
from kalshi_trader.strategy.base import (
    Action,
    Decision,
    Facts,
    StrategyResult,
    StrategyState,
    Verdict,
    effective_orders,
)
from kalshi_trader.strategy.weather_mm import (
    Quote,
    QuotePlan,
    WeatherMMMemory,
    WeatherMMStrategy,
    plan_quotes,
)

_CANCEL = 0


def _worst_cost(quote: Quote) -> int:
    return quote.price if quote.side is BookSide.BID else PRICE_SCALE - quote.price


def first_side(plan: QuotePlan, position: int) -> BookSide | None:
    wanted = [q for q in (plan.bid, plan.ask) if q is not None]
    if not wanted:
        return None
    if len(wanted) == 1:
        return wanted[0].side
    if position:
        return BookSide.ASK if position > 0 else BookSide.BID
    return min(wanted, key=lambda q: (_worst_cost(q), q.side is BookSide.ASK)).side


def budget_quotes(
    plans: Sequence[QuotePlan],
    positions: Mapping[str, int],
    resting: AbstractSet[tuple[str, BookSide]],
    max_quotes: int,
) -> list[QuotePlan]:
    ranked: list[tuple[tuple[int, int, str, bool], str, BookSide]] = []
    for plan in plans:
        first = first_side(plan, positions.get(plan.ticker, 0))
        for quote in (plan.bid, plan.ask):
            if quote is None:
                continue
            tier = 0 if quote.side is first else 1 if (plan.ticker, quote.side) in resting else 2
            key = (tier, _worst_cost(quote), plan.ticker, quote.side is BookSide.ASK)
            ranked.append((key, plan.ticker, quote.side))
    if len(ranked) <= max_quotes:
        return list(plans)
    ranked.sort()
    left_out = {(ticker, side) for _, ticker, side in ranked[max_quotes:]}
    why = f"over the {max_quotes}-quote budget (one side in every market first, then the cheapest second sides)"
    out: list[QuotePlan] = []
    for plan in plans:
        if (plan.ticker, BookSide.BID) in left_out:
            plan = msgspec.structs.replace(plan, bid=None, why_no_bid=why)
        if (plan.ticker, BookSide.ASK) in left_out:
            plan = msgspec.structs.replace(plan, ask=None, why_no_ask=why)
        out.append(plan)
    return out


class ReferenceWeatherMM(WeatherMMStrategy):
    """``WeatherMMStrategy`` deciding as first written (see the module docstring)."""

    def decide(self, state: StrategyState, memory: WeatherMMMemory) -> StrategyResult[WeatherMMMemory]:
        p, now = self.params, state.now_ms
        orders = effective_orders(state.open_orders, state.in_flight)
        in_scope = {
            t: s
            for t, s in state.markets.items()
            if t in state.fair_values and (not p.series or s.series_ticker in p.series)
        }
        event_positions: dict[str, int] = {}
        for ticker, market in state.markets.items():
            event_positions[market.event_ticker] = event_positions.get(market.event_ticker, 0) + state.own_position(
                ticker
            )
        orders_in: dict[str, list[Order]] = {}
        for o in orders:
            orders_in.setdefault(o.ticker, []).append(o)
        keyed: list[tuple[tuple[int, int], Action]] = []
        decisions: list[Decision] = []
        plans: list[QuotePlan] = []
        facts: dict[str, Facts] = {}
        for ticker in sorted(set(in_scope) | set(orders_in)):
            snap = in_scope.get(ticker)
            why = self._why_not_quote(state, ticker, snap)
            if why:
                decisions.append(self._pull(ticker, why, orders_in.get(ticker, ()), keyed, now))
                continue
            assert snap is not None
            plans.append(
                plan_quotes(
                    p,
                    snap,
                    state.fair_values[ticker],
                    state.own_position(ticker),
                    event_positions.get(snap.event_ticker, 0),
                )
            )
        positions = {plan.ticker: state.own_position(plan.ticker) for plan in plans}
        resting = {(o.ticker, o.side) for o in orders}
        notes_of: dict[str, list[str]] = {}
        for plan in budget_quotes(plans, positions, resting, p.max_quotes):
            mine = orders_in.get(plan.ticker, [])
            acts, notes = self._reconcile(state, plan, mine, first_side(plan, positions[plan.ticker]))
            keyed.extend(acts)
            notes_of[plan.ticker] = notes
            facts[plan.ticker] = plan.facts
        return self._conclude_as_written(state, memory, keyed, notes_of, facts, {o.ticker for o in orders}, decisions)

    def _conclude_as_written(
        self,
        state: StrategyState,
        memory: WeatherMMMemory,
        keyed: list[tuple[tuple[int, int], Action]],
        notes_of: dict[str, list[str]],
        facts: Mapping[str, Facts],
        quoted: AbstractSet[str],
        decisions: list[Decision],
    ) -> StrategyResult[WeatherMMMemory]:
        ranked = sorted(enumerate(keyed), key=lambda item: (item[1][0], item[0]))
        actions: list[Action] = []
        acted: set[str] = set()
        for _, (_, action) in ranked:
            sized = self._within_room(state, action, notes_of)
            if sized is not None:
                actions.append(sized)
                acted.add(sized.ticker)
        now = state.now_ms
        for ticker, notes in notes_of.items():
            verdict = Verdict.TRADE if ticker in acted else Verdict.HOLD if ticker in quoted else Verdict.SKIP
            decisions.append(Decision(self.name, ticker, verdict, "; ".join(notes), facts[ticker], now))
        return StrategyResult(memory, tuple(actions), tuple(decisions))
