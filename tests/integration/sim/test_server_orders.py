"""V2 order entry over a real socket, with exact cash / fee / position arithmetic.

Each test lists a fresh market with an empty book (``add_market``) so every number is computed
from the documented rules, independent of the scenario's liquidity: collateral = leg price × count,
trades print at the maker's price, taker fee = ceil(0.07·C·P·(1−P)) to the cent (no maker fee on
``quadratic`` series, 0.0175·… on ``quadratic_with_maker_fees``), $1 per winning contract at
settlement. Every response is validated against openapi.yaml by ``SignedClient``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

from tests.support.exchange import RunningExchange
from tests.support.http import SignedClient
from tests.support.trading import ORDERS, balance_cents, order_body, taker_fee_cents

from kalshi_trader.domain import FeeType

START = 1_000_000  # the trader's $10,000.00 in cents


async def _book(client: SignedClient, ticker: str) -> dict[str, list[list[str]]]:
    book = (await client.get(f"/markets/{ticker}/orderbook")).body["orderbook_fp"]
    assert isinstance(book, dict)
    return book


async def test_resting_bid_reserves_collateral_and_shows_on_book(
    exchange: RunningExchange, trader: SignedClient
) -> None:
    ticker = exchange.add_market()
    reply = await trader.post(ORDERS, order_body(ticker, "bid", "10", "0.4000", client_order_id="c-1"))
    assert reply.status == 201
    assert reply.body["fill_count"] == "0.00"
    assert reply.body["remaining_count"] == "10.00"
    assert reply.body["client_order_id"] == "c-1"
    assert "average_fill_price" not in reply.body
    assert await balance_cents(trader) == START - 400
    assert await _book(trader, ticker) == {"yes_dollars": [["0.4000", "10.00"]], "no_dollars": []}
    order = (await trader.get(f"/portfolio/orders/{reply.body['order_id']}")).body["order"]
    assert (order["status"], order["book_side"], order["outcome_side"]) == ("resting", "bid", "yes")
    assert (order["yes_price_dollars"], order["no_price_dollars"]) == ("0.4000", "0.6000")
    queue = await trader.get(f"/portfolio/orders/{reply.body['order_id']}/queue_position")
    assert queue.body == {"queue_position_fp": "0.00"}


async def test_cross_prints_at_maker_price_and_charges_the_taker(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    ticker = exchange.add_market()
    liq_start = await balance_cents(liquidity)
    maker = await trader.post(ORDERS, order_body(ticker, "bid", "10", "0.4000"))
    # An ask at YES 0.38 is a NO bid at 0.62: it crosses the YES bid at 0.40 and prints at 0.40.
    taker = await liquidity.post(ORDERS, order_body(ticker, "ask", "4", "0.3800", tif="immediate_or_cancel"))
    assert taker.status == 201
    fee = taker_fee_cents(4, 40)  # 0.07·4·0.4·0.6 = 0.0672 → 7 cents
    assert fee == 7
    assert taker.body["fill_count"] == "4.00"
    assert taker.body["remaining_count"] == "0.00"
    assert taker.body["average_fill_price"] == "0.4000"
    assert Decimal(taker.body["average_fee_paid"]) * 4 == Decimal(fee) / 100
    # The taker bought 4 NO at 0.60 each plus the fee; the maker's 4 YES cost its collateral.
    assert await balance_cents(liquidity) == liq_start - 4 * 60 - fee
    assert await balance_cents(trader) == START - 400
    positions = (await trader.get("/portfolio/positions")).body
    [position] = positions["market_positions"]
    assert (position["position_fp"], position["market_exposure_dollars"]) == ("4.00", "1.6000")
    assert position["fees_paid_dollars"] == "0.0000"
    [fill] = (await trader.get("/portfolio/fills", params={"ticker": ticker})).body["fills"]
    assert (fill["is_taker"], fill["fee_cost"], fill["count_fp"], fill["yes_price_dollars"]) == (
        False,
        "0.0000",
        "4.00",
        "0.4000",
    )
    assert fill["order_id"] == maker.body["order_id"]
    order = (await trader.get(f"/portfolio/orders/{maker.body['order_id']}")).body["order"]
    assert (order["fill_count_fp"], order["remaining_count_fp"], order["maker_fill_cost_dollars"]) == (
        "4.00",
        "6.00",
        "1.6000",
    )
    [trade] = (await trader.get("/markets/trades", params={"ticker": ticker})).body["trades"]
    assert (trade["taker_book_side"], trade["taker_outcome_side"], trade["yes_price_dollars"]) == (
        "ask",
        "no",
        "0.4000",
    )
    market = (await trader.get(f"/markets/{ticker}")).body["market"]
    assert (market["last_price_dollars"], market["volume_fp"], market["open_interest_fp"]) == ("0.4000", "4.00", "4.00")
    assert (market["yes_bid_dollars"], market["yes_bid_size_fp"]) == ("0.4000", "6.00")
    # 4 YES marked at the best YES bid ($0.40) — the trader's own remaining order here.
    assert (await trader.get("/portfolio/balance")).body["portfolio_value"] == 160


async def test_maker_fee_series_charges_the_resting_side(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    ticker = exchange.add_market("KXMAKER-26JAN01-T1", fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES)
    await trader.post(ORDERS, order_body(ticker, "bid", "20", "0.3000"))
    await liquidity.post(ORDERS, order_body(ticker, "ask", "20", "0.3000", tif="fill_or_kill"))
    maker_fee = taker_fee_cents(20, 30, coefficient_per_10000=175)  # 0.0175·20·0.21 = 0.0735 → 8 cents
    assert maker_fee == 8
    assert await balance_cents(trader) == START - 20 * 30 - maker_fee
    [fill] = (await trader.get("/portfolio/fills")).body["fills"]
    assert (fill["is_taker"], fill["fee_cost"]) == (False, "0.0800")


async def test_ioc_partial_fill_cancels_the_rest(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    ticker = exchange.add_market()
    await liquidity.post(ORDERS, order_body(ticker, "ask", "3", "0.5500"))  # NO bid 0.45 = YES ask 0.55
    reply = await trader.post(ORDERS, order_body(ticker, "bid", "5", "0.6000", tif="immediate_or_cancel"))
    assert (reply.body["fill_count"], reply.body["remaining_count"], reply.body["average_fill_price"]) == (
        "3.00",
        "0.00",
        "0.5500",
    )
    fee = taker_fee_cents(3, 55)  # 0.07·3·0.2475 = 0.051975 → 6 cents
    assert await balance_cents(trader) == START - 3 * 55 - fee
    order = (await trader.get(f"/portfolio/orders/{reply.body['order_id']}")).body["order"]
    assert (order["status"], order["fill_count_fp"], order["remaining_count_fp"]) == ("canceled", "3.00", "0.00")
    assert order["taker_fees_dollars"] == f"0.{fee:02d}00"
    assert await _book(trader, ticker) == {"yes_dollars": [], "no_dollars": []}


async def test_fill_or_kill_kills_when_short_and_fills_when_covered(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    ticker = exchange.add_market()
    await liquidity.post(ORDERS, order_body(ticker, "ask", "3", "0.5500"))
    killed = await trader.post(ORDERS, order_body(ticker, "bid", "4", "0.5500", tif="fill_or_kill"))
    assert (killed.status, killed.body["fill_count"], killed.body["remaining_count"]) == (201, "0.00", "0.00")
    assert await balance_cents(trader) == START
    assert await _book(trader, ticker) == {"yes_dollars": [], "no_dollars": [["0.4500", "3.00"]]}
    filled = await trader.post(ORDERS, order_body(ticker, "bid", "3", "0.5500", tif="fill_or_kill"))
    assert filled.body["fill_count"] == "3.00"
    assert await balance_cents(trader) == START - 3 * 55 - taker_fee_cents(3, 55)


async def test_post_only_that_would_cross_is_rejected_without_side_effects(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    ticker = exchange.add_market()
    await liquidity.post(ORDERS, order_body(ticker, "ask", "3", "0.5500"))
    reply = await trader.post(ORDERS, order_body(ticker, "bid", "1", "0.5500", post_only=True))
    assert reply.status == 400
    assert reply.error_code == "invalid_order"
    assert reply.body["error"]["details"] == "post only cross"
    assert await balance_cents(trader) == START
    assert (await trader.get("/portfolio/orders")).body["orders"] == []
    ok = await trader.post(ORDERS, order_body(ticker, "bid", "1", "0.5400", post_only=True))
    assert ok.status == 201


async def test_amend_moves_price_and_size_and_rebalances_collateral(
    exchange: RunningExchange, trader: SignedClient
) -> None:
    ticker = exchange.add_market()
    first = await trader.post(ORDERS, order_body(ticker, "bid", "10", "0.4000", client_order_id="a-1"))
    second = await trader.post(ORDERS, order_body(ticker, "bid", "5", "0.4000"))
    order_id = first.body["order_id"]
    # Size down only: keeps priority, no fill → remaining reported.
    reply = await trader.post(
        f"{ORDERS}/{order_id}/amend", {"ticker": ticker, "side": "bid", "price": "0.4000", "count": "6"}
    )
    assert reply.status == 200
    assert (reply.body["remaining_count"], reply.body["fill_count"]) == ("6.00", "0.00")
    assert (await trader.get(f"/portfolio/orders/{order_id}/queue_position")).body["queue_position_fp"] == "0.00"
    assert await balance_cents(trader) == START - 6 * 40 - 5 * 40
    # New price and new client id: leaves the level, collateral follows the new price.
    reply = await trader.post(
        f"{ORDERS}/{order_id}/amend",
        {
            "ticker": ticker,
            "side": "bid",
            "price": "0.4200",
            "count": "8",
            "client_order_id": "a-1",
            "updated_client_order_id": "a-2",
        },
    )
    assert reply.body["client_order_id"] == "a-2"
    assert await balance_cents(trader) == START - 8 * 42 - 5 * 40
    assert await _book(trader, ticker) == {"yes_dollars": [["0.4000", "5.00"], ["0.4200", "8.00"]], "no_dollars": []}
    order = (await trader.get(f"/portfolio/orders/{order_id}")).body["order"]
    assert (order["client_order_id"], order["yes_price_dollars"], order["initial_count_fp"]) == (
        "a-2",
        "0.4200",
        "8.00",
    )
    assert second.status == 201


async def test_amend_sets_and_clears_the_expiry_keeping_priority(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    """``expiration_time`` on amend (Oct 2026): Unix seconds set a new expiry, 0 clears it, omitted
    keeps it, a past one is refused. Same price and count: the order keeps its place in the queue."""
    ticker = exchange.add_market()
    first = (await trader.post(ORDERS, order_body(ticker, "bid", "3", "0.4000"))).body["order_id"]
    await liquidity.post(ORDERS, order_body(ticker, "bid", "2", "0.4000"))  # behind it
    later = int(time.time()) + 3_600
    body = {"ticker": ticker, "side": "bid", "price": "0.4000", "count": "3"}
    assert (await trader.post(f"{ORDERS}/{first}/amend", body | {"expiration_time": later})).status == 200
    order = (await trader.get(f"/portfolio/orders/{first}")).body["order"]
    assert order["expiration_time"] == datetime.fromtimestamp(later, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (await trader.get(f"/portfolio/orders/{first}/queue_position")).body["queue_position_fp"] == "0.00"
    assert (await trader.post(f"{ORDERS}/{first}/amend", body)).status == 200  # omitted: kept
    assert (await trader.get(f"/portfolio/orders/{first}")).body["order"]["expiration_time"] is not None
    assert (await trader.post(f"{ORDERS}/{first}/amend", body | {"expiration_time": 0})).status == 200
    order = (await trader.get(f"/portfolio/orders/{first}")).body["order"]
    assert order.get("expiration_time") is None  # good till canceled again
    assert (await trader.get(f"/portfolio/orders/{first}/queue_position")).body["queue_position_fp"] == "0.00"
    past = await trader.post(f"{ORDERS}/{first}/amend", body | {"expiration_time": 1_000}, validate=False)
    assert (past.status, past.error_code) == (400, "invalid_order")


async def test_fills_of_several_markets_and_positions_by_settlement_status(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    """``/portfolio/fills?ticker=A,B`` (up to 100, Oct 2026) and
    ``/portfolio/positions?settlement_status=unsettled|settled|all`` (Oct 2026)."""
    a, b, c = (exchange.add_market(f"KXMULTI{i}-26JAN01-T50") for i in range(3))
    for ticker in (a, b, c):
        await liquidity.post(ORDERS, order_body(ticker, "ask", "2", "0.3000"))
        await trader.post(ORDERS, order_body(ticker, "bid", "2", "0.3000", tif="immediate_or_cancel"))
    fills = (await trader.get("/portfolio/fills", params={"ticker": f"{a},{c}"})).body["fills"]
    assert {f["ticker"] for f in fills} == {a, c}
    assert {f["outcome_side"] for f in fills} == {"yes"}
    too_many = ",".join(f"KX-{i}" for i in range(101))
    assert (await trader.get("/portfolio/fills", params={"ticker": too_many}, validate=False)).status == 400

    exchange.exchange.engine.determine(b, "yes")
    exchange.exchange.engine.settle(b)

    async def positions(status: str | None) -> set[tuple[str, str]]:
        params = {"settlement_status": status} if status else {}
        listed = (await trader.get("/portfolio/positions", params=params)).body["market_positions"]
        return {(p["ticker"], p["position_fp"]) for p in listed if p["ticker"] in (a, b, c)}

    assert await positions(None) == await positions("unsettled") == {(a, "2.00"), (c, "2.00")}
    assert await positions("settled") == {(b, "0.00")}
    assert await positions("all") == {(a, "2.00"), (b, "0.00"), (c, "2.00")}
    settled = (await trader.get("/portfolio/positions", params={"settlement_status": "settled"})).body
    [event] = [e for e in settled["event_positions"] if e["event_ticker"] == b.rsplit("-", 1)[0]]
    assert event["realized_pnl_dollars"] == "1.4000"  # 2 × ($1 − $0.30)
    # Settled positions page by event: one event per page; a cursor of one status is not another's.
    page = (await trader.get("/portfolio/positions", params={"settlement_status": "all", "limit": 1})).body
    assert len({p["ticker"].rsplit("-", 1)[0] for p in page["market_positions"]}) == 1
    assert page["cursor"]
    wrong = await trader.get("/portfolio/positions", params={"cursor": page["cursor"]}, validate=False)
    assert wrong.status == 400
    bad = await trader.get("/portfolio/positions", params={"settlement_status": "done"}, validate=False)
    assert bad.status == 400


async def test_decrease_and_cancel_release_collateral(exchange: RunningExchange, trader: SignedClient) -> None:
    ticker = exchange.add_market()
    reply = await trader.post(ORDERS, order_body(ticker, "ask", "10", "0.7000", client_order_id="d-1"))
    order_id = reply.body["order_id"]
    assert await balance_cents(trader) == START - 10 * 30  # an ask buys NO at $1 − 0.70
    dec = await trader.post(f"{ORDERS}/{order_id}/decrease", {"reduce_by": "2.5"})
    assert (dec.status, dec.body["remaining_count"], dec.body["client_order_id"]) == (200, "7.50", "d-1")
    dec = await trader.post(f"{ORDERS}/{order_id}/decrease", {"reduce_to": "7"})
    assert dec.body["remaining_count"] == "7.00"
    assert await balance_cents(trader) == START - 7 * 30
    cancel = await trader.delete(f"{ORDERS}/{order_id}")
    assert (cancel.status, cancel.body["reduced_by"], cancel.body["client_order_id"]) == (200, "7.00", "d-1")
    assert await balance_cents(trader) == START
    again = await trader.delete(f"{ORDERS}/{order_id}")
    assert (again.status, again.error_code) == (404, "not_found")
    order = (await trader.get(f"/portfolio/orders/{order_id}")).body["order"]
    assert (order["status"], order["remaining_count_fp"], order["initial_count_fp"]) == ("canceled", "0.00", "10.00")


async def test_batch_create_reports_per_item_errors(exchange: RunningExchange, trader: SignedClient) -> None:
    ticker = exchange.add_market()
    batch = {
        "orders": [
            order_body(ticker, "bid", "1", "0.1000", client_order_id="b-1"),
            order_body(ticker, "bid", "1", "0.1050", client_order_id="b-2"),  # off the cent grid
            order_body(ticker, "ask", "2", "0.9000", client_order_id="b-3"),
        ]
    }
    reply = await trader.post(f"{ORDERS}/batched", batch)
    assert reply.status == 201
    first, bad, third = reply.body["orders"]
    assert (first["client_order_id"], first["remaining_count"], first.get("error")) == ("b-1", "1.00", None)
    assert "order_id" not in bad
    assert bad["client_order_id"] == "b-2"
    assert bad["error"]["code"] == "invalid_order"
    assert "grid" in bad["error"]["message"]
    assert third["remaining_count"] == "2.00"
    assert await balance_cents(trader) == START - 10 - 2 * 10
    ids = [o["order_id"] for o in (await trader.get("/portfolio/orders")).body["orders"]]
    assert sorted(ids) == sorted([first["order_id"], third["order_id"]])


async def test_batch_cancel_reports_per_item_errors(exchange: RunningExchange, trader: SignedClient) -> None:
    ticker = exchange.add_market()
    a = (await trader.post(ORDERS, order_body(ticker, "bid", "3", "0.2000", client_order_id="x-1"))).body
    b = (await trader.post(ORDERS, order_body(ticker, "bid", "4", "0.2100"))).body
    missing = "00000000-0000-4000-8000-000000000000"
    reply = await trader.delete(
        f"{ORDERS}/batched",
        {"orders": [{"order_id": a["order_id"]}, {"order_id": missing}, {"order_id": b["order_id"]}]},
    )
    assert reply.status == 200
    first, bad, third = reply.body["orders"]
    assert (first["reduced_by"], first["client_order_id"], first.get("error")) == ("3.00", "x-1", None)
    assert (bad["order_id"], bad["reduced_by"], bad["error"]["code"]) == (missing, "0.00", "not_found")
    assert bad.get("ts_ms") is None
    assert third["reduced_by"] == "4.00"
    assert await balance_cents(trader) == START


async def test_self_trade_prevention_both_modes(exchange: RunningExchange, trader: SignedClient) -> None:
    ticker = exchange.add_market()
    resting = (await trader.post(ORDERS, order_body(ticker, "bid", "10", "0.4000"))).body
    # taker_at_cross: the incoming order is canceled, the resting one stays.
    reply = await trader.post(ORDERS, order_body(ticker, "ask", "5", "0.4000", stp="taker_at_cross"))
    assert (reply.body["fill_count"], reply.body["remaining_count"]) == ("0.00", "0.00")
    assert (await trader.get(f"/portfolio/orders/{resting['order_id']}")).body["order"]["status"] == "resting"
    assert await balance_cents(trader) == START - 400
    # maker: the resting own order is canceled and the incoming one rests.
    reply = await trader.post(ORDERS, order_body(ticker, "ask", "5", "0.4000", stp="maker"))
    assert (reply.body["fill_count"], reply.body["remaining_count"]) == ("0.00", "5.00")
    assert (await trader.get(f"/portfolio/orders/{resting['order_id']}")).body["order"]["status"] == "canceled"
    assert await balance_cents(trader) == START - 5 * 60
    assert (await trader.get("/portfolio/fills")).body["fills"] == []


async def test_settlement_pays_winners_and_is_listed(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    ticker = exchange.add_market()
    await liquidity.post(ORDERS, order_body(ticker, "ask", "10", "0.3000"))
    taken = await trader.post(ORDERS, order_body(ticker, "bid", "10", "0.3000", tif="immediate_or_cancel"))
    assert taken.body["fill_count"] == "10.00"
    await trader.post(ORDERS, order_body(ticker, "bid", "5", "0.2000"))  # rests; canceled at close
    fee = taker_fee_cents(10, 30)  # 0.07·10·0.21 = 0.147 → 15 cents
    assert await balance_cents(trader) == START - 300 - fee - 100
    exchange.exchange.engine.determine(ticker, "yes")
    exchange.exchange.engine.settle(ticker)
    assert await balance_cents(trader) == START - 300 - fee + 1_000
    [record] = (await trader.get("/portfolio/settlements")).body["settlements"]
    assert (record["ticker"], record["market_result"], record["revenue"], record["value"]) == (
        ticker,
        "yes",
        1_000,
        100,
    )
    assert (record["yes_count_fp"], record["yes_total_cost_dollars"], record["no_count_fp"]) == (
        "10.00",
        "3.0000",
        "0.00",
    )
    assert record["fee_cost"] == f"0.{fee:02d}00"
    assert (await trader.get("/portfolio/positions")).body["market_positions"] == []
    market = (await trader.get(f"/markets/{ticker}")).body["market"]
    assert (market["status"], market["result"], market["settlement_value_dollars"]) == ("finalized", "yes", "1.0000")
    assert market["settlement_ts"] is not None
    settled = (await trader.get("/markets", params={"status": "settled", "tickers": ticker})).body["markets"]
    assert [m["ticker"] for m in settled] == [ticker]


async def test_order_groups_lifecycle(exchange: RunningExchange, trader: SignedClient) -> None:
    ticker = exchange.add_market()
    created = await trader.post("/portfolio/order_groups/create", {"contracts_limit": 5})
    assert created.status == 201
    group_id = created.body["order_group_id"]
    order = (await trader.post(ORDERS, order_body(ticker, "bid", "3", "0.1000", order_group_id=group_id))).body
    listed = (await trader.get("/portfolio/order_groups")).body["order_groups"]
    assert listed == [
        {"id": group_id, "is_auto_cancel_enabled": True, "contracts_limit_fp": "5.00", "exchange_index": 0}
    ]
    one = (await trader.get(f"/portfolio/order_groups/{group_id}")).body
    assert one["orders"] == [order["order_id"]]
    assert (await trader.put(f"/portfolio/order_groups/{group_id}/limit", {"contracts_limit_fp": "7.00"})).body == {}
    assert (await trader.put(f"/portfolio/order_groups/{group_id}/trigger")).status == 200
    assert (await trader.get(f"/portfolio/orders/{order['order_id']}")).body["order"]["status"] == "canceled"
    blocked = await trader.post(ORDERS, order_body(ticker, "bid", "1", "0.1000", order_group_id=group_id))
    assert (blocked.status, blocked.error_code) == (400, "invalid_order")
    assert (await trader.put(f"/portfolio/order_groups/{group_id}/reset", {})).status == 200
    assert (await trader.post(ORDERS, order_body(ticker, "bid", "1", "0.1000", order_group_id=group_id))).status == 201
    assert (await trader.delete(f"/portfolio/order_groups/{group_id}")).status == 200
    assert (await trader.get(f"/portfolio/order_groups/{group_id}")).status == 404
    assert await balance_cents(trader) == START


async def test_orders_are_private_to_their_account(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    ticker = exchange.add_market()
    mine = (await trader.post(ORDERS, order_body(ticker, "bid", "1", "0.1000"))).body["order_id"]
    for reply in (
        await liquidity.get(f"/portfolio/orders/{mine}"),
        await liquidity.delete(f"{ORDERS}/{mine}"),
        await liquidity.post(f"{ORDERS}/{mine}/decrease", {"reduce_by": "1"}),
    ):
        assert (reply.status, reply.error_code) == (404, "not_found")
    assert (await trader.get(f"/portfolio/orders/{mine}")).body["order"]["status"] == "resting"


async def test_trading_and_exchange_pauses(exchange: RunningExchange, trader: SignedClient) -> None:
    ticker = exchange.add_market()
    resting = (await trader.post(ORDERS, order_body(ticker, "bid", "4", "0.2000"))).body["order_id"]
    flags = exchange.exchange.flags
    flags.trading_active = False
    status = (await trader.get("/exchange/status")).body
    assert (status["exchange_active"], status["trading_active"]) == (True, False)
    paused = await trader.post(ORDERS, order_body(ticker, "bid", "1", "0.2000"))
    assert (paused.status, paused.error_code) == (400, "trading_paused")
    amend = {"ticker": ticker, "side": "bid", "price": "0.2100", "count": "4"}
    assert (await trader.post(f"{ORDERS}/{resting}/amend", amend)).error_code == "trading_paused"
    assert (await trader.post(f"{ORDERS}/{resting}/decrease", {"reduce_by": "1"})).status == 200
    flags.exchange_active = False
    closed = await trader.delete(f"{ORDERS}/{resting}")
    assert (closed.status, closed.error_code) == (503, "exchange_unavailable")
    flags.exchange_active = flags.trading_active = True
    assert (await trader.delete(f"{ORDERS}/{resting}")).body["reduced_by"] == "3.00"
    assert await balance_cents(trader) == START


async def test_a_crossing_amend_reports_what_rests_after_its_fills(
    exchange: RunningExchange, trader: SignedClient, liquidity: SignedClient
) -> None:
    """changelog Sep 3 2026: ``remaining_count`` is what rests after the fills the amend made (not
    0, not the pre-match remainder); ``fill_count`` is those fills."""
    ticker = exchange.add_market()
    order_id = (await trader.post(ORDERS, order_body(ticker, "bid", "10", "0.3000"))).body["order_id"]
    await liquidity.post(ORDERS, order_body(ticker, "ask", "4", "0.3500"))
    reply = await trader.post(
        f"{ORDERS}/{order_id}/amend", {"ticker": ticker, "side": "bid", "price": "0.3500", "count": "10"}
    )
    assert reply.status == 200
    assert (reply.body["fill_count"], reply.body["remaining_count"]) == ("4.00", "6.00")
    assert reply.body["average_fill_price"] == "0.3500"
    order = (await trader.get(f"/portfolio/orders/{order_id}")).body["order"]
    assert (order["status"], order["fill_count_fp"], order["remaining_count_fp"]) == ("resting", "4.00", "6.00")
    # Crossing everything: nothing rests, and the reply says 0 (the order executed).
    await liquidity.post(ORDERS, order_body(ticker, "ask", "8", "0.3600"))
    reply = await trader.post(
        f"{ORDERS}/{order_id}/amend", {"ticker": ticker, "side": "bid", "price": "0.3600", "count": "10"}
    )
    assert (reply.body["fill_count"], reply.body["remaining_count"]) == ("6.00", "0.00")
    assert (await trader.get(f"/portfolio/orders/{order_id}")).body["order"]["status"] == "executed"
