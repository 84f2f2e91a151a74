"""The room view: the largest size risk would accept, found with risk's own exposure math."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.risk.kit import ASK, BID, Desk, px, qty, usd

from kalshi_trader.domain import BookSide, OrderIntent, Position, Qty


def _accepted(desk: Desk, ticker: str, side: BookSide, price: str, size: int, replacing: str = "") -> bool:
    """Whether risk's dry run approves the intent (sizes in ``Qty`` units)."""
    if replacing:
        intent = OrderIntent.amend(ticker, side, px(price), Qty(size), replacing)
    else:
        intent = OrderIntent.place(ticker, side, px(price), Qty(size), "probe")
    return desk.risk.check(intent, book=desk.book(ticker, bid=None, ask=None)).approved  # no book to be through


def test_the_size_is_cut_to_the_tightest_limit_and_named() -> None:
    desk = Desk(max_order_size=qty(2), max_position_per_market=qty(3))
    room = desk.risk.room()
    fit = room.fit("A1", BID, px("0.50"), qty(5))
    assert (fit.qty, fit.rule) == (qty(2), "max_order_size")
    assert desk.place("A1", BID, "0.50", 2, coid="b1").approved
    fit = desk.risk.room().fit("A1", BID, px("0.50"), qty(5))
    assert (fit.qty, fit.rule) == (qty(1), "max_position_per_market")
    assert "limit 3.00" in fit.reason
    assert desk.risk.room().fit("A1", ASK, px("0.50"), qty(2)).whole  # the other leg has room


def test_claims_count_against_the_limits_for_the_rest_of_the_view() -> None:
    desk = Desk(max_event_exposure=usd(10), max_open_orders=3)
    room = desk.risk.room()
    assert room.claim("A1", BID, px("0.50"), qty(12)).qty == qty(12)  # $6 at risk
    fit = room.claim("A2", BID, px("0.50"), qty(12))  # the event holds $4 more
    assert (fit.qty, fit.rule) == (qty(8), "max_event_exposure")
    assert room.open_orders_left() == 1
    assert room.claim("B1", BID, px("0.10"), qty(1)).qty == qty(1)
    assert room.fit("B1", BID, px("0.10"), qty(1)).rule == "max_open_orders"
    assert desk.risk.room().open_orders_left() == 3  # risk itself reserved nothing


def test_an_amend_is_judged_as_risk_judges_it_and_an_unknown_order_has_no_room() -> None:
    desk = Desk(max_position_per_market=qty(5))
    assert desk.place("A1", BID, "0.40", 4, coid="q").approved
    room = desk.risk.room()
    assert room.fit("A1", BID, px("0.45"), qty(9), replacing="q").qty == qty(5)
    assert room.fit("A1", BID, px("0.45"), qty(3), replacing="q").whole  # smaller: room as before
    assert room.fit("A1", BID, px("0.45"), qty(3), replacing="nope").rule == "unknown_order"


@settings(max_examples=150, deadline=None)
@given(
    held=st.integers(-600, 600),
    resting=st.lists(st.tuples(st.sampled_from([BID, ASK]), st.integers(1, 99), st.integers(1, 400)), max_size=4),
    side=st.sampled_from([BID, ASK]),
    cents=st.integers(1, 99),
    wanted=st.integers(1, 2_000),
    amend=st.booleans(),
)
def test_the_fit_is_exactly_the_largest_size_risk_accepts(
    held: int, resting: list[tuple[BookSide, int, int]], side: BookSide, cents: int, wanted: int, amend: bool
) -> None:
    desk = Desk(
        max_order_size=qty(12),
        max_position_per_market=qty(10),
        max_event_exposure=usd(8),
        max_total_exposure=usd(12),
    )
    cost = abs(held) * 50
    desk.risk.update_position(Position("A1", Qty(held), usd(0) + cost))
    desk.place("A2", BID, "0.30", 10, coid="other-market")
    for n, (s, c, size) in enumerate(resting):
        desk.place("A1", s, f"0.{c:02d}", f"{size / 100:.2f}", coid=f"r{n}")
    replacing = "r0" if amend and resting and desk.risk.reservation("r0") is not None else ""
    if replacing:
        side = resting[0][0]
    price = f"0.{cents:02d}"
    fit = desk.risk.room().fit("A1", side, px(price), Qty(wanted), replacing=replacing)
    assert 0 <= fit.qty <= wanted
    if fit.qty > 0:
        assert _accepted(desk, "A1", side, price, fit.qty, replacing)
    if fit.qty < wanted:
        assert fit.rule
        assert not _accepted(desk, "A1", side, price, fit.qty + 1, replacing)
