"""Exact parsing/formatting of Kalshi's fixed-point strings, complementarity and tick grids."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_trader.domain import (
    PRICE_LEVEL_STRUCTURES,
    BookSide,
    Side,
    TickGrid,
    complement,
    format_money,
    format_price,
    format_qty,
    leg_price,
    money_to_cents,
    notional,
    notional_ceil,
    notional_floor,
    parse_money,
    parse_price,
    parse_qty,
)


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("0.5600", 5600),
        ("0.56", 5600),
        ("0.5", 5000),
        ("1.0000", 10000),
        ("0", 0),
        ("0.0001", 1),
        ("1", 10000),
        (".5", None),
        ("0.560000", 5600),
    ],
)
def test_parse_price_accepts_documented_forms(text: str, units: int | None) -> None:
    if units is None:
        with pytest.raises(ValueError, match="not a plain decimal"):
            parse_price(text)
    else:
        assert parse_price(text) == units


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0.56, "must be a decimal string"),
        (math.nan, "must be a decimal string"),
        (True, "must be a decimal string"),
        (None, "must be a decimal string"),
        ("NaN", "not a plain decimal"),
        ("inf", "not a plain decimal"),
        ("1e-2", "not a plain decimal"),
        ("0.56001", "more than 4 decimal places"),
        ("1.0001", "outside"),
        ("-0.10", "outside"),
        ("2", "outside"),
        (" 0.5", "not a plain decimal"),
        ("", "not a plain decimal"),
    ],
)
def test_parse_price_rejects_bad_input_with_a_clear_message(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_price(value)


@pytest.mark.parametrize(
    ("text", "units"),
    [("10", 1000), ("10.0", 1000), ("10.00", 1000), ("2.5", 250), ("0.01", 1), ("-74.77", -7477), ("74.77", 7477)],
)
def test_parse_qty(text: str, units: int) -> None:
    assert parse_qty(text) == units


@pytest.mark.parametrize("bad", ["0.001", "1.5e2", "ten", 1.5, "99999999999999"])
def test_parse_qty_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="count"):
        parse_qty(bad)


def test_parse_qty_accepts_integers() -> None:
    assert parse_qty(10) == 1000


def test_money_parse_and_format_round_trip() -> None:
    assert parse_money("-12.3400") == -123400
    assert format_money(-123400) == "-12.3400"
    assert format_money(5) == "0.0005"
    assert money_to_cents(-123456) == -1234
    assert money_to_cents(123456) == 1234


@given(st.integers(min_value=0, max_value=10_000))
def test_price_round_trip(units: int) -> None:
    assert parse_price(format_price(units)) == units


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_money_and_qty_text_are_the_zero_padded_decimals(units: int) -> None:
    sign, whole = "-" if units < 0 else "", abs(units)
    assert format_money(units) == f"{sign}{whole // 10_000}.{whole % 10_000:04d}"
    assert format_qty(units) == f"{sign}{whole // 100}.{whole % 100:02d}"


def test_format_price_is_format_money_for_every_price_and_beyond() -> None:
    for units in [*range(-3, 10_004), 10**9, -(10**9)]:
        assert format_price(units) == format_money(units)
    assert (format_price(0), format_price(5600), format_price(10_000)) == ("0.0000", "0.5600", "1.0000")


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_qty_round_trip(units: int) -> None:
    assert parse_qty(format_qty(units)) == units


def test_formats_are_kalshis() -> None:
    assert format_price(5600) == "0.5600"
    assert format_price(10000) == "1.0000"
    assert format_qty(1050) == "10.50"
    assert format_qty(-5) == "-0.05"


def test_complement_and_leg_price() -> None:
    assert complement(5600) == 4400
    assert leg_price(5600, BookSide.BID) == 5600
    assert leg_price(5600, BookSide.ASK) == 4400
    assert BookSide.BID.outcome is Side.YES
    assert BookSide.of(Side.NO) is BookSide.ASK
    assert Side.YES.other is Side.NO


def test_notional_exact_and_rounded() -> None:
    assert notional(5600, 1000) == 56000  # 10 contracts at $0.56 = $5.60
    with pytest.raises(ValueError, match="not a whole"):
        notional(5555, 1)  # 0.01 contract at $0.5555 = $0.005555
    assert notional_ceil(5555, 1) == 56
    assert notional_floor(5555, 1) == 55


def test_linear_cent_grid() -> None:
    grid = TickGrid.named("linear_cent")
    assert grid.is_valid_order_price(100)
    assert grid.is_valid_order_price(9900)
    assert not grid.is_valid_order_price(0)
    assert not grid.is_valid_order_price(10000)
    assert not grid.is_valid_order_price(150)
    assert grid.round_toward_safety(5650, BookSide.BID) == 5600
    assert grid.round_toward_safety(5650, BookSide.ASK) == 5700
    assert len(grid.levels()) == 101


def test_tapered_grid_has_fine_edges_and_coarse_centre() -> None:
    grid = TickGrid.named("tapered_deci_cent")
    assert grid.is_valid_order_price(10)  # $0.001
    assert grid.is_valid_order_price(9_990)  # $0.999
    assert not grid.is_valid_order_price(5_010)  # $0.501 is off the centre's cent grid
    assert grid.is_valid_order_price(1_000)  # band boundary $0.10
    assert grid.round_down(5_015) == 5_000
    assert grid.round_up(5_015) == 5_100


def test_grid_from_wire_ranges_matches_named() -> None:
    ranges = [("0.0000", "1.0000", "0.0100")]
    assert TickGrid.from_ranges(ranges).levels() == TickGrid.named("linear_cent").levels()


@pytest.mark.parametrize("name", sorted(PRICE_LEVEL_STRUCTURES))
def test_every_documented_structure_allows_whole_cents(name: str) -> None:
    grid = TickGrid.named(name)
    assert all(grid.is_valid_order_price(c * 100) for c in range(1, 100))


def test_unknown_structure_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown price_level_structure"):
        TickGrid.named("quarter_cent")


def test_bad_band_rejected() -> None:
    with pytest.raises(ValueError, match="step"):
        TickGrid.from_ranges([("0.0000", "1.0000", "0.0000")])


@pytest.mark.parametrize("bad", ["0.5600\n", "0.5٥", "１", "5\n"])
def test_trailing_newline_and_non_ascii_digits_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="not a plain decimal"):
        parse_money(bad)
    with pytest.raises(ValueError, match=r"not a plain decimal|count"):
        parse_qty(bad)
