"""The bot's order book-keeping: order lifecycle, fills, positions and P&L. Pure: no I/O, no clock.

Contract:
- Inputs are domain values and plain arguments (``OrderIntent``, ``Order``, ``Fill``, ids, counts,
  exchange timestamps) — never JSON. The adapter parses; the engine calls; this module only counts.
- **Lifecycle** of one order, keyed by its ``client_order_id`` (the exchange's ``order_id`` is an
  alias once known)::

      pending ──ack──► resting ──fill──► partially_filled ──fill──► executed
         │                 │                    │
         └─► rejected      └──cancel/expiry/IOC remainder──► canceled (fills already made stand)

  ``pending``: submitted, no word from the exchange yet. ``rejected``: the exchange refused it
  (``on_rejected``; only a pending order can be rejected). ``executed`` and ``canceled`` are final:
  a late report saying ``resting`` is stale and ignored, but fills that arrive after a cancel still
  count (they happened before it). A report from the exchange about a ``rejected`` order wins —
  the order exists after all.
- **Three sources, any order.** Acks (``on_ack``, ``on_amended``, ``on_canceled``), order reports
  (``on_order_update``: the WS ``user_orders`` stream and REST reconciliation snapshots) and fills
  (``on_fill``) may arrive in any order. A create ack and each order report give the exchange's
  *filled* and *remaining* counts; their sum is the order's size (it changes on amend). An amend
  or decrease answer given the order's new total, and a cancel answer's ``reduced_by``, say what
  the exchange has filled too (the total, or the size, less what rests). The tracker keeps
  ``filled`` as the largest figure any source has given (the exchange's reported count or the sum
  of the fills seen), so a stale report can never un-fill an order, and ``remaining = size −
  filled``. A report older (by exchange ``ts_ms``) than one already applied
  only raises ``filled``. An order report for an order the tracker never saw (placed before a
  restart, or by hand) adopts it. A report whose status is ``unknown`` closes nothing: its counts
  decide (nothing remaining → ended).
- **Why it changed.** ``last_update_reason`` is the exchange's reason (``Trade``, ``Amend``,
  ``ExpiryCancel``, ``SettlementBoundsCancel`` …) of the newest report applied while the order was
  open — so once the order has ended, the reason of the report that ended it; "" when that report
  gave none (a create, or a cancel we asked for: a cancel ack that ends the order sets "").
- **Fills** are de-duplicated by ``fill_id`` (``on_fill`` returns False for a repeat). Positions come
  from fills only — the ``fill`` stream is the truth; order reports never move a position. A fill for
  an order not yet known by its ``order_id`` still moves the position at once and is attached to the
  order when an ack or report names that ``order_id``.
- **Positions** are signed and netted per market: > 0 long YES, < 0 long NO. A bid fill buys YES at
  the fill's YES price; an ask fill buys NO at ``$1 − price``. Buying the leg opposite to the one held
  closes (one YES + one NO pay exactly $1): the closed part realizes ``exit − average cost``, where
  the exit price of the held leg is ``$1 −`` the price paid for the other leg. Any excess opens a
  position on the other leg at the fill's price.
- **Settlement** (``on_settlement``) pays the net position ($1 per winning contract, the scalar value
  per YES contract) and realizes ``payout − cost``; the market's position becomes flat. A market
  settles **once**: a second settlement of it (the lifecycle feed and reconciliation both report
  it, or a restart replays it) changes nothing and returns None, whatever its value. A fill in a
  market already settled (one that happened before the settlement but arrived after it) is settled
  at once at the same value, so fills and the settlement may arrive in any order. A market never
  traded is marked settled without a position being made for it (unless a ``fee`` is charged).
  ``settled_value`` reads the YES value a market settled at; ``first_fill_ms`` the earliest
  exchange timestamp of any fill applied (where a search for settlements can start).
- **Money.** Internally every amount is in exact micro-dollars ($0.000001 = a ``Price`` unit times a
  ``Qty`` unit), so fractional contracts at sub-penny prices lose nothing. Reads convert to ``Money``
  ($0.0001) once, toward safety: costs round up, P&L rounds down. ``realized_pnl`` is gross of fees;
  ``fees_paid`` is the fees charged on fills and settlements; ``net_pnl`` is realized + unrealized −
  fees. Unrealized P&L values each open position at the caller's YES mark (``leg_price`` of it for
  NO positions); a position without a mark counts as worth its cost (0 unrealized).
- **Reads are kept.** An order reads as one frozen ``TrackedOrder`` until it changes again;
  ``revision`` (any order), ``market_revision(ticker)`` (one market's orders) and
  ``positions_revision`` grow with every change, so a reader may keep what it built from a read
  while the figure stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import msgspec

from kalshi_trader.domain import (
    PRICE_SCALE,
    BookSide,
    Fill,
    IntentAction,
    Money,
    Order,
    OrderIntent,
    OrderStatus,
    Position,
    Price,
    Qty,
    Side,
    TimeInForce,
    leg_price,
)

__all__ = ["OrderState", "OrderTracker", "SettlementResult", "TrackedOrder"]

_MICROS_PER_MONEY = 100
"""Micro-dollars per ``Money`` unit; a ``Price`` times a ``Qty`` is in micro-dollars."""


class OrderState(StrEnum):
    PENDING = "pending"
    RESTING = "resting"
    PARTIALLY_FILLED = "partially_filled"
    EXECUTED = "executed"
    CANCELED = "canceled"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        """Could still trade: pending, resting or partially filled."""
        return self in _OPEN_STATES


_OPEN_STATES = frozenset({OrderState.PENDING, OrderState.RESTING, OrderState.PARTIALLY_FILLED})
_CLOSED_STATUSES = {OrderStatus.CANCELED: OrderState.CANCELED, OrderStatus.EXECUTED: OrderState.EXECUTED}


class TrackedOrder(msgspec.Struct, frozen=True):
    """What the bot knows about one of its orders, at one moment. ``price`` is the YES price (a
    struct: every read of open orders builds one per order)."""

    client_order_id: str
    order_id: str | None
    ticker: str
    side: BookSide
    price: Price
    state: OrderState
    size: Qty
    """Filled + remaining as the exchange last said (the submitted size until it says anything)."""
    filled: Qty
    remaining: Qty
    fill_qty: Qty
    """Sum of the fills received for this order (what has moved the position)."""
    fees: Money
    tif: TimeInForce
    post_only: bool
    reduce_only: bool
    strategy: str
    reason: str
    reject_reason: str
    exchange_ms: int
    """Exchange timestamp of the newest report applied (0: none carried one)."""
    last_update_reason: str = ""
    """Why the exchange last changed the order; once ended, why it ended (see the module docstring)."""

    @property
    def outcome(self) -> Side:
        return self.side.outcome

    @property
    def unconfirmed_fill_qty(self) -> Qty:
        """Contracts the exchange reports filled whose fills have not arrived yet."""
        return Qty(self.filled - self.fill_qty)


@dataclass(frozen=True, slots=True)
class SettlementResult:
    """What a settlement did to one market's position."""

    ticker: str
    qty: Qty
    """The net position that settled (signed)."""
    yes_value: Price
    """Payout per YES contract: $1 (YES won), $0 (NO won) or a scalar value."""
    payout: Money
    pnl: Money
    """Payout − cost of the settled position (gross of fees)."""


