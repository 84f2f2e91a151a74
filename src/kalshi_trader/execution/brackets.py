"""Brackets: an entry, a resting take-profit and an emulated stop-loss, one-cancels-other. Pure.

Contract (no I/O, no clock, no awaits; the engine owns every side effect):
- A bracket protects what one entry order bought. It comes either from a strategy's
  ``domain.BracketRequest`` (sent as the entry fills: the cumulative quantity to protect, a
  take-profit, a stop trigger and a stop limit; latest wins) or from a ``BracketSpec`` (the engine
  places the entry and protects whatever it fills). Prices are YES prices on the market's grid. The
  entry's side is the leg held: a ``bid`` entry holds YES, so its exits sell YES (``ask``); an
  ``ask`` entry holds NO, so its exits buy YES (``bid``). For a YES holding
  ``stop_loss < take_profit``; for a NO holding the reverse.
- **Take-profit rests** (Kalshi has limit orders): a plain GTC order on the exit side at
  ``take_profit``, sized to what the bracket holds. It is *not* reduce-only — Kalshi refuses
  ``reduce_only`` unless the order is immediate-or-cancel — so it is the engine's job to keep it
  from ever selling more than is held: it never exceeds ``open_qty`` (below), it shrinks as soon as
  ``open_qty`` does, and it is gone (its cancel confirmed) before any exit is sent (see "never flips"
  below). **Stop-loss is emulated** (Kalshi has no stop orders): the stop is *hit* when the price we
  could exit at right now — the best YES bid when selling YES, the best YES ask when buying YES —
  is at or through ``stop_loss`` on a fresh book. ``execution.protection`` fires it once the hit
  has lasted its confirmation window (a repricing maker's delete-then-add is not a fall). The
  engine then cancels the entry's remainder and the take-profit and, once no take-profit can
  still trade, sends an aggressive exit: a reduce-only IOC limit at the worst acceptable price —
  the touch moved ``slippage`` further (the engine's bound, within risk's through-book limit),
  rounded onto the grid toward the touch, and never worse than the bracket's ``stop_limit`` when
  it has one. It is marketable unless the book gapped past the limit, in which case it is retried
  on every fresh book.
- **What a bracket holds** (``open_qty``) is derived, never counted by hand: what it protects —
  the ``BracketRequest``'s cumulative quantity, or else the entry's filled contracts (``filled`` as
  the order tracker knows it: the larger of the exchange's report and the fills seen), plus any
  adopted position — minus everything its exits (take-profits and stop exits) have filled, capped
  by the position actually held on that leg less what our other open orders on the exit side could
  still sell (``execution.protection`` computes it). That is the take-profit's size; what the
  stop guards and sells (``held``) counts only our other exits there, not our plain orders (a
  quote of another strategy): those the engine cancels ahead of the stop's exit, so they never
  disarm, finish or hold up a stop. Deriving it from the same figures the orders'
  ``remaining`` comes from keeps the take-profit's size and ``open_qty`` consistent whichever of a
  fill or an order report arrives first.
- **Partial fills resize**: while the entry fills, the take-profit grows (amend); when the bracket
  holds less than the take-profit's remaining size, it shrinks (decrease, which keeps queue
  priority) — even while trading is halted; a new take-profit price moves it (amend). A resize is
  the size wanted when it was planned: the take-profit's fills while it waits in the queue, or
  that the engine has not heard of when it leaves, come off it (``execution.amends``). **OCO**: the
  take-profit filling lowers ``open_qty``, which is also the stop's size — so a fully filled
  take-profit leaves the stop nothing to sell (and the bracket finishes once its entry is done); a
  hit stop cancels the take-profit and sends its exit only once no take-profit is live, and keeps
  exiting until the bracket holds nothing.
- **Never flips.** The position can shrink only through the take-profit itself (which shrinks it
  by what it fills) or an exit; no exit is planned while a take-profit is live, and a take-profit
  is never larger than ``open_qty`` ≤ the position held. So whatever fills, in any order, the
  position never crosses zero through the take-profit (a property test drives ``plan`` against
  an exchange model to check it).
- ``plan`` is the whole policy: from a bracket and the facts about it now (``Facts``) it returns the
  next ``Action`` values; it is level-triggered (call it after any change; it asks only for what is
  missing), and asks for nothing while the bracket's previous actions are still in flight, except
  that a stop can be hit at any moment.
- ``resting_allowed`` false (the kill switch or a breaker halted trading) stops take-profits from
  being placed, grown or moved (shrinking and cancelling still happen); stops stay armed — their
  exits are reduce-only and immediate-or-cancel, so they never leave a resting order behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from kalshi_trader.domain import (
    PRICE_SCALE,
    BookSide,
    OrderIntent,
    Price,
    Qty,
    TickGrid,
    TopOfBook,
    format_price,
)

__all__ = [
    "Action",
    "Bracket",
    "BracketSpec",
    "BracketState",
    "Cancel",
    "Exit",
    "Facts",
    "Finish",
    "LiveOrder",
    "PlaceTakeProfit",
    "ResizeTakeProfit",
    "StopHit",
    "exit_price",
    "plan",
    "stop_hit",
    "touch",
    "validate",
]


class BracketState(StrEnum):
    ACTIVE = "active"
    """Entry working and/or contracts held: take-profit resting, stop armed."""
    STOPPING = "stopping"
    """The stop was hit: exiting aggressively until nothing is held."""
    DONE = "done"
    """Entry finished and nothing held (take-profit filled, stopped out, or the entry never filled)."""


@dataclass(frozen=True, slots=True)
class BracketSpec:
    """An entry the engine places, with the take-profit and stop-loss (YES prices) that protect
    whatever it fills. ``stop_limit``: the stop's exit is never worse than this (optional)."""

    entry: OrderIntent
    take_profit: Price
    stop_loss: Price
    stop_limit: Price | None = None

    @property
    def held_side(self) -> BookSide:
        """The entry's side: ``bid`` holds YES, ``ask`` holds NO."""
        return self.entry.side

    @property
    def exit_side(self) -> BookSide:
        return self.entry.side.other


