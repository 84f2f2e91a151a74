"""A trading process that is SIGKILLed mid-trading (run by test_crash_restart.py).

Usage: python -m tests.integration.execution.crash_child REST_URL WS_URL KEY_ID KEY_FILE DB_URL A B

It starts a node (``kit.trading_node``: client, feed, risk, store, engine) against an exchange that
runs in the parent process, places a bracket in market A (its entry fills against the parent's
liquidity; its take-profit rests), then trades market B in rounds without waiting for answers:
each round rests a bid, buys one contract with an IOC bid (a fill), and amends or cancels an older
bid. After each round it prints ``ROUND n``; the parent kills it with SIGKILL whenever it likes —
with creates queued, in flight and answered, and records queued but not yet written."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from tests.integration.execution.kit import trading_node
from tests.support.exchange import Credentials

from kalshi_trader.domain import BookSide, OrderIntent, Price, TimeInForce
from kalshi_trader.execution.brackets import BracketSpec
from kalshi_trader.kalshi.auth import load_private_key


@dataclass(frozen=True)
class Venue:
    rest_url: str
    ws_url: str
    trader: Credentials


async def main(rest_url: str, ws_url: str, key_id: str, key_file: str, db_url: str, a: str, b: str) -> None:
    trader = Credentials("trader", key_id, load_private_key(key_file, check_permissions=False))
    async with trading_node(Venue(rest_url, ws_url, trader), db_url, [a, b]) as node:
        engine = node.engine
        entry = OrderIntent.place(a, BookSide.BID, 5000, 500, "crash-entry", strategy="fav")
        engine.place_bracket(BracketSpec(entry, Price(7000), Price(3000)))
        print("STARTED", flush=True)
        n = 0
        while True:
            n += 1
            engine.submit(OrderIntent.place(b, BookSide.BID, 2000 + 10 * (n % 50), 200, f"rest-{n}", strategy="mm"))
            engine.submit(
                OrderIntent.place(
                    b, BookSide.BID, 6000, 100, f"take-{n}", tif=TimeInForce.IMMEDIATE_OR_CANCEL, strategy="mm"
                )
            )
            if n > 2 and n % 2:
                engine.cancel(f"rest-{n - 2}", reason="churn")
            elif n > 2:
                engine.amend(f"rest-{n - 2}", price=1500 + 10 * (n % 50), remaining=100, reason="churn")
            print(f"ROUND {n}", flush=True)
            await asyncio.sleep(0.01)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:8]))
