"""Helpers for the living-world tests: a stepped simulated clock and whole-exchange ledger checks.

Contract:
- ``stepped_exchange(seed, start_ms)`` builds an ``EmbeddedExchange`` (rate limits off) on a
  frozen ``SimClock`` that only ``advance`` moves, so runs never depend on wall time;
  ``run(exchange, clock, until_ms, step_ms)`` advances it step by step, calling
  ``exchange.housekeeping()`` (which opens/closes markets and runs the world's ``tick``) each time.
- ``conservation_gap(engine, opening_total)`` sums every account the engine knows: Σ(cash +
  reserved) + $1 × open contracts + fees collected − what the accounts were opened with (0 when
  nothing was created or destroyed).
- ``reconcile(engine, user, opening_cash)`` replays one account's fills and settlements from
  scratch (purchase cost + fee out, $1 per closed YES/NO pair back, settlement revenue in) and
  returns the list of disagreements with the engine's account: cash, positions, settlement
  counts and revenue, positions left in finalized markets, reserved cash vs resting orders.
"""

from __future__ import annotations

from collections import defaultdict

from kalshi_trader.domain import PRICE_SCALE, QTY_SCALE, BookSide, MarketStatus, Money
from kalshi_trader.sim.api.embedded_exchange import EmbeddedExchange
from kalshi_trader.sim.core.clock import SimClock
from kalshi_trader.sim.core.matching import MatchingEngine

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
START_MS = 1_763_802_000_000 - 1_763_802_000_000 % HOUR_MS
"""2025-11-22T09:00:00Z: a fixed start so that runs are comparable."""


def stepped_exchange(seed: int, start_ms: int = START_MS) -> tuple[EmbeddedExchange, SimClock]:
    clock = SimClock(start=start_ms, speed=0)
    return EmbeddedExchange(seed=seed, clock_ms=clock, tier=None), clock


def run(exchange: EmbeddedExchange, clock: SimClock, until_ms: int, step_ms: int) -> int:
    """Step the clock to ``until_ms``, one housekeeping pass per step; returns the step count."""
    steps = 0
    while clock.now_ms() < until_ms:
        clock.advance(min(step_ms, until_ms - clock.now_ms()))
        exchange.housekeeping()
        steps += 1
    return steps


def all_users(engine: MatchingEngine) -> list[str]:
    """Every account the engine holds (the engine has no public listing; tests may look)."""
    return list(engine._members)


def conservation_gap(engine: MatchingEngine, opening_total: int) -> int:
    total: int = engine.fees_collected
    for user in all_users(engine):
        account = engine.account(user)
        total += account.cash + account.reserved
        total += sum(max(p.position, 0) * (PRICE_SCALE // QTY_SCALE) for p in account.positions.values())
    return total - opening_total


def reconcile(engine: MatchingEngine, user: str, opening_cash: Money) -> list[str]:
    problems: list[str] = []
    account = engine.account(user)
    cash = int(opening_cash)
    positions: dict[str, int] = defaultdict(int)
    for fill in reversed(engine.fills(user)):  # oldest first
        leg = fill.price if fill.side is BookSide.BID else PRICE_SCALE - fill.price
        cost = -(-leg * fill.count // QTY_SCALE)
        cash -= cost + fill.fee
        sign = 1 if fill.side is BookSide.BID else -1
        held = positions[fill.ticker] * sign
        if held < 0:
            cash += min(fill.count, -held) * (PRICE_SCALE // QTY_SCALE)
        positions[fill.ticker] += sign * fill.count
        if fill.post_position != positions[fill.ticker]:
            problems.append(f"{user} {fill.ticker}: fill {fill.fill_id} post_position {fill.post_position}")
    for record in engine.settlements(user):
        held = positions.pop(record.ticker, 0)
        if record.yes_count - record.no_count != held:
            problems.append(f"{user} {record.ticker}: settled {record.yes_count}/{record.no_count}, held {held}")
        winning = record.yes_count if record.market_result == "yes" else record.no_count
        if record.revenue != winning * (PRICE_SCALE // QTY_SCALE):
            problems.append(f"{user} {record.ticker}: revenue {record.revenue} for {winning} winning")
        if engine.market(record.ticker).status is not MarketStatus.FINALIZED:
            problems.append(f"{user} {record.ticker}: settlement record but market is not finalized")
        cash += record.revenue
    if cash != account.cash + account.reserved:
        problems.append(f"{user}: replayed cash {cash} != cash + reserved {account.cash + account.reserved}")
    for ticker, position in account.positions.items():
        if engine.market(ticker).status is MarketStatus.FINALIZED:
            problems.append(f"{user} {ticker}: position {position.position} left in a finalized market")
        if position.position != positions.get(ticker, 0):
            problems.append(f"{user} {ticker}: position {position.position} != replayed {positions.get(ticker, 0)}")
    for ticker, held in positions.items():
        if held and ticker not in account.positions:
            problems.append(f"{user} {ticker}: replayed position {held} missing from the account")
    collateral = 0
    for order in engine.orders(user):
        if order.status == "resting":
            leg = order.price if order.side is BookSide.BID else PRICE_SCALE - order.price
            collateral += -(-leg * order.remaining // QTY_SCALE)
    if collateral != account.reserved:
        problems.append(f"{user}: reserved {account.reserved} != resting collateral {collateral}")
    return problems
