"""Reference implementation for differential tests: the favourite's entry path as first written.

``ReferenceFavorite`` overrides ``FavoriteStrategy``'s entry filters, rounding and sizing with the
plain version they replaced — every filter through the snapshot's helpers, a ``NamedTuple`` per
priced entry, each fee computed — and keeps the rest (the desired price, trade management, exits,
brackets). ``test_properties.py`` checks that both decide alike. It repeats the messages of the
code it checks on purpose: it is that code as it was."""

from __future__ import annotations

from typing import NamedTuple

from kalshi_trader.domain import (
    PRICE_SCALE,
    QTY_SCALE,
    BookSide,
    IntentAction,
    MarketStatus,
    OrderIntent,
    Price,
    Qty,
    Side,
    TickGrid,
    TimeInForce,
    format_qty,
    leg_price,
)
from kalshi_trader.strategy.base import (
    Action,
    Decision,
    Facts,
    MarketSnapshot,
    StrategyState,
    Verdict,
    client_order_id,
    dollars,
    yes_price_of_leg,
)
from kalshi_trader.strategy.favorite import FavoriteStrategy, Trade


class _Entry(NamedTuple):
    leg: Price
    yes: Price
    qty: Qty
    taker: bool
    how: str
    stop_leg: Price


_LEG_NAME = {Side.YES: "YES", Side.NO: "NO"}


