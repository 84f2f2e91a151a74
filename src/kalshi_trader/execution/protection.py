"""Brackets inside the engine: take-profits kept resting and stops emulated from the live book.

Contract (the ``ExecutionEngine`` owns one ``Protection`` and is seen through the narrow
``execution.desk.Desk``; the policy itself is the pure ``execution.brackets.plan``; every order it
wants goes through ``engine.submit``, so risk judges each and the audit log explains each):
- **Sources.** ``place`` (a ``BracketSpec``: the engine places the entry and protects what it
  fills), ``request`` (a strategy's ``domain.BracketRequest`` for an entry it placed itself: the
  cumulative quantity to protect and the prices; latest wins — a larger quantity resizes the
  take-profit, new prices move it and re-arm the stop; a finished bracket comes back to life),
  ``protect`` (an open position with no entry, from reconciliation's protection policy) and
  ``restore`` (a bracket rebuilt from its last ``bracket`` audit record after a restart; its child
  orders are recognised by their ids, ``<bracket_id>-tp<n>`` / ``-sl<n>``). ``cancel`` (a
  ``domain.BracketCancel``) cancels the take-profit and disarms the stop; the position stays.
- One bracket per market at a time (a second is refused with the reason, audited as an
  ``engine_refusal``); terms are checked against the market's grid (``brackets.validate``).
- **Level-triggered upkeep.** ``maintain`` computes the bracket's ``Facts`` from the order tracker
  (what the entry and exits filled, what rests, the position — less fills the exchange reported on
  the exit side that have not arrived and what our other open orders there could sell — the book,
  whether trading is halted) and carries out ``plan``'s
  actions: place / amend / decrease the take-profit (a plain GTC order: Kalshi refuses resting
  reduce-only orders), cancel the entry's remainder and the take-profit when the stop is hit, send
  the stop's reduce-only IOC exits until flat once no take-profit is live. The engine calls it
  after every order report, fill and answer concerning the market (``after_change``), on book
  updates that touch a stop or that a stopping bracket waits for (``on_book``: a few comparisons
  otherwise), and on every tick (``maintain_all``). An action risk
  refuses (a stale book, the write budget) is retried ``EngineConfig.retry_ms`` later.
- **Confirmed stops.** A stop fires only once the touch has stayed at or through it for
  ``stop_confirm_ms`` of market time (``engine.market_ms``; default ``STOP_CONFIRM_MS``), judged
  by ``stop_confirmation`` on every book update and tick: a fresh book with the touch back on the
  safe side restarts the clock; a stale book or an empty touch side is no evidence either way (the
  clock keeps running, nothing fires on it). A single book update is not a market move: a maker
  repricing its quote reaches us as a delete then an add, and a thin top level lifted and refilled
  a moment later, both of which show a touch levels below the real market for an instant (in the
  simulated world most stops of the favourite strategy fired on such instants, their touch back
  above the stop within 0.4 s). Until the breach is confirmed ``plan`` is shown no book for the stop
  (``Facts.top`` is ``None``), so it keeps the bracket active; once it is, ``plan`` hits the stop on
  the live book as before. ``stop_confirm_ms=0`` fires on the first touch.
- **A stop goes before other orders.** The plain orders of ours on a bracket's exit side that are
  not its own (another strategy's quote) leave its take-profit less room (``Facts.open_qty``) but
  do not shrink what it holds (``Facts.held``): they neither disarm nor finish it, and the engine
  cancels them ahead of the stop's exit (``execution.exits``), so a quote never holds a stop up;
  our other exits in flight (reduce-only) do count.
- **Exits go through the take-profit first.** ``before_exit`` (the engine calls it for every other
  reduce-only exit it approves: a strategy's, a flatten) cancels the market's live take-profit, and
  the engine queues that cancel ahead of the exit, so the position can never flip through the
  take-profit; once the exit is done the bracket re-places a take-profit for whatever it still
  holds. ``protective(client_order_id)`` names the bracket children (they join no order group).
- An action the exchange did not carry out (rejected, unknown) is retried ``EngineConfig.retry_ms``
  later, like one risk refused, not at once.
- Every bracket state change (placed, updated, stop hit, done, restored) is audited (kind
  ``bracket``, subject the ticker, the terms in the payload): that record is what ``restore`` reads.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from typing import Any

import structlog

from kalshi_trader.domain import (
    BookSide,
    BracketCancel,
    BracketRequest,
    IntentAction,
    OrderIntent,
    Price,
    Qty,
    TickGrid,
    TimeInForce,
    TopOfBook,
    format_price,
    format_qty,
)
from kalshi_trader.execution import brackets as br
from kalshi_trader.execution.desk import Desk, Submission
from kalshi_trader.execution.views import BracketView, Result

__all__ = ["BRACKET_AUDIT", "ENGINE_REFUSAL", "STOP_CONFIRM_MS", "BracketTicket", "Protection", "stop_confirmation"]

log = structlog.get_logger(__name__)

BRACKET_AUDIT = "bracket"
ENGINE_REFUSAL = "engine_refusal"
STOP_CONFIRM_MS = 2_000
"""How long (market time) the touch must stay at or through a stop before it fires: longer than a
quote's delete-then-add and a refilled top level, short enough that a real break costs little."""


