"""`llm-tco watch`: a price file changed by hand flips the verdict (exit 1); unchanged, exit 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import support
from llm_tco.cli import app

# 1B input + 200M output tokens a month. The API at $0.2288/$0.3432 per MTok costs
# 1000 x 0.2288 + 200 x 0.3432 = $297.44; one rented GPU at $400 a month costs $400: the API
# is cheapest. At $0.50/$1.00 the API costs 500 + 200 = $700 and the GPU is cheapest.
SCENARIO = {
    "name": "watch",
    "workload": {"input_tokens_per_month": "1B", "output_tokens_per_month": "200M"},
    "options": [
        {"name": "api", "api": {"model": "deepseek-v3.2"}},
        {
            "name": "own",
            "self_hosted": {
                "model": "llama-3.1-8b",
                "gpu": "h100-sxm-80gb",
                "gpu_count": 1,
                "gpu_monthly_price": 400,
                "tokens_per_second_per_replica": 5000,
                "ops_monthly": 0,
            },
        },
    ],
}


def price_file(path: Path, input_price: float, output_price: float) -> Path:
    """A one-model copy of genai-prices' published data file."""
    data = support.genai_price_data(input_price, output_price)
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LLM_TCO_CACHE_DIR", str(tmp_path / "cache"))
    scenario = tmp_path / "plan.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    prices = price_file(tmp_path / "prices.json", 0.2288, 0.3432)
    state = tmp_path / "state"

    def run(*extra: str):
        args = ["watch", str(scenario), "--prices", str(prices), "--state", str(state)]
        return CliRunner().invoke(app, [*args, *extra])

    return scenario, prices, run


def test_first_look_records_the_baseline_and_an_unchanged_rerun_exits_0(setup):
    _, _, run = setup
    first = run("-f", "json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert report["changes"][0]["kind"] == "baseline"
    assert report["changes"][0]["now"] == "api"
    again = run()
    assert again.exit_code == 0, again.output
    assert "Nothing moved" in again.output


def test_a_price_changed_by_hand_reports_the_flip_and_exits_1(setup):
    _, prices, run = setup
    assert run().exit_code == 0
    price_file(prices, 0.50, 1.00)
    flipped = run("-f", "json")
    assert flipped.exit_code == 1, flipped.output
    report = json.loads(flipped.output)
    kinds = {c["kind"]: c for c in report["changes"]}
    assert kinds["verdict"]["before"] == "api" and kinds["verdict"]["now"] == "own"
    assert kinds["price"]["before"] == "$0.2288/$0.3432 per MTok"
    assert kinds["price"]["now"] == "$0.5/$1 per MTok"
    assert report["verdict_flips"] == 1
    # Told once: the new result is the baseline, so the next look is quiet.
    assert run().exit_code == 0


def test_keep_compares_without_moving_the_baseline(setup):
    scenario, _, run = setup
    assert run().exit_code == 0
    edited = dict(SCENARIO)
    edited["options"] = [
        {"name": "api", "api": {"input_per_mtok": 0.5, "output_per_mtok": 1.0}},
        SCENARIO["options"][1],
    ]
    scenario.write_text(yaml.safe_dump(edited))
    assert run("--keep").exit_code == 1
    table = run("--keep")
    assert table.exit_code == 1 and "revisit" in table.output


def test_bad_input_exits_2(setup, tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    result = CliRunner().invoke(app, ["watch", str(setup[0]), "--prices", str(bad)])
    assert result.exit_code == 2
