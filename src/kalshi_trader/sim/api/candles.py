"""Candlesticks of the embedded exchange's markets, computed from its own record, and their wire forms.

Contract (``GET /series/{s}/markets/{t}/candlesticks``, ``/markets/candlesticks``,
``/historical/markets/{t}/candlesticks``):
- Inputs: the market's trades (oldest first) and its ``QuoteBar``\\ s — one per minute in which its
  top of book or open interest changed (``sim/api/market_history.py``), oldest first. Before the first bar the
  book is empty (bid $0, ask $1) and open interest is 0.
- A period of ``period_s`` seconds ends at a multiple of ``period_s`` since the epoch (daily
  candles end at 00:00 UTC) and covers ``(end − period_s, end]``; a trade at ``ts_ms`` belongs to the
  period ending at ``ceil(ts_ms / period_ms)``. ``candles(...)`` returns one ``domain.Candle`` per
  period ending within ``[start_s, end_s]`` **in which something happened** (a trade or a quote
  change) — Kalshi's candles are sparse — oldest first.
- Per candle: ``yes_bid``/``yes_ask`` open = the value in effect when the period began, high/low over
  the period including it, close = the value at its end; ``trades`` OHLC of the traded YES prices
  (``None`` without trades); ``mean`` the volume-weighted mean price rounded to the nearest $0.0001;
  ``previous`` the last traded price before the period; ``volume`` contracts traded in it;
  ``open_interest`` at its end.
- ``latest_before``: with ``include_latest_before_start`` the latest real candle before the range is
  projected onto the first period end in range — trade OHLC null, ``previous`` its close (or its own
  previous), bid/ask flat at its closes, volume 0 — unless a real candle already ends there.
- ``period_count`` is how many periods the range spans (callers refuse more than ``MAX_CANDLES``).
- ``live(candle)`` / ``historical(candle)`` render ``MarketCandlestick`` (``*_dollars`` names,
  ``volume_fp``) and ``MarketCandlestickHistorical`` (flat names, ``volume``).
Pure functions; no I/O.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from kalshi_trader.domain import PRICE_SCALE, Candle, Ohlc, Price, Qty, format_price, format_qty
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.sim.core.state import Trade

PERIODS_MINUTES: Final = (1, 60, 1440)
"""The documented ``period_interval`` values."""
MAX_CANDLES: Final = 10_000
"""Most periods one request may span (the batch endpoint's documented total)."""
EMPTY_BID: Final = Price(0)
EMPTY_ASK: Final = Price(PRICE_SCALE)


@dataclass(slots=True)
class QuoteBar:
    """One minute (``(end_s − 60, end_s]``) of a market's top of book and open interest."""

    end_s: int
    bid_open: int
    bid_high: int
    bid_low: int
    bid_close: int
    ask_open: int
    ask_high: int
    ask_low: int
    ask_close: int
    open_interest: int

    @classmethod
    def first(cls, end_s: int, previous: QuoteBar | None) -> QuoteBar:
        """A bar opening where ``previous`` closed (or on an empty book)."""
        bid = previous.bid_close if previous is not None else EMPTY_BID
        ask = previous.ask_close if previous is not None else EMPTY_ASK
        oi = previous.open_interest if previous is not None else 0
        return cls(end_s, bid, bid, bid, bid, ask, ask, ask, ask, oi)

    def update(self, bid: int, ask: int, open_interest: int) -> None:
        self.bid_high, self.bid_low, self.bid_close = max(self.bid_high, bid), min(self.bid_low, bid), bid
        self.ask_high, self.ask_low, self.ask_close = max(self.ask_high, ask), min(self.ask_low, ask), ask
        self.open_interest = open_interest


def period_end(ts_ms: int, period_s: int) -> int:
    """The end (Unix seconds) of the period holding the moment ``ts_ms``."""
    period_ms = period_s * 1000
    return -(-ts_ms // period_ms) * period_s


def period_count(start_s: int, end_s: int, period_s: int) -> int:
    first, last = -(-start_s // period_s) * period_s, end_s // period_s * period_s
    return max(0, (last - first) // period_s + 1)


class _Series:
    """A market's record, indexed for period lookups."""

    def __init__(self, trades: Sequence[Trade], bars: Sequence[QuoteBar]) -> None:
        self.trades = trades
        self.trade_ms = [t.ts_ms for t in trades]
        self.bars = bars
        self.bar_ends = [b.end_s for b in bars]

    def candle(self, end: int, period_s: int) -> Candle:
        start = end - period_s
        # Quotes: the bar in effect at the start, then the bars inside the period.
        i, j = bisect_right(self.bar_ends, start), bisect_right(self.bar_ends, end)
        before = self.bars[i - 1] if i > 0 else None
        bid_open = before.bid_close if before is not None else EMPTY_BID
        ask_open = before.ask_close if before is not None else EMPTY_ASK
        oi = before.open_interest if before is not None else 0
        bid = [bid_open, bid_open, bid_open]  # high, low, close
        ask = [ask_open, ask_open, ask_open]
        for bar in self.bars[i:j]:
            bid = [max(bid[0], bar.bid_high), min(bid[1], bar.bid_low), bar.bid_close]
            ask = [max(ask[0], bar.ask_high), min(ask[1], bar.ask_low), bar.ask_close]
            oi = bar.open_interest
        # Trades: ts in (start, end] seconds, i.e. ms in (start*1000, end*1000].
        k, m = bisect_right(self.trade_ms, start * 1000), bisect_right(self.trade_ms, end * 1000)
        previous = Price(self.trades[k - 1].price) if k > 0 else None
        inside = self.trades[k:m]
        trades: Ohlc | None = None
        mean: Price | None = None
        volume = 0
        if inside:
            prices = [t.price for t in inside]
            volume = sum(t.count for t in inside)
            notional = sum(t.price * t.count for t in inside)
            trades = Ohlc(Price(prices[0]), Price(max(prices)), Price(min(prices)), Price(prices[-1]))
            mean = Price((2 * notional + volume) // (2 * volume))
        return Candle(
            end_s=end,
            yes_bid=Ohlc(Price(bid_open), Price(bid[0]), Price(bid[1]), Price(bid[2])),
            yes_ask=Ohlc(Price(ask_open), Price(ask[0]), Price(ask[1]), Price(ask[2])),
            trades=trades,
            mean=mean,
            previous=previous,
            volume=Qty(volume),
            open_interest=Qty(oi),
        )

    def active_ends(self, first: int, last: int, period_s: int) -> list[int]:
        """Ends of the periods in ``[first, last]`` holding a quote change or a trade."""
        ends: set[int] = set()
        lo = first - period_s
        for bar in self.bars[bisect_right(self.bar_ends, lo) : bisect_right(self.bar_ends, last)]:
            ends.add(-(-bar.end_s // period_s) * period_s)
        for t in self.trades[bisect_right(self.trade_ms, lo * 1000) : bisect_right(self.trade_ms, last * 1000)]:
            ends.add(period_end(t.ts_ms, period_s))
        return sorted(ends)

    def latest_end_before(self, first: int, period_s: int) -> int | None:
        """End of the latest period with activity that ended before ``first``."""
        cutoff = first - period_s
        times: list[int] = []
        i = bisect_right(self.bar_ends, cutoff)
        if i:
            times.append(self.bar_ends[i - 1] * 1000)
        k = bisect_right(self.trade_ms, cutoff * 1000)
        if k:
            times.append(self.trade_ms[k - 1])
        return period_end(max(times), period_s) if times else None


def candles(
    trades: Sequence[Trade],
    bars: Sequence[QuoteBar],
    *,
    start_s: int,
    end_s: int,
    period_s: int,
    latest_before: bool = False,
) -> list[Candle]:
    """The market's candles ending in ``[start_s, end_s]`` (module docstring)."""
    first, last = -(-start_s // period_s) * period_s, end_s // period_s * period_s
    if first > last:
        return []
    series = _Series(trades, bars)
    out = [series.candle(end, period_s) for end in series.active_ends(first, last, period_s)]
    if latest_before and (not out or out[0].end_s != first):
        end = series.latest_end_before(first, period_s)
        if end is not None:
            real = series.candle(end, period_s)
            out.insert(0, _projected(real, first))
    return out


def _projected(real: Candle, end_s: int) -> Candle:
    def flat(price: Price) -> Ohlc:
        return Ohlc(price, price, price, price)

    return Candle(
        end_s=end_s,
        yes_bid=flat(real.yes_bid.close),
        yes_ask=flat(real.yes_ask.close),
        trades=None,
        mean=None,
        previous=real.trades.close if real.trades is not None else real.previous,
        volume=Qty(0),
        open_interest=real.open_interest,
    )


# -- wire forms ---------------------------------------------------------------------------------


def _quotes(ohlc: Ohlc, suffix: str) -> dict[str, str]:
    """``open``/``low``/``high``/``close`` + ``suffix`` of a bid or ask distribution."""
    return {f"{name}{suffix}": format_price(getattr(ohlc, name)) for name in ("open", "low", "high", "close")}


def _prices(c: Candle, suffix: str) -> dict[str, str | None]:
    """The traded-price distribution's fields (``None`` where nothing traded)."""
    t = c.trades
    values = {name: getattr(t, name) if t is not None else None for name in ("open", "low", "high", "close")}
    values |= {"mean": c.mean, "previous": c.previous}
    return {f"{name}{suffix}": None if p is None else format_price(p) for name, p in values.items()}


def live(c: Candle) -> w.MarketCandlestick:
    return w.MarketCandlestick(
        end_period_ts=c.end_s,
        yes_bid=w.BidAskDistribution(**_quotes(c.yes_bid, "_dollars")),
        yes_ask=w.BidAskDistribution(**_quotes(c.yes_ask, "_dollars")),
        price=w.PriceDistribution(**_prices(c, "_dollars")),
        volume_fp=format_qty(c.volume),
        open_interest_fp=format_qty(c.open_interest),
    )


def historical(c: Candle) -> w.MarketCandlestickHistorical:
    return w.MarketCandlestickHistorical(
        end_period_ts=c.end_s,
        yes_bid=w.BidAskDistributionHistorical(**_quotes(c.yes_bid, "")),
        yes_ask=w.BidAskDistributionHistorical(**_quotes(c.yes_ask, "")),
        price=w.PriceDistributionHistorical(**_prices(c, "")),
        volume=format_qty(c.volume),
        open_interest=format_qty(c.open_interest),
    )


__all__ = [
    "MAX_CANDLES",
    "PERIODS_MINUTES",
    "QuoteBar",
    "candles",
    "historical",
    "live",
    "period_count",
    "period_end",
]
