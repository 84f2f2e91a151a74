"""The matching engine's in-memory structures: price ladders with FIFO queues, per-market books and
per-member records. Private to ``sim/core/matching.py`` (nothing else may import this module).

Contract:
- A ``Ladder`` holds the bids of one leg keyed by that leg's price: the YES ladder keys V2 ``bid``
  orders by YES price, the NO ladder keys ``ask`` orders by NO price ($1 − YES price). Best bid =
  highest key. Occupied prices are a sorted list (``prices``, ascending), so the best level is
  ``prices[-1]`` in O(1) and adding/removing a level is a bisect plus a short memmove.
- Each ``Level`` is a FIFO (``deque``) of ``Placement``\\ s plus the level's total live quantity.
  Removal from the middle of a queue is lazy: the placement is flagged dead and skipped when it
  reaches the front; a queue is compacted when more than half of it is dead. Every operation is
  O(1) amortized except level creation/removal (O(levels)) and ``queue_position`` (O(queue)).
- A ``Placement`` is one stay of an order in a queue. An order that loses priority (amend) gets a
  fresh placement, so a dead queue entry can never come back to life.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from typing import Final

from kalshi_trader.domain import BookSide, Side
from kalshi_trader.sim.core import fees
from kalshi_trader.sim.core.state import Account, FillRecord, MarketState, OrderGroup, SettlementRecord, SimOrder, Trade

_COMPACT_MIN_DEAD: Final = 32
_BID: Final = BookSide.BID


class Member:
    """What the engine keeps per account holder besides the ``Account`` itself."""

    __slots__ = ("account", "coids", "fills", "groups", "orders", "settlements")

    def __init__(self, account: Account) -> None:
        self.account = account
        self.orders: list[SimOrder] = []
        self.coids: set[str] = set()
        """Every client_order_id this member ever used (duplicates are refused forever)."""
        self.fills: list[FillRecord] = []
        self.settlements: list[SettlementRecord] = []
        self.groups: dict[str, OrderGroup] = {}


class Placement:
    """One stay of a live order in a price level's queue, plus what the engine holds for it."""

    __slots__ = ("acc", "alive", "book", "collateral", "group", "ladder", "leg", "member", "order", "outcome")

    def __init__(self, order: SimOrder, member: Member, book: MarketBook, group: OrderGroup | None, leg: int) -> None:
        self.order = order
        self.member = member
        self.book = book
        self.ladder = book.yes if order.side is _BID else book.no
        self.outcome = self.ladder.side
        self.group = group
        self.leg = leg
        """Limit price on the order's own leg — also its key on its ladder."""
        self.collateral = 0
        """Cash reserved for the order's remaining count (ledger.collateral at ``leg``)."""
        self.acc = 0
        """Fee-rounding accumulator (Kalshi's fee_rounding page) in micro-dollars, carried across the order's fills."""
        self.alive = False
        """True while this placement is in a queue."""

    def requeued(self, leg: int) -> Placement:
        """A fresh placement of the same order at ``leg`` carrying its collateral and accumulator."""
        fresh = Placement(self.order, self.member, self.book, self.group, leg)
        fresh.collateral = self.collateral
        fresh.acc = self.acc
        return fresh


class Level:
    __slots__ = ("dead", "queue", "total")

    def __init__(self) -> None:
        self.queue: deque[Placement] = deque()
        self.total = 0
        """Σ remaining of the live placements."""
        self.dead = 0


class Ladder:
    """The bids of one leg: levels by leg price plus the sorted list of occupied prices."""

    __slots__ = ("levels", "prices", "side")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.levels: dict[int, Level] = {}
        self.prices: list[int] = []

    def append(self, placement: Placement) -> None:
        """Queue a placement at the back of its level (creating the level if needed)."""
        key = placement.leg
        level = self.levels.get(key)
        if level is None:
            level = self.levels[key] = Level()
            prices = self.prices
            if not prices or key > prices[-1]:
                prices.append(key)
            else:
                insort(prices, key)
        level.queue.append(placement)
        level.total += placement.order.remaining
        placement.alive = True

    @staticmethod
    def front(level: Level) -> Placement:
        """The first live placement of a non-empty level (dead ones ahead of it are dropped)."""
        queue = level.queue
        while not queue[0].alive:
            queue.popleft()
            level.dead -= 1
        return queue[0]

    def take(self, placement: Placement) -> None:
        """Remove a placement (anywhere in its queue) with its whole remaining quantity."""
        level = self.levels[placement.leg]
        placement.alive = False
        level.total -= placement.order.remaining
        if level.total == 0:
            self.drop(placement.leg)
            return
        level.dead += 1
        if level.dead >= _COMPACT_MIN_DEAD and 2 * level.dead > len(level.queue):
            level.queue = deque(p for p in level.queue if p.alive)
            level.dead = 0

    def drop(self, key: int) -> None:
        """Remove an empty level."""
        del self.levels[key]
        prices = self.prices
        if prices[-1] == key:
            prices.pop()
        else:
            del prices[bisect_left(prices, key)]

    def best(self) -> tuple[int | None, int]:
        """(best price, its total) or (None, 0)."""
        if not self.prices:
            return None, 0
        key = self.prices[-1]
        return key, self.levels[key].total

    def resting(self) -> list[Placement]:
        """Live placements, best price first, time priority within a level."""
        return [p for key in reversed(self.prices) for p in self.levels[key].queue if p.alive]

    def ahead_of(self, placement: Placement) -> int:
        """Quantity queued before ``placement`` at its level."""
        ahead = 0
        for other in self.levels[placement.leg].queue:
            if other is placement:
                break
            if other.alive:
                ahead += other.order.remaining
        return ahead


class MarketBook:
    """One market: its state, its two ladders, its trades and its (cached) fee rules."""

    __slots__ = ("fee_key", "maker_rule", "no", "state", "taker_rule", "trades", "yes")

    def __init__(self, state: MarketState) -> None:
        self.state = state
        self.yes = Ladder(Side.YES)
        self.no = Ladder(Side.NO)
        self.trades: list[Trade] = []
        self.fee_key = (state.fee_type, state.fee_multiplier)
        self.taker_rule, self.maker_rule = fees.fee_rules(state.fee_type, state.fee_multiplier)

    def fee_rule(self, is_taker: bool) -> fees.FeeRule:
        """The fee rule for a role (recomputed if the market's fee settings were changed)."""
        state = self.state
        if state.fee_type is not self.fee_key[0] or state.fee_multiplier != self.fee_key[1]:
            fees.validate_multiplier(state.fee_multiplier)
            self.fee_key = (state.fee_type, state.fee_multiplier)
            self.taker_rule, self.maker_rule = fees.fee_rules(state.fee_type, state.fee_multiplier)
        return self.taker_rule if is_taker else self.maker_rule

    def resting(self) -> list[Placement]:
        return self.yes.resting() + self.no.resting()

    def top(self) -> tuple[int | None, int, int | None, int]:
        yes_key, yes_size = self.yes.best()
        no_key, no_size = self.no.best()
        return yes_key, yes_size, no_key, no_size
