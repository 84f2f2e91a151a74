"""The execution engine: the only way an intent reaches a venue.

Contract:
- **Through risk, in order.** ``submit(intent)`` (place / amend / cancel) is a plain synchronous
  call for the hot path: the engine's gate, then ``RiskManager.check_and_reserve`` (no ``await`` in
  between, so two intents can never both pass a limit only one fits), then the audit records, the
  order tracker and the create request are prepared and a job is appended to the one
  ``ExecutionQueue``. It returns a ``Submission`` at once — the verdict (``approved``, ``rule``,
  ``reason``) and an awaitable ``Result`` resolved when the exchange answered. Nothing reaches the
  exchange any other way: brackets, emulated stops, flattening and reconciliation submit intents
  here too. ``submit_batch`` judges places one by one and sends the approved ones in batch creates.
- **The gate** (refusals audited as ``engine_refusal``): the engine is not running; a place reusing
  a ``client_order_id`` the engine has seen; a resting (GTC) place while the kill switch is engaged;
  a risk-adding place of a strategy whose order group is triggered; an amend or cancel of an order
  the engine does not know, or a second amend while one is in flight.
- **Audit trail** (through the ``Recorder``, never waiting on the database): every intent (kind
  ``intent``) and its verdict with the reason (``risk_decision``); every order's pending row before
  its create is sent — the queue awaits ``flush()`` first, so after a crash every order that may
  exist at the exchange is on disk under its ``client_order_id``; order snapshots and order events
  (``acked``, ``rejected``, ``unknown``, ``not_found``, ``purged``, ``amended``, ``decreased``,
  ``amend_rejected``, ``canceled``, ``update``, ``fill``); every fill (idempotent by ``fill_id``)
  and the position after it; breaker trips and resets, the kill switch and order-group triggers
  (flushed at once, ``execution.safety``); brackets (``execution.protection``); reconciliation.
- **One venue.** Every request goes through the venue port (``execution.venue.Venue``: Kalshi,
  or the paper venue) in domain values; the engine never sees a wire format.
- **Idempotent creates.** Every create carries a ``client_order_id`` (the intent's); the venue
  never makes two orders of one id (Kalshi's client retries transient failures and resolves a
  409 after a lost response to the order the lost attempt made). A create answered
  ``VenueTransient`` (no complete answer) is ``unknown``: its reservation is kept, and a lookup
  by ``client_order_id`` decides (found: tracked; not found: rejected). A cancel answered
  ``VenueNotFound`` reads the order back; an amend refused or not found too. Cancels and
  decreases name the order's market (Kalshi routes them to its shard by the ticker).
- **Amends count from their submission** (``execution.amends``). An amend intent's size is what
  should rest as of ``submit``, which records the order's filled count then: the order's total is
  fixed at that, so contracts that fill while the amend waits in the queue come off it (never
  rest again), and the request names that total in terms the exchange applies to its own counts —
  an amend's ``count``, or a decrease's ``reduce_by`` when only the size shrinks (queue priority
  kept) — so fills the engine has not heard of come off too; if everything wanted has filled,
  what rests is canceled. Every answer tells the tracker what the exchange has filled (an amend's
  or decrease's remaining count with that total, a cancel's ``reduced_by`` with the order's size;
  a decrease that emptied the order is read back), so an order that leaves the book is never
  taken for less filled than it is while its fills are on their way.
- **Exits go first and cannot flip a position** (``execution.exits``). An approved reduce-only
  exit (a stop's, a strategy's stop-loss or take-profit exit, a flatten) first lets the market's
  bracket take its take-profit away (``Protection.before_exit``), then has the engine cancel the
  account's other resting plain orders on its side that would leave it less than it may sell —
  of any strategy: positions are per account, and a quote never holds up an exit (the owning
  strategy sees the order gone on its next call). Those cancels are queued ahead of the exit, so
  they are answered before it leaves and our sells resting at any moment never exceed the
  position. As it leaves, an exit is still cut to ``exit_room`` — the position less fills
  reported but not received and less what our other plain orders on its side could sell (a
  cancel ahead of it failed, or the order filled meanwhile) — or refused here
  (``would_flip_position``) if nothing is left. ``working_orders(ticker)`` is the index this and
  the brackets read (orders that can still trade or await fills).
- **Risk bookkeeping.** After every ack, report, fill or cancel the order's reservation is synced to
  what can still fill plus what the exchange reports filled whose fills have not arrived
  (``sync_remaining``); amends report ``on_amend_result``; fills go to ``RiskManager.on_fill`` with
  the tracker's position; request failures to ``record_error`` (real ones only: a routine refusal
  such as a post-only order that would cross is not an error, ``VenueError.routine``) and
  successes to ``record_success``. Every ``RiskAction`` risk returns is carried out and every ``RiskEvent``
  audited (``execution.safety``: cancel-all, flatten, kill switch, order groups).
- **Brackets** (``execution.protection``; the policy is ``execution.brackets``): take-profits rest,
  stops are emulated from ``on_book``, one-cancels-other, resized on partial fills.
- **Inputs** from the venue: ``on_fill`` / ``on_order_update`` / ``on_order_group_event`` (the
  venue's private events through ``execution.feed.EngineEvents``, and reconciliation), ``on_book``
  (top of book on risk's clock), ``on_settlement`` (the node's lifecycle feed, the venue's
  settlement events and reconciliation call it: the tracker settles the market once — a second
  report of it changes nothing and returns None — and risk drops the market either way; the position
  and an audit entry of kind ``settlement`` with ``yes_value`` and the ``market_ms`` it counted at
  are recorded). At start-up ``load_fill`` / ``load_order`` / ``load_settlement`` replay the record
  (tracker and risk, not recorded again). ``register_market`` gives the engine (and risk) each
  market's grid and event. ``tick`` (every ``EngineConfig.tick_s`` once started) runs risk's timers,
  feeds it the session P&L and retries protective actions. Read models: ``status()``, ``orders()``,
  ``open_orders()``, ``positions()``, ``brackets()`` (``execution.views``).
- **Daily P&L** (``daily_pnl``, through the ``Recorder``): one row per trading day (the New York
  date of *market time*, ``domain.trading_day``), last write wins. ``realized`` and ``fees`` are
  the tracker's figures minus their values at the start of that day (the baseline is taken when
  the day rolls); ``unrealized`` marks the open positions at the mids of fresh books (as ``tick``
  does for risk). The row is refreshed from ``tick`` at most every ``EngineConfig.pnl_record_s``
  (the first time that long after ``start``), written at ``close``, and when the day changes (the
  old day's final figures, then the new day's first row) — on a tick, or on a fill stamped in a
  later day. A fill stamped in an earlier day (replayed from the store at start-up, or late)
  counts toward the baseline, not the current day, so a restart rebuilds the day's figures from
  the day's own fills; a late fill of the day that ended while the engine ran also rewrites that
  day's row. A settlement counts like a fill stamped at its ``ts_ms`` (the lifecycle feed: when it
  is applied; reconciliation: the exchange's settled time); replayed from the record
  (``load_settlement``) it is stamped with the market time it was first applied at, so a restart
  puts it on the same day as before.
- Time: ``clock_ms`` must be risk's clock (monotonic ms; books carry ``as_of_ms`` on it);
  ``market_ms`` is market time in epoch ms (the exchange's clock: simulated in sim mode; default:
  the wall clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import structlog

from kalshi_trader.domain import (
    PRICE_SCALE,
    TRADING_TIME_ZONE,
    BookSide,
    BracketCancel,
    BracketRequest,
    Fill,
    IntentAction,
    MarketInfo,
    Money,
    Order,
    OrderIntent,
    OrderStatus,
    Position,
    Price,
    Qty,
    Side,
    TickGrid,
    TopOfBook,
    trading_day,
)
from kalshi_trader.execution import amends, exits
from kalshi_trader.execution.brackets import BracketSpec
from kalshi_trader.execution.desk import EngineConfig, Submission
from kalshi_trader.execution.orders import OrderState, OrderTracker, SettlementResult, TrackedOrder
from kalshi_trader.execution.protection import ENGINE_REFUSAL, BracketTicket, Protection
from kalshi_trader.execution.queue import ExecutionQueue, Job
from kalshi_trader.execution.safety import Safety
from kalshi_trader.execution.venue import (
    AmendRequest,
    GroupEvent,
    PlaceRequest,
    Venue,
    VenueError,
    VenueNotFound,
    VenueRejected,
    VenueTransient,
)
from kalshi_trader.execution.views import BracketView, CancelAllReport, EngineStatus, Outcome, Result
from kalshi_trader.risk.decisions import RiskDecision
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.store import AuditKind, Recorder, StoreError

__all__ = ["SETTLEMENT_AUDIT", "BracketTicket", "EngineConfig", "ExecutionEngine", "Submission"]

log = structlog.get_logger(__name__)

SETTLEMENT_AUDIT = "settlement"
"""Audit kind of an applied settlement (subject: the ticker; payload: ``qty``, ``yes_value``,
``payout``, ``pnl``, ``market_ms``, ``source``)."""


def _monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def _midnight_ms(day: date) -> int:
    """Market time (epoch ms) at which trading day ``day`` begins."""
    return int(datetime(day.year, day.month, day.day, tzinfo=TRADING_TIME_ZONE).timestamp() * 1000)


@dataclass(slots=True)
class _Day:
    day: date
    start_ms: int
    end_ms: int
    realized: int
    """The tracker's realized P&L at the start of the day (the baseline)."""
    fees: int


