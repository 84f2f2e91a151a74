"""Kalshi's markets over REST as plain values: discovery, reads, results, trades since a time.

Contract:
- ``RestMarkets(reads)`` is the market-data monitor's source of markets (``marketdata.monitor
  .MarketSource``) over any ``kalshi.readonly.PublicReads`` (the full client or the read-only one):
  ``list_markets(query)`` runs ``GET /markets`` with the query's status (``open`` when it asks for
  active markets only), series, event and tickers as parameters, and the close-time window too when
  no status is asked for (Kalshi refuses close-time bounds with ``status=open``), following
  cursors; ``get_market`` (None when it does not exist); ``get_markets`` as ``MarketReport``\\ s
  (info, and once determined the result and YES value); ``trades_since`` as ``TradePrinted``,
  oldest first. Markets and trades whose wire data cannot be converted are logged and skipped.
- ``MarketQuery`` is what a listing needs of a filter (``marketdata.monitor.MarketFilter`` is one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from kalshi_trader.domain import BookSide, MarketInfo, MarketStatus, Price, parse_price, parse_qty
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.errors import NotFoundError
from kalshi_trader.kalshi.market_feed import TradePrinted
from kalshi_trader.kalshi.readonly import PublicReads
from kalshi_trader.kalshi.schemas import Market

__all__ = ["MarketQuery", "MarketReport", "RestMarkets"]

log = structlog.get_logger(__name__)


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class MarketQuery(Protocol):
    """The market criteria of a listing (empty sets: any; times in ms)."""

    @property
    def statuses(self) -> frozenset[MarketStatus]: ...

    @property
    def series(self) -> frozenset[str]: ...

    @property
    def events(self) -> frozenset[str]: ...

    @property
    def tickers(self) -> frozenset[str]: ...

    @property
    def min_time_to_close_ms(self) -> int: ...

    @property
    def max_time_to_close_ms(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class MarketReport:
    """A market as REST shows it now: its info, and once determined its result and YES value."""

    info: MarketInfo
    result: str = ""
    settlement_value: Price | None = None


class RestMarkets:
    """See the module docstring."""

    def __init__(self, rest: PublicReads, *, clock_ms: Callable[[], int] = wall_clock_ms, batch: int = 100) -> None:
        self.rest = rest
        self.clock_ms = clock_ms
        self.batch = batch

    async def list_markets(self, market_filter: MarketQuery) -> list[MarketInfo]:
        f = market_filter
        base: dict[str, Any] = {}
        if f.statuses == frozenset({MarketStatus.ACTIVE}):
            base["status"] = "open"
        now = self.clock_ms()
        # Kalshi takes close-time bounds only without a status (or with ``closed``): with
        # ``status=open`` the window is applied here, by ``accepts_market``, instead.
        if "status" not in base:
            if f.min_time_to_close_ms > 0:
                base["min_close_ts"] = (now + f.min_time_to_close_ms) // 1000
            if f.max_time_to_close_ms is not None:
                base["max_close_ts"] = -(-(now + f.max_time_to_close_ms) // 1000)
        queries: list[dict[str, Any]]
        if f.tickers:
            names = sorted(f.tickers)
            queries = [base | {"tickers": names[i : i + self.batch]} for i in range(0, len(names), self.batch)]
        else:
            queries = [
                base | ({"series_ticker": series} if series else {}) | ({"event_ticker": event} if event else {})
                for series in sorted(f.series) or [""]
                for event in sorted(f.events) or [""]
            ]
        found: dict[str, MarketInfo] = {}
        for query in queries:
            async for market in self.rest.iter_markets(**query):
                info = self._convert(market)
                if info is not None:
                    found[info.ticker] = info
        return list(found.values())

    async def get_market(self, ticker: str) -> MarketInfo | None:
        try:
            market = await self.rest.get_market(ticker)
        except NotFoundError:
            return None
        return self._convert(market)

    async def get_markets(self, tickers: Sequence[str]) -> list[MarketReport]:
        names = list(dict.fromkeys(tickers))
        reports: list[MarketReport] = []
        for i in range(0, len(names), self.batch):
            async for market in self.rest.iter_markets(tickers=names[i : i + self.batch]):
                info = self._convert(market)
                if info is None:
                    continue
                try:
                    settled = convert.settled_value(market)
                except ValueError as exc:
                    log.warning("monitor_unusable_market", ticker=market.ticker, error=str(exc))
                    continue
                reports.append(MarketReport(info, market.result, None if settled is None else settled[0]))
        return reports

    async def trades_since(self, since_ms: int) -> list[TradePrinted]:
        trades: list[TradePrinted] = []
        async for t in self.rest.iter_trades(min_ts=since_ms // 1000):
            try:
                printed = TradePrinted(
                    t.ticker,
                    t.trade_id,
                    parse_price(t.yes_price_dollars),
                    parse_qty(t.count_fp),
                    BookSide(t.taker_book_side) if t.taker_book_side in ("bid", "ask") else None,
                    convert.ts_ms(t.created_time),
                )
            except ValueError as exc:
                log.warning("monitor_unusable_trade", trade_id=t.trade_id, error=str(exc))
                continue
            if printed.ts_ms >= since_ms:
                trades.append(printed)
        trades.sort(key=lambda p: p.ts_ms)
        return trades

    @staticmethod
    def _convert(market: Market) -> MarketInfo | None:
        try:
            return convert.market_info(market)
        except ValueError as exc:
            log.warning("monitor_unusable_market", ticker=market.ticker, error=str(exc))
            return None
