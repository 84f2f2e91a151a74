"""The trading node's read models and command surface: what the web (and anything else that shows
or commands a node) may see and ask for.

Contract:
- Every view is a frozen dataclass of domain values (``Price``/``Money`` in $0.0001, ``Qty`` in
  hundredths of a contract, times in milliseconds) and plain strings, taken between two event-loop
  steps, so a reader can keep, compare or serialise it while the node goes on. Money is exact:
  nothing here is a float except durations and chart coordinates that are only drawn.
- ``NodeApi`` is the protocol a node offers: reads (``balance`` … ``health``), commands
  (``start_strategy``, ``stop_strategy``, ``kill``, ``reset_risk``) and ``changes``, a
  ``ChangeFeed`` of topic names (``TOPICS``) published whenever something a view shows changed, so
  a dashboard is pushed updates instead of polling. Commands raise ``CommandError`` (a message for
  the user) for something that cannot be done; they never expose secrets.
- This module imports only ``domain`` (import-linter): the web depends on it, never on the node's
  parts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from kalshi_trader.domain import BookSide, Level, Money, Price, Qty

__all__ = [
    "TOPICS",
    "AlertsView",
    "BalanceView",
    "BookView",
    "BreakerView",
    "ChangeFeed",
    "CommandError",
    "ConnectionView",
    "DecisionView",
    "FairValueView",
    "FillView",
    "HealthCheck",
    "HealthView",
    "KillReport",
    "MarketView",
    "NodeApi",
    "OrderView",
    "PnlPoint",
    "PositionView",
    "PricePoint",
    "RiskView",
    "StrategyView",
    "Subscription",
]

TOPICS = (
    "balance",
    "positions",
    "orders",
    "fills",
    "markets",
    "books",
    "fairvalue",
    "pnl",
    "strategies",
    "risk",
    "connection",
    "health",
)
"""The names a ``ChangeFeed`` publishes; each matches one read (``books``: any order book)."""


class CommandError(Exception):
    """A command that cannot be carried out; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class BalanceView:
    balance: Money
    """Cash available (the exchange's ``balance``)."""
    portfolio_value: Money
    """The exchange's value of the open positions."""
    as_of_ms: int
    """Wall-clock time of the exchange's answer (0: not read yet)."""


@dataclass(frozen=True, slots=True)
class PositionView:
    ticker: str
    title: str
    qty: Qty
    """Signed: > 0 long YES, < 0 long NO."""
    average_cost: Price | None
    """What one contract of the held leg cost on average (its own leg's price)."""
    cost: Money
    mark: Price | None
    """The YES mid the position is valued at (None: no two-sided book)."""
    unrealized: Money
    realized: Money
    fees: Money
    exposure: Money
    """Worst-case loss of the market, resting orders included (risk's figure)."""


@dataclass(frozen=True, slots=True)
class OrderView:
    client_order_id: str
    order_id: str | None
    ticker: str
    side: BookSide
    """``bid`` buys YES, ``ask`` buys NO; ``price`` is always the YES price."""
    price: Price
    size: Qty
    filled: Qty
    remaining: Qty
    state: str
    tif: str
    post_only: bool
    reduce_only: bool
    strategy: str
    reason: str
    """Why the strategy placed it."""
    updated_ms: int
    last_update_reason: str = ""
    """Why the exchange last changed it (once ended: why it ended), e.g. ``Trade``, ``ExpiryCancel``,
    ``SettlementBoundsCancel``; "" when the exchange gave no reason (a cancel we asked for)."""


@dataclass(frozen=True, slots=True)
class FillView:
    fill_id: str
    order_id: str
    client_order_id: str
    ticker: str
    side: BookSide
    price: Price
    qty: Qty
    fee: Money
    is_taker: bool
    ts_ms: int
    strategy: str


