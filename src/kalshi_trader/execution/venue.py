"""The venue port: what the execution engine needs from a place that trades its orders.

Contract:
- ``Venue`` is one typed protocol of async methods taking and returning ``domain`` values and the
  small value types below — never wire JSON. Two venues implement it: Kalshi (REST + the private
  WebSocket channels; prod, demo and the embedded exchange) and the paper venue
  (``kalshi_trader.paper``), which matches orders against the public book locally.
- **Order entry.** ``place`` answers with the order after matching (an ``Order`` with the
  venue's ``order_id``, filled and remaining counts). ``place_batch`` and ``cancel_batch`` answer
  item by item, in request order: a value, or the ``VenueError`` of that item.
  ``amend`` changes price and/or total size (``AmendRequest.count`` = already filled + wanted
  remaining; a price change or a size increase loses queue priority); ``decrease`` shrinks the
  remaining size keeping priority, by ``reduce_by`` (taken off what the venue has left, all of it
  if that is less: fills the caller has not heard of yet come off too) or to ``reduce_to``
  (exactly one); ``cancel`` ends a resting order; ``cancel_all`` every one. Cancels, decreases
  and reads by ``order_id`` may name the order's market (``ticker`` / ``tickers``): a venue that
  routes by market (Kalshi's shards) needs it to find the order; others ignore it.
  Every create carries a ``client_order_id``: a venue never creates two orders for one id.
- **Reads.** ``get_order`` (``VenueNotFound`` if unknown), ``find_order`` by ``client_order_id``
  (None if the venue never saw it), ``resting_orders``, ``fills_since`` and
  ``settlements_since`` (times in epoch ms; a venue may return a few older entries — callers
  dedupe fills by ``fill_id`` and settlements by ticker), ``settlements_of`` (settlements of the
  given markets that ``settlements_since`` may no longer list: Kalshi hands old ones to its
  historical tier, ``archived``, without counts), ``positions``, ``balance``. Reads of orders
  include finished ones the venue archived.
- **Order groups**: a group cancels its orders and refuses new ones once its fills exceed
  ``contracts_limit`` in a rolling 15 s window, or when triggered by hand; reset lifts that.
- **Errors** are ``VenueError`` subclasses with a ``code`` and a one-line ``message``:
  ``VenueRejected`` (the venue refused the request; nothing changed), ``VenueNotFound``,
  ``VenueRateLimited`` (nothing executed; retry later) and ``VenueTransient`` (no complete answer
  or a venue failure: the request may or may not have been applied — look the order up by its
  ``client_order_id``).
- **Private events.** ``open_stream(events)`` starts delivering the account's events to a
  ``VenueEvents`` sink, synchronously, in the order they happened: ``on_order_update`` for every
  change of an order (its first report is its acknowledgement; fills, amends, decreases, cancels
  and expiry follow), ``on_fill``, ``on_settlement``, ``on_order_group_event``, and
  ``on_stream_gap`` when events may have been missed (a reconnect) — the consumer then reconciles
  through the reads. Events may repeat what a method's answer already said (a fill can arrive
  before or after the ``place`` answer); consumers are idempotent (by ``fill_id``, order counts).
- ``max_batch_create`` / ``max_batch_cancel``: how many items one batch request may carry.

Prices are YES prices (``BookSide.BID`` buys YES, ``ASK`` buys NO), counts ``Qty``, money
``Money``; times are epoch milliseconds of market time. This module imports only ``domain``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from kalshi_trader.domain import (
    BookSide,
    Fill,
    Money,
    Order,
    Position,
    Price,
    Qty,
    SelfTradePrevention,
    TimeInForce,
)

__all__ = [
    "AmendRequest",
    "AmendResult",
    "Balance",
    "CancelResult",
    "DecreaseResult",
    "GroupEvent",
    "OrderGroupInfo",
    "PlaceRequest",
    "Settlement",
    "Venue",
    "VenueError",
    "VenueEvents",
    "VenueNotFound",
    "VenueRateLimited",
    "VenueRejected",
    "VenueTransient",
]


# --------------------------------------------------------------------------------------------
# Errors


class VenueError(Exception):
    """A venue request failed: ``code`` (the venue's short reason, e.g. ``insufficient_balance``)
    and ``message`` (one line a person understands). ``routine``: the venue refused the request
    for a reason of its own (a post-only order that would cross, a closed market, an order no
    longer there) — trading as usual, not a failure of the venue or the connection, so error
    breakers do not count it (refusals default to routine, failures not; ``routine=`` overrides)."""

    routine: bool = False

    def __init__(self, message: str, *, code: str = "", routine: bool | None = None) -> None:
        self.code = code
        self.message = message
        if routine is not None:
            self.routine = routine
        super().__init__(self.summary())

    def summary(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


class VenueRejected(VenueError):
    """The venue refused the request (bad price or size, post-only cross, no balance, duplicate
    ``client_order_id``, market not open, triggered group...). Nothing was changed."""

    routine = True


class VenueNotFound(VenueError):
    """No such order, group or market (or the order is no longer resting, for a cancel)."""

    routine = True


class VenueRateLimited(VenueError):
    """The request exceeded the venue's rate limit and was not executed."""


class VenueTransient(VenueError):
    """No complete answer (connection lost, timeout) or a venue failure: the request may or may
    not have been applied."""


# --------------------------------------------------------------------------------------------
# Requests and answers


@dataclass(frozen=True, slots=True)
class PlaceRequest:
    """One new order. ``price`` is the YES price; ``count`` > 0. ``reduce_only`` orders must be
    immediate-or-cancel (Kalshi refuses a resting reduce-only order); their count is capped at
    the position they reduce."""

    ticker: str
    side: BookSide
    price: Price
    count: Qty
    client_order_id: str
    time_in_force: TimeInForce = TimeInForce.GOOD_TILL_CANCELED
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS
    post_only: bool = False
    reduce_only: bool = False
    order_group_id: str | None = None


@dataclass(frozen=True, slots=True)
class AmendRequest:
    """New price and total size of a resting order: ``count`` = already filled + wanted remaining.
    ``ticker``, ``side`` and ``client_order_id`` must be the order's own (the venue checks)."""

    ticker: str
    side: BookSide
    price: Price
    count: Qty
    client_order_id: str


@dataclass(frozen=True, slots=True)
class AmendResult:
    """An amend's answer: the order's price, filled and remaining counts after any fills the
    amend caused (``None`` when the venue did not say)."""

    order_id: str
    price: Price
    filled: Qty | None
    remaining: Qty | None
    ts_ms: int


@dataclass(frozen=True, slots=True)
class DecreaseResult:
    order_id: str
    remaining: Qty
    ts_ms: int


@dataclass(frozen=True, slots=True)
class CancelResult:
    """``reduced_by``: the contracts that were still resting and are now canceled."""

    order_id: str
    reduced_by: Qty
    ts_ms: int


@dataclass(frozen=True, slots=True)
class Balance:
    """``cash``: available (not committed to resting orders); ``portfolio_value``: the venue's
    value of the open positions."""

    cash: Money
    portfolio_value: Money


@dataclass(frozen=True, slots=True)
class Settlement:
    """The account's settlement of one market: ``yes_value`` paid per YES contract ($1 - it per NO
    contract), ``net`` YES minus NO contracts held then (``Qty``), ``revenue`` what was paid out.
    ``yes_value`` is None when the venue's record names no value a position can be paid at;
    ``problem`` then says why (the consumer reports it and skips the entry)."""

    ticker: str
    yes_value: Price | None
    settled_ms: int
    net: Qty
    revenue: Money
    problem: str = ""
    archived: bool = False
    """The venue's archive gave value and time only: ``net`` and ``revenue`` are not known (0)."""


@dataclass(frozen=True, slots=True)
class OrderGroupInfo:
    group_id: str
    contracts_limit: Qty
    triggered: bool


class GroupEvent(StrEnum):
    """What happened to an order group (the values are Kalshi's ``event_type`` strings)."""

    CREATED = "created"
    TRIGGERED = "triggered"
    RESET = "reset"
    DELETED = "deleted"
    LIMIT_UPDATED = "limit_updated"


# --------------------------------------------------------------------------------------------
# The port


class VenueEvents(Protocol):
    """The sink of a venue's private events (see the module docstring). Return values are
    ignored; a sink must not block."""

    def on_order_update(self, order: Order) -> object: ...

    def on_fill(self, fill: Fill) -> object: ...

    def on_settlement(self, settlement: Settlement) -> object: ...

    def on_order_group_event(self, group_id: str, kind: GroupEvent) -> object: ...

    def on_stream_gap(self) -> object: ...


class Venue(Protocol):
    """What the execution engine needs from a venue (see the module docstring)."""

    @property
    def name(self) -> str:
        """Where orders go, for logs and the dashboard (e.g. ``kalshi-prod``, ``paper``)."""
        ...

    @property
    def max_batch_create(self) -> int: ...

    @property
    def max_batch_cancel(self) -> int: ...

    async def open_stream(self, events: VenueEvents) -> None: ...

    async def close(self) -> None: ...

    # -- order entry ----------------------------------------------------------------------

    async def place(self, request: PlaceRequest) -> Order: ...

    async def place_batch(self, requests: list[PlaceRequest]) -> list[Order | VenueError]: ...

    async def amend(self, order_id: str, request: AmendRequest) -> AmendResult: ...

    async def decrease(
        self,
        order_id: str,
        *,
        reduce_by: Qty | None = None,
        reduce_to: Qty | None = None,
        ticker: str | None = None,
    ) -> DecreaseResult: ...

    async def cancel(self, order_id: str, *, ticker: str | None = None) -> CancelResult: ...

    async def cancel_batch(
        self, order_ids: list[str], *, tickers: Mapping[str, str] | None = None
    ) -> list[CancelResult | VenueError]: ...

    async def cancel_all(self) -> None: ...

    # -- reads ----------------------------------------------------------------------------

    async def get_order(self, order_id: str, *, ticker: str | None = None) -> Order: ...

    async def find_order(self, client_order_id: str, *, ticker: str | None = None) -> Order | None: ...

    async def resting_orders(self, ticker: str | None = None) -> list[Order]: ...

    async def fills_since(self, since_ms: int | None) -> list[Fill]: ...

    async def settlements_since(self, since_ms: int | None) -> list[Settlement]: ...

    async def settlements_of(self, tickers: Sequence[str]) -> list[Settlement]: ...

    async def positions(self) -> list[Position]: ...

    async def balance(self) -> Balance: ...

    # -- order groups ---------------------------------------------------------------------

    async def create_order_group(self, contracts_limit: Qty) -> str: ...

    async def order_groups(self) -> list[OrderGroupInfo]: ...

    async def trigger_order_group(self, group_id: str) -> None: ...

    async def reset_order_group(self, group_id: str) -> None: ...

    async def set_order_group_limit(self, group_id: str, contracts_limit: Qty) -> None: ...

    async def delete_order_group(self, group_id: str) -> None: ...
