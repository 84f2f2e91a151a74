"""The hot-path shortcuts in ``parse_price`` / ``parse_qty`` answer exactly like the exact parser."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kalshi_trader.domain import PRICE_SCALE, _parse_fixed, parse_price, parse_qty


def outcome(fn: object, value: object) -> tuple[str, object]:
    try:
        return "ok", fn(value)  # type: ignore[operator]
    except ValueError as exc:
        return "error", str(exc)


def exact_price(value: object) -> int:
    units = _parse_fixed(value, scale_digits=4, what="price", max_int_digits=1)
    if not 0 <= units <= PRICE_SCALE:
        raise ValueError(f"price {value!r} is outside $0.00..$1.00")
    return units


def exact_qty(value: object) -> int:
    return _parse_fixed(value, scale_digits=2, what="count", max_int_digits=12)


# Strings that are almost numbers: ASCII and non-ASCII digits, signs, points, spaces, underscores.
near_numbers = st.text(alphabet="0123456789-+._ \n\u0661\u00b2", max_size=18)


@given(near_numbers)
@example("0.5600")
@example("1.0000")
@example("0.56")
@example("0.960")
@example("0.5600\n")
@example("00.5600")
def test_parse_price_matches_the_exact_parser(text: str) -> None:
    assert outcome(parse_price, text) == outcome(exact_price, text)


@given(near_numbers)
@example("12.50")
@example("-12.50")
@example(".50")
@example("-.50")
@example("1.-5")
@example("1_0.00")
@example(" 1.00")
@example("+1.00")
@example("999999999999.99")
@example("-999999999999.99")
@example("9999999999999.00")
@example("0000000000000001.00")
@example("\u0661\u0662.50")
@example("\u00b2\u00b2.00")
def test_parse_qty_matches_the_exact_parser(text: str) -> None:
    assert outcome(parse_qty, text) == outcome(exact_qty, text)


@pytest.mark.parametrize("value", [0, 1, 5600, 0.56, True, None, b"0.5600", ["0.56"]])
def test_parse_price_non_strings_take_the_exact_path(value: object) -> None:
    assert outcome(parse_price, value) == outcome(exact_price, value)


def test_parse_qty_rejects_an_out_of_range_two_decimal_count() -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_qty("99999999999999.00")
