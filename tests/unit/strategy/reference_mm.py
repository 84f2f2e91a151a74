"""Reference implementation for differential tests: the weather market maker's decision as first
written.

``ReferenceWeatherMM`` overrides ``WeatherMMStrategy.decide`` with the plain version it replaced —
every market planned, budgeted and reconciled afresh on every call (no plan or actions kept between
calls), ``first_side``, ``budget_quotes`` and ``plan_quotes`` as written first — and keeps the rest (the
gate ``_why_not_quote``, ``_reconcile`` and ``_within_room``; ``_conclude_as_written`` orders the
actions, fits them to the room and writes the decisions as first written).
``test_weather_mm_kept.py`` checks that both decide alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

import msgspec

from kalshi_trader.domain import (
    PRICE_SCALE,
    QTY_SCALE,
    BookSide,
    Order,
    Price,
    Qty,
    inventory_skew_ticks,
    shift_on_grid,
)
from kalshi_trader.strategy.base import (
    Action,
    Decision,
    Facts,
    FairValue,
    MarketSnapshot,
    StrategyResult,
    StrategyState,
    Verdict,
    dollars,
    effective_orders,
)
from kalshi_trader.strategy.weather_mm import (
    Quote,
    QuotePlan,
    WeatherMMMemory,
    WeatherMMParams,
    WeatherMMStrategy,
    _ceil_div,
    _fee_per_contract,
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
    facts: Facts = (
        ("fair", fair),
        ("uncertainty", fair_value.uncertainty),
        ("maker_fee", maker),
        ("unwind_fee", unwind),
        ("half_spread", half),
        ("position", position),
        ("event_position", event_position),
        ("skew_ticks", skew),
        ("yes_bid", snap.best_bid if snap.best_bid is not None else -1),
        ("yes_ask", snap.best_ask if snap.best_ask is not None else -1),
    )
    plan = QuotePlan(snap.ticker, fair, half, skew, max_bid, min_ask, None, None, facts=facts)
    if half > p.max_half_spread:
        why = f"half-spread {dollars(half)} is above the {dollars(p.max_half_spread)} maximum (fees or model doubt)"
        return msgspec.structs.replace(plan, why_no_bid=why, why_no_ask=why)

    def shifted(base: Price) -> Price | None:
        """``base`` moved by the skew; None when it starts off the order grid ($0 or $1) and the
        skew does not bring it inside."""
        if grid.is_valid_order_price(base):
            return shift_on_grid(grid, base, skew) if skew else base
        inward = (base <= 0 and skew > 0) or (base >= PRICE_SCALE and skew < 0)
        return shift_on_grid(grid, base, skew) if inward else None

    bid_price = shifted(grid.round_down(max(0, fair - half)))
    ask_price = shifted(grid.round_up(min(PRICE_SCALE, fair + half)))
    why_bid = why_ask = ""
    if bid_price is not None:
        bid_price = min(bid_price, max_bid)
        if snap.best_ask is not None and bid_price >= snap.best_ask:
            below = shift_on_grid(grid, snap.best_ask, -1)
            bid_price = min(bid_price, below) if below < snap.best_ask else None
    if bid_price is None or not grid.is_valid_order_price(bid_price):
        bid_price, why_bid = None, f"no valid bid price below {dollars(fair)} after fees and edge"
    if ask_price is not None:
        ask_price = max(ask_price, min_ask)
        if snap.best_bid is not None and ask_price <= snap.best_bid:
            above = shift_on_grid(grid, snap.best_bid, 1)
            ask_price = max(ask_price, above) if above > snap.best_bid else None
    if ask_price is None or not grid.is_valid_order_price(ask_price):
        ask_price, why_ask = None, f"no valid ask price above {dollars(fair)} after fees and edge"

    bid = ask = None
    if bid_price is not None:
        qty, why_bid = _size(
            p,
            room_market=p.max_position - position,
            room_event=p.max_event_position - event_position,
            cost_per_contract=bid_price,
        )
        bid = Quote(BookSide.BID, bid_price, qty) if qty else None
    if ask_price is not None:
        qty, why_ask = _size(
            p,
            room_market=p.max_position + position,
            room_event=p.max_event_position + event_position,
            cost_per_contract=PRICE_SCALE - ask_price,
        )
        ask = Quote(BookSide.ASK, ask_price, qty) if qty else None
    return msgspec.structs.replace(plan, bid=bid, ask=ask, why_no_bid=why_bid, why_no_ask=why_ask)


def _size(params: WeatherMMParams, *, room_market: int, room_event: int, cost_per_contract: int) -> tuple[Qty, str]:
    """The quote size within every limit, rounded down to ``size_step``; (0, which limit) if none."""
    by_risk = params.max_quote_risk * QTY_SCALE // max(1, cost_per_contract)
    limits = (
        (params.quote_size, "quote size"),
        (room_market, "the market position limit"),
        (room_event, "the event position limit"),
        (by_risk, "the per-quote risk limit"),
    )
    qty, binding = min(limits, key=lambda item: item[0])
    qty = max(0, qty - qty % params.size_step)
    if qty <= 0:
        return Qty(0), f"no size left under {binding}"
    return Qty(qty), ""


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
