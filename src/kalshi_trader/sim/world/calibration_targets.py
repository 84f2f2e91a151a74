"""What the simulated world is calibrated to: published measurements of how Kalshi markets behave,
and the world's settings that reproduce them — one table, each figure with its public source.

Contract:
- ``FIGURES`` lists every target: a key, what is measured, the published value, the tolerance the
  world must meet over a calibration run, the unit, and where the figure comes from. The world is
  measured against it by ``sim.world.measurements`` (the tests in ``tests/integration/sim/
  test_calibration.py`` and ``bench/calibrate_world.py`` print measured vs target).
- The world's settings derived from those figures live here too, next to what they reproduce:
  * ``WEATHER_PRICES`` / ``KALSHI_WIDE_PRICES``: ``FavouriteLongshot`` curves — the price the market
    puts on a contract that wins with probability p (cheap contracts priced above their chance,
    favourites slightly below). The background market makers quote around ``price(p)``; the
    curve's parameters are solved from the anchor figures (``FavouriteLongshot.through``).
  * ``LISTING_LEAD_MS``: weather events are listed (and open) this long before they close.
  * ``MARKET_SIGMA_RATIO``: how much sharper the market's forecast is than the public (NWS) one,
    by hours to the day's peak — the informed flow a naive forecast cannot beat far from the close.
  * ``LIQUIDITY``: the tiers of the weather series (which background makers quote them, how
    deep, how busy) and ``tier_of(series)``.
- Pure values and arithmetic (floats; nothing here touches money). Deterministic.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Final, Literal

HOUR_MS: Final = 3_600_000


@dataclass(frozen=True, slots=True)
class Figure:
    """One published measurement the world must reproduce."""

    key: str
    what: str
    target: float
    tolerance: float
    """|measured − target| ≤ tolerance passes (same unit as ``target``)."""
    unit: str
    source: str


_BDW = (
    "Bürgi, Deng & Whelan, 'Makers and Takers: The Economics of the Kalshi Prediction Market', "
    "CEPR DP20631 (2025), as quoted in alck11/fairline docs/architecture/decisions/0017 and 0019"
)
_BECKER = "J. Becker, 'Prediction market microstructure' (72.1 M Kalshi trades), jbecker.dev — second-hand"
_FAIRLINE_0019 = "alck11/fairline decision 0019: last traded prices of 402 settled weather ladders"
_FAIRLINE_MARKET = "alck11/fairline docs/research/2026-07-25-kalshi-category-expansion.md (market data, 2026-07-25)"

FIGURES: Final[tuple[Figure, ...]] = (
    Figure(
        "weather_cheap_return",
        "return before fee of weather contracts bought at [$0.00, $0.10)",
        -88.25,
        12.0,
        "%",
        _FAIRLINE_0019,
    ),
    Figure(
        "weather_dear_return",
        "return before fee of weather contracts bought at [$0.90, $1.00)",
        0.95,
        1.0,
        "%",
        _FAIRLINE_0019,
    ),
    Figure(
        "cheap_win_rate",
        "win rate of other (non-weather) contracts bought at $0.03–0.07 (5¢ contracts)",
        4.18,
        2.5,
        "%",
        _BECKER,
    ),
    Figure(
        "favourite_win_rate",
        "win rate of other (non-weather) contracts bought at $0.93–0.97 (95¢ contracts)",
        98.0,
        1.5,
        "%",
        _BDW + " ('a 95c contract that wins 98% of the time')",
    ),
    Figure(
        "maker_excess_return",
        "makers' excess return per contract traded (payout − price, before fees)",
        1.12,
        1.0,
        "¢",
        _BECKER,
    ),
    Figure(
        "taker_excess_return",
        "takers' excess return per contract traded (payout − price, before fees)",
        -1.12,
        1.0,
        "¢",
        _BECKER,
    ),
    Figure(
        "maker_taker_return_gap",
        "average return per contract bought, makers minus takers (makers −9.64%, takers −31.46%)",
        21.82,
        15.0,
        "points",
        _BDW,
    ),
    Figure(
        "naive_brier_skill",
        "Brier skill of a naive forecast (the public NWS forecast, calibrated) against the market mid, "
        "daily highs, 12–24 h before the close",
        -44.0,
        15.0,
        "%",
        "alck11/fairline decision 0014: KXHIGHNY prices beat a Gaussian MOS benchmark on every bucket type "
        "(skill −44% to −108%, 408 markets, May–Jul 2026); the smallest gap",
    ),
    Figure(
        "liquid_high_spread",
        "median spread of two-sided markets, the most liquid daily-high series (NY $0.01, LAX $0.02)",
        1.5,
        1.0,
        "¢",
        _FAIRLINE_MARKET,
    ),
    Figure(
        "high_spread",
        "median spread of two-sided markets, other daily-high series (MIA, CHI, SEA, BOS: $0.02)",
        2.0,
        1.0,
        "¢",
        _FAIRLINE_MARKET,
    ),
    Figure(
        "low_spread",
        "median spread of two-sided markets, daily-low series (Boston low: $0.04)",
        4.0,
        1.5,
        "¢",
        _FAIRLINE_MARKET,
    ),
    Figure(
        "high_two_sided",
        "share of daily-high markets with a two-sided quote (NY 9, LAX 10, MIA 7, CHI 10, SEA 10, BOS 8 of 12)",
        75.0,
        12.0,
        "%",
        _FAIRLINE_MARKET,
    ),
    Figure(
        "low_two_sided",
        "share of daily-low markets with a two-sided quote (Boston low: 6 of 12)",
        50.0,
        15.0,
        "%",
        _FAIRLINE_MARKET,
    ),
    Figure(
        "top_of_book_depth",
        "median contracts on the best bid of liquid temperature markets priced 10–90¢, 9 AM–6 PM ET",
        350.0,
        150.0,
        "contracts",
        "predictandprofit.io, 'What the Kalshi Order Book Actually Looks Like at 2am' ('200-500 contracts "
        "on the best bid' in peak hours)",
    ),
    Figure(
        "listing_lead",
        "hours from an event's listing (and open) to its close, daily temperature ladders",
        42.0,
        0.1,
        "h",
        "alck11/fairline decision 0016: KXHIGHLAX events listed 42.0 h before close (all 414 checked)",
    ),
)
"""The calibration targets, one per published figure."""


def figure(key: str) -> Figure:
    """The figure named ``key`` (``KeyError`` for an unknown one)."""
    for f in FIGURES:
        if f.key == key:
            return f
    raise KeyError(key)


# --------------------------------------------------------------------------------------------
# Favourite–longshot bias


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


_EDGE: Final = 1e-9


@dataclass(frozen=True, slots=True)
class FavouriteLongshot:
    """How a market prices a contract relative to its chance of winning.

    In log-odds measured from the break-even price b (z = logit(price) − logit(b)), a contract
    priced at z wins with log-odds logit(b) + z·(1 + k·|z|^power), k = ``cheap`` below b and
    ``dear`` above it: contracts priced below b win less often than their price says, contracts
    above it more often, the gap growing fast toward the extremes (``power``) and small in the
    middle. ``win_rate`` maps a price to that chance, ``price`` is its inverse (what the market
    asks for a contract of a given chance)."""

    break_even: float
    cheap: float
    dear: float
    power: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < self.break_even < 1.0 or self.cheap < 0.0 or self.dear < 0.0 or self.power <= 0.0:
            raise ValueError("break_even must be in (0, 1), the curvatures non-negative and the power positive")

    def _stretch(self, z: float) -> float:
        k = self.cheap if z < 0 else self.dear
        return z * (1.0 + k * math.pow(abs(z), self.power))

    def win_rate(self, price: float) -> float:
        """The chance that a contract the market prices at ``price`` wins."""
        p = min(1.0 - _EDGE, max(_EDGE, price))
        centre = _logit(self.break_even)
        return _expit(centre + self._stretch(_logit(p) - centre))

    def price(self, probability: float) -> float:
        """The market's price of a contract that wins with ``probability`` (``win_rate``'s
        inverse, by Newton's method on the monotone stretch)."""
        p = min(1.0 - _EDGE, max(_EDGE, probability))
        centre = _logit(self.break_even)
        target = _logit(p) - centre
        k = self.cheap if target < 0 else self.dear
        z = target
        for _ in range(50):
            error = self._stretch(z) - target
            if abs(error) < 1e-9:
                break
            slope = 1.0 + k * (1.0 + self.power) * math.pow(abs(z), self.power)
            z -= error / slope
        return _expit(centre + z)

    @staticmethod
    def through(
        break_even: float, cheap: tuple[float, float], dear: tuple[float, float], power: float = 1.0
    ) -> FavouriteLongshot:
        """The curve with this break-even price and power passing through one (price, win rate)
        anchor below the break-even and one above it."""
        centre = _logit(break_even)

        def curvature(price: float, win: float) -> float:
            z = _logit(price) - centre
            return max(0.0, ((_logit(win) - centre) / z - 1.0) / math.pow(abs(z), power))

        return FavouriteLongshot(break_even, curvature(*cheap), curvature(*dear), power)

    @staticmethod
    def power_through(break_even: float, near: tuple[float, float], far: tuple[float, float]) -> float:
        """The power for which two (price, win rate) anchors on the same side of the break-even
        lie on one curve."""
        centre = _logit(break_even)

        def excess(price: float, win: float) -> tuple[float, float]:
            z = _logit(price) - centre
            return abs(z), (_logit(win) - centre) / z - 1.0

        (z1, e1), (z2, e2) = excess(*near), excess(*far)
        return math.log(e2 / e1) / math.log(z2 / z1)


