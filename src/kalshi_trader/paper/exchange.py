"""The paper exchange: one account's orders matched against the public book the feed reports.

Contract:
- Pure, synchronous and deterministic: no I/O; time from ``clock_ms`` (market time, epoch ms),
  identifiers from ``new_id``. Every refused request raises a ``VenueError`` (``VenueRejected``
  with Kalshi's reason code, ``VenueNotFound``) **before** anything changes.
- **Inputs from the feed** (plain values; the node maps the market-data events to them):
  ``add_market`` (grid, fee schedule, status), ``on_book_snapshot`` / ``on_book_delta`` (per
  level, each ladder in its own leg's prices), ``on_book_stale``, ``on_trade`` (YES price, size,
  the taker's book side), ``on_market_status`` and ``on_market_determined`` (the YES value paid);
  ``tick`` runs the queue model's timers. Orders are accepted only on a fresh book.
- **Order entry as on Kalshi** (and the embedded exchange, ``sim/core/matching.py``): the price must
  be on the market's grid, the count 0.01..1,000,000 contracts, the ``client_order_id`` new; the
  market active; a named order group usable (a triggered group refuses new orders). Collateral
  (leg price × count) must be available. ``post_only`` that would cross — the displayed book or
  the account's own resting orders — is refused. ``reduce_only`` is refused unless
  immediate-or-cancel, and its count is capped at the position it reduces (refused if nothing
  to reduce). A marketable order takes displayed liquidity level by level, best first, at each
  level's price (its limit is the worst it pays), never liquidity the account already took
  (``PublicBook`` ``consumed``). Then: GTC rests (the queue model, ``paper.queue``), IOC cancels
  the rest, FOK trades only if the whole count is there (else nothing).
- **Self-trade prevention**: the account's own resting orders on the other side sit in the
  queue behind the displayed size that was there when they arrived; an incoming order that
  reaches one takes what is in front of it, then ``taker_at_cross`` cancels the incoming order's
  remainder (fills stand) and ``maker`` cancels the resting order and keeps matching. A FOK that
  would self-cross under ``taker_at_cross`` behaves like IOC (Kalshi since Oct 2025).
- **Amend** keeps priority when the price is unchanged and the size does not grow; otherwise
  the order leaves its queue, may trade at its new price and rests at the back. **Decrease**
  keeps priority (to 0: canceled). **Cancel** of an order that is not resting is not found.
- **Order groups**: an order's fills (taker and maker) count in its group's rolling 15 s
  window; once the sum exceeds the limit the group triggers: its resting orders are canceled
  (an order matching at that moment stops) and it refuses new orders until reset. Trigger,
  reset, limit changes (a limit below the window's volume triggers) and delete (cancels its
  orders) as on Kalshi.
- **Lifecycle**: closed (and any status past it) cancels the market's resting orders; back to
  active from inactive cancels them too (Kalshi's reactivation rule); determined cancels them,
  then settles the position at the YES value, once (``paper.ledger``).
- **Changes**: every state change is marked for the record and every private event (order
  updates — the first one is the acknowledgement —, fills, settlements, group events) queued;
  ``take_changes`` hands them over (``paper.venue`` makes them durable, then delivers the events).
  Queue positions alone are not urgent (``urgent`` stays False): a stale queue position is only
  ever further back. Memory holds the open orders and the last ``keep_finished`` ended ones
  (``order`` / ``find_order`` answer None for older ones: the record has them).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Final

from kalshi_trader.domain import (
    ORDINARY_PRECISION_MICROS,
    PRICE_SCALE,
    QTY_SCALE,
    BookSide,
    FeeSchedule,
    Fill,
    MarketStatus,
    Money,
    Order,
    OrderStatus,
    Position,
    Price,
    Qty,
    SelfTradePrevention,
    Side,
    TickGrid,
    TimeInForce,
    format_price,
    format_qty,
    notional_ceil,
)
from kalshi_trader.execution.venue import (
    AmendRequest,
    AmendResult,
    Balance,
    CancelResult,
    DecreaseResult,
    GroupEvent,
    OrderGroupInfo,
    PlaceRequest,
    Settlement,
    VenueNotFound,
    VenueRejected,
)
from kalshi_trader.paper import queue
from kalshi_trader.paper.book import PublicBook
from kalshi_trader.paper.ledger import Ledger
from kalshi_trader.paper.model import (
    Changes,
    GroupNotice,
    PaperEvent,
    PaperGroup,
    PaperMarket,
    PaperOrder,
    PaperPosition,
)

__all__ = ["GROUP_WINDOW_MS", "MAX_COUNT", "PaperExchange", "new_uuid"]

GROUP_WINDOW_MS: Final = 15_000
MAX_COUNT: Final = 1_000_000 * QTY_SCALE
"""Largest order size (and order-group limit): 1,000,000 contracts."""
_OPEN: Final = (MarketStatus.ACTIVE, MarketStatus.INACTIVE)
_CLOSED: Final = frozenset(
    {
        MarketStatus.CLOSED,
        MarketStatus.DETERMINED,
        MarketStatus.DISPUTED,
        MarketStatus.AMENDED,
        MarketStatus.FINALIZED,
    }
)


def new_uuid() -> str:
    return str(uuid.uuid4())


class PaperExchange:
    """See the module docstring."""

    def __init__(
        self,
        *,
        cash: Money,
        clock_ms: Callable[[], int],
        new_id: Callable[[], str] = new_uuid,
        precision_micros: int = ORDINARY_PRECISION_MICROS,
        trade_wait_ms: int = 2_000,
        keep_finished: int = 10_000,
    ) -> None:
        self.clock_ms = clock_ms
        self.new_id = new_id
        self.trade_wait_ms = trade_wait_ms
        self.keep_finished = keep_finished
        self.ledger = Ledger(cash, precision_micros=precision_micros)
        self._markets: dict[str, PaperMarket] = {}
        self._books: dict[str, PublicBook] = {}
        self._orders: dict[str, PaperOrder] = {}
        self._by_coid: dict[str, PaperOrder] = {}
        self._finished: dict[str, None] = {}
        """Ended orders still held in memory, oldest first (the record keeps them all)."""
        self._used_coids: set[str] = set()
        self._resting: dict[str, dict[str, PaperOrder]] = {}
        """ticker → order_id → resting order."""
        self._groups: dict[str, PaperGroup] = {}
        self._settled: set[str] = set()
        self._rest_seq = 0
        # what the next flush must make durable
        self._dirty_orders: dict[str, PaperOrder] = {}
        self._queue_moved: dict[str, PaperOrder] = {}
        self._dirty_positions: set[str] = set()
        self._dirty_groups: set[str] = set()
        self._account_dirty = False
        self._fills: list[Fill] = []
        self._settlements: list[Settlement] = []
        self._events: list[PaperEvent] = []

    # ------------------------------------------------------------------------------------------
    # Restoring a recorded state (``paper.record``)

    def restore(
        self,
        *,
        reserved: Money,
        orders: Iterable[PaperOrder],
        positions: Iterable[PaperPosition],
        groups: Iterable[PaperGroup],
        used_client_order_ids: Iterable[str],
        settled: Iterable[str],
    ) -> None:
        """Load what the record kept: resting orders back in their queues (at their recorded
        place; the book comes from the feed again), positions, groups, used ids, settled markets."""
        self.ledger.reserved = reserved
        for order in orders:
            self._orders[order.order_id] = order
            self._by_coid[order.client_order_id] = order
            if order.resting:
                order.arrival_seq = 0
                self._resting.setdefault(order.ticker, {})[order.order_id] = order
                self._rest_seq = max(self._rest_seq, order.rest_seq)
        for position in positions:
            self.ledger.positions[position.ticker] = position
        for group in groups:
            self._groups[group.group_id] = group
        self._used_coids.update(used_client_order_ids)
        self._settled.update(settled)

    # ------------------------------------------------------------------------------------------
    # Markets and the public feed

    def add_market(
        self, ticker: str, grid: TickGrid, fees: FeeSchedule | None = None, status: MarketStatus = MarketStatus.ACTIVE
    ) -> None:
        """Trade ``ticker`` (again: grid, fees and status are updated, the book kept)."""
        market = self._markets.get(ticker)
        if market is None:
            self._markets[ticker] = PaperMarket(ticker, grid, fees or FeeSchedule(), status)
            self._books[ticker] = PublicBook()
        else:
            market.grid, market.fees = grid, fees or market.fees
            self.on_market_status(ticker, status)

    def market(self, ticker: str) -> PaperMarket | None:
        return self._markets.get(ticker)

    def book(self, ticker: str) -> PublicBook | None:
        return self._books.get(ticker)

    def on_book_snapshot(self, ticker: str, yes: Iterable[tuple[int, int]], no: Iterable[tuple[int, int]]) -> None:
        """A full book: YES bids by YES price and NO bids by NO price, ``(price, size)``."""
        book = self._books.get(ticker)
        if book is None:
            return
        book.snapshot(yes, no)
        for order in self._resting_in(ticker):
            self._moved(queue.bound([order], book.peek(order.ladder, order.leg)))
        self._after_feed(ticker)

    def on_book_delta(self, ticker: str, side: Side, price: int, delta: int) -> None:
        """One level changed: ``side``'s bid ladder at ``price`` (that leg's price) by ``delta``."""
        book = self._books.get(ticker)
        if book is None or not book.fresh:
            return
        now = self.clock_ms()
        level = book.apply_delta(side, price, delta, now)
        resting = self._resting.get(ticker)
        if resting is None:  # the common case: only the bookkeeping
            if book.has_pending:
                book.take_due(now - self.trade_wait_ms)
            return
        if delta < 0:
            self._moved(queue.bound(self._at(ticker, side, price), level))
        self._confirm_cancels(ticker)
        # Nothing our resting orders could take is left after any change of the book or of our
        # orders (the crossing liquidity is taken at once), so only more size at a price one of
        # them crosses can fill one; any other delta leaves the fills at none.
        if delta > 0 and _crossed(resting.values(), side, price):
            self._maker_fills(queue.cross_fills(book, list(resting.values())))

    def on_book_stale(self, ticker: str) -> None:
        """The feed lost track of the book: no order is accepted on it until the next snapshot."""
        book = self._books.get(ticker)
        if book is not None:
            book.mark_stale()

    def on_trade(self, ticker: str, yes_price: int, qty: int, taker_side: BookSide | None) -> None:
        """A public trade. The maker rested on the NO ladder at $1 − ``yes_price`` when the taker
        bought YES (``taker_side`` bid), on the YES ladder at ``yes_price`` when it sold YES. A
        trade without a taker side is ignored (nobody knows whose queue it took)."""
        book = self._books.get(ticker)
        if book is None or taker_side is None or qty <= 0:
            return
        ladder, leg = (Side.NO, PRICE_SCALE - yes_price) if taker_side is BookSide.BID else (Side.YES, yes_price)
        if ticker not in self._resting:  # no queue of ours: only the book's bookkeeping
            book.match_trade(ladder, leg, qty)
            self._confirm_cancels(ticker)
            return
        mine = [o for o in self._resting_in(ticker) if o.ladder is ladder]
        before = {o.order_id: o.ahead for o in mine}
        fills = queue.trade_fills(book, ladder, leg, qty, mine)
        self._moved([o for o in mine if o.ahead != before[o.order_id]])
        self._maker_fills(fills)
        self._after_feed(ticker)

    def on_market_status(self, ticker: str, status: MarketStatus) -> None:
        market = self._markets.get(ticker)
        if market is None or market.status is status:
            return
        previous, market.status = market.status, status
        if status in _CLOSED:
            self._cancel_market(ticker, "MarketClosed")
        elif status is MarketStatus.ACTIVE and previous is MarketStatus.INACTIVE:
            self._cancel_market(ticker, "MarketActivated")

    def on_market_determined(self, ticker: str, yes_value: int) -> Settlement | None:
        """The market's result: pay ``yes_value`` per YES contract, once. Returns the settlement
        (None when already settled or never traded)."""
        if not 0 <= yes_value <= PRICE_SCALE:
            raise ValueError(f"settlement value {yes_value} is outside $0..$1")
        if ticker in self._settled:
            return None
        market = self._markets.get(ticker)
        if market is not None:
            self.on_market_status(ticker, MarketStatus.DETERMINED)
        else:
            self._cancel_market(ticker, "MarketClosed")
        self._settled.add(ticker)
        now = self.clock_ms()
        paid = self.ledger.settle(ticker, yes_value, now)
        if paid is None:
            return None
        net, revenue = paid
        settlement = Settlement(ticker, Price(yes_value), now, net, revenue)
        self._settlements.append(settlement)
        self._events.append(settlement)
        self._dirty_positions.add(ticker)
        self._account_dirty = True
        return settlement

    def tick(self) -> None:
        """Book decreases no trade explained in time are cancels: the queues they may have moved
        are bound again."""
        for ticker, book in self._books.items():
            if book.has_pending:
                self._confirm_cancels(ticker)

    def _after_feed(self, ticker: str) -> None:
        self._confirm_cancels(ticker)
        book = self._books[ticker]
        if book.fresh and ticker in self._resting:
            self._maker_fills(queue.cross_fills(book, self._resting_in(ticker)))

    def _confirm_cancels(self, ticker: str) -> None:
        book = self._books[ticker]
        if not book.has_pending:
            return
        due = book.take_due(self.clock_ms() - self.trade_wait_ms)
        if due and ticker in self._resting:  # else no queue to move
            for side, leg in due:
                self._moved(queue.bound(self._at(ticker, side, leg), book.peek(side, leg)))

    # ------------------------------------------------------------------------------------------
    # Order entry

    def place(self, req: PlaceRequest) -> Order:
        """Create an order (see the module docstring); returns it after matching."""
        market, book = self._trading(req.ticker)
        group = self._usable_group(req.order_group_id)
        self._check_price(market, req.price)
        _check_count(req.count)
        if not req.client_order_id:
            raise VenueRejected("a client_order_id is required", code="invalid_parameters")
        if req.client_order_id in self._used_coids:
            raise VenueRejected(
                f"an order with client_order_id {req.client_order_id} exists", code="order_already_exists"
            )
        count = req.count
        if req.reduce_only:
            if req.time_in_force is not TimeInForce.IMMEDIATE_OR_CANCEL:
                raise VenueRejected("reduce_only orders must be immediate_or_cancel", code="invalid_order")
            count = self._reduce_only_cap(req.ticker, req.side, count)
        leg = req.price if req.side is BookSide.BID else PRICE_SCALE - req.price
        self._check_balance(notional_ceil(leg, count))
        if req.post_only and self._crosses(req.ticker, req.side, leg):
            raise VenueRejected("post only order would cross the book", code="invalid_order")
        plan = "ioc"
        if req.time_in_force is TimeInForce.FILL_OR_KILL:
            plan = self._fill_or_kill_plan(req.ticker, req.side, leg, count, req.self_trade_prevention)

        # ---- validated: from here on nothing raises
        now = self.clock_ms()
        order = PaperOrder(
            self.new_id(),
            req.client_order_id,
            req.ticker,
            req.side,
            req.price,
            count,
            Qty(0),
            count,
            OrderStatus.RESTING,
            req.time_in_force,
            req.self_trade_prevention,
            now,
            now,
            post_only=req.post_only,
            reduce_only=req.reduce_only,
            order_group_id=req.order_group_id,
        )
        self._orders[order.order_id] = order
        self._by_coid[order.client_order_id] = order
        self._used_coids.add(order.client_order_id)
        self.ledger.hold(order, count)
        self._account_dirty = True
        if plan == "kill":
            self._finish(order, "FillOrKill", announce=False)
        else:
            stop = self._take(order, book, market, group)
            if order.remaining > 0:
                reason = stop or _why_not_rest(req.time_in_force, plan)
                if reason:
                    self._finish(order, reason, announce=False)
                else:
                    self._rest(order, book)
        self._report(order)
        return order.to_order()

    def amend(self, order_id: str, req: AmendRequest) -> AmendResult:
        order = self._order(order_id)
        if req.ticker != order.ticker:
            raise VenueRejected(
                f"order {order_id} is on {order.ticker}, not {req.ticker}", code="order_ticker_mismatch"
            )
        if req.side is not order.side:
            raise VenueRejected(f"order {order_id} is a {order.side} order, not {req.side}", code="order_side_mismatch")
        if req.client_order_id != order.client_order_id:
            raise VenueRejected(
                f"order {order_id} has a different client_order_id", code="order_id_and_client_order_id_mismatch"
            )
        market, book = self._trading(order.ticker)
        self._require_resting(order)
        self._check_price(market, req.price)
        _check_count(req.count)
        remaining = req.count - order.filled
        if remaining <= 0:
            raise VenueRejected(
                f"count must exceed the filled count {format_qty(order.filled)}", code="invalid_order_size"
            )
        leg = req.price if order.side is BookSide.BID else PRICE_SCALE - req.price
        self._check_balance(notional_ceil(leg, remaining), freed=order.collateral)
        keeps_priority = req.price == order.price and remaining <= order.remaining
        if order.post_only and not keeps_priority and self._crosses(order.ticker, order.side, leg):
            raise VenueRejected("post only order would cross the book", code="invalid_order")

        # ---- validated
        now = self.clock_ms()
        order.initial = Qty(order.filled + remaining)
        order.updated_ms, order.reason = now, "Amend"
        if keeps_priority:
            order.remaining = Qty(remaining)
            self.ledger.hold(order, remaining)
        else:
            self._unrest(order)
            order.price, order.remaining = req.price, Qty(remaining)
            self.ledger.hold(order, remaining)
            stop = self._take(order, book, market, self._groups.get(order.order_group_id or ""))
            if order.remaining > 0 and stop:
                self._finish(order, stop, announce=False)
            elif order.remaining > 0:
                self._rest(order, book)
        self._account_dirty = True
        self._report(order)
        return AmendResult(order.order_id, order.price, order.filled, order.remaining, now)

    def decrease(self, order_id: str, *, reduce_by: int | None = None, reduce_to: int | None = None) -> DecreaseResult:
        """Shrink a resting order by ``reduce_by`` or to ``reduce_to`` (exactly one)."""
        if (reduce_by is None) == (reduce_to is None):
            raise VenueRejected("give exactly one of reduce_by or reduce_to", code="invalid_parameters")
        order = self._order(order_id)
        self._require_open(order.ticker)
        self._require_resting(order)
        amount = reduce_by if reduce_by is not None else reduce_to
        assert amount is not None
        if amount < 0:
            name = "reduce_by" if reduce_by is not None else "reduce_to"
            raise VenueRejected(f"{name} must be >= 0, not {amount}", code="invalid_order_size")
        target = max(0, order.remaining - amount) if reduce_by is not None else min(amount, order.remaining)
        if target == 0:
            self._finish(order, "Decrease")
        elif target < order.remaining:
            order.remaining = Qty(target)
            order.updated_ms, order.reason = self.clock_ms(), "Decrease"
            self.ledger.hold(order, target)
            self._account_dirty = True
            self._report(order)
        return DecreaseResult(order.order_id, order.remaining, self.clock_ms())

    def cancel(self, order_id: str) -> CancelResult:
        order = self._order(order_id)
        self._require_open(order.ticker)
        if not order.resting:
            raise VenueNotFound(f"resting order {order_id} not found", code="not_found")
        reduced = self._finish(order, "UserCanceled")
        return CancelResult(order.order_id, reduced, self.clock_ms())

    def cancel_all(self) -> int:
        """Cancel every resting order; returns how many."""
        orders = [o for ticker in list(self._resting) for o in self._resting_in(ticker)]
        for order in orders:
            self._finish(order, "UserCanceled")
        return len(orders)

    # ------------------------------------------------------------------------------------------
    # Order groups

    def create_group(self, contracts_limit: int) -> str:
        _check_group_limit(contracts_limit)
        group = PaperGroup(self.new_id(), Qty(contracts_limit))
        self._groups[group.group_id] = group
        self._group_changed(group, GroupEvent.CREATED)
        return group.group_id

    def groups(self) -> list[OrderGroupInfo]:
        return [
            OrderGroupInfo(g.group_id, g.contracts_limit, g.triggered) for g in self._groups.values() if not g.deleted
        ]

    def trigger_group(self, group_id: str) -> None:
        self._trigger(self._group(group_id))

    def reset_group(self, group_id: str) -> None:
        group = self._group(group_id)
        group.triggered = False
        group.window.clear()
        self._group_changed(group, GroupEvent.RESET)

    def set_group_limit(self, group_id: str, contracts_limit: int) -> None:
        group = self._group(group_id)
        _check_group_limit(contracts_limit)
        group.contracts_limit = Qty(contracts_limit)
        self._group_changed(group, GroupEvent.LIMIT_UPDATED)
        if not group.triggered and self._window_volume(group) > contracts_limit:
            self._trigger(group)

    def delete_group(self, group_id: str) -> None:
        group = self._group(group_id)
        self._cancel_group_orders(group, "OrderGroupDeleted")
        group.deleted = True
        self._group_changed(group, GroupEvent.DELETED)

    def _group(self, group_id: str) -> PaperGroup:
        group = self._groups.get(group_id)
        if group is None or group.deleted:
            raise VenueNotFound(f"order group {group_id} not found", code="not_found")
        return group

    def _usable_group(self, group_id: str | None) -> PaperGroup | None:
        if group_id is None:
            return None
        group = self._group(group_id)
        if group.triggered:
            raise VenueRejected(f"order group {group_id} is triggered; reset it to place orders", code="invalid_order")
        return group

    def _window_volume(self, group: PaperGroup) -> int:
        cutoff = self.clock_ms() - GROUP_WINDOW_MS
        group.window[:] = [(ms, qty) for ms, qty in group.window if ms > cutoff]
        return sum(qty for _, qty in group.window)

    def _count_group_fill(self, group_id: str | None, qty: int) -> None:
        group = self._groups.get(group_id) if group_id is not None else None
        if group is None or group.triggered or group.deleted:
            return
        group.window.append((self.clock_ms(), qty))
        self._dirty_groups.add(group.group_id)
        if self._window_volume(group) > group.contracts_limit:
            self._trigger(group)

    def _trigger(self, group: PaperGroup) -> None:
        group.triggered = True
        self._cancel_group_orders(group, "OrderGroupTriggered")
        self._group_changed(group, GroupEvent.TRIGGERED)

    def _cancel_group_orders(self, group: PaperGroup, reason: str) -> None:
        for ticker in list(self._resting):
            for order in self._resting_in(ticker):
                if order.order_group_id == group.group_id:
                    self._finish(order, reason)

    def _group_changed(self, group: PaperGroup, kind: GroupEvent) -> None:
        self._dirty_groups.add(group.group_id)
        self._events.append(GroupNotice(group.group_id, kind))

    # ------------------------------------------------------------------------------------------
    # Matching

    def _take(self, order: PaperOrder, book: PublicBook, market: PaperMarket, group: PaperGroup | None) -> str:
        """Trade ``order`` against the other ladder, best price first. Returns why it stopped
        early (``""``: it ran out of size or of crossing liquidity)."""
        other = order.ladder.other
        for price in self._crossing_prices(order.ticker, order.ladder, order.leg):
            level = book.level(other, price)
            for own in sorted(self._at(order.ticker, other, price), key=lambda o: o.rest_seq):
                self._take_level(order, book, market, price, max(0, own.ahead - level.consumed))
                stop = _stopped(order, group)
                if stop is not None:
                    return stop
                if order.self_trade_prevention is SelfTradePrevention.TAKER_AT_CROSS:
                    return "SelfTradePrevention"
                self._finish(own, "SelfTradePrevention")
            self._take_level(order, book, market, price, level.available)
            book.prune(other, price)
            stop = _stopped(order, group)
            if stop is not None:
                return stop
        return ""

    def _take_level(self, order: PaperOrder, book: PublicBook, market: PaperMarket, price: int, limit: int) -> None:
        """Take up to ``limit`` of the liquidity at ``price`` on the other ladder."""
        level = book.level(order.ladder.other, price)
        qty = min(order.remaining, limit, level.available)
        if qty <= 0:
            return
        level.consumed += qty
        self._fill(order, PRICE_SCALE - price, qty, market, taker=True)

    def _crossing_prices(self, ticker: str, ladder: Side, leg: int) -> list[int]:
        """Prices of the other ladder an order at ``leg`` crosses where there is displayed
        liquidity or an own resting order, best first."""
        book = self._books[ticker]
        prices = {price for price, level in book.crossing(ladder, leg) if level.available > 0}
        prices.update(o.leg for o in self._resting_in(ticker) if o.ladder is not ladder and o.leg + leg >= PRICE_SCALE)
        return sorted(prices, reverse=True)

    def _crosses(self, ticker: str, side: BookSide, leg: int) -> bool:
        ladder = Side.YES if side is BookSide.BID else Side.NO
        return bool(self._crossing_prices(ticker, ladder, leg))

    def _fill_or_kill_plan(self, ticker: str, side: BookSide, leg: int, count: int, stp: SelfTradePrevention) -> str:
        """``"fill"`` if liquidity other than our own within the limit covers ``count``; else
        ``"ioc"`` if it would self-cross, else ``"kill"``."""
        ladder = Side.YES if side is BookSide.BID else Side.NO
        book = self._books[ticker]
        found, self_cross = 0, False
        for price in self._crossing_prices(ticker, ladder, leg):
            level = book.peek(ladder.other, price)
            available = 0 if level is None else level.available
            consumed = 0 if level is None else level.consumed
            for own in sorted(self._at(ticker, ladder.other, price), key=lambda o: o.rest_seq):
                before = min(available, max(0, own.ahead - consumed))
                if found + before >= count:
                    return "fill"
                if stp is SelfTradePrevention.TAKER_AT_CROSS:
                    return "ioc"
                self_cross = True
            found += available
            if found >= count:
                return "fill"
        return "ioc" if self_cross else "kill"

    def _maker_fills(self, fills: Sequence[tuple[PaperOrder, int]]) -> None:
        for order, qty in fills:
            if order.resting and qty > 0:
                market = self._markets[order.ticker]
                self._fill(order, order.leg, min(qty, order.remaining), market, taker=False)

    def _fill(self, order: PaperOrder, leg_paid: int, qty: int, market: PaperMarket, *, taker: bool) -> None:
        """One execution of ``qty`` of ``order`` at ``leg_paid`` on its own leg."""
        now = self.clock_ms()
        order.remaining = Qty(order.remaining - qty)
        order.filled = Qty(order.filled + qty)
        order.updated_ms, order.reason = now, "Fill"
        fee, post_position = self.ledger.book_fill(order, leg_paid, qty, market.fees, taker=taker, now_ms=now)
        yes_price = leg_paid if order.side is BookSide.BID else PRICE_SCALE - leg_paid
        fill = Fill(
            fill_id=self.new_id(),
            order_id=order.order_id,
            ticker=order.ticker,
            side=order.side,
            price=Price(yes_price),
            qty=Qty(qty),
            fee=fee,
            is_taker=taker,
            ts_ms=now,
            client_order_id=order.client_order_id,
            post_position=post_position,
        )
        self._fills.append(fill)
        self._events.append(fill)
        self._dirty_positions.add(order.ticker)
        self._account_dirty = True
        self._dirty_orders[order.order_id] = order
        if order.remaining == 0:
            order.status = OrderStatus.EXECUTED
            self._unrest(order)
            if not taker:
                self._report(order)
        elif not taker:
            self._report(order)
        self._count_group_fill(order.order_group_id, qty)

    # ------------------------------------------------------------------------------------------
    # Order life

    def _rest(self, order: PaperOrder, book: PublicBook) -> None:
        self._rest_seq += 1
        order.rest_seq = self._rest_seq
        queue.join(order, book)
        self._resting.setdefault(order.ticker, {})[order.order_id] = order

    def _unrest(self, order: PaperOrder) -> None:
        resting = self._resting.get(order.ticker)
        if resting is not None:
            resting.pop(order.order_id, None)
            if not resting:
                del self._resting[order.ticker]

    def _finish(self, order: PaperOrder, reason: str, *, announce: bool = True) -> Qty:
        """End an order's life, canceling its remainder; returns the contracts canceled."""
        reduced = order.remaining
        self._unrest(order)
        order.remaining = Qty(0)
        self.ledger.hold(order, 0)
        order.status = OrderStatus.CANCELED if reduced else OrderStatus.EXECUTED
        order.updated_ms, order.reason = self.clock_ms(), reason
        self._account_dirty = True
        if announce:
            self._report(order)
        else:
            self._dirty_orders[order.order_id] = order
        return reduced

    def _cancel_market(self, ticker: str, reason: str) -> None:
        for order in self._resting_in(ticker):
            self._finish(order, reason)

    def _report(self, order: PaperOrder) -> None:
        self._dirty_orders[order.order_id] = order
        self._events.append(order.to_order())

    def _moved(self, orders: Iterable[PaperOrder]) -> None:
        for order in orders:
            self._queue_moved[order.order_id] = order

    # ------------------------------------------------------------------------------------------
    # Checks (raise before anything changes)

    def _trading(self, ticker: str) -> tuple[PaperMarket, PublicBook]:
        market = self._markets.get(ticker)
        if market is None:
            raise VenueNotFound(f"market {ticker} not found", code="not_found")
        if market.status is not MarketStatus.ACTIVE:
            raise VenueRejected(f"market {ticker} is {market.status}, not active", code="market_inactive")
        book = self._books[ticker]
        if not book.fresh:
            raise VenueRejected(f"the paper venue has no current book for {ticker} yet", code="book_unavailable")
        return market, book

    def _require_open(self, ticker: str) -> None:
        market = self._markets.get(ticker)
        if market is not None and market.status not in _OPEN:
            raise VenueRejected(f"market {ticker} is {market.status}", code="market_inactive")

    @staticmethod
    def _require_resting(order: PaperOrder) -> None:
        if not order.resting:
            raise VenueRejected(f"order {order.order_id} is {order.status}, not resting", code="invalid_order")

    @staticmethod
    def _check_price(market: PaperMarket, price: int) -> None:
        if not market.grid.is_valid_order_price(price):
            raise VenueRejected(
                f"price {format_price(price)} is not a valid order price for {market.ticker}", code="invalid_order"
            )

    def _check_balance(self, needed: int, freed: int = 0) -> None:
        available = self.ledger.cash + freed
        if available < needed:
            raise VenueRejected(
                f"order needs {format_price(needed)} of collateral; available balance is {format_price(available)}",
                code="insufficient_balance",
            )

    def _reduce_only_cap(self, ticker: str, side: BookSide, count: int) -> Qty:
        """A bid reduces a NO position, an ask a YES one."""
        held = self.ledger.position(ticker).qty if ticker in self.ledger.positions else 0
        reducible = max(-held, 0) if side is BookSide.BID else max(held, 0)
        if reducible == 0:
            raise VenueRejected("reduce only order would increase position", code="invalid_order")
        return Qty(min(count, reducible))

    def _order(self, order_id: str) -> PaperOrder:
        order = self._orders.get(order_id)
        if order is None:
            raise VenueNotFound(f"order {order_id} not found", code="not_found")
        return order

    # ------------------------------------------------------------------------------------------
    # Reads

    def order(self, order_id: str) -> Order | None:
        order = self._orders.get(order_id)
        return None if order is None else order.to_order()

    def find_order(self, client_order_id: str) -> Order | None:
        order = self._by_coid.get(client_order_id)
        return None if order is None else order.to_order()

    def resting_orders(self, ticker: str | None = None) -> list[Order]:
        tickers = [ticker] if ticker is not None else list(self._resting)
        return [o.to_order() for t in tickers for o in self._resting_in(t)]

    def queue_position(self, order_id: str) -> Qty:
        """Displayed contracts ahead of a resting order at its price (0 if not resting)."""
        order = self._order(order_id)
        return order.ahead if order.resting else Qty(0)

    def positions(self) -> list[Position]:
        return [
            Position(p.ticker, p.qty, p.cost, p.realized, p.fees_paid)
            for p in self.ledger.positions.values()
            if not p.settled
        ]

    def balance(self) -> Balance:
        bids = {
            ticker: (_price(book.best_bid(Side.YES)), _price(book.best_bid(Side.NO)))
            for ticker, book in self._books.items()
        }
        return Balance(self.ledger.cash, self.ledger.portfolio_value(bids))

    def _resting_in(self, ticker: str) -> list[PaperOrder]:
        return list(self._resting.get(ticker, {}).values())

    def _at(self, ticker: str, ladder: Side, leg: int) -> list[PaperOrder]:
        """Our resting orders on ``ladder`` at ``leg`` (read by side and YES price: cheaper)."""
        resting = self._resting.get(ticker)
        if not resting:
            return []
        side, price = (BookSide.BID, leg) if ladder is Side.YES else (BookSide.ASK, PRICE_SCALE - leg)
        return [o for o in resting.values() if o.side is side and o.price == price]

    # ------------------------------------------------------------------------------------------
    # Changes for the record

    @property
    def urgent(self) -> bool:
        """Whether something the record must not lose changed (more than queue positions)."""
        return bool(
            self._dirty_orders
            or self._dirty_positions
            or self._dirty_groups
            or self._account_dirty
            or self._fills
            or self._settlements
            or self._events
        )

    @property
    def changed(self) -> bool:
        return self.urgent or bool(self._queue_moved)

    def take_changes(self) -> Changes:
        """Copies of everything changed since the last call, and the events to deliver."""
        orders = {**self._queue_moved, **self._dirty_orders}
        changes = Changes(
            cash=self.ledger.cash,
            reserved=self.ledger.reserved,
            orders=[o.copy() for o in orders.values()],
            positions=[self.ledger.positions[t].copy() for t in self._dirty_positions],
            groups=[self._groups[g].copy() for g in self._dirty_groups],
            fills=self._fills,
            settlements=self._settlements,
            events=self._events,
        )
        self._dirty_orders, self._queue_moved = {}, {}
        self._dirty_positions, self._dirty_groups = set(), set()
        self._account_dirty = False
        self._fills, self._settlements, self._events = [], [], []
        for order in changes.orders:
            if not order.resting:
                self._finished[order.order_id] = None
        while len(self._finished) > self.keep_finished:  # in these changes or earlier ones: recorded
            oldest = next(iter(self._finished))
            del self._finished[oldest]
            forgotten = self._orders.pop(oldest, None)
            if forgotten is not None:
                self._by_coid.pop(forgotten.client_order_id, None)
        return changes

    def give_back(self, changes: Changes) -> None:
        """A flush failed: its changes are pending again (rows are rewritten from the current
        state, fills, settlements and events go back in front)."""
        for order in changes.orders:
            current = self._orders.get(order.order_id)
            if current is None:  # ended and forgotten: its copy is final
                current = self._orders[order.order_id] = self._by_coid[order.client_order_id] = order
            self._dirty_orders.setdefault(order.order_id, current)
        self._dirty_positions.update(p.ticker for p in changes.positions)
        self._dirty_groups.update(g.group_id for g in changes.groups)
        self._account_dirty = True
        self._fills[:0] = changes.fills
        self._settlements[:0] = changes.settlements
        self._events[:0] = changes.events

    def conserved(self) -> int:
        return self.ledger.conserved()


