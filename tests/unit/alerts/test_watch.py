"""The watcher turns changes in a node's read models into alerts: each kill switch, breaker and feed
change once, repeated rejections, fills when asked, and the day's summary when the trading day
turns — and nothing for a state the node already had when watching began."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast

from kalshi_trader.alerts.message import Alert, Severity
from kalshi_trader.alerts.watch import NodeWatcher, WatchOptions
from kalshi_trader.domain import BookSide, Money, Price, Qty
from kalshi_trader.readmodels import (
    BalanceView,
    BreakerView,
    ConnectionView,
    FillView,
    NodeApi,
    OrderView,
    RiskView,
    StrategyView,
)

NOON = int(datetime(2026, 12, 7, 17, 0, tzinfo=UTC).timestamp() * 1000)  # 12:00 in New York
RULES = ("consecutive_errors", "loss_velocity", "feed_down", "daily_loss_limit")


def _risk(**kw: Any) -> RiskView:
    base = RiskView(
        halted=False,
        kill_switch=False,
        kill_who="",
        kill_why="",
        breakers=tuple(BreakerView(r, False, "", None) for r in RULES),
        total_exposure=Money(1_500_000),
        max_total_exposure=Money(10_000_000),
        day_pnl=Money(0),
        daily_loss_limit=Money(1_000_000),
        open_orders=4,
        max_open_orders=150,
        submitted=0,
        refused=0,
        rejected=0,
        errors=0,
    )
    return replace(base, **kw)


def _fill(n: int) -> FillView:
    return FillView(
        f"f{n}",
        f"o{n}",
        f"c{n}",
        "KXHIGHNY-26DEC07-B45.5",
        BookSide.BID,
        Price(4_500),
        Qty(300),
        Money(700),
        True,
        NOON,
        "favorite",
    )


@dataclass
class StubNode:
    """Read models a test sets by hand (the watcher under test only reads them)."""

    risk_view: RiskView = field(default_factory=_risk)
    connected: bool = True
    market_ms: int = NOON
    fill_views: list[FillView] = field(default_factory=list)
    order_views: list[OrderView] = field(default_factory=list)
    mode: str = "sim"

    def risk(self) -> RiskView:
        return self.risk_view

    def connection(self) -> ConnectionView:
        return ConnectionView(
            "sim",
            "http://127.0.0.1:1/trade-api/v2",
            "ws://127.0.0.1:1/trade-api/ws/v2",
            self.connected,
            1,
            0,
            10,
            1,
            1,
            self.market_ms,
            "60x",
            "sqlite:///x",
            0,
            "",
            "",
        )

    def fills(self, *, limit: int = 200) -> list[FillView]:
        return self.fill_views[::-1][:limit]

    def orders(self, *, open_only: bool = True, limit: int = 500) -> list[OrderView]:
        return self.order_views[:limit]

    def balance(self) -> BalanceView:
        return BalanceView(Money(98_765_000), Money(0), 1)

    def strategies(self) -> list[StrategyView]:
        return []


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def _watch(node: StubNode, **options: Any) -> tuple[NodeWatcher, list[Alert], Clock]:
    posted: list[Alert] = []
    clock = Clock()
    watcher = NodeWatcher(cast(NodeApi, node), posted.append, WatchOptions(**options), monotonic=clock)
    watcher.poll()  # the first poll records the state
    return watcher, posted, clock


def _breaker(rule: str, reason: str) -> tuple[BreakerView, ...]:
    return tuple(BreakerView(r, r == rule, reason if r == rule else "", 1 if r == rule else None) for r in RULES)


def test_a_state_present_when_watching_starts_is_not_news() -> None:
    node = StubNode(risk_view=_risk(kill_switch=True, kill_who="ops", kill_why="earlier", halted=True))
    watcher, posted, _ = _watch(node)
    watcher.poll()
    assert posted == []


def test_kill_switch_engaged_and_reset_each_once() -> None:
    node = StubNode()
    watcher, posted, _ = _watch(node)
    node.risk_view = _risk(kill_switch=True, kill_who="dashboard", kill_why="model looks wrong", halted=True)
    watcher.poll()
    watcher.poll()
    [engaged] = posted
    assert engaged.key == "kill_switch"
    assert engaged.title == "Kill switch engaged by dashboard: model looks wrong"
    assert engaged.severity is Severity.FAILURE
    assert ("exposure", "$150.00") in engaged.details
    node.risk_view = _risk()
    watcher.poll()
    assert [a.title for a in posted[1:]] == ["Kill switch reset: trading may resume"]


def test_each_breaker_trips_and_clears_once() -> None:
    node = StubNode()
    watcher, posted, _ = _watch(node)
    node.risk_view = _risk(breakers=_breaker("loss_velocity", "P&L fell $60.00 in 5 min"), halted=True)
    watcher.poll()
    watcher.poll()
    node.risk_view = _risk()
    watcher.poll()
    assert [(a.key, a.title) for a in posted] == [
        ("breaker:loss_velocity", "Breaker loss_velocity tripped: P&L fell $60.00 in 5 min"),
        ("breaker:loss_velocity", "Breaker loss_velocity cleared"),
    ]


def test_feed_lost_and_back_say_how_long_it_was_down() -> None:
    node = StubNode()
    watcher, posted, clock = _watch(node)
    node.connected = False
    watcher.poll()
    clock.t += 42
    node.connected = True
    watcher.poll()
    assert [a.title for a in posted] == ["Exchange feed lost", "Exchange feed back after 42 s"]
    assert all(a.key == "feed" for a in posted)


def test_rejections_alert_only_when_repeated_within_the_window() -> None:
    node = StubNode()
    watcher, posted, clock = _watch(node, rejections=3, rejections_window_s=60)
    for n in (1, 2):
        clock.t += 70  # two rejections 70 s apart: not "repeated"
        node.risk_view = _risk(rejected=n)
        watcher.poll()
    assert posted == []
    clock.t += 1
    node.risk_view = _risk(rejected=4)
    watcher.poll()
    [alert] = posted
    assert alert.key == "rejections"
    assert alert.title == "The exchange rejected 3 orders in the last 60 s"


def test_fills_are_alerted_only_when_asked_but_always_counted_for_the_summary() -> None:
    node = StubNode()
    quiet, quiet_posted, _ = _watch(node, daily_summary=True)
    loud_node = StubNode()
    loud, loud_posted, _ = _watch(loud_node, fills=True)
    for target in (node, loud_node):
        target.fill_views = [_fill(1), _fill(2)]
    quiet.poll()
    loud.poll()
    assert quiet_posted == []
    assert [a.title for a in loud_posted] == [
        "Filled 3.00 on the bid of KXHIGHNY-26DEC07-B45.5 at YES $0.4500",
        "Filled 3.00 on the bid of KXHIGHNY-26DEC07-B45.5 at YES $0.4500",
    ]
    assert [a.key for a in loud_posted] == ["fill:f1", "fill:f2"]


def test_the_daily_summary_reports_the_day_that_ended() -> None:
    node = StubNode()
    watcher, posted, _ = _watch(node)
    node.fill_views = [_fill(1)]
    node.risk_view = _risk(day_pnl=Money(123_400))
    watcher.poll()
    node.market_ms = NOON + 13 * 3_600_000  # 01:00 next day in New York; risk started a new day
    node.risk_view = _risk(day_pnl=Money(0))
    watcher.poll()
    [summary] = posted
    assert summary.key == "summary:2026-12-07"
    assert summary.title == "Day 2026-12-07: P&L +$12.34, 1 fill(s), exposure $150.00"
    assert ("balance", "$9,876.50") in summary.details


def test_start_and_stop_alerts_carry_the_resting_order_count() -> None:
    order = OrderView(
        "c1",
        "o1",
        "T",
        BookSide.BID,
        Price(4_000),
        Qty(100),
        Qty(0),
        Qty(100),
        "resting",
        "gtc",
        False,
        False,
        "favorite",
        "entry",
        1,
    )
    node = StubNode(order_views=[order, order])
    watcher, _, _ = _watch(node)
    started = watcher.started()
    assert started.title == "Node started in sim mode, 2 resting order(s)"
    stopped = watcher.stopped("shutdown", canceled=2, still_resting=0, open_positions=1)
    assert stopped.title == "Node stopped (shutdown): 0 order(s) left resting"
    assert stopped.severity is Severity.INFO
    assert watcher.stopped("shutdown", canceled=0, still_resting=3, open_positions=0).severity is Severity.FAILURE
