"""Bracket probabilities of a partition with one CDF evaluation per edge.

Contract:
- ``partition_probabilities(distribution, brackets)`` equals
  ``[p.probability for p in weather.bracket_probabilities(distribution, brackets)]``, float for
  float: the brackets are checked and ordered by ``weather.check_partition`` and each bracket's
  P(low ≤ T ≤ high) is worked out as ``prob_range`` does (``max(0, cdf(high) − cdf(low − 1))``),
  but neighbouring brackets share their edge — ``cdf(high)`` of one is ``cdf(low − 1)`` of the
  next — so each edge's CDF (a Student-t tail: the costly part) is evaluated once, not twice.
  The probabilities must sum to 1 as ``bracket_probabilities`` demands (``ArithmeticError``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from kalshi_trader.fairvalue.weather import Bracket, TempDistribution, check_partition

__all__ = ["partition_probabilities"]


def partition_probabilities(distribution: TempDistribution, brackets: Iterable[Bracket]) -> list[float]:
    """P(YES) of each bracket, coldest first (see the module contract)."""
    out: list[float] = []
    below = 0.0  # cdf(low − 1) of the coldest bracket, open below
    for bracket in check_partition(brackets):
        upper = distribution.cdf(bracket.high)
        out.append(max(0.0, upper - below))
        below = upper
    total = math.fsum(out)
    if abs(total - 1.0) > 1e-9:  # cannot happen for a partition; guards against a broken CDF
        raise ArithmeticError(f"bracket probabilities sum to {total!r}, not 1")
    return out