@dataclass(slots=True)
class _Entry:
    client_order_id: str
    ticker: str
    side: BookSide
    price: Price
    submitted: int
    size: int
    tif: TimeInForce
    post_only: bool
    reduce_only: bool
    strategy: str
    reason: str
    order_id: str | None = None
    filled_reported: int = 0
    fill_qty: int = 0
    fees: int = 0
    closed: OrderState | None = None
    reject_reason: str = ""
    exchange_ms: int = 0
    intent: OrderIntent | None = None
    last_update_reason: str = ""
    seq: int = 0
    """Position among the tracker's orders (reads list orders in this order)."""
    shown: TrackedOrder | None = field(default=None, compare=False, repr=False)
    """``view()`` as built after the last change (every change ends with the tracker's
    ``_reindex``, which drops it)."""

    @property
    def filled(self) -> int:
        return max(self.filled_reported, self.fill_qty)

    @property
    def remaining(self) -> int:
        return 0 if self.closed is not None else max(0, self.size - self.filled)

    @property
    def state(self) -> OrderState:
        return self._state(self.filled, self.remaining)

    def _state(self, filled: int, remaining: int) -> OrderState:
        if self.closed is not None:
            return self.closed
        if remaining == 0:
            return OrderState.EXECUTED if filled else OrderState.CANCELED
        if filled:
            return OrderState.PARTIALLY_FILLED
        return OrderState.PENDING if self.order_id is None else OrderState.RESTING

    def view(self) -> TrackedOrder:
        """What the order is now (one object until it changes again)."""
        shown = self.shown
        if shown is None:
            shown = self.shown = self.build_view()
        return shown

    def build_view(self) -> TrackedOrder:
        filled, remaining = self.filled, self.remaining
        return TrackedOrder(
            client_order_id=self.client_order_id,
            order_id=self.order_id,
            ticker=self.ticker,
            side=self.side,
            price=self.price,
            state=self._state(filled, remaining),
            size=Qty(self.size),
            filled=Qty(filled),
            remaining=Qty(remaining),
            fill_qty=Qty(self.fill_qty),
            fees=Money(self.fees),
            tif=self.tif,
            post_only=self.post_only,
            reduce_only=self.reduce_only,
            strategy=self.strategy,
            reason=self.reason,
            reject_reason=self.reject_reason,
            exchange_ms=self.exchange_ms,
            last_update_reason=self.last_update_reason,
        )


