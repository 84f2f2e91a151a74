"""Exit precedence: how much an exit may sell, and which of our orders leave the book ahead of it.

Contract (pure; the engine applies it):
- Positions are per account, not per strategy. Every plain (not reduce-only) order of ours that
  rests on an exit's side — a bracket's take-profit, another strategy's quote — could sell the
  same contracts the exit sells; together they could sell past zero and flip the position. A
  reduce-only order is capped by the exchange and never counts here.
- ``covering(working, side, exit_coid)``: the plain orders of ours on ``side`` that can still
  trade, other than the exit itself — what an exit must not sell through.
- ``room(sellable, working, side, exit_coid)``: what the exit may sell now without flipping the
  position through them: ``sellable`` (the position on the leg ``side`` sells, less fills reported
  but not received) less what they could still sell. None when none of them is open.
- ``in_the_way(sellable, working, side, qty, exit_coid, leaving)``: the resting (GTC) orders of
  ours, of any strategy, that the engine cancels ahead of an exit of ``qty`` so that it can sell
  all it may (``qty``, at most ``sellable``) — only as many as that needs, the largest first.
  Orders in ``leaving`` (a cancel of theirs is already queued, so they are gone before the exit
  leaves) are neither named again nor counted. An exit is protective: a quote never holds it up.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from kalshi_trader.domain import BookSide, TimeInForce
from kalshi_trader.execution.orders import TrackedOrder

__all__ = ["covering", "in_the_way", "room"]


def covering(working: Sequence[TrackedOrder], side: BookSide, exit_coid: str) -> list[TrackedOrder]:
    """Our open plain orders on ``side`` other than ``exit_coid`` (see the module docstring)."""
    return [
        t
        for t in working
        if t.side is side and t.state.is_open and not t.reduce_only and t.client_order_id != exit_coid
    ]


def room(sellable: int, working: Sequence[TrackedOrder], side: BookSide, exit_coid: str) -> int | None:
    """What an exit on ``side`` may sell now without flipping the position through our other
    plain orders there; None when none is open (a reduce-only order alone is capped by the exchange)."""
    others = sum(t.remaining for t in covering(working, side, exit_coid))
    return None if not others else sellable - others


def in_the_way(
    sellable: int,
    working: Sequence[TrackedOrder],
    side: BookSide,
    qty: int,
    exit_coid: str,
    leaving: Collection[str] = (),
) -> list[TrackedOrder]:
    """The orders to cancel ahead of an exit of ``qty`` on ``side`` (see the module docstring)."""
    staying = [  # IOC and FOK orders never rest: they are over before the exit leaves
        t
        for t in covering(working, side, exit_coid)
        if t.client_order_id not in leaving and t.tif is TimeInForce.GOOD_TILL_CANCELED
    ]
    kept: int = sum(t.remaining for t in staying)
    allowed = max(0, sellable - qty)  # what may keep resting while the exit sells all it may
    out: list[TrackedOrder] = []
    for t in sorted(staying, key=lambda t: t.remaining, reverse=True):
        if kept <= allowed:
            break
        out.append(t)
        kept -= t.remaining
    return out
