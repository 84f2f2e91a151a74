"""What a recording knows besides the frames: its markets (the monitor's ``MarketSource``) and the
NWS responses the fair-value model read (an ``NwsClient`` that answers from them).

Contract:
- ``RecordedMarkets``: ``add(payload)`` takes a ``market`` record (the wire ``Market`` JSON) and
  keeps the newest read of each market (``MarketInfo`` plus its result and settled YES value
  once determined); it answers the monitor as REST would have at that point of the replay:
  ``list_markets`` every market recorded so far, ``get_market`` / ``get_markets`` the newest read,
  ``trades_since`` nothing (the recorded ``trade`` frames are the trades). A record that does not
  convert is skipped (counted in ``unusable``).
- ``RecordedReads``: the public REST reads the paper venue's feed makes (``kalshi.readonly.PublicReads``),
  answered from the recording: ``get_series`` from the ``series`` records seen so far (the fee
  schedule), ``get_market`` from the ``market`` records; anything else is ``NotFoundError``.
- ``RecordedNws(clock_ms)``: an ``NwsClient`` whose ``get_json`` never touches the network:
  ``add(meta, body)`` takes an ``nws`` record; a request is answered with the newest recorded
  response to the same path and query received at or before ``clock_ms()`` — or, when none was
  yet, the first one received within ``IN_FLIGHT_MS`` after it (a response is recorded when it
  arrives, a moment after the request that asked for it) — with its status and body (an error
  status raises as it did live); anything else is ``NwsUnavailableError``, what a fair-value model
  without data sees. The client's caches run on the replay clock. A body recorded again unchanged
  is answered as the same decoded object (decoded and read into values once), decoded as
  ``json.loads`` would (``decode_json``).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import msgspec

from kalshi_trader.config import NwsSettings
from kalshi_trader.domain import MarketInfo, Price
from kalshi_trader.fairvalue.nws import RETRY_STATUSES, NwsClient, NwsDataError, NwsHttpError, NwsUnavailableError
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.kalshi.errors import NotFoundError
from kalshi_trader.marketdata.monitor import MarketFilter, MarketReport, TradePrinted

__all__ = ["RecordedMarkets", "RecordedNws", "RecordedReads", "decode_json"]

_MARKET = w.decoder_for(w.Market)
_SERIES = w.decoder_for(w.Series)
IN_FLIGHT_MS = 600_000
"""How far after the replay clock a first recorded response may be (the live request was in flight)."""


class RecordedMarkets:
    """See the module docstring."""

    def __init__(self) -> None:
        self.reports: dict[str, MarketReport] = {}
        self.unusable = 0

    def add(self, payload: bytes) -> MarketReport | None:
        """A ``market`` record; returns what it says (None if it does not convert)."""
        try:
            market = _MARKET.decode(payload)
            info = convert.market_info(market)
            settled = convert.settled_value(market)
        except (ValueError, TypeError):
            self.unusable += 1
            return None
        value: Price | None = None if settled is None else settled[0]
        report = MarketReport(info, market.result or "", value)
        self.reports[info.ticker] = report
        return report

    @property
    def infos(self) -> dict[str, MarketInfo]:
        return {t: r.info for t, r in self.reports.items()}

    async def list_markets(self, market_filter: MarketFilter) -> list[MarketInfo]:
        return [r.info for r in self.reports.values()]

    async def get_market(self, ticker: str) -> MarketInfo | None:
        report = self.reports.get(ticker)
        return None if report is None else report.info

    async def get_markets(self, tickers: Sequence[str]) -> list[MarketReport]:
        return [self.reports[t] for t in dict.fromkeys(tickers) if t in self.reports]

    async def trades_since(self, since_ms: int) -> list[TradePrinted]:
        return []


class RecordedReads:
    """See the module docstring."""

    def __init__(self) -> None:
        self.series: dict[str, w.Series] = {}
        self.markets: dict[str, w.Market] = {}

    def add_series(self, payload: bytes) -> None:
        try:
            series = _SERIES.decode(payload)
        except (ValueError, TypeError):
            return
        self.series[series.ticker] = series

    def add_market(self, payload: bytes) -> None:
        try:
            market = _MARKET.decode(payload)
        except (ValueError, TypeError):
            return
        self.markets[market.ticker] = market

    async def get_series(self, series_ticker: str, *, include_volume: bool | None = None) -> w.Series:
        found = self.series.get(series_ticker)
        if found is None:
            raise NotFoundError(f"series {series_ticker} is not in the recording", status=404)
        return found

    async def get_market(self, ticker: str) -> w.Market:
        found = self.markets.get(ticker)
        if found is None:
            raise NotFoundError(f"market {ticker} is not in the recording", status=404)
        return found

    async def get_event(self, event_ticker: str, *, with_nested_markets: bool | None = None) -> w.GetEventResponse:
        raise NotFoundError(f"event {event_ticker}: a backtest reads no events", status=404)

    async def iter_markets(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Market]:
        for market in list(self.markets.values()):
            yield market

    async def iter_trades(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Trade]:
        none: list[w.Trade] = []  # the recorded trade frames are the trades
        for trade in none:
            yield trade


_DECODE: Final = msgspec.json.Decoder().decode


def decode_json(body: bytes) -> Any:
    """``json.loads(body)``, read by msgspec (several times faster, the same values); what msgspec
    refuses and Python's reader may still take (a number out of a float's range, a lone surrogate,
    a byte-order mark) goes to ``json.loads``, so the answer and the errors are ``json.loads``'s."""
    try:
        return _DECODE(body)
    except msgspec.DecodeError:
        return json.loads(body)


