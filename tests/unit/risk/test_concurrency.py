"""100 concurrent intents against a limit that fits 10: exactly 10 pass.

Real asyncio concurrency: 100 tasks on one loop, each awaiting (a random number of yields and short
sleeps) before and after its call to ``check_and_reserve``, so their checks interleave in a shuffled
order. The call itself has no ``await`` inside, so no other task can run between its check and its
reservation. The control test splits the two across an ``await`` the way a careless engine might,
and shows that the same harness catches the over-admission."""

from __future__ import annotations

import asyncio
import random

import pytest
from tests.unit.risk.kit import BID, Desk, px, qty, usd

from kalshi_trader.domain import OrderIntent
from kalshi_trader.risk.decisions import RiskDecision, Rule

TASKS = 100


async def _jitter(rng: random.Random) -> None:
    for _ in range(rng.randrange(4)):
        await asyncio.sleep(0)
    if rng.random() < 0.3:
        await asyncio.sleep(rng.random() / 1000)


@pytest.mark.parametrize(
    ("limits", "tickers", "rule"),
    [
        ({"max_position_per_market": qty(10)}, ("A1",), Rule.MAX_POSITION_PER_MARKET),
        ({"max_event_exposure": usd(5)}, ("A1", "A2"), Rule.MAX_EVENT_EXPOSURE),
        ({"max_total_exposure": usd(5)}, ("A1", "A2", "B1"), Rule.MAX_TOTAL_EXPOSURE),
        ({"max_open_orders": 10}, ("A1", "B1"), Rule.MAX_OPEN_ORDERS),
    ],
    ids=["position", "event-exposure", "total-exposure", "open-orders"],
)
async def test_100_concurrent_intents_against_a_limit_that_fits_10(
    limits: dict[str, int], tickers: tuple[str, ...], rule: Rule
) -> None:
    desk = Desk(**limits)
    rng = random.Random(5)

    async def trader(i: int) -> RiskDecision:
        ticker = tickers[i % len(tickers)]
        intent = OrderIntent.place(ticker, BID, px("0.50"), qty(1), f"t{i}")  # 1 contract, $0.50 at risk
        await _jitter(rng)
        decision = desk.risk.check_and_reserve(intent, book=desk.book(ticker))
        await _jitter(rng)
        return decision

    decisions = await asyncio.gather(*(trader(i) for i in range(TASKS)))
    approved = [d for d in decisions if d.approved]
    assert len(approved) == 10
    assert len(desk.risk.reservations()) == 10
    assert {r.reservation_id for r in desk.risk.reservations()} == {d.reservation_id for d in approved}
    assert {d.rule for d in decisions if not d.approved} == {rule}


async def test_control_check_then_await_then_reserve_over_admits() -> None:
    """The harness can fail: a check separated from its reservation by an await lets many more
    than 10 through, because every task checks against the same, not yet reserved, state."""
    desk = Desk(max_position_per_market=qty(10))
    rng = random.Random(5)
    admitted: list[str] = []

    async def careless(i: int) -> None:
        intent = OrderIntent.place("A1", BID, px("0.50"), qty(1), f"t{i}")
        await _jitter(rng)
        if desk.risk.check(intent, book=desk.book("A1")).approved:
            await asyncio.sleep(0)  # the gap: e.g. "await self.log(...)" between check and reserve
            admitted.append(intent.client_order_id)
        await _jitter(rng)

    await asyncio.gather(*(careless(i) for i in range(TASKS)))
    assert len(admitted) > 10
