"""Reconciliation: make the engine's view equal the exchange's — at start, after every WebSocket
reconnect, and periodically.

Contract:
- ``Reconciler(engine, store)`` reads through the engine's venue (the port: Kalshi's live and
  historical tiers, or the paper venue's record) and applies everything
  through the engine's inputs (``on_fill``, ``on_settlement``, ``on_order_update``, ``submit``),
  so risk, the order tracker and the record stay consistent; it never sends an order itself.
- **Start** (``start()``, once): the record is loaded first — every fill in the store replays into
  the tracker (positions and P&L; not recorded again), then every settlement the engine recorded
  (the newest ``settlement`` audit entry per market, up to ``settlement_history`` entries) replays
  through ``engine.load_settlement`` at the market time it was first applied (tracker and risk:
  a market that settled before the restart is flat again, its payout realized, its exposure gone),
  every order the store knows is tracked again (as sent by the strategy the record names), and
  the brackets whose last ``bracket`` audit entry is not ``done`` are restored — then a sweep
  runs (``reason="start"``), then the periodic task starts (``interval_s``).
- **A sweep** (``reconcile(reason)``; sweeps never overlap; ``request(reason)`` schedules one from
  synchronous code, e.g. ``UserStream(on_reconnect=...)``):
  1. *Fills since the last seen* (``Venue.fills_since``, live and archived), from the newest
     fill's time (the store's or the engine's) — a venue may repeat a few (Kalshi filters by whole
     seconds), dropped by ``fill_id``; the new ones go through ``engine.on_fill`` (recorded once,
     positions and risk updated).
  2. *Settlements since the last seen*: the venue is the truth. ``Venue.settlements_since`` from
     the newest settlement an earlier sweep saw — the first time, from the earliest fill the
     tracker holds (no fills: no request; nothing of ours can have settled). Each settlement of a
     market the tracker has not settled goes through ``engine.on_settlement`` stamped with the
     venue's settled time (P&L realized at the
     payout, position flat, risk released; recorded once, with an audit entry of kind
     ``settlement``) and is a discrepancy ``settlement``; a net count at the exchange other than
     the position the tracker settled is also a ``settlement_position`` discrepancy (recorded, not
     forced). One the tracker had settled already (by the lifecycle feed, or replayed from the
     record) changes nothing — a settlement counts once however often it is reported; settled
     there at another value (to the cent: the record gives a scalar value in whole cents) it is
     reported once as ``settlement_value`` (not forced). A settlement whose value cannot be read is
     reported (``settlement_unreadable``) and skipped. On the first sweep, the markets where the
     tracker still holds a position the listing did not settle are also looked up with
     ``Venue.settlements_of`` (Kalshi: a settlement handed off to its historical tier while the
     node was down), and settled the same way (without the net-count check: archived records
     carry no counts).
  3. *Resting orders*: every order the venue lists as resting is applied as an order report
     (missed order events are made good); one the tracker adopts is attributed to the strategy
     the record names for its ``order_id`` or ``client_order_id``, so its fills count for it.
  4. *Orders we think open but the venue does not list as resting* are read back one by one
     (by ``order_id``, or looked up by ``client_order_id`` when the create got no answer), live or
     archived; one the venue has never heard of is marked rejected.
     Creates still queued or in flight are left alone.
  5. *Risk*: a resting order with no reservation in risk (found at the exchange, or tracked again
     after a restart) is judged again as a place of its remaining size: approved, it is **adopted**
     (its reservation is held again); refused, it is **canceled** — except by the write budget
     alone (every limit passed; the order exists, adopting it writes nothing), which adopts it as
     it stands (``RiskManager.adopt``), so a restart with more resting orders than a second's
     writes does not cancel them. An order that is not ours (its
     ``client_order_id`` unknown to the engine and the store) is adopted that way only under
     ``UnknownOrderPolicy.ADOPT``; under ``CANCEL`` (the default) it is canceled.
  6. *Positions*: the venue's positions are compared with the tracker's positions (from
     fills). A difference is a discrepancy (REST lags fills by up to a second; the fill stream is the
     truth) and is recorded, not forced.
  7. *Protective exits*: every open position whose market has a bracket is re-checked (its
     take-profit re-placed or resized, its stop re-armed); one without is given one by the
     ``protection`` policy if there is one, else reported as ``unprotected_position``.
  Every discrepancy (kind, subject, detail) is written to the audit log (kind ``reconcile``),
  followed by one summary entry (with the count of settlements applied, ``settled``); the audit
  is flushed at the end of each sweep.
- A sweep that fails (exchange unreachable) is logged and recorded; the engine keeps its state
  and the next sweep tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec
import structlog

from kalshi_trader.domain import (
    PRICE_SCALE,
    IntentAction,
    Order,
    OrderIntent,
    OrderStatus,
    Position,
    Price,
    Qty,
    format_money,
)
from kalshi_trader.execution.engine import SETTLEMENT_AUDIT, ExecutionEngine
from kalshi_trader.execution.protection import BRACKET_AUDIT
from kalshi_trader.execution.venue import Settlement, VenueError, VenueNotFound
from kalshi_trader.execution.views import Discrepancy, ReconcileReport
from kalshi_trader.risk.decisions import Rule
from kalshi_trader.store import AuditKind, Store, StoreError

__all__ = ["FixedProtection", "ProtectionPolicy", "Reconciler", "UnknownOrderPolicy"]

log = structlog.get_logger(__name__)


class UnknownOrderPolicy(StrEnum):
    ADOPT = "adopt"
    """Keep orders found at the exchange that are not ours, if risk approves them."""
    CANCEL = "cancel"
    """Cancel them."""


ProtectionPolicy = Callable[[Position, Price | None], tuple[Price, Price] | None]
"""For an open position with no bracket and its average cost (YES price paid for YES, NO price
paid for NO): ``(take_profit, stop_loss)`` as YES prices, or None to leave it unprotected."""


@dataclass(frozen=True, slots=True)
class FixedProtection:
    """Take-profit and stop-loss a fixed distance from the average cost, on the held leg."""

    take_profit: Price
    stop_loss: Price

    def __call__(self, position: Position, average_cost: Price | None) -> tuple[Price, Price] | None:
        if average_cost is None or position.qty == 0:
            return None
        if position.qty > 0:  # YES held: prices are YES prices
            tp, sl = average_cost + self.take_profit, average_cost - self.stop_loss
        else:  # NO held at average_cost (a NO price): exits buy YES
            tp, sl = (10_000 - average_cost) - self.take_profit, (10_000 - average_cost) + self.stop_loss
        if not 0 < sl < 10_000 or not 0 < tp < 10_000:
            return None
        return Price(tp), Price(sl)


class Reconciler:
    """See the module docstring."""

    def __init__(
        self,
        engine: ExecutionEngine,
        store: Store,
        *,
        policy: UnknownOrderPolicy = UnknownOrderPolicy.CANCEL,
        protection: ProtectionPolicy | None = None,
        interval_s: float | None = 30.0,
        bracket_history: int = 10_000,
        settlement_history: int = 10_000,
    ) -> None:
        self.engine = engine
        self.venue = engine.venue
        self.store = store
        self.policy = policy
        self.protection = protection
        self.interval_s = interval_s
        self.bracket_history = bracket_history
        self.settlement_history = settlement_history
        self.last: ReconcileReport | None = None
        self.sweeps = 0
        self._ours: set[str] = set()
        """client_order_ids the engine or the store knew before a sweep adopted anything."""
        self._senders: dict[str, str] = {}
        """order_id and client_order_id → the strategy the record names as the order's sender."""
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._requested: asyncio.Task[Any] | None = None
        self._loaded = False
        self._settlements_since_ms: int | None = None
        """Start of the next settlements read (None: from the tracker's first fill)."""
        self._compared: set[str] = set()
        """Markets whose exchange settlement a sweep has looked at (each reported once)."""

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> ReconcileReport:
        """Load the record, sweep once, then sweep every ``interval_s``."""
        await self.load()
        report = await self.reconcile("start")
        if self.interval_s and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._periodic(), name="reconcile")
        return report

    async def close(self) -> None:
        for task in (self._task, self._requested):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = self._requested = None

    def request(self, reason: str) -> None:
        """Schedule a sweep soon (coalesced with one already scheduled)."""
        if self._requested is not None and not self._requested.done():
            return
        self._requested = asyncio.get_running_loop().create_task(self._safe(reason), name=f"reconcile {reason}")

    async def _periodic(self) -> None:
        assert self.interval_s
        while True:
            await asyncio.sleep(self.interval_s)
            await self._safe("periodic")

    async def _safe(self, reason: str) -> None:
        try:
            await self.reconcile(reason)
        except (VenueError, StoreError) as exc:
            log.warning("reconcile_failed", reason=reason, error=str(exc))
            self.engine.recorder.audit(AuditKind.RECONCILE, None, {"failed": True}, f"{reason}: {exc}")
        except Exception as exc:  # a bug must not end the periodic sweeps
            log.exception("reconcile_crashed", reason=reason)
            self.engine.recorder.audit(AuditKind.RECONCILE, None, {"failed": True}, f"{reason}: {exc!r}")

    async def load(self) -> None:
        """Replay the store into the engine (once)."""
        if self._loaded:
            return
        self._loaded = True
        engine = self.engine
        for fill in await self.store.fills():
            engine.load_fill(fill)
        replayed: set[str] = set()
        for entry in await self.store.audit_log(self.settlement_history, kind=SETTLEMENT_AUDIT):  # newest first
            ticker, value = entry.subject, entry.payload.get("yes_value")
            if not ticker or ticker in replayed or not isinstance(value, int) or not 0 <= value <= PRICE_SCALE:
                continue
            replayed.add(ticker)
            market_ms = entry.payload.get("market_ms")
            if not isinstance(market_ms, int) or market_ms <= 0:  # recorded before market_ms was
                market_ms = int(entry.ts.timestamp() * 1000)
            engine.load_settlement(ticker, Price(value), ts_ms=market_ms)
        for stored in await self.store.orders():
            if stored.client_order_id:
                self._ours.add(stored.client_order_id)
            if stored.strategy:
                self._senders.update({k: stored.strategy for k in (stored.client_order_id, stored.order_id) if k})
            order = stored.to_order()
            if order is not None:
                engine.load_order(order, strategy=stored.strategy)
            elif stored.client_order_id and stored.order_id is None and stored.state.is_open:
                intent = OrderIntent(
                    IntentAction.PLACE,
                    stored.ticker,
                    stored.client_order_id,
                    stored.side,
                    stored.price,
                    stored.initial,
                    strategy=stored.strategy,
                    reason="recorded before a restart",
                )
                engine.tracker.on_submitted(intent)  # its fate unknown: pending until a sweep finds it
        seen: set[str] = set()
        for entry in await self.store.audit_log(self.bracket_history, kind=BRACKET_AUDIT):  # newest first
            bracket_id = str(entry.payload.get("bracket_id", ""))
            if bracket_id and bracket_id not in seen:
                seen.add(bracket_id)
                engine.restore_bracket(entry.payload)

    # -- one sweep -------------------------------------------------------------------------------

    async def reconcile(self, reason: str) -> ReconcileReport:
        async with self._lock:
            return await self._sweep(reason)

    async def _settlements(self, reason: str, note: Callable[[str, str, str], None], *, archived: bool) -> int:
        """Step 2 of a sweep: apply the exchange's settlements the tracker has not applied (with
        ``archived``, also those already handed off to the historical tier)."""
        engine = self.engine
        since = self._settlements_since_ms
        if since is None:
            first_ms = engine.tracker.first_fill_ms
            if not first_ms:
                return 0
            since = first_ms
        listed = await self.venue.settlements_since(since)
        newest = max([since, *(s.settled_ms for s in listed if s.yes_value is not None)])
        if archived:
            reported = {s.ticker for s in listed}
            held = [
                p.ticker
                for p in engine.positions()
                if p.ticker not in reported and engine.tracker.settled_value(p.ticker) is None
            ]
            listed += await self.venue.settlements_of(held) if held else []
        found: list[tuple[Settlement, Price]] = []
        for s in listed:
            if s.yes_value is not None:
                found.append((s, s.yes_value))
            elif s.ticker not in self._compared:
                self._compared.add(s.ticker)
                note("settlement_unreadable", s.ticker, f"not applied: {s.problem}")
        found.sort(key=lambda sv: (sv[0].settled_ms, sv[0].ticker))
        applied = 0
        for s, value in found:
            before = engine.tracker.settled_value(s.ticker)
            if before is not None:
                cents = PRICE_SCALE // 100  # the exchange gives a scalar value in whole cents
                if before // cents != value // cents and s.ticker not in self._compared:
                    note("settlement_value", s.ticker, f"settled at {before} here; the exchange says {value}")
                self._compared.add(s.ticker)
                continue
            self._compared.add(s.ticker)
            result = engine.on_settlement(s.ticker, value, ts_ms=s.settled_ms, source=f"reconcile ({reason})")
            if result is None:
                continue
            applied += 1
            exchange = f"net {s.net}, revenue {format_money(s.revenue)}" if not s.archived else "archived, no counts"
            note(
                "settlement",
                s.ticker,
                f"settled at {value} per YES contract: {result.qty} paid {result.payout}, P&L {result.pnl};"
                f" exchange: {exchange}",
            )
            if not s.archived and result.qty != s.net:
                note("settlement_position", s.ticker, f"engine settled {result.qty} (from fills) vs exchange {s.net}")
        self._settlements_since_ms = newest
        return applied

    async def _sweep(self, reason: str) -> ReconcileReport:
        engine, venue = self.engine, self.venue
        started = time.monotonic_ns()
        found: list[Discrepancy] = []

        def note(kind: str, subject: str, detail: str) -> None:
            found.append(Discrepancy(kind, subject, detail))

        self._ours.update(t.client_order_id for t in engine.orders())

        # 1. fills since the last seen
        last_ms = max(engine.last_fill_ms, (await self.store.last_fill_ts()) or 0)
        new_fills = 0
        for fill in await venue.fills_since(last_ms or None):
            if engine.on_fill(fill):
                new_fills += 1
                note("missed_fill", fill.fill_id, f"{fill.ticker} {fill.side.value} {fill.qty} @ {fill.price}")

        # 2. settlements since the last seen
        settled = await self._settlements(reason, note, archived=self.sweeps == 0)

        # 3. resting orders at the exchange
        resting = await venue.resting_orders()
        resting_ids = {o.order_id for o in resting}
        resolved = 0
        for report in resting:
            before = engine.tracker.order(report.order_id) or engine.tracker.order(report.client_order_id)
            if before is not None and (before.remaining != report.remaining or not before.state.is_open):
                resolved += 1
                note("order_state", report.order_id, f"engine had {_describe(before)}; exchange: resting")
            sender = self._senders.get(report.order_id) or self._senders.get(report.client_order_id, "")
            engine.on_order_update(report, strategy=sender)

        # 4. orders we think open that the exchange does not list as resting
        in_flight = engine.pending_client_order_ids()
        for t in engine.open_orders():
            if t.client_order_id in in_flight or (t.order_id is not None and t.order_id in resting_ids):
                continue
            order: Order | None
            if t.order_id is not None:
                try:
                    order = await venue.get_order(t.order_id, ticker=t.ticker)
                except VenueNotFound:
                    order = None
            else:
                order = await venue.find_order(t.client_order_id, ticker=t.ticker)
            if t.order_id is None:
                engine.resolve_lookup(t.client_order_id, order)
                detail = "found at the exchange" if order is not None else "never reached the exchange"
            elif order is not None:
                engine.on_order_update(order)
                detail = f"exchange: {order.status.value}, filled {order.filled}"
            else:
                detail = "unknown to the exchange"
                engine.on_order_update(_gone(t.order_id, t))
            resolved += 1
            note("order_state", t.client_order_id, f"engine had {_describe(t)}; {detail}")

        # 5. risk: adopt or cancel resting orders nobody reserves
        adopted = canceled = 0
        for report in resting:
            tracked = engine.tracker.order(report.order_id)
            if tracked is None or not tracked.state.is_open:
                continue
            t = tracked
            if engine.risk.reservation(t.client_order_id) is not None:
                continue
            ours = t.client_order_id in self._ours
            if not ours and self.policy is UnknownOrderPolicy.CANCEL:
                engine.cancel(t.client_order_id, reason="reconcile: not our order")
                canceled += 1
                note("unknown_order", report.order_id, f"{_describe(t)}: not ours, canceled by policy")
                continue
            intent = OrderIntent.place(
                t.ticker,
                t.side,
                t.price,
                t.remaining,
                t.client_order_id,
                reduce_only=t.reduce_only,
                strategy=t.strategy,
                reason=f"reconcile ({reason}): re-reserve a resting order",
            )
            decision = engine.risk.check_and_reserve(intent, book=engine.book(t.ticker))
            if not decision.approved and decision.rule is Rule.RATE_BUDGET:  # the last check: every limit passed
                held = engine.risk.adopt(t.client_order_id, t.ticker, t.side, t.price, t.remaining)
                why = "every limit passed; adopting an order that rests writes nothing" if held else decision.reason
                decision = msgspec.structs.replace(decision, approved=held, reason=why)
            engine.recorder.audit(
                AuditKind.RISK_DECISION,
                t.client_order_id,
                {"approved": decision.approved, "rule": decision.rule.value},
                decision.reason,
            )
            if decision.approved:
                adopted += 1
                note("adopted_order", t.client_order_id, f"{_describe(t)}: reserved again")
            else:
                engine.cancel(t.client_order_id, reason=f"reconcile: risk refused to adopt it ({decision.rule.value})")
                canceled += 1
                note("canceled_order", t.client_order_id, f"{_describe(t)}: risk refused ({decision.reason})")

        # 6. positions
        exchange_positions = {p.ticker: p for p in await venue.positions() if p.qty}
        ours_positions = {p.ticker: p for p in engine.positions()}
        for ticker in sorted(set(exchange_positions) | set(ours_positions)):
            theirs = exchange_positions.get(ticker)
            mine = ours_positions.get(ticker)
            a, b = (mine.qty if mine else 0), (theirs.qty if theirs else 0)
            if a != b:
                note("position", ticker, f"engine {a} (from fills) vs exchange {b}")

        # 7. protective exits
        protected = 0
        for position in engine.positions():
            if engine.bracket_for(position.ticker) is not None:
                engine.maintain(position.ticker)
                protected += 1
                continue
            terms = self.protection(position, engine.tracker.average_cost(position.ticker)) if self.protection else None
            if terms is not None and engine.protect(
                position.ticker, take_profit=terms[0], stop_loss=terms[1], reason=f"reconcile ({reason})"
            ):
                protected += 1
                note("protection_added", position.ticker, f"take-profit {terms[0]}, stop-loss {terms[1]}")
            else:
                note("unprotected_position", position.ticker, f"{position.qty} held with no take-profit/stop-loss")

        summary = ReconcileReport(
            reason=reason,
            duration_ms=(time.monotonic_ns() - started) // 1_000_000,
            resting=len(resting),
            new_fills=new_fills,
            adopted=adopted,
            canceled=canceled,
            resolved=resolved,
            protected=protected,
            discrepancies=tuple(found),
            positions=tuple(engine.positions()),
        )
        recorder = engine.recorder
        for d in found:
            recorder.audit(AuditKind.RECONCILE, d.subject, {"kind": d.kind, "sweep": reason}, d.detail)
        recorder.audit(
            AuditKind.RECONCILE,
            None,
            {
                "sweep": reason,
                "resting": summary.resting,
                "new_fills": new_fills,
                "settled": settled,
                "adopted": adopted,
                "canceled": canceled,
                "resolved": resolved,
                "protected": protected,
                "discrepancies": len(found),
            },
            f"reconciled ({reason}) in {summary.duration_ms} ms",
        )
        await recorder.flush()
        self.last = summary
        self.sweeps += 1
        return summary


def _describe(t: Any) -> str:
    return f"{t.state.value} {t.side.value} {t.remaining}/{t.size} {t.ticker} @ {t.price}"


def _gone(order_id: str, t: Any) -> Order:
    """An order the exchange no longer knows: canceled, with what was filled."""
    return Order(
        order_id=order_id,
        client_order_id=t.client_order_id,
        ticker=t.ticker,
        side=t.side,
        price=t.price,
        initial=t.size,
        filled=t.filled,
        remaining=Qty(0),
        status=OrderStatus.CANCELED,
    )
