"""The embedded exchange's live/historical partition: the cutoff timestamps and what they archive.

Contract (https://docs.kalshi.com/getting_started/historical_data, ``GET /historical/cutoff``):
- ``Archive(clock_ms, catalog, lags_ms=...)`` reports a ``Cutoff`` at the exchange's current
  (market) time: each of the four cutoffs is ``now − its lag`` unless pinned. Default lags are
  Kalshi's: ``orders_updated_ts`` two weeks before now (Kalshi's changelog, Sep 24), the others about
  three months (Kalshi's live-window target). ``pin(name, ms)`` fixes one cutoff at a moment not
  after now (``None`` releases it); ``set_lag(name, ms)`` changes how far behind now it runs. Both
  raise ``ValueError`` with a one-line reason.
- Which records are archived at a cutoff ``c`` (everything else is live):
  * an order that is no longer resting and whose last update is before ``c.orders_updated_ms``;
  * a fill or public trade made before ``c.trades_created_ms``;
  * a market settled before ``c.market_settled_ms`` (with its candlesticks);
  * a settled position or settlement record once its **whole event** is handed off: every market
    of the event settled, the last one before ``c.positions_ms`` (the backfill horizon). A position
    is therefore never split between the live and the historical endpoints within an event.
  A record is in exactly one tier at any moment; as time passes records only move live → historical
  (unless an operator pins a cutoff backwards).
No I/O; reads the catalog's settlement times only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from kalshi_trader.domain import OrderStatus
from kalshi_trader.sim.core.catalog import Catalog
from kalshi_trader.sim.core.state import SimOrder

DAY_MS: Final = 86_400_000
MARKET_SETTLED: Final = "market_settled_ts"
TRADES_CREATED: Final = "trades_created_ts"
ORDERS_UPDATED: Final = "orders_updated_ts"
POSITIONS_UPDATED: Final = "market_positions_last_updated_ts"
CUTOFF_NAMES: Final = (MARKET_SETTLED, TRADES_CREATED, ORDERS_UPDATED, POSITIONS_UPDATED)
"""The fields of ``GET /historical/cutoff``, in the documented order."""

DEFAULT_LAGS_MS: Final[Mapping[str, int]] = {
    MARKET_SETTLED: 90 * DAY_MS,
    TRADES_CREATED: 90 * DAY_MS,
    ORDERS_UPDATED: 14 * DAY_MS,
    POSITIONS_UPDATED: 90 * DAY_MS,
}


@dataclass(frozen=True, slots=True)
class Cutoff:
    """The four cutoffs at one moment, in exchange-clock milliseconds."""

    market_settled_ms: int
    trades_created_ms: int
    orders_updated_ms: int
    positions_ms: int

    def by_name(self) -> dict[str, int]:
        return dict(
            zip(
                CUTOFF_NAMES,
                (self.market_settled_ms, self.trades_created_ms, self.orders_updated_ms, self.positions_ms),
                strict=True,
            )
        )

    def order_archived(self, order: SimOrder) -> bool:
        return order.status is not OrderStatus.RESTING and order.updated_ms < self.orders_updated_ms

    def trade_archived(self, ts_ms: int) -> bool:
        """A fill or a public trade made at ``ts_ms``."""
        return ts_ms < self.trades_created_ms


def _check_name(name: str) -> None:
    if name not in CUTOFF_NAMES:
        raise ValueError(f"unknown cutoff {name!r}: expected one of {', '.join(CUTOFF_NAMES)}")


class Archive:
    """Where the live data set ends (see the module docstring)."""

    def __init__(
        self, clock_ms: Callable[[], int], catalog: Catalog, *, lags_ms: Mapping[str, int] | None = None
    ) -> None:
        self._clock = clock_ms
        self._catalog = catalog
        self._lags: dict[str, int] = dict(DEFAULT_LAGS_MS)
        self._pins: dict[str, int] = {}
        for name, lag in (lags_ms or {}).items():
            self.set_lag(name, lag)

    # -- configuration ---------------------------------------------------------------------------

    @property
    def lags_ms(self) -> dict[str, int]:
        return dict(self._lags)

    @property
    def pins_ms(self) -> dict[str, int | None]:
        return {name: self._pins.get(name) for name in CUTOFF_NAMES}

    def set_lag(self, name: str, lag_ms: int) -> None:
        _check_name(name)
        if lag_ms < 0:
            raise ValueError(f"the lag of {name} must not be negative (got {lag_ms} ms)")
        self._lags[name] = lag_ms

    def pin(self, name: str, at_ms: int | None) -> None:
        """Fix cutoff ``name`` at ``at_ms`` (not after now); ``None`` lets it follow its lag again."""
        _check_name(name)
        if at_ms is None:
            self._pins.pop(name, None)
            return
        now = self._clock()
        if at_ms > now:
            raise ValueError(f"{name} cannot be after the exchange's current time")
        self._pins[name] = at_ms

    # -- reading ---------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """The exchange's time (cutoffs trail it)."""
        return self._clock()

    def cutoff(self) -> Cutoff:
        now = self._clock()
        at = {name: self._pins.get(name, now - self._lags[name]) for name in CUTOFF_NAMES}
        return Cutoff(at[MARKET_SETTLED], at[TRADES_CREATED], at[ORDERS_UPDATED], at[POSITIONS_UPDATED])

    def market_archived(self, ticker: str, cutoff: Cutoff) -> bool:
        settled = self._catalog.market(ticker).settled_ms
        return settled is not None and settled < cutoff.market_settled_ms

    def event_handed_off(self, event_ticker: str, cutoff: Cutoff) -> bool:
        """Every market of the event settled, the last one before the positions' horizon."""
        tickers = self._catalog.event_market_tickers(event_ticker)
        if not tickers:
            return False
        for ticker in tickers:
            settled = self._catalog.market(ticker).settled_ms
            if settled is None or settled >= cutoff.positions_ms:
                return False
        return True


__all__ = [
    "CUTOFF_NAMES",
    "DEFAULT_LAGS_MS",
    "MARKET_SETTLED",
    "ORDERS_UPDATED",
    "POSITIONS_UPDATED",
    "TRADES_CREATED",
    "Archive",
    "Cutoff",
]
