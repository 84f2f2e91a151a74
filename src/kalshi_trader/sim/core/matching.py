"""The embedded exchange's matching engine: books, accounts, order groups, lifecycle, settlement.

Contract:
- Pure, synchronous and deterministic: no I/O, no threads, no wall clock. Time comes from the
  injected ``clock_ms`` (read once per call), identifiers from the injected ``new_id``.
- One book per market holding two bid ladders (``sim/core/order_book.py``): YES bids keyed by YES price
  and NO bids keyed by NO price. V2 ``bid`` at YES price p rests on the YES ladder at p; ``ask`` at
  YES price p rests on the NO ladder at 1 − p. A YES bid at p crosses a NO bid at q iff
  p + q ≥ $1. Price-time priority; trades print at the resting (maker) order's price, so a taker
  keeps its price improvement; partial and fractional (0.01 contract) fills.
- Every rejected request raises ``ExchangeError`` (``sim/core/order_checks.py``) *before* anything is mutated,
  so a rejection leaves all state — and the event stream — exactly as it was. The only thing done
  before validation is the lazy expiry of GTT orders already due, which is time-driven.
- Events (``sim/core/state.py``) go synchronously to listeners, in causal order, each after the state it
  describes is consistent. They carry live objects: a listener must serialize what it needs
  immediately. A listener that raises is logged and skipped; it cannot corrupt the engine.
- Money is exact integers (``sim/core/accounting.py``: collateral, netting, P&L; ``sim/core/fees.py``: fees and
  their documented rounding). Cash is the available balance; a resting order's collateral (its leg
  cost at its limit) moves from ``cash`` to ``reserved``; nothing is reserved for fees, which are
  charged at fill, so fees can take an account that committed all its cash slightly below zero.
  ``fees_collected`` is what the exchange kept, so Σ(cash + reserved) + $1 × open interest +
  ``fees_collected`` never changes.

Choices where the documentation is silent (the server relies on these):
- Cancel of an order that is already executed or canceled → 404 ``not_found`` (as for an unknown
  order); amend/decrease of one → 400 ``invalid_order``.
- ``decrease(reduce_to=n)`` with n ≥ remaining is a no-op (a fill may have raced the request);
  ``reduce_by`` ≥ remaining cancels the order.
- ``amend`` sets ``initial`` to the new ``count`` (= filled + new remaining, the docs' "new max
  fillable"); ``decrease`` leaves ``initial`` alone. Hence ``filled + remaining ≤ initial`` always.
- ``PlaceResult.fill_count`` is what *this request* filled (for a create: the order's fill count).
- A reduce-only order must be immediate-or-cancel (any other time in force is refused, as Kalshi
  does since Oct 2026), so one never rests and an amend never meets one. Its count is capped at the
  position it reduces; it still reserves its leg cost (conservative: the closing fill returns $1
  per closed pair straight away).
- ``cancel_all`` cancels every resting order of one account, in every market (``UserCanceled``).
- ``buy_max_cost`` (legacy) makes the order immediate: it fills while the next 0.01 contract keeps
  the summed leg cost ≤ ``buy_max_cost`` and cancels the rest.
- Market → ``closed`` emits ``MarketEvent("close_date_updated")`` (Kalshi announces early closes
  that way; a scheduled close has no lifecycle event, which the feed may suppress); any →
  ``active`` emits ``"activated"``; ``disputed`` emits nothing (there is no event type for it).
- ``queue_position`` of an order that is no longer resting is 0.
- ``BookDelta.user_id``/``client_order_id`` name the order whose resting quantity changed (the
  maker, for a fill).
- ``last_update_reason`` values: Created, Fill, Amend, Decrease, UserCanceled, Expired,
  ImmediateOrCancel, FillOrKill, BuyMaxCost, SelfTradePrevention, OrderGroupTriggered,
  OrderGroupDeleted, MarketDeactivated, MarketActivated, MarketClosed, SettlementBounds
  (``sim/api/render.py`` maps them onto the wire's values).
- Settlement floors (``MarketState.settlement_floor``, raised by ``set_settlement_floor``): YES
  prices must stay above the floor; after a raise the YES leg of a fill costs price − floor and a
  settlement pays $1 − floor per winning contract (``sim/core/accounting.py``).
"""

from __future__ import annotations

import heapq
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from kalshi_trader.domain import (
    PRICE_SCALE,
    QTY_SCALE,
    BookSide,
    MarketStatus,
    Money,
    OrderStatus,
    Price,
    Qty,
    SelfTradePrevention,
    Side,
    TimeInForce,
    format_price,
    format_qty,
)
from kalshi_trader.sim.core import accounting, fees, order_checks
from kalshi_trader.sim.core.order_book import MarketBook, Member, Placement
from kalshi_trader.sim.core.order_checks import not_found, reject
from kalshi_trader.sim.core.state import (
    Account,
    BookDelta,
    EngineEvent,
    FillEvent,
    FillRecord,
    MarketEvent,
    MarketState,
    NewOrder,
    OrderEvent,
    OrderGroup,
    OrderGroupEvent,
    PositionEvent,
    PositionState,
    SettlementRecord,
    SimOrder,
    TickerEvent,
    Trade,
    TradeEvent,
)

_log = logging.getLogger(__name__)

GROUP_WINDOW_MS: Final = 15_000
"""Order groups sum fills over a rolling 15 s window (Kalshi's order_groups page)."""

