"""The WebSocket v2 feed of the full embedded exchange, over real sockets.

Every frame received is validated against asyncapi.yaml (closed mode) and seq-checked by
``tests/support/ws.py``. The key property: books rebuilt from ``orderbook_snapshot`` +
``orderbook_delta`` equal ``GET /markets/{ticker}/orderbook`` after thousands of random
creates, cancels, amends and decreases (hundreds of them over REST).
"""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec
import pytest
from tests.support.exchange import RunningExchange, process_key
from tests.support.http import SignedClient
from tests.support.trading import ORDERS, order_body
from tests.support.ws import BookReplica, WsClient, bad_commands, of_type

from kalshi_trader.domain import (
    BookSide,
    MarketStatus,
    Money,
    Price,
    SelfTradePrevention,
    TimeInForce,
    format_price,
    format_qty,
)
from kalshi_trader.kalshi import schemas as wire
from kalshi_trader.kalshi.auth import HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP, Signer
from kalshi_trader.sim.api.ws_feed import wire_user_id
from kalshi_trader.sim.core.state import ExchangeError, NewOrder

WS_PATH = "/trade-api/ws/v2"
FLUSH_ID = 1_000_000
PRIVATE = ["fill", "user_orders", "market_positions", "order_group_updates"]


def is_flush(frame: dict[str, Any]) -> bool:
    return frame.get("id") == FLUSH_ID


def seen_all(kinds: set[str]) -> Any:
    """A predicate for ``WsClient.until``: true once every type in ``kinds`` has arrived."""
    seen: set[str] = set()

    def pred(frame: dict[str, Any]) -> bool:
        seen.add(frame["type"])
        return kinds <= seen

    return pred


def tradable(exchange: RunningExchange, count: int) -> list[str]:
    """``count`` active markets that stay open for the test, on as many tick grids as possible."""
    ex = exchange.exchange
    now = ex.clock_ms()
    open_markets = [
        t
        for t in exchange.scenario.tickers
        if ex.engine.market(t).status is MarketStatus.ACTIVE and ex.catalog.market(t).close_ms > now + 3_600_000
    ]
    by_grid: dict[str, list[str]] = {}
    for t in open_markets:
        by_grid.setdefault(ex.engine.market(t).grid.structure, []).append(t)
    chosen: list[str] = []
    while len(chosen) < count and any(by_grid.values()):
        for tickers in by_grid.values():
            if tickers and len(chosen) < count:
                chosen.append(tickers.pop(0))
    assert len(chosen) == count, f"only {len(chosen)} open markets"
    return chosen


async def connect(exchange: RunningExchange, who: str = "trader") -> WsClient:
    creds = exchange.trader if who == "trader" else exchange.liquidity
    return await WsClient.connect(exchange.ws_url, creds.key_id, creds.private_key)


@pytest.fixture
async def ws(exchange: RunningExchange) -> AsyncIterator[WsClient]:
    client = await connect(exchange)
    try:
        yield client
    finally:
        await client.close()


# -- handshake -------------------------------------------------------------------------------------


def _raw_upgrade_headers() -> dict[str, str]:
    return {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }


def _signed(exchange: RunningExchange, path: str = WS_PATH, offset_ms: int = 0, key: Any = None) -> dict[str, str]:
    signer = Signer(exchange.trader.key_id, key or exchange.trader.private_key)
    ts = str(signer.clock_ms() + offset_ms)
    return {HEADER_KEY: exchange.trader.key_id, HEADER_TIMESTAMP: ts, HEADER_SIGNATURE: signer.sign(ts, "GET", path)}


