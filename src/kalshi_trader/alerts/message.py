"""An alert: one readable line for a phone's lock screen, plus details for whoever opens it.

Contract: ``Alert(key, title, details, severity)`` is a frozen value. ``key`` names what the alert
is about (``feed``, ``breaker:loss_velocity``, ``kill_switch``, ``fill:<id>``): alerts with the
same key are one story, so a newer one supersedes an older one not yet sent and repeats within the
throttle's window are merged (``throttle``). ``title`` is one line, no newline; ``details`` are
``(label, value)`` pairs rendered one per line. ``text(merged=, merged_over=, dropped=)`` renders the body.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kalshi_trader.domain import PRICE_SCALE

__all__ = ["Alert", "Severity", "dollars", "span"]


class Severity(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class Alert:
    key: str
    title: str
    details: tuple[tuple[str, str], ...] = ()
    severity: Severity = Severity.INFO

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", " ".join(self.title.split()))

    def text(self, *, merged: int = 0, merged_over: str = "", dropped: int = 0) -> str:
        """The body: the details, then what the throttle folded into this message."""
        lines = [f"{label}: {value}" for label, value in self.details]
        if merged:
            lines.append(f"(the latest of {merged + 1} alerts about this in the last {merged_over})")
        if dropped:
            lines.append(f"({dropped} other alert(s) dropped by the rate limit)")
        return "\n".join(lines) if lines else self.title


def dollars(amount: int, *, signed: bool = False) -> str:
    """``Money`` ($0.0001 units) as ``$12.34`` (``+$12.34`` / ``-$12.34`` when ``signed``)."""
    cents = round(amount * 100 / PRICE_SCALE)
    sign = "-" if cents < 0 else ("+" if signed and cents > 0 else "")
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{frac:02d}"


def span(seconds: float) -> str:
    """A duration for a person: ``42 s``, ``7 min``, ``2.5 h``."""
    s = max(0, round(seconds))
    if s < 120:
        return f"{s} s"
    return f"{s // 60} min" if s < 7200 else f"{s / 3600:.1f} h"
