"""``OrderTracker`` keeps its reads of an order until the order changes, and counts changes in its
revisions: after every event each kept read must equal one built afresh from the order's entry,
and a revision that stands must mean the same reads."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.unit.execution.test_orders_index import TICKERS, apply, events

from kalshi_trader.domain import BookSide, OrderIntent, OrderStatus, Position, Price, Qty
from kalshi_trader.execution.orders import OrderTracker, TrackedOrder

Reads = tuple[list[TrackedOrder], dict[str, list[TrackedOrder]], list[Position]]


def _reads(t: OrderTracker) -> Reads:
    return t.orders(), {ticker: t.open_orders(ticker) for ticker in TICKERS}, t.positions(include_flat=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=40))
@example(  # an adopted order takes the key of one in another market: both markets' revisions move
    [
        ("report", "o1", "o0", "KX-A", OrderStatus.RESTING, 0, 0, 0),
        ("ack", "o0", "o1", 0, 100, 0),
        ("report", "o0", "", "KX-B", OrderStatus.RESTING, 0, 0, 0),
    ]
)
def test_kept_reads_equal_fresh_ones_and_revisions_mark_every_change(sequence: list[tuple[Any, ...]]) -> None:
    t = OrderTracker()
    before = _reads(t)
    revisions = (t.revision, {ticker: t.market_revision(ticker) for ticker in TICKERS}, t.positions_revision)
    for n, event in enumerate(sequence):
        apply(t, event, n)
        now = _reads(t)
        entries = list(t._orders.values())  # the tracker's own entries: what a read is built from
        assert now[0] == [e.build_view() for e in entries]
        for ticker in TICKERS:
            built = [e.build_view() for e in sorted(entries, key=lambda e: e.seq) if e.ticker == ticker]
            assert now[1][ticker] == [o for o in built if o.state.is_open]
        if t.revision == revisions[0]:
            assert now[0] == before[0]
        for ticker in TICKERS:
            if t.market_revision(ticker) == revisions[1][ticker]:
                assert now[1][ticker] == before[1][ticker]
        if t.positions_revision == revisions[2]:
            assert now[2] == before[2]
        assert t.revision >= revisions[0]
        assert t.positions_revision >= revisions[2]
        before = now
        revisions = (t.revision, {ticker: t.market_revision(ticker) for ticker in TICKERS}, t.positions_revision)


def test_an_order_reads_as_one_object_until_it_changes() -> None:
    t = OrderTracker()
    t.on_submitted(OrderIntent.place("KX-A", BookSide.BID, Price(4000), Qty(500), "c1", strategy="s"))
    first = t.order("c1")
    assert t.order("c1") is first
    assert t.open_orders()[0] is first
    revision = t.revision
    t.on_ack("c1", order_id="o1", filled=0, remaining=500)
    assert t.revision > revision
    assert t.market_revision("KX-A") > 0
    assert t.market_revision("KX-B") == 0
    assert t.order("c1") is not first
    assert t.order("c1") == t.order("o1")
