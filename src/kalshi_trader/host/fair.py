"""Weather fair values for the node: every followed daily temperature event (highs and lows),
priced from NWS data.

Contract:
- ``FairValueFeed(client, markets, clock_ms)``: ``refresh()`` groups the followed markets whose
  series has a settlement station (``fairvalue.stations``; the station and whether it settles on
  the high or the low are read from the market's rules, ``station_from_api``) by event, prices
  each event's brackets with ``fairvalue.live.event_fair_values`` at ``clock_ms()`` (market
  time, so a simulated clock drives the model too) and stores one ``strategy.base.FairValue`` per market
  (``weather_mm.fair_values_from_distribution``: P(YES) and its ±1 °F sensitivity), stamped with
  that time. Values of markets no longer followed are dropped. A market with a settlement floor
  is never valued below it (YES settles at the floor at least).
- An event that cannot be priced (NWS down, brackets not a partition) keeps no value (a stale
  value is worse than none: strategies skip a market without one) and its error is kept in
  ``errors`` (event → one line); the others are still priced.
- ``run(interval_s, on_update)`` refreshes every ``interval_s`` real seconds until cancelled and
  calls ``on_update()`` after each refresh.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import structlog

from kalshi_trader.domain import MarketInfo
from kalshi_trader.fairvalue.live import event_fair_values
from kalshi_trader.fairvalue.nws import NwsClient, NwsError
from kalshi_trader.fairvalue.stations import STATIONS, event_date, station_from_api
from kalshi_trader.fairvalue.weather import Bracket, BracketError, check_partition
from kalshi_trader.strategy.base import FairValue
from kalshi_trader.strategy.weather_mm import fair_values_from_distribution

__all__ = ["FairValueFeed"]

log = structlog.get_logger(__name__)


class FairValueFeed:
    """See the module docstring."""

    def __init__(
        self,
        client: NwsClient,
        markets: Callable[[], Mapping[str, MarketInfo]],
        clock_ms: Callable[[], int],
    ) -> None:
        self.client = client
        self._markets = markets
        self._clock_ms = clock_ms
        self.values: dict[str, FairValue] = {}
        self.errors: dict[str, str] = {}
        self.refreshes = 0
        self.last_refresh_ms = 0

    def events(self) -> dict[str, list[MarketInfo]]:
        """Followed markets of the stations' series, by event."""
        grouped: dict[str, list[MarketInfo]] = {}
        for info in self._markets().values():
            if info.series_ticker in STATIONS:
                grouped.setdefault(info.event_ticker, []).append(info)
        return grouped

    async def refresh(self) -> None:
        now_ms = self._clock_ms()
        now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
        fresh: dict[str, FairValue] = {}
        errors: dict[str, str] = {}
        for event, infos in sorted(self.events().items()):
            try:
                station = station_from_api(infos[0].series_ticker, rules_primary=infos[0].rules_primary)
                brackets = check_partition(Bracket.from_market(m) for m in infos)
                fv = await event_fair_values(self.client, station, event_date(event), brackets, now=now)
            except (NwsError, BracketError, ValueError) as exc:
                errors[event] = str(exc)
                continue
            values = fair_values_from_distribution(fv.distribution, brackets, now_ms)
            for info in infos:
                value = values.get(info.ticker)
                if value is not None and info.settlement_floor is not None and value.price < info.settlement_floor:
                    values[info.ticker] = dataclasses.replace(value, price=info.settlement_floor)
            fresh.update(values)
        self.values = fresh
        if errors != self.errors:
            for event, error in errors.items():
                if self.errors.get(event) != error:
                    log.warning("fair_value_failed", event_ticker=event, error=error)
        self.errors = errors
        self.refreshes += 1
        self.last_refresh_ms = now_ms

    async def run(self, interval_s: float, on_update: Callable[[], None]) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # the feed must outlive one bad refresh
                log.exception("fair_value_refresh_failed")
            on_update()
            await asyncio.sleep(interval_s)
