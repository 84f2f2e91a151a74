"""Account arithmetic of the embedded exchange: collateral, fill booking, netting, P&L, settlement.

Contract (pure functions over ``Account``/``PositionState`` from ``sim/core/state.py``; no I/O):

- **Every fill is a purchase of one leg.** A YES buyer (book side ``bid``) pays the YES price, a NO
  buyer (``ask``) pays the NO price = $1 − YES price. Cash moves by Kalshi's fee_rounding page's aligned
  balance change plus the accumulator's rebate (``fees.charge_fill``), so the balance stays on the
  account's grid (whole cents for the exchange's non-direct accounts).
- **Netting.** A position is one signed ``Qty`` (> 0 YES, < 0 NO). Buying the leg opposite to what
  is held closes ``min(bought, held)`` contracts; each closed YES+NO pair is worth exactly $1 and
  that dollar is returned to cash immediately.
- **Cost basis** (``PositionState.cost``) is the average-cost basis of the contracts still held,
  excluding fees. A fill's cost is its leg cost rounded *up* to $0.0001 (``leg_cost``); its fee is
  what the balance actually paid minus that cost, so ``cost + fee`` always equals the cash paid.
- **Realized P&L excludes fees** (they are tracked separately in ``fees_paid``): closing ``k``
  contracts realizes ``k × $1 − (cost of the k opposite legs just bought) − (basis of the k
  contracts released)``. Settlement realizes ``payout − basis``.
- **Collateral** of a resting order is its leg cost at the limit price for its remaining count,
  rounded up to $0.0001 (``collateral``); nothing is reserved for fees, which are charged at fill.
- **Settlement floor** (Kalshi's settlement_bounds page): in a market whose floor is f, a YES contract pays
  value − f at settlement (f was paid out when the floor rose), so a YES+NO pair is worth
  ``pair_value`` = $1 − f, the YES leg costs price − f (the caller passes that leg price) and the
  winners of a settlement get $1 − f per contract. ``raise_floor`` pays YES holders the increase
  and lowers their cost basis by it. With no floor every figure is the plain one above.
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

from kalshi_trader.domain import PRICE_SCALE, QTY_SCALE, Money, Qty, Side, net_purchase
from kalshi_trader.sim.core.fees import ORDINARY_PRECISION_MICROS, balance_change
from kalshi_trader.sim.core.state import Account, PositionState

_YES: Final = Side.YES  # bound once: Enum attribute access is slow on CPython 3.11
MONEY_PER_QTY: Final = PRICE_SCALE // QTY_SCALE
"""$1 per contract expressed per ``Qty`` unit (0.01 contract): 100 ``Money`` units."""


def collateral(leg_price: int, remaining: int) -> Money:
    """Cash a resting order holds: ``leg_price × remaining`` rounded up to $0.0001."""
    return Money(-(-leg_price * remaining // QTY_SCALE))


def leg_cost(leg_price: int, qty: int) -> Money:
    """Cost basis of ``qty`` contracts bought at ``leg_price``, rounded up to $0.0001."""
    return Money(-(-leg_price * qty // QTY_SCALE))


def dollars_for(qty: int, pair_value: int = PRICE_SCALE) -> Money:
    """``pair_value`` (default $1) per contract for ``qty`` (a ``Qty``): closed pairs and winning
    contracts, rounded down to $0.0001."""
    return Money(qty * pair_value // QTY_SCALE)


class FillBooking(NamedTuple):
    """What booking one fill did to one account."""

    leg_cost: Money
    fee: Money
    """Net fee of the fill (trade fee + rounding fee − rebate), to $0.0001: ``paid − leg_cost``."""
    paid: Money
    """Cash the purchase took from the balance (before closed pairs returned $1 each)."""
    closed: Qty
    accumulator_micros: int
    open_interest_delta: int
    """Change of ``max(position, 0)`` — this account's contribution to open interest."""


