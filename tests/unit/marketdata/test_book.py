"""L2Book: Kalshi's two bid ladders on the tick grid, in fixed point, against hand-worked cases and a
dict-based reference model."""

from __future__ import annotations

import random
from collections.abc import Sequence
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalshi_trader.domain import (
    BookSide,
    LadderTop,
    Level,
    Price,
    PriceBand,
    Qty,
    Side,
    TickGrid,
    TopOfBook,
    parse_price,
    parse_qty,
)
from kalshi_trader.marketdata.book import BookError, L2Book

LINEAR = TickGrid.named("linear_cent")
DECI = TickGrid.named("deci_cent")
TAPERED = TickGrid.named("tapered_deci_cent")
CENTI = TickGrid.named("center_centi_edge_centi_cent")


def wire(levels: list[tuple[str, str]]) -> list[tuple[int, int]]:
    return [(parse_price(p), parse_qty(q)) for p, q in levels]


def kalshi_example() -> L2Book:
    """``GET /markets/{ticker}/orderbook`` (current shape), as
    https://docs.kalshi.com/getting_started/orderbook_responses shows it."""
    book = L2Book("KXEXAMPLE", LINEAR)
    book.apply_snapshot(
        wire([("0.0100", "200.00"), ("0.4100", "10.00"), ("0.4200", "13.00")]),
        wire([("0.0100", "100.00"), ("0.4500", "20.00"), ("0.5600", "17.00")]),
        ts_ms=1_778_900_000_000,
    )
    return book


# --------------------------------------------------------------------------------------------
# Known cases


def test_kalshi_orderbook_example_top_of_book() -> None:
    book = kalshi_example()
    assert not book.stale
    assert book.best_yes_bid() == 4200
    assert book.best_no_bid() == 5600
    assert book.best_yes_ask() == 4400  # $1 - best NO bid
    assert book.best_no_ask() == 5800  # $1 - best YES bid
    assert book.best_yes_bid_size() == 1300
    assert book.best_yes_ask_size() == 1700
    assert book.spread() == 200
    assert book.mid() == 4300
    # (0.42 * 17 + 0.44 * 13) / 30 = 0.428666... -> 0.4287
    assert book.microprice() == 4287
    assert not book.is_crossed()
    assert book.updated_ms == 1_778_900_000_000


def test_kalshi_orderbook_example_depth_and_levels() -> None:
    book = kalshi_example()
    assert book.levels(Side.YES) == [Level(100, 20_000), Level(4100, 1000), Level(4200, 1300)]  # type: ignore[arg-type]
    assert book.levels(Side.NO)[-1] == Level(5600, 1700)  # type: ignore[arg-type]
    assert book.depth(Side.NO, 2) == [Level(5600, 1700), Level(4500, 2000)]  # type: ignore[arg-type]
    assert book.depth(Side.YES, 10) == list(reversed(book.levels(Side.YES)))
    assert book.depth(Side.YES, 0) == []
    assert book.top(Side.NO, 2) == (5600, 1700, 3700)
    assert book.top(Side.YES, 10) == (4200, 1300, 22_300)
    assert book.top(Side.YES, 0) == (None, 0, 0)
    assert book.as_tuples() == (
        [(100, 20_000), (4100, 1000), (4200, 1300)],
        [(100, 10_000), (4500, 2000), (5600, 1700)],
    )


def test_top_of_neighbouring_and_gapped_levels() -> None:
    book = L2Book("KXTOP", LINEAR)
    book.apply_snapshot([(100 * c, 100 + c) for c in range(40, 45)], [(100, 700), (300, 900)])
    assert book.top(Side.YES, 5) == (4400, 144, sum(100 + c for c in range(40, 45)))
    assert book.top(Side.YES, 3) == (4400, 144, 144 + 143 + 142)
    assert book.top(Side.YES, 6) == (4400, 144, sum(100 + c for c in range(40, 45)))
    assert book.top(Side.NO, 2) == (300, 900, 1600)
    assert book.top(Side.NO, 1) == (300, 900, 900)
    book.apply_delta(Side.YES, 4200, -142)  # a gap below the best
    assert book.top(Side.YES, 3) == (4400, 144, 144 + 143 + 141)
    for side in (Side.YES, Side.NO):
        for n in range(7):
            top = book.top(side, n)
            assert type(top) is LadderTop
            assert top == LadderTop.of(book.depth(side, n)) == book.top(side.value, n)  # type: ignore[arg-type]


