"""The queue model: where the paper account's resting orders stand in the public queue, and when
the real market would have filled them.

The real book never holds our paper orders, so their place is inferred from the public feed.
The model only ever errs late: a paper order never fills before the real exchange could have
filled it at the same place in the same queue.

- **Joining.** An order that rests joins the queue at its price *behind the size displayed there
  when it arrived* (``join``: ``ahead`` = that size). Liquidity added later queues behind it.
- **Trades at its price** (a trade whose maker rested on its ladder at its price) take the queue
  from the front: they first use up ``ahead``; what is left fills the order
  (``trade_fills``). A trade the book had already shown as a decrease before the order arrived
  happened before it and does not count for it.
- **Trades through its price** (the maker rested on its ladder at a worse price: a seller went
  below our bid, a buyer above our ask) fill it up to the traded size — the taker would have met
  our better price first. Several of our orders share one trade: best price first, then
  time; the trade's size is never handed out twice.
- **Cancels: from behind first.** A decrease at its price that no trade explains is a cancel,
  and the feed does not say whose. We assume the least favourable case it allows: the canceled
  contracts were the ones behind the order (what joined after it — a market maker re-quoting,
  say — often is what goes), so a cancel moves the order up only by what cannot have come from
  behind it: ``ahead`` drops only when the level shrinks below it (``bound``). A proportional
  split (``cancel × ahead / size``) is more optimistic and puts the order ahead of where it is
  whenever the cancels were behind it; this rule never does: ``ahead`` is never less than the
  true queue in front. Because Kalshi reports the trade and the book decrease it
  causes on two channels in either order, an unexplained decrease first waits
  (``PaperExchange``'s ``trade_wait_ms``) for the trade that may explain it; waiting only ever
  delays a fill.
- **Bounds.** ``ahead`` never exceeds what is displayed at the price plus the decreases still
  waiting there (``bound``): everything in front of us is still on the book.
- **The book crossing it.** When the other ladder shows liquidity at or through the order's price
  (someone rests a sell at or below our bid), that liquidity would have traded with our order:
  it fills, best price first, from what our account has not already taken (``cross_fills``;
  the liquidity used is marked ``consumed``). This does not move ``ahead``: trades at our price
  that the crossing order made may still be on their way, and they count only beyond ``ahead``.

A resting fill is a maker fill at the order's own price. Functions here mutate ``ahead`` and the
book's bookkeeping and return ``(order, qty)`` fills for the exchange to book; they never book.
"""

from __future__ import annotations

from collections.abc import Iterable

from kalshi_trader.domain import Qty, Side
from kalshi_trader.paper.book import Level, PublicBook
from kalshi_trader.paper.model import PaperOrder

__all__ = ["bound", "cross_fills", "join", "trade_fills"]


def join(order: PaperOrder, book: PublicBook) -> None:
    """``order`` starts resting: behind everything displayed at its price."""
    order.ahead = Qty(book.size(order.ladder, order.leg))
    order.arrival_seq = book.seq


def bound(orders: Iterable[PaperOrder], level: Level | None) -> list[PaperOrder]:
    """Cap ``ahead`` of the orders at one level by what can still be in front of them; returns
    the orders that moved."""
    limit = 0 if level is None else level.size + level.pending_qty
    moved = []
    for order in orders:
        if order.ahead > limit:
            order.ahead = Qty(limit)
            moved.append(order)
    return moved


def _volume_after(qty: int, matched: list[tuple[int, int]], arrival_seq: int) -> int:
    """The part of a trade that happened after an order joined: not the part that explained a
    decrease the book showed before it arrived."""
    return qty - sum(m for seq, m in matched if seq <= arrival_seq)


def trade_fills(
    book: PublicBook, ladder: Side, leg: int, qty: int, orders: Iterable[PaperOrder]
) -> list[tuple[PaperOrder, int]]:
    """A trade of ``qty`` printed against makers resting on ``ladder`` at ``leg``; ``orders`` are
    the account's resting orders on that ladder. Advances their queues; returns their fills."""
    matched = book.match_trade(ladder, leg, qty)
    mine = [o for o in orders if o.leg >= leg]
    through = sorted((o for o in mine if o.leg > leg), key=lambda o: (-o.leg, o.rest_seq))
    at_price = sorted((o for o in mine if o.leg == leg), key=lambda o: o.rest_seq)
    fills: list[tuple[PaperOrder, int]] = []
    left = qty
    for order in through:
        take = min(order.remaining, left, _volume_after(qty, matched, order.arrival_seq))
        if take > 0:
            fills.append((order, take))
            left -= take
    given = 0
    for order in at_price:
        reach = min(left, _volume_after(qty, matched, order.arrival_seq)) - given
        if reach <= 0:
            continue
        take = max(0, min(order.remaining, reach - order.ahead))
        order.ahead = Qty(max(0, order.ahead - reach))
        if take:
            fills.append((order, take))
            given += take
    return fills


def cross_fills(book: PublicBook, orders: Iterable[PaperOrder]) -> list[tuple[PaperOrder, int]]:
    """Fills of resting orders the other ladder now crosses (best price first, then time), from
    liquidity the account has not taken yet; marks what they use ``consumed``."""
    fills: list[tuple[PaperOrder, int]] = []
    for order in sorted(orders, key=lambda o: (-o.leg, o.rest_seq)):
        want: int = order.remaining
        for _, level in book.crossing(order.ladder, order.leg):
            if want <= 0:
                break
            take = min(want, level.available)
            if take > 0:
                level.consumed += take
                want -= take
        if want < order.remaining:
            fills.append((order, order.remaining - want))
    return fills