@dataclass(slots=True)
class _Row:
    """The figures last written for a day that has ended (late fills of that day adjust them)."""

    day: date
    realized: int
    unrealized: int
    fees: int


class _DailyPnl:
    """The trading day's P&L row (see "Daily P&L" in the module docstring)."""

    def __init__(
        self,
        tracker: OrderTracker,
        recorder: Recorder,
        market_ms: Callable[[], int],
        clock_ms: Callable[[], int],
        interval_ms: int,
    ) -> None:
        self._tracker = tracker
        self._recorder = recorder
        self._market_ms = market_ms
        self._clock_ms = clock_ms
        self._interval_ms = interval_ms
        self._day: _Day | None = None
        self._ended: _Row | None = None
        """The day before the current one, if it ended while this process ran."""
        self._run: tuple[int, int] | None = None
        """(realized, fees) before a run of fills stamped in an earlier day (not yet in the baseline)."""
        self._written_ms = clock_ms()

    def restart_timer(self) -> None:
        """The next periodic refresh is ``interval`` from now (the engine started)."""
        self._written_ms = self._clock_ms()

    def _totals(self) -> tuple[int, int]:
        return int(self._tracker.realized_pnl()), int(self._tracker.fees_paid())

    def _begin(self, ms: int) -> _Day:
        self._absorb()
        day = trading_day(ms)
        realized, fees = self._totals()
        self._day = _Day(day, _midnight_ms(day), _midnight_ms(day + timedelta(days=1)), realized, fees)
        return self._day

    def current(self) -> _Day:
        return self._day if self._day is not None else self._begin(self._market_ms())

    def _absorb(self) -> tuple[int, int]:
        """Move what the earlier-day fills since the run began changed into the baseline; returns
        that change (realized, fees)."""
        run, self._run = self._run, None
        if run is None or self._day is None:
            return 0, 0
        realized, fees = self._totals()
        delta = realized - run[0], fees - run[1]
        self._day.realized += delta[0]
        self._day.fees += delta[1]
        return delta

    def before_fill(self, ts_ms: int, marks: Callable[[], dict[str, int]], *, replay: bool = False) -> date | None:
        """Called before a fill stamped ``ts_ms`` is applied: rolls the day if the fill is stamped in
        a later one. Returns the fill's trading day if it is an earlier one (then ``after_early_fill``
        once it is applied) — None when replaying, which leaves the run open (absorbed at the next
        read, so that replaying many fills stays cheap)."""
        day = self.current()
        if ts_ms <= 0 or day.start_ms <= ts_ms < day.end_ms:
            self._absorb()
            return None
        if ts_ms >= day.end_ms:
            self.roll(ts_ms, marks())
            return None
        if replay:
            if self._run is None:
                self._run = self._totals()
            return None
        self._absorb()
        self._run = self._totals()
        return trading_day(ts_ms)

    def after_early_fill(self, day: date) -> None:
        """A fill of an earlier ``day`` was applied: out of the current day; into the day that ended
        while this process ran, if it is that one (its row is written again)."""
        realized, fees = self._absorb()
        ended = self._ended
        if ended is not None and ended.day == day and (realized or fees):
            ended.realized += realized
            ended.fees += fees
            self._record(ended)

    def roll(self, ms: int, marks: dict[str, int]) -> None:
        """The day of market time ``ms`` began: the old day's final row, then the new day's."""
        self._ended = self.write(marks)
        self._begin(ms)
        self.write(marks)

    def tick(self, marks: dict[str, int]) -> None:
        """The day changed (market time): roll; else refresh the row once ``interval`` passed."""
        now = self._market_ms()
        if now >= self.current().end_ms:
            self.roll(now, marks)
        elif self._clock_ms() - self._written_ms >= self._interval_ms:
            self.write(marks)

    def write(self, marks: dict[str, int]) -> _Row:
        """Write the current day's row now."""
        day = self.current()
        self._absorb()
        realized, fees = self._totals()
        self._written_ms = self._clock_ms()
        row = _Row(day.day, realized - day.realized, self._tracker.unrealized_pnl(marks), fees - day.fees)
        self._record(row)
        return row

    def _record(self, row: _Row) -> None:
        self._recorder.record_daily_pnl(row.day, Money(row.realized), Money(row.unrealized), Money(row.fees))