def validate(
    ticker: str,
    held_side: BookSide,
    grid: TickGrid | None,
    take_profit: int,
    stop_loss: int,
    stop_limit: int | None = None,
) -> str | None:
    """Why these bracket terms cannot work (None: they can). Risk judges the entry itself."""
    if grid is None:
        return f"market {ticker} is not registered with the engine (no tick grid)"
    prices = [("take-profit", take_profit), ("stop-loss", stop_loss)]
    if stop_limit is not None:
        prices.append(("stop limit", stop_limit))
    for what, price in prices:
        if not grid.is_valid_order_price(price):
            return f"{what} {format_price(price)} is not a valid order price on {ticker}'s grid"
    tp, sl = take_profit, stop_loss
    if held_side is BookSide.BID and not (sl < tp and (stop_limit is None or stop_limit <= sl)):
        return f"holding YES needs stop limit <= stop-loss < take-profit, got {format_price(sl)}, {format_price(tp)}"
    if held_side is BookSide.ASK and not (sl > tp and (stop_limit is None or stop_limit >= sl)):
        return f"holding NO needs stop limit >= stop-loss > take-profit, got {format_price(sl)}, {format_price(tp)}"
    return None


def touch(exit_side: BookSide, top: TopOfBook) -> Price | None:
    """The price an exit on ``exit_side`` trades at now: the best YES bid for a sell (``ask``),
    the best YES ask for a buy (``bid``)."""
    return top.best_bid if exit_side is BookSide.ASK else top.best_ask