_WEATHER_BREAK_EVEN: Final = 0.322
_WEATHER_95: Final = (0.95, 0.95 * (1.0 + 0.0169) + 0.0033)
"""A 95¢ weather contract bought as taker returns +1.69% after the taker fee (~0.33¢ a contract on
an order of a few dozen): it wins ~96.9% (Bürgi et al.)."""
_WEATHER_99: Final = (0.989, 0.999)
"""98.9¢ weather contracts win 99.9% (fairline decision 0019)."""
_WEATHER_POWER: Final = FavouriteLongshot.power_through(_WEATHER_BREAK_EVEN, _WEATHER_95, _WEATHER_99)

WEATHER_PRICES: Final = FavouriteLongshot.through(
    _WEATHER_BREAK_EVEN, cheap=(0.011, 0.001), dear=_WEATHER_99, power=_WEATHER_POWER
)
"""Weather ladders: break-even 32.2¢ (Bürgi et al., Table 4, Climate & Weather), 1.1¢ contracts
winning 0.1% and 98.9¢ contracts winning 99.9% (fairline decision 0019), 95¢ contracts +1.69%
after fee (Bürgi et al.) fixing how fast the gap grows toward the extremes. Between 20¢ and 80¢
the curve departs from the price by less than half a cent, so where its returns change sign is
not measurable from trades; the world is checked against it decile by decile instead
(``sim.measurements.deciles``)."""

