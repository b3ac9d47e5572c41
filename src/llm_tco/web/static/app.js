// The llm-tco page: a form over one scenario object, sent to POST /api/view on every edit.
// The server computes everything; this file only edits the scenario and draws what comes back.
// User text only ever reaches the DOM through textContent and value, never as markup.
"use strict";

const WORKLOAD_MODES = {
  requests: [["requests_per_month", "requests / month"],
             ["input_tokens_per_request", "input tokens / request"],
             ["output_tokens_per_request", "output tokens / request"]],
  tokens: [["tokens_per_month", "tokens / month"], ["input_share", "input share (0-1)"]],
  split: [["input_tokens_per_month", "input tokens / month"],
          ["output_tokens_per_month", "output tokens / month"]],
  daily: [["tokens_per_day", "tokens / day"], ["input_share", "input share (0-1)"]],
};
const VOLUME_KEYS = ["requests_per_month", "requests_per_day", "input_tokens_per_request",
  "output_tokens_per_request", "tokens_per_month", "tokens_per_day", "input_share",
  "input_tokens_per_month", "output_tokens_per_month"];
const SHAPE_FIELDS = [["peak_to_mean", "peak-to-mean load", "1"],
  ["cached_input_share", "cached input share", "0"], ["batch_share", "batch share", "0"]];
const PRICE_KEYS = [["gpu_hourly_price", "USD per GPU-hour"],
  ["gpu_monthly_price", "USD per GPU-month"], ["offer", "catalog offer"]];
const SELF_FIELDS = [["tokens_per_second_per_replica", "tokens/s per replica"],
  ["ops_monthly", "ops USD / month"], ["variable_per_mtok", "variable USD / MTok"]];
const PRECISIONS = ["bf16", "fp16", "fp8", "int8", "int4"];

