"""The paper exchange fed by the embedded exchange's own public events (in process), compared with
the embedded exchange itself under random background flow: the mirrored book is the exchange's
book, a marketable order fills at the same prices and sizes, and a resting paper order never
fills earlier (nor more) than the same order resting at the exchange."""

from __future__ import annotations

import contextlib
import itertools
import random
from collections import defaultdict

import pytest
from tests.unit.sim.core.engine_kit import GTC, IOC, Clock, market, order

from kalshi_trader.domain import BookSide, FeeSchedule, Price, Qty, Side, TimeInForce
from kalshi_trader.execution.venue import PlaceRequest, VenueError
from kalshi_trader.paper.exchange import PaperExchange
from kalshi_trader.sim.core.matching import MatchingEngine
from kalshi_trader.sim.core.state import BookDelta, EngineEvent, ExchangeError, TradeEvent

TICKER = "MKT"


class World:
    """An embedded-exchange engine whose public events feed a paper exchange."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.clock = Clock()
        counter = itertools.count(1)
        self.engine = MatchingEngine(clock_ms=self.clock, new_id=lambda: f"x-{next(counter)}")
        self.engine.add_market(market(TICKER))
        for user in ("bg", "me", "mm"):
            self.engine.open_account(user, 10**9)
        paper_ids = itertools.count(1)
        self.paper = PaperExchange(cash=10**9, clock_ms=self.clock, new_id=lambda: f"p-{next(paper_ids)}")
        self.paper.add_market(TICKER, self.engine.market(TICKER).grid, FeeSchedule())
        self.paper.on_book_snapshot(TICKER, [], [])
        self.engine.add_listener(self.mirror)
        self.bg_orders: list[str] = []
        self.quotes: dict[BookSide, str] = {}
        """The market maker's one quote per side, moved around the touch (each move loses priority)."""

    def mirror(self, event: EngineEvent) -> None:
        """What the WebSocket feed carries: book deltas and public trades, in the engine's order."""
        if isinstance(event, BookDelta):
            self.paper.on_book_delta(event.ticker, event.side, event.price, event.delta)
        elif isinstance(event, TradeEvent):
            t = event.trade
            self.paper.on_trade(t.ticker, t.price, t.count, t.taker_side)

    def requote(self) -> None:
        """The market maker moves one quote to a price near the touch (a new place if it traded)."""
        rng = self.rng
        side = rng.choice([BookSide.BID, BookSide.ASK])
        cents = rng.randint(46, 50) if side is BookSide.BID else rng.randint(50, 54)
        price, size = Price(cents * 100), Qty(rng.randint(5, 30) * 100)
        current = self.quotes.get(side)
        with contextlib.suppress(ExchangeError):
            quote = self.engine.order("mm", current) if current is not None else None
            if quote is not None and quote.status == "resting":
                self.engine.amend(
                    "mm", quote.order_id, ticker=TICKER, side=side, price=price, count=quote.filled + size
                )
            else:
                placed = self.engine.place("mm", order(side, f"0.{cents}", str(size // 100), ticker=TICKER))
                self.quotes[side] = placed.order.order_id

    def background(self, steps: int) -> None:
        """Random flow around $0.50: resting orders, takers, cancels, a requoting market maker."""
        rng = self.rng
        for _ in range(steps):
            self.clock.advance(rng.randint(1, 400))
            roll = rng.random()
            if roll < 0.3:
                self.requote()
                continue
            roll = rng.random()
            if roll < 0.35 and self.bg_orders:
                order_id = self.bg_orders.pop(rng.randrange(len(self.bg_orders)))
                with contextlib.suppress(ExchangeError):
                    self.engine.cancel("bg", order_id)
                continue
            side = rng.choice([BookSide.BID, BookSide.ASK])
            taker = roll > 0.85
            cents = (
                rng.randint(40, 60) if taker else (rng.randint(38, 50) if side is BookSide.BID else rng.randint(50, 62))
            )
            tif = IOC if taker else GTC
            try:
                placed = self.engine.place(
                    "bg", order(side, f"0.{cents}", str(rng.randint(1, 15)), ticker=TICKER, tif=tif)
                )
            except ExchangeError:
                continue
            if placed.order.status == "resting":
                self.bg_orders.append(placed.order.order_id)
            self.paper.tick()

    def book_matches(self) -> bool:
        book = self.paper.book(TICKER)
        assert book is not None
        yes, no = self.engine.book(TICKER)
        return all(book.size(Side.YES, p) == q for p, q in yes) and all(book.size(Side.NO, p) == q for p, q in no)


@pytest.mark.parametrize("seed", range(8))
def test_the_mirrored_book_is_the_exchanges_book(seed: int) -> None:
    world = World(seed)
    for _ in range(30):
        world.background(20)
        assert world.book_matches()


@pytest.mark.parametrize("seed", range(8))
def test_a_marketable_order_fills_at_the_same_prices_and_sizes(seed: int) -> None:
    world = World(seed)
    rng = world.rng
    for n in range(15):
        world.background(25)
        side = rng.choice([BookSide.BID, BookSide.ASK])
        cents = rng.randint(45, 60) if side is BookSide.BID else rng.randint(40, 55)
        count = str(rng.randint(1, 40))
        # a fresh paper account on the exchange's current book (no liquidity it took before)
        probe = PaperExchange(cash=10**9, clock_ms=world.clock, new_id=lambda: "probe")
        probe.add_market(TICKER, world.engine.market(TICKER).grid)
        probe.on_book_snapshot(TICKER, *world.engine.book(TICKER))
        request = PlaceRequest(
            TICKER, side, Price(cents * 100), Qty(int(count) * 100), f"c{n}", TimeInForce.IMMEDIATE_OR_CANCEL
        )
        try:
            paper = probe.place(request)
        except VenueError:
            continue
        real = world.engine.place("me", order(side, f"0.{cents}", count, ticker=TICKER, tif=IOC))
        paper_fills = [e for e in probe.take_changes().fills]
        by_price: dict[int, int] = defaultdict(int)
        for fill in real.fills:
            by_price[fill.price] += fill.count
        assert {f.price: f.qty for f in paper_fills} == dict(by_price)
        assert paper.filled == real.fill_count
        # one paper fill per price level, one exchange fill per maker order: each rounds its own fee
        assert abs(sum(f.fee for f in paper_fills) - sum(f.fee for f in real.fills)) <= 100 * len(real.fills)


@pytest.mark.parametrize("seed", range(12))
def test_a_resting_paper_order_never_fills_earlier_than_the_same_order_at_the_exchange(seed: int) -> None:
    never_earlier(seed)


def test_resting_paper_orders_do_fill() -> None:
    assert sum(never_earlier(seed) for seed in range(12)) > 0


def never_earlier(seed: int) -> int:
    """Resting pairs placed at the exchange, then in paper; returns what the paper orders filled."""
    world = World(seed)
    rng = world.rng
    world.background(60)
    pairs: list[tuple[str, str]] = []
    for n in range(6):
        side = rng.choice([BookSide.BID, BookSide.ASK])
        cents = rng.randint(44, 49) if side is BookSide.BID else rng.randint(51, 56)
        count = str(rng.randint(1, 10))
        try:  # the exchange first: the paper order joins behind it, as a copy placed just after would
            real = world.engine.place("me", order(side, f"0.{cents}", count, ticker=TICKER))
            paper = world.paper.place(PlaceRequest(TICKER, side, Price(cents * 100), Qty(int(count) * 100), f"c{n}"))
        except (ExchangeError, VenueError):
            continue
        pairs.append((real.order.order_id, paper.order_id))
        for _ in range(40):
            world.background(3)
            for real_id, paper_id in pairs:
                real_filled = world.engine.order("me", real_id).filled
                paper_order = world.paper.order(paper_id)
                assert paper_order is not None
                assert paper_order.filled <= real_filled
    return sum(world.paper.order(p).filled for _, p in pairs)  # type: ignore[union-attr]
