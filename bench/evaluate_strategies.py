"""Evaluate both strategies against the embedded exchange's living weather world.

For each seed: build the embedded exchange (weather scenario, other markets, background traders) on
a fast ``SimClock`` in this process on loopback, start the trading node with ``favorite`` and
``weather_mm`` (sim mode), run N simulated days, stop the node (it cancels resting orders) and
report per strategy P&L, fills, favourite brackets, market-maker coverage, risk refusals, risk-limit
checks and the fair value's Brier score against the market mid's on the same settled brackets.

    .venv/bin/python bench/evaluate_strategies.py --days 5 --seeds 1 2 3 --speed 600
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from kalshi_trader.config import ExchangeSettings, Settings
from kalshi_trader.domain import PRICE_SCALE, QTY_SCALE, BookSide, OrderIntent
from kalshi_trader.fairvalue.calibration import brier_score
from kalshi_trader.node import NodeOptions, TradingNode
from kalshi_trader.risk.decisions import BREAKERS, Rule
from kalshi_trader.risk.manager import RiskManager
from kalshi_trader.strategy.base import Verdict
from kalshi_trader.strategy.weather_mm import WeatherMMStrategy, plan_quotes

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
LEAD_MS = 12 * HOUR_MS
"""The fixed lead for the Brier comparison: the last sample at least this long before close."""


@dataclass
class StratStats:
    fills: int = 0
    cash: float = 0.0
    fees: float = 0.0
    pos: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    realized: float = 0.0
    unrealized: float = 0.0


@dataclass
class SeedResult:
    seed: int
    sim_days: float
    wall_s: float
    strat: dict[str, StratStats]
    account: dict[str, float]
    fav: dict[str, int]
    mm: MMCoverage
    refused: dict[str, Counter[str]]
    limit_breaches: list[str]
    max_open_orders: int
    max_exposure: float
    brier_fair: float | None
    brier_mid: float | None
    brier_n: int
    brier_fair_last: float | None
    brier_mid_last: float | None
    brier_n_last: int
    still_resting: int
    breakers: list[str] = field(default_factory=list)
    """Circuit breakers that tripped (risk halting new risk as designed; not a limit exceeded)."""
    deferred: dict[str, int] = field(default_factory=dict)
    """Places/amends the host held back (write budget spent, or risk halted): not refusals."""
    unprotected: list[str] = field(default_factory=list)
    """Filled favourite entries with no take-profit or stop exit order yet, and why."""
    mm_reasons: Counter[str] = field(default_factory=Counter)
    """The market maker's latest decision per market, by text before the first digit (why not quoting)."""


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


