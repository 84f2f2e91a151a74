"""What a recorder taps: the WebSocket feed, the REST market metadata and the NWS responses, each
turned into records of a ``RecordingWriter``.

Contract:
- ``FeedRecorder(writer, rest, market_clock=None)`` (or ``FeedRecorder.open(directory, rest, source)``);
  ``close()`` ends it and closes the writer. ``attach(ws, monitor)`` makes it the
  session's ``FrameTap`` (every text frame → a ``ws`` record, byte for byte; each stale report →
  a ``gap`` record; a drop → a ``gap`` record, a (re)connect → a ``conn`` record) and follows the
  monitor's lifecycle events: on every change of a market (``market_lifecycle_v2`` events, new
  markets) the market is read again over REST and recorded.
- ``market_source(clock_ms)`` is the monitor's ``MarketSource`` over ``rest`` that also records every
  ``Market`` it reads (discovery, rediscovery, adoption of new markets) as a ``market`` record, and
  the first time an event or a series appears, its ``GET /events/{ticker}`` / ``GET /series/{ticker}``
  (``event`` / ``series`` records); all payloads are the wire JSON as ``kalshi.schemas`` encodes it.
- ``nws`` is an ``NwsClient`` ``on_response`` tap: each response → an ``nws`` record.
- Every record carries the wall receive time and, with ``market_clock``, the market time. For
  frames the market clock is read at most every ``CLOCK_READ_NS`` (10 ms of wall time) and
  extrapolated between reads at the rate the last two showed: exact for a clock that runs at a
  steady speed (the wall clock, the embedded exchange's ``SimClock``), corrected at the next read
  otherwise.
- Hot path: ``frame`` copies the frame and queues it (``time.time_ns``, the market time as above,
  one ``deque.append``); formatting, compression and I/O happen in the writer's thread.
- REST reads for metadata run as background tasks (``close()`` cancels them); a failed read is
  logged and skipped (the frames are still recorded).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import msgspec
import structlog

from kalshi_trader.domain import MarketInfo
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.kalshi.convert import series_of
from kalshi_trader.kalshi.errors import KalshiError
from kalshi_trader.kalshi.markets import RestMarkets
from kalshi_trader.kalshi.readonly import PublicReads
from kalshi_trader.kalshi.ws import WsSession
from kalshi_trader.marketdata.monitor import MarketLifecycle, Monitor, wall_clock_ms
from kalshi_trader.recording.format import gap_payload
from kalshi_trader.recording.manifest import Source
from kalshi_trader.recording.writer import RecordingWriter

__all__ = ["FeedRecorder", "RecordingMarkets"]

log = structlog.get_logger(__name__)

WS: Final = b"ws"
CONN: Final = b"conn"
GAP: Final = b"gap"
MARKET: Final = b"market"
EVENT: Final = b"event"
SERIES: Final = b"series"
NWS: Final = b"nws"
_ENCODER: Final = msgspec.json.Encoder()
CLOCK_READ_NS: Final = 10_000_000
"""The frame tap reads the market clock at most this often (a simulated clock costs microseconds)
and extrapolates between reads at the rate the last two reads showed."""
_REREAD_ON: Final = frozenset(
    {
        "activated",
        "deactivated",
        "close_date_updated",
        "determined",
        "settled",
        "price_level_structure_updated",
        "metadata_updated",
    }
)


class FeedRecorder:
    """See the module docstring."""

    def __init__(
        self, writer: RecordingWriter, rest: PublicReads, *, market_clock: Callable[[], int] | None = None
    ) -> None:
        self.writer = writer
        self.rest = rest
        self.market_clock = market_clock
        self.frames = 0
        self._events: set[str] = set()
        self._series: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.frame: Callable[[bytes | memoryview], None] = self._frame_tap()
        """``FrameTap.frame``: queue one frame (the hot path)."""

    def _frame_tap(self) -> Callable[[bytes | memoryview], None]:
        writer, pending, now, clock = self.writer, self.writer.pending, time.time_ns, self.market_clock
        append, cap = pending.append, writer.max_pending
        stats = writer.stats
        if clock is None:

            def frame(data: bytes | memoryview) -> None:
                if len(pending) < cap:
                    append((WS, now(), None, bytes(data)))
                else:
                    stats.dropped += 1

        else:
            read = [0, 0]
            """The last market-clock read: wall ns, market ms."""
            rate = [0.0]
            """Market ms per wall ns between the last two reads."""

            def frame(data: bytes | memoryview) -> None:
                if len(pending) < cap:
                    t = now()
                    if t - read[0] >= CLOCK_READ_NS:
                        m = clock()
                        if read[0]:
                            rate[0] = (m - read[1]) / (t - read[0])
                        read[0], read[1] = t, m
                    else:
                        m = read[1] + int((t - read[0]) * rate[0])
                    append((WS, t, m, bytes(data)))
                else:
                    stats.dropped += 1

        return frame

    def _market_ms(self) -> int | None:
        return self.market_clock() if self.market_clock is not None else None

    def _put(self, kind: bytes, payload: bytes) -> None:
        self.writer.append(kind, time.time_ns(), self._market_ms(), payload)

    # -- FrameTap ------------------------------------------------------------------------------------

    def stale(self, tickers: Sequence[str], reason: str) -> None:
        self._put(GAP, gap_payload("stale", reason, list(tickers)))

    def connection(self, connected: bool, reason: str) -> None:
        if connected:
            self._put(CONN, _ENCODER.encode({"connected": True}))
        else:
            self._put(GAP, gap_payload("disconnected", reason or "connection lost"))

    # -- wiring ----------------------------------------------------------------------------------------

    def attach(self, ws: WsSession, monitor: Monitor) -> None:
        ws.set_tap(self)
        monitor.subscribe(MarketLifecycle, self._on_lifecycle)

    def market_source(self, *, clock_ms: Callable[[], int] = wall_clock_ms) -> RecordingMarkets:
        return RecordingMarkets(self, clock_ms=clock_ms)

    @classmethod
    def open(
        cls, directory: Path, rest: PublicReads, source: Source, *, market_clock: Callable[[], int] | None = None
    ) -> FeedRecorder:
        """A recorder writing to ``directory`` (``RecordingWriter.open``: it appends a session)."""
        return cls(RecordingWriter.open(directory, source), rest, market_clock=market_clock)

    async def close(self) -> None:
        """Stop the metadata reads and close the recording (what is queued is written)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await asyncio.to_thread(self.writer.close)

    # -- REST metadata -----------------------------------------------------------------------------------

    def market(self, market: w.Market) -> None:
        """Record a market as read; read its event and series the first time they appear."""
        self._put(MARKET, _ENCODER.encode(market))
        event = market.event_ticker
        if event and event not in self._events:
            self._events.add(event)
            self._spawn(self._read_event(event), f"record-event-{event}")
        series = series_of(event or market.ticker)
        if series and series not in self._series:
            self._series.add(series)
            self._spawn(self._read_series(series), f"record-series-{series}")

    async def _read_event(self, ticker: str) -> None:
        reply = await self.rest.get_event(ticker)
        self._put(EVENT, _ENCODER.encode(reply.event))

    async def _read_series(self, ticker: str) -> None:
        self._put(SERIES, _ENCODER.encode(await self.rest.get_series(ticker)))

    async def _read_market(self, ticker: str) -> None:
        self.market(await self.rest.get_market(ticker))

    def _on_lifecycle(self, event: MarketLifecycle) -> None:
        if event.kind in _REREAD_ON:
            self._spawn(self._read_market(event.ticker), f"record-market-{event.ticker}")

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        try:
            task = asyncio.get_running_loop().create_task(self._guard(coro, name), name=name)
        except RuntimeError:  # no loop (a synchronous caller): nothing to read with
            coro.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(coro: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await coro
        except KalshiError as exc:
            log.warning("recording_metadata_failed", what=name, error=str(exc))

    # -- NWS ---------------------------------------------------------------------------------------------

    def nws(self, path: str, params: Mapping[str, str], status: int, date: str, body: bytes) -> None:
        """``NwsClient`` ``on_response``: one NWS response."""
        meta = _ENCODER.encode({"path": path, "params": dict(params), "status": status, "date": date})
        self._put(NWS, meta + b"\n" + body)


class RecordingMarkets(RestMarkets):
    """The monitor's REST ``MarketSource``, recording every market it reads."""

    def __init__(self, recorder: FeedRecorder, *, clock_ms: Callable[[], int] = wall_clock_ms) -> None:
        super().__init__(recorder.rest, clock_ms=clock_ms)
        self.recorder = recorder

    def _convert(self, market: w.Market) -> MarketInfo | None:  # type: ignore[override]
        self.recorder.market(market)
        return RestMarkets._convert(market)
