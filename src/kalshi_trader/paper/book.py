"""The public book of one market as the feed shows it, plus what the paper venue remembers per level.

Contract:
- Two bid ladders keyed by each leg's own price, as Kalshi publishes them: YES bids by YES
  price, NO bids by NO price (a NO bid at y is a YES ask at $1 - y). An order on one ladder at
  leg price ``p`` crosses a level of the other ladder at ``y`` iff ``p + y >= $1``.
- ``snapshot`` replaces every size; ``apply_delta`` adds a signed size (a level never goes below
  zero). The book is ``fresh`` from its first snapshot until ``mark_stale``.
- Per level, besides the displayed ``size``:
  - ``consumed``: displayed liquidity the paper account has already taken (its own orders traded
    against it, which the real book never saw). It is not available again, and it only shrinks
    as far as the displayed size forces it (``consumed <= size``): we assume the contracts we took
    are the last to leave, so liquidity is never reused too early.
  - ``pending``: decreases not yet explained by a trade (Kalshi sends a trade and the book
    decrease it causes on two channels, in either order). Each gets a number from the book's
    ``seq`` counter; the paper venue's queue model decides later whether it was a trade or a
    cancel. ``credit``: trade volume printed at the level whose decrease has not arrived yet.
  - ``match_trade`` explains pending decreases with a trade, newest first, and returns the
    ``(seq, qty)`` it matched; volume left over becomes ``credit``, which absorbs the next
    decreases. ``take_due`` forgets the pending decreases older than a moment (they were
    cancels) and says where they were.

Prices are ``Price`` ints, sizes ``Qty`` ints; nothing here knows orders.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from kalshi_trader.domain import PRICE_SCALE, Side

__all__ = ["Decrease", "Level", "PublicBook"]


@dataclass(eq=False, slots=True)
class Decrease:
    """A decrease of a level not yet explained by a trade."""

    seq: int
    at_ms: int
    qty: int


@dataclass(slots=True)
class Level:
    size: int = 0
    consumed: int = 0
    credit: int = 0
    pending: list[Decrease] = field(default_factory=list)

    @property
    def available(self) -> int:
        """Displayed liquidity the paper account may still take."""
        return max(0, self.size - self.consumed)

    @property
    def pending_qty(self) -> int:
        return sum(d.qty for d in self.pending)

    @property
    def idle(self) -> bool:
        return not (self.size or self.consumed or self.credit or self.pending)


class PublicBook:
    """See the module docstring."""

    __slots__ = ("_levels", "_pending", "fresh", "seq")

    def __init__(self) -> None:
        self._levels: dict[Side, dict[int, Level]] = {Side.YES: {}, Side.NO: {}}
        self._pending: deque[tuple[Side, int, Decrease]] = deque()
        """Every pending decrease in the order it happened (explained ones are skipped)."""
        self.fresh = False
        self.seq = 0
        """Numbers the pending decreases (an order remembers it when it joins a queue)."""

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    # -- reads ------------------------------------------------------------------------------

    def peek(self, side: Side, leg: int) -> Level | None:
        return self._levels[side].get(leg)

    def size(self, side: Side, leg: int) -> int:
        level = self._levels[side].get(leg)
        return 0 if level is None else level.size

    def best_bid(self, side: Side) -> int | None:
        """The highest displayed bid on one ladder (its leg price)."""
        prices = [p for p, level in self._levels[side].items() if level.size > 0]
        return max(prices) if prices else None

    def crossing(self, side: Side, leg: int) -> list[tuple[int, Level]]:
        """Levels of the other ladder an order on ``side`` at ``leg`` crosses, best first."""
        threshold = PRICE_SCALE - leg
        found = [(p, level) for p, level in self._levels[side.other].items() if p >= threshold]
        found.sort(key=lambda item: -item[0])
        return found

    # -- updates ----------------------------------------------------------------------------

    def level(self, side: Side, leg: int) -> Level:
        ladder = self._levels[side]
        level = ladder.get(leg)
        if level is None:
            level = ladder[leg] = Level()
        return level

    def prune(self, side: Side, leg: int) -> None:
        level = self._levels[side].get(leg)
        if level is not None and level.idle:
            del self._levels[side][leg]

    def snapshot(self, yes: Iterable[tuple[int, int]], no: Iterable[tuple[int, int]]) -> None:
        """Replace every displayed size (``(leg price, size)`` pairs per ladder)."""
        for side, levels in ((Side.YES, yes), (Side.NO, no)):
            ladder = self._levels[side]
            for level in ladder.values():
                level.size = 0
            for price, size in levels:
                self.level(side, price).size = max(0, size)
            for price in list(ladder):
                level = ladder[price]
                level.consumed = min(level.consumed, level.size)
                self.prune(side, price)
        self.fresh = True

    def mark_stale(self) -> None:
        self.fresh = False

    def apply_delta(self, side: Side, leg: int, delta: int, now_ms: int) -> Level:
        """Add ``delta`` to a level. The part of a decrease no earlier trade explains is kept
        pending (see the module docstring)."""
        ladder = self._levels[side]
        level = ladder.get(leg)
        if level is None:
            level = ladder[leg] = Level()
        before = level.size
        size = before + delta
        if size < 0:
            size = 0
        level.size = size
        if size < before:
            gone = before - size
            if level.consumed > size:
                level.consumed = size
            explained = min(gone, level.credit)
            level.credit -= explained
            if gone > explained:
                self.seq += 1
                decrease = Decrease(self.seq, now_ms, gone - explained)
                level.pending.append(decrease)
                self._pending.append((side, leg, decrease))
        return level

    def match_trade(self, side: Side, leg: int, qty: int) -> list[tuple[int, int]]:
        """Explain pending decreases of a level with a trade of ``qty`` there (newest first);
        returns the ``(seq, qty)`` matched. What is left becomes ``credit``."""
        level = self.level(side, leg)
        matched: list[tuple[int, int]] = []
        left = qty
        while left > 0 and level.pending:
            newest = level.pending[-1]
            take = min(left, newest.qty)
            matched.append((newest.seq, take))
            left -= take
            newest.qty -= take
            if newest.qty == 0:
                level.pending.pop()
        level.credit += left
        return matched

    def take_due(self, before_ms: int) -> list[tuple[Side, int]]:
        """Forget the pending decreases recorded before ``before_ms`` (they were cancels); returns
        the levels they were at, oldest first."""
        due: list[tuple[Side, int]] = []
        pending = self._pending
        while pending and pending[0][2].at_ms < before_ms:
            side, leg, decrease = pending.popleft()
            if decrease.qty <= 0:
                continue  # a trade explained it
            level = self._levels[side][leg]
            if level.pending[0] is decrease:  # the usual case: the level's oldest
                del level.pending[0]
            else:
                level.pending = [d for d in level.pending if d is not decrease]
            due.append((side, leg))
            if not level.size:
                self.prune(side, leg)
        return due
