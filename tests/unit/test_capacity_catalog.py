"""Every catalog model on every catalog GPU can be sized, and names resolve as people type them."""

from __future__ import annotations

import json
import math

import pytest
import typer
from typer.testing import CliRunner

from llm_tco import capacity_cli
from llm_tco.catalog.loader import load_catalog
from llm_tco.core.capacity import Slo
from llm_tco.core.memory import min_gpus_to_fit
from llm_tco.errors import CatalogLookupError

PRECISIONS = ("bf16", "fp8", "int4", "fp4")


def test_every_model_gpu_precision_that_fits_is_sized() -> None:
    catalog = load_catalog()
    sized = 0
    for arch in catalog.models:
        for gpu in catalog.gpus:
            for precision in PRECISIONS:
                kv = "fp8" if precision in ("fp8", "fp4") else "bf16"
                gpus = min_gpus_to_fit(arch, gpu, precision, kv, context_tokens=1500)
                if gpus is None:
                    continue
                report = capacity_cli.build_capacity_report(
                    catalog, arch.id, gpu.id, gpus, precision, None, 1000, 500, Slo(), 8, "vllm"
                )
                assert report.fits, (arch.id, gpu.id, precision, gpus)
                for figure in (
                    report.output_tokens_per_second,
                    report.max_output_tokens_per_second,
                ):
                    assert figure is not None and math.isfinite(figure) and figure > 0
                sized += 1
    assert sized >= len(catalog.models)  # every model fits somewhere


def _app() -> typer.Typer:
    app = typer.Typer()
    capacity_cli.register(app)
    return app


@pytest.mark.parametrize("gpu", [g.id for g in load_catalog().gpus])
def test_cli_capacity_exits_0_on_every_gpu(gpu: str) -> None:
    catalog = load_catalog()
    spec = catalog.gpu(gpu)
    arch = catalog.model("llama-3.1-8b")
    gpus = min_gpus_to_fit(arch, spec, "bf16", "bf16", context_tokens=1500)
    assert gpus is not None
    args = ["capacity", "llama-3.1-8b", gpu, "-n", str(gpus), "--format", "json"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["max_output_tokens_per_second"] > 0


@pytest.mark.parametrize(
    ("typed", "resolved"),
    [
        ("h100", "h100-sxm-80gb"),
        ("H100", "h100-sxm-80gb"),
        ("a100", "a100-80gb-sxm"),
        ("h200", "h200-sxm-141gb"),
        ("b200", "b200"),
    ],
)
def test_gpu_family_names_resolve_with_the_assumption_listed(typed: str, resolved: str) -> None:
    catalog = load_catalog()
    assert catalog.gpu(typed).id == resolved
    if typed.lower() != resolved:
        note = catalog.gpu_assumption(typed)
        assert note is not None and resolved in note


def test_unknown_gpu_still_suggests() -> None:
    with pytest.raises(CatalogLookupError, match="did you mean"):
        load_catalog().gpu("h100x")


@pytest.mark.parametrize(
    ("typed", "resolved"),
    [
        ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b"),
        ("meta-llama/Llama-3.1-8B", "llama-3.1-8b"),
        ("Qwen/Qwen3-235B-A22B", "qwen3-235b-a22b"),
        ("Qwen/Qwen3-235B-A22B-Instruct-2507", "qwen3-235b-a22b"),
        ("openai/gpt-oss-120b", "gpt-oss-120b"),
    ],
)
def test_hugging_face_names_resolve(typed: str, resolved: str) -> None:
    assert load_catalog().model(typed).id == resolved


def test_cli_capacity_max_throughput_and_layout_flags() -> None:
    base = ["capacity", "deepseek-r1", "h200", "-n", "8", "--precision", "fp8", "--format", "json"]
    slo = json.loads(CliRunner().invoke(_app(), base).output)
    free = json.loads(CliRunner().invoke(_app(), [*base, "--max-throughput"]).output)
    assert free["slo"] == {"tpot_ms": None, "ttft_ms": None}
    assert free["max_output_tokens_per_second"] >= slo["max_output_tokens_per_second"]
    assert any("h200-sxm-141gb" in a for a in free["assumptions"])
    dp = json.loads(
        CliRunner().invoke(_app(), [*base, "--data-parallel", "8", "--expert-parallel", "8"]).output
    )
    # DP attention stores each MLA sequence once instead of on all 8 GPUs.
    assert dp["max_concurrent_sequences"] > 4 * slo["max_concurrent_sequences"]
    assert slo["error_band"]["group"] == "moe"
    bad = CliRunner().invoke(_app(), [*base, "--pipeline-parallel", "3"])
    assert bad.exit_code == 2 and "pipeline" in bad.output


def test_cli_capacity_names_a_weight_only_kernel_where_the_weights_are_converted() -> None:
    # int4 weights on H100 are converted to 16 bits inside the GEMM (no int4 tensor cores
    # serve them); FP8 on H100 runs FP8 tensor cores and is not.
    def assumed(precision: str) -> list[str]:
        args = ["capacity", "qwen2.5-32b", "h100", "--precision", precision, "--format", "json"]
        return json.loads(CliRunner().invoke(_app(), args).output)["assumptions"]

    assert any("int4 weights are converted to 16 bits" in a for a in assumed("int4"))
    assert not any("converted to 16 bits" in a for a in assumed("fp8"))
