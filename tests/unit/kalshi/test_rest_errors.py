"""Typed Kalshi errors from every body shape the API sends."""

from __future__ import annotations

import pytest

from kalshi_trader.kalshi.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    KalshiError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    ServiceUnavailableError,
    UnexpectedResponseError,
    error_from_response,
)

PATH = "/trade-api/v2/portfolio/events/orders"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitedError),
        (500, ServerError),
        (502, ServerError),
        (503, ServiceUnavailableError),
        (418, UnexpectedResponseError),
    ],
)
def test_status_picks_the_class(status: int, kind: type[KalshiError]) -> None:
    error = error_from_response(status, b'{"error": {"code": "c", "message": "m"}}', method="POST", path=PATH)
    assert type(error) is kind
    assert isinstance(error, KalshiError)
    assert error.status == status


def test_nested_body() -> None:
    body = b'{"error": {"code": "order_already_exists", "message": "duplicate", "details": "coid x"}}'
    error = error_from_response(409, body, method="POST", path=PATH)
    assert (error.code, error.message, error.details) == ("order_already_exists", "duplicate", "coid x")
    assert str(error) == f"POST {PATH}: 409 order_already_exists: duplicate (coid x)"


def test_flat_body_of_the_openapi_schema() -> None:
    error = error_from_response(
        400, b'{"code": "invalid_order", "message": "post only cross"}', method="POST", path=PATH
    )
    assert (error.code, error.message, error.details) == ("invalid_order", "post only cross", "")


def test_429_string_body() -> None:
    error = error_from_response(429, b'{"error": "too many requests"}', method="GET", path="/trade-api/v2/markets")
    assert isinstance(error, RateLimitedError)
    assert (error.code, error.message) == ("", "too many requests")
    assert str(error) == "GET /trade-api/v2/markets: 429: too many requests"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>\n<body>502 Bad   Gateway</body></html>", "<html> <body>502 Bad Gateway</body></html>"),
        (b"", "HTTP 502"),
        (b"[1, 2]", "[1, 2]"),
        (b"{}", "HTTP 502"),
    ],
)
def test_bodies_that_are_not_kalshi_errors(body: bytes, message: str) -> None:
    error = error_from_response(502, body, method="GET", path="/x")
    assert isinstance(error, ServerError)
    assert error.message == message
    assert error.code == ""


def test_long_text_bodies_are_cut() -> None:
    error = error_from_response(500, b"x" * 5000, method="GET", path="/x")
    assert len(error.message) == 200


def test_refusals_of_the_request_are_routine_failures_are_not() -> None:
    from kalshi_trader.kalshi.errors import (
        AuthenticationError,
        BadRequestError,
        ConflictError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitedError,
        ServerError,
        TransportError,
        UnexpectedResponseError,
    )
    from kalshi_trader.kalshi.venue import venue_error

    routine = [
        BadRequestError("cross", status=400),
        NotFoundError("gone", status=404),
        ConflictError("dup", status=409),
    ]
    failures = [
        AuthenticationError("sig", status=401),
        PermissionDeniedError("scope", status=403),
        RateLimitedError("slow down", status=429),
        ServerError("boom", status=500),
        TransportError("reset"),
        UnexpectedResponseError("teapot", status=418),
    ]
    assert [e.routine for e in routine] == [True] * 3
    assert [e.routine for e in failures] == [False] * 6
    assert [venue_error(e).routine for e in routine + failures] == [True] * 3 + [False] * 6
