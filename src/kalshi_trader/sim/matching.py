"""The embedded exchange's matching engine: books, accounts, order groups, lifecycle, settlement.

Contract:
- Pure, synchronous and deterministic: no I/O, no threads, no wall clock. Time comes from the
  injected ``clock_ms`` (read once per call), identifiers from the injected ``new_id``.
- One book per market holding two bid ladders: YES bids keyed by YES price and NO bids keyed by
  NO price. V2 ``bid`` at YES price p rests on the YES ladder at p; ``ask`` at YES price p rests on
  the NO ladder at 1 − p. A YES bid at p crosses a NO bid at q iff p + q ≥ $1. Price-time
  priority; trades print at the resting (maker) order's price; partial and fractional fills.
- Every rejected request raises ``ExchangeError`` *before* anything is mutated, so a rejection
  leaves all state (and the event stream) exactly as it was. The only thing that happens before
  validation is the lazy expiry of GTT orders that are already due, which is time-driven.
- Events (``sim/model.py``) go synchronously to listeners, in causal order, each after the state it
  describes is consistent. Events carry live objects: a listener must serialize what it needs
  immediately. A listener that raises is logged and skipped; it never corrupts the engine.
- Money is exact integers throughout (see ``sim/ledger.py`` for collateral, netting and P&L and
  ``sim/fees.py`` for fees and their rounding). ``fees_collected`` is what the exchange took, so
  Σ(cash + reserved) + $1 × open interest + ``fees_collected`` is constant.

Choices where the documentation is silent (the server relies on these):
- Cancel of an order that is already executed or canceled → 404 ``not_found`` (Kalshi's V2 cancel
  answers unknown orders with 404); amend/decrease of one → 400 ``invalid_order``.
- ``decrease(reduce_to=n)`` with n ≥ remaining is a no-op (a fill may have raced the request);
  ``reduce_by`` ≥ remaining cancels the order.
- ``amend`` sets ``initial`` to the new ``count`` (= filled + new remaining, the docs' "new max
  fillable"); ``decrease`` leaves ``initial`` alone. Hence ``filled + remaining ≤ initial`` always.
- ``PlaceResult.fill_count`` is what *this request* filled (for a create: the order's fill count).
- A reduce-only order's count is capped at the position it reduces; collateral is still its leg
  cost (conservative: the closing fill returns $1 per closed pair straight away).
- ``buy_max_cost`` (legacy) makes the order immediate: it fills while the next hundredth of a
  contract keeps the summed leg cost ≤ ``buy_max_cost`` and cancels the rest.
- Market → ``closed`` emits ``MarketEvent("close_date_updated")`` (Kalshi announces early closes
  that way; a scheduled close has no lifecycle event, which the feed may choose to suppress);
  any → ``active`` emits ``"activated"``; ``disputed`` emits nothing (no event type exists).
- ``queue_position`` of an order that is no longer resting is 0.
- ``BookDelta.user_id``/``client_order_id`` name the order whose resting quantity changed (the
  maker, for a fill).
"""

from __future__ import annotations

