"""Delivering one message to every configured Apprise URL, with a result per URL.

Contract: ``ApprisePoster(urls, timeout_s)`` prepares one Apprise notifier per URL (an unknown or
malformed URL is reported as such on every send, never raised). ``post(title, body, severity)``
is **blocking** (Apprise speaks HTTP and SMTP synchronously): call it from a worker thread. It
returns one ``Delivery`` per URL, in configuration order, each naming the URL only in its redacted
form and carrying a one-line reason on failure with every secret of every URL scrubbed. Apprise's
own log lines never reach the application's log handlers (they may carry tokens); the reason of a
failure is taken from them, scrubbed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import apprise

from kalshi_trader.alerts.message import Severity
from kalshi_trader.alerts.urls import redact, scrub

__all__ = ["ApprisePoster", "Delivery"]

_APPRISE_LOG = logging.getLogger("apprise")
_APPRISE_LOG.propagate = False  # its messages may hold tokens: only our scrubbed summary is logged
_log_capture: Callable[..., Any] = apprise.LogCapture  # untyped in Apprise
_TYPES = {
    Severity.INFO: apprise.NotifyType.INFO,
    Severity.SUCCESS: apprise.NotifyType.SUCCESS,
    Severity.WARNING: apprise.NotifyType.WARNING,
    Severity.FAILURE: apprise.NotifyType.FAILURE,
}


@dataclass(frozen=True, slots=True)
class Delivery:
    target: str
    """The URL as it may be shown (``urls.redact``)."""
    ok: bool
    error: str = ""


class ApprisePoster:
    def __init__(self, urls: Sequence[str], *, timeout_s: float) -> None:
        self._urls = [u.strip() for u in urls]
        self._targets: list[tuple[str, Any]] = []
        for url in self._urls:
            plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
            if plugin is not None:
                for attr in ("socket_connect_timeout", "socket_read_timeout"):
                    if hasattr(plugin, attr):
                        setattr(plugin, attr, timeout_s)
            self._targets.append((redact(url), plugin))

    @property
    def targets(self) -> list[str]:
        return [name for name, _ in self._targets]

    def post(self, title: str, body: str, severity: Severity = Severity.INFO) -> list[Delivery]:
        out = []
        for name, plugin in self._targets:
            if plugin is None:
                out.append(Delivery(name, False, "not a URL Apprise understands (check the scheme and its fields)"))
                continue
            with _log_capture(level=logging.WARNING) as captured:
                try:
                    ok = bool(plugin.notify(body=body, title=title, notify_type=_TYPES[severity]))
                except Exception as exc:  # a plugin bug must not end the sender
                    ok, captured_text = False, f"{type(exc).__name__}: {exc}"
                else:
                    captured_text = captured.getvalue()
            out.append(Delivery(name, ok, "" if ok else self._reason(captured_text)))
        return out

    def _reason(self, text: str) -> str:
        lines = [ln.split(" - ", 2)[-1].strip() for ln in text.splitlines() if ln.strip()]
        reason = next((ln for ln in lines if ln), "the service refused the message")
        return scrub(reason, self._urls)[:300]