@pytest.mark.parametrize(
    "variant",
    [
        "no headers",
        "no signature",
        "garbage signature",
        "another key",
        "wrong path",
        "REST path",
        "stale",
        "unknown key",
    ],
)
async def test_handshake_without_a_valid_signature_is_refused_with_401(exchange: RunningExchange, variant: str) -> None:
    headers: dict[str, str] = {}
    if variant == "no signature":
        headers = _signed(exchange)
        del headers[HEADER_SIGNATURE]
    elif variant == "garbage signature":
        headers = _signed(exchange) | {HEADER_SIGNATURE: base64.b64encode(b"z" * 256).decode()}
    elif variant == "another key":
        headers = _signed(exchange, key=process_key(9))
    elif variant == "wrong path":
        headers = _signed(exchange, "/trade-api/ws/v1")
    elif variant == "REST path":
        headers = _signed(exchange, "/trade-api/v2/portfolio/balance")
    elif variant == "stale":
        headers = _signed(exchange, offset_ms=-60_000)
    elif variant == "unknown key":
        headers = _signed(exchange) | {HEADER_KEY: "00000000-0000-4000-8000-00000000dead"}
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(exchange.ws_url, headers=headers)
        assert info.value.status == 401
        async with session.get(exchange.ws_url, headers=_raw_upgrade_headers() | headers) as resp:
            assert resp.status == 401
            body = await resp.json()
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["message"]
    assert exchange.exchange.feed.connection_count == 0


async def test_signed_handshake_connects_and_counts(exchange: RunningExchange, ws: WsClient) -> None:
    assert (await ws.request("list_subscriptions"))["msg"] == []
    assert exchange.exchange.feed.connection_count == 1
    async with await connect(exchange, "liquidity") as other:
        await other.request("list_subscriptions")
        assert exchange.exchange.feed.connection_count == 2
    for _ in range(100):
        if exchange.exchange.feed.connection_count == 1:
            break
        await asyncio.sleep(0.01)
    assert exchange.exchange.feed.connection_count == 1


# -- commands ----------------------------------------------------------------------------------


async def test_every_command(exchange: RunningExchange, ws: WsClient) -> None:
    a, b = tradable(exchange, 2)
    catalog = exchange.exchange.catalog
    command_id = await ws.send(
        "subscribe",
        {
            "channels": [
                "orderbook_delta",
                "ticker",
                "trade",
                "fill",
                "market_positions",
                "user_orders",
                "order_group_updates",
                "market_lifecycle_v2",
                "multivariate_market_lifecycle",
                "communications",
            ],
            "market_tickers": [a],
            "send_initial_snapshot": True,
            "use_yes_price": True,
        },
    )
    frames = await ws.until(lambda f: f.get("msg", {}).get("channel") == "communications")
    subscribed = [f for f in frames if f["type"] == "subscribed"]
    assert [f["msg"]["sid"] for f in subscribed] == list(range(1, 11))
    assert all(f["id"] == command_id for f in subscribed)
    assert [f["type"] for f in frames[:3]] == ["subscribed", "orderbook_snapshot", "subscribed"]
    assert of_type("ticker", frames)[0]["msg"]["market_ticker"] == a

    listing = await ws.request("list_subscriptions")
    assert [s["channel"] for s in listing["msg"]][:3] == ["orderbook_delta", "ticker", "trade"]

    ok = await ws.request("update_subscription", {"sids": [1], "action": "add_markets", "market_tickers": [b]})
    assert (ok["sid"], ok["seq"], ok["msg"]) == (1, 1, {"market_tickers": [a, b]})
    assert (await ws.recv())["msg"]["market_ticker"] == b
    ok = await ws.request(
        "update_subscription", {"sid": 2, "action": "add_markets", "market_id": catalog.market(b).market_id}
    )
    assert ok["msg"]["market_ids"] == [catalog.market(a).market_id, catalog.market(b).market_id]
    ok = await ws.request("update_subscription", {"sid": 1, "action": "get_snapshot", "market_tickers": [a, b]})
    assert ok["msg"] == {"market_tickers": [a, b]}
    snaps = [await ws.recv(), await ws.recv()]
    assert [s["seq"] for s in snaps] == [3, 4]
    ok = await ws.request("update_subscription", {"sid": 1, "action": "delete_markets", "market_tickers": [a]})
    assert ok["msg"] == {"market_tickers": [b]}

    unsubscribe_id = await ws.send("unsubscribe", {"sids": [1, 3]})
    replies = await ws.replies(unsubscribe_id, 2)
    assert replies == [
        {"id": unsubscribe_id, "sid": 1, "seq": 4, "type": "unsubscribed"},
        {"id": unsubscribe_id, "sid": 3, "seq": 1, "type": "unsubscribed"},
    ]
    remaining = (await ws.request("list_subscriptions"))["msg"]
    assert [s["sid"] for s in remaining] == [2, 4, 5, 6, 7, 8, 9, 10]