async def run_seed(
    seed: int, days: float, speed: float, progress_h: float, strategies: tuple[str, ...] = ("favorite", "weather_mm")
) -> SeedResult:
    tmp = tempfile.mkdtemp(prefix=f"eval-{seed}-")
    settings = Settings(data_dir=Path(tmp), exchange=ExchangeSettings(port=0, seed=seed))
    node = TradingNode(
        settings,
        NodeOptions(
            speed=speed,
            sample_interval_s=0.5,
            reconcile_interval_s=None,
            strategies=strategies,
        ),
    )
    wall0 = time.monotonic()
    await node.start()
    engine = node.require_engine()
    risk = engine.risk
    limits = node.limits
    start_ms = node.market_ms()
    end_ms = start_ms + int(days * DAY_MS)
    # ticker -> [(ms, fair, mid)]
    samples: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    close_of: dict[str, int] = {}
    weather_seen: set[str] = set()
    breaches: list[str] = []
    tripped: list[str] = []
    max_orders, max_exposure = 0, 0.0
    next_progress = start_ms + int(progress_h * HOUR_MS)
    coverage = MMCoverage()
    host = node.host
    assert host is not None
    mm = host.hosted("weather_mm").runner.strategy if "weather_mm" in host.names else None
    try:
        while node.market_ms() < end_ms:
            await asyncio.sleep(0.25)
            now = node.market_ms()
            monitor = node.monitor
            assert monitor is not None
            fair = node.fair_value_map()
            open_now: set[str] = set()
            for ticker, fv in fair.items():
                info = monitor.markets.get(ticker)
                book = monitor.book(ticker)
                if info is None or book is None:
                    continue
                if info.status.value not in ("open", "active") or now >= info.close_ms:
                    continue
                weather_seen.add(ticker)
                open_now.add(ticker)
                close_of[ticker] = info.close_ms
                mid = book.mid()
                if mid is None or book.stale:
                    continue
                samples[ticker].append((now, fv.price / PRICE_SCALE, mid / PRICE_SCALE))
            if isinstance(mm, WeatherMMStrategy) and mm.enabled:
                coverage.sample(node, mm, risk, open_now)
            status = engine.status()
            max_orders = max(max_orders, status.open_orders)
            exposure = risk.total_exposure() / PRICE_SCALE
            max_exposure = max(max_exposure, exposure)
            if status.open_orders > limits.max_open_orders:
                breaches.append(f"open orders {status.open_orders} > {limits.max_open_orders}")
            if risk.total_exposure() > limits.max_total_exposure:
                breaches.append(f"exposure ${exposure:.2f} > limit")
            for b in risk.open_breakers():
                msg = f"{b.rule.value}: {b.reason}"
                if msg not in tripped:
                    tripped.append(msg)
            if now >= next_progress:
                next_progress += int(progress_h * HOUR_MS)
                host = node.host
                assert host is not None
                fills = {n: len(host.hosted(n).fills) for n in host.names}
                refused = {n: host.hosted(n).refused for n in host.names}
                print(
                    f"  seed {seed} sim +{(now - start_ms) / HOUR_MS:5.1f} h | wall {time.monotonic() - wall0:6.1f} s"
                    f" | open orders {status.open_orders:3d} | exposure ${exposure:8.2f}"
                    f" | fills {fills} | refused {refused}",
                    flush=True,
                )
    finally:
        final_ms = node.market_ms()
        marks = node._marks()  # the books close with the node: mark open positions first
        report = await node.stop("evaluation finished")
    wall = time.monotonic() - wall0
    embedded = node.embedded
    settled = {s.ticker: s for s in embedded.world.settlements()} if embedded and embedded.world else {}

    # -- per-strategy P&L from attributed fills -------------------------------------------------
    strat: dict[str, StratStats] = {n: StratStats() for n in host.names}
    for name in host.names:
        st = strat[name]
        for f in host.hosted(name).fills:
            qty = f.qty / QTY_SCALE
            px = f.price / PRICE_SCALE
            sign = 1.0 if f.side is BookSide.BID else -1.0
            st.fills += 1
            st.pos[f.ticker] += sign * qty
            st.cash -= sign * qty * px
            st.fees += f.fee / PRICE_SCALE
        # value: settled → payout, open → mid, closed but not settled yet (no book left: today's
        # brackets at the end of a run) → the last fair value seen while open, flat → nothing
        per_ticker_cash: dict[str, float] = defaultdict(float)
        for f in host.hosted(name).fills:
            sign = 1.0 if f.side is BookSide.BID else -1.0
            per_ticker_cash[f.ticker] -= sign * (f.qty / QTY_SCALE) * (f.price / PRICE_SCALE)
        for ticker, cash in per_ticker_cash.items():
            q = st.pos[ticker]
            s = settled.get(ticker)
            if abs(q) < 1e-9:
                st.realized += cash
            elif s is not None and s.result in ("yes", "no"):
                st.realized += cash + q * (1.0 if s.result == "yes" else 0.0)
            elif ticker in marks:
                st.unrealized += cash + q * marks[ticker] / PRICE_SCALE
            else:
                rows = samples.get(ticker)
                st.unrealized += cash + q * (rows[-1][1] if rows else 0.5)
    tracker = engine.tracker
    account = {
        "realized": tracker.realized_pnl() / PRICE_SCALE,
        "unrealized": tracker.unrealized_pnl(marks) / PRICE_SCALE,
        "fees": tracker.fees_paid() / PRICE_SCALE,
    }

    # -- favourite: entries, protection, take-profits, stops --------------------------------------
    fav = Counter[str]()
    unprotected: list[str] = []
    # Public reads only: a bracket's id is its entry's client order id, and its children are
    # ``<bracket_id>-tp<n>`` (take-profits) / ``-sl<n>`` (stop exits) (``execution.brackets``).
    by_coid = {o.client_order_id: o for o in engine.orders()}
    for view in engine.brackets():
        if view.strategy != "favorite":
            continue
        fav["entries"] += 1
        entry = tracker.order(view.bracket_id) or by_coid.get(view.bracket_id)
        tps = [o for c, o in by_coid.items() if c.startswith(f"{view.bracket_id}-tp")]
        exits = [o for c, o in by_coid.items() if c.startswith(f"{view.bracket_id}-sl")]
        # The strategy's own exit closed the bracket: its stop backstop, or the exit before close.
        by_strategy = view.reason.startswith("exit:")
        backstop = by_strategy and "through the stop" in view.reason
        if entry is not None and entry.filled > 0:
            fav["filled"] += 1
            if tps or exits or by_strategy:
                fav["protected"] += 1
            else:  # the stop is armed in the engine from the fill on; say why no take-profit rests yet
                info = node.monitor.markets.get(view.ticker) if node.monitor is not None else None
                closes = f"closes in {(info.close_ms - final_ms) / 1000:.0f} s" if info else "closed or not followed"
                held = view.open_qty / QTY_SCALE
                unprotected.append(
                    f"{view.bracket_id} {view.ticker} ({closes}): bracket {view.state}, open {held:g} contracts,"
                    f" stop {view.stop_loss / PRICE_SCALE:.2f} armed; {view.reason or 'no reason given'}"
                )
        if any(o.filled > 0 for o in tps):
            fav["tp_filled"] += 1
        if exits or backstop:
            fav["stops"] += 1

    # -- Brier: fair vs mid on settled weather brackets -----------------------------------------
    pairs_f: list[tuple[float, int]] = []
    pairs_m: list[tuple[float, int]] = []
    last_f: list[tuple[float, int]] = []
    last_m: list[tuple[float, int]] = []
    for ticker, rows in samples.items():
        s = settled.get(ticker)
        if s is None or s.result not in ("yes", "no") or not rows:
            continue
        outcome = 1 if s.result == "yes" else 0
        lead = [r for r in rows if r[0] <= close_of[ticker] - LEAD_MS]
        if lead:
            _, p_fair, p_mid = lead[-1]
            pairs_f.append((min(1.0, max(0.0, p_fair)), outcome))
            pairs_m.append((min(1.0, max(0.0, p_mid)), outcome))
        _, p_fair, p_mid = rows[-1]
        last_f.append((min(1.0, max(0.0, p_fair)), outcome))
        last_m.append((min(1.0, max(0.0, p_mid)), outcome))

    return SeedResult(
        seed=seed,
        sim_days=(final_ms - start_ms) / DAY_MS,
        wall_s=wall,
        strat=strat,
        account=account,
        fav=dict(fav),
        unprotected=unprotected,
        mm=coverage,
        refused={n: Counter(host.hosted(n).refused_by) for n in host.names},
        limit_breaches=breaches,
        breakers=tripped,
        max_open_orders=max_orders,
        max_exposure=max_exposure,
        brier_fair=brier_score(pairs_f) if pairs_f else None,
        brier_mid=brier_score(pairs_m) if pairs_m else None,
        brier_n=len(pairs_f),
        brier_fair_last=brier_score(last_f) if last_f else None,
        brier_mid_last=brier_score(last_m) if last_m else None,
        brier_n_last=len(last_f),
        still_resting=report.still_resting,
        deferred={n: host.hosted(n).deferred + getattr(host.hosted(n), "held_halted", 0) for n in host.names},
        mm_reasons=Counter(
            d.reason.split(";")[0][:60] for d in host.hosted("weather_mm").decisions.values() if d.reason
        )
        if "weather_mm" in host.names
        else Counter(),
    )


