"""Capacity model: hand-worked numbers, monotonic properties, validation error targets, CLI."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from llm_tco import capacity_cli
from llm_tco.capacity_factors import engine_efficiency
from llm_tco.capacity_validation import with_extra_rows
from llm_tco.catalog.benchmarks import BenchmarkRow
from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.core.capacity import Efficiency, Slo, predict, replica_capacity
from llm_tco.core.memory import kv_bytes_per_token, kv_cached_tokens, max_concurrent_sequences
from llm_tco.errors import ScenarioError

FIXTURES = Path(__file__).parent.parent / "data" / "capacity"

# Every factor at 1 and no fixed costs: the model reduces to the bare roofline.
IDEAL = Efficiency("ideal", 1.0, 1.0, 1.0, 1.0, max_batch_size=100_000, allreduce_latency_us=0.0)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return with_extra_rows(load_catalog(), FIXTURES)


def test_batch1_decode_is_weights_over_bandwidth(catalog: Catalog) -> None:
    # Llama-3.1-8B bf16 on H100 SXM. A step reads 8.03e9 params x 2 B = 16.06 GB less the
    # untied input embedding it only gathers from (128,256 x 4,096 x 2 B = 1.0507 GB) = 15.009
    # GB, plus the KV of the mean decode context, 1 + 1000 / 2 = 501 tokens x 131,072 B =
    # 0.0657 GB: 15.075 GB / 3350e9 B/s = 4.500 ms per token = 222.2 tok/s.
    p = predict(
        catalog.model("llama-3.1-8b"),
        catalog.gpu("h100-sxm-80gb"),
        "bf16",
        "bf16",
        1,
        1,
        1000,
        1,
        IDEAL,
    )
    assert p.output_tokens_per_second == pytest.approx(222.2, rel=0.005)
    assert p.tpot_ms == pytest.approx(4.500, rel=0.005)
    assert p.bound == "memory"


def test_kv_cache_per_token_from_architecture(catalog: Catalog) -> None:
    # Llama-3.1-70B: 2 x 80 layers x 8 KV heads x 128 dims x 2 bytes = 327,680 B = 320 KiB.
    arch = catalog.model("llama-3.1-70b")
    assert kv_bytes_per_token(arch, "bf16") == 320 * 1024
    assert kv_bytes_per_token(arch, "fp8") == 160 * 1024


def test_kv_limit_on_concurrency(catalog: Catalog) -> None:
    arch, h100 = catalog.model("llama-3.1-70b"), catalog.gpu("h100-sxm-80gb")
    # 4 x 80 GB x 0.9 = 288 GB, less 141.2 GB bf16 weights and 4 x 2 GiB (8.590 GB) runtime
    # reserve = 138.210 GB; a 4096-token sequence holds 327,680 x 4096 B = 1.3422 GB:
    # floor(102.97) = 102 sequences.
    assert max_concurrent_sequences(arch, h100, "bf16", "bf16", 4, 4096) == 102
    # 2 x 80 x 0.9 = 144 GB cannot hold 141.2 GB of weights plus 4.295 GB runtime reserve.
    with pytest.raises(ScenarioError):
        predict(arch, h100, "bf16", "bf16", 2, 1000, 500, 1, IDEAL)


def test_moe_reads_only_touched_experts(catalog: Catalog) -> None:
    # Mixtral 8x7B: expert size P = (46.7 - 12.9) / (8 - 2) = 5.633B, dense part 1.633B.
    # One token touches 2 of 8 experts: 12.9B params x 2 B = 25.8 GB, less the gathered input
    # embedding 32,000 x 4,096 x 2 B = 0.262 GB, plus 501 tokens x 131,072 B = 0.066 GB of KV:
    # 25.604 GB / 4800e9 B/s = 5.334 ms.
    # Two tokens touch 1 - (3/4)^2 = 43.75% of experts: 1.633 + 45.07 x 0.4375 = 21.35B params
    # = 42.70 GB - 0.262 GB + 2 x 0.066 GB of KV = 42.57 GB.
    arch, h200 = catalog.model("mixtral-8x7b"), catalog.gpu("h200-sxm-141gb")
    one = predict(arch, h200, "bf16", "bf16", 1, 1, 1000, 1, IDEAL)
    two = predict(arch, h200, "bf16", "bf16", 1, 1, 1000, 2, IDEAL)
    assert one.tpot_ms == pytest.approx(5.334, rel=0.005)
    assert two.tpot_ms / one.tpot_ms == pytest.approx(42.57 / 25.604, rel=0.005)


def test_tensor_parallel_adds_allreduce_cost(catalog: Catalog) -> None:
    # TP2 halves the 15.009 GB weight read (2.240 ms) and the 0.0657 GB KV read (0.010 ms, see
    # above); 2 all-reduces x 32 layers each cost 10 us latency plus 4096 x 2 B / 450e9 B/s
    # (one NVLink direction): 2.240 + 0.010 + 64 x 0.01002 = 2.891 ms.
    eff = dataclasses.replace(IDEAL, allreduce_latency_us=10.0)
    p = predict(
        catalog.model("llama-3.1-8b"),
        catalog.gpu("h100-sxm-80gb"),
        "bf16",
        "bf16",
        2,
        1,
        1000,
        1,
        eff,
    )
    assert p.tpot_ms == pytest.approx(2.891, rel=0.005)


def test_more_concurrency_more_throughput_and_higher_tpot(catalog: Catalog) -> None:
    efficiency = _efficiency(catalog, "trtllm")
    arch, gpu = catalog.model("llama-3.1-8b"), catalog.gpu("h100-sxm-80gb")
    preds = [
        predict(arch, gpu, "fp8", "fp8", 1, 1000, 1000, c, efficiency)
        for c in (1, 2, 8, 32, 128, 256)
    ]
    tps = [p.output_tokens_per_second for p in preds]
    tpot = [p.tpot_ms for p in preds]
    # Throughput rises until the step turns compute-bound, then plateaus; TPOT always rises.
    assert tps == sorted(tps) and tps[3] > 20 * tps[0]
    assert all(a < b for a, b in itertools.pairwise(tpot))
    # fp8 weights keep the 16-bit embedding and head (2 x 128,256 x 4,096 = 1.0507e9 params):
    # 6.9793e9 x 1 B + 1.0507e9 x 2 B = 9.0807 GB. TensorRT-LLM gives the KV cache 0.9 of the
    # memory left: 0.9 x (80 GB - 2 GiB (2.1475 GB) runtime reserve - 9.0807 GB) = 61.895 GB
    # over 65,536 B/token x 2000 tokens = 0.13107 GB per sequence: floor(472.2) = 472.
    limit = preds[0].max_concurrency
    assert limit == 472 and preds[0].kv_limited
    # Past the limit extra requests queue: throughput stays, TTFT grows.
    at, over = (
        predict(arch, gpu, "fp8", "fp8", 1, 1000, 1000, c, efficiency) for c in (limit, 2 * limit)
    )
    assert over.output_tokens_per_second == pytest.approx(at.output_tokens_per_second)
    assert over.ttft_ms > at.ttft_ms


def test_slo_capacity_is_the_edge(catalog: Catalog) -> None:
    efficiency = _efficiency(catalog, "vllm")
    arch, gpu = catalog.model("llama-3.1-70b"), catalog.gpu("h100-sxm-80gb")
    slo = Slo(tpot_ms=40.0, ttft_ms=2000.0)
    cap = replica_capacity(arch, gpu, "fp8", "fp8", 2, 1000, 500, slo, efficiency)
    assert cap.meets_slo and cap.tpot_ms <= 40.0 and cap.ttft_ms <= 2000.0
    above = predict(arch, gpu, "fp8", "fp8", 2, 1000, 500, cap.concurrency + 1, efficiency)
    assert above.tpot_ms > 40.0 or above.ttft_ms > 2000.0
    loose = replica_capacity(arch, gpu, "fp8", "fp8", 2, 1000, 500, Slo(None, None), efficiency)
    assert loose.output_tokens_per_second > cap.output_tokens_per_second


def test_replicas_for_peak_load() -> None:
    # Peak 1000 x 3 = 3000 tok/s over 1200 per replica: 3 replicas (the one round-up,
    # core.costs.replicas_for); exactly 3600 is 3, not 4, despite float error.
    from llm_tco.core.costs import replicas_for

    assert int(replicas_for(1000.0 * 3.0, 1200.0, 1)) == 3
    assert int(replicas_for(0.1 * 3 * 12000, 1200.0, 1)) == 3
    assert int(replicas_for(0.0, 1200.0, 1)) == 1
    assert replicas_for([0.0, 1200.0, 1201.0], 1200.0).tolist() == [0.0, 1.0, 2.0]


def test_benchmark_set_coverage() -> None:
    rows = load_catalog().benchmarks
    assert len(rows) >= 40
    assert len({r.id for r in rows}) == len(rows)
    assert len({r.gpu for r in rows}) >= 5
    models = {r.model for r in rows}
    assert {"mixtral-8x7b", "qwen3-235b-a22b", "llama-4-maverick"} <= models  # MoE
    assert {"llama-3.1-8b", "llama-3.1-70b"} <= models  # dense
    assert all(r.source.startswith("https://") for r in rows)


def test_per_gpu_figures_scale_to_deployment() -> None:
    row = BenchmarkRow(
        id="x",
        model="m",
        precision="fp16",
        gpu="g",
        gpu_count=2,
        engine="trtllm",
        mode="static-batch",
        input_tokens=1,
        output_tokens=1,
        concurrency=4,
        output_tokens_per_second_per_gpu=100.0,
        source="https://example.org",
        as_of="2024-01-01",
    )
    assert row.measured_output_tokens_per_second == 200.0


def _efficiency(catalog: Catalog, engine: str) -> Efficiency:
    return engine_efficiency(catalog, engine, "nvidia", None)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, catalog: Catalog) -> CliRunner:
    monkeypatch.setattr(capacity_cli, "load_catalog", lambda: catalog)
    return CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    capacity_cli.register(app)
    return app


def test_cli_capacity_json(runner: CliRunner) -> None:
    args = [
        "capacity",
        "llama-3.1-8b",
        "h100-sxm-80gb",
        "--precision",
        "fp8",
        "--engine",
        "trtllm",
        "--concurrency",
        "16",
        "--format",
        "json",
    ]
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["fits"] is True
    assert set(data["memory_gb"]) >= {"weights", "kv_cache", "overhead", "available"}
    # 6.9793e9 params x 1 B + 1.0507e9 embedding/head params kept at 2 B = 9.08 GB
    assert data["memory_gb"]["weights"] == pytest.approx(9.08)
    assert data["output_tokens_per_second"] > 0
    assert data["max_output_tokens_per_second"] > 0
    assert math.isfinite(data["ttft_ms"]) and math.isfinite(data["tpot_ms"])


def test_cli_capacity_not_fitting_and_unknown_names(runner: CliRunner) -> None:
    result = runner.invoke(_app(), ["capacity", "llama-3.1-405b", "l40s", "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.output)["fits"] is False
    result = runner.invoke(_app(), ["capacity", "llama-3.1-8b", "h100x"])
    assert result.exit_code == 2 and "unknown GPU" in result.output
    result = runner.invoke(_app(), ["capacity", "llama-3.1-8b", "h100", "--engine", "foo"])
    assert result.exit_code == 2


def test_sliding_window_layers_cap_their_kv(catalog: Catalog) -> None:
    # Half the layers keep at most 128 tokens: a 4096-token sequence caches
    # (16 x 4096 + 16 x 128) / 32 = 2112 tokens' worth of full-model KV.
    arch = catalog.model("llama-3.1-8b").model_copy(
        update={"sliding_window": 128, "sliding_window_layers": 16}
    )
    assert kv_cached_tokens(arch, 4096) == 2112
    assert kv_cached_tokens(catalog.model("llama-3.1-8b"), 4096) == 4096
