"""Telling a transient start-up fault (ride it out) from a user's mistake (stop with one line).

Contract:
- ``transient(exc, answered=...)`` is a one-line reason when ``exc`` (or what it wraps, through
  ``__cause__`` / ``__context__``) is a fault that goes away by itself: the exchange answered 5xx or
  429, a response was lost, a socket dropped, a WebSocket could not be (re)opened, a request timed
  out. It is None for what trying again cannot fix: a refused key (401/403, a refused WebSocket
  handshake, an unusable key file), a URL where no Kalshi API answers (404, or — before the
  exchange ever ``answered`` — nothing listening at all), a refused confirmation, a bad setting.
- ``start_error(exc, rest_url, external=...)`` is the ``NodeError`` to stop with, naming the right
  thing: the exchange at ``rest_url`` (``external``: one this process did not start) or the
  embedded exchange, and for a refused key or a wrong URL saying which it is.
"""

from __future__ import annotations

from collections.abc import Iterator

from kalshi_trader.kalshi.auth import KeyFileError
from kalshi_trader.kalshi.errors import (
    AuthenticationError,
    KalshiError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from kalshi_trader.kalshi.ws import WsAuthError, WsConnectError
from kalshi_trader.node.options import NodeError
from kalshi_trader.node.state import one_line

__all__ = ["start_error", "transient"]


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _refused_key(exc: BaseException) -> BaseException | None:
    return next(
        (e for e in _chain(exc) if isinstance(e, AuthenticationError | PermissionDeniedError | WsAuthError)), None
    )


def transient(exc: BaseException, *, answered: bool) -> str | None:
    if not isinstance(exc, Exception) or _refused_key(exc) is not None:
        return None
    for e in _chain(exc):
        if isinstance(e, KeyFileError | NotFoundError):
            return None
        if isinstance(e, TransportError) and e.unreachable and not answered:
            return None  # nothing listens there: a wrong URL, not a flaky one
        if isinstance(e, ServerError | RateLimitedError | TransportError | WsConnectError):
            return one_line(e)
        if isinstance(e, ConnectionError | TimeoutError):
            return f"connection lost ({one_line(e)})"
    return None


def start_error(exc: BaseException, rest_url: str, *, external: bool) -> BaseException:
    """What to raise for a start that cannot go on (``exc`` itself when it already says it)."""
    refused = _refused_key(exc)
    if refused is not None:
        return NodeError(
            f"the exchange at {rest_url} refused the API key ({one_line(refused)}); check api.key_id and "
            "api.key_file (or --key-id / --key-file)"
        )
    for e in _chain(exc):
        if isinstance(e, TransportError) and e.unreachable:
            return NodeError(f"cannot reach the exchange at {rest_url} ({one_line(e)}); is the URL right?")
        if isinstance(e, NotFoundError):
            return NodeError(f"no Kalshi API answers at {rest_url} ({one_line(e)}); is the URL right?")
    if isinstance(exc, NodeError | KeyFileError):
        return exc
    what = f"the exchange at {rest_url}" if external else "the embedded exchange"
    if isinstance(exc, KalshiError | WsConnectError | ConnectionError | TimeoutError):
        return NodeError(f"cannot start the node: {what} kept failing: {one_line(exc)}")
    return NodeError(f"cannot start the node: {one_line(exc)}")