class ReferenceFavorite(FavoriteStrategy):
    """The favourite with its entry path as first written (see the module docstring)."""

    def _qualifies(self, snap: MarketSnapshot, now: int) -> tuple[Side | None, str, Facts]:
        """The favourite side if the market passes every entry filter, else None and why."""
        p = self.params
        if snap.status is not MarketStatus.ACTIVE:
            return None, f"market is {snap.status.value}, not active", ()
        if snap.stale or snap.age_ms(now) > p.max_book_age_ms:
            return None, "book is stale", (("book_age_ms", snap.age_ms(now)), ("stale", int(snap.stale)))
        left = snap.time_to_close_ms(now)
        if not p.min_time_to_close_ms <= left <= p.max_time_to_close_ms:
            return (
                None,
                f"closes in {left // 60_000} min, outside the {p.min_time_to_close_ms // 60_000}"
                f"–{p.max_time_to_close_ms // 60_000} min entry window",
                (("time_to_close_ms", left),),
            )
        twice = snap.mid_x2
        if twice is None or snap.best_bid is None or snap.best_ask is None:
            return None, "book is one-sided", ()
        facts: Facts = (("yes_bid", snap.best_bid), ("yes_ask", snap.best_ask), ("min_probability", p.min_probability))
        if twice >= 2 * p.min_probability:  # YES's mid, doubled (NO's is 2 × $1 − that)
            favourite = Side.YES
        elif 2 * PRICE_SCALE - twice >= 2 * p.min_probability:
            favourite = Side.NO
        else:
            return None, f"no side's mid is at least {self._min_probability_text}", facts
        spread = snap.best_ask - snap.best_bid
        if spread > p.max_spread:
            return None, f"spread {dollars(spread)} is wider than {dollars(p.max_spread)}", (*facts, ("spread", spread))
        depth = min(snap.bid_depth, snap.ask_depth)
        if depth < p.min_depth:
            return (
                None,
                f"depth {format_qty(depth)} contracts is below {format_qty(p.min_depth)}",
                (*facts, ("bid_depth", snap.bid_depth), ("ask_depth", snap.ask_depth)),
            )
        return favourite, "", facts

    def _consider_entry(
        self, state: StrategyState, snap: MarketSnapshot, cooldown_until: int | None, open_trades: int
    ) -> tuple[Trade | None, tuple[Action, ...], Decision]:
        p, now, ticker = self.params, state.now_ms, snap.ticker
        if cooldown_until is not None:
            return (
                None,
                (),
                self._cooling(ticker, now, cooldown_until),
            )
        favourite, why, facts = self._qualifies(snap, now)
        if favourite is None:
            return None, (), self._skip(ticker, now, why, facts)
        if state.position(ticker) != 0:
            return (
                None,
                (),
                self._skip(ticker, now, "already holding a position here", (("position", state.position(ticker)),)),
            )
        if state.orders_in(ticker):
            return None, (), self._skip(ticker, now, "an order of ours already rests here")
        if open_trades >= p.max_open_trades:
            return None, (), self._skip(ticker, now, f"{open_trades} trades already open (max {p.max_open_trades})")
        entry, why = self._price_entry(snap, favourite)
        if entry is None:
            return None, (), self._skip(ticker, now, why, facts)
        side = BookSide.of(favourite)
        fit = state.room.claim(ticker, side, entry.yes, entry.qty)
        room = fit.qty - fit.qty % p.size_step
        if room <= 0:
            return None, (), self._skip(ticker, now, f"no room under the risk limits: {fit.reason}", facts)
        if room < entry.qty:
            entry = entry._replace(qty=Qty(room), how=f"{entry.how} (size cut by the risk limits: {fit.reason})")
        leg_name = _LEG_NAME[favourite]
        coid = client_order_id(self.name, ticker, "entry", now, state.id_salt)
        facts = (
            *facts,
            ("favourite", favourite.value),
            ("entry_leg_price", entry.leg),
            ("stop_limit_leg_price", entry.stop_leg),
            ("qty", entry.qty),
            ("max_risk", p.max_risk_per_trade),
        )
        reason = (
            f"{leg_name} is the favourite (mid {dollars((snap.leg_mid_x2(favourite) or 0) // 2)}"
            f" ≥ {self._min_probability_text}): {entry.how}, buy {format_qty(entry.qty)} {leg_name}"
            f" at {dollars(entry.leg)}, sized to lose at most {self._max_risk_text} at the stop"
        )
        intent = OrderIntent(  # ``OrderIntent.place`` spelled out: one call less per entry
            IntentAction.PLACE,
            ticker,
            coid,
            side,
            entry.yes,
            entry.qty,
            TimeInForce.IMMEDIATE_OR_CANCEL if entry.taker else TimeInForce.GOOD_TILL_CANCELED,
            not entry.taker,
            False,
            self.name,
            reason,
            facts,
        )
        trade = Trade(ticker, favourite, coid, entry.leg, entry.qty, now, snap.close_ms, snap.grid)
        return trade, (intent,), Decision(self.name, ticker, Verdict.TRADE, reason, facts, now)

    def _price_entry(self, snap: MarketSnapshot, outcome: Side) -> tuple[_Entry | None, str]:
        p = self.params
        leg, taker, how = self._desired_leg_price(snap, outcome)
        if leg is None:
            return None, how
        side = BookSide.of(outcome)
        yes = snap.grid.round_toward_safety(yes_price_of_leg(leg, outcome), side)
        leg = leg_price(yes, side)
        stop_leg = self._stop_prices(snap.grid, outcome, leg)[1]
        fees = snap.fees
        loss = leg - stop_leg + fees.fee(leg, QTY_SCALE, taker=taker) + fees.fee(stop_leg, QTY_SCALE, taker=True)
        loss = max(1, loss)
        qty = min(p.max_risk_per_trade * QTY_SCALE // loss, p.max_contracts)
        if taker:
            qty = min(qty, snap.leg_ask_qty(outcome))
        qty -= qty % p.size_step
        if qty <= 0:
            return None, (
                f"size is zero: {dollars(p.max_risk_per_trade)} risk at {dollars(loss)} per contract"
                + (f" and {format_qty(snap.leg_ask_qty(outcome))} offered" if taker else "")
            )
        return _Entry(leg, yes, Qty(qty), taker, how, stop_leg), ""

    def _stop_prices(self, grid: TickGrid, outcome: Side, average: int) -> tuple[Price, Price]:
        """(trigger, limit) leg prices of the stop for an average entry price, kept inside the grid."""
        p = self.params
        floor = self._min_leg(grid, outcome)
        trigger = max(floor, average - p.stop_loss)
        return Price(trigger), Price(max(floor, trigger - p.stop_slippage))
