"""The market-data half of a backtest: recorded records fed into the node's own ``WsSession`` and
``Monitor``, exactly as a live connection would have delivered them.

Contract:
- ``MarketReplay(clock)`` builds a ``WsSession`` that never connects and a ``Monitor`` over the
  recording's markets (``recorded.RecordedMarkets``, every open market: the live node follows them
  all in sim and the recording holds what was followed); ``await setup()`` subscribes the
  lifecycle channel. ``await apply(record)`` replays one record (the caller moves the clock first):
  - ``ws``: the frame, byte for byte, into ``WsSession.on_text`` (same parser, same seq checks,
    same books). The account's private channels that ``run --record`` also recorded (``fill``,
    ``user_order``, ``market_position``, ``order_group_updates``) are dropped: the backtest's
    account is the paper venue's. A ``subscribed`` reply for a channel the replay session does not
    hold yet (the live monitor had dropped and renewed it) first adds it, so the recorded sid binds.
  - ``market``: the market's newest read; a market the monitor does not follow yet and that is
    open is followed and subscribed (the live monitor subscribed it before its snapshot was sent).
  - ``nws``: kept for the fair-value model (``recorded.RecordedNws``).
  - ``conn``: counted; the recorded ``subscribed`` replies after it rebind the sids.
  - ``gap``: ``disconnected`` and every gap that lost records (``overflow``, ``write_error``,
    ``restart``, ``cut``, ``damaged``, ``missing``) → ``WsSession.replay_drop``: every book stale
    until its next recorded snapshot; ``stale`` needs nothing (the replayed session meets the same
    seq gap itself).
  - ``series``: kept for the paper venue's fee schedules (``recorded.RecordedReads``); ``event``:
    not needed.
- ``stats``: records, frames replayed, private frames dropped, gaps by kind.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Final

import msgspec

from kalshi_trader.backtest.clock import ReplayClock
from kalshi_trader.backtest.recorded import RecordedMarkets, RecordedNws, RecordedReads
from kalshi_trader.kalshi.ws import ORDERBOOK, WsSession
from kalshi_trader.marketdata.monitor import DEFAULT_CHANNELS, LIFECYCLE, MarketFilter, Monitor
from kalshi_trader.recording.reader import Record

__all__ = ["PRIVATE_CHANNELS", "MarketReplay", "ReplayStats"]

PRIVATE_CHANNELS: Final = (
    "fill",
    "user_order",
    "user_orders",
    "market_position",
    "market_positions",
    "order_group_updates",
)
_PRIVATE: Final = tuple(b'{"type":"%s"' % name.encode() for name in PRIVATE_CHANNELS)
_SUBSCRIBED: Final = b'{"type":"subscribed"'
_REPLAY_URL: Final = "ws://replay.invalid/trade-api/ws/v2"


class _Subscribed(msgspec.Struct):
    channel: str = ""


class _SubscribedFrame(msgspec.Struct):
    msg: _Subscribed = msgspec.field(default_factory=_Subscribed)


_DECODE_SUBSCRIBED: Final = msgspec.json.Decoder(_SubscribedFrame).decode
_DECODE_GAP: Final = msgspec.json.Decoder(dict[str, object]).decode


@dataclass(slots=True)
class ReplayStats:
    records: int = 0
    frames: int = 0
    private_dropped: int = 0
    gaps: Counter[str] = field(default_factory=Counter)


class MarketReplay:
    """See the module docstring."""

    def __init__(self, clock: ReplayClock, *, channels: tuple[str, ...] = DEFAULT_CHANNELS) -> None:
        self.clock = clock
        self.session = WsSession(_REPLAY_URL, None)
        self.markets = RecordedMarkets()
        self.reads = RecordedReads()
        self.nws = RecordedNws(clock.now_ms)
        self.monitor = Monitor(self.markets, self.session, MarketFilter(), channels=channels, clock_ms=clock.now_ms)
        self.channels = (ORDERBOOK, *self.monitor.channels)
        self.stats = ReplayStats()
        self.connected = False

    async def setup(self) -> None:
        await self.session.subscribe([LIFECYCLE])

    async def apply(self, record: Record) -> None:
        self.stats.records += 1
        kind = record.kind
        if kind == "ws":
            payload = record.payload
            if payload.startswith(_PRIVATE):
                self.stats.private_dropped += 1
                return
            if payload.startswith(_SUBSCRIBED):
                await self._hold_channel(payload)
            self.stats.frames += 1
            self.session.on_text(payload)
        elif kind == "market":
            self.reads.add_market(record.payload)
            await self._market(record.payload)
        elif kind == "series":
            self.reads.add_series(record.payload)
        elif kind == "nws":
            meta, body = record.nws()
            self.nws.add(meta, body, record.time_ms)
        elif kind == "conn":
            self.connected = True
        elif kind == "gap":
            gap = str(_DECODE_GAP(record.payload).get("gap", ""))
            self.stats.gaps[gap] += 1
            if gap != "stale":
                self.connected = False
                self.session.replay_drop(f"recording gap: {gap}")

    async def _market(self, payload: bytes) -> None:
        report = self.markets.add(payload)
        if report is None:
            return
        ticker = report.info.ticker
        if ticker in self.monitor.markets or not self.monitor.filter.accepts_market(report.info, self.clock.now_ms()):
            return
        await self.monitor.add_markets([ticker])
        await self.session.subscribe(self.channels, [ticker])

    async def _hold_channel(self, payload: bytes) -> None:
        try:
            channel = _DECODE_SUBSCRIBED(payload).msg.channel
        except msgspec.MsgspecError:
            return  # the session counts it as a bad frame
        if not channel or channel in self.session.subscriptions():
            return
        if channel == ORDERBOOK or channel in self.monitor.channels:
            tickers = list(self.monitor.markets)
            if tickers:
                await self.session.subscribe([channel], tickers)
        elif channel == LIFECYCLE:
            await self.session.subscribe([channel])
