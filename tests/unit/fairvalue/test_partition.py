"""A partition's bracket probabilities with one CDF evaluation per edge equal ``bracket_probabilities``
float for float, for highs and lows, with and without an observed extreme."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_trader.fairvalue.partition import partition_probabilities
from kalshi_trader.fairvalue.weather import (
    Bracket,
    BracketError,
    bracket_probabilities,
    max_temp_distribution,
    min_temp_distribution,
)


def partition(low: int, widths: list[int]) -> list[Bracket]:
    """An open-below tail ending at ``low``, bands of ``widths``, an open-above tail (shuffled order
    does not matter: both sides sort)."""
    out = [Bracket("tail-low", None, low)]
    edge = low
    for i, width in enumerate(widths):
        out.append(Bracket(f"band-{i}", edge + 1, edge + width))
        edge += width
    out.append(Bracket("tail-high", edge + 1, None))
    return list(reversed(out))


@settings(max_examples=300, deadline=None)
@given(
    high=st.booleans(),
    centre=st.floats(-20, 110, allow_nan=False),
    lead=st.floats(-12, 130, allow_nan=False),
    observed=st.one_of(st.none(), st.integers(-20, 110)),
    low=st.integers(-30, 110),
    widths=st.lists(st.integers(1, 4), max_size=10),
)
def test_each_edge_once_gives_the_same_floats(
    high: bool, centre: float, lead: float, observed: int | None, low: int, widths: list[int]
) -> None:
    make = max_temp_distribution if high else min_temp_distribution
    dist = make(centre, lead, observed)
    brackets = partition(low, widths)
    assert partition_probabilities(dist, brackets) == [p.probability for p in bracket_probabilities(dist, brackets)]


def test_brackets_that_are_not_a_partition_are_refused() -> None:
    dist = max_temp_distribution(70.0, 6.0)
    with pytest.raises(BracketError):
        partition_probabilities(dist, [Bracket("a", None, 70), Bracket("b", 72, None)])
