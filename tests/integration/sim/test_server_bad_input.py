"""Bad input never changes state and always gets a clear, documented error.

For each class of bad input the reply must carry the documented status and Kalshi's nested error
body (checked by ``SignedClient``), a message naming what is wrong, and the caller's balance,
orders, positions, fills and the market's book must be exactly as before.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from tests.support.exchange import RunningExchange, running_exchange
from tests.support.http import Reply, SignedClient
from tests.support.trading import ORDERS, order_body, state

from kalshi_trader.domain import MarketStatus


@dataclass
class Setup:
    exchange: RunningExchange
    trader: SignedClient
    ticker: str
    resting_id: str


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    async with running_exchange() as rx, rx.client(rx.trader) as trader, rx.client(rx.liquidity) as liquidity:
        ticker = rx.add_market()
        rx.add_market("KXCLOSED-26JAN01-T1", status=MarketStatus.CLOSED)
        rx.add_market("KXSOON-26JAN01-T1", status=MarketStatus.INITIALIZED)
        await liquidity.post(ORDERS, order_body(ticker, "ask", "50", "0.6000"))
        await liquidity.post(ORDERS, order_body(ticker, "bid", "50", "0.3000"))
        resting = await trader.post(ORDERS, order_body(ticker, "bid", "10", "0.4000", client_order_id="taken"))
        yield Setup(rx, trader, ticker, resting.body["order_id"])


async def _expect(
    s: Setup, reply_coro: Any, status: int, code: str | None, needle: str, before: dict[str, Any]
) -> Reply:
    reply: Reply = await reply_coro
    assert reply.status == status, reply.body
    if code is not None:
        assert reply.error_code == code, reply.body
    assert needle.lower() in reply.error_message.lower(), reply.body
    assert await state(s.trader, s.ticker) == before
    return reply


T = "KXTEST-26JAN01-T50"

CREATE_CASES: list[tuple[str, Any, int, str, str]] = [
    # (id, body (dict) or raw bytes, status, code, message fragment)
    ("malformed-json", b'{"ticker": ', 400, "invalid_parameters", "not valid JSON"),
    ("empty-body", b"", 400, "missing_parameters", "empty"),
    ("array-body", b"[1, 2]", 400, "invalid_parameters", "JSON object"),
    ("unknown-field", order_body(T, "bid", "1", "0.4000", colour="red"), 400, "invalid_parameters", "'colour'"),
    ("legacy-field", order_body(T, "bid", "1", "0.4000", yes_price=40), 400, "invalid_parameters", "'yes_price'"),
    (
        "missing-price",
        {k: v for k, v in order_body(T, "bid", "1", "0.4").items() if k != "price"},
        400,
        "missing_parameters",
        "'price'",
    ),
    (
        "missing-tif",
        {k: v for k, v in order_body(T, "bid", "1", "0.4").items() if k != "time_in_force"},
        400,
        "missing_parameters",
        "time_in_force",
    ),
    ("null-ticker", order_body(None, "bid", "1", "0.4"), 400, "missing_parameters", "ticker"),  # type: ignore[arg-type]
    ("empty-ticker", order_body("", "bid", "1", "0.4"), 400, "missing_parameters", "ticker"),
    ("ticker-number", order_body(42, "bid", "1", "0.4"), 400, "invalid_parameters", "must be a string"),  # type: ignore[arg-type]
    ("price-float", order_body(T, "bid", "1", 0.4), 400, "invalid_parameters", "dollar string"),  # type: ignore[arg-type]
    ("price-text", order_body(T, "bid", "1", "forty"), 400, "invalid_parameters", "not a plain decimal"),
    ("price-precision", order_body(T, "bid", "1", "0.40001"), 400, "invalid_parameters", "decimal places"),
    ("price-zero", order_body(T, "bid", "1", "0"), 400, "invalid_order", "strictly between"),
    ("price-one", order_body(T, "bid", "1", "1.0000"), 400, "invalid_order", "strictly between"),
    ("price-range", order_body(T, "bid", "1", "1.5"), 400, "invalid_parameters", "outside"),
    ("price-negative", order_body(T, "bid", "1", "-0.4"), 400, "invalid_parameters", "outside"),
    ("price-off-grid", order_body(T, "bid", "1", "0.4050"), 400, "invalid_order", "grid"),
    ("count-zero", order_body(T, "bid", "0", "0.4000"), 400, "invalid_order_size", "at least 0.01"),
    ("count-negative", order_body(T, "bid", "-3", "0.4000"), 400, "invalid_order_size", "at least 0.01"),
    ("count-fraction", order_body(T, "bid", "0.001", "0.4000"), 400, "invalid_order_size", "decimal places"),
    ("count-number", order_body(T, "bid", 10, "0.4000"), 400, "invalid_parameters", "count string"),  # type: ignore[arg-type]
    ("count-exponent", order_body(T, "bid", "1e3", "0.4000"), 400, "invalid_order_size", "not a plain decimal"),
    ("count-absurd", order_body(T, "bid", "5000000000", "0.4000"), 400, "invalid_order_size", "the most"),
    ("count-too-big", order_body(T, "bid", "2000000", "0.4000"), 400, "invalid_order_size", "1000000"),
    ("side-legacy", order_body(T, "yes", "1", "0.4000"), 400, "invalid_parameters", "'bid', 'ask'"),
    ("tif-unknown", order_body(T, "bid", "1", "0.4000", tif="gtc"), 400, "invalid_parameters", "good_till_canceled"),
    ("stp-unknown", order_body(T, "bid", "1", "0.4000", stp="none"), 400, "invalid_parameters", "taker_at_cross"),
    ("bool-as-text", order_body(T, "bid", "1", "0.4000", post_only="yes"), 400, "invalid_parameters", "true or false"),
    (
        "expiration-text",
        order_body(T, "bid", "1", "0.4000", expiration_time="soon"),
        400,
        "invalid_parameters",
        "integer",
    ),
    (
        "ioc-with-expiration",
        order_body(T, "bid", "1", "0.4000", tif="immediate_or_cancel", expiration_time=int(time.time()) + 3600),
        400,
        "invalid_order",
        "expiration",
    ),
    (
        "expiration-past",
        order_body(T, "bid", "1", "0.4000", expiration_time=int(time.time()) - 60),
        400,
        "invalid_order",
        "future",
    ),
    ("subaccount", order_body(T, "bid", "1", "0.4000", subaccount=3), 400, "invalid_parameters", "subaccount 3"),
    (
        "exchange-index",
        order_body(T, "bid", "1", "0.4000", exchange_index=2),
        400,
        "invalid_parameters",
        "exchange_index",
    ),
    (
        "client-id-long",
        order_body(T, "bid", "1", "0.4000", client_order_id="x" * 300),
        400,
        "invalid_parameters",
        "longer than",
    ),
    (
        "unknown-ticker",
        order_body("KXNOPE-26JAN01-T1", "bid", "1", "0.4000"),
        400,
        "market_not_found",
        "does not exist",
    ),
    ("closed-market", order_body("KXCLOSED-26JAN01-T1", "bid", "1", "0.4000"), 400, "MARKET_INACTIVE", "closed"),
    ("unopened-market", order_body("KXSOON-26JAN01-T1", "bid", "1", "0.4000"), 400, "MARKET_INACTIVE", "initialized"),
    ("insufficient-balance", order_body(T, "bid", "100000", "0.2000"), 400, "insufficient_balance", "available"),
    (
        "reduce-only-flat",
        order_body(T, "ask", "1", "0.5000", tif="immediate_or_cancel", reduce_only=True),
        400,
        "invalid_order",
        "increase position",
    ),
    (
        "reduce-only-resting",
        order_body(T, "ask", "1", "0.5000", reduce_only=True),
        400,
        "invalid_order",
        "reduce_only orders must be immediate_or_cancel",
    ),
    (
        "duplicate-client-id",
        order_body(T, "bid", "1", "0.1000", client_order_id="taken"),
        409,
        "order_already_exists",
        "client_order_id",
    ),
    ("unknown-group", order_body(T, "bid", "1", "0.1000", order_group_id="nope"), 404, "not_found", "order group"),
]


@pytest.mark.parametrize(
    ("body", "status", "code", "needle"), [c[1:] for c in CREATE_CASES], ids=[c[0] for c in CREATE_CASES]
)
async def test_create_rejections_leave_state_unchanged(
    setup: Setup, body: Any, status: int, code: str, needle: str
) -> None:
    before = await state(setup.trader, setup.ticker)
    send = setup.trader.post(ORDERS, data=body) if isinstance(body, bytes) else setup.trader.post(ORDERS, body)
    await _expect(setup, send, status, code, needle, before)


async def test_amend_rejections(setup: Setup) -> None:
    s, oid = setup, setup.resting_id
    before = await state(s.trader, s.ticker)
    good = {"ticker": s.ticker, "side": "bid", "price": "0.4100", "count": "10"}
    url = f"{ORDERS}/{oid}/amend"
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({**good, "colour": 1}, 400, "invalid_parameters", "'colour'"),
        ({k: v for k, v in good.items() if k != "count"}, 400, "missing_parameters", "count"),
        ({**good, "price": "0.4150"}, 400, "invalid_order", "grid"),
        ({**good, "count": "0"}, 400, "invalid_order_size", "at least"),
        ({**good, "ticker": "KXCLOSED-26JAN01-T1"}, 400, "order_ticker_mismatch", "not KXCLOSED"),
        ({**good, "side": "ask"}, 400, "order_side_mismatch", "not ask"),
        ({**good, "client_order_id": "wrong"}, 400, "order_id_and_client_order_id_mismatch", "different"),
        ({**good, "count": "999999"}, 400, "insufficient_balance", "available"),
    ]
    for body, status, code, needle in cases:
        await _expect(s, s.trader.post(url, body), status, code, needle, before)
    await _expect(
        s,
        s.trader.post(f"{ORDERS}/00000000-0000-4000-8000-000000000000/amend", good),
        404,
        "not_found",
        "not found",
        before,
    )
    await _expect(s, s.trader.post(url, data=b"{"), 400, "invalid_parameters", "JSON", before)


async def test_decrease_and_cancel_rejections(setup: Setup) -> None:
    s, oid = setup, setup.resting_id
    before = await state(s.trader, s.ticker)
    url = f"{ORDERS}/{oid}/decrease"
    for body, code, needle in [
        ({}, "missing_parameters", "exactly one"),
        ({"reduce_by": "1", "reduce_to": "2"}, "invalid_parameters", "not both"),
        ({"reduce_by": "0"}, "invalid_order_size", "at least"),
        ({"reduce_to": "-1"}, "invalid_order_size", "zero or more"),
        ({"reduce_by": 1}, "invalid_parameters", "count string"),
        ({"reduce_by": "1", "extra": True}, "invalid_parameters", "'extra'"),
    ]:
        await _expect(s, s.trader.post(url, body), 400, code, needle, before)
    unknown = "00000000-0000-4000-8000-000000000000"
    await _expect(s, s.trader.post(f"{ORDERS}/{unknown}/decrease", {"reduce_by": "1"}), 404, "not_found", "", before)
    await _expect(s, s.trader.delete(f"{ORDERS}/{unknown}"), 404, "not_found", "not found", before)
    await _expect(
        s, s.trader.delete(f"{ORDERS}/{oid}", params={"subaccount": 2}), 400, "invalid_parameters", "subaccount", before
    )


async def test_batch_structural_errors_reject_the_whole_batch(setup: Setup) -> None:
    s = setup
    before = await state(s.trader, s.ticker)
    good = order_body(s.ticker, "bid", "1", "0.1000")
    url = f"{ORDERS}/batched"
    await _expect(
        s,
        s.trader.post(url, {"orders": [good, "not an order"]}),
        400,
        "invalid_parameters",
        "orders[1] must be a JSON object",
        before,
    )
    await _expect(
        s,
        s.trader.post(url, {"orders": [good, {**good, "price": 0.1}]}),
        400,
        "invalid_parameters",
        "orders[1]",
        before,
    )
    await _expect(s, s.trader.post(url, {"orders": []}), 400, "invalid_parameters", "at least one", before)
    await _expect(s, s.trader.post(url, {"orders": good}), 400, "invalid_parameters", "array", before)
    await _expect(
        s, s.trader.post(url, {"orders": [good], "dry_run": True}), 400, "invalid_parameters", "dry_run", before
    )
    await _expect(
        s,
        s.trader.delete(url, {"orders": [{"order_id": s.resting_id}, {}]}),
        400,
        "missing_parameters",
        "order_id",
        before,
    )
    await _expect(s, s.trader.delete(url, {"ids": [s.resting_id]}), 400, "invalid_parameters", "'ids'", before)


async def test_order_group_rejections(setup: Setup) -> None:
    s = setup
    url = "/portfolio/order_groups/create"
    for body, code, needle in [
        ({}, "missing_parameters", "contracts_limit"),
        ({"contracts_limit": 0}, "invalid_parameters", "between 1"),
        ({"contracts_limit": 5, "contracts_limit_fp": "6.00"}, "invalid_parameters", "do not match"),
        ({"contracts_limit_fp": "lots"}, "invalid_parameters", "not a plain decimal"),
        ({"contracts_limit": 5, "colour": "red"}, "invalid_parameters", "'colour'"),
    ]:
        reply = await s.trader.post(url, body)
        assert (reply.status, reply.error_code) == (400, code), reply.body
        assert needle in reply.error_message
    assert (await s.trader.get("/portfolio/order_groups")).body == {}
    reply = await s.trader.put("/portfolio/order_groups/nope/trigger")
    assert (reply.status, reply.error_code) == (404, "not_found")


@pytest.mark.parametrize(
    ("path", "params", "status", "needle"),
    [
        ("/markets", {"limit": "1001"}, 400, "between 0 and 1000"),
        ("/markets", {"limit": "ten"}, 400, "limit"),
        ("/markets", {"status": "active"}, 400, "unopened, open, paused, closed, settled"),
        ("/markets", {"cursor": "bogus"}, 400, "cursor"),
        ("/markets", {"min_close_ts": "1", "status": "open"}, 400, "close timestamp filters"),
        ("/markets", {"min_created_ts": "1", "max_close_ts": "2"}, 400, "mutually exclusive"),
        ("/markets", {"min_updated_ts": "1", "event_ticker": "X"}, 400, "min_updated_ts"),
        ("/markets", {"event_ticker": "A,B"}, 400, "single event"),
        ("/events", {"limit": "201"}, 400, "between 1 and 200"),
        ("/events", {"status": "paused"}, 400, "status"),
        ("/events", {"with_nested_markets": "maybe"}, 400, "true or false"),
        ("/markets/KXTEST-26JAN01-T50/orderbook", {"depth": "101"}, 400, "depth"),
        ("/markets/trades", {"min_ts": "-5"}, 400, "min_ts"),
        ("/markets/KXNOPE-26JAN01-T1", {}, 404, "not found"),
        ("/markets/KXNOPE-26JAN01-T1/orderbook", {}, 404, "not found"),
        ("/events/KXNOPE-26JAN01", {}, 404, "not found"),
        ("/series/KXNOPE", {}, 404, "not found"),
    ],
)
async def test_public_query_errors(setup: Setup, path: str, params: dict[str, str], status: int, needle: str) -> None:
    async with setup.exchange.client() as public:
        reply = await public.get(path, params=params)
    assert reply.status == status, reply.body
    assert needle in reply.error_message, reply.body


@pytest.mark.parametrize(
    ("path", "params", "needle"),
    [
        ("/portfolio/orders", {"status": "open"}, "resting, canceled, executed"),
        ("/portfolio/orders", {"limit": "0"}, "limit"),
        ("/portfolio/orders", {"event_ticker": ",".join(f"E{i}" for i in range(11))}, "at most 10"),
        ("/portfolio/positions", {"count_filter": "volume"}, "count_filter"),
        ("/portfolio/fills", {"min_ts": "20", "max_ts": "10"}, "after max_ts"),
        ("/portfolio/balance", {"subaccount": "5"}, "subaccount 5"),
        ("/portfolio/settlements", {"cursor": "x"}, "cursor"),
    ],
)
async def test_portfolio_query_errors(setup: Setup, path: str, params: dict[str, str], needle: str) -> None:
    before = await state(setup.trader, setup.ticker)
    await _expect(setup, setup.trader.get(path, params=params), 400, "invalid_parameters", needle, before)


async def test_unknown_routes_methods_and_huge_bodies_get_json_errors(setup: Setup) -> None:
    s = setup
    before = await state(s.trader, s.ticker)
    reply = await s.trader.get("/no/such/endpoint", validate=False)
    assert (reply.status, reply.error_code) == (404, "not_found")
    reply = await s.trader.request("PATCH", "/markets", validate=False)
    assert (reply.status, reply.error_code) == (405, "method_not_allowed")
    reply = await s.trader.post(ORDERS, data=b'{"ticker": "' + b"X" * (2 << 20) + b'"}', validate=False)
    assert (reply.status, reply.error_code) == (413, "request_too_large")
    assert await state(s.trader, s.ticker) == before


async def test_state_snapshot_sees_every_kind_of_change(setup: Setup) -> None:
    """Guard for the tests above: ``state`` must notice an accepted order."""
    before = await state(setup.trader, setup.ticker)
    reply = await setup.trader.post(ORDERS, order_body(setup.ticker, "bid", "1", "0.6000", tif="immediate_or_cancel"))
    assert reply.status == 201
    after = await state(setup.trader, setup.ticker)
    assert {k for k in before if before[k] != after[k]} == {"balance", "orders", "positions", "fills", "book"}


async def test_retired_v1_order_writes_point_to_v2(setup: Setup) -> None:
    before = await state(setup.trader, setup.ticker)
    legacy = {"ticker": setup.ticker, "side": "yes", "action": "buy", "count": 1, "type": "limit", "yes_price": 40}
    for method, path, body in (
        ("POST", "/portfolio/orders", legacy),
        ("POST", "/portfolio/orders/batched", {"orders": [legacy]}),
        ("DELETE", f"/portfolio/orders/{setup.resting_id}", None),
        ("POST", f"/portfolio/orders/{setup.resting_id}/decrease", {"reduce_by": 1}),
    ):
        reply = await setup.trader.request(method, path, json=body)
        assert (reply.status, reply.error_code) == (400, "invalid_parameters"), (method, path, reply.body)
        assert "V2" in reply.error_message
    assert await state(setup.trader, setup.ticker) == before
