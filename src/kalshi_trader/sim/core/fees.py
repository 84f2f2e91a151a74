"""Kalshi trading fees and the exchange's documented fee rounding, in exact integer arithmetic.

Contract:
- ``trade_fee_micros`` is the fee model of docs/kalshi-protocol.md (Fees) for one fill, rounded
  **up** to $0.000001 (https://docs.kalshi.com/getting_started/fee_rounding step 1), in
  micro-dollars. ``P`` is the execution price
  (``P·(1−P)`` is the same on both legs), ``C`` the contracts filled, ``M`` the market's exact fee
  multiplier (a fraction):

  ========================================  ==================  =========================
  ``fee_type``                              taker               maker (resting order hit)
  ========================================  ==================  =========================
  ``quadratic``                             0.07·M·C·P·(1−P)    0
  ``quadratic_with_maker_fees``             0.07·M·C·P·(1−P)    0.0175·M·C·P·(1−P)  (0.25×)
  ``quadratic_with_combo_maker_fees``       0.07·M·C·P·(1−P)    0.035·M·C·P·(1−P)   (0.5×)
  ``flat``                                  M·$0.01·C           0
  ========================================  ==================  =========================

  ``flat`` is *our assumption*: Kalshi describes it only as "the Specific Trading Fees table" of
  its fee-schedule PDF, which no source we have reproduces (docs/kalshi-protocol.md, Fees). A flat
  per-contract taker charge of one cent (scaled by M) and no maker fee is the simplest rule with
  the documented name; change ``domain.FLAT_FEE_PER_CONTRACT`` if the table is ever found. The
  rates themselves live in ``domain`` (``TAKER_FEE_RATE``, ``MAKER_FEE_RATES``) so the bot's
  ``FeeSchedule`` and the exchange charge from one table (a test holds them equal).

- ``charge_fill`` implements Kalshi's fee_rounding page for one fill of one order, given the account's
  balance grid (``precision_micros``: $0.0001 for direct members, $0.01 for the others):
  ``aligned = floor_grid(revenue − trade_fee)``; ``rounding_fee = (revenue − trade_fee) − aligned``
  joins the order's accumulator; the accumulator is rebated in whole grid steps, capped so that
  the fill's net fee (trade fee + rounding fee − rebate) is never negative — what the cap holds
  back stays in the accumulator for a later fill. The balance moves by ``aligned + rebate``, on
  the grid. The rounding itself is ``domain.round_fill_balance``, shared with the paper venue.

- Amounts are in **micro-dollars** (int, $0.000001): a price ($0.0001) times a count (0.01
  contract) is exact only at that resolution (fee_rounding's "six-decimal dollar amounts"). Every
  amount that reaches a balance (``FillCharge.cash_change``) is a whole ``Money`` value on the
  account's grid. No floats anywhere.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from kalshi_trader.domain import (
    DIRECT_MEMBER_PRECISION_MICROS,
    FLAT_FEE_PER_CONTRACT,
    MAKER_FEE_RATES,
    MICROS_PER_MONEY,
    ORDINARY_PRECISION_MICROS,
    PRICE_SCALE,
    TAKER_FEE_RATE,
    FeeType,
    Money,
)
from kalshi_trader.domain import round_fill_balance as _round_balance

__all__ = [
    "DIRECT_MEMBER_PRECISION_MICROS",
    "MICROS_PER_MONEY",
    "NO_FEE",
    "ORDINARY_PRECISION_MICROS",
    "FeeRule",
    "FillCharge",
    "balance_change",
    "charge_fill",
    "fee_rules",
    "flat_rule",
    "quadratic_rule",
    "rule_fee",
    "trade_fee_micros",
    "validate_multiplier",
]


class FeeRule(NamedTuple):
    """One liquidity role's fee on one market as an exact fraction, in micro-dollars:
    quadratic: ``ceil(numerator × C × P × (1 − P) / denominator)``; flat: ``ceil(numerator × C / denominator)``
    (``C`` a ``Qty``, ``P`` a ``Price``)."""

    numerator: int
    denominator: int
    quadratic: bool


def quadratic_rule(coefficient: tuple[int, int], multiplier: tuple[int, int]) -> FeeRule:
    """``coefficient × M × C × P × (1 − P)`` in micro-dollars: fee$ × 10^6 = coef × M × (Qty/100)
    × (Price/10^4) × ((10^4 − Price)/10^4) × 10^6 = coef × M × Qty × Price × (10^4 − Price) / 10^4."""
    return FeeRule(coefficient[0] * multiplier[0], coefficient[1] * multiplier[1] * PRICE_SCALE, quadratic=True)


def flat_rule(multiplier: tuple[int, int]) -> FeeRule:
    """``M × $0.01 × C`` in micro-dollars (our documented assumption for ``flat``)."""
    return FeeRule(FLAT_FEE_PER_CONTRACT * multiplier[0], multiplier[1], quadratic=False)


NO_FEE: Final = FeeRule(0, 1, quadratic=False)


def fee_rules(fee_type: FeeType, multiplier: tuple[int, int]) -> tuple[FeeRule, FeeRule]:
    """(taker rule, maker rule) of a market, per the table in the module docstring."""
    if fee_type is FeeType.FLAT:
        return flat_rule(multiplier), NO_FEE
    maker = MAKER_FEE_RATES[fee_type]
    return quadratic_rule(TAKER_FEE_RATE, multiplier), quadratic_rule(maker, multiplier) if maker[0] else NO_FEE


def rule_fee(rule: FeeRule, price: int, count: int) -> int:
    """A rule's fee for ``count`` contracts at ``price``, rounded up to $0.000001 (micro-dollars)."""
    numerator = rule.numerator * count
    if rule.quadratic:
        numerator *= price * (PRICE_SCALE - price)
    return -(-numerator // rule.denominator)


def trade_fee_micros(fee_type: FeeType, multiplier: tuple[int, int], price: int, count: int, *, is_taker: bool) -> int:
    """Trade fee of one fill for the given liquidity role (before balance rounding), in micro-dollars."""
    return rule_fee(fee_rules(fee_type, multiplier)[0 if is_taker else 1], price, count)


def validate_multiplier(multiplier: tuple[int, int]) -> None:
    """Raise ``ValueError`` unless ``multiplier`` is a non-negative fraction with a positive denominator."""
    numerator, denominator = multiplier
    if denominator <= 0 or numerator < 0:
        raise ValueError(f"fee multiplier must be a fraction >= 0 with a positive denominator, not {multiplier}")


class FillCharge(NamedTuple):
    """The fee_rounding components of one fill, in micro-dollars (except ``cash_change``)."""

    trade_fee_micros: int
    rounding_fee_micros: int
    accumulator_before_rebate_micros: int
    """The accumulator after adding this fill's rounding fee (the docs' "Before Rebate" column)."""
    rebate_micros: int
    accumulator_micros: int
    """What carries over to the order's next fill (the docs' "Carried Forward")."""
    net_fee_micros: int
    """trade fee + rounding fee − rebate (never negative)."""
    aligned_change_micros: int
    """``floor_grid(revenue − trade_fee)``: the balance change before any rebate."""
    cash_change: Money
    """What the balance actually moves by: the aligned change plus the rebate."""


def charge_fill(
    revenue_micros: int,
    trade_fee: int,
    accumulator_micros: int,
    precision_micros: int = ORDINARY_PRECISION_MICROS,
) -> FillCharge:
    """Apply Kalshi's fee_rounding page to one fill.

    ``revenue_micros`` is signed (negative for a buyer: −price × count, in micro-dollars),
    ``trade_fee`` the trade fee in micro-dollars already rounded up (``trade_fee_micros``),
    ``accumulator_micros`` the order's carried rounding overpayment."""
    aligned, rounding, accumulated, rebate, carried = _round_balance(
        revenue_micros, trade_fee, accumulator_micros, precision_micros
    )
    cash_change = Money((aligned + rebate) // MICROS_PER_MONEY)
    # positional for speed, in field order
    return FillCharge(
        trade_fee, rounding, accumulated, rebate, carried, trade_fee + rounding - rebate, aligned, cash_change
    )


def balance_change(
    revenue_micros: int,
    trade_fee: int,
    accumulator_micros: int,
    precision_micros: int = ORDINARY_PRECISION_MICROS,
) -> tuple[Money, int]:
    """``charge_fill`` reduced to what booking needs: (cash change, accumulator to carry)."""
    aligned, _, _, rebate, carried = _round_balance(revenue_micros, trade_fee, accumulator_micros, precision_micros)
    return Money((aligned + rebate) // MICROS_PER_MONEY), carried