@dataclass(slots=True)
class _Counters:
    submitted: int = 0
    refused: int = 0
    rejected: int = 0
    errors: int = 0


class ExecutionEngine:
    """See the module docstring."""

    def __init__(
        self,
        venue: Venue,
        risk: RiskManager,
        recorder: Recorder,
        *,
        tracker: OrderTracker | None = None,
        config: EngineConfig | None = None,
        clock_ms: Callable[[], int] = _monotonic_ms,
        market_ms: Callable[[], int] = _wall_ms,
    ) -> None:
        self.venue = venue
        self.risk = risk
        self.recorder = recorder
        self.tracker = tracker if tracker is not None else OrderTracker()
        self.config = config if config is not None else EngineConfig()
        self.clock_ms = clock_ms
        self.market_ms = market_ms
        self.queue = ExecutionQueue(recorder.flush)
        self._books: dict[str, TopOfBook] = {}
        self._marks: dict[str, int] = {}
        """The ``marks()`` of ``_books`` as of the last read (a tick reads them all)."""
        self._unmarked: dict[str, None] = {}
        """Markets whose top arrived since (their marks are worked out on the next read)."""
        self._grids: dict[str, TickGrid] = {}
        self._amending: dict[str, Qty] = {}
        """client_order_id → its filled count when the amend in flight was submitted (the basis of
        ``amends.request``: the remaining size asked for is counted from it)."""
        self._unknown: set[str] = set()
        self._queued: set[str] = set()
        """client_order_ids with a create queued or in flight."""
        self._canceling: set[str] = set()
        """client_order_ids with a cancel queued or in flight (gone before anything queued later leaves)."""
        self._working: dict[str, set[str]] = {}
        """ticker → client_order_ids that may still trade or await fills (``working_orders``)."""
        self.protection = Protection(self)
        self.safety = Safety(self)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._running = False
        self._last_fill_ms = 0
        self.counters = _Counters()
        self.daily = _DailyPnl(
            self.tracker, recorder, lambda: self.market_ms(), clock_ms, int(self.config.pnl_record_s * 1000)
        )

    # ------------------------------------------------------------------------------------------
    # Lifecycle

    async def start(self) -> None:
        """Start the queue worker and the housekeeping tick."""
        if self._running:
            return
        self._running = True
        self.daily.restart_timer()
        self.queue.start()
        self._ticker = asyncio.get_running_loop().create_task(self._tick_loop(), name="execution-tick")

    async def close(self) -> None:
        """Stop ticking, let the job in flight finish, abort the rest (resting orders stay); write
        the day's P&L row."""
        was_running, self._running = self._running, False
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.queue.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if was_running:
            try:
                self.daily.write(self.marks())
            except StoreError as exc:
                log.warning("daily_pnl_not_recorded", error=str(exc))

    async def __aenter__(self) -> ExecutionEngine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def register_market(self, market: MarketInfo) -> None:
        """Tell the engine and risk about a market (grid, event, status)."""
        self._grids[market.ticker] = market.grid
        self.risk.register_market(market)

    # ------------------------------------------------------------------------------------------
    # The hot path

    def on_book(self, top: TopOfBook) -> None:
        """The market's top of book changed (``as_of_ms`` on risk's clock). Checks its bracket's
        stop and retries exits waiting for a book; otherwise only stores it."""
        ticker = top.ticker
        self._books[ticker] = top
        self._unmarked[ticker] = None
        self.protection.on_book(top)
        self.safety.after_change(top.ticker)

    def book(self, ticker: str) -> TopOfBook | None:
        return self._books.get(ticker)

    def grid(self, ticker: str) -> TickGrid | None:
        return self._grids.get(ticker)

    @property
    def running(self) -> bool:
        return self._running

    def submit(
        self, intent: OrderIntent, *, book: TopOfBook | None = None, fair_value: int | None = None
    ) -> Submission:
        """Judge ``intent`` and, if approved, queue it (see the module docstring). ``book`` defaults
        to the last ``on_book`` for the market."""
        refusal = self._gate(intent)
        if refusal is not None:
            rule, reason = refusal
            self.recorder.audit(ENGINE_REFUSAL, intent.client_order_id, {"rule": rule}, reason)
            return self.refuse(intent, rule, reason, None)
        top = book if book is not None else self._books.get(intent.ticker)
        decision = self.risk.check_and_reserve(intent, book=top, fair_value=fair_value)
        self._audit_intent(intent, decision)
        if not decision.approved:
            return self.refuse(intent, decision.rule.value, decision.reason, decision)
        self.counters.submitted += 1
        if intent.action is IntentAction.PLACE:
            if intent.reduce_only:
                self._clear_the_way(intent)  # the cancels are queued first
            return self._queue_place(intent, decision)
        sub = self._submission(intent, decision)
        coid = intent.client_order_id
        if intent.action is IntentAction.AMEND:
            tracked = self.tracker.order(coid)
            self._amending[coid] = tracked.filled if tracked is not None else Qty(0)
            self.queue.put(
                Job(
                    f"amend {coid}", lambda: self._send_amend(sub), lambda r: self._amend_purged(sub, r), purgeable=True
                )
            )
        else:
            self._canceling.add(coid)
            self.queue.put(Job(f"cancel {coid}", lambda: self._send_cancel(sub), lambda r: self._purged(sub, r)))
        return sub

    def submit_batch(
        self, intents: Sequence[OrderIntent], *, books: dict[str, TopOfBook] | None = None
    ) -> list[Submission]:
        """Judge several places one by one and send the approved ones in batch creates (as many per
        request as the write bucket holds)."""
        subs: list[Submission] = []
        approved: list[Submission] = []
        for intent in intents:
            if intent.action is not IntentAction.PLACE:
                raise ValueError("a batch holds places only; amend and cancel one by one")
            refusal = self._gate(intent)
            if refusal is not None:
                self.recorder.audit(ENGINE_REFUSAL, intent.client_order_id, {"rule": refusal[0]}, refusal[1])
                subs.append(self.refuse(intent, refusal[0], refusal[1], None))
                continue
            top = (books or {}).get(intent.ticker) or self._books.get(intent.ticker)
            decision = self.risk.check_and_reserve(intent, book=top)
            self._audit_intent(intent, decision)
            if not decision.approved:
                subs.append(self.refuse(intent, decision.rule.value, decision.reason, decision))
                continue
            self.counters.submitted += 1
            if intent.reduce_only:
                self._clear_the_way(intent)
            sub = self._prepare_place(intent, decision)
            subs.append(sub)
            approved.append(sub)
        per_request = max(1, self.venue.max_batch_create)
        for start in range(0, len(approved), per_request):
            self.queue.put(self._batch_job(approved[start : start + per_request]))
        return subs

    def _batch_job(self, chunk: list[Submission]) -> Job:
        def abort(reason: str) -> None:
            for sub in chunk:
                self._purged(sub, reason)

        return Job(
            f"batch create {len(chunk)}", lambda: self._send_batch(chunk), abort, needs_flush=True, purgeable=True
        )

    def cancel(self, client_order_id: str, *, reason: str = "", strategy: str = "") -> Submission:
        """Cancel one order (by ``client_order_id``)."""
        tracked = self.tracker.order(client_order_id)
        ticker = tracked.ticker if tracked is not None else ""
        return self.submit(OrderIntent.cancel(ticker, client_order_id, strategy=strategy, reason=reason))

    def amend(self, client_order_id: str, *, price: int, remaining: int, reason: str = "") -> Submission:
        """Move an order to ``price`` with ``remaining`` contracts left to fill as of now: what fills
        before the request reaches the exchange comes off it (sent as a decrease when only the size
        shrinks, which keeps queue priority)."""
        tracked = self.tracker.order(client_order_id)
        if tracked is None:
            intent = OrderIntent.amend("", BookSide.BID, price, remaining, client_order_id, reason=reason)
        else:
            intent = OrderIntent.amend(
                tracked.ticker,
                tracked.side,
                price,
                remaining,
                tracked.client_order_id,
                strategy=tracked.strategy,
                reason=reason,
            )
        return self.submit(intent)

    def decrease(self, client_order_id: str, *, remaining: int, reason: str = "") -> Submission:
        """Shrink an order to ``remaining`` contracts at its price, as of now (risk-reducing)."""
        tracked = self.tracker.order(client_order_id)
        if tracked is None:
            return self.amend(client_order_id, price=0, remaining=remaining, reason=reason)
        intent = OrderIntent(
            IntentAction.AMEND,
            tracked.ticker,
            tracked.client_order_id,
            tracked.side,
            tracked.price,
            Qty(remaining),
            strategy=tracked.strategy,
            reason=reason or "decrease",
        )
        return self.submit(intent)

    # ------------------------------------------------------------------------------------------
    # Gate, audit, bookkeeping shared by every intent

    def _gate(self, intent: OrderIntent) -> tuple[str, str] | None:
        if not self._running:
            return "engine_stopped", "the execution engine is not running"
        coid = intent.client_order_id
        if intent.action is IntentAction.PLACE:
            if coid and self.tracker.order(coid) is not None:
                return "duplicate_client_order_id", f"client_order_id {coid} was used before"
            return self.safety.refusal(intent)
        tracked = self.tracker.order(coid)
        if tracked is None:
            return "unknown_order", f"no order {coid} to {intent.action.value}"
        if intent.action is IntentAction.AMEND and coid in self._amending:
            return "amend_in_flight", f"an amend of {coid} is already in flight"
        return None

    def _audit_intent(self, intent: OrderIntent, decision: RiskDecision) -> None:
        coid = intent.client_order_id
        payload: dict[str, Any] = {
            "action": intent.action.value,
            "ticker": intent.ticker,
            "side": intent.side.value,
            "price": intent.price,
            "qty": intent.qty,
            "tif": intent.tif.value,
            "strategy": intent.strategy,
        }
        if intent.reduce_only:
            payload["reduce_only"] = True
        if intent.post_only:
            payload["post_only"] = True
        if intent.inputs:
            payload["inputs"] = dict(intent.inputs)
        self.recorder.audit(AuditKind.INTENT, coid, payload, intent.reason)
        verdict = {"approved": decision.approved, "rule": decision.rule.value, **decision.details}
        self.recorder.audit(AuditKind.RISK_DECISION, coid, verdict, decision.reason)

    def _submission(self, intent: OrderIntent, decision: RiskDecision) -> Submission:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        return Submission(intent, True, decision.rule.value, decision.reason, decision, future)

    def refuse(self, intent: OrderIntent, rule: str, reason: str, decision: RiskDecision | None) -> Submission:
        self.counters.refused += 1
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        future.set_result(Result(intent.client_order_id, Outcome.REFUSED, reason))
        return Submission(intent, False, rule, reason, decision, future)

    @staticmethod
    def _finish(sub: Submission, outcome: Outcome, reason: str, order: TrackedOrder | None = None) -> None:
        if not sub.result.done():
            sub.result.set_result(Result(sub.intent.client_order_id, outcome, reason, order))

    def _prepare_place(self, intent: OrderIntent, decision: RiskDecision) -> Submission:
        coid = intent.client_order_id
        self.tracker.on_submitted(intent)
        self._work(intent.ticker, coid)
        self.recorder.record_order_intent(
            coid, intent.ticker, intent.side, intent.price, intent.qty, _wall_ms(), strategy=intent.strategy
        )
        group_id = None if self.protective(intent) else self.safety.group_id(intent.strategy)
        sub = self._submission(intent, decision)
        sub.request = PlaceRequest(
            intent.ticker,
            intent.side,
            Price(intent.price),
            Qty(intent.qty),
            coid,
            time_in_force=intent.tif,
            self_trade_prevention=self.config.self_trade_prevention,
            post_only=intent.post_only,
            reduce_only=intent.reduce_only,
            order_group_id=group_id,
        )
        self._queued.add(coid)
        return sub

    def _queue_place(self, intent: OrderIntent, decision: RiskDecision) -> Submission:
        sub = self._prepare_place(intent, decision)
        coid = intent.client_order_id
        self.queue.put(
            Job(
                f"create {coid}",
                lambda: self._send_create(sub),
                lambda reason: self._purged(sub, reason),
                needs_flush=True,
                purgeable=not intent.reduce_only,
            )
        )
        return sub

    def protective(self, intent: OrderIntent) -> bool:
        """An exit (reduce-only) or a bracket's own order: it joins no order group, and a
        triggered group does not stop it."""
        return intent.reduce_only or self.protection.protective(intent.client_order_id)

    def working_orders(self, ticker: str) -> list[TrackedOrder]:
        """Our orders in ``ticker`` that can still trade or whose reported fills have not all
        arrived (an index kept as orders are placed or reported; finished ones drop out)."""
        ids = self._working.get(ticker)
        if not ids:
            return []
        working = []
        for coid in list(ids):
            t = self.tracker.order(coid)
            if t is None or (not t.state.is_open and t.unconfirmed_fill_qty <= 0):
                ids.discard(coid)
            else:
                working.append(t)
        return working

    def _work(self, ticker: str, client_order_id: str) -> None:
        self._working.setdefault(ticker, set()).add(client_order_id)

    def sellable(self, ticker: str, side: BookSide, working: Sequence[TrackedOrder] | None = None) -> int:
        """What an order on ``side`` could sell of the position now: the position on the leg
        ``side`` sells (YES for an ask, NO for a bid), less what the exchange reported filled on
        ``side`` whose fills have not arrived (they will shrink the position)."""
        orders = self.working_orders(ticker) if working is None else working
        position = self.tracker.position(ticker).qty
        held = max(0, position) if side is BookSide.ASK else max(0, -position)
        return held - sum(t.unconfirmed_fill_qty for t in orders if t.side is side)

    def exit_room(self, ticker: str, side: BookSide, client_order_id: str) -> int | None:
        """How much an exit on ``side`` may sell without letting the position flip through our
        other open orders on ``side`` (``exits.room``; None when no such order rests)."""
        working = self.working_orders(ticker)
        return exits.room(self.sellable(ticker, side, working), working, side, client_order_id)

    def _clear_the_way(self, exit_: OrderIntent) -> None:
        """An approved exit is about to be queued: the bracket's take-profit, then any other resting
        order of ours that would leave it less than it may sell, are canceled ahead of it."""
        self.protection.before_exit(exit_)
        ticker, side = exit_.ticker, exit_.side
        working = self.working_orders(ticker)
        sellable = self.sellable(ticker, side, working)
        for t in exits.in_the_way(sellable, working, side, exit_.qty, exit_.client_order_id, self._canceling):
            self.submit(
                OrderIntent.cancel(
                    ticker,
                    t.client_order_id,
                    strategy=t.strategy,
                    reason=f"exit {exit_.client_order_id} ({exit_.strategy or 'engine'}) goes first:"
                    " this order could sell the contracts it sells and flip the position",
                )
            )

    def sync_risk(self, client_order_id: str) -> None:
        """Shrink the reservation to what can still fill plus reported fills not yet received."""
        if client_order_id in self._amending:
            return
        t = self.tracker.order(client_order_id)
        if t is None:
            return
        keep = t.unconfirmed_fill_qty + (t.remaining if t.state.is_open else 0)
        self.risk.sync_remaining(t.client_order_id, max(0, keep))

    def record_state(
        self, t: TrackedOrder, event: str, payload: dict[str, Any] | None = None, ts_ms: int | None = None
    ) -> None:
        order = _as_order(t)
        if order is not None:
            self.recorder.record_order(order)
        body = {"state": t.state.value, "filled": t.filled, "remaining": t.remaining, "price": t.price}
        if payload:
            body.update(payload)
        self.recorder.record_order_event(
            event, client_order_id=t.client_order_id, order_id=t.order_id, payload=body, ts_ms=ts_ms
        )

    def _error(self, what: str, exc: VenueError) -> None:
        """A request failed: a real error (not a routine refusal) counts toward risk's breaker."""
        if exc.routine:
            return
        self.counters.errors += 1
        self.safety.carry_out(self.risk.record_error(f"{what}: {exc.summary()}"))
        self.safety.drain_risk_events()

    def _purged(self, sub: Submission, reason: str) -> None:
        intent = sub.intent
        coid = intent.client_order_id
        self._queued.discard(coid)
        if intent.action is IntentAction.CANCEL:
            self._canceling.discard(coid)
        if intent.action is IntentAction.PLACE:
            self.tracker.on_rejected(coid, reason)
            self.risk.release(coid, reason)
            self.recorder.record_order_rejected(coid)
            self.recorder.record_order_event("purged", client_order_id=coid, payload={"reason": reason})
        self._finish(sub, Outcome.PURGED, reason)
        self.after_change(intent.ticker)

    def _amend_purged(self, sub: Submission, reason: str) -> None:
        coid = sub.intent.client_order_id
        self._amending.pop(coid, None)
        self.risk.on_amend_result(coid, False)
        self.sync_risk(coid)
        self._finish(sub, Outcome.PURGED, reason)
        self.after_change(sub.intent.ticker)

    # ------------------------------------------------------------------------------------------
    # Jobs: what the queue runs

    async def _send_create(self, sub: Submission) -> None:
        grouped = await self.safety.with_group(sub)
        req = self._within_exit_room(sub, grouped) if sub.intent.reduce_only else grouped
        if req is None:
            return
        try:
            order = await self.venue.place(req)
        except VenueError as exc:
            self._create_failed(sub, exc)
            return
        finally:
            self._queued.discard(sub.intent.client_order_id)
        self._acked(sub, order)

    async def _send_batch(self, chunk: list[Submission]) -> None:
        reqs = [await self.safety.with_group(sub) for sub in chunk]
        try:
            answers = await self.venue.place_batch(reqs)
        except VenueError as exc:
            for sub in chunk:
                self._queued.discard(sub.intent.client_order_id)
                self._create_failed(sub, exc)
            return
        for i, sub in enumerate(chunk):
            self._queued.discard(sub.intent.client_order_id)
            answer = answers[i] if i < len(answers) else VenueTransient("no answer for this item", code="no_answer")
            if isinstance(answer, VenueError):
                self._create_failed(sub, answer)
            else:
                self._acked(sub, answer)

    def _within_exit_room(self, sub: Submission, req: PlaceRequest) -> PlaceRequest | None:
        """An exit, as it leaves: cut to ``exit_room`` (a plain order of ours on its side still
        rests — a cancel ahead of it failed), or refused here if there is no room at all."""
        intent = sub.intent
        room = self.exit_room(intent.ticker, intent.side, intent.client_order_id)
        if room is None or room >= intent.qty:
            return req
        if room > 0:
            return dataclasses.replace(req, count=Qty(room))
        reason = "an order of ours on the same side still rests: this exit could flip the position through it"
        self._queued.discard(intent.client_order_id)
        self._rejected(sub, VenueRejected(reason, code="would_flip_position"))  # not the venue's error
        self.after_change(intent.ticker)
        return None

    def _acked(self, sub: Submission, order: Order) -> None:
        coid = sub.intent.client_order_id
        t = self.tracker.on_ack(
            coid, order_id=order.order_id, filled=order.filled, remaining=order.remaining, ts_ms=order.created_ms
        )
        self.risk.record_success()
        self._unknown.discard(coid)
        self.record_state(t, "acked", {"order_group_id": order.order_group_id} if order.order_group_id else None)
        self.sync_risk(coid)
        self._finish(sub, Outcome.ACCEPTED, "", t)
        self.after_change(t.ticker)

    def _create_failed(self, sub: Submission, exc: VenueError) -> None:
        intent = sub.intent
        coid = intent.client_order_id
        if isinstance(exc, VenueTransient):
            self._unknown.add(coid)
            self.recorder.record_order_event("unknown", client_order_id=coid, payload={"error": exc.summary()})
            self._finish(sub, Outcome.UNKNOWN, f"no answer after retries: {exc.summary()}", self.tracker.order(coid))
            self.spawn(self._resolve(coid, intent.ticker), f"resolve {coid}")
        else:
            self._rejected(sub, exc)
        self._error(f"create {coid}", exc)
        self.after_change(intent.ticker)

    def _rejected(self, sub: Submission, exc: VenueError) -> None:
        coid = sub.intent.client_order_id
        self.counters.rejected += 1
        self.tracker.on_rejected(coid, exc.summary())
        self.risk.release(coid, exc.summary())
        self.recorder.record_order_rejected(coid)
        self.recorder.record_order_event(
            "rejected",
            client_order_id=coid,
            payload={"code": exc.code, "message": exc.message},
        )
        self._finish(sub, Outcome.REJECTED, exc.summary(), self.tracker.order(coid))

    async def _resolve(self, client_order_id: str, ticker: str) -> None:
        """Find an order whose create got no answer: tracked if found, rejected if not."""
        try:
            found = await self.venue.find_order(client_order_id, ticker=ticker)
        except VenueError as exc:
            log.warning("order_resolution_failed", client_order_id=client_order_id, error=str(exc))
            return  # stays unknown: reconciliation retries
        self.resolve_lookup(client_order_id, found)

    def resolve_lookup(self, client_order_id: str, found: Order | None) -> bool:
        """Apply the outcome of looking an unanswered create up at the exchange. Returns True if
        the order's state changed."""
        t = self.tracker.order(client_order_id)
        if t is None or client_order_id in self._queued:
            return False
        if found is not None:
            self._unknown.discard(client_order_id)
            self.on_order_update(found)
            return True
        if t.order_id is not None or t.state is not OrderState.PENDING:
            self._unknown.discard(client_order_id)
            return False
        self._unknown.discard(client_order_id)
        self.tracker.on_rejected(client_order_id, "not found at the exchange")
        self.risk.release(client_order_id, "not found at the exchange")
        self.recorder.record_order_rejected(client_order_id)
        self.recorder.record_order_event(
            "not_found", client_order_id=client_order_id, payload={"reason": "no order with this id at the exchange"}
        )
        self.after_change(t.ticker)
        return True

    async def _send_amend(self, sub: Submission) -> None:
        intent = sub.intent
        coid = intent.client_order_id
        t = self.tracker.order(coid)
        try:
            if t is None or t.order_id is None or not t.state.is_open:
                self.risk.on_amend_result(coid, False)
                self._finish(sub, Outcome.REJECTED, f"order {coid} is not resting", t)
                return
            order_id = t.order_id
            call = amends.request(t, intent.price, intent.qty, self._amending.get(coid, t.filled))
            try:
                if isinstance(call, amends.Amend):
                    req = AmendRequest(t.ticker, t.side, call.price, call.total, t.client_order_id)
                    amended = await self.venue.amend(t.order_id, req)
                    remaining: int | None = amended.remaining
                    price, ts, event = call.price, amended.ts_ms, "amended"
                elif isinstance(call, amends.Decrease):
                    dec = await self.venue.decrease(t.order_id, reduce_by=call.reduce_by, ticker=t.ticker)
                    remaining = dec.remaining
                    price, ts, event = t.price, dec.ts_ms, "decreased"
                else:
                    gone = await self.venue.cancel(t.order_id, ticker=t.ticker)
                    remaining = 0
                    price, ts, event = t.price, gone.ts_ms, "canceled"
            except VenueError as exc:
                self.counters.rejected += 1
                self.risk.on_amend_result(coid, False)
                self._finish(sub, Outcome.REJECTED, exc.summary(), t)
                self.recorder.record_order_event(
                    "amend_rejected",
                    client_order_id=coid,
                    order_id=t.order_id,
                    payload={"code": exc.code, "message": exc.message},
                )
                self._error(f"amend {coid}", exc)
                if isinstance(exc, VenueRejected | VenueNotFound):
                    await self._refresh(t.order_id, t.ticker)
                return
            if isinstance(call, amends.Withdraw):
                t = self.tracker.on_canceled(coid, ts_ms=ts, reduced_by=gone.reduced_by)
            elif remaining == 0 and isinstance(call, amends.Decrease):  # it had less left than it gave up
                self.tracker.on_canceled(coid, ts_ms=ts)
                await self._refresh(order_id, t.ticker)  # how much it had filled: the answer does not say
                t = self.tracker.order(coid) or t
            else:
                t = self.tracker.on_amended(coid, price=price, size=call.total, remaining=remaining, ts_ms=ts)
            self.risk.on_amend_result(coid, True)
            self.risk.record_success()
            self.record_state(t, event, {"to_price": price, "to_remaining": remaining})
            self._finish(sub, Outcome.ACCEPTED, "", t)
        finally:
            self._amending.pop(coid, None)
            self.sync_risk(coid)
            self.after_change(intent.ticker)

    async def _send_cancel(self, sub: Submission) -> None:
        intent = sub.intent
        coid = intent.client_order_id
        t = self.tracker.order(coid)
        if t is not None and t.order_id is None and coid in self._unknown:
            await self._resolve(coid, t.ticker)
            t = self.tracker.order(coid)
        if t is None or t.order_id is None or not t.state.is_open:
            self._canceling.discard(coid)
            self.sync_risk(coid)
            self._finish(sub, Outcome.ACCEPTED, "nothing rests under this id", t)
            self.after_change(intent.ticker)
            return
        try:
            resp = await self.venue.cancel(t.order_id, ticker=t.ticker)
        except VenueNotFound:
            await self._refresh(t.order_id, t.ticker)
            t = self.tracker.order(coid)
            self._finish(sub, Outcome.ACCEPTED, "the order was no longer resting", t)
        except VenueError as exc:
            self.counters.rejected += 1
            self._finish(sub, Outcome.REJECTED, exc.summary(), t)
            self._error(f"cancel {coid}", exc)
        else:
            t = self.tracker.on_canceled(coid, ts_ms=resp.ts_ms, reduced_by=resp.reduced_by)
            self.risk.record_success()
            self.record_state(t, "canceled", {"reduced_by": resp.reduced_by, "reason": intent.reason})
            self._finish(sub, Outcome.ACCEPTED, "", t)
        finally:
            self._canceling.discard(coid)
        self.sync_risk(coid)
        self.after_change(intent.ticker)

    async def _refresh(self, order_id: str, ticker: str | None = None) -> None:
        """Read one order back from the venue and apply it."""
        try:
            found = await self.venue.get_order(order_id, ticker=ticker)
        except VenueError as exc:
            log.warning("order_refresh_failed", order_id=order_id, error=str(exc))
            return
        self.on_order_update(found)

    # ------------------------------------------------------------------------------------------
    # Inputs from the exchange

    def on_fill(self, fill: Fill) -> bool:
        """One of our fills (WS or REST). Returns False for a fill already seen."""
        if self.tracker.seen_fill(fill.fill_id):
            return False
        early = self.daily.before_fill(fill.ts_ms, self.marks)
        if not self.tracker.on_fill(fill):
            return False
        if early is not None:
            self.daily.after_early_fill(early)
        self._last_fill_ms = max(self._last_fill_ms, fill.ts_ms)
        t = self.tracker.order(fill.order_id) or (
            self.tracker.order(fill.client_order_id) if fill.client_order_id else None
        )
        coid = t.client_order_id if t is not None else (fill.client_order_id or None)
        position = self.tracker.position(fill.ticker)
        self.risk.on_fill(fill, position, client_order_id=coid)
        self.recorder.record_fill(fill)
        self.recorder.record_order_event(
            "fill",
            client_order_id=coid,
            order_id=fill.order_id,
            payload={"fill_id": fill.fill_id, "price": fill.price, "qty": fill.qty, "fee": fill.fee},
            event_id=f"fill:{fill.fill_id}",
            ts_ms=fill.ts_ms or None,
        )
        self.recorder.upsert_position(position)
        if coid is not None:
            self.sync_risk(coid)
        self.after_change(fill.ticker)
        return True

    def load_fill(self, fill: Fill) -> bool:
        """A fill replayed from the store at start-up: it moves positions (tracker and risk) but is
        not recorded again. Those stamped before the current trading day count toward its
        baseline (the run is absorbed at the next read: replaying many stays cheap)."""
        if self.tracker.seen_fill(fill.fill_id):
            return False
        self.daily.before_fill(fill.ts_ms, self.marks, replay=True)
        if not self.tracker.on_fill(fill):
            return False
        self._last_fill_ms = max(self._last_fill_ms, fill.ts_ms)
        self.risk.update_position(self.tracker.position(fill.ticker))
        return True

    def on_order_update(self, order: Order, *, strategy: str = "") -> TrackedOrder:
        """An order report (WS ``user_order`` or a REST read). Unknown orders are tracked (adopted
        by the tracker, as sent by ``strategy`` when the record names it; whether risk keeps them is
        reconciliation's call). An order of ours taken for
        rejected (its create unanswered and not found, or refused) that is reported open after all
        holds risk again (``RiskManager.adopt``): what can trade always counts toward the limits."""
        known = self.tracker.order(order.order_id) or self.tracker.order(order.client_order_id)
        t = self.tracker.on_order_update(order, strategy=strategy)
        if known is not None and known.state is OrderState.REJECTED and t.state.is_open:
            self.risk.adopt(t.client_order_id, t.ticker, t.side, t.price, t.remaining + t.unconfirmed_fill_qty)
        self._work(t.ticker, t.client_order_id)
        self.recorder.record_order(order)
        self.recorder.record_order_event(
            "update",
            client_order_id=t.client_order_id,
            order_id=order.order_id,
            payload={"status": order.status.value, "filled": order.filled, "remaining": order.remaining},
            ts_ms=order.updated_ms or None,
        )
        if t.order_id is not None:
            self._unknown.discard(t.client_order_id)
        self.sync_risk(t.client_order_id)
        self.after_change(order.ticker)
        return t

    def load_order(self, order: Order, *, strategy: str = "") -> TrackedOrder:
        """An order read from the store at start-up, sent by ``strategy`` (not recorded again, no
        risk change)."""
        t = self.tracker.on_order_update(order, strategy=strategy)
        self._work(t.ticker, t.client_order_id)
        return t

    def on_settlement(
        self, ticker: str, result: Side | int, *, ts_ms: int = 0, source: str = ""
    ) -> SettlementResult | None:
        """The market settled: ``result`` is the winning side or the YES value (a ``Price``). Applied
        once (None if the tracker had settled it already); risk drops the market either way.
        ``ts_ms`` (market time; 0: now) is the stamp the daily P&L counts it at. Raises
        ``ValueError`` for a value outside $0..$1, before changing anything."""
        if not isinstance(result, Side) and not 0 <= result <= PRICE_SCALE:
            raise ValueError(f"settlement value {result} is outside $0..$1")
        if self.tracker.settled_value(ticker) is not None:
            self.risk.on_settlement(ticker)
            return None
        stamp = ts_ms if ts_ms > 0 else self.market_ms()
        early = self.daily.before_fill(stamp, self.marks)
        settled = self.tracker.on_settlement(ticker, result)
        if early is not None:
            self.daily.after_early_fill(early)
        self.risk.on_settlement(ticker)
        if settled is None:
            return None
        self.recorder.upsert_position(self.tracker.position(ticker))
        self.recorder.audit(
            SETTLEMENT_AUDIT,
            ticker,
            {
                "qty": settled.qty,
                "yes_value": settled.yes_value,
                "payout": settled.payout,
                "pnl": settled.pnl,
                "market_ms": stamp,
                "source": source,
            },
            f"settled at {settled.yes_value} per YES contract" + (f" ({source})" if source else ""),
        )
        self.after_change(ticker)
        return settled

    def load_settlement(self, ticker: str, result: Side | int, *, ts_ms: int) -> SettlementResult | None:
        """A settlement replayed from the record at start-up (after the fills): tracker and risk,
        not recorded again; stamped ``ts_ms`` (market time) for the daily P&L, like a replayed fill."""
        if self.tracker.settled_value(ticker) is not None:
            return None
        self.daily.before_fill(ts_ms, self.marks, replay=True)
        settled = self.tracker.on_settlement(ticker, result)
        self.risk.on_settlement(ticker)
        return settled

    # ------------------------------------------------------------------------------------------
    # Kill switch, breakers, order groups

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_s)
            try:
                self.tick()
            except Exception:
                log.exception("execution_tick_failed")

    def tick(self) -> None:
        """Housekeeping (every ``tick_s``): risk's timers and P&L, retries of protective actions,
        the day's P&L row."""
        actions = self.risk.tick()
        marks = self.marks()
        actions += self.risk.update_pnl(self.tracker.net_pnl(marks))
        self.safety.drain_risk_events()
        self.safety.carry_out(actions)
        self.protection.maintain_all()
        self.safety.retry_flatten()
        self.daily.tick(marks)

    def marks(self) -> dict[str, int]:
        """YES marks of the fresh books with both sides (what unrealized P&L is marked at): the mid,
        never below the market's settlement floor (``TopOfBook.mark``)."""
        marks, books = self._marks, self._books
        for t in self._unmarked:
            top = books[t]
            mark = top.mark
            if mark is not None and not top.stale:
                marks[t] = mark
            else:
                marks.pop(t, None)
        self._unmarked.clear()
        return dict(marks)

    # ------------------------------------------------------------------------------------------
    # Brackets

    # ------------------------------------------------------------------------------------------
    # Brackets (``execution.protection``) and safety (``execution.safety``)

    def act(self, action: OrderIntent | BracketRequest | BracketCancel) -> Submission | None:
        """Carry out one strategy action (``strategy.base.Action``), in the order given."""
        if isinstance(action, OrderIntent):
            return self.submit(action)
        if isinstance(action, BracketRequest):
            self.protection.request(action)
        else:
            self.protection.cancel(action)
        return None

    def place_bracket(
        self, spec: BracketSpec, *, book: TopOfBook | None = None, fair_value: int | None = None
    ) -> BracketTicket:
        """Submit the entry; as it fills, keep a take-profit resting and the stop-loss armed."""
        return self.protection.place(spec, book=book, fair_value=fair_value)

    def request_bracket(self, req: BracketRequest) -> str | None:
        """A strategy protects (more of) a filled entry, or moves its prices (latest wins)."""
        return self.protection.request(req)

    def cancel_bracket(self, cancel: BracketCancel | str, *, reason: str = "") -> bool:
        """Cancel the take-profit and disarm the stop (the position stays)."""
        return self.protection.cancel(cancel, reason=reason)

    def protect(self, ticker: str, *, take_profit: Price, stop_loss: Price, reason: str = "") -> str | None:
        """Attach a take-profit and a stop-loss to the position held in ``ticker`` (no entry)."""
        return self.protection.protect(ticker, take_profit=take_profit, stop_loss=stop_loss, reason=reason)

    def restore_bracket(self, record: dict[str, Any]) -> str | None:
        """Rebuild a bracket from its last ``bracket`` audit record (after a restart)."""
        return self.protection.restore(record)

    def bracket_for(self, ticker: str) -> str | None:
        return self.protection.bracket_for(ticker)

    def maintain(self, ticker: str) -> None:
        self.protection.maintain(ticker)

    def brackets(self) -> list[BracketView]:
        return self.protection.views()

    def bracket(self, bracket_id: str) -> BracketView | None:
        return self.protection.view(bracket_id)

    def kill(self, *, who: str, why: str, flatten: bool = False) -> asyncio.Future[CancelAllReport]:
        """Engage the kill switch: cancel everything at the exchange (and flatten if asked); stay
        halted until ``reset_kill``. Resolves when the cancel-all sweep is done."""
        return self.safety.kill(who=who, why=why, flatten=flatten)

    def reset_kill(self, *, who: str, why: str) -> asyncio.Future[bool]:
        return self.safety.reset_kill(who=who, why=why)

    def cancel_all(self, *, reason: str) -> asyncio.Future[CancelAllReport]:
        """Cancel every resting order at the exchange (queued places and amends are dropped)."""
        return self.safety.cancel_all(reason=reason)

    def reset_order_group(self, strategy: str, *, who: str, why: str) -> asyncio.Future[bool]:
        return self.safety.reset_order_group(strategy, who=who, why=why)

    def on_order_group_event(self, group_id: str, kind: GroupEvent | str) -> None:
        """The venue reports an order-group event (its private stream)."""
        self.safety.on_order_group_event(group_id, kind)

    def maintain_all(self) -> None:
        self.protection.maintain_all()

    def after_change(self, ticker: str) -> None:
        """Something about ``ticker``'s orders or position changed: re-check its bracket and flatten."""
        self.protection.after_change(ticker)
        self.safety.after_change(ticker)

    # ------------------------------------------------------------------------------------------
    # Read models

    def orders(self) -> list[TrackedOrder]:
        return self.tracker.orders()

    def open_orders(self, ticker: str | None = None, *, strategy: str | None = None) -> list[TrackedOrder]:
        return self.tracker.open_orders(ticker, strategy=strategy)

    def positions(self) -> list[Position]:
        return self.tracker.positions()

    def pending_client_order_ids(self) -> set[str]:
        """Creates queued or in flight (not answered yet): reconciliation leaves them alone."""
        return set(self._queued)

    def unknown_client_order_ids(self) -> set[str]:
        """Creates that got no answer and are not resolved yet."""
        return set(self._unknown)

    @property
    def last_fill_ms(self) -> int:
        return self._last_fill_ms

    def status(self) -> EngineStatus:
        current = self.queue.current
        return EngineStatus(
            running=self._running,
            halted=self.risk.halted,
            kill_switch=self.risk.kill_switch,
            breakers=tuple(self.risk.open_breakers()),
            queue_depth=self.queue.depth,
            in_flight=current.label if current is not None else None,
            open_orders=len(self.tracker.open_orders()),
            unknown_orders=len(self._unknown),
            positions=tuple(self.tracker.positions()),
            brackets=tuple(self.protection.views()),
            groups=self.safety.group_views(),
            submitted=self.counters.submitted,
            refused=self.counters.refused,
            rejected=self.counters.rejected,
            errors=self.counters.errors,
            last_fill_ms=self._last_fill_ms,
        )

    # ------------------------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


_STATUS_OF = {OrderState.EXECUTED: OrderStatus.EXECUTED, OrderState.CANCELED: OrderStatus.CANCELED}


def _as_order(t: TrackedOrder) -> Order | None:
    """The tracker's view as a domain ``Order`` for the store (None until the exchange named it)."""
    if t.order_id is None or t.state in (OrderState.PENDING, OrderState.REJECTED):
        return None
    status = _STATUS_OF.get(t.state, OrderStatus.RESTING)
    return Order(
        order_id=t.order_id,
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
        last_update_reason=t.last_update_reason,
    )
