"""Inventory skew for market makers: how far to shift quotes, in ticks, given the position.

Contract: pure integer functions, no state.
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

import bisect
import functools

from kalshi_trader.domain import PRICE_SCALE, Price, TickGrid

__all__ = ["inventory_skew_ticks", "shift_on_grid"]


def inventory_skew_ticks(position: int, max_position: int, max_skew_ticks: int) -> int:
    if max_position <= 0:
        raise ValueError("max_position must be positive")
    if max_skew_ticks < 0:
        raise ValueError("max_skew_ticks must not be negative")
    numerator = -position * max_skew_ticks
    whole, rest = divmod(abs(numerator), max_position)
    if 2 * rest >= max_position:
        whole += 1
    ticks = whole if numerator >= 0 else -whole
    return max(-max_skew_ticks, min(max_skew_ticks, ticks))


@functools.lru_cache(maxsize=64)
def _order_levels(grid: TickGrid) -> tuple[Price, ...]:
    return tuple(p for p in grid.levels() if 0 < p < PRICE_SCALE)


def shift_on_grid(grid: TickGrid, price: int, ticks: int) -> Price:
    """``price`` moved ``ticks`` grid levels (up if positive), kept within the valid order prices.
    An off-grid ``price`` counts as the level just below it when moving up and just above it when
    moving down, so one tick reaches the nearest level in the direction of the move."""
    levels = _order_levels(grid)
    # Start from the level at or below the price when moving up, at or above it when moving down.
    start = bisect.bisect_right(levels, price) - 1 if ticks >= 0 else bisect.bisect_left(levels, price)
    index = min(len(levels) - 1, max(0, start + ticks))
    return levels[index]
