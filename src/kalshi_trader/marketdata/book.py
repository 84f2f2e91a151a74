"""The bot's L2 order book for one market, on the market's tick grid, in fixed point.

Contract:
- The book holds two **bid ladders**, exactly as Kalshi publishes them (docs/kalshi-protocol.md): YES bids
  in YES-leg prices and NO bids in NO-leg prices. One book, two names: the best YES ask is
  ``$1 - best NO bid`` and the best NO ask is ``$1 - best YES bid``. A feed subscribed with
  ``use_yes_price: true`` reports the NO ladder in YES-leg prices; the caller converts such prices with
  ``domain.complement`` before calling this class.
- Prices are ``Price`` ints ($0.0001), sizes ``Qty`` ints (hundredths of a contract). No float, no
  Decimal. Parsing the wire strings is the caller's job (``domain.parse_price`` / ``parse_qty``).
- Every price must be on the market's ``TickGrid`` (endpoints $0 and $1 included, as in
  ``TickGrid.is_valid``); for the NO ladder that means its YES equivalent ``$1 - p`` is on the grid.
  Anything else raises ``BookError``.
- ``apply_snapshot`` replaces both ladders and clears ``stale``. ``apply_delta`` adds a signed size to
  one level; a level whose size becomes <= 0 is removed (a negative result is not an error: Kalshi's
  sizes are exact, so it only means the level is gone). A negative delta on an absent level is a no-op.
- A rejected update (``BookError``) leaves the ladders untouched and marks the book ``stale``: the book
  can no longer be trusted to match the exchange, so the caller must resubscribe for a snapshot.
- ``stale`` is True until the first snapshot and after ``mark_stale``. Reads always answer from the
  ladders; callers check ``stale`` before trading on them.
- ``yes_bid``/``yes_ask``/``no_bid``/``no_ask`` are the best prices as plain attributes (what
  ``best_yes_bid()`` ... return), for readers on the hot path: a strategy called per delta reads them
  without a method call. They are kept in step by every update; treat them as read-only.
- Reads return ``None`` when the side they need is empty. Rounding of derived prices (``mid``,
  ``microprice``): to the nearest $0.0001, exact halves toward the bid (down). ``mid_x2`` gives the
  exact mid doubled. ``cost_to_take`` rounds the total once, up to $0.0001.

Performance (the WS hot path, see bench/bench_book.py): each ladder is a list of sizes indexed by
the grid's level index plus an occupancy bytearray; the price → level-index table is a dict built
once per grid and shared by every book on it (a dict rather than a 10_001-slot list because the one
lookup also rejects off-grid, negative and out-of-range prices, where a list would need a range check
since negative indexes wrap). So a delta is a dict lookup, an int add and a list store; best levels
and best prices (and their complements) are maintained incrementally — when the best level empties,
the next one is found by ``bytearray.rfind`` in C — and best-price reads return a stored attribute.
Nothing is allocated per update beyond CPython's int results.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from kalshi_trader.domain import (
    PRICE_SCALE,
    BookSide,
    LadderTop,
    Level,
    Money,
    Price,
    PriceBand,
    Qty,
    Side,
    TickGrid,
)

__all__ = ["BookError", "L2Book"]

_YES = Side.YES
_NO = Side.NO
_ONE = PRICE_SCALE
_new_top = tuple.__new__
"""Builds a ``LadderTop`` from a tuple in C (its named-tuple constructor is a Python call)."""


class BookError(ValueError):
    """An update or query the book cannot represent: an off-grid price, an unknown side, a negative
    quantity to take."""


@dataclass(frozen=True, slots=True)
class _Ladder:
    """Level tables for one bid ladder of one grid (shared by every book on that grid)."""

    prices: tuple[Price, ...]
    """Level index → price (in the ladder's own leg), ascending."""
    others: tuple[Price, ...]
    """Level index → the other leg's price ($1 - price): a NO bid's YES ask and vice versa."""
    index: dict[int, int]
    """Price → level index; only on-grid prices are keys."""
    zeros: tuple[int, ...]
    """A zero size per level (resets a ladder without allocating)."""
    empty: bytes
    """A zero occupancy byte per level."""


def _ladder(prices: Iterable[int]) -> _Ladder:
    ordered = tuple(Price(p) for p in sorted(set(prices)))
    return _Ladder(
        prices=ordered,
        others=tuple(Price(_ONE - p) for p in ordered),
        index={p: i for i, p in enumerate(ordered)},
        zeros=(0,) * len(ordered),
        empty=bytes(len(ordered)),
    )


_LADDERS: dict[tuple[PriceBand, ...], tuple[_Ladder, _Ladder]] = {}


def _ladders(grid: TickGrid) -> tuple[_Ladder, _Ladder]:
    """(YES ladder, NO ladder) tables of a grid, built once per distinct set of bands."""
    cached = _LADDERS.get(grid.bands)
    if cached is None:
        yes_prices = grid.levels()
        no_prices = sorted(_ONE - p for p in yes_prices)
        yes = _ladder(yes_prices)
        no = yes if list(yes.prices) == no_prices else _ladder(no_prices)
        cached = _LADDERS[grid.bands] = (yes, no)
    return cached


def _format(price: int) -> str:
    whole, frac = divmod(price, _ONE)
    return f"{whole}.{frac:04d}"


class L2Book:
    """Level-2 book of one market: YES and NO bid ladders on the market's tick grid."""

    __slots__ = (
        "_nbi",
        "_ncx",
        "_nidx",
        "_nladder",
        "_nocc",
        "_npx",
        "_nq",
        "_ybi",
        "_ycx",
        "_yidx",
        "_yladder",
        "_yocc",
        "_ypx",
        "_yq",
        "grid",
        "no_ask",
        "no_bid",
        "settlement_floor",
        "stale",
        "ticker",
        "updated_ms",
        "yes_ask",
        "yes_bid",
    )

    ticker: str
    grid: TickGrid
    stale: bool
    updated_ms: int
    yes_bid: Price | None
    """Best YES bid (read-only; same as ``best_yes_bid()``)."""
    yes_ask: Price | None
    """Best YES ask = $1 - best NO bid (read-only; same as ``best_yes_ask()``)."""
    no_bid: Price | None
    no_ask: Price | None
    settlement_floor: Price
    """The lowest YES value (the market's settlement floor, $0 without one): ``mark`` never goes
    below it. The monitor keeps it in step with the market."""

    def __init__(self, ticker: str, grid: TickGrid, settlement_floor: int = 0) -> None:
        self.ticker = ticker
        self.grid = grid
        self.settlement_floor = Price(settlement_floor)
        self.stale = True
        self.updated_ms = 0
        yes, no = _ladders(grid)
        self._yladder = yes
        self._nladder = no
        self._yidx = yes.index
        self._nidx = no.index
        self._ypx = yes.prices
        self._npx = no.prices
        self._ycx = yes.others
        self._ncx = no.others
        # Sizes per level index, and 1/0 occupancy per level index (for C-speed rescans).
        self._yq: list[int] = list(yes.zeros)
        self._nq: list[int] = list(no.zeros)
        self._yocc = bytearray(yes.empty)
        self._nocc = bytearray(no.empty)
        # Best level index per ladder (-1 = empty) and the derived best prices, kept in step.
        self._ybi = -1
        self._nbi = -1
        self.yes_bid = None
        self.no_bid = None
        self.yes_ask = None
        self.no_ask = None

    # ------------------------------------------------------------------------------------------
    # Updates

    def apply_snapshot(self, yes: Iterable[tuple[int, int]], no: Iterable[tuple[int, int]], ts_ms: int = 0) -> None:
        """Replace both ladders with ``(price, qty)`` levels (NO levels in NO-leg prices) and clear
        ``stale``. Order is irrelevant; a repeated price adds up; levels with qty <= 0 are left out.
        On an off-grid price nothing changes except ``stale`` (set) and ``BookError`` is raised."""
        yes_levels = self._validated(yes, self._yidx, "yes")
        no_levels = self._validated(no, self._nidx, "no")
        self._ybi = self._load(yes_levels, self._yq, self._yocc, self._yladder)
        self._nbi = self._load(no_levels, self._nq, self._nocc, self._nladder)
        self._set_yes_best(self._ybi)
        self._set_no_best(self._nbi)
        self.stale = False
        if ts_ms:
            self.updated_ms = ts_ms

    def _validated(self, levels: Iterable[tuple[int, int]], index: dict[int, int], name: str) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for price, qty in levels:
            i = index.get(price, -1) if type(price) is int else -1
            if i < 0:
                self.stale = True
                raise BookError(f"{self.ticker}: {name} snapshot price {price!r} is not on the market's tick grid")
            out.append((i, qty))
        return out

    @staticmethod
    def _load(levels: list[tuple[int, int]], q: list[int], occ: bytearray, ladder: _Ladder) -> int:
        q[:] = ladder.zeros
        occ[:] = ladder.empty
        for i, qty in levels:
            q[i] += qty
        for i, _ in levels:
            if q[i] > 0:
                occ[i] = 1
            else:
                q[i] = 0
        return occ.rfind(1)

    def apply_delta(self, side: Side, price: int, delta: int, ts_ms: int = 0) -> None:
        """Add ``delta`` (signed ``Qty``) to the ``side`` ladder's level at ``price`` (that ladder's
        own leg price); remove the level when its size becomes <= 0. ``side`` is a ``Side`` or the
        wire's plain ``"yes"``/``"no"``. Raises ``BookError`` (and marks the book stale) on an
        off-grid price or an unknown side."""
        if side is _YES:
            try:
                i = self._yidx[price]
            except (KeyError, TypeError):
                self._reject(side, price)
            q = self._yq
            old = q[i]
            new = old + delta
            if new > 0:
                q[i] = new
                if not old:
                    self._yocc[i] = 1
                    if i > self._ybi:
                        self._ybi = i
                        self.yes_bid = self._ypx[i]
                        self.no_ask = self._ycx[i]
            elif old:
                q[i] = 0
                occ = self._yocc
                occ[i] = 0
                if i == self._ybi:
                    self._set_yes_best(occ.rfind(1, 0, i))
        elif side is _NO:
            try:
                i = self._nidx[price]
            except (KeyError, TypeError):
                self._reject(side, price)
            q = self._nq
            old = q[i]
            new = old + delta
            if new > 0:
                q[i] = new
                if not old:
                    self._nocc[i] = 1
                    if i > self._nbi:
                        self._nbi = i
                        self.no_bid = self._npx[i]
                        self.yes_ask = self._ncx[i]
            elif old:
                q[i] = 0
                occ = self._nocc
                occ[i] = 0
                if i == self._nbi:
                    self._set_no_best(occ.rfind(1, 0, i))
        else:  # the wire's plain strings, after the identity checks that keep ``Side`` fast
            self.apply_delta(self._side_of(side), price, delta, ts_ms)
            return
        if ts_ms:
            self.updated_ms = ts_ms

    def _set_yes_best(self, i: int) -> None:
        self._ybi = i
        if i < 0:
            self.yes_bid = self.no_ask = None
        else:
            self.yes_bid = self._ypx[i]
            self.no_ask = self._ycx[i]

    def _set_no_best(self, i: int) -> None:
        self._nbi = i
        if i < 0:
            self.no_bid = self.yes_ask = None
        else:
            self.no_bid = self._npx[i]
            self.yes_ask = self._ncx[i]

    def _side_of(self, side: object) -> Side:
        if side == "yes":
            return _YES
        if side == "no":
            return _NO
        self.stale = True
        raise BookError(f"{self.ticker}: unknown book side {side!r} (expected 'yes' or 'no')")

    def _reject(self, side: Side, price: object) -> NoReturn:
        self.stale = True
        shown = _format(price) if type(price) is int and 0 <= price <= _ONE else repr(price)
        raise BookError(f"{self.ticker}: {side.value} price {shown} is not on the market's tick grid")

    def mark_stale(self) -> None:
        """The book may have missed updates (seq gap, reconnect): stop trusting it until a snapshot."""
        self.stale = True

    # ------------------------------------------------------------------------------------------
    # Top of book

    def best_yes_bid(self) -> Price | None:
        return self.yes_bid

    def best_no_bid(self) -> Price | None:
        return self.no_bid

    def best_yes_ask(self) -> Price | None:
        """$1 - best NO bid."""
        return self.yes_ask

    def best_no_ask(self) -> Price | None:
        """$1 - best YES bid."""
        return self.no_ask

    def best_yes_bid_size(self) -> Qty:
        # With the ladder empty the index is -1, and the last level of an empty ladder holds 0.
        return Qty(self._yq[self._ybi])

    def best_yes_ask_size(self) -> Qty:
        """Size at the best YES ask, i.e. at the best NO bid."""
        return Qty(self._nq[self._nbi])

    def best_no_bid_size(self) -> Qty:
        return Qty(self._nq[self._nbi])

    def best_no_ask_size(self) -> Qty:
        return Qty(self._yq[self._ybi])

    def spread(self) -> Price | None:
        """YES ask - YES bid (<= 0 when the book is locked or crossed)."""
        bid, no_bid = self.yes_bid, self.no_bid
        if bid is None or no_bid is None:
            return None
        return Price(_ONE - no_bid - bid)

    def mid_x2(self) -> int | None:
        """YES bid + YES ask: twice the exact mid, in $0.0001 (exact, no rounding)."""
        bid, no_bid = self.yes_bid, self.no_bid
        if bid is None or no_bid is None:
            return None
        return _ONE - no_bid + bid

    def mid(self) -> Price | None:
        """(YES bid + YES ask) / 2 in YES-leg price, an exact half rounded down (toward the bid)."""
        twice = self.mid_x2()
        return None if twice is None else Price(twice // 2)

    def mark(self) -> Price | None:
        """What a YES contract is worth now: the mid (rounded down), never below the settlement floor."""
        twice = self.mid_x2()
        return None if twice is None else Price(max(twice // 2, self.settlement_floor))

    def microprice(self) -> Price | None:
        """Size-weighted YES price ``(bid * ask_size + ask * bid_size) / (bid_size + ask_size)``:
        leans toward the side with less size. Rounded to the nearest $0.0001, exact halves down."""
        bid, no_bid = self.yes_bid, self.no_bid
        if bid is None or no_bid is None:
            return None
        ask = _ONE - no_bid
        bid_size = self._yq[self._ybi]
        ask_size = self._nq[self._nbi]
        num = bid * ask_size + ask * bid_size
        den = bid_size + ask_size
        # nearest with ties down == ceil(num/den - 1/2) == -floor((den - 2 num) / (2 den))
        return Price(-((den - 2 * num) // (2 * den)))

    def is_crossed(self) -> bool:
        """True when the YES bid is at or above the YES ask (crossed or locked) — a consistent Kalshi
        book never is; seeing it means the book is wrong or mid-update."""
        bid, no_bid = self.yes_bid, self.no_bid
        return bid is not None and no_bid is not None and bid + no_bid >= _ONE

    # ------------------------------------------------------------------------------------------
    # Depth

    def _arrays(self, side: Side) -> tuple[list[int], tuple[Price, ...], int]:
        if side == _YES:  # also a plain "yes"
            return self._yq, self._ypx, self._ybi
        if side == _NO:
            return self._nq, self._npx, self._nbi
        raise BookError(f"{self.ticker}: unknown book side {side!r} (expected 'yes' or 'no')")

    def depth(self, side: Side, levels: int) -> list[Level]:
        """Up to ``levels`` best levels of the ``side`` bid ladder, best first, in that ladder's own
        leg prices."""
        q, px, i = self._arrays(side)
        out: list[Level] = []
        while i >= 0 and len(out) < levels:
            if q[i]:
                out.append(Level(px[i], Qty(q[i])))
            i -= 1
        return out

    def top(self, side: Side, levels: int) -> LadderTop:
        """What ``depth(side, levels)`` holds, summed without building it: the best price and its
        size, and the size over those levels."""
        if side is _YES:  # the arrays read in place (``_arrays`` is a call more)
            q, px, i = self._yq, self._ypx, self._ybi
        elif side is _NO:
            q, px, i = self._nq, self._npx, self._nbi
        else:
            q, px, i = self._arrays(side)
        if levels > 0 and i + 1 >= levels:
            run = q[i - levels + 1 : i + 1]
            if 0 not in run:  # the best levels sit next to each other on the grid: summed in C
                return _new_top(LadderTop, (px[i], q[i], sum(run)))
        best, best_qty, total, n = None, 0, 0, 0
        while i >= 0 and n < levels:
            size = q[i]
            if size:
                if not n:
                    best, best_qty = px[i], size
                total += size
                n += 1
            i -= 1
        return _new_top(LadderTop, (best, best_qty, total))

    def levels(self, side: Side) -> list[Level]:
        """Every level of the ``side`` bid ladder, ascending (Kalshi's ``orderbook_fp`` order: best last)."""
        q, px, _ = self._arrays(side)
        return [Level(px[i], Qty(v)) for i, v in enumerate(q) if v]

    def as_tuples(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(YES levels, NO levels), each ascending ``(price, qty)`` — for equality checks in tests."""
        yes = [(int(lv.price), int(lv.qty)) for lv in self.levels(_YES)]
        no = [(int(lv.price), int(lv.qty)) for lv in self.levels(_NO)]
        return yes, no

    def cost_to_take(self, book_side: BookSide, qty: int) -> tuple[Money, Qty]:
        """What taking up to ``qty`` (``Qty``) costs right now on the leg bought, walking the opposite
        ladder best first: buying YES (``bid``) pays $1 - p for each NO bid at p; buying NO (``ask``)
        pays $1 - p for each YES bid at p. Returns (total cost rounded up to $0.0001, qty available
        up to ``qty``). Fees are not included."""
        if qty < 0:
            raise BookError(f"cannot take a negative quantity ({qty})")
        if book_side == BookSide.BID:  # also a plain "bid"
            q, px, i = self._nq, self._npx, self._nbi
        elif book_side == BookSide.ASK:
            q, px, i = self._yq, self._ypx, self._ybi
        else:
            raise BookError(f"unknown book side {book_side!r} (expected 'bid' or 'ask')")
        left = qty
        micro = 0  # price ($0.0001) x qty (0.01 contract) = $0.000001
        while left > 0 and i >= 0:
            size = q[i]
            if size:
                take = size if size < left else left
                micro += (_ONE - px[i]) * take
                left -= take
            i -= 1
        return Money(-(-micro // 100)), Qty(qty - left)

    def __repr__(self) -> str:
        def show(p: Price | None) -> str:
            return "-" if p is None else _format(p)

        return (
            f"L2Book({self.ticker!r}, bid={show(self.yes_bid)} x {self._yq[self._ybi]},"
            f" ask={show(self.yes_ask)} x {self._nq[self._nbi]}, stale={self.stale}, updated_ms={self.updated_ms})"
        )
