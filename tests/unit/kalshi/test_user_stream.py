"""The private stream's conversions and routing: WS ``fill`` / ``user_order`` /
``order_group_updates`` frames (encoded with the wire structs the embedded exchange sends, then
decoded the way the session decodes them) become domain values for the venue's event sink; other frames
go to the market-data delegate; reconnects and private gaps are reported as stream gaps."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from kalshi_trader.domain import BookSide, Fill, Money, Order, OrderStatus, Qty
from kalshi_trader.execution.venue import GroupEvent, Settlement
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.kalshi.user_stream import CHANNELS, UserStream, fill_from_msg, order_from_msg
from kalshi_trader.kalshi.ws import WsSession


def decode(frame: w.ServerFrame) -> w.ServerFrame:
    return w.SERVER_FRAME_DECODER.decode(w.ENCODER.encode(frame))


FILL = w.FillMsg(
    trade_id="t-1",
    order_id="o-1",
    market_ticker="KXT-1",
    exchange_index=0,
    is_taker=True,
    yes_price_dollars="0.3900",
    count_fp="2.50",
    post_position_fp="-12.00",
    ts_ms=1_778_900_000_123,
    fee_cost="0.0400",
    outcome_side="no",
    book_side="ask",
    client_order_id="c-1",
)
USER_ORDER = w.UserOrderMsg(
    order_id="o-1",
    user_id="u",
    ticker="KXT-1",
    exchange_index=0,
    status="resting",
    yes_price_dollars="0.3800",
    fill_count_fp="2.50",
    remaining_count_fp="7.50",
    initial_count_fp="10.00",
    taker_fill_cost_dollars="0.000000",
    maker_fill_cost_dollars="0.951234",
    taker_fees_dollars="0.000000",
    maker_fees_dollars="0.001234",
    client_order_id="c-1",
    created_ts_ms=1_000,
    last_updated_ts_ms=2_000,
    last_update_reason="Trade",
    outcome_side="yes",
    book_side="bid",
    order_group_id="g-1",
)


def test_fill_message_becomes_a_domain_fill_keyed_by_its_trade_id() -> None:
    assert fill_from_msg(FILL) == Fill(
        fill_id="t-1",
        order_id="o-1",
        ticker="KXT-1",
        side=BookSide.ASK,
        price=3900,  # type: ignore[arg-type]
        qty=Qty(250),
        fee=Money(400),
        is_taker=True,
        ts_ms=1_778_900_000_123,
        client_order_id="c-1",
        post_position=Qty(-1200),
    )
    # numbers instead of strings
    loose = w.FillMsg(**{**_fields(FILL), "yes_price_dollars": 0.39, "count_fp": 2.5})
    converted = fill_from_msg(loose)
    assert (converted.price, converted.qty, converted.side) == (3900, 250, BookSide.ASK)


def test_user_order_message_becomes_a_domain_order() -> None:
    assert order_from_msg(USER_ORDER) == Order(
        order_id="o-1",
        client_order_id="c-1",
        ticker="KXT-1",
        side=BookSide.BID,
        price=3800,  # type: ignore[arg-type]
        initial=Qty(1000),
        filled=Qty(250),
        remaining=Qty(750),
        status=OrderStatus.RESTING,
        created_ms=1_000,
        updated_ms=2_000,
        order_group_id="g-1",
        last_update_reason="Trade",
    )


def test_an_order_in_unknown_state_without_creation_time_is_kept() -> None:
    """``status: unknown`` and a null ``created_ts_ms`` are documented (Oct 2026): the report
    still converts, with its counts, and no reason is ""."""
    vague = w.UserOrderMsg(
        **{**_fields(USER_ORDER), "status": "unknown", "created_ts_ms": None, "last_update_reason": w.UNSET}
    )
    order = order_from_msg(decode(w.UserOrderFrame(sid=1, msg=vague)).msg)  # type: ignore[union-attr]
    assert (order.status, order.created_ms, order.filled, order.remaining) == (OrderStatus.UNKNOWN, 0, 250, 750)
    assert order.last_update_reason == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("yes_price_dollars", "0.12345", "more than 4 decimal places"),
        ("book_side", "sideways", "book_side 'sideways'"),
        ("count_fp", "lots", "not a plain decimal"),
    ],
)
def test_malformed_messages_are_refused_with_the_field_named(field: str, value: str, message: str) -> None:
    bad = w.FillMsg(**{**_fields(FILL), field: value})
    with pytest.raises(ValueError, match=message) as info:
        fill_from_msg(bad)
    assert "fill t-1" in str(info.value)


class Events:
    def __init__(self) -> None:
        self.fills: list[Fill] = []
        self.orders: list[Order] = []
        self.groups: list[tuple[str, GroupEvent]] = []
        self.gaps = 0

    def on_fill(self, fill: Fill) -> bool:
        self.fills.append(fill)
        return True

    def on_order_update(self, order: Order) -> None:
        self.orders.append(order)

    def on_settlement(self, settlement: Settlement) -> None:
        raise AssertionError("Kalshi's private channels carry no settlements")

    def on_order_group_event(self, group_id: str, kind: GroupEvent) -> None:
        self.groups.append((group_id, kind))

    def on_stream_gap(self) -> None:
        self.gaps += 1


class Delegate:
    def __init__(self) -> None:
        self.frames: list[object] = []
        self.connections: list[bool] = []
        self.stale: list[Sequence[str]] = []
        self.gaps: list[str] = []

    def on_orderbook_snapshot(self, msg: w.OrderbookSnapshotMsg) -> None:
        self.frames.append(msg)

    def on_orderbook_delta(self, msg: w.OrderbookDeltaMsg) -> None:
        self.frames.append(msg)

    def on_frame(self, frame: w.ServerFrame | w.UnknownFrame) -> None:
        self.frames.append(frame)

    def on_stale(self, tickers: Sequence[str], reason: str) -> None:
        self.stale.append(tickers)

    def on_connection(self, connected: bool) -> None:
        self.connections.append(connected)

    def on_gap(self, channel: str, reason: str) -> None:
        self.gaps.append(channel)


def test_user_stream_routes_private_frames_to_the_engine_and_the_rest_to_the_delegate() -> None:
    events, delegate = Events(), Delegate()
    session = WsSession("ws://127.0.0.1:1/trade-api/ws/v2", None)
    session.set_handler(delegate)
    stream = UserStream(events, session)  # in front of the session's handler
    assert stream.delegate is delegate
    assert session.handler is stream
    assert stream.on_orderbook_delta == delegate.on_orderbook_delta  # the book hot path is not wrapped
    assert CHANNELS == ("fill", "user_orders", "order_group_updates")

    stream.on_frame(decode(w.FillFrame(sid=1, msg=FILL)))
    stream.on_frame(decode(w.UserOrderFrame(sid=2, msg=USER_ORDER)))
    group = w.OrderGroupUpdatesMsg(event_type="triggered", order_group_id="g-1", ts_ms=5)
    stream.on_frame(decode(w.OrderGroupUpdatesFrame(sid=3, seq=1, msg=group)))
    trade = w.TradeMsg(
        trade_id="x",
        market_ticker="KXT-1",
        yes_price_dollars="0.5",
        no_price_dollars="0.5",
        count_fp="1",
        is_block_trade=False,
        ts_ms=1,
        taker_outcome_side="yes",
        taker_book_side="bid",
    )
    stream.on_frame(decode(w.TradeFrame(sid=4, seq=1, msg=trade)))
    bad = w.FillMsg(**{**_fields(FILL), "count_fp": "-"})
    stream.on_frame(decode(w.FillFrame(sid=1, msg=bad)))

    assert [f.fill_id for f in events.fills] == ["t-1"]
    assert [o.order_id for o in events.orders] == ["o-1"]
    assert events.groups == [("g-1", GroupEvent.TRIGGERED)]
    assert [type(f).__name__ for f in delegate.frames] == ["TradeFrame"]
    assert stream.bad_messages == 1

    stream.on_connection(True)  # the first connection: nothing was missed
    stream.on_connection(False)
    stream.on_stale(["KXT-1"], "gap")
    stream.on_connection(True)  # a reconnect: reconcile
    assert events.gaps == 1
    assert delegate.connections == [True, False, True]
    assert delegate.stale == [["KXT-1"]]
    stream.on_gap("order_group_updates", "seq 5 after 3")  # a private gap: reconcile
    stream.on_gap("trade", "seq 9 after 7")  # market data: the delegate recovers it
    assert events.gaps == 2
    assert delegate.gaps == ["trade"]


def _fields(msg: w.FillMsg | w.UserOrderMsg) -> dict[str, object]:
    return {name: getattr(msg, name) for name in msg.__struct_fields__}
