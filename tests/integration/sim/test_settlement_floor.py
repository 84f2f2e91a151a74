"""Settlement floors over real sockets: markets report their bounds, the operator API lists floor
markets and raises a floor, resting orders out of bounds are canceled with
``SettlementBoundsCancel`` on ``user_orders``, YES holders are paid the raise, orders at or below
the floor are refused. Every REST body and WS frame is validated against the specs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.support.exchange import RunningExchange, running_exchange
from tests.support.http import SignedClient
from tests.support.trading import ORDERS, balance_cents, order_body
from tests.support.ws import WsClient

from kalshi_trader.domain import Price

TOKEN = "floor-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
FLOOR = "KXFLOOR-26JAN01-T50"
PLAIN = "KXPLAIN-26JAN01-T50"


@pytest.fixture
async def exchange() -> AsyncIterator[RunningExchange]:
    """The conftest fixture's exchange (its ``trader``/``liquidity`` clients use this one), with the
    operator API on and a floor market and a plain one listed."""
    async with running_exchange(admin_token=TOKEN) as running:
        running.add_market(FLOOR, fee_multiplier=(0, 1), settlement_floor=Price(0))
        running.add_market(PLAIN, fee_multiplier=(0, 1))
        yield running


async def raise_floor(client: SignedClient, ticker: str, floor: str) -> tuple[int, dict[str, object]]:
    reply = await client.post(
        f"/admin/markets/{ticker}/settlement_floor",
        {"settlement_floor_dollars": floor},
        sign=False,
        headers=ADMIN,
    )
    return reply.status, reply.body


async def test_markets_report_their_settlement_bounds(trader: SignedClient) -> None:
    floor = (await trader.get(f"/markets/{FLOOR}")).body["market"]
    plain = (await trader.get(f"/markets/{PLAIN}")).body["market"]
    assert (floor["settlement_bounds_type"], floor["settlement_floor_dollars"]) == ("floor", "0.0000")
    assert plain["settlement_bounds_type"] == "default"
    assert "settlement_floor_dollars" not in plain
    assert "liquidity_dollars" not in plain  # removed in Oct 2026
    listed = (await trader.get("/markets", params={"tickers": f"{FLOOR},{PLAIN}"})).body["markets"]
    assert {m["ticker"]: m["settlement_bounds_type"] for m in listed} == {FLOOR: "floor", PLAIN: "default"}


async def test_the_operator_lists_floor_markets_and_raises_a_floor(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    ex = exchange
    async with SignedClient(ex.rest_url.removesuffix("/trade-api/v2"), validate=False) as admin:
        floors = (await admin.get("/admin/markets/floors", sign=False, headers=ADMIN)).body["markets"]
        assert {"ticker": FLOOR, "settlement_floor_dollars": "0.0000"} in floors
        assert PLAIN not in {m["ticker"] for m in floors}
        assert all(m["ticker"].startswith(("KXFLOOR", "KXINXD")) for m in floors)  # the scenario's index ladder too
        assert (await admin.get("/admin/markets/floors", sign=False)).status == 401

        # The trader holds 10 YES bought at $0.40 and rests a YES bid at $0.25 and an ask at YES $0.30.
        await liquidity.post(ORDERS, order_body(FLOOR, "ask", "10", "0.4000"))
        await trader.post(ORDERS, order_body(FLOOR, "bid", "10", "0.4000", tif="immediate_or_cancel"))
        low_bid = (await trader.post(ORDERS, order_body(FLOOR, "bid", "4", "0.2500"))).body["order_id"]
        low_ask = (await trader.post(ORDERS, order_body(FLOOR, "ask", "3", "0.3000"))).body["order_id"]
        kept = (await trader.post(ORDERS, order_body(FLOOR, "ask", "2", "0.6000"))).body["order_id"]
        before = await balance_cents(trader)

        async with await WsClient.connect(ex.ws_url, ex.trader.key_id, ex.trader.private_key) as ws:
            await ws.request("subscribe", {"channels": ["user_orders"], "market_tickers": [FLOOR]})
            status, body = await raise_floor(admin, FLOOR, "0.3000")
            assert (status, body) == (
                200,
                {"ticker": FLOOR, "settlement_floor_dollars": "0.3000", "canceled_orders": 2},
            )
            frames = [await ws.recv(), await ws.recv()]
        canceled = {f["msg"]["order_id"]: (f["msg"]["status"], f["msg"]["last_update_reason"]) for f in frames}
        assert canceled == {
            low_bid: ("canceled", "SettlementBoundsCancel"),
            low_ask: ("canceled", "SettlementBoundsCancel"),
        }
        # Released collateral ($1.00 + $2.10) and the raise paid on 10 YES ($3.00).
        assert await balance_cents(trader) == before + 100 + 210 + 300
        orders = {o["order_id"]: o["status"] for o in (await trader.get("/portfolio/orders")).body["orders"]}
        assert (orders[low_bid], orders[low_ask], orders[kept]) == ("canceled", "canceled", "resting")
        market = (await trader.get(f"/markets/{FLOOR}")).body["market"]
        assert market["settlement_floor_dollars"] == "0.3000"

        # At or below the floor is refused, on either side; above it is fine.
        for side, price in (("bid", "0.3000"), ("ask", "0.2900")):
            refused = await trader.post(ORDERS, order_body(FLOOR, side, "1", price), validate=False)
            assert (refused.status, refused.error_code) == (400, "invalid_order")
            assert "settlement floor" in refused.error_message
        assert (await trader.post(ORDERS, order_body(FLOOR, "bid", "1", "0.3100"))).status == 201

        # Only a floor market, only upwards, only an existing market.
        assert (await raise_floor(admin, PLAIN, "0.1000"))[0] == 400
        assert (await raise_floor(admin, FLOOR, "0.2000"))[0] == 400
        assert (await raise_floor(admin, "KXNOPE-1", "0.2000"))[0] == 404
        missing = await admin.post(f"/admin/markets/{FLOOR}/settlement_floor", {}, sign=False, headers=ADMIN)
        assert missing.status == 400
