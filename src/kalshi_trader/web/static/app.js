// The kalshi-trader dashboard: one WebSocket (/api/stream) pushes every change; commands are POSTs.
"use strict";
(function () {
  const $ = id => document.getElementById(id);
  const S = {
    balance: null, positions: [], orders: [], ended_orders: [], fills: [], markets: [], book: null, fairvalue: [], pnl: [],
    strategies: [], risk: null, connection: null, health: null,
  };
  let selected = null, ws = null, backoff = 500, dirty = new Set(), frame = 0, filterText = "";

  // ---- formatting ------------------------------------------------------------------------------
  const num = s => (s === null || s === undefined ? null : Number(s));
  function money(s, opts) {
    const v = num(s);
    if (v === null || isNaN(v)) return "—";
    const sign = v < 0 ? "−" : (opts && opts.plus && v > 0 ? "+" : "");
    return sign + "$" + Math.abs(v).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function cents(s) {
    const v = num(s);
    if (v === null || isNaN(v)) return "—";
    const c = Math.round(v * 10000) / 100;
    return (Number.isInteger(c) ? c.toFixed(0) : c.toFixed(c * 10 % 1 === 0 ? 1 : 2)) + "¢";
  }
  function qty(s) {
    const v = num(s);
    if (v === null || isNaN(v)) return "—";
    return (Number.isInteger(v) ? v.toFixed(0) : v.toFixed(2));
  }
  const cls = v => (v > 0 ? "pos" : v < 0 ? "neg" : "");
  function clock(ms) {
    if (!ms) return "—";
    const d = new Date(ms);
    return d.toISOString().slice(5, 16).replace("T", " ") + " UTC";
  }
  function hhmm(ms) { return new Date(ms).toISOString().slice(11, 16); }
  function until(ms) {
    const now = S.connection ? S.connection.market_time_ms : Date.now();
    let s = Math.max(0, Math.round((ms - now) / 1000));
    if (s >= 86400) return Math.floor(s / 86400) + "d " + Math.floor(s % 86400 / 3600) + "h";
    if (s >= 3600) return Math.floor(s / 3600) + "h " + Math.floor(s % 3600 / 60) + "m";
    return Math.floor(s / 60) + "m";
  }
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
    return e;
  }
  function td(text, c) { return el("td", { class: c || "", text: text }); }
  function emptyRow(tbody, cols, text) {
    tbody.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: String(cols), text })));
  }
  function toast(text, bad) {
    const t = $("toast");
    t.textContent = text; t.className = "toast" + (bad ? " bad" : "");
    clearTimeout(toast.timer); toast.timer = setTimeout(() => t.classList.add("hidden"), 3500);
  }

  // ---- rendering -------------------------------------------------------------------------------
  function renderBalance() {
    const b = S.balance; if (!b) return;
    $("kpi-balance").textContent = money(b.balance);
    $("kpi-portfolio").textContent = "positions " + money(b.portfolio_value);
  }
  function renderPnlKpi() {
    const p = S.pnl[S.pnl.length - 1]; if (!p) return;
    const net = num(p.net);
    const k = $("kpi-pnl"); k.textContent = money(p.net, { plus: true }); k.className = "v " + cls(net);
    $("kpi-pnl-detail").textContent = "real. " + money(p.realized) + " · unreal. " + money(p.unrealized) + " · fees " + money(p.fees);
  }
  function renderRisk() {
    const r = S.risk; if (!r) return;
    const exp = num(r.total_exposure), max = num(r.max_total_exposure);
    $("kpi-exposure").textContent = money(r.total_exposure);
    const share = max > 0 ? Math.min(1, exp / max) : 0;
    const bar = $("kpi-exposure-bar"); bar.style.width = (share * 100).toFixed(1) + "%";
    bar.className = "fill" + (share > 0.9 ? " hot" : share > 0.7 ? " warn" : "");
    $("kpi-exposure-limit").textContent = "of " + money(r.max_total_exposure) + " limit";
    $("kpi-orders").textContent = String(r.open_orders);
    $("kpi-orders-limit").textContent = "max " + r.max_open_orders;
    const state = $("risk-state");
    state.textContent = r.kill_switch ? "KILLED" : r.halted ? "HALTED" : "trading";
    state.className = "pill " + (r.kill_switch || r.halted ? "bad" : "ok");
    const banner = $("kill-banner");
    if (r.kill_switch) {
      banner.textContent = "Kill switch engaged by " + r.kill_who + ": " + r.kill_why;
      banner.classList.remove("hidden");
    } else banner.classList.add("hidden");
    $("breakers").replaceChildren(...r.breakers.map(b => el("li", { "data-rule": b.rule },
      el("span", { class: "light" + (b.open ? " open" : ""), title: b.open ? "open" : "closed" }),
      el("span", { text: b.rule.replace(/_/g, " ") }),
      el("span", { class: "why", text: b.open ? b.reason : "ok" }))));
    const day = num(r.day_pnl), lim = num(r.daily_loss_limit);
    $("risk-daypnl").textContent = money(r.day_pnl, { plus: true }) + " / −" + money(r.daily_loss_limit);
    $("risk-daypnl-bar").style.width = (day < 0 && lim > 0 ? Math.min(100, -day / lim * 100) : 0).toFixed(1) + "%";
    $("risk-counts").textContent = r.submitted + " sent · " + r.refused + " refused · " + r.rejected + " rejected";
    $("reset-button").disabled = !(r.kill_switch || r.halted);
  }
  function renderStrategies() {
    const box = $("strategies");
    box.replaceChildren(...S.strategies.map(s => {
      const btn = el("button", { class: "btn toggle " + (s.running ? "" : "go"), type: "button", "data-action": s.running ? "stop" : "start" },
        s.running ? "Stop" : "Start");
      if (!s.enabled) { btn.disabled = true; btn.title = "disabled in config"; }
      btn.addEventListener("click", () => command("/api/strategy/" + (s.running ? "stop" : "start"), { name: s.name }, btn));
      const stat = (k, v) => el("div", { class: "stat" }, el("div", { class: "k", text: k }), el("div", { class: "v", text: String(v) }));
      const status = el("span", { class: "pill " + (s.running ? "ok" : "subtle") }, el("span", { class: "dot" }), s.running ? "running" : (s.enabled ? "stopped" : "disabled"));
      const decisions = el("ul", { class: "decisions" }, ...s.decisions.slice(0, 12).map(d =>
        el("li", { title: d.reason }, el("span", { class: "verdict " + d.verdict, text: d.verdict }),
          el("span", { class: "t", text: d.ticker }), el("span", { class: "r", text: d.reason }))));
      return el("article", { class: "strategy" + (s.running ? " running" : ""), "data-strategy": s.name },
        el("div", { class: "top" }, el("div", {}, el("div", { class: "title", text: s.title }), el("div", { class: "name", text: s.name })), status, btn),
        el("div", { class: "stats" }, stat("orders", s.open_orders), stat("fills", s.fills), stat("positions", s.positions), stat("actions", s.actions), stat("refused", s.refused)),
        s.last_error ? el("div", { class: "error", text: "stopped after an error: " + s.last_error }) : null,
        s.decisions.length ? decisions : el("div", { class: "muted", text: s.running ? "waiting for the first decision…" : "not running" }));
    }));
  }
  function renderMarkets() {
    const tbody = $("markets-table").tBodies[0];
    const f = filterText.toLowerCase();
    const rows = S.markets.filter(m => !f || m.ticker.toLowerCase().includes(f) || m.title.toLowerCase().includes(f));
    if (!rows.length) { emptyRow(tbody, 7, S.markets.length ? "no market matches" : "no markets yet"); return; }
    tbody.replaceChildren(...rows.map(m => {
      const bid = num(m.best_bid), ask = num(m.best_ask), fair = num(m.fair_value);
      let edge = null;
      if (fair !== null && bid !== null && ask !== null) edge = fair - (bid + ask) / 2;
      const tr = el("tr", { "data-ticker": m.ticker, class: m.ticker === selected ? "selected" : "" },
        el("td", {}, el("div", { class: "mkt" }, el("span", { class: "tt", text: m.subtitle || m.title, title: m.title }), el("span", { class: "tk", text: m.ticker }))),
        td(cents(m.best_bid), "num"), td(cents(m.best_ask), "num"), td(fair === null ? "—" : cents(m.fair_value), "num"),
        td(edge === null ? "—" : (edge >= 0 ? "+" : "−") + cents(Math.abs(edge)), "num " + cls(edge || 0)),
        td(num(m.position) ? qty(m.position) : "", "num " + cls(num(m.position))),
        td(until(m.market_close_ms), "num muted"));
      tr.addEventListener("click", () => selectMarket(m.ticker));
      return tr;
    }));
  }
  function renderBook() {
    const b = S.book;
    if (!b || b.ticker !== selected) {
      $("book-title").textContent = "Order book"; $("book-state").textContent = "select a market";
      $("ladder").replaceChildren(el("div", { class: "muted", text: "Click a market to see its ladder, fair value and price chart." }));
      $("book-sub").textContent = "";
      window.KTCharts.lines($("price-chart"), { series: [], emptyText: "no market selected" });
      return;
    }
    $("book-title").textContent = b.ticker;
    $("book-sub").textContent = b.title + (b.subtitle ? " — " + b.subtitle : "");
    const st = $("book-state"); st.textContent = b.stale ? "stale" : "live"; st.className = "pill " + (b.stale ? "bad" : "ok");
    const own = new Set(b.own_orders.map(o => o.price));
    const maxQ = Math.max(1, ...b.yes_bids.map(l => num(l.qty)), ...b.yes_asks.map(l => num(l.qty)));
    const level = l => {
      const d = el("span", { class: "depth" }); d.style.width = (num(l.qty) / maxQ * 100).toFixed(1) + "%";
      return el("div", { class: "lvl" + (own.has(l.price) ? " own" : ""), title: own.has(l.price) ? "our order rests here" : "" },
        d, el("span", { text: cents(l.price) }), el("span", { text: qty(l.qty) }));
    };
    const bids = el("div", { class: "side-col bids" }, el("h4", { text: "YES bids" }), ...b.yes_bids.slice(0, 8).map(level));
    const asks = el("div", { class: "side-col asks" }, el("h4", { text: "YES asks" }), ...b.yes_asks.slice(0, 8).map(level));
    const fair = el("div", { class: "fairline", text: b.fair_value === null ? "no fair value for this market" :
      "fair value " + cents(b.fair_value) + (b.uncertainty ? " ± " + cents(b.uncertainty) : "") });
    $("ladder").replaceChildren(bids, asks, fair);
    const h = b.history;
    window.KTCharts.lines($("price-chart"), {
      series: [
        { name: "bid", color: "rgba(34,197,94,.55)", width: 1, points: h.map(p => [p.market_ms, num(p.bid)]) },
        { name: "ask", color: "rgba(239,68,68,.55)", width: 1, points: h.map(p => [p.market_ms, num(p.ask)]) },
        { name: "mid", color: "#60a5fa", points: h.map(p => [p.market_ms, num(p.mid)]) },
        { name: "fair", color: "#a78bfa", dash: [5, 4], points: h.map(p => [p.market_ms, num(p.fair)]) },
      ],
      xFormat: hhmm, xTime: true, yFormat: v => (v * 100).toFixed(0) + "¢",
    });
  }
  function renderPnlChart() {
    const pts = S.pnl;
    const series = [
      { name: "Net P&L", color: "#22c55e", fill: "rgba(34,197,94,.18)", points: pts.map(p => [p.ts_ms, num(p.net)]) },
      { name: "Exposure", color: "#f59e0b", dash: [5, 4], points: pts.map(p => [p.ts_ms, num(p.exposure)]) },
      { name: "Balance", color: "#60a5fa", axis: "right", width: 1.5, points: pts.map(p => [p.ts_ms, num(p.balance)]) },
    ];
    $("pnl-legend").replaceChildren(...series.map(s => {
      const sw = el("span", { class: "sw" }); sw.style.background = s.color;
      return el("span", {}, sw, s.name + (s.axis === "right" ? " (right)" : ""));
    }));
    const fmt = v => (v < 0 ? "−$" : "$") + Math.abs(v).toLocaleString("en-US", { maximumFractionDigits: Math.abs(v) < 10 ? 2 : 0 });
    window.KTCharts.lines($("pnl-chart"), { series, xTime: true, xFormat: v => new Date(v).toTimeString().slice(0, 8), yFormat: fmt, yRightFormat: fmt,
      hline: { y: 0, color: "rgba(138,155,184,.5)" } });
  }
  function renderPositions() {
    const tbody = $("positions-table").tBodies[0];
    $("kpi-positions").textContent = String(S.positions.length);
    if (!S.positions.length) { emptyRow(tbody, 5, "no open positions"); return; }
    tbody.replaceChildren(...S.positions.map(p => el("tr", {},
      el("td", {}, el("div", { class: "mkt" }, el("span", { class: "tk", text: p.ticker }))),
      td((num(p.qty) > 0 ? "YES " : "NO ") + qty(Math.abs(num(p.qty))), "num " + cls(num(p.qty))),
      td(cents(p.average_cost), "num"), td(cents(p.mark), "num"),
      td(money(p.unrealized_pnl, { plus: true }), "num " + cls(num(p.unrealized_pnl))))));
  }
  function renderOrders() {
    const tbody = $("orders-table").tBodies[0];
    $("orders-count").textContent = String(S.orders.length);
    if (!S.orders.length) { emptyRow(tbody, 5, "no open orders"); return; }
    tbody.replaceChildren(...S.orders.slice(0, 200).map(o => el("tr", { "data-order": o.client_order_id, title: o.reason },
      el("td", {}, el("div", { class: "mkt" }, el("span", { class: "tk", text: o.ticker }))),
      el("td", {}, el("span", { class: "side " + o.side, text: o.side === "bid" ? "BUY YES" : "BUY NO" })),
      td(cents(o.price), "num"), td(qty(o.remaining), "num"), td(o.strategy || "—", "muted"))));
  }
  // Why an order ended: the exchange's last_update_reason, spelled out ("" = we canceled it, or it filled).
  const WHY = {
    Trade: "filled", Amend: "amended", Decrease: "decreased", ExpiryCancel: "expired", CloseCancel: "market closed",
    HaltCancel: "market halted", SelfTradeCancel: "self-trade", PostOnlyCrossCancel: "post-only would cross",
    ReduceOnlyCancel: "reduce-only cap", SettlementBoundsCancel: "settlement floor raised", MarginCancel: "margin",
  };
  function renderEnded() {
    const tbody = $("ended-table").tBodies[0];
    $("ended-count").textContent = String(S.ended_orders.length);
    if (!S.ended_orders.length) { emptyRow(tbody, 7, "no ended orders yet"); return; }
    tbody.replaceChildren(...S.ended_orders.map(o => {
      const why = o.last_update_reason ? (WHY[o.last_update_reason] || o.last_update_reason)
        : (o.state === "executed" ? "filled" : o.state === "rejected" ? "rejected" : "canceled by the node");
      return el("tr", { "data-order": o.client_order_id, title: (o.last_update_reason || "") + " · " + o.reason },
        el("td", {}, el("div", { class: "mkt" }, el("span", { class: "tk", text: o.ticker }))),
        el("td", {}, el("span", { class: "side " + o.side, text: o.side === "bid" ? "BUY YES" : "BUY NO" })),
        td(cents(o.price), "num"), td(qty(o.filled) + "/" + qty(o.size), "num"), td(o.state, "muted"),
        td(why, "why"), td(o.strategy || "—", "muted"));
    }));
  }
  function renderFills() {
    const tbody = $("fills-table").tBodies[0];
    $("kpi-fills").textContent = S.fills.length + " recent fills";
    if (!S.fills.length) { emptyRow(tbody, 5, "no fills yet"); return; }
    tbody.replaceChildren(...S.fills.slice(0, 100).map(f => el("tr", { title: (f.is_taker ? "taker" : "maker") + " · " + (f.strategy || "") },
      el("td", {}, el("div", { class: "mkt" }, el("span", { class: "tk", text: f.ticker }))),
      el("td", {}, el("span", { class: "side " + f.side, text: f.side === "bid" ? "YES" : "NO" })),
      td(cents(f.price), "num"), td(qty(f.qty), "num"), td(money(f.fee), "num muted"))));
  }
  function renderConnection() {
    const c = S.connection; if (!c) return;
    const live = c.ws_connected && ws && ws.readyState === 1;
    const pill = $("conn-pill"); pill.className = "pill " + (live ? "ok" : "bad");
    $("conn-text").textContent = live ? "live · " + c.books_fresh + "/" + c.books_total + " books" : "disconnected";
    const badge = $("mode-badge");
    badge.textContent = c.mode === "paper" ? "PAPER · no real orders" : c.mode + (c.mode === "sim" ? " · " + c.speed : "");
    badge.title = c.mode === "paper" ? "Market data from " + c.rest_url + "; every order is matched by the local paper venue" : "";
    badge.className = "badge" + (c.mode === "prod" ? " prod" : c.mode === "paper" ? " paper" : "");
    $("market-clock").textContent = clock(c.market_time_ms);
    const facts = [["Exchange REST", c.rest_url], ["Exchange WS", c.ws_url], ["Clock", c.speed],
      ["Frames", c.frames.toLocaleString()], ["Connects", c.connects + " (" + c.disconnects + " drops)"],
      ["Record", c.store + (c.store_pending ? " · " + c.store_pending + " pending" : "")],
      ["Last reconcile", c.last_reconcile || "—"], ["Feed delay", feedDelay(c.feed_delays || [])]];
    if (c.store_error) facts.push(["Store error", c.store_error]);
    $("connection").replaceChildren(...facts.map(([k, v]) => el("div", {}, el("dt", { text: k }), el("dd", { text: v, title: v }))));
  }
  function feedDelay(delays) {  // exchange -> node, per channel: "orderbook_delta p50 0.4 ms · p99 2.1 ms"
    if (!delays.length) return "—";
    const ms = v => (v === null ? "—" : v.toFixed(v < 10 ? 1 : 0) + " ms");
    return delays.slice(0, 3).map(d => d.channel + " p50 " + ms(d.p50_ms) + " · p99 " + ms(d.p99_ms)).join("; ");
  }
  function renderHealth() {
    const h = S.health; if (!h) return;
    const pill = $("health-pill");
    pill.textContent = "health " + h.status;
    pill.className = "pill " + (h.status === "ok" ? "ok" : h.status === "degraded" ? "warn" : "bad");
    pill.title = h.checks.map(c => (c.ok ? "✓ " : "✗ ") + c.name + ": " + c.detail).join("\n");
  }
  const RENDER = {
    balance: renderBalance, positions: renderPositions, orders: renderOrders, ended_orders: renderEnded,
    fills: renderFills, markets: renderMarkets,
    book: renderBook, pnl: () => { renderPnlKpi(); renderPnlChart(); }, strategies: renderStrategies, risk: renderRisk,
    connection: renderConnection, health: renderHealth, fairvalue: () => {},
  };
  function schedule(keys) {
    for (const k of keys) dirty.add(k);
    if (!frame) frame = requestAnimationFrame(() => {
      frame = 0;
      const keys = [...dirty]; dirty.clear();
      for (const k of keys) { try { (RENDER[k] || (() => {}))(); } catch (e) { console.error(k, e); } }
    });
  }

  // ---- data ------------------------------------------------------------------------------------
  function apply(msg) {
    const d = msg.data || {};
    for (const [k, v] of Object.entries(d)) {
      if (k === "pnl_append") { S.pnl = S.pnl.concat(v).slice(-3000); schedule(["pnl"]); continue; }
      S[k] = v; schedule([k]);
    }
    if ("connection" in d) schedule(["markets"]);
  }
  function connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(proto + "://" + location.host + "/api/stream");
    ws.onopen = () => { backoff = 500; if (selected) ws.send(JSON.stringify({ book: selected })); };
    ws.onmessage = ev => apply(JSON.parse(ev.data));
    ws.onclose = ev => {
      schedule(["connection"]);
      if (ev.code === 1008) { showToken(); return; }
      setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 8000);
    };
  }
  function selectMarket(ticker) {
    selected = ticker;
    schedule(["markets", "book"]);
    if (ws && ws.readyState === 1) ws.send(JSON.stringify({ book: ticker }));
  }
  async function command(path, body, btn) {
    if (btn) btn.disabled = true;
    try {
      const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}), credentials: "same-origin" });
      const data = await r.json().catch(() => ({}));
      if (!r.ok) { toast(data.detail || ("failed: HTTP " + r.status), true); return null; }
      return data;
    } catch (e) { toast("request failed: " + e, true); return null; }
    finally { if (btn) btn.disabled = false; }
  }
  function showToken() { $("token-modal").classList.remove("hidden"); $("token-input").focus(); }

  // ---- wiring ----------------------------------------------------------------------------------
  function wire() {
    $("kill-button").addEventListener("click", () => { $("kill-flatten").checked = false; $("kill-modal").classList.remove("hidden"); });
    $("kill-cancel").addEventListener("click", () => $("kill-modal").classList.add("hidden"));
    $("kill-confirm").addEventListener("click", async () => {
      const btn = $("kill-confirm");
      const r = await command("/api/kill", { confirm: true, flatten: $("kill-flatten").checked }, btn);
      $("kill-modal").classList.add("hidden");
      if (r) toast("Kill switch engaged: " + r.canceled + " order(s) canceled, " + r.still_resting + " left resting", r.still_resting !== 0);
    });
    $("reset-button").addEventListener("click", async () => {
      const r = await command("/api/risk/reset", { who: "dashboard", reason: "reset from the dashboard" }, $("reset-button"));
      if (r) toast("Risk reset: trading allowed again (start the strategies you want)");
    });
    $("market-filter").addEventListener("input", e => { filterText = e.target.value; schedule(["markets"]); });
    $("token-form").addEventListener("submit", e => {
      e.preventDefault();
      const t = $("token-input").value.trim();
      if (t) location.replace("/?token=" + encodeURIComponent(t));
    });
    document.addEventListener("keydown", e => { if (e.key === "Escape") $("kill-modal").classList.add("hidden"); });
    window.addEventListener("resize", () => schedule(["pnl", "book"]));
    setInterval(() => schedule(["markets"]), 15000);
  }
  async function boot() {
    wire();
    schedule(["book"]);
    const r = await fetch("/api/health", { credentials: "same-origin" }).catch(() => null);
    if (r && r.status === 401) { showToken(); return; }
    connect();
  }
  document.addEventListener("DOMContentLoaded", boot);
})();
