"""sim/world/traders.py: background traders on a bare matching engine with a controllable oracle."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from tests.unit.sim.core.engine_kit import Clock, check_invariants, market

from kalshi_trader.domain import BookSide, MarketStatus, Money, Qty, TickGrid
from kalshi_trader.sim.core.matching import MatchingEngine
from kalshi_trader.sim.world.traders import (
    DEFAULT_TRADERS,
    GridIndex,
    InformedSpec,
    MakerSpec,
    MarketView,
    NoiseSpec,
    Pace,
    Traders,
    money_factor,
)

HOUR = 3_600_000
MINUTE = 60_000
GRIDS = {
    "M-CENT": "linear_cent",
    "M-TAPER": "tapered_deci_cent",
    "M-DECI": "deci_cent",
    "M-HALF": "center_half_edge_half_cent",
}


@dataclass
class FixedOracle:
    """P(YES) per ticker, moved by tests; ``shift`` nudges it like a biased forecaster would."""

    p: dict[str, float] = field(default_factory=dict)
    shift_scale: float = 0.08

    def probability(self, ticker: str, now_ms: int, shift: float = 0.0) -> float | None:
        base = self.p.get(ticker)
        if base is None:
            return None
        return min(1.0, max(0.0, base + self.shift_scale * shift))


class EngineOnly:
    """The engine's public trading API and nothing else; records every call by name."""

    ALLOWED = frozenset({"place", "amend", "cancel", "top", "market", "account", "open_account"})

    def __init__(self, engine: MatchingEngine) -> None:
        self._engine = engine
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        assert name in self.ALLOWED, f"traders used engine.{name}"
        self.calls[name] += 1
        return getattr(self._engine, name)


