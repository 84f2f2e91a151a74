"""Brier score, log loss and the reliability table on hand-computed examples."""

from __future__ import annotations

import math

import pytest

from kalshi_trader.fairvalue.calibration import (
    ReliabilityBin,
    brier_score,
    calibration_report,
    format_report,
    log_loss,
    pairs_from_events,
    reliability_table,
)
from kalshi_trader.fairvalue.weather import Bracket, BracketProbability

PAIRS = [(0.9, True), (0.8, False), (0.3, 0), (0.2, 1), (0.5, 1)]


def test_brier_by_hand() -> None:
    # (0.1² + 0.8² + 0.3² + 0.8² + 0.5²) / 5 = (0.01 + 0.64 + 0.09 + 0.64 + 0.25) / 5 = 0.326
    assert brier_score(PAIRS) == pytest.approx(0.326, abs=1e-12)
    assert brier_score([(0.5, 0), (0.5, 1)]) == 0.25
    assert brier_score([(1.0, 1), (0.0, 0)]) == 0.0


def test_log_loss_by_hand() -> None:
    expected = -(math.log(0.9) + math.log(0.2) + math.log(0.7) + math.log(0.2) + math.log(0.5)) / 5
    assert log_loss(PAIRS) == pytest.approx(expected, abs=1e-12)
    assert log_loss([(0.5, 1)]) == pytest.approx(math.log(2))
    # A certain miss is clipped, not infinite.
    assert log_loss([(0.0, 1)]) == pytest.approx(-math.log(1e-15))


def test_reliability_table_by_hand() -> None:
    pairs = [(0.05, 0), (0.08, 0), (0.15, 1), (0.95, 1), (1.0, 1), (0.92, 0)]
    table = reliability_table(pairs, bins=10)
    assert table == [
        ReliabilityBin(0.0, 0.1, 2, pytest.approx(0.065), 0.0),  # type: ignore[arg-type]
        ReliabilityBin(0.1, 0.2, 1, 0.15, 1.0),
        ReliabilityBin(0.9, 1.0, 3, pytest.approx((0.95 + 1.0 + 0.92) / 3), pytest.approx(2 / 3)),  # type: ignore[arg-type]
    ]
    assert [b.count for b in reliability_table(pairs, bins=2)] == [3, 3]


def test_report_and_format() -> None:
    report = calibration_report(PAIRS, bins=5)
    assert (report.count, report.base_rate) == (5, 0.6)
    assert report.brier == pytest.approx(0.326)
    lines = format_report(report)
    assert lines[0].startswith("n=5  Brier=0.3260  log loss=")
    assert len(lines) == 2 + len(report.reliability)


def test_pairs_from_settled_events() -> None:
    priced = [
        BracketProbability(Bracket("lo", None, 77), 0.2),
        BracketProbability(Bracket("mid", 78, 79), 0.5),
        BracketProbability(Bracket("hi", 80, None), 0.3),
    ]
    assert pairs_from_events([(priced, 79), (priced, 90)]) == [
        (0.2, False),
        (0.5, True),
        (0.3, False),
        (0.2, False),
        (0.5, False),
        (0.3, True),
    ]


@pytest.mark.parametrize("bad", [[], [(1.2, 1)], [(-0.1, 0)], [(math.nan, 0)], [(0.5, 2)], [(0.5, 0.5)]])
def test_bad_input(bad: list[tuple[float, int]]) -> None:
    with pytest.raises(ValueError, match=r"pairs|probability|outcome"):
        brier_score(bad)
    with pytest.raises(ValueError, match=r"pairs|probability|outcome"):
        calibration_report(bad)


def test_bins_must_be_positive() -> None:
    with pytest.raises(ValueError, match="bins"):
        reliability_table([(0.5, 1)], bins=0)
