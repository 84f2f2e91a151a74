"""Properties of the paper exchange under random order flow and random public feeds: money is
conserved, no order is ever overfilled, and a resting order never fills before a trade at or
through its price (nor by more than such trades carried)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.paper.kit import ASK, BID, TICKER, Kit, check_invariants

from kalshi_trader.domain import PRICE_SCALE, BookSide, Fill, Order, OrderStatus, Side
from kalshi_trader.execution.venue import AmendRequest, PlaceRequest, VenueError

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

cents = st.integers(min_value=1, max_value=99).map(lambda c: c * 100)
sizes = st.integers(min_value=1, max_value=3_000)  # hundredths: up to 30 contracts
sides = st.sampled_from([Side.YES, Side.NO])
book_sides = st.sampled_from([BID, ASK])
tifs = st.sampled_from(["good_till_canceled", "immediate_or_cancel", "fill_or_kill"])
stps = st.sampled_from(["taker_at_cross", "maker"])
levels = st.lists(st.tuples(cents, sizes), max_size=4)


# -- anything goes: conservation and counts ---------------------------------------------------------


def order_flow(
    prices: st.SearchStrategy[int], tifs: st.SearchStrategy[object], stps: st.SearchStrategy[object], levels: int
) -> st.SearchStrategy[tuple[object, ...]]:
    """Steps for ``run``: orders at ``prices``, the feed's deltas, trades and snapshots there."""
    return st.one_of(
        st.tuples(st.just("place"), book_sides, prices, sizes, tifs, stps, st.booleans()),
        st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("amend"), st.integers(min_value=0, max_value=20), prices, sizes),
        st.tuples(st.just("delta"), sides, prices, st.integers(min_value=-2_000, max_value=2_000)),
        st.tuples(st.just("trade"), prices, sizes, book_sides),
        st.tuples(
            st.just("snapshot"),
            st.lists(st.tuples(prices, sizes), max_size=levels),
            st.lists(st.tuples(prices, sizes), max_size=levels),
        ),
        st.tuples(st.just("later"), st.integers(min_value=1, max_value=5_000)),
    )


anything = order_flow(cents, tifs, stps, 4)


@SETTINGS
@given(st.lists(anything, max_size=60), st.sampled_from([None, 1_00]))
def test_money_is_conserved_and_no_order_is_overfilled(
    steps: list[tuple[object, ...]], group_limit: int | None
) -> None:
    kit = Kit()
    kit.book(yes=[("0.45", "20"), ("0.40", "50")], no=[("0.45", "20"), ("0.40", "50")])
    group = kit.ex.create_group(group_limit) if group_limit else None
    placed: list[Order] = []
    for step in steps:
        with contextlib.suppress(VenueError):
            run(kit, step, placed, group)
        kit.collect()  # checks conservation, counts and collateral
    kit.ex.on_market_determined(TICKER, 6_000)
    kit.collect()
    check_invariants(kit.ex, kit.start_cash)
    for order in placed:
        final = kit.current(order)
        assert kit.filled(order) == final.filled <= final.initial
        assert final.status is not OrderStatus.RESTING


def run(kit: Kit, step: tuple[object, ...], placed: list[Order], group: str | None) -> None:
    kind = step[0]
    if kind == "place":
        _, side, price, size, tif, stp, grouped = step
        request = PlaceRequest(
            TICKER,
            side,
            price,
            size,
            f"c-{next(kit.coids)}",
            time_in_force=tif,
            self_trade_prevention=stp,
            order_group_id=group if grouped else None,
        )
        placed.append(kit.ex.place(request))
    elif kind == "cancel" and placed:
        kit.ex.cancel(placed[int(step[1]) % len(placed)].order_id)
    elif kind == "amend" and placed:
        order = kit.current(placed[int(step[1]) % len(placed)])
        count = order.filled + int(step[3])
        kit.ex.amend(order.order_id, AmendRequest(TICKER, order.side, step[2], count, order.client_order_id))
    elif kind == "delta":
        kit.ex.on_book_delta(TICKER, step[1], step[2], step[3])
    elif kind == "trade":
        kit.ex.on_trade(TICKER, step[1], step[2], step[3])
    elif kind == "snapshot":
        kit.ex.on_book_snapshot(TICKER, step[1], step[2])
    elif kind == "later":
        kit.later(int(step[1]))


# -- never filled before a trade at or through the price -------------------------------------------
#
# The public book lives on levels that can never cross our orders: public YES and NO bids at
# $0.40..$0.50 (so YES asks at $0.50..$0.60), our bids below $0.50 and our asks above it. Then the
# only way a resting order can fill is a trade at or through its price.

public_levels = st.sampled_from([4000, 4200, 4500, 4800, 5000])
our_bids = st.sampled_from([4000, 4200, 4500, 4800])
our_asks = st.sampled_from([5200, 5500, 5800, 6000])  # NO bids at 0.48, 0.45, 0.42, 0.40