@dataclass(frozen=True, slots=True)
class MarketView:
    ticker: str
    event_ticker: str
    series_ticker: str
    title: str
    subtitle: str
    status: str
    close_ms: int
    best_bid: Price | None
    best_ask: Price | None
    bid_qty: Qty
    ask_qty: Qty
    last_price: Price | None
    volume: Qty
    fair_value: Price | None
    stale: bool
    position: Qty


@dataclass(frozen=True, slots=True)
class PricePoint:
    ts_ms: int
    """Market time (the exchange's clock)."""
    mid: Price | None
    fair: Price | None
    bid: Price | None = None
    ask: Price | None = None


@dataclass(frozen=True, slots=True)
class BookView:
    ticker: str
    title: str
    subtitle: str
    stale: bool
    yes_bids: tuple[Level, ...]
    """Best first, YES prices."""
    yes_asks: tuple[Level, ...]
    """Best (lowest) first, YES prices (= $1 − the NO bids)."""
    fair_value: Price | None
    uncertainty: Price | None
    own_orders: tuple[OrderView, ...]
    history: tuple[PricePoint, ...]


@dataclass(frozen=True, slots=True)
class FairValueView:
    ticker: str
    event_ticker: str
    title: str
    price: Price
    uncertainty: Price
    as_of_ms: int
    """Market time of the model inputs."""
    source: str
    mid: Price | None
    """The market's YES mid now, for comparison."""


@dataclass(frozen=True, slots=True)
class PnlPoint:
    ts_ms: int
    """Wall-clock time of the sample."""
    market_ms: int
    balance: Money
    exposure: Money
    realized: Money
    unrealized: Money
    fees: Money

    @property
    def net(self) -> Money:
        return Money(self.realized + self.unrealized - self.fees)


@dataclass(frozen=True, slots=True)
class DecisionView:
    ticker: str
    verdict: str
    reason: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class StrategyView:
    name: str
    title: str
    enabled: bool
    """Allowed by config (a disabled strategy cannot be started)."""
    running: bool
    open_orders: int
    positions: int
    fills: int
    steps: int
    actions: int
    refused: int
    """Actions risk or the engine refused."""
    last_error: str
    decisions: tuple[DecisionView, ...]
    """The newest decision per market, newest first (bounded)."""


@dataclass(frozen=True, slots=True)
class BreakerView:
    rule: str
    open: bool
    reason: str
    tripped_ms: int | None


@dataclass(frozen=True, slots=True)
class RiskView:
    halted: bool
    kill_switch: bool
    kill_who: str
    kill_why: str
    breakers: tuple[BreakerView, ...]
    total_exposure: Money
    max_total_exposure: Money
    day_pnl: Money
    daily_loss_limit: Money
    open_orders: int
    max_open_orders: int
    submitted: int
    refused: int
    rejected: int
    errors: int


@dataclass(frozen=True, slots=True)
class FeedDelayView:
    """Exchange→node delay of one WebSocket channel's frames: Kalshi's ``sending_ts_ms`` (when the
    exchange queued the frame) to the node decoding it, on two clocks (skew shifts it; a negative
    delay counts as 0 and in ``negative``). ``control`` is replies and errors."""

    channel: str
    frames: int
    p50_ms: float | None
    """Over the newest 1024 frames (None before the first)."""
    p99_ms: float | None
    max_ms: float | None
    negative: int
    buckets_s: tuple[float, ...]
    """Histogram bucket upper bounds in seconds (``+Inf`` implied)."""
    buckets: tuple[int, ...]
    """Frames with a delay at or below each bound, since the start (cumulative)."""
    sum_s: float


@dataclass(frozen=True, slots=True)
class ConnectionView:
    mode: str
    rest_url: str
    ws_url: str
    ws_connected: bool
    connects: int
    disconnects: int
    frames: int
    books_fresh: int
    books_total: int
    market_time_ms: int
    speed: str
    """``"real time"`` or e.g. ``"60x"`` (the embedded exchange's clock)."""
    store: str
    """The database, password redacted."""
    store_pending: int
    store_error: str
    last_reconcile: str
    feed_delays: tuple[FeedDelayView, ...] = ()
    """Per channel, the delay of the exchange's frames (from ``sending_ts_ms``)."""