class RecordedNws(NwsClient):
    """See the module docstring."""

    def __init__(self, clock_ms: Callable[[], int], settings: NwsSettings | None = None) -> None:
        super().__init__(
            settings,
            base_url="http://recorded-nws.invalid",
            clock=lambda: datetime.fromtimestamp(clock_ms() / 1000, tz=UTC),
            monotonic=lambda: clock_ms() / 1000,
        )
        self._clock_ms = clock_ms
        self._answers: dict[str, tuple[list[int], list[tuple[int, bytes]]]] = {}
        self.requests = 0
        self.unanswered = 0
        self._decoded: dict[int, Any] = {}
        """Answers already decoded, by the identity of the recorded body (kept alive in ``_answers``):
        the model reads them again and again and does not change them."""
        self._bodies: dict[bytes, bytes] = {}
        """Each distinct recorded body once: a body recorded again unchanged is the same object,
        so it is decoded once and read into values once (``NwsClient`` reads by body identity)."""

    @staticmethod
    def _key(path: str, params: Mapping[str, Any]) -> str:
        return path + "?" + "&".join(f"{k}={params[k]}" for k in sorted(params))

    def add(self, meta: Mapping[str, Any], body: bytes, at_ms: int) -> None:
        key = self._key(str(meta.get("path", "")), meta.get("params") or {})
        times, answers = self._answers.setdefault(key, ([], []))
        index = bisect.bisect_right(times, at_ms)
        times.insert(index, at_ms)
        answers.insert(index, (int(meta.get("status", 200)), self._bodies.setdefault(body, body)))

    async def get_json(self, path: str, params: Mapping[str, str] | None = None, *, accept: str = "") -> Any:
        self.requests += 1
        url = self.base_url + path
        entry = self._answers.get(self._key(path, params or {}))
        index = bisect.bisect_right(entry[0], self._clock_ms()) if entry is not None else 0
        if entry is not None and index == 0 and entry[0][0] <= self._clock_ms() + IN_FLIGHT_MS:
            index = 1
        if entry is None or index == 0:
            self.unanswered += 1
            raise NwsUnavailableError(url, 1, "not in the recording")
        status, body = entry[1][index - 1]
        if status in RETRY_STATUSES:
            raise NwsUnavailableError(url, 1, f"HTTP {status} (recorded)")
        if status >= 400:
            raise NwsHttpError(status, url)
        decoded = self._decoded.get(id(body))
        if decoded is not None:
            return decoded
        try:
            decoded = self._decoded[id(body)] = decode_json(body)
            return decoded
        except ValueError:
            raise NwsDataError(f"NWS {url} answered {status} with a body that is not JSON") from None

    async def close(self) -> None:
        return None
