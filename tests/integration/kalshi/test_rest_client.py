"""``KalshiRest`` against the embedded exchange over a real socket: every method round-trips, list
iterators walk every page, and ``convert`` turns each reply into the exchange's own numbers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.support.exchange import RunningExchange, running_exchange

from kalshi_trader.domain import BookSide, MarketStatus, OrderStatus, Price, Qty, TimeInForce
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.kalshi.errors import BadRequestError, NotFoundError, PermissionDeniedError
from kalshi_trader.kalshi.rest import KalshiRest
from kalshi_trader.sim.api.ratelimit import TIERS, Bucket

TICKER = "KXRESTCLI-26JAN01-T50"


@pytest.fixture
async def rest(exchange: RunningExchange) -> AsyncIterator[KalshiRest]:
    signer = Signer(exchange.trader.key_id, exchange.trader.private_key)
    async with KalshiRest(exchange.rest_url, signer, tier="prestige") as client:
        yield client


@pytest.fixture
async def maker(exchange: RunningExchange) -> AsyncIterator[KalshiRest]:
    signer = Signer(exchange.liquidity.key_id, exchange.liquidity.private_key)
    async with KalshiRest(exchange.rest_url, signer, tier="prestige") as client:
        yield client


def bid(ticker: str, cents: int, contracts: int) -> w.CreateOrderV2Request:
    return convert.create_request(ticker, BookSide.BID, Price(cents * 100), Qty(contracts * 100))


async def test_exchange_series_and_events(exchange: RunningExchange, rest: KalshiRest) -> None:
    status = await rest.get_exchange_status()
    assert status.exchange_active
    assert status.trading_active
    probe = await rest.probe()
    assert probe.status.exchange_active
    assert probe.skew_ms is not None
    assert -1_000 - probe.rtt_ms <= probe.skew_ms <= probe.rtt_ms  # same machine: only the Date rounding
    schedule = await rest.get_exchange_schedule()
    assert schedule.standard_hours
    series = await rest.get_series_list()
    tickers = [s.ticker for s in series.series]
    assert tickers == [s.ticker for s in exchange.exchange.catalog.all_series()]
    one = await rest.get_series(tickers[0])
    assert one.ticker == tickers[0]
    events = [e.event_ticker for e in (await rest.get_events(limit=200)).events]
    assert events == [e.event_ticker for e in exchange.exchange.catalog.all_events()]
    walked = [e.event_ticker async for e in rest.iter_events(page_size=2)]
    assert walked == events  # every page, in order, no repeats
    event = await rest.get_event(events[0], with_nested_markets=True)
    assert event.event.event_ticker == events[0]
    assert [m.ticker for m in event.event.markets] == list(exchange.exchange.catalog.event_market_tickers(events[0]))
    with pytest.raises(NotFoundError) as info:
        await rest.get_event("KXNOPE-00JAN00")
    assert info.value.status == 404
    assert info.value.code == "not_found"


async def test_markets_pages_and_conversion(exchange: RunningExchange, rest: KalshiRest) -> None:
    everything = (await rest.get_markets(limit=1000)).markets
    assert len(everything) == len(exchange.exchange.engine.markets()) > 5
    walked = [m.ticker async for m in rest.iter_markets(page_size=4)]
    assert walked == [m.ticker for m in everything]
    opened = [m.ticker async for m in rest.iter_markets(page_size=3, status="open")]
    engine = exchange.exchange.engine
    assert opened == [m.ticker for m in everything if engine.market(m.ticker).status is MarketStatus.ACTIVE]
    for wire_market in everything:
        info = convert.market_info(wire_market)
        state = engine.market(wire_market.ticker)
        assert info.status is state.status
        assert info.grid == state.grid
        assert info.series_ticker == exchange.exchange.catalog.event(info.event_ticker).series_ticker
    ticker = opened[0]
    single = await rest.get_market(ticker)
    assert single.ticker == ticker
    quote = convert.market_quote(single)
    yes_bid, _, no_bid, _ = engine.top(ticker)
    assert quote.yes_bid == (yes_bid or 0)
    assert quote.yes_ask == (10_000 - no_bid if no_bid is not None else 10_000)
    yes, no = convert.orderbook(await rest.get_orderbook(ticker), ticker)
    assert (yes, no) == engine.book(ticker)
    top_yes, _ = convert.orderbook(await rest.get_orderbook(ticker, depth=1))
    assert top_yes == yes[-1:]


async def test_order_entry_lifecycle(exchange: RunningExchange, rest: KalshiRest) -> None:
    ticker = exchange.add_market(TICKER)
    req = convert.create_request(ticker, BookSide.BID, Price(4000), Qty(1000))
    ack = await rest.create_order(req)
    order = convert.order_from_ack(req, ack)
    assert order.status is OrderStatus.RESTING
    assert order.remaining == 1000
    assert ack.client_order_id == req.client_order_id
    read = convert.order(await rest.get_order(ack.order_id))
    assert (read.order_id, read.price, read.remaining, read.side) == (ack.order_id, 4000, 1000, BookSide.BID)

    # A create without a client_order_id still gets one (a UUID4).
    bare = convert.create_request(ticker, BookSide.BID, Price(3900), Qty(500))
    bare.client_order_id = w.UNSET
    second = await rest.create_order(bare)
    assert isinstance(second.client_order_id, str)
    assert len(second.client_order_id) == 36
    assert (await rest.get_order(second.order_id)).client_order_id == second.client_order_id

    amended = await rest.amend_order(ack.order_id, convert.amend_request(ticker, BookSide.BID, Price(4100), Qty(800)))
    assert amended.order_id == ack.order_id
    assert convert.order(await rest.get_order(ack.order_id)).price == 4100
    decreased = await rest.decrease_order(ack.order_id, reduce_by=Qty(300))
    assert decreased.remaining_count == "5.00"
    assert (await rest.decrease_order(second.order_id, reduce_to=Qty(200))).remaining_count == "2.00"
    with pytest.raises(ValueError, match="exactly one"):
        await rest.decrease_order(second.order_id, reduce_by=Qty(100), reduce_to=Qty(100))
    queue = await rest.get_queue_position(ack.order_id)
    assert queue.queue_position_fp == "0.00"
    positions = await rest.get_queue_positions(market_tickers=[ticker])
    assert {q.order_id for q in positions.queue_positions} == {ack.order_id, second.order_id}
    canceled = await rest.cancel_order(ack.order_id)
    assert canceled.reduced_by == "5.00"
    with pytest.raises(NotFoundError):
        await rest.cancel_order(ack.order_id)
    assert convert.order(await rest.get_order(ack.order_id)).status is OrderStatus.CANCELED

    batch = await rest.batch_create_orders([bid(ticker, 30 + i, 1) for i in range(5)])
    assert all(item.error is None for item in batch.orders)
    ids = [item.order_id for item in batch.orders if isinstance(item.order_id, str)]
    assert len(ids) == 5
    listed = [o async for o in rest.iter_orders(page_size=2, ticker=ticker)]
    assert len(listed) == 7
    assert {o.order_id for o in listed} >= set(ids)
    resting = [o.order_id async for o in rest.iter_orders(page_size=2, ticker=ticker, status="resting")]
    assert len(resting) == 6
    cancel = await rest.batch_cancel_orders([*ids, ack.order_id])
    assert [r.error is None for r in cancel.orders] == [True] * 5 + [False]
    refused = cancel.orders[-1].error
    assert refused is not None
    assert refused.code == "not_found"
    with pytest.raises(BadRequestError) as bad:
        await rest.create_order(convert.create_request(ticker, BookSide.BID, Price(4050), Qty(100)))
    assert bad.value.status == 400
    assert bad.value.code  # off the linear_cent grid: Kalshi's code and message are carried
    assert bad.value.message


async def test_fills_positions_trades_settlements(
    exchange: RunningExchange, rest: KalshiRest, maker: KalshiRest
) -> None:
    ticker = exchange.add_market(TICKER)
    for cents in (60, 61, 62):
        await maker.create_order(convert.create_request(ticker, BookSide.ASK, Price(cents * 100), Qty(300)))
    taken = await rest.create_order(
        convert.create_request(
            ticker, BookSide.BID, Price(6200), Qty(700), time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL
        )
    )
    assert taken.fill_count == "7.00"
    fills = [convert.fill(f) async for f in rest.iter_fills(page_size=1, ticker=ticker)]
    assert sum(f.qty for f in fills) == 700
    assert len({f.fill_id for f in fills}) == len(fills) == 3
    assert all(f.is_taker and f.side is BookSide.BID and f.order_id == taken.order_id for f in fills)
    engine_fills = exchange.exchange.engine.fills(exchange.trader.user_id)
    assert sorted(f.fill_id for f in fills) == sorted(f.fill_id for f in engine_fills)
    trades = [t async for t in rest.iter_trades(page_size=2, ticker=ticker)]
    assert len(trades) == 3
    positions = [convert.position(p) async for p in rest.iter_positions(page_size=1)]
    mine = {p.ticker: p for p in positions}
    assert mine[ticker].qty == 700
    state = exchange.exchange.engine.account(exchange.trader.user_id).positions[ticker]
    assert mine[ticker].fees_paid == state.fees_paid
    balance = await rest.get_balance()
    assert convert.balance(balance) == exchange.exchange.engine.account(exchange.trader.user_id).cash

    exchange.exchange.engine.determine(ticker, "yes")
    exchange.exchange.engine.settle(ticker)
    settlements = [s async for s in rest.iter_settlements(page_size=1)]
    assert [s.ticker for s in settlements] == [ticker]
    assert settlements[0].revenue == 700  # cents: 7 contracts × $1
    assert ticker not in [p.ticker async for p in rest.iter_positions()]


async def test_order_groups(exchange: RunningExchange, rest: KalshiRest) -> None:
    ticker = exchange.add_market(TICKER)
    created = await rest.create_order_group(Qty(500))
    group_id = created.order_group_id
    await rest.create_order(
        convert.create_request(ticker, BookSide.BID, Price(2000), Qty(100), order_group_id=group_id)
    )
    groups = await rest.get_order_groups()
    assert [g.id for g in groups.order_groups] == [group_id]
    assert groups.order_groups[0].contracts_limit_fp == "5.00"
    group = await rest.get_order_group(group_id)
    assert len(group.orders) == 1
    await rest.set_order_group_limit(group_id, Qty(900))
    assert (await rest.get_order_group(group_id)).contracts_limit_fp == "9.00"
    await rest.trigger_order_group(group_id)
    assert (await rest.get_order_group(group_id)).orders == []
    with pytest.raises(BadRequestError):
        await rest.create_order(
            convert.create_request(ticker, BookSide.BID, Price(2000), Qty(100), order_group_id=group_id)
        )
    await rest.reset_order_group(group_id)
    await rest.create_order(
        convert.create_request(ticker, BookSide.BID, Price(2000), Qty(100), order_group_id=group_id)
    )
    await rest.delete_order_group(group_id)
    with pytest.raises(NotFoundError):
        await rest.get_order_group(group_id)
    assert [o.status async for o in rest.iter_orders(ticker=ticker, status="resting")] == []


class _StillClock:
    """The exchange's rate-limit clock, standing still: every token spent stays spent."""

    ns = 10**12

    def __call__(self) -> int:
        return self.ns


