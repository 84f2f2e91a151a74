"""Candlesticks computed from the exchange's own record: periods, sparseness, OHLC, mean, previous,
open interest and the projected candle before the range."""

from __future__ import annotations

import pytest

from kalshi_trader.domain import BookSide, Candle, Ohlc, Price, Qty
from kalshi_trader.sim.api.candles import QuoteBar, candles, historical, live, period_count, period_end
from kalshi_trader.sim.core.state import Trade

T0 = 1_779_998_400  # a multiple of 60 and of 3600 (Unix seconds)
assert T0 % 3600 == 0


def trade(ts_s: float, price: int, contracts: int) -> Trade:
    return Trade(f"t{ts_s}", "KXT", Price(price), Qty(contracts * 100), BookSide.BID, int(ts_s * 1000))


def bar(end_s: int, bid: tuple[int, int, int, int], ask: tuple[int, int, int, int], oi: int) -> QuoteBar:
    return QuoteBar(end_s, *bid, *ask, oi * 100)


def flat(p: int) -> Ohlc:
    return Ohlc(Price(p), Price(p), Price(p), Price(p))


def test_a_moment_belongs_to_the_period_ending_at_or_after_it() -> None:
    assert period_end(T0 * 1000, 60) == T0  # inclusive end
    assert period_end(T0 * 1000 + 1, 60) == T0 + 60
    assert period_end(T0 * 1000 + 1, 86_400) % 86_400 == 0  # daily candles end at 00:00 UTC
    assert period_count(T0, T0 + 120, 60) == 3
    assert period_count(T0 + 1, T0 + 59, 60) == 0


def test_minute_candles_are_sparse_and_carry_quotes_trades_and_open_interest() -> None:
    bars = [
        bar(T0 + 60, (0, 4000, 0, 4000), (10_000, 10_000, 6000, 6000), 0),
        bar(T0 + 180, (4000, 4200, 3900, 4100), (6000, 6000, 5800, 5900), 10),
    ]
    trades = [trade(T0 + 150, 4000, 4), trade(T0 + 170, 4200, 6)]
    got = candles(trades, bars, start_s=T0, end_s=T0 + 300, period_s=60)
    assert [c.end_s for c in got] == [T0 + 60, T0 + 180]  # nothing happened in the minutes between
    first, third = got
    assert first.yes_bid == Ohlc(Price(0), Price(4000), Price(0), Price(4000))
    assert (first.trades, first.mean, first.previous) == (None, None, None)
    assert third == Candle(
        end_s=T0 + 180,
        yes_bid=Ohlc(Price(4000), Price(4200), Price(3900), Price(4100)),
        yes_ask=Ohlc(Price(6000), Price(6000), Price(5800), Price(5900)),
        trades=Ohlc(Price(4000), Price(4200), Price(4000), Price(4200)),
        mean=Price(4120),  # (4 × 0.40 + 6 × 0.42) / 10
        previous=None,
        volume=Qty(1000),
        open_interest=Qty(1000),
    )


def test_an_hour_candle_folds_its_minutes_and_remembers_the_last_trade_before_it() -> None:
    bars = [
        bar(T0 - 60, (0, 3000, 0, 3000), (10_000, 10_000, 7000, 7000), 2),
        bar(T0 + 600, (3000, 3500, 3000, 3500), (7000, 7000, 6500, 6500), 2),
        bar(T0 + 1200, (3500, 3500, 2500, 2600), (6500, 7500, 6500, 7400), 5),
    ]
    trades = [trade(T0 - 90, 3100, 2), trade(T0 + 1100, 2500, 3)]
    [hour] = candles(trades, bars, start_s=T0 + 1, end_s=T0 + 3600, period_s=3600)
    assert hour.end_s == T0 + 3600
    assert hour.yes_bid == Ohlc(Price(3000), Price(3500), Price(2500), Price(2600))  # opens where T0 closed
    assert hour.yes_ask == Ohlc(Price(7000), Price(7500), Price(6500), Price(7400))
    assert (hour.previous, hour.trades, hour.volume, hour.open_interest) == (
        Price(3100),
        flat(2500),
        Qty(300),
        Qty(500),
    )


def test_a_window_before_any_activity_opens_on_an_empty_book() -> None:
    [only] = candles([trade(T0 + 30, 5000, 1)], [], start_s=T0, end_s=T0 + 60, period_s=60)
    assert (only.yes_bid, only.yes_ask, only.open_interest) == (flat(0), flat(10_000), Qty(0))
    assert candles([], [], start_s=T0, end_s=T0 + 3600, period_s=60) == []


@pytest.mark.parametrize("real_at_start", [False, True])
def test_the_latest_candle_before_the_range_is_projected_onto_its_first_period(real_at_start: bool) -> None:
    bars = [bar(T0 - 120, (0, 4500, 0, 4400), (10_000, 10_000, 5600, 5600), 3)]
    trades = [trade(T0 - 150, 4400, 3)] + ([trade(T0 + 30, 4600, 1)] if real_at_start else [])
    got = candles(trades, bars, start_s=T0 + 1, end_s=T0 + 120, period_s=60, latest_before=True)
    if real_at_start:  # a real candle already ends at the first period: nothing is invented
        assert [c.end_s for c in got] == [T0 + 60]
        assert got[0].trades == flat(4600)
        return
    [projected] = got
    assert projected == Candle(
        end_s=T0 + 60,
        yes_bid=flat(4400),
        yes_ask=flat(5600),
        trades=None,
        mean=None,
        previous=Price(4400),
        volume=Qty(0),
        open_interest=Qty(300),
    )
    assert candles(trades, bars, start_s=T0 + 1, end_s=T0 + 120, period_s=60) == []


def test_wire_forms_use_the_live_and_the_historical_field_names() -> None:
    c = Candle(T0, flat(4000), flat(6000), None, None, Price(4100), Qty(250), Qty(1000))
    as_live, as_historical = live(c), historical(c)
    assert (as_live.yes_bid.close_dollars, as_live.volume_fp, as_live.price.close_dollars) == ("0.4000", "2.50", None)
    assert as_live.price.previous_dollars == "0.4100"
    assert (as_historical.yes_ask.open, as_historical.volume, as_historical.open_interest) == (
        "0.6000",
        "2.50",
        "10.00",
    )
    assert (as_historical.price.close, as_historical.price.previous) == (None, "0.4100")
