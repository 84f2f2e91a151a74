"""The backtest report as one self-contained HTML file (inline SVG and a few lines of inline
script; no network, no external file: it opens offline).

Contract: ``render_html(result)`` returns the page: the summary figures, the equity curve (net
P&L), its drawdown, P&L by market and by strategy, the favourite's entries by entry price, the
YES bid/ask of a chosen market (a selector; the market with the most fills first) with the fills
drawn on it (▲ bought YES, ▼ sold YES; filled markers for taker fills), the calibration plot of
the fair value against the outcome, the Brier table and the refusals by rule. Every text from the data is HTML-escaped.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from kalshi_trader.backtest.collect import BacktestResult
from kalshi_trader.backtest.report import (
    ENTRY_HEADERS,
    TRADE_MODEL_NOTE,
    brier_rows,
    calibration,
    entry_rows,
    money,
    strategy_rows,
    summary,
)
from kalshi_trader.domain import PRICE_SCALE, QTY_SCALE

__all__ = ["render_html"]

W: Final = 860
H: Final = 240
PAD: Final = 48
MAX_MARKET_BARS: Final = 30
MAX_PRICE_CHARTS: Final = 40

_STYLE: Final = """
body{font:14px system-ui,sans-serif;margin:24px;color:#1b1f24;max-width:920px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}.note{background:#fff6d6;padding:8px;border-radius:4px}
svg{background:#fafbfc;border:1px solid #e1e4e8}.axis{stroke:#999;stroke-width:1}
.lbl{font-size:11px;fill:#555}.pos{fill:#2da44e}.neg{fill:#cf222e}
"""
_SCRIPT: Final = """
function showMarket(t){document.querySelectorAll('.market').forEach(function(e){
e.style.display=e.dataset.ticker===t?'block':'none'})}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%m-%d %H:%M")


def _scale(lo: float, hi: float, a: float, b: float) -> tuple[float, float]:
    """(factor, offset) mapping [lo, hi] onto [a, b]."""
    span = hi - lo or 1.0
    k = (b - a) / span
    return k, a - lo * k


def _frame(x0: int, x1: int, y_lo: float, y_hi: float, fmt: str = "{:.2f}") -> str:
    parts = [f'<line class="axis" x1="{PAD}" y1="{H - PAD / 2}" x2="{W - 10}" y2="{H - PAD / 2}"/>']
    parts.append(f'<line class="axis" x1="{PAD}" y1="10" x2="{PAD}" y2="{H - PAD / 2}"/>')
    parts.append(f'<text class="lbl" x="4" y="16">{_e(fmt.format(y_hi))}</text>')
    parts.append(f'<text class="lbl" x="4" y="{H - PAD / 2}">{_e(fmt.format(y_lo))}</text>')
    if x1 > x0:
        parts.append(f'<text class="lbl" x="{PAD}" y="{H - 6}">{_e(_when(x0))}</text>')
        parts.append(f'<text class="lbl" x="{W - 90}" y="{H - 6}">{_e(_when(x1))}</text>')
    return "".join(parts)


def _line_chart(
    series: Sequence[tuple[str, Sequence[tuple[int, float]]]], fmt: str = "{:.2f}", fill: bool = False
) -> str:
    points = [p for _, s in series for p in s]
    if not points:
        return "<p>No data.</p>"
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y_lo, y_hi = min(0.0, *(p[1] for p in points)), max(0.0, *(p[1] for p in points))
    kx, bx = _scale(x0, x1, PAD, W - 10)
    ky, by = _scale(y_lo, y_hi, H - PAD / 2, 10)
    out = [f'<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}">', _frame(x0, x1, y_lo, y_hi, fmt)]
    zero = by
    out.append(f'<line x1="{PAD}" y1="{zero:.1f}" x2="{W - 10}" y2="{zero:.1f}" stroke="#ccc" stroke-dasharray="3"/>')
    for colour, s in series:
        pts = " ".join(f"{kx * x + bx:.1f},{ky * y + by:.1f}" for x, y in s)
        if fill and s:
            first, last = kx * s[0][0] + bx, kx * s[-1][0] + bx
            out.append(
                f'<polygon points="{first:.1f},{zero:.1f} {pts} {last:.1f},{zero:.1f}" fill="{colour}" opacity="0.3"/>'
            )
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
    out.append("</svg>")
    return "".join(out)


def _bars(rows: Sequence[tuple[str, float]]) -> str:
    if not rows:
        return "<p>No trades.</p>"
    height = 22 * len(rows) + 20
    label_w = 250
    lo, hi = min(0.0, *(v for _, v in rows)), max(0.0, *(v for _, v in rows))
    k, b = _scale(lo, hi, label_w + 10, W - 70)
    out = [f'<svg width="{W}" height="{height}" viewBox="0 0 {W} {height}">']
    zero = b
    for i, (label, value) in enumerate(rows):
        y = 10 + 22 * i
        x_a, x_b = sorted((zero, k * value + b))
        cls = "pos" if value >= 0 else "neg"
        out.append(f'<text class="lbl" x="4" y="{y + 14}">{_e(label[:42])}</text>')
        out.append(f'<rect class="{cls}" x="{x_a:.1f}" y="{y}" width="{max(1.0, x_b - x_a):.1f}" height="16"/>')
        out.append(f'<text class="lbl" x="{max(x_a, x_b) + 4:.1f}" y="{y + 13}">{value:,.2f}</text>')
    out.append(f'<line class="axis" x1="{zero:.1f}" y1="6" x2="{zero:.1f}" y2="{height - 4}"/></svg>')
    return "".join(out)


def _price_chart(result: BacktestResult, ticker: str) -> str:
    samples = result.prices.get(ticker, [])
    fills = [f for f in result.fills if f.ticker == ticker]
    times = [s[0] for s in samples] + [f.ts_ms for f in fills]
    if not times:
        return "<p>No prices.</p>"
    x0, x1 = min(times), max(times)
    kx, bx = _scale(x0, x1, PAD, W - 10)
    ky, by = _scale(0, PRICE_SCALE, H - PAD / 2, 10)
    out = [f'<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}">', _frame(x0, x1, 0.0, 1.0)]
    for index, colour in ((1, "#2da44e"), (2, "#cf222e")):
        pts = " ".join(f"{kx * s[0] + bx:.1f},{ky * s[index] + by:.1f}" for s in samples if s[index] >= 0)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.2"/>')
    for f in fills:
        x, y = kx * f.ts_ms + bx, ky * f.price + by
        verb = "bought" if f.side == "bid" else "sold"
        tip = f"{_when(f.ts_ms)} {f.strategy} {verb} YES {f.qty / QTY_SCALE:g} @ {f.price / PRICE_SCALE:.2f}"
        d = -7 if f.side == "bid" else 7
        fill = "#0969da" if f.taker else "none"
        marker = f'<path d="M{x:.1f},{y:.1f} l-5,{-d} l10,0 z" fill="{fill}" stroke="#0969da">'
        out.append(f"{marker}<title>{_e(tip)}</title></path>")
    out.append("</svg>")
    return "".join(out)


def _calibration_chart(result: BacktestResult) -> str:
    points = calibration(result)
    if not points:
        return "<p>No fair-valued market was determined within the data.</p>"
    size = 320
    k = size - 2 * 30
    out = [f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}">']
    out.append(f'<line class="axis" x1="30" y1="{size - 30}" x2="{size - 30}" y2="30" stroke-dasharray="4"/>')
    out.append(f'<line class="axis" x1="30" y1="{size - 30}" x2="{size - 10}" y2="{size - 30}"/>')
    out.append(f'<line class="axis" x1="30" y1="{size - 30}" x2="30" y2="10"/>')
    out.append(f'<text class="lbl" x="{size / 2 - 40}" y="{size - 8}">fair value (P yes)</text>')
    out.append('<text class="lbl" x="2" y="22">YES rate</text>')
    total = max(n for *_, n in points)
    for _, mean_p, observed, n in points:
        r = 3 + 9 * (n / total) ** 0.5
        out.append(
            f'<circle cx="{30 + k * mean_p:.1f}" cy="{size - 30 - k * observed:.1f}" r="{r:.1f}" fill="#0969da" '
            f'opacity="0.6"><title>{_e(f"fair {mean_p:.2f}, yes {observed:.2f}, {n} samples")}</title></circle>'
        )
    out.append("</svg>")
    return "".join(out)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(result: BacktestResult) -> str:
    s = summary(result)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Backtest {_e(result.data)}</title><style>{_STYLE}</style><script>{_SCRIPT}</script></head><body>",
        f"<h1>Backtest of {_e(result.data)}</h1>",
        f"<p>{_e(result.data_kind)}: {result.records:,} records ({result.frames:,} frames), "
        f"{_e(_when(result.start_ms))} → {_e(_when(result.end_ms))} UTC, trading from "
        f"{_e(_when(result.trading_from_ms) if result.trading_from_ms else '-')}; strategies: "
        f"{_e(', '.join(result.strategies) or 'none')}.</p>",
    ]
    if result.overrides:
        parts.append(f"<p>Settings: {_e(', '.join(f'{k}={v}' for k, v in sorted(result.overrides.items())))}</p>")
    if result.data_kind == "history":
        parts.append(f"<p class='note'>{_e(TRADE_MODEL_NOTE)}</p>")
    win = "-" if s.win_rate is None else f"{s.win_rate:.0%} ({s.wins}/{s.decided})"
    parts.append(
        _table(
            ("figure", "value"),
            [
                ("P&L realized ($)", money(s.realized)),
                ("P&L unrealized ($)", money(s.unrealized)),
                ("fees ($)", money(s.fees)),
                ("net P&L ($)", money(s.net)),
                ("fills (taker)", f"{s.fills} ({s.taker_fills})"),
                ("win rate", win),
                ("max drawdown ($)", money(s.max_drawdown)),
                ("max total exposure ($)", money(s.max_total_exposure)),
                ("max position (contracts)", f"{s.max_position / QTY_SCALE:g} {s.max_position_ticker}"),
                ("max open orders", s.max_open_orders),
            ],
        )
    )
    equity = [(t, v / PRICE_SCALE) for t, v in result.equity]
    peak, drawdown = 0.0, []
    for t, v in equity:
        peak = max(peak, v)
        drawdown.append((t, v - peak))
    parts.append("<h2>Equity curve (net P&amp;L, $)</h2>" + _line_chart([("#0969da", equity)]))
    parts.append("<h2>Drawdown ($)</h2>" + _line_chart([("#cf222e", drawdown)], fill=True))
    by_market: dict[str, float] = defaultdict(float)
    for m in result.markets:
        by_market[m.ticker] += m.pnl / PRICE_SCALE
    by_strategy = [(name, pnl / PRICE_SCALE) for name, pnl, _, _ in strategy_rows(result)]
    ranked = sorted(by_market.items(), key=lambda kv: -abs(kv[1]))[:MAX_MARKET_BARS]
    parts.append(f"<h2>P&amp;L by market ($, the {len(ranked)} largest)</h2>" + _bars(ranked))
    parts.append("<h2>Net P&amp;L by strategy ($, after fees)</h2>" + _bars(by_strategy))
    entries = entry_rows(result)
    parts.append(
        "<h2>The favourite&#x27;s entries by entry price</h2>"
        + (_table(ENTRY_HEADERS, entries) if entries else "<p>No entries.</p>")
    )
    counts = Counter(f.ticker for f in result.fills)
    chosen = [t for t, _ in counts.most_common(MAX_PRICE_CHARTS)]
    parts.append("<h2>Fills on the price chart</h2>")
    if chosen:
        options = "".join(f"<option value='{_e(t)}'>{_e(t)} ({counts[t]} fills)</option>" for t in chosen)
        parts.append(
            f"<p><select onchange='showMarket(this.value)'>{options}</select> "
            "YES bid (green) and ask (red); ▲ bought YES, ▼ sold YES, filled = taker.</p>"
        )
        for i, ticker in enumerate(chosen):
            display = "block" if i == 0 else "none"
            title = result.titles.get(ticker, "")
            parts.append(
                f"<div class='market' data-ticker='{_e(ticker)}' style='display:{display}'><p>{_e(title)}</p>"
                f"{_price_chart(result, ticker)}</div>"
            )
    else:
        parts.append("<p>No fills.</p>")
    parts.append("<h2>Calibration: fair value against the outcome</h2>" + _calibration_chart(result))
    rows = brier_rows(result)
    parts.append("<h2>Brier score by hours to close</h2>")
    parts.append(
        _table(
            ("hours to close", "samples", "markets", "fair value", "market mid"),
            [(label, n, m, f"{fair:.4f}", f"{mid:.4f}") for label, n, m, fair, mid in rows],
        )
        if rows
        else "<p>No fair-valued market was determined within the data.</p>"
    )
    refused = [(name, rule, count) for name, rules in sorted(result.refused.items()) for rule, count in rules.items()]
    parts.append(
        "<h2>Refused intents by rule</h2>"
        + (_table(("strategy", "rule", "intents"), refused) if refused else "<p>None.</p>")
    )
    parts.append("</body></html>")
    return "".join(parts)
