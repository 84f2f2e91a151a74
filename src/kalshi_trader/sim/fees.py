"""Kalshi trading fees and the exchange's documented fee rounding, in exact integer arithmetic.

Contract:
- ``trade_fee`` is the fee model of kalshi-api.md §7.1 for one fill, rounded **up** to $0.0001
  (a "centicent", fee_rounding step 1). ``P`` is the execution price (``P·(1−P)`` is the same on
  both legs), ``C`` the contracts filled, ``M`` the market's exact fee multiplier (a fraction):

  ========================================  ==================  =========================
  ``fee_type``                              taker               maker (resting order hit)
  ========================================  ==================  =========================
  ``quadratic``                             0.07·M·C·P·(1−P)    0
  ``quadratic_with_maker_fees``             0.07·M·C·P·(1−P)    0.0175·M·C·P·(1−P)  (0.25×)
  ``quadratic_with_combo_maker_fees``       0.07·M·C·P·(1−P)    0.035·M·C·P·(1−P)   (0.5×)
  ``flat``                                  M·$0.01·C           0
  ========================================  ==================  =========================

  ``flat`` is *our assumption*: Kalshi describes it only as "the Specific Trading Fees table" of
  its fee-schedule PDF, which no source we have reproduces (kalshi-api.md §9 item 20). A flat
  per-contract taker charge of one cent (scaled by M) and no maker fee is the simplest rule with
  the documented name; change ``domain.FLAT_FEE_PER_CONTRACT`` if the table is ever found. The
  rates themselves live in ``domain`` (``TAKER_FEE_RATE``, ``MAKER_FEE_RATES``) so the bot's
  ``FeeSchedule`` and the exchange charge from one table.

- ``charge_fill`` implements getting_started/fee_rounding.md for one fill of one order:
  ``balance_change = revenue − trade_fee`` is floored to the account's balance precision ($0.01
  for ordinary accounts, $0.0001 for direct members); the difference is the rounding fee, which
  goes into the order's accumulator; whenever the accumulator *exceeds* $0.01 a $0.01 rebate is
  paid and the accumulator drops by $0.01. Net fee = trade fee + rounding fee − rebate (≥ 0).
  The page does not say what happens when a rebate would exceed a tiny fill's own fee (possible
  only for sub-cent notionals, e.g. 0.01 contract at $0.0001); we then defer the rebate — it stays
  in the accumulator — so that the net fee is never negative, as the page promises. The rounding
  itself is ``domain.round_fill_balance``, shared with the paper venue.

- Intermediate amounts are in **micro-dollars** (int, $0.000001): a price ($0.0001) times a count
  (0.01 contract) is exact only at that resolution (fee_rounding's "6 decimal places"). Every
  amount that reaches a balance (``FillCharge.cash_change``) is a whole ``Money`` value aligned to
  the account's precision. No floats anywhere.
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
    QTY_SCALE,
    REBATE_MICROS,
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
    "REBATE_MICROS",
    "FeeRule",
    "FillCharge",
    "balance_change",
    "charge_fill",
    "fee_rules",
    "flat_fee",
    "flat_rule",
    "maker_fee",
    "quadratic_fee",
    "quadratic_rule",
    "rule_fee",
    "taker_fee",
    "trade_fee",
    "validate_multiplier",
]


class FeeRule(NamedTuple):
    """One liquidity role's fee on one market as an exact fraction:
    quadratic: ``ceil(numerator × C × P × (1 − P) / denominator)``; flat: ``ceil(numerator × C / denominator)``
    (``C`` a ``Qty``, ``P`` a ``Price``, the result ``Money``)."""

    numerator: int
    denominator: int
    quadratic: bool


def quadratic_rule(coefficient: tuple[int, int], multiplier: tuple[int, int]) -> FeeRule:
    """``coefficient × M × C × P × (1 − P)`` in integer units: Money = fee$ × 10^4 =
    coef × M × (Qty/100) × (Price/10^4) × ((10^4 − Price)/10^4) × 10^4."""
    return FeeRule(
        coefficient[0] * multiplier[0], coefficient[1] * multiplier[1] * QTY_SCALE * PRICE_SCALE, quadratic=True
    )


def flat_rule(multiplier: tuple[int, int]) -> FeeRule:
    """``M × $0.01 × C`` (our documented assumption for ``flat``)."""
    return FeeRule(FLAT_FEE_PER_CONTRACT * multiplier[0], multiplier[1] * QTY_SCALE, quadratic=False)


NO_FEE: Final = FeeRule(0, 1, quadratic=False)


def fee_rules(fee_type: FeeType, multiplier: tuple[int, int]) -> tuple[FeeRule, FeeRule]:
    """(taker rule, maker rule) of a market, per the table in the module docstring."""
    if fee_type is FeeType.FLAT:
        return flat_rule(multiplier), NO_FEE
    maker = MAKER_FEE_RATES[fee_type]
    return quadratic_rule(TAKER_FEE_RATE, multiplier), quadratic_rule(maker, multiplier) if maker[0] else NO_FEE


def rule_fee(rule: FeeRule, price: int, count: int) -> Money:
    """A rule's fee for ``count`` contracts at ``price``, rounded up to $0.0001."""
    numerator = rule.numerator * count
    if rule.quadratic:
        numerator *= price * (PRICE_SCALE - price)
    return Money(-(-numerator // rule.denominator))


def quadratic_fee(coefficient: tuple[int, int], multiplier: tuple[int, int], price: int, count: int) -> Money:
    """``coefficient × M × C × P × (1 − P)`` rounded up to $0.0001.

    ``price`` is a ``Price`` (either leg: the product is symmetric), ``count`` a ``Qty``."""
    return rule_fee(quadratic_rule(coefficient, multiplier), price, count)


def flat_fee(multiplier: tuple[int, int], count: int) -> Money:
    """``M × $0.01 × C`` rounded up to $0.0001 (our documented assumption for ``flat``)."""
    return rule_fee(flat_rule(multiplier), 0, count)


def taker_fee(fee_type: FeeType, multiplier: tuple[int, int], price: int, count: int) -> Money:
    """Trade fee of a taker fill (before balance rounding)."""
    return rule_fee(fee_rules(fee_type, multiplier)[0], price, count)


def maker_fee(fee_type: FeeType, multiplier: tuple[int, int], price: int, count: int) -> Money:
    """Trade fee of a maker fill (before balance rounding); zero unless the fee type charges makers."""
    return rule_fee(fee_rules(fee_type, multiplier)[1], price, count)


def trade_fee(fee_type: FeeType, multiplier: tuple[int, int], price: int, count: int, *, is_taker: bool) -> Money:
    """Trade fee of one fill for the given liquidity role."""
    return rule_fee(fee_rules(fee_type, multiplier)[0 if is_taker else 1], price, count)


def validate_multiplier(multiplier: tuple[int, int]) -> None:
    """Raise ``ValueError`` unless ``multiplier`` is a non-negative fraction with a positive denominator."""
    numerator, denominator = multiplier
    if denominator <= 0 or numerator < 0:
        raise ValueError(f"fee multiplier must be a fraction >= 0 with a positive denominator, not {multiplier}")


class FillCharge(NamedTuple):
    """The fee_rounding components of one fill (micro-dollar fields end in ``_micros``)."""

    trade_fee: Money
    rounding_fee_micros: int
    accumulator_before_rebate_micros: int
    """The accumulator after adding this fill's rounding fee (the docs' "Accumulator" column)."""
    rebate_micros: int
    accumulator_micros: int
    """What carries over to the order's next fill."""
    net_fee_micros: int
    """trade fee + rounding fee − rebate."""
    balance_change_micros: int
    """``floor(revenue − trade_fee)`` to the balance precision (the docs' "Balance Change" column)."""
    cash_change: Money
    """What the balance actually moves by: the floored balance change plus the rebate."""


def charge_fill(
    revenue_micros: int,
    fee: Money,
    accumulator_micros: int,
    precision_micros: int = ORDINARY_PRECISION_MICROS,
) -> FillCharge:
    """Apply fee_rounding.md to one fill.

    ``revenue_micros`` is signed (negative for a buyer: −price × count, in micro-dollars), ``fee``
    the trade fee already rounded up to $0.0001 (``trade_fee``), ``accumulator_micros`` the order's
    carried rounding overpayment."""
    floored, rounding, accumulated, rebate, carried = _round_balance(
        revenue_micros, fee, accumulator_micros, precision_micros
    )
    cash_change = Money((floored + rebate) // MICROS_PER_MONEY)
    net_fee = fee * MICROS_PER_MONEY + rounding - rebate
    # positional for speed, in field order
    return FillCharge(fee, rounding, accumulated, rebate, carried, net_fee, floored, cash_change)


def balance_change(
    revenue_micros: int,
    fee: Money,
    accumulator_micros: int,
    precision_micros: int = ORDINARY_PRECISION_MICROS,
) -> tuple[Money, int]:
    """``charge_fill`` reduced to what booking needs: (cash change, accumulator to carry)."""
    floored, _, _, rebate, carried = _round_balance(revenue_micros, fee, accumulator_micros, precision_micros)
    return Money((floored + rebate) // MICROS_PER_MONEY), carried
