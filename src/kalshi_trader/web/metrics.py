"""Prometheus metrics of a node, read from its read models at scrape time (no bookkeeping of its
own, so the numbers can never drift from what the dashboard shows).

Every metric is prefixed ``kalshi_trader_``; money is in dollars (a float is fine here: these are
for graphs and alerts, never for trading).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from kalshi_trader.domain import PRICE_SCALE
from kalshi_trader.readmodels import NodeApi


def _dollars(amount: int) -> float:
    return amount / PRICE_SCALE


class NodeCollector(Collector):
    def __init__(self, node: NodeApi) -> None:
        self.node = node

    def collect(self) -> Iterator[Metric]:
        node = self.node
        bal = node.balance()
        risk = node.risk()
        conn = node.connection()
        health = node.health()
        points = node.pnl(limit=1)

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"kalshi_trader_{name}", doc, value=value)

        def counter(name: str, doc: str, value: float) -> CounterMetricFamily:
            return CounterMetricFamily(f"kalshi_trader_{name}", doc, value=value)

        yield gauge(
            "up",
            "1 while the node is running and healthy, 0.5 degraded, 0 stopped",
            {"ok": 1.0, "degraded": 0.5}.get(health.status, 0.0),
        )
        yield gauge("balance_dollars", "Cash balance at the exchange", _dollars(bal.balance))
        yield gauge("portfolio_value_dollars", "The exchange's value of open positions", _dollars(bal.portfolio_value))
        yield gauge(
            "exposure_dollars",
            "Worst-case loss over every market, resting orders included",
            _dollars(risk.total_exposure),
        )
        yield gauge("day_pnl_dollars", "Net P&L since the trading day started", _dollars(risk.day_pnl))
        if points:
            last = points[-1]
            yield gauge("realized_pnl_dollars", "Realized P&L (gross of fees)", _dollars(last.realized))
            yield gauge(
                "unrealized_pnl_dollars", "Open positions at the book mid minus cost", _dollars(last.unrealized)
            )
            yield gauge("fees_dollars", "Fees paid", _dollars(last.fees))
        yield gauge("open_orders", "Orders that can still trade", risk.open_orders)
        yield gauge("positions", "Markets with an open position", len(node.positions()))
        yield gauge("halted", "1 while the kill switch or a breaker blocks new risk", float(risk.halted))
        yield gauge("kill_switch", "1 while the kill switch is engaged", float(risk.kill_switch))
        breakers = GaugeMetricFamily("kalshi_trader_breaker_open", "1 while the breaker is open", labels=["rule"])
        for b in risk.breakers:
            breakers.add_metric([b.rule], float(b.open))
        yield breakers
        yield counter("intents_submitted", "Intents risk approved and the engine queued", risk.submitted)
        yield counter("intents_refused", "Intents risk or the engine refused", risk.refused)
        yield counter("orders_rejected", "Orders the exchange rejected", risk.rejected)
        yield counter("request_errors", "Failed exchange requests", risk.errors)
        yield gauge("ws_connected", "1 while the WebSocket feed is connected", float(conn.ws_connected))
        yield counter("ws_connects", "WebSocket connections made", conn.connects)
        yield counter("ws_frames", "WebSocket frames received", conn.frames)
        delays = HistogramMetricFamily(
            "kalshi_trader_ws_frame_delay_seconds",
            "Exchange to node delay of WebSocket frames (the exchange's sending_ts_ms to receipt), per channel",
            labels=["channel"],
        )
        for d in conn.feed_delays:
            bounds = [(repr(float(b)), count) for b, count in zip(d.buckets_s, d.buckets, strict=True)]
            delays.add_metric([d.channel], [*bounds, ("+Inf", d.frames)], d.sum_s)
        yield delays
        yield counter(
            "ws_frame_delay_negative",
            "WebSocket frames stamped later than they arrived (clock skew), all channels",
            sum(d.negative for d in conn.feed_delays),
        )
        yield gauge("books_fresh", "Order books that match the exchange", conn.books_fresh)
        yield gauge("books_total", "Order books followed", conn.books_total)
        yield gauge("store_pending", "Records waiting to be written", conn.store_pending)
        running = GaugeMetricFamily("kalshi_trader_strategy_running", "1 while the strategy runs", labels=["strategy"])
        orders = GaugeMetricFamily(
            "kalshi_trader_strategy_open_orders", "The strategy's open orders", labels=["strategy"]
        )
        for s in node.strategies():
            running.add_metric([s.name], float(s.running))
            orders.add_metric([s.name], s.open_orders)
        yield running
        yield orders
        alerts = node.alerts()
        yield counter("alerts_sent", "Alert messages every destination accepted", alerts.sent)
        yield counter("alerts_failed", "Alert sends to one destination that failed", alerts.failed)
        yield counter("alerts_merged", "Alerts folded into a later message about the same thing", alerts.merged)
        yield counter("alerts_dropped", "Alerts dropped while too many waited on the rate limit", alerts.dropped)
        yield gauge("alerts_waiting", "Alerts waiting for their window or the rate limit", alerts.waiting)


def registry_for(node: NodeApi) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NodeCollector(node))
    return registry
