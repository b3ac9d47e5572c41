"""`llm-tco plan` on every example that self-hosts: exits 0 and names a deployment that can
serve, or says why none can; the GLM-4.7 article example lists hosted GLM-4.7 prices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_tco.cli import app
from llm_tco.scenario import load_scenario

EXAMPLES = sorted(Path(__file__).parents[2].joinpath("examples").glob("*.yaml"))
SELF_HOSTED = [p for p in EXAMPLES if any(o.self_hosted for o in load_scenario(p).options)]
runner = CliRunner()


@pytest.mark.parametrize("path", SELF_HOSTED, ids=lambda p: p.stem)
def test_plan_every_self_hosted_example(path: Path) -> None:
    done = runner.invoke(app, ["plan", str(path), "-f", "json"])
    assert done.exit_code == 0, done.output
    plan = json.loads(done.stdout)
    if plan["cheapest"] is None:
        assert plan["why"].startswith("no deployment")
    else:
        best = plan["cheapest"]
        # It serves: its replicas carry the peak within the SLO it was sized at.
        capacity = best["capacity_tokens_per_second_per_replica"] * best["replicas"]
        assert capacity >= plan["peak_tokens_per_second"]
        assert best["tpot_ms_at_load"] <= plan["tpot_slo_ms"]
        assert best["gpu"] in plan["why"]


def test_glm_example_lists_hosted_glm_prices() -> None:
    path = Path(__file__).parents[2] / "examples" / "seed0-opus-vs-glm.yaml"
    done = runner.invoke(app, ["plan", str(path), "-f", "json"])
    assert done.exit_code == 0, done.output
    plan = json.loads(done.stdout)
    providers = {a["provider"] for a in plan["hosted_apis"]}
    # genai-prices lists GLM-4.7 at zai ($0.60 in / $2.20 out per MTok), among others; the
    # catalog's own row adds DeepInfra.
    assert {"zai", "deepinfra"} <= providers
    zai = next(a for a in plan["hosted_apis"] if a["provider"] == "zai")
    assert (zai["input_per_mtok"], zai["output_per_mtok"]) == (0.6, 2.2)
    # 200M output tokens x $2.20/MTok = $440/month.
    assert zai["monthly_cost"] == pytest.approx(440.0)
    table = runner.invoke(app, ["plan", str(path)])
    assert table.exit_code == 0
    assert "Hosted APIs serving glm-4.7" in table.stdout and "zai" in table.stdout


def test_plan_without_self_hosted_option_needs_model(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    path.write_text(
        "name: api only\nworkload: {tokens_per_month: 1B, input_share: 0.8}\n"
        "options:\n  - name: haiku\n    api: {model: claude-haiku-4.5}\n"
    )
    done = runner.invoke(app, ["plan", str(path)])
    assert done.exit_code == 2
    assert "--model" in done.output
    done = runner.invoke(app, ["plan", str(path), "--model", "llama-3.1-8b", "-f", "csv"])
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[1].startswith("deployment,")
