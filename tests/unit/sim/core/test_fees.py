"""sim/core/fees.py: the fee formulas and rounding of https://docs.kalshi.com/getting_started/fee_rounding (trade
fee rounded up to $0.000001, balance aligned to the member's grid, accumulator rebated in grid
steps, net fee never negative), its worked examples reproduced exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_trader.domain import FeeSchedule, FeeType, parse_price, parse_qty
from kalshi_trader.sim.core import fees

M1 = (1, 1)
CENT = fees.ORDINARY_PRECISION_MICROS
CENTICENT = fees.DIRECT_MEMBER_PRECISION_MICROS


def micros(text: str) -> int:
    """'$0.009597' / '-0.06' → micro-dollars (signed)."""
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("-").partition(".")
    return sign * (int(whole) * 1_000_000 + int(frac.ljust(6, "0")))


@pytest.mark.parametrize(
    ("count", "price", "trade_fee", "net_fee"),
    [
        ("1", "0.50", "0.017500", "0.02"),
        ("10", "0.50", "0.175000", "0.18"),
        ("100", "0.50", "1.750000", "1.75"),
        ("100", "0.10", "0.630000", "0.63"),
        ("100", "0.05", "0.332500", "0.34"),
        ("1", "0.99", "0.000693", "0.01"),  # 0.000693 exactly: no longer ceiled to a centicent
    ],
)
def test_section_7_1_taker_examples(count: str, price: str, trade_fee: str, net_fee: str) -> None:
    c, p = parse_qty(count), parse_price(price)
    fee = fees.trade_fee_micros(FeeType.QUADRATIC, M1, p, c, is_taker=True)
    assert fee == micros(trade_fee)
    charge = fees.charge_fill(-(p * c), fee, 0)
    assert charge.net_fee_micros == micros(net_fee)
    assert charge.cash_change * 100 == -(p * c) - micros(net_fee)


def test_fee_is_the_same_on_both_legs() -> None:
    for p in range(1, 10_000, 37):
        assert fees.trade_fee_micros(FeeType.QUADRATIC, M1, p, 1234, is_taker=True) == fees.trade_fee_micros(
            FeeType.QUADRATIC, M1, 10_000 - p, 1234, is_taker=True
        )


def test_maker_fee_by_fee_type() -> None:
    p, c = parse_price("0.50"), parse_qty("100")

    def maker(fee_type: FeeType) -> int:
        return fees.trade_fee_micros(fee_type, M1, p, c, is_taker=False)

    assert maker(FeeType.QUADRATIC) == 0
    assert maker(FeeType.QUADRATIC_WITH_MAKER_FEES) == micros("0.4375")  # 0.0175·100·¼
    assert maker(FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES) == micros("0.875")  # ½ taker
    assert maker(FeeType.FLAT) == 0
    assert fees.trade_fee_micros(FeeType.QUADRATIC_WITH_MAKER_FEES, M1, p, c, is_taker=True) == micros("1.75")


def test_multiplier_is_exact() -> None:
    p, c = parse_price("0.50"), parse_qty("100")
    assert fees.trade_fee_micros(FeeType.QUADRATIC, (1, 2), p, c, is_taker=True) == micros("0.875")
    # M = 1/3: 1.75 / 3 = 0.583333… → ceil to 0.583334
    assert fees.trade_fee_micros(FeeType.QUADRATIC, (1, 3), p, c, is_taker=True) == micros("0.583334")
    assert fees.trade_fee_micros(FeeType.QUADRATIC, (0, 1), p, c, is_taker=True) == 0


def test_flat_fee_rule() -> None:
    seven = fees.trade_fee_micros(FeeType.FLAT, M1, parse_price("0.20"), parse_qty("7"), is_taker=True)
    assert seven == micros("0.07")
    third = fees.trade_fee_micros(FeeType.FLAT, (1, 2), parse_price("0.90"), parse_qty("0.33"), is_taker=True)
    assert third == micros("0.00165")


def test_validate_multiplier() -> None:
    fees.validate_multiplier((1, 2))
    with pytest.raises(ValueError, match="multiplier"):
        fees.validate_multiplier((1, 0))
    with pytest.raises(ValueError, match="multiplier"):
        fees.validate_multiplier((-1, 1))


# --- the fee_rounding page's worked examples -------------------------------------------------------


def test_fcm_cleared_fill_example() -> None:
    """A non-direct member buys 1 contract at $0.055: signed revenue −$0.055000, model fee
    $0.00363825 (0.07 × 0.055 × 0.945)."""
    fee = fees.trade_fee_micros(FeeType.QUADRATIC, M1, parse_price("0.055"), parse_qty("1"), is_taker=True)
    assert fee == micros("0.003639")  # ceil_6dp($0.00363825)
    charge = fees.charge_fill(micros("-0.055"), fee, 0, CENT)
    assert charge.aligned_change_micros == micros("-0.06")
    assert charge.rounding_fee_micros == micros("0.001361")
    assert charge.rebate_micros == 0
    assert charge.cash_change == -600  # the balance changes by −$0.06
    assert charge.trade_fee_micros + charge.rounding_fee_micros == micros("0.005")  # "exactly $0.005"


def test_accumulator_across_fills_example() -> None:
    """Three fills each add $0.004 of rounding overpayment (a non-direct member's $0.01 grid); the
    third has enough total fee to cover a $0.01 rebate. Rows: Added, Before Rebate, Rebate,
    Carried Forward."""
    table = [
        ("0.004", "0.004", "0", "0.004"),
        ("0.004", "0.008", "0", "0.008"),
        ("0.004", "0.012", "0.010", "0.002"),
    ]
    # (signed revenue, trade fee) chosen so that each fill rounds by $0.004; the third's fees
    # (trade $0.006 + rounding $0.004) cover the rebate.
    fills = [
        (micros("-0.005"), micros("0.001")),
        (micros("-0.005"), micros("0.001")),
        (micros("-0.01"), micros("0.006")),
    ]
    accumulator = 0
    for (revenue, trade_fee), (added, before, rebate, carried) in zip(fills, table, strict=True):
        charge = fees.charge_fill(revenue, trade_fee, accumulator, CENT)
        assert charge.rounding_fee_micros == micros(added)
        assert charge.accumulator_before_rebate_micros == micros(before)
        assert charge.rebate_micros == micros(rebate)
        assert charge.accumulator_micros == micros(carried)
        assert charge.net_fee_micros >= 0
        accumulator = charge.accumulator_micros
    assert charge.net_fee_micros == 0  # the rebate took back exactly the third fill's fees


def test_direct_members_rebate_in_centicent_steps() -> None:
    """The same mechanics on the $0.0001 grid: 0.03 contract at $0.3301 four times."""
    p, c = parse_price("0.3301"), parse_qty("0.03")
    fee = fees.trade_fee_micros(FeeType.QUADRATIC, M1, p, c, is_taker=True)
    assert fee == micros("0.000465")  # 0.07 × 0.03 × 0.3301 × 0.6699 = 0.000464…
    accumulator, rebates = 0, []
    for _ in range(4):
        charge = fees.charge_fill(-(p * c), fee, accumulator, CENTICENT)
        assert charge.aligned_change_micros == micros("-0.0104")  # −$0.010368 floored to the centicent
        assert charge.rounding_fee_micros == 32
        rebates.append(charge.rebate_micros)
        accumulator = charge.accumulator_micros
    assert rebates == [0, 0, 0, 100]  # 4 × 32 = 128 micro-dollars: one $0.0001 step back
    assert accumulator == 28


def test_a_rebate_never_makes_a_fills_net_fee_negative() -> None:
    # 0.01 contract at $0.0001: revenue −$0.000001, trade fee $0.000001, aligned −$0.01.
    first = fees.charge_fill(-1, 1, 0, CENT)
    second = fees.charge_fill(-1, 1, first.accumulator_micros, CENT)
    assert second.accumulator_before_rebate_micros == 19_996
    assert second.rebate_micros == 0  # a $0.01 rebate would exceed this fill's $0.009999 of fees
    assert second.net_fee_micros == 9_999
    big = fees.charge_fill(-500_000, micros("0.0175"), second.accumulator_micros, CENT)
    # fees $0.02 (0.0175 + 0.0025 rounding) let the deferred cent and this fill's cent come back
    assert big.accumulator_before_rebate_micros == 22_496
    assert big.rebate_micros == 20_000
    assert big.net_fee_micros == 0
    assert big.accumulator_micros == 2_496


def test_whole_cent_fills_cost_the_fee_ceiled_to_the_cent_as_the_bot_estimates() -> None:
    for cents in range(1, 100):
        for count in (1, 3, 10, 57):
            p, c = cents * 100, count * 100
            fee = fees.trade_fee_micros(FeeType.QUADRATIC, M1, p, c, is_taker=True)
            charge = fees.charge_fill(-(p * c), fee, 0, CENT)
            assert charge.net_fee_micros == FeeSchedule().fee(p, c, taker=True, round_to=100) * 100


@given(
    price=st.integers(1, 9_999),
    lots=st.lists(st.integers(1, 500), min_size=1, max_size=30),
    precision=st.sampled_from([CENT, CENTICENT]),
)
def test_rounding_invariants(price: int, lots: list[int], precision: int) -> None:
    accumulator = 0
    total_rounding = total_rebates = total_trade = total_net = 0
    for lot in lots:
        fee = fees.trade_fee_micros(FeeType.QUADRATIC, M1, price, lot, is_taker=True)
        charge = fees.charge_fill(-(price * lot), fee, accumulator, precision)
        assert charge.net_fee_micros >= 0
        assert 0 <= charge.rounding_fee_micros < precision
        assert charge.aligned_change_micros % precision == 0
        assert charge.rebate_micros % precision == 0
        assert charge.cash_change * 100 == charge.aligned_change_micros + charge.rebate_micros
        assert -(price * lot) - charge.net_fee_micros == charge.cash_change * 100
        assert charge.accumulator_micros >= 0
        if charge.trade_fee_micros + charge.rounding_fee_micros >= charge.accumulator_before_rebate_micros:
            assert charge.accumulator_micros < precision  # the cap held nothing back: less than a step carries
        total_rounding += charge.rounding_fee_micros
        total_rebates += charge.rebate_micros
        total_trade += charge.trade_fee_micros
        total_net += charge.net_fee_micros
        accumulator = charge.accumulator_micros
    assert total_rounding - total_rebates == accumulator  # every rebate is backed by overpayment
    assert total_net == total_trade + accumulator  # the order pays its trade fees plus what still carries


@given(
    st.sampled_from(list(FeeType)),
    st.tuples(st.integers(0, 5), st.integers(1, 4)),
    st.integers(1, 9_999),
    st.integers(1, 1_000_000),
    st.booleans(),
    st.sampled_from([1, 100]),
)
def test_exchange_fees_equal_the_bots_fee_schedule(
    fee_type: FeeType, multiplier: tuple[int, int], price: int, count: int, taker: bool, grid: int
) -> None:
    """One fee table: what the exchange charges (before balance rounding) is what
    ``domain.FeeSchedule`` predicts for the strategies and risk, and its estimate on a balance grid
    is that fee rounded up to the grid."""
    schedule = FeeSchedule(fee_type, multiplier)
    charged = fees.trade_fee_micros(fee_type, multiplier, price, count, is_taker=taker)
    assert charged == schedule.trade_fee_micros(price, count, taker=taker)
    step = grid * fees.MICROS_PER_MONEY
    assert schedule.fee(price, count, taker=taker, round_to=grid) * fees.MICROS_PER_MONEY == -(-charged // step) * step
