"""Request input parsing: every bad input is a 400 naming the field, never a crash."""

from __future__ import annotations

import pytest

from kalshi_trader.domain import TimeInForce
from kalshi_trader.sim.api.params import (
    Shape,
    decode_object,
    get_bool,
    get_count,
    get_enum,
    get_int,
    get_price,
    query_bool,
    query_int,
    query_limit,
    query_list,
)
from kalshi_trader.sim.core.state import ExchangeError


def _err(fn: object, *args: object, **kw: object) -> ExchangeError:
    with pytest.raises(ExchangeError) as info:
        fn(*args, **kw)  # type: ignore[operator]
    assert info.value.status == 400
    return info.value


@pytest.mark.parametrize(
    ("body", "needle"),
    [(b"", "empty"), (b"{", "not valid JSON"), (b"[1]", "JSON object"), (b'"x"', "JSON object"), (b"null", "null")],
)
def test_decode_object_rejects(body: bytes, needle: str) -> None:
    assert needle in _err(decode_object, body).message


def test_shape_names_unknown_and_missing_fields() -> None:
    shape = Shape(required=("ticker", "price"), optional=("post_only",))
    err = _err(shape.check, {"ticker": "X", "price": "0.5", "colour": "red"}, "orders[1]")
    assert "'colour'" in err.message
    assert "orders[1]" in err.message
    assert "allowed fields" in err.message
    assert err.code == "invalid_parameters"
    err = _err(shape.check, {"ticker": "X"}, "order")
    assert err.code == "missing_parameters"
    assert "'price'" in err.message
    err = _err(shape.check, {"ticker": "X", "price": None}, "order")
    assert err.code == "missing_parameters"
    shape.check({"ticker": "X", "price": "0.5", "post_only": None}, "order")


def test_price_is_a_string_on_the_dollar_scale() -> None:
    assert get_price({"price": "0.56"}, "price", "order") == 5_600
    assert get_price({"price": "0.5600"}, "price", "order") == 5_600
    assert get_price({}, "price", "order") is None
    assert "string" in _err(get_price, {"price": 0.56}, "price", "order").message
    assert "string" in _err(get_price, {"price": 56}, "price", "order").message
    for bad in ("abc", "0.56789", "NaN", "1e-2", "-0.5", "1.5"):
        _err(get_price, {"price": bad}, "price", "order")
    for edge in ("0", "1", "0.0000", "1.0000"):
        assert "strictly between" in _err(get_price, {"price": edge}, "price", "order").message


def test_count_positive_bounded_string() -> None:
    assert get_count({"count": "10"}, "count", "order") == 1_000
    assert get_count({"count": "2.50"}, "count", "order") == 250
    assert get_count({"count": "0"}, "count", "o", allow_zero=True) == 0
    for bad in ("0", "-1", "0.001", "abc", "1e3", "99999999999999"):
        assert _err(get_count, {"count": bad}, "count", "order").code == "invalid_order_size"
    assert "string" in _err(get_count, {"count": 10}, "count", "order").message


def test_typed_getters() -> None:
    assert get_bool({"b": True}, "b", "w") is True
    _err(get_bool, {"b": "true"}, "b", "w")
    assert get_int({"i": 5}, "i", "w", lo=0) == 5
    _err(get_int, {"i": True}, "i", "w")
    _err(get_int, {"i": 1.5}, "i", "w")
    _err(get_int, {"i": -1}, "i", "w", lo=0)
    assert get_enum({"t": "fill_or_kill"}, "t", "w", TimeInForce) is TimeInForce.FILL_OR_KILL
    assert "good_till_canceled" in _err(get_enum, {"t": "gtc"}, "t", "w", TimeInForce).message


def test_query_parsing() -> None:
    assert query_int({"n": "12"}, "n", lo=1, hi=20) == 12
    assert query_int({}, "n") is None
    for bad in ("x", "1.5", "0", "21", "9" * 30):
        _err(query_int, {"n": bad}, "n", lo=1, hi=20)
    assert query_bool({"b": "TRUE"}, "b") is True
    assert query_bool({"b": "0"}, "b") is False
    _err(query_bool, {"b": "yes"}, "b")
    assert query_limit({}, default=100, hi=1000) == 100
    assert query_limit({"limit": "0"}, default=100, hi=1000, zero_means_default=True) == 100
    _err(query_limit, {"limit": "0"}, default=100, hi=1000)
    _err(query_limit, {"limit": "1001"}, default=100, hi=1000)
    assert query_list({"t": "A, B,,C"}, "t") == ["A", "B", "C"]
    _err(query_list, {"t": "A,B,C"}, "t", max_items=2)
