"""Kalshi strike rules → integer brackets, partition checks, probabilities summing to 1, fair prices."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_trader.domain import MarketInfo, MarketStatus, Price, TickGrid
from kalshi_trader.fairvalue.weather import (
    Bracket,
    BracketError,
    MaxTempDistribution,
    ModelParams,
    bracket_probabilities,
    check_partition,
    fair_price,
    max_temp_distribution,
    parse_brackets,
)


def kalshi_event(low: int) -> list[Bracket]:
    """The six markets Kalshi lists (docs/weather-model.md): T{low} less, four 2° bands, T{low+7} greater."""
    out = [Bracket.from_strikes(f"T{low}", "less", None, low)]
    out += [Bracket.from_strikes(f"B{f}.5", "between", f, f + 1) for f in range(low, low + 8, 2)]
    out.append(Bracket.from_strikes(f"T{low + 7}", "greater", low + 7, None))
    return out


def test_strike_rules() -> None:
    assert Bracket.from_strikes("B78.5", "between", 78, 79) == Bracket("B78.5", 78, 79)
    assert Bracket.from_strikes("T83", "greater", 83, None) == Bracket("T83", 84, None)  # T > 83
    assert Bracket.from_strikes("T78", "less", None, 78) == Bracket("T78", None, 77)  # T < 78
    assert Bracket.from_strikes("x", "greater_or_equal", 84, None) == Bracket("x", 84, None)
    assert Bracket.from_strikes("x", "less_or_equal", None, 77) == Bracket("x", None, 77)
    assert Bracket.from_strikes("x", "between", 77.5, 79.5) == Bracket("x", 78, 79)
    assert Bracket.from_strikes("x", "greater", 83.5, None) == Bracket("x", 84, None)


def test_strike_rules_agree_with_the_yes_sets() -> None:
    # KXHIGHLAX-26AUG02 example: T78 less (≤77), B78.5 (78–79), …, T85 greater (≥86).
    less, band, greater = (
        Bracket.from_strikes("T78", "less", None, 78),
        Bracket.from_strikes("B78.5", "between", 78, 79),
        Bracket.from_strikes("T85", "greater", 85, None),
    )
    assert [less.contains(t) for t in (77, 78)] == [True, False]
    assert [band.contains(t) for t in (77, 78, 79, 80)] == [False, True, True, False]
    assert [greater.contains(t) for t in (85, 86)] == [False, True]
    assert (less.label, band.label, greater.label) == ("≤77°", "78–79°", "≥86°")


@pytest.mark.parametrize(
    ("strike_type", "floor", "cap", "match"),
    [
        ("between", 78, None, "cap_strike"),
        ("greater", None, None, "floor_strike"),
        ("less", None, math.nan, "cap_strike"),
        ("functional", 1, 2, "not a temperature bracket"),
        ("between", 80, 78, "empty bracket"),
    ],
)
def test_bad_strikes(strike_type: str, floor: float | None, cap: float | None, match: str) -> None:
    with pytest.raises(BracketError, match=match):
        Bracket.from_strikes("KXHIGHNY-26MAY16-X", strike_type, floor, cap)


def test_from_market_info() -> None:
    info = MarketInfo(
        ticker="KXHIGHNY-26MAY16-B78.5",
        event_ticker="KXHIGHNY-26MAY16",
        series_ticker="KXHIGHNY",
        status=MarketStatus.ACTIVE,
        grid=TickGrid.named("linear_cent"),
        close_ms=0,
        strike_type="between",
        floor_strike=78.0,
        cap_strike=79.0,
    )
    assert Bracket.from_market(info) == Bracket("KXHIGHNY-26MAY16-B78.5", 78, 79)


def test_partition_checks() -> None:
    event = kalshi_event(78)
    assert [b.ticker for b in check_partition(reversed(event))] == [b.ticker for b in event]
    with pytest.raises(BracketError, match="below"):
        check_partition(event[1:])
    with pytest.raises(BracketError, match="above"):
        check_partition(event[:-1])
    with pytest.raises(BracketError, match="gap or overlap"):
        check_partition([*event[:2], *event[3:]])
    with pytest.raises(BracketError, match="gap or overlap"):
        check_partition([*event, Bracket("dup", 80, 80)])
    with pytest.raises(BracketError, match="no brackets"):
        check_partition([])


def test_hand_computed_brackets_sum_to_one() -> None:
    d = MaxTempDistribution(center_f=80.0, sigma_f=2.0, dof=math.inf)
    probs = bracket_probabilities(d, kalshi_event(78))
    assert [p.bracket.ticker for p in probs] == ["T78", "B78.5", "B80.5", "B82.5", "B84.5", "T85"]
    assert probs[0].probability == pytest.approx(0.1056497737, abs=1e-6)  # ≤77: Φ(−1.25)
    assert probs[1].probability == pytest.approx(0.2956439006, abs=1e-6)  # 78–79
    assert probs[2].probability == pytest.approx(0.7733726476 - 0.4012936743, abs=1e-6)  # 80–81: Φ(.75) − Φ(−.25)
    assert probs[5].probability == pytest.approx(1 - 0.9970202368, abs=1e-6)  # ≥86: 1 − Φ(2.75)
    assert math.fsum(p.probability for p in probs) == pytest.approx(1.0, abs=1e-12)


def test_brackets_below_the_observed_max_are_dead() -> None:
    d = max_temp_distribution(80.0, 2.0, 82)
    probs = {p.bracket.ticker: p.probability for p in bracket_probabilities(d, kalshi_event(78))}
    assert probs["T78"] == 0.0
    assert probs["B78.5"] == 0.0
    assert probs["B80.5"] == 0.0
    assert probs["B82.5"] > 0.8


@settings(max_examples=300, deadline=None)
@given(
    low=st.integers(20, 100),
    widths=st.lists(st.integers(1, 4), min_size=0, max_size=8),
    forecast=st.floats(0.0, 120.0),
    lead=st.floats(-15.0, 150.0),
    observed=st.one_of(st.none(), st.integers(10, 130)),
    dof=st.sampled_from([2.5, 6.0, math.inf]),
)
def test_any_partition_sums_to_one(
    low: int, widths: list[int], forecast: float, lead: float, observed: int | None, dof: float
) -> None:
    brackets = [Bracket("lo", None, low - 1)]
    at = low
    for i, w in enumerate(widths):
        brackets.append(Bracket(f"b{i}", at, at + w - 1))
        at += w
    brackets.append(Bracket("hi", at, None))
    d = max_temp_distribution(forecast, lead, observed, params=ModelParams(dof=dof))
    probs = bracket_probabilities(d, brackets)
    assert all(0.0 <= p.probability <= 1.0 for p in probs)
    assert math.fsum(p.probability for p in probs) == pytest.approx(1.0, abs=1e-9)
    if observed is not None:
        assert all(p.probability == 0.0 for p in probs if p.bracket.high is not None and p.bracket.high < observed)


def test_parse_brackets() -> None:
    assert parse_brackets("77-, 78-79,80-81 ,82+") == [
        Bracket("77-", None, 77),
        Bracket("78-79", 78, 79),
        Bracket("80-81", 80, 81),
        Bracket("82+", 82, None),
    ]
    assert parse_brackets("-5-,-4--3,-2+")[1] == Bracket("-4--3", -4, -3)
    for bad in ("", "77", "a-b", "80-78", "78+-"):
        with pytest.raises(BracketError):
            parse_brackets(f"70-,{bad},90+")


def test_fair_price() -> None:
    assert fair_price(0.2956439006) == Price(2956)
    assert fair_price(0.00005) == Price(1)  # half up
    assert fair_price(0.0) == 0
    assert fair_price(1.0) == 10_000
    assert fair_price(1.0000001) == 10_000
    assert fair_price(-1e-17) == 0
    with pytest.raises(ValueError, match="finite"):
        fair_price(math.nan)
    grid = TickGrid.named("linear_cent")
    assert grid.round_down(fair_price(0.2956439006)) == 2900
