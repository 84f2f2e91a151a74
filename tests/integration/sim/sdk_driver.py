"""Drive an exchange through Kalshi's official Python SDK (``kalshi-python-async``), the way a user
of that SDK would, and report what it saw as one JSON object on stdout.

Run by ``test_official_sdk.py`` with a Python 3.13 that has the SDK installed (this file is not a
test and does not import the project):

    python sdk_driver.py REST_URL KEY_ID PRIVATE_KEY_FILE MARKET_TICKER

Every call goes through the SDK's typed models, so a response the SDK cannot read (a required
field missing, a wrong type, an unknown enum value) fails here exactly as it would for a user; each
step's outcome is reported under its name (``"ok"`` values, or ``{"error": "..."}``) and the script
carries on with the next step.
"""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import kalshi_python_async as k  # type: ignore[import-not-found]


async def main(rest_url: str, key_id: str, private_key_pem: str, ticker: str) -> dict[str, Any]:
    config = k.Configuration(host=rest_url)  # as the SDK's README says
    config.api_key_id = key_id
    config.private_key_pem = private_key_pem
    client = k.KalshiClient(config)
    markets, events, orders, portfolio = (
        k.MarketApi(client),
        k.EventsApi(client),
        k.OrdersApi(client),
        k.PortfolioApi(client),
    )
    report: dict[str, Any] = {}

    async def step(name: str, call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            value = await call()
        except Exception as exc:  # what a user of the SDK would see
            report[name] = {"error": f"{type(exc).__name__}: {exc}"[:2000], "trace": traceback.format_exc()[-2000:]}
            return None
        report[name] = "ok"
        return value

    listed = await step("get_markets", lambda: markets.get_markets(limit=50, status="open"))
    if listed is not None:
        report["markets_seen"] = len(listed.markets)
        report["bounds_types"] = sorted({m.settlement_bounds_type for m in listed.markets})
    one = await step("get_market", lambda: markets.get_market(ticker))
    if one is not None:
        report["market"] = {"ticker": one.market.ticker, "bounds": one.market.settlement_bounds_type}
    series = await step("get_series_list", lambda: markets.get_series_list())
    if series is not None:
        report["series_categories"] = {s.ticker: s.categories for s in series.series}
    await step("get_series", lambda: markets.get_series(ticker.split("-")[0]))
    nested = await step(
        "get_events_nested", lambda: events.get_events(with_nested_markets=True, status="open", limit=20)
    )
    if nested is not None:
        report["nested_markets"] = sum(len(e.markets or []) for e in nested.events)
    event_ticker = ticker.rsplit("-", 1)[0]
    await step("get_event_nested", lambda: events.get_event(event_ticker, with_nested_markets=True))
    book = await step("get_market_orderbook", lambda: markets.get_market_orderbook(ticker))
    if book is not None:
        report["book_yes_levels"] = len(book.orderbook_fp.yes_dollars)
    await step("get_market_orderbooks", lambda: markets.get_market_orderbooks(tickers=[ticker]))
    await step("get_trades", lambda: markets.get_trades(ticker=ticker, limit=10))
    balance = await step("get_balance", lambda: portfolio.get_balance())
    if balance is not None:
        report["balance_cents"] = balance.balance

    def place(price: str, count: str, tif: str = "good_till_canceled") -> Callable[[], Awaitable[Any]]:
        return lambda: orders.create_order_v2(
            ticker=ticker,
            side="bid",
            count=count,
            price=price,
            time_in_force=tif,
            self_trade_prevention_type="taker_at_cross",
            client_order_id=str(uuid.uuid4()),
        )

    created = await step("create_order_v2", place("0.0300", "2.00"))
    if created is not None:
        order_id = created.order_id
        amended = await step(
            "amend_order_v2",
            lambda: orders.amend_order_v2(order_id, ticker=ticker, side="bid", price="0.0400", count="3.00"),
        )
        if amended is not None:
            report["amended_remaining"] = amended.remaining_count
        got = await step("get_order", lambda: orders.get_order(order_id))
        if got is not None:
            report["order_price"] = got.order.yes_price_dollars
        await step("get_orders", lambda: orders.get_orders(ticker=ticker, status="resting"))
        canceled = await step("cancel_order_v2", lambda: orders.cancel_order_v2(order_id, market_ticker=ticker))
        if canceled is not None:
            report["canceled_by"] = canceled.reduced_by
    # An IOC buy that trades, so that positions and fills have something to show.
    taken = await step("create_order_v2_ioc", place("0.9900", "1.00", "immediate_or_cancel"))
    if taken is not None:
        report["ioc_filled"] = taken.fill_count
    positions = await step("get_positions", lambda: portfolio.get_positions(settlement_status="all"))
    if positions is not None:
        report["positions"] = [p.ticker for p in positions.market_positions]
    fills = await step("get_fills", lambda: portfolio.get_fills(ticker=f"{ticker},{ticker}X"))
    if fills is not None:
        report["fills"] = [(f.ticker, f.outcome_side) for f in fills.fills]
    await step("get_settlements", lambda: portfolio.get_settlements(limit=5))
    rest_again = await step("create_order_v2_for_cancel_all", place("0.0200", "1.00"))
    if rest_again is not None:
        await step("cancel_all_orders", lambda: orders.cancel_all_orders())
        after = await step("get_orders_after_cancel_all", lambda: orders.get_orders(ticker=ticker, status="resting"))
        if after is not None:
            report["resting_after_cancel_all"] = len(after.orders)
    await client.close()
    return report


if __name__ == "__main__":
    url, key_id, key_file, market = sys.argv[1:5]
    result = asyncio.run(main(url, key_id, Path(key_file).read_text(), market))
    print(json.dumps(result))
