"""Deployment search parts: scenario fields, quality notes, suggestions, the page's table and
chart, and the 80-column table."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from llm_tco.catalog.loader import load_catalog
from llm_tco.errors import ScenarioError
from llm_tco.evaluate import evaluate
from llm_tco.plan.build import Limits, space_for
from llm_tco.plan.hosted import model_key
from llm_tco.plan.quality import quality_note
from llm_tco.plan.render import render_terminal
from llm_tco.plan.search import pareto_mask, search
from llm_tco.report.charts import build_charts
from llm_tco.report.view import build_view
from llm_tco.scenario import load_scenario, scenario_from_data

GLM = Path(__file__).parents[2] / "examples" / "seed0-opus-vs-glm.yaml"


def test_gpu_auto_needs_offer_cheapest() -> None:
    data = {
        "name": "x",
        "workload": {"tokens_per_month": "1B", "input_share": 0.8},
        "options": [
            {"name": "own", "self_hosted": {"model": "llama-3.1-8b", "gpu": "auto",
                                            "gpu_hourly_price": 2}}
        ],
    }  # fmt: skip
    with pytest.raises(ScenarioError, match="offer: cheapest"):
        scenario_from_data(data)


def test_quality_notes_cite_only_where_measured() -> None:
    catalog = load_catalog()
    llama = catalog.model("llama-3.1-70b")
    assert quality_note(llama, "bf16") is None
    note = quality_note(llama, "int8")
    assert note is not None and "1-3%" in note and "2411.02355" in note
    glm = quality_note(catalog.model("glm-4.7"), "int4")
    assert glm is not None and "no published evaluation" in glm
    # A model released in FP8 (DeepSeek-V3) loses nothing by being served at FP8.
    assert quality_note(catalog.model("deepseek-v3"), "fp8") is None


def test_provider_spellings_name_one_model() -> None:
    names = ["zai-org/GLM-4.7", "z-ai/glm-4.7", "glm-4p7", "zai-glm-4.7", "GLM-4.7-FP8"]
    assert {model_key(n) for n in names} == {"glm-4.7"}
    assert model_key("zai-org/GLM-4.7-Flash") == "glm-4.7-flash"  # another model


def test_pareto_mask() -> None:
    """(cost, latency): (1, 5) and (2, 3) trade off; (3, 4) is beaten by (2, 3)."""
    points = np.array([[1.0, 5.0], [2.0, 3.0], [3.0, 4.0], [2.0, 3.0]])
    assert pareto_mask(points).tolist() == [True, True, False, True]


def test_forbidden_precision_is_never_chosen() -> None:
    catalog = load_catalog()
    scenario = load_scenario(GLM)
    plan = search(
        space_for(scenario, catalog, limits=Limits(forbid_precisions=("int4", "int8"))),
        catalog,
        hosted=False,
    )
    assert plan.deployments
    assert {d.precision for d in plan.deployments} <= {"bf16", "fp8"}


def test_suggestions_are_marked_and_not_options() -> None:
    """The GLM-4.7 example: 200M output tokens/month. The cheapest hosted GLM-4.7 in the
    catalog (genai-prices: zhipuai, $1.103/MTok output) costs 200 x $1.103 = $220.60."""
    catalog = load_catalog()
    result = evaluate(load_scenario(GLM), catalog, suggest=True)
    assert [o.name for o in result.options] == ["claude-opus-4.6", "glm-4.7-self-hosted"]
    kinds = {s.kind: s for s in result.suggestions}
    assert set(kinds) == {"hosted_api", "self_hosted"}
    assert all(s.suggestion for s in result.suggestions)
    hosted = kinds["hosted_api"]
    assert hosted.monthly_cost == pytest.approx(
        min(a.monthly_cost for a in result.ways_to_serve[0].hosted_apis)
    )
    assert hosted.cheaper_than_option
    for row in result.sweep:  # suggestions take part in no sweep
        assert set(row.costs) == {"claude-opus-4.6", "glm-4.7-self-hosted"}
    view = build_view(result)
    assert "ways_to_serve" in view.tables and "suggestions" in view.tables
    assert any("chosen" in row[-1] for row in view.tables["ways_to_serve"].rows)
    chart = build_charts(result, result.sweep)["ways_to_serve"]
    points = chart["datasets"]["ways"]
    assert [p["point"] for p in points].count("chosen") == 1


def test_plan_table_fits_80_columns() -> None:
    catalog = load_catalog()
    plan = search(space_for(load_scenario(GLM), catalog, limits=Limits()), catalog)
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    render_terminal(plan, console)
    lines = out.getvalue().splitlines()
    assert lines and max(len(line) for line in lines) <= 80
    assert "Hosted APIs serving glm-4.7" in out.getvalue()
