"""sim/fees.py: the fee formulas of kalshi-api.md §7.1 and the worked examples of
getting_started/fee_rounding.md, reproduced exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_trader.domain import FeeSchedule, FeeType, parse_money, parse_price, parse_qty
from kalshi_trader.sim import fees

M1 = (1, 1)


def micros(text: str) -> int:
    """'$0.009597' → 9597 micro-dollars."""
    whole, _, frac = text.partition(".")
    return int(whole) * 1_000_000 + int(frac.ljust(6, "0"))


@pytest.mark.parametrize(
    ("count", "price", "trade_fee", "net_fee"),
    [
        ("1", "0.50", "0.0175", "0.02"),
        ("10", "0.50", "0.1750", "0.18"),
        ("100", "0.50", "1.7500", "1.75"),
        ("100", "0.10", "0.6300", "0.63"),
        ("100", "0.05", "0.3325", "0.34"),
        ("1", "0.99", "0.0007", "0.01"),  # 0.000693 ceiled to a centicent
    ],
)
def test_section_7_1_taker_examples(count: str, price: str, trade_fee: str, net_fee: str) -> None:
    c, p = parse_qty(count), parse_price(price)
    fee = fees.taker_fee(FeeType.QUADRATIC, M1, p, c)
    assert fee == parse_money(trade_fee)
    charge = fees.charge_fill(-(p * c), fee, 0)
    assert charge.net_fee_micros == micros(net_fee)
    assert charge.cash_change == -(parse_money(price) * c // 100) - parse_money(net_fee)


def test_fee_is_the_same_on_both_legs() -> None:
    for p in range(1, 10_000, 37):
        assert fees.taker_fee(FeeType.QUADRATIC, M1, p, 1234) == fees.taker_fee(FeeType.QUADRATIC, M1, 10_000 - p, 1234)


def test_maker_fee_by_fee_type() -> None:
    p, c = parse_price("0.50"), parse_qty("100")
    assert fees.maker_fee(FeeType.QUADRATIC, M1, p, c) == 0
    assert fees.maker_fee(FeeType.QUADRATIC_WITH_MAKER_FEES, M1, p, c) == parse_money("0.4375")  # 0.0175·100·¼
    assert fees.maker_fee(FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES, M1, p, c) == parse_money("0.8750")  # ½ taker
    assert fees.maker_fee(FeeType.FLAT, M1, p, c) == 0
    assert fees.trade_fee(FeeType.QUADRATIC_WITH_MAKER_FEES, M1, p, c, is_taker=False) == parse_money("0.4375")
    assert fees.trade_fee(FeeType.QUADRATIC_WITH_MAKER_FEES, M1, p, c, is_taker=True) == parse_money("1.7500")


def test_multiplier_is_exact() -> None:
    p, c = parse_price("0.50"), parse_qty("100")
    assert fees.taker_fee(FeeType.QUADRATIC, (1, 2), p, c) == parse_money("0.8750")
    # M = 1/3: 1.75 / 3 = 0.58333… → ceil to 0.5834
    assert fees.taker_fee(FeeType.QUADRATIC, (1, 3), p, c) == parse_money("0.5834")
    assert fees.taker_fee(FeeType.QUADRATIC, (0, 1), p, c) == 0


def test_flat_fee_rule() -> None:
    assert fees.taker_fee(FeeType.FLAT, M1, parse_price("0.20"), parse_qty("7")) == parse_money("0.0700")
    assert fees.taker_fee(FeeType.FLAT, (1, 2), parse_price("0.90"), parse_qty("0.33")) == parse_money("0.0017")


def test_validate_multiplier() -> None:
    fees.validate_multiplier((1, 2))
    with pytest.raises(ValueError, match="multiplier"):
        fees.validate_multiplier((1, 0))
    with pytest.raises(ValueError, match="multiplier"):
        fees.validate_multiplier((-1, 1))


# --- fee_rounding.md worked examples (trade fees as printed in the page) -----------------------

# rows: (trade fee, rounding, accumulator, rebate, net fee, balance change)
SUBPENNY_ROWS = [
    ("0.0085", "0.0065", "0.0065", "0", "0.0150", "-0.07"),
    ("0.0085", "0.0065", "0.0130", "0.0100", "0.0050", "-0.07"),
    ("0.0085", "0.0065", "0.0095", "0", "0.0150", "-0.07"),
]
FRACTIONAL_ROWS = [
    ("0.0041", "0.0059", "0.0059", "0", "0.0100", "-0.16"),
    ("0.0041", "0.0059", "0.0118", "0.0100", "0.0000", "-0.16"),
    ("0.0041", "0.0059", "0.0077", "0", "0.0100", "-0.16"),
]
COMBINED_ROWS = [
    ("0.0005", "0.009597", "0.009597", "0", "0.010097", "-0.02"),
    ("0.0005", "0.009597", "0.019194", "0.0100", "0.000097", "-0.02"),
    ("0.0005", "0.009597", "0.018791", "0.0100", "0.000097", "-0.02"),
]


@pytest.mark.parametrize(
    ("price", "lot", "rows"),
    [
        ("0.055", "1", SUBPENNY_ROWS),
        ("0.50", "0.30", FRACTIONAL_ROWS),
        ("0.3301", "0.03", COMBINED_ROWS),
    ],
    ids=["subpenny", "fractional", "combined"],
)
def test_fee_rounding_worked_examples(price: str, lot: str, rows: list[tuple[str, ...]]) -> None:
    p, c = parse_price(price), parse_qty(lot)
    accumulator = 0
    for trade_fee, rounding, accumulated, rebate, net_fee, balance_change in rows:
        charge = fees.charge_fill(-(p * c), parse_money(trade_fee), accumulator)
        assert charge.trade_fee == parse_money(trade_fee)
        assert charge.rounding_fee_micros == micros(rounding)
        assert charge.accumulator_before_rebate_micros == micros(accumulated)
        assert charge.rebate_micros == micros(rebate)
        assert charge.net_fee_micros == micros(net_fee)
        assert charge.balance_change_micros == -micros(balance_change.lstrip("-"))
        assert charge.cash_change * 100 == charge.balance_change_micros + charge.rebate_micros
        accumulator = charge.accumulator_micros


def test_combined_example_trade_fee_follows_the_formula() -> None:
    # 0.07 × 0.03 × 0.3301 × 0.6699 = 0.000464… → $0.0005, as printed.
    assert fees.taker_fee(FeeType.QUADRATIC, M1, parse_price("0.3301"), parse_qty("0.03")) == parse_money("0.0005")


def test_subpenny_walkthrough_first_fill() -> None:
    charge = fees.charge_fill(-(550 * 100), parse_money("0.0085"), 0)
    assert charge.balance_change_micros == -70_000  # -$0.0635 floored to -$0.07
    assert charge.rounding_fee_micros == 6_500


def test_rebate_never_makes_the_net_fee_negative() -> None:
    # 0.01 contract at $0.0001: revenue -$0.000001, fee $0.0001, balance -$0.000101 → -$0.01.
    first = fees.charge_fill(-1, parse_money("0.0001"), 0)
    second = fees.charge_fill(-1, parse_money("0.0001"), first.accumulator_micros)
    assert second.accumulator_before_rebate_micros == 19_798
    assert second.rebate_micros == 0  # a $0.01 rebate would exceed this fill's $0.009999 fee
    assert second.net_fee_micros == 9_999
    big = fees.charge_fill(-(5000 * 100), parse_money("0.0175"), second.accumulator_micros)
    # gross $0.02 (0.0175 + 0.0025 rounding) lets the deferred cent and this fill's cent come back
    assert big.accumulator_before_rebate_micros == 22_298
    assert big.rebate_micros == 20_000
    assert big.net_fee_micros == 0
    assert big.accumulator_micros == 2_298


def test_direct_member_precision() -> None:
    charge = fees.charge_fill(-(3301 * 3), parse_money("0.0005"), 0, fees.DIRECT_MEMBER_PRECISION_MICROS)
    assert charge.balance_change_micros == -10_500  # -$0.010403 floored to -$0.0105
    assert charge.rounding_fee_micros == 97
    assert charge.cash_change == -105


def test_whole_cent_prices_and_contracts_reduce_to_fee_ceiled_to_the_cent() -> None:
    for cents in range(1, 100):
        for count in (1, 3, 10, 57):
            p, c = cents * 100, count * 100
            fee = fees.taker_fee(FeeType.QUADRATIC, M1, p, c)
            charge = fees.charge_fill(-(p * c), fee, 0)
            assert charge.net_fee_micros == -(-fee // 100) * 100 * 100


@given(
    price=st.integers(1, 9_999),
    lots=st.lists(st.integers(1, 500), min_size=1, max_size=30),
    precision=st.sampled_from([fees.ORDINARY_PRECISION_MICROS, fees.DIRECT_MEMBER_PRECISION_MICROS]),
)
def test_rounding_invariants(price: int, lots: list[int], precision: int) -> None:
    accumulator = 0
    total_rounding = total_rebates = 0
    for lot in lots:
        fee = fees.taker_fee(FeeType.QUADRATIC, M1, price, lot)
        charge = fees.charge_fill(-(price * lot), fee, accumulator, precision)
        assert charge.net_fee_micros >= 0
        assert 0 <= charge.rounding_fee_micros < precision
        assert charge.balance_change_micros % precision == 0
        assert charge.cash_change * 100 == charge.balance_change_micros + charge.rebate_micros
        assert -(price * lot) - charge.net_fee_micros == charge.cash_change * 100
        assert charge.accumulator_micros >= 0
        total_rounding += charge.rounding_fee_micros
        total_rebates += charge.rebate_micros
        accumulator = charge.accumulator_micros
    assert total_rounding - total_rebates == accumulator  # every rebate is backed by overpayment


@given(
    st.sampled_from(list(FeeType)),
    st.tuples(st.integers(0, 5), st.integers(1, 4)),
    st.integers(1, 9_999),
    st.integers(1, 1_000_000),
    st.booleans(),
)
def test_exchange_fees_equal_the_bots_fee_schedule(
    fee_type: FeeType, multiplier: tuple[int, int], price: int, count: int, taker: bool
) -> None:
    """One fee table: what the exchange charges (before balance rounding) is what
    ``domain.FeeSchedule`` predicts for the strategies and risk."""
    expected = FeeSchedule(fee_type, multiplier).fee(price, count, taker=taker)
    assert fees.trade_fee(fee_type, multiplier, price, count, is_taker=taker) == expected
