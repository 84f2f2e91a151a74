"""Sending alerts in the background, so alerting never blocks or breaks trading.

Contract: ``Dispatcher(poster, throttle, prefix)``: ``post(alert)`` is synchronous, O(1) and never
raises (the hot path may call it); the alert goes through the ``Throttle`` and a background task
(``start()``) sends what the throttle lets out, one message at a time, through the poster in a
dedicated worker thread — a receiver that hangs holds up only later alerts (each send is bounded
by the poster's timeout), never the event loop. Every outcome is counted (``stats``: sent, failed
per URL send, merged, dropped) and a failure is logged as one scrubbed line. ``close(timeout_s)``
lets the sends under way finish and sends what is left within the timeout (nothing taken from the
throttle is dropped by stopping), then stops; the thread is not waited for beyond it. Titles are
prefixed with ``prefix`` (``kalshi-trader sim:``) so a shared channel says which node speaks.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import structlog

from kalshi_trader.alerts.message import Alert, Severity, span
from kalshi_trader.alerts.sender import Delivery
from kalshi_trader.alerts.throttle import Outgoing, Throttle

__all__ = ["DispatchStats", "Dispatcher", "Poster"]

log = structlog.get_logger(__name__)


class Poster(Protocol):
    @property
    def targets(self) -> list[str]: ...

    def post(self, title: str, body: str, severity: Severity = Severity.INFO) -> list[Delivery]: ...


@dataclass(slots=True)
class DispatchStats:
    sent: int = 0
    """Messages every URL accepted."""
    failed: int = 0
    """URL sends that failed (one message to two URLs failing counts 2)."""
    last_error: str = ""


class Dispatcher:
    def __init__(self, poster: Poster, throttle: Throttle, *, prefix: str) -> None:
        self._poster = poster
        self._throttle = throttle
        self._prefix = prefix
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alerts")
        self._closing = False
        self._finishing = False
        self.stats = DispatchStats()

    @property
    def throttle(self) -> Throttle:
        return self._throttle

    def post(self, alert: Alert) -> None:
        if self._closing:
            return
        try:
            self._throttle.offer(alert)
            self._wake.set()
        except Exception:
            log.exception("alert_post_failed")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="alerts")

    async def _run(self) -> None:
        while not self._finishing:
            try:
                await self._send_due()
            except Exception:
                log.exception("alert_loop_failed")
            if self._finishing:
                return
            wait = self._throttle.wait_s()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def _send_due(self) -> None:
        for out in self._throttle.take():
            await self._send(out)

    async def _send(self, out: Outgoing) -> None:
        alert = out.alert
        over = span(self._throttle.now() - out.first_s) if out.merged else ""
        body = alert.text(merged=out.merged, merged_over=over, dropped=out.dropped)
        title = f"{self._prefix} {alert.title}".strip()
        loop = asyncio.get_running_loop()
        results = await loop.run_in_executor(self._pool, self._poster.post, title, body, alert.severity)
        failures = [r for r in results if not r.ok]
        if not failures:
            self.stats.sent += 1
        for r in failures:
            self.stats.failed += 1
            self.stats.last_error = f"{r.target}: {r.error}"
            log.warning("alert_not_delivered", target=r.target, error=r.error, alert=alert.key)

    async def close(self, timeout_s: float) -> None:
        """Let the send under way finish, send what is left (``take(final=True)``) within
        ``timeout_s``; then stop."""
        self._finishing = True
        self._wake.set()
        try:
            async with asyncio.timeout(timeout_s):
                if self._task is not None:
                    await self._task
                for out in self._throttle.take(final=True):
                    await self._send(out)
        except TimeoutError:
            log.warning("alerts_not_sent_at_close", waiting=self._throttle.held)
        finally:
            self._closing = True
            if self._task is not None:
                self._task.cancel()
            self._task = None
            self._pool.shutdown(wait=False, cancel_futures=True)
