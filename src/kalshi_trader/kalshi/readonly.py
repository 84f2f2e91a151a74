"""A Kalshi REST client that can only read public market data: what a paper node talks to Kalshi with.

Contract:
- ``PublicReads`` is the protocol of the public reads market data needs (markets, trades, series,
  events, order books, exchange status); ``KalshiRest`` satisfies it, and so does
  ``ReadOnlyRest``.
- ``ReadOnlyRest(base_url, signer, ...)`` builds its own ``KalshiRest`` and exposes *only* those
  reads (and ``close``): it has no order entry, cancel, amend, decrease, order-group or account
  method at all, so code holding it cannot send a write request to Kalshi — there is no path to
  one. A read-only API key is enough for it (and for the market-data WebSocket).
- Reads behave exactly as ``KalshiRest``'s (signing, rate limits, retries, ``KalshiError``).
  ``ReadOnlyRest.from_settings(settings)`` takes URL, tier, timeout and key from the settings;
  ``signer`` is the key's request signer (for the WebSocket session). Use it as an async context
  manager or call ``close()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from kalshi_trader.config import Settings
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.kalshi.limits import DEFAULT_TIER, Tier
from kalshi_trader.kalshi.rest import KalshiRest, Probe, signer_from_settings

__all__ = ["PublicReads", "ReadOnlyRest"]


class PublicReads(Protocol):
    """The public reads market data uses (see the module docstring)."""

    def iter_markets(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Market]: ...

    async def get_market(self, ticker: str) -> w.Market: ...

    def iter_trades(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Trade]: ...

    async def get_series(self, series_ticker: str, *, include_volume: bool | None = None) -> w.Series: ...

    async def get_event(self, event_ticker: str, *, with_nested_markets: bool | None = None) -> w.GetEventResponse: ...


class ReadOnlyRest:
    """See the module docstring."""

    def __init__(
        self, base_url: str, signer: Signer | None = None, *, tier: Tier | str = DEFAULT_TIER, timeout_s: float = 10.0
    ) -> None:
        self.__client = KalshiRest(base_url, signer, tier=tier, timeout_s=timeout_s)
        self.base_url = base_url
        self.signer = signer

    @classmethod
    def from_settings(cls, settings: Settings, *, require_key: bool = False) -> ReadOnlyRest:
        signer = signer_from_settings(settings, required=require_key)
        return cls(settings.rest_url(), signer, tier=settings.api.tier, timeout_s=settings.api.timeout_s)

    async def __aenter__(self) -> ReadOnlyRest:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.__client.close()

    def __repr__(self) -> str:
        return f"ReadOnlyRest({self.base_url!r})"

    async def get_exchange_status(self) -> w.ExchangeStatus:
        return await self.__client.get_exchange_status()

    async def probe(self) -> Probe:
        return await self.__client.probe()

    def iter_markets(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Market]:
        return self.__client.iter_markets(page_size=page_size, **filters)

    async def get_market(self, ticker: str) -> w.Market:
        return await self.__client.get_market(ticker)

    async def get_orderbook(self, ticker: str, *, depth: int | None = None) -> w.OrderbookCountFp:
        return await self.__client.get_orderbook(ticker, depth=depth)

    def iter_trades(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Trade]:
        return self.__client.iter_trades(page_size=page_size, **filters)

    async def get_series(self, series_ticker: str, *, include_volume: bool | None = None) -> w.Series:
        return await self.__client.get_series(series_ticker, include_volume=include_volume)

    async def get_event(self, event_ticker: str, *, with_nested_markets: bool | None = None) -> w.GetEventResponse:
        return await self.__client.get_event(event_ticker, with_nested_markets=with_nested_markets)