def stop_hit(exit_side: BookSide, stop: int, top: TopOfBook) -> bool:
    """The touch is at or through ``stop`` on a fresh book. An empty touch side is not a hit:
    nothing could be sold there anyway."""
    if top.stale:
        return False
    price = touch(exit_side, top)
    if price is None:
        return False
    return price <= stop if exit_side is BookSide.ASK else price >= stop


def exit_price(
    exit_side: BookSide, top: TopOfBook, slippage: int, grid: TickGrid, limit: int | None = None
) -> Price | None:
    """The aggressive exit's limit: the touch moved ``slippage`` against us, rounded onto the grid
    toward the touch (so never worse than the bound), never worse than ``limit``, and strictly
    inside ($0, $1). None when the book is stale or the touch side is empty."""
    if top.stale:
        return None
    price = touch(exit_side, top)
    if price is None:
        return None
    lowest, highest = grid.round_up(1), grid.round_down(PRICE_SCALE - 1)
    if exit_side is BookSide.ASK:
        worst = max(grid.round_up(max(price - slippage, 1)), lowest)
        return worst if limit is None else Price(max(worst, limit))
    worst = min(grid.round_down(min(price + slippage, PRICE_SCALE - 1)), highest)
    return worst if limit is None else Price(min(worst, limit))


@dataclass(slots=True)
class Bracket:
    """One bracket's identity, terms and progress (the engine's mutable record).

    Child orders get ``client_order_id`` ``<bracket_id>-tp<n>`` / ``-sl<n>`` so that a restarted
    engine recognises them at the exchange."""

    bracket_id: str
    ticker: str
    strategy: str
    exit_side: BookSide
    take_profit: Price
    stop_loss: Price
    slippage: Price
    entry_coid: str | None
    """None when the bracket protects a position adopted at reconciliation."""
    stop_limit: Price | None = None
    protect_qty: Qty | None = None
    """The strategy's cumulative quantity to protect (None: follow the entry's fills)."""
    adopted_qty: Qty = Qty(0)
    """Contracts held when the bracket was attached to an existing position."""
    state: BracketState = BracketState.ACTIVE
    reason: str = ""
    tp_coids: list[str] = field(default_factory=list)
    exit_coids: list[str] = field(default_factory=list)
    busy: int = 0
    """Actions submitted and not answered yet."""
    retry_at_ms: int = 0
    """Do not act again before this (after a refused action)."""
    _children: int = 0

    @property
    def held_side(self) -> BookSide:
        return self.exit_side.other

    def child_id(self, kind: str) -> str:
        self._children += 1
        return f"{self.bracket_id}-{kind}{self._children}"

    def owns(self, client_order_id: str) -> bool:
        return client_order_id == self.entry_coid or client_order_id.startswith(self.bracket_id + "-")

    def adopt_child(self, client_order_id: str) -> None:
        """Recognise an exit order found at the exchange (after a restart) by its id."""
        suffix = client_order_id[len(self.bracket_id) + 1 :]
        kind = suffix[:2]
        target = self.tp_coids if kind == "tp" else self.exit_coids if kind == "sl" else None
        if target is None or client_order_id in target:
            return
        target.append(client_order_id)
        number = suffix[2:]
        if number.isdigit():
            self._children = max(self._children, int(number))


# -- what the engine is asked to do -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaceTakeProfit:
    qty: Qty


@dataclass(frozen=True, slots=True)
class ResizeTakeProfit:
    client_order_id: str
    remaining: Qty


@dataclass(frozen=True, slots=True)
class Cancel:
    client_order_id: str
    why: str


@dataclass(frozen=True, slots=True)
class StopHit:
    touch: Price


@dataclass(frozen=True, slots=True)
class Exit:
    qty: Qty
    price: Price


@dataclass(frozen=True, slots=True)
class Finish:
    reason: str


Action = PlaceTakeProfit | ResizeTakeProfit | Cancel | StopHit | Exit | Finish


@dataclass(frozen=True, slots=True)
class LiveOrder:
    client_order_id: str
    remaining: Qty
    price: Price


