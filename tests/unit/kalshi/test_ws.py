"""``kalshi/ws.py`` without a socket: frames fed to ``WsSession.on_text`` as the transport would.

Covers routing of every documented message, sequence tracking (first frame starts the count,
repeats dropped, gaps reported stale), replies updating subscription ids, tolerant parsing (numbers
for strings, unknown types, missing deprecated fields, malformed frames and failing handlers never
end the session) and the reconnect backoff schedule. Socket behaviour is in
tests/integration/kalshi/test_ws_session.py.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest
from tests.support.ws import example_frames

from kalshi_trader.kalshi import schemas as s
from kalshi_trader.kalshi.delays import RECENT, FrameDelays
from kalshi_trader.kalshi.ws import BOOK_DELAY_SAMPLE, CONTROL, ORDERBOOK, Backoff, WsSession

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kalshi"
A, B = "KXHIGHNY-26MAY16-B78.5", "KXHIGHNY-26MAY16-T83"
MARKET_ID = "9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1"


class Recorder:
    """A ``FeedHandler`` that records every call (and can be told to fail)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail_on: str = ""

    def _record(self, name: str, value: Any) -> None:
        self.calls.append((name, value))
        if name == self.fail_on:
            raise RuntimeError(f"handler failure in {name}")

    def on_orderbook_snapshot(self, msg: s.OrderbookSnapshotMsg) -> None:
        self._record("snapshot", msg)

    def on_orderbook_delta(self, msg: s.OrderbookDeltaMsg) -> None:
        self._record("delta", msg)

    def on_frame(self, frame: s.ServerFrame | s.UnknownFrame) -> None:
        self._record("frame", frame)

    def on_stale(self, tickers: Sequence[str], reason: str) -> None:
        self._record("stale", (list(tickers), reason))

    def on_gap(self, channel: str, reason: str) -> None:
        self._record("gap", (channel, reason))

    def on_connection(self, connected: bool) -> None:
        self._record("connection", connected)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def raw(frame: dict[str, Any]) -> bytes:
    return msgspec.json.encode(frame)


def delta(seq: int, ticker: str = A, sid: int = 1, price: Any = "0.3800", size: Any = "-1.00") -> bytes:
    return raw(
        {
            "type": "orderbook_delta",
            "sid": sid,
            "seq": seq,
            "msg": {
                "market_ticker": ticker,
                "market_id": MARKET_ID,
                "price_dollars": price,
                "delta_fp": size,
                "side": "yes",
                "ts_ms": 1778900000123,
            },
        }
    )


def snapshot(seq: int, ticker: str = A, sid: int = 1) -> bytes:
    return raw(
        {
            "type": "orderbook_snapshot",
            "sid": sid,
            "seq": seq,
            "msg": {"market_ticker": ticker, "market_id": MARKET_ID, "yes_dollars_fp": [["0.3800", "1.00"]]},
        }
    )


async def subscribed_session(
    channels: Sequence[str] = (ORDERBOOK,), tickers: Sequence[str] = (A, B)
) -> tuple[WsSession, Recorder]:
    """A session (never connected) whose desired channels are mapped to sids 1, 2, ... as if the
    server had confirmed them."""
    handler = Recorder()
    session = WsSession("ws://127.0.0.1:9/trade-api/ws/v2", None, handler)
    for sid, channel in enumerate(channels, 1):
        await session.subscribe([channel], tickers if channel != "market_lifecycle_v2" else None)
        session.on_text(raw({"type": "subscribed", "msg": {"channel": channel, "sid": sid}, "id": sid}))
        assert session.sid_of(channel) == sid
    handler.calls.clear()
    return session, handler


# -- routing ------------------------------------------------------------------------------------------


async def test_in_order_orderbook_frames_reach_the_handler() -> None:
    session, handler = await subscribed_session()
    for frame in (snapshot(1), snapshot(2, B), delta(3), delta(4, B)):
        session.on_text(frame)
    assert handler.names() == ["snapshot", "snapshot", "delta", "delta"]
    assert [m.market_ticker for _, m in handler.calls] == [A, B, A, B]
    assert session.stats.seq_gaps == session.stats.duplicates == session.stats.bad_frames == 0


