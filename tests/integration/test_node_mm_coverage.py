"""The weather market maker keeps quoting at high simulated speed: the node runs the embedded
exchange at 300× (five market minutes a real second, as ``kalshi-trader run --speed 300``) and the
market maker quotes at least 80% of the brackets it may quote — fair values are refreshed on
market time, so they are never too old for it however fast the clock runs (refreshed on a
3-second wall-clock cadence, as before, they were 900 market seconds old at this speed: too old
for the market maker). ``bench/mm_coverage.py`` measures 60×, 300× and 600×.

A bracket it *may* quote: open, live book, not within the market maker's stop before close — its
own gate without the fair value's age, which is what this test is about. Quoted: the market maker
has an order resting there. Coverage is counted over samples taken once the opening quotes are
placed (the write budget spreads the first few hundred orders over tens of real seconds)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from kalshi_trader.config import ExchangeSettings, Settings
from kalshi_trader.node import NodeOptions, TradingNode
from kalshi_trader.strategy.weather_mm import WeatherMMStrategy

pytestmark = pytest.mark.timeout(240)

SPEED = 300.0
MIN_COVERAGE = 0.8
WARM_UP_MAX_S = 90.0
SAMPLE_S = 15.0


def sample(node: TradingNode) -> tuple[set[str], set[str], int]:
    """(brackets the market maker may quote, those quoted, how many of them it refuses as having
    too old a fair value) now."""
    host = node.host
    assert host is not None
    mm = host.hosted("weather_mm").runner.strategy
    assert isinstance(mm, WeatherMMStrategy)
    state = host.state_for("weather_mm")
    quoted = {o.ticker for o in state.open_orders}
    allowed: set[str] = set()
    too_old = 0
    for ticker in state.markets:
        why = mm.why_not_quote(state, ticker)
        if why.startswith("fair value is"):
            too_old += 1
        elif why:
            continue
        allowed.add(ticker)
    return allowed, quoted & allowed, too_old


async def test_the_market_maker_quotes_most_allowed_brackets_at_300x(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, exchange=ExchangeSettings(port=0, seed=3))
    node = TradingNode(settings, NodeOptions(speed=SPEED, strategies=("weather_mm",), reconcile_interval_s=None))
    await node.start()
    try:
        began = time.monotonic()
        while True:  # the opening quotes: until most brackets are quoted (or the warm-up is over)
            await asyncio.sleep(1.0)
            allowed, quoted, _ = sample(node)
            if len(quoted) >= MIN_COVERAGE * len(allowed) > 0 or time.monotonic() - began > WARM_UP_MAX_S:
                break
        market_from = node.market_ms()
        allowed_n = quoted_n = too_old_n = 0
        breakers: set[str] = set()
        ends = time.monotonic() + SAMPLE_S
        while time.monotonic() < ends:
            await asyncio.sleep(0.25)
            allowed, quoted, too_old = sample(node)
            allowed_n, quoted_n, too_old_n = allowed_n + len(allowed), quoted_n + len(quoted), too_old_n + too_old
            breakers |= {f"{b.rule.value}: {b.reason}" for b in node.require_engine().risk.open_breakers()}
        market_span_h = (node.market_ms() - market_from) / 3_600_000
        refused = dict(node.host.hosted("weather_mm").refused_by) if node.host is not None else {}
    finally:
        await node.stop("test over")
    assert market_span_h > 0.5  # the clock really ran fast while sampling
    assert allowed_n > 0
    coverage = quoted_n / allowed_n
    assert coverage >= MIN_COVERAGE, (
        f"quoted {quoted_n} of {allowed_n} allowed bracket-samples ({coverage:.0%}); "
        f"breakers: {sorted(breakers) or 'none'}; refused: {refused}"
    )
    assert too_old_n <= 0.05 * allowed_n, f"{too_old_n} of {allowed_n} bracket-samples had too old a fair value"
