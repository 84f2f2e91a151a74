"""What the embedded exchange remembers of its past beyond what the matching engine keeps: each
market's top of book per minute (for candlesticks) and every settled position.

Contract:
- ``MarketHistory(engine)`` listens to the engine's events (attach it before any market is listed):
  * on every ``TickerEvent`` it folds the market's best YES bid (empty: $0), best YES ask (empty: $1)
    and open interest into that minute's ``QuoteBar`` (``sim/api/candles.py``) — one bar per minute with
    a change, oldest first;
  * on the ``PositionEvent`` that settlement emits for each holder (the market is finalized by
    then) it keeps a copy of the position as settled: ``SettledPosition`` (realized P&L, fees,
    total traded; position 0; ``updated_ms`` the settlement time), which the engine then drops.
- ``bars(ticker)`` / ``trades(ticker)`` (oldest first) are what ``candles.candles`` needs;
  ``settled_positions(user_id)`` lists a user's settled positions, newest first.
The trade record itself is the engine's; nothing here is written to disk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kalshi_trader.domain import PRICE_SCALE, MarketStatus
from kalshi_trader.sim.api.candles import QuoteBar, period_end
from kalshi_trader.sim.core.matching import MatchingEngine
from kalshi_trader.sim.core.state import EngineEvent, PositionEvent, PositionState, TickerEvent, Trade

_MINUTE_S = 60


@dataclass(frozen=True, slots=True)
class SettledPosition:
    """One account's position in one market as its settlement left it."""

    user_id: str
    event_ticker: str
    position: PositionState


class MarketHistory:
    """The engine's forgotten past (see the module docstring)."""

    def __init__(self, engine: MatchingEngine) -> None:
        self._engine = engine
        self._bars: dict[str, list[QuoteBar]] = {}
        self._settled: dict[str, list[SettledPosition]] = {}
        engine.add_listener(self._on_event)

    def _on_event(self, event: EngineEvent) -> None:
        if type(event) is TickerEvent:
            self._quote(event.ticker, event.ts_ms)
        elif type(event) is PositionEvent:
            market = self._engine.market(event.position.ticker)
            if market.status is MarketStatus.FINALIZED:
                settled = SettledPosition(event.user_id, market.event_ticker, replace(event.position))
                self._settled.setdefault(event.user_id, []).append(settled)

    def _quote(self, ticker: str, ts_ms: int) -> None:
        yes_bid, _, no_bid, _ = self._engine.top(ticker)
        bid = yes_bid if yes_bid is not None else 0
        ask = PRICE_SCALE - no_bid if no_bid is not None else PRICE_SCALE
        open_interest = self._engine.market(ticker).open_interest
        end = period_end(ts_ms, _MINUTE_S)
        bars = self._bars.setdefault(ticker, [])
        if not bars or end > bars[-1].end_s:
            bars.append(QuoteBar.first(end, bars[-1] if bars else None))
        bars[-1].update(bid, ask, open_interest)

    # -- reads -----------------------------------------------------------------------------------

    def bars(self, ticker: str) -> list[QuoteBar]:
        return self._bars.get(ticker, [])

    def trades(self, ticker: str) -> list[Trade]:
        return self._engine.trades(ticker)[::-1]

    def settled_positions(self, user_id: str) -> list[SettledPosition]:
        return self._settled.get(user_id, [])[::-1]


__all__ = ["MarketHistory", "SettledPosition"]
