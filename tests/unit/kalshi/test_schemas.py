"""kalshi/schemas.py against the official specs.

- Every struct's fields, required-ness and nullability are compared with its schema in
  openapi.yaml / asyncapi.yaml (the tolerated deviations are listed here, each with its reason).
- Every struct is built as a realistic instance (once with every optional field set, once with
  only the required ones), encoded, and the JSON is validated by tests/support/spec.py in closed
  mode (REST: against the endpoint's documented response or request body; WS: against the
  AsyncAPI message), then decoded back to an equal struct.
- The documents' own examples, frames composed from them and frames with numbers where strings
  are documented decode; unknown fields are ignored; deprecated fields may be missing.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator
from pathlib import Path
from types import NoneType, UnionType
from typing import Any

import msgspec
import pytest
from tests.support import spec
from tests.support.ws import example_frames

from kalshi_trader.domain import parse_price, parse_qty
from kalshi_trader.kalshi import schemas as s

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kalshi"
TICKER = "KXHIGHNY-26MAY16-B78.5"
EVENT = "KXHIGHNY-26MAY16"
MARKET_ID = "9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1"
ORDER_ID = "3b23c1c7-f4ef-4f0d-8b9a-9e53c61f1a0d"
ORDER_ID_2 = "a6d6010d-6d5f-40a1-a7e7-5501386bb621"
CLIENT_ID = "8c35ecb3-328f-4f52-8c7c-0f4b9862f8d1"
USER_ID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
TRADE_ID = "d91bc706-ee49-470d-82d8-11418bda6fed"
TS = "2026-05-16T02:53:20.123456Z"
TS_MS = 1778900000123


def encode(value: msgspec.Struct) -> Any:
    return json.loads(s.ENCODER.encode(value))


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# ============================================================================================
# Realistic instances: full (every optional field set) and minimal (required fields only)


def price_ranges() -> list[s.PriceRange]:
    return [
        s.PriceRange(start="0.0000", end="0.1000", step="0.0010"),
        s.PriceRange(start="0.1000", end="0.9000", step="0.0100"),
        s.PriceRange(start="0.9000", end="1.0000", step="0.0010"),
    ]


def market_minimal(**changes: Any) -> s.Market:
    fields: dict[str, Any] = {
        "ticker": TICKER,
        "event_ticker": EVENT,
        "market_type": "binary",
        "yes_sub_title": "78° to 79°",
        "no_sub_title": "78° to 79°",
        "created_time": "2026-05-15T14:00:00Z",
        "updated_time": "2026-05-15T14:00:00.5Z",
        "open_time": "2026-05-15T14:00:00Z",
        "close_time": "2026-05-17T04:59:00Z",
        "latest_expiration_time": "2026-05-24T14:00:00Z",
        "settlement_timer_seconds": 3600,
        "status": "active",
        "notional_value_dollars": "1.0000",
        "yes_bid_dollars": "0.4200",
        "yes_ask_dollars": "0.4400",
        "no_bid_dollars": "0.5600",
        "no_ask_dollars": "0.5800",
        "yes_bid_size_fp": "13.00",
        "yes_ask_size_fp": "17.50",
        "last_price_dollars": "0.4300",
        "previous_yes_bid_dollars": "0.4000",
        "previous_yes_ask_dollars": "0.4500",
        "previous_price_dollars": "0.4100",
        "volume_fp": "1701.64",
        "volume_24h_fp": "120.00",
        "open_interest_fp": "1288.65",
        "result": "",
        "can_close_early": True,
        "expiration_value": "",
        "rules_primary": "If the highest temperature recorded in Central Park is between 78-79°F, Yes.",
        "rules_secondary": "",
        "price_level_structure": "linear_cent",
        "price_ranges": [s.PriceRange(start="0.0000", end="1.0000", step="0.0100")],
        "settlement_bounds_type": "default",
    }
    fields.update(changes)
    return s.Market(**fields)


def market_full() -> s.Market:
    return market_minimal(
        status="finalized",
        result="yes",
        expiration_value="78",
        price_level_structure="tapered_deci_cent",
        price_ranges=price_ranges(),
        title="Highest temperature in NYC on May 16, 2026?",
        subtitle="78° to 79°",
        expiration_time="2026-05-17T14:00:00Z",
        settlement_bounds_type="floor",
        settlement_floor_dollars="0.0500",
        expected_expiration_time="2026-05-17T14:00:00Z",
        settlement_value_dollars="1.0000",
        settlement_ts="2026-05-17T15:00:00Z",
        occurrence_datetime="2026-05-16T04:00:00Z",
        fee_waiver_expiration_time="2026-05-15T15:00:00Z",
        early_close_condition="",
        strike_type="between",
        floor_strike=78.0,
        cap_strike=79.0,
        functional_strike="",
        custom_strike={"kind": "none"},
        mve_collection_ticker="KXMVECOLL",
        mve_selected_legs=[
            s.MveSelectedLeg(
                event_ticker=EVENT, market_ticker=TICKER, side="yes", yes_settlement_value_dollars="1.0000"
            ),
            s.MveSelectedLeg(),
        ],
        primary_participant_key="nyc",
        is_provisional=False,
        exchange_index=0,
    )


def series_full() -> s.Series:
    return s.Series(
        ticker="KXHIGHNY",
        frequency="daily",
        title="Highest temperature in NYC",
        category="Climate and Weather",
        categories=["Climate and Weather", "Science"],
        tags=["Weather"],
        settlement_sources=[s.SettlementSource(name="National Weather Service", url="https://forecast.weather.gov/")],
        contract_url="https://kalshi.com/contracts/KXHIGHNY.pdf",
        contract_terms_url="https://kalshi.com/terms/KXHIGHNY.pdf",
        fee_type="quadratic_with_maker_fees",
        fee_multiplier=0.5,
        additional_prohibitions=[],
        product_metadata={"station": "KNYC"},
        volume_fp="98000.50",
        last_updated_ts=TS,
        exchange_index=0,
    )


def series_minimal() -> s.Series:
    return s.Series(
        ticker="KXHIGHCHI",
        frequency="daily",
        title="Highest temperature in Chicago",
        category="Climate and Weather",
        categories=[],
        tags=None,
        settlement_sources=None,
        contract_url="",
        contract_terms_url="",
        fee_type="quadratic",
        fee_multiplier=1,
        additional_prohibitions=None,
    )


def event_full() -> s.EventData:
    return s.EventData(
        event_ticker=EVENT,
        series_ticker="KXHIGHNY",
        sub_title="On May 16, 2026",
        title="Highest temperature in NYC on May 16, 2026?",
        collateral_return_type="MECNET",
        mutually_exclusive=True,
        settlement_sources=[s.SettlementSource(name="NWS")],
        category="Climate and Weather",
        strike_date="2026-05-17T04:59:00Z",
        strike_period="day",
        markets=[market_minimal()],
        product_metadata={},
        last_updated_ts=TS,
        fee_type_override="quadratic",
        fee_multiplier_override=1.0,
        exchange_index=0,
    )


def event_minimal() -> s.EventData:
    return s.EventData(
        event_ticker="KXHIGHNY-26MAY17",
        series_ticker="KXHIGHNY",
        sub_title="",
        title="Highest temperature in NYC on May 17, 2026?",
        collateral_return_type="",
        mutually_exclusive=False,  # true only for MECNET
        settlement_sources=None,
    )


def daily(open_time: str, close_time: str) -> list[s.DailySchedule]:
    return [s.DailySchedule(open_time=open_time, close_time=close_time)]


def schedule() -> s.GetExchangeScheduleResponse:
    day = daily("00:00", "23:59")
    return s.GetExchangeScheduleResponse(
        schedule=s.Schedule(
            standard_hours=[
                s.WeeklySchedule(
                    start_time="2026-01-01T00:00:00Z",
                    end_time="2027-01-01T00:00:00Z",
                    monday=day,
                    tuesday=day,
                    wednesday=day,
                    thursday=[*daily("00:00", "03:00"), *daily("05:00", "23:59")],
                    friday=day,
                    saturday=day,
                    sunday=[],
                )
            ],
            maintenance_windows=[
                s.MaintenanceWindow(start_datetime="2026-05-21T07:00:00Z", end_datetime="2026-05-21T09:00:00Z")
            ],
        )
    )


def exchange_status_full() -> s.ExchangeStatus:
    return s.ExchangeStatus(
        exchange_active=True,
        trading_active=False,
        intra_exchange_transfers_active=True,
        exchange_estimated_resume_time="2026-05-21T09:00:00Z",
        exchange_index_statuses=[
            s.ExchangeIndexStatus(
                exchange_index=0,
                description="Default",
                exchange_active=True,
                trading_active=False,
                intra_exchange_transfers_active=True,
            )
        ],
    )


def trade() -> s.Trade:
    return s.Trade(
        trade_id=TRADE_ID,
        ticker=TICKER,
        count_fp="2.50",
        yes_price_dollars="0.3900",
        no_price_dollars="0.6100",
        taker_outcome_side="yes",
        taker_book_side="bid",
        created_time=TS,
        is_block_trade=False,
        taker_side="yes",
    )


def fill_full() -> s.Fill:
    return s.Fill(
        fill_id=TRADE_ID,
        exchange_index=0,
        trade_id=TRADE_ID,
        order_id=ORDER_ID,
        ticker=TICKER,
        market_ticker=TICKER,
        outcome_side="no",
        book_side="ask",
        count_fp="0.25",
        yes_price_dollars="0.3900",
        no_price_dollars="0.6100",
        is_taker=True,
        fee_cost="0.0042",
        side="no",
        action="buy",
        created_time=TS,
        subaccount_number=0,
        ts=1778900000,
    )


def order_minimal(**changes: Any) -> s.Order:
    fields: dict[str, Any] = {
        "order_id": ORDER_ID,
        "user_id": USER_ID,
        "client_order_id": CLIENT_ID,
        "ticker": TICKER,
        "outcome_side": "yes",
        "book_side": "bid",
        "type": "limit",
        "status": "resting",
        "yes_price_dollars": "0.5600",
        "no_price_dollars": "0.4400",
        "fill_count_fp": "4.00",
        "remaining_count_fp": "6.00",
        "initial_count_fp": "10.00",
        "taker_fees_dollars": "0.0700",
        "maker_fees_dollars": "0.0000",
        "taker_fill_cost_dollars": "2.2000",
        "maker_fill_cost_dollars": "0.0000",
    }
    fields.update(changes)
    return s.Order(**fields)


def order_full() -> s.Order:
    return order_minimal(
        side="yes",
        action="buy",
        expiration_time="2026-05-16T20:00:00Z",
        created_time=TS,
        last_update_time=TS,
        self_trade_prevention_type="maker",
        order_group_id="og-1",
        cancel_order_on_pause=True,
        subaccount_number=3,
        exchange_index=0,
    )


def create_request_full() -> s.CreateOrderV2Request:
    return s.CreateOrderV2Request(
        ticker=TICKER,
        side="bid",
        count="10.5",
        price="0.5600",
        time_in_force="good_till_canceled",
        self_trade_prevention_type="maker",
        client_order_id=CLIENT_ID,
        expiration_time=1778950000,
        post_only=True,
        cancel_order_on_pause=False,
        reduce_only=False,
        subaccount=0,
        order_group_id="og-1",
        exchange_index=0,
    )


def create_request_minimal() -> s.CreateOrderV2Request:
    return s.CreateOrderV2Request(
        ticker=TICKER,
        side="ask",
        count="1",
        price="0.99",
        time_in_force="immediate_or_cancel",
        self_trade_prevention_type="taker_at_cross",
    )


# (method, path, status, body) — REST responses as the exchange sends them.
def rest_responses() -> list[tuple[str, str, int, msgspec.Struct]]:
    balance = s.GetBalanceResponse(
        balance=10000,
        balance_dollars="100.0000",
        portfolio_value=2500,
        updated_ts=1768231443,
        balance_breakdown=[s.IndexedBalance(exchange_index=0, balance="100.0000")],
    )
    position = s.MarketPosition(
        ticker=TICKER,
        exchange_index=0,
        total_traded_dollars="4.6800",
        position_fp="-12.50",
        market_exposure_dollars="4.6800",
        realized_pnl_dollars="-0.1200",
        fees_paid_dollars="0.2000",
        last_updated_ts=TS,
    )
    event_position = s.EventPosition(
        event_ticker=EVENT,
        total_cost_dollars="4.6800",
        total_cost_shares_fp="12.50",
        event_exposure_dollars="4.6800",
        realized_pnl_dollars="-0.1200",
        fees_paid_dollars="0.2000",
    )
    settlement = s.Settlement(
        ticker=TICKER,
        exchange_index=0,
        event_ticker=EVENT,
        market_result="yes",
        yes_count_fp="12.50",
        yes_total_cost_dollars="4.6800",
        no_count_fp="0.00",
        no_total_cost_dollars="0.0000",
        revenue=1250,
        settled_time=TS,
        fee_cost="0.3400",
        value=100,
    )
    settlement_minimal = msgspec.structs.replace(settlement, value=None, market_result="no", revenue=0)
    orderbook = s.OrderbookCountFp(
        yes_dollars=[("0.0100", "200.00"), ("0.4100", "10.00"), ("0.4200", "13.25")],
        no_dollars=[],
    )
    return [
        ("GET", "/exchange/status", 200, exchange_status_full()),
        ("GET", "/exchange/status", 200, s.ExchangeStatus(exchange_active=True, trading_active=True)),
        ("GET", "/exchange/schedule", 200, schedule()),
        ("GET", "/exchange/user_data_timestamp", 200, s.GetUserDataTimestampResponse(as_of_time=TS)),
        ("GET", "/series/KXHIGHNY", 200, s.GetSeriesResponse(series=series_full())),
        ("GET", "/series", 200, s.GetSeriesListResponse(series=[series_full(), series_minimal()])),
        ("GET", f"/events/{EVENT}", 200, s.GetEventResponse(event=event_full(), markets=[market_full()])),
        ("GET", "/events", 200, s.GetEventsResponse(events=[event_full(), event_minimal()], cursor="")),
        ("GET", f"/markets/{TICKER}", 200, s.GetMarketResponse(market=market_full())),
        ("GET", "/markets", 200, s.GetMarketsResponse(markets=[market_full(), market_minimal()], cursor="Mg==")),
        ("GET", f"/markets/{TICKER}/orderbook", 200, s.GetMarketOrderbookResponse(orderbook_fp=orderbook)),
        (
            "GET",
            "/markets/orderbooks",
            200,
            s.GetMarketOrderbooksResponse(
                orderbooks=[s.MarketOrderbookFp(ticker=TICKER, orderbook_fp=orderbook)],
            ),
        ),
        ("GET", "/markets/trades", 200, s.GetTradesResponse(trades=[trade()], cursor="")),
        ("GET", "/portfolio/balance", 200, balance),
        (
            "GET",
            "/portfolio/positions",
            200,
            s.GetPositionsResponse(market_positions=[position], event_positions=[event_position], cursor=""),
        ),
        ("GET", "/portfolio/positions", 200, s.GetPositionsResponse(market_positions=[], event_positions=[])),
        ("GET", "/portfolio/fills", 200, s.GetFillsResponse(fills=[fill_full()], cursor="")),
        (
            "GET",
            "/portfolio/settlements",
            200,
            s.GetSettlementsResponse(settlements=[settlement, settlement_minimal], cursor=""),
        ),
        ("GET", "/portfolio/orders", 200, s.GetOrdersResponse(orders=[order_full(), order_minimal()], cursor="")),
        ("GET", f"/portfolio/orders/{ORDER_ID}", 200, s.GetOrderResponse(order=order_full())),
        (
            "POST",
            "/portfolio/events/orders",
            201,
            s.CreateOrderV2Response(
                order_id=ORDER_ID,
                client_order_id=CLIENT_ID,
                fill_count="4.00",
                remaining_count="6.00",
                average_fill_price="0.5500",
                average_fee_paid="0.0175",
                ts_ms=TS_MS,
            ),
        ),
        (
            "POST",
            "/portfolio/events/orders",
            201,
            s.CreateOrderV2Response(order_id=ORDER_ID, fill_count="0.00", remaining_count="10.00", ts_ms=TS_MS),
        ),
        (
            "DELETE",
            f"/portfolio/events/orders/{ORDER_ID}",
            200,
            s.CancelOrderV2Response(order_id=ORDER_ID, client_order_id=CLIENT_ID, reduced_by="6.00", ts_ms=TS_MS),
        ),
        (
            "POST",
            f"/portfolio/events/orders/{ORDER_ID}/amend",
            200,
            s.AmendOrderV2Response(
                order_id=ORDER_ID,
                client_order_id=CLIENT_ID,
                remaining_count="8.00",
                fill_count="1.00",
                average_fill_price="0.5700",
                average_fee_paid="0.0172",
                ts_ms=TS_MS,
            ),
        ),
        (
            "POST",
            f"/portfolio/events/orders/{ORDER_ID}/amend",
            200,
            s.AmendOrderV2Response(order_id=ORDER_ID, ts_ms=TS_MS),
        ),
        (
            "POST",
            f"/portfolio/events/orders/{ORDER_ID}/decrease",
            200,
            s.DecreaseOrderV2Response(order_id=ORDER_ID, client_order_id=CLIENT_ID, remaining_count="3.00", ts_ms=1),
        ),
        (
            "POST",
            "/portfolio/events/orders/batched",
            201,
            s.BatchCreateOrdersV2Response(
                orders=[
                    s.BatchCreateOrdersV2Result(
                        order_id=ORDER_ID,
                        client_order_id=CLIENT_ID,
                        fill_count="1.00",
                        remaining_count="9.00",
                        average_fill_price="0.5600",
                        average_fee_paid="0.0172",
                        ts_ms=TS_MS,
                    ),
                    s.BatchCreateOrdersV2Result(
                        client_order_id="c-2",
                        error=s.ErrorDetail(code="invalid_order", message="post only cross", details="post only cross"),
                    ),
                ]
            ),
        ),
        (
            "DELETE",
            "/portfolio/events/orders/batched",
            200,
            s.BatchCancelOrdersV2Response(
                orders=[
                    s.BatchCancelOrdersV2Result(
                        order_id=ORDER_ID, client_order_id=CLIENT_ID, reduced_by="10.00", ts_ms=TS_MS
                    ),
                    s.BatchCancelOrdersV2Result(
                        order_id=ORDER_ID_2, reduced_by="0.00", error=s.ErrorDetail(code="not_found")
                    ),
                ]
            ),
        ),
        (
            "GET",
            f"/portfolio/orders/{ORDER_ID}/queue_position",
            200,
            s.GetOrderQueuePositionResponse(queue_position_fp="150.25"),
        ),
        (
            "GET",
            "/portfolio/orders/queue_positions",
            200,
            s.GetOrderQueuePositionsResponse(
                queue_positions=[
                    s.OrderQueuePosition(order_id=ORDER_ID, market_ticker=TICKER, queue_position_fp="0.00"),
                ]
            ),
        ),
        (
            "POST",
            "/portfolio/order_groups/create",
            201,
            s.CreateOrderGroupResponse(order_group_id="og-1", subaccount=0, exchange_index=0),
        ),
        (
            "GET",
            "/portfolio/order_groups",
            200,
            s.GetOrderGroupsResponse(
                order_groups=[
                    s.OrderGroup(id="og-1", is_auto_cancel_enabled=True, contracts_limit_fp="150.00", exchange_index=0),
                    s.OrderGroup(id="og-2", is_auto_cancel_enabled=False),
                ]
            ),
        ),
        ("GET", "/portfolio/order_groups", 200, s.GetOrderGroupsResponse()),
        (
            "GET",
            "/portfolio/order_groups/og-1",
            200,
            s.GetOrderGroupResponse(
                is_auto_cancel_enabled=True, orders=[ORDER_ID], contracts_limit_fp="150.00", exchange_index=0
            ),
        ),
        ("PUT", "/portfolio/order_groups/og-1/reset", 200, s.EmptyResponse()),
        ("PUT", "/portfolio/order_groups/og-1/limit", 200, s.EmptyResponse()),
        ("DELETE", "/portfolio/order_groups/og-1", 200, s.EmptyResponse()),
        (
            "GET",
            "/account/limits",
            200,
            s.GetAccountApiLimitsResponse(
                usage_tier="premier",
                read=s.BucketLimit(refill_rate=1200, bucket_capacity=1200),
                write=s.BucketLimit(refill_rate=1200, bucket_capacity=3600),
                grants=[
                    s.ApiUsageLevelGrant(
                        exchange_instance="event_contract", level="premier", expires_ts=1751558400, source="volume"
                    ),
                    s.ApiUsageLevelGrant(exchange_instance="event_contract", level="advanced", source="manual"),
                ],
            ),
        ),
        (
            "GET",
            "/account/endpoint_costs",
            200,
            s.GetAccountEndpointCostsResponse(
                default_cost=10,
                endpoint_costs=[
                    s.EndpointTokenCost(
                        method="DELETE", path="/trade-api/v2/portfolio/events/orders/{order_id}", cost=2
                    )
                ],
            ),
        ),
        ("POST", "/portfolio/events/orders", 409, s.ErrorResponse.of("order_already_exists", "duplicate", "x")),
        ("GET", f"/markets/{TICKER}", 404, s.ErrorResponse.of("not_found", "market not found")),
        ("POST", "/portfolio/events/orders", 429, s.RATE_LIMITED),
        *history_responses(),
    ]


def history_responses() -> list[tuple[str, str, int, msgspec.Struct]]:
    """The historical tier (reusing the live list responses) and candlesticks."""
    quotes = s.BidAskDistribution(
        open_dollars="0.4000", low_dollars="0.3900", high_dollars="0.4200", close_dollars="0.4100"
    )
    traded = s.PriceDistribution(
        open_dollars="0.4000",
        low_dollars="0.4000",
        high_dollars="0.4300",
        close_dollars="0.4300",
        mean_dollars="0.4150",
        previous_dollars="0.3900",
        min_dollars="0.4000",
        max_dollars="0.4300",
    )
    live = s.MarketCandlestick(
        end_period_ts=TS_MS // 1000,
        yes_bid=quotes,
        yes_ask=quotes,
        price=traded,
        volume_fp="3.00",
        open_interest_fp="10.00",
    )
    quiet = msgspec.structs.replace(live, price=s.PriceDistribution(previous_dollars="0.4300"), volume_fp="0.00")
    flat = s.BidAskDistributionHistorical(open="0.4000", low="0.3900", high="0.4200", close="0.4100")
    nothing = s.PriceDistributionHistorical(open=None, low=None, high=None, close=None, mean=None, previous=None)
    archived = s.MarketCandlestickHistorical(
        end_period_ts=TS_MS // 1000, yes_bid=flat, yes_ask=flat, price=nothing, volume="0.00", open_interest="1.00"
    )
    cutoff = s.GetHistoricalCutoffResponse(market_settled_ts=TS, trades_created_ts=TS, orders_updated_ts=TS)
    return [
        ("GET", "/historical/cutoff", 200, msgspec.structs.replace(cutoff, market_positions_last_updated_ts=TS)),
        ("GET", "/historical/cutoff", 200, cutoff),
        ("GET", "/historical/markets", 200, s.GetMarketsResponse(markets=[market_full()], cursor="")),
        ("GET", f"/historical/markets/{TICKER}", 200, s.GetMarketResponse(market=market_full())),
        ("GET", "/historical/trades", 200, s.GetTradesResponse(trades=[trade()], cursor="")),
        ("GET", "/historical/fills", 200, s.GetFillsResponse(fills=[fill_full()], cursor="")),
        ("GET", "/historical/orders", 200, s.GetOrdersResponse(orders=[order_full()], cursor="")),
        ("GET", "/historical/positions", 200, s.GetPositionsResponse(market_positions=[], event_positions=[])),
        (
            "GET",
            f"/series/KXHIGHNY/markets/{TICKER}/candlesticks",
            200,
            s.GetMarketCandlesticksResponse(ticker=TICKER, candlesticks=[live, quiet]),
        ),
        (
            "GET",
            "/markets/candlesticks",
            200,
            s.BatchGetMarketCandlesticksResponse(
                markets=[s.MarketCandlesticksResponse(market_ticker=TICKER, candlesticks=[live])]
            ),
        ),
        (
            "GET",
            f"/historical/markets/{TICKER}/candlesticks",
            200,
            s.GetMarketCandlesticksHistoricalResponse(ticker=TICKER, candlesticks=[archived]),
        ),
    ]


# (method, path, body) — REST request bodies as the client sends them.
def rest_requests() -> list[tuple[str, str, msgspec.Struct]]:
    return [
        ("POST", "/portfolio/events/orders", create_request_full()),
        ("POST", "/portfolio/events/orders", create_request_minimal()),
        (
            "POST",
            f"/portfolio/events/orders/{ORDER_ID}/amend",
            s.AmendOrderV2Request(
                ticker=TICKER,
                side="bid",
                price="0.5700",
                count="8.00",
                client_order_id=CLIENT_ID,
                updated_client_order_id="2a0e3fc9-b593-4aa3-96e5-82f7f7566c2a",
                exchange_index=0,
            ),
        ),
        (
            "POST",
            f"/portfolio/events/orders/{ORDER_ID}/amend",
            s.AmendOrderV2Request(ticker=TICKER, side="ask", price="0.57", count="8"),
        ),
        (
            "POST",
            f"/portfolio/events/orders/{ORDER_ID}/decrease",
            s.DecreaseOrderV2Request(reduce_by="2.00", exchange_index=0, market_ticker=TICKER),
        ),
        ("POST", f"/portfolio/events/orders/{ORDER_ID}/decrease", s.DecreaseOrderV2Request(reduce_to="0")),
        (
            "POST",
            "/portfolio/events/orders/batched",
            s.BatchCreateOrdersV2Request(orders=[create_request_full(), create_request_minimal()]),
        ),
        (
            "DELETE",
            "/portfolio/events/orders/batched",
            s.BatchCancelOrdersV2Request(
                orders=[
                    s.BatchCancelOrdersV2RequestOrder(
                        order_id=ORDER_ID, subaccount=0, exchange_index=0, market_ticker=TICKER
                    ),
                    s.BatchCancelOrdersV2RequestOrder(order_id=ORDER_ID_2),
                ]
            ),
        ),
        ("POST", "/portfolio/order_groups/create", s.CreateOrderGroupRequest(contracts_limit=100)),
        (
            "POST",
            "/portfolio/order_groups/create",
            s.CreateOrderGroupRequest(subaccount=2, contracts_limit_fp="150.50", exchange_index=0),
        ),
        ("PUT", "/portfolio/order_groups/og-1/limit", s.UpdateOrderGroupLimitRequest(contracts_limit_fp="10.00")),
        ("PUT", "/portfolio/order_groups/og-1/limit", s.UpdateOrderGroupLimitRequest(contracts_limit=5)),
        ("PUT", "/portfolio/order_groups/og-1/reset", s.EmptyResponse()),
    ]


def ws_frames() -> list[msgspec.Struct]:
    lifecycle_created = s.MarketLifecycleMsg(
        event_type="created",
        market_ticker=TICKER,
        exchange_index=0,
        open_ts=1778853600,
        close_ts=1778993940,
        price_level_structure="linear_cent",
        price_ranges=[s.PriceRange(start="0.0000", end="1.0000", step="0.0100")],
        additional_metadata=s.AdditionalMetadata(
            name="Highest temperature in NYC",
            title="Will the high be 78-79°?",
            yes_sub_title="78° to 79°",
            no_sub_title="78° to 79°",
            rules_primary="...",
            rules_secondary="",
            can_close_early=True,
            event_ticker=EVENT,
            expected_expiration_ts=1779026400,
            strike_type="between",
            floor_strike=78,
            cap_strike=79.0,
            custom_strike={},
        ),
    )
    every_lifecycle_key = s.MarketLifecycleMsg(
        event_type="price_level_structure_updated",
        market_ticker=TICKER,
        exchange_index=0,
        open_ts=1,
        close_ts=2,
        result="yes",
        determination_ts=3,
        settlement_value="1.0000",
        settled_ts=4,
        is_deactivated=False,
        price_level_structure="deci_cent",
        price_ranges=[s.PriceRange(start="0.0000", end="1.0000", step="0.0010")],
        additional_metadata=lifecycle_created.additional_metadata,
    )
    metadata_updated = s.MarketLifecycleMsg(
        event_type="metadata_updated",
        market_ticker=TICKER,
        strike_type="between",
        floor_strike=78.0,
        cap_strike=79.0,
        custom_strike={"a": 1},
        yes_sub_title="78° to 79°",
    )
    return [
        s.OrderbookSnapshotFrame(
            sid=2,
            seq=1,
            msg=s.OrderbookSnapshotMsg(
                market_ticker=TICKER,
                market_id=MARKET_ID,
                yes_dollars_fp=[("0.2700", "614.00"), ("0.3800", "1.25")],
                no_dollars_fp=[("0.4000", "616.40")],
            ),
        ),
        s.OrderbookSnapshotFrame(
            sid=2,
            seq=1,
            id=9,
            msg=s.OrderbookSnapshotMsg(market_ticker=TICKER, market_id=MARKET_ID),
            sending_ts_ms=TS_MS,
        ),
        s.OrderbookDeltaFrame(
            sid=2,
            seq=2,
            msg=s.OrderbookDeltaMsg(
                market_ticker=TICKER,
                market_id=MARKET_ID,
                price_dollars="0.3800",
                delta_fp="-74.77",
                side="yes",
                client_order_id=CLIENT_ID,
                subaccount=1,
                ts="2026-05-16T02:53:20.123Z",
                ts_ms=TS_MS,
            ),
        ),
        s.OrderbookDeltaFrame(
            sid=2,
            seq=3,
            msg=s.OrderbookDeltaMsg(
                market_ticker=TICKER, market_id=MARKET_ID, price_dollars="0.6200", delta_fp="5.00", side="no"
            ),
        ),
        s.TickerFrame(
            sid=11,
            msg=s.TickerMsg(
                market_ticker=TICKER,
                market_id=MARKET_ID,
                price_dollars="0.3900",
                yes_bid_dollars="0.3800",
                yes_ask_dollars="0.4100",
                yes_bid_size_fp="1.00",
                yes_ask_size_fp="6.00",
                last_trade_size_fp="2.00",
                volume_fp="1701.64",
                open_interest_fp="1288.65",
                dollar_volume=664,
                dollar_open_interest=502,
                ts=1778900000,
                ts_ms=TS_MS,
                time="2026-05-16T02:53:20.123Z",
            ),
        ),
        s.TradeFrame(
            sid=12,
            seq=4,
            sending_ts_ms=TS_MS + 1,
            msg=s.TradeMsg(
                trade_id=TRADE_ID,
                market_ticker=TICKER,
                yes_price_dollars="0.3900",
                no_price_dollars="0.6100",
                count_fp="2.00",
                taker_outcome_side="yes",
                taker_book_side="bid",
                taker_side="yes",
                is_block_trade=False,
                ts=1778900000,
                ts_ms=TS_MS,
            ),
        ),
        s.FillFrame(
            sid=13,
            msg=s.FillMsg(
                trade_id=TRADE_ID,
                order_id=ORDER_ID,
                market_ticker=TICKER,
                exchange_index=0,
                is_taker=True,
                outcome_side="yes",
                book_side="bid",
                side="yes",
                action="buy",
                purchased_side="yes",
                yes_price_dollars="0.3900",
                count_fp="2.00",
                fee_cost="0.0400",
                post_position_fp="12.00",
                client_order_id=CLIENT_ID,
                subaccount=0,
                ts=1778900000,
                ts_ms=TS_MS,
            ),
        ),
        s.UserOrderFrame(
            sid=22,
            msg=s.UserOrderMsg(
                order_id=ORDER_ID,
                user_id=USER_ID,
                ticker=TICKER,
                exchange_index=0,
                status="resting",
                outcome_side="yes",
                book_side="bid",
                side="yes",
                is_yes=True,
                yes_price_dollars="0.3800",
                initial_count_fp="10.00",
                fill_count_fp="0.00",
                remaining_count_fp="10.00",
                taker_fill_cost_dollars="0.0000",
                maker_fill_cost_dollars="0.0000",
                taker_fees_dollars="0.0000",
                maker_fees_dollars="0.0000",
                client_order_id="my-order-1",
                order_group_id="og-1",
                self_trade_prevention_type="maker",
                created_time="2026-05-16T02:53:20Z",
                created_ts_ms=1778900000000,
                last_update_time="2026-05-16T02:53:20Z",
                last_updated_ts_ms=1778900000000,
                last_update_reason="Amend",
                expiration_time="2026-05-16T03:53:20Z",
                expiration_ts_ms=1778903600000,
                subaccount_number=0,
            ),
        ),
        s.MarketPositionFrame(
            sid=14,
            msg=s.MarketPositionMsg(
                user_id=USER_ID,
                market_ticker=TICKER,
                position_fp="-12.00",
                position_cost_dollars="4.6800",
                realized_pnl_dollars="0.0000",
                fees_paid_dollars="0.2000",
                position_fee_cost_dollars="0.2000",
                volume_fp="12.00",
                subaccount=0,
            ),
        ),
        s.MarketLifecycleFrame(sid=5, seq=1, msg=lifecycle_created),
        s.MarketLifecycleFrame(sid=5, seq=2, msg=every_lifecycle_key, sending_ts_ms=TS_MS),
        s.MarketLifecycleFrame(sid=5, seq=3, msg=metadata_updated),
        s.MarketLifecycleFrame(
            sid=5,
            seq=4,
            msg=s.MarketLifecycleMsg(
                event_type="determined",
                market_ticker=TICKER,
                result="yes",
                determination_ts=1778990000,
                settlement_value="1.0000",
            ),
        ),
        s.MultivariateMarketLifecycleFrame(
            sid=6,
            seq=1,
            msg=s.MarketLifecycleMsg(event_type="settled", market_ticker="KXMVE-X-M1", settled_ts=1778990000),
        ),
        s.EventLifecycleFrame(
            sid=5,
            seq=5,
            msg=s.EventLifecycleMsg(
                event_ticker="KXHIGHNY-26MAY17",
                exchange_index=0,
                title="Highest temperature in NYC on May 17, 2026?",
                subtitle="May 17",
                collateral_return_type="MECNET",
                series_ticker="KXHIGHNY",
                strike_date=1779000000,
                strike_period="day",
            ),
        ),
        s.EventFeeUpdateFrame(
            sid=5,
            seq=6,
            msg=s.EventFeeUpdateMsg(event_ticker=EVENT, fee_type_override="quadratic", fee_multiplier_override=0.5),
        ),
        s.EventFeeUpdateFrame(
            sid=5,
            seq=7,
            msg=s.EventFeeUpdateMsg(event_ticker=EVENT, fee_type_override=None, fee_multiplier_override=None),
        ),
        s.OrderGroupUpdatesFrame(
            sid=21,
            seq=7,
            msg=s.OrderGroupUpdatesMsg(
                event_type="limit_updated", order_group_id="og-1", contracts_limit_fp="150.00", ts_ms=TS_MS
            ),
        ),
        s.OrderGroupUpdatesFrame(
            sid=21, seq=8, msg=s.OrderGroupUpdatesMsg(event_type="triggered", order_group_id="og-1", ts_ms=TS_MS)
        ),
        s.SubscribedFrame(id=1, msg=s.SubscribedMsg(channel="orderbook_delta", sid=1), sending_ts_ms=TS_MS),
        s.SubscribedFrame(msg=s.SubscribedMsg(channel="ticker", sid=2)),
        s.UnsubscribedFrame(id=124, sid=1, seq=7),
        s.UnsubscribedFrame(sid=1, seq=7),
        s.OkFrame(id=125, sid=456, seq=222, msg=s.OkMsg(market_tickers=[TICKER], market_ids=[MARKET_ID])),
        s.OkFrame(id=126, sid=456, seq=223),
        s.OkFrame(
            id=3, msg=[s.SubscriptionInfo(channel="orderbook_delta", sid=1), s.SubscriptionInfo(channel="fill", sid=3)]
        ),
        s.ErrorFrame(
            id=123,
            msg=s.ErrorMsg(
                code=s.WsErrorCode.INVALID_PARAMETER, msg="Invalid parameter", market_tickers=["NOPE-1", "NOPE-2"]
            ),
            sending_ts_ms=TS_MS,
        ),
        s.ErrorFrame(msg=s.ErrorMsg(code=10, msg="Channel error", market_ticker=TICKER), sid=2, seq=9),
    ]


def ws_commands() -> list[msgspec.Struct]:
    return [
        s.SubscribeCommand(
            id=1,
            params=s.SubscribeParams(
                channels=["orderbook_delta", "ticker"],
                market_tickers=[TICKER, "KXHIGHNY-26MAY16-T83"],
                send_initial_snapshot=True,
                skip_ticker_ack=False,
                use_yes_price=False,
            ),
        ),
        s.SubscribeCommand(id=2, params=s.SubscribeParams(channels=["fill", "user_orders", "market_positions"])),
        s.SubscribeCommand(
            id=3, params=s.SubscribeParams(channels=["ticker"], market_id=MARKET_ID, market_ticker=TICKER)
        ),
        s.SubscribeCommand(
            id=4,
            params=s.SubscribeParams(
                channels=["communications", "cfbenchmarks_value", "pyth_value"],
                market_ids=[MARKET_ID],
                shard_factor=2,
                shard_key=1,
                index_ids=["BRTI"],
                underlying_tickers=["Metal.XAU/USD"],
            ),
        ),
        s.UnsubscribeCommand(id=124, params=s.UnsubscribeParams(sids=[1, 2])),
        s.UpdateSubscriptionCommand(
            id=125,
            params=s.UpdateSubscriptionParams(action="add_markets", sid=456, market_tickers=["KXHIGHNY-26MAY17-B80.5"]),
        ),
        s.UpdateSubscriptionCommand(
            id=126,
            params=s.UpdateSubscriptionParams(
                action="get_snapshot",
                sids=[456],
                market_ticker=TICKER,
                market_id=MARKET_ID,
                market_ids=[MARKET_ID],
                send_initial_snapshot=True,
            ),
        ),
        s.ListSubscriptionsCommand(id=3),
    ]


# ============================================================================================
# Encode → validate → decode


@pytest.mark.parametrize(("method", "path", "status", "body"), rest_responses())
def test_rest_responses_match_the_documented_response(
    method: str, path: str, status: int, body: msgspec.Struct
) -> None:
    data = encode(body)
    spec.validate_response(method, path, status, data, closed=status < 400)
    if status >= 400:
        spec.validate_error_body(status, data)
    assert msgspec.json.decode(s.ENCODER.encode(body), type=type(body)) == body


@pytest.mark.parametrize(("method", "path", "body"), rest_requests())
def test_rest_requests_match_the_documented_request(method: str, path: str, body: msgspec.Struct) -> None:
    spec.validate_request(method, path, encode(body), closed=True)
    assert msgspec.json.decode(s.ENCODER.encode(body), type=type(body)) == body


@pytest.mark.parametrize("frame", ws_frames(), ids=lambda f: type(f).__name__)
def test_ws_frames_match_the_asyncapi_message(frame: msgspec.Struct) -> None:
    raw = s.ENCODER.encode(frame)
    spec.validate_ws_message(json.loads(raw), closed=True)
    assert s.SERVER_FRAME_DECODER.decode(raw) == frame
    assert s.decode_server_frame(raw) == frame


@pytest.mark.parametrize("command", ws_commands(), ids=lambda c: type(c).__name__)
def test_ws_commands_match_the_asyncapi_command(command: msgspec.Struct) -> None:
    raw = s.ENCODER.encode(command)
    spec.validate_ws_command(json.loads(raw), closed=True)
    assert s.COMMAND_DECODER.decode(raw) == command


def structs_in(value: Any) -> Iterator[type]:
    if isinstance(value, msgspec.Struct):
        yield type(value)
        for name in value.__struct_fields__:
            yield from structs_in(getattr(value, name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from structs_in(item)


NOT_ENCODED_BY_THE_EXCHANGE = {s.CommandEnvelope, s.FrameEnvelope, s.UnknownFrame}


def test_every_struct_is_encoded_and_validated_above() -> None:
    seen: set[type] = set()
    for *_, body in rest_responses():
        seen.update(structs_in(body))
    for *_, body in rest_requests():
        seen.update(structs_in(body))
    for value in [*ws_frames(), *ws_commands()]:
        seen.update(structs_in(value))
    defined = {
        obj
        for obj in vars(s).values()
        if isinstance(obj, type) and issubclass(obj, msgspec.Struct) and obj.__module__ == s.__name__
    }
    defined.discard(s._Wire)
    assert defined - seen - NOT_ENCODED_BY_THE_EXCHANGE == set()


def test_unset_and_none_defaults_are_omitted_never_null() -> None:
    minimal = s.CreateOrderV2Response(order_id=ORDER_ID, fill_count="0.00", remaining_count="1.00", ts_ms=1)
    assert encode(minimal) == {"order_id": ORDER_ID, "fill_count": "0.00", "remaining_count": "1.00", "ts_ms": 1}
    amend = encode(s.AmendOrderV2Response(order_id=ORDER_ID, ts_ms=1))
    assert amend == {"order_id": ORDER_ID, "ts_ms": 1}
    market = encode(market_minimal())
    assert None not in market.values()
    assert "settlement_value_dollars" not in market
    assert "mve_selected_legs" not in market


def test_snapshot_omits_an_empty_side_but_rest_orderbook_always_sends_both() -> None:
    snapshot = s.OrderbookSnapshotMsg(market_ticker=TICKER, market_id=MARKET_ID, no_dollars_fp=[("0.40", "1.00")])
    assert set(encode(snapshot)) == {"market_ticker", "market_id", "no_dollars_fp"}
    assert encode(s.OrderbookCountFp()) == {"yes_dollars": [], "no_dollars": []}


def test_required_nullable_fields_are_sent_as_null() -> None:
    data = encode(series_minimal())
    assert data["tags"] is None
    assert data["settlement_sources"] is None
    cleared = encode(s.EventFeeUpdateMsg(event_ticker=EVENT, fee_type_override=None, fee_multiplier_override=None))
    assert cleared == {"event_ticker": EVENT, "fee_type_override": None, "fee_multiplier_override": None}


# ============================================================================================
# Decoding the documents' examples

OPENAPI_EXAMPLE_STRUCTS: dict[str, type[msgspec.Struct]] = {
    "CreateOrderV2Request": s.CreateOrderV2Request,
    "CreateOrderV2Response": s.CreateOrderV2Response,
    "CancelOrderV2Response": s.CancelOrderV2Response,
    "AmendOrderV2Request": s.AmendOrderV2Request,
    "AmendOrderV2Response": s.AmendOrderV2Response,
    "DecreaseOrderV2Request": s.DecreaseOrderV2Request,
    "DecreaseOrderV2Response": s.DecreaseOrderV2Response,
    "BatchCreateOrdersV2Request": s.BatchCreateOrdersV2Request,
    "BatchCreateOrdersV2Response": s.BatchCreateOrdersV2Response,
    "BatchCancelOrdersV2Request": s.BatchCancelOrdersV2Request,
    "BatchCancelOrdersV2Response": s.BatchCancelOrdersV2Response,
}


@pytest.mark.parametrize(("name", "cls"), OPENAPI_EXAMPLE_STRUCTS.items())
def test_openapi_examples_decode_and_round_trip(name: str, cls: type[msgspec.Struct]) -> None:
    example = spec.openapi_document()["components"]["schemas"][name]["example"]
    decoded = msgspec.json.decode(json.dumps(example), type=cls)
    assert encode(decoded) == example


def test_openapi_has_no_other_examples_for_wire_structs() -> None:
    with_examples = {n for n, sch in spec.openapi_document()["components"]["schemas"].items() if "example" in sch}
    modelled = {name for name in with_examples if hasattr(s, name)}
    assert modelled == set(OPENAPI_EXAMPLE_STRUCTS)


def asyncapi_examples() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, message in spec.asyncapi_document()["components"]["messages"].items():
        for example in message.get("examples", ()):
            payload = example["payload"]
            if isinstance(payload, dict):
                out.append((f"{name}.{example['name']}", payload))
    return out


# Examples whose re-encoding differs from the original, and why.
UNMODELLED_WS_EXAMPLE_KEYS = {
    # cfbenchmarks/pyth update_subscription use other payload schemas (index_ids/underlying_tickers
    # are not update_subscription params for the market channels); decoding drops them.
    "cfbenchmarksUpdateSubscriptionCommand.subscribeIndices",
    "cfbenchmarksUpdateSubscriptionCommand.unsubscribeIndices",
    "cfbenchmarksUpdateSubscriptionCommand.subscribeAllIndices",
    "pythUpdateSubscriptionCommand.subscribeUnderlyings",
    "pythUpdateSubscriptionCommand.unsubscribeUnderlyings",
    "pythUpdateSubscriptionCommand.subscribeAllUnderlyings",
}


@pytest.mark.parametrize(("key", "payload"), asyncapi_examples(), ids=[k for k, _ in asyncapi_examples()])
def test_asyncapi_examples_decode(key: str, payload: dict[str, Any]) -> None:
    raw = json.dumps(payload).encode()
    if "cmd" in payload:
        decoded: Any = s.COMMAND_DECODER.decode(raw)
    else:
        decoded = s.decode_server_frame(raw)
        if payload["type"] not in s.SERVER_FRAME_TYPES:
            assert isinstance(decoded, s.UnknownFrame)
            assert decoded.type == payload["type"]
            return
    if key not in UNMODELLED_WS_EXAMPLE_KEYS:
        assert encode(decoded) == payload


def test_asyncapi_examples_carry_the_2026_fields() -> None:
    examples = dict(asyncapi_examples())
    trade = s.SERVER_FRAME_DECODER.decode(json.dumps(examples["trade.tradeNotification"]))
    assert isinstance(trade, s.TradeFrame)
    assert (trade.seq, trade.sending_ts_ms, trade.msg.taker_book_side) == (2, 1669149841123, "ask")
    order = s.SERVER_FRAME_DECODER.decode(json.dumps(examples["userOrder.userOrderCreated"]))
    assert isinstance(order, s.UserOrderFrame)
    assert order.msg.exchange_index == 2
    assert order.msg.taker_fees_dollars == "0.000000"
    assert order.msg.last_update_reason is s.UNSET
    metadata = s.SERVER_FRAME_DECODER.decode(json.dumps(examples["marketMetadataUpdated.metadataUpdated"]))
    assert isinstance(metadata, s.MarketLifecycleFrame)
    assert metadata.msg.event_type == "metadata_updated"
    # An order whose state Kalshi cannot tell right now, with no creation time.
    unknown = {**examples["userOrder.userOrderCreated"]}
    unknown["msg"] = {**unknown["msg"], "status": "unknown", "created_ts_ms": None, "created_time": None}
    decoded = s.SERVER_FRAME_DECODER.decode(json.dumps(unknown))
    assert isinstance(decoded, s.UserOrderFrame)
    assert (decoded.msg.status, decoded.msg.created_ts_ms, decoded.msg.created_time) == ("unknown", None, None)


def test_composed_ws_examples_decode() -> None:
    frames = example_frames()
    decoded = {name: s.decode_server_frame(json.dumps(f)) for name, f in frames.items() if "type" in f}
    assert not any(isinstance(f, s.UnknownFrame) for f in decoded.values())

    snapshot = decoded["orderbook_snapshot"]
    assert isinstance(snapshot, s.OrderbookSnapshotFrame)
    assert [parse_qty(s.wire_str(q)) for _, q in snapshot.msg.no_dollars_fp] == [61640, 600]  # "616.40"
    delta = decoded["orderbook_delta"]
    assert isinstance(delta, s.OrderbookDeltaFrame)
    assert (parse_price(delta.msg.price_dollars), parse_qty(delta.msg.delta_fp)) == (3800, -100)
    assert delta.msg.client_order_id == "0b7f5c8e-..."
    ticker = decoded["ticker"]
    assert isinstance(ticker, s.TickerFrame)
    assert (ticker.msg.dollar_volume, parse_qty(ticker.msg.volume_fp)) == (664, 170164)
    user_order = decoded["user_order"]
    assert isinstance(user_order, s.UserOrderFrame)
    assert user_order.msg.order_group_id is None
    assert user_order.msg.expiration_ts_ms is None
    assert user_order.msg.created_time is None
    assert "order_group_id" not in encode(user_order.msg)  # null is accepted, never sent
    lifecycle = decoded["market_lifecycle_v2"]
    assert isinstance(lifecycle, s.MarketLifecycleFrame)
    assert (lifecycle.msg.event_type, lifecycle.msg.settlement_value) == ("determined", "1.0000")
    fee = decoded["event_fee_update"]
    assert isinstance(fee, s.EventFeeUpdateFrame)
    assert fee.msg.fee_multiplier_override == 1
    ok_list = decoded["ok_list"]
    assert isinstance(ok_list, s.OkFrame)
    assert isinstance(ok_list.msg, list)
    assert [(i.channel, i.sid) for i in ok_list.msg] == [("orderbook_delta", 1), ("ticker", 2)]
    ok_update = decoded["ok_update"]
    assert isinstance(ok_update, s.OkFrame)
    assert isinstance(ok_update.msg, s.OkMsg)
    error = decoded["error"]
    assert isinstance(error, s.ErrorFrame)
    assert error.msg.code == 6  # "Already subscribed", retired since: decoded all the same

    commands = {name: s.COMMAND_DECODER.decode(json.dumps(f)) for name, f in frames.items() if "cmd" in f}
    assert isinstance(commands["subscribe"], s.SubscribeCommand)
    assert commands["subscribe"].params.market_tickers == [TICKER, "KXHIGHNY-26MAY16-T83"]
    assert isinstance(commands["update_subscription"], s.UpdateSubscriptionCommand)
    assert commands["update_subscription"].params.sid == 456
    assert isinstance(commands["list_subscriptions"], s.ListSubscriptionsCommand)


def strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def test_composed_rest_examples_decode() -> None:
    bodies = load("rest_examples.json")["bodies"]
    bodies["GetSeriesResponse"]["series"]["categories"] = [bodies["GetSeriesResponse"]["series"]["category"]]
    for key, body in bodies.items():
        cls = getattr(s, key.split(".")[0])
        decoded = msgspec.json.decode(json.dumps(body), type=cls)
        if key == "GetSeriesResponse":
            # nullable-required fields keep their null; optional nulls are dropped on re-encode
            assert encode(decoded) == {**body, "series": strip_nulls(body["series"])}
        else:
            assert encode(decoded) == strip_nulls(body)
    book = msgspec.json.decode(json.dumps(bodies["GetMarketOrderbookResponse"]), type=s.GetMarketOrderbookResponse)
    best_yes_bid = max(parse_price(p) for p, _ in book.orderbook_fp.yes_dollars)
    best_yes_ask = 10_000 - max(parse_price(p) for p, _ in book.orderbook_fp.no_dollars)
    assert (best_yes_bid, best_yes_ask) == (4200, 4400)


def test_documented_orderbook_response_decodes() -> None:
    body = (FIXTURES / "docs" / "getting_started.orderbook_responses.json").read_bytes()
    book = s.decoder_for(s.GetMarketOrderbookResponse).decode(body)
    assert len(book.orderbook_fp.yes_dollars) == 12
    assert book.orderbook_fp.no_dollars[-1] == ("0.5600", "17.00")


# ============================================================================================
# Tolerance


def test_numbers_where_strings_are_documented() -> None:
    frames = {name: s.decode_server_frame(json.dumps(f)) for name, f in load("ws_numbers.json")["frames"].items()}
    delta = frames["orderbook_delta_numbers"]
    assert isinstance(delta, s.OrderbookDeltaFrame)
    assert delta.msg.price_dollars == 0.38
    assert (parse_price(s.wire_str(delta.msg.price_dollars)), parse_qty(s.wire_str(delta.msg.delta_fp))) == (
        3800,
        -5400,
    )
    fractional = frames["orderbook_delta_fractional"]
    assert isinstance(fractional, s.OrderbookDeltaFrame)
    assert parse_qty(s.wire_str(fractional.msg.delta_fp)) == 7477
    snapshot = frames["orderbook_snapshot_numbers"]
    assert isinstance(snapshot, s.OrderbookSnapshotFrame)
    yes = [(parse_price(s.wire_str(p)), parse_qty(s.wire_str(q))) for p, q in snapshot.msg.yes_dollars_fp]
    no = [(parse_price(s.wire_str(p)), parse_qty(s.wire_str(q))) for p, q in snapshot.msg.no_dollars_fp]
    assert (yes, no) == ([(2700, 61400), (3800, 100)], [(4000, 61640)])
    ticker = frames["ticker_numbers"]
    assert isinstance(ticker, s.TickerFrame)
    assert parse_qty(s.wire_str(ticker.msg.yes_ask_size_fp)) == 650
    assert parse_qty(s.wire_str(ticker.msg.volume_fp)) == 170164
    assert ticker.msg.ts == "2026-05-16T02:53:20Z"  # deprecated ts: a string where an int is documented


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("0.3800", "0.3800"),
        (0.38, "0.38"),
        (-54, "-54"),
        (-54.0, "-54.0"),
        (616.4, "616.4"),
        (1701.64, "1701.64"),
        (1e-05, "0.00001"),
        (1e20, "100000000000000000000"),
        (0, "0"),
    ],
)
def test_wire_str(value: s.WireNum, text: str) -> None:
    assert s.wire_str(value) == text


def test_wire_str_rejects_what_is_not_a_number() -> None:
    for bad in (float("nan"), float("inf"), float("-inf"), True, None, [1]):
        with pytest.raises(ValueError, match="expected a"):
            s.wire_str(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="more than 4 decimal places"):
        parse_price(s.wire_str(1e-05))


def test_unknown_fields_are_ignored_at_every_level() -> None:
    frame = encode(ws_frames()[2])
    frame["new_envelope_key"] = 1
    frame["msg"]["new_field"] = {"nested": [1, 2]}
    decoded = s.decode_server_frame(json.dumps(frame))
    assert isinstance(decoded, s.OrderbookDeltaFrame)
    assert decoded == ws_frames()[2]
    body = encode(s.GetMarketResponse(market=market_full()))
    body["market"]["brand_new_field"] = "x"
    body["market"]["price_ranges"][0]["extra"] = True
    body["market"]["tick_size"] = 1  # removed legacy field
    assert s.decoder_for(s.GetMarketResponse).decode(json.dumps(body)).market == market_full()


def test_deprecated_fields_may_be_missing() -> None:
    market = encode(market_full())
    for deprecated in ("title", "subtitle", "expiration_time"):
        del market[deprecated]
    decoded = msgspec.json.decode(json.dumps(market), type=s.Market)
    assert decoded.title is s.UNSET
    fill = encode(fill_full())
    del fill["side"], fill["action"]
    assert msgspec.json.decode(json.dumps(fill), type=s.Fill).action is s.UNSET
    ws_fill = encode(ws_frames()[6])
    for deprecated in ("side", "action", "purchased_side", "ts"):
        del ws_fill["msg"][deprecated]
    decoded_fill = s.SERVER_FRAME_DECODER.decode(json.dumps(ws_fill))
    assert isinstance(decoded_fill, s.FillFrame)
    assert decoded_fill.msg.book_side == "bid"


def test_removed_fields_are_gone() -> None:
    """``liquidity_dollars`` (markets, Oct 2026) and ``available_on_brokers`` (events, Sep 2026)
    were removed: not modelled, not sent, ignored if an old build still sends them."""
    assert "liquidity_dollars" not in encode(market_full())
    assert "available_on_brokers" not in encode(event_full())
    old_market = {**encode(market_minimal()), "liquidity_dollars": "0.0000"}
    assert msgspec.json.decode(json.dumps(old_market), type=s.Market) == market_minimal()


def test_missing_required_fields_fail_loudly() -> None:
    frame = encode(ws_frames()[2])
    del frame["msg"]["price_dollars"]
    with pytest.raises(msgspec.ValidationError, match=r"missing required field `price_dollars` - at `\$.msg`"):
        s.decode_server_frame(json.dumps(frame))
    market = encode(market_minimal())
    del market["price_ranges"]
    with pytest.raises(msgspec.ValidationError, match="price_ranges"):
        msgspec.json.decode(json.dumps(market), type=s.Market)


def test_null_in_a_non_nullable_field_is_rejected() -> None:
    market = encode(market_minimal())
    market["strike_type"] = None
    with pytest.raises(msgspec.ValidationError, match="strike_type"):
        msgspec.json.decode(json.dumps(market), type=s.Market)


def test_rest_orderbook_side_may_be_missing() -> None:
    book = s.decoder_for(s.GetMarketOrderbookResponse).decode(b'{"orderbook_fp": {"yes_dollars": [["0.10", "1"]]}}')
    assert book.orderbook_fp.no_dollars == []


def test_error_bodies_in_every_form() -> None:
    nested = s.ERROR_RESPONSE_DECODER.decode(b'{"error": {"code": "not_found", "message": "no such order"}}')
    assert nested.detail() == s.ErrorDetail(code="not_found", message="no such order")
    rate_limited = s.ERROR_RESPONSE_DECODER.decode(b'{"error": "too many requests"}')
    assert rate_limited == s.RATE_LIMITED
    assert rate_limited.detail() == s.ErrorDetail(message="too many requests")
    flat = s.ERROR_RESPONSE_DECODER.decode(b'{"code": "invalid_order", "message": "m", "details": "post only cross"}')
    assert flat.detail() == s.ErrorDetail(code="invalid_order", message="m", details="post only cross")
    service = s.ERROR_RESPONSE_DECODER.decode(b'{"error": {"code": "x", "service": "exchange"}}')
    assert service.detail().code == "x"
    assert encode(s.ErrorResponse.of("order_already_exists", "duplicate client_order_id")) == {
        "error": {"code": "order_already_exists", "message": "duplicate client_order_id", "details": ""}
    }


def test_unknown_frame_types_are_returned_not_raised() -> None:
    raw = b'{"type": "rfq_created", "sid": 15, "msg": {"id": "rfq_1"}}'
    frame = s.decode_server_frame(raw)
    assert frame == s.UnknownFrame(type="rfq_created", sid=15, raw=raw)
    with pytest.raises(msgspec.ValidationError):
        s.SERVER_FRAME_DECODER.decode(raw)


def test_malformed_frames_raise() -> None:
    with pytest.raises(msgspec.DecodeError):
        s.decode_server_frame(b'{"type": "orderbook_delta", "sid": ')
    with pytest.raises(msgspec.ValidationError, match="Object missing required field `type`"):
        s.decode_server_frame(b'{"sid": 1, "msg": {}}')
    with pytest.raises(msgspec.ValidationError):
        s.decode_server_frame(b'{"type": "ticker", "sid": "eleven", "msg": {}}')
    with pytest.raises(msgspec.ValidationError, match="Expected `object`, got `array`"):
        s.decode_server_frame(b"[1, 2]")


def test_commands_strictly_and_loosely() -> None:
    with pytest.raises(msgspec.ValidationError, match="Invalid value 'bogus'"):
        s.COMMAND_DECODER.decode(b'{"id": 1, "cmd": "bogus"}')
    with pytest.raises(msgspec.ValidationError, match="params"):
        s.COMMAND_DECODER.decode(b'{"id": 1, "cmd": "subscribe"}')
    loose = s.COMMAND_ENVELOPE_DECODER.decode(b'{"id": 7, "cmd": "subscribe"}')
    assert (loose.id, loose.cmd, loose.params) == (7, "subscribe", s.UNSET)
    loose = s.COMMAND_ENVELOPE_DECODER.decode(b'{"cmd": "unsubscribe", "params": {"sids": []}}')
    assert (loose.id, loose.params) == (0, {"sids": []})
    params = msgspec.convert({"channels": ["ticker"], "market_ticker": TICKER, "future_option": 1}, s.SubscribeParams)
    assert params == s.SubscribeParams(channels=["ticker"], market_ticker=TICKER)


def test_ws_error_codes_match_the_asyncapi_table() -> None:
    documented = {c["code"]: c["name"] for c in spec.asyncapi_document()["x-error-codes"]["codes"]}
    assert {int(code): text for code, text in s.WS_ERROR_MESSAGES.items()} == documented
    assert set(s.WsErrorCode) == set(s.WS_ERROR_MESSAGES)
    assert {int(c) for c in s.WS_TERMINAL_ERRORS} == {10, 25}
    assert not {6, 16, 17} & {int(c) for c in s.WsErrorCode}  # retired


def test_server_frame_types_are_asyncapi_types() -> None:
    assert spec.ws_message_types() >= s.SERVER_FRAME_TYPES


def test_decoders_are_cached() -> None:
    assert s.decoder_for(s.Market) is s.decoder_for(s.Market)


# ============================================================================================
# Field-by-field agreement with the documents

_OPENAPI = "openapi"
_ASYNCAPI = "asyncapi"

# struct -> (document, pointer of its schema)
SCHEMA_OF: dict[type[msgspec.Struct], tuple[str, str]] = {}


def _openapi(cls: type[msgspec.Struct], name: str | None = None, suffix: str = "") -> None:
    SCHEMA_OF[cls] = (_OPENAPI, f"#/components/schemas/{name or cls.__name__}{suffix}")


def _asyncapi(cls: type[msgspec.Struct], payload: str, suffix: str = "") -> None:
    SCHEMA_OF[cls] = (_ASYNCAPI, f"#/components/schemas/{payload}{suffix}")


for _cls in (
    s.EmptyResponse, s.ExchangeIndexStatus, s.ExchangeStatus, s.DailySchedule, s.WeeklySchedule,
    s.MaintenanceWindow, s.Schedule, s.GetExchangeScheduleResponse, s.GetUserDataTimestampResponse,
    s.SettlementSource, s.Series, s.GetSeriesResponse, s.GetSeriesListResponse, s.PriceRange, s.MveSelectedLeg,
    s.Market, s.GetMarketResponse, s.GetMarketsResponse, s.EventData, s.GetEventResponse, s.GetEventsResponse,
    s.OrderbookCountFp, s.GetMarketOrderbookResponse, s.MarketOrderbookFp, s.GetMarketOrderbooksResponse,
    s.Trade, s.GetTradesResponse, s.IndexedBalance, s.GetBalanceResponse, s.MarketPosition, s.EventPosition,
    s.GetPositionsResponse, s.Fill, s.GetFillsResponse, s.Settlement, s.GetSettlementsResponse, s.Order,
    s.GetOrderResponse, s.GetOrdersResponse, s.CreateOrderV2Request, s.CreateOrderV2Response,
    s.CancelOrderV2Response, s.AmendOrderV2Request, s.AmendOrderV2Response, s.DecreaseOrderV2Request,
    s.DecreaseOrderV2Response, s.BatchCreateOrdersV2Request, s.BatchCreateOrdersV2Response,
    s.BatchCancelOrdersV2Request, s.BatchCancelOrdersV2Response, s.OrderQueuePosition,
    s.GetOrderQueuePositionResponse, s.GetOrderQueuePositionsResponse, s.CreateOrderGroupRequest,
    s.CreateOrderGroupResponse, s.OrderGroup, s.GetOrderGroupsResponse, s.GetOrderGroupResponse,
    s.UpdateOrderGroupLimitRequest, s.BucketLimit, s.ApiUsageLevelGrant, s.GetAccountApiLimitsResponse,
    s.EndpointTokenCost, s.GetAccountEndpointCostsResponse,
):  # fmt: skip
    _openapi(_cls)
for _cls in (
    s.GetHistoricalCutoffResponse, s.BidAskDistribution, s.PriceDistribution, s.MarketCandlestick,
    s.GetMarketCandlesticksResponse, s.MarketCandlesticksResponse, s.BatchGetMarketCandlesticksResponse,
    s.BidAskDistributionHistorical, s.PriceDistributionHistorical, s.MarketCandlestickHistorical,
    s.GetMarketCandlesticksHistoricalResponse,
):  # fmt: skip
    _openapi(_cls)
_openapi(s.ErrorDetail, "ErrorResponse")
_openapi(s.BatchCreateOrdersV2Result, "BatchCreateOrdersV2Response", "/properties/orders/items")
_openapi(s.BatchCancelOrdersV2RequestOrder, "BatchCancelOrdersV2Request", "/properties/orders/items")
_openapi(s.BatchCancelOrdersV2Result, "BatchCancelOrdersV2Response", "/properties/orders/items")

for _cls, _payload in (
    (s.SubscribeCommand, "subscribeCommandPayload"),
    (s.UnsubscribeCommand, "unsubscribeCommandPayload"),
    (s.UpdateSubscriptionCommand, "updateSubscriptionCommandPayload"),
    (s.ListSubscriptionsCommand, "listSubscriptionsCommandPayload"),
    (s.SubscribedFrame, "subscribedResponsePayload"),
    (s.UnsubscribedFrame, "unsubscribedResponsePayload"),
    (s.OkFrame, "okResponsePayload"),
    (s.ErrorFrame, "errorResponsePayload"),
    (s.OrderbookSnapshotFrame, "orderbookSnapshotPayload"),
    (s.OrderbookDeltaFrame, "orderbookDeltaPayload"),
    (s.TickerFrame, "tickerPayload"),
    (s.TradeFrame, "tradePayload"),
    (s.FillFrame, "fillPayload"),
    (s.UserOrderFrame, "userOrderPayload"),
    (s.MarketPositionFrame, "marketPositionPayload"),
    (s.MarketLifecycleFrame, "marketLifecycleV2Payload"),
    (s.EventLifecycleFrame, "eventLifecyclePayload"),
    (s.EventFeeUpdateFrame, "eventFeeUpdatePayload"),
    (s.OrderGroupUpdatesFrame, "orderGroupUpdatesPayload"),
):
    _asyncapi(_cls, _payload)
for _cls, _payload in (
    (s.SubscribeParams, "subscribeCommandPayload"),
    (s.UnsubscribeParams, "unsubscribeCommandPayload"),
    (s.UpdateSubscriptionParams, "updateSubscriptionCommandPayload"),
):
    _asyncapi(_cls, _payload, "/properties/params")
for _cls, _payload in (
    (s.SubscribedMsg, "subscribedResponsePayload"),
    (s.OkMsg, "okResponsePayload"),
    (s.ErrorMsg, "errorResponsePayload"),
    (s.OrderbookSnapshotMsg, "orderbookSnapshotPayload"),
    (s.OrderbookDeltaMsg, "orderbookDeltaPayload"),
    (s.TickerMsg, "tickerPayload"),
    (s.TradeMsg, "tradePayload"),
    (s.FillMsg, "fillPayload"),
    (s.UserOrderMsg, "userOrderPayload"),
    (s.MarketPositionMsg, "marketPositionPayload"),
    (s.MarketLifecycleMsg, "marketLifecycleV2Payload"),
    (s.EventLifecycleMsg, "eventLifecyclePayload"),
    (s.EventFeeUpdateMsg, "eventFeeUpdatePayload"),
    (s.OrderGroupUpdatesMsg, "orderGroupUpdatesPayload"),
):
    _asyncapi(_cls, _payload, "/properties/msg")
_asyncapi(s.SubscriptionInfo, "listSubscriptionsResponsePayload", "/properties/msg/items")
_asyncapi(s.AdditionalMetadata, "marketLifecycleV2Payload", "/properties/msg/properties/additional_metadata")

_asyncapi(s.MultivariateMarketLifecycleFrame, "multivariateMarketLifecyclePayload")

# ``market_lifecycle_v2`` frames carry two documented message shapes (metadata_updated is its own);
# one struct holds both, required where both require.
ALSO_DOCUMENTED: dict[type, str] = {
    s.MarketLifecycleMsg: "#/components/schemas/marketMetadataUpdatedPayload/properties/msg",
}
# The live envelope ErrorResponse is not in openapi.yaml.
NOT_IN_A_SCHEMA = {
    s.ErrorResponse,
    s.CommandEnvelope,
    s.FrameEnvelope,
    s.UnknownFrame,
}

# Schema-required fields that the struct makes optional, beyond the deprecated ones (which are always
# optional): pre-2026 builds omitted an empty side. The exchange always sends both.
TOLERATED_MISSING: dict[type, set[str]] = {
    s.OrderbookCountFp: {"yes_dollars", "no_dollars"},
}
# Not nullable in the document, but null is accepted on decode (the servers send null; docs/kalshi-protocol.md).
TOLERATED_NULL: dict[type, set[str]] = {s.UserOrderMsg: {"order_group_id", "expiration_ts_ms"}}
# ``type: ok`` is also the list_subscriptions reply, whose ``msg`` is an array.
EXTRA_TYPES: dict[tuple[type, str], set[str]] = {(s.OkFrame, "msg"): {"array"}}

_KIND = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", tuple: "array", dict: "object"}


def _doc(name: str) -> Any:
    return spec.openapi_document() if name == _OPENAPI else spec.asyncapi_document()


def _resolve(doc: Any, node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and single-item ``allOf`` (the documents' way of adding a description)."""
    while True:
        if "$ref" in node:
            node = spec._resolve_pointer(doc, spec._pointer_of_ref(node["$ref"]))
        elif "allOf" in node and len(node["allOf"]) == 1 and "type" not in node:
            node = node["allOf"][0]
        else:
            return node