def test_book_is_stale_and_empty_until_the_first_snapshot() -> None:
    book = L2Book("KXEMPTY", LINEAR)
    assert book.stale
    assert (book.ticker, book.grid, book.updated_ms) == ("KXEMPTY", LINEAR, 0)
    for read in (book.best_yes_bid, book.best_no_bid, book.best_yes_ask, book.best_no_ask):
        assert read() is None
    assert (book.best_yes_bid_size(), book.best_yes_ask_size()) == (0, 0)
    assert book.spread() is None
    assert book.mid() is None
    assert book.mid_x2() is None
    assert book.microprice() is None
    assert not book.is_crossed()
    assert book.levels(Side.YES) == book.depth(Side.NO, 5) == []
    assert book.cost_to_take(BookSide.BID, 1000) == (0, 0)
    book.apply_snapshot([], [])
    assert not book.stale


def test_one_side_empty_gives_none_for_what_needs_it() -> None:
    book = L2Book("KXONE", LINEAR)
    book.apply_snapshot([(4200, 500)], [])
    assert book.best_yes_bid() == 4200
    assert book.best_no_ask() == 5800
    assert book.best_yes_ask() is None
    assert book.best_yes_ask_size() == 0
    assert book.spread() is None
    assert book.mid() is None
    assert book.microprice() is None
    assert not book.is_crossed()


def test_the_mark_is_the_mid_never_below_the_settlement_floor() -> None:
    book = kalshi_example()  # YES 0.42 bid / 0.44 ask
    assert (book.settlement_floor, book.mid(), book.mark()) == (0, 4300, 4300)
    book.settlement_floor = parse_price("0.4500")  # the floor rose above the book
    assert (book.mid(), book.mark()) == (4300, 4500)
    floored = L2Book("KXFLOOR", LINEAR, parse_price("0.3000"))
    assert floored.mark() is None  # no two-sided book, no mark
    floored.apply_snapshot([(2900, 100)], [(6900, 100)])  # YES 0.29 / 0.31
    assert (floored.mid(), floored.mark()) == (3000, 3000)
    top = TopOfBook("KXFLOOR", Price(2500), Price(3100), 0, settlement_floor=Price(3000))
    assert top.mark == 3000
    assert TopOfBook("KXFLOOR", Price(2500), Price(3100), 0).mark == 2800
    assert TopOfBook("KXFLOOR", None, Price(3100), 0, settlement_floor=Price(3000)).mark is None


def test_websocket_snapshot_then_delta_removes_the_best_level_and_rescans() -> None:
    """The snapshot/delta shapes of https://docs.kalshi.com/websockets/orderbook-updates."""
    book = L2Book("KXHIGHNY-26MAY16-B78.5", LINEAR)
    book.apply_snapshot(
        wire([("0.2700", "614.00"), ("0.3800", "1.00")]), wire([("0.4000", "616.40"), ("0.5900", "6.00")])
    )
    assert (book.best_yes_bid(), book.best_yes_ask()) == (3800, 4100)
    book.apply_delta(Side.YES, parse_price("0.3800"), parse_qty("-1.00"), ts_ms=1_778_900_000_123)
    assert book.best_yes_bid() == 2700
    assert book.best_yes_bid_size() == 61_400
    assert book.best_no_ask() == 7300
    assert book.updated_ms == 1_778_900_000_123
    assert book.as_tuples() == ([(2700, 61_400)], [(4000, 61_640), (5900, 600)])


def test_fractional_deltas_accumulate_exactly() -> None:
    book = L2Book("KXFRAC", LINEAR)
    book.apply_snapshot([], [])
    book.apply_delta(Side.NO, 5500, parse_qty("74.77"))
    assert book.best_yes_ask() == 4500
    assert book.best_yes_ask_size() == 7477
    book.apply_delta(Side.NO, 5500, parse_qty("-70.00"))
    assert book.best_yes_ask_size() == 477
    book.apply_delta(Side.NO, 5500, parse_qty("0.01"))
    assert book.best_yes_ask_size() == 478
    book.apply_delta(Side.NO, 5500, parse_qty("-4.78"))
    assert book.best_yes_ask() is None
    assert book.as_tuples() == ([], [])


