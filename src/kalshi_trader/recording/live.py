"""The ``record`` command's session: follow the chosen markets exactly as the trading node does and
record everything it receives until stopped.

Contract:
- ``Selection``: the series and market tickers to follow; ``default_series(settings)`` is the
  strategies' series (the weather maker's default: the seven stations' series). Markets are
  followed as the node's monitor follows them: the open markets of those series (or those tickers),
  new ones as they are created, each dropped at its close (Kalshi's ``GET /markets`` refuses a
  close-time window together with ``status=open``, so there is no horizon); the books' channels
  (``orderbook_delta``, ``ticker``, ``trade``) per market and ``market_lifecycle_v2`` for all.
- ``record_market(settings, out_dir, selection, ...)``: opens the recording (``RecordingWriter``;
  ``RecordingBusyError`` if another recorder writes there, ``ManifestError`` if the directory
  holds something else), connects (``WsSession`` with the settings' key; ``Monitor`` over
  ``FeedRecorder.market_source``), and, when a followed series has a settlement station, runs the
  weather fair-value refresh the node runs (``weather``: a factory the caller supplies, e.g.
  ``host.fair.FairValueFeed``) over an ``NwsClient`` whose responses are recorded. Calls
  ``on_status(Status)`` once started and about every ``status_s`` until ``stop`` is set, then
  closes everything and the recording. Raises ``RecordError`` (one line) when it cannot start: no
  markets, no key, the server unreachable.
- Times: records carry no market time (the wall clock is Kalshi's clock; against a sped-up embedded
  exchange use ``run --record`` to record its simulated clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kalshi_trader.config import Settings
from kalshi_trader.domain import MarketInfo
from kalshi_trader.fairvalue.nws import NwsClient
from kalshi_trader.fairvalue.stations import STATIONS
from kalshi_trader.kalshi.auth import KeyFileError
from kalshi_trader.kalshi.errors import KalshiError
from kalshi_trader.kalshi.rest import KalshiRest, signer_from_settings
from kalshi_trader.kalshi.ws import WsAuthError, WsConnectError, WsSession
from kalshi_trader.marketdata.monitor import MarketFilter, Monitor
from kalshi_trader.recording.feed import FeedRecorder
from kalshi_trader.recording.manifest import Source
from kalshi_trader.recording.writer import RecordingWriter

__all__ = ["RecordError", "Selection", "Status", "WeatherFeed", "default_series", "record_market"]


class RecordError(Exception):
    """The recorder cannot start as asked (message: one line)."""


class WeatherFeed(Protocol):
    """What the recorder runs to make the fair-value model's NWS reads (``host.fair.FairValueFeed``)."""

    async def run(self, interval_s: float, on_update: Callable[[], None]) -> None: ...


WeatherFactory = Callable[[NwsClient, Callable[[], Mapping[str, MarketInfo]], Callable[[], int]], WeatherFeed]


@dataclass(frozen=True, slots=True)
class Selection:
    series: frozenset[str] = frozenset()
    markets: frozenset[str] = frozenset()

    def market_filter(self) -> MarketFilter:
        return MarketFilter(series=self.series, tickers=self.markets)


def default_series(settings: Settings) -> frozenset[str]:
    """The series the default strategies follow: every ``strategies.<name>.series`` given, and the
    stations' series unless ``strategies.weather_mm.series`` names others."""
    sections = settings.strategies
    given = frozenset(str(series) for section in sections.values() for series in section.get("series") or ())
    return given | (frozenset() if sections.get("weather_mm", {}).get("series") else frozenset(STATIONS))


@dataclass(frozen=True, slots=True)
class Status:
    markets: int
    frames: int
    frames_per_s: float
    disk_bytes: int
    segments: int
    connected: bool
    dropped: int
    last_error: str


async def record_market(
    settings: Settings,
    out_dir: Path,
    selection: Selection,
    *,
    stop: asyncio.Event,
    on_status: Callable[[Status], None],
    weather: WeatherFactory | None = None,
    status_s: float = 1.0,
    fair_interval_s: float = 60.0,
) -> Status:
    """Record until ``stop`` is set (module docstring); returns the last status."""
    try:
        signer = signer_from_settings(settings)
    except KeyFileError as exc:
        raise RecordError(str(exc)) from None
    rest_url, ws_url, nws_url = settings.rest_url(), settings.ws_url(), settings.nws_url()
    source = Source(
        mode="record",
        rest_url=rest_url,
        ws_url=ws_url,
        nws_url=nws_url,
        series=sorted(selection.series),
        markets=sorted(selection.markets),
    )
    async with contextlib.AsyncExitStack() as stack:
        rest = KalshiRest(rest_url, signer, tier=settings.api.tier, timeout_s=settings.api.timeout_s)
        stack.push_async_callback(rest.close)
        recorder = FeedRecorder.open(out_dir, rest, source)
        writer = recorder.writer
        stack.push_async_callback(recorder.close)
        ws = WsSession(ws_url, signer)
        stack.push_async_callback(ws.close)
        monitor = Monitor(recorder.market_source(), ws, selection.market_filter(), rediscover_s=60.0)
        recorder.attach(ws, monitor)
        try:
            await monitor.start()
        except WsAuthError as exc:
            raise RecordError(f"{exc}; a key is needed for the WebSocket (a read-only key is enough)") from None
        except (WsConnectError, KalshiError) as exc:
            raise RecordError(f"cannot reach {rest_url}: {exc}") from None
        stack.push_async_callback(monitor.close)
        if not monitor.markets:
            what = ", ".join(sorted(selection.markets or selection.series)) or "any series"
            raise RecordError(f"no open market of {what} at {rest_url}")
        tasks: list[asyncio.Task[None]] = []
        if weather is not None and any(info.series_ticker in STATIONS for info in monitor.markets.values()):
            nws = NwsClient(settings.nws, base_url=nws_url, on_response=recorder.nws)
            stack.push_async_callback(nws.close)
            feed = weather(nws, lambda: monitor.markets, lambda: time.time_ns() // 1_000_000)
            tasks.append(asyncio.get_running_loop().create_task(feed.run(fair_interval_s, lambda: None)))
        try:
            status = await _report(writer, ws, monitor, stop, on_status, status_s)
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
    return status


async def _report(
    writer: RecordingWriter,
    ws: WsSession,
    monitor: Monitor,
    stop: asyncio.Event,
    on_status: Callable[[Status], None],
    every_s: float,
) -> Status:
    loop = asyncio.get_running_loop()
    last_frames, last_t = ws.stats.frames, loop.time()
    status = _status(writer, ws, monitor, 0.0)
    on_status(status)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
        frames, t = ws.stats.frames, loop.time()
        rate = (frames - last_frames) / (t - last_t) if t > last_t else 0.0
        last_frames, last_t = frames, t
        status = _status(writer, ws, monitor, rate)
        on_status(status)
    return status


def _status(writer: RecordingWriter, ws: WsSession, monitor: Monitor, rate: float) -> Status:
    stats = writer.stats
    return Status(
        markets=len(monitor.markets),
        frames=ws.stats.frames,
        frames_per_s=rate,
        disk_bytes=stats.disk_bytes,
        segments=stats.segments,
        connected=ws.connected,
        dropped=stats.dropped + stats.lost,
        last_error=stats.last_error,
    )
