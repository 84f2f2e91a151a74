"""Kalshi as a venue: ``execution.venue.Venue`` over the REST client and the private WebSocket
channels (production, demo or the embedded exchange).

Contract:
- ``KalshiVenue(rest, ws, name=...)``: every port method is one or a few REST calls, converted
  both ways here (``kalshi.convert``); the engine never sees a wire struct. ``open_stream``
  puts a ``kalshi.user_stream.UserStream`` on ``ws`` (in front of the handler it had, e.g. the
  market-data monitor) and subscribes the private channels.
- Errors: ``KalshiError`` becomes a ``VenueError`` with Kalshi's ``code`` and a one-line message
  (status included): 429 → ``VenueRateLimited``; no complete answer, a timeout or 5xx →
  ``VenueTransient``; 404 → ``VenueNotFound``; any other refusal → ``VenueRejected`` (not
  ``routine`` for 401/403 and unexpected answers, ``KalshiError.routine``). A request
  the client refuses before sending (an invalid price or size) is ``VenueRejected``.
- What the REST client guarantees carries over: creates are idempotent by ``client_order_id``
  (a retry after a lost answer returns the order already made), reads and cancels are retried,
  amends, decreases and group writes only after a 429.
- Batches: ``max_batch_create`` is what one tenth of the write bucket holds (a create costs 10
  tokens), ``max_batch_cancel`` half of it (2 tokens each). ``place_batch`` answers item by item,
  matched by ``client_order_id``; an item the reply does not cover is ``VenueTransient`` (look it
  up).
- Reads span Kalshi's live and historical tiers (``kalshi.account_history``): fills, orders by
  id or ``client_order_id``, and ``settlements_of`` the archived settled positions.
- Times: the port's epoch ms; Kalshi's ``min_ts`` filters are whole seconds (floored, so a few
  entries come again; callers dedupe).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from kalshi_trader.domain import PRICE_SCALE, Fill, Money, Order, Position, Qty, parse_qty
from kalshi_trader.execution.venue import (
    AmendRequest,
    AmendResult,
    Balance,
    CancelResult,
    DecreaseResult,
    OrderGroupInfo,
    PlaceRequest,
    Settlement,
    Venue,
    VenueError,
    VenueEvents,
    VenueNotFound,
    VenueRateLimited,
    VenueRejected,
    VenueTransient,
)
from kalshi_trader.kalshi import account_history, convert
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.kalshi.errors import (
    KalshiError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.kalshi.user_stream import UserStream
from kalshi_trader.kalshi.ws import WsSession

__all__ = ["KalshiVenue", "venue_error"]

T = TypeVar("T")

_CENT = PRICE_SCALE // 100
"""``Money`` units in one cent."""


def venue_error(exc: KalshiError) -> VenueError:
    """The port's error for one failed Kalshi call (see the module docstring)."""
    message = exc.summary()
    if isinstance(exc, RateLimitedError):
        return VenueRateLimited(message, code=exc.code or "rate_limited")
    if isinstance(exc, TransportError | ServerError):
        return VenueTransient(message, code=exc.code or "no_answer")
    if isinstance(exc, NotFoundError):
        return VenueNotFound(message, code=exc.code or "not_found")
    return VenueRejected(message, code=exc.code, routine=exc.routine)  # 401/403, unexpected: not routine


async def _call(request: Awaitable[T]) -> T:
    try:
        return await request
    except KalshiError as exc:
        raise venue_error(exc) from None


def _qty(text: str | None) -> Qty | None:
    return parse_qty(text) if text is not None else None


def _item_error(detail: w.ErrorDetail | None) -> VenueRejected:
    message = detail.message if detail is not None and isinstance(detail.message, str) else "rejected"
    code = detail.code if detail is not None and isinstance(detail.code, str) else ""
    return VenueRejected(message, code=code)