# Enum members bound once: attribute access on an Enum class is slow on CPython 3.11.
_BID: Final = BookSide.BID
_GTC: Final = TimeInForce.GOOD_TILL_CANCELED
_FOK: Final = TimeInForce.FILL_OR_KILL
_TAKER_AT_CROSS: Final = SelfTradePrevention.TAKER_AT_CROSS
_RESTING: Final = OrderStatus.RESTING
_EXECUTED: Final = OrderStatus.EXECUTED
_CANCELED: Final = OrderStatus.CANCELED
_TRADING_OR_PAUSED: Final = (MarketStatus.INITIALIZED, MarketStatus.ACTIVE, MarketStatus.INACTIVE)

_Listener = Callable[[EngineEvent], None]
_TickerState = tuple[int | None, int, int | None, int, int | None, int, int]


@dataclass(frozen=True, slots=True)
class PlaceResult:
    """Outcome of a create or amend: the order after matching and what this request filled."""

    order: SimOrder
    fills: list[FillRecord]
    """The taker-side fills of this request, in execution order."""
    fill_count: Qty
    remaining: Qty
    average_fill_price: Price | None
    """Count-weighted average YES price of ``fills``, to the nearest $0.0001."""
    average_fee_paid: Money | None
    """Fees of ``fills`` per contract, to the nearest $0.0001."""
    ts_ms: int


def _leg_price(side: BookSide, yes_price: int) -> int:
    return yes_price if side is _BID else PRICE_SCALE - yes_price