async def test_order_writes_route_by_market_ticker_and_are_billed_to_every_shard() -> None:
    """Creates, amends, cancels and decreases name their market, so Kalshi auto-routes them (an
    order id alone cannot find the shard) and bills every shard's write bucket; batches and
    cancel-all bill the unscoped bucket alone. Read back from the exchange's own buckets."""
    async with running_exchange(tier=TIERS["premier"], rate_clock_ns=_StillClock()) as rx:
        ticker = rx.add_market(TICKER)
        limiter = rx.exchange.limiter
        assert limiter is not None
        key = rx.trader.key_id

        def write_tokens() -> list[int]:
            return [limiter.available(key, Bucket.WRITE, shard) for shard in range(4)]

        async with KalshiRest(rx.rest_url, Signer(key, rx.trader.private_key), tier="premier") as rest:
            assert write_tokens() == [3_600] * 4
            ack = await rest.create_order(bid(ticker, 40, 10))  # 10 everywhere
            await rest.amend_order(ack.order_id, convert.amend_request(ticker, BookSide.BID, Price(4100), Qty(800)))
            await rest.decrease_order(ack.order_id, reduce_by=Qty(100), market_ticker=ticker)  # 10 everywhere
            canceled = await rest.cancel_order(ack.order_id, market_ticker=ticker)  # 2 everywhere
            assert canceled.reduced_by == "7.00"
            assert write_tokens() == [3_568] * 4
            batch = await rest.batch_create_orders([bid(ticker, 30 + i, 1) for i in range(3)])  # 30, unscoped
            ids = [item.order_id for item in batch.orders if isinstance(item.order_id, str)]
            await rest.batch_cancel_orders(ids[:1], market_tickers={ids[0]: ticker})  # 2, unscoped
            await rest.cancel_all()  # one cancel: 2, unscoped
            assert write_tokens() == [3_534, 3_568, 3_568, 3_568]
            left = [o async for o in rest.iter_orders(ticker=ticker, status="resting")]
            assert left == []


