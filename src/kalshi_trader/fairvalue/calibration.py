"""Calibration of probability forecasts against settled outcomes: Brier score, log loss and a
reliability table.

Contract:
- Input is (probability, outcome) pairs — one per market per forecast snapshot, probability in
  [0, 1], outcome True/False (or 1/0) as the market settled. ``pairs_from_events`` flattens an
  event's bracket probabilities and its settled °F value into such pairs.
- ``brier_score`` = mean (p − o)²; ``log_loss`` = −mean(o·ln p + (1 − o)·ln(1 − p)) with p clipped
  to [eps, 1 − eps]; ``reliability_table`` bins the pairs by probability into ``bins`` equal-width
  bins ([0, 1/n), ..., [(n−1)/n, 1]) and reports per non-empty bin the count, mean prediction and
  observed frequency. ``calibration_report`` bundles the three; ``format_report`` renders it as
  plain text lines for the CLI.
- Pure functions; empty input or a probability outside [0, 1] raises ``ValueError``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kalshi_trader.fairvalue.weather import BracketProbability

Pair = tuple[float, bool | int]

LOG_LOSS_EPS = 1e-15


def _checked(pairs: Iterable[Pair]) -> list[tuple[float, int]]:
    out: list[tuple[float, int]] = []
    for p, o in pairs:
        if not (isinstance(p, int | float) and math.isfinite(p) and 0.0 <= p <= 1.0):
            raise ValueError(f"probability {p!r} is not in [0, 1]")
        if o not in (0, 1):  # True/False compare equal to 1/0
            raise ValueError(f"outcome {o!r} is not 0/1 or True/False")
        out.append((float(p), int(o)))
    if not out:
        raise ValueError("no (probability, outcome) pairs to score")
    return out


def brier_score(pairs: Iterable[Pair]) -> float:
    """Mean squared difference between probability and outcome (0 perfect, 0.25 for always 0.5)."""
    checked = _checked(pairs)
    return math.fsum((p - o) ** 2 for p, o in checked) / len(checked)


def log_loss(pairs: Iterable[Pair], eps: float = LOG_LOSS_EPS) -> float:
    """Mean negative log-likelihood of the outcomes (natural log; ln 2 ≈ 0.693 for always 0.5)."""
    checked = _checked(pairs)
    total = 0.0
    for p, o in checked:
        q = min(1.0 - eps, max(eps, p))
        total += -math.log(q) if o else -math.log1p(-q)
    return total / len(checked)


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    mean_predicted: float
    observed_frequency: float


def reliability_table(pairs: Iterable[Pair], bins: int = 10) -> list[ReliabilityBin]:
    """Equal-width probability bins (the last one closed at 1) with their hit rates; empty bins
    are left out."""
    if bins < 1:
        raise ValueError("bins must be at least 1")
    groups: list[list[tuple[float, int]]] = [[] for _ in range(bins)]
    for p, o in _checked(pairs):
        groups[min(bins - 1, int(p * bins))].append((p, o))
    return [
        ReliabilityBin(
            low=i / bins,
            high=(i + 1) / bins,
            count=len(g),
            mean_predicted=math.fsum(p for p, _ in g) / len(g),
            observed_frequency=sum(o for _, o in g) / len(g),
        )
        for i, g in enumerate(groups)
        if g
    ]


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    count: int
    brier: float
    log_loss: float
    base_rate: float
    reliability: tuple[ReliabilityBin, ...]


def calibration_report(pairs: Iterable[Pair], bins: int = 10) -> CalibrationReport:
    checked = _checked(pairs)
    return CalibrationReport(
        count=len(checked),
        brier=brier_score(checked),
        log_loss=log_loss(checked),
        base_rate=sum(o for _, o in checked) / len(checked),
        reliability=tuple(reliability_table(checked, bins)),
    )


def format_report(report: CalibrationReport) -> list[str]:
    """Plain-text lines: a summary line and the reliability table."""
    lines = [
        f"n={report.count}  Brier={report.brier:.4f}  log loss={report.log_loss:.4f}  base rate={report.base_rate:.3f}",
        f"{'bin':>11}  {'n':>6}  {'predicted':>9}  {'observed':>8}",
    ]
    lines += [
        f"{b.low:4.2f}–{b.high:4.2f}  {b.count:6d}  {b.mean_predicted:9.3f}  {b.observed_frequency:8.3f}"
        for b in report.reliability
    ]
    return lines


def pairs_from_events(events: Iterable[tuple[Sequence[BracketProbability], int]]) -> list[Pair]:
    """(probability, outcome) per bracket from (priced brackets, settled °F value) per event."""
    return [(bp.probability, bp.bracket.contains(settled)) for priced, settled in events for bp in priced]