@dataclass(slots=True)
class _Holding:
    """One market's netted position in exact micro-dollars."""

    qty: int = 0
    cost: int = 0
    realized: int = 0
    fees: int = 0

    def buy(self, side: BookSide, price: int, qty: int) -> None:
        """Buy ``qty`` contracts of ``side``'s leg at YES price ``price``, netting against the other leg."""
        leg = leg_price(price, side)
        sign = 1 if side is BookSide.BID else -1
        if self.qty * sign < 0:  # holding the other leg: close first
            held = abs(self.qty)
            closing = min(qty, held)
            removed = self.cost if closing == held else self.cost * closing // held
            self.realized += (PRICE_SCALE - leg) * closing - removed
            self.cost -= removed
            self.qty += sign * closing
            qty -= closing
        self.cost += leg * qty
        self.qty += sign * qty

    def settle(self, yes_value: int) -> tuple[int, int]:
        """Pay the position at ``yes_value`` per YES contract and go flat: (payout, P&L)."""
        payout = self.value(yes_value)
        pnl = payout - self.cost
        self.realized += pnl
        self.qty = 0
        self.cost = 0
        return payout, pnl

    def value(self, yes_price: int) -> int:
        """What the position pays if each contract is worth ``yes_price`` (YES) / $1 − it (NO)."""
        return self.qty * yes_price if self.qty >= 0 else -self.qty * (PRICE_SCALE - yes_price)

    def view(self, ticker: str) -> Position:
        return Position(
            ticker=ticker,
            qty=Qty(self.qty),
            cost=_money_up(self.cost),
            realized_pnl=_money_down(self.realized),
            fees_paid=Money(self.fees),
        )


