"""Circuit breakers and the kill switch: they trip, ask for cancels, block new risk, let exits and
cancels through, reset (by time, by condition or by a person) and leave an audit trail."""

from __future__ import annotations

import pytest
from tests.unit.risk.kit import ASK, BID, Desk, px, qty, usd

from kalshi_trader.domain import OrderIntent, Position
from kalshi_trader.risk.decisions import ActionKind, EventKind, RiskAction, Rule


def _cancel_all(rule: Rule) -> list[tuple[ActionKind, Rule]]:
    return [(ActionKind.CANCEL_ALL, rule)]


def _kinds(actions: list[RiskAction]) -> list[tuple[ActionKind, Rule]]:
    return [(a.kind, a.rule) for a in actions]


def _long_a1(desk: Desk) -> None:
    """Hold 10 YES in A1 bought at 0.50."""
    assert desk.place("A1", BID, "0.50", 10, coid="long").approved
    desk.fill("long", "A1", BID, "0.50", 10, Position("A1", qty(10), usd(5)))


def test_consecutive_errors_trip_block_and_reset_after_cooldown() -> None:
    desk = Desk(max_consecutive_errors=3, error_cooldown_ms=60_000)
    assert desk.risk.record_error("timeout") == []
    desk.risk.record_success()  # a success restarts the count
    assert desk.risk.record_error("timeout") == []
    assert desk.risk.record_error("HTTP 500") == []
    actions = desk.risk.record_error("HTTP 503")
    assert _kinds(actions) == _cancel_all(Rule.CONSECUTIVE_ERRORS)
    assert actions[0].reason == "3 consecutive errors, the last: HTTP 503"
    assert desk.risk.record_error("again") == []  # an open breaker does not trip twice
    d = desk.place("A1", BID, "0.50", 1)
    assert (d.approved, d.rule) == (False, Rule.CONSECUTIVE_ERRORS)
    assert "trading is halted (consecutive_errors: 3 consecutive errors" in d.reason
    desk.clock.advance(59_999)
    assert desk.risk.tick() == []
    assert desk.risk.halted
    desk.clock.advance(1)
    desk.risk.tick()
    assert not desk.risk.halted
    assert desk.place("A1", BID, "0.50", 1).approved
    events = desk.risk.drain_events()
    assert [(e.kind, e.rule, e.who) for e in events] == [
        (EventKind.BREAKER_TRIPPED, Rule.CONSECUTIVE_ERRORS, "risk"),
        (EventKind.BREAKER_RESET, Rule.CONSECUTIVE_ERRORS, "risk"),
    ]
    assert events[1].reason == "cooldown elapsed"
    assert desk.risk.drain_events() == []


def test_the_error_cooldown_runs_on_the_wall_clock_whatever_the_market_speed() -> None:
    """Errors are about the connection: the breaker they trip waits ``error_cooldown`` of real
    time, however fast a simulated market runs meanwhile."""
    desk = Desk(max_consecutive_errors=1, error_cooldown_ms=60_000)
    desk.risk.record_error("HTTP 503")
    desk.market.advance(5 * 3_600_000)  # five market hours: a minute at 300x
    desk.clock.advance(59_000)
    desk.risk.tick()
    assert desk.risk.halted
    desk.clock.advance(1_000)
    desk.risk.tick()
    assert not desk.risk.halted


def test_breaker_lets_risk_reducing_exits_and_cancels_through() -> None:
    desk = Desk(max_consecutive_errors=1)
    _long_a1(desk)
    assert desk.place("A1", BID, "0.40", 1, coid="resting").approved
    desk.risk.record_error("boom")
    assert desk.risk.check_and_reserve(OrderIntent.cancel("A1", "resting")).approved
    # An exit passes a halt by its effect, reduce-only or not: a plain resting sell of 4 of the 10
    # YES held (a take-profit) and a reduce-only IOC for the other 6 can only shrink the position.
    assert desk.place("A1", ASK, "0.60", 4, coid="take-profit").approved
    assert desk.amend("A1", ASK, "0.60", 3, "take-profit").approved  # shrinking it passes too
    assert desk.place("A1", ASK, "0.49", 6, reduce_only=True).approved
    # The position is now covered (worst case: every sell fills): one more would open NO, refused,
    # marked reduce_only or not; so is growing the take-profit back.
    assert desk.place("A1", ASK, "0.49", 2, reduce_only=True).rule is Rule.CONSECUTIVE_ERRORS
    assert desk.place("A1", ASK, "0.60", 2).rule is Rule.CONSECUTIVE_ERRORS


