"""The Parquet tables of a history download: markets, trades and candlesticks.

Contract:
- ``write_trades(path, trades)`` / ``write_candles(path, ticker, period, candles)`` write one
  market's rows to ``path`` atomically (a temporary file, then a rename): the file is either the
  whole table or absent. ``merge_markets(path, markets)`` adds markets to ``markets.parquet``
  (one row per ticker, the newer read winning), atomically too.
- Columns (``MARKETS``, ``TRADES``, ``CANDLES``): prices are ``decimal128(9, 4)`` dollars, counts
  ``decimal128(18, 2)`` contracts — exact, never float; times are UTC timestamps (ms; candle ends
  in s); ``tier`` says which tier (``live`` / ``historical``) the row was read from. ``markets``
  also keeps each market's wire JSON (``wire``: what ``kalshi.schemas.Market`` decodes) so a
  backtest can rebuild its ``MarketInfo`` (tick grid, strike) with ``kalshi.convert``.
- Prices and counts are parsed with ``domain.parse_price`` / ``parse_qty`` (a malformed value is a
  ``ValueError``), then scaled to decimals without rounding.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from kalshi_trader.domain import Candle, Ohlc, parse_price, parse_qty
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi import schemas as w

__all__ = ["CANDLES", "MARKETS", "TRADES", "merge_markets", "write_candles", "write_trades"]

PRICE: Final = pa.decimal128(9, 4)
COUNT: Final = pa.decimal128(18, 2)
MS: Final = pa.timestamp("ms", tz="UTC")

MARKETS: Final = pa.schema(
    [
        ("ticker", pa.string()),
        ("event_ticker", pa.string()),
        ("series_ticker", pa.string()),
        ("title", pa.string()),
        ("yes_sub_title", pa.string()),
        ("status", pa.string()),
        ("result", pa.string()),
        ("open_time", MS),
        ("close_time", MS),
        ("settlement_time", MS),
        ("settlement_value", PRICE),
        ("volume", COUNT),
        ("strike_type", pa.string()),
        ("floor_strike", pa.float64()),
        ("cap_strike", pa.float64()),
        ("tier", pa.string()),
        ("wire", pa.string()),
    ]
)
TRADES: Final = pa.schema(
    [
        ("trade_id", pa.string()),
        ("ticker", pa.string()),
        ("created_time", MS),
        ("yes_price", PRICE),
        ("no_price", PRICE),
        ("count", COUNT),
        ("taker_outcome_side", pa.string()),
        ("taker_book_side", pa.string()),
        ("tier", pa.string()),
    ]
)
_OHLC_COLUMNS: Final = [
    (f"{what}_{part}", PRICE) for what in ("yes_bid", "yes_ask", "price") for part in ("open", "high", "low", "close")
]
CANDLES: Final = pa.schema(
    [
        ("ticker", pa.string()),
        ("end_time", pa.timestamp("s", tz="UTC")),
        ("period_minutes", pa.int32()),
        *_OHLC_COLUMNS,
        ("price_mean", PRICE),
        ("price_previous", PRICE),
        ("volume", COUNT),
        ("open_interest", COUNT),
        ("tier", pa.string()),
    ]
)
_ENCODER: Final = msgspec.json.Encoder()


def _price(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value).scaleb(-4)


def _count(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def _write(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def _rows(schema: pa.Schema, rows: Sequence[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=schema)


def _ms(text: str | None) -> int | None:
    return convert.ts_ms(text) if text else None


def market_row(m: w.Market, tier: str) -> dict[str, Any]:
    value = m.settlement_value_dollars
    return {
        "ticker": m.ticker,
        "event_ticker": m.event_ticker,
        "series_ticker": convert.series_of(m.event_ticker or m.ticker),
        "title": m.title if isinstance(m.title, str) else "",
        "yes_sub_title": m.yes_sub_title,
        "status": m.status,
        "result": m.result,
        "open_time": _ms(m.open_time),
        "close_time": _ms(m.close_time),
        "settlement_time": _ms(m.settlement_ts),
        "settlement_value": _price(parse_price(value)) if value is not None else None,
        "volume": _count(parse_qty(m.volume_fp)),
        "strike_type": m.strike_type if isinstance(m.strike_type, str) else "",
        "floor_strike": m.floor_strike,
        "cap_strike": m.cap_strike,
        "tier": tier,
        "wire": _ENCODER.encode(m).decode(),
    }


def merge_markets(path: Path, markets: Iterable[tuple[w.Market, str]]) -> None:
    rows: dict[str, dict[str, Any]] = {}
    if path.exists():
        for row in pq.read_table(path, schema=MARKETS).to_pylist():
            rows[row["ticker"]] = row
    for m, tier in markets:
        rows[m.ticker] = market_row(m, tier)
    _write(path, _rows(MARKETS, [rows[t] for t in sorted(rows)]))


def write_trades(path: Path, trades: Iterable[tuple[w.Trade, str]]) -> None:
    rows = [
        {
            "trade_id": t.trade_id,
            "ticker": t.ticker,
            "created_time": convert.ts_ms(t.created_time),
            "yes_price": _price(parse_price(t.yes_price_dollars)),
            "no_price": _price(parse_price(t.no_price_dollars)),
            "count": _count(parse_qty(t.count_fp)),
            "taker_outcome_side": t.taker_outcome_side,
            "taker_book_side": t.taker_book_side,
            "tier": tier,
        }
        for t, tier in trades
    ]
    _write(path, _rows(TRADES, rows))


def _ohlc(prefix: str, value: Ohlc | None) -> dict[str, Decimal | None]:
    parts = (None,) * 4 if value is None else (value.open, value.high, value.low, value.close)
    return {f"{prefix}_{n}": _price(p) for n, p in zip(("open", "high", "low", "close"), parts, strict=True)}


def write_candles(path: Path, ticker: str, period_minutes: int, candles: Iterable[tuple[Candle, str]]) -> None:
    rows = [
        {
            "ticker": ticker,
            "end_time": c.end_s,
            "period_minutes": period_minutes,
            **_ohlc("yes_bid", c.yes_bid),
            **_ohlc("yes_ask", c.yes_ask),
            **_ohlc("price", c.trades),
            "price_mean": _price(c.mean),
            "price_previous": _price(c.previous),
            "volume": _count(c.volume),
            "open_interest": _count(c.open_interest),
            "tier": tier,
        }
        for c, tier in candles
    ]
    _write(path, _rows(CANDLES, rows))
