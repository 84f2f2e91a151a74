"""The recording's NWS answers, served on the replay clock: the newest response to the same request
received by then (or, before any, one that was in flight a moment later); a request never recorded
is what a model without data sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kalshi_trader.backtest.clock import ReplayClock
from kalshi_trader.backtest.recorded import IN_FLIGHT_MS, RecordedNws, decode_json
from kalshi_trader.fairvalue.nws import NwsHttpError, NwsUnavailableError, Point
from kalshi_trader.recording.reader import read_recording

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


def grid_body(update: str, celsius: float) -> bytes:
    layer = {"uom": "wmoUnit:degC", "values": [{"validTime": "2026-09-10T12:00:00+00:00/PT6H", "value": celsius}]}
    return json.dumps({"properties": {"updateTime": update, "maxTemperature": layer, "temperature": layer}}).encode()


async def test_a_grid_recorded_again_unchanged_is_read_once_and_its_staleness_follows_the_clock() -> None:
    hour = 3_600_000
    start = 1_789_041_600_000  # 2026-09-10T12:00Z
    clock = ReplayClock(start)
    nws = RecordedNws(clock.now_ms)
    point = Point(40.78, -73.97, "OKX", 33, 35, "America/New_York")
    same = grid_body("2026-09-10T12:00:00+00:00", 30.0)
    nws.add({"path": point.grid_path, "params": {}, "status": 200}, same, at_ms=start)
    nws.add({"path": point.grid_path, "params": {}, "status": 200}, bytes(bytearray(same)), at_ms=start + hour)
    nws.add(
        {"path": point.grid_path, "params": {}, "status": 200},
        grid_body("2026-09-10T19:00:00+00:00", 31.0),
        at_ms=start + 8 * hour,
    )
    first = await nws.gridpoint(point)
    clock.advance_to(start + 7 * hour)  # past the cache lifetime: the second, identical, recording answers
    again = await nws.gridpoint(point)
    assert again.max_temperature_f is first.max_temperature_f  # read once
    assert (first.stale, again.stale) == (False, True)  # staleness is worked out at each call
    clock.advance_to(start + 8 * hour)
    changed = await nws.gridpoint(point)
    assert changed.max_temperature_f[0].value == pytest.approx(31.0 * 9 / 5 + 32)
    assert not changed.stale


def _typed(value: object) -> object:
    """``value`` with every scalar's type beside it (``1 == 1.0``, ``True == 1``: equality alone
    would not tell the readers apart)."""
    if isinstance(value, dict):
        return [(k, _typed(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, repr(value))


def test_every_recorded_nws_body_of_the_sample_reads_as_json_loads_reads_it() -> None:
    sample = Path(__file__).resolve().parents[3] / "src" / "kalshi_trader" / "samples" / "weather-day"
    bodies = {body for rec in read_recording(sample) if rec.kind == "nws" for _, body in [rec.nws()]}
    assert len(bodies) > 20
    for body in bodies:
        assert _typed(decode_json(body)) == _typed(json.loads(body))


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": 1, "b": 2.0, "c": -0.0, "d": 1e2, "e": "\\u00e9", "f": null, "g": [true, false]}',
        b'{"a": 1, "a": 2}',
        b"123456789012345678901234567890",
        b"1e400",
        b'"\\ud800"',
        b'\xef\xbb\xbf{"a": 1}',
    ],
)
def test_a_body_reads_as_json_loads_reads_it(body: bytes) -> None:
    assert _typed(decode_json(body)) == _typed(json.loads(body))


@pytest.mark.parametrize("body", [b"{", b"NaNx", b'{"a": 1} trailing'])
def test_a_body_that_is_not_json_fails_as_json_loads_fails(body: bytes) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    with pytest.raises(json.JSONDecodeError):
        decode_json(body)  # json.loads's own error: the caller turns it into an NwsDataError
