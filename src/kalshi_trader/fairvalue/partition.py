"""Bracket probabilities of a partition with one CDF evaluation per edge.

Contract:
- ``partition_probabilities(distribution, brackets)`` equals
  ``[p.probability for p in weather.bracket_probabilities(distribution, brackets)]``, float for
  float: the brackets are checked and ordered by ``weather.check_partition`` and each bracket's
  P(low ≤ T ≤ high) is worked out as ``prob_range`` does (``max(0, cdf(high) − cdf(low − 1))``),
  but neighbouring brackets share their edge — ``cdf(high)`` of one is ``cdf(low − 1)`` of the
  next — so each edge's CDF (a Student-t tail: the costly part) is evaluated once, not twice
  (``TempDistribution.cdfs``, all edges in one call). The probabilities must sum to 1 as
  ``bracket_probabilities`` demands (``ArithmeticError``).
- ``probabilities_between(edges)``: the same from the CDF at the inner edges, for a caller that
  has them (the partition already checked, the CDFs of a moved centre).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from kalshi_trader.fairvalue.weather import Bracket, TempDistribution, check_partition

__all__ = ["partition_probabilities", "probabilities_between"]


def partition_probabilities(distribution: TempDistribution, brackets: Iterable[Bracket]) -> list[float]:
    """P(YES) of each bracket, coldest first (see the module contract)."""
    ordered = check_partition(brackets)
    return probabilities_between(distribution.cdfs([b.high for b in ordered if b.high is not None]))


def probabilities_between(edges: Sequence[float]) -> list[float]:
    """The bracket probabilities of a partition from the CDF at its inner edges (each bracket's
    ``cdf(high)`` but the warmest's, coldest first)."""
    out: list[float] = []
    below = 0.0  # cdf(low − 1) of the coldest bracket, open below
    for upper in (*edges, 1.0):
        out.append(max(0.0, upper - below))
        below = upper
    total = math.fsum(out)
    if abs(total - 1.0) > 1e-9:  # cannot happen for a partition; guards against a broken CDF
        raise ArithmeticError(f"bracket probabilities sum to {total!r}, not 1")
    return out