def _money_down(micros: int) -> Money:
    return Money(micros // _MICROS_PER_MONEY)


def _money_up(micros: int) -> Money:
    return Money(-(-micros // _MICROS_PER_MONEY))


class OrderTracker:
    """Orders, fills, positions and P&L of one account. See the module docstring for the contract."""

    def __init__(self) -> None:
        self._orders: dict[str, _Entry] = {}
        self._by_order_id: dict[str, _Entry] = {}
        self._open: dict[str, dict[int, _Entry]] = {}
        """ticker → seq → the open orders of that market (kept in step with every state change)."""
        self._orphans: dict[str, tuple[int, int]] = {}
        """order_id → (qty, fees) of fills received before the order was known by that id."""
        self._fill_ids: set[str] = set()
        self._holdings: dict[str, _Holding] = {}
        self._settled: dict[str, int] = {}
        """ticker → the YES value (a ``Price``) the market settled at."""
        self._first_fill_ms = 0
        self._revision = 0
        self._market_revisions: dict[str, int] = {}
        self._positions_revision = 0

    # ---------------------------------------------------------------------------------------
    # Inputs: our own requests and the exchange's answers

    def on_submitted(self, intent: OrderIntent) -> TrackedOrder:
        """A create request is about to leave: the order is ``pending``. Submitting the same
        ``client_order_id`` again with the same terms (a retry) is a no-op; with other terms it is
        a bug and raises ``ValueError``."""
        if intent.action is not IntentAction.PLACE:
            raise ValueError(f"on_submitted takes a place intent, not {intent.action.value}")
        if intent.qty <= 0:
            raise ValueError(f"order {intent.client_order_id}: size must be positive")
        known = self._orders.get(intent.client_order_id)
        if known is not None:
            if known.intent != intent:
                raise ValueError(f"client_order_id {intent.client_order_id} is already used by another order")
            return known.view()
        entry = _Entry(
            client_order_id=intent.client_order_id,
            ticker=intent.ticker,
            side=intent.side,
            price=intent.price,
            submitted=intent.qty,
            size=intent.qty,
            tif=intent.tif,
            post_only=intent.post_only,
            reduce_only=intent.reduce_only,
            strategy=intent.strategy,
            reason=intent.reason,
            intent=intent,
        )
        self._add(entry)
        return entry.view()

    def on_ack(
        self, client_order_id: str, *, order_id: str, filled: int, remaining: int, ts_ms: int = 0
    ) -> TrackedOrder:
        """The create response: the exchange's ``order_id`` and the counts filled on placement and
        left resting. ``remaining == 0`` with less than the submitted size filled means the rest was
        canceled (an IOC/FOK remainder)."""
        entry = self._require(client_order_id)
        self._link(entry, order_id)
        if remaining == 0 and filled < entry.submitted:
            closed: OrderState | None = OrderState.CANCELED
        elif remaining == 0:
            closed = OrderState.EXECUTED
        else:
            closed = None
        self._report(entry, filled=filled, remaining=remaining, closed=closed, ts_ms=ts_ms)
        self._reindex(entry)
        return entry.view()

    def on_amended(
        self, key: str, *, price: int, size: int | None = None, remaining: int | None = None, ts_ms: int = 0
    ) -> TrackedOrder:
        """An amend or decrease answer: the new YES price; ``size``, the order's new total (filled
        included) when the request set it — an amend's count, what a decrease left — and
        ``remaining``, the contracts the answer says rest (when it says). With both, the exchange
        has filled ``size − remaining``, which counts as reported at once: fills made before the
        answer (or by the amend itself) that have not arrived yet neither make the order read
        short nor, when they arrive, finished while it still rests. Without ``size`` the size
        becomes what is known filled plus ``remaining``. (Kalshi's amend ``fill_count`` counts only
        the amend's own fills, which the fill stream delivers anyway.)"""
        entry = self._require(key)
        if entry.closed is not None or (ts_ms and ts_ms < entry.exchange_ms):
            return entry.view()
        entry.price = Price(price)
        entry.exchange_ms = max(entry.exchange_ms, ts_ms)
        if size is not None:
            entry.size = size
            if remaining is not None:
                entry.filled_reported = max(entry.filled_reported, size - remaining)
        elif remaining is not None:
            entry.size = entry.filled + remaining
        if remaining == 0:
            entry.closed = OrderState.EXECUTED
        self._reindex(entry)
        return entry.view()

    def on_canceled(self, key: str, *, ts_ms: int = 0, reduced_by: int | None = None) -> TrackedOrder:
        """A cancel response (or an expiry): nothing more rests. Fills made before stand. With
        ``reduced_by`` (a cancel's answer: what still rested) the exchange had filled the size less
        that, which counts as reported at once: fills that have not arrived yet are known to come."""
        entry = self._require(key)
        if entry.closed is None or entry.closed is OrderState.REJECTED:
            if reduced_by is not None:
                entry.filled_reported = max(entry.filled_reported, entry.size - reduced_by)
            entry.closed = OrderState.EXECUTED if entry.filled >= entry.size else OrderState.CANCELED
            entry.exchange_ms = max(entry.exchange_ms, ts_ms)
            entry.last_update_reason = ""
        self._reindex(entry)
        return entry.view()

    def on_rejected(self, client_order_id: str, reason: str) -> bool:
        """The exchange refused the create. Only a pending order (no ``order_id``, no fill) can be
        rejected; for any other order this returns False and changes nothing."""
        entry = self._require(client_order_id)
        if entry.order_id is not None or entry.filled or entry.closed is not None:
            return False
        entry.closed = OrderState.REJECTED
        entry.reject_reason = reason
        self._reindex(entry)
        return True

    def on_order_update(self, order: Order, *, strategy: str = "") -> TrackedOrder:
        """An order report (WS ``user_orders`` or a REST snapshot). Unknown orders are adopted, as
        sent by ``strategy`` when given (the record names it); a tracked order that names no
        strategy takes ``strategy``."""
        entry = self._by_order_id.get(order.order_id) or self._orders.get(order.client_order_id)
        if entry is not None and strategy and not entry.strategy:
            entry.strategy = strategy
        if entry is None:
            entry = _Entry(
                client_order_id=order.client_order_id or order.order_id,
                ticker=order.ticker,
                side=order.side,
                price=order.price,
                submitted=order.filled + order.remaining,
                size=order.filled + order.remaining,
                tif=TimeInForce.GOOD_TILL_CANCELED,
                post_only=False,
                reduce_only=False,
                strategy=strategy,
                reason="adopted from an exchange report",
            )
            self._add(entry)
        self._link(entry, order.order_id)
        closed = _CLOSED_STATUSES.get(order.status)
        if closed is OrderState.EXECUTED and order.remaining:
            closed = None  # "executed" with a remainder left is not final: trust the counts
        was_open = entry.closed is None or entry.closed is OrderState.REJECTED
        fresh = self._report(
            entry, filled=order.filled, remaining=order.remaining, closed=closed, ts_ms=order.updated_ms
        )
        if fresh and entry.closed is None:
            entry.price = order.price
        if fresh and was_open:
            entry.last_update_reason = order.last_update_reason
        self._reindex(entry)
        return entry.view()

    def on_fill(self, fill: Fill) -> bool:
        """Apply one fill. Returns False (and changes nothing) if ``fill_id`` was seen before."""
        if fill.fill_id in self._fill_ids:
            return False
        if fill.qty <= 0:
            raise ValueError(f"fill {fill.fill_id}: quantity must be positive, got {fill.qty}")
        self._fill_ids.add(fill.fill_id)
        if fill.ts_ms > 0 and (not self._first_fill_ms or fill.ts_ms < self._first_fill_ms):
            self._first_fill_ms = fill.ts_ms
        self._positions_revision += 1
        holding = self._holdings.setdefault(fill.ticker, _Holding())
        holding.buy(fill.side, fill.price, fill.qty)
        holding.fees += fill.fee
        settled = self._settled.get(fill.ticker)
        if settled is not None:  # made before the settlement, heard of after it: settled with it
            holding.settle(settled)
        entry = self._by_order_id.get(fill.order_id) or (
            self._orders.get(fill.client_order_id) if fill.client_order_id else None
        )
        if entry is None:
            qty, fees = self._orphans.get(fill.order_id, (0, 0))
            self._orphans[fill.order_id] = (qty + fill.qty, fees + fill.fee)
        else:
            self._link(entry, fill.order_id)
            entry.fill_qty += fill.qty
            entry.fees += fill.fee
            self._reindex(entry)
        return True

    def on_settlement(self, ticker: str, result: Side | int, *, fee: int = 0) -> SettlementResult | None:
        """The market settled: ``result`` is the winning side, or the scalar payout per YES
        contract (a ``Price``). ``fee`` is any settlement fee. Returns None if ``ticker`` was
        already settled."""
        if isinstance(result, Side):
            yes_value = PRICE_SCALE if result is Side.YES else 0
        elif 0 <= result <= PRICE_SCALE:
            yes_value = result
        else:
            raise ValueError(f"settlement value {result} is outside $0..$1")
        if ticker in self._settled:
            return None
        self._settled[ticker] = yes_value
        self._positions_revision += 1
        holding = self._holdings.get(ticker)
        if holding is None:
            if not fee:
                return SettlementResult(ticker, Qty(0), Price(yes_value), Money(0), Money(0))
            holding = self._holdings[ticker] = _Holding()
        qty = holding.qty
        payout, pnl = holding.settle(yes_value)
        holding.fees += fee
        return SettlementResult(ticker, Qty(qty), Price(yes_value), _money_down(payout), _money_down(pnl))

    # ---------------------------------------------------------------------------------------
    # Reads

    @property
    def revision(self) -> int:
        """Grows with every change to any order: while it stands, every read of the orders gives
        the same (a reader may keep what it built from them)."""
        return self._revision

    def market_revision(self, ticker: str) -> int:
        """``revision`` for the orders of ``ticker`` alone."""
        return self._market_revisions.get(ticker, 0)

    @property
    def positions_revision(self) -> int:
        """Grows with every fill and settlement: while it stands, ``positions()`` reads the same."""
        return self._positions_revision

    def order(self, key: str) -> TrackedOrder | None:
        """An order by ``client_order_id`` or exchange ``order_id``."""
        entry = self._find(key)
        return None if entry is None else entry.view()

    def orders(self) -> list[TrackedOrder]:
        return [e.view() for e in self._orders.values()]

    def open_orders(self, ticker: str | None = None, *, strategy: str | None = None) -> list[TrackedOrder]:
        """Orders that could still trade (pending, resting, partially filled), in submission order,
        of ``ticker`` / placed by ``strategy`` when given. Read from the index of open orders: it
        costs what is open, not what was ever placed."""
        if ticker is not None:
            market = self._open.get(ticker)
            entries = [market[seq] for seq in sorted(market)] if market else []
            return [e.view() for e in entries if strategy is None or e.strategy == strategy]
        by_seq = {
            seq: e
            for market in self._open.values()
            for seq, e in market.items()
            if strategy is None or e.strategy == strategy
        }
        return [by_seq[seq].view() for seq in sorted(by_seq)]

    def open_count(self) -> int:
        """``len(open_orders())``, without building the orders."""
        return sum(len(market) for market in self._open.values())

    def seen_fill(self, fill_id: str) -> bool:
        return fill_id in self._fill_ids

    def settled_value(self, ticker: str) -> Price | None:
        """The YES value ``ticker`` settled at, None if it has not settled."""
        value = self._settled.get(ticker)
        return None if value is None else Price(value)

    @property
    def first_fill_ms(self) -> int:
        """The earliest exchange timestamp of the fills applied (0: none carried one)."""
        return self._first_fill_ms

    def position(self, ticker: str) -> Position:
        holding = self._holdings.get(ticker)
        return Position(ticker, Qty(0)) if holding is None else holding.view(ticker)

    def positions(self, *, include_flat: bool = False) -> list[Position]:
        """Every market's position; flat ones (with only realized P&L or fees) on request."""
        return [h.view(t) for t, h in self._holdings.items() if include_flat or h.qty]

    def average_cost(self, ticker: str) -> Price | None:
        """Average price paid per contract of the held leg (rounded up), None when flat."""
        holding = self._holdings.get(ticker)
        if holding is None or not holding.qty:
            return None
        return Price(-(-holding.cost // abs(holding.qty)))

    def realized_pnl(self) -> Money:
        """Realized P&L of every market (closes and settlements), gross of fees."""
        return _money_down(sum(h.realized for h in self._holdings.values()))

    def fees_paid(self) -> Money:
        return Money(sum(h.fees for h in self._holdings.values()))

    def unrealized_pnl(self, marks: Mapping[str, int]) -> Money:
        """Open positions valued at ``marks`` (YES prices per ticker) minus their cost."""
        return _money_down(self._unrealized_micros(marks))

    def net_pnl(self, marks: Mapping[str, int]) -> Money:
        """Realized + unrealized − fees: the figure a daily loss limit watches."""
        micros = sum(h.realized - h.fees * _MICROS_PER_MONEY for h in self._holdings.values())
        return _money_down(micros + self._unrealized_micros(marks))

    # ---------------------------------------------------------------------------------------

    def _unrealized_micros(self, marks: Mapping[str, int]) -> int:
        total = 0
        for ticker, holding in self._holdings.items():
            mark = marks.get(ticker)
            if holding.qty and mark is not None:
                total += holding.value(mark) - holding.cost
        return total

    def _add(self, entry: _Entry) -> None:
        """Track a new entry (one adopted under a key already used takes that key's place)."""
        known = self._orders.get(entry.client_order_id)
        if known is not None:
            self._unindex(known)
            if known.ticker != entry.ticker:  # the known entry's market loses an order too
                self._market_revisions[known.ticker] = self._market_revisions.get(known.ticker, 0) + 1
        entry.seq = known.seq if known is not None else len(self._orders)
        self._orders[entry.client_order_id] = entry
        self._reindex(entry)

    def _reindex(self, entry: _Entry) -> None:
        """Put ``entry`` in or out of the open-order index after any change to it, and count the
        change (its view is built again on the next read)."""
        entry.shown = None
        self._revision += 1
        self._market_revisions[entry.ticker] = self._market_revisions.get(entry.ticker, 0) + 1
        if entry.state.is_open and self._orders.get(entry.client_order_id) is entry:
            self._open.setdefault(entry.ticker, {})[entry.seq] = entry
        else:
            self._unindex(entry)

    def _unindex(self, entry: _Entry) -> None:
        market = self._open.get(entry.ticker)
        if market is not None and market.get(entry.seq) is entry:
            del market[entry.seq]
            if not market:
                del self._open[entry.ticker]

    def _find(self, key: str) -> _Entry | None:
        return self._orders.get(key) or self._by_order_id.get(key)

    def _require(self, key: str) -> _Entry:
        entry = self._find(key)
        if entry is None:
            raise KeyError(f"unknown order {key!r}")
        return entry

    def _link(self, entry: _Entry, order_id: str) -> None:
        """Learn ``entry``'s exchange id and attach the fills that arrived under it first."""
        if not order_id or entry.order_id == order_id:
            return
        entry.order_id = order_id
        self._by_order_id[order_id] = entry
        qty, fees = self._orphans.pop(order_id, (0, 0))
        entry.fill_qty += qty
        entry.fees += fees

    @staticmethod
    def _report(entry: _Entry, *, filled: int, remaining: int, closed: OrderState | None, ts_ms: int) -> bool:
        """Apply the exchange's counts. Returns False if the report was older than one applied."""
        entry.filled_reported = max(entry.filled_reported, filled)
        if ts_ms and ts_ms < entry.exchange_ms:
            return False
        entry.exchange_ms = max(entry.exchange_ms, ts_ms)
        if entry.closed is OrderState.REJECTED:
            entry.closed = None  # the exchange knows this order: it was not rejected after all
            entry.reject_reason = ""
        if entry.closed is not None:
            return True  # final states are final; only ``filled`` may still grow
        entry.size = filled + remaining
        entry.closed = closed
        return True
