"""Public market data and portfolio listings over a real socket: shapes, filters, pagination.

Every reply is validated against openapi.yaml by ``SignedClient`` (closed: no undocumented keys).
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

from tests.support.exchange import RunningExchange, running_exchange
from tests.support.http import SignedClient
from tests.support.trading import ORDERS, order_body

from kalshi_trader.domain import PRICE_LEVEL_STRUCTURES, MarketStatus

MARKET_STATUS = {
    "unopened": {"initialized"},
    "open": {"active"},
    "paused": {"inactive"},
    "closed": {"closed", "determined", "disputed", "amended"},
    "settled": {"finalized"},
}


async def _walk(client: SignedClient, path: str, key: str, limit: int, **params: Any) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor = ""
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        body = (await client.get(path, params=query)).body
        pages.append(body[key])
        cursor = body.get("cursor") or ""
        if not cursor:
            return pages


async def test_exchange_endpoints(public: SignedClient) -> None:
    status = (await public.get("/exchange/status")).body
    assert (status["exchange_active"], status["trading_active"]) == (True, True)
    schedule = (await public.get("/exchange/schedule")).body["schedule"]
    assert schedule["maintenance_windows"] == []
    assert len(schedule["standard_hours"][0]["thursday"]) == 1


async def test_series_listing_and_lookup(public: SignedClient) -> None:
    series = (await public.get("/series")).body["series"]
    tickers = [s["ticker"] for s in series]
    assert {"KXHIGHNY", "KXHIGHCHI", "KXFEDDECISION", "KXINXD", "KXCPIYOY"} <= set(tickers)
    assert {s["fee_type"] for s in series} >= {"quadratic", "quadratic_with_maker_fees"}
    assert 0.5 in {s["fee_multiplier"] for s in series}
    weather = (await public.get("/series", params={"category": "Climate and Weather"})).body["series"]
    assert [s["ticker"] for s in weather] == ["KXHIGHNY", "KXHIGHCHI"]
    tagged = (await public.get("/series", params={"tags": "Financials"})).body["series"]
    assert [s["ticker"] for s in tagged] == ["KXINXD"]
    one = (await public.get("/series/KXHIGHNY", params={"include_volume": "true"})).body["series"]
    assert (one["ticker"], one["volume_fp"]) == ("KXHIGHNY", "0.00")
    # ``categories`` (Sep 2026): the primary ``category`` first; the filter matches any of them
    categories = {s["ticker"]: s["categories"] for s in series}
    assert categories["KXHIGHNY"] == ["Climate and Weather"]
    assert categories["KXINXD"] == ["Financials", "Economics"]
    economics = (await public.get("/series", params={"category": "Economics"})).body["series"]
    assert [s["ticker"] for s in economics] == ["KXFEDDECISION", "KXINXD", "KXCPIYOY"]


async def test_markets_cover_several_grids_with_documented_ranges(public: SignedClient) -> None:
    markets = (await public.get("/markets", params={"limit": 1000})).body["markets"]
    structures = {m["price_level_structure"] for m in markets}
    assert {"linear_cent", "deci_cent", "tapered_deci_cent"} <= structures
    for m in markets:
        ranges = [(r["start"], r["end"], r["step"]) for r in m["price_ranges"]]
        assert ranges == PRICE_LEVEL_STRUCTURES[m["price_level_structure"]]


async def test_weather_event_has_six_markets_partitioning_the_range(public: SignedClient) -> None:
    events = (await public.get("/events", params={"series_ticker": "KXHIGHNY", "status": "open"})).body["events"]
    event = events[0]["event_ticker"]
    reply = (await public.get(f"/events/{event}", params={"with_nested_markets": "true"})).body
    markets = reply["markets"]
    assert reply["event"]["markets"] == markets
    assert reply["event"]["mutually_exclusive"] is True
    assert len(markets) == 6
    kinds = [m["strike_type"] for m in markets]
    assert kinds == ["less", "between", "between", "between", "between", "greater"]
    low, high = markets[0]["cap_strike"], markets[-1]["floor_strike"]
    assert markets[0]["ticker"].endswith(f"-T{int(low)}")
    assert markets[-1]["ticker"].endswith(f"-T{int(high)}")
    for i, m in enumerate(markets[1:5]):
        floor = low + 2 * i
        assert (m["floor_strike"], m["cap_strike"]) == (floor, floor + 1)
        assert m["ticker"].endswith(f"-B{int(floor)}.5")
    assert high == low + 7
    # Fair prices of a partition: best bids sum below $1, best asks above.
    bids = sum(Decimal(m["yes_bid_dollars"]) for m in markets)
    asks = sum(Decimal(m["yes_ask_dollars"]) for m in markets)
    assert bids < 1 < asks


async def test_liquidity_is_two_sided_with_favourites(public: SignedClient) -> None:
    markets = (await public.get("/markets", params={"status": "open", "limit": 1000})).body["markets"]
    assert len(markets) >= 15
    assert any(Decimal(m["yes_bid_dollars"]) > Decimal("0.85") for m in markets)
    for m in markets:
        bid, ask = Decimal(m["yes_bid_dollars"]), Decimal(m["yes_ask_dollars"])
        assert bid < ask, m["ticker"]
        assert ask < 1 or bid > 0, m["ticker"]


async def test_status_filters_partition_the_listing(public: SignedClient) -> None:
    everything = (await public.get("/markets", params={"limit": 1000})).body["markets"]
    seen: list[str] = []
    for status, objects in MARKET_STATUS.items():
        subset = (await public.get("/markets", params={"status": status, "limit": 1000})).body["markets"]
        assert {m["status"] for m in subset} <= objects
        seen += [m["ticker"] for m in subset]
    assert sorted(seen) == sorted(m["ticker"] for m in everything)
    unopened = (await public.get("/markets", params={"status": "unopened", "series_ticker": "KXCPIYOY"})).body
    assert len(unopened["markets"]) == 3
    settled = (await public.get("/markets", params={"status": "settled"})).body["markets"]
    assert len(settled) == 6
    assert sum(m["result"] == "yes" for m in settled) <= 1
    assert all(m["settlement_ts"] and m["expiration_value"] for m in settled)
    events = (await public.get("/events", params={"status": "settled"})).body["events"]
    assert [e["event_ticker"] for e in events] == [settled[0]["event_ticker"]]


async def test_market_filters(public: SignedClient) -> None:
    everything = (await public.get("/markets", params={"limit": 1000})).body["markets"]
    chosen = [everything[3]["ticker"], everything[10]["ticker"]]
    by_tickers = (await public.get("/markets", params={"tickers": ",".join(chosen)})).body["markets"]
    assert [m["ticker"] for m in by_tickers] == chosen
    event = everything[10]["event_ticker"]
    by_event = (await public.get("/markets", params={"event_ticker": event})).body["markets"]
    assert by_event
    assert {m["event_ticker"] for m in by_event} == {event}
    closes = sorted({m["close_time"] for m in everything})
    cutoff = int(time.time()) + 3 * 86_400
    late = (await public.get("/markets", params={"min_close_ts": cutoff, "limit": 1000})).body["markets"]
    assert late
    assert all(m["close_time"] > time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cutoff)) for m in late)
    assert len(late) < len(everything)
    assert closes
    assert (await public.get("/markets", params={"mve_filter": "only"})).body["markets"] == []


async def test_markets_updated_within_a_window(exchange: RunningExchange, public: SignedClient) -> None:
    """``min_updated_ts`` (exclusive) and ``max_updated_ts`` (inclusive, Oct 2026) bound the last
    metadata change; they combine with each other and with no other group."""
    everything = (await public.get("/markets", params={"limit": 1000})).body["markets"]
    stamps = sorted({exchange.exchange.catalog.market(m["ticker"]).updated_ms // 1000 for m in everything})
    assert len(stamps) > 2
    low, high = stamps[0], stamps[-2]
    window = await public.get("/markets", params={"limit": 1000, "min_updated_ts": low, "max_updated_ts": high})
    got = {m["ticker"] for m in window.body["markets"]}
    expected = {
        m["ticker"]
        for m in everything
        if low < exchange.exchange.catalog.market(m["ticker"]).updated_ms // 1000 <= high
    }
    assert got == expected
    assert got
    clash = await public.get("/markets", params={"max_updated_ts": high, "min_close_ts": 1}, validate=False)
    assert clash.status == 400


async def test_orderbooks_of_several_markets_need_no_key(exchange: RunningExchange, public: SignedClient) -> None:
    """``GET /markets/orderbooks`` and ``/markets/{ticker}/orderbook`` are public (Oct 2026)."""
    tickers = [
        m["ticker"] for m in (await public.get("/markets", params={"status": "open", "limit": 3})).body["markets"]
    ]
    reply = await public.get("/markets/orderbooks", params=[("tickers", t) for t in tickers])
    books = {b["ticker"]: b["orderbook_fp"] for b in reply.body["orderbooks"]}
    assert list(books) == tickers
    for ticker in tickers:
        assert books[ticker] == (await public.get(f"/markets/{ticker}/orderbook")).body["orderbook_fp"]
    comma = await public.get("/markets/orderbooks", params={"tickers": ",".join(tickers)})
    assert comma.body == reply.body
    assert (await public.get("/markets/orderbooks", validate=False)).status == 400
    too_many = [("tickers", f"KX-{i}") for i in range(101)]
    assert (await public.get("/markets/orderbooks", params=too_many, validate=False)).status == 400


async def test_market_pagination_walk(public: SignedClient) -> None:
    everything = [m["ticker"] for m in (await public.get("/markets", params={"limit": 1000})).body["markets"]]
    pages = await _walk(public, "/markets", "markets", 7)
    assert [len(p) for p in pages[:-1]] == [7] * (len(pages) - 1)
    assert [m["ticker"] for p in pages for m in p] == everything
    assert len(everything) == len(set(everything))
    event_pages = await _walk(public, "/events", "events", 3)
    all_events = [e["event_ticker"] for e in (await public.get("/events")).body["events"]]
    assert [e["event_ticker"] for p in event_pages for e in p] == all_events
    assert len(event_pages) == -(-len(all_events) // 3)


async def test_orderbook_is_ascending_best_last_and_matches_top_of_book(public: SignedClient) -> None:
    markets = (await public.get("/markets", params={"status": "open", "limit": 1000})).body["markets"]
    for m in markets:
        book = (await public.get(f"/markets/{m['ticker']}/orderbook")).body["orderbook_fp"]
        for side in ("yes_dollars", "no_dollars"):
            prices = [Decimal(p) for p, _ in book[side]]
            assert prices == sorted(prices)
            assert len(set(prices)) == len(prices)
        if book["yes_dollars"]:
            assert m["yes_bid_dollars"] == book["yes_dollars"][-1][0]
            assert m["yes_bid_size_fp"] == book["yes_dollars"][-1][1]
        if book["no_dollars"]:
            assert Decimal(m["yes_ask_dollars"]) == 1 - Decimal(book["no_dollars"][-1][0])
            assert m["yes_ask_size_fp"] == book["no_dollars"][-1][1]
            assert m["no_bid_dollars"] == book["no_dollars"][-1][0]
        top = (await public.get(f"/markets/{m['ticker']}/orderbook", params={"depth": 1})).body["orderbook_fp"]
        assert top == {side: book[side][-1:] for side in ("yes_dollars", "no_dollars")}


async def test_trades_and_portfolio_listings_paginate_newest_first(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient, public: SignedClient
) -> None:
    ticker = exchange.add_market()
    await liquidity.post(ORDERS, order_body(ticker, "ask", "100", "0.5000"))
    order_ids = []
    for i in range(7):
        reply = await trader.post(ORDERS, order_body(ticker, "bid", f"{i + 1}", "0.5000", tif="immediate_or_cancel"))
        order_ids.append(reply.body["order_id"])
    trades = await _walk(public, "/markets/trades", "trades", 3, ticker=ticker)
    assert [len(p) for p in trades] == [3, 3, 1]
    assert [t["count_fp"] for p in trades for t in p] == [f"{n}.00" for n in range(7, 0, -1)]
    orders = await _walk(trader, "/portfolio/orders", "orders", 2)
    assert [o["order_id"] for p in orders for o in p] == order_ids[::-1]
    fills = await _walk(trader, "/portfolio/fills", "fills", 4, ticker=ticker)
    assert [f["order_id"] for p in fills for f in p] == order_ids[::-1]
    one = (await trader.get("/portfolio/fills", params={"order_id": order_ids[2]})).body["fills"]
    assert [f["count_fp"] for f in one] == ["3.00"]
    executed = (await trader.get("/portfolio/orders", params={"status": "executed", "ticker": ticker})).body
    assert len(executed["orders"]) == 7
    assert (await trader.get("/portfolio/orders", params={"status": "resting"})).body["orders"] == []
    positions = (await trader.get("/portfolio/positions", params={"count_filter": "position"})).body
    assert [p["position_fp"] for p in positions["market_positions"]] == ["28.00"]
    [event] = positions["event_positions"]
    assert (event["event_ticker"], event["total_cost_shares_fp"]) == ("KXTEST-26JAN01", "28.00")
    balance = (await trader.get("/portfolio/balance")).body
    assert balance["portfolio_value"] == 0  # no YES bid left to sell into
    queue = (await trader.get("/portfolio/orders/queue_positions")).body
    assert queue == {"queue_positions": []}


async def test_queue_positions_follow_price_time_priority(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    ticker = exchange.add_market()
    await liquidity.post(ORDERS, order_body(ticker, "bid", "7.5", "0.2000"))
    mine = (await trader.post(ORDERS, order_body(ticker, "bid", "2", "0.2000"))).body["order_id"]
    assert (await trader.get(f"/portfolio/orders/{mine}/queue_position")).body == {"queue_position_fp": "7.50"}
    listed = (await trader.get("/portfolio/orders/queue_positions", params={"market_tickers": ticker})).body
    assert listed == {"queue_positions": [{"order_id": mine, "market_ticker": ticker, "queue_position_fp": "7.50"}]}


async def test_housekeeping_opens_closes_and_expires() -> None:
    async with running_exchange(housekeeping_interval_ms=20) as rx, rx.client(rx.trader) as trader:
        now = int(time.time() * 1000)
        ticker = rx.add_market("KXSOON-26JAN01-T1", status=MarketStatus.INITIALIZED)
        meta = rx.exchange.catalog.market(ticker)
        meta.open_ms, meta.close_ms = now + 300, now + 60_000
        other = rx.add_market()
        expiry_s = int(time.time()) + 1
        gtt = await trader.post(ORDERS, order_body(other, "bid", "1", "0.1000", expiration_time=expiry_s))
        assert (await trader.get(f"/markets/{ticker}")).body["market"]["status"] == "initialized"
        await _until(trader, f"/markets/{ticker}", lambda b: b["market"]["status"] == "active")
        meta.close_ms = int(time.time() * 1000) + 100
        await _until(trader, f"/markets/{ticker}", lambda b: b["market"]["status"] == "closed")
        order = await _until(
            trader, f"/portfolio/orders/{gtt.body['order_id']}", lambda b: b["order"]["status"] == "canceled"
        )
        assert order["order"]["expiration_time"] is not None


async def _until(client: SignedClient, path: str, done: Any, within_s: float = 5.0) -> Any:
    deadline = time.monotonic() + within_s
    while True:
        body = (await client.get(path)).body
        if done(body):
            return body
        assert time.monotonic() < deadline, f"timed out waiting on {path}: {body}"
        await asyncio.sleep(0.02)


async def test_same_seed_same_world_other_seed_other_world() -> None:
    async def world(seed: int) -> list[tuple[str, Any]]:
        async with running_exchange(seed=seed) as rx, rx.client() as public:
            markets = (await public.get("/markets", params={"limit": 1000})).body["markets"]
            return [(m["ticker"], (await public.get(f"/markets/{m['ticker']}/orderbook")).body) for m in markets]

    first, again, other = await world(11), await world(11), await world(12)
    assert first == again
    assert first != other
