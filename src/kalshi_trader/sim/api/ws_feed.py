"""The embedded exchange's WebSocket v2 server side: commands, subscriptions and channel fan-out.

Contract (docs/kalshi-protocol.md, WebSocket v2; asyncapi.yaml; every frame is one of its messages, encoded with the
``kalshi.schemas`` structs):

- ``Feed(engine, catalog, clock_ms=..., wall_ms=..., ping_interval_s=10.0, max_queue=...)`` registers itself as a
  ``MatchingEngine`` listener. ``serve(ws, user_id)`` runs one prepared, already authenticated
  connection until it closes; ``close()`` closes every connection (and any later ``serve``) and
  ignores later engine events; ``connection_count`` is the number of open connections.
- Commands: ``subscribe``, ``unsubscribe``, ``update_subscription`` (``add_markets`` |
  ``delete_markets`` | ``get_snapshot``) and ``list_subscriptions``. A command is validated in full
  before anything changes: a bad one gets one ``error`` frame (codes below) and changes nothing;
  it never closes the connection. Replies echo the command's ``id`` when it is non-zero (id 0
  means "no id"); the list_subscriptions reply always carries ``id``, which its schema requires.
- Error codes: bad JSON or a wrongly typed field → 1; no ``params`` → 2; no/empty ``channels`` →
  3; no/empty ``sids`` → 4; unknown ``cmd`` → 5; unknown sid → 7; unknown channel → 8;
  ``cfbenchmarks_value``/``cfbenchmarks_value_5hz``/``pyth_value`` (not served here) → 9;
  malformed value or conflicting filters (``market_ticker`` with ``market_tickers``, ids on a
  channel other than ``ticker``, an empty ticker list, ``market_ticker`` on ``get_snapshot``) → 11;
  unknown markets → 11 naming them in ``market_tickers`` (the retired code 16 is never sent); not
  exactly one sid → 12; unknown action, or one the channel does not support → 13;
  ``orderbook_delta`` or an update without markets → 14; no ``action`` → 15; ``communications``
  shard checks → 19–22; buffer overflow → 25 (with the subscription's ``sid``, and ``seq`` on a
  sequenced channel, where it takes the next number).
- Subscriptions: sids are per connection, from 1, never reused. One subscription per channel per
  connection: subscribing to a channel again answers ``subscribed`` with the existing sid and
  merges the new markets in (changelog, Oct 2025: repeated subscriptions no longer error); no
  filter means every market; ``use_yes_price`` / ``skip_ticker_ack`` keep their first value.
  Market filters apply to ``orderbook_delta`` (required), ``ticker`` (also by ``market_id(s)``),
  ``trade``, ``fill``, ``market_positions`` and ``user_orders``; the other channels ignore them.
- Channels: ``orderbook_delta`` sends an ``orderbook_snapshot`` (a side's key omitted when empty)
  for every newly subscribed / added market and for ``get_snapshot`` (which changes nothing), then
  one ``orderbook_delta`` per engine ``BookDelta``; ``client_order_id``/``subaccount`` only to the
  user whose order changed the level; ``use_yes_price`` reports NO levels at $1 − p. ``ticker`` on
  ``TickerEvent`` (and at subscribe with ``send_initial_snapshot``); ``trade`` public; ``fill``,
  ``user_orders`` (``user_order``), ``market_positions`` (``market_position``) and
  ``order_group_updates`` only carry the connection's own user's data; ``market_lifecycle_v2``
  (``market_lifecycle_v2``, and ``event_lifecycle`` before an event's first new market) for every
  market — except the implicit transitions Kalshi does not announce (a scheduled open, a close at
  or after ``close_time``). ``multivariate_market_lifecycle`` and ``communications`` are accepted
  and silent (the exchange lists no combos and takes no RFQs). ``user_order`` carries the
  documented ``last_update_reason`` (``render.user_order_reason``) and 6-decimal fill costs and fees.
- Sequence numbers: frames of the sequenced channels — ``orderbook_delta``, ``trade``,
  ``market_lifecycle_v2`` (its ``event_lifecycle`` frames included), ``multivariate_market_lifecycle``,
  ``communications`` and ``order_group_updates`` — carry ``seq``, +1 per frame on that sid,
  snapshots included, starting at 1. ``ok`` carries the seq of the last frame sent on the sid
  (omitted before the first, and on unsequenced channels) and consumes none; ``unsubscribed``
  carries the last seq too (on unsequenced channels: the number of frames sent), at least 1 as its
  schema requires.
- ``sending_ts_ms``: the writer stamps every frame, data and control, with the wall-clock time
  (``wall_ms``, Unix ms) at which it hands the frame to the socket — a network-layer time, so it is
  real time even when the exchange clock runs faster. ``orderbook_snapshot`` frames sent in answer
  to a command (subscribe, ``add_markets``, ``get_snapshot``) echo that command's ``id``.
- Flow control: each connection has one writer task draining a bounded queue of encoded frames
  (``max_queue``). Engine callbacks only encode and enqueue (the message body once per event and
  variant, the envelope per subscription); they never block. When a data frame does not fit, that
  subscription is dropped with error 25; the frames already queued stay. Replies always fit; the
  connection stops reading commands while its queue is full, so memory stays bounded. A server
  fault while answering a command, or while building a channel's frame, is answered with error 10
  "Channel error" (terminal, as documented; the channel's subscriptions end) rather than leave a
  hole.
- Heartbeat: a Ping control frame with payload ``heartbeat`` every ``ping_interval_s``; client
  pings are answered by aiohttp.
- Fault seam: ``frame_hook`` (None by default) is consulted by the writer with every JSON frame
  just before it is written; see ``FrameHook``.
- Wire choices where the documents are silent: ``dollar_volume`` = Σ count × YES price over the
  market's trades and ``dollar_open_interest`` = open interest × last price, whole dollars rounded
  down; an empty ask side reports ``yes_ask_dollars`` "1.0000"; ``position_fee_cost_dollars`` =
  ``fees_paid_dollars``; user ids that are not UUIDs (``user_order.user_id`` must be one) are sent
  as ``uuid5`` of the id (``wire_user_id``); ``exchange_index`` is 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeVar

import msgspec
import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from kalshi_trader.domain import (
    PRICE_LEVEL_STRUCTURES,
    PRICE_SCALE,
    QTY_SCALE,
    MarketStatus,
    Side,
    complement,
    format_money,
    format_price,
    format_qty,
)
from kalshi_trader.kalshi import schemas as wire
from kalshi_trader.kalshi.schemas import UNSET, WS_ERROR_MESSAGES, WsErrorCode
from kalshi_trader.sim.api.render import EXCHANGE_INDEX, dollars6, iso, user_order_reason, wire_user_id
from kalshi_trader.sim.core.catalog import Catalog, MarketMeta
from kalshi_trader.sim.core.matching import MatchingEngine
from kalshi_trader.sim.core.state import (
    BookDelta,
    EngineEvent,
    FillEvent,
    MarketEvent,
    OrderEvent,
    OrderGroupEvent,
    PositionEvent,
    TickerEvent,
    Trade,
    TradeEvent,
)

log = structlog.get_logger(__name__)

_T = TypeVar("_T")

ORDERBOOK: Final = "orderbook_delta"
TICKER: Final = "ticker"
TRADE: Final = "trade"
FILL: Final = "fill"
POSITIONS: Final = "market_positions"
USER_ORDERS: Final = "user_orders"
LIFECYCLE: Final = "market_lifecycle_v2"
ORDER_GROUPS: Final = "order_group_updates"
MVE_LIFECYCLE: Final = "multivariate_market_lifecycle"
COMMUNICATIONS: Final = "communications"

CHANNELS: Final = frozenset(
    {ORDERBOOK, TICKER, TRADE, FILL, POSITIONS, USER_ORDERS, LIFECYCLE, ORDER_GROUPS, MVE_LIFECYCLE, COMMUNICATIONS}
)
"""Channels this feed accepts."""
_NOT_ENTITLED: Final = frozenset({"cfbenchmarks_value", "cfbenchmarks_value_5hz", "pyth_value"})
_MARKET_FILTERED: Final = frozenset({ORDERBOOK, TICKER, TRADE, FILL, POSITIONS, USER_ORDERS})
_SEQUENCED: Final = frozenset({ORDERBOOK, ORDER_GROUPS, TRADE, LIFECYCLE, MVE_LIFECYCLE, COMMUNICATIONS})
_ACTIONS: Final = frozenset({"add_markets", "delete_markets", "get_snapshot"})
_MAX_COMMAND_ID: Final = (1 << 63) - 1

DEFAULT_MAX_QUEUE: Final = 10_000
"""Frames a connection may have waiting to be written before its subscriptions overflow."""

_DOLLAR_UNITS: Final = PRICE_SCALE * QTY_SCALE
"""Price × Qty units per dollar."""


def wall_clock_ms() -> int:
    """Unix milliseconds of the real clock (``sending_ts_ms`` is a network-layer time)."""
    return time.time_ns() // 1_000_000


class FrameHook(Protocol):
    """Consulted by a connection's writer with every JSON frame just before it is written (the
    seam for fault injection: dropped connections, skipped or repeated ``seq``, malformed frames).

    Return the frames to write instead: ``(frame,)`` passes it through, ``()`` swallows it (a seq
    gap), ``(frame, frame)`` repeats it, other bytes corrupt it; return ``None`` to close the
    connection (going-away) instead of writing."""

    def on_send(self, conn_id: int, user_id: str, frame: bytes) -> Sequence[bytes] | None: ...


class _Refusal(Exception):
    """A command answered with an ``error`` frame (and no state change). The frame carries the
    documented message verbatim; ``detail`` says why in the exception text only (not on the wire)."""

    def __init__(self, code: WsErrorCode, detail: str = "", *, market_tickers: Sequence[str] = ()) -> None:
        super().__init__(f"{WS_ERROR_MESSAGES[code]}: {detail}" if detail else WS_ERROR_MESSAGES[code])
        self.code = code
        self.market_tickers = list(market_tickers)

    def frame(self, command_id: int, sid: int = 0, seq: int = 0) -> wire.ErrorFrame:
        return wire.ErrorFrame(
            id=command_id or UNSET,
            sid=sid or UNSET,
            seq=seq or UNSET,
            msg=wire.ErrorMsg(code=self.code, msg=WS_ERROR_MESSAGES[self.code], market_tickers=self.market_tickers),
        )


@dataclass(eq=False, slots=True)
class _Subscription:
    sid: int
    channel: str
    markets: dict[str, None] | None
    """Tickers in subscription order (an ordered set); None = every market."""
    use_yes_price: bool = False
    skip_ticker_ack: bool = False
    seq: int = 0
    """Number of data frames sent on this sid (the last ``seq`` on sequenced channels)."""

    def wants(self, ticker: str) -> bool:
        return self.markets is None or ticker in self.markets

    def add(self, tickers: list[str] | None) -> list[str]:
        """Merge ``tickers`` in (None: widen to every market); returns the newly added ones."""
        if self.markets is None:
            return []
        if tickers is None:
            self.markets = None
            return []
        added = [t for t in tickers if t not in self.markets]
        self.markets.update(dict.fromkeys(added))
        return added


@dataclass(eq=False, slots=True)
class _Connection:
    conn_id: int
    user_id: str
    ws: web.WebSocketResponse
    subs: dict[int, _Subscription] = field(default_factory=dict)
    by_channel: dict[str, _Subscription] = field(default_factory=dict)
    queue: deque[bytes] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the queue has frames for the writer."""
    room: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the queue is below its bound (the reader waits for it)."""
    done: asyncio.Event = field(default_factory=asyncio.Event)
    next_sid: int = 1
    open: bool = True


@dataclass(slots=True)
class _TradeStats:
    notional: int = 0
    """Σ YES price × count over the market's trades, in Price × Qty units."""
    last_size: int = 0


