"""Other spellings of a precision or an engine (as engines' flags, model cards and Hugging Face
quantisation configs write them) read as the name the tool uses, everywhere one is typed: the
capacity and fit commands, the Python API, scenarios and calibrate. A spelling of a format the
tool has no figure for fails with the field named, exit 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from llm_tco.cli import app
from llm_tco.core.capacity import engine_key
from llm_tco.core.memory import default_kv_precision, precision_key, precision_named_in
from llm_tco.errors import ScenarioError
from llm_tco.scenario import SelfHostedSpec

runner = CliRunner()


@pytest.mark.parametrize(
    ("spelled", "key"),
    [
        ("FP8", "fp8"),
        ("BF16", "bf16"),
        ("bfloat16", "bf16"),
        ("float16", "fp16"),
        ("MXFP4", "mxfp4"),
        ("NVFP4", "fp4"),
        ("W4A16", "int4"),
        ("AWQ", "int4"),
        ("int4_awq", "int4"),
        ("GPTQ-Int4", "int4"),
        ("w8a16", "int8"),
        ("fp8_e4m3", "fp8"),
    ],
)
def test_precision_spellings(spelled: str, key: str) -> None:
    assert precision_key(spelled)[0] == key


def test_a_renamed_precision_is_stated_and_a_case_change_is_not() -> None:
    assert precision_key("FP8") == ("fp8", None)
    key, reading = precision_key("awq")
    assert key == "int4" and reading is not None and "AWQ, group size 128" in reading


def test_w8a8_is_not_read_as_weight_only_int8() -> None:
    # int8 here is W8A16 (weight-only); W8A8 runs int8 tensor cores, a different cost.
    with pytest.raises(ScenarioError) as caught:
        precision_key("W8A8")
    assert caught.value.field == "precision" and "W8A16" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("spelled", "key"),
    [
        ("vLLM", "vllm"),
        ("SGLang", "sglang"),
        ("TensorRT-LLM", "trtllm"),
        ("tensorrt_llm", "trtllm"),
        ("TRT-LLM", "trtllm"),
        ("llama.cpp", "llamacpp"),
    ],
)
def test_engine_spellings(spelled: str, key: str) -> None:
    assert engine_key(spelled) == key


def test_default_kv_cache_follows_fp8_and_nvfp4_weights_only() -> None:
    assert [default_kv_precision(p) for p in ("fp8", "fp4", "mxfp4", "int4", "bf16")] == [
        "fp8",
        "fp8",
        "bf16",
        "bf16",
        "bf16",
    ]


def _capacity(*args: str) -> dict[str, object]:
    out = runner.invoke(
        app, ["capacity", *args, "--concurrency", "16", "--format", "json"], env={"COLUMNS": "100"}
    )
    assert out.exit_code == 0, out.output
    result: dict[str, object] = json.loads(out.output)
    return result


def test_capacity_reads_spellings_as_the_names_they_stand_for() -> None:
    spelled = _capacity("llama-3.1-8b", "h100", "--precision", "AWQ", "--engine", "TensorRT-LLM")
    named = _capacity("llama-3.1-8b", "h100", "--precision", "int4", "--engine", "trtllm")
    assert spelled["output_tokens_per_second"] == named["output_tokens_per_second"]
    assert spelled["precision"] == "int4" and spelled["engine"] == "trtllm"
    assert any("'AWQ' read as int4" in a for a in spelled["assumptions"])  # type: ignore[attr-defined]


def test_capacity_names_nim_s_engines() -> None:
    out = runner.invoke(app, ["capacity", "llama-3.1-8b", "h100", "--engine", "nim"])
    assert out.exit_code == 2
    assert "TensorRT-LLM or vLLM" in out.output and "Traceback" not in out.output


def test_fit_reads_a_spelling() -> None:
    out = runner.invoke(app, ["fit", "llama-3.1-8b", "h100", "--precision", "FP8", "-f", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["precision"] == "fp8"


def test_scenario_reads_spellings() -> None:
    spec = SelfHostedSpec(
        model="llama-3.1-8b",
        precision="FP8",
        kv_precision="FP8_E4M3",
        gpu="h100",
        engine="TensorRT-LLM",
        gpu_hourly_price=2.0,
    )
    assert (spec.precision, spec.kv_precision, spec.engine) == ("fp8", "fp8", "trtllm")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("nvidia/Llama-3.3-70B-Instruct-FP8", "fp8"),
        ("neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8-dynamic", "fp8"),
        ("hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4", "int4"),
        ("Qwen/Qwen2.5-72B-Instruct-GPTQ-Int4", "int4"),
        ("nvidia/DeepSeek-R1-FP4", "fp4"),
        ("meta-llama/Llama-3.1-8B-Instruct", None),
        ("Qwen/Qwen3-30B-A3B", None),
        ("mistral-7b-v0.3", None),
    ],
)
def test_precision_named_in_a_checkpoint_name(name: str, key: str | None) -> None:
    assert precision_named_in(name) == key


def test_capacity_sizes_a_checkpoint_at_the_format_it_ships() -> None:
    # DeepSeek-R1 ships FP8 weights (its config.json quantization_config): 671B at bf16 would
    # not fit 8 x H200 (1.34 TB > 8 x 141 GB), at FP8 it does, so the default is its own format.
    shipped = _capacity("deepseek-r1", "h200", "-n", "8")
    assert shipped["precision"] == "fp8" and shipped["fits"] is True
    assert any("published checkpoint ships" in a for a in shipped["assumptions"])  # type: ignore[attr-defined]
    named = _capacity("nvidia/Llama-3.3-70B-Instruct-FP8", "h100", "-n", "2")
    assert named["precision"] == "fp8"
    plain = _capacity("meta-llama/Llama-3.1-8B-Instruct", "h100")
    assert plain["precision"] == "bf16"


def test_a_gpu_typed_with_its_count_says_where_the_count_goes() -> None:
    out = runner.invoke(app, ["capacity", "llama-3.1-8b", "8xH100"])
    assert out.exit_code == 2
    assert "'H100' with -n 8" in out.output and "Traceback" not in out.output


def test_plan_reads_spellings() -> None:
    scenario = "examples/seed2-deepseek-self-vs-api.yaml"
    args = ["plan", scenario, "-f", "json"]
    spelled = runner.invoke(app, [*args, "--precision", "FP8", "--engine", "SGLang"])
    named = runner.invoke(app, [*args, "--precision", "fp8", "--engine", "sglang"])
    assert spelled.exit_code == 0 and named.exit_code == 0, spelled.output
    # The search's own timing differs between runs; everything it chose must not.
    first, second = json.loads(spelled.output), json.loads(named.output)
    assert first["cheapest"] == second["cheapest"] and first["searched"] == second["searched"]
