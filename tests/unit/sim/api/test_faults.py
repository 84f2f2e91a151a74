"""Fault specs (parsing, errors, canonical form) and the WS frame decisions' determinism."""

from __future__ import annotations

import pytest

from kalshi_trader.sim.api.faults import FaultInjector, FaultSpec, FaultSpecError

SPEC = (
    "ws_drop=0.01,seq_skip=0.001,seq_repeat=0.001,malformed=0.001,"
    "http_429=0.05,http_5xx=0.02,latency_ms=20,lost_response=0.01"
)
DELTA = b'{"type":"orderbook_delta","sid":3,"seq":%d,"msg":{"market_ticker":"KXT"}}'
TICKER = b'{"type":"ticker","sid":4,"msg":{"market_ticker":"KXT"}}'


def test_the_documented_example_parses_exactly() -> None:
    spec = FaultSpec.parse(SPEC)
    assert (spec.ws_drop, spec.seq_skip, spec.http_429, spec.latency_ms) == (10_000, 1_000, 50_000, 20)
    assert FaultSpec.parse(str(spec)) == spec
    assert str(spec).startswith("ws_drop=0.01,seq_skip=0.001,")
    assert spec.as_dict()["latency_ms"] == "20"
    assert spec.ws_active
    assert spec.http_active


@pytest.mark.parametrize("text", ["", "  ", "none", "OFF"])
def test_no_faults(text: str) -> None:
    spec = FaultSpec.parse(text)
    assert spec == FaultSpec()
    assert str(spec) == "none"
    assert not spec.ws_active
    assert not spec.http_active


@pytest.mark.parametrize(
    ("text", "rate"), [("http_429=1", 1_000_000), ("http_429=.5", 500_000), ("http_429=0.000001", 1)]
)
def test_rates(text: str, rate: int) -> None:
    assert FaultSpec.parse(text).http_429 == rate


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("bogus=0.1", "unknown fault 'bogus'; faults: ws_drop"),
        ("http_429", "is not name=value"),
        ("http_429=0.1,http_429=0.2", "given twice"),
        ("http_429=1.5", "from 0 to 1"),
        ("http_429=-0.1", "from 0 to 1"),
        ("http_429=0.0000001", "at most 6 decimals"),
        ("http_429=1e-3", "at most 6 decimals"),
        ("http_429=", "got ''"),
        ("latency_ms=1.5", "whole milliseconds"),
        ("latency_ms=600000", "whole milliseconds"),
        ("http_429=0.1,", "is not name=value"),
    ],
)
def test_bad_specs_say_why(text: str, needle: str) -> None:
    with pytest.raises(FaultSpecError, match=needle):
        FaultSpec.parse(text)


def decisions(seed: int, spec: str, frames: int = 2_000) -> list[object]:
    injector = FaultInjector(seed, spec=FaultSpec.parse(spec))
    out: list[object] = []
    for i in range(frames):
        sent = injector.on_send(1, "u", DELTA % i)
        out.append(None if sent is None else tuple(sent))
    return out


def test_ws_decisions_are_deterministic_under_the_seed() -> None:
    spec = "ws_drop=0.01,seq_skip=0.05,seq_repeat=0.05,malformed=0.02"
    assert decisions(7, spec) == decisions(7, spec)
    assert decisions(7, spec) != decisions(8, spec)


def test_each_ws_fault_does_what_it_says() -> None:
    frame = DELTA % 5
    assert FaultInjector(1, spec=FaultSpec.parse("ws_drop=1")).on_send(1, "u", frame) is None
    assert FaultInjector(1, spec=FaultSpec.parse("seq_skip=1")).on_send(1, "u", frame) == ()
    assert FaultInjector(1, spec=FaultSpec.parse("seq_repeat=1")).on_send(1, "u", frame) == (frame, frame)
    assert FaultInjector(1, spec=FaultSpec.parse("malformed=1")).on_send(1, "u", frame) == (frame[: len(frame) // 2],)
    # seq faults leave unsequenced frames alone
    for spec in ("seq_skip=1", "seq_repeat=1"):
        assert FaultInjector(1, spec=FaultSpec.parse(spec)).on_send(1, "u", TICKER) == (TICKER,)


def test_rates_are_about_right() -> None:
    sent = decisions(3, "seq_skip=0.1")
    skipped = sum(1 for s in sent if s == ())
    assert 150 < skipped < 250  # 10 % of 2,000


def test_arm_validates() -> None:
    injector = FaultInjector(1)
    with pytest.raises(ValueError, match="one-shot faults are"):
        injector.arm("ws_drop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1"):
        injector.arm("http_429", count=0)