async def test_403_is_typed_and_never_retried(exchange: RunningExchange, rest: KalshiRest) -> None:
    ticker = exchange.add_market(TICKER)
    faults = exchange.exchange.faults
    faults.arm("http_403", method="POST", path="/trade-api/v2/portfolio/events/orders", count=3)
    with pytest.raises(PermissionDeniedError) as info:
        await rest.create_order(bid(ticker, 40, 1))
    assert (info.value.status, info.value.code) == (403, "forbidden")
    assert faults.injected["http_403"] == 1  # one attempt: the answer would not change
    assert [o async for o in rest.iter_orders(ticker=ticker)] == []


@pytest.mark.parametrize("tier", ["basic", "premier", "prestige"])
async def test_account_limits_and_costs_are_the_shared_table(tier: str) -> None:
    async with running_exchange(tier=TIERS[tier]) as rx:
        async with KalshiRest(rx.rest_url, Signer(rx.trader.key_id, rx.trader.private_key), tier=tier) as rest:
            limits = await rest.get_account_limits()
            assert limits.usage_tier == tier
            assert (limits.read.refill_rate, limits.read.bucket_capacity) == (
                TIERS[tier].read_rate,
                TIERS[tier].read_capacity,
            )
            assert (limits.write.refill_rate, limits.write.bucket_capacity) == (
                rest.limiter.tier.write_rate,
                rest.limiter.tier.write_capacity,
            )
            assert [(g.exchange_instance, g.level) for g in limits.grants] == [("event_contract", tier)]
            costs = await rest.get_endpoint_costs()
            assert costs.default_cost == 10
            listed = {(c.method, c.path): c.cost for c in costs.endpoint_costs}
            assert listed[("DELETE", "/trade-api/v2/portfolio/events/orders/{order_id}")] == 2
            assert listed[("DELETE", "/trade-api/v2/portfolio/events/orders")] == 2
            assert all(cost != 10 for cost in listed.values())
        async with rx.client(rx.trader) as signed:  # both bodies validate against openapi.yaml
            assert (await signed.get("/account/limits")).status == 200
            assert (await signed.get("/account/endpoint_costs")).status == 200
        async with rx.client() as public:
            assert (await public.get("/account/limits")).status == 401
