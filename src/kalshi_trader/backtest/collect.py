"""What a backtest measures while it runs, and its result.

Contract:
- ``Collector`` watches the running parts (``attach``): every fill of the account (attributed to
  the strategy whose order it was, through the engine's tracker), exposure high-water marks after
  every strategy step and fill (risk's total exposure, the largest position in one market, open
  orders), a sample every ``sample_ms`` (the account's P&L: the tracker's realized, unrealized at
  the mids of fresh books and fees; each fresh book's YES bid and ask), the fair values against
  the market mid at each refresh (with hours to close), and the markets' outcomes (lifecycle
  ``determined``; the recorded market reads for those determined before the replay followed them).
- ``BacktestResult`` is plain data (picklable, JSON-able through ``to_json``): the run's facts, the
  totals, fills, samples, per-market and per-strategy P&L, refusals by rule and the fair-value
  samples. Money figures are ``Money`` ($0.0001), prices ``Price``, counts ``Qty``.
- Per market and strategy, P&L is counted from the fills: YES bought at p costs p, YES sold (NO
  bought) brings p, fees are paid, and what is held at the end is valued as the run's P&L values
  it: at the settlement value if the engine's tracker settled the market, else at the engine's
  mark (``marked``), else at the account's average entry price (``unmarked``: the run's P&L
  leaves such a position out, so it counts for nothing here either). A market counts as *won* when that P&L is
  above zero; markets still held and unmarked are left out of the win rate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from kalshi_trader.domain import PRICE_SCALE, QTY_SCALE, BookSide, Fill
from kalshi_trader.marketdata.monitor import MarketLifecycle

if TYPE_CHECKING:
    from kalshi_trader.backtest.replay import MarketReplay
    from kalshi_trader.execution.engine import ExecutionEngine
    from kalshi_trader.host.fair import FairValueFeed
    from kalshi_trader.host.strategies import StrategyHost
    from kalshi_trader.marketdata.monitor import Monitor

__all__ = ["BacktestResult", "Collector", "FillRow", "MarketPnl"]

HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class FillRow:
    ts_ms: int
    ticker: str
    strategy: str
    side: str
    """``bid`` (bought YES) or ``ask`` (sold YES / bought NO)."""
    price: int
    qty: int
    fee: int
    taker: bool


@dataclass(slots=True)
class MarketPnl:
    ticker: str
    strategy: str
    cash: int = 0
    """Σ YES sold × price − Σ YES bought × price (Money)."""
    fees: int = 0
    position: int = 0
    """YES contracts held (Qty; negative: NO)."""
    fills: int = 0
    value: int = 0
    """What the position is worth at the end (Money)."""
    valued: str = "flat"
    """``flat``, ``settled``, ``marked`` (last mid) or ``unmarked``."""

    @property
    def pnl(self) -> int:
        return self.cash - self.fees + self.value


@dataclass(slots=True)
class BacktestResult:
    data: str
    data_kind: str
    strategies: list[str]
    overrides: dict[str, str]
    start_ms: int = 0
    end_ms: int = 0
    trading_from_ms: int = 0
    records: int = 0
    frames: int = 0
    wall_s: float = 0.0
    gaps: dict[str, int] = field(default_factory=dict)
    realized: int = 0
    unrealized: int = 0
    fees: int = 0
    fills: list[FillRow] = field(default_factory=list)
    equity: list[tuple[int, int]] = field(default_factory=list)
    """(market ms, net P&L Money) samples, the last one at the end."""
    markets: list[MarketPnl] = field(default_factory=list)
    refused: dict[str, dict[str, int]] = field(default_factory=dict)
    """strategy → rule → intents refused (``deferred``, ``held_halted`` and ``repeated`` too: intents
    the host held back without asking risk)."""
    max_total_exposure: int = 0
    max_position: int = 0
    max_position_ticker: str = ""
    max_open_orders: int = 0
    fair_samples: list[tuple[str, int, int, int]] = field(default_factory=list)
    """(ticker, ms to close, fair value, mid) at each fair-value refresh, fresh books only."""
    outcomes: dict[str, int] = field(default_factory=dict)
    """ticker → YES value paid (Price) for the markets determined by the end."""
    prices: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)
    """ticker → (market ms, YES bid, YES ask) samples; markets with fills only."""
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def net(self) -> int:
        return self.realized + self.unrealized - self.fees

    @property
    def max_drawdown(self) -> int:
        peak, worst = 0, 0
        for _, value in self.equity:
            peak = max(peak, value)
            worst = max(worst, peak - value)
        return worst

    def to_json(self) -> bytes:
        body = asdict(self)
        body["net"] = self.net
        body["max_drawdown"] = self.max_drawdown
        return msgspec.json.encode(body)

    @classmethod
    def from_json(cls, raw: bytes) -> BacktestResult:
        body: dict[str, Any] = msgspec.json.decode(raw)
        body.pop("net", None)
        body.pop("max_drawdown", None)
        body["fills"] = [FillRow(**f) for f in body["fills"]]
        body["markets"] = [MarketPnl(**m) for m in body["markets"]]
        body["equity"] = [tuple(e) for e in body["equity"]]
        body["fair_samples"] = [tuple(s) for s in body["fair_samples"]]
        body["prices"] = {t: [tuple(p) for p in ps] for t, ps in body["prices"].items()}
        return cls(**body)


def money_of(price: int, qty: int) -> int:
    """Price × Qty in Money (exact for whole cents; rounded toward zero below $0.0001)."""
    return price * qty // QTY_SCALE


class Collector:
    """See the module docstring."""

    def __init__(self, data: str, data_kind: str, strategies: list[str], overrides: dict[str, str]) -> None:
        self.result_ = BacktestResult(data, data_kind, strategies, overrides)
        self._prices: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        self._first_ms = 0

    def attach(self, engine: ExecutionEngine, host: StrategyHost, monitor: Monitor, fair: FairValueFeed) -> None:
        self.engine, self.host, self.monitor, self.fair = engine, host, monitor, fair

    def started(self, ms: int) -> None:
        self.result_.trading_from_ms = ms

    def first_record(self, ms: int) -> None:
        self.result_.start_ms = ms

    # -- while running ---------------------------------------------------------------------------

    def on_fill(self, fill: Fill) -> None:
        tracker = self.engine.tracker
        tracked = tracker.order(fill.order_id) or (
            tracker.order(fill.client_order_id) if fill.client_order_id else None
        )
        strategy = tracked.strategy if tracked is not None and tracked.strategy else "(none)"
        side = "bid" if fill.side is BookSide.BID else "ask"
        self.result_.fills.append(
            FillRow(
                fill.ts_ms, fill.ticker, strategy, side, int(fill.price), int(fill.qty), int(fill.fee), fill.is_taker
            )
        )
        self._exposure()
        self._largest_position()

    def after_step(self) -> None:
        """A step changes orders, not positions (only fills do: ``on_fill`` reads those)."""
        self._exposure()

    def _exposure(self) -> None:
        r, engine = self.result_, self.engine
        r.max_total_exposure = max(r.max_total_exposure, int(engine.risk.total_exposure()))
        r.max_open_orders = max(r.max_open_orders, engine.tracker.open_count())

    def _largest_position(self) -> None:
        r = self.result_
        for p in self.engine.positions():
            if abs(int(p.qty)) > r.max_position:
                r.max_position, r.max_position_ticker = abs(int(p.qty)), p.ticker

    def on_fair_values(self) -> None:
        now = self.monitor.clock_ms()
        samples = self.result_.fair_samples
        books, markets = self.monitor.books, self.monitor.markets
        for ticker, fv in self.fair.values.items():
            book, info = books.get(ticker), markets.get(ticker)
            if book is None or info is None or book.stale:
                continue
            mid = book.mid()
            if mid is not None and info.close_ms > now:
                samples.append((ticker, info.close_ms - now, int(fv.price), int(mid)))

    def sample(self) -> None:
        now = self.monitor.clock_ms()
        tracker, marks = self.engine.tracker, self.engine.marks()
        self.result_.equity.append((now, int(tracker.net_pnl(marks))))
        for ticker, book in self.monitor.books.items():
            if book.stale:
                continue
            bid, ask = book.best_yes_bid(), book.best_yes_ask()
            if bid is not None or ask is not None:
                self._prices[ticker].append((now, -1 if bid is None else int(bid), -1 if ask is None else int(ask)))

    def on_lifecycle(self, event: MarketLifecycle) -> None:
        if event.info is not None and event.ticker not in self.result_.titles:
            info = event.info
            self.result_.titles[event.ticker] = f"{info.title} {info.yes_sub_title}".strip()
        if event.kind == "determined":
            value: int | None = event.settlement_value
            if value is None and event.result in ("yes", "no"):
                value = PRICE_SCALE if event.result == "yes" else 0
            if value is not None:
                self.result_.outcomes[event.ticker] = int(value)

    # -- at the end ------------------------------------------------------------------------------

    def finish(self, now: int, records: int, wall_s: float, replay: MarketReplay) -> None:
        r, tracker = self.result_, self.engine.tracker
        for ticker, report in replay.markets.reports.items():
            if ticker not in r.outcomes and report.settlement_value is not None:
                r.outcomes[ticker] = int(report.settlement_value)
        marks = self.engine.marks()
        r.end_ms, r.records, r.wall_s = now, records, wall_s
        r.frames = replay.stats.frames
        r.gaps = dict(replay.stats.gaps)
        r.realized = int(tracker.realized_pnl())
        r.unrealized = int(tracker.unrealized_pnl(marks))
        r.fees = int(tracker.fees_paid())
        r.equity.append((now, int(tracker.net_pnl(marks))))
        r.markets = self._market_pnl(marks)
        traded = {f.ticker for f in r.fills}
        r.prices = {t: ps for t, ps in self._prices.items() if t in traded}
        r.refused = {}
        for hosted in self.host.all():
            rules = dict(hosted.refused_by)
            for name, count in (
                ("(deferred: write budget)", hosted.deferred),
                ("(held: risk halted)", hosted.held_halted),
                ("(repeated refusal)", hosted.repeated),
            ):
                if count:
                    rules[name] = count
            r.refused[hosted.name] = rules

    def _market_pnl(self, marks: dict[str, int]) -> list[MarketPnl]:
        rows: dict[tuple[str, str], MarketPnl] = {}
        for f in self.result_.fills:
            row = rows.get((f.ticker, f.strategy))
            if row is None:
                row = rows[(f.ticker, f.strategy)] = MarketPnl(f.ticker, f.strategy)
            amount = money_of(f.price, f.qty)
            if f.side == "bid":
                row.cash -= amount
                row.position += f.qty
            else:
                row.cash += amount
                row.position -= f.qty
            row.fees += f.fee
            row.fills += 1
        for row in rows.values():
            if row.position == 0:
                continue
            settled = self.engine.tracker.settled_value(row.ticker)
            mark = marks.get(row.ticker)
            if settled is not None:
                row.value, row.valued = money_of(settled, row.position), "settled"
            elif mark is not None:
                row.value, row.valued = money_of(mark, row.position), "marked"
            else:  # the run's P&L leaves it out: at the account's average entry, it nets to nothing
                row.value, row.valued = money_of(self._entry_yes_price(row.ticker), row.position), "unmarked"
        return sorted(rows.values(), key=lambda m: (m.strategy, m.ticker))

    def _entry_yes_price(self, ticker: str) -> int:
        """The account's average entry in ``ticker`` as a YES price (0 when flat)."""
        tracker = self.engine.tracker
        cost = tracker.average_cost(ticker)
        if cost is None:
            return 0
        return int(cost) if tracker.position(ticker).qty > 0 else PRICE_SCALE - int(cost)

    def result(self) -> BacktestResult:
        return self.result_
