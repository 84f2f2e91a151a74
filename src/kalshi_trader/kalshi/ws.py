"""One Kalshi WebSocket v2 session: signed handshake, subscriptions, seq tracking, reconnects.

Contract (docs/kalshi-protocol.md, Signing and WebSocket v2; asyncapi.yaml):

- ``WsSession(url, signer, handler)`` owns at most one connection at a time. ``start()`` opens the
  first one and raises ``WsConnectError`` (``WsAuthError`` for a 401/403) if it cannot; from then
  on the session keeps itself connected until ``close()``. Every (re)connect signs the upgrade
  request afresh (``Signer.headers("GET", <url path>)``: a new timestamp each time).
- Subscriptions are the session's *desired state*, one server subscription per channel, keyed by
  market ticker: ``subscribe(channels, tickers)`` / ``unsubscribe(channels, tickers)`` /
  ``update_subscription(channel, action, tickers)`` change it and, when connected, send the
  matching commands (``subscribe``, ``update_subscription`` ``add_markets`` / ``delete_markets`` /
  ``get_snapshot``, ``unsubscribe``) one at a time and wait for the reply. A refusal raises
  ``WsCommandError`` (code and documented message) and leaves the desired state as it was; while
  disconnected the change is only recorded and is applied at the next connect. ``orderbook_delta``
  is always subscribed with ``use_yes_price: false``: NO levels arrive in NO-leg prices.
- Sequence numbers: for every sid of a sequenced channel (``SEQUENCED``: ``orderbook_delta``,
  ``trade``, ``market_lifecycle_v2``, ``multivariate_market_lifecycle``, ``order_group_updates``,
  ``communications``) the first frame starts the count and each next frame must carry ``seq + 1``
  (``ok`` replies, and errors scoped to the subscription, carry the current ``seq`` and are checked
  too). A frame that repeats an old ``seq`` is dropped (``stats.duplicates``). A jump
  (``stats.seq_gaps``) on ``orderbook_delta`` marks every market of that subscription stale through
  ``handler.on_stale`` and asks for fresh snapshots (``get_snapshot``; if the server refuses it,
  unsubscribe and subscribe again); snapshots clear staleness in the handler's books (the session
  does not hold books). A jump on any other channel is reported to ``handler.on_gap(channel,
  reason)``, whose job is to recover what was missed from REST; the frame that revealed the gap is
  still delivered.
- Delays: frames that carry ``sending_ts_ms`` are timed (local wall clock ``wall_ns`` at decode
  minus the stamp) into ``delays[channel]`` (``kalshi.delays.FrameDelays``; replies and errors under
  ``"control"``): every frame of every channel except ``orderbook_delta``, which carries most of
  the traffic and is sampled — the frames whose ``seq`` is a multiple of ``BOOK_DELAY_SAMPLE`` (16).
  On the hot path that costs one ``&`` per frame, and a clock read and a ring store per sample.
- Reconnect: when the connection drops, goes idle, or a terminal error arrives (codes 10, 25),
  every orderbook market is reported stale, pending commands fail, and the session reconnects
  after ``Backoff`` delays (exponential, capped, with jitter; the attempt count resets after a
  connection has stayed up ``Backoff.reset_after_s``), then restores every subscription; the
  restored ``orderbook_delta`` subscription sends fresh snapshots.
- Idle detection: when no frame at all (data, reply, ping or pong) arrives for ``idle_timeout_s / 2``
  the session pings; when nothing arrives for ``idle_timeout_s`` it drops the connection and
  reconnects (``stats.idle_timeouts``). Server pings are answered with pongs.
- Tolerant parsing: frames are decoded with the ``schemas`` structs (prices and counts as strings or
  numbers; deprecated fields optional; unknown fields ignored); an ``orderbook_delta`` arrives as a
  ``BookDeltaMsg``, whose ``side`` is already a ``domain.Side``. An unknown message type
  is counted (``stats.unknown_frames``) and handed to ``handler.on_frame`` as an ``UnknownFrame``;
  a frame that is not valid JSON or not a valid message of its type is counted
  (``stats.bad_frames``) and logged, and if it carried a ``sid``/``seq`` its subscription's
  markets go stale as after a gap. An exception raised by the handler is counted
  (``stats.handler_errors``), logged, and the frame's market goes stale. Nothing a frame contains
  ends the session.
- Hot path: a text frame goes transport → ``on_text`` → ``handler.on_orderbook_delta`` /
  ``on_orderbook_snapshot`` / ``on_frame`` as plain synchronous calls on the event loop (no queue,
  no task). Handlers must not block; they may call ``resync`` (it only schedules work). ``on_text``
  is a closure over the session's state (rebuilt by ``set_handler``) and an in-order orderbook
  frame costs one decode, one ``sid``/``seq`` comparison and one call.
- Replay: ``on_text`` accepts recorded frames on a session that never connects (subscribe first:
  while disconnected that only records the desired state; the recorded ``subscribed`` replies bind
  the recorded sids); ``replay_drop(reason)`` replays a recorded connection drop.
- Tap: ``set_tap(tap)`` hands every text frame, as received and before it is parsed, to
  ``tap.frame`` (a recorder; it must copy a memoryview it keeps), and reports ``on_stale`` and
  connection changes to it too (``tap.stale``, ``tap.connection`` with the reason of a drop).
  Without a tap the frame path is unchanged; ``set_tap(None)`` removes it.
- The transport is picows (chosen by measurement, see bench/bench_feed.py: per frame it costs about
  a third of aiohttp and a sixth of websockets). ``on_text`` takes bytes or a memoryview so tests and
  benchmarks can drive the session without a socket. ``stats.frames`` counts the text messages the
  transport delivered.

This module imports ``domain``, ``kalshi.auth``, ``kalshi.schemas``, picows and the standard library.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol, Union, cast, get_args
from urllib.parse import urlsplit

import msgspec
import structlog
from picows import WSError, WSListener, WSMsgType, WSTransport, ws_connect

from kalshi_trader.domain import Side
from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.kalshi.delays import FrameDelays
from kalshi_trader.kalshi.schemas import (
    ENCODER,
    UNSET,
    WS_TERMINAL_ERRORS,
    ErrorFrame,
    FrameEnvelope,
    ListSubscriptionsCommand,
    OkFrame,
    OrderbookDeltaFrame,
    OrderbookDeltaMsg,
    OrderbookSnapshotFrame,
    OrderbookSnapshotMsg,
    ServerFrame,
    SubscribeCommand,
    SubscribedFrame,
    SubscribeParams,
    SubscriptionInfo,
    UnknownFrame,
    UnsubscribeCommand,
    UnsubscribedFrame,
    UnsubscribeParams,
    UpdateSubscriptionCommand,
    UpdateSubscriptionParams,
    decode_server_frame,
    decoder_for,
)

__all__ = [
    "CHANNELS",
    "ORDERBOOK",
    "Backoff",
    "BookDeltaMsg",
    "FeedHandler",
    "FrameTap",
    "NullHandler",
    "WsAuthError",
    "WsCommandError",
    "WsConnectError",
    "WsError",
    "WsSession",
    "WsStats",
]

log = structlog.get_logger(__name__)

ORDERBOOK: Final = "orderbook_delta"
SEQUENCED: Final = frozenset(
    {
        ORDERBOOK,
        "order_group_updates",
        "trade",
        "market_lifecycle_v2",
        "multivariate_market_lifecycle",
        "communications",
    }
)
"""Channels whose frames carry ``seq`` (asyncapi.yaml; documented since Sep 2026 on trade and lifecycle)."""
CONTROL: Final = "control"
"""The ``delays`` key of replies and errors (frames of no channel)."""
BOOK_DELAY_SAMPLE: Final = 16
"""``orderbook_delta`` frames are timed one in this many (by ``seq``; a power of two)."""
_BOOK_SAMPLE_MASK: Final = BOOK_DELAY_SAMPLE - 1
MARKET_FILTERED: Final = frozenset({ORDERBOOK, "ticker", "trade", "fill", "market_positions", "user_orders"})
"""Channels that take ``market_tickers``; the others ignore a filter."""
CHANNELS: Final = MARKET_FILTERED | frozenset(
    {"market_lifecycle_v2", "multivariate_market_lifecycle", "order_group_updates", "communications"}
)
UpdateAction = Literal["add_markets", "delete_markets", "get_snapshot"]

MAX_FRAME_BYTES: Final = 64 * 1024 * 1024
"""Kalshi's documented maximum message size."""
_BAD_FRAME_LOG_EVERY: Final = 1000
_WS_PATH_DEFAULT: Final = "/trade-api/ws/v2"


