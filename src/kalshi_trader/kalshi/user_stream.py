"""The account's private WebSocket channels as venue events: fills, order reports, order groups.

Contract:
- ``UserStream(events, ws, delegate=...)`` installs itself as the ``WsSession``'s handler and,
  with ``subscribe()``, subscribes the ``fill``, ``user_orders`` and ``order_group_updates``
  channels (https://docs.kalshi.com/websockets/user-fills). Each ``fill`` becomes a
  ``domain.Fill`` (``fill_id`` = the message's ``trade_id``, which is the REST fill's id, so a
  fill seen on both is one fill), each ``user_order`` a ``domain.Order``, each order-group update
  a ``GroupEvent``; they are handed to ``events`` (an ``execution.venue.VenueEvents`` sink)
  synchronously, on the frame's own call.
- One session can carry the market data too: pass the market-data handler (e.g. the monitor) as
  ``delegate`` (default: the handler the session had) and every other frame — book snapshots and
  deltas on the same zero-copy path, ticker, trade, lifecycle, staleness — goes to it unchanged.
- Reconnects: ``fill``, ``user_order`` and ``order_group_updates`` carry no gap detection that
  covers fills, so whatever happened while the connection was down is unknown. Every connection
  after the first calls ``events.on_stream_gap()`` (the consumer reconciles), after the session
  restored the subscriptions. A seq gap on ``order_group_updates`` (the one sequenced private
  channel) does too; gaps on other channels go to the delegate.
- A message that does not convert (a field missing or malformed) is logged and counted
  (``bad_messages``) and dropped; reconciliation brings its content back through the reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog

from kalshi_trader.domain import BookSide, Fill, Order, OrderStatus, parse_money, parse_price, parse_qty
from kalshi_trader.execution.venue import GroupEvent, VenueEvents
from kalshi_trader.kalshi.schemas import (
    FillFrame,
    FillMsg,
    OrderbookDeltaMsg,
    OrderbookSnapshotMsg,
    OrderGroupUpdatesFrame,
    ServerFrame,
    UnknownFrame,
    UserOrderFrame,
    UserOrderMsg,
    wire_str,
)
from kalshi_trader.kalshi.ws import FeedHandler, WsSession

__all__ = ["CHANNELS", "UserStream", "fill_from_msg", "order_from_msg"]

log = structlog.get_logger(__name__)

CHANNELS = ("fill", "user_orders", "order_group_updates")


def _book_side(book_side: str, owner: str) -> BookSide:
    try:
        return BookSide(book_side)
    except ValueError:
        raise ValueError(f"{owner}: book_side {book_side!r} is not bid or ask") from None


def fill_from_msg(m: FillMsg) -> Fill:
    """A WS ``fill`` message → ``domain.Fill`` (YES price; ``fill_id`` = ``trade_id``)."""
    owner = f"fill {m.trade_id}"
    try:
        return Fill(
            fill_id=m.trade_id,
            order_id=m.order_id,
            ticker=m.market_ticker,
            side=_book_side(m.book_side, owner),
            price=parse_price(wire_str(m.yes_price_dollars)),
            qty=parse_qty(wire_str(m.count_fp)),
            fee=parse_money(wire_str(m.fee_cost)),
            is_taker=m.is_taker,
            ts_ms=m.ts_ms,
            client_order_id=m.client_order_id if isinstance(m.client_order_id, str) else "",
            post_position=parse_qty(wire_str(m.post_position_fp)),
        )
    except ValueError as exc:
        raise ValueError(f"{owner}: {exc}") from None


def order_from_msg(m: UserOrderMsg) -> Order:
    """A WS ``user_order`` message → ``domain.Order`` (YES price). A missing creation time is 0;
    status ``unknown`` is kept (the tracker then goes by the counts)."""
    owner = f"order {m.order_id}"
    try:
        created = m.created_ts_ms or 0
        updated = m.last_updated_ts_ms if isinstance(m.last_updated_ts_ms, int) else created
        reason = m.last_update_reason
        return Order(
            order_id=m.order_id,
            client_order_id=m.client_order_id,
            ticker=m.ticker,
            side=_book_side(m.book_side, owner),
            price=parse_price(wire_str(m.yes_price_dollars)),
            initial=parse_qty(wire_str(m.initial_count_fp)),
            filled=parse_qty(wire_str(m.fill_count_fp)),
            remaining=parse_qty(wire_str(m.remaining_count_fp)),
            status=OrderStatus(m.status),
            created_ms=created,
            updated_ms=updated,
            order_group_id=m.order_group_id,
            last_update_reason=reason if isinstance(reason, str) else "",
        )
    except ValueError as exc:
        raise ValueError(f"{owner}: {exc}") from None


def _group_event(kind: str, group_id: str) -> GroupEvent:
    try:
        return GroupEvent(kind)
    except ValueError:
        raise ValueError(f"order group {group_id}: event_type {kind!r} is unknown") from None


class UserStream:
    """A ``FeedHandler`` for the private channels (see the module docstring)."""

    def __init__(self, events: VenueEvents, ws: WsSession, *, delegate: FeedHandler | None = None) -> None:
        self.events = events
        self.ws = ws
        self.delegate: FeedHandler = delegate if delegate is not None else ws.handler
        self.on_orderbook_snapshot: Callable[[OrderbookSnapshotMsg], None] = self.delegate.on_orderbook_snapshot
        self.on_orderbook_delta: Callable[[OrderbookDeltaMsg], None] = self.delegate.on_orderbook_delta
        self.connections = 1 if ws.connected else 0
        """Connections seen (one already open when the stream was installed counts as the first)."""
        self.bad_messages = 0
        ws.set_handler(self)

    async def subscribe(self) -> None:
        """Subscribe the private channels (starting the session if needed)."""
        if not self.ws.connected:
            await self.ws.start()
        await self.ws.subscribe(CHANNELS)

    def on_frame(self, frame: ServerFrame | UnknownFrame) -> None:
        try:
            if isinstance(frame, FillFrame):
                self.events.on_fill(fill_from_msg(frame.msg))
                return
            if isinstance(frame, UserOrderFrame):
                self.events.on_order_update(order_from_msg(frame.msg))
                return
            if isinstance(frame, OrderGroupUpdatesFrame):
                msg = frame.msg
                self.events.on_order_group_event(msg.order_group_id, _group_event(msg.event_type, msg.order_group_id))
                return
        except ValueError as exc:
            self.bad_messages += 1
            log.warning("user_stream_bad_message", error=str(exc))
            return
        self.delegate.on_frame(frame)

    def on_stale(self, tickers: Sequence[str], reason: str) -> None:
        self.delegate.on_stale(tickers, reason)

    def on_gap(self, channel: str, reason: str) -> None:
        if channel != "order_group_updates":
            self.delegate.on_gap(channel, reason)
        else:
            log.warning("user_stream_gap", channel=channel, reason=reason)
            self.events.on_stream_gap()

    def on_connection(self, connected: bool) -> None:
        self.delegate.on_connection(connected)
        if not connected:
            return
        self.connections += 1
        if self.connections > 1:
            self.events.on_stream_gap()