let scenario = null;
let lastResult = null;
let timer = null;
let requestSeq = 0;

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// --- the URL holds the scenario: #s=<base64url(JSON)> -------------------------------------
function encodeScenario(data) {
  const bytes = new TextEncoder().encode(JSON.stringify(data));
  let binary = "";
  bytes.forEach((b) => { binary += String.fromCharCode(b); });
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeScenario(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function scenarioFromUrl() {
  const match = location.hash.match(/^#s=([A-Za-z0-9_-]+)$/);
  if (!match) return null;
  try {
    const data = decodeScenario(match[1]);
    // Only a mapping is a scenario; a string, number or list in the link opens the default.
    return data && typeof data === "object" && !Array.isArray(data) ? data : null;
  } catch (e) { return null; }
}

// --- form <-> scenario ---------------------------------------------------------------------
function numberOrText(text) {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  // A range typed as "500..2000" (or "5M .. 20M") is the scenario's {low, high}.
  const range = trimmed.match(/^([^.\s][^\s]*?)\s*\.\.\s*([^\s]+)$/);
  if (range) return { low: numberOrText(range[1]), high: numberOrText(range[2]) };
  return /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(trimmed) ? Number(trimmed) : trimmed;
}

// How a value reads in a text box: a {low, high} range as "low..high".
function shownValue(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "object" && "low" in value && "high" in value) return `${value.low}..${value.high}`;
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function setKey(obj, key, text) {
  const value = numberOrText(text);
  if (value === undefined) delete obj[key]; else obj[key] = value;
}

function input(label, value, onChange, attrs = {}) {
  const box = el("input", { type: "text", ...attrs });
  box.value = shownValue(value);
  box.addEventListener("input", () => { onChange(box.value); changed(); });
  return el("label", { class: "field" }, [label, box]);
}

function workloadMode(workload) {
  if ("requests_per_month" in workload) return "requests";
  if ("tokens_per_day" in workload) return "daily";
  if ("input_tokens_per_month" in workload || "output_tokens_per_month" in workload) return "split";
  return "tokens";
}

function renderWorkload() {
  const workload = scenario.workload || (scenario.workload = {});
  const mode = workloadMode(workload);
  $("workload-mode").value = mode;
  const box = $("workload-fields");
  box.replaceChildren();
  for (const [key, label, placeholder] of [...WORKLOAD_MODES[mode], ...SHAPE_FIELDS]) {
    box.append(input(label, workload[key], (text) => setKey(workload, key, text),
      { "data-field": `workload.${key}`, placeholder: placeholder || "" }));
  }
}

function switchWorkloadMode(mode) {
  const workload = scenario.workload;
  const info = lastResult && lastResult.workload;
  for (const key of VOLUME_KEYS) delete workload[key];
  // Carry the current volume over from the last result, so switching keeps the numbers.
  if (info) {
    const share = info.total_tokens_per_month ? info.input_tokens_per_month / info.total_tokens_per_month : 0.5;
    if (mode === "tokens") Object.assign(workload, { tokens_per_month: info.total_tokens_per_month, input_share: share });
    if (mode === "split") Object.assign(workload, { input_tokens_per_month: info.input_tokens_per_month, output_tokens_per_month: info.output_tokens_per_month });
    if (mode === "daily") Object.assign(workload, { tokens_per_day: info.total_tokens_per_month / (info.hours_per_month || 720) * 24, input_share: share });
    if (mode === "requests" && info.requests_per_month) Object.assign(workload, { requests_per_month: info.requests_per_month, input_tokens_per_request: info.input_tokens_per_request, output_tokens_per_request: info.output_tokens_per_request });
  }
  if (mode === "requests" && !("requests_per_month" in workload)) workload.requests_per_month = "";
  if (mode === "tokens" && !("tokens_per_month" in workload)) workload.tokens_per_month = "";
  renderWorkload();
  changed();
}

function searchList(listId, kind, labelOf) {
  let pending = null;
  return (text) => {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      const url = `/api/catalog/${kind}?limit=30&search=${encodeURIComponent(text)}`;
      const response = await fetch(url);
      if (!response.ok) return;
      const data = await response.json();
      $(listId).replaceChildren(...data.rows.map((row) => {
        const [value, label] = labelOf(row);
        const option = el("option", { text: label });
        option.value = value;
        return option;
      }));
    }, 150);
  };
}

const searchApis = searchList("list-apis", "apis", (r) => [r.model, `${r.provider}: $${r.input_per_mtok} in / $${r.output_per_mtok} out per MTok`]);
const searchModels = searchList("list-models", "models", (r) => [r.id, `${r.name || r.id}, ${r.total_params_b}B params`]);
const searchGpus = searchList("list-gpus", "gpus", (r) => [r.id, `${r.name || r.id}, ${r.memory_gb} GB`]);
const searchOffers = searchList("list-offers", "offers", (r) => [r.id, `${r.provider} ${r.gpu} x${r.gpu_count}: ${r.price} ${r.currency}/${r.price_unit}`]);

function catalogInput(label, obj, key, listId, search) {
  const wrap = input(label, obj[key], (text) => { setKey(obj, key, text); search(text); },
    { list: listId, autocomplete: "off" });
  wrap.querySelector("input").addEventListener("focus", (ev) => search(ev.target.value));
  return wrap;
}

function apiFields(option) {
  const api = option.api;
  return [
    catalogInput("catalog model (search)", api, "model", "list-apis", searchApis),
    input("input USD/MTok (optional)", api.input_per_mtok, (t) => setKey(api, "input_per_mtok", t)),
    input("output USD/MTok (optional)", api.output_per_mtok, (t) => setKey(api, "output_per_mtok", t)),
    // None is assumed: queuing, retries and fallbacks for rate limits, a gateway, a support plan.
    input("upkeep USD / month (retries, gateway, support)", api.ops_monthly,
      (t) => setKey(api, "ops_monthly", t)),
  ];
}

function selfHostedFields(option) {
  const spec = option.self_hosted;
  const precision = el("select", { on: { change: (ev) => { spec.precision = ev.target.value; changed(); } } },
    PRECISIONS.map((p) => el("option", { text: p })));
  precision.value = spec.precision || "bf16";
  const priceKey = PRICE_KEYS.find(([k]) => k in spec)?.[0] || "gpu_hourly_price";
  const priceBox = el("div", { class: "field-group" });
  const drawPrice = (key) => {
    const field = key === "offer"
      ? catalogInput("offer (search)", spec, "offer", "list-offers", searchOffers)
      : input(PRICE_KEYS.find(([k]) => k === key)[1], spec[key], (t) => setKey(spec, key, t));
    priceBox.replaceChildren(field);
  };
  const priceMode = el("select", { on: { change: (ev) => {
    for (const [k] of PRICE_KEYS) delete spec[k];
    drawPrice(ev.target.value); changed();
  } } }, PRICE_KEYS.map(([k, label]) => { const o = el("option", { text: label }); o.value = k; return o; }));
  priceMode.value = priceKey;
  drawPrice(priceKey);
  return [
    catalogInput("model (search)", spec, "model", "list-models", searchModels),
    catalogInput("GPU (search)", spec, "gpu", "list-gpus", searchGpus),
    el("label", { class: "field" }, ["precision", precision]),
    input("GPU count (or auto)", spec.gpu_count, (t) => {
      const v = numberOrText(t);
      if (v === undefined) delete spec.gpu_count; else spec.gpu_count = typeof v === "number" ? Math.trunc(v) : v;
    }),
    el("label", { class: "field" }, ["GPU price", priceMode]),
    priceBox,
    ...SELF_FIELDS.map(([key, label]) => input(label, spec[key], (t) => setKey(spec, key, t))),
  ];
}

function renderOptions() {
  const box = $("options");
  box.replaceChildren();
  (scenario.options || []).forEach((option, index) => {
    const kind = option.self_hosted ? "self-hosted" : "API";
    const remove = el("button", { type: "button", class: "remove", title: "remove this option", text: "x",
      on: { click: () => { scenario.options.splice(index, 1); renderOptions(); changed(); } } });
    const name = input("name", option.name, (t) => { option.name = t; }, { "data-field": `options[${index}].name` });
    const fields = option.self_hosted ? selfHostedFields(option) : option.api ? apiFields(option) : [];
    box.append(el("fieldset", { class: "option" }, [
      el("legend", { text: `${kind} option ${index + 1}` }), remove, name,
      el("div", { class: "grid" }, fields),
    ]));
  });
}

function uniqueName(base) {
  const names = new Set((scenario.options || []).map((o) => o.name));
  let name = base;
  for (let i = 2; names.has(name); i += 1) name = `${base}-${i}`;
  return name;
}

function renderForm() {
  $("scenario-name").value = scenario.name || "";
  renderWorkload();
  renderOptions();
  syncText();
}

function syncText() { $("scenario-text").value = JSON.stringify(scenario, null, 2); }

function changed() {
  syncText();
  clearTimeout(timer);
  timer = setTimeout(refresh, 200);
}

// --- results -------------------------------------------------------------------------------
function renderTable(target, table) {
  // The last column of the options table says where each option stands; name it.
  const label = (c, i) => c || (i === table.columns.length - 1 ? "vs cheapest" : "");
  const head = el("tr", {}, table.columns.map((c, i) => el("th", { class: table.align[i], text: label(c, i) })));
  const cellClass = (cell, i) => table.align[i] + (cell === "cannot serve" ? " infeasible" : "");
  const rows = table.rows.map((row) => el("tr", {}, row.map((cell, i) => el("td", { class: cellClass(cell, i), text: cell }))));
  const parts = [el("h3", { text: table.title }),
    el("div", { class: "table-wrap" }, [el("table", {}, [el("thead", {}, [head]), el("tbody", {}, rows)])])];
  if (table.note) parts.push(el("p", { class: "note", text: table.note }));
  target.replaceChildren(...parts);
}

async function renderCharts(charts) {
  // A chart the new report lacks (no ranges any more, one option left) is cleared.
  for (const target of document.querySelectorAll("[id^='chart-']")) {
    if (!(target.id.slice(6) in charts)) target.replaceChildren();
  }
  for (const [name, spec] of Object.entries(charts)) {
    const target = $(`chart-${name}`);
    if (!target) continue;
    await vegaEmbed(target, spec, { renderer: "svg", actions: false });
    target.dataset.rendered = String(requestSeq);
  }
}

// The recommendation: the choice, then each reason with how it weighs and the number behind it.
function renderRecommendation(rec) {
  $("recommendation-card").hidden = !rec;
  if (!rec) return;
  $("recommendation-title").textContent = `Recommendation: ${rec.choose}`;
  $("recommendation-summary").textContent = rec.summary;
  $("reasons").replaceChildren(...rec.reasons.map((r) => el("li", {}, [
    el("span", { class: `weight ${r.weight}`, text: r.label }),
    el("span", { class: "reason-text", text: r.text }),
    el("span", { class: "evidence", text: r.evidence }),
  ])));
  $("recommendation-notes").replaceChildren(...rec.notes.map((n) => el("p", { class: "note", text: n })));
}

function showError(body) {
  const box = $("error");
  const first = (body.errors && body.errors[0]) || {};
  box.replaceChildren(el("strong", { text: first.field ? `${first.field}: ` : "" }),
    document.createTextNode(first.message || body.error || "error"),
    ...(first.hint ? [el("div", { class: "note", text: first.hint })] : []));
  box.hidden = false;
}

function renderReport(report) {
  const view = report.view;
  lastResult = { ...report.result.workload, hours_per_month: report.result.hours_per_month };
  $("error").hidden = true;
  $("headline").textContent = view.headline;
  $("workload-line").textContent = `Workload: ${view.workload}`;
  for (const target of document.querySelectorAll("[id^='table-']")) {
    const table = view.tables[target.id.slice(6)];
    if (table) renderTable(target, table); else target.replaceChildren();
  }
  $("infeasible").replaceChildren(...view.infeasible.map((line) => el("li", { text: line })));
  renderRecommendation(view.recommendation);
  $("sure-card").hidden = !("bands" in report.charts || "tornado" in report.charts);
  $("trace-card").hidden = !("trace" in report.charts);
  $("warnings").replaceChildren(...view.warnings.map((w) => el("li", { text: w })));
  $("warnings-card").hidden = view.warnings.length === 0;
  return renderCharts(report.charts);
}

async function post(path, body, type = "application/json") {
  return fetch(path, { method: "POST", headers: { "content-type": type }, body });
}

async function refresh() {
  const seq = ++requestSeq;
  const encoded = encodeScenario(scenario);
  history.replaceState(null, "", `#s=${encoded}`);
  $("status").textContent = "updating...";
  let response;
  try {
    response = await post("/api/view", JSON.stringify(scenario));
  } catch (e) {
    $("status").textContent = "the server did not answer";
    return;
  }
  const body = await response.json();
  if (seq !== requestSeq) return; // a newer edit is on its way
  if (!response.ok) { showError(body); $("status").textContent = ""; return; }
  await renderReport(body);
  document.body.dataset.updates = String(seq);
  $("status").textContent = `updated ${new Date().toLocaleTimeString()}`;
  await refreshWays(seq, JSON.stringify(scenario));
}

// The ways to serve each self-hosted model (a search over GPUs, precisions and offers) come
// after the view, so an edit shows its numbers without waiting for the search.
async function refreshWays(seq, body) {
  let response;
  try {
    response = await post("/api/ways", body);
  } catch (e) {
    return;
  }
  if (seq !== requestSeq || !response.ok) return;
  const ways = await response.json();
  if (seq !== requestSeq) return;
  for (const [name, table] of Object.entries(ways.tables)) {
    const target = $(`table-${name}`);
    if (target) renderTable(target, table);
  }
  for (const [name, spec] of Object.entries(ways.charts)) {
    const target = $(`chart-${name}`);
    if (!target) continue;
    await vegaEmbed(target, spec, { renderer: "svg", actions: false });
    target.dataset.rendered = String(seq);
  }
  document.body.dataset.ways = String(seq);
}

async function applyText(text, type) {
  const response = await post("/api/parse", text, type);
  const body = await response.json();
  if (!response.ok) { showError(body); return; }
  scenario = body.scenario;
  renderForm();
  refresh();
}

async function download(format) {
  const response = await post(`/api/report?format=${format}`, JSON.stringify(scenario));
  if (!response.ok) { showError(await response.json()); return; }
  const blob = await response.blob();
  const link = el("a", { download: format === "html" ? "llm-tco-report.html" : "llm-tco-report.zip" });
  link.href = URL.createObjectURL(blob);
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function start() {
  scenario = scenarioFromUrl() || JSON.parse($("default-scenario").textContent);
  $("scenario-name").addEventListener("input", (ev) => { scenario.name = ev.target.value; changed(); });
  $("workload-mode").addEventListener("change", (ev) => switchWorkloadMode(ev.target.value));
  $("add-api").addEventListener("click", () => {
    (scenario.options ||= []).push({ name: uniqueName("api"), api: { model: "" } });
    renderOptions(); changed();
  });
  $("add-self").addEventListener("click", () => {
    (scenario.options ||= []).push({ name: uniqueName("self-hosted"),
      self_hosted: { model: "", gpu: "", precision: "bf16", gpu_count: 1, gpu_hourly_price: "" } });
    renderOptions(); changed();
  });
  $("apply-text").addEventListener("click", () => {
    const text = $("scenario-text").value;
    applyText(text, text.trim().startsWith("{") ? "application/json" : "application/yaml");
  });
  $("upload").addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    if (file) applyText(await file.text(), file.name.endsWith(".json") ? "application/json" : "application/yaml");
  });
  $("download-html").addEventListener("click", () => download("html"));
  $("download-md").addEventListener("click", () => download("md"));
  window.addEventListener("hashchange", () => {
    const fromUrl = scenarioFromUrl();
    if (fromUrl && encodeScenario(fromUrl) !== encodeScenario(scenario)) { scenario = fromUrl; renderForm(); refresh(); }
  });
  renderForm();
  refresh();
}

start();