def test_a_level_is_removed_at_or_below_zero_and_restarts_from_nothing() -> None:
    book = L2Book("KXZERO", LINEAR)
    book.apply_snapshot([(4000, 500), (4100, 300)], [])
    book.apply_delta(Side.YES, 4100, -1000)  # more than rests there: gone, not negative
    assert book.as_tuples() == ([(4000, 500)], [])
    book.apply_delta(Side.YES, 4100, 200)
    assert book.as_tuples() == ([(4000, 500), (4100, 200)], [])
    book.apply_delta(Side.YES, 4000, -500)  # exactly zero: gone
    assert book.as_tuples() == ([(4100, 200)], [])
    book.apply_delta(Side.YES, 3000, -100)  # negative delta on an absent level: nothing happens
    assert book.as_tuples() == ([(4100, 200)], [])
    assert book.best_yes_bid() == 4100


def test_best_level_rescans_down_to_the_next_level_and_to_empty() -> None:
    book = L2Book("KXSCAN", DECI)
    book.apply_snapshot([(10, 100), (4980, 100), (4990, 100)], [(20, 100)])
    book.apply_delta(Side.YES, 4990, -100)
    assert book.best_yes_bid() == 4980
    book.apply_delta(Side.YES, 4980, -100)
    assert book.best_yes_bid() == 10
    assert book.best_no_ask() == 9990
    book.apply_delta(Side.YES, 5000, 50)  # a new best above
    assert (book.best_yes_bid(), book.best_yes_bid_size()) == (5000, 50)
    book.apply_delta(Side.YES, 5000, -50)
    book.apply_delta(Side.YES, 10, -100)
    assert book.best_yes_bid() is None
    assert book.best_no_ask() is None
    assert book.best_yes_bid_size() == 0
    book.apply_delta(Side.NO, 20, -100)
    assert book.best_no_bid() is None
    assert book.best_yes_ask() is None


def test_a_delta_below_the_best_does_not_move_it() -> None:
    book = L2Book("KXBELOW", LINEAR)
    book.apply_snapshot([(5000, 100)], [(4000, 100)])
    book.apply_delta(Side.YES, 4000, 700)
    book.apply_delta(Side.NO, 3000, 700)
    assert (book.best_yes_bid(), book.best_yes_bid_size()) == (5000, 100)
    assert (book.best_yes_ask(), book.best_yes_ask_size()) == (6000, 100)
    book.apply_delta(Side.YES, 4000, -700)
    assert book.best_yes_bid() == 5000


@pytest.mark.parametrize(
    ("grid", "side", "price"),
    [
        (LINEAR, Side.YES, 4250),
        (LINEAR, Side.NO, 1),
        (DECI, Side.YES, 4255),
        (TAPERED, Side.NO, 5050),  # center band is whole cents
        (TAPERED, Side.YES, 9000 + 5),
        (LINEAR, Side.YES, -100),
        (LINEAR, Side.YES, 10_100),
        (LINEAR, Side.NO, 20_000),
    ],
)
def test_off_grid_prices_are_rejected_and_leave_the_ladders_untouched(grid: TickGrid, side: Side, price: int) -> None:
    book = L2Book("KXGRID", grid)
    book.apply_snapshot([(4000, 100)], [(5000, 100)])
    before = book.as_tuples()
    with pytest.raises(BookError, match="not on the market's tick grid"):
        book.apply_delta(side, price, 100)
    assert book.as_tuples() == before
    assert book.stale  # the book no longer matches the exchange: resubscribe
    assert book.updated_ms == 0  # the rejected delta did not count as an update


