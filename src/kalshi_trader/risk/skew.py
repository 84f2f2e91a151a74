"""Inventory skew for market makers: how far to shift quotes, in ticks, given the position.

Contract: pure integer functions, no state. They live in ``domain`` (so strategies, which may not
import risk, use the same code) and are re-exported here for risk's callers:
- ``inventory_skew_ticks(position, max_position, max_skew_ticks)`` is linear in the position's share
  of its limit, rounded to the nearest tick (halves away from zero) and clamped to
  ``±max_skew_ticks``. The sign is in YES-price terms and is to be *added* to both the bid and the ask
  price: long YES (position > 0) gives a negative offset (quote lower — sell YES more readily, buy
  it less), long NO a positive one. A flat book gives 0; a position at or beyond its limit gives the
  full ``max_skew_ticks``.
- ``shift_on_grid(grid, price, ticks)`` moves a YES price that many levels along the market's grid
  (levels differ in size across bands of a tapered grid), stopping at the last valid order price
  strictly inside ($0, $1).
"""

from __future__ import annotations

from kalshi_trader.domain import inventory_skew_ticks, shift_on_grid

__all__ = ["inventory_skew_ticks", "shift_on_grid"]
