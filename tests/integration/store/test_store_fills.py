"""Fills: exact integers, de-duplication by fill id under replay and concurrent writers."""

from __future__ import annotations

import asyncio

from tests.integration.store.kit import T0, fill

from kalshi_trader.domain import BookSide, Money, Price, Qty
from kalshi_trader.store import Store


async def test_same_fill_twice_is_one_row(store: Store) -> None:
    f = fill(1)
    assert await store.record_fill(f) is True
    assert await store.record_fill(f) is False
    assert await store.fills() == [f]


async def test_replaying_a_batch_records_only_the_new_fills(store: Store) -> None:
    first = [fill(n) for n in range(1, 6)]
    assert await store.record_fills(first) == [f.fill_id for f in first]
    replay = [*first, fill(6), fill(6), fill(7)]  # the exchange's page, with a duplicate inside it
    assert sorted(await store.record_fills(replay)) == ["fill-6", "fill-7"]
    assert await store.record_fills(replay) == []
    assert [f.fill_id for f in await store.fills()] == [f"fill-{n}" for n in range(1, 8)]


async def test_concurrent_writers_never_double_count(db_url: str) -> None:
    """Two stores (two connection pools, as two processes would have) and several tasks each
    record the same 60 fills at once: every fill is stored once and reported new exactly once."""
    fills = [fill(n) for n in range(60)]
    a, b = await Store.open(db_url), await Store.open(db_url)
    try:

        async def writer(store: Store, shift: int) -> list[str]:
            new: list[str] = []
            order = fills[shift:] + fills[:shift]
            for i in range(0, len(order), 7):
                new += await store.record_fills(order[i : i + 7])
            for f in order[::5]:
                new += [f.fill_id] if await store.record_fill(f) else []
            return new

        results = await asyncio.gather(*(writer(s, shift) for s in (a, b) for shift in (0, 17, 31)))
        reported = [fid for r in results for fid in r]
        assert sorted(reported) == sorted(f.fill_id for f in fills)
        assert sorted(await a.fills(), key=lambda f: f.fill_id) == sorted(fills, key=lambda f: f.fill_id)
    finally:
        await a.close()
        await b.close()


async def test_money_prices_and_counts_round_trip_as_exact_ints(store: Store) -> None:
    extremes = [
        fill(1, price=Price(1), qty=Qty(1), fee=Money(0), post_position=Qty(-1)),
        fill(2, price=Price(9999), qty=Qty(99_999_999_999_99), fee=Money(999_999_999_999_999_999), post_position=None),
        fill(3, side=BookSide.ASK, price=Price(10_000), qty=Qty(-250), fee=Money(-7)),
    ]
    await store.record_fills(extremes)
    back = await store.fills()
    assert back == extremes
    for f in back:
        for value in (f.price, f.qty, f.fee, f.ts_ms):
            assert type(value) is int
        assert f.post_position is None or type(f.post_position) is int


async def test_fills_since_is_inclusive_and_ordered_by_exchange_time(store: Store) -> None:
    assert await store.last_fill_ts() is None
    await store.record_fills([fill(3), fill(1), fill(2), fill(4, ticker="OTHER")])
    assert [f.fill_id for f in await store.fills(since_ms=T0 + 2000)] == ["fill-2", "fill-3", "fill-4"]
    assert [f.fill_id for f in await store.fills(ticker="OTHER")] == ["fill-4"]
    assert [f.fill_id for f in await store.fills(order_id="ord-1", since_ms=T0 + 3000)] == ["fill-3", "fill-4"]
    assert await store.last_fill_ts() == T0 + 4000
