"""Rate limits over a real socket: Basic tier buckets, documented costs, 429 body, refill.

The limiter runs on an injected clock so that "empty" and "refilled" are exact, not timing luck;
one test uses the real clock for recovery only (waiting longer can only help it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from tests.support.exchange import RunningExchange, running_exchange
from tests.support.http import SignedClient
from tests.support.trading import ORDERS, order_body, state

from kalshi_trader.sim.api.ratelimit import TIERS


class FakeClock:
    def __init__(self) -> None:
        self.ns = 10**12

    def __call__(self) -> int:
        return self.ns

    def advance_ms(self, ms: int) -> None:
        self.ns += ms * 1_000_000


@dataclass
class Limited:
    exchange: RunningExchange
    trader: SignedClient
    clock: FakeClock
    ticker: str


@pytest.fixture
async def limited() -> AsyncIterator[Limited]:
    clock = FakeClock()
    async with running_exchange(tier=TIERS["basic"], rate_clock_ns=clock) as rx, rx.client(rx.trader) as trader:
        yield Limited(rx, trader, clock, rx.add_market())


def _bid(ticker: str, cents: int = 1) -> dict[str, str]:
    return order_body(ticker, "bid", "1", f"0.{cents:02d}00")


async def test_write_bucket_allows_ten_creates_then_429_then_refills(limited: Limited) -> None:
    t, url = limited.trader, ORDERS
    for i in range(10):  # Basic write: 100 tokens, 10 per create
        assert (await t.post(url, _bid(limited.ticker, 1 + i))).status == 201
    before = await state(t, limited.ticker)
    refused = await t.post(url, _bid(limited.ticker, 20))
    assert refused.status == 429
    assert refused.body == {"error": "too many requests"}
    assert "Retry-After" not in refused.headers
    assert not any(h.lower().startswith("x-ratelimit") for h in refused.headers)
    assert await state(t, limited.ticker) == before  # reads use the other bucket
    limited.clock.advance_ms(99)  # 9.9 tokens: still short
    assert (await t.post(url, _bid(limited.ticker, 20))).status == 429
    limited.clock.advance_ms(1)
    assert (await t.post(url, _bid(limited.ticker, 20))).status == 201


async def test_cancel_costs_two_tokens(limited: Limited) -> None:
    t = limited.trader
    ids = [(await t.post(ORDERS, _bid(limited.ticker, 1 + i))).body["order_id"] for i in range(5)]  # 50 tokens
    for order_id in ids:  # 5 × 2 = 10 tokens
        assert (await t.delete(f"{ORDERS}/{order_id}")).status == 200
    # 40 tokens left: four creates pass, the fifth does not.
    for i in range(4):
        assert (await t.post(ORDERS, _bid(limited.ticker, 10 + i))).status == 201
    assert (await t.post(ORDERS, _bid(limited.ticker, 20))).status == 429


async def test_batch_must_fit_the_bucket_at_once(limited: Limited) -> None:
    t = limited.trader
    eleven = {"orders": [_bid(limited.ticker, 1 + i) for i in range(11)]}
    refused = await t.post(f"{ORDERS}/batched", eleven)
    assert (refused.status, refused.body) == (429, {"error": "too many requests"})
    assert (await t.get("/portfolio/orders")).body["orders"] == []
    ten = {"orders": eleven["orders"][:10]}
    assert (await t.post(f"{ORDERS}/batched", ten)).status == 201
    ids = [o["order_id"] for o in (await t.get("/portfolio/orders")).body["orders"]]
    limited.clock.advance_ms(200)  # full again: 100 tokens = 50 batch-cancel items
    reply = await t.delete(f"{ORDERS}/batched", {"orders": [{"order_id": i} for i in ids]})
    assert reply.status == 200
    assert all(item["reduced_by"] == "1.00" for item in reply.body["orders"])


async def test_read_bucket_and_order_lookup_cost(limited: Limited) -> None:
    t = limited.trader
    order_id = (await t.post(ORDERS, _bid(limited.ticker))).body["order_id"]
    # Basic read: 600 tokens (three seconds). GET order by id costs 2 → 300 lookups; then a 10-token read fails.
    for _ in range(300):
        assert (await t.get(f"/portfolio/orders/{order_id}")).status == 200
    assert (await t.get("/portfolio/balance")).status == 429
    assert (await t.get(f"/portfolio/orders/{order_id}")).status == 429
    limited.clock.advance_ms(10)  # 2 tokens
    assert (await t.get(f"/portfolio/orders/{order_id}")).status == 200


async def test_unsigned_public_calls_are_not_metered(limited: Limited) -> None:
    async with limited.exchange.client() as public:
        for _ in range(70):  # 70 × 10 > 600: would exceed a read bucket
            assert (await public.get("/exchange/status")).status == 200


async def test_recovery_with_the_real_clock() -> None:
    async with running_exchange(tier=TIERS["basic"]) as rx, rx.client(rx.trader) as t:
        ticker = rx.add_market()
        batch = {"orders": [_bid(ticker, 1 + i) for i in range(10)]}
        assert (await t.post(f"{ORDERS}/batched", batch)).status == 201  # spends the whole bucket
        await asyncio.sleep(0.15)  # 100 tokens/s refills 10 tokens in 0.1 s
        assert (await t.post(ORDERS, _bid(ticker, 50))).status == 201


async def test_writes_are_billed_per_shard(limited: Limited) -> None:
    """Explicit ``exchange_index: 0`` bills only the unscoped write bucket; an auto-routed write
    (a create names its ticker) needs every shard's bucket; ``exchange_index >= 1`` bills that
    shard's bucket alone (and is then refused: every market here lives on shard 0)."""
    t, ticker = limited.trader, limited.ticker
    placed = []
    for i in range(10):  # Basic write: 100 tokens, 10 per create
        reply = await t.post(ORDERS, {**_bid(ticker, 1 + i), "exchange_index": 0})
        assert reply.status == 201
        placed.append(reply.body["order_id"])
    assert (await t.post(ORDERS, _bid(ticker, 20))).status == 429  # auto-routed: unscoped is empty
    on_shard_one = await t.delete(f"{ORDERS}/{placed[0]}", params={"exchange_index": "1"})
    assert (on_shard_one.status, on_shard_one.error_code) == (400, "invalid_parameters")  # billed, not 429
    assert "exchange index 0" in on_shard_one.body["error"]["message"]
    limited.clock.advance_ms(1_000)  # every bucket full again
    for i in range(10):  # auto-routed creates drain the unscoped bucket and every shard's
        assert (await t.post(ORDERS, _bid(ticker, 30 + i))).status == 201
    assert (await t.delete(f"{ORDERS}/{placed[0]}", params={"exchange_index": "3"})).status == 429
    assert (await t.delete(f"{ORDERS}/{placed[0]}", params={"exchange_index": "0"})).status == 429


