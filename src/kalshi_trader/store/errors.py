"""The store's one exception type, and how a database failure becomes its message.

Contract: every failure the store reports to the rest of the system is a ``StoreError`` whose
message is one line a person understands and never contains a database password (messages go
through :func:`kalshi_trader.store.redact.redact_text`).
"""

from __future__ import annotations

from kalshi_trader.store.redact import redact_text


class StoreError(Exception):
    """The store could not do what was asked (bad URL, unreachable database, failed write)."""


def describe_failure(context: str, exc: BaseException, *secrets: str | None) -> str:
    """One redacted line: ``context: what went wrong`` (the driver's own message, first line)."""
    cause: BaseException = getattr(exc, "orig", None) or exc
    if cause.__cause__ is not None and str(cause.__cause__).strip():
        cause = cause.__cause__  # the driver's own exception under SQLAlchemy's adapter
    if isinstance(cause, OSError) and cause.strerror:
        detail = cause.strerror
    else:
        detail = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    name = type(cause).__name__
    reason = f"{name}: {detail}" if detail else name
    return redact_text(f"{context}: {reason}", *secrets)
