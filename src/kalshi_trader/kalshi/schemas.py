"""Kalshi's wire format: ``msgspec`` structs for REST v2 and WebSocket v2 (current fixed-point API).

Shared by the client (decode) and the embedded exchange (encode), so both speak exactly what
``openapi.yaml`` / ``asyncapi.yaml`` (docs.kalshi.com, 2026-10-08; REST 3.32.0) document.

Contract:

- **Names.** Field names are the documents' names. REST structs carry the OpenAPI
  ``components/schemas`` name (``Market``, ``CreateOrderV2Request``, ``GetMarketsResponse`` ...);
  the few inline item schemas are named after their parent (``BatchCreateOrdersV2Result``).
  WebSocket payloads are ``<Name>Msg`` and their envelopes ``<Name>Frame`` (``OrderbookDeltaFrame``
  = ``{"type": "orderbook_delta", "sid", "seq", "msg": OrderbookDeltaMsg}``).
- **Values stay as text.** Prices (``*_dollars``) and counts (``*_fp``) are the wire strings;
  the adapter parses them once with ``domain.parse_price`` / ``parse_qty`` / ``parse_money``.
  Timestamps are what the wire carries: RFC 3339 strings on REST objects, integers (``*_ts``
  seconds, ``*_ts_ms`` milliseconds) on WebSocket messages; every WebSocket frame (data and
  control) may carry ``sending_ts_ms``, when Kalshi queued it at the network layer. Enumerations
  are plain ``str`` so that a value Kalshi adds later does not break decoding (a user order's
  ``status`` may be ``unknown``); the allowed values are noted per field.
- **Required-ness and nullability follow the documents:**

  - required → a field without a default (decoding fails loudly when it is missing);
  - optional, not nullable → ``T | UnsetType = UNSET``: omitted when unset, never ``null``;
  - optional and nullable → ``T | None = None``: accepted as ``null`` or absent, omitted when
    ``None`` (``omit_defaults``; the documents allow omission of every optional field);
  - required and nullable → ``T | None`` without a default (always sent, may be ``null``);
  - optional arrays → ``list[...]`` defaulting to ``[]``, omitted when empty (absent ≡ empty;
    this is exactly the WS snapshot's "a side's key is OMITTED when empty");
  - one deliberate exception: REST ``OrderbookCountFp`` requires both ladders and always sends
    both (``[]`` when empty), but decodes a missing one as ``[]`` (older builds omitted it).

- **Decoding is tolerant** where the live API needs it:

  - unknown fields are ignored (msgspec's default);
  - fields the documents mark *deprecated* are optional (``UNSET``) even where the schema lists
    them as required (``side``, ``action``, ``is_yes``, ``purchased_side``, ``taker_side``,
    ``ts``, ``time``, ``created_time`` ...). The exchange still sends every required one;
  - WebSocket prices and counts are typed ``WireNum = str | int | float``: documented as strings,
    they have been seen as JSON numbers on the live feed. Normalise with ``wire_str`` before
    parsing (``parse_price(wire_str(msg.price_dollars))``); the exchange always sends strings.
    Deprecated WS ``ts`` fields accept an integer or a string (their type changed in 2026);
  - WS ``user_order.order_group_id`` and ``expiration_ts_ms`` accept ``null`` (not nullable in the
    AsyncAPI, but sent as ``null`` by the servers; docs/kalshi-protocol.md); ``None`` is never sent.

- **Errors.** ``ErrorResponse`` is the envelope the live API sends:
  ``{"error": {"code", "message", "details"}}``, or ``{"error": "too many requests"}`` on 429;
  the flat form of openapi.yaml's ``ErrorResponse`` is accepted too. ``ErrorDetail`` is that flat
  schema (also used for per-item errors in batch replies). ``.detail()`` normalises all three.
- **Commands.** ``COMMAND_DECODER`` decodes a client command strictly (a tagged union on ``cmd``);
  ``COMMAND_ENVELOPE_DECODER`` reads any command loosely so the exchange can answer a malformed
  one with the right ``WsErrorCode`` and message (``WS_ERROR_MESSAGES``).
- **Speed.** ``ENCODER`` and the pre-built decoders are module-level (``decoder_for(T)`` caches one
  per REST type). WebSocket server frames decode in one pass through a tagged union keyed on
  ``type`` (``SERVER_FRAME_DECODER``, about 0.3 µs for an ``orderbook_delta``); use
  ``decode_server_frame`` to get an ``UnknownFrame`` instead of an error for message types this
  module does not model. Structs are untracked by the GC (``gc=False``: they never form cycles).

This module imports nothing of the project.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import IntEnum
from typing import Any, Final, TypeVar

import msgspec
from msgspec import UNSET as UNSET
from msgspec import UnsetType as UnsetType
from msgspec import field

T = TypeVar("T")

WireNum = str | int | float
"""A WebSocket price or count: documented as a string (``"0.3800"``, ``"-54.00"``) but sometimes
sent as a JSON number. Pass it through ``wire_str`` before ``domain.parse_price``/``parse_qty``."""

PriceLevel = tuple[str, str]
"""A REST orderbook level: ``[price_dollars, count_fp]``."""

WireLevel = tuple[WireNum, WireNum]
"""A WebSocket orderbook snapshot level: ``[price_dollars, count_fp]`` (strings, numbers tolerated)."""


def wire_str(value: WireNum) -> str:
    """The decimal text of a WebSocket price/count, whatever JSON type it arrived as.

    Strings pass through unchanged (validation is ``domain.parse_*``'s job); integers become their
    digits; floats become the shortest decimal that round-trips (``0.38`` → ``"0.38"``,
    ``-54.0`` → ``"-54.0"``, ``1e-05`` → ``"0.00001"``), never an exponent form. NaN and infinities
    raise ``ValueError``. Booleans are rejected (``True`` is an ``int`` to Python, not to JSON)."""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a decimal number, got {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        try:
            number = Decimal(repr(value))
        except InvalidOperation:  # pragma: no cover - repr of a float is always a Decimal literal
            raise ValueError(f"expected a decimal number, got {value!r}") from None
        if not number.is_finite():
            raise ValueError(f"expected a finite decimal number, got {value!r}")
        return format(number, "f")
    if isinstance(value, str):  # a str subclass
        return str(value)
    raise ValueError(f"expected a decimal string or number, got {type(value).__name__} {value!r}")


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Base of every wire struct (the configuration is inherited). Not ``frozen``: mypy would
    require every subclass to repeat it; treat decoded structs as read-only values anyway."""


def _list() -> Any:
    return field(default_factory=list)


# ============================================================================================
# REST — errors


class ErrorDetail(_Wire):
    """openapi.yaml ``ErrorResponse`` (flat, every field optional)."""

    code: str | UnsetType = UNSET
    message: str | UnsetType = UNSET
    details: str | UnsetType = UNSET


class ErrorResponse(_Wire):
    """An error body as the live API sends it.

    Encode with ``ErrorResponse.of(code, message, details)`` (→ ``{"error": {...}}``) or
    ``RATE_LIMITED`` (→ ``{"error": "too many requests"}``, the documented 429 body). Decoding also
    accepts the flat form that openapi.yaml documents (``{"code": ..., "message": ...}``)."""

    error: ErrorDetail | str | UnsetType = UNSET
    code: str | UnsetType = UNSET
    message: str | UnsetType = UNSET
    details: str | UnsetType = UNSET

    @staticmethod
    def of(code: str, message: str, details: str = "") -> ErrorResponse:
        """The nested form with all three keys, as the exchange sends it:
        ``{"error": {"code": code, "message": message, "details": details}}``."""
        return ErrorResponse(error=ErrorDetail(code=code, message=message, details=details))

    def detail(self) -> ErrorDetail:
        """The error as one flat ``ErrorDetail`` whichever form arrived (a bare 429 string becomes
        the ``message``)."""
        if isinstance(self.error, ErrorDetail):
            return self.error
        if isinstance(self.error, str):
            return ErrorDetail(message=self.error)
        return ErrorDetail(code=self.code, message=self.message, details=self.details)


RATE_LIMITED: Final = ErrorResponse(error="too many requests")
"""The documented 429 body."""


class EmptyResponse(_Wire):
    """``{}`` — order-group reset/trigger/limit/delete replies."""


# ============================================================================================
# REST — exchange


class ExchangeIndexStatus(_Wire):
    exchange_index: int
    description: str
    exchange_active: bool
    trading_active: bool
    intra_exchange_transfers_active: bool


class ExchangeStatus(_Wire):
    """``GET /exchange/status``."""

    exchange_active: bool
    trading_active: bool
    intra_exchange_transfers_active: bool | UnsetType = UNSET
    exchange_estimated_resume_time: str | None = None
    exchange_index_statuses: list[ExchangeIndexStatus] = _list()


class DailySchedule(_Wire):
    open_time: str  # "HH:MM" US Eastern
    close_time: str


class WeeklySchedule(_Wire):
    start_time: str
    end_time: str
    monday: list[DailySchedule]
    tuesday: list[DailySchedule]
    wednesday: list[DailySchedule]
    thursday: list[DailySchedule]
    friday: list[DailySchedule]
    saturday: list[DailySchedule]
    sunday: list[DailySchedule]


class MaintenanceWindow(_Wire):
    start_datetime: str
    end_datetime: str


class Schedule(_Wire):
    standard_hours: list[WeeklySchedule]
    maintenance_windows: list[MaintenanceWindow]


class GetExchangeScheduleResponse(_Wire):
    """``GET /exchange/schedule``."""

    schedule: Schedule


class GetUserDataTimestampResponse(_Wire):
    """``GET /exchange/user_data_timestamp``."""

    as_of_time: str


# ============================================================================================
# REST — series, events, markets


class SettlementSource(_Wire):
    name: str | UnsetType = UNSET
    url: str | UnsetType = UNSET


class Series(_Wire):
    ticker: str
    frequency: str
    title: str
    category: str  # the primary one of ``categories``
    categories: list[str]
    tags: list[str] | None
    settlement_sources: list[SettlementSource] | None
    contract_url: str
    contract_terms_url: str
    fee_type: str  # quadratic | quadratic_with_maker_fees | quadratic_with_combo_maker_fees | flat
    fee_multiplier: float
    additional_prohibitions: list[str] | None
    product_metadata: dict[str, Any] | None = None
    volume_fp: str | UnsetType = UNSET
    last_updated_ts: str | UnsetType = UNSET  # RFC 3339 despite the name
    exchange_index: int | UnsetType = UNSET


class GetSeriesResponse(_Wire):
    """``GET /series/{series_ticker}``."""

    series: Series


class GetSeriesListResponse(_Wire):
    """``GET /series``."""

    series: list[Series]


class PriceRange(_Wire):
    """One band of a market's price grid, in dollars (REST ``price_ranges`` and WS lifecycle)."""

    start: str
    end: str
    step: str


class MveSelectedLeg(_Wire):
    event_ticker: str | UnsetType = UNSET
    market_ticker: str | UnsetType = UNSET
    side: str | UnsetType = UNSET
    yes_settlement_value_dollars: str | None = None


class Market(_Wire):
    """A market (``GET /markets``, ``GET /markets/{ticker}``, nested in events)."""

    ticker: str
    event_ticker: str
    market_type: str  # binary | scalar
    yes_sub_title: str
    no_sub_title: str
    created_time: str
    updated_time: str
    open_time: str
    close_time: str
    latest_expiration_time: str
    settlement_timer_seconds: int
    status: str  # initialized | inactive | active | closed | determined | disputed | amended | finalized
    notional_value_dollars: str
    yes_bid_dollars: str
    yes_ask_dollars: str
    no_bid_dollars: str
    no_ask_dollars: str
    yes_bid_size_fp: str
    yes_ask_size_fp: str
    last_price_dollars: str
    previous_yes_bid_dollars: str
    previous_yes_ask_dollars: str
    previous_price_dollars: str
    volume_fp: str
    volume_24h_fp: str
    open_interest_fp: str
    result: str  # yes | no | scalar | "" (until determined)
    can_close_early: bool
    expiration_value: str
    rules_primary: str
    rules_secondary: str
    price_level_structure: str
    price_ranges: list[PriceRange]
    settlement_bounds_type: str  # default | floor
    # optional
    settlement_floor_dollars: str | None = None  # the lowest YES value; only with "floor"
    title: str | UnsetType = UNSET  # deprecated
    subtitle: str | UnsetType = UNSET  # deprecated
    expiration_time: str | UnsetType = UNSET  # deprecated
    expected_expiration_time: str | None = None
    settlement_value_dollars: str | None = None
    settlement_ts: str | None = None
    occurrence_datetime: str | None = None
    fee_waiver_expiration_time: str | None = None
    early_close_condition: str | None = None
    strike_type: str | UnsetType = UNSET  # greater | greater_or_equal | less | less_or_equal | between | ...
    floor_strike: float | None = None
    cap_strike: float | None = None
    functional_strike: str | None = None
    custom_strike: dict[str, Any] | None = None
    mve_collection_ticker: str | UnsetType = UNSET
    mve_selected_legs: list[MveSelectedLeg] = _list()
    primary_participant_key: str | None = None
    is_provisional: bool | UnsetType = UNSET
    exchange_index: int | UnsetType = UNSET


class GetMarketResponse(_Wire):
    """``GET /markets/{ticker}``."""

    market: Market


class GetMarketsResponse(_Wire):
    """``GET /markets`` (cursor ``""`` on the last page)."""

    markets: list[Market]
    cursor: str


class EventData(_Wire):
    event_ticker: str
    series_ticker: str
    sub_title: str
    title: str
    collateral_return_type: str  # MECNET | DIRECNET | ""
    mutually_exclusive: bool  # true only for MECNET
    settlement_sources: list[SettlementSource] | None
    category: str | UnsetType = UNSET  # deprecated
    strike_date: str | None = None
    strike_period: str | None = None
    markets: list[Market] = _list()  # only with with_nested_markets=true
    product_metadata: dict[str, Any] | None = None
    last_updated_ts: str | UnsetType = UNSET  # RFC 3339 despite the name
    fee_type_override: str | None = None
    fee_multiplier_override: float | None = None
    exchange_index: int | UnsetType = UNSET


class GetEventResponse(_Wire):
    """``GET /events/{event_ticker}`` (top-level ``markets`` is deprecated but required)."""

    event: EventData
    markets: list[Market]


class GetEventsResponse(_Wire):
    """``GET /events``. ``milestones`` (only with ``with_milestones``) is kept as raw objects."""

    events: list[EventData]
    cursor: str
    milestones: list[dict[str, Any]] = _list()


# ============================================================================================
# REST — orderbook and trades


class OrderbookCountFp(_Wire, omit_defaults=False):
    """Both ladders are bids, ``[price_dollars, count_fp]``, ascending (best bid last). Both keys
    are always sent (``[]`` when empty); a missing key decodes as ``[]``."""

    yes_dollars: list[PriceLevel] = _list()
    no_dollars: list[PriceLevel] = _list()


class GetMarketOrderbookResponse(_Wire):
    """``GET /markets/{ticker}/orderbook``."""

    orderbook_fp: OrderbookCountFp


class MarketOrderbookFp(_Wire):
    ticker: str
    orderbook_fp: OrderbookCountFp


class GetMarketOrderbooksResponse(_Wire):
    """``GET /markets/orderbooks``."""

    orderbooks: list[MarketOrderbookFp]


class Trade(_Wire):
    """A public trade (``GET /markets/trades``)."""

    trade_id: str
    ticker: str
    count_fp: str
    yes_price_dollars: str
    no_price_dollars: str
    taker_outcome_side: str  # yes | no
    taker_book_side: str  # bid | ask
    created_time: str
    is_block_trade: bool
    taker_side: str | UnsetType = UNSET  # deprecated


class GetTradesResponse(_Wire):
    """``GET /markets/trades``."""

    trades: list[Trade]
    cursor: str


# ============================================================================================
# REST — portfolio reads


class IndexedBalance(_Wire):
    exchange_index: int
    balance: str  # dollars


class GetBalanceResponse(_Wire):
    """``GET /portfolio/balance``. ``balance`` and ``portfolio_value`` are integer **cents**;
    ``updated_ts`` is unix seconds."""

    balance: int
    balance_dollars: str
    portfolio_value: int
    updated_ts: int
    balance_breakdown: list[IndexedBalance] = _list()


class MarketPosition(_Wire):
    ticker: str
    exchange_index: int
    total_traded_dollars: str
    position_fp: str  # signed: + YES, - NO
    market_exposure_dollars: str
    realized_pnl_dollars: str
    fees_paid_dollars: str
    last_updated_ts: str  # RFC 3339 despite the name


class EventPosition(_Wire):
    event_ticker: str
    total_cost_dollars: str
    total_cost_shares_fp: str
    event_exposure_dollars: str
    realized_pnl_dollars: str
    fees_paid_dollars: str


class GetPositionsResponse(_Wire):
    """``GET /portfolio/positions``."""

    market_positions: list[MarketPosition]
    event_positions: list[EventPosition]
    cursor: str | UnsetType = UNSET


class Fill(_Wire):
    """One of our executions (``GET /portfolio/fills``)."""

    fill_id: str
    exchange_index: int
    trade_id: str
    order_id: str
    ticker: str
    market_ticker: str
    outcome_side: str  # yes | no (OutcomeSide)
    book_side: str  # bid | ask
    count_fp: str
    yes_price_dollars: str
    no_price_dollars: str
    is_taker: bool
    fee_cost: str
    side: str | UnsetType = UNSET  # deprecated
    action: str | UnsetType = UNSET  # deprecated
    created_time: str | UnsetType = UNSET
    subaccount_number: int | None = None
    ts: int | UnsetType = UNSET  # unix seconds


class GetFillsResponse(_Wire):
    """``GET /portfolio/fills``."""

    fills: list[Fill]
    cursor: str


class Settlement(_Wire):
    """``GET /portfolio/settlements``. ``revenue`` and ``value`` are integer **cents**."""

    ticker: str
    exchange_index: int
    event_ticker: str
    market_result: str  # yes | no | scalar
    yes_count_fp: str
    yes_total_cost_dollars: str
    no_count_fp: str
    no_total_cost_dollars: str
    revenue: int
    settled_time: str
    fee_cost: str
    value: int | None = None


class GetSettlementsResponse(_Wire):
    """``GET /portfolio/settlements``."""

    settlements: list[Settlement]
    cursor: str | UnsetType = UNSET


# ============================================================================================
# REST — orders


class Order(_Wire):
    """An order as read back (``GET /portfolio/orders[/{order_id}]``). Prices are per leg."""

    order_id: str
    user_id: str
    client_order_id: str
    ticker: str
    outcome_side: str  # yes | no
    book_side: str  # bid | ask
    type: str  # limit | market
    status: str  # resting | canceled | executed
    yes_price_dollars: str
    no_price_dollars: str
    fill_count_fp: str
    remaining_count_fp: str
    initial_count_fp: str
    taker_fees_dollars: str
    maker_fees_dollars: str
    taker_fill_cost_dollars: str
    maker_fill_cost_dollars: str
    side: str | UnsetType = UNSET  # deprecated
    action: str | UnsetType = UNSET  # deprecated
    expiration_time: str | None = None
    created_time: str | None = None
    last_update_time: str | None = None
    self_trade_prevention_type: str | None = None  # taker_at_cross | maker
    order_group_id: str | None = None
    cancel_order_on_pause: bool | UnsetType = UNSET
    subaccount_number: int | None = None
    exchange_index: int | UnsetType = UNSET


class GetOrderResponse(_Wire):
    """``GET /portfolio/orders/{order_id}``."""

    order: Order


class GetOrdersResponse(_Wire):
    """``GET /portfolio/orders``."""

    orders: list[Order]
    cursor: str


class CreateOrderV2Request(_Wire):
    """``POST /portfolio/events/orders``. ``side`` is the YES-leg book side (bid = buy YES / sell NO,
    ask = sell YES / buy NO) and ``price`` is always the YES price."""

    ticker: str
    side: str  # bid | ask
    count: str
    price: str
    time_in_force: str  # fill_or_kill | good_till_canceled | immediate_or_cancel
    self_trade_prevention_type: str  # taker_at_cross | maker
    client_order_id: str | UnsetType = UNSET
    expiration_time: int | UnsetType = UNSET  # unix seconds, GTC only
    post_only: bool | UnsetType = UNSET
    cancel_order_on_pause: bool | UnsetType = UNSET
    reduce_only: bool | UnsetType = UNSET
    subaccount: int | UnsetType = UNSET
    order_group_id: str | UnsetType = UNSET
    exchange_index: int | UnsetType = UNSET


class CreateOrderV2Response(_Wire):
    """Create ack (201). No status, ticker, side or price: derive status from the counts."""

    order_id: str
    fill_count: str
    remaining_count: str
    ts_ms: int
    client_order_id: str | UnsetType = UNSET
    average_fill_price: str | UnsetType = UNSET  # only when fill_count > 0
    average_fee_paid: str | UnsetType = UNSET  # per contract, only when fill_count > 0


class CancelOrderV2Response(_Wire):
    """``DELETE /portfolio/events/orders/{order_id}``."""

    order_id: str
    reduced_by: str
    ts_ms: int
    client_order_id: str | UnsetType = UNSET


class AmendOrderV2Request(_Wire):
    """``POST /portfolio/events/orders/{order_id}/amend``; ``count`` = filled + desired remaining.
    ``expiration_time`` (Unix seconds): omitted keeps the expiry, ``0`` clears it (GTC)."""

    ticker: str
    side: str  # bid | ask
    price: str
    count: str
    client_order_id: str | UnsetType = UNSET
    updated_client_order_id: str | UnsetType = UNSET
    exchange_index: int | UnsetType = UNSET
    expiration_time: int | UnsetType = UNSET


class AmendOrderV2Response(_Wire):
    order_id: str
    ts_ms: int
    client_order_id: str | UnsetType = UNSET
    remaining_count: str | None = None
    fill_count: str | None = None
    average_fill_price: str | None = None
    average_fee_paid: str | None = None


class DecreaseOrderV2Request(_Wire):
    """``POST /portfolio/events/orders/{order_id}/decrease``: exactly one of ``reduce_by`` /
    ``reduce_to`` (the schema cannot say so; the exchange checks it)."""

    reduce_by: str | None = None
    reduce_to: str | None = None
    exchange_index: int | UnsetType = UNSET
    market_ticker: str | UnsetType = UNSET


class DecreaseOrderV2Response(_Wire):
    order_id: str
    remaining_count: str
    ts_ms: int
    client_order_id: str | UnsetType = UNSET


class BatchCreateOrdersV2Request(_Wire):
    """``POST /portfolio/events/orders/batched``."""

    orders: list[CreateOrderV2Request]


class BatchCreateOrdersV2Result(_Wire):
    """One item of a batch-create reply: an ack, or ``error`` set."""

    order_id: str | UnsetType = UNSET
    client_order_id: str | None = None
    fill_count: str | None = None
    remaining_count: str | None = None
    average_fill_price: str | None = None
    average_fee_paid: str | None = None
    ts_ms: int | None = None
    error: ErrorDetail | None = None


class BatchCreateOrdersV2Response(_Wire):
    orders: list[BatchCreateOrdersV2Result]


class BatchCancelOrdersV2RequestOrder(_Wire):
    order_id: str
    subaccount: int | UnsetType = UNSET
    exchange_index: int | UnsetType = UNSET
    market_ticker: str | UnsetType = UNSET


class BatchCancelOrdersV2Request(_Wire):
    """``DELETE /portfolio/events/orders/batched``."""

    orders: list[BatchCancelOrdersV2RequestOrder]


class BatchCancelOrdersV2Result(_Wire):
    order_id: str
    reduced_by: str  # "0.00" when the item errored
    client_order_id: str | None = None
    ts_ms: int | None = None
    error: ErrorDetail | None = None


class BatchCancelOrdersV2Response(_Wire):
    orders: list[BatchCancelOrdersV2Result]


class OrderQueuePosition(_Wire):
    order_id: str
    market_ticker: str
    queue_position_fp: str


class GetOrderQueuePositionResponse(_Wire):
    """``GET /portfolio/orders/{order_id}/queue_position``: contracts ahead at the same price."""

    queue_position_fp: str


class GetOrderQueuePositionsResponse(_Wire):
    """``GET /portfolio/orders/queue_positions``."""

    queue_positions: list[OrderQueuePosition]


# ============================================================================================
# REST — order groups


class CreateOrderGroupRequest(_Wire):
    """``POST /portfolio/order_groups/create``: ``contracts_limit`` or ``contracts_limit_fp``."""

    subaccount: int | UnsetType = UNSET
    contracts_limit: int | UnsetType = UNSET
    contracts_limit_fp: str | None = None
    exchange_index: int | UnsetType = UNSET


class CreateOrderGroupResponse(_Wire):
    order_group_id: str
    subaccount: int
    exchange_index: int | UnsetType = UNSET


class OrderGroup(_Wire):
    id: str
    is_auto_cancel_enabled: bool
    contracts_limit_fp: str | UnsetType = UNSET
    exchange_index: int | UnsetType = UNSET


class GetOrderGroupsResponse(_Wire):
    """``GET /portfolio/order_groups``."""

    order_groups: list[OrderGroup] = _list()


class GetOrderGroupResponse(_Wire):
    """``GET /portfolio/order_groups/{order_group_id}``."""

    is_auto_cancel_enabled: bool
    orders: list[str]
    contracts_limit_fp: str | UnsetType = UNSET
    exchange_index: int | UnsetType = UNSET


class UpdateOrderGroupLimitRequest(_Wire):
    """``PUT /portfolio/order_groups/{order_group_id}/limit``."""

    contracts_limit: int | UnsetType = UNSET
    contracts_limit_fp: str | None = None


# ============================================================================================
# REST — historical data and candlesticks
# (The historical lists reuse the live responses: ``GetMarketsResponse``, ``GetMarketResponse``,
# ``GetTradesResponse``, ``GetFillsResponse``, ``GetOrdersResponse``, ``GetPositionsResponse``.)


class GetHistoricalCutoffResponse(_Wire):
    """``GET /historical/cutoff``: RFC 3339 times; older records are only under ``/historical``."""

    market_settled_ts: str
    trades_created_ts: str
    orders_updated_ts: str
    market_positions_last_updated_ts: str | UnsetType = UNSET


class BidAskDistribution(_Wire):
    """Open/low/high/close of the best YES bid or ask over a candle's period."""

    open_dollars: str
    low_dollars: str
    high_dollars: str
    close_dollars: str


class PriceDistribution(_Wire):
    """Traded YES prices over a candle's period (``None``: no trade in it)."""

    open_dollars: str | None = None
    low_dollars: str | None = None
    high_dollars: str | None = None
    close_dollars: str | None = None
    mean_dollars: str | None = None
    previous_dollars: str | None = None
    min_dollars: str | None = None
    max_dollars: str | None = None


class MarketCandlestick(_Wire):
    """One period (``end_period_ts``: its inclusive end, unix seconds) of a live market."""

    end_period_ts: int
    yes_bid: BidAskDistribution
    yes_ask: BidAskDistribution
    price: PriceDistribution
    volume_fp: str
    open_interest_fp: str


class GetMarketCandlesticksResponse(_Wire):
    """``GET /series/{series_ticker}/markets/{ticker}/candlesticks``."""

    ticker: str
    candlesticks: list[MarketCandlestick]


class MarketCandlesticksResponse(_Wire):
    market_ticker: str
    candlesticks: list[MarketCandlestick]


class BatchGetMarketCandlesticksResponse(_Wire):
    """``GET /markets/candlesticks``: one entry per requested market."""

    markets: list[MarketCandlesticksResponse]


class BidAskDistributionHistorical(_Wire):
    open: str
    low: str
    high: str
    close: str


class PriceDistributionHistorical(_Wire):
    """Required and nullable: always sent, ``None`` when nothing traded."""

    open: str | None
    low: str | None
    high: str | None
    close: str | None
    mean: str | None
    previous: str | None


class MarketCandlestickHistorical(_Wire):
    """One period of an archived market (flat field names, ``volume`` / ``open_interest``)."""

    end_period_ts: int
    yes_bid: BidAskDistributionHistorical
    yes_ask: BidAskDistributionHistorical
    price: PriceDistributionHistorical
    volume: str
    open_interest: str


class GetMarketCandlesticksHistoricalResponse(_Wire):
    """``GET /historical/markets/{ticker}/candlesticks``."""

    ticker: str
    candlesticks: list[MarketCandlestickHistorical]


# ============================================================================================
# REST — account (rate-limit tier)


class BucketLimit(_Wire):
    refill_rate: int
    bucket_capacity: int


class ApiUsageLevelGrant(_Wire):
    exchange_instance: str  # event_contract | margined
    level: str
    source: str  # volume | manual
    expires_ts: int | None = None


class GetAccountApiLimitsResponse(_Wire):
    """``GET /account/limits``: the key's tier and its read/write buckets."""

    usage_tier: str
    read: BucketLimit
    write: BucketLimit
    grants: list[ApiUsageLevelGrant]


class EndpointTokenCost(_Wire):
    method: str
    path: str
    cost: int


class GetAccountEndpointCostsResponse(_Wire):
    """``GET /account/endpoint_costs``: the endpoints whose cost is not ``default_cost``."""

    default_cost: int
    endpoint_costs: list[EndpointTokenCost]


# ============================================================================================
# WebSocket — client commands ({"id", "cmd", "params"})


class SubscribeParams(_Wire):
    """``channels`` ⊆ orderbook_delta, ticker, trade, fill, market_positions, market_lifecycle_v2,
    multivariate_market_lifecycle, communications, order_group_updates, user_orders, ...;
    ``market_ticker`` xor ``market_tickers``."""

    channels: list[str]
    market_ticker: str | UnsetType = UNSET
    market_tickers: list[str] | UnsetType = UNSET
    market_id: str | UnsetType = UNSET
    market_ids: list[str] | UnsetType = UNSET
    send_initial_snapshot: bool | UnsetType = UNSET
    skip_ticker_ack: bool | UnsetType = UNSET
    use_yes_price: bool | UnsetType = UNSET
    shard_factor: int | UnsetType = UNSET
    shard_key: int | UnsetType = UNSET
    index_ids: list[str] | UnsetType = UNSET
    underlying_tickers: list[str] | UnsetType = UNSET
    user_filter: str | UnsetType = UNSET  # communications: "" | "self"


class SubscribeCommand(_Wire, tag_field="cmd", tag="subscribe"):
    id: int
    params: SubscribeParams


class UnsubscribeParams(_Wire):
    sids: list[int]


class UnsubscribeCommand(_Wire, tag_field="cmd", tag="unsubscribe"):
    id: int
    params: UnsubscribeParams


class UpdateSubscriptionParams(_Wire):
    """``action``: add_markets | delete_markets | get_snapshot; exactly one of ``sid`` / ``sids``."""

    action: str
    sid: int | UnsetType = UNSET
    sids: list[int] | UnsetType = UNSET
    market_ticker: str | UnsetType = UNSET
    market_tickers: list[str] | UnsetType = UNSET
    market_id: str | UnsetType = UNSET
    market_ids: list[str] | UnsetType = UNSET
    send_initial_snapshot: bool | UnsetType = UNSET


class UpdateSubscriptionCommand(_Wire, tag_field="cmd", tag="update_subscription"):
    id: int
    params: UpdateSubscriptionParams


class ListSubscriptionsCommand(_Wire, tag_field="cmd", tag="list_subscriptions"):
    id: int


Command = SubscribeCommand | UnsubscribeCommand | UpdateSubscriptionCommand | ListSubscriptionsCommand
"""A client command; decode with ``COMMAND_DECODER`` (unknown ``cmd`` → ``msgspec.ValidationError``)."""


class CommandEnvelope(_Wire):
    """Any command, loosely: what the exchange reads first so that it can answer a malformed command
    with the right error code (``params`` missing → 2, unknown ``cmd`` → 5, ...) and the caller's
    ``id``. ``id`` 0 means "no id" (AsyncAPI ``commandId``)."""

    id: int = 0
    cmd: str = ""
    params: dict[str, Any] | UnsetType = UNSET


# ============================================================================================
# WebSocket — replies to commands


class SubscribedMsg(_Wire):
    channel: str
    sid: int


class SubscribedFrame(_Wire, tag_field="type", tag="subscribed"):
    msg: SubscribedMsg
    id: int | UnsetType = UNSET
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class UnsubscribedFrame(_Wire, tag_field="type", tag="unsubscribed"):
    sid: int
    seq: int
    id: int | UnsetType = UNSET
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class OkMsg(_Wire):
    """update_subscription reply: the full market list after the update (omitted with
    ``skip_ticker_ack``)."""

    market_tickers: list[str] | UnsetType = UNSET
    market_ids: list[str] | UnsetType = UNSET


class SubscriptionInfo(_Wire):
    channel: str
    sid: int


class OkFrame(_Wire, tag_field="type", tag="ok"):
    """``type: ok`` is two documented messages: the update_subscription reply (``msg`` an object,
    ``sid``/``seq`` set) and the list_subscriptions reply (``msg`` a list, ``id`` set)."""

    id: int | UnsetType = UNSET
    sid: int | UnsetType = UNSET
    seq: int | UnsetType = UNSET
    msg: OkMsg | list[SubscriptionInfo] | UnsetType = UNSET
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class ErrorMsg(_Wire):
    """``market_ticker`` / ``market_tickers``: the markets the error is about, when it is about some."""

    code: int  # see WsErrorCode
    msg: str
    market_ticker: str | UnsetType = UNSET
    market_tickers: list[str] = _list()


class ErrorFrame(_Wire, tag_field="type", tag="error"):
    """``sid``/``seq`` are set when the error is scoped to a subscription (``seq`` on sequenced
    channels, where it takes a number like a data frame)."""

    msg: ErrorMsg
    id: int | UnsetType = UNSET
    sid: int | UnsetType = UNSET
    seq: int | UnsetType = UNSET
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class WsErrorCode(IntEnum):
    """WebSocket error codes (asyncapi.yaml ``x-error-codes``; messages in ``WS_ERROR_MESSAGES``).
    6, 16 and 17 are retired: never sent, numbers reserved."""

    UNABLE_TO_PROCESS = 1
    PARAMS_REQUIRED = 2
    CHANNELS_REQUIRED = 3
    SIDS_REQUIRED = 4
    UNKNOWN_COMMAND = 5
    UNKNOWN_SID = 7
    UNKNOWN_CHANNEL = 8
    AUTH_REQUIRED = 9
    CHANNEL_ERROR = 10
    INVALID_PARAMETER = 11
    EXACTLY_ONE_SID = 12
    UNSUPPORTED_ACTION = 13
    MARKET_TICKER_REQUIRED = 14
    ACTION_REQUIRED = 15
    COMMAND_TIMEOUT = 18
    SHARD_FACTOR_NOT_POSITIVE = 19
    SHARD_FACTOR_REQUIRED = 20
    SHARD_KEY_OUT_OF_RANGE = 21
    SHARD_FACTOR_TOO_LARGE = 22
    MATCH_IDS_REQUIRED = 23
    INDEX_IDS_REQUIRED = 24
    BUFFER_OVERFLOW = 25
    MARKET_LIMIT_EXCEEDED = 26
    TOO_MANY_REQUESTS = 27
    UNDERLYING_TICKERS_REQUIRED = 28


WS_ERROR_MESSAGES: Final[dict[WsErrorCode, str]] = {
    WsErrorCode.UNABLE_TO_PROCESS: "Unable to process message",
    WsErrorCode.PARAMS_REQUIRED: "Params required",
    WsErrorCode.CHANNELS_REQUIRED: "Channels required",
    WsErrorCode.SIDS_REQUIRED: "Subscription IDs required",
    WsErrorCode.UNKNOWN_COMMAND: "Unknown command",
    WsErrorCode.UNKNOWN_SID: "Unknown subscription ID",
    WsErrorCode.UNKNOWN_CHANNEL: "Unknown channel name",
    WsErrorCode.AUTH_REQUIRED: "Authentication required",
    WsErrorCode.CHANNEL_ERROR: "Channel error",
    WsErrorCode.INVALID_PARAMETER: "Invalid parameter",
    WsErrorCode.EXACTLY_ONE_SID: "Exactly one subscription ID is required",
    WsErrorCode.UNSUPPORTED_ACTION: "Unsupported action",
    WsErrorCode.MARKET_TICKER_REQUIRED: "Market Ticker required",
    WsErrorCode.ACTION_REQUIRED: "Action required",
    WsErrorCode.COMMAND_TIMEOUT: "Command timeout",
    WsErrorCode.SHARD_FACTOR_NOT_POSITIVE: "shard_factor must be > 0",
    WsErrorCode.SHARD_FACTOR_REQUIRED: "shard_factor is required when shard_key is set",
    WsErrorCode.SHARD_KEY_OUT_OF_RANGE: "shard_key must be >= 0 and < shard_factor",
    WsErrorCode.SHARD_FACTOR_TOO_LARGE: "shard_factor must be <= 100",
    WsErrorCode.MATCH_IDS_REQUIRED: "Match IDs required",
    WsErrorCode.INDEX_IDS_REQUIRED: "Index IDs required",
    WsErrorCode.BUFFER_OVERFLOW: "Subscription buffer overflow",
    WsErrorCode.MARKET_LIMIT_EXCEEDED: "Subscription market limit exceeded",
    WsErrorCode.TOO_MANY_REQUESTS: "Too many requests",
    WsErrorCode.UNDERLYING_TICKERS_REQUIRED: "Underlying tickers required",
}
"""The documented message text for each code (the exchange sends these verbatim)."""

WS_TERMINAL_ERRORS: Final = frozenset({WsErrorCode.CHANNEL_ERROR, WsErrorCode.BUFFER_OVERFLOW})
"""Errors after which the subscription is dead and must be re-created."""


# ============================================================================================
# WebSocket — data messages


class OrderbookSnapshotMsg(_Wire):
    """Both ladders are bids. A side's key is omitted when that side is empty (decodes as ``[]``).
    Level order is unspecified."""

    market_ticker: str
    market_id: str
    yes_dollars_fp: list[WireLevel] = _list()
    no_dollars_fp: list[WireLevel] = _list()


class OrderbookSnapshotFrame(_Wire, tag_field="type", tag="orderbook_snapshot"):
    """``id`` echoes the command that asked for the snapshot (e.g. ``get_snapshot``), when it had one."""

    sid: int
    seq: int
    msg: OrderbookSnapshotMsg
    id: int | UnsetType = UNSET
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class OrderbookDeltaMsg(_Wire):
    """One level changed: ``side`` (yes | no) names the bid ladder, ``delta_fp`` is the signed
    change at ``price_dollars``. ``client_order_id``/``subaccount`` only when our order did it."""

    market_ticker: str
    market_id: str
    price_dollars: WireNum
    delta_fp: WireNum
    side: str
    client_order_id: str | UnsetType = UNSET
    subaccount: int | UnsetType = UNSET
    ts: str | int | UnsetType = UNSET  # deprecated (RFC 3339)
    ts_ms: int | UnsetType = UNSET


class OrderbookDeltaFrame(_Wire, tag_field="type", tag="orderbook_delta"):
    sid: int
    seq: int
    msg: OrderbookDeltaMsg
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class TickerMsg(_Wire):
    """``dollar_volume`` / ``dollar_open_interest`` are whole dollars (integers)."""

    market_ticker: str
    market_id: str
    price_dollars: WireNum
    yes_bid_dollars: WireNum
    yes_ask_dollars: WireNum
    yes_bid_size_fp: WireNum
    yes_ask_size_fp: WireNum
    last_trade_size_fp: WireNum
    volume_fp: WireNum
    open_interest_fp: WireNum
    dollar_volume: int
    dollar_open_interest: int
    ts_ms: int
    ts: int | str | UnsetType = UNSET  # deprecated (unix seconds)
    time: str | UnsetType = UNSET  # deprecated (RFC 3339)


class TickerFrame(_Wire, tag_field="type", tag="ticker"):
    sid: int
    msg: TickerMsg
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class TradeMsg(_Wire):
    trade_id: str
    market_ticker: str
    yes_price_dollars: WireNum
    no_price_dollars: WireNum
    count_fp: WireNum
    is_block_trade: bool
    ts_ms: int
    taker_outcome_side: str  # yes | no
    taker_book_side: str  # bid | ask
    taker_side: str | UnsetType = UNSET  # deprecated
    ts: int | str | UnsetType = UNSET  # deprecated


class TradeFrame(_Wire, tag_field="type", tag="trade"):
    sid: int
    seq: int
    msg: TradeMsg
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class FillMsg(_Wire):
    """One of our fills; ``trade_id`` identifies it. Only the YES price is sent."""

    trade_id: str
    order_id: str
    market_ticker: str
    exchange_index: int
    is_taker: bool
    yes_price_dollars: WireNum
    count_fp: WireNum
    post_position_fp: WireNum
    ts_ms: int
    fee_cost: WireNum
    outcome_side: str  # yes | no
    book_side: str  # bid | ask
    side: str | UnsetType = UNSET  # deprecated
    action: str | UnsetType = UNSET  # deprecated: buy | sell | sell_partial | sell_to_close | ""
    purchased_side: str | UnsetType = UNSET  # deprecated
    client_order_id: str | UnsetType = UNSET
    subaccount: int | UnsetType = UNSET
    ts: int | str | UnsetType = UNSET  # deprecated


class FillFrame(_Wire, tag_field="type", tag="fill"):
    sid: int
    msg: FillMsg
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class UserOrderMsg(_Wire):
    """An order created/updated/filled/canceled (channel ``user_orders``). Note ``ticker``.
    Fill costs and fees have 6 decimals. ``last_update_reason`` says what the update was (see
    ``LAST_UPDATE_REASONS``); absent on creation and on a cancel the owner asked for."""

    order_id: str
    user_id: str
    ticker: str
    exchange_index: int
    status: str  # resting | canceled | executed | unknown
    yes_price_dollars: WireNum
    fill_count_fp: WireNum
    remaining_count_fp: WireNum
    initial_count_fp: WireNum
    taker_fill_cost_dollars: WireNum
    maker_fill_cost_dollars: WireNum
    taker_fees_dollars: WireNum
    maker_fees_dollars: WireNum
    client_order_id: str
    created_ts_ms: int | None
    outcome_side: str  # yes | no
    book_side: str  # bid | ask
    side: str | UnsetType = UNSET  # deprecated
    is_yes: bool | UnsetType = UNSET  # deprecated
    created_time: str | None = None  # deprecated (required in the schema, nullable; always sent)
    order_group_id: str | None = None  # null tolerated on decode, never sent
    self_trade_prevention_type: str | UnsetType = UNSET
    last_update_time: str | UnsetType = UNSET  # deprecated
    last_updated_ts_ms: int | UnsetType = UNSET
    last_update_reason: str | UnsetType = UNSET
    expiration_time: str | UnsetType = UNSET  # deprecated
    expiration_ts_ms: int | None = None  # null tolerated on decode, never sent
    subaccount_number: int | UnsetType = UNSET


LAST_UPDATE_REASONS: Final = frozenset(
    {
        "Decrease",
        "Amend",
        "MarginCancel",
        "SelfTradeCancel",
        "ExpiryCancel",
        "CloseCancel",
        "HaltCancel",
        "Trade",
        "PostOnlyCrossCancel",
        "ReduceOnlyCancel",
        "SettlementBoundsCancel",
    }
)
"""``user_order.last_update_reason`` values (User Orders page; ``SettlementBoundsCancel``: a raised
settlement floor put the resting order out of bounds)."""


class UserOrderFrame(_Wire, tag_field="type", tag="user_order"):
    sid: int
    msg: UserOrderMsg
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class MarketPositionMsg(_Wire):
    """Our position in one market changed (channel ``market_positions``)."""

    user_id: str
    market_ticker: str
    position_fp: WireNum
    position_cost_dollars: WireNum
    realized_pnl_dollars: WireNum
    fees_paid_dollars: WireNum
    position_fee_cost_dollars: WireNum
    volume_fp: WireNum
    subaccount: int | UnsetType = UNSET


class MarketPositionFrame(_Wire, tag_field="type", tag="market_position"):
    sid: int
    msg: MarketPositionMsg
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class AdditionalMetadata(_Wire):
    """``market_lifecycle_v2`` ``created`` details."""

    name: str
    title: str
    yes_sub_title: str
    no_sub_title: str
    rules_primary: str
    rules_secondary: str
    can_close_early: bool
    event_ticker: str
    expected_expiration_ts: int
    strike_type: str | UnsetType = UNSET
    floor_strike: float | UnsetType = UNSET
    cap_strike: float | UnsetType = UNSET
    custom_strike: dict[str, Any] | UnsetType = UNSET


class MarketLifecycleMsg(_Wire):
    """``event_type``: created | activated | deactivated | close_date_updated | determined | settled |
    price_level_structure_updated, or metadata_updated (a message of its own shape in the documents:
    ``market_ticker``, the strike fields and ``yes_sub_title`` only). Which optional keys appear
    depends on it; ``*_ts`` are unix seconds."""

    event_type: str
    market_ticker: str
    exchange_index: int | UnsetType = UNSET
    open_ts: int | UnsetType = UNSET
    close_ts: int | UnsetType = UNSET
    result: str | UnsetType = UNSET
    determination_ts: int | UnsetType = UNSET
    settlement_value: WireNum | UnsetType = UNSET
    settled_ts: int | UnsetType = UNSET
    is_deactivated: bool | UnsetType = UNSET
    price_level_structure: str | UnsetType = UNSET
    price_ranges: list[PriceRange] | UnsetType = UNSET
    strike_type: str | UnsetType = UNSET
    floor_strike: float | UnsetType = UNSET
    cap_strike: float | UnsetType = UNSET
    custom_strike: dict[str, Any] | UnsetType = UNSET
    yes_sub_title: str | UnsetType = UNSET
    additional_metadata: AdditionalMetadata | UnsetType = UNSET


class MarketLifecycleFrame(_Wire, tag_field="type", tag="market_lifecycle_v2"):
    sid: int
    seq: int
    msg: MarketLifecycleMsg
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class MultivariateMarketLifecycleFrame(_Wire, tag_field="type", tag="multivariate_market_lifecycle"):
    sid: int
    seq: int
    msg: MarketLifecycleMsg
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class EventLifecycleMsg(_Wire):
    """An event was created. ``collateral_return_type``: MECNET | DIRECNET | ""."""

    event_ticker: str
    exchange_index: int
    title: str
    subtitle: str
    collateral_return_type: str
    series_ticker: str
    strike_date: int | UnsetType = UNSET  # unix seconds
    strike_period: str | UnsetType = UNSET


class EventLifecycleFrame(_Wire, tag_field="type", tag="event_lifecycle"):
    sid: int
    seq: int
    msg: EventLifecycleMsg
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class EventFeeUpdateMsg(_Wire):
    """Both ``null`` = the event's fee override was cleared."""

    event_ticker: str
    fee_type_override: str | None
    fee_multiplier_override: float | None


class EventFeeUpdateFrame(_Wire, tag_field="type", tag="event_fee_update"):
    sid: int
    seq: int
    msg: EventFeeUpdateMsg
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class OrderGroupUpdatesMsg(_Wire):
    """``event_type``: created | triggered | reset | deleted | limit_updated
    (``contracts_limit_fp`` only on created / limit_updated)."""

    event_type: str
    order_group_id: str
    ts_ms: int
    contracts_limit_fp: WireNum | UnsetType = UNSET


class OrderGroupUpdatesFrame(_Wire, tag_field="type", tag="order_group_updates"):
    sid: int
    seq: int
    msg: OrderGroupUpdatesMsg
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


ServerFrame = (
    OrderbookDeltaFrame
    | OrderbookSnapshotFrame
    | TickerFrame
    | TradeFrame
    | FillFrame
    | UserOrderFrame
    | MarketPositionFrame
    | MarketLifecycleFrame
    | MultivariateMarketLifecycleFrame
    | EventLifecycleFrame
    | EventFeeUpdateFrame
    | OrderGroupUpdatesFrame
    | SubscribedFrame
    | UnsubscribedFrame
    | OkFrame
    | ErrorFrame
)
"""Every server frame this module models, discriminated by ``type``."""

_SERVER_FRAME_CLASSES: Final[tuple[type[msgspec.Struct], ...]] = (
    OrderbookDeltaFrame,
    OrderbookSnapshotFrame,
    TickerFrame,
    TradeFrame,
    FillFrame,
    UserOrderFrame,
    MarketPositionFrame,
    MarketLifecycleFrame,
    MultivariateMarketLifecycleFrame,
    EventLifecycleFrame,
    EventFeeUpdateFrame,
    OrderGroupUpdatesFrame,
    SubscribedFrame,
    UnsubscribedFrame,
    OkFrame,
    ErrorFrame,
)

SERVER_FRAME_TYPES: Final[frozenset[str]] = frozenset(str(cls.__struct_config__.tag) for cls in _SERVER_FRAME_CLASSES)
"""The ``type`` values ``SERVER_FRAME_DECODER`` knows."""


class FrameEnvelope(_Wire):
    """The common head of any server frame (to route or log one this module does not model)."""

    type: str = ""
    sid: int | UnsetType = UNSET
    seq: int | UnsetType = UNSET
    id: int | UnsetType = UNSET
    sending_ts_ms: int | UnsetType = UNSET  # when Kalshi queued the frame (Unix ms)


class UnknownFrame(msgspec.Struct, kw_only=True):
    """A well-formed frame whose ``type`` this module does not model (e.g. ``rfq_created``)."""

    type: str
    sid: int | UnsetType = UNSET
    seq: int | UnsetType = UNSET
    raw: bytes


# ============================================================================================
# Encoders and decoders

ENCODER: Final = msgspec.json.Encoder()
"""Encodes any struct here to JSON bytes (``ENCODER.encode(frame)``)."""

SERVER_FRAME_DECODER: Final[msgspec.json.Decoder[ServerFrame]] = msgspec.json.Decoder(ServerFrame)
"""One-pass decoder for server frames (the hot path). Unknown ``type`` → ``msgspec.ValidationError``."""

COMMAND_DECODER: Final[msgspec.json.Decoder[Command]] = msgspec.json.Decoder(Command)
"""Strict decoder for client commands."""

COMMAND_ENVELOPE_DECODER: Final = msgspec.json.Decoder(CommandEnvelope)
"""Loose decoder for client commands (to pick the right error code)."""

ERROR_RESPONSE_DECODER: Final = msgspec.json.Decoder(ErrorResponse)

_FRAME_ENVELOPE_DECODER: Final = msgspec.json.Decoder(FrameEnvelope)
_DECODERS: dict[type[Any], msgspec.json.Decoder[Any]] = {}


def decoder_for(tp: type[T]) -> msgspec.json.Decoder[T]:
    """A cached JSON decoder for one wire type (REST responses, request bodies)."""
    found = _DECODERS.get(tp)
    if found is None:
        found = _DECODERS[tp] = msgspec.json.Decoder(tp)
    return found


def decode_server_frame(data: bytes | str) -> ServerFrame | UnknownFrame:
    """Decode one server frame. A frame of a type this module does not model comes back as an
    ``UnknownFrame``; a malformed frame of a known type, or one that is not a JSON object with a
    ``type``, raises ``msgspec.DecodeError`` / ``msgspec.ValidationError``."""
    try:
        return SERVER_FRAME_DECODER.decode(data)
    except msgspec.ValidationError as error:
        try:
            head = _FRAME_ENVELOPE_DECODER.decode(data)
        except msgspec.ValidationError:
            raise error from None
        if not head.type or head.type in SERVER_FRAME_TYPES:
            raise
        raw = data.encode() if isinstance(data, str) else bytes(data)
        return UnknownFrame(type=head.type, sid=head.sid, seq=head.seq, raw=raw)