def test_tapered_grid_accepts_its_edge_ticks() -> None:
    book = L2Book("KXTAPER", TAPERED)
    book.apply_snapshot([(50, 100), (9950, 100)], [(10, 100), (500, 100)])
    assert book.best_yes_bid() == 9950
    assert book.best_yes_ask() == 9500
    assert book.is_crossed()  # consistent books never are; the book only reports it


def test_no_ladder_is_checked_on_the_complement_grid() -> None:
    """On an asymmetric grid a NO bid at p must have its YES twin $1 - p on the grid."""
    grid = TickGrid((PriceBand(0, 5000, 100), PriceBand(5000, 10_000, 500)))  # type: ignore[arg-type]
    book = L2Book("KXASYM", grid)
    book.apply_snapshot([(2300, 100)], [(7700, 100)])  # YES 0.23 and NO 0.77 (= YES 0.23) are fine
    assert book.best_yes_ask() == 2300
    with pytest.raises(BookError):
        book.apply_delta(Side.NO, 2300, 100)  # YES twin 0.77 is not on the 0.05 band
    with pytest.raises(BookError):
        book.apply_snapshot([], [(2300, 100)])


def test_endpoints_of_the_grid_are_accepted_levels() -> None:
    book = L2Book("KXEDGE", LINEAR)
    book.apply_snapshot([(0, 100)], [(0, 100)])
    assert (book.best_yes_bid(), book.best_yes_ask()) == (0, 10_000)
    book.apply_delta(Side.NO, 10_000, 100)
    assert book.best_yes_ask() == 0


def test_unknown_side_is_rejected_and_plain_strings_are_accepted() -> None:
    book = L2Book("KXSIDE", LINEAR)
    book.apply_snapshot([], [])
    book.apply_delta("yes", 4000, 100)  # type: ignore[arg-type]
    book.apply_delta("no", 5000, 100)  # type: ignore[arg-type]
    assert (book.best_yes_bid(), book.best_yes_ask()) == (4000, 5000)
    with pytest.raises(BookError, match="unknown book side"):
        book.apply_delta("bid", 4000, 100)  # type: ignore[arg-type]
    assert book.stale
    assert book.depth("yes", 1) == [Level(4000, 100)]  # type: ignore[arg-type]
    with pytest.raises(BookError, match="unknown book side"):
        book.levels("maybe")  # type: ignore[arg-type]


def test_snapshot_replaces_both_ladders() -> None:
    book = kalshi_example()
    book.apply_delta(Side.YES, 4300, 500)
    book.mark_stale()
    assert book.stale
    book.apply_snapshot([(3000, 100)], [(6500, 200)])
    assert not book.stale
    assert book.as_tuples() == ([(3000, 100)], [(6500, 200)])
    assert (book.best_yes_bid(), book.best_yes_ask()) == (3000, 3500)
    book.apply_snapshot([], [])
    assert book.as_tuples() == ([], [])
    assert book.best_yes_bid() is None
    assert book.best_yes_ask() is None


def test_snapshot_order_duplicates_and_empty_levels() -> None:
    book = L2Book("KXSNAP", LINEAR)
    book.apply_snapshot([(4200, 100), (4100, 50), (4200, 25), (4000, 0), (3900, -10)], [(5000, 100), (5000, -100)])
    assert book.as_tuples() == ([(4100, 50), (4200, 125)], [])
    assert book.best_yes_bid() == 4200


def test_a_bad_snapshot_changes_nothing_but_staleness() -> None:
    book = kalshi_example()
    before = book.as_tuples()
    with pytest.raises(BookError, match="snapshot price"):
        book.apply_snapshot([(3000, 100)], [(4250, 100)])
    with pytest.raises(BookError, match="snapshot price"):
        book.apply_snapshot([(3000.0, 100)], [])  # type: ignore[list-item]
    assert book.as_tuples() == before
    assert book.best_yes_bid() == 4200
    assert book.stale


def test_cost_to_take_buying_yes_walks_the_no_bids() -> None:
    book = kalshi_example()  # YES asks: 0.44 x 17, 0.55 x 20, 0.99 x 100
    assert book.cost_to_take(BookSide.BID, 2500) == (118_800, 2500)  # 17 x 0.44 + 8 x 0.55 = $11.88
    assert book.cost_to_take(BookSide.BID, 1700) == (74_800, 1700)
    assert book.cost_to_take(BookSide.BID, 1) == (44, 1)  # 0.01 x $0.44 = $0.0044
    assert book.cost_to_take(BookSide.BID, 0) == (0, 0)
    total = 17 * 4400 + 20 * 5500 + 100 * 9900
    assert book.cost_to_take(BookSide.BID, 1_000_000) == (total, 13_700)


