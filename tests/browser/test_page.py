"""The page in headless Chromium: loads offline, answers an edit, escapes user text."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"


def _updates(page: Page) -> int:
    return int(page.evaluate("Number(document.body.dataset.updates || 0)"))


def _wait_update(page: Page, after: int) -> None:
    page.wait_for_function(f"Number(document.body.dataset.updates || 0) > {after}", timeout=20_000)


def _cells(page: Page, table: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"#table-{table} tbody tr",
        "rows => rows.map(r => Array.from(r.cells, c => c.textContent))",
    )


def test_page_updates_chart_and_tables_when_the_volume_changes(page: Page, server_url: str) -> None:
    page.goto(server_url + "/")
    _wait_update(page, 0)
    # The default scenario is seed 1: 10M requests x (1,000 input + 200 output) tokens.
    # Haiku 4.5 at $1/$5 per MTok: 10B x $1 + 2B x $5 = $20,000. Llama: 4 x $1,500 GPUs + $2,000
    # ops + 12B x $0.10/MTok = $9,200 (the seed's own figures).
    rows = {r[0]: r for r in _cells(page, "options")}
    assert rows["claude-haiku-4.5"][2] == "$20,000"
    assert rows["llama-3.3-70b"][2] == "$9,200"
    assert "now: 12B" in page.inner_html("#chart-cost_curve svg")
    # At 12B tokens/month the 4 A100s cannot carry the peak (the capacity model needs 3 such
    # replicas): the page says so and recommends Haiku, each reason with its number.
    assert rows["llama-3.3-70b"][-1] == "cannot serve"
    assert page.inner_text("#infeasible").startswith(
        "llama-3.3-70b cannot serve: peak load needs 3 replica(s)"
    )
    assert page.inner_text("#recommendation-title") == "Recommendation: claude-haiku-4.5"
    reasons = page.eval_on_selector_all(
        "#reasons li", "items => items.map(li => li.lastChild.textContent)"
    )
    # Break-even: $8,000 fixed / ($2,000 / 1,200 - $0.10 per MTok) = 5,106M tokens/month.
    assert "volume 12B / break-even 5.11B" in reasons
    # The tornado of Haiku against Llama (every number moved +/-25%) is drawn.
    assert page.locator("#chart-tornado svg").count() == 1

    before = _updates(page)
    page.fill("[data-field='workload.requests_per_month']", "1M")
    _wait_update(page, before)
    # At 1M requests: Haiku 1B x $1 + 0.2B x $5 = $2,000; Llama $6,000 + $2,000 + 1.2B x $0.10
    # per MTok = $8,120.
    rows = {r[0]: r for r in _cells(page, "options")}
    assert rows["claude-haiku-4.5"][2] == "$2,000"
    assert rows["llama-3.3-70b"][2] == "$8,120"
    assert rows["llama-3.3-70b"][-1] == ""  # 1.2B tokens/month is within its capacity
    assert page.inner_text("#headline").startswith("Cheapest at 1.2B tokens/month: claude-haiku")
    chart = page.inner_html("#chart-cost_curve svg")
    assert "now: 1.2B" in chart and "now: 12B" not in chart
    # The URL now carries the edited scenario.
    fragment = page.evaluate("location.hash")
    encoded = fragment.removeprefix("#s=")
    shared = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    assert shared["workload"]["requests_per_month"] == "1M"


def test_link_reproduces_view_and_user_text_stays_text(page: Page, server_url: str) -> None:
    scenario = {
        "name": XSS,
        "workload": {"tokens_per_month": "1B", "input_share": 0.5},
        "options": [{"name": XSS, "api": {"input_per_mtok": 1, "output_per_mtok": 2}}],
    }
    encoded = base64.urlsafe_b64encode(json.dumps(scenario).encode()).decode().rstrip("=")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{server_url}/#s={encoded}")
    _wait_update(page, 0)
    # 0.5B x $1 + 0.5B x $2 per MTok = $1,500.
    assert _cells(page, "options")[0][:3] == [XSS, "API", "$1,500"]
    assert page.input_value("#scenario-name") == XSS
    assert page.inner_text("#recommendation-title") == f"Recommendation: {XSS}"
    assert page.locator("img[src=x]").count() == 0
    assert dialogs == []


def test_invalid_scenario_names_the_field(page: Page, server_url: str) -> None:
    page.goto(server_url + "/")
    _wait_update(page, 0)
    page.fill("[data-field='workload.requests_per_month']", "lots")
    page.wait_for_selector("#error:not([hidden])", timeout=20_000)
    assert "workload.requests_per_month" in page.inner_text("#error")
