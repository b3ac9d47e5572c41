"""Capacity model terms added for out-of-source accuracy: layouts, FP4, fixed step costs, MoE
tiles. Each expected figure is worked out by hand from the architecture and datasheet rows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from capacity_toys import toy_factors, toy_replica

from llm_tco.capacity_validation import with_extra_rows
from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.core.capacity import (
    Efficiency,
    compute_tflops,
    engine_limits,
    moe_exchange_bytes,
    predict,
    replica,
    stage_seconds,
)
from llm_tco.core.memory import Layout, plain_tp, plan_memory
from llm_tco.errors import ScenarioError

FIXTURES = Path(__file__).parent.parent / "data" / "capacity"
IDEAL = Efficiency("ideal", 1.0, 1.0, 1.0, 1.0, max_batch_size=100_000, allreduce_latency_us=0.0)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return with_extra_rows(load_catalog(), FIXTURES)


def test_dp_attention_stores_each_mla_sequence_once(catalog: Catalog) -> None:
    # DeepSeek-R1 MLA cache: 61 layers x (512 latent + 64 rope) x 1 B (fp8) = 35,136 B/token.
    # Tensor parallel over 8 GPUs keeps the latent on every rank: a 1,500-token sequence takes
    # 35,136 x 1,500 x 8 = 421.6 MB; with DP attention over 8 groups it is stored once: 52.7 MB.
    arch, h200 = catalog.model("deepseek-r1"), catalog.gpu("h200-sxm-141gb")
    tp = plan_memory(arch, h200, "fp8", "fp8", 8, 1500)
    dp = plan_memory(arch, h200, "fp8", "fp8", 8, 1500, layout=Layout(8, expert=8, data=8))
    assert tp.kv_gb_per_sequence == pytest.approx(0.4216, rel=1e-3)
    assert dp.kv_gb_per_sequence == pytest.approx(0.0527, rel=1e-3)
    # ... while every DP group holds its own copy of the non-expert weights.
    assert dp.weights_gb > tp.weights_gb


def test_pipeline_at_batch_one_is_no_faster_than_one_gpu(catalog: Catalog) -> None:
    # Each of two stages reads half the weights, one after the other: at one sequence the
    # token takes as long as on one GPU (plus one 8 KB activation send, ~0.02 us on NVLink).
    arch, h100 = catalog.model("llama-3.1-8b"), catalog.gpu("h100-sxm-80gb")
    one = predict(arch, h100, "bf16", "bf16", 1, 1, 1000, 1, IDEAL)
    two = predict(arch, h100, "bf16", "bf16", 2, 1, 1000, 1, IDEAL, layout=Layout(2, pipeline=2))
    assert two.tpot_ms == pytest.approx(one.tpot_ms, rel=0.002)
    # With 16 sequences in flight the stages overlap: 8 per micro-batch, throughput rises.
    pp16 = predict(arch, h100, "bf16", "bf16", 2, 1, 1000, 16, IDEAL, layout=Layout(2, pipeline=2))
    one16 = predict(arch, h100, "bf16", "bf16", 1, 1, 1000, 16, IDEAL)
    assert pp16.output_tokens_per_second > one16.output_tokens_per_second


def test_layout_must_divide_the_gpus() -> None:
    with pytest.raises(ScenarioError, match="pipeline"):
        Layout(6, pipeline=4)
    with pytest.raises(ScenarioError, match="data_parallel"):
        Layout(8, pipeline=2, data=3)


def test_fp4_runs_at_the_fp4_rate_where_the_gpu_has_it(catalog: Catalog) -> None:
    # B200 datasheet (dense): FP8 4.5 PFLOP/s, FP4 9 PFLOP/s. On H100 (no FP4 tensor cores)
    # NVFP4/MXFP4 weights are dequantised and run at the bf16 rate, 989.5 TFLOP/s.
    b200 = catalog.gpu("b200").model_copy(update={"fp4_dense_tflops": 9000.0})
    assert compute_tflops(b200, "fp4") == (9000.0, None)
    assert compute_tflops(b200, "fp8")[0] == 4500.0
    assert compute_tflops(catalog.gpu("h100-sxm-80gb"), "mxfp4")[0] == 989.5


def test_mxfp4_weights_meet_8_bit_activations_where_the_gpu_has_fp4_tensor_cores(
    catalog: Catalog,
) -> None:
    # gpt-oss's MXFP4 MoE weights run against MXFP8 activations on Blackwell and bf16 ones on
    # Hopper (TensorRT-LLM's gpt-oss README, MoE support matrix): B200's FP8 peak (4.5 PFLOP/s,
    # half its 9 PFLOP/s FP4 figure), H100's bf16 peak (989.5 TFLOP/s, not its 1,979 FP8).
    assert compute_tflops(catalog.gpu("b200"), "mxfp4") == (4500.0, None)
    assert compute_tflops(catalog.gpu("h100-sxm-80gb"), "mxfp4") == (989.5, None)


def test_weight_only_formats_convert_where_the_gpu_has_no_tensor_cores_of_their_width(
    catalog: Catalog,
) -> None:
    # int4 (AWQ/GPTQ) is weight-only everywhere; FP8 converts on A100 (no FP8 tensor cores)
    # but not on H100; MXFP4 gpt-oss converts its routed experts on H100 (bf16 activations)
    # and keeps its bf16 attention and dense layers as they are; on B200 it runs MXFP8 MMAs.
    h100, a100 = catalog.gpu("h100-sxm-80gb"), catalog.gpu("a100-80gb-sxm")
    llama, oss = catalog.model("llama-3.1-8b"), catalog.model("gpt-oss-120b")
    for gpu, precision, arch, dense, experts in (
        (h100, "int4", llama, 1.0, 0.0),
        (h100, "fp8", llama, 0.0, 0.0),
        (a100, "fp8", llama, 1.0, 0.0),
        (h100, "bf16", llama, 0.0, 0.0),
        (h100, "mxfp4", oss, 0.0, 1.0),
        (catalog.gpu("b200"), "mxfp4", oss, 0.0, 0.0),
    ):
        r = replica(arch, gpu, precision, "bf16", plain_tp(1))
        assert (r.dense_dequantised, r.expert_dequantised) == (dense, experts), (gpu.id, precision)


def test_a_weight_only_gemm_computes_at_its_fitted_share_of_the_16_bit_rate() -> None:
    # 1,000 prompt tokens x 2e9 FLOPs at 1e15 FLOP/s = 2 ms at full efficiency; a weight-only
    # GEMM at 0.5 of the 16-bit rate takes 4 ms. Nothing else costs time in the toy.
    f = toy_factors(dequant_compute=0.5)
    plain = toy_replica(dense_flops_per_token=2e9)
    converted = toy_replica(dense_flops_per_token=2e9, dense_dequantised=1.0)
    assert stage_seconds(plain, f, np.array([0.0]), 1000.0, 0.0, 0.0)[0][0] == pytest.approx(2e-3)
    assert stage_seconds(converted, f, np.array([0.0]), 1000.0, 0.0, 0.0)[0][0] == pytest.approx(
        4e-3
    )


def test_attention_runs_at_the_kv_cache_precision(catalog: Catalog) -> None:
    # FP4 weights on B200: the GEMMs get the FP4 peak (9 PFLOP/s), attention the peak of its
    # cache: FP8 (4.5 PFLOP/s) over an FP8 cache, bf16 (2.25 PFLOP/s) over a 16-bit one.
    arch = catalog.model("llama-3.1-8b")
    b200 = catalog.gpu("b200").model_copy(update={"fp4_dense_tflops": 9000.0})
    fp8_cache = replica(arch, b200, "fp4", "fp8", plain_tp(1))
    bf16_cache = replica(arch, b200, "fp4", "bf16", plain_tp(1))
    assert fp8_cache.compute_flops_per_s == 9000e12
    assert fp8_cache.attention_flops_per_s == 4500e12
    assert bf16_cache.attention_flops_per_s == 2250e12


def test_dp_attention_exchanges_each_token_once_whatever_the_top_k() -> None:
    # Qwen3-30B-A3B hidden 2048 in bf16 = 4096 B per token, top-8. DP attention over 2 GPUs:
    # all-gather / reduce-scatter, each GPU receives the other group's half of the tokens once:
    # 4096 x 1/2 = 2048 B per step token. Expert parallel over 2 GPUs without DP: a dispatch of
    # each token to its 8 experts' GPUs, half of them remote, a GPU sending its half of the
    # tokens: 8 x 4096 x 1/2 x 1/2 = 8192 B per step token.
    assert moe_exchange_bytes(8, 4096.0, 2, 2) == 2048.0
    assert moe_exchange_bytes(8, 4096.0, 2, 1) == 8192.0
    # DP over 8 GPUs: 7/8 of the tokens come from other groups.
    assert moe_exchange_bytes(8, 4096.0, 8, 8) == pytest.approx(3584.0)


def test_gpu_without_bf16_figure_degrades_not_fails(catalog: Catalog) -> None:
    h100 = catalog.gpu("h100-sxm-80gb")
    only_int8 = h100.model_copy(
        update={"bf16_dense_tflops": None, "fp8_dense_tflops": None, "int8_dense_tops": 1979.0}
    )
    rate, note = compute_tflops(only_int8, "bf16")
    assert rate == 989.5 and note is not None and "INT8" in note
    bare = only_int8.model_copy(update={"int8_dense_tops": None})
    rate, note = compute_tflops(bare, "bf16")
    assert rate is None and note is not None
    # Still sized: memory-bound only, so at least as fast as the same GPU with a compute figure.
    arch = catalog.model("llama-3.1-8b")
    p_bare = predict(arch, bare, "bf16", "bf16", 1, 1000, 200, 64, IDEAL)
    p_full = predict(arch, h100, "bf16", "bf16", 1, 1000, 200, 64, IDEAL)
    assert np.isfinite(p_bare.output_tokens_per_second)
    assert p_bare.output_tokens_per_second >= p_full.output_tokens_per_second


def test_step_overhead_adds_to_every_token(catalog: Catalog) -> None:
    # 2 ms per step plus 10 us x 32 layers = 2.32 ms on top of the 4.500 ms weight read
    # (test_capacity: Llama-3.1-8B bf16 on H100 at batch 1) = 6.820 ms.
    eff = dataclasses.replace(IDEAL, step_overhead_ms=2.0, layer_overhead_us=10.0)
    arch, h100 = catalog.model("llama-3.1-8b"), catalog.gpu("h100-sxm-80gb")
    p = predict(arch, h100, "bf16", "bf16", 1, 1, 1000, 1, eff)
    assert p.tpot_ms == pytest.approx(4.500 + 2.32, rel=0.005)


def test_a_step_reads_the_expected_distinct_experts() -> None:
    # T tokens each pick k of E experts: an expert is missed by all of them with probability
    # (1 - k/E)^T, so E x (1 - (1 - k/E)^T) distinct experts are read. E = 128, k = 8, T = 64:
    # (15/16)^64 = exp(64 x ln 0.9375) = exp(-4.13047) = 0.016076, so 128 x 0.983924 = 125.94
    # experts. At 1 GB per expert over 1 TB/s (nothing else to read or compute) the step takes
    # 125.94 GB / 1e12 B/s = 0.12594 s; one token reads its 8 experts: 8 ms.
    r = toy_replica(
        stage_layers=0.0,
        expert_bytes=128e9,
        pick_share=8 / 128,
        experts=128.0,
        picked=8.0,
    )
    f = toy_factors()
    seconds, _ = stage_seconds(r, f, np.array([64.0, 1.0]), 0.0, 0.0, 0.0)
    assert seconds[0] == pytest.approx(0.12594, rel=1e-4)
    assert seconds[1] == pytest.approx(0.008, rel=1e-9)


def test_moe_tile_padding_wastes_compute_at_few_tokens_per_expert(catalog: Catalog) -> None:
    # Mixtral 8x7B, 64 decode tokens x 2 experts = 128 routed over 8 experts (16 each). With a
    # 64-row tile each expert's 16 tokens pad to 64: the expert FLOPs are 4x the routed ones,
    # so a compute-bound step (at 5% compute efficiency) slows down; with 1-row tiles it does not.
    arch, h200 = catalog.model("mixtral-8x7b"), catalog.gpu("h200-sxm-141gb")
    slow = dataclasses.replace(IDEAL, compute_efficiency=0.05, prefill_compute_efficiency=0.05)
    tiled = dataclasses.replace(slow, moe_block_tokens=64.0)
    base = predict(arch, h200, "bf16", "bf16", 1, 1, 1000, 64, slow)
    padded = predict(arch, h200, "bf16", "bf16", 1, 1, 1000, 64, tiled)
    assert base.bound == "compute"
    # Expert share of active FLOPs: 2 x 5.633B of 12.9B = 87.3%; padded per expert token
    # max(64, 16 + 32) = 64 rows for 16 tokens: 4x. Step FLOPs grow by 0.127 + 0.873 x 4 = 3.62x
    # (attention FLOPs at one context token are negligible).
    assert padded.tpot_ms / base.tpot_ms == pytest.approx(3.62, rel=0.02)


def test_engine_defaults_follow_vllm_rules(catalog: Catalog) -> None:
    # vLLM get_batch_defaults: >= 70 GiB and not an A100 -> 1024 sequences, 16384 / 8192
    # tokens; else 256 and 8192 / 2048.
    assert engine_limits("vllm", catalog.gpu("h100-sxm-80gb"), offline=True) == (1024, 16384)
    assert engine_limits("vllm", catalog.gpu("h100-sxm-80gb"), offline=False) == (1024, 8192)
    assert engine_limits("vllm", catalog.gpu("a100-80gb-sxm"), offline=False) == (256, 2048)
    assert engine_limits("vllm", catalog.gpu("l40s"), offline=True) == (256, 8192)