def _kinds(hint: Any) -> tuple[set[str], bool, bool]:
    """(JSON kinds, accepts null, accepts UNSET) of a struct field annotation."""
    members = (
        typing.get_args(hint) if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union else (hint,)
    )
    kinds: set[str] = set()
    for member in members:
        origin = typing.get_origin(member) or member
        if member in (NoneType, s.UnsetType):
            continue
        if isinstance(origin, type) and issubclass(origin, msgspec.Struct):
            kinds.add("object")
        else:
            kinds.add(_KIND[origin])
    return kinds, NoneType in members, s.UnsetType in members


def schema_cases() -> list[tuple[type[msgspec.Struct], str, str]]:
    return [(cls, doc, pointer) for cls, (doc, pointer) in SCHEMA_OF.items()]


def test_every_struct_has_a_schema() -> None:
    structs = {
        obj
        for obj in vars(s).values()
        if isinstance(obj, type) and issubclass(obj, msgspec.Struct) and obj.__module__ == s.__name__
    }
    assert structs - {s._Wire} - NOT_IN_A_SCHEMA == set(SCHEMA_OF)


@pytest.mark.parametrize(("cls", "doc_name", "pointer"), schema_cases(), ids=lambda v: getattr(v, "__name__", ""))
def test_fields_required_and_nullable_as_documented(cls: type[msgspec.Struct], doc_name: str, pointer: str) -> None:
    doc = _doc(doc_name)
    schema = _resolve(doc, spec._resolve_pointer(doc, pointer))
    properties: dict[str, Any] = dict(schema.get("properties", {}))
    required = set(schema.get("required", ()))
    if cls in ALSO_DOCUMENTED:
        other = _resolve(doc, spec._resolve_pointer(doc, ALSO_DOCUMENTED[cls]))
        properties.update({k: v for k, v in other["properties"].items() if k not in properties})
        required &= set(other.get("required", ()))
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in msgspec.structs.fields(cls)}
    tag_field = cls.__struct_config__.tag_field
    problems: list[str] = []

    if tag_field is not None:
        const = _resolve(doc, properties.get(tag_field, {})).get("const")
        if const != cls.__struct_config__.tag:
            problems.append(f"tag {tag_field}={cls.__struct_config__.tag!r} but the schema says {const!r}")
    documented = set(properties) - ({tag_field} if tag_field else set())
    if missing := documented - set(fields):
        problems.append(f"schema properties missing from the struct: {sorted(missing)}")
    if invented := set(fields) - documented:
        problems.append(f"struct fields not in the schema: {sorted(invented)}")

    for name in sorted(set(fields) & documented):
        node = properties[name]
        target = _resolve(doc, node)
        deprecated = bool(node.get("deprecated") or target.get("deprecated"))
        nullable = bool(node.get("nullable") or target.get("nullable"))
        kinds, takes_null, takes_unset = _kinds(hints[name])
        field_info = fields[name]
        has_default = field_info.default is not msgspec.NODEFAULT or field_info.default_factory is not msgspec.NODEFAULT
        schema_kind = target.get("type")
        if isinstance(schema_kind, list):  # JSON Schema's way of saying nullable: ["string", "null"]
            nullable = nullable or "null" in schema_kind
            (schema_kind,) = [k for k in schema_kind if k != "null"]
        allowed = {schema_kind} | EXTRA_TYPES.get((cls, name), set()) if schema_kind else kinds
        if schema_kind == "number":
            allowed |= {"number"}
        wire_num = kinds == {"string", "integer", "number"} and doc_name == _ASYNCAPI
        if not (kinds <= allowed or (schema_kind == "string" and wire_num) or (deprecated and schema_kind in kinds)):
            problems.append(f"{name}: struct kinds {sorted(kinds)} vs schema type {schema_kind!r}")
        if name in required and not deprecated and name not in TOLERATED_MISSING.get(cls, set()):
            if has_default:
                problems.append(f"{name}: required in the schema but has a default in the struct")
        elif name not in required and not has_default:
            problems.append(f"{name}: optional in the schema but required in the struct")
        if nullable != takes_null and name not in TOLERATED_NULL.get(cls, set()):
            problems.append(f"{name}: schema nullable={nullable}, struct accepts None={takes_null}")
        if has_default and not nullable and name not in TOLERATED_NULL.get(cls, set()):
            # An optional, non-nullable field must be omitted when absent: UNSET, [] or a factory.
            ok = takes_unset or field_info.default_factory is not msgspec.NODEFAULT
            if not ok:
                problems.append(f"{name}: optional and not nullable, so its default must be UNSET or []")
        if has_default and nullable and field_info.default is not None and name in required:
            problems.append(f"{name}: required+nullable must not have a default")
    assert not problems, f"{cls.__name__} vs {doc_name}.yaml{pointer}:\n  " + "\n  ".join(problems)
