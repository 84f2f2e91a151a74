"""Row mapping: exact time conversion, UTC only, JSON payloads that never fail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from kalshi_trader.domain import BookSide
from kalshi_trader.store.models import UTCDateTime
from kalshi_trader.store.records import (
    OrderState,
    dumps,
    ms_from_utc,
    order_event_row,
    utc_from_ms,
    utc_from_ns,
)


@given(st.integers(min_value=0, max_value=4_102_444_800_000))
def test_ms_stamps_round_trip_exactly(ms: int) -> None:
    ts = utc_from_ms(ms)
    assert ts.tzinfo is UTC
    assert ms_from_utc(ts) == ms


def test_ns_readings_keep_microseconds() -> None:
    assert utc_from_ns(1_767_225_600_123_456_789) == datetime(2026, 1, 1, 0, 0, 0, 123_456, tzinfo=UTC)


def test_utc_column_refuses_naive_and_normalizes_to_utc() -> None:
    col = UTCDateTime()
    lite, pg = sqlite.dialect(), postgresql.dialect()
    with pytest.raises(ValueError, match="naive"):
        col.process_bind_param(datetime(2026, 1, 1), lite)
    est = datetime(2026, 1, 1, 7, tzinfo=timezone(timedelta(hours=-5)))
    assert col.process_bind_param(est, lite) == datetime(2026, 1, 1, 12)
    assert col.process_bind_param(est, pg) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert col.process_result_value(datetime(2026, 1, 1, 12), lite) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert col.process_result_value(est, pg) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert col.process_result_value(None, pg) is None


@dataclass
class _Decision:
    ok: bool
    side: BookSide


def test_json_payloads_never_fail_to_serialize() -> None:
    payload = {"d": _Decision(True, BookSide.ASK), "when": date(2026, 1, 2), "s": {2, 1}, "b": b"\x01", "o": object}
    assert dumps(payload).startswith('{"d":{"ok":true,"side":"ask"},"when":"2026-01-02","s":[1,2],"b":"01","o":"<class')


def test_order_states() -> None:
    assert {s for s in OrderState if s.is_open} == {OrderState.PENDING, OrderState.RESTING, OrderState.UNKNOWN}
    assert {s for s in OrderState if s.is_final} == {OrderState.REJECTED, OrderState.CANCELED, OrderState.EXECUTED}


def test_an_order_event_needs_an_id() -> None:
    with pytest.raises(ValueError, match="needs a client_order_id or an order_id"):
        order_event_row(kind="x", ts=utc_from_ms(0), client_order_id="", order_id=None, payload=None, event_id=None)