@dataclass(frozen=True, slots=True)
class AlertsView:
    """The alert sender's counts since the node started (all 0 with no destination configured)."""

    targets: tuple[str, ...]
    """The destinations, redacted (scheme and, for webhooks and e-mail, the server)."""
    sent: int
    """Messages every destination accepted."""
    failed: int
    """Sends to one destination that failed."""
    merged: int
    """Alerts folded into a later message about the same thing."""
    dropped: int
    """Alerts dropped because too many subjects were waiting on the rate limit."""
    waiting: int
    last_error: str
    """The latest failure, one line, secrets scrubbed."""


@dataclass(frozen=True, slots=True)
class HealthCheck:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class HealthView:
    status: str
    """``ok``, ``degraded`` (a check failed) or ``stopped``."""
    mode: str
    uptime_s: float
    checks: tuple[HealthCheck, ...]


@dataclass(frozen=True, slots=True)
class KillReport:
    canceled: int
    still_resting: int
    """Resting orders the exchange still listed afterwards (0 is success; −1: unknown)."""
    flattened: bool
    strategies_stopped: tuple[str, ...]


# ------------------------------------------------------------------------------------------------
# Change notification


@dataclass(eq=False, slots=True)
class Subscription:
    """One reader's pending topics (see ``ChangeFeed``)."""

    feed: ChangeFeed
    pending: set[str] = field(default_factory=set)
    event: asyncio.Event = field(default_factory=asyncio.Event)

    async def next(self) -> frozenset[str]:
        """Wait until something changed; the topics changed since the last call."""
        while not self.pending:
            self.event.clear()
            await self.event.wait()
        topics, self.pending = frozenset(self.pending), set()
        self.event.clear()
        return topics

    def close(self) -> None:
        self.feed.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ChangeFeed:
    """Topics published by the node; every subscriber sees each topic at least once after it
    changed (repeats coalesce). ``publish`` is synchronous and cheap (hot-path safe)."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()

    def subscribe(self) -> Subscription:
        sub = Subscription(self)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    def publish(self, *topics: str) -> None:
        self.publish_all(topics)

    def publish_all(self, topics: Iterable[str]) -> None:
        names = tuple(topics)
        for sub in self._subs:
            sub.pending.update(names)
            sub.event.set()

    @property
    def subscribers(self) -> int:
        return len(self._subs)


# ------------------------------------------------------------------------------------------------
# The node as the web sees it


class NodeApi(Protocol):
    """Reads and commands of a running trading node (see the module docstring)."""

    @property
    def mode(self) -> str: ...

    @property
    def changes(self) -> ChangeFeed: ...

    def balance(self) -> BalanceView: ...

    def positions(self) -> list[PositionView]: ...

    def orders(self, *, open_only: bool = True, limit: int = 500) -> list[OrderView]: ...

    def fills(self, *, limit: int = 200) -> list[FillView]: ...

    def markets(self) -> list[MarketView]: ...

    def book(self, ticker: str, *, depth: int = 10) -> BookView | None: ...

    def fair_values(self) -> list[FairValueView]: ...

    def pnl(self, *, limit: int = 2000) -> list[PnlPoint]: ...

    def strategies(self) -> list[StrategyView]: ...

    def risk(self) -> RiskView: ...

    def connection(self) -> ConnectionView: ...

    def health(self) -> HealthView: ...

    def alerts(self) -> AlertsView: ...

    async def start_strategy(self, name: str, *, who: str) -> StrategyView: ...

    async def stop_strategy(self, name: str, *, who: str) -> StrategyView: ...

    async def kill(self, *, who: str, why: str, flatten: bool = False) -> KillReport: ...

    async def reset_risk(self, *, who: str, why: str) -> RiskView: ...
