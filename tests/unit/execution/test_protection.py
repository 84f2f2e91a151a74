"""The engine's emulated stop is confirmed before it fires (execution/protection.py): the pure
debounce ``stop_confirmation``, and ``Protection`` driven by book updates and ticks on a stand-in
engine (market time set by hand, orders recorded instead of sent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from kalshi_trader.domain import (
    BookSide,
    BracketRequest,
    IntentAction,
    OrderIntent,
    Price,
    Qty,
    TickGrid,
    TimeInForce,
    TopOfBook,
)
from kalshi_trader.execution.protection import STOP_CONFIRM_MS, Protection, stop_confirmation

SELL = BookSide.ASK  # the exit side of a YES holding
BUY = BookSide.BID  # the exit side of a NO holding


def top(bid: int | None, ask: int | None = None, *, stale: bool = False) -> TopOfBook:
    return TopOfBook("T", Price(bid) if bid is not None else None, Price(ask) if ask is not None else None, 0, stale)


# ---------------------------------------------------------------------------------------------
# The debounce, pure


def test_a_touch_through_the_stop_starts_a_breach_that_fires_once_it_is_old_enough() -> None:
    since, fire = stop_confirmation(None, SELL, 8100, top(8000, 8300), now_ms=1_000, confirm_ms=2_000)
    assert (since, fire) == (1_000, False)
    assert stop_confirmation(since, SELL, 8100, top(7900, 8300), now_ms=2_999, confirm_ms=2_000) == (1_000, False)
    assert stop_confirmation(since, SELL, 8100, top(8100, 8300), now_ms=3_000, confirm_ms=2_000) == (1_000, True)


def test_a_touch_back_on_the_safe_side_ends_the_breach() -> None:
    since, _ = stop_confirmation(None, SELL, 8100, top(7000, 8300), now_ms=0, confirm_ms=2_000)
    assert stop_confirmation(since, SELL, 8100, top(8200, 8300), now_ms=100, confirm_ms=2_000) == (None, False)
    # A new breach later starts its own clock.
    assert stop_confirmation(None, SELL, 8100, top(7000, 8300), now_ms=5_000, confirm_ms=2_000) == (5_000, False)


def test_a_stale_book_or_an_empty_touch_neither_ends_nor_fires_a_breach() -> None:
    for book in (top(7000, 8300, stale=True), top(None, 8300), None):
        assert stop_confirmation(500, SELL, 8100, book, now_ms=9_000, confirm_ms=2_000) == (500, False)
        assert stop_confirmation(None, SELL, 8100, book, now_ms=9_000, confirm_ms=2_000) == (None, False)


def test_a_no_holding_watches_the_yes_ask() -> None:
    # Holding NO, the stop buys YES back: it is through when the YES ask is at or above the stop.
    assert stop_confirmation(None, BUY, 1900, top(1500, 1900), now_ms=0, confirm_ms=0) == (0, True)
    assert stop_confirmation(None, BUY, 1900, top(1850, 1800), now_ms=0, confirm_ms=0) == (None, False)
    assert stop_confirmation(None, BUY, 1900, top(1000, None), now_ms=0, confirm_ms=0) == (None, False)


# ---------------------------------------------------------------------------------------------
# Protection on a stand-in engine


@dataclass
class FakeEngine:
    """What ``Protection`` reads from the engine; ``submit`` records and approves."""

    now_ms: int = 0
    books: dict[str, TopOfBook] = field(default_factory=dict)
    sent: list[OrderIntent] = field(default_factory=list)
    audits: list[str] = field(default_factory=list)
    position: int = 1_000
    running: bool = True

    def __post_init__(self) -> None:
        self.config = SimpleNamespace(stop_slippage=Price(300), retry_ms=250)
        self.risk = SimpleNamespace(halted=False)
        self.recorder = SimpleNamespace(audit=lambda kind, subject, payload, why: self.audits.append(why))
        self.tracker = SimpleNamespace(
            order=lambda coid: None,
            orders=lambda: [],
            position=lambda ticker: SimpleNamespace(qty=self.position),
            market_revision=lambda ticker: 0,  # no orders are tracked: they never change
            positions_revision=0,  # nor does the position
        )

    def working_orders(self, ticker: str) -> list[Any]:
        return []

    def sellable(self, ticker: str, side: BookSide, working: Any = None) -> int:
        return self.position if side is BookSide.ASK else -self.position

    def market_ms(self) -> int:
        return self.now_ms

    def clock_ms(self) -> int:
        return self.now_ms

    def grid(self, ticker: str) -> TickGrid:
        return TickGrid.named("linear_cent")

    def book(self, ticker: str) -> TopOfBook | None:
        return self.books.get(ticker)

    def submit(self, intent: OrderIntent, **_: Any) -> Any:
        self.sent.append(intent)
        return SimpleNamespace(approved=True, result=SimpleNamespace(add_done_callback=lambda _cb: None))


def protected(confirm_ms: int = STOP_CONFIRM_MS) -> tuple[FakeEngine, Protection]:
    """10 YES held at 0.89 behind a bracket: take-profit 0.93, stop 0.81, stop limit 0.78."""
    engine = FakeEngine()
    engine.books["T"] = top(8800, 9000)
    protection = Protection(engine, stop_confirm_ms=confirm_ms)  # type: ignore[arg-type]
    request = BracketRequest("T", "e1", BookSide.BID, Qty(1_000), Price(9300), Price(8100), Price(7800))
    assert protection.request(request) == "e1"
    assert [i.action for i in engine.sent] == [IntentAction.PLACE]  # the take-profit
    return engine, protection


def book(engine: FakeEngine, protection: Protection, at_ms: int, bid: int | None, ask: int = 9000) -> None:
    """The engine's ``on_book``: store the top, then let protection look."""
    engine.now_ms = at_ms
    engine.books["T"] = top(bid, ask)
    protection.on_book(engine.books["T"])


