"""The room view: the largest size risk would accept, found with risk's own exposure math."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.unit.risk.kit import ASK, BID, Desk, px, qty, usd
from tests.unit.risk.reference import ProbingRoom

from kalshi_trader.domain import BookSide, Money, OrderIntent, Position, Price, Qty


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


asks = st.tuples(
    st.sampled_from(["A1", "A2", "B1", "ZZ"]),
    st.sampled_from([BID, ASK]),
    st.one_of(st.integers(1, 9_999), st.sampled_from([0, 10_000, -100, 12_000])),
    st.one_of(st.integers(1, 3_000), st.integers(-200, 0)),
    st.sampled_from(["", "r0", "r1", "r2", "gone"]),
    st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(
    positions=st.lists(
        st.tuples(
            st.sampled_from(["A1", "A2", "B1"]),
            st.integers(-900, 900),
            st.integers(0, 90_000),
            st.integers(-50_000, 50_000),
        ),
        max_size=3,
    ),
    resting=st.lists(
        st.tuples(
            st.sampled_from(["A1", "A2", "B1"]), st.sampled_from([BID, ASK]), st.integers(1, 99), st.integers(1, 500)
        ),
        max_size=4,
    ),
    in_flight=st.booleans(),
    limits=st.tuples(
        st.integers(0, 2_000), st.integers(0, 1_500), st.integers(0, 30), st.integers(0, 60), st.integers(1, 6)
    ),
    questions=st.lists(asks, min_size=1, max_size=6),
)
@example(  # a claim cut by the event and the total limits at once: the rule is judged before the claim
    positions=[],
    resting=[("B1", BID, 72, 405)],
    in_flight=False,
    limits=(109, 109, 2, 4, 2),
    questions=[("A1", BID, 10_000, 109, "", True)],
)
def test_the_closed_form_answers_as_probing_every_size_does(
    positions: list[tuple[str, int, int, int]],
    resting: list[tuple[str, BookSide, int, int]],
    in_flight: bool,
    limits: tuple[int, int, int, int, int],
    questions: list[tuple[str, BookSide, int, int, str, bool]],
) -> None:
    """Differential: ``RoomView`` (closed form) and ``ProbingRoom`` (bisection over sizes, the
    first implementation) give the same fit, rule and reason to every question of one view —
    places and amends, claims counted, degenerate sizes and prices included."""
    order_size, position_cap, event_usd, total_usd, open_orders = limits
    desk = Desk(
        max_order_size=Qty(order_size),
        max_position_per_market=Qty(position_cap),
        max_event_exposure=usd(event_usd),
        max_total_exposure=usd(total_usd),
        max_open_orders=open_orders,
    )
    for ticker, held, cost, realized in positions:
        desk.risk.update_position(Position(ticker, Qty(held), Money(cost), Money(realized)))
    roomy = Desk()
    for n, (ticker, side, cents, size) in enumerate(resting):  # reserved whatever the limits say
        desk.risk.adopt(f"r{n}", ticker, side, Price(cents * 100), size)
    if in_flight and resting:
        desk.risk.check_and_reserve(
            OrderIntent.amend(resting[0][0], resting[0][1], Price(5_000), Qty(50), "r0"),
            book=roomy.book(resting[0][0], bid=None, ask=None),
        )
    risk = desk.risk
    fast = risk.room()
    slow = ProbingRoom(risk.limits, risk._info, risk._markets, risk._reservations, risk._event_loss, risk._total_loss)
    for ticker, side, price, size, replacing, claim in questions:
        if claim:
            got = fast.claim(ticker, side, Price(price), Qty(size), replacing=replacing)
            want = slow.claim(ticker, side, Price(price), Qty(size), replacing=replacing)
        else:
            got = fast.fit(ticker, side, Price(price), Qty(size), replacing=replacing)
            want = slow.fit(ticker, side, Price(price), Qty(size), replacing=replacing)
        assert got == want
        assert fast.open_orders_left() == slow.open_orders_left()
