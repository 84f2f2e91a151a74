"""The bracket policy (execution/brackets.py), pure: when a stop is hit, what the aggressive exit
is priced at, and which actions ``plan`` asks for at each step of a bracket's life."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from kalshi_trader.domain import BookSide, Price, Qty, TickGrid, TopOfBook
from kalshi_trader.execution import brackets as br

CENT = TickGrid.named("linear_cent")
TAPERED = TickGrid.named("tapered_deci_cent")


def top(bid: int | None, ask: int | None, *, stale: bool = False) -> TopOfBook:
    return TopOfBook("T", Price(bid) if bid is not None else None, Price(ask) if ask is not None else None, 0, stale)


def bracket(exit_side: BookSide = BookSide.ASK, **kw: object) -> br.Bracket:
    defaults: dict[str, object] = {
        "bracket_id": "e1",
        "ticker": "T",
        "strategy": "s",
        "exit_side": exit_side,
        "take_profit": Price(6000 if exit_side is BookSide.ASK else 4000),
        "stop_loss": Price(3500 if exit_side is BookSide.ASK else 6500),
        "slippage": Price(300),
        "entry_coid": "e1",
    }
    defaults.update(kw)
    return br.Bracket(**defaults)  # type: ignore[arg-type]


def facts(
    open_qty: int,
    *,
    unexited: int | None = None,
    settled: bool = True,
    entry: br.LiveOrder | None = None,
    tp: br.LiveOrder | None = None,
    exit_in_flight: bool = False,
    book: TopOfBook | None = None,
    resting_allowed: bool = True,
) -> br.Facts:
    return br.Facts(
        open_qty=Qty(open_qty),
        unexited=Qty(open_qty if unexited is None else unexited),
        settled=settled,
        entry_open=entry,
        take_profit=tp,
        exit_in_flight=exit_in_flight,
        top=book if book is not None else top(4000, 5000),
        grid=CENT,
        resting_allowed=resting_allowed,
    )


def test_stop_hit_uses_the_price_an_exit_would_trade_at() -> None:
    # Holding YES: sells into the best bid.
    assert br.stop_hit(BookSide.ASK, 3500, top(3500, 9000))
    assert br.stop_hit(BookSide.ASK, 3500, top(3400, 3500))
    assert not br.stop_hit(BookSide.ASK, 3500, top(3600, 3400))  # a low ask is no exit price
    # Holding NO: buys YES back at the best ask.
    assert br.stop_hit(BookSide.BID, 6500, top(100, 6500))
    assert not br.stop_hit(BookSide.BID, 6500, top(7000, 6400))
    # Nothing to hit, or a book that cannot be trusted: no trigger.
    assert not br.stop_hit(BookSide.ASK, 3500, top(None, 3000))
    assert not br.stop_hit(BookSide.ASK, 3500, top(3000, 3100, stale=True))


def test_exit_price_is_the_touch_moved_by_the_slippage_never_past_the_limit() -> None:
    assert br.exit_price(BookSide.ASK, top(3400, 3600), 300, CENT) == 3100
    assert br.exit_price(BookSide.BID, top(6000, 6600), 300, CENT) == 6900
    assert br.exit_price(BookSide.ASK, top(3400, 3600), 300, CENT, limit=3300) == 3300
    assert br.exit_price(BookSide.BID, top(6000, 6600), 300, CENT, limit=6700) == 6700
    assert br.exit_price(BookSide.ASK, top(200, 600), 300, CENT) == 100  # kept inside ($0, $1)
    assert br.exit_price(BookSide.BID, top(9800, 9900), 300, CENT) == 9900
    assert br.exit_price(BookSide.ASK, top(None, 600), 300, CENT) is None
    assert br.exit_price(BookSide.ASK, top(3400, 3600, stale=True), 300, CENT) is None


@given(
    exit_side=st.sampled_from(list(BookSide)),
    touch=st.integers(1, 9_999),
    slippage=st.integers(0, 500),
    limit=st.one_of(st.none(), st.integers(1, 9_999)),
)
def test_exit_price_is_on_the_grid_marketable_and_within_bounds(
    exit_side: BookSide, touch: int, slippage: int, limit: int | None
) -> None:
    touch_price = TAPERED.round_down(touch) if exit_side is BookSide.ASK else TAPERED.round_up(touch)
    if not TAPERED.is_valid_order_price(touch_price):
        return
    book = top(touch_price, None) if exit_side is BookSide.ASK else top(None, touch_price)
    if limit is not None:
        limit = TAPERED.round_up(limit) if exit_side is BookSide.ASK else TAPERED.round_down(limit)
        if not TAPERED.is_valid_order_price(limit):
            return
    price = br.exit_price(exit_side, book, slippage, TAPERED, limit)
    assert price is not None
    assert TAPERED.is_valid_order_price(price)
    if exit_side is BookSide.ASK:  # selling: at or below the touch unless the limit says otherwise
        assert price >= touch_price - slippage or price == TAPERED.round_up(1)
        assert limit is None or price >= limit
        assert price <= max(touch_price, limit or 0)
    else:
        assert price <= touch_price + slippage or price == TAPERED.round_down(9_999)
        assert limit is None or price <= limit
        assert price >= min(touch_price, limit or 10_000)


def test_validate_rejects_terms_that_cannot_protect() -> None:
    assert br.validate("T", BookSide.BID, CENT, 6000, 3500) is None
    assert br.validate("T", BookSide.ASK, CENT, 4000, 6500, 6800) is None
    assert "stop-loss < take-profit" in (br.validate("T", BookSide.BID, CENT, 3000, 3500) or "")
    assert "stop limit >= stop-loss" in (br.validate("T", BookSide.ASK, CENT, 4000, 6500, 6000) or "")
    assert "grid" in (br.validate("T", BookSide.BID, CENT, 6050, 3500) or "")
    assert "not registered" in (br.validate("T", BookSide.BID, None, 6000, 3500) or "")


def test_plan_places_then_resizes_the_take_profit_as_the_entry_fills() -> None:
    b = bracket()
    entry = br.LiveOrder("e1", Qty(600), Price(5000))
    assert br.plan(b, facts(0, entry=entry)) == []  # nothing held yet
    assert br.plan(b, facts(400, entry=entry)) == [br.PlaceTakeProfit(Qty(400))]
    tp = br.LiveOrder("e1-tp1", Qty(400), Price(6000))
    assert br.plan(b, facts(400, entry=entry, tp=tp)) == []
    assert br.plan(b, facts(700, entry=entry, tp=tp)) == [br.ResizeTakeProfit("e1-tp1", Qty(700))]
    b.take_profit = Price(6100)  # a new take-profit price moves it too
    assert br.plan(b, facts(400, entry=entry, tp=tp)) == [br.ResizeTakeProfit("e1-tp1", Qty(400))]


def test_plan_waits_while_actions_are_in_flight_except_for_the_stop() -> None:
    b = bracket(busy=1)
    assert br.plan(b, facts(400)) == []
    hit = br.plan(b, facts(400, tp=br.LiveOrder("e1-tp1", Qty(400), Price(6000)), book=top(3400, 3600)))
    assert hit == [br.StopHit(Price(3400)), br.Cancel("e1-tp1", "stop-loss hit (one-cancels-other)")]
    assert br.plan(bracket(busy=1), facts(400, book=top(3400, 3600))) == [
        br.StopHit(Price(3400)),
        br.Exit(Qty(400), Price(3100)),
    ]


def test_a_filled_take_profit_finishes_the_bracket_and_disarms_the_stop() -> None:
    b = bracket(tp_coids=["e1-tp1"])
    assert br.plan(b, replace(facts(0, book=top(3000, 3100)), take_profit_filled=Qty(400))) == [
        br.Finish("take-profit filled")
    ]
    assert br.plan(b, facts(0, book=top(3000, 3100))) == [  # sold by something else (an exit)
        br.Finish("nothing held any more: another order closed the position")
    ]
    # With the entry still working the bracket stays, holding nothing, and the stop has nothing to sell.
    entry = br.LiveOrder("e1", Qty(300), Price(5000))
    assert br.plan(b, facts(0, entry=entry, book=top(3000, 3100))) == []


def test_a_position_lagging_its_fills_does_not_finish_the_bracket() -> None:
    b = bracket()
    assert br.plan(b, facts(0, unexited=500, settled=False)) == []
    assert br.plan(b, facts(0, unexited=500, settled=True)) == [br.Finish("the entry finished without a fill")]


def test_stopping_cancels_everything_then_exits_until_flat() -> None:
    b = bracket(state=br.BracketState.STOPPING)
    entry = br.LiveOrder("e1", Qty(300), Price(5000))
    tp = br.LiveOrder("e1-tp1", Qty(700), Price(6000))
    # No exit while the take-profit can still trade: both filling would sell 1,400 of the 700 held.
    assert br.plan(b, facts(700, entry=entry, tp=tp, book=top(3000, 3200))) == [
        br.Cancel("e1", "stop-loss hit"),
        br.Cancel("e1-tp1", "stop-loss hit (one-cancels-other)"),
    ]
    assert br.plan(b, facts(700, entry=entry, book=top(3000, 3200))) == [  # its cancel is confirmed
        br.Cancel("e1", "stop-loss hit"),
        br.Exit(Qty(700), Price(2700)),
    ]
    assert br.plan(b, facts(300, exit_in_flight=True)) == []  # one exit at a time
    assert br.plan(b, facts(300, book=top(None, 3200))) == []  # no bid: wait for one
    assert br.plan(b, facts(300, book=top(2900, 3200))) == [br.Exit(Qty(300), Price(2600))]  # even off the stop
    assert br.plan(b, facts(0)) == [br.Finish("stopped out")]


def test_another_strategys_quote_leaves_the_take_profit_no_room_but_never_disarms_the_stop() -> None:
    # 700 held; a quote of ours on the exit side could sell all of it: no room for a take-profit.
    covered = replace(facts(0), held=Qty(700), unexited=Qty(700))
    b = bracket()
    tp = br.LiveOrder("e1-tp1", Qty(700), Price(6000))
    b.tp_coids.append("e1-tp1")
    assert br.plan(b, replace(covered, take_profit=tp)) == [
        br.Cancel("e1-tp1", "other orders of ours could sell all it holds")
    ]
    assert br.plan(b, covered) == []  # still active: not taken for flat
    # Through the stop, it exits with everything held (the engine takes the quote away first).
    through = replace(covered, top=top(3000, 3200))
    assert br.plan(b, through) == [br.StopHit(Price(3000)), br.Exit(Qty(700), Price(2700))]
    b.state = br.BracketState.STOPPING
    assert br.plan(b, through) == [br.Exit(Qty(700), Price(2700))]
    assert br.plan(b, replace(through, held=Qty(0))) == [br.Finish("stopped out")]


def test_halted_trading_keeps_stops_armed_but_places_no_take_profit() -> None:
    b = bracket()
    assert br.plan(b, facts(400, resting_allowed=False)) == []
    assert br.plan(b, facts(400, resting_allowed=False, book=top(3500, 3600)))[0] == br.StopHit(Price(3500))
    # A take-profit is neither grown nor moved while halted, but it still shrinks with the position.
    tp = br.LiveOrder("e1-tp1", Qty(400), Price(6000))
    assert br.plan(b, facts(700, tp=tp, resting_allowed=False)) == []
    b.take_profit = Price(6100)
    assert br.plan(b, facts(400, tp=tp, resting_allowed=False)) == []
    assert br.plan(b, facts(300, tp=tp, resting_allowed=False)) == [br.ResizeTakeProfit("e1-tp1", Qty(300))]
    entry = br.LiveOrder("e1", Qty(600), Price(5000))
    assert br.plan(b, facts(0, entry=entry, tp=tp, resting_allowed=False)) == [
        br.Cancel("e1-tp1", "the bracket holds nothing")
    ]


def test_the_take_profit_shrinks_before_anything_else() -> None:
    """It may never be larger than what is held: a shrink comes before a price move."""
    b = bracket(take_profit=Price(6100))
    tp = br.LiveOrder("e1-tp1", Qty(700), Price(6000))
    assert br.plan(b, facts(500, tp=tp)) == [br.ResizeTakeProfit("e1-tp1", Qty(500))]


def test_a_no_holding_bracket_mirrors_everything() -> None:
    b = bracket(BookSide.BID)
    assert br.plan(b, facts(500, book=top(4500, 5500))) == [br.PlaceTakeProfit(Qty(500))]
    assert br.plan(b, facts(500, book=top(6000, 6600))) == [br.StopHit(Price(6600)), br.Exit(Qty(500), Price(6900))]


def test_child_ids_are_recognised_after_a_restart() -> None:
    b = bracket()
    assert (b.child_id("tp"), b.child_id("sl")) == ("e1-tp1", "e1-sl2")
    restored = bracket()
    for coid in ("e1-tp1", "e1-sl2", "e1-tp7", "other"):
        if restored.owns(coid):
            restored.adopt_child(coid)
    assert (restored.tp_coids, restored.exit_coids) == (["e1-tp1", "e1-tp7"], ["e1-sl2"])
    assert restored.child_id("tp") == "e1-tp8"  # never reuses an id the exchange has seen
