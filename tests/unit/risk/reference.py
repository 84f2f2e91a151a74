"""Reference implementations for differential tests: risk's sizing answered the slow, obvious way.

``ProbingRoom`` is the room view as it was first written: it judges a size by computing the
market's worst case with it (``MarketRisk.exposure``) and finds the largest size that passes by
bisection, probing each size through the rules. ``RoomView``'s closed-form answers are checked
against it (``test_room.py``); the rules a probe is judged by are ``RoomView``'s own."""

from __future__ import annotations

from msgspec.structs import replace

from kalshi_trader.domain import BookSide, Fit, Price, Qty, format_qty, leg_price
from kalshi_trader.risk.decisions import Rule
from kalshi_trader.risk.exposure import MarketRisk, Reservation
from kalshi_trader.risk.room import RoomView


class ProbingRoom(RoomView):
    """``RoomView``'s sizing by probing sizes (its rules, ``_blocked``, are shared)."""

    __slots__ = ()

    def _fit(self, ticker: str, side: BookSide, price: Price, qty: Qty, replacing: str, claim: bool) -> Fit:
        limits = self.limits
        info = self._info.get(ticker)
        old: Reservation | None = self._reservations.get(replacing) if replacing else None
        unsized = old is None or old.prev_price is not None if replacing else self.open_orders_left() <= 0
        if info is None or unsized:  # answers that size nothing (unknown market or order): the view's own
            return super()._fit(ticker, side, price, qty, replacing, claim)
        market = self._penciled.get(ticker) or self._markets.get(ticker) or MarketRisk(ticker, info.event_ticker)
        top = min(qty, limits.max_order_size)
        before = market.exposure()

        def delta(size: int) -> tuple[int, int]:
            if old is not None:
                new = replace(old, price=price, qty=Qty(size), prev_price=old.price, prev_qty=old.qty)
                (nq, nc), (oq, oc) = new.load(), old.load()
                return nq - oq, nc - oc
            return size, leg_price(price, side) * size

        def blocked(size: int) -> tuple[Rule, str] | None:
            return self._blocked(market, before, market.exposure(side, delta(size)))

        if blocked(top) is None:
            if top == qty:
                fit = Fit(Qty(top))
            else:
                why = f"size cut to the max order size {format_qty(limits.max_order_size)}"
                fit = Fit(Qty(top), Rule.MAX_ORDER_SIZE.value, why)
            size = top
        else:
            low, high = 0, top
            while high - low > 1:
                mid = (low + high) // 2
                if blocked(mid) is None:
                    low = mid
                else:
                    high = mid
            rule, why = blocked(high) or (Rule.APPROVED, "")
            fit = Fit(Qty(low), rule.value, f"size cut to {format_qty(low)}: {why}" if low else why)
            size = low
        if claim and fit.qty > 0:
            copy = market.copy()
            copy.add(side, delta(size))
            self._penciled[ticker] = copy
            added = max(0, market.exposure(side, delta(size)).loss - before.loss)
            self._extra_event[market.event_ticker] = self._extra_event.get(market.event_ticker, 0) + added
            self._extra_total += added
            if old is None:
                self._extra_orders += 1
        return fit
