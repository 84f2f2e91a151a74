"""Safety inside the engine: the kill switch, risk's actions, cancel-all, flattening, order groups.

Contract (the ``ExecutionEngine`` owns one ``Safety`` and is seen through the narrow
``execution.desk.Desk``; everything goes through the engine's queue and ``submit``, never around
them; the venue is reached through the port, ``execution.venue``):
- **Risk's actions are carried out** (``carry_out``): ``CANCEL_ALL`` purges the queued places and
  amends (their reservations released, their results ``purged``) and puts a cancel-all sweep at the
  head of the queue; ``FLATTEN`` closes each listed market's position with reduce-only IOC orders at
  the touch moved by the engine's slippage, retried on fresh books (``try_flatten``) while trading
  stays halted and a position is left. Every ``RiskEvent`` is audited (``drain_risk_events``:
  breaker trips and resets, the kill switch) and trips are flushed at once.
- **Cancel-all sweep**: with ``trigger_groups`` every strategy's order group is triggered first
  (the exchange cancels their orders and refuses new ones in one write each); then, round after
  round (``EngineConfig.cancel_all_rounds``), the orders the venue lists as resting are canceled —
  in the first round by one ``cancel_all`` (Kalshi: one request for every shard; each listed order
  the next listing no longer shows is taken as canceled), after that (or if the venue refuses it)
  in batches of ``max_batch_cancel`` (each answer's ``reduced_by`` tells the order tracker what the
  exchange had filled, as a single cancel's does) — until the venue lists none. It resolves to a
  ``CancelAllReport`` and is audited (``cancel_all``).
- **Kill switch**: ``kill(who, why, flatten)`` engages risk's switch and carries out its actions
  with ``trigger_groups``; ``reset_kill(who, why)`` lifts it and resets the triggered groups.
  (While engaged the engine's gate refuses resting orders and brackets place no take-profit.)
- **Order groups** (``EngineConfig.order_group_limit``): one Kalshi order group per strategy,
  created on the first risk-adding order of that strategy (``with_group`` stamps its id on the
  request in the queue, off the hot path). An ``order_group_updates`` trigger is audited as a
  breaker trip (``order_group:<strategy>``) and the strategy's places are refused until
  ``reset_order_group(strategy, who, why)`` (or a reset reported by the exchange).
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

from kalshi_trader.domain import BookSide, Order, OrderIntent, TimeInForce
from kalshi_trader.execution import brackets as br
from kalshi_trader.execution.desk import Desk, Submission
from kalshi_trader.execution.queue import Job
from kalshi_trader.execution.venue import GroupEvent, PlaceRequest, VenueError
from kalshi_trader.execution.views import CancelAllReport, GroupView
from kalshi_trader.risk.decisions import ActionKind, EventKind, RiskAction, RiskEvent
from kalshi_trader.store import AuditKind

__all__ = ["CANCEL_ALL_AUDIT", "ORDER_GROUP_AUDIT", "Safety"]

log = structlog.get_logger(__name__)

ORDER_GROUP_AUDIT = "order_group"
CANCEL_ALL_AUDIT = "cancel_all"

_RISK_EVENT_KINDS = {
    EventKind.BREAKER_TRIPPED: AuditKind.BREAKER_TRIP,
    EventKind.BREAKER_RESET: AuditKind.BREAKER_RESET,
    EventKind.KILL_SWITCH_ENGAGED: AuditKind.KILL_SWITCH,
    EventKind.KILL_SWITCH_RESET: AuditKind.KILL_SWITCH,
}


@dataclass(slots=True)
class _Group:
    strategy: str
    group_id: str
    triggered: bool = False


@dataclass(slots=True)
class _Flatten:
    reason: str
    retry_at_ms: int = 0
    coids: list[str] = field(default_factory=list)


class Safety:
    """See the module docstring."""

    def __init__(self, engine: Desk) -> None:
        self.engine = engine
        self.groups: dict[str, _Group] = {}
        self._flatten: dict[str, _Flatten] = {}
        self._group_lock = asyncio.Lock()

    def refusal(self, intent: OrderIntent) -> tuple[str, str] | None:
        """The engine gate's safety rules for a place (None: no objection)."""
        kill = self.engine.risk.kill_switch
        if kill is not None and intent.tif is TimeInForce.GOOD_TILL_CANCELED:
            return "kill_switch", f"no resting orders while the kill switch is engaged ({kill.who}: {kill.why})"
        group = self.groups.get(intent.strategy)
        if group is not None and group.triggered and not self.engine.protective(intent):
            return "order_group_triggered", f"order group of strategy {intent.strategy!r} is triggered"
        return None

    def group_id(self, strategy: str) -> str | None:
        group = self.groups.get(strategy)
        return group.group_id if group is not None else None

    def group_views(self) -> tuple[GroupView, ...]:
        return tuple(GroupView(g.strategy, g.group_id, g.triggered) for g in self.groups.values())

    def after_change(self, ticker: str) -> None:
        if ticker in self._flatten:
            self.try_flatten(ticker)

    def retry_flatten(self) -> None:
        for ticker in list(self._flatten):
            self.try_flatten(ticker)

    def kill(self, *, who: str, why: str, flatten: bool = False) -> asyncio.Future[CancelAllReport]:
        """Engage the kill switch and carry out what risk asks (cancel everything at the exchange,
        optionally flatten). The returned future resolves when the cancel-all sweep is done."""
        actions = self.engine.risk.kill(who=who, why=why, flatten=flatten)
        self.drain_risk_events()
        future = self.carry_out(actions, trigger_groups=True)
        assert future is not None  # a kill always asks to cancel everything
        return future

    def reset_kill(self, *, who: str, why: str) -> asyncio.Future[bool]:
        """Lift the kill switch (risk records who and why) and reset the order groups the kill
        triggered. Resolves to False if the switch was not engaged."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if not self.engine.risk.reset_kill_switch(who=who, why=why):
            future.set_result(False)
            return future
        self.drain_risk_events()
        self._flatten.clear()

        async def run() -> None:
            for group in list(self.groups.values()):
                if group.triggered:
                    await self._reset_group(group, who, why)
            future.set_result(True)
            self.engine.maintain_all()

        self.engine.queue.put(Job("reset kill switch", run, lambda reason: future.set_result(True)))
        return future

    def reset_order_group(self, strategy: str, *, who: str, why: str) -> asyncio.Future[bool]:
        """Reset a triggered strategy group at the exchange (a person says who and why)."""
        if not who.strip() or not why.strip():
            raise ValueError("say who you are and why (both are recorded in the audit log)")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        group = self.groups.get(strategy)
        if group is None or not group.triggered:
            future.set_result(False)
            return future

        async def run() -> None:
            future.set_result(await self._reset_group(group, who, why))

        self.engine.queue.put(Job(f"reset group {strategy}", run, lambda reason: future.set_result(False)))
        return future

    async def _reset_group(self, group: _Group, who: str, why: str) -> bool:
        try:
            await self.engine.venue.reset_order_group(group.group_id)
        except VenueError as exc:
            log.warning("order_group_reset_failed", strategy=group.strategy, error=str(exc))
            return False
        group.triggered = False
        self.engine.recorder.audit(
            AuditKind.BREAKER_RESET,
            f"order_group:{group.strategy}",
            {"order_group_id": group.group_id, "who": who},
            why,
        )
        return True

    def carry_out(
        self, actions: Iterable[RiskAction], *, trigger_groups: bool = False
    ) -> asyncio.Future[CancelAllReport] | None:
        future: asyncio.Future[CancelAllReport] | None = None
        for action in actions:
            if action.kind is ActionKind.CANCEL_ALL and future is None:
                future = self.cancel_all(reason=f"{action.rule.value}: {action.reason}", trigger_groups=trigger_groups)
            elif action.kind is ActionKind.FLATTEN:
                for ticker in action.tickers:
                    self._flatten.setdefault(ticker, _Flatten(f"{action.rule.value}: {action.reason}"))
                    self.try_flatten(ticker)
        return future

    def cancel_all(self, *, reason: str, trigger_groups: bool = False) -> asyncio.Future[CancelAllReport]:
        """Drop queued places/amends and cancel every resting order at the exchange (head of the
        queue). Resolves to the sweep's report."""
        future: asyncio.Future[CancelAllReport] = asyncio.get_running_loop().create_future()
        purged = self.engine.queue.purge(reason)

        async def run() -> None:
            report = await self._cancel_all(reason, purged, trigger_groups)
            if not future.done():  # whoever waited may have given up (a shutdown's timeout)
                future.set_result(report)

        def abort(why: str) -> None:
            if not future.done():
                future.set_result(CancelAllReport(reason, 0, -1, 0, 0, purged))

        self.engine.queue.put_front(Job("cancel all", run, abort))
        return future

    async def _cancel_all(self, reason: str, purged: int, trigger_groups: bool) -> CancelAllReport:
        groups = 0
        if trigger_groups:
            for group in self.groups.values():
                try:
                    await self.engine.venue.trigger_order_group(group.group_id)
                except VenueError as exc:
                    log.warning("order_group_trigger_failed", strategy=group.strategy, error=str(exc))
                    continue
                group.triggered = True
                groups += 1
        venue = self.engine.venue
        per_request = max(1, venue.max_batch_cancel)
        canceled, rounds, left = 0, 0, -1
        swept: list[Order] = []  # listed before the one-request cancel-all: gone from the next listing = canceled
        for rounds in range(1, self.engine.config.cancel_all_rounds + 1):
            try:
                resting = await venue.resting_orders()
            except VenueError as exc:
                log.warning("cancel_all_listing_failed", error=str(exc))
                await asyncio.sleep(0.05 * rounds)
                continue
            still = {o.order_id for o in resting}
            canceled += sum(self._canceled(o.order_id, reason) for o in swept if o.order_id not in still)
            swept = []
            left = len(resting)
            if not resting:
                break
            for order in resting:
                self.engine.on_order_update(order)
            if rounds == 1:
                try:
                    await venue.cancel_all()
                except VenueError as exc:
                    log.warning("cancel_all_request_failed", error=str(exc))
                else:
                    swept = resting
                    continue
            for start in range(0, len(resting), per_request):
                chunk = resting[start : start + per_request]
                try:
                    reply = await venue.cancel_batch(
                        [o.order_id for o in chunk], tickers={o.order_id: o.ticker for o in chunk}
                    )
                except VenueError as exc:
                    log.warning("cancel_all_batch_failed", error=str(exc))
                    continue
                done = [item for item in reply if not isinstance(item, VenueError)]
                canceled += sum(self._canceled(item.order_id, reason, item.ts_ms, item.reduced_by) for item in done)
        else:
            try:
                still = {o.order_id for o in await venue.resting_orders()}
            except VenueError:
                left = -1
            else:
                left = len(still)
                canceled += sum(self._canceled(o.order_id, reason) for o in swept if o.order_id not in still)
        report = CancelAllReport(reason, canceled, left, rounds, groups, purged)
        self.engine.recorder.audit(
            CANCEL_ALL_AUDIT,
            None,
            {
                "canceled": canceled,
                "still_resting": report.still_resting,
                "rounds": rounds,
                "groups_triggered": groups,
                "purged": purged,
            },
            reason,
        )
        await self.flush_quietly()
        self.engine.maintain_all()
        return report

    def _canceled(self, order_id: str, reason: str, ts_ms: int = 0, reduced_by: int | None = None) -> bool:
        """The exchange canceled one of our orders in the sweep: record it (False if unknown). A
        batch cancel's answer says what still rested (``reduced_by``): the tracker then knows what
        the exchange had filled, as for a single cancel."""
        t = self.engine.tracker.order(order_id)
        if t is None:
            return False
        t = self.engine.tracker.on_canceled(order_id, ts_ms=ts_ms, reduced_by=reduced_by)
        payload: dict[str, Any] = {"reason": reason}
        if reduced_by is not None:
            payload["reduced_by"] = reduced_by
        self.engine.record_state(t, "canceled", payload)
        self.engine.sync_risk(t.client_order_id)
        return True

    def try_flatten(self, ticker: str) -> None:
        want = self._flatten.get(ticker)
        if want is None:
            return
        if self.engine.risk.kill_switch is None and not self.engine.risk.halted:
            del self._flatten[ticker]  # the halt that asked for it is over
            return
        position = self.engine.tracker.position(ticker).qty
        if position == 0:
            del self._flatten[ticker]
            return
        if any((t := self.engine.tracker.order(c)) is not None and t.state.is_open for c in want.coids):
            return
        now = self.engine.clock_ms()
        top, grid = self.engine.book(ticker), self.engine.grid(ticker)
        if now < want.retry_at_ms or top is None or grid is None:
            return
        side = BookSide.ASK if position > 0 else BookSide.BID
        price = br.exit_price(side, top, self.engine.config.stop_slippage, grid)
        if price is None:
            return
        coid = f"flat-{uuid.uuid4()}"
        intent = OrderIntent.place(
            ticker,
            side,
            price,
            abs(position),
            coid,
            tif=TimeInForce.IMMEDIATE_OR_CANCEL,
            reduce_only=True,
            strategy="engine",
            reason=f"flatten: {want.reason}",
        )
        sub = self.engine.submit(intent, book=top)
        if sub.approved:
            want.coids.append(coid)
        else:
            want.retry_at_ms = now + self.engine.config.retry_ms

    def drain_risk_events(self) -> None:
        trip = False
        for event in self.engine.risk.drain_events():
            kind = _RISK_EVENT_KINDS.get(event.kind, event.kind.value)
            trip = trip or event.kind in (EventKind.BREAKER_TRIPPED, EventKind.KILL_SWITCH_ENGAGED)
            self.engine.recorder.audit(
                kind, event.rule.value if event.rule else None, _event_payload(event), event.reason
            )
        if trip:
            self.engine.spawn(self.flush_quietly(), "flush risk events")

    async def flush_quietly(self) -> None:
        try:
            await self.engine.recorder.flush()
        except Exception as exc:
            log.error("audit_flush_failed", error=str(exc))

    def on_order_group_event(self, group_id: str, kind: GroupEvent | str) -> None:
        """The venue reports a group event: a trigger is a breaker trip for that strategy, a reset
        ends it."""
        group = next((g for g in self.groups.values() if g.group_id == group_id), None)
        if group is None:
            return
        if kind == GroupEvent.TRIGGERED and not group.triggered:
            group.triggered = True
            self.engine.recorder.audit(
                AuditKind.BREAKER_TRIP,
                f"order_group:{group.strategy}",
                {"order_group_id": group_id},
                "the exchange triggered the strategy's order group: its orders are canceled, new ones refused",
            )
            self.engine.spawn(self.flush_quietly(), "flush group trip")
        elif kind == GroupEvent.RESET and group.triggered:
            group.triggered = False
            self.engine.recorder.audit(
                AuditKind.BREAKER_RESET,
                f"order_group:{group.strategy}",
                {"order_group_id": group_id},
                "the strategy's order group was reset",
            )

    async def group_for(self, strategy: str) -> str | None:
        limit = self.engine.config.order_group_limit
        if limit is None:
            return None
        group = self.groups.get(strategy)
        if group is not None:
            return group.group_id
        async with self._group_lock:
            group = self.groups.get(strategy)
            if group is not None:
                return group.group_id
            try:
                created = await self.engine.venue.create_order_group(limit)
            except VenueError as exc:
                log.warning("order_group_unavailable", strategy=strategy, error=str(exc))
                return None
            self.groups[strategy] = _Group(strategy, created)
            self.engine.recorder.audit(
                ORDER_GROUP_AUDIT,
                strategy,
                {"order_group_id": created, "contracts_limit": limit},
                "created the strategy's order group",
            )
            return created

    async def with_group(self, sub: Submission) -> PlaceRequest:
        req = sub.request
        assert req is not None
        if self.engine.protective(sub.intent) or req.order_group_id is not None:
            return req
        group_id = await self.group_for(sub.intent.strategy)
        return req if group_id is None else dataclasses.replace(req, order_group_id=group_id)


def _event_payload(event: RiskEvent) -> dict[str, Any]:
    return {"kind": event.kind.value, "who": event.who, "ts_ms": event.ts_ms}
