"""How much of what it may quote the weather market maker quotes, at several simulated speeds.

For each speed: start the trading node with ``weather_mm`` alone against the embedded exchange
(weather scenario, background traders) on loopback in this process, sample every half real second
for ``--minutes`` real minutes, stop. A sample classifies every open weather bracket with a fair
value as ``MMCoverage`` below does (quoted; or the market maker's own
gate: near close, stale book, fair value too old; or risk refusing it; or allowed and not quoted).
Coverage = quoted ÷ (quoted + allowed-not-quoted + fair value too old): a bracket refused only for
the age of its fair value counts as one it should have quoted. Samples in the first ``--warm-up``
real seconds (the opening quotes go out at the write budget's pace) are left out.

Baseline, same run: the node as it was, its fair values refreshed on a wall-clock cadence (every
3 real seconds, i.e. ``3 × speed`` market seconds) with no NWS request budget. Also reported: the
fair values' age in market seconds when sampled (median, p95, max), refreshes and NWS requests
per real second.

    .venv/bin/python bench/mm_coverage.py --speeds 60 300 600 --minutes 3
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import structlog

from kalshi_trader.config import ExchangeSettings, NwsSettings, Settings
from kalshi_trader.domain import OrderIntent
from kalshi_trader.node import NodeOptions, TradingNode
from kalshi_trader.risk.decisions import BREAKERS, Rule
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.strategy.base import Verdict
from kalshi_trader.strategy.weather_mm import WeatherMMStrategy, plan_quotes

QUOTED = "quoted"
WAITING = "allowed, not quoted"
ALLOWED = (QUOTED, WAITING)
ROOM_RULES = {Rule.MAX_OPEN_ORDERS, Rule.MAX_POSITION_PER_MARKET, Rule.MAX_EVENT_EXPOSURE, Rule.MAX_TOTAL_EXPOSURE}
HALT_RULES = {Rule.KILL_SWITCH, *BREAKERS}


def _refusal(rules: list[Rule]) -> str:
    """Why risk would refuse every quote wanted in a market (by the first quote's rule)."""
    rule = rules[0]
    if rule in HALT_RULES:
        return f"risk halted ({rule.value})"
    if rule in ROOM_RULES:
        return f"no room ({rule.value})"
    return f"risk refuses ({rule.value})"


def _gate_reason(why: str) -> str:
    """The market maker's reason for not quoting a market, without its figures."""
    if why.startswith("market closes in"):
        return "near close"
    if why.startswith("fair value is"):
        return "fair value too old"
    if why.startswith("book is stale"):
        return "stale book"
    if why.startswith("book is"):
        return "book too old"
    if why.startswith("market is") and why != "market is not in the feed":
        return "market not active"
    return why


@dataclass
class MMCoverage:
    """Whether the market maker quotes every weather bracket it is allowed to, sampled over the run.

    Each sample classifies every open weather bracket (listed as open, before its close, with a fair
    value): ``quoted`` (the market maker has an order resting there), or the reason it may not be
    quoted — the market maker's own gate (near close, stale or old book, old fair value; see
    ``WeatherMMStrategy.why_not_quote``), or risk: every quote the market maker wants there fails
    risk's dry run (``RiskManager.check``) on a rule other than the write budget (``no room`` for a
    position, exposure or open-order limit, ``risk halted`` for the kill switch or a breaker) — or
    else ``allowed, not quoted`` (it could quote there now and does not), with the
    market maker's latest decision on it. A bracket counts as *allowed* if it was in some sample,
    and as *quoted* if it was quoted in some sample; a bracket never allowed is listed under the
    reason it had most often."""

    ticks: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    waiting_why: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def sample(self, node: TradingNode, mm: WeatherMMStrategy, risk: RiskManager, tickers: set[str]) -> None:
        host = node.host
        assert host is not None
        state = host.state_for(mm.name)
        decisions = host.hosted(mm.name).decisions
        quoted = {o.ticker for o in state.open_orders}
        events: dict[str, int] = defaultdict(int)
        for ticker, market in state.markets.items():
            events[market.event_ticker] += state.position(ticker)
        for ticker in tickers:
            if ticker in quoted:
                self.ticks[ticker][QUOTED] += 1
                continue
            why = mm.why_not_quote(state, ticker)
            if why:
                self.ticks[ticker][_gate_reason(why)] += 1
                continue
            snap, fv = state.markets[ticker], state.fair_values[ticker]
            plan = plan_quotes(mm.params, snap, fv, state.position(ticker), events[snap.event_ticker])
            rules: list[Rule] = []
            for quote in (plan.bid, plan.ask):
                if quote is None:
                    continue
                intent = OrderIntent.place(ticker, quote.side, quote.price, quote.qty, "coverage-dry-run")
                rules.append(risk.check(intent, book=node.top_of(ticker), fair_value=fv.price).rule)
            if rules and all(r not in (Rule.APPROVED, Rule.RATE_BUDGET) for r in rules):
                self.ticks[ticker][_refusal(rules)] += 1
                continue
            self.ticks[ticker][WAITING] += 1
            decision = decisions.get(ticker)
            if not rules:
                why_not = f"no side worth quoting (bid: {plan.why_no_bid}; ask: {plan.why_no_ask})"
            elif decision is None:
                why_not = "no decision yet"
            elif decision.verdict is Verdict.TRADE:
                why_not = "placed, not resting yet (write budget, refusal or in flight)"
            else:
                why_not = f"{decision.verdict.value}: {decision.reason}"
            self.waiting_why[ticker][re.sub(r"\$[0-9.]+", "$x", why_not)[:150]] += 1

    def allowed(self) -> set[str]:
        return {t for t, c in self.ticks.items() if any(c[k] for k in ALLOWED)}

    def quoted(self) -> set[str]:
        return {t for t, c in self.ticks.items() if c[QUOTED]}

    def not_allowed(self) -> Counter[str]:
        """Brackets never allowed, by the reason they had most often."""
        out = Counter[str]()
        for ticker in set(self.ticks) - self.allowed():
            out[self.ticks[ticker].most_common(1)[0][0]] += 1
        return out

    def unquoted_why(self) -> Counter[str]:
        """Brackets allowed but never quoted, by the market maker's most frequent explanation."""
        out = Counter[str]()
        for ticker in self.allowed() - self.quoted():
            top = self.waiting_why[ticker].most_common(1)
            out[top[0][0] if top else "?"] += 1
        return out

    def time_share(self) -> float | None:
        """Of the samples where a bracket was allowed, the share in which it was quoted."""
        quoted = sum(c[QUOTED] for c in self.ticks.values())
        allowed = quoted + sum(c[WAITING] for c in self.ticks.values())
        return quoted / allowed if allowed else None

    def waiting_reasons(self) -> Counter[str]:
        """The samples in which a bracket was allowed and not quoted, by the market maker's explanation."""
        total = Counter[str]()
        for c in self.waiting_why.values():
            total.update(c)
        return total

    def sample_reasons(self) -> Counter[str]:
        """Every sample of every bracket, by class."""
        total = Counter[str]()
        for c in self.ticks.values():
            total.update(c)
        return total


def _quiet_logs() -> None:
    logging.basicConfig(level=logging.ERROR)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))


