"""The favourite's entries grouped by entry price: what each bucket of entries earned.

Contract:
- ``entry_buckets(result, strategy="favorite", edges=ENTRY_EDGES)`` → one ``EntryBucket`` per
  bucket of the leg price paid that holds an entry (in bucket order; prices below the first edge
  fall in a ``below`` bucket): entries, contracts, entries decided and won, realized P&L net of
  fees (Money, exact).
- Attribution: an entry is a fill of the strategy that opens or adds to its position in the market (YES
  bought at p, or NO bought at $1 − p); a fill the other way closes its oldest open entries first (FIFO per
  market), and what is still open at the end earns the settlement value if the market was determined.
- An entry's P&L is (exit or settlement price − entry price) × contracts over its closed part, less its
  own fee and the share of each closing fill's fee for the contracts it closed (pro rata, remainder to
  the last). It is *decided* once every contract is closed or settled, and *won* when it earned more
  than it paid before fees (the side bought settled at $1, or it was sold above its price). Entries
  still open count in entries and contracts; their closed part counts in the P&L.
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Final

from kalshi_trader.backtest.collect import BacktestResult, money_of
from kalshi_trader.domain import PRICE_SCALE

__all__ = ["ENTRY_EDGES", "EntryBucket", "entry_buckets"]

ENTRY_EDGES: Final = (8_500, 8_800, 9_100, 9_400, 9_700, PRICE_SCALE + 1)
"""Bucket edges of the leg price paid (Price): [edge, next edge); $1 falls in the last bucket."""


@dataclass(slots=True)
class EntryBucket:
    low: int
    high: int
    """Leg price range [low, high) (Price); ``low`` 0 is the ``below`` bucket."""
    entries: int = 0
    contracts: int = 0
    decided: int = 0
    won: int = 0
    pnl: int = 0
    """Realized P&L net of fees (Money)."""

    @property
    def label(self) -> str:
        high = min(self.high, PRICE_SCALE)
        if self.low == 0:
            return f"below {high / PRICE_SCALE:.2f}"
        return f"{self.low / PRICE_SCALE:.2f}-{high / PRICE_SCALE:.2f}"

    @property
    def win_rate(self) -> float | None:
        return self.won / self.decided if self.decided else None


@dataclass(slots=True)
class _Entry:
    long_yes: bool
    price: int
    """Leg price paid (Price)."""
    qty: int
    open: int
    gross: int = 0
    fees: int = 0


def _close(lots: deque[_Entry], price: int, qty: int, fee: int) -> None:
    """Close ``qty`` contracts of the oldest lots at YES price ``price``, sharing ``fee`` pro rata."""
    left, fee_left, total = qty, fee, qty
    while left and lots:
        lot = lots[0]
        take = min(left, lot.open)
        exit_leg = price if lot.long_yes else PRICE_SCALE - price
        lot.gross += money_of(exit_leg, take) - money_of(lot.price, take)
        left -= take
        share = fee_left if left == 0 else fee * take // total
        lot.fees += share
        fee_left -= share
        lot.open -= take
        if lot.open == 0:
            lots.popleft()


def _entries(result: BacktestResult, strategy: str) -> list[_Entry]:
    books: dict[str, deque[_Entry]] = defaultdict(deque)
    entries: list[_Entry] = []
    for f in sorted((f for f in result.fills if f.strategy == strategy), key=lambda f: f.ts_ms):
        buys_yes = f.side == "bid"
        lots = books[f.ticker]
        if lots and lots[0].long_yes != buys_yes:
            closing = min(f.qty, sum(lot.open for lot in lots))
            opening = f.qty - closing
            closing_fee = f.fee * closing // max(f.qty, 1)
            _close(lots, f.price, closing, closing_fee)
            fee = f.fee - closing_fee
        else:
            opening, fee = f.qty, f.fee
        if opening:
            leg = f.price if buys_yes else PRICE_SCALE - f.price
            entry = _Entry(buys_yes, leg, opening, opening, fees=fee)
            lots.append(entry)
            entries.append(entry)
    for ticker, lots in books.items():
        outcome = result.outcomes.get(ticker)
        if outcome is not None:
            _close(lots, outcome, sum(lot.open for lot in lots), 0)
    return entries


def entry_buckets(
    result: BacktestResult, strategy: str = "favorite", edges: tuple[int, ...] = ENTRY_EDGES
) -> list[EntryBucket]:
    buckets = {low: EntryBucket(low, high) for low, high in itertools.pairwise(edges)}
    for entry in _entries(result, strategy):
        low = max((edge for edge in edges[:-1] if edge <= entry.price), default=0)
        bucket = buckets.get(low) or buckets.setdefault(0, EntryBucket(0, edges[0]))
        bucket.entries += 1
        bucket.contracts += entry.qty
        bucket.pnl += entry.gross - entry.fees
        if entry.open == 0:
            bucket.decided += 1
            bucket.won += entry.gross > 0
    return [b for _, b in sorted(buckets.items()) if b.entries]
