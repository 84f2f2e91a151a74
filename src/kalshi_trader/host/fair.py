"""Weather fair values for the node: every followed daily temperature event (highs and lows),
priced from NWS data.

Contract:
- ``FairValueFeed(client, markets, clock_ms)``: ``refresh()`` groups the followed markets whose
  series has a settlement station (``fairvalue.stations``; the station and whether it settles on
  the high or the low are read from the market's rules, ``station_from_api``, once per event while
  its markets' rules and strikes stand) by event, prices
  each event's brackets with ``fairvalue.live.event_fair_values`` at ``clock_ms()`` (market
  time, so a simulated clock drives the model too; read when the event's pricing starts) and
  stores one ``strategy.base.FairValue`` per market (``weather_mm.fair_values_from_distribution``:
  P(YES) and its ±1 °F sensitivity), stamped with that time. With a ``blend``
  (``fairvalue.blend.MarketBlend``) and ``mids`` (ticker → the market's probability from its
  book, ``blend.book_mid``; None without a usable book), the stored value is the model pooled with
  the mid by hours to the market's close (``MarketBlend.blend_event`` over the event's
  brackets, with a high's or a low's weights as the station settles); without them, the
  model's. Values of markets no longer followed are dropped. A market with a settlement floor is
  never valued below it (YES settles at the floor at least).
- Events are priced concurrently, each stored as soon as it is priced. ``refresh(wait_s=None)``
  waits for all of them; with ``wait_s`` it returns after that many real seconds and an event
  still waiting for NWS (a first fetch over the request budget, a slow answer) goes on in the
  background — the next refresh does not start it again — so one slow event never holds the
  others' values back.
- An event that cannot be priced (NWS down, brackets not a partition) keeps no value (a stale
  value is worse than none: strategies skip a market without one) and its error is kept in
  ``errors`` (event → one line); the others are still priced.
- ``run(interval_s, on_update, min_wall_s=...)`` refreshes every ``interval_s`` seconds of
  **market time** (``clock_ms``: a simulated clock at 600× refreshes 600 times as often in real
  time as the wall clock would, so values are as young in market time at any speed), but never
  sooner than ``min_wall_s`` real seconds after the last refresh began (the CPU and the NWS
  budget bound it; ``NwsClient`` serves cached answers meanwhile; a refresh waits at most that
  long for its events), until cancelled (pricing still running is cancelled with it); it calls
  ``on_update()`` after each refresh. A stopped clock is polled once a real second.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime

import structlog

from kalshi_trader.domain import MarketInfo
from kalshi_trader.fairvalue.blend import MarketBlend
from kalshi_trader.fairvalue.live import event_fair_values
from kalshi_trader.fairvalue.nws import NwsClient, NwsError
from kalshi_trader.fairvalue.stations import STATIONS, Station, event_date, station_from_api
from kalshi_trader.fairvalue.weather import Bracket, BracketError, Extreme, check_partition
from kalshi_trader.strategy.base import FairValue
from kalshi_trader.strategy.weather_mm import fair_values_from_distribution

__all__ = ["FairValueFeed"]

log = structlog.get_logger(__name__)

POLL_MAX_S = 1.0
"""Longest real sleep while waiting for the market clock to reach the next refresh."""


class FairValueFeed:
    """See the module docstring."""

    def __init__(
        self,
        client: NwsClient,
        markets: Callable[[], Mapping[str, MarketInfo]],
        clock_ms: Callable[[], int],
        *,
        blend: MarketBlend | None = None,
        mids: Callable[[str], float | None] | None = None,
    ) -> None:
        self.client = client
        self._markets = markets
        self._clock_ms = clock_ms
        self.blend = blend
        self._mids = mids
        self.values: dict[str, FairValue] = {}
        self.errors: dict[str, str] = {}
        self.refreshes = 0
        self.last_refresh_ms = 0
        self._pricing: dict[str, asyncio.Task[None]] = {}
        self._events: dict[tuple[object, ...], tuple[Station, list[Bracket], date]] = {}

    def events(self) -> dict[str, list[MarketInfo]]:
        """Followed markets of the stations' series, by event."""
        grouped: dict[str, list[MarketInfo]] = {}
        for info in self._markets().values():
            if info.series_ticker in STATIONS:
                grouped.setdefault(info.event_ticker, []).append(info)
        return grouped

    async def refresh(self, wait_s: float | None = None) -> None:
        now_ms = self._clock_ms()
        events = self.events()
        followed = {info.ticker for infos in events.values() for info in infos}
        self.values = {t: v for t, v in self.values.items() if t in followed}
        self.errors = {e: why for e, why in self.errors.items() if e in events}
        self._events = {key: known for key, known in self._events.items() if key[0] in events}
        for event, infos in sorted(events.items()):
            if event not in self._pricing:
                task = asyncio.get_running_loop().create_task(self._store(event, infos))
                self._pricing[event] = task
        running = [task for event, task in self._pricing.items() if event in events]
        if running:
            await asyncio.wait(running, timeout=wait_s)
        self.refreshes += 1
        self.last_refresh_ms = now_ms

    async def _store(self, event: str, infos: list[MarketInfo]) -> None:
        try:
            result = await self._price(event, infos)
        except Exception:  # a bug in one event's pricing must not end the others'
            log.exception("fair_value_failed", event_ticker=event)
            result = "pricing failed unexpectedly (see the log)"
        finally:
            del self._pricing[event]
        if isinstance(result, str):
            for info in infos:
                self.values.pop(info.ticker, None)
            if self.errors.get(event) != result:
                log.warning("fair_value_failed", event_ticker=event, error=result)
            self.errors[event] = result
        else:
            self.values.update(result)
            self.errors.pop(event, None)

    def cancel(self) -> None:
        """Cancel the pricing still running (``run`` does on its way out)."""
        for task in self._pricing.values():
            task.cancel()

    def _event(self, event: str, infos: list[MarketInfo]) -> tuple[Station, list[Bracket], date]:
        """The event's station, checked brackets (coldest first) and climate date, read once for as
        long as its markets' rules and strikes stay the same."""
        key = (event, tuple((i.ticker, i.strike_type, i.floor_strike, i.cap_strike, i.rules_primary) for i in infos))
        known = self._events.get(key)
        if known is None:
            station = station_from_api(infos[0].series_ticker, rules_primary=infos[0].rules_primary)
            brackets = check_partition(Bracket.from_market(m) for m in infos)
            known = self._events[key] = (station, brackets, event_date(event))
        return known

    async def _price(self, event: str, infos: list[MarketInfo]) -> dict[str, FairValue] | str:
        """One event's values (stamped with the market time they were priced at), or its error."""
        now_ms = self._clock_ms()
        try:
            station, brackets, day = self._event(event, infos)
            now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
            fv = await event_fair_values(self.client, station, day, now=now)  # its brackets: priced below
        except (NwsError, BracketError, ValueError) as exc:
            return str(exc)
        values = fair_values_from_distribution(
            fv.distribution, brackets, now_ms, adjust=self._adjust(infos, brackets, now_ms, station.extreme)
        )
        for info in infos:
            value = values.get(info.ticker)
            if value is not None and info.settlement_floor is not None and value.price < info.settlement_floor:
                values[info.ticker] = dataclasses.replace(value, price=info.settlement_floor)
        return values

    def _adjust(
        self, infos: list[MarketInfo], brackets: list[Bracket], now_ms: int, extreme: Extreme
    ) -> Callable[[Sequence[str], list[float]], list[float]] | None:
        """The market blend of one event's model probabilities at ``now_ms`` (None: no blend); its
        ``brackets`` in the order the probabilities come in."""
        blend, mids = self.blend, self._mids
        if blend is None or mids is None:
            return None
        market = {info.ticker: mids(info.ticker) for info in infos}
        hours = max(0.0, (min(info.close_ms for info in infos) - now_ms) / 3_600_000)
        ordered = [b.ticker for b in brackets]
        pool = blend.event_pool([market.get(t) for t in ordered], hours, extreme)

        def adjust(tickers: Sequence[str], values: list[float]) -> list[float]:
            if tickers == ordered:
                return pool(values)
            return blend.blend_event(values, [market.get(t) for t in tickers], hours, extreme)

        return adjust

    async def run(self, interval_s: float, on_update: Callable[[], None], *, min_wall_s: float = 0.25) -> None:
        interval_ms = max(1, round(interval_s * 1000))
        try:
            while True:
                began_ms, began_wall = self._clock_ms(), time.monotonic()
                try:
                    await self.refresh(wait_s=max(min_wall_s, 0.01))
                except Exception:  # the feed must outlive one bad refresh
                    log.exception("fair_value_refresh_failed")
                on_update()
                await self._until(began_ms + interval_ms, began_ms, began_wall, min_wall_s)
        finally:
            self.cancel()

    async def _until(self, due_ms: int, began_ms: int, began_wall: float, min_wall_s: float) -> None:
        """Sleep until the market clock reaches ``due_ms`` and ``min_wall_s`` real seconds have
        passed since ``began_wall``, estimating the clock's speed from what it did since then."""
        while True:
            now_ms, wall = self._clock_ms(), time.monotonic()
            left_wall = began_wall + min_wall_s - wall
            if now_ms >= due_ms:
                if left_wall <= 0:
                    return
                await asyncio.sleep(left_wall)
                continue
            rate = (now_ms - began_ms) / max(wall - began_wall, 1e-6)  # market ms per real second
            wait = (due_ms - now_ms) / rate if rate > 0 else POLL_MAX_S
            await asyncio.sleep(max(left_wall, min(max(wait, 0.001), POLL_MAX_S)))
