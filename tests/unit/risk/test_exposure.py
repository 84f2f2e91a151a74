"""A market's exposure is kept between changes: every change through ``add`` or ``set_position``
makes the next read the exposure computed afresh; ``copy`` is ``dataclasses.replace``'s copy."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from kalshi_trader.domain import BookSide, Money, Position, Qty
from kalshi_trader.risk.exposure import MarketRisk

sides = st.sampled_from([BookSide.BID, BookSide.ASK])
loads = st.tuples(st.integers(0, 50_000), st.integers(0, 5_000_000))
changes = st.one_of(
    st.tuples(st.just("add"), sides, loads, st.sampled_from([1, -1])),
    st.tuples(
        st.just("position"),
        st.integers(-50_000, 50_000),
        st.integers(0, 5_000_000),
        st.integers(-1_000_000, 1_000_000),
    ),
)


@given(st.lists(changes, max_size=30), sides, loads)
def test_the_kept_exposure_is_always_the_one_computed_afresh(
    steps: list[tuple[object, ...]], side: BookSide, extra: tuple[int, int]
) -> None:
    market = MarketRisk("T", "E")
    assert market.exposure() == (0, 0, 0)
    for step in steps:
        market.exposure()  # kept until the change below
        if step[0] == "add":
            _, on, load, sign = step
            market.add(on, load, sign)  # type: ignore[arg-type]
        else:
            _, held, cost, realized = step
            market.set_position(Position("T", Qty(held), Money(cost), Money(realized)))  # type: ignore[arg-type]
        fresh = replace(market)  # a copy keeps nothing: it computes
        copy = market.copy()
        assert copy == fresh
        assert copy is not market
        assert market.exposure() == fresh.exposure()
        assert market.exposure() is market.exposure()
        assert market.exposure(side, extra) == fresh.exposure(side, extra)
