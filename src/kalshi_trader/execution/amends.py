"""How an amend intent becomes the exchange's request: a decrease that keeps queue priority, or an
amend carrying the order's new total.

Contract:
- An amend intent's ``qty`` is the remaining size wanted *as of its submission*. The engine records
  ``basis``, the order's filled count it knew then, so the order's wanted total (filled included)
  is ``basis + qty`` however many fills arrive while the intent waits in the queue: a contract
  that fills meanwhile comes off what is left to rest. (Adding the wanted remaining to the filled
  count known when the request leaves would grow the order back by every fill in between: a
  take-profit sized to the position could then rest for more than is held.)
- The request names that total in terms the exchange applies to *its own* counts, so fills it has
  made that the engine has not heard of yet come off too: an amend's ``count`` is the new total
  (Kalshi rests ``count`` less what it has filled), a decrease's ``reduce_by`` the order's size
  as the engine knows it (``TrackedOrder.size``) less the total (Kalshi takes it off what it has
  left, all of it if that is less). A decrease's ``reduce_to`` would not be: it sets what rests,
  whatever has filled since the engine last heard.
- ``request(order, price, qty, basis)`` — ``order`` as the engine knows it when the request leaves:
  ``Withdraw`` when everything wanted has filled already (a cancel, whose answer says how much
  still rested; an amend's count must exceed the filled count, so it could only be refused);
  ``Decrease`` when the price stays and the total is below the order's size (queue priority kept);
  otherwise ``Amend`` (a new price, or more to rest).
"""

from __future__ import annotations

from dataclasses import dataclass

from kalshi_trader.domain import Price, Qty
from kalshi_trader.execution.orders import TrackedOrder

__all__ = ["Amend", "Decrease", "Withdraw", "request"]


@dataclass(frozen=True, slots=True)
class Amend:
    """Move the order to ``price`` with ``total`` contracts in all, filled included (Kalshi's
    ``count``)."""

    price: Price
    total: Qty


@dataclass(frozen=True, slots=True)
class Decrease:
    """Take ``reduce_by`` contracts off what rests at the order's price, leaving ``total`` in all."""

    reduce_by: Qty
    total: Qty


@dataclass(frozen=True, slots=True)
class Withdraw:
    """Take everything that rests off (a cancel): what was wanted has filled."""


def request(order: TrackedOrder, price: Price, qty: Qty, basis: Qty) -> Amend | Decrease | Withdraw:
    """The request that leaves ``order`` wanting ``qty`` more than the ``basis`` it had filled (see
    the module docstring)."""
    total = Qty(basis + qty)
    if total <= order.filled:
        return Withdraw()
    if price == order.price and total < order.size:
        return Decrease(Qty(order.size - total), total)
    return Amend(price, total)