def test_manual_breaker_reset_needs_who_and_why() -> None:
    desk = Desk(max_consecutive_errors=1)
    desk.risk.record_error("boom")
    with pytest.raises(ValueError, match="who you are and why"):
        desk.risk.reset_breaker(Rule.CONSECUTIVE_ERRORS, who="", why="fixed")
    with pytest.raises(ValueError, match="who you are and why"):
        desk.risk.reset_breaker(Rule.CONSECUTIVE_ERRORS, who="ana", why="  ")
    assert desk.risk.reset_breaker(Rule.CONSECUTIVE_ERRORS, who="ana", why="exchange incident over")
    assert not desk.risk.reset_breaker(Rule.CONSECUTIVE_ERRORS, who="ana", why="again")
    reset = desk.risk.drain_events()[-1]
    assert (reset.kind, reset.who, reset.reason) == (EventKind.BREAKER_RESET, "ana", "exchange incident over")
    assert desk.place("A1", BID, "0.50", 1).approved


def test_daily_loss_limit_trips_at_the_limit_and_resets_next_day() -> None:
    desk = Desk(daily_loss_limit=usd(100), loss_velocity_limit=usd(1_000))
    assert desk.risk.update_pnl(usd(-99) - 9_999) == []  # $99.9999 lost: one unit short
    assert desk.place("A1", BID, "0.50", 1).approved
    actions = desk.risk.update_pnl(usd(-100))
    assert _kinds(actions) == _cancel_all(Rule.DAILY_LOSS_LIMIT)
    assert actions[0].reason == "day P&L -100.0000 reached the loss limit 100.0000"
    assert desk.place("A1", BID, "0.50", 1).rule is Rule.DAILY_LOSS_LIMIT
    desk.risk.update_pnl(usd(-50))  # recovering does not reopen the day
    assert desk.place("A1", BID, "0.50", 1).rule is Rule.DAILY_LOSS_LIMIT
    desk.risk.start_new_day(who="scheduler")
    assert desk.risk.day_pnl == 0
    assert desk.place("A1", BID, "0.50", 1).approved
    # The new day's loss is measured from its own start: -50 → -149 is a $99 day.
    assert desk.risk.update_pnl(usd(-149)) == []
    assert _kinds(desk.risk.update_pnl(usd(-150))) == _cancel_all(Rule.DAILY_LOSS_LIMIT)
    kinds = [e.kind for e in desk.risk.drain_events()]
    assert kinds == [
        EventKind.BREAKER_TRIPPED,
        EventKind.DAY_STARTED,
        EventKind.BREAKER_RESET,
        EventKind.BREAKER_TRIPPED,
    ]


def test_loss_velocity_trips_on_a_fast_drop_not_a_slow_one() -> None:
    desk = Desk(loss_velocity_limit=usd(50), loss_velocity_window_ms=300_000, loss_velocity_cooldown_ms=900_000)
    # Slow: $60 lost over 10 minutes, never $50 within 5.
    # Its window and cool-down are market time: the monotonic clock stands still throughout.
    for step in range(11):
        assert desk.risk.update_pnl(usd(-6 * step)) == []
        desk.market.advance(60_000)
    assert not desk.risk.halted
    # Fast: a new peak, then $50 down within the window.
    desk.risk.update_pnl(usd(10))
    desk.market.advance(120_000)
    assert desk.risk.update_pnl(usd(-39)) == []
    actions = desk.risk.update_pnl(usd(-40))
    assert _kinds(actions) == _cancel_all(Rule.LOSS_VELOCITY)
    assert actions[0].reason == "lost 50.0000 from the peak within 300s"
    assert desk.place("A1", BID, "0.50", 1).rule is Rule.LOSS_VELOCITY
    desk.market.advance(899_999)
    desk.risk.tick()
    assert desk.risk.halted
    desk.market.advance(1)
    desk.risk.tick()
    assert not desk.risk.halted
    assert desk.risk.update_pnl(usd(-40)) == []  # the window starts afresh after a reset


def test_loss_velocity_keeps_the_market_pace_not_the_wall() -> None:
    """Under a simulated exchange at 600x, a drop spread over 10 market minutes is slow however
    little wall time passed, and the cool-down ends after 15 market minutes (1.5 wall seconds)."""
    desk = Desk(loss_velocity_limit=usd(50), loss_velocity_window_ms=300_000, loss_velocity_cooldown_ms=900_000)
    for step in range(11):
        assert desk.risk.update_pnl(usd(-6 * step)) == []
        desk.clock.advance(100)  # 0.1 s of wall time …
        desk.market.advance(60_000)  # … is a market minute
    assert not desk.risk.halted
    desk.risk.update_pnl(usd(0))
    assert _kinds(desk.risk.update_pnl(usd(-50))) == _cancel_all(Rule.LOSS_VELOCITY)
    desk.clock.advance(1_500)
    desk.market.advance(900_000)
    desk.risk.tick()
    assert not desk.risk.halted


def test_a_new_trading_day_in_market_time_resets_the_daily_loss_breaker() -> None:
    desk = Desk(daily_loss_limit=usd(100), loss_velocity_limit=usd(1_000))
    assert _kinds(desk.risk.update_pnl(usd(-100))) == _cancel_all(Rule.DAILY_LOSS_LIMIT)
    desk.market.advance(13 * 3_600_000)  # 23:00 in New York: still the same trading day
    desk.risk.tick()
    assert desk.place("A1", BID, "0.50", 1).rule is Rule.DAILY_LOSS_LIMIT
    desk.market.advance(3_600_000)  # midnight in New York
    desk.risk.tick()
    assert desk.risk.day_pnl == 0
    assert desk.place("A1", BID, "0.50", 1).approved
    day = [(e.kind, e.who) for e in desk.risk.drain_events() if e.kind is not EventKind.BREAKER_TRIPPED]
    assert day == [(EventKind.DAY_STARTED, "risk"), (EventKind.BREAKER_RESET, "risk")]
    desk.risk.tick()  # the same day again: nothing new
    assert desk.risk.drain_events() == []


