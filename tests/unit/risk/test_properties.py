"""Property: under any interleaving of intents, fills, cancels, rejects, amends, errors, P&L moves,
feed outages, kill switches and settlements, position + reserved exposure never exceed any limit.

The state machine drives a real ``RiskManager`` and a real ``OrderTracker`` the way the execution
engine will (approved places are submitted; fills go to the tracker first and, when new, to risk
with the tracker's position). After every step an independent oracle recomputes each market's worst
case from the tracker and the model's open orders — the worst-case loss by *simulating* every
adverse order filling at its limit on a copy of the tracker and settling the copy both ways — and
checks it against every limit and against risk's own figures."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from tests.unit.risk.kit import MARKET_START_MS, ROOMY, Clock, market, px, qty, usd
from tests.unit.risk.reference import ReferenceRisk

from kalshi_trader.domain import (
    PRICE_SCALE,
    BookSide,
    Fill,
    MarketStatus,
    Money,
    OrderIntent,
    Position,
    Price,
    Qty,
    Side,
    TimeInForce,
    TopOfBook,
)
from kalshi_trader.execution.orders import OrderTracker
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager

MARKETS = {"A1": "EV-1", "A2": "EV-1", "B1": "EV-2"}
LIMITS = replace(
    ROOMY,
    max_order_size=qty(5),
    max_position_per_market=qty(6),
    max_event_exposure=usd(3),
    max_total_exposure=usd("4.5"),
    max_open_orders=6,
    max_writes_per_second=1_000,
    max_through_book=Price(PRICE_SCALE),
    max_consecutive_errors=2,
    daily_loss_limit=usd(4),
    loss_velocity_limit=usd(3),
    feed_stale_ms=5_000,
    max_book_age_ms=3_600_000,
)
MICROS = 100
SLACK = 2 * MICROS


@dataclass
class Open:
    """The model's view of one open order: remaining size on its terms and, during an amend, the
    other terms too (both shrink with every fill)."""

    ticker: str
    side: BookSide
    price: int
    remaining: int
    new_price: int | None = None
    new_remaining: int = 0

    def worst_terms(self) -> tuple[int, int]:
        """(contracts, worst YES price) that may still fill."""
        if self.new_price is None:
            return self.remaining, self.price
        worse = max if self.side is BookSide.BID else min
        return max(self.remaining, self.new_remaining), worse(self.price, self.new_price)


prices = st.integers(1, 99).map(lambda c: Price(c * 100))
sizes = st.integers(1, 6).map(lambda n: Qty(n * 100))
tickers = st.sampled_from(sorted(MARKETS))
sides = st.sampled_from([BookSide.BID, BookSide.ASK])


class RiskInvariants(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.risk = RiskManager(LIMITS, clock=self.clock)
        for ticker, event_ticker in MARKETS.items():
            self.risk.register_market(market(ticker, event_ticker))
        self.tracker = OrderTracker()
        self.open: dict[str, Open] = {}
        self.settled: set[str] = set()
        self.fills: list[Fill] = []
        self.ids = itertools.count()

    def _book(self, ticker: str) -> TopOfBook:
        return TopOfBook(ticker, Price(100), Price(9_900), self.clock.now_ms)

    def _pick(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(sorted(self.open)))

    # -- intents ------------------------------------------------------------------------------

    @rule(ticker=tickers, side=sides, price=prices, size=sizes, reduce_only=st.booleans())
    def place(self, ticker: str, side: BookSide, price: Price, size: Qty, reduce_only: bool) -> None:
        tif = TimeInForce.IMMEDIATE_OR_CANCEL if reduce_only else TimeInForce.GOOD_TILL_CANCELED
        intent = OrderIntent.place(ticker, side, price, size, f"o{next(self.ids)}", tif=tif, reduce_only=reduce_only)
        decision = self.risk.check_and_reserve(intent, book=self._book(ticker))
        event(f"place: {decision.rule.value}")
        if decision.approved:
            assert ticker not in self.settled
            self.tracker.on_submitted(intent)
            self.open[intent.client_order_id] = Open(ticker, side, price, size)

    @precondition(lambda self: self.open)
    @rule(data=st.data(), price=prices, size=sizes)
    def amend(self, data: st.DataObject, price: Price, size: Qty) -> None:
        coid = self._pick(data)
        order = self.open[coid]
        intent = OrderIntent.amend(order.ticker, order.side, price, size, coid)
        decision = self.risk.check_and_reserve(intent, book=self._book(order.ticker))
        if order.new_price is not None:
            assert not decision.approved  # one amend in flight at a time
        if decision.approved:
            order.new_price, order.new_remaining = price, size

    @precondition(lambda self: any(o.new_price is not None for o in self.open.values()))
    @rule(data=st.data(), accepted=st.booleans())
    def amend_answered(self, data: st.DataObject, accepted: bool) -> None:
        coid = data.draw(st.sampled_from(sorted(c for c, o in self.open.items() if o.new_price is not None)))
        order = self.open[coid]
        self.risk.on_amend_result(coid, accepted)
        if accepted:
            assert order.new_price is not None
            order.price, order.remaining = order.new_price, order.new_remaining
            self.tracker.on_amended(coid, price=order.price, remaining=order.remaining)
        order.new_price, order.new_remaining = None, 0
        if order.remaining == 0:
            del self.open[coid]

    # -- what the exchange does ---------------------------------------------------------------

    @precondition(lambda self: self.open)
    @rule(data=st.data(), improve=st.integers(0, 3), on_new_terms=st.booleans())
    def fill(self, data: st.DataObject, improve: int, on_new_terms: bool) -> None:
        coid = self._pick(data)
        order = self.open[coid]
        fillable = order.remaining if order.new_price is None else min(order.remaining, order.new_remaining)
        if fillable == 0:
            return
        count = data.draw(st.integers(1, fillable // 100)) * 100
        limit = order.new_price if on_new_terms and order.new_price is not None else order.price
        step = improve * 100 if order.side is BookSide.BID else -improve * 100
        price = min(9_900, max(100, limit - step))  # at the limit or better for us
        fill = Fill(f"f{next(self.ids)}", f"x-{coid}", order.ticker, order.side, Price(price), Qty(count),
                    Money(count), False, self.clock.now_ms, coid)  # fmt: skip
        assert self.tracker.on_fill(fill)
        self.fills.append(fill)
        self.risk.on_fill(fill, self.tracker.position(order.ticker), client_order_id=coid)
        order.remaining -= count
        order.new_remaining = max(0, order.new_remaining - count)
        if order.remaining == 0:  # done; an amend still in flight fails ("order not found")
            if order.new_price is not None:
                self.risk.on_amend_result(coid, accepted=False)
            del self.open[coid]
            assert self.risk.reservation(coid) is None

    @precondition(lambda self: self.fills)
    @rule(data=st.data())
    def replayed_fill(self, data: st.DataObject) -> None:
        """A fill seen again (reconnect, REST reconciliation) is not new: nothing moves."""
        fill = data.draw(st.sampled_from(self.fills))
        assert not self.tracker.on_fill(fill)

    @precondition(lambda self: self.open)
    @rule(data=st.data(), rejected=st.booleans())
    def order_gone(self, data: st.DataObject, rejected: bool) -> None:
        """Canceled, expired, IOC remainder, or rejected at creation: the reservation is freed."""
        coid = self._pick(data)
        del self.open[coid]
        assert self.risk.release(coid, "rejected" if rejected else "canceled")
        if rejected and self.tracker.on_rejected(coid, "invalid_order"):
            return
        self.tracker.on_ack(coid, order_id=f"x-{coid}", filled=0, remaining=1)
        self.tracker.on_canceled(coid)

    @precondition(lambda self: not self.settled)  # one per run: keep markets to trade in
    @rule(data=st.data(), yes=st.booleans())
    def settle(self, data: st.DataObject, yes: bool) -> None:
        ticker = data.draw(st.sampled_from(sorted(set(MARKETS) - self.settled)))
        self.settled.add(ticker)
        self.risk.register_market(market(ticker, MARKETS[ticker], MarketStatus.FINALIZED))
        assert self.tracker.on_settlement(ticker, Side.YES if yes else Side.NO) is not None
        self.risk.on_settlement(ticker)
        for coid in [c for c, o in self.open.items() if o.ticker == ticker]:
            del self.open[coid]

    # -- the world around ---------------------------------------------------------------------

    @rule(ok=st.booleans())
    def request_outcome(self, ok: bool) -> None:
        if ok:
            self.risk.record_success()
        else:
            self.risk.record_error("HTTP 500")

    @rule(mark=prices, ms=st.integers(0, 120_000))
    def time_passes(self, mark: Price, ms: int) -> None:
        self.clock.advance(ms)
        marks = dict.fromkeys(MARKETS, mark)
        self.risk.update_pnl(self.tracker.net_pnl(marks))
        self.risk.tick()

    @rule(up=st.booleans())
    def feed(self, up: bool) -> None:
        if up:
            self.risk.feed_alive()
        else:
            self.risk.feed_lost()

    @rule(engage=st.booleans())
    def kill_switch(self, engage: bool) -> None:
        if engage:
            self.risk.kill(who="prop-test", why="drill", flatten=True)
        else:
            self.risk.reset_kill_switch(who="prop-test", why="drill over")

    @rule()
    def new_day(self) -> None:
        self.risk.start_new_day()

    # -- the oracle ---------------------------------------------------------------------------

    def _worst_loss(self, ticker: str) -> int:
        """Replay the market's fills on a fresh tracker, let every order that hurts in an outcome
        fill at its worst terms, settle that way: the loss is what the market's P&L then shows."""
        losses = [0]
        history = [f for f in self.fills if f.ticker == ticker]
        for outcome, hurting in ((Side.YES, BookSide.ASK), (Side.NO, BookSide.BID)):
            sim = OrderTracker()
            for past in history:
                sim.on_fill(past)
            for coid, order in self.open.items():
                if order.ticker == ticker and order.side is hurting:
                    count, price = order.worst_terms()
                    fill = Fill(f"sim-{coid}", "sim", ticker, hurting, Price(price), Qty(count), Money(0), False, 0)
                    sim.on_fill(fill)
            sim.on_settlement(ticker, outcome)
            losses.append(-sim.position(ticker).realized_pnl * MICROS)
        return max(losses)

    @invariant()
    def limits_hold(self) -> None:
        event_loss = dict.fromkeys(MARKETS.values(), 0)
        total = 0
        for ticker in MARKETS:
            if ticker in self.settled:
                assert self.risk.exposure(ticker).loss == 0
                continue
            held = self.tracker.position(ticker).qty
            bids = sum(o.worst_terms()[0] for o in self.open.values() if o.ticker == ticker and o.side is BookSide.BID)
            asks = sum(o.worst_terms()[0] for o in self.open.values() if o.ticker == ticker and o.side is BookSide.ASK)
            long, short = max(0, held + bids), max(0, asks - held)
            assert long <= LIMITS.max_position_per_market
            assert short <= LIMITS.max_position_per_market
            loss = self._worst_loss(ticker)
            exposure = self.risk.exposure(ticker)
            assert (exposure.long, exposure.short) == (long, short)
            # Positions reach risk in Money rounded toward safety (cost up, realized P&L down), so
            # risk may count up to $0.0002 more per market than the exact figure, never less.
            assert loss <= exposure.loss <= loss + SLACK
            event_loss[MARKETS[ticker]] += loss
            total += loss
        for event_ticker, loss in event_loss.items():
            assert loss <= LIMITS.max_event_exposure * MICROS
            assert loss <= self.risk.event_exposure(event_ticker) * MICROS <= loss + SLACK * len(MARKETS) + MICROS
        assert total <= LIMITS.max_total_exposure * MICROS
        assert total <= self.risk.total_exposure() * MICROS <= total + SLACK * len(MARKETS) + MICROS
        assert len(self.open) <= LIMITS.max_open_orders
        assert {r.reservation_id for r in self.risk.reservations()} == set(self.open)

    @invariant()
    def tracker_agrees(self) -> None:
        """Every order the model holds open is open in the tracker, with exactly its fills."""
        for coid, order in self.open.items():
            tracked = self.tracker.order(coid)
            assert tracked is not None
            assert tracked.state.is_open
            if order.new_price is None:
                assert tracked.remaining == order.remaining
            assert tracked.fill_qty == sum(f.qty for f in self.fills if f.client_order_id == coid)
        assert self.tracker.fees_paid() == sum(f.fee for f in self.fills)


