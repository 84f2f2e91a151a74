"""Engine and catalog state → Kalshi's wire structs (``kalshi/schemas.py``).

Contract: pure functions, no I/O, no floats for money. Prices are rendered as 4-decimal dollar
strings (a user order's fill costs and fees as 6-decimal ones, as documented), counts as 2-decimal
``_fp`` strings, object times as RFC 3339 UTC strings (milliseconds
shown only when non-zero), the documented integer-cent fields (``balance``, ``portfolio_value``,
settlement ``revenue``/``value``) as whole cents rounded toward zero. Every market, order, fill,
position and settlement reports ``exchange_index`` 0 (a single-shard exchange). Top of book follows
the documented convention for empty sides: bid ``"0.0000"``, ask ``"1.0000"``, size ``"0.00"``.
A market with a settlement floor is ``settlement_bounds_type: floor`` with its
``settlement_floor_dollars``; every other market is ``default`` (no floor field).
``last_update_reason`` maps the engine's order-update reasons onto the documented values
(``user_order_reason``); reasons Kalshi does not report (creation, a cancel by the owner, an IOC or
FOK remainder, order-group cancels) are left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from kalshi_trader.domain import (
    PRICE_SCALE,
    MarketStatus,
    Money,
    Price,
    Qty,
    complement,
    format_money,
    format_price,
    format_qty,
    money_to_cents,
)
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.sim.core.catalog import EventInfo, MarketMeta, SeriesInfo
from kalshi_trader.sim.core.state import FillRecord, OrderGroup, PositionState, SettlementRecord, SimOrder, Trade

_REASONS: dict[str, str] = {
    "Fill": "Trade",
    "Amend": "Amend",
    "Decrease": "Decrease",
    "Expired": "ExpiryCancel",
    "SelfTradePrevention": "SelfTradeCancel",
    "MarketDeactivated": "HaltCancel",
    "MarketActivated": "HaltCancel",
    "MarketClosed": "CloseCancel",
    "PostOnlyCross": "PostOnlyCrossCancel",
    "ReduceOnly": "ReduceOnlyCancel",
    "SettlementBounds": "SettlementBoundsCancel",
}
"""Engine reasons → ``user_order.last_update_reason`` (documented values pass through unchanged)."""


def user_order_reason(reason: str) -> str | w.UnsetType:
    """The documented ``last_update_reason`` for an engine reason, UNSET when Kalshi sends none."""
    if reason in w.LAST_UPDATE_REASONS:
        return reason
    return _REASONS.get(reason, w.UNSET)


def dollars6(amount: Money) -> str:
    """A ``Money`` amount as a 6-decimal dollar string (``"0.070000"``): user-order fill costs and fees."""
    return format_money(amount) + "00"


_USER_NAMESPACE = uuid.UUID("0e6c8d44-2b1f-4c1e-9a55-6b0f5f3c7a21")


def wire_user_id(user_id: str) -> str:
    """The UUID the WebSocket reports for an account (its id when that already is a UUID)."""
    try:
        return str(uuid.UUID(user_id))
    except ValueError:
        return str(uuid.uuid5(_USER_NAMESPACE, user_id))


EXCHANGE_INDEX = 0
ZERO_FP = "0.00"
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def iso(ms: int) -> str:
    """RFC 3339 UTC: ``2026-11-22T04:59:00Z`` (``.123Z`` when the milliseconds are not zero)."""
    seconds, millis = divmod(ms, 1000)
    text = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def iso_or_none(ms: int | None) -> str | None:
    return None if ms is None else iso(ms)


# -- exchange ---------------------------------------------------------------------------------


def exchange_status(exchange_active: bool, trading_active: bool) -> w.ExchangeStatus:
    return w.ExchangeStatus(
        exchange_active=exchange_active,
        trading_active=trading_active,
        intra_exchange_transfers_active=exchange_active,
        exchange_estimated_resume_time=None,
        exchange_index_statuses=[
            w.ExchangeIndexStatus(
                exchange_index=EXCHANGE_INDEX,
                description="Default",
                exchange_active=exchange_active,
                trading_active=trading_active,
                intra_exchange_transfers_active=exchange_active,
            )
        ],
    )


def exchange_schedule(now_ms: int) -> w.GetExchangeScheduleResponse:
    """Trading around the clock, every day (the embedded exchange has no maintenance pauses)."""
    year = datetime.fromtimestamp(now_ms // 1000, tz=UTC).year
    all_day = [w.DailySchedule(open_time="00:00", close_time="23:59")]
    week = w.WeeklySchedule(
        start_time=f"{year - 1}-01-01T00:00:00Z",
        end_time=f"{year + 1}-12-31T23:59:59Z",
        **{day: list(all_day) for day in _DAYS},
    )
    return w.GetExchangeScheduleResponse(schedule=w.Schedule(standard_hours=[week], maintenance_windows=[]))


# -- catalog ----------------------------------------------------------------------------------


def _multiplier(fraction: tuple[int, int]) -> float:
    # The wire type of fee_multiplier is a JSON number (not money); exact for the fractions used.
    numerator, denominator = fraction
    return numerator / denominator


def series(info: SeriesInfo, volume: Qty | None = None) -> w.Series:
    return w.Series(
        ticker=info.ticker,
        frequency=info.frequency,
        title=info.title,
        category=info.category,
        categories=info.all_categories,
        tags=list(info.tags),
        settlement_sources=[w.SettlementSource(name=s.name, url=s.url) for s in info.settlement_sources],
        contract_url=info.contract_url,
        contract_terms_url=info.contract_terms_url,
        fee_type=str(info.fee_type),
        fee_multiplier=_multiplier(info.fee_multiplier),
        additional_prohibitions=[],
        product_metadata=None,
        volume_fp=format_qty(volume) if volume is not None else w.UNSET,
        last_updated_ts=iso(info.updated_ms),
        exchange_index=EXCHANGE_INDEX,
    )


def event(info: EventInfo, series_info: SeriesInfo, markets: list[w.Market] | None = None) -> w.EventData:
    return w.EventData(
        event_ticker=info.event_ticker,
        series_ticker=info.series_ticker,
        sub_title=info.sub_title,
        title=info.title,
        collateral_return_type=info.collateral_return_type,
        mutually_exclusive=info.mutually_exclusive,
        settlement_sources=[w.SettlementSource(name=s.name, url=s.url) for s in series_info.settlement_sources],
        strike_date=iso_or_none(info.strike_date_ms),
        strike_period=info.strike_period,
        markets=markets or [],
        last_updated_ts=iso(info.updated_ms),
        exchange_index=EXCHANGE_INDEX,
    )


def market(
    meta: MarketMeta,
    status: MarketStatus,
    grid_structure: str,
    price_ranges: Iterable[tuple[str, str, str]],
    top: tuple[Price | None, Qty, Price | None, Qty],
    *,
    last_price: Price | None,
    volume: Qty,
    volume_24h: Qty,
    open_interest: Qty,
    result: str,
    settlement_value: Price | None,
    settlement_floor: Price | None = None,
) -> w.Market:
    yes_bid, yes_bid_size, no_bid, no_bid_size = top
    return w.Market(
        ticker=meta.ticker,
        event_ticker=meta.event_ticker,
        market_type="binary",
        yes_sub_title=meta.yes_sub_title,
        no_sub_title=meta.no_sub_title,
        created_time=iso(meta.created_ms),
        updated_time=iso(meta.updated_ms or meta.created_ms),
        open_time=iso(meta.open_ms),
        close_time=iso(meta.close_ms),
        latest_expiration_time=iso(meta.latest_expiration_ms),
        settlement_timer_seconds=meta.settlement_timer_seconds,
        status=str(status),
        notional_value_dollars=format_price(PRICE_SCALE),
        yes_bid_dollars=format_price(yes_bid if yes_bid is not None else 0),
        yes_ask_dollars=format_price(complement(no_bid) if no_bid is not None else PRICE_SCALE),
        no_bid_dollars=format_price(no_bid if no_bid is not None else 0),
        no_ask_dollars=format_price(complement(yes_bid) if yes_bid is not None else PRICE_SCALE),
        yes_bid_size_fp=format_qty(yes_bid_size if yes_bid is not None else 0),
        yes_ask_size_fp=format_qty(no_bid_size if no_bid is not None else 0),
        last_price_dollars=format_price(last_price or 0),
        previous_yes_bid_dollars=format_price(0),
        previous_yes_ask_dollars=format_price(0),
        previous_price_dollars=format_price(0),
        volume_fp=format_qty(volume),
        volume_24h_fp=format_qty(volume_24h),
        open_interest_fp=format_qty(open_interest),
        result=result,
        can_close_early=meta.can_close_early,
        expiration_value=meta.expiration_value,
        rules_primary=meta.rules_primary,
        rules_secondary=meta.rules_secondary,
        price_level_structure=grid_structure,
        price_ranges=[w.PriceRange(start=s, end=e, step=p) for s, e, p in price_ranges],
        settlement_bounds_type="default" if settlement_floor is None else "floor",
        settlement_floor_dollars=None if settlement_floor is None else format_price(settlement_floor),
        title=meta.title,
        subtitle=meta.subtitle,
        expected_expiration_time=iso_or_none(meta.expected_expiration_ms),
        settlement_value_dollars=format_price(settlement_value) if settlement_value is not None else None,
        settlement_ts=iso_or_none(meta.settled_ms),
        strike_type=meta.strike_type,
        floor_strike=meta.floor_strike,
        cap_strike=meta.cap_strike,
        is_provisional=False,
        exchange_index=EXCHANGE_INDEX,
    )


def orderbook(yes: list[tuple[Price, Qty]], no: list[tuple[Price, Qty]], depth: int) -> w.GetMarketOrderbookResponse:
    """Both ladders ascending (best bid last); ``depth`` > 0 keeps that many best levels per side."""
    if depth > 0:
        yes, no = yes[-depth:], no[-depth:]
    return w.GetMarketOrderbookResponse(
        orderbook_fp=w.OrderbookCountFp(
            yes_dollars=[(format_price(p), format_qty(q)) for p, q in yes],
            no_dollars=[(format_price(p), format_qty(q)) for p, q in no],
        )
    )


def trade(t: Trade) -> w.Trade:
    outcome = t.taker_side.outcome.value
    return w.Trade(
        trade_id=t.trade_id,
        ticker=t.ticker,
        count_fp=format_qty(t.count),
        yes_price_dollars=format_price(t.price),
        no_price_dollars=format_price(complement(t.price)),
        taker_outcome_side=outcome,
        taker_book_side=t.taker_side.value,
        created_time=iso(t.ts_ms),
        is_block_trade=False,
        taker_side=outcome,
    )


# -- portfolio --------------------------------------------------------------------------------


def balance(cash: Money, portfolio_value: Money, now_ms: int) -> w.GetBalanceResponse:
    return w.GetBalanceResponse(
        balance=money_to_cents(cash),
        balance_dollars=format_money(cash),
        portfolio_value=money_to_cents(portfolio_value),
        updated_ts=now_ms // 1000,
        balance_breakdown=[w.IndexedBalance(exchange_index=EXCHANGE_INDEX, balance=format_money(cash))],
    )


def market_position(p: PositionState) -> w.MarketPosition:
    return w.MarketPosition(
        ticker=p.ticker,
        exchange_index=EXCHANGE_INDEX,
        total_traded_dollars=format_money(p.total_traded),
        position_fp=format_qty(p.position),
        market_exposure_dollars=format_money(p.cost),
        realized_pnl_dollars=format_money(p.realized_pnl),
        fees_paid_dollars=format_money(p.fees_paid),
        last_updated_ts=iso(p.updated_ms),
    )


def event_position(event_ticker: str, positions: list[PositionState]) -> w.EventPosition:
    return w.EventPosition(
        event_ticker=event_ticker,
        total_cost_dollars=format_money(sum(p.total_traded for p in positions)),
        total_cost_shares_fp=format_qty(sum(p.volume for p in positions)),
        event_exposure_dollars=format_money(sum(p.cost for p in positions)),
        realized_pnl_dollars=format_money(sum(p.realized_pnl for p in positions)),
        fees_paid_dollars=format_money(sum(p.fees_paid for p in positions)),
    )


def fill(f: FillRecord) -> w.Fill:
    # trade_id carries the fill's own id (the same value as fill_id, as Kalshi documents), so it
    # identifies this account's execution like the WS fill message's trade_id.
    return w.Fill(
        fill_id=f.fill_id,
        exchange_index=EXCHANGE_INDEX,
        trade_id=f.fill_id,
        order_id=f.order_id,
        ticker=f.ticker,
        market_ticker=f.ticker,
        outcome_side=f.side.outcome.value,
        book_side=f.side.value,
        count_fp=format_qty(f.count),
        yes_price_dollars=format_price(f.price),
        no_price_dollars=format_price(complement(f.price)),
        is_taker=f.is_taker,
        fee_cost=format_money(f.fee),
        created_time=iso(f.ts_ms),
        subaccount_number=f.subaccount,
        ts=f.ts_ms // 1000,
    )


def settlement(s: SettlementRecord) -> w.Settlement:
    return w.Settlement(
        ticker=s.ticker,
        exchange_index=EXCHANGE_INDEX,
        event_ticker=s.event_ticker,
        market_result=s.market_result,
        yes_count_fp=format_qty(s.yes_count),
        yes_total_cost_dollars=format_money(s.yes_total_cost),
        no_count_fp=format_qty(s.no_count),
        no_total_cost_dollars=format_money(s.no_total_cost),
        revenue=money_to_cents(s.revenue),
        settled_time=iso(s.settled_ms),
        fee_cost=format_money(s.fee_cost),
        value=money_to_cents(s.value),
    )


def order(o: SimOrder) -> w.Order:
    return w.Order(
        order_id=o.order_id,
        user_id=wire_user_id(o.user_id),
        client_order_id=o.client_order_id,
        ticker=o.ticker,
        outcome_side=o.side.outcome.value,
        book_side=o.side.value,
        type="limit",
        status=o.status.value,
        yes_price_dollars=format_price(o.price),
        no_price_dollars=format_price(complement(o.price)),
        fill_count_fp=format_qty(o.filled),
        remaining_count_fp=format_qty(o.remaining),
        initial_count_fp=format_qty(o.initial),
        taker_fees_dollars=format_money(o.taker_fees),
        maker_fees_dollars=format_money(o.maker_fees),
        taker_fill_cost_dollars=format_money(o.taker_fill_cost),
        maker_fill_cost_dollars=format_money(o.maker_fill_cost),
        expiration_time=iso_or_none(o.expiration_ms),
        created_time=iso(o.created_ms),
        last_update_time=iso(o.updated_ms),
        self_trade_prevention_type=o.self_trade_prevention.value,
        order_group_id=o.order_group_id,
        cancel_order_on_pause=o.cancel_order_on_pause,
        subaccount_number=o.subaccount,
        exchange_index=EXCHANGE_INDEX,
    )


def order_group(g: OrderGroup) -> w.OrderGroup:
    return w.OrderGroup(
        id=g.group_id,
        is_auto_cancel_enabled=True,
        contracts_limit_fp=format_qty(g.contracts_limit),
        exchange_index=EXCHANGE_INDEX,
    )
