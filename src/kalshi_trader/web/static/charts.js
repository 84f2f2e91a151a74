// Small canvas line charts (no dependencies). window.KTCharts.lines(canvas, spec)
// spec: {series: [{name, color, points: [[x, y], ...], axis: "left"|"right", dash}], xFormat, yFormat,
//        yRightFormat, hline: {y, color, label}}
"use strict";
(function () {
  const GRID = "rgba(138,155,184,0.14)";
  const TEXT = "#8a9bb8";
  const FONT = "11px ui-monospace, 'DejaVu Sans Mono', Menlo, monospace";

  function setup(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || 600;
    const cssH = canvas.clientHeight || 200;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    return { ctx, w: cssW, h: cssH };
  }

  function extent(values, pad) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (!isFinite(lo)) return [0, 1];
    if (lo === hi) { const d = Math.abs(lo) * 0.05 || 1; lo -= d; hi += d; }
    const p = (hi - lo) * (pad || 0.08);
    return [lo - p, hi + p];
  }

  function ticks(lo, hi, n) {
    const span = hi - lo, raw = span / n;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => span / s <= n) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(v);
    return out;
  }

  const TIME_STEPS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 10800, 21600, 43200, 86400].map(s => s * 1000);
  function timeTicks(lo, hi, n) {
    const step = TIME_STEPS.find(s => (hi - lo) / s <= n) || TIME_STEPS[TIME_STEPS.length - 1];
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push(v);
    return out;
  }

  function empty(ctx, w, h, text) {
    ctx.fillStyle = TEXT; ctx.font = "13px system-ui, sans-serif"; ctx.textAlign = "center";
    ctx.fillText(text, w / 2, h / 2);
  }

  function lines(canvas, spec) {
    const { ctx, w, h } = setup(canvas);
    const series = spec.series.filter(s => s.points.length > 0);
    const hasRight = series.some(s => s.axis === "right");
    const m = { l: 64, r: hasRight ? 64 : 14, t: 10, b: 22 };
    const pw = w - m.l - m.r, ph = h - m.t - m.b;
    const all = series.flatMap(s => s.points);
    if (all.length < 2) { empty(ctx, w, h, spec.emptyText || "collecting data…"); return; }
    const [x0, x1] = extent(all.map(p => p[0]), 0);
    const left = series.filter(s => s.axis !== "right").flatMap(s => s.points.map(p => p[1]));
    if (spec.hline) left.push(spec.hline.y);
    const right = series.filter(s => s.axis === "right").flatMap(s => s.points.map(p => p[1]));
    const [yl0, yl1] = extent(left.length ? left : [0, 1]);
    const [yr0, yr1] = extent(right.length ? right : [0, 1]);
    const X = x => m.l + (x1 === x0 ? pw / 2 : ((x - x0) / (x1 - x0)) * pw);
    const YL = y => m.t + ph - ((y - yl0) / (yl1 - yl0)) * ph;
    const YR = y => m.t + ph - ((y - yr0) / (yr1 - yr0)) * ph;

    ctx.font = FONT; ctx.lineWidth = 1;
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const v of ticks(yl0, yl1, 5)) {
      const y = Math.round(YL(v)) + 0.5;
      ctx.strokeStyle = GRID; ctx.beginPath(); ctx.moveTo(m.l, y); ctx.lineTo(w - m.r, y); ctx.stroke();
      ctx.fillStyle = TEXT; ctx.fillText((spec.yFormat || String)(v), m.l - 6, y);
    }
    if (hasRight) {
      ctx.textAlign = "left";
      for (const v of ticks(yr0, yr1, 5)) ctx.fillText((spec.yRightFormat || String)(v), w - m.r + 6, YR(v));
    }
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    const nx = Math.max(2, Math.floor(pw / 110));
    const xt = spec.xTime ? timeTicks(x0, x1, nx) : ticks(x0, x1, nx);
    for (const v of xt) {
      const x = Math.round(X(v)) + 0.5;
      ctx.strokeStyle = GRID; ctx.beginPath(); ctx.moveTo(x, m.t); ctx.lineTo(x, m.t + ph); ctx.stroke();
      ctx.fillStyle = TEXT; ctx.fillText((spec.xFormat || String)(v), x, m.t + ph + 6);
    }
    if (spec.hline) {
      const y = YL(spec.hline.y);
      ctx.setLineDash([4, 4]); ctx.strokeStyle = spec.hline.color; ctx.beginPath();
      ctx.moveTo(m.l, y); ctx.lineTo(w - m.r, y); ctx.stroke(); ctx.setLineDash([]);
    }
    for (const s of series) {
      const Y = s.axis === "right" ? YR : YL;
      ctx.strokeStyle = s.color; ctx.lineWidth = s.width || 2; ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      let started = false;
      for (const [x, y] of s.points) {
        if (y === null || y === undefined) { started = false; continue; }
        if (!started) { ctx.moveTo(X(x), Y(y)); started = true; } else ctx.lineTo(X(x), Y(y));
      }
      ctx.stroke(); ctx.setLineDash([]);
      if (s.fill) {
        const pts = s.points.filter(p => p[1] !== null && p[1] !== undefined);
        if (pts.length > 1) {
          const g = ctx.createLinearGradient(0, m.t, 0, m.t + ph);
          g.addColorStop(0, s.fill); g.addColorStop(1, "rgba(0,0,0,0)");
          ctx.fillStyle = g; ctx.beginPath(); ctx.moveTo(X(pts[0][0]), m.t + ph);
          for (const [x, y] of pts) ctx.lineTo(X(x), Y(y));
          ctx.lineTo(X(pts[pts.length - 1][0]), m.t + ph); ctx.closePath(); ctx.fill();
        }
      }
    }
  }

  window.KTCharts = { lines };
})();
