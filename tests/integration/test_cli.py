"""The CLI end to end: stable JSON fields, and bad input exiting 2 with one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_tco.cli import app
from support import EXAMPLES

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


GOOD = """
workload: {input_tokens_per_month: 10B, output_tokens_per_month: 2B}
options:
  - name: haiku
    api: {model: claude-haiku-4.5}
  - name: llama
    self_hosted: {gpu: a100-80gb-sxm, gpu_count: 4, gpu_monthly_price: 1500, ops_monthly: 2000}
"""


def test_evaluate_json_has_stable_fields(tmp_path: Path) -> None:
    result = invoke("evaluate", write(tmp_path, GOOD), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    option = data["options"][0]
    for key in ("name", "monthly_cost", "cost_per_mtok", "breakdown", "gpus"):
        assert key in option
    # Haiku 4.5 at $1/$5: 10B x 1 + 2B x 5 = $20,000
    assert option["monthly_cost"] == pytest.approx(20_000)
    assert data["options"][1]["gpus"] == 4
    (row,) = data["breakeven"]
    assert set(row) >= {"option", "versus", "tokens_per_month", "requests_per_month"}
    # 8,000 / (20,000 / 12B tokens) = 4.8B tokens/month
    assert row["tokens_per_month"] == pytest.approx(8000 / (20000 / 12e9))
    assert {"tokens_per_month", "costs", "cheapest"} <= set(data["sweep"][0])
    assert isinstance(data["warnings"], list)


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_every_format_renders(fmt: str) -> None:
    result = invoke("evaluate", str(EXAMPLES / "seed1-high-volume-haiku-vs-llama.yaml"), "-f", fmt)
    assert result.exit_code == 0, result.output
    assert "claude-haiku-4.5" in result.stdout


def test_sweep_command(tmp_path: Path) -> None:
    result = invoke("sweep", write(tmp_path, GOOD), "--volumes", "50M,12B", "-f", "json")
    data = json.loads(result.stdout)
    assert [row["tokens_per_month"] for row in data["sweep"]] == [50e6, 12e9]
    assert data["sweep"][1]["cheapest"] == "llama"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- just a list", "must be a mapping"),
        ("workload: [1, 2", "not valid YAML"),
        (GOOD.replace("a100-80gb-sxm", "h100x"), "unknown GPU 'h100x'"),
        (GOOD.replace("claude-haiku-4.5", "claude-haiku-9"), "unknown API model"),
        (GOOD.replace("10B", "-5B"), "workload.input_tokens_per_month"),
        (GOOD.replace("10B", "lots"), "is not a number"),
        (
            GOOD.replace(
                "{input_tokens_per_month: 10B, output_tokens_per_month: 2B}",
                "{tokens_per_month: 1B, input_share: 1.5}",
            ),
            "workload.input_share",
        ),
        (
            GOOD.replace(
                "{input_tokens_per_month: 10B, output_tokens_per_month: 2B}", "{peak_to_mean: 2}"
            ),
            "missing volume",
        ),
        (GOOD.replace("gpu_monthly_price: 1500, ", ""), "needs a GPU price"),
        (GOOD.replace("name: llama", "name: llama\n    colour: blue"), "unknown field"),
        ("workload: {tokens_per_month: 1B, input_share: 0.5}\noptions: []", "options"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, text: str, expected: str) -> None:
    result = invoke("evaluate", write(tmp_path, text))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.output


def test_unreadable_file(tmp_path: Path) -> None:
    result = invoke("evaluate", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2
    assert "no such file" in result.stderr
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = invoke("evaluate", str(binary))
    assert result.exit_code == 2


def test_bad_volumes_flag(tmp_path: Path) -> None:
    result = invoke("sweep", write(tmp_path, GOOD), "--volumes", "1B,lots")
    assert result.exit_code == 2
    assert "--volumes" in result.stderr


def test_init_writes_a_scenario_that_evaluates(tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    assert invoke("init", str(target)).exit_code == 0
    assert invoke("init", str(target)).exit_code == 2  # refuses to overwrite
    result = invoke("evaluate", str(target), "-f", "json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["options"]) == 3


def test_catalog_listings() -> None:
    gpus = json.loads(invoke("catalog", "gpus", "-f", "json").stdout)
    h100 = next(g for g in gpus if g["id"] == "h100-sxm-80gb")
    assert h100["memory_bandwidth_gb_per_s"] == 3350  # NVIDIA H100 datasheet: 3.35 TB/s
    assert all("source" in g and "as_of" in g for g in gpus)
    apis = json.loads(invoke("catalog", "apis", "--search", "haiku-4", "-f", "json").stdout)
    assert any(a["input_per_mtok"] == 1 and a["output_per_mtok"] == 5 for a in apis)
    assert invoke("catalog", "offers", "--search", "runpod").exit_code == 0
    assert invoke("catalog", "models", "--search", "llama").exit_code == 0


def test_fit_command() -> None:
    # Llama 3.1 70B at bf16: 70.6e9 x 2 = 141 GB of weights, more than one 80 GB H100.
    data = json.loads(
        invoke("fit", "llama-3.1-70b", "h100-sxm-80gb", "--count", "1", "-f", "json").stdout
    )
    assert data["fits"] is False
    assert data["memory_gb"]["weights"] == pytest.approx(141.1, rel=0.01)
    # Two H100s do not hold it under vLLM's default gpu_memory_utilization 0.9:
    # 0.9 x 160 GB = 144 GB, minus a 2 GiB runtime reserve per GPU (4.29 GB) = 139.7 GB < 141.2 GB.
    # The next tensor-parallel size is 4.
    assert data["min_gpus_to_fit"] == 4
    bad = invoke("fit", "llama-3.1-70b", "h100-sxm-80gb", "--precision", "fp3")
    assert bad.exit_code == 2


def test_evaluate_samples_is_seeded_and_reproducible(tmp_path: Path) -> None:
    # ops between $1,000 and $3,000 (uniform): P50 of the self-hosted cost near 6,000 + 2,000;
    # the API cost has no range, so all its percentiles are $20,000.
    text = GOOD.replace("ops_monthly: 2000", "ops_monthly: {low: 1000, high: 3000}")
    path = write(tmp_path, text)
    args = ("evaluate", path, "-f", "json", "--samples", "2000", "--seed", "7")
    first, second = invoke(*args), invoke(*args)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    sim = json.loads(first.stdout)["simulation"]
    bands = {band["name"]: band for band in sim["options"]}
    assert bands["haiku"]["monthly_usd"]["p10"] == pytest.approx(20_000)
    assert bands["llama"]["monthly_usd"]["p50"] == pytest.approx(8_000, rel=0.03)
    assert bands["llama"]["monthly_usd"]["p10"] < bands["llama"]["monthly_usd"]["p90"]


# Hand-worked (GB = 1e9 B; vLLM budget 0.9 x memory less 2 GiB = 2.1475 GB per GPU):
# * Llama 3.1 70B bf16 on 2 x H100: 141.2 GB of weights > 144 - 4.295 = 139.7 GB: no fit.
# * fp8: 68.50e9 params x 1 B + 2.10e9 embedding/head params x 2 B = 72.70 GB;
#   KV room 144 - 4.295 - 72.70 = 67.00 GB.
# * DeepSeek V3 fp8 on 8 x H200: 672.85 GB (see test_memory); 1015.2 - 17.18 - 672.85 = 325.17.
# * gpt-oss-120b mxfp4 on 1 x H100: 65.60 GB (see test_memory); 72 - 2.1475 - 65.60 = 4.25.
AGREEMENT_CASES = [
    ("llama-3.1-70b", "h100-sxm-80gb", 2, "bf16", False, 141.2, 0.0),
    ("llama-3.1-70b", "h100-sxm-80gb", 2, "fp8", True, 72.70, 67.00),
    ("deepseek-v3", "h200-sxm-141gb", 8, "fp8", True, 672.85, 325.17),
    ("gpt-oss-120b", "h100-sxm-80gb", 1, "mxfp4", True, 65.60, 4.25),
]


@pytest.mark.parametrize(
    ("model", "gpu", "count", "precision", "fits", "weights_gb", "kv_cache_gb"), AGREEMENT_CASES
)
def test_fit_and_capacity_agree(
    model: str,
    gpu: str,
    count: int,
    precision: str,
    fits: bool,
    weights_gb: float,
    kv_cache_gb: float,
) -> None:
    # `capacity` defaults to 1000 prompt + 500 output tokens, so `fit` gets a 1500-token context.
    common = ("--precision", precision)
    fit = json.loads(
        invoke(
            "fit", model, gpu, "--count", str(count), "--context", "1500", *common, "-f", "json"
        ).stdout
    )
    capacity = invoke("capacity", model, gpu, "-n", str(count), *common, "--format", "json")
    assert capacity.exit_code == 0, capacity.output
    cap = json.loads(capacity.stdout)
    assert fit["fits"] is cap["fits"] is fits
    assert fit["max_concurrent_sequences"] == cap["max_concurrent_sequences"]
    for item in ("weights", "kv_cache", "overhead", "available"):
        assert fit["memory_gb"][item] == pytest.approx(cap["memory_gb"][item], abs=0.005)
    assert fit["memory_gb"]["weights"] == pytest.approx(weights_gb, abs=0.02)
    assert fit["memory_gb"]["kv_cache"] == pytest.approx(kv_cache_gb, abs=0.02)