KALSHI_WIDE_PRICES: Final = FavouriteLongshot.through(
    0.511, cheap=(0.05, 0.0418), dear=(0.95, 0.98), power=_WEATHER_POWER
)
"""Every other market: break-even 51.1¢ (Bürgi et al., all contracts), 5¢ contracts winning 4.18%
(Becker), 95¢ contracts winning 98% (Bürgi et al.), with the weather curve's power."""


# --------------------------------------------------------------------------------------------
# The weather world's schedule and information


LISTING_LEAD_MS: Final = 42 * HOUR_MS
"""Weather events are listed and open 42 h before they close (``listing_lead``)."""

MARKET_SIGMA_RATIO: Final[tuple[tuple[float, float], ...]] = ((0.0, 0.85), (3.0, 0.55), (6.0, 0.5))
"""(hours to the day's peak, σ of the market's forecast ÷ σ of the public forecast), linear in
between, flat outside: far from the peak the market knows much more than the public forecast
(``naive_brier_skill``); by the peak, observations tell both nearly everything."""


def market_sigma_ratio(lead_hours: float) -> float:
    """``MARKET_SIGMA_RATIO`` at ``lead_hours`` (linear interpolation, flat outside)."""
    table = MARKET_SIGMA_RATIO
    if lead_hours <= table[0][0]:
        return table[0][1]
    for (l0, r0), (l1, r1) in itertools.pairwise(table):
        if lead_hours <= l1:
            return r0 + (r1 - r0) * (lead_hours - l0) / (l1 - l0)
    return table[-1][1]


# --------------------------------------------------------------------------------------------
# Liquidity tiers


Tier = Literal["deep", "standard", "thin"]


@dataclass(frozen=True, slots=True)
class Liquidity:
    """How liquid a series' markets are: which background makers quote them (by ``tier``), how
    large and how wide their quotes are, how often noise takers arrive (multipliers of the trader
    specs)."""

    tier: Tier
    size: float
    spread: float
    activity: float


LIQUIDITY: Final[dict[Tier, Liquidity]] = {
    "deep": Liquidity("deep", size=1.5, spread=0.75, activity=2.0),
    "standard": Liquidity("standard", size=1.0, spread=1.5, activity=1.0),
    "thin": Liquidity("thin", size=0.5, spread=2.0, activity=0.3),
}
"""Deep: the two most traded daily-high series (LAX 325k, NY 71k contracts a day); standard:
the other highs (MIA 66k … BOS 9k); thin: the lows (Boston low 1.4k) — fairline market data."""

DEEP_SERIES: Final = frozenset({"KXHIGHNY", "KXHIGHLAX"})


def tier_of(series: str, extreme: Literal["high", "low"]) -> Liquidity:
    """The liquidity tier of a weather series."""
    if extreme == "low":
        return LIQUIDITY["thin"]
    return LIQUIDITY["deep"] if series in DEEP_SERIES else LIQUIDITY["standard"]


__all__ = [
    "FIGURES",
    "KALSHI_WIDE_PRICES",
    "LIQUIDITY",
    "LISTING_LEAD_MS",
    "MARKET_SIGMA_RATIO",
    "WEATHER_PRICES",
    "FavouriteLongshot",
    "Figure",
    "Liquidity",
    "Tier",
    "figure",
    "market_sigma_ratio",
    "tier_of",
]