def stop_confirmation(
    since_ms: int | None, exit_side: BookSide, stop: int, top: TopOfBook | None, now_ms: int, confirm_ms: int
) -> tuple[int | None, bool]:
    """Debounce an emulated stop: (when the current breach began, whether the stop fires now).

    ``since_ms`` is the start of the breach seen so far (None: none). A fresh book whose touch is at
    or through ``stop`` starts the breach (or continues it); a fresh book whose touch is on the safe
    side ends it. A stale book, an empty touch side or no book says nothing: the breach neither ends
    nor fires. The stop fires on a fresh breached book once the breach is ``confirm_ms`` old."""
    if top is None or top.stale or br.touch(exit_side, top) is None:
        return since_ms, False
    if not br.stop_hit(exit_side, stop, top):
        return None, False
    since = now_ms if since_ms is None else since_ms
    return since, now_ms - since >= confirm_ms


@dataclass(frozen=True, slots=True)
class BracketTicket:
    bracket_id: str | None
    """None when the bracket was refused (see ``entry``)."""
    entry: Submission


@dataclass(slots=True)
class _Kept:
    """A bracket's last ``facts`` and what they were read from."""

    bracket: br.Bracket
    source: tuple[object, ...]
    """The market's order revision and the bracket's entry, quantities and children."""
    positions: int
    """The tracker's positions revision then."""
    held: int
    """The market's position then."""
    facts: br.Facts
    topless: br.Facts | None = None
    """``facts`` without the book, once asked for (the rest stands while only the book moves)."""