@dataclass
class World:
    clock: Clock
    engine: MatchingEngine
    proxy: EngineOnly
    oracle: FixedOracle
    traders: Traders

    def step(self, ms: int) -> None:
        self.clock.advance(ms)
        self.traders.tick(self.clock.now)

    def run(self, ms: int, step: int = MINUTE, check: bool = False) -> None:
        for _ in range(ms // step):
            self.step(step)
            if check:
                check_invariants(self.engine, tuple(self.traders.user_ids), self.traders.opening_cash)


def make_world(
    *,
    seed: int = 1,
    probs: dict[str, float] | None = None,
    specs: tuple[Any, ...] = DEFAULT_TRADERS,
    close_in: int = 48 * HOUR,
    pace: Pace = Pace(),
) -> World:
    clock = Clock()
    ids = iter(range(1, 10**9))
    engine = MatchingEngine(clock_ms=clock, new_id=lambda: f"id-{next(ids)}")
    proxy = EngineOnly(engine)
    oracle = FixedOracle(dict(probs or {"M-CENT": 0.5, "M-TAPER": 0.93, "M-DECI": 0.2, "M-HALF": 0.65}))
    traders = Traders(cast(MatchingEngine, proxy), oracle, seed=seed, specs=specs, pace=pace)
    traders.open_accounts()
    for ticker in oracle.p:
        state = market(ticker, GRIDS.get(ticker, "linear_cent"))
        engine.add_market(state)
        traders.watch(MarketView(ticker, f"EV-{ticker}", clock.now + close_in, state.grid))
    return World(clock, engine, proxy, oracle, traders)


def test_grid_index_rounds_onto_every_band_of_the_grid() -> None:
    taper = GridIndex.of(TickGrid.named("tapered_deci_cent"))
    assert GridIndex.of(TickGrid.named("tapered_deci_cent")) is taper
    assert (taper.lowest, taper.highest) == (10, 9_990)
    assert taper.down(9_055.7) == 9_050  # 0.001 steps above 0.90
    assert taper.up(1_234.2) == 1_300  # 0.01 steps in the centre
    assert taper.down(945.0) == 940
    assert taper.up(9_995) is None  # nothing valid at or above
    assert taper.down(9.9) is None  # nothing valid at or below
    cent = GridIndex.of(TickGrid.named("linear_cent"))
    assert (cent.down(4_999.99), cent.up(4_900.01)) == (4_900, 5_000)
    assert cent.step_above(4_900) == 100
    assert money_factor(0.5) == 1.0
    assert money_factor(0.99) == pytest.approx(0.0396)


def test_traders_act_only_through_the_engine_and_value_is_conserved() -> None:
    world = make_world()
    world.run(6 * HOUR, check=True)  # conservation, collateral, uncrossed books after every tick
    assert set(world.proxy.calls) <= EngineOnly.ALLOWED
    assert {"place", "amend", "top"} <= set(world.proxy.calls)
    assert len(world.engine.trades()) > 50
    traded = {f.user_id.split("-")[1] for t in world.oracle.p for f in _fills(world.engine, world.traders.user_ids, t)}
    assert {"maker", "noise"} <= traded <= {"maker", "noise", "sharp"}  # informed traders wait for a mispricing
    assert world.traders.stats.rejections == Counter()


def _fills(engine: MatchingEngine, users: list[str], ticker: str) -> list[Any]:
    return [f for user in users for f in engine.fills(user) if f.ticker == ticker]


def test_every_order_is_on_its_market_grid_strictly_inside_zero_and_one() -> None:
    world = make_world(probs={"M-CENT": 0.985, "M-TAPER": 0.995, "M-DECI": 0.004, "M-HALF": 0.5})
    world.run(4 * HOUR)
    seen = 0
    for user in world.traders.user_ids:
        for order in world.engine.orders(user):
            grid = world.engine.market(order.ticker).grid
            assert grid.is_valid_order_price(order.price), (order.ticker, order.price)
            seen += 1
    assert seen > 10
    assert world.traders.stats.amended > 10  # amended prices are checked too (order.price)
    assert world.traders.stats.rejections == Counter()


def test_books_track_the_truth_when_it_moves() -> None:
    makers = tuple(s for s in DEFAULT_TRADERS if isinstance(s, MakerSpec))
    world = make_world(probs={"M-CENT": 0.3}, specs=makers)
    world.run(2 * HOUR)
    yes_bid, _, no_bid, _ = world.engine.top("M-CENT")
    assert yes_bid is not None
    assert no_bid is not None
    assert 2_000 <= (yes_bid + 10_000 - no_bid) / 2 <= 4_000
    world.oracle.p["M-CENT"] = 0.8  # news
    news_ms = world.clock.now
    world.run(45 * MINUTE)
    yes_bid, _, no_bid, _ = world.engine.top("M-CENT")
    assert yes_bid is not None
    assert no_bid is not None
    mid = (yes_bid + 10_000 - no_bid) / 2
    assert 7_000 <= mid <= 9_000
    # the first maker to requote took the others' stale asks rather than queueing behind them
    taken = [f for u in world.traders.user_ids for f in world.engine.fills(u) if f.is_taker and f.ts_ms > news_ms]
    assert taken
    assert all(f.side is BookSide.BID and f.price < 5_000 for f in taken)


def _resting_size(engine: MatchingEngine, ticker: str) -> int:
    yes, no = engine.book(ticker)
    return sum(q for _, q in yes) + sum(q for _, q in no)


def test_liquidity_is_thinner_far_from_the_money() -> None:
    makers = tuple(s for s in DEFAULT_TRADERS if isinstance(s, MakerSpec))
    world = make_world(probs={"AT": 0.5, "FAV": 0.97, "LONG": 0.03}, specs=makers)
    world.run(HOUR)
    at, fav, long = (_resting_size(world.engine, t) for t in ("AT", "FAV", "LONG"))
    assert at > 4 * fav, (at, fav)
    assert at > 4 * long, (at, long)


def test_liquidity_thins_and_spreads_widen_toward_the_close_then_quotes_are_pulled() -> None:
    makers = tuple(s for s in DEFAULT_TRADERS if isinstance(s, MakerSpec))
    far = make_world(probs={"X": 0.5}, specs=makers, close_in=12 * HOUR)
    near = make_world(probs={"X": 0.5}, specs=makers, close_in=30 * MINUTE)
    far.run(10 * MINUTE)
    near.run(10 * MINUTE)
    assert _resting_size(far.engine, "X") > 2 * _resting_size(near.engine, "X")

    def spread(engine: MatchingEngine) -> int:
        yes_bid, _, no_bid, _ = engine.top("X")
        assert yes_bid is not None
        assert no_bid is not None
        return 10_000 - no_bid - yes_bid

    assert spread(near.engine) > spread(far.engine)
    near.run(20 * MINUTE - MINUTE)  # now one minute before the close: inside the pull window
    assert _resting_size(near.engine, "X") == 0


def test_makers_stay_within_their_inventory_limits() -> None:
    maker = MakerSpec("mm", Money(100_000 * 10_000), inventory_limit=Qty(3_000), quote_size=Qty(1_000))
    buyer = NoiseSpec("buyer", Money(100_000 * 10_000), orders_per_hour=120.0, longshot_tilt=0.5)
    world = make_world(probs={"LONG": 0.1}, specs=(maker, buyer))
    peak = 0
    for _ in range(3 * 60):
        world.step(MINUTE)
        position = world.engine.account("mm").positions.get("LONG")
        peak = max(peak, -(position.position if position is not None else 0))
    assert peak >= 3_000 - 1_000  # the buyers pushed it to the limit…
    assert peak <= 3_000 + 1_000  # …and it never went past it by more than one quote


def test_informed_traders_only_take_liquidity_with_an_edge() -> None:
    maker = MakerSpec("mm", Money(100_000 * 10_000), skill_sd=1.0)  # quotes around a noisy view
    sharp = InformedSpec("sharp", Money(100_000 * 10_000), skill_sd=0.0, edge=150, looks_per_hour=60.0)
    world = make_world(probs={"A": 0.4, "B": 0.7}, specs=(maker, sharp))
    world.run(6 * HOUR)
    fills = [f for f in world.engine.fills("sharp") if f.is_taker]
    assert len(fills) > 5
    for fill in fills:
        p = world.oracle.p[fill.ticker] * 10_000
        fee = 0.07 * p * (10_000 - p) / 10_000
        if fill.side is BookSide.BID:
            assert fill.price <= p - 150 - fee
        else:
            assert fill.price >= p + 150 + fee


def test_rejections_are_counted_and_never_stop_the_loop() -> None:
    broke = NoiseSpec("broke", Money(5_000), orders_per_hour=60.0, mean_contracts=20.0)  # $0.50
    world = make_world(specs=(*DEFAULT_TRADERS, broke))
    world.run(2 * HOUR)
    assert world.traders.stats.rejections["insufficient_balance"] > 10
    assert world.engine.account("broke").cash >= 0
    assert len(world.engine.trades()) > 20  # everyone else went on trading


def test_markets_that_are_not_active_are_left_alone() -> None:
    world = make_world(probs={"A": 0.5, "B": 0.5})
    world.run(30 * MINUTE)
    world.engine.set_market_status("B", MarketStatus.CLOSED)
    trades_b = len(world.engine.trades("B"))
    world.run(2 * HOUR)
    assert len(world.engine.trades("B")) == trades_b
    assert world.traders.stats.rejections == Counter()
    world.traders.forget("B")
    assert world.traders.watched == ["A"]


def test_a_huge_clock_jump_costs_a_bounded_amount_of_work() -> None:
    pace = Pace(round_ms=15_000, max_rounds=3, max_span_ms=10 * MINUTE)
    world = make_world(pace=pace, close_in=30 * 24 * HOUR)
    world.step(MINUTE)
    before_rounds, before_calls = world.traders.stats.rounds, sum(world.proxy.calls.values())
    world.step(5 * 24 * HOUR)  # five simulated days in one tick
    assert world.traders.stats.rounds - before_rounds == 3
    assert world.traders.stats.skipped_ms >= 5 * 24 * HOUR - 3 * 10 * MINUTE
    assert sum(world.proxy.calls.values()) - before_calls < 2_000
    world.step(10_000)  # shorter than a round: nothing happens, the time is carried
    assert world.traders.stats.rounds - before_rounds == 3
    world.step(5_000)
    assert world.traders.stats.rounds - before_rounds == 4


def test_same_seed_same_orders_and_trades_different_seed_different() -> None:
    def tape(seed: int) -> list[tuple[Any, ...]]:
        world = make_world(seed=seed)
        world.run(3 * HOUR)
        return [(t.trade_id, t.ticker, t.price, t.count, t.taker_side, t.ts_ms) for t in world.engine.trades()]

    first = tape(5)
    assert first == tape(5)
    assert first != tape(6)


def test_bad_populations_are_refused() -> None:
    clock = Clock()
    engine = MatchingEngine(clock_ms=clock)
    twice = NoiseSpec("same", Money(1))
    with pytest.raises(ValueError, match="unique"):
        Traders(engine, FixedOracle(), seed=1, specs=(twice, twice))
    with pytest.raises(ValueError, match="positive"):
        Pace(round_ms=0)
