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
    # The default scenario is "Open Source LLMs as Cost Floor", scenario 1: 10M requests x
    # (1,000 input + 200 output) tokens. Haiku 4.5 at $1/$5 per MTok: 10B x $1 + 2B x $5 =
    # $20,000. Llama with as many A100s as the peak needs (the capacity model's replicas of 4):
    # GPUs x $1,500 + $2,000 ops + 12B x $0.10 per MTok. Both serve: nothing is marked
    # "cannot serve".
    from llm_tco import evaluate, scenario_from_data
    from llm_tco.web.app import DEFAULT_SCENARIO

    gpus = evaluate(scenario_from_data(DEFAULT_SCENARIO)).option("llama-3.3-70b").gpus
    assert gpus is not None and gpus % 4 == 0
    llama = gpus * 1_500 + 2_000 + 1_200
    rows = {r[0]: r for r in _cells(page, "options")}
    assert rows["claude-haiku-4.5"][2] == "$20,000"
    assert rows["llama-3.3-70b"][2] == f"${llama:,}"
    assert "now: 12B" in page.inner_html("#chart-cost_curve svg")
    cheapest = "llama-3.3-70b" if llama < 20_000 else "claude-haiku-4.5"
    other = "claude-haiku-4.5" if cheapest == "llama-3.3-70b" else "llama-3.3-70b"
    assert rows[cheapest][-1] == "cheapest"
    assert rows[other][-1] != "cannot serve"
    assert page.inner_text("#infeasible") == ""
    # The tornado of Haiku against Llama (every number moved +/-25%) is drawn.
    assert page.locator("#chart-tornado svg").count() == 1

    before = _updates(page)
    page.fill("[data-field='workload.requests_per_month']", "1M")
    _wait_update(page, before)
    # At 1M requests: Haiku 1B x $1 + 0.2B x $5 = $2,000; Llama on one replica of 4 A100s,
    # $6,000 + $2,000 + 1.2B x $0.10
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


@pytest.mark.parametrize("width", [360, 390])
def test_phone_width_has_no_horizontal_scroll(browser: object, server_url: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(server_url + "/")
    _wait_update(page, 0)
    # Wide tables and charts scroll inside their own boxes; the page itself never does.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    # The answer comes first on a phone: the headline is above the form.
    headline = page.locator("#headline").bounding_box()
    form = page.locator("#scenario-name").bounding_box()
    assert headline is not None and form is not None and headline["y"] < form["y"]
    context.close()


def test_verdict_column_is_visible_on_a_laptop(browser: object, server_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(server_url + "/")
    _wait_update(page, 0)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1280
    last = page.locator("#table-options th").last
    assert last.inner_text() == "vs cheapest"
    box = last.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280
    # Nothing of the options table is hidden behind its own scroll bar.
    assert page.evaluate(
        "(() => { const w = document.querySelector('#table-options .table-wrap');"
        " return w.scrollWidth <= w.clientWidth; })()"
    )
    context.close()


def test_a_range_typed_in_the_form_is_simulated(page: Page, server_url: str) -> None:
    page.goto(server_url + "/")
    _wait_update(page, 0)
    # No ranges in the default scenario: no simulated months.
    assert page.locator("#table-simulation tbody tr").count() == 0
    before = _updates(page)
    page.fill("[data-field='workload.requests_per_month']", "5M..20M")
    _wait_update(page, before)
    # The scenario carries {low: 5M, high: 20M}; the page shows how sure the answer is.
    fragment = page.evaluate("location.hash").removeprefix("#s=")
    shared = json.loads(base64.urlsafe_b64decode(fragment + "=" * (-len(fragment) % 4)))
    assert shared["workload"]["requests_per_month"] == {"low": "5M", "high": "20M"}
    assert page.locator("#sure-card").is_visible()
    assert page.locator("#table-simulation tbody tr").count() == 2  # one row per option
    # The box still reads as typed after the form is redrawn from the scenario.
    page.click("#apply-text")
    _wait_update(page, before + 1)
    assert page.input_value("[data-field='workload.requests_per_month']") == "5M..20M"


def test_a_benchmark_result_opens_on_its_own_page(page: Page, server_url: str) -> None:
    from pathlib import Path

    result = Path(__file__).parents[1] / "data" / "guidellm_0.8.1_concurrent4.json"
    page.goto(server_url + "/")
    page.click("a.bench-link")
    page.wait_for_url(server_url + "/bench")
    page.set_input_files("#bench-file", str(result))
    page.wait_for_function("document.body.dataset.opened !== undefined", timeout=20_000)
    frame = page.frame_locator("#bench-report")
    # The report draws throughput against latency and $/MTok by load from the result.
    frame.locator(".chart svg").first.wait_for(timeout=20_000)
    assert frame.locator(".chart svg").count() >= 1
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1500


def test_ways_to_serve_arrive_after_the_view(page: Page, server_url: str) -> None:
    page.goto(server_url + "/")
    _wait_update(page, 0)
    page.wait_for_function("Number(document.body.dataset.ways || 0) > 0", timeout=60_000)
    assert "Ways to serve llama-3.3-70b" in page.inner_text("#table-ways_to_serve")
    assert page.locator("#chart-ways_to_serve svg").count() == 1