@pytest.mark.parametrize("case", range(len(bad_commands("A", "B"))), ids=[c[0] for c in bad_commands("A", "B")])
async def test_every_error_code_over_the_real_server(exchange: RunningExchange, ws: WsClient, case: int) -> None:
    a, b = tradable(exchange, 2)
    name, command, code = bad_commands(a, b)[case]
    subscribe_id = await ws.send(
        "subscribe", {"channels": ["orderbook_delta", "ticker", "market_lifecycle_v2"], "market_ticker": a}
    )
    await ws.replies(subscribe_id, 3)
    before = (await ws.request("list_subscriptions"))["msg"]
    await ws.send_raw(command if isinstance(command, str) else msgspec.json.encode(command).decode())
    error = await ws.recv()
    assert (error["type"], error["msg"]["code"]) == ("error", code), name
    assert error["msg"]["msg"] == wire.WS_ERROR_MESSAGES[wire.WsErrorCode(code)]
    assert (await ws.request("list_subscriptions"))["msg"] == before


# -- private channels over REST ------------------------------------------------------------------------


async def test_private_channels_follow_rest_trading(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    (ticker,) = tradable(exchange, 1)
    engine = exchange.exchange.engine
    async with await connect(exchange) as mine, await connect(exchange, "liquidity") as theirs:
        for client in (mine, theirs):
            command_id = await client.send("subscribe", {"channels": PRIVATE})
            await client.replies(command_id, 4)
        _, _, no_bid, _ = engine.top(ticker)
        assert no_bid is not None
        ask = format_price(10_000 - no_bid)  # the best YES ask: marketable
        group = (await trader.post("/portfolio/order_groups/create", {"contracts_limit_fp": "50.00"})).body
        reply = await trader.post(ORDERS, order_body(ticker, "bid", "2", ask, client_order_id="ws-1",
                                                     order_group_id=group["order_group_id"]))  # fmt: skip
        assert reply.status == 201
        frames = await mine.until(seen_all({"order_group_updates", "fill", "user_order", "market_position"}))
        assert frames[0]["type"] == "order_group_updates"
        fill = of_type("fill", frames)[0]["msg"]
        assert (fill["order_id"], fill["client_order_id"], fill["is_taker"]) == (reply.body["order_id"], "ws-1", True)
        rest_fill = (await trader.get("/portfolio/fills", params={"order_id": reply.body["order_id"]})).body["fills"][0]
        assert fill["trade_id"] == rest_fill["trade_id"]
        assert fill["yes_price_dollars"] == rest_fill["yes_price_dollars"] == ask
        assert of_type("user_order", frames)[-1]["msg"]["user_id"] == wire_user_id(exchange.trader.user_id)
        # The maker's (liquidity's) side arrives on its own connection only.
        maker = await theirs.until(seen_all({"fill", "user_order", "market_position"}))
        maker += await theirs.quiet(0.2)
        assert {f["type"] for f in maker} == {"fill", "user_order", "market_position"}
        assert all(f["msg"].get("user_id", wire_user_id("liquidity")) == wire_user_id("liquidity") for f in maker)
        assert not any(f["msg"].get("order_id") == reply.body["order_id"] for f in maker)
        assert of_type("order_group_updates", theirs.frames) == []


# -- the property ----------------------------------------------------------------------------------------


async def _rest_operation(rng: random.Random, client: SignedClient, user: str, exchange: RunningExchange,
                          tickers: list[str], live: list[tuple[str, str]]) -> None:  # fmt: skip
    engine = exchange.exchange.engine
    roll = rng.random()
    mine = [order_id for owner, order_id in live if owner == user]
    if roll < 0.2 and mine:
        order_id = rng.choice(mine)
        reply = await client.delete(f"{ORDERS}/{order_id}")
        assert reply.status in (200, 404), reply.body
    elif roll < 0.35 and mine:
        order = engine.order(user, rng.choice(mine))
        if order.status != "resting":
            return
        price = _price(rng, exchange, order.ticker)
        count = format_qty(order.filled + rng.randint(1, 20) * 100)
        body = {"ticker": order.ticker, "side": order.side.value, "price": format_price(price), "count": count}
        reply = await client.post(f"{ORDERS}/{order.order_id}/amend", body)
        assert reply.status in (200, 400), reply.body
    elif roll < 0.4 and mine:
        order = engine.order(user, rng.choice(mine))
        if order.status == "resting":
            reply = await client.post(f"{ORDERS}/{order.order_id}/decrease", {"reduce_by": "1.00"})
            assert reply.status in (200, 400), reply.body
    else:
        ticker = rng.choice(tickers)
        side = rng.choice(("bid", "ask"))
        tif = "immediate_or_cancel" if roll > 0.9 else "good_till_canceled"
        count = f"{rng.randint(1, 20)}.{rng.choice(('00', '25', '50'))}"
        body = order_body(ticker, side, count, format_price(_price(rng, exchange, ticker)), tif=tif)
        reply = await client.post(ORDERS, body)
        assert reply.status == 201, reply.body
        live.append((user, reply.body["order_id"]))


def _price(rng: random.Random, exchange: RunningExchange, ticker: str) -> Price:
    """An on-grid price within ±8¢ of the market's fair value (so that orders cross often)."""
    fair = exchange.scenario.fair[ticker]
    grid = exchange.exchange.engine.market(ticker).grid
    near = [p for p in grid.levels() if 0 < p < 10_000 and abs(p - fair) <= 800]
    return rng.choice(near)


def _engine_operation(rng: random.Random, exchange: RunningExchange, users: list[str], tickers: list[str],
                      live: list[tuple[str, str]]) -> None:  # fmt: skip
    engine = exchange.exchange.engine
    user = rng.choice(users)
    roll = rng.random()
    try:
        if roll < 0.25 and live:
            owner, order_id = live.pop(rng.randrange(len(live)))
            if engine.order(owner, order_id).status == "resting":
                engine.cancel(owner, order_id)
        elif roll < 0.35 and live:
            owner, order_id = rng.choice(live)
            order = engine.order(owner, order_id)
            if order.status == "resting":
                price = _price(rng, exchange, order.ticker)
                engine.amend(owner, order_id, ticker=order.ticker, side=order.side, price=price,
                             count=order.filled + rng.randint(1, 20) * 100)  # fmt: skip
        elif roll < 0.4 and live:
            owner, order_id = rng.choice(live)
            if engine.order(owner, order_id).status == "resting":
                engine.decrease(owner, order_id, reduce_by=100)
        else:
            ticker = rng.choice(tickers)
            req = NewOrder(
                ticker=ticker,
                side=rng.choice((BookSide.BID, BookSide.ASK)),
                price=_price(rng, exchange, ticker),
                count=rng.randint(1, 3000),
                time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL if roll > 0.92 else TimeInForce.GOOD_TILL_CANCELED,
                self_trade_prevention=SelfTradePrevention.TAKER_AT_CROSS,
            )
            live.append((user, engine.place(user, req).order.order_id))
    except ExchangeError as exc:  # e.g. a balance the random walk ran through; never a server fault
        if exc.status not in (400, 404, 409):
            raise


async def test_books_rebuilt_from_the_feed_equal_the_rest_orderbooks(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    rng = random.Random(20261121)
    tickers = tradable(exchange, 5)
    other = exchange.add_trader("other", Money(10_000_000 * 10_000))
    async with exchange.client(other) as other_client:
        clients = {"trader": trader, "liquidity": liquidity, "other": other_client}
        plain, yes_scale = await connect(exchange), await connect(exchange, "liquidity")
        replicas = {id(plain): BookReplica(), id(yes_scale): BookReplica(use_yes_price=True)}
        try:
            for client, flag in ((plain, False), (yes_scale, True)):
                params = {
                    "channels": ["orderbook_delta", "trade", "ticker"],
                    "market_tickers": tickers,
                    "use_yes_price": flag,
                }
                await client.replies(await client.send("subscribe", params), 3)
            readers = [asyncio.create_task(c.until(is_flush, 120)) for c in (plain, yes_scale)]

            live: list[tuple[str, str]] = []
            rest_ops = 0
            for _ in range(10):
                for _ in range(50):  # over REST, a few concurrently
                    batch = [
                        _rest_operation(rng, clients[user], user, exchange, tickers, live)
                        for user in rng.sample(sorted(clients), 2)
                    ]
                    await asyncio.gather(*batch)
                    rest_ops += len(batch)
                for i in range(500):  # directly through the engine (the rich accounts)
                    _engine_operation(rng, exchange, ["liquidity", "other"], tickers, live)
                    if i % 50 == 0:
                        await asyncio.sleep(0)  # let the writers drain
                live = [(u, o) for u, o in live if exchange.exchange.engine.order(u, o).status == "resting"]
            assert rest_ops == 1_000

            for client in (plain, yes_scale):
                await client.send("list_subscriptions", id=FLUSH_ID)
            await asyncio.gather(*readers)
            for attempt in range(3):
                rest_books = {t: (await trader.get(f"/markets/{t}/orderbook")).body["orderbook_fp"] for t in tickers}
                before = {id(c): len(c.frames) for c in (plain, yes_scale)}
                for client in (plain, yes_scale):
                    await client.request("list_subscriptions")
                changed = any(
                    f["type"].startswith("orderbook") for c in (plain, yes_scale) for f in c.frames[before[id(c)] :]
                )
                if not changed:  # nothing moved between the REST reads and the flush
                    break
                assert attempt < 2, "the books kept moving"
            for client in (plain, yes_scale):
                replica = replicas[id(client)]
                for frame in client.frames:
                    replica.apply(frame)
                for t in tickers:
                    assert replica.orderbook_fp(t) == rest_books[t], t
            deltas = of_type("orderbook_delta", plain.frames)
            assert len(deltas) > 4_000  # about 4,500
            assert len(of_type("trade", plain.frames)) > 100
            assert {d["msg"]["market_ticker"] for d in deltas} == set(tickers)
        finally:
            await plain.close()
            await yes_scale.close()


async def test_lifecycle_over_the_real_server(exchange: RunningExchange, ws: WsClient) -> None:
    (ticker,) = tradable(exchange, 1)
    command_id = await ws.send("subscribe", {"channels": ["market_lifecycle_v2"]})
    await ws.reply(command_id)
    engine = exchange.exchange.engine
    engine.set_market_status(ticker, MarketStatus.INACTIVE)
    engine.set_market_status(ticker, MarketStatus.ACTIVE)
    engine.determine(ticker, "no")
    engine.settle(ticker)
    frames = [await ws.recv() for _ in range(4)]
    assert [f["msg"]["event_type"] for f in frames] == ["deactivated", "activated", "determined", "settled"]
    assert frames[2]["msg"]["settlement_value"] == "0.0000"
