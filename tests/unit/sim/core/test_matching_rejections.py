"""sim/core/matching.py: every rejected request raises the documented error and changes nothing —
not a cent, not an order, not a queue position, not an event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.unit.sim.core.engine_kit import ASK, BID, FOK, IOC, Harness, order, px, qty, snapshot

from kalshi_trader.domain import BookSide, MarketStatus, Qty, SelfTradePrevention
from kalshi_trader.sim.core.matching import MatchingEngine
from kalshi_trader.sim.core.state import ExchangeError


class World:
    """A busy engine: resting orders both sides, a position, a triggered group, paused and
    closed markets."""

    def __init__(self) -> None:
        self.h = Harness(users=("alice", "bob", "carol"), cash="100.00")
        h, e = self.h, self.h.engine
        for ticker in ("MKT", "PAUSE", "CLS"):
            h.add_market(ticker)
        h.add_market("SUB", structure="tapered_deci_cent")
        e.place("carol", order(ASK, "0.40", "10"))
        e.place("alice", order(BID, "0.40", "10"))  # alice long 10 YES
        self.resting = e.place("alice", order(BID, "0.30", "5", client_order_id="a-rest")).order
        self.post_only = e.place("alice", order(BID, "0.20", "5", post_only=True)).order
        self.ask = e.place("bob", order(ASK, "0.50", "5", client_order_id="b-ask")).order
        self.done = e.place("bob", order(ASK, "0.30", "1", tif=IOC)).order  # fills alice's 0.30 bid
        self.canceled = e.place("bob", order(ASK, "0.90", "1")).order
        e.cancel("bob", self.canceled.order_id)
        self.other = e.place("alice", order(BID, "0.10", "1", client_order_id="a-other")).order
        self.paused = e.place("carol", order(BID, "0.10", "1", ticker="PAUSE")).order
        self.closed = e.place("carol", order(BID, "0.10", "1", ticker="CLS")).order
        e.set_market_status("PAUSE", MarketStatus.INACTIVE)
        e.set_market_status("CLS", MarketStatus.CLOSED)
        self.group = e.create_group("alice", qty("1"))
        e.trigger_group("alice", self.group.group_id)
        self.open_group = e.create_group("alice", qty("100"))


def place(w: World, user: str, side: BookSide, price: str, count: str, **kw: Any) -> Callable[[], Any]:
    return lambda: w.h.engine.place(user, order(side, price, count, **kw))


def amend(w: World, user: str = "alice", order_id: str | None = None, **overrides: Any) -> Callable[[], Any]:
    fields: dict[str, Any] = {"ticker": "MKT", "side": BID, "price": px("0.30"), "count": qty("5")}
    fields.update(overrides)
    return lambda: w.h.engine.amend(user, order_id or w.resting.order_id, **fields)


def decrease(w: World, user: str = "alice", order_id: str | None = None, **kw: Any) -> Callable[[], Any]:
    return lambda: w.h.engine.decrease(user, order_id or w.resting.order_id, **kw)


_Case = tuple[Callable[[World], Callable[[], Any]], int, str, str]
IOC_EXPIRY = "Cannot specify both immediate_or_cancel and expiration_ts"
PAST_EXPIRY = "Expiration timestamp must be in the future"
INCREASE = "reduce only order would increase position"

CASES: dict[str, _Case] = {
    # name: (call, status, code, text in the message or details)
    "unknown market": (lambda w: place(w, "alice", BID, "0.5", "1", ticker="X"), 404, "not_found", "X"),
    "unknown user": (lambda w: place(w, "zed", BID, "0.5", "1"), 404, "not_found", "zed"),
    "closed market": (lambda w: place(w, "alice", BID, "0.5", "1", ticker="CLS"), 400, "MARKET_INACTIVE", "closed"),
    "paused market": (lambda w: place(w, "alice", BID, "0.5", "1", ticker="PAUSE"), 400, "MARKET_INACTIVE", "inactive"),
    "off grid": (lambda w: place(w, "alice", BID, "0.405", "1"), 400, "invalid_order", "step 0.0100"),
    "off tapered grid": (
        lambda w: place(w, "alice", BID, "0.505", "1", ticker="SUB"),
        400,
        "invalid_order",
        "0.1000-0.9000 step 0.0100",
    ),
    "price zero": (lambda w: place(w, "alice", BID, "0", "1"), 400, "invalid_order", "strictly"),
    "price one": (lambda w: place(w, "alice", ASK, "1", "1"), 400, "invalid_order", "strictly"),
    "count zero": (lambda w: place(w, "alice", BID, "0.5", "0"), 400, "invalid_order_size", "count"),
    "count negative": (lambda w: place(w, "alice", BID, "0.5", "-1"), 400, "invalid_order_size", "count"),
    "count too big": (lambda w: place(w, "alice", BID, "0.01", "1000000.01"), 400, "invalid_order_size", "1000000"),
    "ioc with expiry": (
        lambda w: place(w, "alice", BID, "0.5", "1", tif=IOC, expiration_ms=w.h.clock.now + 9),
        400,
        "invalid_order",
        IOC_EXPIRY,
    ),
    "fok with expiry": (
        lambda w: place(w, "alice", BID, "0.5", "1", tif=FOK, expiration_ms=w.h.clock.now + 9),
        400,
        "invalid_order",
        "expiration",
    ),
    "past expiry": (
        lambda w: place(w, "alice", BID, "0.5", "1", expiration_ms=w.h.clock.now),
        400,
        "invalid_order",
        PAST_EXPIRY,
    ),
    "duplicate client id": (
        lambda w: place(w, "alice", BID, "0.1", "1", client_order_id="a-rest"),
        409,
        "order_already_exists",
        "a-rest",
    ),
    "insufficient balance": (lambda w: place(w, "bob", BID, "0.45", "300"), 400, "insufficient_balance", "available"),
    "post only cross": (
        lambda w: place(w, "carol", BID, "0.50", "1", post_only=True),
        400,
        "invalid_order",
        "post only cross",
    ),
    "triggered group": (
        lambda w: place(w, "alice", BID, "0.1", "1", order_group_id=w.group.group_id),
        400,
        "invalid_order",
        "triggered",
    ),
    "unknown group": (lambda w: place(w, "alice", BID, "0.1", "1", order_group_id="nope"), 404, "not_found", "nope"),
    "someone else's group": (
        lambda w: place(w, "bob", BID, "0.1", "1", order_group_id=w.open_group.group_id),
        404,
        "not_found",
        "group",
    ),
    "reduce only resting": (
        lambda w: place(w, "alice", ASK, "0.9", "1", reduce_only=True),
        400,
        "invalid_order",
        "immediate_or_cancel",
    ),
    "reduce only fill-or-kill": (
        lambda w: place(w, "alice", ASK, "0.9", "1", tif=FOK, reduce_only=True),
        400,
        "invalid_order",
        "immediate_or_cancel",
    ),
    "reduce only increase": (
        lambda w: place(w, "alice", BID, "0.1", "1", tif=IOC, reduce_only=True),
        400,
        "invalid_order",
        INCREASE,
    ),
    "reduce only that would grow a NO position": (
        lambda w: place(w, "bob", ASK, "0.9", "1", tif=IOC, reduce_only=True, stp=SelfTradePrevention.MAKER),
        400,
        "invalid_order",
        INCREASE,
    ),
    "reduce only without a position": (
        lambda w: place(w, "alice", BID, "0.5", "1", ticker="SUB", tif=IOC, reduce_only=True),
        400,
        "invalid_order",
        INCREASE,
    ),
    "amend ticker mismatch": (lambda w: amend(w, ticker="SUB"), 400, "order_ticker_mismatch", "MKT"),
    "amend side mismatch": (lambda w: amend(w, side=ASK), 400, "order_side_mismatch", "bid"),
    "amend client id mismatch": (
        lambda w: amend(w, client_order_id="other"),
        400,
        "order_id_and_client_order_id_mismatch",
        "client_order_id",
    ),
    "amend duplicate new client id": (
        lambda w: amend(w, updated_client_order_id="a-other"),
        409,
        "order_already_exists",
        "a-other",
    ),
    "amend finished order": (
        lambda w: amend(w, user="bob", order_id=w.done.order_id, side=ASK),
        400,
        "invalid_order",
        "not resting",
    ),
    "amend off grid": (lambda w: amend(w, price=px("0.305")), 400, "invalid_order", "grid"),
    "amend count not above filled": (lambda w: amend(w, count=qty("1")), 400, "invalid_order_size", "filled"),
    "amend insufficient balance": (lambda w: amend(w, count=qty("500")), 400, "insufficient_balance", "collateral"),
    "amend post only cross": (
        lambda w: amend(w, order_id=w.post_only.order_id, price=px("0.50")),
        400,
        "invalid_order",
        "post only cross",
    ),
    "amend unknown order": (lambda w: amend(w, order_id="nope"), 404, "not_found", "nope"),
    "amend on paused market": (
        lambda w: amend(w, user="carol", order_id=w.paused.order_id, ticker="PAUSE", price=px("0.2"), count=qty("1")),
        400,
        "MARKET_INACTIVE",
        "inactive",
    ),
    "decrease both": (
        lambda w: decrease(w, reduce_by=qty("1"), reduce_to=qty("1")),
        400,
        "invalid_parameters",
        "exactly one",
    ),
    "decrease neither": (lambda w: decrease(w), 400, "invalid_parameters", "exactly one"),
    "decrease by zero": (lambda w: decrease(w, reduce_by=Qty(0)), 400, "invalid_order_size", "reduce_by"),
    "decrease to negative": (lambda w: decrease(w, reduce_to=Qty(-1)), 400, "invalid_order_size", "reduce_to"),
    "decrease finished": (
        lambda w: decrease(w, "bob", w.canceled.order_id, reduce_by=qty("1")),
        400,
        "invalid_order",
        "canceled",
    ),
    "decrease on closed market": (
        lambda w: decrease(w, "carol", w.closed.order_id, reduce_by=qty("1")),
        400,
        "MARKET_INACTIVE",
        "closed",
    ),
    "cancel finished": (lambda w: lambda: w.h.engine.cancel("bob", w.done.order_id), 404, "not_found", "order"),
    "cancel canceled": (lambda w: lambda: w.h.engine.cancel("bob", w.canceled.order_id), 404, "not_found", "order"),
    "cancel someone else's": (
        lambda w: lambda: w.h.engine.cancel("bob", w.resting.order_id),
        404,
        "not_found",
        "order",
    ),
    "group limit zero": (
        lambda w: lambda: w.h.engine.create_group("alice", Qty(0)),
        400,
        "invalid_parameters",
        "contracts_limit",
    ),
    "group limit too big": (
        lambda w: lambda: w.h.engine.set_group_limit("alice", w.open_group.group_id, qty("1000001")),
        400,
        "invalid_parameters",
        "contracts_limit",
    ),
    "trigger unknown group": (lambda w: lambda: w.h.engine.trigger_group("alice", "nope"), 404, "not_found", "nope"),
    "delete someone else's group": (
        lambda w: lambda: w.h.engine.delete_group("bob", w.open_group.group_id),
        404,
        "not_found",
        "group",
    ),
    "illegal transition": (
        lambda w: lambda: w.h.engine.set_market_status("CLS", MarketStatus.INACTIVE),
        400,
        "invalid_parameters",
        "cannot go",
    ),
    "finalize by status": (
        lambda w: lambda: w.h.engine.set_market_status("MKT", MarketStatus.FINALIZED),
        400,
        "invalid_parameters",
        "settle",
    ),
    "bad result": (
        lambda w: lambda: w.h.engine.determine("MKT", "maybe"),  # type: ignore[arg-type]
        400,
        "invalid_parameters",
        "result",
    ),
    "settle undetermined": (
        lambda w: lambda: w.h.engine.settle("MKT"),
        400,
        "invalid_parameters",
        "not determined",
    ),
    "duplicate market": (lambda w: lambda: w.h.add_market("MKT"), 409, "market_already_exists", "MKT"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_rejection_changes_nothing(name: str) -> None:
    world = World()
    make_call, status, code, text = CASES[name]
    call = make_call(world)
    before = snapshot(world.h.engine, world.h.users)
    events_before = len(world.h.events)
    with pytest.raises(ExchangeError) as err:
        call()
    assert (err.value.status, err.value.code) == (status, code)
    assert text in err.value.message + " " + err.value.details
    assert snapshot(world.h.engine, world.h.users) == before
    assert len(world.h.events) == events_before


def test_world_is_what_the_cases_assume() -> None:
    world = World()
    assert world.done.status == "executed"
    assert world.canceled.status == "canceled"
    assert world.resting.status == "resting"
    assert world.resting.filled == qty("1")
    assert world.group.triggered
    assert world.h.engine.account("alice").positions["MKT"].position == qty("11")


def test_a_fresh_engine_rejects_reads_of_unknown_things() -> None:
    engine = MatchingEngine(clock_ms=lambda: 0)
    engine.open_account("u", 0)  # type: ignore[arg-type]
    for call in (
        lambda: engine.order("u", "x"),
        lambda: engine.book("X"),
        lambda: engine.top("X"),
        lambda: engine.trades("X"),
        lambda: engine.group("u", "g"),
        lambda: engine.group_orders("u", "g"),
        lambda: engine.orders("nobody"),
        lambda: engine.fills("nobody"),
        lambda: engine.settlements("nobody"),
    ):
        with pytest.raises(ExchangeError) as err:
            call()
        assert err.value.status == 404
