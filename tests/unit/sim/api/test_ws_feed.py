"""sim/api/ws_feed.py: the WebSocket v2 server side, driven over a real socket with a real engine.

A small aiohttp app on 127.0.0.1:0 hands every connection to ``Feed.serve`` as the user named in
the query string (authentication is the server's job and is tested in tests/integration). Every
frame the client receives is validated against asyncapi.yaml in closed mode and seq-checked by
``tests/support/ws.py``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web
from tests.support.ws import BookReplica, WsClient, bad_commands, of_type
from tests.unit.sim.core.engine_kit import Clock, px, qty

from kalshi_trader.domain import (
    BookSide,
    MarketStatus,
    Money,
    Price,
    Qty,
    SelfTradePrevention,
    TickGrid,
    TimeInForce,
    format_money,
    format_price,
    format_qty,
)
from kalshi_trader.kalshi import schemas as wire
from kalshi_trader.sim.api.ws_feed import Feed, wire_user_id
from kalshi_trader.sim.core.catalog import Catalog, EventInfo, MarketMeta, SeriesInfo
from kalshi_trader.sim.core.matching import MatchingEngine
from kalshi_trader.sim.core.state import MarketState, NewOrder, TickerEvent

A, B, C = "KXTEST-26JAN01-A", "KXTEST-26JAN01-B", "KXTEST-26JAN01-C"
EVENT = "KXTEST-26JAN01"
HOUR = 3_600_000


def _market_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


@dataclass
class Harness:
    clock: Clock
    engine: MatchingEngine
    catalog: Catalog
    feed: Feed
    url: str
    _markets: itertools.count[int]

    async def client(self, user: str = "alice", **kw: Any) -> WsClient:
        return await WsClient.connect(f"{self.url}?user={user}", **kw)

    def add_market(
        self,
        ticker: str,
        event: str = EVENT,
        *,
        structure: str = "linear_cent",
        status: MarketStatus = MarketStatus.ACTIVE,
    ) -> str:
        if event not in {e.event_ticker for e in self.catalog.all_events()}:
            self.catalog.add_event(
                EventInfo(
                    event, "KXTEST", f"Event {event}", "sub", mutually_exclusive=True, collateral_return_type="MECNET"
                )
            )
        now = self.clock()
        self.catalog.add_market(
            MarketMeta(
                ticker=ticker,
                event_ticker=event,
                market_id=_market_id(next(self._markets)),
                title=f"Will {ticker} happen?",
                yes_sub_title="yes",
                no_sub_title="no",
                open_ms=now - HOUR if status is not MarketStatus.INITIALIZED else now + HOUR,
                close_ms=now + 24 * HOUR,
                expected_expiration_ms=now + 25 * HOUR,
                latest_expiration_ms=now + 48 * HOUR,
                created_ms=now - 2 * HOUR,
                strike_type="greater",
                floor_strike=50.0,
            )
        )
        self.engine.add_market(MarketState(ticker, event, TickGrid.named(structure), status=status))
        return ticker

    def place(
        self,
        user: str,
        side: BookSide,
        price: str,
        count: str,
        ticker: str = A,
        *,
        coid: str = "",
        tif: TimeInForce = TimeInForce.GOOD_TILL_CANCELED,
        group: str | None = None,
    ) -> str:
        req = NewOrder(
            ticker=ticker,
            side=side,
            price=px(price),
            count=qty(count),
            time_in_force=tif,
            self_trade_prevention=SelfTradePrevention.TAKER_AT_CROSS,
            client_order_id=coid,
            order_group_id=group,
        )
        return self.engine.place(user, req).order.order_id

    def market_id(self, ticker: str) -> str:
        return self.catalog.market(ticker).market_id


Factory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make() -> AsyncIterator[Factory]:
    """Builds a harness with three active markets (A, B, C) and funded users alice, bob, carol."""
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def build(**feed_kw: Any) -> Harness:
        clock = Clock()
        ids = itertools.count(1)
        engine = MatchingEngine(clock_ms=clock, new_id=lambda: f"00000000-0000-4000-a000-{next(ids):012d}")
        catalog = Catalog()
        catalog.add_series(SeriesInfo("KXTEST", "Test series", "Test", "daily"))
        feed = Feed(engine, catalog, clock_ms=clock, **feed_kw)

        async def handler(request: web.Request) -> web.StreamResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await feed.serve(ws, request.query["user"])
            return ws

        app = web.Application()
        app.router.add_get("/ws", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]

        async def cleanup() -> None:
            await feed.close()
            await runner.cleanup()

        cleanups.append(cleanup)
        h = Harness(clock, engine, catalog, feed, f"ws://127.0.0.1:{port}/ws", itertools.count(1))
        for user in ("alice", "bob", "carol"):
            engine.open_account(user, Money(10_000 * 10_000))
        for ticker in (A, B, C):
            h.add_market(ticker)
        return h

    yield build
    for cleanup in reversed(cleanups):
        await cleanup()


@pytest.fixture
async def h(make: Factory) -> Harness:
    return await make()


def seed_book(h: Harness, ticker: str = A) -> None:
    """bob: YES bids 0.40 x10, 0.42 x5; NO bids 0.50 x7 (YES ask 0.50)."""
    h.place("bob", BookSide.BID, "0.40", "10", ticker)
    h.place("bob", BookSide.BID, "0.42", "5", ticker)
    h.place("bob", BookSide.ASK, "0.50", "7", ticker)


def engine_book(h: Harness, ticker: str) -> dict[str, list[list[str]]]:
    yes, no = h.engine.book(ticker)
    return {
        "yes_dollars": [[format_price(p), format_qty(q)] for p, q in yes],
        "no_dollars": [[format_price(p), format_qty(q)] for p, q in no],
    }


async def subscribe(c: WsClient, channels: Sequence[str], **params: Any) -> list[dict[str, Any]]:
    """Subscribe and return the replies + initial frames up to the last subscribed reply."""
    command_id = await c.send("subscribe", {"channels": list(channels), **params})
    got: list[dict[str, Any]] = []
    for _ in channels:
        got += await c.until(lambda f: f["type"] == "subscribed" and f.get("id") == command_id)
    return got


# -- subscribe / orderbook -------------------------------------------------------------------


async def test_orderbook_subscribe_sends_snapshots_then_deltas_with_contiguous_seq(h: Harness) -> None:
    seed_book(h)
    async with await h.client() as c:
        command_id = await c.send("subscribe", {"channels": ["orderbook_delta"], "market_tickers": [A, B]})
        subscribed = await c.recv()
        assert subscribed == {"id": command_id, "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": 1}}
        snap_a, snap_b = await c.recv(), await c.recv()
        assert (snap_a["seq"], snap_b["seq"]) == (1, 2)
        assert snap_a["msg"] == {
            "market_ticker": A,
            "market_id": h.market_id(A),
            "yes_dollars_fp": [["0.4000", "10.00"], ["0.4200", "5.00"]],
            "no_dollars_fp": [["0.5000", "7.00"]],
        }
        assert snap_b["msg"] == {"market_ticker": B, "market_id": h.market_id(B)}  # both sides empty: keys omitted

        h.clock.advance(5)
        order_id = h.place("alice", BookSide.BID, "0.45", "3", A, coid="mine-1")
        h.engine.cancel("alice", order_id)
        h.place("bob", BookSide.ASK, "0.60", "2", B)
        deltas = [await c.recv() for _ in range(3)]
        assert [d["seq"] for d in deltas] == [3, 4, 5]
        assert deltas[0]["msg"] == {
            "market_ticker": A,
            "market_id": h.market_id(A),
            "price_dollars": "0.4500",
            "delta_fp": "3.00",
            "side": "yes",
            "client_order_id": "mine-1",
            "ts_ms": h.clock.now,
        }
        assert deltas[1]["msg"]["delta_fp"] == "-3.00"
        assert deltas[2]["msg"] == {
            "market_ticker": B,
            "market_id": h.market_id(B),
            "price_dollars": "0.4000",
            "delta_fp": "2.00",
            "side": "no",
            "ts_ms": h.clock.now,
        }


async def test_own_order_attribution_goes_only_to_the_owner(h: Harness) -> None:
    async with await h.client("alice") as alice, await h.client("bob") as bob:
        for c in (alice, bob):
            await subscribe(c, ["orderbook_delta"], market_ticker=A)
            await c.recv()  # snapshot
        h.place("alice", BookSide.BID, "0.30", "1", A, coid="alice-1")
        mine, theirs = await alice.recv(), await bob.recv()
        assert mine["msg"]["client_order_id"] == "alice-1"
        assert "client_order_id" not in theirs["msg"]
        assert {k: v for k, v in mine["msg"].items() if k != "client_order_id"} == theirs["msg"]
        # A fill reduces the maker's level: attributed to the maker (alice), not to the taker (bob).
        h.place("bob", BookSide.ASK, "0.30", "1", A, coid="bob-1", tif=TimeInForce.IMMEDIATE_OR_CANCEL)
        mine, theirs = await alice.recv(), await bob.recv()
        assert (mine["msg"]["delta_fp"], mine["msg"]["client_order_id"]) == ("-1.00", "alice-1")
        assert "client_order_id" not in theirs["msg"]


async def test_use_yes_price_reports_no_levels_in_yes_terms(h: Harness) -> None:
    seed_book(h)
    h.place("bob", BookSide.ASK, "0.55", "4", A)  # NO bid at 0.45
    async with await h.client() as c:
        await subscribe(c, ["orderbook_delta"], market_ticker=A, use_yes_price=True)
        snap = await c.recv()
        assert snap["msg"]["no_dollars_fp"] == [["0.5000", "7.00"], ["0.5500", "4.00"]]
        assert snap["msg"]["yes_dollars_fp"] == [["0.4000", "10.00"], ["0.4200", "5.00"]]
        h.place("bob", BookSide.ASK, "0.70", "1", A)  # NO bid at NO price 0.30
        delta = await c.recv()
        assert (delta["msg"]["side"], delta["msg"]["price_dollars"]) == ("no", "0.7000")


async def test_resubscribing_a_channel_merges_markets_into_the_same_sid(h: Harness) -> None:
    seed_book(h, B)
    async with await h.client() as c:
        await subscribe(c, ["orderbook_delta"], market_ticker=A)
        assert (await c.recv())["msg"]["market_ticker"] == A
        again = await c.send("subscribe", {"channels": ["orderbook_delta"], "market_tickers": [A, B]})
        reply = await c.recv()
        assert reply == {"id": again, "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": 1}}
        snap = await c.recv()
        assert (snap["msg"]["market_ticker"], snap["seq"]) == (B, 2)  # only the new market
        listing = await c.request("list_subscriptions")
        assert listing["msg"] == [{"channel": "orderbook_delta", "sid": 1}]
        same = await c.send("subscribe", {"channels": ["orderbook_delta"], "market_ticker": B})
        assert (await c.recv())["id"] == same
        assert await c.quiet(0.1) == []  # nothing new: no snapshot


async def test_sids_are_per_connection_and_never_reused(h: Harness) -> None:
    async with await h.client() as c:
        first = await subscribe(c, ["ticker", "trade"])
        assert [f["msg"]["sid"] for f in first] == [1, 2]
        await c.request("unsubscribe", {"sids": [1]})
        again = await subscribe(c, ["ticker"])
        assert again[0]["msg"]["sid"] == 3
        async with await h.client() as other:
            assert (await subscribe(other, ["fill"]))[0]["msg"]["sid"] == 1


async def test_list_subscriptions_reply_always_carries_an_id(h: Harness) -> None:
    async with await h.client() as c:
        await subscribe(c, ["ticker", "fill"])
        await c.send_raw('{"cmd": "list_subscriptions"}')
        reply = await c.recv()
        assert reply == {"id": 0, "type": "ok", "msg": [{"channel": "ticker", "sid": 1}, {"channel": "fill", "sid": 2}]}
        await c.send_raw('{"cmd": "subscribe", "params": {"channels": ["trade"]}}')
        assert await c.recv() == {"type": "subscribed", "msg": {"channel": "trade", "sid": 3}}  # no id to echo


# -- update_subscription / unsubscribe --------------------------------------------------------


async def test_add_and_delete_markets(h: Harness) -> None:
    seed_book(h, B)
    async with await h.client() as c:
        await subscribe(c, ["orderbook_delta"], market_ticker=A)
        await c.recv()
        ok = await c.request("update_subscription", {"sid": 1, "action": "add_markets", "market_tickers": [B]})
        assert ok == {"id": ok["id"], "sid": 1, "seq": 1, "type": "ok", "msg": {"market_tickers": [A, B]}}
        snap = await c.recv()
        assert (snap["type"], snap["seq"], snap["msg"]["market_ticker"]) == ("orderbook_snapshot", 2, B)

        ok = await c.request("update_subscription", {"sids": [1], "action": "delete_markets", "market_ticker": A})
        assert (ok["seq"], ok["msg"]) == (2, {"market_tickers": [B]})
        h.place("bob", BookSide.BID, "0.10", "1", A)  # no longer subscribed
        h.place("bob", BookSide.BID, "0.11", "1", B)
        delta = await c.recv()
        assert (delta["msg"]["market_ticker"], delta["seq"]) == (B, 3)


async def test_get_snapshot_sends_fresh_snapshots_without_changing_the_subscription(h: Harness) -> None:
    seed_book(h)
    async with await h.client() as c:
        await subscribe(c, ["orderbook_delta"], market_ticker=A)
        await c.recv()
        ok = await c.request("update_subscription", {"sid": 1, "action": "get_snapshot", "market_tickers": [A, C]})
        assert (ok["seq"], ok["msg"]) == (1, {"market_tickers": [A]})
        snaps = [await c.recv(), await c.recv()]
        assert [(s["msg"]["market_ticker"], s["seq"]) for s in snaps] == [(A, 2), (C, 3)]
        h.place("bob", BookSide.BID, "0.10", "1", C)  # C was only snapshotted, not added
        h.place("bob", BookSide.BID, "0.10", "1", A)
        delta = await c.recv()
        assert (delta["msg"]["market_ticker"], delta["seq"]) == (A, 4)


async def test_skip_ticker_ack_omits_the_market_list(h: Harness) -> None:
    async with await h.client() as c:
        await subscribe(c, ["ticker"], market_ticker=A, skip_ticker_ack=True)
        ok = await c.request("update_subscription", {"sid": 1, "action": "add_markets", "market_tickers": [B]})
        assert ok == {"id": ok["id"], "sid": 1, "type": "ok", "msg": {}}


async def test_ticker_ok_lists_market_ids_too(h: Harness) -> None:
    async with await h.client() as c:
        await subscribe(c, ["ticker"], market_id=h.market_id(A))
        ok = await c.request("update_subscription", {"sid": 1, "action": "add_markets", "market_ids": [h.market_id(B)]})
        assert ok["msg"] == {"market_tickers": [A, B], "market_ids": [h.market_id(A), h.market_id(B)]}


async def test_unsubscribe_reports_sid_and_last_seq_then_stops(h: Harness) -> None:
    async with await h.client() as c:
        await subscribe(c, ["orderbook_delta", "ticker"], market_ticker=A)  # with the snapshot (seq 1)
        h.place("bob", BookSide.BID, "0.20", "1", A)
        frames = await c.until(lambda f: f["type"] == "ticker")
        assert [f["type"] for f in frames] == ["orderbook_delta", "ticker"]
        command_id = await c.send("unsubscribe", {"sids": [1, 2, 1]})
        replies = [await c.recv(), await c.recv()]
        assert replies == [
            {"id": command_id, "sid": 1, "seq": 2, "type": "unsubscribed"},
            {"id": command_id, "sid": 2, "seq": 1, "type": "unsubscribed"},
        ]
        h.place("bob", BookSide.BID, "0.21", "1", A)
        assert await c.quiet(0.1) == []
        assert (await c.request("list_subscriptions"))["msg"] == []


# -- errors ------------------------------------------------------------------------------------


ERRORS = bad_commands(A, B)


@pytest.mark.parametrize(("what", "command", "code"), ERRORS, ids=[e[0] for e in ERRORS])
async def test_bad_commands_get_the_documented_error_and_change_nothing(
    h: Harness, what: str, command: Any, code: int
) -> None:
    async with await h.client() as c:
        await subscribe(c, ["orderbook_delta", "ticker", "market_lifecycle_v2"], market_ticker=A)
        before = (await c.request("list_subscriptions"))["msg"]
        await c.send_raw(command if isinstance(command, str) else msgspec.json.encode(command).decode())
        error = await c.recv()
        assert error["type"] == "error"
        assert error["msg"]["code"] == code, error
        assert error["msg"]["msg"] == wire.WS_ERROR_MESSAGES[wire.WsErrorCode(code)]
        if isinstance(command, dict) and isinstance(command.get("id"), int) and command["id"] > 0:
            assert error["id"] == command["id"]
        else:
            assert "id" not in error
        if what in ("unknown market", "unknown market (update)"):  # the retired code 16's cases
            assert error["msg"]["market_tickers"] == ["NOPE-1"]
        after = await c.request("list_subscriptions")
        assert after["msg"] == before
        ok = await c.request("update_subscription", {"sid": 1, "action": "get_snapshot", "market_tickers": [A]})
        assert ok["msg"] == {"market_tickers": [A]}  # the subscription (and its seq) is intact
        assert (await c.recv())["type"] == "orderbook_snapshot"


async def test_binary_frames_are_read_as_json(h: Harness) -> None:
    async with await h.client() as c:
        await c.send_raw(b'{"id": 4, "cmd": "list_subscriptions"}')
        assert await c.recv() == {"id": 4, "type": "ok", "msg": []}


# -- channels ------------------------------------------------------------------------------------


async def test_ticker_channel(h: Harness) -> None:
    seed_book(h)
    async with await h.client() as c:
        frames = await subscribe(c, ["ticker"], market_tickers=[A, B], send_initial_snapshot=True)
        assert frames[0]["type"] == "subscribed"
        initial = [await c.recv(), await c.recv()]
        assert [f["msg"]["market_ticker"] for f in initial] == [A, B]
        assert initial[0]["msg"] == {
            "market_ticker": A,
            "market_id": h.market_id(A),
            "price_dollars": "0.0000",
            "yes_bid_dollars": "0.4200",
            "yes_ask_dollars": "0.5000",
            "yes_bid_size_fp": "5.00",
            "yes_ask_size_fp": "7.00",
            "last_trade_size_fp": "0.00",
            "volume_fp": "0.00",
            "open_interest_fp": "0.00",
            "dollar_volume": 0,
            "dollar_open_interest": 0,
            "ts": h.clock.now // 1000,
            "ts_ms": h.clock.now,
            "time": initial[0]["msg"]["time"],
        }
        assert initial[1]["msg"]["yes_ask_dollars"] == "1.0000"  # empty book
        h.clock.advance(1_000)
        h.place("alice", BookSide.BID, "0.50", "300", A, tif=TimeInForce.IMMEDIATE_OR_CANCEL)  # takes 7 @ 0.50
        h.place("alice", BookSide.BID, "0.10", "1", C)  # not subscribed
        tick = await c.recv()
        assert tick["msg"]["market_ticker"] == A
        assert {k: tick["msg"][k] for k in ("price_dollars", "yes_ask_dollars", "yes_ask_size_fp")} == {
            "price_dollars": "0.5000",
            "yes_ask_dollars": "1.0000",
            "yes_ask_size_fp": "0.00",
        }
        assert {k: tick["msg"][k] for k in ("last_trade_size_fp", "volume_fp", "open_interest_fp")} == {
            "last_trade_size_fp": "7.00",
            "volume_fp": "7.00",
            "open_interest_fp": "7.00",
        }
        assert (tick["msg"]["dollar_volume"], tick["msg"]["dollar_open_interest"]) == (3, 3)  # 7 × $0.50
        assert tick["msg"]["ts_ms"] == h.clock.now
        assert await c.quiet(0.1) == []


async def test_ticker_without_filter_gets_every_market(h: Harness) -> None:
    async with await h.client() as c:
        await subscribe(c, ["ticker"])
        for ticker in (A, B, C):
            h.place("bob", BookSide.BID, "0.10", "1", ticker)
        assert [(await c.recv())["msg"]["market_ticker"] for _ in range(3)] == [A, B, C]


async def test_trades_are_public_and_fills_private(h: Harness) -> None:
    seed_book(h)
    async with await h.client("alice") as alice, await h.client("carol") as carol:
        await subscribe(alice, ["trade", "fill"])
        await subscribe(carol, ["trade", "fill"], market_ticker=A)
        h.clock.advance(7)
        taker = h.place("alice", BookSide.ASK, "0.42", "2", A, coid="sell-1", tif=TimeInForce.IMMEDIATE_OR_CANCEL)
        trade = await alice.recv()
        assert trade["msg"] == {
            "trade_id": trade["msg"]["trade_id"],
            "market_ticker": A,
            "yes_price_dollars": "0.4200",
            "no_price_dollars": "0.5800",
            "count_fp": "2.00",
            "taker_side": "no",
            "taker_outcome_side": "no",
            "taker_book_side": "ask",
            "is_block_trade": False,
            "ts": h.clock.now // 1000,
            "ts_ms": h.clock.now,
        }
        assert (await carol.recv())["msg"] == trade["msg"]
        fill = await alice.recv()
        assert fill["type"] == "fill"
        fills = h.engine.fills("alice")
        assert fill["msg"] == {
            "trade_id": fills[0].fill_id,
            "order_id": taker,
            "market_ticker": A,
            "exchange_index": 0,
            "is_taker": True,
            "side": "no",
            "action": "buy",
            "purchased_side": "no",
            "outcome_side": "no",
            "book_side": "ask",
            "yes_price_dollars": "0.4200",
            "count_fp": "2.00",
            "fee_cost": fill["msg"]["fee_cost"],
            "post_position_fp": "-2.00",
            "client_order_id": "sell-1",
            "ts": h.clock.now // 1000,
            "ts_ms": h.clock.now,
        }
        assert fill["msg"]["fee_cost"] == format_money(fills[0].fee)
        assert await carol.quiet(0.1) == []  # bob's and alice's fills are not carol's


async def test_user_orders_and_positions_are_private_and_filtered(h: Harness) -> None:
    seed_book(h)
    async with await h.client("alice") as alice, await h.client("bob") as bob:
        await subscribe(alice, ["user_orders", "market_positions"], market_tickers=[A])
        await subscribe(bob, ["user_orders", "market_positions"])
        h.clock.advance(3)
        order_id = h.place("alice", BookSide.BID, "0.50", "3", A, coid="buy-1")  # takes 3 of bob's NO bid
        h.place("alice", BookSide.BID, "0.05", "1", B)  # filtered out for alice
        got = await alice.until(lambda f: f["type"] == "user_order")
        position = next(f for f in got if f["type"] == "market_position")
        order = got[-1]
        assert order["msg"] == {
            "order_id": order_id,
            "user_id": wire_user_id("alice"),
            "ticker": A,
            "exchange_index": 0,
            "status": "executed",
            "side": "yes",
            "is_yes": True,
            "outcome_side": "yes",
            "book_side": "bid",
            "yes_price_dollars": "0.5000",
            "fill_count_fp": "3.00",
            "remaining_count_fp": "0.00",
            "initial_count_fp": "3.00",
            "taker_fill_cost_dollars": "1.500000",
            "maker_fill_cost_dollars": "0.000000",
            "taker_fees_dollars": order["msg"]["taker_fees_dollars"],
            "maker_fees_dollars": "0.000000",
            "client_order_id": "buy-1",
            "self_trade_prevention_type": "taker_at_cross",
            "created_time": order["msg"]["created_time"],
            "created_ts_ms": h.clock.now,
            "last_update_time": order["msg"]["last_update_time"],
            "last_updated_ts_ms": h.clock.now,
            "last_update_reason": "Trade",
            "subaccount_number": 0,
        }
        assert len(order["msg"]["taker_fees_dollars"].split(".")[1]) == 6
        assert position["msg"]["user_id"] == wire_user_id("alice")
        assert (position["msg"]["market_ticker"], position["msg"]["position_fp"]) == (A, "3.00")
        assert await alice.quiet(0.1) == []
        bob_frames = await bob.quiet(0.2)
        assert {f["msg"].get("user_id") for f in bob_frames} == {wire_user_id("bob")}
        assert {f["type"] for f in bob_frames} == {"user_order", "market_position"}


async def test_order_group_updates_are_private_and_sequenced(h: Harness) -> None:
    async with await h.client("alice") as alice, await h.client("bob") as bob:
        await subscribe(alice, ["order_group_updates"])
        await subscribe(bob, ["order_group_updates"])
        group = h.engine.create_group("alice", Qty(500))
        h.engine.set_group_limit("alice", group.group_id, Qty(700))
        h.engine.trigger_group("alice", group.group_id)
        frames = [await alice.recv() for _ in range(3)]
        assert [(f["seq"], f["msg"]["event_type"]) for f in frames] == [
            (1, "created"),
            (2, "limit_updated"),
            (3, "triggered"),
        ]
        assert frames[0]["msg"] == {
            "event_type": "created",
            "order_group_id": group.group_id,
            "contracts_limit_fp": "5.00",
            "ts_ms": h.clock.now,
        }
        assert "contracts_limit_fp" not in frames[2]["msg"]
        assert await bob.quiet(0.1) == []


async def test_market_lifecycle_and_event_lifecycle(h: Harness) -> None:
    async with await h.client() as c:
        await subscribe(c, ["market_lifecycle_v2"], market_ticker=A)  # the filter is ignored
        h.add_market("KXTEST-26JAN02-X", "KXTEST-26JAN02", structure="deci_cent")
        event, created = await c.recv(), await c.recv()
        assert event["type"] == "event_lifecycle"
        assert event["msg"] == {
            "event_ticker": "KXTEST-26JAN02",
            "exchange_index": 0,
            "title": "Event KXTEST-26JAN02",
            "subtitle": "sub",
            "collateral_return_type": "MECNET",
            "series_ticker": "KXTEST",
        }
        assert created["type"] == "market_lifecycle_v2"
        assert created["msg"]["event_type"] == "created"
        assert created["msg"]["price_level_structure"] == "deci_cent"
        assert created["msg"]["price_ranges"] == [{"start": "0.0000", "end": "1.0000", "step": "0.0010"}]
        assert created["msg"]["additional_metadata"]["event_ticker"] == "KXTEST-26JAN02"
        assert created["msg"]["additional_metadata"]["floor_strike"] == 50
        h.add_market("KXTEST-26JAN02-Y", "KXTEST-26JAN02")  # same event: no second event_lifecycle
        assert (await c.recv())["type"] == "market_lifecycle_v2"

        h.engine.set_market_status(B, MarketStatus.INACTIVE)
        h.engine.set_market_status(B, MarketStatus.ACTIVE)
        h.engine.set_market_status(B, MarketStatus.CLOSED)  # early close
        h.engine.determine(B, "yes")
        h.clock.advance(60_000)
        h.engine.settle(B)
        frames = [(await c.recv())["msg"] for _ in range(5)]
        now_s = h.clock.now // 1000
        assert frames == [
            {"event_type": "deactivated", "market_ticker": B, "is_deactivated": True},
            {"event_type": "activated", "market_ticker": B, "is_deactivated": False},
            {"event_type": "close_date_updated", "market_ticker": B, "close_ts": now_s - 60},
            {
                "event_type": "determined",
                "market_ticker": B,
                "result": "yes",
                "determination_ts": now_s - 60,
                "settlement_value": "1.0000",
            },
            {"event_type": "settled", "market_ticker": B, "settled_ts": now_s},
        ]


async def test_trade_and_lifecycle_frames_are_sequenced_per_subscription(h: Harness) -> None:
    """Since Sep 2026 trades and lifecycle messages carry ``seq`` (+1 per frame on the sid, the
    lifecycle sid's ``event_lifecycle`` frames included); ``ok`` reports the last one."""
    seed_book(h)
    async with await h.client() as c:
        await subscribe(c, ["trade", "market_lifecycle_v2"])
        h.place("alice", BookSide.ASK, "0.42", "1", A)  # takes bob's 0.42 bid
        h.place("alice", BookSide.ASK, "0.40", "2", A)  # and two of the 0.40 ones
        h.add_market("KXTEST-26JAN02-X", "KXTEST-26JAN02")
        h.engine.set_market_status(B, MarketStatus.INACTIVE)
        frames = await c.until(lambda f: f.get("msg", {}).get("event_type") == "deactivated")
        sequenced = [(f["type"], f["sid"], f["seq"]) for f in frames]
        assert sequenced == [
            ("trade", 1, 1),
            ("trade", 1, 2),
            ("event_lifecycle", 2, 1),
            ("market_lifecycle_v2", 2, 2),
            ("market_lifecycle_v2", 2, 3),
        ]
        ok = await c.request("update_subscription", {"sid": 1, "action": "add_markets", "market_tickers": [A]})
        assert ok["seq"] == 2


async def test_snapshots_echo_the_command_that_asked_for_them(h: Harness) -> None:
    seed_book(h)
    async with await h.client() as c:
        sub_id = await c.send("subscribe", {"channels": ["orderbook_delta"], "market_ticker": A})
        assert (await c.until(lambda f: f["type"] == "orderbook_snapshot"))[-1]["id"] == sub_id
        snap_id = await c.send("update_subscription", {"sid": 1, "action": "get_snapshot", "market_tickers": [A]})
        ok, snapshot = await c.recv(), await c.recv()
        assert (ok["type"], ok["id"], snapshot["type"], snapshot["id"]) == (
            "ok",
            snap_id,
            "orderbook_snapshot",
            snap_id,
        )
        h.place("bob", BookSide.BID, "0.30", "1", A)
        assert "id" not in await c.recv()  # a delta answers no command
        params = {"sid": 1, "action": "get_snapshot", "market_tickers": [A]}
        await c.send_raw(msgspec.json.encode({"cmd": "update_subscription", "params": params}).decode())
        ok, snapshot = await c.recv(), await c.recv()
        assert "id" not in ok  # the command had no id
        assert "id" not in snapshot


async def test_user_orders_say_why_the_order_changed(h: Harness) -> None:
    """``last_update_reason`` as documented: Trade, Amend, Decrease, ExpiryCancel,
    SettlementBoundsCancel…; none on creation or on a cancel the owner asked for."""
    floor_market = h.add_market("KXTEST-26JAN01-F")
    h.engine.market(floor_market).settlement_floor = Price(0)
    async with await h.client("alice") as c:
        await subscribe(c, ["user_orders"])
        keep = h.place("alice", BookSide.BID, "0.20", "5", A)
        h.engine.decrease("alice", keep, reduce_by=qty("1"))
        h.engine.amend("alice", keep, ticker=A, side=BookSide.BID, price=px("0.21"), count=qty("4"))
        h.engine.cancel("alice", keep)
        expiring = h.engine.place(
            "alice",
            NewOrder(
                ticker=A,
                side=BookSide.BID,
                price=px("0.10"),
                count=qty("1"),
                time_in_force=TimeInForce.GOOD_TILL_CANCELED,
                self_trade_prevention=SelfTradePrevention.TAKER_AT_CROSS,
                expiration_ms=h.clock.now + 1_000,
            ),
        ).order.order_id
        h.clock.advance(1_000)
        h.engine.expire_orders()
        floored = h.place("alice", BookSide.BID, "0.05", "2", floor_market)
        h.engine.set_settlement_floor(floor_market, px("0.05"))
        frames = await c.until(lambda f: f["msg"]["order_id"] == floored and f["msg"]["status"] == "canceled")
        reasons = [(f["msg"]["order_id"], f["msg"]["status"], f["msg"].get("last_update_reason")) for f in frames]
        assert reasons == [
            (keep, "resting", None),
            (keep, "resting", "Decrease"),
            (keep, "resting", "Amend"),
            (keep, "canceled", None),
            (expiring, "resting", None),
            (expiring, "canceled", "ExpiryCancel"),
            (floored, "resting", None),
            (floored, "canceled", "SettlementBoundsCancel"),
        ]


async def test_implicit_open_and_scheduled_close_are_not_announced(h: Harness) -> None:
    pending = h.add_market("KXTEST-26JAN01-D", structure="linear_cent", status=MarketStatus.INITIALIZED)
    async with await h.client() as c:
        await subscribe(c, ["market_lifecycle_v2"])
        h.engine.set_market_status(pending, MarketStatus.ACTIVE)  # scheduled open
        h.clock.advance(24 * HOUR)
        h.engine.set_market_status(A, MarketStatus.CLOSED)  # at close_time
        assert await c.quiet(0.1) == []


async def test_silent_channels_are_accepted(h: Harness) -> None:
    async with await h.client() as c:
        frames = await subscribe(c, ["multivariate_market_lifecycle", "communications"], shard_factor=2, shard_key=1)
        assert [f["msg"]["channel"] for f in frames] == ["multivariate_market_lifecycle", "communications"]


# -- flow control, heartbeat, hooks, lifecycle of the feed -----------------------------------------


async def test_overflow_drops_the_subscription_with_error_25(make: Factory) -> None:
    h = await make(max_queue=5)
    async with await h.client() as c:
        await subscribe(c, ["orderbook_delta", "trade"], market_ticker=A)  # with the snapshot
        for i in range(20):  # synchronously: the writer cannot run in between
            h.place("bob", BookSide.BID, f"0.{10 + i:02d}", "1", A)
        frames = await c.until(lambda f: f["type"] == "error")
        assert [f["seq"] for f in frames[:-1]] == [2, 3, 4, 5, 6]  # what fit, contiguous
        # the error names the subscription and takes its next seq (a sequenced channel)
        assert frames[-1] == {
            "type": "error",
            "sid": 1,
            "seq": 7,
            "msg": {"code": 25, "msg": "Subscription buffer overflow"},
        }
        assert (await c.request("list_subscriptions"))["msg"] == [{"channel": "trade", "sid": 2}]
        await c.request("subscribe", {"channels": ["orderbook_delta"], "market_ticker": A})
        assert (await c.recv())["type"] == "orderbook_snapshot"  # a fresh sid recovers


async def test_overflow_during_initial_snapshots_sends_one_error_and_nothing_after_it(make: Factory) -> None:
    h = await make(max_queue=3)
    extra = [h.add_market(f"KXTEST-26JAN01-{x}") for x in "DEF"]
    async with await h.client() as c:
        await c.send("subscribe", {"channels": ["orderbook_delta"], "market_tickers": [A, B, C, *extra]})
        frames = await c.until(lambda f: f["type"] == "error")
        assert [f["type"] for f in frames] == ["subscribed", "orderbook_snapshot", "orderbook_snapshot", "error"]
        assert frames[-1]["msg"]["code"] == 25
        assert (await c.request("list_subscriptions"))["msg"] == []
        assert of_type("orderbook_snapshot", await c.quiet(0.1)) == []


async def test_delete_markets_needs_a_market_filter(h: Harness) -> None:
    async with await h.client() as c:
        await subscribe(c, ["trade"])
        error = await c.request("update_subscription", {"sid": 1, "action": "delete_markets", "market_ticker": A})
        assert error["msg"]["code"] == 13
        ok = await c.request("update_subscription", {"sid": 1, "action": "add_markets", "market_ticker": A})
        assert ok == {"id": ok["id"], "sid": 1, "type": "ok", "msg": {}}  # already every market


async def test_commands_wait_while_the_queue_is_full_and_all_get_answered(make: Factory) -> None:
    h = await make(max_queue=2)
    async with await h.client() as c:
        for i in range(1, 31):
            await c.send("list_subscriptions", id=i)
        replies = [await c.recv() for _ in range(30)]
        assert [r["id"] for r in replies] == list(range(1, 31))


async def test_server_pings_with_heartbeat_payload_and_answers_pings(make: Factory) -> None:
    h = await make(ping_interval_s=0.05)
    async with await h.client(autoping=False) as c:
        message = await c.recv_control(1.0)
        assert (message.type, message.data) == (aiohttp.WSMsgType.PING, b"heartbeat")
        await c.ws.ping(b"hello")
        while (message := await c.recv_control(1.0)).type is aiohttp.WSMsgType.PING:
            pass
        assert (message.type, message.data) == (aiohttp.WSMsgType.PONG, b"hello")


class _Hook:
    def __init__(self, action: str) -> None:
        self.action = action
        self.seen: list[bytes] = []

    def on_send(self, conn_id: int, user_id: str, frame: bytes) -> Sequence[bytes] | None:
        self.seen.append(frame)
        if self.action == "repeat":
            return (frame, frame)
        if self.action == "drop" and b"orderbook_delta" in frame and b'"type":"orderbook_delta"' in frame:
            return None
        return (frame,)


async def test_frame_hook_sees_every_frame_and_can_repeat_or_drop(h: Harness) -> None:
    hook = _Hook("repeat")
    h.feed.frame_hook = hook
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{h.url}?user=alice") as ws:
        await ws.send_str('{"id": 1, "cmd": "list_subscriptions"}')
        first, second = await ws.receive_str(timeout=2), await ws.receive_str(timeout=2)
        assert first == second
        assert first.startswith('{"type":"ok","id":1,"msg":[],"sending_ts_ms":')  # stamped before the hook
        assert hook.seen == [first.encode()]

    h.feed.frame_hook = _Hook("drop")
    async with await h.client() as c:
        await subscribe(c, ["orderbook_delta"], market_ticker=A)
        await c.recv()
        h.place("bob", BookSide.BID, "0.10", "1", A)
        message = await c.ws.receive(timeout=2)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    for _ in range(50):
        if h.feed.connection_count == 0:
            break
        await asyncio.sleep(0.01)
    assert h.feed.connection_count == 0


async def test_frames_are_byte_identical_to_the_schema_structs(h: Harness) -> None:
    seed_book(h)
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{h.url}?user=alice") as ws:
        await ws.send_json(
            {
                "id": 1,
                "cmd": "subscribe",
                "params": {"channels": ["orderbook_delta", "ticker", "trade"], "market_ticker": A},
            }
        )
        h_frames: list[str] = []
        for _ in range(4):
            h_frames.append(await ws.receive_str(timeout=2))
        h.place("alice", BookSide.BID, "0.50", "1", A, coid="x", tif=TimeInForce.IMMEDIATE_OR_CANCEL)
        for _ in range(3):
            h_frames.append(await ws.receive_str(timeout=2))
    kinds = set()
    for raw in h_frames:
        decoded = wire.SERVER_FRAME_DECODER.decode(raw)
        kinds.add(type(decoded).__name__)
        assert wire.ENCODER.encode(decoded).decode() == raw
    assert {"OrderbookSnapshotFrame", "OrderbookDeltaFrame", "TickerFrame", "TradeFrame"} <= kinds


async def test_a_failing_encoder_ends_the_channel_with_a_channel_error(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await h.client() as c:
        await subscribe(c, ["ticker", "trade"])

        def broken(ticker: str, ts_ms: int) -> bytes:
            raise RuntimeError("boom")

        monkeypatch.setattr(h.feed, "_ticker_body", broken)
        h.feed._on_event(TickerEvent(A, h.clock.now))
        assert await c.recv() == {"type": "error", "sid": 1, "msg": {"code": 10, "msg": "Channel error"}}
        assert (await c.request("list_subscriptions"))["msg"] == [{"channel": "trade", "sid": 2}]


async def test_a_failing_command_is_answered_with_a_channel_error(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    async with await h.client() as c:

        def broken(conn: Any, command_id: int) -> None:
            raise RuntimeError("boom")

        monkeypatch.setattr(h.feed, "_list_subscriptions", broken)
        command_id = await c.send("list_subscriptions")
        assert await c.recv() == {"id": command_id, "type": "error", "msg": {"code": 10, "msg": "Channel error"}}
        assert (await subscribe(c, ["trade"]))[0]["msg"]["sid"] == 1  # the connection lives on


async def test_close_ends_every_connection_and_refuses_new_ones(h: Harness) -> None:
    async with await h.client() as c1, await h.client("bob") as c2:
        await c1.request("list_subscriptions")
        await c2.request("list_subscriptions")
        assert h.feed.connection_count == 2
        await h.feed.close()
        assert h.feed.connection_count == 0
        for c in (c1, c2):
            message = await c.ws.receive(timeout=2)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        h.place("bob", BookSide.BID, "0.10", "1", A)  # events after close are ignored
    async with await h.client() as late:
        message = await late.ws.receive(timeout=2)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_dollar_volume_counts_trades_made_before_anyone_connected(make: Factory) -> None:
    h = await make()
    seed_book(h)
    h.place("alice", BookSide.BID, "0.50", "7", A)  # 7 × $0.50 = $3.50
    h.place("alice", BookSide.ASK, "0.40", "10", A)  # 5 @ 0.42 + 5 @ 0.40 = $4.10
    async with await h.client() as c:
        await subscribe(c, ["ticker"], market_ticker=A, send_initial_snapshot=True)
        tick = await c.recv()
        assert tick["msg"]["dollar_volume"] == 7  # floor($7.60)
        assert tick["msg"]["volume_fp"] == "17.00"


async def test_many_random_operations_rebuild_the_engine_books(h: Harness) -> None:
    """Snapshot + deltas reproduce ``engine.book`` exactly, on both price scales."""
    import random

    rng = random.Random(7)
    async with await h.client() as plain, await h.client("carol") as yes_scale:
        await subscribe(plain, ["orderbook_delta"], market_tickers=[A, B])
        await subscribe(yes_scale, ["orderbook_delta"], market_tickers=[A, B], use_yes_price=True)
        replicas = (BookReplica(), BookReplica(use_yes_price=True))
        live: list[tuple[str, str]] = []
        for _ in range(1500):
            user = rng.choice(("alice", "bob"))
            roll = rng.random()
            if roll < 0.25 and live:
                owner, order_id = live.pop(rng.randrange(len(live)))
                if h.engine.order(owner, order_id).status == "resting":
                    h.engine.cancel(owner, order_id)
            else:
                side = rng.choice((BookSide.BID, BookSide.ASK))
                price = f"0.{rng.randint(30, 70):02d}"
                tif = TimeInForce.IMMEDIATE_OR_CANCEL if roll > 0.9 else TimeInForce.GOOD_TILL_CANCELED
                order_id = h.place(user, side, price, f"{rng.randint(1, 20)}.{rng.choice(('00', '50'))}",
                                   rng.choice((A, B)), tif=tif)  # fmt: skip
                live.append((user, order_id))
            if rng.random() < 0.05:
                await asyncio.sleep(0)  # let the writers run now and then
        for client, replica in zip((plain, yes_scale), replicas, strict=True):
            await client.request("list_subscriptions")  # everything before it has arrived
            for frame in client.frames:
                if frame["type"] in ("orderbook_snapshot", "orderbook_delta"):
                    replica.apply(frame)
            for ticker in (A, B):
                assert replica.orderbook_fp(ticker) == engine_book(h, ticker)
        assert len(of_type("orderbook_delta", plain.frames)) > 1000
