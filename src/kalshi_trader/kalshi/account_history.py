"""An account's past read across Kalshi's live and historical tiers, as domain values.

Kalshi moves finished records out of the live endpoints once they are older than the cutoffs of
``GET /historical/cutoff`` (https://docs.kalshi.com/getting_started/historical_data): fills before
``trades_created_ts`` only in
``/historical/fills``, orders finished before ``orders_updated_ts`` only in ``/historical/orders``
(and no longer by id), settled positions of handed-off events only in ``/historical/positions``
(``/portfolio/settlements`` keeps live records only). These functions hide that split.

Contract (each takes a ``KalshiRest``; ``KalshiError`` propagates):
- ``fills_since(rest, min_ts)``: every fill at or after ``min_ts`` (whole seconds; ``None``: all) —
  the live pages first, then, when ``min_ts`` is before the trades cutoff, the historical ones (the
  order in which records move, so none is missed between the two reads); each fill once (by
  ``fill_id``), oldest first.
- ``order_by_id(rest, order_id, ticker=...)``: the order, live or archived (searched by ticker in
  ``/historical/orders``); ``None`` if neither tier knows it.
- ``find_order(rest, client_order_id, ticker=...)``: the same, by ``client_order_id``.
- ``live_settlements(rest, min_ts)``: ``GET /portfolio/settlements`` read as ``SettlementReport``\\ s,
  plus ``(ticker, reason)`` for entries that give no value a position can be paid at.
- ``archived_settlements(rest, tickers)``: for those of ``tickers`` whose settled position sits in
  ``/historical/positions``, the settlement from the market (``/historical/markets/{ticker}``, else
  the live market): value and time, without the counts the live record had (``net``/``revenue``
  ``None``); unreadable ones as for ``live_settlements``. One request per ticker, plus one per
  archived market.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kalshi_trader.domain import PRICE_SCALE, Fill, Order, Price, Qty, parse_qty
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.kalshi.errors import NotFoundError
from kalshi_trader.kalshi.rest import KalshiRest

__all__ = [
    "SettlementReport",
    "archived_settlements",
    "fills_since",
    "find_order",
    "live_settlements",
    "order_by_id",
]


@dataclass(frozen=True, slots=True)
class SettlementReport:
    """One market's settlement of our position, as the exchange reports it."""

    ticker: str
    yes_value: Price
    settled_ms: int
    net: Qty | None
    """YES minus NO contracts held at settlement (``None``: archived, not reported)."""
    revenue_cents: int | None


async def fills_since(rest: KalshiRest, min_ts: int | None) -> list[Fill]:
    found = {f.fill_id: f for f in [convert.fill(x) async for x in rest.iter_fills(min_ts=min_ts)]}
    cutoff = convert.historical_cutoff(await rest.get_historical_cutoff())
    if min_ts is None or min_ts * 1000 < cutoff.trades_created_ms:
        async for x in rest.iter_historical_fills(min_ts=min_ts):
            found.setdefault(x.fill_id, convert.fill(x))
    return sorted(found.values(), key=lambda f: (f.ts_ms, f.fill_id))


async def order_by_id(rest: KalshiRest, order_id: str, *, ticker: str | None = None) -> Order | None:
    try:
        return convert.order(await rest.get_order(order_id))
    except NotFoundError:
        pass
    async for x in rest.iter_historical_orders(ticker=ticker):
        if x.order_id == order_id:
            return convert.order(x)
    return None


async def find_order(rest: KalshiRest, client_order_id: str, *, ticker: str | None = None) -> Order | None:
    wire = await rest.find_order(client_order_id, ticker=ticker)
    if wire is not None:
        return convert.order(wire)
    async for x in rest.iter_historical_orders(ticker=ticker):
        if x.client_order_id == client_order_id:
            return convert.order(x)
    return None


def _report(s: w.Settlement) -> SettlementReport:
    """``ValueError`` if the entry says no value a position can be paid at."""
    if s.market_result == "yes":
        value = PRICE_SCALE
    elif s.market_result == "no" and not s.value:
        value = 0
    elif s.value is not None and 0 <= s.value <= 100:  # scalar, or "no" above a settlement floor: cents per YES
        value = s.value * (PRICE_SCALE // 100)
    else:
        raise ValueError(f"result {s.market_result!r} with value {s.value!r}")
    net = parse_qty(s.yes_count_fp) - parse_qty(s.no_count_fp)
    return SettlementReport(s.ticker, Price(value), convert.ts_ms(s.settled_time), Qty(net), s.revenue)


async def live_settlements(
    rest: KalshiRest, min_ts: int | None
) -> tuple[list[SettlementReport], list[tuple[str, str]]]:
    reports: list[SettlementReport] = []
    unreadable: list[tuple[str, str]] = []
    async for x in rest.iter_settlements(min_ts=min_ts):
        try:
            reports.append(_report(x))
        except ValueError as exc:
            unreadable.append((x.ticker, str(exc)))
    return reports, unreadable


async def _settled_market(rest: KalshiRest, ticker: str) -> w.Market | None:
    try:
        return await rest.get_historical_market(ticker)
    except NotFoundError:
        pass
    try:
        return await rest.get_market(ticker)
    except NotFoundError:
        return None


async def archived_settlements(
    rest: KalshiRest, tickers: Iterable[str]
) -> tuple[list[SettlementReport], list[tuple[str, str]]]:
    reports: list[SettlementReport] = []
    unreadable: list[tuple[str, str]] = []
    for ticker in dict.fromkeys(tickers):
        archived = [p async for p in rest.iter_historical_positions(ticker=ticker)]
        if not any(p.ticker == ticker for p in archived):
            continue
        market = await _settled_market(rest, ticker)
        try:
            settled = convert.settled_value(market) if market is not None else None
        except ValueError as exc:
            unreadable.append((ticker, str(exc)))
            continue
        if settled is None:
            unreadable.append((ticker, "archived as settled, but its market gives no result"))
            continue
        reports.append(SettlementReport(ticker, settled[0], settled[1], None, None))
    return reports, unreadable