class Protection:
    """See the module docstring."""

    def __init__(self, engine: Desk, *, stop_confirm_ms: int = STOP_CONFIRM_MS) -> None:
        if stop_confirm_ms < 0:
            raise ValueError("stop_confirm_ms must not be negative")
        self.engine = engine
        self.stop_confirm_ms = stop_confirm_ms
        self._brackets: dict[str, br.Bracket] = {}
        self._bracket_of: dict[str, str] = {}
        """ticker → id of its bracket that is not done."""
        self._breach_since: dict[str, int] = {}
        """bracket id → market time since which the touch has been at or through its stop."""
        self._facts: dict[str, _Kept] = {}
        """bracket id → its last ``facts`` and what they were read from (see ``facts``)."""

    def on_book(self, top: TopOfBook) -> None:
        """A cheap check on the hot path: act only if the book touches the stop, ends a breach or is
        awaited."""
        bid = self._bracket_of.get(top.ticker)
        if bid is not None:
            b = self._brackets[bid]
            if (
                b.state is br.BracketState.STOPPING
                or b.retry_at_ms
                or bid in self._breach_since
                or br.stop_hit(b.exit_side, b.stop_loss, top)
            ):
                self._maintain(b)

    def after_change(self, ticker: str) -> None:
        bid = self._bracket_of.get(ticker)
        if bid is not None:
            self._maintain(self._brackets[bid])

    def maintain_all(self) -> None:
        for bid in list(self._bracket_of.values()):
            self._maintain(self._brackets[bid])

    def _grid(self, ticker: str) -> TickGrid:
        grid = self.engine.grid(ticker)
        if grid is None:
            raise KeyError(f"market {ticker} is not registered with the engine")
        return grid

    def place(
        self, spec: br.BracketSpec, *, book: TopOfBook | None = None, fair_value: int | None = None
    ) -> BracketTicket:
        """Submit the entry; as it fills, keep a take-profit resting and the stop-loss armed."""
        entry = spec.entry
        reason = self._problem(
            entry.ticker, entry.side, entry.client_order_id, spec.take_profit, spec.stop_loss, spec.stop_limit
        )
        if reason is None and entry.action is not IntentAction.PLACE:
            reason = f"a bracket's entry must be a place, not {entry.action.value}"
        if reason is not None:
            self.engine.recorder.audit(ENGINE_REFUSAL, entry.client_order_id, {"rule": "invalid_bracket"}, reason)
            return BracketTicket(None, self.engine.refuse(entry, "invalid_bracket", reason, None))
        sub = self.engine.submit(entry, book=book, fair_value=fair_value)
        if not sub.approved:
            return BracketTicket(None, sub)
        b = br.Bracket(
            bracket_id=entry.client_order_id,
            ticker=entry.ticker,
            strategy=entry.strategy,
            exit_side=spec.exit_side,
            take_profit=spec.take_profit,
            stop_loss=spec.stop_loss,
            slippage=self.engine.config.stop_slippage,
            entry_coid=entry.client_order_id,
            stop_limit=spec.stop_limit,
        )
        self._add(b, "bracket placed")
        return BracketTicket(b.bracket_id, sub)

    def request(self, req: BracketRequest) -> str | None:
        """A strategy protects (more of) a filled entry, or moves its prices: latest wins. Returns
        the bracket id, or None if refused (audited with the reason)."""
        bid = req.entry_client_order_id
        b = self._brackets.get(bid)
        if b is not None and b.ticker == req.ticker:
            problem = self._problem(
                req.ticker, req.entry_side, None, req.take_profit_price, req.stop_trigger_price, req.stop_limit_price
            )
            if problem is None and b.exit_side is not req.exit_side:
                problem = "a bracket cannot change the side it protects"
            if problem is None and b.state is br.BracketState.DONE and self._bracket_of.get(b.ticker, bid) != bid:
                problem = f"market {b.ticker} already has an active bracket ({self._bracket_of[b.ticker]})"
            if problem is not None:
                self.engine.recorder.audit(ENGINE_REFUSAL, bid, {"rule": "invalid_bracket"}, problem)
                return None
            if b.state is br.BracketState.DONE:
                b.state, b.reason = br.BracketState.ACTIVE, ""
                self._bracket_of[b.ticker] = bid
            b.protect_qty = req.qty
            if req.stop_trigger_price != b.stop_loss:
                self._breach_since.pop(bid, None)
            b.take_profit, b.stop_loss, b.stop_limit = (
                req.take_profit_price,
                req.stop_trigger_price,
                req.stop_limit_price,
            )
            self._audit(b, req.reason or "bracket updated")
            self._maintain(b)
            return bid
        problem = self._problem(
            req.ticker, req.entry_side, bid, req.take_profit_price, req.stop_trigger_price, req.stop_limit_price
        )
        if problem is not None:
            self.engine.recorder.audit(
                ENGINE_REFUSAL, bid, {"rule": "invalid_bracket", "strategy": req.strategy}, problem
            )
            return None
        b = br.Bracket(
            bracket_id=bid,
            ticker=req.ticker,
            strategy=req.strategy,
            exit_side=req.exit_side,
            take_profit=req.take_profit_price,
            stop_loss=req.stop_trigger_price,
            slippage=self.engine.config.stop_slippage,
            entry_coid=bid,
            stop_limit=req.stop_limit_price,
            protect_qty=req.qty,
        )
        self._add(b, req.reason or "bracket requested")
        return bid

    def cancel(self, cancel: BracketCancel | str, *, reason: str = "") -> bool:
        """Stop protecting: cancel the take-profit, disarm the stop (an exit already sent stands).
        Returns False if there was no such bracket still working."""
        bid = cancel if isinstance(cancel, str) else cancel.entry_client_order_id
        why = reason or (cancel.reason if isinstance(cancel, BracketCancel) else "") or "bracket canceled"
        b = self._brackets.get(bid)
        if b is None or b.state is br.BracketState.DONE:
            return False
        tp = self.facts(b).take_profit
        if tp is not None:
            self.engine.submit(OrderIntent.cancel(b.ticker, tp.client_order_id, strategy=b.strategy, reason=why))
        b.state = br.BracketState.DONE
        b.reason = why
        self._breach_since.pop(bid, None)
        self._bracket_of.pop(b.ticker, None)
        self._audit(b, why)
        return True

    def _problem(
        self,
        ticker: str,
        held: BookSide,
        new_id: str | None,
        take_profit: int,
        stop_loss: int,
        stop_limit: int | None,
    ) -> str | None:
        problem = br.validate(ticker, held, self.engine.grid(ticker), take_profit, stop_loss, stop_limit)
        if problem is None and new_id is not None:
            if new_id in self._brackets:
                problem = f"bracket {new_id} exists already"
            elif ticker in self._bracket_of:
                problem = f"market {ticker} already has an active bracket ({self._bracket_of[ticker]})"
        return problem

    def protect(
        self, ticker: str, *, take_profit: Price, stop_loss: Price, strategy: str = "engine", reason: str = ""
    ) -> str | None:
        """Attach a take-profit and a stop-loss to the position held in ``ticker`` (no entry).
        Returns the bracket id, or None when nothing is held or the market already has a bracket."""
        position = self.engine.tracker.position(ticker).qty
        if position == 0 or ticker in self._bracket_of:
            return None
        held = BookSide.BID if position > 0 else BookSide.ASK
        problem = br.validate(ticker, held, self.engine.grid(ticker), take_profit, stop_loss)
        if problem is not None:
            self.engine.recorder.audit(ENGINE_REFUSAL, ticker, {"rule": "invalid_bracket"}, problem)
            return None
        b = br.Bracket(
            bracket_id=f"prot-{uuid.uuid4()}",
            ticker=ticker,
            strategy=strategy,
            exit_side=held.other,
            take_profit=take_profit,
            stop_loss=stop_loss,
            slippage=self.engine.config.stop_slippage,
            entry_coid=None,
            adopted_qty=Qty(abs(position)),
        )
        self._add(b, reason or "protecting an open position")
        return b.bracket_id

    def restore(self, record: dict[str, Any]) -> str | None:
        """Rebuild a bracket from its last ``bracket`` audit record (after a restart). Its child
        orders are recognised among the tracked orders by their ids."""
        try:
            b = br.Bracket(
                bracket_id=str(record["bracket_id"]),
                ticker=str(record["ticker"]),
                strategy=str(record.get("strategy", "")),
                exit_side=BookSide(record["exit_side"]),
                take_profit=Price(int(record["take_profit"])),
                stop_loss=Price(int(record["stop_loss"])),
                slippage=Price(int(record["slippage"])),
                entry_coid=record.get("entry_coid") or None,
                stop_limit=Price(int(record["stop_limit"])) if record.get("stop_limit") is not None else None,
                protect_qty=Qty(int(record["protect_qty"])) if record.get("protect_qty") is not None else None,
                adopted_qty=Qty(int(record.get("adopted_qty", 0))),
                state=br.BracketState(record.get("state", "active")),
            )
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("bracket_restore_failed", error=str(exc))
            return None
        if b.state is br.BracketState.DONE or b.ticker in self._bracket_of or b.bracket_id in self._brackets:
            return None
        for t in self.engine.tracker.orders():
            if t.client_order_id.startswith(b.bracket_id + "-"):
                b.adopt_child(t.client_order_id)
        self._brackets[b.bracket_id] = b
        self._bracket_of[b.ticker] = b.bracket_id
        self._audit(b, "restored after a restart")
        return b.bracket_id

    def bracket_for(self, ticker: str) -> str | None:
        """The id of the market's bracket that is not done yet."""
        return self._bracket_of.get(ticker)

    def protective(self, client_order_id: str) -> bool:
        """True for a bracket's take-profit or stop exit (``<bracket_id>-tp<n>`` / ``-sl<n>``)."""
        bracket_id, _, kind = client_order_id.rpartition("-")
        b = self._brackets.get(bracket_id)
        return b is not None and (kind.startswith("tp") or kind.startswith("sl")) and b.owns(client_order_id)

    def before_exit(self, exit_: OrderIntent) -> None:
        """An exit (reduce-only) is about to be queued in ``exit_.ticker``: cancel the market's live
        take-profit on the same side first, so that the two can never together sell more than is
        held (the engine queues this cancel ahead of the exit)."""
        bid = self._bracket_of.get(exit_.ticker)
        if bid is None or self.protective(exit_.client_order_id):
            return
        b = self._brackets[bid]
        if b.exit_side is not exit_.side:
            return
        tp = self.facts(b).take_profit
        if tp is not None:
            self.engine.submit(
                OrderIntent.cancel(
                    b.ticker,
                    tp.client_order_id,
                    strategy=b.strategy,
                    reason=f"exit {exit_.client_order_id} first takes the take-profit of bracket {b.bracket_id} away",
                )
            )

    def maintain(self, ticker: str) -> None:
        """Re-check the market's bracket now (take-profit size, stop)."""
        bid = self._bracket_of.get(ticker)
        if bid is not None:
            self._maintain(self._brackets[bid])

    def _add(self, b: br.Bracket, why: str) -> None:
        self._brackets[b.bracket_id] = b
        self._bracket_of[b.ticker] = b.bracket_id
        self._audit(b, why)
        self._maintain(b)

    def _audit(self, b: br.Bracket, why: str) -> None:
        self.engine.recorder.audit(
            BRACKET_AUDIT,
            b.ticker,
            {
                "bracket_id": b.bracket_id,
                "ticker": b.ticker,
                "strategy": b.strategy,
                "state": b.state.value,
                "exit_side": b.exit_side.value,
                "take_profit": b.take_profit,
                "stop_loss": b.stop_loss,
                "slippage": b.slippage,
                "stop_limit": b.stop_limit,
                "protect_qty": b.protect_qty,
                "entry_coid": b.entry_coid or "",
                "adopted_qty": b.adopted_qty,
            },
            why,
        )

    def facts(self, b: br.Bracket) -> br.Facts:
        """What ``plan`` needs to know of ``b``. The orders and positions are read again only after
        the market's orders, its position, or the bracket's entry, quantities or children changed
        (a tick maintains every bracket; most ticks change none of it); the book, grid and halt
        are read every time."""
        engine, tracker = self.engine, self.engine.tracker
        ticker = b.ticker
        source = (
            tracker.market_revision(ticker),
            b.entry_coid,
            b.protect_qty,
            b.adopted_qty,
            b.exit_side,
            len(b.tp_coids),
            len(b.exit_coids),
        )
        positions = tracker.positions_revision
        kept = self._facts.get(b.bracket_id)
        if kept is None or kept.bracket is not b or kept.source != source:
            return self._keep(b, source, positions, self._read_facts(b))
        if kept.positions != positions:  # some position changed: this market's?
            if tracker.position(ticker).qty != kept.held:
                return self._keep(b, source, positions, self._read_facts(b))
            kept.positions = positions
        facts = kept.facts
        top, grid, allowed = engine.book(ticker), self._grid(ticker), not engine.risk.halted
        if facts.grid is not grid or facts.resting_allowed is not allowed:
            facts = kept.facts = replace(facts, top=top, grid=grid, resting_allowed=allowed)
            kept.topless = None
        elif facts.top is not top:
            facts = kept.facts = replace(facts, top=top)
        return facts

    def _topless(self, b: br.Bracket, facts: br.Facts) -> br.Facts:
        """``facts`` without the book (kept with them while they are the bracket's)."""
        kept = self._facts.get(b.bracket_id)
        if kept is None or kept.facts is not facts:
            return replace(facts, top=None)
        if kept.topless is None:
            kept.topless = replace(facts, top=None)
        return kept.topless

    def _keep(self, b: br.Bracket, source: tuple[object, ...], positions: int, facts: br.Facts) -> br.Facts:
        held = self.engine.tracker.position(b.ticker).qty
        self._facts[b.bracket_id] = _Kept(b, source, positions, held, facts)
        return facts

    def _read_facts(self, b: br.Bracket) -> br.Facts:
        tracker = self.engine.tracker

        unconfirmed = 0

        def filled(coid: str) -> int:
            nonlocal unconfirmed
            t = tracker.order(coid)
            if t is None:
                return 0
            unconfirmed += t.unconfirmed_fill_qty
            return t.filled

        def live(coid: str | None) -> br.LiveOrder | None:
            t = tracker.order(coid) if coid else None
            if t is None or not t.state.is_open:
                return None
            return br.LiveOrder(t.client_order_id, t.remaining, t.price)

        entry_filled = filled(b.entry_coid) if b.entry_coid else 0
        entered = (b.protect_qty if b.protect_qty is not None else entry_filled) + b.adopted_qty
        tp_filled = sum(filled(c) for c in b.tp_coids)
        exited = tp_filled + sum(filled(c) for c in b.exit_coids)
        working = self.engine.working_orders(b.ticker)
        held = self.engine.sellable(b.ticker, b.exit_side, working)
        exiting = selling = 0  # what our other open exits / all our other open orders on the exit side could sell
        for t in working:
            if t.side is b.exit_side and t.state.is_open and not b.owns(t.client_order_id):
                selling += t.remaining
                exiting += t.remaining if t.reduce_only else 0
        open_qty = Qty(max(0, min(entered - exited, held - selling)))
        return br.Facts(
            open_qty=open_qty,
            held=Qty(max(0, min(entered - exited, held - exiting))),
            unexited=Qty(max(0, entered - exited)),
            settled=unconfirmed == 0,
            entry_open=live(b.entry_coid),
            take_profit=live(b.tp_coids[-1]) if b.tp_coids else None,
            exit_in_flight=any(live(c) is not None for c in b.exit_coids),
            top=self.engine.book(b.ticker),
            grid=self._grid(b.ticker),
            resting_allowed=not self.engine.risk.halted,
            take_profit_filled=Qty(tp_filled),
        )

    def _stop_confirmed(self, b: br.Bracket, top: TopOfBook | None) -> bool:
        """Track the bracket's breach of its stop; True once it is confirmed (see the module docstring)."""
        since, fire = stop_confirmation(
            self._breach_since.get(b.bracket_id),
            b.exit_side,
            b.stop_loss,
            top,
            self.engine.market_ms(),
            self.stop_confirm_ms,
        )
        if since is None:
            self._breach_since.pop(b.bracket_id, None)
        else:
            self._breach_since[b.bracket_id] = since
        return fire

    def _maintain(self, b: br.Bracket) -> None:
        if b.state is br.BracketState.DONE or not self.engine.running:
            return
        facts = self.facts(b)
        if b.state is br.BracketState.ACTIVE and not self._stop_confirmed(b, facts.top):
            facts = self._topless(b, facts)  # no confirmed breach: plan must not hit the stop
        actions = br.plan(b, facts)
        if not actions:
            return
        now = self.engine.clock_ms()
        if now < b.retry_at_ms and not isinstance(actions[0], br.StopHit):
            return
        b.retry_at_ms = 0
        for action in actions:
            self._act(b, action, now)

    def _act(self, b: br.Bracket, action: br.Action, now: int) -> None:
        ticker, strategy = b.ticker, b.strategy
        if isinstance(action, br.StopHit):
            since = self._breach_since.pop(b.bracket_id, None)
            held_ms = 0 if since is None else self.engine.market_ms() - since
            b.state = br.BracketState.STOPPING
            b.reason = (
                f"stop-loss {format_price(b.stop_loss)} hit at {format_price(action.touch)}"
                f" (at or through it for {held_ms / 1000:.1f} s)"
            )
            self._audit(b, b.reason)
            return
        if isinstance(action, br.Finish):
            self._breach_since.pop(b.bracket_id, None)
            b.state = br.BracketState.DONE
            b.reason = f"{action.reason} ({b.reason})" if b.reason else action.reason
            self._bracket_of.pop(ticker, None)
            self._audit(b, b.reason)
            return
        if isinstance(action, br.Cancel):
            sub = self.engine.submit(
                OrderIntent.cancel(ticker, action.client_order_id, strategy=strategy, reason=action.why)
            )
        elif isinstance(action, br.PlaceTakeProfit):
            coid = b.child_id("tp")
            b.tp_coids.append(coid)
            sub = self.engine.submit(
                OrderIntent.place(
                    ticker,
                    b.exit_side,
                    b.take_profit,
                    action.qty,
                    coid,
                    strategy=strategy,
                    reason=f"take-profit of bracket {b.bracket_id}",
                )
            )
        elif isinstance(action, br.ResizeTakeProfit):
            sub = self.engine.submit(
                OrderIntent(
                    IntentAction.AMEND,
                    ticker,
                    action.client_order_id,
                    b.exit_side,
                    b.take_profit,
                    action.remaining,
                    strategy=strategy,
                    reason=f"resize take-profit of bracket {b.bracket_id} to {format_qty(action.remaining)}",
                )
            )
        else:
            coid = b.child_id("sl")
            b.exit_coids.append(coid)
            sub = self.engine.submit(
                OrderIntent.place(
                    ticker,
                    b.exit_side,
                    action.price,
                    action.qty,
                    coid,
                    tif=TimeInForce.IMMEDIATE_OR_CANCEL,
                    reduce_only=True,
                    strategy=strategy,
                    reason=f"stop-loss exit of bracket {b.bracket_id}: {b.reason}",
                )
            )
        if not sub.approved:
            b.retry_at_ms = now + self.engine.config.retry_ms
            return
        b.busy += 1

        def done(result: asyncio.Future[Result]) -> None:
            b.busy -= 1
            if not result.cancelled() and not result.result().ok:
                b.retry_at_ms = self.engine.clock_ms() + self.engine.config.retry_ms
            self._maintain(b)

        sub.result.add_done_callback(done)

    def views(self) -> list[BracketView]:
        views = []
        for b in self._brackets.values():
            facts = self.facts(b)
            views.append(
                BracketView(
                    bracket_id=b.bracket_id,
                    ticker=b.ticker,
                    strategy=b.strategy,
                    state=b.state.value,
                    held_side=b.held_side,
                    open_qty=facts.open_qty,
                    take_profit=b.take_profit,
                    stop_loss=b.stop_loss,
                    take_profit_order=facts.take_profit.client_order_id if facts.take_profit else None,
                    reason=b.reason,
                )
            )
        return views

    def view(self, bracket_id: str) -> BracketView | None:
        return next((v for v in self.views() if v.bracket_id == bracket_id), None)
