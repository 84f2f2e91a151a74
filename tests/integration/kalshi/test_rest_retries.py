"""Retries, idempotency and typed errors of ``KalshiRest`` against faults injected by the embedded
exchange: lost responses, 429, 5xx, timeouts — and what must never be retried."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from tests.support.exchange import RunningExchange

from kalshi_trader.domain import BookSide, Order, OrderStatus, Price, Qty
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.auth import Signer, generate_private_key
from kalshi_trader.kalshi.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    ServiceUnavailableError,
    TransportError,
)
from kalshi_trader.kalshi.rest import KalshiRest, RetryPolicy
from kalshi_trader.sim.api.faults import FaultSpec

TICKER = "KXRETRY-26JAN01-T50"
V2 = "/trade-api/v2/portfolio/events/orders"
FAST = RetryPolicy(base_delay_s=0.005, max_delay_s=0.02)


def client(exchange: RunningExchange, retry: RetryPolicy = FAST, **kw: float) -> KalshiRest:
    signer = Signer(exchange.trader.key_id, exchange.trader.private_key)
    return KalshiRest(exchange.rest_url, signer, tier="prestige", retry=retry, **kw)


@pytest.fixture
async def rest(exchange: RunningExchange) -> AsyncIterator[KalshiRest]:
    async with client(exchange) as c:
        yield c


async def orders_at_exchange(rest: KalshiRest, ticker: str) -> list[Order]:
    return [convert.order(o) async for o in rest.iter_orders(ticker=ticker)]


async def test_lost_create_response_is_retried_without_a_duplicate(exchange: RunningExchange, rest: KalshiRest) -> None:
    ticker = exchange.add_market(TICKER)
    faults = exchange.exchange.faults
    faults.arm("lost_response", method="POST", path=V2)
    req = convert.create_request(ticker, BookSide.BID, Price(4500), Qty(300))
    ack = await rest.create_order(req)
    assert faults.injected["lost_response"] == 1  # the first attempt was executed, its answer lost
    orders = await orders_at_exchange(rest, ticker)
    assert len(orders) == 1
    assert orders[0].order_id == ack.order_id
    assert orders[0].client_order_id == req.client_order_id
    assert (ack.fill_count, ack.remaining_count) == ("0.00", "3.00")
    assert convert.order_from_ack(req, ack).status is OrderStatus.RESTING


async def test_lost_responses_at_a_rate_never_duplicate_orders(exchange: RunningExchange, rest: KalshiRest) -> None:
    ticker = exchange.add_market(TICKER)
    exchange.exchange.faults.set_spec(FaultSpec.parse("lost_response=0.2"))
    reqs = [convert.create_request(ticker, BookSide.BID, Price(100 * (10 + i)), Qty(100)) for i in range(8)]
    acks = [await rest.create_order(r) for r in reqs]
    exchange.exchange.faults.set_spec(FaultSpec())
    assert exchange.exchange.faults.injected["lost_response"] > 0
    orders = await orders_at_exchange(rest, ticker)
    assert sorted(o.client_order_id for o in orders) == sorted(str(r.client_order_id) for r in reqs)
    assert sorted(o.order_id for o in orders) == sorted(a.order_id for a in acks)


async def test_lost_batch_create_resolves_every_item(exchange: RunningExchange, rest: KalshiRest) -> None:
    ticker = exchange.add_market(TICKER)
    exchange.exchange.faults.arm("lost_response", method="POST", path=V2 + "/batched")
    reqs = [convert.create_request(ticker, BookSide.BID, Price(100 * (20 + i)), Qty(100)) for i in range(3)]
    batch = await rest.batch_create_orders(reqs)
    assert [item.error for item in batch.orders] == [None, None, None]
    orders = await orders_at_exchange(rest, ticker)
    assert len(orders) == 3
    assert {o.order_id for o in orders} == {item.order_id for item in batch.orders}


async def test_fresh_duplicate_client_order_id_is_a_conflict(exchange: RunningExchange, rest: KalshiRest) -> None:
    ticker = exchange.add_market(TICKER)
    req = convert.create_request(ticker, BookSide.BID, Price(4500), Qty(100))
    await rest.create_order(req)
    with pytest.raises(ConflictError) as info:
        await rest.create_order(req)  # no earlier ambiguous attempt: the caller reused the id
    assert info.value.status == 409
    assert info.value.code == "order_already_exists"
    assert req.client_order_id in info.value.message


async def test_5xx_is_retried_then_succeeds(exchange: RunningExchange, rest: KalshiRest) -> None:
    exchange.exchange.faults.arm("http_5xx", method="GET", path="/trade-api/v2/portfolio/balance", count=2)
    balance = await rest.get_balance()
    assert balance.balance == 1_000_000
    assert exchange.exchange.faults.injected["http_5xx"] == 2


async def test_5xx_gives_up_after_three_retries_with_backoff(exchange: RunningExchange) -> None:
    exchange.exchange.faults.arm("http_5xx", method="GET", path="/trade-api/v2/portfolio/balance", count=10)
    async with client(exchange, RetryPolicy()) as rest:
        started = time.monotonic()
        with pytest.raises(ServerError) as info:
            await rest.get_balance()
        elapsed = time.monotonic() - started
    assert exchange.exchange.faults.injected["http_5xx"] == 4  # one attempt + 3 retries
    assert elapsed >= 0.05 + 0.1 + 0.2  # the lower bounds of the three jittered backoffs
    assert info.value.status in (500, 502, 503)
    assert info.value.code
    assert "injected fault" in info.value.message


async def test_429_gives_up_after_three_retries(exchange: RunningExchange, rest: KalshiRest) -> None:
    exchange.exchange.faults.arm("http_429", method="GET", path="/trade-api/v2/markets", count=10)
    with pytest.raises(RateLimitedError) as info:
        await rest.get_markets(limit=1)
    assert exchange.exchange.faults.injected["http_429"] == 4
    assert info.value.status == 429
    assert info.value.message == "too many requests"


async def test_non_idempotent_calls_are_not_retried_after_5xx_or_a_lost_response(
    exchange: RunningExchange, rest: KalshiRest
) -> None:
    ticker = exchange.add_market(TICKER)
    faults = exchange.exchange.faults
    ack = await rest.create_order(convert.create_request(ticker, BookSide.BID, Price(3000), Qty(500)))
    amend_path = f"{V2}/{ack.order_id}/amend"
    faults.arm("http_5xx", method="POST", path=amend_path, count=5)
    with pytest.raises(ServerError):
        await rest.amend_order(ack.order_id, convert.amend_request(ticker, BookSide.BID, Price(3100), Qty(500)))
    assert faults.injected["http_5xx"] == 1  # exactly one attempt
    assert convert.order(await rest.get_order(ack.order_id)).price == 3000
    faults.disarm()

    faults.arm("lost_response", method="POST", path=f"{V2}/{ack.order_id}/decrease")
    with pytest.raises(TransportError):
        await rest.decrease_order(ack.order_id, reduce_by=Qty(100))
    assert faults.injected["lost_response"] == 1
    assert convert.order(await rest.get_order(ack.order_id)).remaining == 400  # executed once, not twice

    faults.arm("http_429", method="POST", path=amend_path, count=2)
    amended = await rest.amend_order(ack.order_id, convert.amend_request(ticker, BookSide.BID, Price(3200), Qty(400)))
    assert amended.order_id == ack.order_id  # a 429 executed nothing, so even an amend is retried
    assert faults.injected["http_429"] == 2
    assert convert.order(await rest.get_order(ack.order_id)).price == 3200


async def test_lost_cancel_is_retried_and_reports_the_order_gone(exchange: RunningExchange, rest: KalshiRest) -> None:
    ticker = exchange.add_market(TICKER)
    ack = await rest.create_order(convert.create_request(ticker, BookSide.BID, Price(3000), Qty(500)))
    exchange.exchange.faults.arm("lost_response", method="DELETE", path=f"{V2}/{ack.order_id}")
    with pytest.raises(NotFoundError):
        await rest.cancel_order(ack.order_id)
    assert convert.order(await rest.get_order(ack.order_id)).status is OrderStatus.CANCELED


async def test_timeouts_are_typed_and_retried(exchange: RunningExchange) -> None:
    exchange.exchange.faults.set_spec(FaultSpec.parse("latency_ms=400"))
    async with client(exchange, timeout_s=0.1) as rest:
        with pytest.raises(RequestTimeoutError) as info:
            await rest.get_exchange_status()
        assert info.value.status is None
        assert "0.1 s" in str(info.value)
        exchange.exchange.faults.set_spec(FaultSpec())
        assert (await rest.get_exchange_status()).exchange_active


async def test_unknown_key_is_an_authentication_error_without_secrets(exchange: RunningExchange) -> None:
    stranger = Signer("not-a-registered-key", generate_private_key())
    async with KalshiRest(exchange.rest_url, stranger, retry=FAST) as rest:
        with pytest.raises(AuthenticationError) as info:
            await rest.get_balance()
    error = info.value
    assert (error.status, error.code) == (401, "unauthorized")
    assert error.message == "unknown API key id"
    text = str(error)
    assert "KALSHI-ACCESS" not in text
    assert text.startswith("GET /trade-api/v2/portfolio/balance: 401 unauthorized")


async def test_unreachable_server_is_a_transport_error() -> None:
    async with KalshiRest("http://127.0.0.1:9/trade-api/v2", retry=FAST) as rest:
        with pytest.raises(TransportError) as info:
            await rest.get_exchange_status()
    assert info.value.status is None
    assert "127.0.0.1" in str(info.value)


async def test_503_on_a_create_is_retried_and_places_one_order(exchange: RunningExchange, rest: KalshiRest) -> None:
    ticker = exchange.add_market(TICKER)
    faults = exchange.exchange.faults
    faults.arm("http_503", method="POST", path=V2, count=2)
    ack = await rest.create_order(convert.create_request(ticker, BookSide.BID, Price(4500), Qty(300)))
    assert faults.injected["http_503"] == 2
    assert [o.order_id for o in await orders_at_exchange(rest, ticker)] == [ack.order_id]


async def test_503_on_an_amend_is_typed_and_not_retried(exchange: RunningExchange, rest: KalshiRest) -> None:
    ticker = exchange.add_market(TICKER)
    faults = exchange.exchange.faults
    ack = await rest.create_order(convert.create_request(ticker, BookSide.BID, Price(3000), Qty(500)))
    faults.arm("http_503", method="POST", path=f"{V2}/{ack.order_id}/amend", count=3)
    with pytest.raises(ServiceUnavailableError) as info:
        await rest.amend_order(ack.order_id, convert.amend_request(ticker, BookSide.BID, Price(3100), Qty(500)))
    assert (info.value.status, info.value.code) == (503, "service_unavailable")
    assert faults.injected["http_503"] == 1
    assert convert.order(await rest.get_order(ack.order_id)).price == 3000
