"""``OrderTracker.open_orders`` reads an index of open orders: it must always equal a full scan."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_trader.domain import BookSide, Fill, Money, Order, OrderIntent, OrderStatus, Price, Qty, TimeInForce
from kalshi_trader.execution.orders import OrderTracker

TICKERS = ("KX-A", "KX-B", "KX-C")
COIDS = ("c0", "c1", "c2", "c3", "c4", "o0", "")
OIDS = ("o0", "o1", "o2", "o3", "o4")
STRATEGIES = ("mm", "fav")
SIZE = Qty(1000)

counts = st.integers(0, 12).map(lambda n: Qty(n * 100))
events = st.one_of(
    st.tuples(
        st.just("submit"),
        st.sampled_from(COIDS[:5]),
        st.sampled_from(TICKERS),
        st.sampled_from(TimeInForce),
        st.sampled_from(STRATEGIES),
    ),
    st.tuples(st.just("ack"), st.sampled_from(COIDS), st.sampled_from(OIDS), counts, counts, st.integers(0, 9)),
    st.tuples(st.just("amend"), st.sampled_from(COIDS + OIDS), counts, st.one_of(st.none(), counts)),
    st.tuples(st.just("cancel"), st.sampled_from(COIDS + OIDS), st.one_of(st.none(), counts)),
    st.tuples(st.just("reject"), st.sampled_from(COIDS)),
    st.tuples(
        st.just("report"),
        st.sampled_from(OIDS),
        st.sampled_from(COIDS),
        st.sampled_from(TICKERS),
        st.sampled_from(OrderStatus),
        counts,
        counts,
        st.integers(0, 9),
    ),
    st.tuples(st.just("fill"), st.sampled_from(OIDS), st.sampled_from(COIDS), st.sampled_from(TICKERS), counts),
)


def apply(t: OrderTracker, event: tuple[Any, ...], n: int) -> None:
    kind, *a = event
    try:
        if kind == "submit":
            coid, ticker, tif, strategy = a
            intent = OrderIntent.place(ticker, BookSide.BID, Price(4000), SIZE, coid, tif=tif, strategy=strategy)
            t.on_submitted(intent)
        elif kind == "ack":
            coid, oid, filled, remaining, ts = a
            t.on_ack(coid, order_id=oid, filled=filled, remaining=remaining, ts_ms=ts)
        elif kind == "amend":
            key, size, remaining = a
            t.on_amended(key, price=4100, size=size or None, remaining=remaining)
        elif kind == "cancel":
            key, reduced_by = a
            t.on_canceled(key, reduced_by=reduced_by)
        elif kind == "reject":
            t.on_rejected(a[0], "no")
        elif kind == "report":
            oid, coid, ticker, status, filled, remaining, ts = a
            t.on_order_update(
                Order(
                    oid, coid, ticker, BookSide.BID, Price(4000), Qty(filled + remaining), filled, remaining, status, ts
                )
            )
        else:
            oid, coid, ticker, qty = a
            if qty:
                t.on_fill(Fill(f"f{n}", oid, ticker, BookSide.BID, Price(4000), qty, Money(0), True, 0, coid))
    except (KeyError, ValueError):
        pass  # an unknown key or a reused client order id: refused, nothing changed


@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=40))
def test_open_order_index_equals_a_full_scan(sequence: list[tuple[Any, ...]]) -> None:
    t = OrderTracker()
    for n, event in enumerate(sequence):
        apply(t, event, n)
        everything = t.orders()
        assert t.open_orders() == [o for o in everything if o.state.is_open]
        assert t.open_count() == len(t.open_orders())
        for ticker in TICKERS:
            assert t.open_orders(ticker) == [o for o in everything if o.state.is_open and o.ticker == ticker]
        for name in (*STRATEGIES, ""):
            assert t.open_orders(strategy=name) == [o for o in everything if o.state.is_open and o.strategy == name]
        assert t.open_orders("KX-A", strategy="mm") == [
            o for o in everything if o.state.is_open and o.ticker == "KX-A" and o.strategy == "mm"
        ]


def test_an_order_leaves_the_index_when_it_ends_and_returns_when_the_exchange_revives_it() -> None:
    t = OrderTracker()
    t.on_submitted(OrderIntent.place("KX-A", BookSide.BID, Price(4000), SIZE, "c1", strategy="s"))
    t.on_submitted(OrderIntent.place("KX-B", BookSide.BID, Price(4000), SIZE, "c2", strategy="s"))
    assert [o.client_order_id for o in t.open_orders()] == ["c1", "c2"]
    assert t.on_rejected("c1", "no")
    assert [o.client_order_id for o in t.open_orders()] == ["c2"]
    t.on_order_update(Order("o1", "c1", "KX-A", BookSide.BID, Price(4000), SIZE, Qty(0), SIZE, OrderStatus.RESTING, 5))
    assert [o.client_order_id for o in t.open_orders()] == ["c1", "c2"]  # submission order kept
    assert [o.client_order_id for o in t.open_orders("KX-A")] == ["c1"]
    t.on_canceled("c2")
    assert [o.client_order_id for o in t.open_orders()] == ["c1"]
    assert t.open_orders("KX-B") == []