def test_cost_to_take_buying_no_walks_the_yes_bids() -> None:
    book = kalshi_example()  # NO asks: 0.58 x 13, 0.59 x 10, 0.99 x 200
    assert book.cost_to_take(BookSide.ASK, 2000) == (116_700, 2000)  # 13 x 0.58 + 7 x 0.59 = $11.67
    assert book.cost_to_take("ask", 100) == (5800, 100)  # type: ignore[arg-type]


def test_cost_to_take_rounds_the_total_up_once() -> None:
    book = L2Book("KXROUND", DECI)
    book.apply_snapshot([], [(5550, 33), (5540, 33)])  # YES asks 0.445 and 0.446
    # 0.33 x 0.445 = 0.146850 -> 0.1469 (up)
    assert book.cost_to_take(BookSide.BID, 33) == (1469, 33)
    # 0.33 x 0.445 + 0.01 x 0.446 = 0.146850 + 0.004460 = 0.151310 -> 0.1514 (rounded once, not per level)
    assert book.cost_to_take(BookSide.BID, 34) == (1514, 34)
    with pytest.raises(BookError, match="negative"):
        book.cost_to_take(BookSide.BID, -1)
    with pytest.raises(BookError, match="unknown book side"):
        book.cost_to_take("yes", 1)  # type: ignore[arg-type]


def test_mid_rounds_exact_halves_down_and_mid_x2_is_exact() -> None:
    book = L2Book("KXMID", CENTI)
    book.apply_snapshot([(4200, 100)], [(10_000 - 4301, 100)])  # bid 0.4200, ask 0.4301
    assert book.mid_x2() == 8501
    assert book.mid() == 4250  # 0.42505 -> 0.4250
    assert book.spread() == 101
    book.apply_delta(Side.NO, 10_000 - 4302, 100)  # below the best NO bid: ask unchanged
    assert book.mid() == 4250
    book.apply_delta(Side.NO, 10_000 - 4301, -100)  # ask now 0.4302
    assert book.mid() == 4251


def test_microprice_leans_to_the_thin_side_with_documented_rounding() -> None:
    book = L2Book("KXMICRO", CENTI)
    book.apply_snapshot([(4200, 100)], [(10_000 - 4201, 100)])  # bid 0.4200 x 1, ask 0.4201 x 1
    assert book.microprice() == 4200  # exactly 0.42005: halves go down
    book.apply_delta(Side.YES, 4200, 200)  # bid x 3 vs ask x 1: price leans toward the ask
    assert book.microprice() == 4201  # 0.420075 -> 0.4201
    book.apply_snapshot([(4000, 100)], [(10_000 - 5000, 300)])  # bid 0.40 x 1, ask 0.50 x 3
    assert book.microprice() == 4250  # (0.40 x 3 + 0.50 x 1) / 4 = 0.425


def test_is_crossed_reports_locked_and_crossed_books() -> None:
    book = L2Book("KXCROSS", LINEAR)
    book.apply_snapshot([(5000, 100)], [(4900, 100)])
    assert not book.is_crossed()
    book.apply_delta(Side.NO, 5000, 100)  # YES ask 0.50 == bid: locked
    assert book.is_crossed()
    assert book.spread() == 0
    book.apply_delta(Side.NO, 5100, 100)  # YES ask 0.49 < bid 0.50
    assert book.is_crossed()
    assert book.spread() == -100


def test_books_on_the_same_grid_share_their_tables_but_not_their_levels() -> None:
    a = L2Book("A", TickGrid.named("deci_cent"))
    b = L2Book("B", TickGrid.named("deci_cent"))
    a.apply_snapshot([(4000, 100)], [])
    b.apply_snapshot([], [(4000, 100)])
    assert a.as_tuples() == ([(4000, 100)], [])
    assert b.as_tuples() == ([], [(4000, 100)])
    assert "0.4000" in repr(a)


