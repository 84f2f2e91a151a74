"""The fair value that respects the market: the model's probability pooled with the market mid on
log-odds, with a weight that depends on the hours left to the close.

Contract:
- ``MarketBlend(knots, low_knots=None)``: ``knots`` are (hours to close, model weight) pairs,
  hours strictly increasing, weights in [0, 1]; ``weight(hours, extreme)`` interpolates linearly
  between knots and is flat outside them. ``knots`` weigh the model of a daily high, ``low_knots``
  that of a daily low (None: the same as a high's) — the two models are right at different hours
  (a high is settled by the afternoon's observations; a low's evening can still undercut its
  morning). The fitted defaults are ``config.FairValueSettings.model_weight_by_hours`` and
  ``low_model_weight_by_hours`` (``bench/fit_blend.py`` fits them on the simulated world;
  ``MarketBlend.from_settings``).
- ``blend(p_model, p_mid, hours, extreme="high")``: logit⁻¹(w·logit(p_model) + (1 − w)·logit(p_mid))
  with w = ``weight(hours, extreme)`` — at w = 1 the model, at w = 0 the mid, in between always between the
  two and moving monotonically from the mid to the model as w grows. Probabilities are clamped to
  [``EDGE``, 1 − ``EDGE``] first, so a certain model value (a bracket the observations have
  decided) or a mid at $0/$1 stays finite: the result is within that range too. ``p_mid`` None
  (no book) gives the model's value.
- ``blend_event(models, mids, hours, extreme="high")``: ``blend`` per bracket of one event, then divided by their
  sum raised to w (the brackets partition the outcomes: at w = 1 the model's values, which sum to
  1; at w = 0 the mids exactly as the market has them; in between pulled toward a sum of 1 as
  far as the model is trusted); a bracket the model holds impossible (exactly 0) stays 0.
  ``event_pool(mids, hours, extreme)`` is the same as a function of the models, for pooling
  several model sets (a centre moved up and down) with one book.
- ``book_mid(bid, ask)``: the market's probability from its best YES bid and ask (dollars, None
  = that side empty): their midpoint; a one-sided book halfway from its only side to $1 (bids
  only) or $0 (asks only); None for an empty book. ``top_mid(top)`` is the same of a
  ``domain.TopOfBook``, None for no book or a stale one.
- Pure floats, no I/O.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kalshi_trader.config import FairValueSettings
from kalshi_trader.domain import PRICE_SCALE, TopOfBook
from kalshi_trader.fairvalue.weather import Extreme

__all__ = ["EDGE", "MarketBlend", "book_mid", "logit", "top_mid"]

EDGE = 1e-4
"""Probabilities are clamped to [EDGE, 1 − EDGE] before taking log-odds ($0.0001, a price tick)."""


def logit(p: float) -> float:
    q = min(1.0 - EDGE, max(EDGE, p))
    return math.log(q / (1.0 - q))


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True, slots=True)
class MarketBlend:
    """See the module docstring."""

    knots: tuple[tuple[float, float], ...]
    low_knots: tuple[tuple[float, float], ...] | None = None

    def __post_init__(self) -> None:
        for knots in (self.knots, self.knots if self.low_knots is None else self.low_knots):
            if not knots:
                raise ValueError("a market blend needs at least one (hours, weight) knot")
            hours = [h for h, _ in knots]
            if any(b <= a for a, b in itertools.pairwise(hours)):
                raise ValueError("blend knots must have strictly increasing hours")
            if any(not 0.0 <= w <= 1.0 or not math.isfinite(h) for h, w in knots):
                raise ValueError("blend weights must be within 0..1 and hours finite")

    @staticmethod
    def from_settings(settings: FairValueSettings) -> MarketBlend:
        def floats(knots: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
            return tuple((float(h), float(w)) for h, w in knots)

        return MarketBlend(floats(settings.model_weight_by_hours), floats(settings.low_model_weight_by_hours))

    def weight(self, hours: float, extreme: Extreme = "high") -> float:
        """The model's weight ``hours`` before the close of a daily high's or low's event."""
        knots = self.low_knots if extreme == "low" and self.low_knots is not None else self.knots
        if hours <= knots[0][0]:
            return knots[0][1]
        if hours >= knots[-1][0]:
            return knots[-1][1]
        i = bisect.bisect_right([h for h, _ in knots], hours)
        (h0, w0), (h1, w1) = knots[i - 1], knots[i]
        return w0 + (w1 - w0) * (hours - h0) / (h1 - h0)

    def blend(self, p_model: float, p_mid: float | None, hours: float, extreme: Extreme = "high") -> float:
        if p_mid is None:
            return p_model
        w = self.weight(hours, extreme)
        return _expit(w * logit(p_model) + (1.0 - w) * logit(p_mid))

    def blend_event(
        self, models: Sequence[float], mids: Sequence[float | None], hours: float, extreme: Extreme = "high"
    ) -> list[float]:
        return self.event_pool(mids, hours, extreme)(models)

    def event_pool(
        self, mids: Sequence[float | None], hours: float, extreme: Extreme = "high"
    ) -> Callable[[Sequence[float]], list[float]]:
        """``lambda models: blend_event(models, mids, hours, extreme)``, float for float, with the
        weight and the mids' log-odds worked out once for any number of model sets."""
        w = self.weight(hours, extreme)
        market = [None if k is None else (1.0 - w) * logit(k) for k in mids]
        low, high, log, exp, fsum = EDGE, 1.0 - EDGE, math.log, math.exp, math.fsum

        def pool(models: Sequence[float]) -> list[float]:
            if len(models) != len(market):
                raise ValueError("one mid (or None) per bracket")
            pooled = []
            for m, k in zip(models, market, strict=True):
                if m == 0.0 or k is None:
                    pooled.append(0.0 if m == 0.0 else m)
                    continue
                q = high if m > high else low if m < low else m  # logit(m), inlined
                pooled.append(1.0 / (1.0 + exp(-(w * log(q / (1.0 - q)) + k))))
            total = fsum(pooled)
            if total <= 0:
                return list(models)
            scale = total**w
            return [min(1.0, p / scale) for p in pooled]

        return pool


def book_mid(bid: float | None, ask: float | None) -> float | None:
    """See the module docstring."""
    if bid is not None and ask is not None:
        return (bid + ask) / 2
    if bid is not None:
        return (bid + 1.0) / 2
    if ask is not None:
        return ask / 2
    return None


def top_mid(top: TopOfBook | None) -> float | None:
    """See the module docstring."""
    if top is None or top.stale:
        return None
    bid, ask = top.best_bid, top.best_ask
    return book_mid(None if bid is None else bid / PRICE_SCALE, None if ask is None else ask / PRICE_SCALE)
