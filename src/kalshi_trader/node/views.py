"""The node's read models (``readmodels.NodeApi``): balance, positions, orders, fills, markets,
books, fair values, P&L, strategies, risk, connection and health — synchronous and cheap.
"""

from __future__ import annotations

import time

import structlog

from kalshi_trader.domain import (
    Level,
    MarketInfo,
    Money,
    Price,
    Qty,
    Side,
    complement,
)
from kalshi_trader.execution.orders import TrackedOrder
from kalshi_trader.kalshi.delays import BUCKETS_S
from kalshi_trader.kalshi.ws import WsSession
from kalshi_trader.node.state import NodeState, wall_ms
from kalshi_trader.readmodels import (
    AlertsView,
    BalanceView,
    BookView,
    BreakerView,
    CommandError,
    ConnectionView,
    DecisionView,
    FairValueView,
    FeedDelayView,
    FillView,
    HealthCheck,
    HealthView,
    MarketView,
    OrderView,
    PnlPoint,
    PositionView,
    RiskView,
    StrategyView,
)
from kalshi_trader.risk.decisions import BREAKERS
from kalshi_trader.store import redact_text

__all__ = ["NodeViews"]

log = structlog.get_logger(__name__)


class NodeViews(NodeState):
    """See the module docstring."""

    def balance(self) -> BalanceView:
        return self._balance

    def _title(self, ticker: str) -> tuple[str, str]:
        info = self.monitor.markets.get(ticker) if self.monitor is not None else None
        return (info.title, info.yes_sub_title) if info is not None else ("", "")

    def positions(self) -> list[PositionView]:
        engine = self.require_engine()
        tracker, marks = engine.tracker, self._marks()
        out = []
        for p in sorted(tracker.positions(), key=lambda p: p.ticker):
            mark = marks.get(p.ticker)
            out.append(
                PositionView(
                    ticker=p.ticker,
                    title=self._title(p.ticker)[0],
                    qty=p.qty,
                    average_cost=tracker.average_cost(p.ticker),
                    cost=p.cost,
                    mark=Price(mark) if mark is not None else None,
                    unrealized=tracker.unrealized_pnl({p.ticker: mark} if mark is not None else {}),
                    realized=p.realized_pnl,
                    fees=p.fees_paid,
                    exposure=Money(-(-engine.risk.exposure(p.ticker).loss // 100)),
                )
            )
        return out

    @staticmethod
    def _order_view(t: TrackedOrder) -> OrderView:
        return OrderView(
            client_order_id=t.client_order_id,
            order_id=t.order_id,
            ticker=t.ticker,
            side=t.side,
            price=t.price,
            size=t.size,
            filled=t.filled,
            remaining=t.remaining,
            state=t.state.value,
            tif=t.tif.value,
            post_only=t.post_only,
            reduce_only=t.reduce_only,
            strategy=t.strategy,
            reason=t.reason,
            updated_ms=t.exchange_ms,
            last_update_reason=t.last_update_reason,
        )

    def orders(self, *, open_only: bool = True, limit: int = 500) -> list[OrderView]:
        engine = self.require_engine()
        tracked = engine.open_orders() if open_only else engine.orders()
        views = [self._order_view(t) for t in tracked]
        views.sort(key=lambda v: (v.updated_ms, v.client_order_id), reverse=True)
        return views[:limit]

    def fills(self, *, limit: int = 200) -> list[FillView]:
        engine = self.require_engine()
        out = []
        for fill in list(self._fills)[::-1][:limit]:
            tracked = engine.tracker.order(fill.order_id)
            out.append(
                FillView(
                    fill_id=fill.fill_id,
                    order_id=fill.order_id,
                    client_order_id=fill.client_order_id or (tracked.client_order_id if tracked else ""),
                    ticker=fill.ticker,
                    side=fill.side,
                    price=fill.price,
                    qty=fill.qty,
                    fee=fill.fee,
                    is_taker=fill.is_taker,
                    ts_ms=fill.ts_ms,
                    strategy=tracked.strategy if tracked else "",
                )
            )
        return out

    def markets(self) -> list[MarketView]:
        monitor, engine = self.monitor, self.require_engine()
        if monitor is None:
            return []
        fair = self.fair_value_map()
        out = []
        for ticker, info in sorted(monitor.markets.items(), key=lambda kv: (kv[1].close_ms, kv[0])):
            book = monitor.book(ticker)
            tick = self._tickers.get(ticker)
            fv = fair.get(ticker)
            out.append(
                MarketView(
                    ticker=ticker,
                    event_ticker=info.event_ticker,
                    series_ticker=info.series_ticker,
                    title=info.title,
                    subtitle=info.yes_sub_title,
                    status=info.status.value,
                    close_ms=info.close_ms,
                    best_bid=book.best_yes_bid() if book else None,
                    best_ask=book.best_yes_ask() if book else None,
                    bid_qty=book.best_yes_bid_size() if book else Qty(0),
                    ask_qty=book.best_yes_ask_size() if book else Qty(0),
                    last_price=tick.last_price if tick and tick.last_price else None,
                    volume=tick.volume if tick else Qty(0),
                    fair_value=fv.price if fv else None,
                    stale=book.stale if book else True,
                    position=engine.tracker.position(ticker).qty,
                )
            )
        return out

    def book(self, ticker: str, *, depth: int = 10) -> BookView | None:
        monitor, engine = self.monitor, self.require_engine()
        book = monitor.book(ticker) if monitor is not None else None
        if book is None:
            return None
        title, subtitle = self._title(ticker)
        fv = self.fair_value_map().get(ticker)
        asks = tuple(Level(complement(lv.price), lv.qty) for lv in book.depth(Side.NO, depth))
        return BookView(
            ticker=ticker,
            title=title,
            subtitle=subtitle,
            stale=book.stale,
            yes_bids=tuple(book.depth(Side.YES, depth)),
            yes_asks=asks,
            fair_value=fv.price if fv else None,
            uncertainty=fv.uncertainty if fv else None,
            own_orders=tuple(self._order_view(t) for t in engine.open_orders(ticker)),
            history=tuple(self._history.get(ticker, ())),
        )

    def fair_values(self) -> list[FairValueView]:
        monitor = self.monitor
        out = []
        for ticker, fv in sorted(self.fair_value_map().items()):
            info: MarketInfo | None = monitor.markets.get(ticker) if monitor is not None else None
            book = monitor.book(ticker) if monitor is not None else None
            out.append(
                FairValueView(
                    ticker=ticker,
                    event_ticker=info.event_ticker if info else "",
                    title=f"{info.title}" if info else "",
                    price=fv.price,
                    uncertainty=fv.uncertainty,
                    as_of_ms=fv.as_of_ms,
                    source=fv.source,
                    mid=book.mid() if book is not None and not book.stale else None,
                )
            )
        return out

    def pnl(self, *, limit: int = 2000) -> list[PnlPoint]:
        points = list(self._pnl)
        if len(points) <= limit:
            return points
        step = len(points) / limit
        return [points[int(i * step)] for i in range(limit - 1)] + [points[-1]]

    def _strategy_view(self, name: str) -> StrategyView:
        host = self.host
        if host is None:
            raise CommandError("the node is not running")
        try:
            h = host.hosted(name)
        except KeyError:
            raise CommandError(f"no strategy named {name!r}; known: {', '.join(host.names)}") from None
        own = host.own_orders(name)
        decisions = sorted(h.decisions.values(), key=lambda d: (d.ts_ms, d.ticker), reverse=True)[:50]
        tickers = {f.ticker for f in h.fills}
        positions = sum(1 for p in self.require_engine().positions() if p.ticker in tickers and p.qty)
        return StrategyView(
            name=name,
            title=h.title,
            enabled=h.runner.strategy.enabled,
            running=h.runner.running,
            open_orders=len(own),
            positions=positions,
            fills=len(h.fills),
            steps=h.steps,
            actions=h.actions,
            refused=h.refused,
            last_error=h.last_error,
            decisions=tuple(DecisionView(d.ticker, d.verdict.value, d.reason, d.ts_ms) for d in decisions),
        )

    def strategies(self) -> list[StrategyView]:
        return [self._strategy_view(name) for name in (self.host.names if self.host else [])]

    def risk(self) -> RiskView:
        engine = self.require_engine()
        risk, limits = engine.risk, self.limits
        kill = risk.kill_switch
        open_breakers = {b.rule.value: b for b in risk.open_breakers()}
        breakers = tuple(
            BreakerView(
                rule.value,
                rule.value in open_breakers,
                open_breakers[rule.value].reason if rule.value in open_breakers else "",
                open_breakers[rule.value].tripped_ms if rule.value in open_breakers else None,
            )
            for rule in BREAKERS
        )
        status = engine.status()
        return RiskView(
            halted=risk.halted,
            kill_switch=kill is not None,
            kill_who=kill.who if kill else "",
            kill_why=kill.why if kill else "",
            breakers=breakers,
            total_exposure=risk.total_exposure(),
            max_total_exposure=limits.max_total_exposure,
            day_pnl=risk.day_pnl,
            daily_loss_limit=limits.daily_loss_limit,
            open_orders=status.open_orders,
            max_open_orders=limits.max_open_orders,
            submitted=status.submitted,
            refused=status.refused,
            rejected=status.rejected,
            errors=status.errors,
        )

    def connection(self) -> ConnectionView:
        ws, monitor, recorder, store = self.ws, self.monitor, self.recorder, self.store
        stats = ws.stats if ws is not None else None
        books = monitor.books if monitor is not None else {}
        last = self.reconciler.last if self.reconciler is not None else None
        return ConnectionView(
            mode=self.mode,
            rest_url=self.rest_url,
            ws_url=self.ws_url,
            ws_connected=ws is not None and ws.connected and not self._stopped,
            connects=stats.connects if stats else 0,
            disconnects=stats.disconnects if stats else 0,
            frames=stats.frames if stats else 0,
            books_fresh=sum(1 for b in books.values() if not b.stale),
            books_total=len(books),
            market_time_ms=self._market_ms(),
            speed=self.speed_text,
            store=store.url if store is not None else "",
            store_pending=recorder.pending if recorder is not None else 0,
            store_error=redact_text(recorder.last_error or "") if recorder is not None else "",
            last_reconcile=(
                f"{last.reason}: {last.resting} resting, {len(last.discrepancies)} discrepancies" if last else ""
            ),
            feed_delays=_feed_delays(ws),
        )

    def alerts(self) -> AlertsView:
        return self.alerts_service.view()

    def health(self) -> HealthView:
        if not self._running:
            return HealthView("stopped", self.mode, time.monotonic() - self._started_mono, ())
        conn, risk = self.connection(), self.risk()
        fair = self.fair
        checks = [
            HealthCheck("exchange feed", conn.ws_connected, "connected" if conn.ws_connected else "disconnected"),
            HealthCheck(
                "order books",
                conn.books_total > 0 and conn.books_fresh == conn.books_total,
                f"{conn.books_fresh}/{conn.books_total} fresh",
            ),
            HealthCheck(
                "balance",
                not self._balance_error,
                self._balance_error or f"read {max(0, (wall_ms() - self._balance.as_of_ms) // 1000)} s ago",
            ),
            HealthCheck(
                "store",
                not conn.store_error,
                conn.store_error or f"{conn.store} ({conn.store_pending} pending)",
            ),
            HealthCheck(
                "risk",
                not risk.halted,
                "halted: kill switch" if risk.kill_switch else ("halted: breaker open" if risk.halted else "trading"),
            ),
            HealthCheck(
                "fair values",
                fair is not None and not fair.errors,
                f"{len(fair.values)} markets priced" + (f"; {len(fair.errors)} events failed" if fair.errors else "")
                if fair is not None
                else "not running",
            ),
        ]
        status = "ok" if all(c.ok for c in checks[:4]) else "degraded"
        return HealthView(status, self.mode, time.monotonic() - self._started_mono, tuple(checks))


def _feed_delays(ws: WsSession | None) -> tuple[FeedDelayView, ...]:
    """The session's per-channel frame delays, channels with frames only, busiest first."""
    if ws is None:
        return ()
    views = []
    for channel, delays in ws.delays.items():
        d = delays.snapshot()
        if d.count:
            views.append(
                FeedDelayView(channel, d.count, d.p50_ms, d.p99_ms, d.max_ms, d.negative, BUCKETS_S, d.buckets, d.sum_s)
            )
    views.sort(key=lambda v: (-v.frames, v.channel))
    return tuple(views)
