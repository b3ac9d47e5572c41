"""The recommendation, simulation bands, tornado and infeasible options in the API and reports.

The page and the reports render the core's models; these tests check that what they show is
those models' fields (called here independently), and that user text stays text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

pytest.importorskip("fastapi", reason="FastAPI is not installed: pip install -e .")
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import support
from llm_tco.cli import app as cli_app
from llm_tco.core.units import format_usd
from llm_tco.recommend_eval import recommend
from llm_tco.report.view import VIEW_SAMPLES, VIEW_SEED, build_report
from llm_tco.scenario import load_scenario, scenario_from_data
from llm_tco.sensitivity import tornado

ROOT = Path(__file__).resolve().parents[2]
RANGES = ROOT / "benchmarks" / "uncertainty_scenario.yaml"
SEED1 = ROOT / "examples" / "seed1-high-volume-haiku-vs-llama.yaml"
XSS = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
YAML = {"content-type": "application/yaml"}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return support.api_client()


def oversized() -> dict:
    """An API option and a self-hosted one that cannot hold its model.

    Llama 3.3 70B has 70.6B parameters (models.yaml, from its config.json): at bf16 that is
    70.6e9 x 2 bytes = 141.2 GB of weights, more than one H100's 80 GB.
    """
    return {
        "name": "oversized",
        "workload": {"tokens_per_month": "1B", "input_share": 0.5},
        "options": [
            {"name": "api", "api": {"input_per_mtok": 1, "output_per_mtok": 2}},
            {
                "name": "big",
                "self_hosted": {
                    "model": "llama-3.3-70b",
                    "precision": "bf16",
                    "gpu": "h100-sxm-80gb",
                    "gpu_count": 1,
                    "gpu_monthly_price": 100,
                    "ops_monthly": 0,
                    "ops_defaults": False,
                },
            },
        ],
    }


def test_recommend_endpoint_matches_the_cli(client: TestClient) -> None:
    cli = CliRunner().invoke(cli_app, ["recommend", str(RANGES), "--json"])
    assert cli.exit_code == 0, cli.output
    api = client.post("/api/recommend", content=RANGES.read_bytes(), headers=YAML)
    assert api.status_code == 200, api.text
    # Both default to 10,000 simulated months with seed 0: the same numbers, byte for byte.
    assert api.json() == json.loads(cli.stdout)
    assert api.json()["simulation"]["samples"] == 10_000


def test_recommend_endpoint_bounds_the_sample_count(client: TestClient) -> None:
    response = client.post("/api/recommend?samples=1000000", content=RANGES.read_bytes())
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "samples"


def test_view_shows_the_recommendation_bands_and_tornado_of_the_core(client: TestClient) -> None:
    body = client.post("/api/view", content=RANGES.read_bytes(), headers=YAML).json()
    scenario = load_scenario(RANGES)
    expected = recommend(scenario, VIEW_SAMPLES, VIEW_SEED)
    assert body["recommendation"] == json.loads(expected.model_dump_json())
    shown = body["view"]["recommendation"]
    assert shown["choose"] == expected.choose and shown["summary"] == expected.summary
    # Every reason with the number that triggered it.
    assert [(r["text"], r["evidence"]) for r in shown["reasons"]] == [
        (r.text, r.evidence) for r in expected.reasons
    ]
    assert all(r["evidence"] for r in shown["reasons"])

    sim = expected.simulation
    assert sim is not None and sim.samples == VIEW_SAMPLES
    table = body["view"]["tables"]["simulation"]
    assert [row[3] for row in table["rows"]] == [format_usd(o.monthly_usd.p50) for o in sim.options]
    assert [row[5] for row in table["rows"]] == [
        f"{o.probability_cheapest:.1%}" for o in sim.options
    ]
    bands = body["charts"]["bands"]["datasets"]["bands"]
    assert [(b["option"], b["p10_usd"], b["p50_usd"], b["p90_usd"]) for b in bands] == [
        (o.name, o.monthly_usd.p10, o.monthly_usd.p50, o.monthly_usd.p90) for o in sim.options
    ]

    # The tornado compares the cheapest self-hosted option that can serve with the cheapest API
    # that can.
    result = body["result"]
    serving = sorted(
        (o for o in result["options"] if o["feasible"]), key=lambda o: o["monthly_cost"]
    )
    own = next(o["name"] for o in serving if o["kind"] == "self_hosted")
    api = next(o["name"] for o in serving if o["kind"] == "api")
    sens = tornado(scenario, own, api)
    assert (body["sensitivity"]["option"], body["sensitivity"]["versus"]) == (own, api)
    assert body["sensitivity"] == json.loads(sens.model_dump_json())
    bars = body["charts"]["tornado"]["datasets"]["tornado"]
    # Two bars per input (its low and its high end), widest swing first.
    assert [(b["input"], b["gap_usd"]) for b in bars] == [
        (r.path, gap) for r in sens.rows[:12] for gap in (r.gap_at_low_usd, r.gap_at_high_usd)
    ]
    assert [row[0] for row in body["view"]["tables"]["tornado"]["rows"]] == [
        r.path for r in sens.rows
    ]


def test_view_without_ranges_has_no_bands(client: TestClient) -> None:
    body = client.post("/api/view", content=SEED1.read_bytes(), headers=YAML).json()
    assert body["recommendation"]["simulation"] is None
    assert "bands" not in body["charts"] and "simulation" not in body["view"]["tables"]
    assert body["view"]["recommendation"]["reasons"]


def test_infeasible_option_is_shown_and_never_cheapest(client: TestClient) -> None:
    body = client.post("/api/view", json=oversized()).json()
    result = body["result"]
    big = next(o for o in result["options"] if o["name"] == "big")
    assert big["feasible"] is False
    # $100/month on paper, below the API's 0.5B x $1 + 0.5B x $2 per MTok = $1,500, yet the API
    # is the cheapest option that can serve.
    assert big["monthly_cost"] < 1500 and result["cheapest"] == "api"
    rows = {r[0]: r for r in body["view"]["tables"]["options"]["rows"]}
    assert rows["api"][-1] == "cheapest"
    assert rows["big"][-1] == "cannot serve"
    # Beside it: what it would cost with the GPU count auto chooses: replicas of the fewest
    # GPUs that hold the model (141 GB of weights need at least 2 x 80 GB).
    alternative = big["to_serve"]
    assert alternative["gpus_per_replica"] == big["memory"]["min_gpus_to_fit"] >= 2
    assert alternative["monthly_cost"] >= alternative["gpus"] * 100
    assert body["view"]["infeasible"] == [
        f"big cannot serve: {big['infeasible_reason']}; {alternative['note']}"
    ]
    assert "141 GB" in big["infeasible_reason"]
    # Said once, under the table: not repeated among the warnings.
    assert not any(big["infeasible_reason"] in w for w in body["view"]["warnings"])
    assert any(w["message"] == big["infeasible_reason"] for w in result["warnings"])
    assert body["view"]["headline"] == "Cheapest at 1B tokens/month: api at $1,500/month"
    assert body["view"]["recommendation"]["choose"] == "api"

    html = client.post("/api/report?format=html", json=oversized()).text
    assert 'class="left infeasible">cannot serve</td>' in html
    assert "<li>big cannot serve: llama-3.3-70b at bf16 needs " in html
    assert "(141 GB weights + " in html  # the total it needs, then what it is made of


def test_headline_says_when_no_option_can_serve(client: TestClient) -> None:
    scenario = oversized()
    scenario["options"] = scenario["options"][1:]
    view = client.post("/api/view", json=scenario).json()["view"]
    assert view["headline"].startswith("No option can serve 1B tokens/month as stated")


def test_recommendation_text_is_escaped_in_both_reports(tmp_path: Path) -> None:
    data = oversized()
    data["options"][0]["name"] = XSS
    report = build_report(scenario_from_data(data))
    assert report.view.recommendation is not None
    assert XSS in report.view.recommendation.summary  # the name is in the text it escapes
    from llm_tco.report.html import render_html
    from llm_tco.report.markdown import render_markdown_report

    html = render_html(report)
    section = html[html.index('id="recommendation"') :]
    assert f"Recommendation: {ESCAPED}" in section and XSS not in html
    markdown = render_markdown_report(report, {})
    assert f"## Recommendation: {ESCAPED}" in markdown and XSS not in markdown


def test_cli_report_has_recommendation_bands_and_tornado(tmp_path: Path) -> None:
    out = tmp_path / "ranges.md"
    run = CliRunner().invoke(
        cli_app, ["report", str(RANGES), "-o", str(out), "--samples", "500", "--seed", "3"]
    )
    assert run.exit_code == 0, run.output
    text = out.read_text()
    expected = recommend(load_scenario(RANGES), 500, 3)
    assert f"## Recommendation: {expected.choose}" in text
    assert "Monthly cost over 500 simulated months (seed 3)" in text
    for name in ("bands", "tornado", "cost_curve", "breakdown"):
        assert f"![{name.replace('_', ' ')} chart](ranges-{name}.png)" in text
        assert (tmp_path / f"ranges-{name}.png").read_bytes().startswith(b"\x89PNG")


def test_cli_report_refuses_a_file_of_neither_kind(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"hello": "world"}))
    run = CliRunner().invoke(cli_app, ["report", str(other), "-o", str(tmp_path / "r.html")])
    assert run.exit_code == 2
    assert "other.yaml is neither a scenario nor a benchmark result" in run.output
