"""A history download as the records a backtest replays: the trade-based fill model.

A download (``history download``: ``<SERIES>/markets.parquet``, ``trades/<TICKER>.parquet``,
``candles/<TICKER>.parquet``) has no order book. ``history_records(root)`` turns it into the records
a recording has, so the replay and the paper venue run unchanged:

- per market, a ``market`` record at its first data point — its recorded wire JSON with status
  ``active`` and no result yet (the market as it was while it traded);
- at every candlestick's end, an ``orderbook_snapshot`` frame of one level per side: a YES bid at
  the candle's closing YES bid and a NO bid at $1 − its closing YES ask, each ``QUOTED_SIZE``
  contracts (the real sizes are unknown), or an empty side where the candle quoted none;
- a ``trade`` frame per recorded trade (its price, size and taker side);
- at the market's settlement, a ``market_lifecycle_v2`` ``determined`` frame with its result and
  settlement value.

Frames carry consecutive ``seq`` numbers on three recorded ``subscribed`` sids after a ``conn``
record, all in time order (ties: market, book, trade, lifecycle). Hence the fill model
(docs/backtesting.md): a marketable order fills at the candle's quoted price for at most
``QUOTED_SIZE``; a resting order fills only when a recorded trade prints at or through its price,
after the size shown ahead of it (the paper venue's queue model). No NWS answers: weather fair
values cannot be computed from a download.

Returns ``(read, estimate)``: a function yielding the records, and how many there are.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from kalshi_trader.recording.reader import Record

__all__ = ["QUOTED_SIZE", "history_records"]

QUOTED_SIZE: Final = "100.00"
"""Contracts shown at each candle's bid and ask (a download has prices, not sizes)."""
_BOOK_SID, _TRADE_SID, _LIFECYCLE_SID = 1, 2, 3
_ENCODE = msgspec.json.encode
_DECODE = msgspec.json.decode
_MARKET, _BOOK, _TRADE, _LIFE = 0, 1, 2, 3
_CHANNELS: Final = ((_BOOK_SID, "orderbook_delta"), (_TRADE_SID, "trade"), (_LIFECYCLE_SID, "market_lifecycle_v2"))


def _dollars(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.4f}"


def _ms(value: Any) -> int:
    return int(value.timestamp() * 1000)


def _events(series_dir: Path) -> Iterator[tuple[int, int, int, str, dict[str, Any]]]:
    """(time ms, kind, order, ticker, content) of one series, unsorted."""
    markets = pq.read_table(series_dir / "markets.parquet").to_pylist()
    for order, row in enumerate(markets):
        ticker = row["ticker"]
        candles_file = series_dir / "candles" / f"{ticker}.parquet"
        trades_file = series_dir / "trades" / f"{ticker}.parquet"
        candles = pq.read_table(candles_file).to_pylist() if candles_file.exists() else []
        trades = pq.read_table(trades_file).to_pylist() if trades_file.exists() else []
        times = [_ms(c["end_time"]) for c in candles] + [_ms(t["created_time"]) for t in trades]
        if not times:
            continue
        wire = _DECODE(row["wire"])
        wire["status"] = "active"
        wire["result"] = ""
        yield min(times) - 1, _MARKET, order, ticker, wire
        for c in candles:
            bid, ask = c.get("yes_bid_close"), c.get("yes_ask_close")
            yes = [[_dollars(bid), QUOTED_SIZE]] if bid is not None and bid > 0 else []
            no = [[_dollars(1 - ask), QUOTED_SIZE]] if ask is not None and ask < 1 else []
            yield _ms(c["end_time"]), _BOOK, order, ticker, {"yes_dollars_fp": yes, "no_dollars_fp": no}
        for t in trades:
            body = {
                "trade_id": t["trade_id"],
                "yes_price_dollars": _dollars(t["yes_price"]),
                "no_price_dollars": _dollars(t["no_price"]),
                "count_fp": f"{t['count']:.2f}",
                "is_block_trade": False,
                "ts_ms": _ms(t["created_time"]),
                "taker_outcome_side": t["taker_outcome_side"] or "",
                "taker_book_side": t["taker_book_side"] or "",
            }
            yield _ms(t["created_time"]), _TRADE, order, ticker, body
        settled = row.get("settlement_time") or row.get("close_time")
        if row.get("result") in ("yes", "no") and settled is not None:
            life: dict[str, Any] = {"event_type": "determined", "result": row["result"]}
            if row.get("settlement_value") is not None:
                life["settlement_value"] = _dollars(row["settlement_value"])
            yield max(_ms(settled), max(times) + 1), _LIFE, order, ticker, life


def _records(root: Path) -> Iterator[Record]:
    def key(event: tuple[int, int, int, str, dict[str, Any]]) -> tuple[int, int, int]:
        return event[0], event[1], event[2]

    try:
        streams = [sorted(_events(d), key=key) for d in sorted(root.iterdir()) if (d / "markets.parquet").exists()]
    except (pa.ArrowException, OSError, KeyError, ValueError) as exc:
        from kalshi_trader.backtest.data import BacktestError

        raise BacktestError(f"{root}: not a readable history download: {exc}") from None
    merged = heapq.merge(*streams, key=key)
    first = True
    seq = {_BOOK_SID: 0, _TRADE_SID: 0, _LIFECYCLE_SID: 0}
    for ms, kind, _, ticker, body in merged:
        wall = ms * 1_000_000
        if kind == _MARKET:
            yield Record("market", wall, ms, _ENCODE(body))
        if first:  # the subscriptions, once the first market is followed
            first = False
            yield Record("conn", wall, ms, b'{"connected":true}')
            for sid, channel in _CHANNELS:
                yield Record("ws", wall, ms, _ENCODE({"type": "subscribed", "msg": {"channel": channel, "sid": sid}}))
        if kind == _MARKET:
            continue
        sid, kind_name = {
            _BOOK: (_BOOK_SID, "orderbook_snapshot"),
            _TRADE: (_TRADE_SID, "trade"),
            _LIFE: (_LIFECYCLE_SID, "market_lifecycle_v2"),
        }[kind]
        seq[sid] += 1
        msg = {"market_ticker": ticker, **body}
        if kind == _BOOK:
            msg["market_id"] = ""
        yield Record("ws", wall, ms, _ENCODE({"type": kind_name, "sid": sid, "seq": seq[sid], "msg": msg}))


def history_records(root: Path) -> tuple[Callable[[], Iterator[Record]], int]:
    estimate = 0
    for series_dir in root.iterdir():
        if not (series_dir / "markets.parquet").exists():
            continue
        for sub in ("candles", "trades"):
            for f in (series_dir / sub).glob("*.parquet") if (series_dir / sub).exists() else ():
                estimate += pq.ParquetFile(f).metadata.num_rows
    return (lambda: _records(root)), estimate
