"""Turning what a running node shows into alerts: the watcher compares its read models between
polls and reports what changed.

Contract: ``NodeWatcher(node, post, options)`` reads only ``readmodels`` views (``risk``,
``connection``, ``fills``, ``balance``, ``orders``); ``poll()`` is synchronous and cheap and
posts (``post(alert)``, never blocking):
- the kill switch engaged (who, why) and reset;
- each breaker tripping (its reason) and clearing;
- the exchange feed lost and back (how long it was down);
- ``rejections`` or more orders rejected by the exchange within ``rejections_window_s``;
- with ``fills``, every new fill;
- with ``daily_summary``, when the trading day of market time (midnight New York) turns: the day
  that ended — its P&L (the last figure seen before the roll), fills, exposure and balance.
The first poll only records the state (a node starting with a breaker open reports it in its
start alert). ``started()`` / ``stopped(...)`` build the node's start and stop alerts.
Keys: ``kill_switch``, ``breaker:<rule>``, ``feed``, ``rejections``, ``fill:<id>``,
``summary:<day>``, ``node:start``, ``node:stop``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from kalshi_trader.alerts.message import Alert, Severity, dollars, span
from kalshi_trader.domain import BookSide, format_price, format_qty, trading_day
from kalshi_trader.readmodels import NodeApi, RiskView

__all__ = ["NodeWatcher", "WatchOptions"]


@dataclass(frozen=True, slots=True)
class WatchOptions:
    fills: bool = False
    daily_summary: bool = True
    rejections: int = 3
    rejections_window_s: float = 60.0


class NodeWatcher:
    def __init__(
        self,
        node: NodeApi,
        post: Callable[[Alert], None],
        options: WatchOptions,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._node = node
        self._post = post
        self._opts = options
        self._mono = monotonic
        self._primed = False
        self._kill = False
        self._open: dict[str, str] = {}
        self._feed_up = True
        self._feed_lost_at = 0.0
        self._rejected = 0
        self._rejections: deque[float] = deque()
        self._seen_fills: set[str] = set()
        self._day: date | None = None
        self._day_fills = 0
        self._day_pnl = 0

    # -- start and stop ------------------------------------------------------------------------

    def started(self) -> Alert:
        node = self._node
        conn, risk = node.connection(), node.risk()
        running = [s.name for s in node.strategies() if s.running]
        resting = len(node.orders())
        details = [
            ("exchange", f"{conn.rest_url} ({conn.speed})" if conn.speed != "real time" else conn.rest_url),
            ("resting orders", str(resting)),
            ("strategies running", ", ".join(running) or "none"),
            ("balance", dollars(node.balance().balance)),
            ("exposure", dollars(risk.total_exposure)),
        ]
        halted = self._halts(risk)
        if halted:
            details.append(("halted", halted))
        return Alert(
            "node:start",
            f"Node started in {node.mode} mode, {resting} resting order(s)" + (" (halted)" if halted else ""),
            tuple(details),
            Severity.WARNING if halted else Severity.SUCCESS,
        )

    def stopped(self, reason: str, *, canceled: int, still_resting: int, open_positions: int) -> Alert:
        left = "unknown" if still_resting < 0 else str(still_resting)
        return Alert(
            "node:stop",
            f"Node stopped ({reason}): {left} order(s) left resting",
            (("canceled", str(canceled)), ("left resting", left), ("open positions", str(open_positions))),
            Severity.INFO if still_resting == 0 else Severity.FAILURE,
        )

    @staticmethod
    def _halts(risk: RiskView) -> str:
        parts = [f"kill switch ({risk.kill_who}: {risk.kill_why})"] if risk.kill_switch else []
        parts += [f"{b.rule} ({b.reason})" for b in risk.breakers if b.open]
        return "; ".join(parts)

    # -- polling -------------------------------------------------------------------------------

    def poll(self) -> None:
        node = self._node
        risk, conn = node.risk(), node.connection()
        if not self._primed:
            self._prime(risk, conn.ws_connected, conn.market_time_ms)
            return
        self._check_kill(risk)
        self._check_breakers(risk)
        self._check_feed(conn.ws_connected, conn.ws_url)
        self._check_rejections(risk)
        self._check_fills()
        self._check_day(risk, conn.market_time_ms)

    def _prime(self, risk: RiskView, feed_up: bool, market_ms: int) -> None:
        self._primed = True
        self._kill = risk.kill_switch
        self._open = {b.rule: b.reason for b in risk.breakers if b.open}
        self._feed_up = feed_up
        self._feed_lost_at = self._mono()
        self._rejected = risk.rejected
        self._seen_fills = {f.fill_id for f in self._node.fills()}
        self._day = trading_day(market_ms)
        self._day_pnl = risk.day_pnl

    def _check_kill(self, risk: RiskView) -> None:
        if risk.kill_switch == self._kill:
            return
        self._kill = risk.kill_switch
        if risk.kill_switch:
            self._post(
                Alert(
                    "kill_switch",
                    f"Kill switch engaged by {risk.kill_who}: {risk.kill_why}",
                    (
                        ("who", risk.kill_who),
                        ("why", risk.kill_why),
                        ("open orders", str(risk.open_orders)),
                        ("exposure", dollars(risk.total_exposure)),
                        ("day P&L", dollars(risk.day_pnl, signed=True)),
                    ),
                    Severity.FAILURE,
                )
            )
        else:
            self._post(Alert("kill_switch", "Kill switch reset: trading may resume", (), Severity.SUCCESS))

    def _check_breakers(self, risk: RiskView) -> None:
        now_open = {b.rule: b.reason for b in risk.breakers if b.open}
        for rule, reason in now_open.items():
            if rule not in self._open:
                self._post(
                    Alert(
                        f"breaker:{rule}",
                        f"Breaker {rule} tripped: {reason}",
                        (("breaker", rule), ("reason", reason), ("exposure", dollars(risk.total_exposure))),
                        Severity.FAILURE,
                    )
                )
        for rule in self._open.keys() - now_open.keys():
            self._post(Alert(f"breaker:{rule}", f"Breaker {rule} cleared", (("breaker", rule),), Severity.SUCCESS))
        self._open = now_open

    def _check_feed(self, up: bool, ws_url: str) -> None:
        if up == self._feed_up:
            return
        self._feed_up = up
        now = self._mono()
        if not up:
            self._feed_lost_at = now
            self._post(Alert("feed", "Exchange feed lost", (("feed", ws_url),), Severity.WARNING))
        else:
            down = span(now - self._feed_lost_at)
            self._post(
                Alert("feed", f"Exchange feed back after {down}", (("feed", ws_url), ("down", down)), Severity.SUCCESS)
            )

    def _check_rejections(self, risk: RiskView) -> None:
        new = risk.rejected - self._rejected
        self._rejected = risk.rejected
        now = self._mono()
        window = self._opts.rejections_window_s
        self._rejections.extend([now] * max(0, new))
        while self._rejections and self._rejections[0] < now - window:
            self._rejections.popleft()
        if new > 0 and len(self._rejections) >= self._opts.rejections:
            count = len(self._rejections)
            details = [("rejected", f"{count} in the last {span(window)}"), ("total rejected", str(risk.rejected))]
            last = next((o for o in self._node.orders(open_only=False, limit=50) if o.state == "rejected"), None)
            if last is not None:
                details.append(("latest", f"{last.ticker} ({last.strategy or 'engine'})"))
            self._post(
                Alert(
                    "rejections",
                    f"The exchange rejected {count} orders in the last {span(window)}",
                    tuple(details),
                    Severity.WARNING,
                )
            )

    def _check_fills(self) -> None:
        fills = self._node.fills(limit=200)
        new = [f for f in fills if f.fill_id not in self._seen_fills]
        if not new:
            return
        self._day_fills += len(new)
        self._seen_fills = {f.fill_id for f in fills}
        if not self._opts.fills:
            return
        for f in reversed(new):  # oldest first
            side = "bid" if f.side is BookSide.BID else "ask"
            self._post(
                Alert(
                    f"fill:{f.fill_id}",
                    f"Filled {format_qty(f.qty)} on the {side} of {f.ticker} at YES ${format_price(f.price)}",
                    (
                        ("strategy", f.strategy or "engine"),
                        ("fee", dollars(f.fee)),
                        ("taker", "yes" if f.is_taker else "no"),
                    ),
                )
            )

    def _check_day(self, risk: RiskView, market_ms: int) -> None:
        day = trading_day(market_ms)
        if self._day is None or day == self._day:
            self._day_pnl = risk.day_pnl
            self._day = day
            return
        ended, pnl, fills = self._day, self._day_pnl, self._day_fills
        self._day, self._day_pnl, self._day_fills = day, risk.day_pnl, 0
        if not self._opts.daily_summary:
            return
        balance = self._node.balance().balance
        self._post(
            Alert(
                f"summary:{ended.isoformat()}",
                f"Day {ended.isoformat()}: P&L {dollars(pnl, signed=True)}, {fills} fill(s), "
                f"exposure {dollars(risk.total_exposure)}",
                (
                    ("day P&L", dollars(pnl, signed=True)),
                    ("fills", str(fills)),
                    ("exposure now", dollars(risk.total_exposure)),
                    ("balance", dollars(balance)),
                    ("open orders", str(risk.open_orders)),
                ),
            )
        )
