"""The embedded exchange's past over a real socket: the historical cutoff in market time, records
moving from the live endpoints to ``/historical/...`` unchanged and exactly once, candlesticks from
its own trades, and the admin API that moves the cutoff.

Every reply of the trading API is validated against openapi.yaml by ``SignedClient`` (closed: no
undocumented keys); the exchange runs on a frozen ``SimClock`` that only the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from tests.support.exchange import RunningExchange, running_exchange
from tests.support.http import SignedClient
from tests.support.trading import ORDERS, order_body

from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.sim.api.archive import DAY_MS
from kalshi_trader.sim.api.render import iso
from kalshi_trader.sim.core.clock import SimClock

TOKEN = "history-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
TICKER = "KXHIST-26JAN01-T50"
OTHER = "KXKEEP-26JAN01-T50"
MINUTE_MS = 60_000


@dataclass
class World:
    running: RunningExchange
    clock: SimClock
    trader: SignedClient
    liquidity: SignedClient
    public: SignedClient
    admin: SignedClient

    def advance(self, ms: int) -> None:
        self.clock.advance(ms)
        self.running.exchange.housekeeping()

    @property
    def now_s(self) -> int:
        return self.clock.now_ms() // 1000


@pytest.fixture
async def world() -> AsyncIterator[World]:
    clock = SimClock(speed=0)  # starts at the wall clock, frozen
    async with running_exchange(clock_ms=clock, admin_token=TOKEN) as running:
        for ticker in (TICKER, OTHER):
            running.add_market(ticker)
            running.exchange.catalog.market(ticker).close_ms = clock.now_ms() + 400 * DAY_MS
        async with (
            running.client(running.trader) as trader,
            running.client(running.liquidity) as liquidity,
            running.client() as public,
            SignedClient(running.rest_url.removesuffix("/trade-api/v2"), validate=False) as admin,
        ):
            yield World(running, clock, trader, liquidity, public, admin)


async def ok(reply_coro: Any) -> Any:
    reply = await reply_coro
    assert reply.status in (200, 201), (reply.status, reply.body)
    return reply.body


async def walk(client: SignedClient, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a listing, one item per page (cursors exercised)."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        body = await ok(client.get(path, params={**params, "limit": 1, **({"cursor": cursor} if cursor else {})}))
        items += body[key]
        cursor = body.get("cursor") or ""
        if not cursor:
            return items


async def trade_and_settle(world: World) -> dict[str, str]:
    """The trader buys 10 YES at $0.40 in two orders a minute apart, cancels a bid and leaves one
    resting in another market; then TICKER settles YES. Returns the order ids by role."""
    t, liq = world.trader, world.liquidity
    await ok(liq.post(ORDERS, order_body(TICKER, "ask", "10.00", "0.4000")))
    first = await ok(t.post(ORDERS, order_body(TICKER, "bid", "4.00", "0.4000", tif="immediate_or_cancel")))
    world.advance(MINUTE_MS)
    second = await ok(t.post(ORDERS, order_body(TICKER, "bid", "6.00", "0.4000")))
    canceled = await ok(t.post(ORDERS, order_body(TICKER, "bid", "1.00", "0.2000")))
    await ok(t.delete(f"{ORDERS}/{canceled['order_id']}"))
    resting = await ok(t.post(ORDERS, order_body(OTHER, "bid", "5.00", "0.3000")))
    world.advance(MINUTE_MS)
    engine = world.running.exchange.engine
    engine.determine(TICKER, "yes")
    world.advance(MINUTE_MS)
    engine.settle(TICKER)
    return {
        "first": first["order_id"],
        "second": second["order_id"],
        "canceled": canceled["order_id"],
        "resting": resting["order_id"],
    }


async def test_the_cutoff_trails_market_time_by_kalshis_lags(world: World) -> None:
    body = await ok(world.public.get("/historical/cutoff"))
    now = world.clock.now_ms()
    assert body == {
        "market_settled_ts": iso(now - 90 * DAY_MS),
        "trades_created_ts": iso(now - 90 * DAY_MS),
        "orders_updated_ts": iso(now - 14 * DAY_MS),
        "market_positions_last_updated_ts": iso(now - 90 * DAY_MS),
    }
    world.advance(DAY_MS)
    assert (await ok(world.public.get("/historical/cutoff")))["orders_updated_ts"] == iso(now - 13 * DAY_MS)


async def test_records_move_to_the_historical_tier_unchanged_and_exactly_once(world: World) -> None:
    t = world.trader
    ids = await trade_and_settle(world)
    fills_live = await walk(t, "/portfolio/fills", "fills", ticker=TICKER)
    orders_live = {o["order_id"]: o for o in await walk(t, "/portfolio/orders", "orders")}
    [settlement] = (await ok(t.get("/portfolio/settlements")))["settlements"]
    trades_live = await walk(world.public, "/markets/trades", "trades", ticker=TICKER)
    market_live = (await ok(world.public.get(f"/markets/{TICKER}")))["market"]
    assert len(fills_live) == 2
    assert len(trades_live) == 2
    assert set(orders_live) == set(ids.values())
    for path, key in (
        ("/historical/fills", "fills"),
        ("/historical/orders", "orders"),
        ("/historical/positions", "market_positions"),
    ):
        assert (await ok(t.get(path)))[key] == []
    assert (await ok(world.public.get("/historical/markets")))["markets"] == []
    assert (await t.get(f"/historical/markets/{TICKER}")).status == 404

    # 15 days later: the finished orders are archived, the resting one stays live.
    world.advance(15 * DAY_MS)
    live_orders = await walk(t, "/portfolio/orders", "orders")
    assert [o["order_id"] for o in live_orders] == [ids["resting"]]
    archived = await walk(t, "/historical/orders", "orders")
    assert sorted(o["order_id"] for o in archived) == sorted([ids["first"], ids["second"], ids["canceled"]])
    assert all(o == orders_live[o["order_id"]] for o in archived)  # moved, not changed
    assert (await t.get(f"/portfolio/orders/{ids['second']}")).status == 404
    assert (await ok(t.get(f"/portfolio/orders/{ids['resting']}")))["order"]["status"] == "resting"
    assert await walk(t, "/portfolio/fills", "fills", ticker=TICKER) == fills_live  # fills: 90 days

    # 91 days later: fills, trades, the market and the settled position are archived too.
    world.advance(76 * DAY_MS)
    assert await walk(t, "/portfolio/fills", "fills") == []
    assert await walk(t, "/historical/fills", "fills") == fills_live
    assert await walk(world.public, "/markets/trades", "trades", ticker=TICKER) == []
    assert await walk(world.public, "/historical/trades", "trades", ticker=TICKER) == trades_live
    assert (await t.get(f"/markets/{TICKER}")).status == 404
    assert TICKER not in [m["ticker"] for m in await walk(world.public, "/markets", "markets")]
    archived_market = (await ok(world.public.get(f"/historical/markets/{TICKER}")))["market"]
    assert archived_market == {**market_live, "volume_24h_fp": "0.00"}  # 91 days on, nothing traded today
    listed = await walk(world.public, "/historical/markets", "markets", series_ticker="KXHIST")
    assert [m["ticker"] for m in listed] == [TICKER]
    assert (await ok(t.get("/portfolio/settlements")))["settlements"] == []  # live records only
    positions = await ok(t.get("/historical/positions"))
    [position] = positions["market_positions"]
    fees = sum(Decimal(f["fee_cost"]) for f in fills_live)
    assert position["ticker"] == TICKER
    assert (position["position_fp"], position["total_traded_dollars"], position["realized_pnl_dollars"]) == (
        "0.00",
        "4.0000",
        "6.0000",
    )
    assert Decimal(position["fees_paid_dollars"]) == fees > 0
    assert [e["event_ticker"] for e in positions["event_positions"]] == [TICKER.rsplit("-", 1)[0]]
    assert settlement["ticker"] == TICKER


async def test_live_and_historical_reads_together_see_every_record_once_at_any_cutoff(world: World) -> None:
    t = world.trader
    await trade_and_settle(world)
    start = world.clock.now_ms() - 3 * MINUTE_MS
    world.advance(DAY_MS)
    for offset in range(0, 4 * MINUTE_MS, 30_000):  # cutoffs before, between and after the records
        at = iso(start + offset)
        await ok(
            world.admin.put(
                "/admin/historical/cutoff",
                {"trades_created_ts": at, "orders_updated_ts": at},
                sign=False,
                headers=ADMIN,
            )
        )
        fills = await walk(t, "/portfolio/fills", "fills") + await walk(t, "/historical/fills", "fills")
        orders = await walk(t, "/portfolio/orders", "orders") + await walk(t, "/historical/orders", "orders")
        assert len(fills) == len({f["fill_id"] for f in fills}) == 2
        assert len(orders) == len({o["order_id"] for o in orders}) == 4


async def test_historical_filters_and_bad_input(world: World) -> None:
    t = world.trader
    await trade_and_settle(world)
    world.advance(100 * DAY_MS)
    fills = await walk(t, "/historical/fills", "fills")
    first_s = min(int(f["ts"]) for f in fills)
    assert len(await walk(t, "/historical/fills", "fills", max_ts=first_s)) == 1
    assert len(await walk(t, "/historical/fills", "fills", min_ts=first_s + 1)) == 1
    assert await walk(t, "/historical/fills", "fills", ticker=OTHER) == []
    assert await walk(t, "/historical/orders", "orders", ticker=OTHER) == []
    assert await walk(world.public, "/historical/trades", "trades", is_block_trade="true") == []
    assert len(await walk(t, "/historical/positions", "market_positions", event_ticker="KXHIST-26JAN01")) == 1
    assert (await ok(world.public.get("/historical/markets", params={"tickers": f"{TICKER},{OTHER}"})))["markets"]
    bad = [
        (t, "/historical/fills", {"subaccount": 3}),
        (t, "/historical/orders", {"min_ts": 10, "max_ts": 5}),
        (t, "/historical/positions", {"event_ticker": "A,B"}),
        (world.public, "/historical/markets", {"series_ticker": "KXHIST", "event_ticker": "KXHIST-26JAN01"}),
        (world.public, "/historical/markets", {"mve_filter": "only"}),
    ]
    for client, path, params in bad:
        reply = await client.get(path, params=params)
        assert (reply.status, reply.error_code) == (400, "invalid_parameters"), (path, params, reply.body)
    for path in ("/historical/fills", "/historical/orders", "/historical/positions"):
        assert (await world.public.get(path)).status == 401  # the account's records need a signature


async def test_candlesticks_come_from_the_exchanges_own_trades_and_quotes(world: World) -> None:
    t, liq = world.trader, world.liquidity
    world.advance(MINUTE_MS - world.clock.now_ms() % MINUTE_MS)  # on a minute boundary
    start = world.now_s
    world.advance(1000)  # inside the minute ending at start + 60
    await ok(liq.post(ORDERS, order_body(TICKER, "ask", "10.00", "0.4500")))
    await ok(liq.post(ORDERS, order_body(TICKER, "bid", "10.00", "0.3500")))
    world.advance(10_000)
    await ok(t.post(ORDERS, order_body(TICKER, "bid", "2.00", "0.4500", tif="immediate_or_cancel")))
    world.advance(MINUTE_MS)  # the next minute
    await ok(t.post(ORDERS, order_body(TICKER, "ask", "3.00", "0.3500", tif="immediate_or_cancel")))
    window = {"start_ts": start, "end_ts": start + 3600, "period_interval": 1}
    body = await ok(world.public.get(f"/series/KXHIST/markets/{TICKER}/candlesticks", params=window))
    assert body["ticker"] == TICKER
    first, second = body["candlesticks"]
    assert (first["end_period_ts"], second["end_period_ts"]) == (start + 60, start + 120)
    assert first["yes_bid"] == {
        "open_dollars": "0.0000",
        "low_dollars": "0.0000",
        "high_dollars": "0.3500",
        "close_dollars": "0.3500",
    }
    assert first["yes_ask"]["close_dollars"] == "0.4500"
    assert (first["price"]["close_dollars"], first["volume_fp"], first["open_interest_fp"]) == (
        "0.4500",
        "2.00",
        "2.00",
    )
    assert (second["price"]["previous_dollars"], second["price"]["mean_dollars"]) == ("0.4500", "0.3500")
    # the trader's 2 YES closed and 1 NO opened; the liquidity account now holds 1 YES
    assert (second["volume_fp"], second["open_interest_fp"]) == ("3.00", "1.00")
    hour = await ok(
        world.public.get(f"/series/KXHIST/markets/{TICKER}/candlesticks", params={**window, "period_interval": 60})
    )
    [h] = hour["candlesticks"]
    assert (h["volume_fp"], h["price"]["open_dollars"], h["price"]["close_dollars"]) == ("5.00", "0.4500", "0.3500")
    later = {
        "start_ts": start + 600,
        "end_ts": start + 900,
        "period_interval": 1,
        "include_latest_before_start": "true",
    }
    [projected] = (await ok(world.public.get(f"/series/KXHIST/markets/{TICKER}/candlesticks", params=later)))[
        "candlesticks"
    ]
    assert projected["end_period_ts"] == start + 600
    assert (projected["price"].get("close_dollars"), projected["price"]["previous_dollars"]) == (None, "0.3500")
    batch = await ok(
        world.public.get("/markets/candlesticks", params={**window, "market_tickers": f"{TICKER},{OTHER},NOPE"})
    )
    assert [(m["market_ticker"], len(m["candlesticks"])) for m in batch["markets"]] == [(TICKER, 2), (OTHER, 0)]
    assert batch["markets"][0]["candlesticks"] == body["candlesticks"]

    # Settled and archived: only the historical route serves them, with the flat field names.
    engine = world.running.exchange.engine
    engine.determine(TICKER, "yes")
    engine.settle(TICKER)
    world.advance(91 * DAY_MS)
    gone = await world.public.get(f"/series/KXHIST/markets/{TICKER}/candlesticks", params=window)
    assert (gone.status, "historical" in gone.error_message) == (404, True)
    old = await ok(world.public.get(f"/historical/markets/{TICKER}/candlesticks", params=window))
    assert [c["end_period_ts"] for c in old["candlesticks"]] == [start + 60, start + 120]
    assert old["candlesticks"][0]["yes_bid"] == {"open": "0.0000", "low": "0.0000", "high": "0.3500", "close": "0.3500"}
    assert (old["candlesticks"][1]["volume"], old["candlesticks"][1]["price"]["previous"]) == ("3.00", "0.4500")


async def test_candlestick_requests_are_checked(world: World) -> None:
    p = world.public
    base = {"start_ts": 1_000_000, "end_ts": 1_003_600, "period_interval": 1}
    cases = [
        (f"/series/KXHIST/markets/{TICKER}/candlesticks", {**base, "period_interval": 5}, 400),
        (f"/series/KXHIST/markets/{TICKER}/candlesticks", {"start_ts": 1, "period_interval": 1}, 400),
        (f"/series/KXHIST/markets/{TICKER}/candlesticks", {**base, "start_ts": 2_000_000}, 400),
        (f"/series/KXHIST/markets/{TICKER}/candlesticks", {**base, "end_ts": 1_000_000 + 10_001 * 60}, 400),
        (f"/series/KXKEEP/markets/{TICKER}/candlesticks", base, 404),
        ("/series/KXHIST/markets/KXHIST-NOPE/candlesticks", base, 404),
        (f"/historical/markets/{TICKER}/candlesticks", base, 404),  # still live
        ("/markets/candlesticks", base, 400),  # no market_tickers
    ]
    for path, params, status in cases:
        reply = await p.get(path, params=params)
        assert reply.status == status, (path, params, reply.body)
    seven = await ok(p.get("/markets/candlesticks", params={**base, "period_interval": 7, "market_tickers": TICKER}))
    assert seven["markets"] == [{"market_ticker": TICKER, "candlesticks": []}]


async def test_the_admin_api_moves_the_cutoff_in_market_time(world: World) -> None:
    admin, now = world.admin, world.clock.now_ms()
    body = await ok(admin.get("/admin/historical/cutoff", sign=False, headers=ADMIN))
    assert body["lag_seconds"]["orders_updated_ts"] == 14 * 86_400
    assert set(body["pinned"].values()) == {None}
    pinned = await ok(
        admin.put(
            "/admin/historical/cutoff",
            {"market_settled_ts": iso(now - 5000), "lag_seconds": {"trades_created_ts": 60}},
            sign=False,
            headers=ADMIN,
        )
    )
    assert pinned["cutoff"]["market_settled_ts"] == iso(now - 5000)
    assert pinned["cutoff"]["trades_created_ts"] == iso(now - 60_000)
    public = await ok(world.public.get("/historical/cutoff"))
    assert (public["market_settled_ts"], public["trades_created_ts"]) == (iso(now - 5000), iso(now - 60_000))
    for bad in (
        {"orders_updated_ts": iso(now + 1000)},  # after the exchange's time
        {"orders_updated_ts": "yesterday"},
        {"lag_seconds": {"orders_updated_ts": -1}},
        {"nope": None},
        {"market_settled_ts": None, "lag_seconds": {"trades_ts": 1}},
    ):
        reply = await admin.put("/admin/historical/cutoff", bad, sign=False, headers=ADMIN)
        assert reply.status == 400, (bad, reply.body)
    assert await ok(admin.get("/admin/historical/cutoff", sign=False, headers=ADMIN)) == pinned  # unchanged
    released = await ok(admin.put("/admin/historical/cutoff", {"market_settled_ts": None}, sign=False, headers=ADMIN))
    assert released["cutoff"]["market_settled_ts"] == iso(now - 90 * DAY_MS)
    trader = world.running.trader
    signer = Signer(trader.key_id, trader.private_key).headers("GET", "/admin/historical/cutoff")
    assert (await admin.get("/admin/historical/cutoff", sign=False, headers=signer)).status == 403