class Feed:
    """The WebSocket v2 side of the embedded exchange (see the module docstring)."""

    def __init__(
        self,
        engine: MatchingEngine,
        catalog: Catalog,
        *,
        clock_ms: Callable[[], int],
        wall_ms: Callable[[], int] = wall_clock_ms,
        ping_interval_s: float = 10.0,
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        if ping_interval_s <= 0:
            raise ValueError("ping_interval_s must be positive")
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self._engine = engine
        self._catalog = catalog
        self._clock_ms = clock_ms
        self._wall_ms = wall_ms
        self._ping_interval_s = ping_interval_s
        self._max_queue = max_queue
        self.frame_hook: FrameHook | None = None
        self._conns: dict[int, _Connection] = {}
        self._conn_ids = itertools.count(1)
        self._closed = False
        self._market_ids: dict[str, str] = {}
        self._wire_users: dict[str, str] = {}
        self._stats: dict[str, _TradeStats] = {}
        self._status: dict[str, MarketStatus] = {m.ticker: m.status for m in engine.markets()}
        self._announced: set[str] = {e.event_ticker for e in catalog.all_events()}
        for trade in reversed(engine.trades()):  # oldest first
            self._note_trade(trade)
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            BookDelta: self._on_book_delta,
            TickerEvent: self._on_ticker,
            TradeEvent: self._on_trade,
            FillEvent: self._on_fill,
            OrderEvent: self._on_order,
            PositionEvent: self._on_position,
            MarketEvent: self._on_market,
            OrderGroupEvent: self._on_order_group,
        }
        self._event_channels: dict[type[Any], str] = {
            BookDelta: ORDERBOOK,
            TickerEvent: TICKER,
            TradeEvent: TRADE,
            FillEvent: FILL,
            OrderEvent: USER_ORDERS,
            PositionEvent: POSITIONS,
            MarketEvent: LIFECYCLE,
            OrderGroupEvent: ORDER_GROUPS,
        }
        self._commands: dict[str, Callable[[_Connection, int, dict[str, Any]], None]] = {
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "update_subscription": self._update_subscription,
        }
        engine.add_listener(self._on_event)

    # -- public API ---------------------------------------------------------------------------

    @property
    def connection_count(self) -> int:
        return len(self._conns)

    async def serve(self, ws: web.WebSocketResponse, user_id: str) -> None:
        """Run one prepared connection for ``user_id`` until either side closes it."""
        if self._closed:
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"exchange shutting down")
            return
        conn = _Connection(next(self._conn_ids), user_id, ws)
        conn.room.set()
        self._conns[conn.conn_id] = conn
        loop = asyncio.get_running_loop()
        writer = loop.create_task(self._write_loop(conn), name=f"ws-writer-{conn.conn_id}")
        pinger = loop.create_task(self._ping_loop(conn), name=f"ws-ping-{conn.conn_id}")
        try:
            async for message in ws:
                if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    while conn.open and len(conn.queue) >= self._max_queue:
                        conn.room.clear()
                        await conn.room.wait()
                    if not conn.open:
                        break
                    self._on_command(conn, message.data)
                elif message.type is WSMsgType.ERROR:
                    break
        finally:
            self._conns.pop(conn.conn_id, None)
            conn.open = False
            conn.queue.clear()
            for task in (writer, pinger):
                task.cancel()
            await asyncio.gather(writer, pinger, return_exceptions=True)
            with contextlib.suppress(Exception):
                await ws.close()
            conn.done.set()

    async def close(self) -> None:
        """Close every connection (going-away) and stop serving; idempotent."""
        self._closed = True
        conns = list(self._conns.values())
        for conn in conns:
            conn.open = False
            conn.queue.clear()
            conn.room.set()
        await asyncio.gather(*(self._close_ws(conn.ws) for conn in conns))
        await asyncio.gather(*(self._await_done(conn) for conn in conns))

    # -- connection tasks --------------------------------------------------------------------

    @staticmethod
    async def _close_ws(ws: web.WebSocketResponse) -> None:
        with contextlib.suppress(Exception, asyncio.TimeoutError):
            await asyncio.wait_for(ws.close(code=WSCloseCode.GOING_AWAY, message=b"exchange shutting down"), 2.0)

    @staticmethod
    async def _await_done(conn: _Connection) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(conn.done.wait(), 2.0)

    async def _write_loop(self, conn: _Connection) -> None:
        ws, queue, max_queue, wall_ms = conn.ws, conn.queue, self._max_queue, self._wall_ms
        close_code: int | None = None
        try:
            while conn.open:
                if not queue:
                    conn.wake.clear()
                    await conn.wake.wait()
                    continue
                frame = b'%b,"sending_ts_ms":%d}' % (queue.popleft()[:-1], wall_ms())
                if len(queue) < max_queue:
                    conn.room.set()
                hook = self.frame_hook
                if hook is None:
                    await ws.send_frame(frame, WSMsgType.TEXT)
                    continue
                frames = hook.on_send(conn.conn_id, conn.user_id, frame)
                if frames is None:
                    close_code = WSCloseCode.GOING_AWAY
                    break
                for out in frames:
                    await ws.send_frame(out, WSMsgType.TEXT)
        except ConnectionError:  # the peer is gone; the reader sees the close
            pass
        except Exception:
            log.exception("ws_writer_failed", conn_id=conn.conn_id)
            close_code = WSCloseCode.INTERNAL_ERROR
        finally:
            conn.open = False
            queue.clear()
            conn.room.set()
        if close_code is not None:  # ends the reader (and so ``serve``) too
            await ws.close(code=close_code)

    async def _ping_loop(self, conn: _Connection) -> None:
        with contextlib.suppress(ConnectionError):
            while conn.open:
                await asyncio.sleep(self._ping_interval_s)
                await conn.ws.ping(b"heartbeat")

    # -- queueing ------------------------------------------------------------------------------

    def _reply(self, conn: _Connection, frame: msgspec.Struct) -> None:
        if conn.open:
            conn.queue.append(wire.ENCODER.encode(frame))
            conn.wake.set()

    def _push(self, conn: _Connection, sub: _Subscription, kind: bytes, body: bytes) -> None:
        """Queue one data frame on ``sub``: ``body`` is the encoded ``msg``, wrapped in the same bytes
        msgspec writes for the ``<Name>Frame`` structs (the tests check they are identical)."""
        if not conn.open or conn.subs.get(sub.sid) is not sub:  # closed, or dropped meanwhile
            return
        if len(conn.queue) >= self._max_queue:
            self._drop(conn, sub)
            sub.seq += 1
            seq = sub.seq if sub.channel in _SEQUENCED else 0
            self._reply(conn, _Refusal(WsErrorCode.BUFFER_OVERFLOW).frame(0, sub.sid, seq))
            return
        sub.seq += 1
        if sub.channel in _SEQUENCED:
            frame = b'{"type":"%b","sid":%d,"seq":%d,"msg":%b}' % (kind, sub.sid, sub.seq, body)
        else:
            frame = b'{"type":"%b","sid":%d,"msg":%b}' % (kind, sub.sid, body)
        conn.queue.append(frame)
        conn.wake.set()

    def _push_snapshot(self, conn: _Connection, sub: _Subscription, ticker: str, command_id: int) -> None:
        """An ``orderbook_snapshot`` on ``sub``, echoing the command that asked for it (if it had an id)."""
        body = self._snapshot_body(ticker, sub.use_yes_price)
        if command_id:
            body = b'%b,"id":%d' % (body, command_id)  # closed by ``_push``: ``...,"msg":{...},"id":7}``
        self._push(conn, sub, b"orderbook_snapshot", body)

    @staticmethod
    def _drop(conn: _Connection, sub: _Subscription) -> None:
        del conn.subs[sub.sid]
        del conn.by_channel[sub.channel]

    # -- commands ------------------------------------------------------------------------------

    def _on_command(self, conn: _Connection, data: str | bytes) -> None:
        """Answer one client frame. Decoded by hand (not with a strict struct) so that a command
        with one mistyped field still gets its ``id`` echoed and the most specific error code."""
        try:
            command = msgspec.json.decode(data)
        except msgspec.DecodeError:
            self._reply(conn, _Refusal(WsErrorCode.UNABLE_TO_PROCESS, "not valid JSON").frame(0))
            return
        if not isinstance(command, dict):
            self._reply(conn, _Refusal(WsErrorCode.UNABLE_TO_PROCESS, "a command is a JSON object").frame(0))
            return
        command_id = command.get("id", 0)
        if type(command_id) is not int or not 0 <= command_id <= _MAX_COMMAND_ID:
            self._reply(conn, _Refusal(WsErrorCode.UNABLE_TO_PROCESS, "id must be a non-negative int64").frame(0))
            return
        cmd, params = command.get("cmd"), command.get("params")
        try:
            if cmd is not None and not isinstance(cmd, str):
                raise _Refusal(WsErrorCode.UNABLE_TO_PROCESS, "cmd must be a string")
            if cmd == "list_subscriptions":
                self._list_subscriptions(conn, command_id)
                return
            handler = self._commands.get(cmd or "")
            if handler is None:
                raise _Refusal(WsErrorCode.UNKNOWN_COMMAND, repr(cmd))
            if params is None:
                raise _Refusal(WsErrorCode.PARAMS_REQUIRED)
            if not isinstance(params, dict):
                raise _Refusal(WsErrorCode.UNABLE_TO_PROCESS, "params must be an object")
            handler(conn, command_id, params)
        except _Refusal as refusal:
            self._reply(conn, refusal.frame(command_id))
        except Exception:  # a server bug must not end the connection
            log.exception("ws_command_failed", conn_id=conn.conn_id, cmd=str(cmd))
            self._reply(conn, _Refusal(WsErrorCode.CHANNEL_ERROR, "server fault").frame(command_id))

    def _subscribe(self, conn: _Connection, command_id: int, params: dict[str, Any]) -> None:
        if not params.get("channels"):
            raise _Refusal(WsErrorCode.CHANNELS_REQUIRED)
        p = _convert(params, wire.SubscribeParams)
        channels = list(dict.fromkeys(p.channels))
        for channel in channels:
            if channel in _NOT_ENTITLED:
                raise _Refusal(WsErrorCode.AUTH_REQUIRED, f"channel {channel} is not available on this exchange")
            if channel not in CHANNELS:
                raise _Refusal(WsErrorCode.UNKNOWN_CHANNEL, repr(channel))
        filtered = [c for c in channels if c in _MARKET_FILTERED]
        markets: list[str] | None = None
        if filtered:
            if (p.market_id is not UNSET or p.market_ids is not UNSET) and filtered != [TICKER]:
                raise _Refusal(WsErrorCode.INVALID_PARAMETER, "market_id/market_ids are only supported on ticker")
            markets = self._markets(p.market_ticker, p.market_tickers, p.market_id, p.market_ids)
        if ORDERBOOK in channels and markets is None:
            raise _Refusal(WsErrorCode.MARKET_TICKER_REQUIRED, "orderbook_delta needs market_ticker(s)")
        if COMMUNICATIONS in channels:
            _check_shards(p.shard_factor, p.shard_key)
        cid = command_id or UNSET
        for channel in channels:
            sub = conn.by_channel.get(channel)
            wanted = markets if channel in _MARKET_FILTERED else None
            if sub is None:
                sub = _Subscription(
                    conn.next_sid,
                    channel,
                    None if wanted is None else dict.fromkeys(wanted),
                    use_yes_price=p.use_yes_price is True,
                    skip_ticker_ack=p.skip_ticker_ack is True,
                )
                conn.next_sid += 1
                conn.subs[sub.sid] = sub
                conn.by_channel[channel] = sub
                added = list(wanted or ())
            else:
                added = sub.add(wanted) if channel in _MARKET_FILTERED else []
            self._reply(conn, wire.SubscribedFrame(id=cid, msg=wire.SubscribedMsg(channel=channel, sid=sub.sid)))
            self._initial_frames(conn, sub, added, command_id, ticker_snapshot=p.send_initial_snapshot is True)

    def _unsubscribe(self, conn: _Connection, command_id: int, params: dict[str, Any]) -> None:
        if not params.get("sids"):
            raise _Refusal(WsErrorCode.SIDS_REQUIRED)
        sids = list(dict.fromkeys(_convert(params, wire.UnsubscribeParams).sids))
        for sid in sids:
            if sid not in conn.subs:
                raise _Refusal(WsErrorCode.UNKNOWN_SID, f"sid {sid}")
        for sid in sids:
            sub = conn.subs[sid]
            self._drop(conn, sub)
            self._reply(conn, wire.UnsubscribedFrame(id=command_id or UNSET, sid=sid, seq=max(sub.seq, 1)))

    def _update_subscription(self, conn: _Connection, command_id: int, params: dict[str, Any]) -> None:
        if params.get("action") is None:
            raise _Refusal(WsErrorCode.ACTION_REQUIRED)
        p = _convert(params, wire.UpdateSubscriptionParams)
        sids = ([] if p.sid is UNSET else [p.sid]) + ([] if p.sids is UNSET else p.sids)
        if len(sids) != 1:
            raise _Refusal(WsErrorCode.EXACTLY_ONE_SID)
        sub = conn.subs.get(sids[0])
        if sub is None:
            raise _Refusal(WsErrorCode.UNKNOWN_SID, f"sid {sids[0]}")
        action = p.action
        if action not in _ACTIONS:
            raise _Refusal(WsErrorCode.UNSUPPORTED_ACTION, repr(action))
        if sub.channel not in _MARKET_FILTERED or (action == "get_snapshot" and sub.channel != ORDERBOOK):
            raise _Refusal(WsErrorCode.UNSUPPORTED_ACTION, f"{action} on {sub.channel}")
        if action == "delete_markets" and sub.markets is None:
            raise _Refusal(WsErrorCode.UNSUPPORTED_ACTION, f"sid {sub.sid} has no market filter to delete from")
        if (p.market_id is not UNSET or p.market_ids is not UNSET) and sub.channel != TICKER:
            raise _Refusal(WsErrorCode.INVALID_PARAMETER, "market_id/market_ids are only supported on ticker")
        if action == "get_snapshot" and p.market_ticker is not UNSET:
            raise _Refusal(WsErrorCode.INVALID_PARAMETER, "get_snapshot takes market_tickers only")
        markets = self._markets(p.market_ticker, p.market_tickers, p.market_id, p.market_ids)
        if markets is None:
            raise _Refusal(WsErrorCode.MARKET_TICKER_REQUIRED)
        added: list[str] = []
        if action == "add_markets":
            added = sub.add(markets)
        elif action == "delete_markets":
            assert sub.markets is not None
            for ticker in markets:
                sub.markets.pop(ticker, None)
        self._reply(conn, self._ok_frame(sub, command_id))
        if action == "get_snapshot":
            for ticker in markets:
                self._push_snapshot(conn, sub, ticker, command_id)
        else:
            self._initial_frames(conn, sub, added, command_id, ticker_snapshot=p.send_initial_snapshot is True)

    def _list_subscriptions(self, conn: _Connection, command_id: int) -> None:
        infos = [wire.SubscriptionInfo(channel=s.channel, sid=s.sid) for s in sorted(conn.subs.values(), key=_sid)]
        self._reply(conn, wire.OkFrame(id=command_id, msg=infos))

    def _ok_frame(self, sub: _Subscription, command_id: int) -> wire.OkFrame:
        msg = wire.OkMsg()
        if not sub.skip_ticker_ack and sub.markets is not None:
            tickers = list(sub.markets)
            ids = [self._market_id(t) for t in tickers] if sub.channel == TICKER else UNSET
            msg = wire.OkMsg(market_tickers=tickers, market_ids=ids)
        seq = sub.seq if sub.channel in _SEQUENCED and sub.seq > 0 else UNSET
        return wire.OkFrame(id=command_id or UNSET, sid=sub.sid, seq=seq, msg=msg)

    def _initial_frames(
        self, conn: _Connection, sub: _Subscription, added: list[str], command_id: int, *, ticker_snapshot: bool
    ) -> None:
        """Snapshots owed for markets just added to ``sub`` by the command ``command_id``."""
        if sub.channel == ORDERBOOK:
            for ticker in added:
                self._push_snapshot(conn, sub, ticker, command_id)
        elif sub.channel == TICKER and ticker_snapshot:
            now = self._clock_ms()
            for ticker in added:
                self._push(conn, sub, b"ticker", self._ticker_body(ticker, now))

    def _markets(
        self,
        ticker: str | msgspec.UnsetType,
        tickers: list[str] | msgspec.UnsetType,
        market_id: str | msgspec.UnsetType,
        market_ids: list[str] | msgspec.UnsetType,
    ) -> list[str] | None:
        """The tickers a command names (None when it names none); all must exist."""
        named = (
            ("market_ticker", ticker),
            ("market_tickers", tickers),
            ("market_id", market_id),
            ("market_ids", market_ids),
        )
        given = [name for name, value in named if value is not UNSET]
        if len(given) > 1:
            raise _Refusal(WsErrorCode.INVALID_PARAMETER, f"{' and '.join(given)} are mutually exclusive")
        if isinstance(ticker, str):
            names = [ticker]
        elif isinstance(tickers, list):
            names = tickers
        elif isinstance(market_id, str) or isinstance(market_ids, list):
            ids = [market_id] if isinstance(market_id, str) else market_ids
            assert isinstance(ids, list)
            if not ids:
                raise _Refusal(WsErrorCode.INVALID_PARAMETER, "market_ids is empty")
            names = []
            for mid in ids:
                try:
                    uuid.UUID(mid)
                except ValueError:
                    raise _Refusal(WsErrorCode.INVALID_PARAMETER, f"market_id {mid!r} is not a UUID") from None
                try:
                    names.append(self._catalog.ticker_for_market_id(mid))
                except KeyError:
                    raise _Refusal(WsErrorCode.INVALID_PARAMETER, f"no market has id {mid}") from None
            return list(dict.fromkeys(names))
        else:
            return None
        if not names:
            raise _Refusal(WsErrorCode.INVALID_PARAMETER, "market_tickers is empty")
        unknown = [name for name in dict.fromkeys(names) if not self._catalog.has_market(name)]
        if unknown:
            raise _Refusal(WsErrorCode.INVALID_PARAMETER, "unknown markets", market_tickers=unknown)
        return list(dict.fromkeys(names))

    # -- engine events -------------------------------------------------------------------------

    def _on_event(self, event: EngineEvent) -> None:
        if self._closed:
            return
        try:
            self._handlers[type(event)](event)
        except Exception:
            # A frame that cannot be built would leave a silent hole in the stream: end every
            # subscription of the channel with "Channel error" (terminal: clients resubscribe).
            channel = self._event_channels.get(type(event), "")
            log.exception("ws_event_failed", event_type=type(event).__name__, channel=channel)
            for conn in list(self._conns.values()):
                sub = conn.by_channel.get(channel)
                if sub is not None:
                    self._drop(conn, sub)
                    self._reply(conn, _Refusal(WsErrorCode.CHANNEL_ERROR, channel).frame(0, sub.sid))

    def _subscribers(
        self, channel: str, ticker: str | None = None, user_id: str | None = None
    ) -> list[tuple[_Connection, _Subscription]]:
        """(connection, subscription) pairs that get ``channel``'s message about ``ticker``
        (None: any market) — only ``user_id``'s connections when it is given."""
        found = []
        for conn in self._conns.values():
            if user_id is not None and conn.user_id != user_id:
                continue
            sub = conn.by_channel.get(channel)
            if sub is not None and (ticker is None or sub.wants(ticker)):
                found.append((conn, sub))
        return found

    def _on_book_delta(self, ev: BookDelta) -> None:
        bodies: dict[tuple[bool, bool], bytes] = {}
        for conn, sub in self._subscribers(ORDERBOOK, ev.ticker):
            key = (sub.use_yes_price, ev.user_id is not None and ev.user_id == conn.user_id)
            body = bodies.get(key)
            if body is None:
                body = bodies[key] = self._delta_body(ev, *key)
            self._push(conn, sub, b"orderbook_delta", body)

    def _on_ticker(self, ev: TickerEvent) -> None:
        body = b""
        for conn, sub in self._subscribers(TICKER, ev.ticker):
            body = body or self._ticker_body(ev.ticker, ev.ts_ms)
            self._push(conn, sub, b"ticker", body)

    def _on_trade(self, ev: TradeEvent) -> None:
        t = ev.trade
        self._note_trade(t)
        body = b""
        for conn, sub in self._subscribers(TRADE, t.ticker):
            if not body:
                outcome = t.taker_side.outcome.value
                body = wire.ENCODER.encode(
                    wire.TradeMsg(
                        trade_id=t.trade_id,
                        market_ticker=t.ticker,
                        yes_price_dollars=format_price(t.price),
                        no_price_dollars=format_price(complement(t.price)),
                        count_fp=format_qty(t.count),
                        is_block_trade=False,
                        ts_ms=t.ts_ms,
                        taker_outcome_side=outcome,
                        taker_book_side=t.taker_side.value,
                        taker_side=outcome,
                        ts=t.ts_ms // 1000,
                    )
                )
            self._push(conn, sub, b"trade", body)

    def _on_fill(self, ev: FillEvent) -> None:
        f = ev.fill
        body = b""
        for conn, sub in self._subscribers(FILL, f.ticker, f.user_id):
            if not body:
                outcome = f.side.outcome.value
                body = wire.ENCODER.encode(
                    wire.FillMsg(
                        trade_id=f.fill_id,  # the fill's id, as REST's Fill.trade_id
                        order_id=f.order_id,
                        market_ticker=f.ticker,
                        exchange_index=EXCHANGE_INDEX,
                        is_taker=f.is_taker,
                        yes_price_dollars=format_price(f.price),
                        count_fp=format_qty(f.count),
                        post_position_fp=format_qty(f.post_position),
                        ts_ms=f.ts_ms,
                        fee_cost=format_money(f.fee),
                        outcome_side=outcome,
                        book_side=f.side.value,
                        side=outcome,
                        action="buy",
                        purchased_side=outcome,
                        client_order_id=f.client_order_id or UNSET,
                        subaccount=f.subaccount or UNSET,
                        ts=f.ts_ms // 1000,
                    )
                )
            self._push(conn, sub, b"fill", body)

    def _on_order(self, ev: OrderEvent) -> None:
        o = ev.order
        body = b""
        for conn, sub in self._subscribers(USER_ORDERS, o.ticker, o.user_id):
            if not body:
                outcome = o.side.outcome
                expiration = o.expiration_ms
                body = wire.ENCODER.encode(
                    wire.UserOrderMsg(
                        order_id=o.order_id,
                        user_id=self._wire_user(o.user_id),
                        ticker=o.ticker,
                        exchange_index=EXCHANGE_INDEX,
                        status=o.status.value,
                        yes_price_dollars=format_price(o.price),
                        fill_count_fp=format_qty(o.filled),
                        remaining_count_fp=format_qty(o.remaining),
                        initial_count_fp=format_qty(o.initial),
                        taker_fill_cost_dollars=dollars6(o.taker_fill_cost),
                        maker_fill_cost_dollars=dollars6(o.maker_fill_cost),
                        taker_fees_dollars=dollars6(o.taker_fees),
                        maker_fees_dollars=dollars6(o.maker_fees),
                        client_order_id=o.client_order_id,
                        created_ts_ms=o.created_ms,
                        outcome_side=outcome.value,
                        book_side=o.side.value,
                        side=outcome.value,
                        is_yes=outcome is Side.YES,
                        created_time=iso(o.created_ms),
                        order_group_id=o.order_group_id,
                        self_trade_prevention_type=o.self_trade_prevention.value,
                        last_update_time=iso(o.updated_ms),
                        last_updated_ts_ms=o.updated_ms,
                        last_update_reason=user_order_reason(o.last_update_reason),
                        expiration_time=UNSET if expiration is None else iso(expiration),
                        expiration_ts_ms=expiration,
                        subaccount_number=o.subaccount,
                    )
                )
            self._push(conn, sub, b"user_order", body)

    def _on_position(self, ev: PositionEvent) -> None:
        p = ev.position
        body = b""
        for conn, sub in self._subscribers(POSITIONS, p.ticker, ev.user_id):
            if not body:
                body = wire.ENCODER.encode(
                    wire.MarketPositionMsg(
                        user_id=self._wire_user(ev.user_id),
                        market_ticker=p.ticker,
                        position_fp=format_qty(p.position),
                        position_cost_dollars=format_money(p.cost),
                        realized_pnl_dollars=format_money(p.realized_pnl),
                        fees_paid_dollars=format_money(p.fees_paid),
                        position_fee_cost_dollars=format_money(p.fees_paid),
                        volume_fp=format_qty(p.volume),
                    )
                )
            self._push(conn, sub, b"market_position", body)

    def _on_order_group(self, ev: OrderGroupEvent) -> None:
        body = b""
        for conn, sub in self._subscribers(ORDER_GROUPS, None, ev.user_id):
            if not body:
                limit = ev.contracts_limit
                with_limit = ev.kind in ("created", "limit_updated") and limit is not None
                body = wire.ENCODER.encode(
                    wire.OrderGroupUpdatesMsg(
                        event_type=ev.kind,
                        order_group_id=ev.group_id,
                        ts_ms=ev.ts_ms,
                        contracts_limit_fp=format_qty(limit) if with_limit and limit is not None else UNSET,
                    )
                )
            self._push(conn, sub, b"order_group_updates", body)

    def _on_market(self, ev: MarketEvent) -> None:
        frames: list[tuple[bytes, bytes]] = []
        if ev.kind == "created" and self._catalog.has_market(ev.ticker):
            event_ticker = self._catalog.market(ev.ticker).event_ticker
            if event_ticker not in self._announced:
                self._announced.add(event_ticker)
                frames.append((b"event_lifecycle", self._event_lifecycle_body(event_ticker)))
        previous = self._status.get(ev.ticker)
        self._status[ev.ticker] = self._engine.market(ev.ticker).status
        if not self._conns:
            return
        body = self._lifecycle_body(ev, previous)
        if body is not None:
            frames.append((b"market_lifecycle_v2", body))
        for conn, sub in self._subscribers(LIFECYCLE):
            for kind, frame_body in frames:
                self._push(conn, sub, kind, frame_body)

    # -- message bodies ------------------------------------------------------------------------

    def _market_id(self, ticker: str) -> str:
        found = self._market_ids.get(ticker)
        if found is None:
            try:
                found = self._catalog.market(ticker).market_id
            except KeyError:  # an engine market without catalog metadata: a stable stand-in
                found = str(uuid.uuid5(uuid.NAMESPACE_URL, f"kalshi-trader-sim:market:{ticker}"))
            self._market_ids[ticker] = found
        return found

    def _wire_user(self, user_id: str) -> str:
        found = self._wire_users.get(user_id)
        if found is None:
            found = self._wire_users[user_id] = wire_user_id(user_id)
        return found

    def _note_trade(self, trade: Trade) -> None:
        stats = self._stats.get(trade.ticker)
        if stats is None:
            stats = self._stats[trade.ticker] = _TradeStats()
        stats.notional += trade.price * trade.count
        stats.last_size = trade.count

    def _snapshot_body(self, ticker: str, use_yes_price: bool) -> bytes:
        yes, no = self._engine.book(ticker)
        if use_yes_price:
            no_levels = [(format_price(complement(p)), format_qty(q)) for p, q in reversed(no)]
        else:
            no_levels = [(format_price(p), format_qty(q)) for p, q in no]
        return wire.ENCODER.encode(
            wire.OrderbookSnapshotMsg(
                market_ticker=ticker,
                market_id=self._market_id(ticker),
                yes_dollars_fp=[(format_price(p), format_qty(q)) for p, q in yes],
                no_dollars_fp=list(no_levels),
            )
        )

    def _delta_body(self, ev: BookDelta, use_yes_price: bool, own: bool) -> bytes:
        price = complement(ev.price) if use_yes_price and ev.side is Side.NO else ev.price
        return wire.ENCODER.encode(
            wire.OrderbookDeltaMsg(
                market_ticker=ev.ticker,
                market_id=self._market_id(ev.ticker),
                price_dollars=format_price(price),
                delta_fp=format_qty(ev.delta),
                side=ev.side.value,
                client_order_id=ev.client_order_id if own and ev.client_order_id else UNSET,
                subaccount=ev.subaccount if own and ev.subaccount else UNSET,
                ts_ms=ev.ts_ms,
            )
        )

    def _ticker_body(self, ticker: str, ts_ms: int) -> bytes:
        state = self._engine.market(ticker)
        yes_bid, yes_size, no_bid, no_size = self._engine.top(ticker)
        stats = self._stats.get(ticker) or _TradeStats()
        last = state.last_price or 0
        return wire.ENCODER.encode(
            wire.TickerMsg(
                market_ticker=ticker,
                market_id=self._market_id(ticker),
                price_dollars=format_price(last),
                yes_bid_dollars=format_price(yes_bid or 0),
                yes_ask_dollars=format_price(PRICE_SCALE if no_bid is None else complement(no_bid)),
                yes_bid_size_fp=format_qty(0 if yes_bid is None else yes_size),
                yes_ask_size_fp=format_qty(0 if no_bid is None else no_size),
                last_trade_size_fp=format_qty(stats.last_size),
                volume_fp=format_qty(state.volume),
                open_interest_fp=format_qty(state.open_interest),
                dollar_volume=stats.notional // _DOLLAR_UNITS,
                dollar_open_interest=state.open_interest * last // _DOLLAR_UNITS,
                ts_ms=ts_ms,
                ts=ts_ms // 1000,
                time=iso(ts_ms),
            )
        )

    def _event_lifecycle_body(self, event_ticker: str) -> bytes:
        event = self._catalog.event(event_ticker)
        return wire.ENCODER.encode(
            wire.EventLifecycleMsg(
                event_ticker=event.event_ticker,
                exchange_index=EXCHANGE_INDEX,
                title=event.title,
                subtitle=event.sub_title,
                collateral_return_type=event.collateral_return_type,
                series_ticker=event.series_ticker,
                strike_date=UNSET if event.strike_date_ms is None else event.strike_date_ms // 1000,
                strike_period=UNSET if event.strike_period is None else event.strike_period,
            )
        )

    def _metadata(self, meta: MarketMeta) -> wire.AdditionalMetadata:
        expected = meta.expected_expiration_ms
        return wire.AdditionalMetadata(
            name=self._catalog.event(meta.event_ticker).title,
            title=meta.title,
            yes_sub_title=meta.yes_sub_title,
            no_sub_title=meta.no_sub_title,
            rules_primary=meta.rules_primary,
            rules_secondary=meta.rules_secondary,
            can_close_early=meta.can_close_early,
            event_ticker=meta.event_ticker,
            expected_expiration_ts=(meta.latest_expiration_ms if expected is None else expected) // 1000,
            strike_type=meta.strike_type,
            floor_strike=UNSET if meta.floor_strike is None else meta.floor_strike,
            cap_strike=UNSET if meta.cap_strike is None else meta.cap_strike,
        )

    def _lifecycle_body(self, ev: MarketEvent, previous: MarketStatus | None) -> bytes | None:
        """The ``market_lifecycle_v2`` msg for ``ev`` (None: a transition Kalshi does not announce)."""
        ticker, kind, ts = ev.ticker, ev.kind, ev.ts_ms // 1000
        meta = self._catalog.market(ticker) if self._catalog.has_market(ticker) else None
        state = self._engine.market(ticker)
        msg: wire.MarketLifecycleMsg
        if kind == "created":
            structure = state.grid.structure
            msg = wire.MarketLifecycleMsg(
                event_type=kind,
                market_ticker=ticker,
                exchange_index=EXCHANGE_INDEX,
                open_ts=UNSET if meta is None else meta.open_ms // 1000,
                close_ts=UNSET if meta is None else meta.close_ms // 1000,
                price_level_structure=structure if structure in PRICE_LEVEL_STRUCTURES else UNSET,
                price_ranges=[wire.PriceRange(start=s, end=e, step=st) for s, e, st in state.grid.as_ranges()],
                additional_metadata=UNSET if meta is None else self._metadata(meta),
            )
        elif kind == "activated":
            if previous in (None, MarketStatus.INITIALIZED):
                return None  # the scheduled open is implicit
            msg = wire.MarketLifecycleMsg(event_type=kind, market_ticker=ticker, is_deactivated=False)
        elif kind == "deactivated":
            msg = wire.MarketLifecycleMsg(event_type=kind, market_ticker=ticker, is_deactivated=True)
        elif kind == "close_date_updated":
            if meta is not None and ev.ts_ms >= meta.close_ms:
                return None  # close_time passing is implicit
            msg = wire.MarketLifecycleMsg(event_type=kind, market_ticker=ticker, close_ts=ts)
        elif kind == "determined":
            value = state.settlement_value
            msg = wire.MarketLifecycleMsg(
                event_type=kind,
                market_ticker=ticker,
                result=state.result or UNSET,
                determination_ts=ts,
                settlement_value=UNSET if value is None else format_price(value),
            )
        else:  # settled
            msg = wire.MarketLifecycleMsg(event_type=kind, market_ticker=ticker, settled_ts=ts)
        return wire.ENCODER.encode(msg)


def _sid(sub: _Subscription) -> int:
    return sub.sid


def _convert(params: dict[str, Any], tp: type[_T]) -> _T:
    try:
        return msgspec.convert(params, tp)
    except msgspec.ValidationError as exc:
        raise _Refusal(WsErrorCode.UNABLE_TO_PROCESS, str(exc)) from None


def _check_shards(factor: int | msgspec.UnsetType, key: int | msgspec.UnsetType) -> None:
    """The communications channel's shard parameters (error codes 19-22)."""
    if factor is UNSET:
        if key is not UNSET:
            raise _Refusal(WsErrorCode.SHARD_FACTOR_REQUIRED)
        return
    if factor <= 0:
        raise _Refusal(WsErrorCode.SHARD_FACTOR_NOT_POSITIVE)
    if factor > 100:
        raise _Refusal(WsErrorCode.SHARD_FACTOR_TOO_LARGE)
    if isinstance(key, int) and not 0 <= key < factor:
        raise _Refusal(WsErrorCode.SHARD_KEY_OUT_OF_RANGE)