async def test_memoryview_input_is_accepted() -> None:
    session, handler = await subscribed_session()
    session.on_text(memoryview(snapshot(1)))
    assert handler.names() == ["snapshot"]


def documented_frames() -> list[tuple[str, dict[str, Any]]]:
    sheet = example_frames()
    numbers = json.loads((FIXTURES / "ws_numbers.json").read_text())["frames"]
    data = {
        k: v for k, v in sheet.items() if "type" in v and v["type"] not in ("subscribed", "ok", "error", "unsubscribed")
    }
    return sorted((data | numbers).items())


@pytest.mark.parametrize(("name", "frame"), documented_frames(), ids=[n for n, _ in documented_frames()])
async def test_every_documented_data_frame_is_routed(name: str, frame: dict[str, Any]) -> None:
    """The composed examples and the number-for-string captures, each through a session that
    holds the frame's sid (first frame on a sid starts its count)."""
    channel = {
        "orderbook_snapshot": ORDERBOOK,
        "orderbook_delta": ORDERBOOK,
        "market_position": "market_positions",
        "user_order": "user_orders",
        "event_lifecycle": "market_lifecycle_v2",
        "event_fee_update": "market_lifecycle_v2",
    }.get(frame["type"], frame["type"])
    handler = Recorder()
    session = WsSession("ws://127.0.0.1:9/trade-api/ws/v2", None, handler)
    await session.subscribe([channel], [A] if channel in ("orderbook_delta",) else None)
    session.on_text(raw({"type": "subscribed", "msg": {"channel": channel, "sid": frame["sid"]}, "id": 1}))
    session.on_text(raw(frame))
    expected = {"orderbook_snapshot": "snapshot", "orderbook_delta": "delta"}.get(frame["type"], "frame")
    assert handler.names() == [expected], name
    assert session.stats.bad_frames == session.stats.handler_errors == 0


async def test_a_frame_on_a_sid_the_session_does_not_hold_is_dropped() -> None:
    session, handler = await subscribed_session()
    session.on_text(delta(1, sid=7))
    session.on_text(raw({"type": "ticker", "sid": 9, "msg": json.loads(ticker_body())}))
    assert handler.calls == []
    assert session.stats.stray_frames == 2


def ticker_body() -> str:
    sheet = example_frames()
    return json.dumps(sheet["ticker"]["msg"])


# -- sequence numbers -----------------------------------------------------------------------------------


async def test_the_first_frame_on_a_sid_starts_the_count_at_any_value() -> None:
    session, handler = await subscribed_session()
    session.on_text(snapshot(41))
    session.on_text(delta(42))
    assert handler.names() == ["snapshot", "delta"]
    assert session.stats.seq_gaps == 0


async def test_a_repeated_seq_is_dropped_not_applied_twice() -> None:
    session, handler = await subscribed_session()
    session.on_text(snapshot(1))
    session.on_text(delta(2))
    session.on_text(delta(2))
    session.on_text(delta(1))
    session.on_text(delta(3))
    assert handler.names() == ["snapshot", "delta", "delta"]
    assert session.stats.duplicates == 2
    assert session.stats.seq_gaps == 0


async def test_a_gap_marks_every_market_of_the_subscription_stale_then_continues() -> None:
    session, handler = await subscribed_session()
    session.on_text(snapshot(1))
    session.on_text(snapshot(2, B))
    session.on_text(delta(5, B))  # 3 and 4 never arrived
    session.on_text(delta(6))
    assert handler.names() == ["snapshot", "snapshot", "stale", "delta", "delta"]
    tickers, reason = handler.calls[2][1]
    assert tickers == [A, B]
    assert "5 after 2" in reason
    assert session.stats.seq_gaps == 1


