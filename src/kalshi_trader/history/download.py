"""Downloads the settled markets of chosen series and dates, with their public trades and
candlesticks, from Kalshi's live and historical tiers into Parquet files, resumably.

Contract:
- ``HistoryRequest``: series, the first and last day, optionally only some market tickers, and the
  candle period (1, 60 or 1440 minutes). A market's day (``market_day``) is the date its event
  ticker carries (``KXHIGHNY-26MAY16`` → 2026-05-16: the day a weather market is about), else the
  UTC date of its close time.
- ``download(rest, root, request, progress)`` reads ``GET /historical/cutoff`` once, then, per series:
  the settled markets — ``GET /markets?status=settled`` first, then ``GET /historical/markets``
  (records move live → historical, so reading in that order misses none; each ticker once,
  the historical copy winning) — within the days; then, per market not done yet, its trades (the
  live tier, the historical tier or both, as the market's open and close times fall against
  ``trades_created_ts``; each ``trade_id`` once) and its candlesticks (the historical endpoint for a
  market settled before ``market_settled_ts``, else the live one; a 404 from one tier — the market
  moved meanwhile — is retried on the other), in windows of at most 10,000 periods.
- Files (``root`` is normally ``DATA_DIR/history``): ``<SERIES>/markets.parquet`` (every market
  downloaded so far, merged across runs), ``<SERIES>/trades/<TICKER>.parquet`` and
  ``<SERIES>/candles/<TICKER>.parquet`` (one file per market, so each directory reads as one
  Parquet dataset), ``<SERIES>/state.json`` (the markets finished, with their counts). Every file
  is written to a temporary name and renamed, and a market is marked finished only after both its
  files are in place, so a run killed anywhere resumes where it stopped: finished markets are
  skipped, an unfinished one is fetched again whole (its files replaced, never appended to).
  Nothing is duplicated or missing. ``state.json`` also keeps the request's candle period; a rerun
  with another period is refused (``HistoryError``).
- Requests go through the client, whose token bucket keeps them within the account's rate budget;
  ``concurrency`` markets are fetched at once.
- Money and counts are exact: Parquet ``decimal128`` columns (prices with 4 decimals, counts with
  2); times are UTC timestamps. Tables: ``tables.py``.
- ``progress`` (``Progress``) hears the number of markets per series, then each market finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from kalshi_trader.domain import Candle, HistoricalCutoff
from kalshi_trader.history import tables
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.kalshi.errors import NotFoundError
from kalshi_trader.kalshi.rest import KalshiRest

__all__ = ["HistoryError", "HistoryRequest", "Progress", "SeriesSummary", "download", "market_day", "parse_day"]

MAX_PERIODS: Final = 10_000
PERIODS: Final = (1, 60, 1440)
STATE: Final = "state.json"
LIVE: Final = "live"
HISTORICAL: Final = "historical"


class HistoryError(Exception):
    """The download cannot proceed as asked (message: one line)."""


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    series: tuple[str, ...]
    first_day: date
    last_day: date
    markets: frozenset[str] = frozenset()
    period_minutes: int = 60

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise HistoryError(f"--to {self.last_day} is before --from {self.first_day}")
        if self.period_minutes not in PERIODS:
            raise HistoryError(f"the candle period must be 1, 60 or 1440 minutes, not {self.period_minutes}")
        if not self.series:
            raise HistoryError("no series to download")


_EVENT_DATE: Final = re.compile(r"-(\d{2})([A-Z]{3})(\d{2})")
_MONTH_NAMES: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS: Final = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}


def market_day(market: w.Market) -> date:
    """The date in the market's event ticker (``-26MAY16``), else the UTC date of its close time."""
    found = _EVENT_DATE.search(market.event_ticker)
    if found is not None and found.group(2) in _MONTHS:
        with contextlib.suppress(ValueError):
            return date(2000 + int(found.group(1)), _MONTHS[found.group(2)], int(found.group(3)))
    return datetime.fromtimestamp(convert.ts_ms(market.close_time) / 1000, tz=UTC).date()


class Progress(Protocol):
    def series_started(self, series: str, markets: int, done: int) -> None: ...

    def market_done(self, series: str, ticker: str, trades: int, candles: int) -> None: ...


@dataclass(slots=True)
class SeriesSummary:
    series: str
    markets: int = 0
    fetched: int = 0
    """Markets fetched by this run (the others were finished by an earlier one)."""
    trades: int = 0
    candles: int = 0
    by_tier: dict[str, int] = field(default_factory=dict)


async def download(
    rest: KalshiRest, root: Path, request: HistoryRequest, progress: Progress, *, concurrency: int = 4
) -> list[SeriesSummary]:
    cutoff = convert.historical_cutoff(await rest.get_historical_cutoff())
    summaries = []
    for series in request.series:
        summaries.append(await _series(rest, root / series, series, request, cutoff, progress, concurrency))
    return summaries


# -- one series ----------------------------------------------------------------------------------


