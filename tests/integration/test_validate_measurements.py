"""`llm-tco validate-capacity --measurements FILE`: the shipped model checked on rows it never saw.

The rows here are made up for the test (their measured figures are only compared against);
what is asserted is that each prediction is the very figure `llm-tco capacity` gives for the
same deployment (one model, no second implementation), that APE is |predicted - measured| /
measured of those two, that rows the catalog cannot resolve are counted and named rather than
dropped, and that a malformed file exits 2 naming the row and field.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from llm_tco.cli import app

runner = CliRunner()

ROWS = """\
- id: offline-8b
  model: llama-3.1-8b
  gpu: h100-sxm-80gb
  gpu_count: 1
  precision: bf16
  engine: vllm
  mode: offline-max
  input_tokens: 1000
  output_tokens: 1000
  output_tokens_per_second: 5800
- id: c32-70b
  model: llama-3.3-70b
  gpu: h100-sxm-80gb
  gpu_count: 2
  precision: fp8
  engine: vllm
  mode: concurrency
  concurrency: 32
  input_tokens: 1000
  output_tokens: 200
  output_tokens_per_second: 1500
- id: unknown-model
  model: no-such-model-7b
  gpu: h100-sxm-80gb
  gpu_count: 1
  precision: bf16
  engine: vllm
  mode: offline-max
  input_tokens: 100
  output_tokens: 100
  output_tokens_per_second: 100
"""


def _capacity(*args: str) -> dict:
    result = runner.invoke(app, ["capacity", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _check(path: Path) -> dict:
    result = runner.invoke(app, ["validate-capacity", "-m", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_predictions_are_the_capacity_commands_figures(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(ROWS)
    report = _check(path)
    rows = {r["id"]: r for r in report["rows"]}
    offline = _capacity(
        "llama-3.1-8b",
        "h100-sxm-80gb",
        "--input-len",
        "1000",
        "--output-len",
        "1000",
        "--max-throughput",
    )["max_output_tokens_per_second"]
    at_32 = _capacity(
        "llama-3.3-70b",
        "h100-sxm-80gb",
        "-n",
        "2",
        "--precision",
        "fp8",
        "--input-len",
        "1000",
        "--output-len",
        "200",
        "--concurrency",
        "32",
        # A row without kv_precision is read as the engine's default (vLLM: the activations'
        # bf16); `capacity` defaults to an FP8 cache for FP8 weights, so say it.
        "--kv-precision",
        "bf16",
    )["output_tokens_per_second"]
    assert rows["offline-8b"]["predicted_output_tokens_per_second"] == round(offline, 1)
    assert rows["c32-70b"]["predicted_output_tokens_per_second"] == round(at_32, 1)
    for row_id, measured, predicted in (("offline-8b", 5800, offline), ("c32-70b", 1500, at_32)):
        assert rows[row_id]["ape_percent"] == round(abs(predicted - measured) / measured * 100, 1)
    # 2 of the 3 rows resolve; the third is named with the reason, not dropped.
    assert report["rows_given"] == 3 and report["overall"]["rows"] == 2
    assert [row_id for row_id, _ in report["skipped"]] == ["unknown-model"]
    assert "no-such-model-7b" in report["skipped"][0][1]


def test_csv_table_and_the_coverage_line(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "model,gpu,gpu_count,precision,engine,mode,input_tokens,output_tokens,concurrency,"
        "output_tokens_per_second\n"
        "llama-3.1-8b,h100-sxm-80gb,1,bf16,vllm,offline-max,1000,1000,,5800\n"
        "llama-3.1-8b,no-such-gpu,1,bf16,vllm,offline-max,1000,1000,,5800\n"
    )
    result = runner.invoke(app, ["validate-capacity", "--measurements", str(path)])
    assert result.exit_code == 0, result.output
    assert "predicted 1 of 2 rows (50.0%)" in result.output
    assert "row-2" in result.output and "no-such-gpu" in result.output


def test_malformed_files_exit_2_naming_the_row(tmp_path: Path) -> None:
    cases = {
        "extra.csv": ("model,gpu,colour\nx,y,red\n", "row 1"),
        "notalist.yaml": ("model: llama-3.1-8b\n", "list of rows"),
        "bad.yaml": (ROWS.replace("gpu_count: 2", "gpu_count: -2"), "row 2 gpu_count"),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        result = runner.invoke(app, ["validate-capacity", "-m", str(path)])
        assert result.exit_code == 2, (name, result.output)
        assert expected in result.output, (name, result.output)
    missing = runner.invoke(app, ["validate-capacity", "-m", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "no such file" in missing.output
