"""``kalshi.check``'s pure parts: the clock verdict from a whole-second ``Date`` header, and how
money and key ids are shown."""

from __future__ import annotations

import pytest

from kalshi_trader.domain import Money
from kalshi_trader.kalshi.check import clock_result, dollars, short_key


@pytest.mark.parametrize(
    ("skew_ms", "ok", "needle"),
    [
        (-500, True, "within 0.0 s"),  # in sync: the Date header floors the server's time by up to 1 s
        (-999, True, "within 0.5 s"),
        (0, True, "within 0.5 s"),
        (1_400, True, "within 1.9 s"),
        (1_600, False, "about 2.1 s behind the server's"),
        (-7_500, False, "about 7.0 s ahead of the server's"),
        (None, False, "no Date header"),
    ],
)
def test_clock_verdict(skew_ms: int | None, ok: bool, needle: str) -> None:
    result = clock_result(skew_ms, rtt_ms=4)
    assert result.name == "clock"
    assert result.ok is ok
    assert needle in result.detail


def test_dollars_and_keys() -> None:
    assert dollars(Money(100_000_000)) == "$10,000.00"
    assert dollars(Money(5_550)) == "$0.555"
    assert dollars(Money(-12_345)) == "-$1.2345"
    assert dollars(Money(0)) == "$0.00"
    assert short_key("26345c60-7bc5-4409-b3ef-27e27120717e") == "26345c60…"
    assert short_key("bogus") == "bogus"
