"""`llm-tco plan` quotes the capacity model's out-of-source error beside the figures it models."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from llm_tco.cli import app

runner = CliRunner()


def test_plan_states_the_capacity_model_s_error_band() -> None:
    """The plan's TTFT / TPOT / GPU counts are modelled, so it quotes the out-of-source band
    of the model's class from capacity_error.yaml (#11: wherever a capacity figure is shown)."""
    from llm_tco.capacity_factors import error_band

    band = error_band(True)
    assert band is not None
    out = runner.invoke(app, ["plan", "examples/seed2-deepseek-self-vs-api.yaml", "-f", "json"])
    assert out.exit_code == 0, out.output
    notes = json.loads(out.output)["notes"]
    assert any(f"MoE models: median {band.median_ape_percent:.0f}%" in n for n in notes)
