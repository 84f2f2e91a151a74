"""Small helpers for order-entry tests against a Kalshi-compatible server.

Contract: ``order_body`` builds a V2 create body (strings for price/count, as the wire wants);
``state`` captures everything a rejected request must leave unchanged for one account and one
market (balance without its timestamp, every order, positions, fills, and the market's book);
``taker_fee_cents`` is the documented quadratic fee for whole-cent prices and whole contracts
(``ceil(0.07 × C × P × (1 − P))`` to the cent), written independently of the exchange's code.
"""

from __future__ import annotations

from typing import Any

from tests.support.http import SignedClient

ORDERS = "/portfolio/events/orders"


def order_body(
    ticker: str,
    side: str,
    count: str,
    price: str,
    *,
    tif: str = "good_till_canceled",
    stp: str = "taker_at_cross",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "ticker": ticker,
        "side": side,
        "count": count,
        "price": price,
        "time_in_force": tif,
        "self_trade_prevention_type": stp,
        **extra,
    }


async def state(client: SignedClient, ticker: str) -> dict[str, Any]:
    balance = (await client.get("/portfolio/balance")).body
    balance.pop("updated_ts")
    return {
        "balance": balance,
        "orders": (await client.get("/portfolio/orders", params={"limit": 1000})).body,
        "positions": (await client.get("/portfolio/positions")).body,
        "fills": (await client.get("/portfolio/fills")).body,
        "book": (await client.get(f"/markets/{ticker}/orderbook")).body,
    }


async def balance_cents(client: SignedClient) -> int:
    body = (await client.get("/portfolio/balance")).body
    assert isinstance(body["balance"], int)
    return body["balance"]


def taker_fee_cents(contracts: int, price_cents: int, coefficient_per_10000: int = 700) -> int:
    """ceil(coefficient × C × P × (1 − P)) in cents; coefficient 0.07 = 700/10000."""
    numerator = coefficient_per_10000 * contracts * price_cents * (100 - price_cents)
    return -(-numerator // 1_000_000)