# --------------------------------------------------------------------------------------------
# Property: the book equals a plain dict model after every step


class Model:
    """The obvious implementation: a dict per ladder."""

    def __init__(self) -> None:
        self.yes: dict[int, int] = {}
        self.no: dict[int, int] = {}

    def snapshot(self, yes: list[tuple[int, int]], no: list[tuple[int, int]]) -> None:
        self.yes, self.no = {}, {}
        for ladder, levels in ((self.yes, yes), (self.no, no)):
            for p, q in levels:
                ladder[p] = ladder.get(p, 0) + q
            for p in [p for p, q in ladder.items() if q <= 0]:
                del ladder[p]

    def delta(self, side: Side, price: int, delta: int) -> None:
        ladder = self.yes if side is Side.YES else self.no
        size = ladder.get(price, 0) + delta
        if size > 0:
            ladder[price] = size
        else:
            ladder.pop(price, None)

    def take(self, ladder: dict[int, int], qty: int) -> tuple[int, int]:
        left, micro = qty, 0
        for p in sorted(ladder, reverse=True):
            n = min(left, ladder[p])
            micro += (10_000 - p) * n
            left -= n
        return -(-micro // 100), qty - left


def nearest_half_down(x: Fraction) -> int:
    floor = x.numerator // x.denominator
    return floor + 1 if x - floor > Fraction(1, 2) else floor


def check(book: L2Book, model: Model) -> None:
    assert book.as_tuples() == (sorted(model.yes.items()), sorted(model.no.items()))
    yb = max(model.yes, default=None)
    nb = max(model.no, default=None)
    assert book.best_yes_bid() == yb
    assert book.best_no_bid() == nb
    assert book.best_yes_ask() == (None if nb is None else 10_000 - nb)
    assert book.best_no_ask() == (None if yb is None else 10_000 - yb)
    assert book.best_yes_bid_size() == (0 if yb is None else model.yes[yb])
    assert book.best_yes_ask_size() == (0 if nb is None else model.no[nb])
    if yb is None or nb is None:
        assert book.mid() is None
        assert book.microprice() is None
        assert book.spread() is None
    else:
        ask = 10_000 - nb
        assert book.spread() == ask - yb
        assert book.mid() == nearest_half_down(Fraction(yb + ask, 2))
        bs, asz = model.yes[yb], model.no[nb]
        assert book.microprice() == nearest_half_down(Fraction(yb * asz + ask * bs, bs + asz))
        assert book.is_crossed() == (yb >= ask)


GRIDS = {"linear_cent": LINEAR, "deci_cent": DECI, "tapered_deci_cent": TAPERED}


def random_snapshot(rnd: random.Random, prices: Sequence[int]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    def ladder() -> list[tuple[int, int]]:
        sizes = (0, 1, 100, rnd.randrange(1, 100_000))
        return [(rnd.choice(prices), rnd.choice(sizes)) for _ in range(rnd.randrange(0, 40))]

    return ladder(), ladder()


@pytest.mark.slow  # ./test.sh --fast leaves it out
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid_name=st.sampled_from(sorted(GRIDS)), seed=st.integers(0, 2**32 - 1))
def test_book_matches_a_dict_model_over_thousands_of_random_deltas(grid_name: str, seed: int) -> None:
    grid = GRIDS[grid_name]
    rnd = random.Random(seed)
    prices = grid.levels()
    off_grid = [p for p in range(-5, 10_006) if not grid.is_valid(p)] or [-1, 10_001]
    book, model = L2Book("KXPROP", grid), Model()
    yes, no = random_snapshot(rnd, prices)
    book.apply_snapshot(yes, no)
    model.snapshot(yes, no)
    check(book, model)
    # Deltas cluster on a moving window of prices so that levels fill, empty and refill.
    center = rnd.randrange(len(prices))
    for step in range(2_000):
        if rnd.random() < 0.02:
            center = rnd.randrange(len(prices))
        side = Side.YES if rnd.random() < 0.5 else Side.NO
        roll = rnd.random()
        if roll < 0.005:
            price = rnd.choice(off_grid)
            before = book.as_tuples()
            with pytest.raises(BookError):
                book.apply_delta(side, price, 100)
            assert book.stale
            assert book.as_tuples() == before
            continue
        if roll < 0.01:
            yes, no = random_snapshot(rnd, prices)
            book.apply_snapshot(yes, no)
            model.snapshot(yes, no)
            check(book, model)
            continue
        window = prices[max(0, center - 15) : center + 15]
        price = rnd.choice(window) if rnd.random() < 0.95 else rnd.choice(prices)
        ladder = model.yes if side is Side.YES else model.no
        have = ladder.get(price, 0)
        kind = rnd.random()
        if kind < 0.25 and have:
            delta = -have  # the whole level goes
        elif kind < 0.5:
            delta = -rnd.randrange(1, 2 * have + 2)  # may overshoot: removed at <= 0
        else:
            delta = rnd.choice((1, 100, 7477, rnd.randrange(1, 50_000)))
        book.apply_delta(side, price, delta, ts_ms=step + 1)
        model.delta(side, price, delta)
        check(book, model)
        assert book.updated_ms == step + 1
        if step % 97 == 0:
            want = rnd.randrange(0, 200_000)
            assert book.cost_to_take(BookSide.BID, want) == model.take(model.no, want)
            assert book.cost_to_take(BookSide.ASK, want) == model.take(model.yes, want)
            n = rnd.randrange(0, 6)
            best_first = sorted(model.yes.items(), reverse=True)[:n]
            assert book.depth(Side.YES, n) == [Level(p, q) for p, q in best_first]  # type: ignore[arg-type]
            for side in (Side.YES, Side.NO):
                levels = book.depth(side, n)
                assert book.top(side, n) == LadderTop(
                    levels[0].price if levels else None,
                    levels[0].qty if levels else Qty(0),
                    Qty(sum(level.qty for level in levels)),
                )


delta_ops = st.lists(
    st.tuples(st.sampled_from([Side.YES, Side.NO]), st.integers(0, 100), st.integers(-3_000, 3_000)),
    max_size=200,
)


@given(
    yes=st.lists(st.tuples(st.integers(0, 100), st.integers(-100, 3_000)), max_size=20),
    no=st.lists(st.tuples(st.integers(0, 100), st.integers(-100, 3_000)), max_size=20),
    ops=delta_ops,
)
def test_book_matches_a_dict_model_on_shrinkable_cent_sequences(
    yes: list[tuple[int, int]], no: list[tuple[int, int]], ops: list[tuple[Side, int, int]]
) -> None:
    """Same property with Hypothesis-built steps (linear_cent), so a failure shrinks to a short story."""
    book, model = L2Book("KXSHRINK", LINEAR), Model()
    snap_yes = [(c * 100, q) for c, q in yes]
    snap_no = [(c * 100, q) for c, q in no]
    book.apply_snapshot(snap_yes, snap_no)
    model.snapshot(snap_yes, snap_no)
    check(book, model)
    for side, cents, delta in ops:
        book.apply_delta(side, cents * 100, delta)
        model.delta(side, cents * 100, delta)
        check(book, model)


def test_best_price_attributes_follow_every_update() -> None:
    """``yes_bid``/``yes_ask``/``no_bid``/``no_ask`` (the hot-path reads) always equal the methods."""
    rng = random.Random(5)
    book = L2Book("KXATTR", TickGrid.named("linear_cent"))
    book.apply_snapshot([(4000, 100)], [(5000, 100)])
    for _ in range(2_000):
        side = rng.choice((Side.YES, Side.NO))
        book.apply_delta(side, rng.randrange(1, 100) * 100, rng.choice((-1, 1)) * rng.randrange(1, 300))
        assert (book.yes_bid, book.yes_ask) == (book.best_yes_bid(), book.best_yes_ask())
        assert (book.no_bid, book.no_ask) == (book.best_no_bid(), book.best_no_ask())
    book.apply_snapshot([], [])
    assert (book.yes_bid, book.yes_ask, book.no_bid, book.no_ask) == (None, None, None, None)
