"""The paper account's money: cash, collateral, fills booked into netted positions, settlement.

Contract (as Kalshi and the embedded exchange keep an account):
- ``cash`` is the available balance; a resting order's collateral — its leg price times its
  remaining count, rounded up to $0.0001 — moves from ``cash`` to ``reserved`` and back as the
  order rests, shrinks, fills or ends. Nothing is reserved for fees: they are charged at the fill,
  so fees can take an account that committed all its cash slightly below zero.
- **A fill is the purchase of one leg** at ``leg_paid`` (the YES price for a bid, the NO price for
  an ask). Its trade fee is the market's ``FeeSchedule.trade_fee_micros`` (taker, or maker where
  the series charges makers; rounded up to $0.000001); the balance moves by Kalshi's fee_rounding page's
  aligned change plus any rebate in whole grid steps (``domain.round_fill_balance``, the order's
  accumulator carried across its fills) on the account's balance grid ($0.01 for a non-direct
  member, $0.0001 for a direct member). The
  fill's cost is its leg cost rounded up to $0.0001 and its fee what the balance paid beyond that.
- **Netting** (``domain.net_purchase``): buying the leg opposite to the one held closes pairs;
  each closed YES+NO pair returns $1 to cash at once. Realized P&L excludes fees.
- **Settlement** pays ``yes_value`` per YES contract and ``$1 - yes_value`` per NO contract
  (rounded down to $0.0001), realizes ``payout - cost`` and leaves the position flat and settled.
- Conservation: ``cash + reserved + Σ fees_paid + Σ cost − Σ realized`` equals the starting cash
  at all times (``conserved``).
"""

from __future__ import annotations

from kalshi_trader.domain import (
    MICROS_PER_MONEY,
    PRICE_SCALE,
    QTY_SCALE,
    FeeSchedule,
    Money,
    Price,
    Qty,
    Side,
    net_purchase,
    notional_ceil,
    round_fill_balance,
)
from kalshi_trader.paper.model import PaperOrder, PaperPosition

__all__ = ["Ledger"]


class Ledger:
    """See the module docstring."""

    def __init__(self, cash: Money, *, precision_micros: int, reserved: Money = Money(0)) -> None:
        self.cash = cash
        self.reserved = reserved
        self.precision_micros = precision_micros
        self.positions: dict[str, PaperPosition] = {}

    def position(self, ticker: str) -> PaperPosition:
        position = self.positions.get(ticker)
        if position is None:
            position = self.positions[ticker] = PaperPosition(ticker)
        return position

    # -- collateral -------------------------------------------------------------------------

    def hold(self, order: PaperOrder, remaining: int) -> None:
        """Make ``order``'s collateral what ``remaining`` contracts at its limit need."""
        change = notional_ceil(order.leg, remaining) - order.collateral
        self.cash = Money(self.cash - change)
        self.reserved = Money(self.reserved + change)
        order.collateral = Money(order.collateral + change)

    # -- fills and settlement -----------------------------------------------------------------

    def book_fill(
        self, order: PaperOrder, leg_paid: int, qty: int, fees: FeeSchedule, *, taker: bool, now_ms: int
    ) -> tuple[Money, Qty]:
        """Book ``qty`` of ``order`` bought at ``leg_paid`` (its remaining is already reduced, so
        its collateral is released down to what that remaining needs). Returns (fee paid,
        position after)."""
        self.hold(order, order.remaining)
        fee = fees.trade_fee_micros(leg_paid, qty, taker=taker)
        floored, _, _, rebate, carried = round_fill_balance(
            -(leg_paid * qty), fee, order.fee_acc_micros, self.precision_micros
        )
        order.fee_acc_micros = carried
        cash_change = (floored + rebate) // MICROS_PER_MONEY
        cost = notional_ceil(leg_paid, qty)
        position = self.position(order.ticker)
        sign = 1 if order.ladder is Side.YES else -1
        after, basis, realized, closed = net_purchase(position.qty, position.cost, sign, qty, cost)
        self.cash = Money(self.cash + cash_change + closed * (PRICE_SCALE // QTY_SCALE))
        paid_fee = Money(-cash_change - cost)
        position.qty = Qty(after)
        position.cost = Money(basis)
        position.realized = Money(position.realized + realized)
        position.fees_paid = Money(position.fees_paid + paid_fee)
        position.updated_ms = now_ms
        return paid_fee, position.qty

    def settle(self, ticker: str, yes_value: int, now_ms: int) -> tuple[Qty, Money] | None:
        """Pay out the position in ``ticker`` (None if the account never traded it). Returns the
        net count settled and the payout."""
        position = self.positions.get(ticker)
        if position is None or position.settled:
            return None
        held = position.qty
        per_contract = yes_value if held > 0 else PRICE_SCALE - yes_value
        payout = Money(abs(held) * per_contract // QTY_SCALE)
        self.cash = Money(self.cash + payout)
        position.realized = Money(position.realized + payout - position.cost)
        position.qty = Qty(0)
        position.cost = Money(0)
        position.settled = True
        position.updated_ms = now_ms
        return held, payout

    def conserved(self) -> int:
        """``cash + reserved + fees + cost − realized``: constant (the starting cash)."""
        booked = sum(p.fees_paid + p.cost - p.realized for p in self.positions.values())
        return self.cash + self.reserved + booked

    def portfolio_value(self, best_bid: dict[str, tuple[Price | None, Price | None]]) -> Money:
        """Open positions marked at the best displayed bid of the leg held (``(YES bid, NO bid)``
        per ticker; none shown: worth nothing)."""
        total = 0
        for ticker, position in self.positions.items():
            if position.qty == 0:
                continue
            yes_bid, no_bid = best_bid.get(ticker, (None, None))
            bid = yes_bid if position.qty > 0 else no_bid
            if bid is not None:
                total += abs(position.qty) * bid // QTY_SCALE
        return Money(total)
