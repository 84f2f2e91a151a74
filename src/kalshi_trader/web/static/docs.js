// Renders /openapi.json as a list of routes (local, no CDN).
"use strict";
document.addEventListener("DOMContentLoaded", async () => {
  const spec = await (await fetch("/openapi.json")).json();
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; };
  document.getElementById("intro").textContent = spec.info.description || "";
  const box = document.getElementById("routes");
  const refName = s => (s && s.$ref ? s.$ref.split("/").pop() : s && s.items && s.items.$ref ? "list of " + s.items.$ref.split("/").pop() : "");
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const sec = el("section", "route");
      const h = el("h3");
      h.append(el("span", "method " + method, method.toUpperCase()), el("code", "", path), el("span", "tag", (op.tags || []).join(" ")));
      sec.append(h, el("p", "", op.description || op.summary || ""));
      const params = (op.parameters || []).map(p => p.name + " (" + p.in + (p.required ? ", required" : "") + ")");
      const body = op.requestBody ? refName(op.requestBody.content["application/json"].schema) : "";
      const ok = op.responses && op.responses["200"] && op.responses["200"].content ? refName(op.responses["200"].content["application/json"].schema) : "";
      const p = el("div", "params");
      if (params.length) p.append(el("div", "", "parameters: " + params.join(", ")));
      if (body) p.append(el("div", "", "body: " + body));
      if (ok) p.append(el("div", "", "returns: " + ok));
      sec.append(p);
      box.append(sec);
    }
  }
});