def _nearest_div(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


class MatchingEngine:
    """The exchange core the REST/WS server drives. See the module docstring for the contract."""

    def __init__(self, *, clock_ms: Callable[[], int], new_id: Callable[[], str] | None = None) -> None:
        self._clock = clock_ms
        self._new_id: Callable[[], str] = new_id if new_id is not None else (lambda: str(uuid.uuid4()))
        self._listeners: list[_Listener] = []
        self.fees_collected: Money = Money(0)
        self._books: dict[str, MarketBook] = {}
        self._members: dict[str, Member] = {}
        self._orders: dict[str, SimOrder] = {}
        self._live: dict[str, Placement] = {}
        """Resting orders by id."""
        self._trades: list[Trade] = []
        self._groups: dict[str, OrderGroup] = {}
        self._group_resting: dict[str, dict[str, Placement]] = {}
        self._expiries: list[tuple[int, int, str]] = []
        """Heap of (expiration_ms, sequence, order_id) of GTT orders that rested."""
        self._expiry_seq = 0
        self._touched: dict[str, _TickerState] = {}
        """Ticker state of each market changed by the current request, as it was before."""

    # -- events ---------------------------------------------------------------------------

    def add_listener(self, fn: _Listener) -> None:
        self._listeners.append(fn)

    def _emit(self, event: EngineEvent) -> None:
        for fn in self._listeners:
            try:
                fn(event)
            except Exception:
                _log.exception("engine listener %r failed on %s", fn, type(event).__name__)

    def _delta(self, placement: Placement, delta: int, now: int) -> None:
        """The placement's level changed by ``delta`` (BookDelta's fields in order)."""
        order = placement.order
        side = placement.ladder.side
        self._emit(
            BookDelta(
                order.ticker,
                side,
                Price(placement.leg),
                Qty(delta),
                now,
                order.user_id,
                order.client_order_id,
                order.subaccount,
            )
        )

    def _touch(self, book: MarketBook) -> None:
        """Remember a market's ticker state before the first change of this request."""
        if self._listeners and book.state.ticker not in self._touched:
            self._touched[book.state.ticker] = self._ticker_state(book)

    @staticmethod
    def _ticker_state(book: MarketBook) -> _TickerState:
        state = book.state
        return (*book.top(), state.last_price, state.volume, state.open_interest)

    def _flush_tickers(self, now: int) -> None:
        """One TickerEvent per market whose top, last price, volume or open interest changed."""
        if not self._touched:
            return
        touched, self._touched = self._touched, {}
        for ticker, before in touched.items():
            if self._ticker_state(self._books[ticker]) != before:
                self._emit(TickerEvent(ticker, now))

    # -- markets and accounts -------------------------------------------------------------

    def add_market(self, market: MarketState) -> None:
        if market.ticker in self._books:
            raise reject(409, "market_already_exists", f"market {market.ticker} already exists")
        fees.validate_multiplier(market.fee_multiplier)
        self._books[market.ticker] = MarketBook(market)
        self._emit(MarketEvent(market.ticker, "created", self._clock()))

    def market(self, ticker: str) -> MarketState:
        return self._book(ticker).state

    def markets(self) -> list[MarketState]:
        return [book.state for book in self._books.values()]

    def open_account(self, user_id: str, cash: Money) -> Account:
        if user_id in self._members:
            raise reject(409, "account_already_exists", f"account {user_id} already exists")
        if cash < 0:
            raise reject(400, "invalid_parameters", "opening cash must not be negative")
        account = Account(user_id, cash)
        self._members[user_id] = Member(account)
        return account

    def account(self, user_id: str) -> Account:
        return self._member(user_id).account

    def _book(self, ticker: str) -> MarketBook:
        book = self._books.get(ticker)
        if book is None:
            raise not_found(f"market {ticker}")
        return book

    def _member(self, user_id: str) -> Member:
        member = self._members.get(user_id)
        if member is None:
            raise not_found(f"account {user_id}")
        return member

    def _resting(self, order: SimOrder) -> Placement:
        placement = self._live.get(order.order_id)
        if placement is None:
            raise reject(400, "invalid_order", f"order {order.order_id} is {order.status}, not resting")
        return placement

    def _expire_if_due(self, now: int) -> None:
        if self._expiries and self._expiries[0][0] <= now:
            self._expire_due(now)

    # -- order entry ----------------------------------------------------------------------

    def place(self, user_id: str, req: NewOrder) -> PlaceResult:
        """Create an order (V2 semantics); see the module docstring for the rules."""
        now = self._clock()
        self._expire_if_due(now)
        member = self._member(user_id)
        book = self._book(req.ticker)
        order_checks.require_trading(book)
        group = order_checks.usable_group(member, req.order_group_id)
        order_checks.check_time_in_force(req, now)
        order_checks.check_reduce_only(req)
        order_checks.check_price(book, req.price)
        order_checks.check_count(req.count)
        if req.client_order_id and req.client_order_id in member.coids:
            raise reject(409, "order_already_exists", f"an order with client_order_id {req.client_order_id} exists")
        count = order_checks.reduce_only_cap(member, req.ticker, req.side, req.count) if req.reduce_only else req.count
        leg = _leg_price(req.side, req.price)
        collateral = -(-leg * count // QTY_SCALE)  # accounting.collateral, inlined (hot path)
        order_checks.check_balance(member, collateral)
        if req.post_only:
            order_checks.check_post_only(book, req.side, req.price)
        tif = req.time_in_force
        plan = "ioc"
        if tif is _FOK:
            plan = order_checks.fill_or_kill_plan(book, member, req.side, req.price, count, req.self_trade_prevention)

        # ---- validated: from here on nothing raises
        order = self._new_order(user_id, req, count, now)
        member.orders.append(order)
        if req.client_order_id:
            member.coids.add(req.client_order_id)
        taker = Placement(order, member, book, group, leg)
        self._reserve(taker, collateral)
        fills: list[FillRecord] = []
        if plan == "kill":
            self._finish(taker, now, "FillOrKill", announce=False)
        else:
            fills, stop = self._match(taker, now, req.buy_max_cost)
            if order.remaining > 0:
                reason = stop or self._why_not_rest(tif, plan, req.buy_max_cost)
                if reason:
                    self._finish(taker, now, reason, announce=False)
                else:
                    self._rest(taker, now)
        if self._listeners:
            self._emit(OrderEvent(order))
            self._flush_tickers(now)
        return self._result(order, fills, now)

    @staticmethod
    def _why_not_rest(tif: TimeInForce, plan: str, buy_max_cost: Money | None) -> str:
        """Why a create's unfilled remainder is canceled instead of resting ("" = it rests)."""
        if tif is not _GTC:
            return "ImmediateOrCancel" if plan == "ioc" else "FillOrKill"
        if buy_max_cost is not None:
            return "BuyMaxCost"
        return ""

    def _new_order(self, user_id: str, req: NewOrder, count: Qty, now: int) -> SimOrder:
        # the 14 required fields positionally (fast), optional ones only when they differ
        order = SimOrder(
            self._new_id(),
            user_id,
            req.client_order_id,
            req.ticker,
            req.side,
            req.price,
            count,
            Qty(0),
            count,
            _RESTING,
            req.time_in_force,
            req.self_trade_prevention,
            now,
            now,
        )
        order.last_update_reason = "Created"
        if req.expiration_ms is not None:
            order.expiration_ms = req.expiration_ms
        if req.post_only:
            order.post_only = True
        if req.reduce_only:
            order.reduce_only = True
        if req.cancel_order_on_pause:
            order.cancel_order_on_pause = True
        if req.order_group_id is not None:
            order.order_group_id = req.order_group_id
        if req.subaccount:
            order.subaccount = req.subaccount
        self._orders[order.order_id] = order
        return order

    def cancel(self, user_id: str, order_id: str) -> tuple[SimOrder, Qty]:
        """Cancel a resting order: returns the order afterwards and the contracts canceled."""
        now = self._clock()
        self._expire_if_due(now)
        order = self.order(user_id, order_id)
        order_checks.require_open(self._books[order.ticker])
        placement = self._live.get(order_id)
        if placement is None:
            raise not_found(f"resting order {order_id}")
        reduced = self._finish(placement, now, "UserCanceled")
        self._flush_tickers(now)
        return order, reduced

    def cancel_all(self, user_id: str) -> int:
        """Cancel every resting order of ``user_id``, in every market; returns how many."""
        now = self._clock()
        self._expire_if_due(now)
        member = self._member(user_id)
        resting = [placement for placement in self._live.values() if placement.member is member]
        for placement in resting:
            self._finish(placement, now, "UserCanceled")
        self._flush_tickers(now)
        return len(resting)

    def decrease(
        self, user_id: str, order_id: str, *, reduce_by: Qty | None = None, reduce_to: Qty | None = None
    ) -> SimOrder:
        """Reduce a resting order's remaining count, keeping its queue priority."""
        now = self._clock()
        self._expire_if_due(now)
        order = self.order(user_id, order_id)
        order_checks.require_open(self._books[order.ticker])
        if (reduce_by is None) == (reduce_to is None):
            raise reject(400, "invalid_parameters", "exactly one of reduce_by or reduce_to must be provided")
        placement = self._resting(order)
        if reduce_by is not None:
            order_checks.check_count(reduce_by, "reduce_by")
            target = max(order.remaining - reduce_by, 0)
        else:
            if type(reduce_to) is not int or reduce_to < 0:
                raise reject(400, "invalid_order_size", f"reduce_to must be >= 0, not {reduce_to!r}")
            target = min(reduce_to, order.remaining)
        if target == 0:
            self._finish(placement, now, "Decrease")
        elif target < order.remaining:
            self._shrink(placement, Qty(target), now, "Decrease")
        self._flush_tickers(now)
        return order

    def amend(
        self,
        user_id: str,
        order_id: str,
        *,
        ticker: str,
        side: BookSide,
        price: Price,
        count: Qty,
        client_order_id: str | None = None,
        updated_client_order_id: str | None = None,
        expiration_ms: int | Literal["keep"] | None = "keep",
    ) -> PlaceResult:
        """Change price and/or total count (= filled + new remaining) of a resting order, and its
        expiry (``expiration_ms``: ``"keep"``, None to clear it, or a new time in the future).

        Priority is kept only when the price is unchanged and the remaining size does not grow
        (an expiry-only amend keeps it); otherwise the order leaves the book, may trade as a taker
        at its new price, and rests at the back of its new level."""
        now = self._clock()
        self._expire_if_due(now)
        member = self._member(user_id)
        order = self.order(user_id, order_id)
        book = self._books[order.ticker]
        if ticker != order.ticker:
            raise reject(400, "order_ticker_mismatch", f"order {order_id} is on {order.ticker}, not {ticker}")
        if side != order.side:
            raise reject(400, "order_side_mismatch", f"order {order_id} is a {order.side} order, not {side}")
        if client_order_id is not None and client_order_id != order.client_order_id:
            raise reject(
                400, "order_id_and_client_order_id_mismatch", f"order {order_id} has a different client_order_id"
            )
        order_checks.require_trading(book)
        placement = self._resting(order)
        order_checks.check_price(book, price)
        order_checks.check_count(count)
        new_remaining = count - order.filled
        if new_remaining <= 0:
            raise reject(400, "invalid_order_size", f"count must exceed the filled count {format_qty(order.filled)}")
        new_coid = updated_client_order_id
        if new_coid is not None and new_coid != order.client_order_id and new_coid in member.coids:
            raise reject(409, "order_already_exists", f"an order with client_order_id {new_coid} exists")
        new_collateral = accounting.collateral(_leg_price(side, price), new_remaining)
        order_checks.check_balance(member, new_collateral, freed=placement.collateral)
        keeps_priority = price == order.price and new_remaining <= order.remaining
        if order.post_only and not keeps_priority:
            order_checks.check_post_only(book, side, price)
        if expiration_ms is not None and expiration_ms != "keep" and expiration_ms <= now:
            raise reject(400, "invalid_order", "Expiration timestamp must be in the future")

        # ---- validated
        if new_coid is not None and new_coid != order.client_order_id:
            member.coids.add(new_coid)
            order.client_order_id = new_coid
        if expiration_ms != "keep" and expiration_ms != order.expiration_ms:
            order.expiration_ms = expiration_ms
            if expiration_ms is not None:  # the old heap entry no longer matches and is skipped
                self._expiry_seq += 1
                heapq.heappush(self._expiries, (expiration_ms, self._expiry_seq, order.order_id))
        fills: list[FillRecord] = []
        if keeps_priority and new_remaining < order.remaining:
            order.initial = Qty(order.filled + new_remaining)
            self._shrink(placement, Qty(new_remaining), now, "Amend")
        elif keeps_priority:
            order.initial = Qty(order.filled + new_remaining)
            order.updated_ms = now
            order.last_update_reason = "Amend"
            self._emit(OrderEvent(order))
        else:
            fills = self._reprice(placement, price, Qty(new_remaining), new_collateral, now)
        self._flush_tickers(now)
        return self._result(order, fills, now)

    def _reprice(self, old: Placement, price: Price, remaining: Qty, collateral: int, now: int) -> list[FillRecord]:
        """Amend that loses priority: leave the book, trade as a taker, rest at the back."""
        order = old.order
        old_remaining = order.remaining
        self._touch(old.book)
        old.ladder.take(old)
        self._forget_resting(old)
        if self._listeners:
            self._delta(old, -old_remaining, now)
        fresh = old.requeued(_leg_price(order.side, price))
        order.price = price
        order.remaining = remaining
        order.initial = Qty(order.filled + remaining)
        order.updated_ms = now
        order.last_update_reason = "Amend"
        self._reserve(fresh, collateral - fresh.collateral)
        fills, stop = self._match(fresh, now, None)
        if order.remaining > 0 and stop:
            self._finish(fresh, now, stop, announce=False)
        elif order.remaining > 0:
            self._rest(fresh, now)
        if self._listeners:
            self._emit(OrderEvent(order))
        return fills

    # -- matching -------------------------------------------------------------------------

    def _match(self, taker: Placement, now: int, budget: Money | None) -> tuple[list[FillRecord], str]:
        """Trade ``taker`` against the opposite ladder, best price first. Returns its fills and
        why it stopped early (``""`` when it ran out of size or of crossing liquidity)."""
        order = taker.order
        book = taker.book
        if order.side is _BID:
            opposite, threshold = book.no, PRICE_SCALE - order.price
        else:
            opposite, threshold = book.yes, order.price
        prices = opposite.prices
        fills: list[FillRecord] = []
        budget_micros = None if budget is None else budget * fees.MICROS_PER_MONEY
        while order.remaining > 0 and prices and prices[-1] >= threshold:
            key = prices[-1]
            maker = opposite.front(opposite.levels[key])
            if maker.member is taker.member:
                if order.self_trade_prevention is _TAKER_AT_CROSS:
                    return fills, "SelfTradePrevention"
                self._finish(maker, now, "SelfTradePrevention")
                continue
            qty: int = min(order.remaining, maker.order.remaining)
            if budget_micros is not None:
                qty = min(qty, budget_micros // (PRICE_SCALE - key))
                if qty <= 0:
                    return fills, "BuyMaxCost"
                budget_micros -= (PRICE_SCALE - key) * qty
            fills.append(self._execute(taker, maker, Qty(qty), now))
            if taker.group is not None and taker.group.triggered:
                return fills, "OrderGroupTriggered"
        return fills, ""

    def _execute(self, taker: Placement, maker: Placement, qty: Qty, now: int) -> FillRecord:
        """One match of ``qty`` at the maker's price: mutate everything, then emit."""
        book = taker.book
        state = book.state
        self._touch(book)
        key = maker.leg
        maker_order = maker.order
        taker_order = taker.order
        taker_order.remaining = Qty(taker_order.remaining - qty)
        taker_order.filled = Qty(taker_order.filled + qty)
        taker_order.updated_ms = now
        if taker_order.remaining == 0:
            taker_order.status = _EXECUTED
            taker_order.last_update_reason = "Fill"
        maker_order.remaining = Qty(maker_order.remaining - qty)
        maker_order.filled = Qty(maker_order.filled + qty)
        maker_order.updated_ms = now
        maker_order.last_update_reason = "Fill"
        ladder = maker.ladder
        level = ladder.levels[key]
        level.total -= qty
        if maker_order.remaining == 0:
            level.queue.popleft()  # the maker is always the live front of its level
            maker.alive = False
            maker_order.status = _EXECUTED
            self._forget_resting(maker)
            if level.total == 0:
                ladder.drop(key)

        trade = Trade(self._new_id(), state.ticker, maker_order.price, qty, taker_order.side, now)
        taker_fill, taker_paid = self._book_fill(taker, trade, PRICE_SCALE - key, is_taker=True)
        maker_fill, maker_paid = self._book_fill(maker, trade, key, is_taker=False)
        floor = state.settlement_floor
        pair = qty * accounting.MONEY_PER_QTY if not floor else accounting.dollars_for(qty, PRICE_SCALE - floor)
        self.fees_collected = Money(self.fees_collected + taker_paid + maker_paid - pair)
        state.last_price = trade.price
        state.volume = Qty(state.volume + qty)
        self._trades.append(trade)
        book.trades.append(trade)

        if self._listeners:
            emit = self._emit
            self._delta(maker, -qty, now)  # first, so that replaying deltas matches book() at every event
            emit(TradeEvent(trade))
            emit(FillEvent(taker_fill))
            emit(FillEvent(maker_fill))
            emit(OrderEvent(maker_order))
            emit(PositionEvent(taker_order.user_id, taker.member.account.positions[state.ticker]))
            emit(PositionEvent(maker_order.user_id, maker.member.account.positions[state.ticker]))
        if taker.group is not None:
            self._count_group_fill(taker.group, qty, now)
        if maker.group is not None:
            self._count_group_fill(maker.group, qty, now)
        return taker_fill

    def _book_fill(
        self, placement: Placement, trade: Trade, leg_price: int, *, is_taker: bool
    ) -> tuple[FillRecord, Money]:
        """Release the filled part's collateral, then book the purchase into cash and position."""
        order = placement.order
        account = placement.member.account
        book = placement.book
        remaining_collateral = -(-placement.leg * order.remaining // QTY_SCALE)  # accounting.collateral, inlined
        released = placement.collateral - remaining_collateral
        placement.collateral = remaining_collateral
        account.reserved = Money(account.reserved - released)
        account.cash = Money(account.cash + released)
        position = account.positions.get(order.ticker)
        if position is None:
            position = account.positions[order.ticker] = PositionState(order.ticker)
        count = trade.count
        fee = fees.rule_fee(book.fee_rule(is_taker), leg_price, count)
        floor = book.state.settlement_floor
        if floor:  # the YES leg costs price − floor; a pair is worth $1 − floor (``sim/core/accounting.py``)
            booking = accounting.book_purchase(
                account,
                position,
                placement.outcome,
                leg_price - floor if placement.outcome is Side.YES else leg_price,
                count,
                fee,
                placement.acc,
                trade.ts_ms,
                pair_value=PRICE_SCALE - floor,
            )
        else:
            booking = accounting.book_purchase(
                account, position, placement.outcome, leg_price, count, fee, placement.acc, trade.ts_ms
            )
        placement.acc = booking.accumulator_micros
        order.fee_accumulator = Money(placement.acc // fees.MICROS_PER_MONEY)
        if is_taker:
            order.taker_fill_cost = Money(order.taker_fill_cost + booking.leg_cost)
            order.taker_fees = Money(order.taker_fees + booking.fee)
        else:
            order.maker_fill_cost = Money(order.maker_fill_cost + booking.leg_cost)
            order.maker_fees = Money(order.maker_fees + booking.fee)
        state = book.state
        state.open_interest = Qty(state.open_interest + booking.open_interest_delta)
        # FillRecord's fields in order (frozen dataclasses are slow to build by keyword)
        fill = FillRecord(
            self._new_id(),
            trade.trade_id,
            order.order_id,
            order.user_id,
            order.client_order_id,
            order.ticker,
            order.side,
            trade.price,
            count,
            booking.fee,
            is_taker,
            position.position,
            trade.ts_ms,
            order.subaccount,
        )
        placement.member.fills.append(fill)
        return fill, booking.paid

    # -- resting, shrinking, finishing ----------------------------------------------------

    @staticmethod
    def _reserve(placement: Placement, amount: int) -> None:
        account = placement.member.account
        account.cash = Money(account.cash - amount)
        account.reserved = Money(account.reserved + amount)
        placement.collateral += amount

    @staticmethod
    def _release(placement: Placement, amount: int) -> None:
        account = placement.member.account
        account.reserved = Money(account.reserved - amount)
        account.cash = Money(account.cash + amount)
        placement.collateral -= amount

    def _rest(self, placement: Placement, now: int) -> None:
        order = placement.order
        self._touch(placement.book)
        placement.ladder.append(placement)
        self._live[order.order_id] = placement
        if placement.group is not None:
            self._group_resting[placement.group.group_id][order.order_id] = placement
        if order.expiration_ms is not None:
            self._expiry_seq += 1
            heapq.heappush(self._expiries, (order.expiration_ms, self._expiry_seq, order.order_id))
        if self._listeners:
            self._delta(placement, order.remaining, now)

    def _forget_resting(self, placement: Placement) -> None:
        order_id = placement.order.order_id
        del self._live[order_id]
        if placement.group is not None:
            self._group_resting[placement.group.group_id].pop(order_id, None)

    def _shrink(self, placement: Placement, remaining: Qty, now: int, reason: str) -> None:
        """Reduce a resting order in place (keeps priority) and release its surplus collateral."""
        order = placement.order
        self._touch(placement.book)
        delta = remaining - order.remaining
        placement.ladder.levels[placement.leg].total += delta
        order.remaining = remaining
        order.updated_ms = now
        order.last_update_reason = reason
        self._release(placement, placement.collateral - accounting.collateral(placement.leg, remaining))
        if self._listeners:
            self._delta(placement, delta, now)
            self._emit(OrderEvent(order))

    def _finish(self, placement: Placement, now: int, reason: str, *, announce: bool = True) -> Qty:
        """End an order's life, canceling its remainder; returns the contracts canceled."""
        order = placement.order
        reduced = order.remaining
        was_resting = placement.alive
        if was_resting:
            self._touch(placement.book)
            placement.ladder.take(placement)
            self._forget_resting(placement)
        self._release(placement, placement.collateral)
        order.remaining = Qty(0)
        order.status = _CANCELED if reduced else _EXECUTED
        order.updated_ms = now
        order.last_update_reason = reason
        if self._listeners:
            if was_resting:
                self._delta(placement, -reduced, now)
            if announce:
                self._emit(OrderEvent(order))
        return reduced

    @staticmethod
    def _result(order: SimOrder, fills: list[FillRecord], now: int) -> PlaceResult:
        if not fills:
            return PlaceResult(order, fills, Qty(0), order.remaining, None, None, now)
        filled = notional = fee_total = 0
        for fill in fills:
            filled += fill.count
            notional += fill.price * fill.count
            fee_total += fill.fee
        average_price = Price(_nearest_div(notional, filled))
        average_fee = Money(_nearest_div(fee_total * QTY_SCALE, filled))
        return PlaceResult(order, fills, Qty(filled), order.remaining, average_price, average_fee, now)

    # -- expiry ---------------------------------------------------------------------------

    def _expire_due(self, now: int) -> list[SimOrder]:
        expiries = self._expiries
        expired: list[SimOrder] = []
        while expiries and expiries[0][0] <= now:
            expiration, _, order_id = heapq.heappop(expiries)
            placement = self._live.get(order_id)
            if placement is not None and placement.order.expiration_ms == expiration:
                self._finish(placement, now, "Expired")
                expired.append(placement.order)
        return expired

    def expire_orders(self) -> list[SimOrder]:
        """Cancel every GTT order whose ``expiration_ms`` is at or before now."""
        now = self._clock()
        expired = self._expire_due(now)
        self._flush_tickers(now)
        return expired

    # -- reads ----------------------------------------------------------------------------

    def order(self, user_id: str, order_id: str) -> SimOrder:
        order = self._orders.get(order_id)
        if order is None or order.user_id != user_id:
            raise not_found(f"order {order_id}")
        return order

    def orders(self, user_id: str) -> list[SimOrder]:
        return self._member(user_id).orders[::-1]

    def fills(self, user_id: str) -> list[FillRecord]:
        return self._member(user_id).fills[::-1]

    def settlements(self, user_id: str) -> list[SettlementRecord]:
        return self._member(user_id).settlements[::-1]

    def trades(self, ticker: str | None = None) -> list[Trade]:
        source = self._trades if ticker is None else self._book(ticker).trades
        return source[::-1]

    def book(self, ticker: str) -> tuple[list[tuple[Price, Qty]], list[tuple[Price, Qty]]]:
        """(YES bids, NO bids), each ascending by its own leg's price."""
        book = self._book(ticker)
        return (
            [(Price(p), Qty(book.yes.levels[p].total)) for p in book.yes.prices],
            [(Price(p), Qty(book.no.levels[p].total)) for p in book.no.prices],
        )

    def top(self, ticker: str) -> tuple[Price | None, Qty, Price | None, Qty]:
        """(best YES bid, its size, best NO bid, its size)."""
        yes_key, yes_size, no_key, no_size = self._book(ticker).top()
        return (
            None if yes_key is None else Price(yes_key),
            Qty(yes_size),
            None if no_key is None else Price(no_key),
            Qty(no_size),
        )

    def queue_position(self, user_id: str, order_id: str) -> Qty:
        """Contracts ahead of the order at its price level (0 if it is not resting)."""
        self.order(user_id, order_id)
        placement = self._live.get(order_id)
        return Qty(0 if placement is None else placement.ladder.ahead_of(placement))

    # -- order groups ---------------------------------------------------------------------

    def create_group(self, user_id: str, contracts_limit: Qty) -> OrderGroup:
        member = self._member(user_id)
        order_checks.check_group_limit(contracts_limit)
        group = OrderGroup(self._new_id(), user_id, contracts_limit)
        member.groups[group.group_id] = group
        self._groups[group.group_id] = group
        self._group_resting[group.group_id] = {}
        self._emit(OrderGroupEvent(user_id, group.group_id, "created", contracts_limit, self._clock()))
        return group

    def group(self, user_id: str, group_id: str) -> OrderGroup:
        group = self._member(user_id).groups.get(group_id)
        if group is None:
            raise not_found(f"order group {group_id}")
        return group

    def groups(self, user_id: str) -> list[OrderGroup]:
        return list(self._member(user_id).groups.values())

    def group_orders(self, user_id: str, group_id: str) -> list[SimOrder]:
        self.group(user_id, group_id)
        return [placement.order for placement in self._group_resting[group_id].values()]

    def trigger_group(self, user_id: str, group_id: str) -> None:
        group = self.group(user_id, group_id)
        now = self._clock()
        self._trigger(group, now)
        self._flush_tickers(now)

    def reset_group(self, user_id: str, group_id: str) -> None:
        group = self.group(user_id, group_id)
        group.triggered = False
        group.recent_fills.clear()
        self._emit(OrderGroupEvent(user_id, group_id, "reset", group.contracts_limit, self._clock()))

    def set_group_limit(self, user_id: str, group_id: str, contracts_limit: Qty) -> None:
        """Change the limit; lowering it below the current window's volume triggers the group."""
        group = self.group(user_id, group_id)
        order_checks.check_group_limit(contracts_limit)
        now = self._clock()
        group.contracts_limit = contracts_limit
        self._emit(OrderGroupEvent(user_id, group_id, "limit_updated", contracts_limit, now))
        if not group.triggered and self._window_volume(group, now) > contracts_limit:
            self._trigger(group, now)
        self._flush_tickers(now)

    def delete_group(self, user_id: str, group_id: str) -> None:
        group = self.group(user_id, group_id)
        now = self._clock()
        self._cancel_group_orders(group, now, "OrderGroupDeleted")
        del self._members[user_id].groups[group_id]
        del self._groups[group_id]
        del self._group_resting[group_id]
        self._emit(OrderGroupEvent(user_id, group_id, "deleted", group.contracts_limit, now))
        self._flush_tickers(now)

    @staticmethod
    def _window_volume(group: OrderGroup, now: int) -> int:
        """Contracts filled in (now − 15 s, now]; older entries are dropped."""
        cutoff = now - GROUP_WINDOW_MS
        fills = group.recent_fills
        stale = 0
        while stale < len(fills) and fills[stale][0] <= cutoff:
            stale += 1
        if stale:
            del fills[:stale]
        return sum(qty for _, qty in fills)

    def _count_group_fill(self, group: OrderGroup, qty: Qty, now: int) -> None:
        if group.triggered or group.group_id not in self._groups:
            return
        group.recent_fills.append((now, qty))
        if self._window_volume(group, now) > group.contracts_limit:
            self._trigger(group, now)

    def _trigger(self, group: OrderGroup, now: int) -> None:
        group.triggered = True
        self._cancel_group_orders(group, now, "OrderGroupTriggered")
        self._emit(OrderGroupEvent(group.user_id, group.group_id, "triggered", group.contracts_limit, now))

    def _cancel_group_orders(self, group: OrderGroup, now: int, reason: str) -> None:
        for placement in list(self._group_resting[group.group_id].values()):
            self._finish(placement, now, reason)

    # -- lifecycle ------------------------------------------------------------------------

    def set_market_status(self, ticker: str, status: MarketStatus) -> None:
        """Move a market between initialized/active/inactive/closed/disputed.

        active → inactive cancels the orders placed with ``cancel_order_on_pause``; → active
        cancels every resting order ("All resting orders are cancelled on this reactivation",
        Kalshi's market_lifecycle page); → closed cancels every resting order. Determination and settlement
        go through ``determine`` and ``settle``."""
        book = self._book(ticker)
        state = book.state
        status = MarketStatus(status)
        if status is state.status:
            return
        order_checks.check_transition(state, status)
        now = self._clock()
        state.status = status
        if status is MarketStatus.INACTIVE:
            self._emit(MarketEvent(ticker, "deactivated", now))
            self._cancel_market_orders(book, now, "MarketDeactivated", only_cancel_on_pause=True)
        elif status is MarketStatus.ACTIVE:
            self._emit(MarketEvent(ticker, "activated", now))
            self._cancel_market_orders(book, now, "MarketActivated")
        elif status is MarketStatus.CLOSED:
            self._emit(MarketEvent(ticker, "close_date_updated", now))
            self._cancel_market_orders(book, now, "MarketClosed")
        self._flush_tickers(now)

    def _cancel_market_orders(
        self, book: MarketBook, now: int, reason: str, *, only_cancel_on_pause: bool = False
    ) -> None:
        for placement in book.resting():
            if not only_cancel_on_pause or placement.order.cancel_order_on_pause:
                self._finish(placement, now, reason)

    def set_settlement_floor(self, ticker: str, floor: Price) -> list[SimOrder]:
        """Raise the settlement floor of a ``floor`` market (Kalshi's settlement_bounds page): every YES holder
        is paid the increase per contract (``accounting.raise_floor``), and the resting orders now out of
        bounds — YES price at or below the floor, i.e. a NO price at or above $1 − floor — are
        canceled (``SettlementBounds``). Returns those orders. A market with default bounds, a floor
        that does not rise, or one at $1 or more is a 400; only trading or paused markets move."""
        book = self._book(ticker)
        state = book.state
        old = state.settlement_floor
        if old is None:
            raise reject(400, "invalid_parameters", f"market {ticker} has default settlement bounds (no floor)")
        if not old < floor < PRICE_SCALE:
            raise reject(
                400, "invalid_parameters", f"the floor of {ticker} can only rise, from {format_price(old)} below $1"
            )
        if state.status not in _TRADING_OR_PAUSED:
            raise reject(400, "invalid_parameters", f"market {ticker} is {state.status}")
        now = self._clock()
        self._touch(book)
        state.settlement_floor = floor
        paid = 0
        for member in self._members.values():
            position = member.account.positions.get(ticker)
            if position is not None and position.position > 0:
                paid += accounting.raise_floor(member.account, position, floor - old, now)
                self._emit(PositionEvent(member.account.user_id, position))
        # Σ(cash + reserved) + ($1 − floor) × open interest + fees_collected stays the same.
        self.fees_collected = Money(self.fees_collected + (floor - old) * state.open_interest // QTY_SCALE - paid)
        out_of_bounds = [p for p in book.resting() if p.order.price <= floor]
        for placement in out_of_bounds:
            self._finish(placement, now, "SettlementBounds")
        self._flush_tickers(now)
        return [p.order for p in out_of_bounds]

    def determine(self, ticker: str, result: Literal["yes", "no"]) -> None:
        """Set the result. A market still open is closed first, exactly as ``set_market_status``
        would (resting orders canceled, ``close_date_updated`` emitted); a disputed market becomes
        ``amended``."""
        book = self._book(ticker)
        state = book.state
        if result not in ("yes", "no"):
            raise reject(400, "invalid_parameters", f"result must be 'yes' or 'no', not {result!r}")
        if state.status in (MarketStatus.DETERMINED, MarketStatus.AMENDED, MarketStatus.FINALIZED):
            raise reject(400, "invalid_parameters", f"market {ticker} is already {state.status}")
        if state.status in _TRADING_OR_PAUSED:
            self.set_market_status(ticker, MarketStatus.CLOSED)
        now = self._clock()
        state.status = MarketStatus.AMENDED if state.status is MarketStatus.DISPUTED else MarketStatus.DETERMINED
        state.result = result
        state.settlement_value = Price(PRICE_SCALE if result == "yes" else state.settlement_floor or 0)
        self._emit(MarketEvent(ticker, "determined", now))
        self._flush_tickers(now)

    def settle(self, ticker: str) -> list[SettlementRecord]:
        """Pay $1 per net winning contract, record settlements, drop the positions, finalize."""
        book = self._book(ticker)
        state = book.state
        if state.status not in (MarketStatus.DETERMINED, MarketStatus.AMENDED) or state.result not in ("yes", "no"):
            raise reject(400, "invalid_parameters", f"market {ticker} is {state.status}, not determined")
        result: Literal["yes", "no"] = "yes" if state.result == "yes" else "no"
        now = self._clock()
        self._touch(book)
        records: list[SettlementRecord] = []
        settled: list[tuple[Member, PositionState]] = []
        for user_id, member in self._members.items():
            position = member.account.positions.get(ticker)
            if position is None:
                continue
            payout = accounting.settle_position(
                member.account, position, result, now, PRICE_SCALE - (state.settlement_floor or 0)
            )
            record = SettlementRecord(
                ticker=ticker,
                event_ticker=state.event_ticker,
                user_id=user_id,
                market_result=result,
                yes_count=payout.yes_count,
                no_count=payout.no_count,
                yes_total_cost=payout.yes_cost,
                no_total_cost=payout.no_cost,
                revenue=payout.revenue,
                value=state.settlement_value or Price(0),
                fee_cost=position.fees_paid,
                settled_ms=now,
            )
            member.settlements.append(record)
            records.append(record)
            settled.append((member, position))
        state.open_interest = Qty(0)
        state.status = MarketStatus.FINALIZED
        for member, position in settled:
            self._emit(PositionEvent(member.account.user_id, position))
            del member.account.positions[ticker]
        self._emit(MarketEvent(ticker, "settled", now))
        self._flush_tickers(now)
        return records
