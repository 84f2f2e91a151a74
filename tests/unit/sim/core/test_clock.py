"""SimClock: speed, monotonicity, holds; and the exchange's housekeeping stepping through every
scheduled boundary in order when one real tick spans hours of simulated time."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest

from kalshi_trader.domain import MarketStatus, TickGrid
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.core.catalog import EventInfo, MarketMeta, SeriesInfo
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.core.state import EngineEvent, MarketEvent, MarketState

START = 1_780_000_000_000
HOUR = 3_600_000


class FakeReal:
    """A controllable monotonic nanosecond clock."""

    def __init__(self) -> None:
        self.ns = 5_000_000_000

    def __call__(self) -> int:
        return self.ns

    def sleep_ms(self, ms: int) -> None:
        self.ns += ms * 1_000_000


def test_speed_scales_real_time() -> None:
    real = FakeReal()
    clock = SimClock(start=START, speed=60, real_ns=real)
    assert clock.now_ms() == START
    real.sleep_ms(1_000)
    assert clock.now_ms() == START + 60_000  # one real second = one simulated minute
    real.sleep_ms(60_000)
    assert clock.now_ms() == START + 60_000 + HOUR  # one real minute = one simulated hour


def test_fractional_and_zero_speed_and_datetime_start() -> None:
    real = FakeReal()
    half = SimClock(start=datetime(2026, 5, 16, 12, tzinfo=UTC), speed=Fraction(1, 2), real_ns=real)
    frozen = SimClock(start=START, speed=0, real_ns=real)
    begin = half.now_ms()
    assert begin == int(datetime(2026, 5, 16, 12, tzinfo=UTC).timestamp() * 1000)
    real.sleep_ms(3)
    assert half.now_ms() == begin + 1  # 1.5 ms floors to 1
    real.sleep_ms(10_000)
    assert frozen.now_ms() == START
    frozen.advance(HOUR)
    assert frozen.now_ms() == START + HOUR


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="speed"):
        SimClock(start=START, speed=-1)
    with pytest.raises(ValueError, match="timezone-aware"):
        SimClock(start=datetime(2026, 1, 1))
    clock = SimClock(start=START, speed=0)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_speed_change_does_not_jump_and_time_never_decreases() -> None:
    real = FakeReal()
    clock = SimClock(start=START, speed=3600, real_ns=real)
    real.sleep_ms(1_000)
    assert clock.now_ms() == START + HOUR
    clock.set_speed(1)
    assert clock.now_ms() == START + HOUR
    real.sleep_ms(500)
    assert clock.now_ms() == START + HOUR + 500
    seen = [clock.now_ms()]
    for step in (0, 1, 7, 0, 250):
        real.sleep_ms(step)
        clock.set_speed(step % 3)
        seen.append(clock.now_ms())
    assert seen == sorted(seen)


def test_hold_caps_time_until_released_and_never_goes_back() -> None:
    real = FakeReal()
    clock = SimClock(start=START, speed=3600, real_ns=real)
    clock.hold_at(START + 30 * 60_000)
    real.sleep_ms(1_000)  # free-running time is one hour ahead
    assert clock.target_ms() == START + HOUR
    assert clock.now_ms() == START + 30 * 60_000
    clock.hold_at(START + 10 * 60_000)  # a hold below what was already reported cannot rewind
    assert clock.now_ms() == START + 30 * 60_000
    clock.hold_at(None)
    assert clock.now_ms() == START + HOUR
    assert clock() == START + HOUR


# -- housekeeping over a fast clock --------------------------------------------------------------


def _exchange(clock: SimClock) -> tuple[EmbeddedExchange, list[MarketEvent]]:
    exchange = EmbeddedExchange(seed=3, clock_ms=clock.now_ms, tier=None)
    events: list[MarketEvent] = []

    def record(event: EngineEvent) -> None:
        if isinstance(event, MarketEvent):
            events.append(event)

    exchange.engine.add_listener(record)
    exchange.catalog.add_series(SeriesInfo("KXT", "Test", "Testing", "custom"))
    exchange.catalog.add_event(EventInfo("KXT-1", "KXT", "Test event", "test"))
    return exchange, events


def _market(exchange: EmbeddedExchange, ticker: str, open_ms: int, close_ms: int) -> None:
    exchange.catalog.add_market(
        MarketMeta(
            ticker=ticker,
            event_ticker="KXT-1",
            market_id=exchange.new_id(),
            title=ticker,
            yes_sub_title="yes",
            no_sub_title="yes",
            open_ms=open_ms,
            close_ms=close_ms,
            expected_expiration_ms=None,
            latest_expiration_ms=close_ms + 7 * 24 * HOUR,
            created_ms=START - HOUR,
            strike_type="greater",
            floor_strike=1.0,
        )
    )
    exchange.engine.add_market(
        MarketState(ticker, "KXT-1", TickGrid.named("linear_cent"), status=MarketStatus.INITIALIZED)
    )


def test_one_tick_spanning_open_close_and_hooks_runs_each_at_its_time_in_order() -> None:
    real = FakeReal()
    clock = SimClock(start=START, speed=3600, real_ns=real)
    exchange, events = _exchange(clock)
    _market(exchange, "KXT-1-A", START + 1 * HOUR, START + 3 * HOUR)
    _market(exchange, "KXT-1-B", START + 2 * HOUR, START + 4 * HOUR)
    hook_times: list[tuple[int, str]] = []
    due = [START + 2 * HOUR + 30 * 60_000, START + 3 * HOUR + 30 * 60_000]

    def hook(now: int) -> None:
        statuses = "".join(exchange.engine.market(t).status.value[0] for t in ("KXT-1-A", "KXT-1-B"))
        hook_times.append((now, statuses))
        while due and due[0] <= now:
            due.pop(0)

    exchange.add_periodic(hook, next_due=lambda now: next((d for d in due if d > now), None))
    real.sleep_ms(5_000)  # one real tick = five simulated hours
    exchange.housekeeping()

    assert [(e.ticker, e.kind, e.ts_ms - START) for e in events if e.kind != "created"] == [
        ("KXT-1-A", "activated", 1 * HOUR),
        ("KXT-1-B", "activated", 2 * HOUR),
        ("KXT-1-A", "close_date_updated", 3 * HOUR),
        ("KXT-1-B", "close_date_updated", 4 * HOUR),
    ]
    offsets = [(now - START, statuses) for now, statuses in hook_times]
    # The hook ran at every boundary and at its own due times, seeing the state of that moment.
    assert offsets == [
        (1 * HOUR, "ai"),
        (2 * HOUR, "aa"),
        (2 * HOUR + 30 * 60_000, "aa"),
        (3 * HOUR, "ca"),
        (3 * HOUR + 30 * 60_000, "ca"),
        (4 * HOUR, "cc"),
        (5 * HOUR, "cc"),
    ]
    assert clock.now_ms() == START + 5 * HOUR


def test_time_cannot_run_past_an_unprocessed_close() -> None:
    real = FakeReal()
    clock = SimClock(start=START, speed=3600, real_ns=real)
    exchange, _ = _exchange(clock)
    _market(exchange, "KXT-1-A", START - HOUR, START + HOUR)
    exchange.housekeeping()  # opens A and holds the clock at its close
    assert exchange.engine.market("KXT-1-A").status is MarketStatus.ACTIVE
    real.sleep_ms(10_000)  # ten simulated hours of real time pass without housekeeping
    assert clock.now_ms() == START + HOUR  # readers (REST, traders) see time stopped at the close
    exchange.housekeeping()
    assert exchange.engine.market("KXT-1-A").status is MarketStatus.CLOSED
    assert clock.now_ms() == START + 10 * HOUR


def test_a_failing_hook_neither_stops_other_hooks_nor_freezes_time() -> None:
    real = FakeReal()
    clock = SimClock(start=START, speed=3600, real_ns=real)
    exchange, _ = _exchange(clock)
    seen: list[int] = []

    def broken(now: int) -> None:
        raise RuntimeError("boom")

    exchange.add_periodic(broken, next_due=lambda now: now + HOUR)
    exchange.add_periodic(seen.append)
    real.sleep_ms(3_000)
    exchange.housekeeping()
    assert [t - START for t in seen] == [HOUR, 2 * HOUR, 3 * HOUR]
    assert clock.now_ms() == START + 3 * HOUR


def test_wall_clock_exchange_keeps_a_single_pass() -> None:
    now = [START]
    exchange = EmbeddedExchange(seed=3, clock_ms=lambda: now[0], tier=None)
    assert exchange.sim_clock is None
    seen: list[int] = []
    exchange.add_periodic(seen.append, next_due=lambda t: t + 1)
    now[0] += 10 * HOUR
    exchange.housekeeping()
    assert seen == [START + 10 * HOUR]


def test_exchange_recognises_the_clock_object_or_its_bound_method() -> None:
    clock = SimClock(start=START, speed=0)
    assert EmbeddedExchange(clock_ms=clock, tier=None).sim_clock is clock
    assert EmbeddedExchange(clock_ms=clock.now_ms, tier=None).sim_clock is clock