TestRiskInvariants = pytest.mark.slow(RiskInvariants.TestCase)  # ./test.sh --fast leaves it out
TestRiskInvariants.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_worst_terms_pick_the_larger_size_at_the_worse_price() -> None:
    """A bid's worse price is the higher YES price; an ask's the lower one (a dearer NO)."""
    assert Open("A1", BookSide.BID, 6_000, 300, 5_000, 200).worst_terms() == (300, 6_000)
    assert Open("A1", BookSide.ASK, 6_000, 100, 5_000, 200).worst_terms() == (200, 5_000)
    assert Open("A1", BookSide.ASK, px("0.6"), 100).worst_terms() == (100, 6_000)


# ---------------------------------------------------------------------------------------------
# Differential: check_and_reserve judges and reserves exactly as first written

_coids = st.sampled_from([f"d{n}" for n in range(6)] + [""])
_places = st.tuples(
    st.just("place"),
    st.sampled_from(["A1", "A2", "B1", "ZZ"]),
    sides,
    st.one_of(prices, st.sampled_from([0, 150, 10_000])),
    st.one_of(sizes, st.sampled_from([0, 900])),
    _coids,
    st.sampled_from(["", "ioc", "reduce", "reduce-gtc"]),
)
_ops = st.one_of(
    _places,
    _places,
    _places,
    st.tuples(st.just("amend"), tickers, sides, prices, sizes, _coids, st.just("")),
    st.tuples(st.just("cancel"), tickers, sides, prices, sizes, _coids, st.just("")),
    st.tuples(st.just("check"), tickers, sides, prices, sizes, _coids, st.just("")),
    st.tuples(st.just("release"), tickers, sides, prices, sizes, _coids, st.just("")),
    st.tuples(st.just("amended"), tickers, sides, prices, sizes, _coids, st.sampled_from(["yes", "no"])),
    st.tuples(st.just("fill"), tickers, sides, prices, sizes, _coids, st.just("")),
    st.tuples(st.just("position"), tickers, sides, prices, st.integers(-900, 900), _coids, st.just("")),
    st.tuples(
        st.just("halt"),
        tickers,
        sides,
        prices,
        sizes,
        _coids,
        st.sampled_from(["kill", "reset", "error", "ok", "feed-lost", "feed-alive"]),
    ),
    st.tuples(st.just("halt"), tickers, sides, prices, sizes, _coids, st.sampled_from(["feed-lost", "feed-alive"])),
    st.tuples(st.just("time"), tickers, sides, prices, st.sampled_from([1, 400, 4_000, 6_000]), _coids, st.just("")),
    st.tuples(
        st.just("book"),
        tickers,
        sides,
        prices,
        sizes,
        _coids,
        st.sampled_from(["stale", "old", "edge", "thin", "fair"]),
    ),
)