class KalshiVenue:
    """See the module docstring."""

    def __init__(self, rest: KalshiRest, ws: WsSession | None = None, *, name: str = "kalshi") -> None:
        self.rest = rest
        self.ws = ws
        self.name = name
        self.stream: UserStream | None = None

    @property
    def max_batch_create(self) -> int:
        return max(1, self.rest.limiter.tier.write_capacity // 10)

    @property
    def max_batch_cancel(self) -> int:
        return max(1, self.rest.limiter.tier.write_capacity // 2)

    async def open_stream(self, events: VenueEvents) -> None:
        if self.ws is None:
            raise RuntimeError("this Kalshi venue has no WebSocket session")
        self.stream = UserStream(events, self.ws)
        try:
            await self.stream.subscribe()
        except KalshiError as exc:
            raise venue_error(exc) from None

    async def close(self) -> None:
        """Nothing of its own: the REST client and the session belong to whoever made them."""

    # -- order entry ----------------------------------------------------------------------

    def _create(self, request: PlaceRequest) -> w.CreateOrderV2Request:
        try:
            return convert.create_request(
                request.ticker,
                request.side,
                request.price,
                request.count,
                time_in_force=request.time_in_force,
                self_trade_prevention=request.self_trade_prevention,
                client_order_id=request.client_order_id,
                post_only=request.post_only,
                reduce_only=request.reduce_only,
                order_group_id=request.order_group_id,
            )
        except ValueError as exc:
            raise VenueRejected(str(exc), code="invalid_order") from None

    async def place(self, request: PlaceRequest) -> Order:
        req = self._create(request)
        ack = await _call(self.rest.create_order(req))
        return convert.order_from_ack(req, ack)

    async def place_batch(self, requests: list[PlaceRequest]) -> list[Order | VenueError]:
        reqs = [self._create(r) for r in requests]
        response = await _call(self.rest.batch_create_orders(reqs))
        by_coid = {item.client_order_id: item for item in response.orders if item.client_order_id}
        out: list[Order | VenueError] = []
        for i, req in enumerate(reqs):
            positional = response.orders[i] if i < len(response.orders) else None
            item = by_coid.get(req.client_order_id if isinstance(req.client_order_id, str) else "", positional)
            if item is None:
                out.append(VenueTransient("no result for this item in the batch reply", code="no_answer"))
            elif item.error is None and isinstance(item.order_id, str):
                ack = w.CreateOrderV2Response(
                    order_id=item.order_id,
                    fill_count=item.fill_count or "0.00",
                    remaining_count=item.remaining_count or "0.00",
                    ts_ms=item.ts_ms or 0,
                    client_order_id=req.client_order_id,
                )
                out.append(convert.order_from_ack(req, ack))
            else:
                out.append(_item_error(item.error))
        return out

    async def amend(self, order_id: str, request: AmendRequest) -> AmendResult:
        req = convert.amend_request(
            request.ticker, request.side, request.price, request.count, client_order_id=request.client_order_id
        )
        answer = await _call(self.rest.amend_order(order_id, req))
        return AmendResult(
            answer.order_id, request.price, _qty(answer.fill_count), _qty(answer.remaining_count), answer.ts_ms
        )

    async def decrease(
        self,
        order_id: str,
        *,
        reduce_by: Qty | None = None,
        reduce_to: Qty | None = None,
        ticker: str | None = None,
    ) -> DecreaseResult:
        if (reduce_by is None) == (reduce_to is None):
            raise VenueRejected("give exactly one of reduce_by or reduce_to", code="invalid_parameters")
        answer = await _call(
            self.rest.decrease_order(order_id, reduce_by=reduce_by, reduce_to=reduce_to, market_ticker=ticker)
        )
        return DecreaseResult(answer.order_id, parse_qty(answer.remaining_count), answer.ts_ms)

    async def cancel(self, order_id: str, *, ticker: str | None = None) -> CancelResult:
        answer = await _call(self.rest.cancel_order(order_id, market_ticker=ticker))
        return CancelResult(answer.order_id, parse_qty(answer.reduced_by), answer.ts_ms)

    async def cancel_batch(
        self, order_ids: list[str], *, tickers: Mapping[str, str] | None = None
    ) -> list[CancelResult | VenueError]:
        reply = await _call(self.rest.batch_cancel_orders(order_ids, market_tickers=tickers))
        by_id = {item.order_id: item for item in reply.orders}
        out: list[CancelResult | VenueError] = []
        for order_id in order_ids:
            item = by_id.get(order_id)
            if item is None:
                out.append(VenueTransient("no result for this item in the batch reply", code="no_answer"))
            elif item.error is None:
                out.append(CancelResult(order_id, parse_qty(item.reduced_by), item.ts_ms or 0))
            else:
                out.append(_item_error(item.error))
        return out

    async def cancel_all(self) -> None:
        await _call(self.rest.cancel_all())

    # -- reads ----------------------------------------------------------------------------

    async def get_order(self, order_id: str, *, ticker: str | None = None) -> Order:
        found = await _call(account_history.order_by_id(self.rest, order_id, ticker=ticker))
        if found is None:
            raise VenueNotFound(f"order {order_id} not found", code="not_found")
        return found

    async def find_order(self, client_order_id: str, *, ticker: str | None = None) -> Order | None:
        return await _call(account_history.find_order(self.rest, client_order_id, ticker=ticker))

    async def resting_orders(self, ticker: str | None = None) -> list[Order]:
        async def listing() -> list[Order]:
            return [convert.order(o) async for o in self.rest.iter_orders(ticker=ticker, status="resting")]

        return await _call(listing())

    async def fills_since(self, since_ms: int | None) -> list[Fill]:
        since_s = since_ms // 1000 if since_ms else None
        return await _call(account_history.fills_since(self.rest, since_s))

    async def settlements_since(self, since_ms: int | None) -> list[Settlement]:
        since_s = since_ms // 1000 if since_ms is not None else None
        found, unreadable = await _call(account_history.live_settlements(self.rest, since_s))
        return _settlements(found, unreadable, archived=False)

    async def settlements_of(self, tickers: Sequence[str]) -> list[Settlement]:
        found, unreadable = await _call(account_history.archived_settlements(self.rest, tickers))
        return _settlements(found, unreadable, archived=True)

    async def positions(self) -> list[Position]:
        async def listing() -> list[Position]:
            return [convert.position(p) async for p in self.rest.iter_positions()]

        return await _call(listing())

    async def balance(self) -> Balance:
        reply = await _call(self.rest.get_balance())
        return Balance(convert.balance(reply), convert.portfolio_value(reply))

    # -- order groups ---------------------------------------------------------------------

    async def create_order_group(self, contracts_limit: Qty) -> str:
        created = await _call(self.rest.create_order_group(contracts_limit))
        return created.order_group_id

    async def order_groups(self) -> list[OrderGroupInfo]:
        """Kalshi's listing does not say whether a group is triggered: ``triggered`` is False
        (the ``order_group_updates`` channel reports triggers)."""
        reply = await _call(self.rest.get_order_groups())
        return [
            OrderGroupInfo(
                g.id,
                parse_qty(g.contracts_limit_fp) if isinstance(g.contracts_limit_fp, str) else Qty(0),
                False,
            )
            for g in reply.order_groups
        ]

    async def trigger_order_group(self, group_id: str) -> None:
        await _call(self.rest.trigger_order_group(group_id))

    async def reset_order_group(self, group_id: str) -> None:
        await _call(self.rest.reset_order_group(group_id))

    async def set_order_group_limit(self, group_id: str, contracts_limit: Qty) -> None:
        await _call(self.rest.set_order_group_limit(group_id, contracts_limit))

    async def delete_order_group(self, group_id: str) -> None:
        await _call(self.rest.delete_order_group(group_id))


def _settlements(
    found: list[account_history.SettlementReport], unreadable: list[tuple[str, str]], *, archived: bool
) -> list[Settlement]:
    out = [
        Settlement(
            s.ticker,
            s.yes_value,
            s.settled_ms,
            s.net if s.net is not None else Qty(0),
            Money(s.revenue_cents * _CENT if s.revenue_cents is not None else 0),
            archived=archived,
        )
        for s in found
    ]
    out += [
        Settlement(ticker, None, 0, Qty(0), Money(0), problem=problem, archived=archived)
        for ticker, problem in unreadable
    ]
    return out


if TYPE_CHECKING:

    def _implements_the_port(venue: KalshiVenue) -> Venue:
        return venue
