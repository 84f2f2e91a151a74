"""Typed errors of the Kalshi client, carrying Kalshi's own ``code`` / ``message`` / ``details``.

Contract:
- ``KalshiError`` is the base of everything the REST client raises about a call: ``status`` (the
  HTTP status, ``None`` when no response arrived), ``code``, ``message`` and ``details`` (Kalshi's
  strings, ``""`` when absent), plus ``method`` and ``path`` (URL path without query). ``str(e)``
  is one line: ``"POST /trade-api/v2/portfolio/events/orders: 409 order_already_exists: ..."``.
- One subclass per status family: ``BadRequestError`` 400, ``AuthenticationError`` 401,
  ``PermissionDeniedError`` 403 (openapi.yaml's ``ForbiddenError``: never retried, the answer
  will not change), ``NotFoundError`` 404, ``ConflictError`` 409, ``RateLimitedError`` 429,
  ``ServerError`` 5xx with ``ServiceUnavailableError`` for 503 (openapi.yaml's
  ``ServiceUnavailableError``: temporary, retried where repeating is safe); other statuses (and
  undecodable success bodies) are ``UnexpectedResponseError``. ``TransportError`` (connection refused/reset, server
  disconnected, TLS) and its ``RequestTimeoutError`` have ``status None``: the request may or may
  not have been applied.
- ``routine`` tells a refusal of the request itself (400, 404, 409: trading as usual) from a
  failure of the exchange or the connection (everything else).
- ``error_from_response`` parses every body shape Kalshi sends: the nested
  ``{"error": {"code", "message", "details"}}``, openapi.yaml's flat ``{"code", "message",
  "details"}``, the 429 string body ``{"error": "too many requests"}``, and a body that is not JSON
  at all (its first 200 characters become the message).
- Messages never contain request headers, signatures or key material: the client never passes
  them here.

This module imports nothing of the project except the wire schemas.
"""

from __future__ import annotations

import msgspec

from kalshi_trader.kalshi.schemas import ERROR_RESPONSE_DECODER, UNSET, ErrorDetail

_MAX_TEXT = 200


ROUTINE_STATUSES = frozenset({400, 404, 409})
"""Statuses of routine refusals (``KalshiError.routine``)."""


class KalshiError(Exception):
    """A Kalshi API call failed (see the module docstring)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        details: str = "",
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.method = method
        self.path = path
        where = f"{method} {path}: " if method or path else ""
        super().__init__(where + self.summary())

    @property
    def routine(self) -> bool:
        """The exchange answered and refused the request for a reason of the request's own (400,
        404, 409: a post-only order that would cross, a closed market, an order no longer there, a
        reused id) — trading as usual, not a failure of the exchange or of the connection. Transport
        failures, 5xx, 401/403, 429 and anything unexpected are not routine."""
        if isinstance(self, TransportError | ServerError | UnexpectedResponseError):
            return False
        return self.status in ROUTINE_STATUSES

    def summary(self) -> str:
        """The error without the request: ``"409 order_already_exists: duplicate (details)"``."""
        head = " ".join(str(p) for p in (self.status, self.code) if p not in (None, ""))
        text = self.message or "no message"
        if self.details and self.details != self.message:
            text = f"{text} ({self.details})"
        return f"{head}: {text}" if head else text


class BadRequestError(KalshiError):
    """400: bad input or a business rejection (off-grid price, insufficient balance, ...)."""


class AuthenticationError(KalshiError):
    """401: missing or invalid signature, unknown key, clock skew."""


class PermissionDeniedError(KalshiError):
    """403: the key lacks the scope, or the endpoint is not available to this account."""


class NotFoundError(KalshiError):
    """404: unknown market, order, group or endpoint."""


class ConflictError(KalshiError):
    """409: e.g. ``order_already_exists`` (a ``client_order_id`` was used before)."""


class RateLimitedError(KalshiError):
    """429: the key's token bucket could not cover the request (nothing was executed)."""


class ServerError(KalshiError):
    """5xx: the exchange failed or is unavailable."""


class ServiceUnavailableError(ServerError):
    """503: the service is temporarily unavailable (maintenance, overload); try again later."""


class UnexpectedResponseError(KalshiError):
    """A status this client does not expect, or a success body that does not decode."""


class TransportError(KalshiError):
    """No (complete) response: connection refused/reset, server disconnected. The request may or
    may not have been executed. ``unreachable``: no connection could be made at all (refused, no
    such host), so nothing was sent."""

    def __init__(self, message: str, *, unreachable: bool = False, method: str = "", path: str = "") -> None:
        super().__init__(message, method=method, path=path)
        self.unreachable = unreachable


class RequestTimeoutError(TransportError):
    """The request did not complete within the client's timeout."""


_BY_STATUS: dict[int, type[KalshiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
}


def error_class(status: int) -> type[KalshiError]:
    if status == 503:
        return ServiceUnavailableError
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, UnexpectedResponseError)


def _text(value: str | object) -> str:
    return value if isinstance(value, str) else ""


def parse_error_body(body: bytes) -> ErrorDetail:
    """Kalshi's error fields from any body shape (nested, flat, 429 string, or not JSON)."""
    try:
        return ERROR_RESPONSE_DECODER.decode(body).detail()
    except (msgspec.DecodeError, msgspec.ValidationError):
        text = body[:_MAX_TEXT].decode("utf-8", "replace").strip()
        return ErrorDetail(message=" ".join(text.split()) if text else UNSET)


def error_from_response(status: int, body: bytes, *, method: str, path: str) -> KalshiError:
    """The typed error for one non-success response."""
    detail = parse_error_body(body)
    return error_class(status)(
        _text(detail.message) or f"HTTP {status}",
        status=status,
        code=_text(detail.code),
        details=_text(detail.details),
        method=method,
        path=path,
    )