def test_feed_down_blocks_after_the_allowance_and_resets_when_alive() -> None:
    desk = Desk(feed_stale_ms=10_000, max_book_age_ms=60_000)
    desk.risk.feed_alive()
    desk.risk.feed_lost()
    desk.clock.advance(9_999)
    assert desk.place("A1", BID, "0.50", 1).approved
    assert desk.risk.tick() == []
    desk.clock.advance(1)
    # Blocked at once, even before the periodic tick records the trip.
    d = desk.place("A1", BID, "0.50", 1)
    assert d.rule is Rule.FEED_DOWN
    assert "feed lost for 10.0s" in d.reason
    actions = desk.risk.tick()
    assert _kinds(actions) == _cancel_all(Rule.FEED_DOWN)
    assert desk.risk.tick() == []
    desk.risk.feed_alive()
    assert not desk.risk.halted
    assert [(e.kind, e.reason) for e in desk.risk.drain_events()] == [
        (EventKind.BREAKER_TRIPPED, "market-data feed lost for 10.0s"),
        (EventKind.BREAKER_RESET, "the feed is alive again"),
    ]


def test_a_silent_feed_counts_as_down() -> None:
    desk = Desk(feed_stale_ms=10_000, max_book_age_ms=60_000)
    desk.risk.feed_alive()
    desk.clock.advance(10_000)
    assert _kinds(desk.risk.tick()) == _cancel_all(Rule.FEED_DOWN)
    assert desk.place("A1", BID, "0.50", 1).rule is Rule.FEED_DOWN


def test_kill_switch_cancels_flattens_and_blocks_until_a_person_resets_it() -> None:
    desk = Desk(max_consecutive_errors=1)
    _long_a1(desk)
    assert desk.place("A2", BID, "0.40", 5, coid="resting", book=desk.book("A2")).approved
    actions = desk.risk.kill(who="ana", why="runaway quoting", flatten=True)
    assert [(a.kind, a.tickers) for a in actions] == [(ActionKind.CANCEL_ALL, ()), (ActionKind.FLATTEN, ("A1",))]
    assert desk.risk.kill_switch is not None
    assert desk.risk.kill_switch.who == "ana"
    # Everything that adds risk is blocked, whatever it is.
    for d in (
        desk.place("A2", BID, "0.40", 1),
        desk.place("B1", ASK, "0.50", 1, book=desk.book("B1")),
        desk.place("A2", BID, "0.40", 1, reduce_only=True),
        desk.amend("A2", BID, "0.41", 5, "resting"),
    ):
        assert (d.approved, d.rule) == (False, Rule.KILL_SWITCH)
        assert d.reason.startswith("trading is halted (kill switch engaged by ana: runaway quoting)")
    # Cancels and the flattening exit pass.
    assert desk.risk.check_and_reserve(OrderIntent.cancel("A2", "resting")).approved
    assert desk.place("A1", ASK, "0.49", 10, reduce_only=True).approved
    # Time, ticks, a new day and breaker resets do not lift it.
    desk.clock.advance(86_400_000)
    desk.risk.tick()
    desk.risk.start_new_day()
    desk.risk.feed_alive()
    assert desk.place("A2", BID, "0.40", 1).rule is Rule.KILL_SWITCH
    with pytest.raises(ValueError, match="who you are and why"):
        desk.risk.reset_kill_switch(who="ana", why="")
    assert desk.risk.reset_kill_switch(who="ana", why="strategy fixed, reviewed by bo")
    assert not desk.risk.reset_kill_switch(who="ana", why="twice")
    assert desk.place("A2", BID, "0.40", 1).approved
    events = [(e.kind, e.who, e.reason) for e in desk.risk.drain_events() if e.rule is Rule.KILL_SWITCH]
    assert events == [
        (EventKind.KILL_SWITCH_ENGAGED, "ana", "runaway quoting"),
        (EventKind.KILL_SWITCH_RESET, "ana", "strategy fixed, reviewed by bo"),
    ]


def test_kill_without_flatten_only_cancels() -> None:
    desk = Desk()
    _long_a1(desk)
    assert _kinds(desk.risk.kill(who="ops", why="maintenance")) == _cancel_all(Rule.KILL_SWITCH)
    with pytest.raises(ValueError, match="who you are and why"):
        desk.risk.kill(who="", why="no name")
    intent = OrderIntent.place("A1", BID, px("0.5"), qty(1), "k")
    assert desk.risk.check(intent, book=desk.book("A1")).rule is Rule.KILL_SWITCH