class WsError(Exception):
    """Base of this module's errors."""


class WsConnectError(WsError):
    """The connection could not be opened (network, handshake, timeout)."""


class WsAuthError(WsConnectError):
    """The server refused the signed handshake (401/403): wrong key id, key or clock."""


class WsCommandError(WsError):
    """The server answered a command with an ``error`` frame."""

    def __init__(self, code: int, message: str, market_tickers: Sequence[str] = ()) -> None:
        where = f" ({', '.join(market_tickers)})" if market_tickers else ""
        super().__init__(f"Kalshi WS error {code}: {message}{where}")
        self.code = code
        self.message = message
        self.market_tickers = list(market_tickers)
        """The markets the error names (``market_ticker`` and ``market_tickers``)."""


class FeedHandler(Protocol):
    """What the session calls, synchronously, for every frame (the market-data layer implements it)."""

    def on_orderbook_snapshot(self, msg: OrderbookSnapshotMsg) -> None: ...

    def on_orderbook_delta(self, msg: OrderbookDeltaMsg) -> None: ...

    def on_frame(self, frame: ServerFrame | UnknownFrame) -> None:
        """Every other data frame (ticker, trade, lifecycle, fill, user_order, ...)."""

    def on_stale(self, tickers: Sequence[str], reason: str) -> None:
        """These orderbook markets may have missed updates; fresh snapshots have been requested."""

    def on_gap(self, channel: str, reason: str) -> None:
        """Frames of this sequenced channel (not ``orderbook_delta``) were missed: recover from REST."""

    def on_connection(self, connected: bool) -> None:
        """The connection opened (subscriptions restored) or dropped."""


class FrameTap(Protocol):
    """What sees the raw feed beside the handler (a recorder); called synchronously, must not block."""

    def frame(self, data: bytes | memoryview) -> None:
        """A text frame as received (a memoryview is valid only during the call)."""

    def stale(self, tickers: Sequence[str], reason: str) -> None: ...

    def connection(self, connected: bool, reason: str) -> None: ...


