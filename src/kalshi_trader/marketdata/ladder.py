"""``kalshi-trader book TICKER``: one market's live L2 ladder in the terminal.

Contract:
- ``render(book, info, depth)`` draws the book as a Rich renderable: a header (ticker, title,
  best YES bid/ask with sizes, spread, mid, and ``STALE (reason)`` while the book cannot be
  trusted) over a ladder of up to ``depth`` YES asks (the NO bids at ``$1 - p``, best ask next to
  the spread) above up to ``depth`` YES bids (best first). Prices show the digits they need
  (``0.56``, ``0.555``); sizes are contracts with two decimals. Pure: no I/O.
- ``show_book(settings, ticker, console, once=..., depth=...)`` connects (REST + signed WS from
  ``settings``), follows just ``ticker`` with a ``Monitor``, and either prints one snapshot as
  soon as the book is fresh (``once``; waits at most ``timeout_s``) or keeps a ``rich.live.Live``
  view refreshed from the feed (at most ``refresh_hz`` redraws a second, never from the frame
  handler itself) until cancelled (Ctrl-C). It always closes its connections. Errors a user can
  act on raise ``BookViewError`` with one line (unknown market, no fresh book in time); connection
  and key problems raise ``kalshi.ws.WsConnectError`` / ``kalshi.auth.KeyFileError`` /
  ``kalshi.errors.KalshiError``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from kalshi_trader.config import Settings
from kalshi_trader.domain import PRICE_SCALE, MarketInfo, Side, format_price, format_qty
from kalshi_trader.kalshi.markets import RestMarkets
from kalshi_trader.kalshi.readonly import ReadOnlyRest
from kalshi_trader.kalshi.ws import WsSession
from kalshi_trader.marketdata.book import L2Book
from kalshi_trader.marketdata.monitor import (
    BookChanged,
    BookFresh,
    BookStale,
    MarketFilter,
    MarketLifecycle,
    Monitor,
)

__all__ = ["BookViewError", "price_text", "render", "show_book"]


class BookViewError(Exception):
    """The book cannot be shown; the message is one line for the user."""


def price_text(price: int) -> str:
    """``5600`` → ``0.56``; ``5550`` → ``0.555`` (at least two decimals, no trailing zeros beyond)."""
    whole, frac = format_price(price).split(".")
    return f"{whole}.{frac.rstrip('0').ljust(2, '0')}"


def size_text(qty: int) -> str:
    return format_qty(qty)


def render(book: L2Book, info: MarketInfo | None, depth: int = 10, *, stale_reason: str = "") -> RenderableType:
    title = Text(book.ticker, style="bold")
    if info is not None and info.title:
        title.append(f"  {info.title}", style="dim")
    bid, ask = book.best_yes_bid(), book.best_yes_ask()
    parts = [
        f"YES bid {price_text(bid)} x {size_text(book.best_yes_bid_size())}" if bid is not None else "YES bid —",
        f"YES ask {price_text(ask)} x {size_text(book.best_yes_ask_size())}" if ask is not None else "YES ask —",
    ]
    spread = book.spread()
    if spread is not None:
        parts.append(f"spread {price_text(spread)}")
    mid = book.mid()
    if mid is not None:
        parts.append(f"mid {price_text(mid)}")
    summary = Text("  ".join(parts))
    if book.stale:
        summary.append(f"  STALE ({stale_reason or 'waiting for a snapshot'})", style="bold red")
    if info is not None and info.close_ms:
        closes = datetime.fromtimestamp(info.close_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
        summary.append(f"  {info.status.value}, closes {closes}", style="dim")

    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("Ask size", justify="right", no_wrap=True)
    table.add_column("YES price", justify="center", no_wrap=True)
    table.add_column("Bid size", justify="right", no_wrap=True)
    asks = book.depth(Side.NO, depth)  # NO bids: YES asks at $1 - p, best first
    for level in reversed(asks):
        table.add_row(size_text(level.qty), Text(price_text(PRICE_SCALE - level.price), style="red"), "")
    if asks or book.depth(Side.YES, 1):
        table.add_row("", Text("─" * 7, style="dim"), "")
    for level in book.depth(Side.YES, depth):
        table.add_row("", Text(price_text(level.price), style="green"), size_text(level.qty))
    if not asks and not book.depth(Side.YES, 1):
        table.add_row("", Text("(empty book)", style="dim"), "")
    return Group(title, summary, table)


async def show_book(
    settings: Settings,
    ticker: str,
    console: Console,
    *,
    once: bool = False,
    depth: int = 10,
    timeout_s: float = 15.0,
    refresh_hz: float = 10.0,
) -> None:
    """See the module docstring."""
    async with ReadOnlyRest.from_settings(settings, require_key=True) as rest:
        ws = WsSession(settings.ws_url(), rest.signer)
        wanted = MarketFilter(tickers=frozenset({ticker}), statuses=frozenset())
        monitor = Monitor(RestMarkets(rest), ws, wanted, channels=(), own_session=True)
        try:
            await monitor.start()
            if ticker not in monitor.markets:
                raise BookViewError(f"no market {ticker} at {settings.rest_url()}")
            try:
                async with asyncio.timeout(timeout_s):
                    await monitor.wait_fresh([ticker])
            except TimeoutError:
                raise BookViewError(f"no order book snapshot for {ticker} within {timeout_s:g}s") from None
            if once:
                console.print(render(monitor.books[ticker], monitor.markets.get(ticker), depth))
                return
            await _live(monitor, ticker, console, depth, refresh_hz)
        finally:
            await monitor.close()


async def _live(monitor: Monitor, ticker: str, console: Console, depth: int, refresh_hz: float) -> None:
    dirty = asyncio.Event()
    reason = [""]
    info = [monitor.markets.get(ticker)]

    def changed(event: BookChanged | BookFresh) -> None:
        if event.ticker == ticker:
            dirty.set()

    def stale(event: BookStale) -> None:
        if event.ticker == ticker:
            reason[0] = event.reason
            dirty.set()

    def lifecycle(event: MarketLifecycle) -> None:
        if event.ticker == ticker and event.info is not None:
            info[0] = event.info
            dirty.set()

    monitor.subscribe(BookChanged, changed)
    monitor.subscribe(BookFresh, changed)
    monitor.subscribe(BookStale, stale)
    monitor.subscribe(MarketLifecycle, lifecycle)
    with Live(console=console, auto_refresh=False, transient=False) as live:
        while True:
            book = monitor.books.get(ticker)
            if book is None:  # no longer followed: determined, settled or closed
                what = info[0].status.value if info[0] is not None else "gone"
                live.update(Text(f"{ticker}: market {what}; no more updates"), refresh=True)
                return
            live.update(render(book, info[0], depth, stale_reason=reason[0]), refresh=True)
            dirty.clear()
            await dirty.wait()
            await asyncio.sleep(1.0 / refresh_hz)  # coalesce a burst of changes into one redraw
