"""``kalshi.convert``: wire structs decoded from Kalshi-shaped JSON become exact domain values, and
anything malformed is refused with the field named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from kalshi_trader.domain import (
    BookSide,
    MarketStatus,
    OrderStatus,
    Price,
    Qty,
    SelfTradePrevention,
    TickGrid,
    TimeInForce,
)
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi import schemas as w

FIXTURES = Path(__file__).parents[2] / "fixtures" / "kalshi" / "docs"


def decode(tp: type[Any], obj: dict[str, Any]) -> Any:
    return w.decoder_for(tp).decode(json.dumps(obj).encode())


MARKET: dict[str, Any] = {
    "ticker": "KXHIGHNY-26MAY16-B78.5",
    "event_ticker": "KXHIGHNY-26MAY16",
    "market_type": "binary",
    "yes_sub_title": "78° to 79°",
    "no_sub_title": "78° to 79°",
    "created_time": "2026-05-14T14:00:00Z",
    "updated_time": "2026-05-14T14:00:00Z",
    "open_time": "2026-05-15T14:00:00Z",
    "close_time": "2026-05-17T04:59:00Z",
    "latest_expiration_time": "2026-05-24T14:00:00Z",
    "settlement_timer_seconds": 3600,
    "status": "active",
    "notional_value_dollars": "1.0000",
    "yes_bid_dollars": "0.4200",
    "yes_ask_dollars": "0.44",
    "no_bid_dollars": "0.5600",
    "no_ask_dollars": "0.5800",
    "yes_bid_size_fp": "13.00",
    "yes_ask_size_fp": "17.50",
    "last_price_dollars": "0.4300",
    "previous_yes_bid_dollars": "0.4000",
    "previous_yes_ask_dollars": "0.4500",
    "previous_price_dollars": "0.4100",
    "volume_fp": "1701.64",
    "volume_24h_fp": "20.00",
    "open_interest_fp": "1288.65",
    "result": "",
    "can_close_early": True,
    "expiration_value": "",
    "rules_primary": "If the highest temperature ... is between 78-79 ...",
    "rules_secondary": "",
    "price_level_structure": "tapered_deci_cent",
    "price_ranges": [
        {"start": "0.0000", "end": "0.1000", "step": "0.0010"},
        {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
        {"start": "0.9000", "end": "1.0000", "step": "0.0010"},
    ],
    "strike_type": "between",
    "floor_strike": 78,
    "cap_strike": 79,
    "settlement_bounds_type": "default",
}

ORDER: dict[str, Any] = {
    "order_id": "ee587a1c-8b87-4dcf-b721-9f6f790619fa",
    "user_id": "a1b2c3d4-0000-4000-8000-000000000000",
    "client_order_id": "0b7f5c8e-6a55-4f0e-9d5a-1c2b3d4e5f60",
    "ticker": "KXHIGHNY-26MAY16-B78.5",
    "outcome_side": "no",
    "book_side": "ask",
    "type": "limit",
    "status": "resting",
    "yes_price_dollars": "0.7000",
    "no_price_dollars": "0.3000",
    "fill_count_fp": "2.50",
    "remaining_count_fp": "7.50",
    "initial_count_fp": "10.00",
    "taker_fees_dollars": "0.0000",
    "maker_fees_dollars": "0.0000",
    "taker_fill_cost_dollars": "0.0000",
    "maker_fill_cost_dollars": "0.7500",
    "created_time": "2026-05-16T12:00:00.123456Z",
    "last_update_time": "2026-05-16T12:00:01.5+00:00",
    "order_group_id": None,
}

FILL: dict[str, Any] = {
    "fill_id": "d91bc706-ee49-470d-82d8-11418bda6fed",
    "trade_id": "d91bc706-ee49-470d-82d8-11418bda6fed",
    "exchange_index": 0,
    "order_id": ORDER["order_id"],
    "ticker": ORDER["ticker"],
    "market_ticker": ORDER["ticker"],
    "outcome_side": "yes",
    "book_side": "bid",
    "count_fp": "74.77",
    "yes_price_dollars": "0.3900",
    "no_price_dollars": "0.6100",
    "is_taker": True,
    "fee_cost": "0.4600",
    "created_time": "2026-05-16T12:00:02Z",
}


def test_market_info_and_quote_are_exact() -> None:
    market = decode(w.Market, MARKET)
    info = convert.market_info(market)
    assert info.status is MarketStatus.ACTIVE
    assert info.series_ticker == "KXHIGHNY"  # from the event ticker when not given
    assert convert.market_info(market, "KXOTHER").series_ticker == "KXOTHER"
    assert info.grid == TickGrid.named("tapered_deci_cent")
    assert info.grid.is_valid_order_price(50)  # $0.005 on the fine edge band
    assert not info.grid.is_valid_order_price(1050)
    assert info.close_ms == 1_778_993_940_000  # 2026-05-17T04:59:00Z
    assert (info.title, info.strike_type, info.floor_strike, info.cap_strike) == ("78° to 79°", "between", 78, 79)
    quote = convert.market_quote(market)
    assert (quote.yes_bid, quote.yes_ask, quote.yes_ask_size) == (4200, 4400, 1750)
    assert (quote.volume, quote.open_interest, quote.last_price) == (170_164, 128_865, 4300)


def test_grid_falls_back_to_the_structure_name() -> None:
    market = decode(w.Market, {**MARKET, "price_ranges": [], "price_level_structure": "linear_cent"})
    assert convert.tick_grid(market) == TickGrid.named("linear_cent")


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"status": "open"}, "status 'open'"),
        ({"yes_bid_dollars": "0.42001"}, "yes_bid_dollars"),
        ({"volume_fp": "1.234"}, "volume_fp"),
        ({"price_ranges": [{"start": "0.5", "end": "0.1", "step": "0.01"}]}, "price grid"),
        ({"close_time": "yesterday"}, "RFC 3339"),
    ],
)
def test_malformed_market_values_are_refused_by_name(change: dict[str, Any], needle: str) -> None:
    market = decode(w.Market, {**MARKET, **change})
    with pytest.raises(ValueError, match=needle) as info:
        (convert.market_info(market), convert.market_quote(market))
    assert "KXHIGHNY-26MAY16-B78.5" in str(info.value)


def test_orderbook_levels_sorted_best_last_whatever_the_wire_order() -> None:
    body = json.loads((FIXTURES / "getting_started.orderbook_responses.json").read_text())
    book = decode(w.GetMarketOrderbookResponse, body).orderbook_fp
    yes, no = convert.orderbook(book)
    assert yes[-1] == (4200, 1300)
    assert no[-1] == (5600, 1700)
    shuffled = w.OrderbookCountFp(yes_dollars=list(reversed(book.yes_dollars)), no_dollars=[])
    assert convert.orderbook(shuffled) == (yes, [])
    with pytest.raises(ValueError, match="level 0 count"):
        convert.orderbook(w.OrderbookCountFp(yes_dollars=[("0.4200", "x")]), "KXT")


def test_order_fill_position_balance() -> None:
    order = convert.order(decode(w.Order, ORDER))
    assert (order.side, order.price, order.status) == (BookSide.ASK, 7000, OrderStatus.RESTING)
    assert (order.initial, order.filled, order.remaining) == (1000, 250, 750)
    assert order.created_ms == 1_778_932_800_123
    assert order.updated_ms == 1_778_932_801_500
    with pytest.raises(ValueError, match="book_side 'sell'"):
        convert.order(decode(w.Order, {**ORDER, "book_side": "sell"}))

    fill = convert.fill(decode(w.Fill, FILL))
    assert (fill.qty, fill.price, fill.fee, fill.side, fill.is_taker) == (7477, 3900, 4600, BookSide.BID, True)
    assert fill.ts_ms == 1_778_932_802_000
    no_time = {k: v for k, v in FILL.items() if k != "created_time"} | {"ts": 1_778_932_803}
    assert convert.fill(decode(w.Fill, no_time)).ts_ms == 1_778_932_803_000

    position = convert.position(
        decode(
            w.MarketPosition,
            {
                "ticker": "KXT",
                "exchange_index": 0,
                "total_traded_dollars": "12.3400",
                "position_fp": "-12.50",
                "market_exposure_dollars": "4.6800",
                "realized_pnl_dollars": "-0.1200",
                "fees_paid_dollars": "0.2000",
                "last_updated_ts": "2026-05-16T12:00:00Z",
            },
        )
    )
    assert (position.qty, position.cost, position.realized_pnl, position.fees_paid) == (-1250, 46_800, -1200, 2000)

    balance = decode(
        w.GetBalanceResponse,
        {"balance": 10000, "balance_dollars": "100.0050", "portfolio_value": 2500, "updated_ts": 1},
    )
    assert convert.balance(balance) == 1_000_050  # the exact dollars win over the cents
    assert convert.portfolio_value(balance) == 250_000
    assert convert.balance(msgspec.structs.replace(balance, balance_dollars="")) == 1_000_000


def test_create_request_and_ack() -> None:
    req = convert.create_request(
        "KXT",
        BookSide.ASK,
        Price(5600),
        Qty(250),
        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
        self_trade_prevention=SelfTradePrevention.MAKER,
        post_only=True,
    )
    body = json.loads(w.ENCODER.encode(req))
    client_order_id = body.pop("client_order_id")
    assert len(client_order_id) == 36
    assert body == {
        "ticker": "KXT",
        "side": "ask",
        "count": "2.50",
        "price": "0.5600",
        "time_in_force": "immediate_or_cancel",
        "self_trade_prevention_type": "maker",
        "post_only": True,
    }
    other = convert.create_request("KXT", BookSide.ASK, Price(5600), Qty(250))
    assert other.client_order_id != client_order_id
    ack = w.CreateOrderV2Response(order_id="o1", fill_count="2.50", remaining_count="0.00", ts_ms=7)
    order = convert.order_from_ack(req, ack)
    assert (order.status, order.filled, order.client_order_id, order.created_ms) == (
        OrderStatus.EXECUTED,
        250,
        client_order_id,
        7,
    )
    assert convert.ack_status(Qty(0), Qty(0)) is OrderStatus.CANCELED
    for bad_price in (0, 10_000):
        with pytest.raises(ValueError, match="strictly between"):
            convert.create_request("KXT", BookSide.BID, Price(bad_price), Qty(100))
    with pytest.raises(ValueError, match="positive"):
        convert.create_request("KXT", BookSide.BID, Price(100), Qty(0))
    amend = json.loads(w.ENCODER.encode(convert.amend_request("KXT", BookSide.BID, Price(4100), Qty(800))))
    assert amend == {"ticker": "KXT", "side": "bid", "price": "0.4100", "count": "8.00"}


def test_amend_can_set_or_clear_the_expiry() -> None:
    def body(expiration_s: int | None) -> dict[str, Any]:
        req = convert.amend_request("KXT", BookSide.BID, Price(4100), Qty(800), expiration_s=expiration_s)
        return json.loads(w.ENCODER.encode(req))

    assert "expiration_time" not in body(None)  # keep the expiry
    assert body(0)["expiration_time"] == 0  # clear it: good till canceled
    assert body(1_778_993_940)["expiration_time"] == 1_778_993_940
    with pytest.raises(ValueError, match="expiration"):
        body(-1)


def test_settlement_bounds_become_the_market_floor() -> None:
    assert convert.market_info(decode(w.Market, MARKET)).settlement_floor is None
    floor = decode(w.Market, MARKET | {"settlement_bounds_type": "floor", "settlement_floor_dollars": "0.3000"})
    assert convert.market_info(floor).settlement_floor == 3000
    fresh = decode(w.Market, MARKET | {"settlement_bounds_type": "floor"})
    assert convert.market_info(fresh).settlement_floor == 0  # a floor market starts at $0
    with pytest.raises(ValueError, match="settlement_bounds_type 'ceiling'"):
        convert.market_info(decode(w.Market, MARKET | {"settlement_bounds_type": "ceiling"}))
    with pytest.raises(ValueError, match="settlement_floor_dollars"):
        convert.market_info(
            decode(w.Market, MARKET | {"settlement_bounds_type": "floor", "settlement_floor_dollars": "x"})
        )
    determined = decode(w.Market, MARKET | {"result": "no", "settlement_value_dollars": "0.3000"})
    settled = convert.settled_value(determined)
    assert settled is not None
    assert settled[0] == 3000  # "no" above a floor: YES is worth the floor


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("", 0),
        (None, 0),
        ("1970-01-01T00:00:00Z", 0),
        ("2026-05-17T04:59:00.999999Z", 1_778_993_940_999),
        ("2026-05-17T04:59:00.123456789Z", 1_778_993_940_123),
        ("2026-05-17T00:59:00-04:00", 1_778_993_940_000),
        ("2026-05-17T04:59:00", 1_778_993_940_000),
    ],
)
def test_timestamps(text: str | None, ms: int) -> None:
    assert convert.ts_ms(text) == ms


def _series(fee_type: str, multiplier: float) -> w.Series:
    return w.Series(
        ticker="KXS",
        frequency="daily",
        title="S",
        category="Climate",
        categories=["Climate"],
        tags=None,
        settlement_sources=None,
        contract_url="",
        contract_terms_url="",
        fee_type=fee_type,
        fee_multiplier=multiplier,
        additional_prohibitions=None,
    )


def test_a_series_fee_rule_is_its_type_and_its_multiplier_as_an_exact_fraction() -> None:
    from kalshi_trader.domain import FeeSchedule, FeeType

    assert convert.fee_schedule(_series("quadratic_with_maker_fees", 0.5)) == FeeSchedule(
        FeeType.QUADRATIC_WITH_MAKER_FEES, (1, 2)
    )
    assert convert.fee_schedule(_series("flat", 1.0)).multiplier == (1, 1)
    assert convert.fee_schedule(_series("quadratic", 0.1)).multiplier == (1, 10)  # not the float's binary value
    with pytest.raises(ValueError, match="series KXS"):
        convert.fee_schedule(_series("cubic", 1.0))