def _b(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def _top(c: Counter[str], n: int = 3) -> str:
    return ", ".join(f"{k} {v}" for k, v in c.most_common(n)) or "none"


def _coverage(c: MMCoverage) -> str:
    allowed, quoted = c.allowed(), c.quoted()
    share = c.time_share()
    text = (
        f"quoted {len(quoted & allowed)}/{len(allowed)} allowed weather brackets "
        f"({'n/a' if share is None else f'{share:.0%}'} of allowed bracket-samples)"
        f"; not allowed: {', '.join(f'{v} {k}' for k, v in c.not_allowed().most_common()) or 'none'}"
    )
    samples = c.sample_reasons()
    barred = [(k, v) for k, v in samples.most_common() if k not in ALLOWED]
    if barred:
        text += f" (bracket-samples not allowed: {', '.join(f'{v} {k}' for k, v in barred)})"
    unquoted = c.unquoted_why()
    if unquoted:
        text += f"; allowed, never quoted: {', '.join(f'{v} {k}' for k, v in unquoted.most_common())}"
    return text


def print_table(results: list[SeedResult]) -> None:
    print()
    print("| seed | sim days | wall s | strategy | fills | realized $ | unrealized $ | fees $ | net $ | details |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for name, st in r.strat.items():
            net = st.realized + st.unrealized - st.fees
            if name == "favorite":
                f = r.fav
                details = (
                    f"entries {f.get('entries', 0)}, filled {f.get('filled', 0)}, protected "
                    f"{f.get('protected', 0)}/{f.get('filled', 0)}, TP filled {f.get('tp_filled', 0)}, "
                    f"stops {f.get('stops', 0)}; refused: {_top(r.refused[name])}; deferred {r.deferred.get(name, 0)}"
                )
            else:
                details = f"{_coverage(r.mm)}; refused: {_top(r.refused[name])}; deferred {r.deferred.get(name, 0)}"
            print(
                f"| {r.seed} | {r.sim_days:.2f} | {r.wall_s:.0f} | {name} | {st.fills} | {st.realized:.2f} | "
                f"{st.unrealized:.2f} | {st.fees:.2f} | {net:.2f} | {details} |"
            )
    print()
    print(
        "| seed | account realized $ | unrealized $ | fees $ | max open orders | max exposure $ | "
        "limits exceeded | breakers tripped | left resting | Brier fair (12 h lead) | Brier mid (12 h lead) | n | "
        "Brier fair (last) | Brier mid (last) | n |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        a = r.account
        breaches = "; ".join(sorted(set(r.limit_breaches))[:3]) or "none"
        print(
            f"| {r.seed} | {a['realized']:.2f} | {a['unrealized']:.2f} | {a['fees']:.2f} | {r.max_open_orders} | "
            f"{r.max_exposure:.2f} | {breaches} | {'; '.join(r.breakers[:2]) or 'none'} | {r.still_resting} | "
            f"{_b(r.brier_fair)} | {_b(r.brier_mid)} | "
            f"{r.brier_n} | {_b(r.brier_fair_last)} | {_b(r.brier_mid_last)} | {r.brier_n_last} |"
        )


async def main_async(args: argparse.Namespace) -> list[SeedResult]:
    results = []
    for seed in args.seeds:
        print(f"seed {seed}: {args.days} simulated days at {args.speed:g}x", flush=True)
        results.append(await run_seed(seed, args.days, args.speed, args.progress_hours, tuple(args.strategies)))
        r = results[-1]
        print(f"seed {seed} done in {r.wall_s:.0f} s wall ({r.sim_days:.2f} simulated days)", flush=True)
        print(f"  weather_mm latest decisions: {r.mm_reasons.most_common(5)}", flush=True)
        for line in r.unprotected:
            print(f"  favorite fill without a take-profit yet: {line}", flush=True)
        print(f"  weather_mm coverage: {_coverage(r.mm)}", flush=True)
        print(f"  weather_mm bracket-samples by class: {_top(r.mm.sample_reasons(), 12)}", flush=True)
        print(f"  weather_mm allowed, not quoted, by why: {_top(r.mm.waiting_reasons(), 6)}", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=float, default=5.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--speed", type=float, default=600.0, help="simulated seconds per wall second")
    parser.add_argument(
        "--strategies",
        nargs="+",
        choices=["favorite", "weather_mm"],
        default=["favorite", "weather_mm"],
        help="strategies to run (one alone shows its behaviour without the other's effects on shared risk)",
    )
    parser.add_argument("--progress-hours", type=float, default=6.0, help="progress line every N simulated hours")
    args = parser.parse_args(argv)
    _quiet_logs()
    t0 = time.monotonic()
    results = asyncio.run(main_async(args))
    print_table(results)
    print(f"\ntotal wall time {time.monotonic() - t0:.0f} s; command: {' '.join(sys.argv)}")
    return 1 if any(r.limit_breaches for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