import heapq
import logging
import uuid
from bisect import bisect_left, insort
from collections import deque
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
from kalshi_trader.sim import fees, ledger
from kalshi_trader.sim.model import (
    Account,
    BookDelta,
    EngineEvent,
    ExchangeError,
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

MAX_ORDER_COUNT: Final = Qty(1_000_000 * QTY_SCALE)
"""Largest order size: 1,000,000 contracts."""
GROUP_WINDOW_MS: Final = 15_000
"""Order groups sum fills over a rolling 15 s window (order_groups.md)."""
MIN_GROUP_LIMIT: Final = Qty(1 * QTY_SCALE)
MAX_GROUP_LIMIT: Final = Qty(1_000_000 * QTY_SCALE)
_COMPACT_MIN_DEAD: Final = 32
_RESULT_STATUSES: Final = (MarketStatus.DETERMINED, MarketStatus.AMENDED, MarketStatus.FINALIZED)

_Listener = Callable[[EngineEvent], None]
_TickerState = tuple[int | None, int, int | None, int, int | None, int, int]


# ------------------------------------------------------------------------------------------
# Results


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


# ------------------------------------------------------------------------------------------
# Engine-private structures


class _Rec:
    """One placement of a live order: the order plus what the engine holds for it.

    Queues use lazy deletion: a canceled or re-prioritized placement is flagged ``alive = False``
    and skipped when it reaches the front. A re-queued order (amend losing priority) gets a fresh
    ``_Rec`` so a stale queue entry can never come back to life."""

    __slots__ = ("acc", "alive", "book", "collateral", "group", "ladder", "leg", "order", "user")

    def __init__(
        self, order: SimOrder, user: _User, book: _Book, ladder: _Ladder, group: OrderGroup | None, leg: int
    ) -> None:
        self.order = order
        self.user = user
        self.book = book
        self.ladder = ladder
        self.group = group
        self.leg = leg
        """Limit price on the order's own leg == its key on its ladder."""
        self.collateral = 0
        self.acc = 0
        """Fee-rounding accumulator in micro-dollars (fee_rounding.md), carried across fills."""
        self.alive = False

    def requeued(self) -> _Rec:
        fresh = _Rec(self.order, self.user, self.book, self.ladder, self.group, self.leg)
        fresh.collateral = self.collateral
        fresh.acc = self.acc
        return fresh


class _Level:
    __slots__ = ("dead", "queue", "total")

    def __init__(self) -> None:
        self.queue: deque[_Rec] = deque()
        self.total = 0
        self.dead = 0


class _Ladder:
    """The bids of one leg: levels by leg price plus the sorted list of occupied prices."""

    __slots__ = ("levels", "prices", "side")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.levels: dict[int, _Level] = {}
        self.prices: list[int] = []

    def append(self, rec: _Rec) -> None:
        level = self.levels.get(rec.leg)
        if level is None:
            level = self.levels[rec.leg] = _Level()
            prices = self.prices
            if not prices or rec.leg > prices[-1]:
                prices.append(rec.leg)
            else:
                insort(prices, rec.leg)
        level.queue.append(rec)
        level.total += rec.order.remaining
        rec.alive = True

    def front(self, level: _Level) -> _Rec:
        queue = level.queue
        while not queue[0].alive:
            queue.popleft()
            level.dead -= 1
        return queue[0]

    def take(self, rec: _Rec) -> None:
        """Remove a placement (anywhere in its queue) with its whole remaining quantity."""
        level = self.levels[rec.leg]
        rec.alive = False
        level.total -= rec.order.remaining
        if level.total == 0:
            self.drop(rec.leg)
            return
        level.dead += 1
        if level.dead >= _COMPACT_MIN_DEAD and 2 * level.dead > len(level.queue):
            level.queue = deque(r for r in level.queue if r.alive)
            level.dead = 0

    def drop(self, key: int) -> None:
        del self.levels[key]
        prices = self.prices
        if prices[-1] == key:
            prices.pop()
        else:
            del prices[bisect_left(prices, key)]

    def best(self) -> tuple[int | None, int]:
        if not self.prices:
            return None, 0
        key = self.prices[-1]
        return key, self.levels[key].total

    def resting(self) -> list[_Rec]:
        """Live placements, best price first, in time priority within a level."""
        return [rec for key in reversed(self.prices) for rec in self.levels[key].queue if rec.alive]


class _Book:
    __slots__ = ("fee_key", "maker_rule", "no", "state", "taker_rule", "trades", "yes")

    def __init__(self, state: MarketState) -> None:
        self.state = state
        self.yes = _Ladder(Side.YES)
        self.no = _Ladder(Side.NO)
        self.trades: list[Trade] = []
        self.fee_key = (state.fee_type, state.fee_multiplier)
        self.taker_rule, self.maker_rule = fees.fee_rules(state.fee_type, state.fee_multiplier)

    def fee_rule(self, is_taker: bool) -> fees.FeeRule:
        """The market's fee rule for a role (recomputed if the market's fee settings changed)."""
        state = self.state
        if state.fee_type is not self.fee_key[0] or state.fee_multiplier != self.fee_key[1]:
            fees.validate_multiplier(state.fee_multiplier)
            self.fee_key = (state.fee_type, state.fee_multiplier)
            self.taker_rule, self.maker_rule = fees.fee_rules(state.fee_type, state.fee_multiplier)
        return self.taker_rule if is_taker else self.maker_rule

    def ladder(self, side: BookSide) -> _Ladder:
        return self.yes if side is BookSide.BID else self.no

    def resting(self) -> list[_Rec]:
        return self.yes.resting() + self.no.resting()


class _User:
    __slots__ = ("account", "coids", "fills", "groups", "orders", "settlements")

    def __init__(self, account: Account) -> None:
        self.account = account
        self.orders: list[SimOrder] = []
        self.coids: set[str] = set()
        self.fills: list[FillRecord] = []
        self.settlements: list[SettlementRecord] = []
        self.groups: dict[str, OrderGroup] = {}


def _reject(status: int, code: str, message: str, details: str = "") -> ExchangeError:
    return ExchangeError(status, code, message, details)


def _not_found(what: str) -> ExchangeError:
    return ExchangeError(404, "not_found", f"{what} not found")


def _leg_price(side: BookSide, yes_price: int) -> int:
    return yes_price if side is BookSide.BID else PRICE_SCALE - yes_price


def _nearest_div(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _describe_grid(state: MarketState) -> str:
    return "; ".join(
        f"{format_price(b.start)}-{format_price(b.end)} step {format_price(b.step)}" for b in state.grid.bands
    )


# ------------------------------------------------------------------------------------------
# The engine


class MatchingEngine:
    """The exchange core the REST/WS server drives. See the module docstring for the contract."""

    def __init__(self, *, clock_ms: Callable[[], int], new_id: Callable[[], str] | None = None) -> None:
        self._clock = clock_ms
        self._new_id: Callable[[], str] = new_id if new_id is not None else (lambda: str(uuid.uuid4()))
        self._listeners: list[_Listener] = []
        self.fees_collected: Money = Money(0)
        self._books: dict[str, _Book] = {}
        self._users: dict[str, _User] = {}
        self._orders: dict[str, SimOrder] = {}
        self._live: dict[str, _Rec] = {}
        self._trades: list[Trade] = []
        self._groups: dict[str, OrderGroup] = {}
        self._group_resting: dict[str, dict[str, _Rec]] = {}
        self._expiries: list[tuple[int, int, str]] = []
        self._expiry_seq = 0
        self._touched: dict[str, _TickerState] = {}

    # -- events ---------------------------------------------------------------------------

    def add_listener(self, fn: _Listener) -> None:
        self._listeners.append(fn)

    def _emit(self, event: EngineEvent) -> None:
        for fn in self._listeners:
            try:
                fn(event)
            except Exception:
                _log.exception("engine listener %r failed on %s", fn, type(event).__name__)

    def _delta(self, rec: _Rec, delta: int, now: int, key: int | None = None) -> None:
        order = rec.order
        self._emit(
            BookDelta(
                order.ticker,
                rec.ladder.side,
                Price(rec.leg if key is None else key),
                Qty(delta),
                now,
                order.user_id,
                order.client_order_id,
                order.subaccount,
            )
        )

    def _touch(self, book: _Book) -> None:
        """Remember a market's ticker state before the first change of this request."""
        if self._listeners and book.state.ticker not in self._touched:
            self._touched[book.state.ticker] = self._ticker_state(book)

    @staticmethod
    def _ticker_state(book: _Book) -> _TickerState:
        yes_key, yes_size = book.yes.best()
        no_key, no_size = book.no.best()
        state = book.state
        return (yes_key, yes_size, no_key, no_size, state.last_price, state.volume, state.open_interest)

    def _flush_tickers(self, now: int) -> None:
        if not self._touched:
            return
        touched, self._touched = self._touched, {}
        for ticker, before in touched.items():
            if self._ticker_state(self._books[ticker]) != before:
                self._emit(TickerEvent(ticker, now))

    # -- markets and accounts -------------------------------------------------------------

    def add_market(self, market: MarketState) -> None:
        if market.ticker in self._books:
            raise _reject(409, "market_already_exists", f"market {market.ticker} already exists")
        fees.validate_multiplier(market.fee_multiplier)
        self._books[market.ticker] = _Book(market)
        self._emit(MarketEvent(market.ticker, "created", self._clock()))

    def market(self, ticker: str) -> MarketState:
        return self._book(ticker).state

    def markets(self) -> list[MarketState]:
        return [book.state for book in self._books.values()]

    def open_account(self, user_id: str, cash: Money) -> Account:
        if user_id in self._users:
            raise _reject(409, "account_already_exists", f"account {user_id} already exists")
        if cash < 0:
            raise _reject(400, "invalid_parameters", "opening cash must not be negative")
        account = Account(user_id, cash)
        self._users[user_id] = _User(account)
        return account

    def account(self, user_id: str) -> Account:
        return self._user(user_id).account

    def _book(self, ticker: str) -> _Book:
        book = self._books.get(ticker)
        if book is None:
            raise _not_found(f"market {ticker}")
        return book

    def _user(self, user_id: str) -> _User:
        user = self._users.get(user_id)
        if user is None:
            raise _not_found(f"account {user_id}")
        return user

    # -- validation (never mutates) -------------------------------------------------------

    @staticmethod
    def _require_trading(book: _Book) -> None:
        if book.state.status is not MarketStatus.ACTIVE:
            raise _reject(400, "MARKET_INACTIVE", f"market {book.state.ticker} is {book.state.status}, not active")

    @staticmethod
    def _require_open(book: _Book) -> None:
        """Cancels/decreases are allowed while paused, not after close (market_lifecycle.md)."""
        if book.state.status not in (MarketStatus.ACTIVE, MarketStatus.INACTIVE):
            raise _reject(400, "MARKET_INACTIVE", f"market {book.state.ticker} is {book.state.status}")

    @staticmethod
    def _check_price(book: _Book, price: int) -> None:
        if type(price) is not int or not book.state.grid.is_valid_order_price(price):
            shown = format_price(price) if type(price) is int else repr(price)
            raise _reject(
                400,
                "invalid_order",
                f"price {shown} is not a valid order price for {book.state.ticker}: it must be strictly "
                f"between 0 and 1 on the market's price grid ({_describe_grid(book.state)})",
            )

    @staticmethod
    def _check_count(count: int, what: str = "count") -> None:
        if type(count) is not int or not 0 < count <= MAX_ORDER_COUNT:
            raise _reject(
                400,
                "invalid_order_size",
                f"{what} must be between 0.01 and 1000000.00 contracts in whole hundredths, not {count!r} hundredths",
            )

    @staticmethod
    def _check_time_in_force(req: NewOrder, now: int) -> None:
        if req.expiration_ms is None:
            return
        if req.time_in_force is not TimeInForce.GOOD_TILL_CANCELED:
            raise _reject(400, "invalid_order", "Cannot specify both immediate_or_cancel and expiration_ts")
        if req.expiration_ms <= now:
            raise _reject(400, "invalid_order", "Expiration timestamp must be in the future")

    def _order_group_for(self, user: _User, group_id: str | None) -> OrderGroup | None:
        if group_id is None:
            return None
        group = user.groups.get(group_id)
        if group is None:
            raise _not_found(f"order group {group_id}")
        if group.triggered:
            raise _reject(400, "invalid_order", f"order group {group_id} is triggered; reset it to place orders")
        return group

    @staticmethod
    def _reduce_only_cap(user: _User, ticker: str, side: BookSide, count: int) -> Qty:
        position = user.account.positions.get(ticker)
        held = position.position if position is not None else 0
        reducible = max(-held, 0) if side is BookSide.BID else max(held, 0)
        if reducible == 0:
            raise _reject(400, "invalid_order", "reduce only order would increase position")
        return Qty(min(count, reducible))

    @staticmethod
    def _check_balance(user: _User, needed: int, freed: int = 0) -> None:
        if user.account.cash + freed < needed:
            raise _reject(
                400,
                "insufficient_balance",
                f"order needs {format_price(needed)} of collateral; available balance is "
                f"{format_price(user.account.cash + freed)}",
            )

    @staticmethod
    def _crosses(book: _Book, side: BookSide, yes_price: int) -> bool:
        if side is BookSide.BID:
            return bool(book.no.prices) and book.no.prices[-1] >= PRICE_SCALE - yes_price
        return bool(book.yes.prices) and book.yes.prices[-1] >= yes_price

    def _check_post_only(self, book: _Book, side: BookSide, yes_price: int) -> None:
        if self._crosses(book, side, yes_price):
            raise _reject(400, "invalid_order", "post only order would cross the book", "post only cross")

    @staticmethod
    def _fill_or_kill_plan(book: _Book, user: _User, side: BookSide, yes_price: int, count: int, stp: str) -> str:
        """``"fill"`` if non-self liquidity within the limit covers ``count``, ``"ioc"`` if not but
        the order would self-cross (FoK that self-crosses behaves like IoC), else ``"kill"``."""
        opposite = book.no if side is BookSide.BID else book.yes
        threshold = PRICE_SCALE - yes_price if side is BookSide.BID else yes_price
        available = 0
        self_cross = False
        for key in reversed(opposite.prices):
            if key < threshold:
                break
            for rec in opposite.levels[key].queue:
                if not rec.alive:
                    continue
                if rec.user is user:
                    if stp == SelfTradePrevention.TAKER_AT_CROSS:
                        return "ioc"
                    self_cross = True
                    continue
                available += rec.order.remaining
                if available >= count:
                    return "fill"
        return "ioc" if self_cross else "kill"

    # -- order entry ----------------------------------------------------------------------

    def place(self, user_id: str, req: NewOrder) -> PlaceResult:
        """Create an order (V2 semantics); see the module docstring for the rules."""
        now = self._clock()
        if self._expiries and self._expiries[0][0] <= now:
            self._expire_due(now)
        user = self._user(user_id)
        book = self._book(req.ticker)
        self._require_trading(book)
        group = self._order_group_for(user, req.order_group_id)
        self._check_time_in_force(req, now)
        self._check_price(book, req.price)
        self._check_count(req.count)
        if req.client_order_id and req.client_order_id in user.coids:
            raise _reject(409, "order_already_exists", f"an order with client_order_id {req.client_order_id} exists")
        count = self._reduce_only_cap(user, req.ticker, req.side, req.count) if req.reduce_only else req.count
        leg = _leg_price(req.side, req.price)
        collateral = ledger.collateral(leg, count)
        self._check_balance(user, collateral)
        if req.post_only:
            self._check_post_only(book, req.side, req.price)
        tif = req.time_in_force
        plan = "ioc"
        if tif is TimeInForce.FILL_OR_KILL:
            plan = self._fill_or_kill_plan(book, user, req.side, req.price, count, req.self_trade_prevention)

        # ---- validated: from here on nothing raises
        # the 14 required SimOrder fields in order; the optional ones are set only when used
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
            OrderStatus.RESTING,
            tif,
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
        user.orders.append(order)
        if req.client_order_id:
            user.coids.add(req.client_order_id)
        rec = _Rec(order, user, book, book.ladder(req.side), group, leg)
        self._reserve(rec, collateral)

        fills: list[FillRecord] = []
        if plan == "kill":
            self._finish(rec, now, "FillOrKill", announce=False)
        else:
            fills, stop = self._match(rec, now, req.buy_max_cost)
            if order.remaining == 0:
                self._mark_executed(order, now)
            elif stop:
                self._finish(rec, now, stop, announce=False)
            elif tif is not TimeInForce.GOOD_TILL_CANCELED:
                self._finish(rec, now, "ImmediateOrCancel" if plan == "ioc" else "FillOrKill", announce=False)
            elif req.buy_max_cost is not None:
                self._finish(rec, now, "BuyMaxCost", announce=False)
            else:
                self._rest(rec, now)
        if self._listeners:
            self._emit(OrderEvent(order))
            self._flush_tickers(now)
        return self._result(order, fills, now)

    def cancel(self, user_id: str, order_id: str) -> tuple[SimOrder, Qty]:
        """Cancel a resting order: returns the order afterwards and the contracts canceled."""
        now = self._clock()
        self._expire_due(now)
        order = self.order(user_id, order_id)
        self._require_open(self._books[order.ticker])
        rec = self._live.get(order_id)
        if rec is None:
            raise _not_found(f"resting order {order_id}")
        reduced = self._finish(rec, now, "UserCanceled")
        self._flush_tickers(now)
        return order, reduced

    def decrease(
        self, user_id: str, order_id: str, *, reduce_by: Qty | None = None, reduce_to: Qty | None = None
    ) -> SimOrder:
        """Reduce a resting order's remaining count, keeping its queue priority."""
        now = self._clock()
        self._expire_due(now)
        order = self.order(user_id, order_id)
        self._require_open(self._books[order.ticker])
        if (reduce_by is None) == (reduce_to is None):
            raise _reject(400, "invalid_parameters", "exactly one of reduce_by or reduce_to must be provided")
        rec = self._resting_rec(order)
        if reduce_by is not None:
            self._check_count(reduce_by, "reduce_by")
            target = max(order.remaining - reduce_by, 0)
        else:
            assert reduce_to is not None
            if type(reduce_to) is not int or reduce_to < 0:
                raise _reject(400, "invalid_order_size", f"reduce_to must be >= 0, not {reduce_to!r}")
            target = min(reduce_to, order.remaining)
        if target == 0:
            self._finish(rec, now, "Decrease")
        elif target < order.remaining:
            self._shrink(rec, Qty(target), now, "Decrease")
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
    ) -> PlaceResult:
        """Change price and/or total count (= filled + new remaining) of a resting order.

        Priority is kept only when the price is unchanged and the remaining size does not grow;
        otherwise the order leaves the book, may trade as a taker at its new price, and rests at
        the back of its new level."""
        now = self._clock()
        self._expire_due(now)
        user = self._user(user_id)
        order = self.order(user_id, order_id)
        book = self._books[order.ticker]
        if ticker != order.ticker:
            raise _reject(400, "order_ticker_mismatch", f"order {order_id} is on {order.ticker}, not {ticker}")
        if side != order.side:
            raise _reject(400, "order_side_mismatch", f"order {order_id} is a {order.side} order, not {side}")
        if client_order_id is not None and client_order_id != order.client_order_id:
            raise _reject(
                400, "order_id_and_client_order_id_mismatch", f"order {order_id} has a different client_order_id"
            )
        self._require_trading(book)
        rec = self._resting_rec(order)
        self._check_price(book, price)
        self._check_count(count)
        new_remaining = count - order.filled
        if new_remaining <= 0:
            raise _reject(400, "invalid_order_size", f"count must exceed the filled count {format_qty(order.filled)}")
        if order.reduce_only:
            new_remaining = self._reduce_only_cap(user, order.ticker, side, new_remaining)
        new_coid = updated_client_order_id
        if new_coid is not None and new_coid != order.client_order_id and new_coid in user.coids:
            raise _reject(409, "order_already_exists", f"an order with client_order_id {new_coid} exists")
        new_leg = _leg_price(side, price)
        new_collateral = ledger.collateral(new_leg, new_remaining)
        self._check_balance(user, new_collateral, freed=rec.collateral)
        keeps_priority = price == order.price and new_remaining <= order.remaining
        if order.post_only and not keeps_priority:
            self._check_post_only(book, side, price)

        # ---- validated
        if new_coid is not None and new_coid != order.client_order_id:
            user.coids.add(new_coid)
            order.client_order_id = new_coid
        order.initial = Qty(order.filled + new_remaining)
        fills: list[FillRecord] = []
        if keeps_priority:
            if new_remaining < order.remaining:
                self._shrink(rec, Qty(new_remaining), now, "Amend")
            else:
                order.updated_ms = now
                order.last_update_reason = "Amend"
                self._emit(OrderEvent(order))
        else:
            fills = self._reprice(rec, Price(price), Qty(new_remaining), new_collateral, now)
        self._flush_tickers(now)
        return self._result(order, fills, now)

    def _reprice(self, rec: _Rec, price: Price, remaining: Qty, collateral: int, now: int) -> list[FillRecord]:
        """Amend that loses priority: leave the book, trade as a taker, rest at the back."""
        order = rec.order
        old_key, old_remaining = rec.leg, order.remaining
        self._touch(rec.book)
        rec.ladder.take(rec)
        self._forget_resting(rec)
        fresh = rec.requeued()
        fresh.leg = _leg_price(order.side, price)
        order.price = price
        order.remaining = remaining
        order.updated_ms = now
        order.last_update_reason = "Amend"
        self._reserve(fresh, collateral - fresh.collateral)
        if self._listeners:
            self._delta(rec, -old_remaining, now, key=old_key)
        fills, stop = self._match(fresh, now, None)
        if order.remaining == 0:
            self._mark_executed(order, now)
        elif stop:
            self._finish(fresh, now, stop, announce=False)
        else:
            self._rest(fresh, now)
        if self._listeners:
            self._emit(OrderEvent(order))
        return fills

    def _resting_rec(self, order: SimOrder) -> _Rec:
        rec = self._live.get(order.order_id)
        if rec is None:
            raise _reject(400, "invalid_order", f"order {order.order_id} is {order.status}, not resting")
        return rec

    # -- matching -------------------------------------------------------------------------

    def _match(self, taker: _Rec, now: int, budget: Money | None) -> tuple[list[FillRecord], str]:
        """Trade ``taker`` against the opposite ladder; returns its fills and why it stopped
        early (``""`` if it ran out of size or of crossing liquidity)."""
        order = taker.order
        book = taker.book
        opposite = book.no if order.side is BookSide.BID else book.yes
        threshold = PRICE_SCALE - order.price if order.side is BookSide.BID else order.price
        prices = opposite.prices
        fills: list[FillRecord] = []
        budget_micros = None if budget is None else budget * fees.MICROS_PER_MONEY
        while order.remaining > 0 and prices and prices[-1] >= threshold:
            key = prices[-1]
            maker = opposite.front(opposite.levels[key])
            if maker.user is taker.user:
                if order.self_trade_prevention is SelfTradePrevention.TAKER_AT_CROSS:
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

    def _execute(self, taker: _Rec, maker: _Rec, qty: Qty, now: int) -> FillRecord:
        """One match: ``qty`` at the maker's price. Mutates everything, then emits."""
        book = taker.book
        state = book.state
        self._touch(book)
        key = maker.leg
        maker_order = maker.order
        taker_order = taker.order
        taker_order.remaining = Qty(taker_order.remaining - qty)
        taker_order.filled = Qty(taker_order.filled + qty)
        taker_order.updated_ms = now
        maker_order.remaining = Qty(maker_order.remaining - qty)
        maker_order.filled = Qty(maker_order.filled + qty)
        maker_order.updated_ms = now
        maker_order.last_update_reason = "Fill"
        ladder = maker.ladder
        level = ladder.levels[key]
        level.total -= qty
        if maker_order.remaining == 0:
            level.queue.popleft()  # the maker is always at the front of its level
            maker.alive = False
            maker_order.status = OrderStatus.EXECUTED
            self._forget_resting(maker)
            if level.total == 0:
                ladder.drop(key)

        trade = Trade(self._new_id(), state.ticker, maker_order.price, qty, taker_order.side, now)
        taker_fill, taker_paid = self._book_fill(taker, trade, PRICE_SCALE - key, is_taker=True)
        maker_fill, maker_paid = self._book_fill(maker, trade, key, is_taker=False)
        self.fees_collected = Money(self.fees_collected + taker_paid + maker_paid - qty * ledger.MONEY_PER_QTY)
        state.last_price = trade.price
        state.volume = Qty(state.volume + qty)
        self._trades.append(trade)
        book.trades.append(trade)

        if self._listeners:
            emit = self._emit
            emit(TradeEvent(trade))
            emit(FillEvent(taker_fill))
            emit(FillEvent(maker_fill))
            self._delta(maker, -qty, now, key=key)
            emit(OrderEvent(maker_order))
            accounts = taker.user.account.positions, maker.user.account.positions
            emit(PositionEvent(taker_order.user_id, accounts[0][state.ticker]))
            emit(PositionEvent(maker_order.user_id, accounts[1][state.ticker]))
        if taker.group is not None:
            self._count_group_fill(taker.group, qty, now)
        if maker.group is not None:
            self._count_group_fill(maker.group, qty, now)
        return taker_fill

    def _book_fill(self, rec: _Rec, trade: Trade, leg_price: int, *, is_taker: bool) -> tuple[FillRecord, Money]:
        """Release the filled part's collateral, then book the purchase into cash and position."""
        order = rec.order
        account = rec.user.account
        book = rec.book
        remaining_collateral = -(-rec.leg * order.remaining // QTY_SCALE)  # ledger.collateral, inlined
        released = rec.collateral - remaining_collateral
        rec.collateral = remaining_collateral
        account.reserved = Money(account.reserved - released)
        account.cash = Money(account.cash + released)
        position = account.positions.get(order.ticker)
        if position is None:
            position = account.positions[order.ticker] = PositionState(order.ticker)
        count = trade.count
        fee = fees.rule_fee(book.fee_rule(is_taker), leg_price, count)
        booking = ledger.book_purchase(
            account, position, order.side.outcome, leg_price, count, fee, rec.acc, trade.ts_ms
        )
        rec.acc = booking.accumulator_micros
        order.fee_accumulator = Money(rec.acc // fees.MICROS_PER_MONEY)
        if is_taker:
            order.taker_fill_cost = Money(order.taker_fill_cost + booking.leg_cost)
            order.taker_fees = Money(order.taker_fees + booking.fee)
        else:
            order.maker_fill_cost = Money(order.maker_fill_cost + booking.leg_cost)
            order.maker_fees = Money(order.maker_fees + booking.fee)
        state = book.state
        state.open_interest = Qty(state.open_interest + booking.open_interest_delta)
        # FillRecord fields in order (positional: frozen dataclasses are slow to build by keyword)
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
        rec.user.fills.append(fill)
        return fill, booking.paid

    # -- resting, shrinking, finishing ----------------------------------------------------

    @staticmethod
    def _reserve(rec: _Rec, amount: int) -> None:
        account = rec.user.account
        account.cash = Money(account.cash - amount)
        account.reserved = Money(account.reserved + amount)
        rec.collateral += amount

    def _rest(self, rec: _Rec, now: int) -> None:
        order = rec.order
        self._touch(rec.book)
        rec.ladder.append(rec)
        self._live[order.order_id] = rec
        if rec.group is not None:
            self._group_resting[rec.group.group_id][order.order_id] = rec
        if order.expiration_ms is not None:
            self._expiry_seq += 1
            heapq.heappush(self._expiries, (order.expiration_ms, self._expiry_seq, order.order_id))
        if self._listeners:
            self._delta(rec, order.remaining, now)

    def _forget_resting(self, rec: _Rec) -> None:
        order_id = rec.order.order_id
        del self._live[order_id]
        if rec.group is not None:
            self._group_resting[rec.group.group_id].pop(order_id, None)

    def _shrink(self, rec: _Rec, remaining: Qty, now: int, reason: str) -> None:
        """Reduce a resting order in place (keeps priority) and release its surplus collateral."""
        order = rec.order
        self._touch(rec.book)
        delta = remaining - order.remaining
        rec.ladder.levels[rec.leg].total += delta
        order.remaining = remaining
        order.updated_ms = now
        order.last_update_reason = reason
        self._release(rec, rec.collateral - ledger.collateral(rec.leg, remaining))
        if self._listeners:
            self._delta(rec, delta, now)
            self._emit(OrderEvent(order))

    @staticmethod
    def _release(rec: _Rec, amount: int) -> None:
        account = rec.user.account
        account.reserved = Money(account.reserved - amount)
        account.cash = Money(account.cash + amount)
        rec.collateral -= amount

    def _finish(self, rec: _Rec, now: int, reason: str, *, announce: bool = True) -> Qty:
        """End an order's life with its remainder canceled; returns the contracts canceled."""
        order = rec.order
        reduced = order.remaining
        was_resting = rec.alive
        if was_resting:
            self._touch(rec.book)
            rec.ladder.take(rec)
            self._forget_resting(rec)
        self._release(rec, rec.collateral)
        order.remaining = Qty(0)
        order.status = OrderStatus.CANCELED if reduced else OrderStatus.EXECUTED
        order.updated_ms = now
        order.last_update_reason = reason
        if self._listeners:
            if was_resting:
                self._delta(rec, -reduced, now)
            if announce:
                self._emit(OrderEvent(order))
        return reduced

    @staticmethod
    def _mark_executed(order: SimOrder, now: int) -> None:
        order.status = OrderStatus.EXECUTED
        order.updated_ms = now
        order.last_update_reason = "Fill"

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
            rec = self._live.get(order_id)
            if rec is not None and rec.order.expiration_ms == expiration:
                self._finish(rec, now, "Expired")
                expired.append(rec.order)
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
            raise _not_found(f"order {order_id}")
        return order

    def orders(self, user_id: str) -> list[SimOrder]:
        return self._user(user_id).orders[::-1]

    def fills(self, user_id: str) -> list[FillRecord]:
        return self._user(user_id).fills[::-1]

    def settlements(self, user_id: str) -> list[SettlementRecord]:
        return self._user(user_id).settlements[::-1]

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
        book = self._book(ticker)
        yes_key, yes_size = book.yes.best()
        no_key, no_size = book.no.best()
        return (
            None if yes_key is None else Price(yes_key),
            Qty(yes_size),
            None if no_key is None else Price(no_key),
            Qty(no_size),
        )

    def queue_position(self, user_id: str, order_id: str) -> Qty:
        """Contracts ahead of the order at its price level (0 if it is not resting)."""
        self.order(user_id, order_id)
        rec = self._live.get(order_id)
        if rec is None:
            return Qty(0)
        ahead = 0
        for other in rec.ladder.levels[rec.leg].queue:
            if other is rec:
                break
            if other.alive:
                ahead += other.order.remaining
        return Qty(ahead)

    # -- order groups ---------------------------------------------------------------------

    def create_group(self, user_id: str, contracts_limit: Qty) -> OrderGroup:
        user = self._user(user_id)
        self._check_group_limit(contracts_limit)
        group = OrderGroup(self._new_id(), user_id, contracts_limit)
        user.groups[group.group_id] = group
        self._groups[group.group_id] = group
        self._group_resting[group.group_id] = {}
        self._emit(OrderGroupEvent(user_id, group.group_id, "created", contracts_limit, self._clock()))
        return group

    @staticmethod
    def _check_group_limit(contracts_limit: int) -> None:
        if type(contracts_limit) is not int or not MIN_GROUP_LIMIT <= contracts_limit <= MAX_GROUP_LIMIT:
            raise _reject(400, "invalid_parameters", "contracts_limit must be between 1 and 1000000 contracts")

    def group(self, user_id: str, group_id: str) -> OrderGroup:
        group = self._user(user_id).groups.get(group_id)
        if group is None:
            raise _not_found(f"order group {group_id}")
        return group

    def groups(self, user_id: str) -> list[OrderGroup]:
        return list(self._user(user_id).groups.values())

    def group_orders(self, user_id: str, group_id: str) -> list[SimOrder]:
        self.group(user_id, group_id)
        return [rec.order for rec in self._group_resting[group_id].values()]

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
        group = self.group(user_id, group_id)
        self._check_group_limit(contracts_limit)
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
        del self._users[user_id].groups[group_id]
        del self._groups[group_id]
        del self._group_resting[group_id]
        self._emit(OrderGroupEvent(user_id, group_id, "deleted", group.contracts_limit, now))
        self._flush_tickers(now)

    @staticmethod
    def _window_volume(group: OrderGroup, now: int) -> int:
        cutoff = now - GROUP_WINDOW_MS
        fills = group.recent_fills
        stale = 0
        while stale < len(fills) and fills[stale][0] <= cutoff:
            stale += 1
        if stale:
            del fills[:stale]
        return sum(qty for _, qty in fills)

    def _count_group_fill(self, group: OrderGroup | None, qty: Qty, now: int) -> None:
        if group is None or group.triggered or group.group_id not in self._groups:
            return
        group.recent_fills.append((now, qty))
        if self._window_volume(group, now) > group.contracts_limit:
            self._trigger(group, now)

    def _trigger(self, group: OrderGroup, now: int) -> None:
        group.triggered = True
        self._cancel_group_orders(group, now, "OrderGroupTriggered")
        self._emit(OrderGroupEvent(group.user_id, group.group_id, "triggered", group.contracts_limit, now))

    def _cancel_group_orders(self, group: OrderGroup, now: int, reason: str) -> None:
        for rec in list(self._group_resting[group.group_id].values()):
            self._finish(rec, now, reason)

    # -- lifecycle ------------------------------------------------------------------------

    def set_market_status(self, ticker: str, status: MarketStatus) -> None:
        """Move a market between initialized/active/inactive/closed/disputed (see module docstring).

        Determination and settlement go through ``determine`` and ``settle``."""
        book = self._book(ticker)
        state = book.state
        old = state.status
        status = MarketStatus(status)
        if status is old:
            return
        self._check_transition(state, status)
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

    @staticmethod
    def _check_transition(state: MarketState, status: MarketStatus) -> None:
        old = state.status
        allowed: dict[MarketStatus, tuple[MarketStatus, ...]] = {
            MarketStatus.ACTIVE: (MarketStatus.INITIALIZED, MarketStatus.INACTIVE, MarketStatus.CLOSED),
            MarketStatus.INACTIVE: (MarketStatus.ACTIVE,),
            MarketStatus.CLOSED: (MarketStatus.INITIALIZED, MarketStatus.ACTIVE, MarketStatus.INACTIVE),
            MarketStatus.DISPUTED: (MarketStatus.DETERMINED, MarketStatus.AMENDED),
        }
        if old not in allowed.get(status, ()):
            hint = " (use determine/settle)" if status in _RESULT_STATUSES else ""
            raise _reject(400, "invalid_parameters", f"market {state.ticker} cannot go from {old} to {status}{hint}")

    def _cancel_market_orders(self, book: _Book, now: int, reason: str, *, only_cancel_on_pause: bool = False) -> None:
        for rec in book.resting():
            if not only_cancel_on_pause or rec.order.cancel_order_on_pause:
                self._finish(rec, now, reason)

    def determine(self, ticker: str, result: Literal["yes", "no"]) -> None:
        """Set the result. A trading market is closed first (its resting orders canceled); a
        disputed market becomes ``amended``."""
        book = self._book(ticker)
        state = book.state
        if result not in ("yes", "no"):
            raise _reject(400, "invalid_parameters", f"result must be 'yes' or 'no', not {result!r}")
        if state.status in (MarketStatus.DETERMINED, MarketStatus.AMENDED, MarketStatus.FINALIZED):
            raise _reject(400, "invalid_parameters", f"market {ticker} is already {state.status}")
        now = self._clock()
        if state.status in (MarketStatus.INITIALIZED, MarketStatus.ACTIVE, MarketStatus.INACTIVE):
            state.status = MarketStatus.CLOSED
            self._cancel_market_orders(book, now, "MarketClosed")
        state.status = MarketStatus.AMENDED if state.status is MarketStatus.DISPUTED else MarketStatus.DETERMINED
        state.result = result
        state.settlement_value = Price(PRICE_SCALE if result == "yes" else 0)
        self._emit(MarketEvent(ticker, "determined", now))
        self._flush_tickers(now)

    def settle(self, ticker: str) -> list[SettlementRecord]:
        """Pay $1 per net winning contract, record settlements, drop the positions, finalize."""
        book = self._book(ticker)
        state = book.state
        if state.status not in (MarketStatus.DETERMINED, MarketStatus.AMENDED) or state.result not in ("yes", "no"):
            raise _reject(400, "invalid_parameters", f"market {ticker} is {state.status}, not determined")
        result: Literal["yes", "no"] = "yes" if state.result == "yes" else "no"
        now = self._clock()
        self._touch(book)
        records: list[SettlementRecord] = []
        settled: list[tuple[str, PositionState]] = []
        for user_id, user in self._users.items():
            position = user.account.positions.get(ticker)
            if position is None:
                continue
            payout = ledger.settle_position(user.account, position, result, now)
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
                value=Price(PRICE_SCALE if result == "yes" else 0),
                fee_cost=position.fees_paid,
                settled_ms=now,
            )
            user.settlements.append(record)
            records.append(record)
            settled.append((user_id, position))
        state.open_interest = Qty(0)
        state.status = MarketStatus.FINALIZED
        for user_id, position in settled:
            self._emit(PositionEvent(user_id, position))
            del self._users[user_id].account.positions[ticker]
        self._emit(MarketEvent(ticker, "settled", now))
        self._flush_tickers(now)
        return records
