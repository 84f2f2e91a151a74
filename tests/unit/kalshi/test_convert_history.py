"""``convert`` for the past: the historical cutoff, both candlestick shapes and a market's settled
value, from wire structs decoded out of JSON as Kalshi documents it."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from kalshi_trader.domain import Candle, HistoricalCutoff, Ohlc, Price, Qty
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi import schemas as w


def decode(tp: type[Any], body: dict[str, Any]) -> Any:
    return w.decoder_for(tp).decode(msgspec.json.encode(body))


def test_the_cutoff_reads_each_field_and_tolerates_a_missing_positions_horizon() -> None:
    body = {
        "market_settled_ts": "2026-07-01T00:00:00Z",
        "trades_created_ts": "2026-07-02T00:00:00Z",
        "orders_updated_ts": "2026-09-20T00:00:00.250Z",
    }
    got = convert.historical_cutoff(decode(w.GetHistoricalCutoffResponse, body))
    assert got == HistoricalCutoff(1_782_864_000_000, 1_782_950_400_000, 1_789_862_400_250, None)
    body["market_positions_last_updated_ts"] = "2026-07-01T00:00:00Z"
    assert convert.historical_cutoff(decode(w.GetHistoricalCutoffResponse, body)).positions_ms == 1_782_864_000_000


LIVE = {
    "end_period_ts": 1_782_864_060,
    "yes_bid": {"open_dollars": "0.4000", "low_dollars": "0.3900", "high_dollars": "0.4200", "close_dollars": "0.4100"},
    "yes_ask": {"open_dollars": "0.4500", "low_dollars": "0.4400", "high_dollars": "0.4700", "close_dollars": "0.4600"},
    "price": {"previous_dollars": "0.4300"},
    "volume_fp": "0.00",
    "open_interest_fp": "12.50",
}
EXPECTED = Candle(
    end_s=1_782_864_060,
    yes_bid=Ohlc(Price(4000), Price(4200), Price(3900), Price(4100)),
    yes_ask=Ohlc(Price(4500), Price(4700), Price(4400), Price(4600)),
    trades=None,
    mean=None,
    previous=Price(4300),
    volume=Qty(0),
    open_interest=Qty(1250),
)


def test_a_live_candle_without_trades_has_no_trade_prices() -> None:
    assert convert.candle(decode(w.MarketCandlestick, LIVE)) == EXPECTED
    traded = {**LIVE, "price": {**{f"{n}_dollars": "0.4300" for n in ("open", "low", "high", "close", "mean")}}}
    got = convert.candle(decode(w.MarketCandlestick, traded))
    assert (got.trades, got.mean, got.previous) == (
        Ohlc(Price(4300), Price(4300), Price(4300), Price(4300)),
        Price(4300),
        None,
    )


def test_a_historical_candle_reads_the_flat_names_to_the_same_values() -> None:
    flat = {
        "end_period_ts": LIVE["end_period_ts"],
        "yes_bid": {k.removesuffix("_dollars"): v for k, v in LIVE["yes_bid"].items()},
        "yes_ask": {k.removesuffix("_dollars"): v for k, v in LIVE["yes_ask"].items()},
        "price": {"open": None, "low": None, "high": None, "close": None, "mean": None, "previous": "0.4300"},
        "volume": "0.00",
        "open_interest": "12.50",
    }
    assert convert.historical_candle(decode(w.MarketCandlestickHistorical, flat)) == EXPECTED


def test_a_malformed_candle_names_the_field() -> None:
    bad = {**LIVE, "yes_bid": {**LIVE["yes_bid"], "high_dollars": "0.42005"}}
    with pytest.raises(ValueError, match="high_dollars"):
        convert.candle(decode(w.MarketCandlestick, bad), "KXT")


def market(**fields: Any) -> w.Market:
    base = {
        "ticker": "KXT-1", "event_ticker": "KXT", "market_type": "binary", "yes_sub_title": "", "no_sub_title": "",
        "created_time": "2026-01-01T00:00:00Z", "updated_time": "2026-01-01T00:00:00Z",
        "open_time": "2026-01-01T00:00:00Z", "close_time": "2026-01-02T00:00:00Z",
        "latest_expiration_time": "2026-01-03T00:00:00Z", "settlement_timer_seconds": 60, "status": "finalized",
        "notional_value_dollars": "1.0000", "yes_bid_dollars": "0.0000", "yes_ask_dollars": "1.0000",
        "no_bid_dollars": "0.0000", "no_ask_dollars": "1.0000", "yes_bid_size_fp": "0.00", "yes_ask_size_fp": "0.00",
        "last_price_dollars": "0.5000", "previous_yes_bid_dollars": "0.0000", "previous_yes_ask_dollars": "0.0000",
        "previous_price_dollars": "0.0000", "volume_fp": "0.00", "volume_24h_fp": "0.00", "open_interest_fp": "0.00",
        "result": "", "can_close_early": False, "expiration_value": "", "rules_primary": "", "rules_secondary": "",
        "price_level_structure": "linear_cent", "price_ranges": [], "settlement_bounds_type": "default",
    }  # fmt: skip
    decoded: w.Market = decode(w.Market, {**base, **fields})
    return decoded


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"result": "yes", "settlement_ts": "2026-01-02T01:00:00Z"}, (Price(10_000), 1_767_315_600_000)),
        ({"result": "no"}, (Price(0), 1_767_312_000_000)),  # no settlement time: the close time
        ({"result": "scalar", "settlement_value_dollars": "0.3700"}, (Price(3700), 1_767_312_000_000)),
        ({"result": ""}, None),
    ],
)
def test_a_markets_settled_value(fields: dict[str, Any], expected: tuple[Price, int] | None) -> None:
    assert convert.settled_value(market(**fields)) == expected


def test_a_result_without_a_value_is_refused() -> None:
    with pytest.raises(ValueError, match="without a settlement value"):
        convert.settled_value(market(result="scalar"))