async def _series(
    rest: KalshiRest,
    where: Path,
    series: str,
    request: HistoryRequest,
    cutoff: HistoricalCutoff,
    progress: Progress,
    concurrency: int,
) -> SeriesSummary:
    state = _load_state(where / STATE, request.period_minutes)
    markets = await _settled_markets(rest, series, request)
    await asyncio.to_thread(tables.merge_markets, where / "markets.parquet", list(markets.values()))
    finished: dict[str, Any] = state["markets"]
    summary = SeriesSummary(series, markets=len(markets))
    for _, tier in markets.values():
        summary.by_tier[tier] = summary.by_tier.get(tier, 0) + 1
    progress.series_started(series, len(markets), sum(1 for t in markets if t in finished))
    todo = [m for t, (m, _) in sorted(markets.items()) if t not in finished]
    limit = asyncio.Semaphore(concurrency)

    async def one(market: w.Market) -> None:
        async with limit:
            trades, candles = await _market(rest, where, series, market, request.period_minutes, cutoff)
        finished[market.ticker] = {"trades": trades, "candles": candles}
        _save_state(where / STATE, state)
        summary.fetched += 1
        summary.trades += trades
        summary.candles += candles
        progress.market_done(series, market.ticker, trades, candles)

    await _gather([one(m) for m in todo])
    return summary


async def _gather(coros: Sequence[Any]) -> None:
    """Run them all; on the first failure cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _settled_markets(rest: KalshiRest, series: str, request: HistoryRequest) -> dict[str, tuple[w.Market, str]]:
    """The series' settled markets closing within the days: ticker → (market, tier)."""

    def wanted(m: w.Market) -> bool:
        if request.markets and m.ticker not in request.markets:
            return False
        return request.first_day <= market_day(m) <= request.last_day

    found: dict[str, tuple[w.Market, str]] = {}
    async for m in rest.iter_markets(series_ticker=series, status="settled"):
        if wanted(m):
            found[m.ticker] = (m, LIVE)
    async for m in rest.iter_historical_markets(series_ticker=series):
        if wanted(m) and m.result:
            found[m.ticker] = (m, HISTORICAL)
    return found


# -- one market ----------------------------------------------------------------------------------


async def _market(
    rest: KalshiRest, where: Path, series: str, market: w.Market, period: int, cutoff: HistoricalCutoff
) -> tuple[int, int]:
    ticker = market.ticker
    trades = await _trades(rest, market, cutoff)
    candles = await _candles(rest, series, market, period, cutoff)
    await asyncio.to_thread(tables.write_trades, where / "trades" / f"{ticker}.parquet", trades)
    await asyncio.to_thread(tables.write_candles, where / "candles" / f"{ticker}.parquet", ticker, period, candles)
    return len(trades), len(candles)


async def _trades(rest: KalshiRest, market: w.Market, cutoff: HistoricalCutoff) -> list[tuple[w.Trade, str]]:
    opened, closed = convert.ts_ms(market.open_time), convert.ts_ms(market.close_time)
    found: dict[str, tuple[w.Trade, str]] = {}
    if closed >= cutoff.trades_created_ms:  # some may still be live
        async for t in rest.iter_trades(ticker=market.ticker):
            found[t.trade_id] = (t, LIVE)
    if opened < cutoff.trades_created_ms:  # some are archived (read after the live ones: none missed)
        async for t in rest.iter_historical_trades(ticker=market.ticker):
            found.setdefault(t.trade_id, (t, HISTORICAL))
    return sorted(found.values(), key=lambda x: (convert.ts_ms(x[0].created_time), x[0].trade_id))


async def _candles(
    rest: KalshiRest, series: str, market: w.Market, period: int, cutoff: HistoricalCutoff
) -> list[tuple[Candle, str]]:
    ticker = market.ticker
    settled = convert.ts_ms(market.settlement_ts) if market.settlement_ts else convert.ts_ms(market.close_time)
    tiers = [HISTORICAL, LIVE] if settled < cutoff.market_settled_ms else [LIVE, HISTORICAL]
    start_s = convert.ts_ms(market.open_time) // 1000
    end_s = -(-convert.ts_ms(market.close_time) // 1000)
    for i, tier in enumerate(tiers):
        try:
            return [(c, tier) async for c in _candle_windows(rest, series, ticker, tier, start_s, end_s, period)]
        except NotFoundError:
            if i == len(tiers) - 1:
                raise
    return []


async def _candle_windows(
    rest: KalshiRest, series: str, ticker: str, tier: str, start_s: int, end_s: int, period: int
) -> AsyncIterator[Candle]:
    span = period * 60 * MAX_PERIODS
    low = start_s
    while low <= end_s:
        high = min(end_s, low + span - period * 60)
        if tier == HISTORICAL:
            reply = await rest.get_historical_candlesticks(ticker, start_ts=low, end_ts=high, period_interval=period)
            for h in reply.candlesticks:
                yield convert.historical_candle(h, ticker)
        else:
            live = await rest.get_market_candlesticks(series, ticker, start_ts=low, end_ts=high, period_interval=period)
            for c in live.candlesticks:
                yield convert.candle(c, ticker)
        low = high + period * 60


# -- state ---------------------------------------------------------------------------------------


def _load_state(path: Path, period: int) -> dict[str, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        return {"period_minutes": period, "markets": {}}
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except ValueError:
        raise HistoryError(f"{path} is not a download state file; move it away to start over") from None
    if state.get("period_minutes") != period:
        raise HistoryError(
            f"{path.parent} holds {state.get('period_minutes')}-minute candles; use that --period or another data dir"
        )
    return state


def _save_state(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(tmp, path)


def parse_day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HistoryError(f"{flag} must be a date such as 2026-05-16, not {text!r}") from None