async def test_auto_routing_a_cancel_needs_its_market_ticker(limited: Limited) -> None:
    t, ticker = limited.trader, limited.ticker
    order_id = (await t.post(ORDERS, _bid(ticker))).body["order_id"]
    refused = await t.delete(f"{ORDERS}/{order_id}", params={"exchange_index": "-1"})
    assert (refused.status, refused.error_code) == (400, "invalid_parameters")
    assert "market_ticker" in refused.body["error"]["message"]
    routed = await t.delete(f"{ORDERS}/{order_id}", params={"exchange_index": "-1", "market_ticker": ticker})
    assert (routed.status, routed.body["reduced_by"]) == (200, "1.00")


async def test_cancel_all_costs_one_cancel_and_answers_204(limited: Limited) -> None:
    t, ticker = limited.trader, limited.ticker
    for i in range(9):  # 90 of the 100 write tokens
        assert (await t.post(ORDERS, _bid(ticker, 1 + i))).status == 201
    # (cancel-all is newer than the vendored openapi.yaml; its documented answer is 204 without a body)
    for _ in range(5):  # 5 × 2 = the last 10 tokens
        reply = await t.delete(ORDERS, validate=False)
        assert (reply.status, reply.body) == (204, None)
    assert (await t.get("/portfolio/orders", params={"status": "resting"})).body["orders"] == []
    assert (await t.delete(ORDERS, validate=False)).status == 429
