// The benchmark page: a result file in, the benchmark report (charts and tables) out.
// The server builds the report; it is shown in a frame of its own, never mixed into this page.
"use strict";

const $ = (id) => document.getElementById(id);

function showError(body) {
  const first = (body.errors && body.errors[0]) || {};
  const box = $("error");
  box.textContent = `${first.field ? first.field + ": " : ""}${first.message || body.error || "error"}`;
  box.hidden = false;
}

async function open(file) {
  $("error").hidden = true;
  $("bench-status").textContent = `reading ${file.name}...`;
  const response = await fetch("/api/bench/report", {
    method: "POST", headers: { "content-type": "application/json" }, body: await file.text(),
  });
  $("bench-status").textContent = "";
  if (!response.ok) { showError(await response.json()); return; }
  const frame = $("bench-report");
  frame.srcdoc = await response.text();
  frame.hidden = false;
  document.body.dataset.opened = file.name;
}

$("bench-file").addEventListener("change", (ev) => { if (ev.target.files[0]) open(ev.target.files[0]); });