def book_purchase(
    account: Account,
    position: PositionState,
    outcome: Side,
    leg_price: int,
    qty: int,
    trade_fee_micros: int,
    accumulator_micros: int,
    now_ms: int,
    precision_micros: int = ORDINARY_PRECISION_MICROS,
    pair_value: int = PRICE_SCALE,
) -> FillBooking:
    """Book the purchase of ``qty`` ``outcome`` contracts at ``leg_price`` into cash and position
    (``trade_fee_micros``: the fill's trade fee, rounded up to $0.000001)."""
    cash_change, accumulator = balance_change(
        -(leg_price * qty), trade_fee_micros, accumulator_micros, precision_micros
    )
    cost = Money(-(-leg_price * qty // QTY_SCALE))  # leg_cost, inlined (hot path)
    before = position.position
    closed = apply_purchase(position, outcome, qty, cost, pair_value)
    account.cash = Money(account.cash + cash_change + closed * pair_value // QTY_SCALE)
    fee = Money(-cash_change - cost)
    position.fees_paid = Money(position.fees_paid + fee)
    position.total_traded = Money(position.total_traded + cost)
    position.volume = Qty(position.volume + qty)
    position.updated_ms = now_ms
    open_interest_delta = max(position.position, 0) - max(before, 0)
    # positional for speed, in field order
    return FillBooking(cost, fee, Money(-cash_change), closed, accumulator, open_interest_delta)


def apply_purchase(position: PositionState, outcome: Side, qty: int, cost: int, pair_value: int = PRICE_SCALE) -> Qty:
    """Net a purchase into a signed position (average cost, ``domain.net_purchase``; a closed pair
    is worth ``pair_value``, $1 − floor). Returns the contracts closed."""
    after, basis, realized, closed = net_purchase(
        position.position, position.cost, 1 if outcome is _YES else -1, qty, cost
    )
    if closed and pair_value != PRICE_SCALE:  # net_purchase counts $1 per closed pair
        realized += dollars_for(closed, pair_value) - dollars_for(closed)
    position.position = Qty(after)
    position.cost = Money(basis)
    if realized:
        position.realized_pnl = Money(position.realized_pnl + realized)
    return Qty(closed)


class Payout(NamedTuple):
    """One account's settlement of one market."""

    yes_count: Qty
    no_count: Qty
    yes_cost: Money
    no_cost: Money
    revenue: Money


def settle_position(
    account: Account, position: PositionState, result: Literal["yes", "no"], now_ms: int, pair_value: int = PRICE_SCALE
) -> Payout:
    """Pay ``pair_value`` ($1 − floor) per net winning contract, realize ``revenue − basis`` and zero
    the position."""
    held = position.position
    yes_count = Qty(max(held, 0))
    no_count = Qty(max(-held, 0))
    winning = yes_count if result == "yes" else no_count
    revenue = dollars_for(winning, pair_value)
    payout = Payout(
        yes_count=yes_count,
        no_count=no_count,
        yes_cost=position.cost if held > 0 else Money(0),
        no_cost=position.cost if held < 0 else Money(0),
        revenue=revenue,
    )
    account.cash = Money(account.cash + revenue)
    position.realized_pnl = Money(position.realized_pnl + revenue - position.cost)
    position.position = Qty(0)
    position.cost = Money(0)
    position.updated_ms = now_ms
    return payout


def raise_floor(account: Account, position: PositionState, increase: int, now_ms: int) -> Money:
    """A floor rose by ``increase`` (a ``Price``): a YES holder is paid ``increase`` per contract
    (rounded down) and that much comes off its cost basis. Returns the payment (0 for NO or flat)."""
    if position.position <= 0:
        return Money(0)
    paid = Money(increase * position.position // QTY_SCALE)
    account.cash = Money(account.cash + paid)
    position.cost = Money(position.cost - paid)
    position.updated_ms = now_ms
    return paid


__all__ = [
    "MONEY_PER_QTY",
    "FillBooking",
    "Payout",
    "apply_purchase",
    "book_purchase",
    "collateral",
    "dollars_for",
    "leg_cost",
    "raise_floor",
    "settle_position",
]