def _judges(limits: RiskLimits, clock: Clock, market_clock: Clock) -> tuple[RiskManager, ReferenceRisk]:
    """``RiskManager`` and ``ReferenceRisk`` on the same clocks, both told about ``MARKETS``."""
    fast = RiskManager(limits, clock=clock, market_clock=market_clock)
    slow = ReferenceRisk(limits, clock=clock, market_clock=market_clock)
    for risk in (fast, slow):
        for ticker, event_ticker in MARKETS.items():
            risk.register_market(market(ticker, event_ticker))
    return fast, slow


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_ops, min_size=1, max_size=30), open_orders=st.integers(1, 6), writes=st.integers(1, 8))
def test_check_and_reserve_decides_and_reserves_as_first_written(
    ops: list[tuple[str, str, BookSide, int, int, str, str]], open_orders: int, writes: int
) -> None:
    """The same operations through ``RiskManager`` and ``ReferenceRisk`` (the judgement as first
    written): every decision is equal — rule, reason, reservation and numbers — and so are the
    reservations and every exposure after each step."""
    limits = replace(
        LIMITS,
        max_open_orders=open_orders,
        max_writes_per_second=writes,
        max_book_age_ms=1_000,
        max_through_book=Price(500),
    )
    clock, market_clock = Clock(), Clock(MARKET_START_MS)
    fast, slow = _judges(limits, clock, market_clock)
    book_as_of, book_kind, fills = clock.now_ms, "", itertools.count()
    for kind, ticker, side, price, size, coid, extra in ops:
        book = TopOfBook(ticker, Price(4_000), Price(4_200), book_as_of, stale=book_kind == "stale")
        fair = Price(4_100) if book_kind == "fair" else None
        if kind == "book":
            age = {"old": 2_000, "edge": 1_001}.get(extra, 0)  # the age limit is 1 s
            book_as_of, book_kind = clock.now_ms - age, extra
            continue
        if kind == "time":
            clock.advance(size)
            continue
        results = []
        for risk in (fast, slow):
            if kind in ("place", "amend", "cancel", "check"):
                tif = TimeInForce.IMMEDIATE_OR_CANCEL if extra in ("ioc", "reduce") else TimeInForce.GOOD_TILL_CANCELED
                if kind == "place" or kind == "check":
                    intent = OrderIntent.place(
                        ticker, side, price, size, coid, tif=tif, reduce_only=extra.startswith("reduce")
                    )
                elif kind == "amend":
                    intent = OrderIntent.amend(ticker, side, price, size, coid)
                else:
                    intent = OrderIntent.cancel(ticker, coid)
                judge = risk.check if kind == "check" else risk.check_and_reserve
                results.append(judge(intent, book=None if book_kind == "thin" else book, fair_value=fair))
            elif kind == "release":
                results.append(risk.release(coid))
            elif kind == "amended":
                risk.on_amend_result(coid, extra == "yes")
            elif kind == "fill":
                held = risk.reservation(coid)
                if held is not None:
                    position = Position(held.ticker, Qty(size if held.side is BookSide.BID else -size), Money(size))
                    fill = Fill(f"f{next(fills)}", "x", held.ticker, held.side, held.price, Qty(1), Money(0), True, 0)
                    risk.on_fill(fill, position, client_order_id=coid)
            elif kind == "position":
                risk.update_position(Position(ticker, Qty(size), Money(abs(size) * 40)))
            elif extra == "kill":
                risk.kill(who="test", why="differential")
            elif extra == "reset":
                risk.reset_kill_switch(who="test", why="differential")
            elif extra.startswith("feed"):
                risk.feed_lost() if extra == "feed-lost" else risk.feed_alive()
            else:
                risk.record_error("boom") if extra == "error" else risk.record_success()
        if results:
            assert results[0] == results[1]
        assert fast.reservations() == slow.reservations()
        for ticker in (*MARKETS, "ZZ"):
            assert fast.exposure(ticker) == slow.exposure(ticker)
        assert fast.total_exposure() == slow.total_exposure()
        assert [fast.event_exposure(e) for e in ("EV-1", "EV-2")] == [slow.event_exposure(e) for e in ("EV-1", "EV-2")]


@pytest.mark.parametrize("feed", ["lost", "alive", "never"])
@pytest.mark.parametrize("elapsed", [0, 4_999, 5_000, 5_001, 9_000])
def test_the_feed_allowance_halts_as_first_written(feed: str, elapsed: int) -> None:
    """Around the feed's allowance (lost or silent), a place that adds risk is judged as
    ``ReferenceRisk`` judges it: halted from the allowance on, never before."""
    clock, market_clock = Clock(), Clock(MARKET_START_MS)
    fast, slow = _judges(LIMITS, clock, market_clock)
    for risk in (fast, slow):
        if feed != "never":
            risk.feed_lost() if feed == "lost" else risk.feed_alive()
    clock.advance(elapsed)
    book = TopOfBook("A1", Price(4_000), Price(4_200), clock.now_ms)
    intent = OrderIntent.place("A1", BookSide.BID, Price(4_100), qty(1), "c1")
    decisions = [risk.check_and_reserve(intent, book=book) for risk in (fast, slow)]
    assert decisions[0] == decisions[1]
    assert decisions[0].approved == (feed == "never" or elapsed < LIMITS.feed_stale_ms)