async def test_an_ok_reply_reporting_a_later_seq_is_a_gap() -> None:
    session, handler = await subscribed_session()
    session.on_text(snapshot(1))
    session.on_text(raw({"type": "ok", "id": 9, "sid": 1, "seq": 3, "msg": {"market_tickers": [A, B]}}))
    assert handler.names() == ["snapshot", "stale"]
    session.on_text(raw({"type": "ok", "id": 10, "sid": 1, "seq": 3, "msg": {"market_tickers": [A, B]}}))
    session.on_text(delta(4))
    assert handler.names() == ["snapshot", "stale", "delta"]
    assert session.stats.seq_gaps == 1


async def test_unsequenced_channels_are_not_seq_checked() -> None:
    session, handler = await subscribed_session(("ticker",))
    ticker = example_frames()["ticker"] | {"sid": 1}
    for _ in range(3):
        session.on_text(raw(ticker))
    assert handler.names() == ["frame", "frame", "frame"]
    assert session.stats.seq_gaps == session.stats.duplicates == 0


@pytest.mark.parametrize(
    ("channel", "frame"),
    [
        ("trade", "trade"),
        ("market_lifecycle_v2", "market_lifecycle_v2"),
        ("market_lifecycle_v2", "event_lifecycle"),
        ("order_group_updates", None),
    ],
)
async def test_other_sequenced_channels_report_a_gap_to_the_handler(channel: str, frame: str | None) -> None:
    """Trade and lifecycle frames carry seq since Sep 2026: a jump is a gap the handler must recover
    (``on_gap``), a repeat is dropped; no book goes stale. The frame after the jump is delivered."""
    session, handler = await subscribed_session((channel,))
    if frame is None:
        body = {"type": "order_group_updates", "msg": {"event_type": "triggered", "order_group_id": "og_1", "ts_ms": 1}}
    else:
        body = {k: v for k, v in example_frames()[frame].items() if k != "seq"}
    for seq in (1, 2, 2, 4):
        session.on_text(raw(body | {"sid": 1, "seq": seq}))
    assert handler.names() == ["frame", "frame", "gap", "frame"]
    gap = handler.calls[2][1]
    assert gap[0] == channel
    assert "4 after 2" in gap[1]
    assert (session.stats.seq_gaps, session.stats.duplicates) == (1, 1)


async def test_resubscribed_sid_replaces_the_old_one() -> None:
    session, handler = await subscribed_session()
    session.on_text(snapshot(1))
    session.on_text(raw({"type": "unsubscribed", "id": 3, "sid": 1, "seq": 1}))
    assert session.sid_of(ORDERBOOK) == 0
    session.on_text(raw({"type": "subscribed", "msg": {"channel": ORDERBOOK, "sid": 4}, "id": 4}))
    session.on_text(delta(2, sid=1))  # the old subscription: gone
    session.on_text(snapshot(1, sid=4))
    assert handler.names() == ["snapshot", "snapshot"]
    assert session.sid_of(ORDERBOOK) == 4
    assert session.stats.stray_frames == 1


# -- exchange -> client delay (sending_ts_ms) -------------------------------------------------------------


class FakeWall:
    def __init__(self, ms: int) -> None:
        self.ns = ms * 1_000_000

    def __call__(self) -> int:
        return self.ns


def stamped(frame: bytes, sent_ms: int) -> bytes:
    return raw(json.loads(frame) | {"sending_ts_ms": sent_ms})