class NullHandler:
    """A handler that ignores everything (the default until one is set)."""

    def on_orderbook_snapshot(self, msg: OrderbookSnapshotMsg) -> None:
        pass

    def on_orderbook_delta(self, msg: OrderbookDeltaMsg) -> None:
        pass

    def on_frame(self, frame: ServerFrame | UnknownFrame) -> None:
        pass

    def on_stale(self, tickers: Sequence[str], reason: str) -> None:
        pass

    def on_gap(self, channel: str, reason: str) -> None:
        pass

    def on_connection(self, connected: bool) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: attempt n waits ``min(max_s, initial_s * factor**n)`` scaled by a random
    factor in ``[1 - jitter, 1]``."""

    initial_s: float = 0.25
    max_s: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5
    reset_after_s: float = 10.0
    """A connection that stayed up this long resets the attempt count."""

    def __post_init__(self) -> None:
        if not (0 < self.initial_s <= self.max_s and self.factor >= 1 and 0 <= self.jitter <= 1):
            raise ValueError("backoff needs 0 < initial_s <= max_s, factor >= 1 and 0 <= jitter <= 1")

    def delay(self, attempt: int, rng: random.Random) -> float:
        base = min(self.max_s, self.initial_s * self.factor ** min(attempt, 64))
        return base * (1.0 - self.jitter * rng.random())


@dataclass(slots=True)
class WsStats:
    """Counters of one session (over all its connections)."""

    connects: int = 0
    disconnects: int = 0
    frames: int = 0
    """Text frames received from the server (``on_text`` calls made by the transport)."""
    bad_frames: int = 0
    unknown_frames: int = 0
    handler_errors: int = 0
    seq_gaps: int = 0
    duplicates: int = 0
    stray_frames: int = 0
    """Data frames on a sid the session does not hold (e.g. after an unsubscribe)."""
    resyncs: int = 0
    error_replies: int = 0
    idle_timeouts: int = 0
    last_error: str = ""


@dataclass(eq=False, slots=True)
class _Channel:
    """Desired state of one channel, and its subscription on the current connection."""

    name: str
    tickers: dict[str, None] | None
    """Desired markets in subscription order (an ordered set); None = every market / no filter."""
    sid: int = 0
    """Server subscription id on this connection (0 = not subscribed)."""
    seq: int = -1
    """Last seq seen on ``sid`` (-1 = none yet)."""
    sequenced: bool = False

    def filter(self) -> list[str] | None:
        return None if self.tickers is None else list(self.tickers)


@dataclass(eq=False, slots=True)
class _Pending:
    cmd: str
    channel: _Channel | None
    future: asyncio.Future[Any]
    replies_left: int = 1


_TEXT: Final = WSMsgType.TEXT


class _Listener(WSListener):
    """picows callbacks → the session. One per connection."""

    def __init__(self, session: WsSession) -> None:
        super().__init__()
        self.session = session
        self.on_text = session.on_text
        self.frames = 0
        """Text messages handed to ``on_text``."""
        self.control = 0
        """Every other frame (pings, pongs, fragments, close)."""
        self._parts: bytearray | None = None

    @property
    def activity(self) -> int:
        return self.frames + self.control

    def on_ws_connected(self, transport: WSTransport) -> None:
        pass

    def on_ws_frame(self, transport: WSTransport, frame: Any) -> None:
        # The hot path: one whole data message. Control frames carry at most 125 bytes (RFC 6455
        # 5.5), so a longer final frame with no fragmented message pending is one; this avoids
        # ``frame.msg_type``, which costs ~70 ns (a C enum turned into a Python enum per access).
        if frame.payload_size > 125 and frame.fin and self._parts is None:
            self.frames += 1
            self.on_text(frame.get_payload_as_memoryview())
            return
        kind = frame.msg_type
        if kind is _TEXT and frame.fin:
            self.frames += 1
            self.on_text(frame.get_payload_as_memoryview())
            return
        self.control += 1
        if kind is WSMsgType.PING:
            transport.send_pong(frame.get_payload_as_bytes())
        elif kind is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
        elif kind is WSMsgType.TEXT or kind is WSMsgType.BINARY:  # a first fragment, or a whole binary
            if frame.fin:
                self.frames += 1
                self.on_text(frame.get_payload_as_memoryview())
            else:
                self._parts = bytearray(frame.get_payload_as_memoryview())
        elif kind is WSMsgType.CONTINUATION and self._parts is not None:
            self._parts += frame.get_payload_as_memoryview()
            if len(self._parts) > MAX_FRAME_BYTES:
                self._parts = None
                self.session._count_bad(b"", "message larger than the maximum size")
            elif frame.fin:
                data, self._parts = bytes(self._parts), None
                self.frames += 1
                self.on_text(data)
        # PONG (and stray continuations): activity only

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.session._connection_lost(self)


class WsSession:
    """One Kalshi WebSocket session (see the module docstring)."""

    def __init__(
        self,
        url: str,
        signer: Signer | None,
        handler: FeedHandler | None = None,
        *,
        backoff: Backoff | None = None,
        idle_timeout_s: float = 20.0,
        connect_timeout_s: float = 10.0,
        command_timeout_s: float = 10.0,
        rng: random.Random | None = None,
        wall_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if idle_timeout_s <= 0 or connect_timeout_s <= 0 or command_timeout_s <= 0:
            raise ValueError("timeouts must be positive")
        self.url = url
        self.path = urlsplit(url).path or _WS_PATH_DEFAULT
        self.signer = signer
        self.backoff = backoff or Backoff()
        self.idle_timeout_s = idle_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.command_timeout_s = command_timeout_s
        self._stats = WsStats()
        self._frames_before = 0
        self._rng = rng or random.Random()
        self._wall_ns = wall_ns
        """The local wall clock frames are timed with (Unix ns)."""
        self._channels: dict[str, _Channel] = {}
        self._book = _Channel(ORDERBOOK, {}, sequenced=True)
        """The ``orderbook_delta`` channel (in ``_channels`` while subscribed); never replaced."""
        self._by_sid: dict[int, _Channel] = {}
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._transport: WSTransport | None = None
        self._listener: _Listener | None = None
        self._connected = asyncio.Event()
        self._lost = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._resync_task: asyncio.Task[None] | None = None
        self._resync_wanted: dict[str, None] = {}
        self._closing = False
        self._bad_logged = 0
        self._terminal_reason = ""
        self._tap: FrameTap | None = None
        self.delays: dict[str, FrameDelays] = {ORDERBOOK: FrameDelays()}
        """Exchange→client delay per channel (``CONTROL`` for replies), from ``sending_ts_ms``."""
        self.handler: FeedHandler = NullHandler()
        self._on_delta: Callable[[OrderbookDeltaMsg], None] = self.handler.on_orderbook_delta
        self._on_snapshot: Callable[[OrderbookSnapshotMsg], None] = self.handler.on_orderbook_snapshot
        self.on_text: Callable[[bytes | memoryview], None] = self._frame_handler()
        self.set_handler(handler or self.handler)

    @property
    def stats(self) -> WsStats:
        """Counters over every connection of this session (``frames`` includes the current one's)."""
        listener = self._listener
        self._stats.frames = self._frames_before + (listener.frames if listener is not None else 0)
        return self._stats

    def set_handler(self, handler: FeedHandler) -> None:
        self.handler = handler
        self._on_delta = handler.on_orderbook_delta
        self._on_snapshot = handler.on_orderbook_snapshot
        self.on_text = self._frame_handler()
        if self._listener is not None:
            self._listener.on_text = self.on_text

    def set_tap(self, tap: FrameTap | None) -> None:
        """Show every frame, stale report and connection change to ``tap`` too (None: to nobody)."""
        self._tap = tap
        self.set_handler(self.handler)

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self) -> None:
        """Open the first connection (restoring any recorded subscriptions) and keep it up."""
        if self._supervisor is not None:
            return
        self._closing = False
        await self._connect()
        self._supervisor = asyncio.get_running_loop().create_task(self._supervise(), name="kalshi-ws")

    async def close(self) -> None:
        """Close the connection and stop reconnecting; idempotent."""
        self._closing = True
        for task in (self._supervisor, self._resync_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._supervisor = self._resync_task = None
        transport = self._transport
        if transport is not None:
            with contextlib.suppress(Exception):
                transport.send_close()
                transport.disconnect()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(transport.wait_disconnected(), 2.0)
        self._drop_connection("closed")

    async def __aenter__(self) -> WsSession:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def wait_connected(self) -> None:
        """Return once connected (wrap in ``asyncio.timeout`` to bound the wait)."""
        await self._connected.wait()

    def drop_connection(self) -> None:
        """Drop the current connection as if the network failed (the session reconnects)."""
        if self._transport is not None:
            self._transport.disconnect(graceful=False)

    def replay_drop(self, reason: str) -> None:
        """A recorded connection drop, replayed on a session fed recorded frames (it never connects:
        a backtest). Forgets every sid as a real drop does and reports every book stale, so the
        books wait for the snapshots after the recorded reconnect (whose ``subscribed`` replies
        bind the new sids)."""
        self._by_sid.clear()
        for ch in (*self._channels.values(), self._book):
            ch.sid, ch.seq = 0, -1
        book = self._channels.get(ORDERBOOK)
        if book is not None and book.tickers:
            self._call_handler_stale(list(book.tickers), reason)
        self._call_handler_connection(False, reason)

    # -- subscriptions -------------------------------------------------------------------------------

    def subscriptions(self) -> dict[str, list[str] | None]:
        """Desired subscriptions: channel → tickers (None = every market / no filter)."""
        return {name: ch.filter() for name, ch in self._channels.items()}

    def sid_of(self, channel: str) -> int:
        """The channel's sid on the current connection (0 when not subscribed)."""
        ch = self._channels.get(channel)
        return ch.sid if ch is not None else 0

    async def subscribe(self, channels: Sequence[str], tickers: Iterable[str] | None = None) -> None:
        """Add ``tickers`` (None: every market) to each channel's subscription."""
        wanted = None if tickers is None else list(dict.fromkeys(tickers))
        if wanted is not None and not wanted:
            return
        async with self._lock:
            for name in channels:
                if name == ORDERBOOK and wanted is None:
                    raise ValueError("orderbook_delta needs market tickers")
                ch = self._channels.get(name)
                if ch is None:
                    filtered = name in MARKET_FILTERED and wanted is not None
                    tickers = dict.fromkeys(wanted or ()) if filtered else None
                    if name == ORDERBOOK:  # one object for the session's life: the hot path holds it
                        ch = self._book
                        ch.tickers, ch.sid, ch.seq = tickers, 0, -1
                    else:
                        ch = _Channel(name, tickers, sequenced=name in SEQUENCED)
                    self._channels[name] = ch
                    if self.connected:
                        try:
                            await self._send_subscribe(ch)
                        except WsCommandError:
                            del self._channels[name]
                            raise
                    continue
                if name not in MARKET_FILTERED or ch.tickers is None:
                    continue  # already every market
                if wanted is None:
                    ch.tickers = None
                    if self.connected:
                        await self._send_subscribe(ch)
                    continue
                added = [t for t in wanted if t not in ch.tickers]
                if not added:
                    continue
                ch.tickers.update(dict.fromkeys(added))
                if self.connected and ch.sid:
                    try:
                        await self._send_update(ch, "add_markets", added)
                    except WsCommandError:
                        for t in added:
                            ch.tickers.pop(t, None)
                        raise

    async def unsubscribe(self, channels: Sequence[str], tickers: Iterable[str] | None = None) -> None:
        """Remove ``tickers`` from each channel (None: the whole channel)."""
        drop = None if tickers is None else list(dict.fromkeys(tickers))
        async with self._lock:
            for name in channels:
                ch = self._channels.get(name)
                if ch is None:
                    continue
                if drop is not None and ch.tickers is not None:
                    gone = [t for t in drop if t in ch.tickers]
                    if not gone:
                        continue
                    if len(gone) < len(ch.tickers):
                        for t in gone:
                            del ch.tickers[t]
                        if self.connected and ch.sid:
                            await self._send_update(ch, "delete_markets", gone)
                        continue
                elif drop is not None:
                    continue  # no filter to delete from
                del self._channels[name]
                if self.connected and ch.sid:
                    await self._send_unsubscribe(ch)

    async def update_subscription(self, channel: str, action: UpdateAction, tickers: Iterable[str]) -> None:
        """``add_markets`` / ``delete_markets`` (same as ``subscribe`` / ``unsubscribe`` for one
        channel) or ``get_snapshot`` (fresh orderbook snapshots, subscription unchanged)."""
        names = list(dict.fromkeys(tickers))
        if action == "add_markets":
            await self.subscribe([channel], names)
        elif action == "delete_markets":
            await self.unsubscribe([channel], names)
        elif action == "get_snapshot":
            async with self._lock:
                ch = self._channels.get(channel)
                if ch is None or not ch.sid or not names:
                    return
                await self._send_update(ch, "get_snapshot", names)
        else:
            raise ValueError(f"unknown action {action!r}")

    async def list_subscriptions(self) -> list[SubscriptionInfo]:
        """The server's view of this connection's subscriptions."""
        async with self._lock:
            reply = await self._command("list_subscriptions", None, lambda i: ListSubscriptionsCommand(id=i))
        assert isinstance(reply, OkFrame)
        return list(reply.msg) if isinstance(reply.msg, list) else []

    def resync(self, tickers: Iterable[str]) -> None:
        """Ask for fresh orderbook snapshots of ``tickers`` soon (coalesced; a no-op while
        disconnected, since a reconnect re-snapshots every market)."""
        self._resync_wanted.update(dict.fromkeys(tickers))
        if self._resync_task is None and not self._closing:
            with contextlib.suppress(RuntimeError):  # no running loop: nothing to schedule on
                self._resync_task = asyncio.get_running_loop().create_task(self._resync(), name="kalshi-ws-resync")

    # -- commands -----------------------------------------------------------------------------------

    async def _command(
        self, cmd: str, channel: _Channel | None, build: Callable[[int], msgspec.Struct], replies: int = 1
    ) -> ServerFrame:
        transport = self._transport
        if transport is None or not self.connected:
            raise ConnectionError("not connected")
        command_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = _Pending(cmd, channel, future, replies)
        try:
            transport.send(WSMsgType.TEXT, ENCODER.encode(build(command_id)))
            result: ServerFrame = await asyncio.wait_for(future, self.command_timeout_s)
            return result
        finally:
            self._pending.pop(command_id, None)

    async def _send_subscribe(self, ch: _Channel) -> None:
        params = SubscribeParams(channels=[ch.name])
        if ch.name in MARKET_FILTERED and ch.tickers is not None:
            params.market_tickers = list(ch.tickers)
        if ch.name == ORDERBOOK:
            params.use_yes_price = False
        await self._command("subscribe", ch, lambda i: SubscribeCommand(id=i, params=params))

    async def _send_update(self, ch: _Channel, action: str, tickers: list[str]) -> None:
        params = UpdateSubscriptionParams(action=action, sid=ch.sid, market_tickers=tickers)
        await self._command("update_subscription", ch, lambda i: UpdateSubscriptionCommand(id=i, params=params))

    async def _send_unsubscribe(self, ch: _Channel) -> None:
        sid = ch.sid
        await self._command("unsubscribe", ch, lambda i: UnsubscribeCommand(id=i, params=UnsubscribeParams(sids=[sid])))

    async def _resync(self) -> None:
        try:
            await asyncio.sleep(0)  # coalesce requests made by the same burst of frames
            while self._resync_wanted and not self._closing:
                tickers = list(self._resync_wanted)
                self._resync_wanted.clear()
                if not self.connected:
                    return  # the reconnect re-snapshots everything
                self.stats.resyncs += 1
                async with self._lock:
                    ch = self._channels.get(ORDERBOOK)
                    if ch is None or ch.tickers is None or not ch.sid:
                        continue
                    wanted = [t for t in tickers if t in ch.tickers]
                    if not wanted:
                        continue
                    try:
                        await self._send_update(ch, "get_snapshot", wanted)
                    except WsCommandError as exc:
                        log.warning("ws_get_snapshot_refused", code=exc.code, error=exc.message)
                        await self._send_unsubscribe(ch)  # fall back: a new subscription snapshots all
                        await self._send_subscribe(ch)
        except (ConnectionError, TimeoutError, WsCommandError) as exc:
            log.info("ws_resync_interrupted", error=str(exc))  # a reconnect re-snapshots anyway
        finally:
            self._resync_task = None

    # -- connection ---------------------------------------------------------------------------------

    async def _connect(self) -> None:
        headers = self.signer.headers("GET", self.path) if self.signer is not None else {}
        self._lost.clear()
        try:
            transport, listener = await asyncio.wait_for(
                ws_connect(
                    lambda: _Listener(self),
                    self.url,
                    extra_headers=headers,
                    enable_auto_pong=False,
                    max_frame_size=MAX_FRAME_BYTES,
                    websocket_handshake_timeout=self.connect_timeout_s,
                ),
                self.connect_timeout_s,
            )
        except WSError as exc:
            status = getattr(getattr(exc, "response", None), "status", None)
            if status in (401, 403):
                raise WsAuthError(
                    f"the server refused the signed handshake ({status}): check the key id and key file"
                ) from None
            raise WsConnectError(f"WebSocket handshake with {self.url} failed: {exc}") from None
        except (OSError, TimeoutError) as exc:
            raise WsConnectError(f"cannot connect to {self.url}: {exc or type(exc).__name__}") from None
        if self._listener is not None:  # a connection that failed while restoring
            self._frames_before += self._listener.frames
        self._transport, self._listener = transport, cast(_Listener, listener)
        self._by_sid.clear()
        for ch in self._channels.values():
            ch.sid, ch.seq = 0, -1
        self.stats.connects += 1
        self._connected.set()
        try:
            await self._restore()
        except (ConnectionError, TimeoutError) as exc:
            self._connected.clear()  # the socket is gone: not connected while the next attempt waits
            transport.disconnect(graceful=False)
            raise WsConnectError(f"connection lost while restoring subscriptions: {exc or 'timeout'}") from None
        log.info("ws_connected", url=self.url, subscriptions=len(self._channels))
        self._call_handler_connection(True)

    async def _restore(self) -> None:
        async with self._lock:
            for ch in list(self._channels.values()):
                while True:
                    try:
                        await self._send_subscribe(ch)
                        break
                    except WsCommandError as exc:
                        # Markets that no longer exist: drop them and try the rest.
                        gone = [t for t in exc.market_tickers if ch.tickers is not None and t in ch.tickers]
                        if gone and ch.tickers is not None:
                            log.warning("ws_restore_dropped_markets", channel=ch.name, tickers=gone)
                            for ticker in gone:
                                del ch.tickers[ticker]
                            if ch.tickers:
                                continue
                        log.warning("ws_restore_refused", channel=ch.name, code=exc.code, error=exc.message)
                        self._channels.pop(ch.name, None)
                        break

    def _connection_lost(self, listener: _Listener) -> None:
        if listener is self._listener:
            self._lost.set()
            for pending in self._pending.values():  # no reply can come: fail now, not at the timeout
                if not pending.future.done():
                    pending.future.set_exception(ConnectionError("connection lost"))

    def _drop_connection(self, reason: str) -> None:
        """Forget the connection: fail pending commands, report every book stale."""
        was_connected = self.connected
        self._connected.clear()
        self._transport = None
        if self._listener is not None:
            self._frames_before += self._listener.frames
        self._listener = None
        self._by_sid.clear()
        for ch in (*self._channels.values(), self._book):
            ch.sid, ch.seq = 0, -1
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(ConnectionError(f"connection lost ({reason})"))
        self._pending.clear()
        self._resync_wanted.clear()
        if was_connected:
            self.stats.disconnects += 1
            self.stats.last_error = reason
            book = self._channels.get(ORDERBOOK)
            if book is not None and book.tickers:
                self._call_handler_stale(list(book.tickers), reason)
            self._call_handler_connection(False, reason)

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        while not self._closing:
            connected_at = loop.time()
            reason = await self._watch()
            if self._closing:
                return
            log.warning("ws_disconnected", reason=reason)
            transport = self._transport
            if transport is not None:
                with contextlib.suppress(Exception):
                    transport.disconnect(graceful=False)
            self._drop_connection(reason)
            if loop.time() - connected_at >= self.backoff.reset_after_s:
                attempt = 0
            while not self._closing:
                delay = self.backoff.delay(attempt, self._rng)
                attempt += 1
                await asyncio.sleep(delay)
                try:
                    await self._connect()
                    break
                except WsConnectError as exc:
                    self.stats.last_error = str(exc)
                    log.warning("ws_reconnect_failed", attempt=attempt, error=str(exc))

    async def _watch(self) -> str:
        """Wait until the connection is lost or idle; returns why."""
        loop = asyncio.get_running_loop()
        tick = self.idle_timeout_s / 4
        listener = self._listener
        seen = listener.activity if listener is not None else 0
        last = loop.time()
        pinged = False
        while not self._closing:
            try:
                await asyncio.wait_for(self._lost.wait(), tick)
            except TimeoutError:
                pass
            else:
                reason, self._terminal_reason = self._terminal_reason or "connection closed", ""
                return reason
            listener = self._listener
            if listener is None:
                return "connection closed"
            now = loop.time()
            if listener.activity != seen:
                seen, last, pinged = listener.activity, now, False
            elif now - last >= self.idle_timeout_s:
                self.stats.idle_timeouts += 1
                return f"no frame for {self.idle_timeout_s:g}s"
            elif not pinged and now - last >= self.idle_timeout_s / 2 and self._transport is not None:
                self._transport.send_ping(b"kalshi-trader")
                pinged = True
        return "closing"

    def _terminal(self, reason: str) -> None:
        """A terminal error: drop the connection so that the supervisor reconnects and restores."""
        self._terminal_reason = reason
        self._lost.set()

    # -- frames (the hot path) ---------------------------------------------------------------------

    def _frame_handler(self) -> Callable[[bytes | memoryview], None]:
        """Build ``on_text``: a closure, so that everything it touches per frame is a local
        (cheaper than attribute and global lookups on the hot path). Rebuilt by ``set_handler``."""
        decode, book, error = _decode, self._book, msgspec.MsgspecError
        delta_frame, snapshot_frame = BookDeltaFrame, OrderbookSnapshotFrame
        on_delta, on_snapshot = self._on_delta, self._on_snapshot
        undecodable, slow, failed = self._undecodable, self._slow_frame, self._handler_failed
        tap = self._tap.frame if self._tap is not None else None
        book_delay, now_ns, unset, sample = self.delays[ORDERBOOK].observe_us, self._wall_ns, UNSET, _BOOK_SAMPLE_MASK

        def on_text(data: bytes | memoryview) -> None:
            """Handle one text frame (the transport calls it; tests and benchmarks may too)."""
            try:
                frame = decode(data)
            except error:
                undecodable(data)
                return
            cls = frame.__class__
            if cls is delta_frame:
                seq = frame.seq
                if frame.sid == book.sid and seq == book.seq + 1:  # in order on our orderbook sid
                    book.seq = seq
                    if not seq & sample:
                        sent = frame.sending_ts_ms
                        if sent is not unset:
                            book_delay(now_ns() // 1000 - sent * 1000)
                    try:
                        on_delta(frame.msg)
                    except Exception as exc:
                        failed(frame, exc)
                    return
            elif cls is snapshot_frame:
                seq = frame.seq
                if frame.sid == book.sid and seq == book.seq + 1:
                    book.seq = seq
                    if not seq & sample:
                        sent = frame.sending_ts_ms
                        if sent is not unset:
                            book_delay(now_ns() // 1000 - sent * 1000)
                    try:
                        on_snapshot(frame.msg)
                    except Exception as exc:
                        failed(frame, exc)
                    return
            slow(frame)

        if tap is None:
            return on_text
        handle = on_text

        def on_text_tapped(data: bytes | memoryview) -> None:
            tap(data)
            handle(data)

        return on_text_tapped

    def _time(self, channel: str, frame: ServerFrame) -> None:
        """Record ``frame``'s exchange→client delay under ``channel``."""
        sent = frame.sending_ts_ms
        if sent is UNSET:
            return
        delays = self.delays.get(channel)
        if delays is None:
            delays = self.delays[channel] = FrameDelays()
        delays.observe_us(self._wall_ns() // 1000 - sent * 1000)

    def _slow_frame(self, frame: ServerFrame) -> None:
        """Everything but an in-order orderbook frame: replies, other channels, seq trouble."""
        if isinstance(frame, OrderbookDeltaFrame | OrderbookSnapshotFrame):
            if not frame.seq & _BOOK_SAMPLE_MASK:
                self._time(ORDERBOOK, frame)
            if not self._check_seq(frame.sid, frame.seq):
                return
            try:
                if isinstance(frame, OrderbookDeltaFrame):
                    self._on_delta(frame.msg)
                else:
                    self._on_snapshot(frame.msg)
            except Exception as exc:
                self._handler_failed(frame, exc)
            return
        if isinstance(frame, SubscribedFrame | UnsubscribedFrame | OkFrame | ErrorFrame):
            self._time(CONTROL, frame)
            self._on_reply(frame)
            return
        sid = frame.sid
        channel = self._by_sid.get(sid)
        if channel is None:
            self.stats.stray_frames += 1
            return
        self._time(channel.name, frame)
        seq = getattr(frame, "seq", UNSET)
        if (
            isinstance(sid, int)
            and isinstance(seq, int)
            and self._by_sid[sid].sequenced
            and not self._check_seq(sid, seq)
        ):
            return
        try:
            self.handler.on_frame(frame)
        except Exception as exc:
            self._handler_failed(frame, exc)

    def _check_seq(self, sid: int, seq: int) -> bool:
        """Track ``seq`` on ``sid``; False when the frame must be dropped."""
        ch = self._by_sid.get(sid)
        if ch is None:
            self.stats.stray_frames += 1
            return False
        last = ch.seq
        if last < 0 or seq == last + 1:
            ch.seq = seq
            return True
        if seq <= last:
            self.stats.duplicates += 1
            log.warning("ws_seq_repeated", channel=ch.name, sid=sid, seq=seq, last=last)
            return False
        self._gap(ch, f"seq gap on {ch.name} sid {sid}: {seq} after {last}")
        ch.seq = seq
        return True

    def _gap(self, ch: _Channel, reason: str) -> None:
        self.stats.seq_gaps += 1
        log.warning("ws_seq_gap", reason=reason)
        if ch.name != ORDERBOOK:
            try:
                self.handler.on_gap(ch.name, reason)
            except Exception:
                self.stats.handler_errors += 1
                log.exception("ws_handler_on_gap_failed", channel=ch.name)
        elif ch.tickers:
            tickers = list(ch.tickers)
            self._call_handler_stale(tickers, reason)
            self.resync(tickers)

    def _on_reply(self, frame: SubscribedFrame | UnsubscribedFrame | OkFrame | ErrorFrame) -> None:
        command_id = frame.id if isinstance(frame.id, int) else 0
        pending = self._pending.get(command_id)
        if isinstance(frame, ErrorFrame):
            self._on_error(frame, pending)
            return
        if isinstance(frame, SubscribedFrame):
            ch = self._channels.get(frame.msg.channel)
            if ch is None and pending is not None:
                ch = pending.channel
            if ch is not None and ch.sid != frame.msg.sid:
                if ch.sid:
                    self._by_sid.pop(ch.sid, None)
                ch.sid, ch.seq = frame.msg.sid, -1
                self._by_sid[ch.sid] = ch
        elif isinstance(frame, UnsubscribedFrame):
            gone = self._by_sid.pop(frame.sid, None)
            if gone is not None and gone.sid == frame.sid:
                gone.sid, gone.seq = 0, -1
        elif isinstance(frame, OkFrame) and isinstance(frame.sid, int) and isinstance(frame.seq, int):
            ch = self._by_sid.get(frame.sid)
            if ch is not None and ch.sequenced and ch.seq >= 0 and frame.seq > ch.seq:
                self._gap(ch, f"ok reply on {ch.name} sid {frame.sid} reports seq {frame.seq}, last seen {ch.seq}")
                ch.seq = frame.seq
        if pending is not None:
            pending.replies_left -= 1
            if pending.replies_left <= 0 and not pending.future.done():
                pending.future.set_result(frame)

    def _on_error(self, frame: ErrorFrame, pending: _Pending | None) -> None:
        self.stats.error_replies += 1
        code, message = frame.msg.code, frame.msg.msg
        tickers = list(frame.msg.market_tickers)
        if isinstance(frame.msg.market_ticker, str) and frame.msg.market_ticker not in tickers:
            tickers.insert(0, frame.msg.market_ticker)
        if isinstance(frame.sid, int) and isinstance(frame.seq, int):  # scoped to a sequenced subscription
            ch = self._by_sid.get(frame.sid)
            if ch is not None and ch.sequenced and not self._check_seq(frame.sid, frame.seq):
                return
        if pending is not None and not pending.future.done():
            pending.future.set_exception(WsCommandError(code, message, tickers))
        else:
            log.warning("ws_error_frame", code=code, error=message, market_tickers=tickers, sid=frame.sid)
        if code in WS_TERMINAL_ERRORS:
            self.stats.last_error = f"terminal error {code}: {message}"
            self._terminal(f"terminal error {code} ({message})")

    def _undecodable(self, data: bytes | memoryview) -> None:
        """A frame the hot decoder refused: an unknown type, or a malformed frame."""
        try:
            frame = decode_server_frame(bytes(data))
        except msgspec.MsgspecError as exc:
            self._count_bad(data, str(exc))
            return
        if isinstance(frame, UnknownFrame):
            self.stats.unknown_frames += 1
            if self.stats.unknown_frames <= 10:
                log.info("ws_unknown_frame_type", type=frame.type)
            try:
                self.handler.on_frame(frame)
            except Exception as exc:
                self._handler_failed(frame, exc)
        else:  # well-formed for the schema but not for the hot decoder: a delta with an unknown side
            self._count_bad(data, f"{frame.__class__.__name__} with a value the session cannot use")

    def _count_bad(self, data: bytes | memoryview, error: str) -> None:
        self.stats.bad_frames += 1
        self._bad_logged += 1
        if self._bad_logged <= 10 or self._bad_logged % _BAD_FRAME_LOG_EVERY == 0:
            log.warning("ws_bad_frame", error=error, count=self.stats.bad_frames, frame=bytes(data[:200]))
        # A malformed frame that still names its subscription and seq leaves a hole there.
        with contextlib.suppress(msgspec.MsgspecError):
            head = _ENVELOPE.decode(data)
            if isinstance(head.sid, int) and isinstance(head.seq, int):
                ch = self._by_sid.get(head.sid)
                if ch is not None and ch.sequenced and head.seq > ch.seq:
                    self._gap(ch, f"malformed frame on {ch.name} sid {head.sid} seq {head.seq}")
                    ch.seq = head.seq

    def _handler_failed(self, frame: ServerFrame | UnknownFrame, exc: Exception) -> None:
        self.stats.handler_errors += 1
        if self.stats.handler_errors <= 10 or self.stats.handler_errors % _BAD_FRAME_LOG_EVERY == 0:
            log.error("ws_handler_failed", error=repr(exc), frame_type=type(frame).__name__)
        msg = getattr(frame, "msg", None)
        ticker = getattr(msg, "market_ticker", None)
        if isinstance(frame, OrderbookDeltaFrame | OrderbookSnapshotFrame) and isinstance(ticker, str):
            self._call_handler_stale([ticker], f"handler failed: {exc!r}")
            self.resync([ticker])

    def _call_handler_stale(self, tickers: list[str], reason: str) -> None:
        try:
            if self._tap is not None:
                self._tap.stale(tickers, reason)
            self.handler.on_stale(tickers, reason)
        except Exception:
            self.stats.handler_errors += 1
            log.exception("ws_handler_on_stale_failed")

    def _call_handler_connection(self, connected: bool, reason: str = "") -> None:
        try:
            if self._tap is not None:
                self._tap.connection(connected, reason)
            self.handler.on_connection(connected)
        except Exception:
            self.stats.handler_errors += 1
            log.exception("ws_handler_on_connection_failed")


class BookDeltaMsg(OrderbookDeltaMsg):
    """``OrderbookDeltaMsg`` with ``side`` decoded straight into ``domain.Side`` (by msgspec, in C:
    no string to allocate, no lookup on the hot path). A side other than yes/no makes the frame
    malformed, which the session treats as a hole in the sequence."""

    side: Side


class BookDeltaFrame(OrderbookDeltaFrame, tag_field="type", tag="orderbook_delta"):
    msg: BookDeltaMsg


_HOT_FRAME_TYPES: Final = tuple(BookDeltaFrame if c is OrderbookDeltaFrame else c for c in get_args(ServerFrame))
_decode: Final = msgspec.json.Decoder(Union[_HOT_FRAME_TYPES]).decode  # noqa: UP007 - a runtime tuple of types
"""``SERVER_FRAME_DECODER`` with ``BookDeltaFrame`` in place of ``OrderbookDeltaFrame``."""
_ENVELOPE: Final = decoder_for(FrameEnvelope)
