"""Reference implementations for differential tests: the paper exchange as first written.

``ReferencePaperExchange`` is ``PaperExchange`` whose ``on_book_delta`` looks for crossing
liquidity after every delta on a market where we rest orders, as it first did (the exchange now
looks only after a delta that adds size at a price one of them crosses; looking again after it
finds nothing unless it missed some). ``test_reference.py`` feeds both the same
operations and compares everything they change."""

from __future__ import annotations

from kalshi_trader.domain import Side
from kalshi_trader.paper.exchange import PaperExchange


class ReferencePaperExchange(PaperExchange):
    def on_book_delta(self, ticker: str, side: Side, price: int, delta: int) -> None:
        super().on_book_delta(ticker, side, price, delta)
        book = self._books.get(ticker)
        if book is not None and book.fresh and ticker in self._resting:
            self._after_feed(ticker)  # crossing liquidity looked for after every delta