async def test_every_stamped_frame_is_timed_under_its_channel() -> None:
    """Delay = local wall clock at decode − ``sending_ts_ms``: one book frame in 16 on the hot path
    (by seq), every frame of the other channels, replies under ``control``; unstamped frames are not
    timed; a frame stamped in the future (clock skew) counts as 0 and as ``negative``."""
    wall = FakeWall(1_000_000)
    session = WsSession("ws://127.0.0.1:9/trade-api/ws/v2", None, Recorder(), wall_ns=wall)
    await session.subscribe([ORDERBOOK], [A])
    await session.subscribe(["trade"])
    session.on_text(stamped(raw({"type": "subscribed", "msg": {"channel": ORDERBOOK, "sid": 1}, "id": 1}), 999_998))
    session.on_text(raw({"type": "subscribed", "msg": {"channel": "trade", "sid": 2}, "id": 2}))
    sampled = {16: 999_999, 32: 999_996, 48: 999_960, 64: 1_000_000}  # 1, 4, 40, 0 ms
    for seq in range(1, 81):
        frame = snapshot(seq) if seq == 1 else delta(seq)
        if seq == 80:
            session.on_text(frame)  # no stamp: not timed
        else:
            session.on_text(stamped(frame, sampled.get(seq, 900_000)))  # 100 s: never sampled
    assert session.stats.seq_gaps == 0
    trade = {k: v for k, v in example_frames()["trade"].items() if k != "seq"} | {"sid": 2, "seq": 1}
    session.on_text(stamped(raw(trade), 1_000_007))  # 7 ms in the future: skew
    book = session.delays[ORDERBOOK].snapshot()
    assert (book.count, book.p50_ms, book.p99_ms, book.max_ms) == (4, 1.0, 4.0, 40.0)
    assert book.buckets[:4] == (2, 2, 3, 3)  # <= 1 ms, 2.5 ms, 5 ms, 10 ms
    assert book.sum_s == pytest.approx(0.045)
    control = session.delays[CONTROL].snapshot()
    assert (control.count, control.max_ms) == (1, 2.0)
    trades = session.delays["trade"].snapshot()
    assert (trades.count, trades.negative, trades.max_ms) == (1, 1, 0.0)
    assert BOOK_DELAY_SAMPLE == 16


def test_delay_histogram_folds_the_ring_before_overwriting_it() -> None:
    delays = FrameDelays()
    for i in range(3 * RECENT + 5):
        delays.observe_us(1_000 * (i % 7))  # 0..6 ms
    snap = delays.snapshot()
    assert snap.count == 3 * RECENT + 5
    assert snap.buckets[-1] == snap.count  # every sample counted exactly once, none lost to the ring
    expected_sum = sum(1_000 * (i % 7) for i in range(3 * RECENT + 5)) / 1_000_000
    assert snap.sum_s == pytest.approx(expected_sum)
    assert snap.buckets[0] == sum(1 for i in range(3 * RECENT + 5) if i % 7 <= 1)
    assert delays.snapshot() == snap  # reading twice changes nothing


# -- tolerant parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        b"{not json",
        b"",
        b"[1, 2, 3]",
        b'"orderbook_delta"',
        b'{"type": "orderbook_delta", "sid": 1, "seq": 1, "msg": {"market_ticker": "A"}}',
        b'{"type": "orderbook_delta", "sid": "one", "seq": 1, "msg": {}}',
        b'{"type": "ticker", "sid": 2, "msg": {"market_ticker": 5}}',
        b'{"sid": 1, "seq": 1}',
        b"\xff\xfe\x00",
    ],
)
async def test_a_malformed_frame_is_counted_and_the_session_lives(frame: bytes) -> None:
    session, handler = await subscribed_session()
    session.on_text(snapshot(1))
    session.on_text(frame)
    assert session.stats.bad_frames == 1
    session.on_text(delta(2))
    assert handler.names() == ["snapshot", "delta"]


async def test_a_malformed_frame_that_names_its_seq_leaves_a_gap() -> None:
    session, handler = await subscribed_session()
    session.on_text(snapshot(1))
    session.on_text(b'{"type": "orderbook_delta", "sid": 1, "seq": 2, "msg": {"market_ticker": 7}}')
    session.on_text(delta(3))
    assert handler.names() == ["snapshot", "stale", "delta"]
    assert session.stats.bad_frames == 1
    assert session.stats.seq_gaps == 1  # counted once, at the bad frame; 3 follows 2