TOO_OLD = "fair value too old"
OLD_WALL_INTERVAL_S = 3.0
"""The wall-clock cadence fair values were refreshed on in sim before they followed market time."""


@dataclass
class Run:
    speed: float
    mode: str
    coverage: float | None
    brackets_quoted: int
    brackets_allowed: int
    classes: Counter[str]
    ages_s: list[float]
    refreshes_per_s: float
    nws_per_s: float
    market_h: float
    breakers: list[str]


def _coverage(classes: Counter[str]) -> float | None:
    allowed = classes[QUOTED] + classes[WAITING] + classes[TOO_OLD]
    return classes[QUOTED] / allowed if allowed else None


async def measure(speed: float, mode: str, minutes: float, warm_up_s: float, seed: int) -> Run:
    baseline = mode == "baseline"
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="mm-coverage-")),
        exchange=ExchangeSettings(port=0, seed=seed),
        nws=NwsSettings(max_requests_per_s=1_000 if baseline else NwsSettings().max_requests_per_s),
    )
    interval = OLD_WALL_INTERVAL_S * speed if baseline else NodeOptions().fair_interval_s
    options = NodeOptions(speed=speed, strategies=("weather_mm",), reconcile_interval_s=None, fair_interval_s=interval)
    node = TradingNode(settings, options)
    await node.start()
    host, fair = node.host, node.fair
    assert host is not None
    assert fair is not None
    monitor = node.monitor
    assert monitor is not None
    requests = 0

    def count(*_: object) -> None:
        nonlocal requests
        requests += 1

    fair.client.on_response = count
    mm = host.hosted("weather_mm").runner.strategy
    assert isinstance(mm, WeatherMMStrategy)
    risk = node.require_engine().risk
    coverage, ages, breakers = MMCoverage(), [], set[str]()
    began = time.monotonic()
    measured_from, market_from, refreshes_from, requests_from = began + warm_up_s, 0, 0, 0
    try:
        while time.monotonic() < began + warm_up_s + minutes * 60:
            await asyncio.sleep(0.5)
            if not market_from and time.monotonic() >= measured_from:
                market_from, refreshes_from, requests_from = node.market_ms(), fair.refreshes, requests
                coverage = MMCoverage()
                ages = []
            now = node.market_ms()
            tickers = set()
            for ticker, fv in node.fair_value_map().items():
                info, book = monitor.markets.get(ticker), monitor.book(ticker)
                if info is None or book is None or info.status.value not in ("open", "active") or now >= info.close_ms:
                    continue
                tickers.add(ticker)
                ages.append((now - fv.as_of_ms) / 1000)
            coverage.sample(node, mm, risk, tickers)
            breakers |= {f"{b.rule.value}: {b.reason}" for b in risk.open_breakers()}
        span_s = time.monotonic() - measured_from
        market_h = (node.market_ms() - market_from) / 3_600_000
        refreshes, nws = fair.refreshes - refreshes_from, requests - requests_from
    finally:
        await node.stop("measurement over")
    classes = coverage.sample_reasons()
    return Run(
        speed=speed,
        mode=mode,
        coverage=_coverage(classes),
        brackets_quoted=len(coverage.quoted() & coverage.allowed()),
        brackets_allowed=len(coverage.allowed() | {t for t, c in coverage.ticks.items() if c[TOO_OLD]}),
        classes=classes,
        ages_s=sorted(ages),
        refreshes_per_s=refreshes / span_s,
        nws_per_s=nws / span_s,
        market_h=market_h,
        breakers=sorted(breakers),
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _ages(ages: list[float]) -> str:
    if not ages:
        return "n/a"
    p95 = ages[min(len(ages) - 1, int(0.95 * len(ages)))]
    return f"{statistics.median(ages):.0f} / {p95:.0f} / {ages[-1]:.0f}"


def print_table(runs: list[Run]) -> None:
    print()
    print(
        "| speed | fair values refreshed | coverage (quoted ÷ may quote) | vs baseline | brackets quoted / allowed | "
        "fair age s (median / p95 / max) | refreshes /s | NWS requests /s | market h | other classes | breakers |"
    )
    print("|---|---|---:|---:|---|---|---:|---:|---:|---|---|")
    base = {r.speed: r.coverage for r in runs if r.mode == "baseline"}
    for r in runs:
        ref = base.get(r.speed)
        ratio = f"{r.coverage / ref:.2f}×" if r.coverage is not None and ref else "—"
        other = ", ".join(f"{k} {v}" for k, v in r.classes.most_common() if k not in (QUOTED, WAITING, TOO_OLD))
        what = "every 3 real s (baseline)" if r.mode == "baseline" else "on market time"
        print(
            f"| {r.speed:g}× | {what} | {_pct(r.coverage)} | {ratio if r.mode != 'baseline' else '1.00×'} | "
            f"{r.brackets_quoted} / {r.brackets_allowed} | {_ages(r.ages_s)} | {r.refreshes_per_s:.1f} | "
            f"{r.nws_per_s:.1f} | {r.market_h:.1f} | {other or 'none'} | {'; '.join(r.breakers) or 'none'} |"
        )


async def main_async(args: argparse.Namespace) -> list[Run]:
    runs = []
    for speed in args.speeds:
        for mode in ("baseline", "market-time") if args.baseline else ("market-time",):
            print(f"{speed:g}x {mode}: {args.minutes:g} min after {args.warm_up:g} s of warm-up", flush=True)
            run = await measure(speed, mode, args.minutes, args.warm_up, args.seed)
            print(f"  coverage {_pct(run.coverage)}; classes {dict(run.classes)}", flush=True)
            runs.append(run)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--speeds", type=float, nargs="+", default=[60.0, 300.0, 600.0])
    parser.add_argument("--minutes", type=float, default=3.0, help="real minutes measured per speed")
    parser.add_argument("--warm-up", type=float, default=45.0, help="real seconds left out at the start")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the baseline runs")
    args = parser.parse_args(argv)
    _quiet_logs()
    t0 = time.monotonic()
    runs = asyncio.run(main_async(args))
    print_table(runs)
    print(
        f"\n{datetime.now(UTC):%Y-%m-%d}, {platform.python_implementation()} {platform.python_version()}, "
        f"total wall time {time.monotonic() - t0:.0f} s; command: {' '.join(sys.argv)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
