"""The node's parts and in-memory read state, shared by its wiring, views, commands and core.

``NodeState.__init__`` creates nothing that talks to anyone: every part is None until
``TradingNode.start``; ``require_engine`` raises until then. ``wall_ms`` / ``monotonic_ms`` are
the clocks, ``one_line`` an error as one redacted line for the user.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from typing import Any

import structlog

from kalshi_trader.alerts import Alerts
from kalshi_trader.config import Settings
from kalshi_trader.domain import (
    Fill,
    Money,
)
from kalshi_trader.execution.engine import ExecutionEngine
from kalshi_trader.execution.reconcile import Reconciler
from kalshi_trader.execution.venue import Venue
from kalshi_trader.host.fair import FairValueFeed
from kalshi_trader.host.strategies import StrategyHost
from kalshi_trader.kalshi.readonly import ReadOnlyRest
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.kalshi.ws import WsSession
from kalshi_trader.marketdata.monitor import (
    Monitor,
    TickerUpdated,
)
from kalshi_trader.node.options import (
    MAX_FILLS,
    PNL_POINTS,
    Mode,
    NodeError,
    NodeOptions,
)
from kalshi_trader.paper.venue import PaperVenue
from kalshi_trader.readmodels import (
    BalanceView,
    ChangeFeed,
    PnlPoint,
    PricePoint,
)
from kalshi_trader.recording.feed import FeedRecorder
from kalshi_trader.risk.limits import RiskLimits
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.store import Recorder, Store, redact_text
from kalshi_trader.strategy.base import FairValue

__all__ = ["NodeState", "monotonic_ms", "one_line", "wall_ms"]

log = structlog.get_logger(__name__)


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def one_line(exc: BaseException) -> str:
    return redact_text(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


class NodeState:
    """See the module docstring."""

    def __init__(self, settings: Settings, options: NodeOptions | None = None) -> None:
        self.settings = settings
        self.options = options if options is not None else NodeOptions()
        self._changes = ChangeFeed()
        self._stack = AsyncExitStack()
        self._tasks: list[asyncio.Task[Any]] = []
        self._wake = asyncio.Event()
        self._started_mono = time.monotonic()
        self._running = False
        self._stopped = False
        self._market_ms: Callable[[], int] = wall_ms
        self.rest_url = ""
        self.ws_url = ""
        self.nws_url = ""
        self.speed_text = "real time"
        self.embedded: Any = None
        """The ``sim.standalone.Embedded`` exchange in sim mode (None otherwise)."""
        self.rest: KalshiRest | ReadOnlyRest | None = None
        self.venue: Venue | None = None
        self.paper: PaperVenue | None = None
        """The paper venue (paper mode only)."""
        self.store: Store | None = None
        self.recorder: Recorder | None = None
        self.risk_manager: RiskManager | None = None
        self.limits = RiskLimits.from_settings(settings.risk)
        self.engine: ExecutionEngine | None = None
        self.ws: WsSession | None = None
        self.monitor: Monitor | None = None
        self.reconciler: Reconciler | None = None
        self.fair: FairValueFeed | None = None
        self.host: StrategyHost | None = None
        self.feed_recorder: FeedRecorder | None = None
        self._balance = BalanceView(Money(0), Money(0), 0)
        self._balance_error = ""
        self._fills: deque[Fill] = deque(maxlen=MAX_FILLS)
        self._tickers: dict[str, TickerUpdated] = {}
        self._history: dict[str, deque[PricePoint]] = {}
        self._pnl: deque[PnlPoint] = deque(maxlen=PNL_POINTS)
        self._balance_due = asyncio.Event()
        self._feed_up = False
        self.check_mode()
        self.alerts_service = Alerts.from_settings(settings.alerts, mode=self.mode)
        self.on_progress: Callable[[str], None] = lambda line: log.warning("start_retry", detail=line)
        """Where start-up says it is riding out a fault (``cli run``: a line on stderr)."""
        """Tells the owner what happens (``alerts``); inert without ``alerts.urls``."""

    @property
    def mode(self) -> str:
        return self.options.mode.value

    @property
    def changes(self) -> ChangeFeed:
        return self._changes

    def market_ms(self) -> int:
        return self._market_ms()

    def check_mode(self) -> None:
        """Raise ``NodeError`` for a mode that cannot run as configured (before anything starts)."""
        mode = self.options.mode
        if mode is Mode.PAPER and self.options.data_env not in ("demo", "prod"):
            raise NodeError(f"paper mode takes its market data from demo or prod, not {self.options.data_env!r}")
        if mode is Mode.PROD and not self.options.confirm_prod:
            raise NodeError(
                "prod trades real money on Kalshi; pass --yes-trade-real-money to confirm (try --env demo first)"
            )
        if self.options.scenario not in ("weather", "default"):
            raise NodeError(f"unknown scenario {self.options.scenario!r}")

    def require_engine(self) -> ExecutionEngine:
        if self.engine is None:
            raise RuntimeError("the node is not started")
        return self.engine

    def fair_value_map(self) -> Mapping[str, FairValue]:
        return self.fair.values if self.fair is not None else {}

    def _marks(self) -> dict[str, int]:
        marks: dict[str, int] = {}
        if self.monitor is None:
            return marks
        for ticker, book in self.monitor.books.items():
            mark = book.mark()
            if mark is not None and not book.stale:
                marks[ticker] = mark
        return marks

    def _spawn(self, coro: Any, name: str) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coro, name=name))