async def test_unknown_message_types_are_counted_and_passed_on() -> None:
    session, handler = await subscribed_session()
    session.on_text(b'{"type": "rfq_created", "sid": 77, "msg": {"id": "r1"}}')
    session.on_text(b'{"type": "brand_new_thing"}')
    assert session.stats.unknown_frames == 2
    assert session.stats.bad_frames == 0
    frames = [value for name, value in handler.calls if name == "frame"]
    assert [f.type for f in frames] == ["rfq_created", "brand_new_thing"]
    assert all(isinstance(f, s.UnknownFrame) for f in frames)


async def test_missing_deprecated_and_optional_fields_are_fine() -> None:
    session, handler = await subscribed_session()
    bare = {"market_ticker": A, "market_id": MARKET_ID, "price_dollars": "0.38", "delta_fp": "1", "side": "no"}
    session.on_text(
        raw({"type": "orderbook_snapshot", "sid": 1, "seq": 1, "msg": {"market_ticker": A, "market_id": MARKET_ID}})
    )
    session.on_text(raw({"type": "orderbook_delta", "sid": 1, "seq": 2, "msg": bare}))
    assert handler.names() == ["snapshot", "delta"]
    msg = handler.calls[1][1]
    assert msg.ts_ms is s.UNSET
    assert msg.client_order_id is s.UNSET


async def test_a_failing_handler_is_counted_its_market_goes_stale_and_the_session_lives() -> None:
    session, handler = await subscribed_session()
    handler.fail_on = "delta"
    session.on_text(snapshot(1))
    session.on_text(delta(2, B))
    handler.fail_on = ""
    session.on_text(delta(3))
    assert handler.names() == ["snapshot", "delta", "stale", "delta"]
    assert handler.calls[2][1][0] == [B]
    assert session.stats.handler_errors == 1


async def test_error_frames_without_a_pending_command_are_counted() -> None:
    session, handler = await subscribed_session()
    session.on_text(b'{"type": "error", "msg": {"code": 6, "msg": "Already subscribed"}}')
    assert session.stats.error_replies == 1
    assert handler.calls == []


# -- desired state ------------------------------------------------------------------------------------------


async def test_subscriptions_are_recorded_while_disconnected() -> None:
    session = WsSession("ws://127.0.0.1:9/trade-api/ws/v2", None)
    await session.subscribe([ORDERBOOK, "ticker"], [A])
    await session.subscribe([ORDERBOOK], [B, A])
    await session.subscribe(["market_lifecycle_v2"])
    await session.unsubscribe(["ticker"], [A])
    assert session.subscriptions() == {ORDERBOOK: [A, B], "market_lifecycle_v2": None}
    await session.update_subscription(ORDERBOOK, "delete_markets", [A])
    assert session.subscriptions()[ORDERBOOK] == [B]
    with pytest.raises(ValueError, match="needs market tickers"):
        await session.subscribe([ORDERBOOK])


# -- backoff ---------------------------------------------------------------------------------------------------


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    backoff = Backoff(initial_s=0.5, max_s=8.0, factor=2.0, jitter=0.5)
    rng = random.Random(1)
    for attempt, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]):
        delays = [backoff.delay(attempt, rng) for _ in range(200)]
        assert all(ceiling * 0.5 <= d <= ceiling for d in delays), attempt
        assert max(delays) - min(delays) > ceiling * 0.3  # really jittered
    assert Backoff(jitter=0.0).delay(3, rng) == 2.0


@pytest.mark.parametrize("kw", [{"initial_s": 0}, {"initial_s": 5, "max_s": 1}, {"factor": 0.5}, {"jitter": 2}])
def test_backoff_rejects_nonsense(kw: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(**kw)


async def test_deltas_arrive_with_a_domain_side_and_an_unknown_side_is_a_hole() -> None:
    from kalshi_trader.domain import Side

    session, handler = await subscribed_session()
    session.on_text(snapshot(1))
    session.on_text(delta(2))
    assert handler.calls[-1][1].side is Side.YES
    bad = json.loads(delta(3))
    bad["msg"]["side"] = "maybe"
    session.on_text(raw(bad))
    assert session.stats.bad_frames == 1
    assert handler.names() == ["snapshot", "delta", "stale"]
    assert session.stats.seq_gaps == 1