quiet_feed = st.one_of(
    st.tuples(st.just("bid"), our_bids, sizes),
    st.tuples(st.just("ask"), our_asks, sizes),
    st.tuples(st.just("delta"), sides, public_levels, st.integers(min_value=-3_000, max_value=3_000)),
    st.tuples(st.just("later"), st.integers(min_value=1, max_value=5_000)),
)
trade_prices = st.sampled_from([3800, 4000, 4200, 4500, 4800, 5000, 5200, 5500, 5800, 6000, 6200])
trades = st.tuples(st.just("trade"), trade_prices, sizes, book_sides)


@dataclass
class Queue:
    """What the public feed showed about one resting order's queue since it arrived."""

    ladder: Side
    leg: int
    ahead: int
    """Displayed at its price when it arrived."""
    decreases: int = 0
    """Every decrease of that level since (trades or cancels: the most the queue can have lost)."""
    at_price: int = 0
    through: int = 0

    def allows(self, filled: int) -> bool:
        """Whether the real exchange could have filled this much by now: trades through the price
        fill at once; trades at the price only beyond the queue in front."""
        return filled <= self.through + max(0, self.at_price - max(0, self.ahead - self.decreases))


@dataclass
class Witness:
    queues: dict[str, Queue] = field(default_factory=dict)

    def trade(self, kit: Kit, yes_price: int, size: int, taker: BookSide) -> None:
        ladder, leg = (Side.NO, PRICE_SCALE - yes_price) if taker is BID else (Side.YES, yes_price)
        for order in kit.ex.resting_orders():
            queue = self.queues[order.order_id]
            if queue.ladder is ladder and queue.leg == leg:
                queue.at_price += size
            elif queue.ladder is ladder and queue.leg > leg:
                queue.through += size

    def delta(self, kit: Kit, side: Side, price: int, change: int) -> None:
        book = kit.ex.book(TICKER)
        assert book is not None
        gone = min(-change, book.size(side, price)) if change < 0 else 0
        for queue in self.queues.values():
            if queue.ladder is side and queue.leg == price:
                queue.decreases += gone


@SETTINGS
@given(st.lists(quiet_feed, max_size=50))
def test_without_trades_nothing_rests_fills(steps: list[tuple[object, ...]]) -> None:
    kit = Kit()
    kit.book(yes=[("0.45", "20"), ("0.40", "50")], no=[("0.45", "20"), ("0.40", "50")])
    for step in steps:
        play(kit, step, Witness())
    assert [f for f in kit.fills if not f.is_taker] == []


@SETTINGS
@given(st.lists(st.one_of(quiet_feed, trades), max_size=60))
def test_a_resting_order_never_fills_before_the_real_exchange_could_have(steps: list[tuple[object, ...]]) -> None:
    kit = Kit()
    kit.book(yes=[("0.45", "20"), ("0.40", "50")], no=[("0.45", "20"), ("0.40", "50")])
    witness = Witness()
    for step in steps:
        before = len(kit.fills)
        play(kit, step, witness)
        caused: list[Fill] = kit.fills[before:]
        if step[0] == "trade":
            assert sum(f.qty for f in caused) <= step[2]  # a trade is never handed out twice
        else:
            assert caused == []  # nothing fills a resting order but a trade, in this world
        for fill in caused:
            assert not fill.is_taker
            order = kit.ex.order(fill.order_id)
            assert order is not None
            assert fill.price == order.price
            assert witness.queues[fill.order_id].allows(order.filled)


def play(kit: Kit, step: tuple[object, ...], witness: Witness) -> None:
    kind = step[0]
    if kind in ("bid", "ask"):
        price, size = int(step[1]), int(step[2])
        side = BID if kind == "bid" else ASK
        ladder, leg = (Side.YES, price) if side is BID else (Side.NO, PRICE_SCALE - price)
        book = kit.ex.book(TICKER)
        assert book is not None
        ahead = book.size(ladder, leg)
        order = kit.ex.place(PlaceRequest(TICKER, side, price, size, f"c-{next(kit.coids)}"))
        assert order.status is OrderStatus.RESTING  # nothing public crosses our prices here
        witness.queues[order.order_id] = Queue(ladder, leg, ahead)
    elif kind == "delta":
        witness.delta(kit, step[1], step[2], step[3])
        kit.ex.on_book_delta(TICKER, step[1], step[2], step[3])
    elif kind == "trade":
        witness.trade(kit, step[1], step[2], step[3])
        kit.ex.on_trade(TICKER, step[1], step[2], step[3])
    elif kind == "later":
        kit.clock.advance(int(step[1]))
        kit.ex.tick()
    kit.collect()
