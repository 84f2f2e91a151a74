"""The recording's NWS answers, served on the replay clock: the newest response to the same request
received by then (or, before any, one that was in flight a moment later); a request never recorded
is what a model without data sees."""

from __future__ import annotations

import pytest

from kalshi_trader.backtest.clock import ReplayClock
from kalshi_trader.backtest.recorded import IN_FLIGHT_MS, RecordedNws
from kalshi_trader.fairvalue.nws import NwsHttpError, NwsUnavailableError

META = {"path": "/gridpoints/OKX/33,35/forecast", "params": {"units": "us"}, "status": 200}


async def test_the_newest_answer_received_by_the_replay_clock_is_served() -> None:
    clock = ReplayClock(1_000)
    nws = RecordedNws(clock.now_ms)
    nws.add(META, b'{"n": 2}', at_ms=2_000)
    nws.add(META, b'{"n": 1}', at_ms=1_500)  # recorded out of order: kept in time order
    assert await nws.get_json(META["path"], {"units": "us"}) == {"n": 1}  # in flight at 1,000
    clock.advance_to(1_999)
    assert await nws.get_json(META["path"], {"units": "us"}) == {"n": 1}
    clock.advance_to(5_000)
    assert await nws.get_json(META["path"], {"units": "us"}) == {"n": 2}


async def test_a_request_never_recorded_or_recorded_later_is_unavailable() -> None:
    clock = ReplayClock(0)
    nws = RecordedNws(clock.now_ms)
    nws.add(META, b"{}", at_ms=IN_FLIGHT_MS + 1)
    with pytest.raises(NwsUnavailableError):
        await nws.get_json(META["path"], {"units": "us"})
    with pytest.raises(NwsUnavailableError):
        await nws.get_json("/points/1,2")
    assert nws.unanswered == 2


async def test_an_error_status_raises_as_it_did_live() -> None:
    clock = ReplayClock(10)
    nws = RecordedNws(clock.now_ms)
    nws.add({**META, "status": 404}, b"{}", at_ms=5)
    nws.add({"path": "/points/1,2", "params": {}, "status": 503}, b"", at_ms=5)
    with pytest.raises(NwsHttpError):
        await nws.get_json(META["path"], {"units": "us"})
    with pytest.raises(NwsUnavailableError):
        await nws.get_json("/points/1,2")
