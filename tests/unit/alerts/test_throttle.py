"""The throttle merges alerts about one thing within the window, keeps the latest state, bounds the
rate and never loses the last word."""

from __future__ import annotations

from kalshi_trader.alerts.message import Alert
from kalshi_trader.alerts.throttle import Throttle


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _throttle(
    clock: Clock, *, window_s: float = 60, per_hour: int = 3600, burst: int = 5, max_held: int = 100
) -> Throttle:
    return Throttle(window_s=window_s, per_hour=per_hour, burst=burst, max_held=max_held, clock=clock)


def test_first_alert_goes_at_once_repeats_wait_for_the_window_and_carry_the_latest_state() -> None:
    clock = Clock()
    t = _throttle(clock)
    t.offer(Alert("feed", "Exchange feed lost"))
    [first] = t.take()
    assert first.alert.title == "Exchange feed lost"
    assert first.merged == 0
    for i in range(10):  # a flapping feed
        clock.t += 1
        t.offer(Alert("feed", "Exchange feed lost" if i % 2 else "Exchange feed back after 1 s"))
    assert t.take() == []
    wait = t.wait_s()
    assert wait is not None
    assert 49 <= wait <= 50
    clock.t += wait
    [second] = t.take()
    assert second.alert.title == "Exchange feed lost"  # the latest state
    assert second.merged == 9
    assert t.merged_total == 9
    assert t.take() == []
    assert t.wait_s() is None


def test_different_keys_do_not_wait_for_each_other() -> None:
    t = _throttle(Clock())
    t.offer(Alert("kill_switch", "Kill switch engaged by ops: test"))
    t.offer(Alert("breaker:feed_down", "Breaker feed_down tripped"))
    assert [o.alert.key for o in t.take()] == ["kill_switch", "breaker:feed_down"]


def test_the_rate_bound_holds_and_merges_never_drops_under_the_cap() -> None:
    clock = Clock()
    t = _throttle(clock, per_hour=60, burst=2)
    for n in range(5):
        t.offer(Alert(f"fill:{n}", f"fill {n}"))
    assert len(t.take()) == 2
    assert t.take() == []
    wait = t.wait_s()
    assert wait is not None
    assert 59 <= wait <= 60  # one token a minute
    clock.t += 60
    assert [o.alert.key for o in t.take()] == ["fill:2"]
    clock.t += 600
    assert [o.alert.key for o in t.take()] == ["fill:3", "fill:4"]


def test_too_many_waiting_subjects_drop_the_oldest_and_the_next_message_says_so() -> None:
    clock = Clock()
    t = _throttle(clock, per_hour=1, burst=1, max_held=2)
    t.offer(Alert("a", "a"))
    assert len(t.take()) == 1
    for key in ("b", "c", "d"):
        t.offer(Alert(key, key))
    assert t.held == 2
    assert t.dropped_total == 1
    clock.t += 3600
    [out] = t.take()
    assert out.alert.key == "c"
    assert out.dropped == 1


def test_final_take_waives_window_and_rate_for_the_newest_subjects() -> None:
    clock = Clock()
    t = _throttle(clock, per_hour=1, burst=2)
    t.offer(Alert("node:start", "started"))
    t.offer(Alert("feed", "lost"))
    assert len(t.take()) == 2
    for key in ("feed", "kill_switch", "node:stop"):
        t.offer(Alert(key, key))
    assert t.take() == []
    final = t.take(final=True)
    assert [o.alert.key for o in final] == ["kill_switch", "node:stop"]
    assert final[0].dropped == 1  # the feed alert, older, did not fit
    assert t.held == 0