def _why_not_rest(tif: TimeInForce, plan: str) -> str:
    """Why an order's unfilled remainder is canceled instead of resting (``""``: it rests)."""
    if tif is TimeInForce.GOOD_TILL_CANCELED:
        return ""
    return "ImmediateOrCancel" if plan == "ioc" else "FillOrKill"


def _crossed(orders: Iterable[PaperOrder], ladder: Side, leg: int) -> bool:
    """Whether one of ``orders`` crosses a level of ``ladder`` at ``leg``: rests on the other
    ladder at ``$1 - leg`` or better (a YES ask at or below a YES bid, a YES bid at or above a NO
    bid's YES price; read by side and YES price)."""
    if ladder is Side.YES:
        return any(o.side is BookSide.ASK and o.price <= leg for o in orders)
    floor = PRICE_SCALE - leg
    return any(o.side is BookSide.BID and o.price >= floor for o in orders)


def _stopped(order: PaperOrder, group: PaperGroup | None) -> str | None:
    """Whether a taker stops here, and why (``""``: it is filled); None: it goes on."""
    if group is not None and group.triggered:
        return "OrderGroupTriggered"
    return "" if order.remaining == 0 else None


def _check_count(count: int) -> None:
    if not 0 < count <= MAX_COUNT:
        raise VenueRejected(
            f"count must be between 0.01 and 1000000.00 contracts, not {format_qty(count)}", code="invalid_order_size"
        )


def _check_group_limit(contracts_limit: int) -> None:
    if not QTY_SCALE <= contracts_limit <= MAX_COUNT:
        raise VenueRejected("contracts_limit must be between 1 and 1000000 contracts", code="invalid_parameters")


def _price(value: int | None) -> Price | None:
    return None if value is None else Price(value)
