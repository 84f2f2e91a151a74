"""The client's token buckets keep a burst within the exchange's limits: 200 reads fired at once
by a Basic-tier client against a Basic-tier exchange earn no 429 — and the same burst from a client
budgeting for a bigger tier does, so the test can tell."""

from __future__ import annotations

import asyncio
import time

from tests.support.exchange import RunningExchange, running_exchange

from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.kalshi.errors import RateLimitedError
from kalshi_trader.kalshi.limits import TIERS
from kalshi_trader.kalshi.rest import KalshiRest, RetryPolicy

NO_RETRIES = RetryPolicy(max_retries=0)


def basic_client(exchange: RunningExchange, tier: str) -> KalshiRest:
    signer = Signer(exchange.trader.key_id, exchange.trader.private_key)
    return KalshiRest(exchange.rest_url, signer, tier=tier, retry=NO_RETRIES)


async def burst(rest: KalshiRest, n: int) -> list[BaseException | None]:
    async def one() -> None:
        await rest.get_markets(limit=1)

    results = await asyncio.gather(*(one() for _ in range(n)), return_exceptions=True)
    return [r if isinstance(r, BaseException) else None for r in results]


async def test_burst_of_200_reads_at_basic_tier_earns_no_429() -> None:
    async with running_exchange(tier=TIERS["basic"]) as exchange, basic_client(exchange, "basic") as rest:
        started = time.monotonic()
        errors = await burst(rest, 200)
        elapsed = time.monotonic() - started
    assert [e for e in errors if e is not None] == []
    # 2,000 tokens through a 600-token bucket (three seconds) refilling at 200/s: the client had to pace itself.
    assert elapsed >= (2_000 - 600) / 200 * 0.95


async def test_the_same_burst_unbudgeted_is_refused() -> None:
    async with running_exchange(tier=TIERS["basic"]) as exchange, basic_client(exchange, "prestige") as rest:
        errors = await burst(rest, 80)  # 800 tokens: more than the 600 the Basic read bucket holds
    refused = [e for e in errors if e is not None]
    assert refused
    assert all(isinstance(e, RateLimitedError) for e in refused)
