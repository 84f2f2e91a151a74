"""The living world end to end in process: weather + other markets + background traders on an
``EmbeddedExchange`` driven by its own housekeeping on a stepped ``SimClock`` (no sleeping, no
wall-clock dependence).

What it shows: the books move (trades, changing tops) over a simulated day; liquidity is thinner
far from the money and near the close (measured); the same seed gives the same world (identical
trade tapes and settlement values; settlement values even with a different tick cadence); and a
simulated week finishes in well under a minute or two with every event settled and every account
consistent with its fills and settlements.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.support.world import (
    DAY_MS,
    HOUR_MS,
    START_MS,
    all_users,
    conservation_gap,
    reconcile,
    run,
    stepped_exchange,
)

from kalshi_trader.domain import MarketStatus, Money
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.core.state import EngineEvent, TickerEvent
from kalshi_trader.sim.world.living_world import LivingWorld, build_living_world

MINUTE_MS = 60_000
START_DAY = datetime.fromtimestamp(START_MS // 1000, UTC).date()
FEW_CITIES = ("KXHIGHNY", "KXHIGHCHI", "KXHIGHLAX")


def _sample(exchange: EmbeddedExchange, world: LivingWorld) -> list[tuple[str, float, int, int, int | None]]:
    """(ticker, p, minutes to close, resting contracts, spread) for every active market now."""
    now = exchange.clock_ms()
    rows = []
    for ticker in world.traders.watched:
        if exchange.engine.market(ticker).status is not MarketStatus.ACTIVE:
            continue
        p = world.probability(ticker, now)
        assert p is not None
        yes, no = exchange.engine.book(ticker)
        depth = (sum(q for _, q in yes) + sum(q for _, q in no)) // 100
        yes_bid, _, no_bid, _ = exchange.engine.top(ticker)
        spread = None if yes_bid is None or no_bid is None else 10_000 - no_bid - yes_bid
        to_close = (exchange.catalog.market(ticker).close_ms - now) // MINUTE_MS
        rows.append((ticker, p, to_close, depth, spread))
    return rows


def test_books_move_over_a_simulated_day() -> None:
    exchange, clock = stepped_exchange(21)
    world = build_living_world(exchange, 21, series=FEW_CITIES)
    tickers: Counter[str] = Counter()

    def count(event: EngineEvent) -> None:
        if type(event) is TickerEvent:
            tickers[event.ticker] += 1

    exchange.engine.add_listener(count)
    run(exchange, clock, START_MS + HOUR_MS, MINUTE_MS)  # warm up: makers quote
    tops: dict[str, list[Any]] = defaultdict(list)
    active_minutes: Counter[str] = Counter()
    for _ in range(24 * 12):
        run(exchange, clock, clock.now_ms() + 5 * MINUTE_MS, MINUTE_MS)
        for ticker in world.traders.watched:
            if exchange.engine.market(ticker).status is MarketStatus.ACTIVE:
                tops[ticker].append(exchange.engine.top(ticker))
                active_minutes[ticker] += 5
    steady = [t for t, minutes in active_minutes.items() if minutes >= 12 * 60]
    assert len(steady) >= 20
    traded = [t for t in steady if exchange.engine.trades(t)]
    changes = {t: sum(a != b for a, b in zip(tops[t], tops[t][1:], strict=False)) for t in steady}
    assert len(traded) >= 0.8 * len(steady), (len(traded), len(steady))
    assert statistics.median(changes.values()) >= 20, sorted(changes.values())
    assert sum(tickers[t] > 50 for t in steady) >= 0.8 * len(steady)  # ticker updates on the feed
    assert len(exchange.engine.trades()) > 1_000
    assert world.traders.stats.rejections == Counter()


def test_liquidity_is_thinner_far_from_the_money_and_near_the_close() -> None:
    exchange, clock = stepped_exchange(22)
    world = build_living_world(exchange, 22, series=FEW_CITIES)
    run(exchange, clock, START_MS + HOUR_MS, MINUTE_MS)
    rows = []
    for _ in range(48 * 12):
        run(exchange, clock, clock.now_ms() + 5 * MINUTE_MS, MINUTE_MS)
        rows.extend(_sample(exchange, world))
    away = [d for _, p, to_close, d, _ in rows if to_close > 180 and 0.25 <= p <= 0.75]
    far = [d for _, p, to_close, d, _ in rows if to_close > 180 and (p < 0.03 or p > 0.97)]
    early = [(d, s) for _, p, to_close, d, s in rows if 6 * 60 <= to_close <= 24 * 60 and 0.05 <= p <= 0.95]
    late = [(d, s) for _, p, to_close, d, s in rows if 3 <= to_close <= 90 and 0.05 <= p <= 0.95]
    assert min(len(away), len(far), len(early), len(late)) >= 20, (len(away), len(far), len(early), len(late))
    depth_ratio = statistics.mean(away) / statistics.mean(far)
    close_ratio = statistics.mean(d for d, _ in early) / statistics.mean(d for d, _ in late)
    spread_early = statistics.median(s for _, s in early if s is not None)
    spread_late = statistics.median(s for _, s in late if s is not None)
    print(f"\ndepth near/far from the money {depth_ratio:.1f}x; far/near the close {close_ratio:.1f}x")
    print(f"median spread far from / near the close: {spread_early} / {spread_late} ($0.0001)")
    assert depth_ratio > 3.0
    assert close_ratio > 1.5
    assert spread_late > spread_early


def _tape(seed: int, step_ms: int, days: int = 2) -> tuple[list[tuple[Any, ...]], dict[str, str], list[Any]]:
    exchange, clock = stepped_exchange(seed)
    world = build_living_world(exchange, seed, series=("KXHIGHNY", "KXHIGHAUS"))
    run(exchange, clock, START_MS + days * DAY_MS, step_ms)
    trades = [(t.trade_id, t.ticker, t.price, t.count, t.taker_side, t.ts_ms) for t in exchange.engine.trades()]
    listing = [(m.ticker, m.market_id, m.open_ms, m.close_ms) for m in exchange.catalog.all_markets()]
    return trades, world.settlement_values(), listing


def test_same_seed_same_world_same_tape_and_settlements() -> None:
    trades, values, listing = _tape(31, MINUTE_MS)
    assert len(trades) > 500
    assert len(values) >= 6
    again = _tape(31, MINUTE_MS)
    assert again == (trades, values, listing)
    # a different cadence trades differently but settles the same world identically
    other_trades, other_values, other_listing = _tape(31, 7 * MINUTE_MS + 11_000)
    assert other_trades != trades
    assert other_values == values
    assert [(t, i) for t, i, _, _ in other_listing] == [(t, i) for t, i, _, _ in listing]
    # another seed is another world
    seed_trades, seed_values, _ = _tape(32, MINUTE_MS)
    assert seed_trades != trades
    assert seed_values != values


def test_a_long_jump_of_the_clock_is_cheap() -> None:
    exchange, clock = stepped_exchange(23)
    world = build_living_world(exchange, 23, series=FEW_CITIES)
    run(exchange, clock, START_MS + HOUR_MS, MINUTE_MS)
    clock.advance(12 * HOUR_MS)  # what speed 3600 does in 12 s of wall time, in one housekeeping pass
    exchange.housekeeping()
    assert clock.now_ms() == START_MS + 13 * HOUR_MS
    # activity was bounded, not replayed (each of the day's listings is a boundary with its own rounds)
    assert world.traders.stats.skipped_ms > 3 * HOUR_MS


@pytest.mark.slow
@pytest.mark.timeout(1200)  # a simulated week: minutes on a loaded machine
def test_a_simulated_week_settles_everything_and_every_account_adds_up() -> None:
    exchange, clock = stepped_exchange(2026)
    world = build_living_world(exchange, 2026, until=START_DAY + timedelta(days=6))  # 7 climate days
    bot = Money(25_000 * 10_000)
    exchange.open_account("bystander", bot)  # an account that never trades must come out untouched
    opening = world.traders_cash + bot
    end = world.quiet_after_ms()
    assert end is not None
    assert end - START_MS >= 7 * DAY_MS

    began, began_cpu = time.perf_counter(), time.process_time()
    steps = run(exchange, clock, end, MINUTE_MS)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    engine = exchange.engine
    markets = list(exchange.catalog.all_markets())
    print(
        f"\nsimulated week: {steps} steps of 1 min, {len(markets)} markets, {len(engine.trades())} trades, "
        f"{elapsed:.1f} s wall, {cpu:.1f} s CPU; trader stats {world.traders.stats}"
    )

    # every event listed has been determined and settled, with its value recorded
    assert len(world.weather.events) >= 7 * 7
    assert world.weather.live_events == []
    assert world.other.live_events == []
    assert all(engine.market(m.ticker).status is MarketStatus.FINALIZED for m in markets)
    assert all(m.expiration_value for m in markets)
    assert set(world.settlement_values()) == {m.event_ticker for m in markets}
    # books moved and traders kept going
    assert len(engine.trades()) > 20_000
    assert world.traders.stats.rejections["invalid_order"] == 0  # never off the grid, never a post-only cross
    assert sum(world.traders.stats.rejections.values()) < 0.01 * world.traders.stats.placed

    # money: nothing created or destroyed, across all accounts
    assert conservation_gap(engine, opening) == 0
    assert set(all_users(engine)) == {*world.trader_ids, "bystander"}
    # each account: cash = opening − purchases − fees + closed pairs + settlement revenue;
    # no positions left anywhere (every market settled), nothing reserved
    for user in world.trader_ids:
        assert reconcile(engine, user, world.traders.opening[user]) == []
        account = engine.account(user)
        assert account.positions == {}
        assert account.reserved == 0
        assert engine.fills(user), f"{user} never traded"
    assert engine.account("bystander").cash == bot
    # settlement records carry every contract that was open: Σ yes == Σ no per market
    per_market: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for user in world.trader_ids:
        for record in engine.settlements(user):
            per_market[record.ticker][0] += record.yes_count
            per_market[record.ticker][1] += record.no_count
    assert all(yes == no for yes, no in per_market.values())
    assert sum(yes for yes, _ in per_market.values()) > 0