@dataclass(frozen=True, slots=True)
class Facts:
    """What the engine knows about a bracket right now."""

    open_qty: Qty
    """Held by the bracket: protected − exited, capped by the position on the held leg."""
    unexited: Qty
    """Protected − exited, uncapped (the position may lag the fills the exchange reported)."""
    settled: bool
    """Every fill the exchange reported for the bracket's orders has arrived."""
    entry_open: LiveOrder | None
    """The entry while it can still trade (pending or resting)."""
    take_profit: LiveOrder | None
    """The newest take-profit while it can still trade."""
    exit_in_flight: bool
    """A stop exit is open (pending at the exchange)."""
    top: TopOfBook | None
    grid: TickGrid
    resting_allowed: bool
    take_profit_filled: Qty = Qty(0)
    """What the bracket's take-profits have filled in all."""
    held: Qty | None = None
    """What the stop guards and sells: protected − exited, capped by the position on the held leg
    less our other exits in flight (not our other plain orders: the engine cancels them ahead of
    the stop's exit). None: ``open_qty``."""

    @property
    def holding(self) -> Qty:
        return self.open_qty if self.held is None else self.held


def plan(b: Bracket, f: Facts) -> list[Action]:
    """The next actions for ``b`` (see the module docstring)."""
    if b.state is BracketState.DONE:
        return []
    top = f.top
    if b.state is BracketState.ACTIVE:
        if f.holding > 0 and top is not None and stop_hit(b.exit_side, b.stop_loss, top):
            price = touch(b.exit_side, top)
            assert price is not None
            return [StopHit(price), *_stopping(b, f)]
        if b.busy:
            return []
        return _active(b, f)
    if b.busy:
        return []
    return _stopping(b, f)


def _flat(f: Facts) -> bool:
    """Nothing is held, for sure (not just a position that has not caught up with its fills)."""
    return f.unexited == 0 or (f.holding == 0 and f.settled)


def _active(b: Bracket, f: Facts) -> list[Action]:
    tp = f.take_profit
    if f.entry_open is None and _flat(f):
        if tp is not None:
            return [Cancel(tp.client_order_id, "the bracket holds nothing")]
        if f.take_profit_filled:
            return [Finish("take-profit filled")]
        if b.tp_coids:
            return [Finish("nothing held any more: another order closed the position")]
        return [Finish("the entry finished without a fill")]
    if tp is not None and tp.remaining > f.open_qty:  # the position shrank: the take-profit follows first
        if f.open_qty == 0:
            why = "the bracket holds nothing" if f.holding == 0 else "other orders of ours could sell all it holds"
            return [Cancel(tp.client_order_id, why)]
        return [ResizeTakeProfit(tp.client_order_id, f.open_qty)]
    if not f.resting_allowed:
        return []
    if tp is None:
        return [PlaceTakeProfit(f.open_qty)] if f.open_qty > 0 else []
    if tp.remaining != f.open_qty or tp.price != b.take_profit:
        return [ResizeTakeProfit(tp.client_order_id, f.open_qty)]
    return []


def _stopping(b: Bracket, f: Facts) -> list[Action]:
    actions: list[Action] = []
    if f.entry_open is not None:
        actions.append(Cancel(f.entry_open.client_order_id, "stop-loss hit"))
    if f.take_profit is not None:
        actions.append(Cancel(f.take_profit.client_order_id, "stop-loss hit (one-cancels-other)"))
    if f.holding == 0:
        if not actions and not f.exit_in_flight and _flat(f):
            actions.append(Finish("stopped out"))
        return actions
    if f.take_profit is not None or f.exit_in_flight or f.top is None:
        return actions  # the exit waits until no take-profit can trade: it could flip the position
    price = exit_price(b.exit_side, f.top, b.slippage, f.grid, b.stop_limit)
    if price is not None:
        actions.append(Exit(f.holding, price))
    return actions