def tick(engine: FakeEngine, protection: Protection, at_ms: int) -> None:
    engine.now_ms = at_ms
    protection.maintain_all()


def state(protection: Protection) -> str:
    view = protection.view("e1")
    assert view is not None
    return view.state


def exits(engine: FakeEngine) -> list[OrderIntent]:
    return [i for i in engine.sent if i.tif is TimeInForce.IMMEDIATE_OR_CANCEL]


def test_a_quote_repriced_through_the_stop_for_an_instant_does_not_fire_it() -> None:
    engine, protection = protected()
    # The 0.88 bid is moved to 0.89: a delete then an add; in between the best bid is 0.70.
    book(engine, protection, 1_000, 7000)
    book(engine, protection, 1_100, 8900)
    tick(engine, protection, 5_000)
    assert state(protection) == "active"
    assert exits(engine) == []
    # A thin top level lifted and refilled a second later: the same.
    book(engine, protection, 6_000, 7500)
    tick(engine, protection, 6_500)
    book(engine, protection, 7_000, 8800)
    tick(engine, protection, 20_000)
    assert state(protection) == "active"
    assert exits(engine) == []


def test_a_fall_that_stays_through_the_stop_fires_it_on_a_book_update_or_a_tick() -> None:
    engine, protection = protected()
    book(engine, protection, 1_000, 8000)
    tick(engine, protection, 2_000)
    book(engine, protection, 2_500, 7900)  # still through: the breach goes on from 1.0 s
    assert state(protection) == "active"
    tick(engine, protection, 3_000)  # 2 s through: confirmed
    assert state(protection) == "stopping"
    (exit_,) = exits(engine)
    assert (exit_.side, exit_.qty, exit_.reduce_only) == (BookSide.ASK, Qty(1_000), True)
    assert exit_.price == Price(7800)  # the touch (0.79) less the slippage, never below the stop limit
    assert any("stop-loss 0.8100 hit at 0.7900 (at or through it for 2.0 s)" in why for why in engine.audits)

    # The same fall on a book that keeps updating fires on the update.
    engine, protection = protected()
    book(engine, protection, 1_000, 8000)
    book(engine, protection, 2_000, 7900)
    assert state(protection) == "active"
    book(engine, protection, 3_000, 7900)
    assert state(protection) == "stopping"


def test_new_stop_prices_restart_the_confirmation() -> None:
    engine, protection = protected()
    book(engine, protection, 1_000, 8000)
    # A second later the strategy moves its stop to 0.80 (a bigger fill at a better average): the
    # 0.80 bid is at it too, but the breach of the new stop starts now, not at 1.0 s.
    engine.now_ms = 2_000
    request = BracketRequest("T", "e1", BookSide.BID, Qty(1_000), Price(9300), Price(8000), Price(7700))
    protection.request(request)
    tick(engine, protection, 3_000)
    assert state(protection) == "active"
    tick(engine, protection, 2_000 + STOP_CONFIRM_MS)
    assert state(protection) == "stopping"


def test_without_confirmation_the_first_touch_fires() -> None:
    engine, protection = protected(confirm_ms=0)
    book(engine, protection, 1_000, 8100)
    assert state(protection) == "stopping"
    assert len(exits(engine)) == 1


def test_a_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match="stop_confirm_ms"):
        Protection(FakeEngine(), stop_confirm_ms=-1)  # type: ignore[arg-type]
