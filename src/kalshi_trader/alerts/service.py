"""The node's alerting: configured destinations, the watcher and the background sender as one.

Contract: ``Alerts.from_settings(settings, mode)`` is inert when no URL is configured (every
method a no-op; nothing is imported from Apprise). ``start(node)`` (the node is running) posts the
start alert and polls the node every ``poll_s`` in a background task. ``stop_watching()`` is
called first thing when the node stops (its own shutdown kill switch is not news);
``await stopped(...)`` posts the stop alert and gives the sender up to ``timeout_s`` to
deliver what is left. ``post(alert)`` is for anything else worth telling. ``view()`` is the
``AlertsView`` read model (counts for ``/metrics``). Nothing here raises into the node: a failing
poll is logged and the next one goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog

from kalshi_trader.alerts.dispatcher import Dispatcher
from kalshi_trader.alerts.message import Alert
from kalshi_trader.alerts.throttle import Throttle
from kalshi_trader.alerts.urls import redact
from kalshi_trader.alerts.watch import NodeWatcher, WatchOptions
from kalshi_trader.config import AlertsSettings
from kalshi_trader.readmodels import AlertsView, NodeApi

__all__ = ["Alerts"]

log = structlog.get_logger(__name__)


class Alerts:
    def __init__(self, dispatcher: Dispatcher | None, settings: AlertsSettings, *, poll_s: float = 0.5) -> None:
        self._dispatcher = dispatcher
        self._settings = settings
        self._poll_s = poll_s
        self._watcher: NodeWatcher | None = None
        self._task: asyncio.Task[None] | None = None
        self._targets = tuple(redact(u.get_secret_value()) for u in settings.urls)

    @classmethod
    def from_settings(cls, settings: AlertsSettings, *, mode: str) -> Alerts:
        if not settings.urls:
            return cls(None, settings)
        from kalshi_trader.alerts.sender import ApprisePoster

        poster = ApprisePoster([u.get_secret_value() for u in settings.urls], timeout_s=settings.timeout_s)
        throttle = Throttle(window_s=settings.coalesce_s, per_hour=settings.max_per_hour, clock=time.monotonic)
        return cls(Dispatcher(poster, throttle, prefix=f"kalshi-trader {mode}:"), settings)

    @property
    def enabled(self) -> bool:
        return self._dispatcher is not None

    def post(self, alert: Alert) -> None:
        if self._dispatcher is not None:
            self._dispatcher.post(alert)

    def start(self, node: NodeApi) -> None:
        if self._dispatcher is None or self._task is not None:
            return
        s = self._settings
        options = WatchOptions(
            fills=s.fills,
            daily_summary=s.daily_summary,
            rejections=s.rejections,
            rejections_window_s=s.rejections_window_s,
        )
        self._watcher = watcher = NodeWatcher(node, self.post, options)
        self._dispatcher.start()
        try:
            self.post(watcher.started())
            watcher.poll()
        except Exception:
            log.exception("alerts_start_failed")
        self._task = asyncio.get_running_loop().create_task(self._watch(watcher), name="alerts-watch")

    async def _watch(self, watcher: NodeWatcher) -> None:
        while True:
            await asyncio.sleep(self._poll_s)
            try:
                watcher.poll()
            except Exception:
                log.exception("alerts_poll_failed")

    def stop_watching(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def stopped(self, reason: str, *, canceled: int, still_resting: int, open_positions: int) -> None:
        self.stop_watching()
        if self._dispatcher is None:
            return
        if self._watcher is not None:
            alert = self._watcher.stopped(
                reason, canceled=canceled, still_resting=still_resting, open_positions=open_positions
            )
            self.post(alert)
        with contextlib.suppress(Exception):
            await self._dispatcher.close(self._settings.timeout_s)

    def view(self) -> AlertsView:
        d = self._dispatcher
        if d is None:
            return AlertsView(targets=(), sent=0, failed=0, merged=0, dropped=0, waiting=0, last_error="")
        return AlertsView(
            targets=self._targets,
            sent=d.stats.sent,
            failed=d.stats.failed,
            merged=d.throttle.merged_total,
            dropped=d.throttle.dropped_total,
            waiting=d.throttle.held,
            last_error=d.stats.last_error,
        )
