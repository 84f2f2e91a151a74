"""The paper exchange against its reference (``reference.py``): the same random order flow and
public feed give the same fills, order reports, queue places and book bookkeeping."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.paper.kit import ASK, BID, NO, TICKER, YES, Kit, qty
from tests.unit.paper.reference import ReferencePaperExchange
from tests.unit.paper.test_properties import SETTINGS, order_flow, run

from kalshi_trader.domain import Order, SelfTradePrevention, TimeInForce
from kalshi_trader.execution.venue import VenueError
from kalshi_trader.paper.book import Decrease
from kalshi_trader.paper.exchange import PaperExchange


def _decrease(d: Decrease) -> tuple[int, int, int]:
    return d.seq, d.at_ms, d.qty


def _state(ex: PaperExchange) -> object:
    """The book's bookkeeping per level and every order (queue places included)."""
    book = ex.book(TICKER)
    assert book is not None
    levels = [
        (side, p, level.size, level.consumed, level.credit, [_decrease(d) for d in level.pending])
        for side, ladder in book._levels.items()
        for p, level in sorted(ladder.items())
    ]
    pending = [(side, leg, _decrease(d)) for side, leg, d in book._pending]
    return levels, book.seq, pending, sorted(ex._orders.items())


def _step(kit: Kit, step: tuple[object, ...], placed: list[Order], group: str | None) -> str:
    try:
        run(kit, step, placed, group)
    except VenueError as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


# A few prices around the middle, so that orders rest where deltas often cross them.
near = st.sampled_from([3500, 4000, 4500, 5000, 5500, 6000, 6500])
flow = order_flow(near, st.sampled_from(list(TimeInForce)), st.sampled_from(list(SelfTradePrevention)), 3)


@settings(SETTINGS, max_examples=500)
@given(st.lists(flow, min_size=10, max_size=60), st.sampled_from([None, 1_00]))
def test_the_exchange_trades_as_its_reference(steps: list[tuple[object, ...]], group_limit: int | None) -> None:
    kits = Kit(), Kit(exchange=ReferencePaperExchange)
    placed: tuple[list[Order], list[Order]] = ([], [])
    groups = []
    for kit in kits:
        kit.book(yes=[("0.45", "20"), ("0.40", "50")], no=[("0.45", "20"), ("0.40", "50")])
        groups.append(kit.ex.create_group(group_limit) if group_limit else None)
    for step in steps:
        outcomes = [_step(kit, step, mine, group) for kit, mine, group in zip(kits, placed, groups, strict=True)]
        assert outcomes[0] == outcomes[1]
        assert kits[0].ex.take_changes() == kits[1].ex.take_changes()
        assert _state(kits[0].ex) == _state(kits[1].ex)
    for kit in kits:
        with contextlib.suppress(VenueError):
            kit.ex.on_market_determined(TICKER, 6_000)
    assert kits[0].ex.take_changes() == kits[1].ex.take_changes()


def test_size_added_at_or_through_our_price_fills_and_below_it_does_not() -> None:
    for side, ours, reaches, short in (
        (ASK, "0.55", (YES, "0.55"), (YES, "0.54")),
        (BID, "0.45", (NO, "0.55"), (NO, "0.54")),
    ):
        kit = Kit()
        kit.book(yes=[("0.45", "20"), ("0.40", "50")], no=[("0.40", "50")])
        order = kit.place(side, ours, "5")
        kit.delta(short[0], short[1], "10")
        assert kit.filled(order) == 0
        kit.delta(reaches[0], reaches[1], "3")
        assert kit.filled(order) == qty("3")
