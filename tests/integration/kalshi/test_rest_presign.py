"""Order creates sent with pre-signed headers, over a real socket: the embedded exchange accepts
them for both key types, each create takes the kept headers, and the next ones are signed after it."""

from __future__ import annotations

import asyncio
import time

from tests.support.exchange import RunningExchange

from kalshi_trader.domain import BookSide, OrderStatus, Price, Qty
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.kalshi.rest import CREATE_ORDER_ROUTE, KalshiRest

TICKER = "KXPRESIGN-26JAN01-T50"
POST = "POST"


async def test_orders_with_pre_signed_headers_are_accepted(exchange: RunningExchange) -> None:
    ticker = exchange.add_market(TICKER)
    start_ms = time.time_ns() // 1_000_000  # the signer's clock stands still: kept headers never age
    signer = Signer(exchange.trader.key_id, exchange.trader.private_key, clock_ms=lambda: start_ms)
    async with KalshiRest(exchange.rest_url, signer, tier="prestige") as rest:
        path = rest._base_path + CREATE_ORDER_ROUTE
        rest.presign_orders()
        for cents in (30, 31, 32):
            kept = signer.pending_ms(POST, path)
            assert kept is not None
            req = convert.create_request(ticker, BookSide.BID, Price(cents * 100), Qty(100))
            ack = await rest.create_order(req)
            assert convert.order_from_ack(req, ack).status is OrderStatus.RESTING
            # The kept headers went with the order (no other timestamp was issued in between) and
            # the next ones were signed after it was sent.
            assert signer.pending_ms(POST, path) == kept + 1
        orders = (await rest.get_orders(ticker=ticker)).orders
        assert len(orders) == 3


async def test_keep_presigned_signs_ahead_until_cancelled(exchange: RunningExchange) -> None:
    signer = Signer(exchange.trader.key_id, exchange.trader.private_key)
    async with KalshiRest(exchange.rest_url, signer, tier="prestige") as rest:
        path = rest._base_path + CREATE_ORDER_ROUTE
        task = asyncio.create_task(rest.keep_presigned(every_s=0.01))
        await asyncio.sleep(0)
        assert signer.prepared(POST, path)
        assert signer.pending_ms(POST, path) is not None
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
