"""Memory plans checked against hand-worked arithmetic.

GPU figures are datasheet numbers built in code (the GPU catalog is kept elsewhere):
H100 SXM 80 GB / 3,350 GB/s, A100 80GB SXM 80 GB / 2,039 GB/s, RTX 4000 Ada 20 GB / 360 GB/s.
GB = 1e9 bytes throughout.
"""

from __future__ import annotations

import datetime as dt

import pytest

from llm_tco.catalog.loader import load_catalog
from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.core.memory import (
    BYTES_PER_PARAM,
    RUNTIME_RESERVE_GB_PER_GPU,
    gathered_embedding_bytes,
    kv_bytes_per_sequence,
    kv_bytes_per_token,
    kv_cached_tokens,
    max_concurrent_sequences,
    min_gpus_to_fit,
    moe_layer_count,
    plan_memory,
    routed_expert_params,
    weight_bytes,
)
from llm_tco.errors import ScenarioError

CATALOG = load_catalog()
TODAY = dt.date(2026, 11, 23)


def gpu(gpu_id: str, memory_gb: float, bandwidth_gb_per_s: float) -> GpuSpec:
    return GpuSpec(
        id=gpu_id,
        name=gpu_id,
        vendor="nvidia",
        memory_gb=memory_gb,
        memory_bandwidth_gb_per_s=bandwidth_gb_per_s,
        source="NVIDIA datasheet",
        as_of=TODAY,
    )


H100 = gpu("h100-sxm-80gb", 80, 3350)
A100 = gpu("a100-sxm-80gb", 80, 2039)
RTX4000 = gpu("rtx-4000-ada-20gb", 20, 360)


def model(model_id: str) -> ModelArch:
    return CATALOG.model(model_id)


# --- bytes per parameter -------------------------------------------------------------------
def test_bytes_per_param_table() -> None:
    assert BYTES_PER_PARAM["bf16"] == BYTES_PER_PARAM["fp16"] == 2
    assert BYTES_PER_PARAM["fp8"] == BYTES_PER_PARAM["int8"] == 1
    # int4 group 128: (4 + 20/128) / 8 = 0.51953125 bytes
    assert BYTES_PER_PARAM["int4"] == pytest.approx(0.51953125)
    # MXFP4: 32 x 4-bit + one 8-bit scale = 136 bits per 32 weights = 0.53125 bytes
    assert BYTES_PER_PARAM["mxfp4"] == pytest.approx(0.53125)
    # NVFP4: 16 x 4-bit + one 8-bit E4M3 scale = 72 bits per 16 weights = 0.5625 bytes
    assert BYTES_PER_PARAM["fp4"] == pytest.approx(0.5625)


# --- weights -------------------------------------------------------------------------------
def test_llama_31_70b_bf16_weights() -> None:
    # 70.6e9 parameters x 2 bytes = 141.2 GB
    assert weight_bytes(model("llama-3.1-70b"), "bf16") / 1e9 == pytest.approx(141.2)


def test_llama_4_maverick_keeps_every_expert_resident() -> None:
    # 400e9 x 2 = 800 GB. A seed's ~160 GB FP16 figure counts only 17B active params x 2
    # (plus headroom); serving needs all 128 experts in memory.
    maverick = model("llama-4-maverick")
    assert weight_bytes(maverick, "bf16") / 1e9 == pytest.approx(800.0)
    assert weight_bytes(maverick, "bf16") / 1e9 > 4 * 160


def test_maverick_has_moe_on_every_second_layer() -> None:
    # config.json interleave_moe_layer_step 2: 24 of the 48 layers route to 128 experts of
    # 3 x 5120 x 8192 params each = 24 x 128 x 125.8M = 386.5B of the 400B; Scout (step 1)
    # routes on all 48 layers, DeepSeek-V3 on all but its first 3 dense ones.
    maverick = CATALOG.model("llama-4-maverick")
    assert moe_layer_count(maverick) == 24
    assert routed_expert_params(maverick) == pytest.approx(386.5e9, rel=1e-3)
    assert moe_layer_count(CATALOG.model("llama-4-scout")) == 48
    assert moe_layer_count(CATALOG.model("deepseek-v3")) == 58
    assert moe_layer_count(CATALOG.model("llama-3.1-8b")) == 0


def test_int4_keeps_embeddings_16_bit() -> None:
    # Llama 3.3 70B: embeddings + head 2 x 128,256 x 8,192 = 2.1013e9 params at 2 bytes
    # = 4.2027 GB; the other 68.4987e9 params at 0.51953 bytes = 35.5871 GB; sum 39.79 GB.
    assert weight_bytes(model("llama-3.3-70b"), "int4") / 1e9 == pytest.approx(39.790, abs=0.01)


def test_gpt_oss_mxfp4_quantizes_only_experts() -> None:
    # gpt-oss-120b routed experts: 36 x 128 x 3 x 2880 x 2880 = 114.654e9 params x 0.53125
    # = 60.910 GB; the other 117e9 - 114.654e9 = 2.346e9 params stay bf16 = 4.692 GB;
    # total 65.60 GB, in line with the ~65 GB MXFP4 checkpoint that fits one 80 GB GPU.
    assert weight_bytes(model("gpt-oss-120b"), "mxfp4") / 1e9 == pytest.approx(65.60, abs=0.01)


def test_deepseek_v3_fp8_weights() -> None:
    # 671e9 params; embeddings + head 2 x 129,280 x 7,168 = 1.8533e9 stay bf16:
    # (671e9 - 1.8533e9) x 1 + 1.8533e9 x 2 = 672.85 GB
    assert weight_bytes(model("deepseek-v3"), "fp8") / 1e9 == pytest.approx(672.85, abs=0.01)


def test_unknown_precision_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match="precision"):
        weight_bytes(model("llama-3.1-8b"), "fp3")


# --- KV cache ------------------------------------------------------------------------------
def test_llama_70b_kv_per_token() -> None:
    # 2 (K and V) x 80 layers x 8 KV heads x 128 dims x 2 bytes = 327,680 B = 320 KiB
    assert kv_bytes_per_token(model("llama-3.1-70b"), "bf16") == 327_680
    assert kv_bytes_per_token(model("llama-3.1-70b"), "fp8") == 163_840


def test_deepseek_v3_mla_kv_per_token() -> None:
    # 61 layers x (512 latent + 64 rope) x 2 bytes = 70,272 B, against 2 x 61 x 128 x 128 x 2
    # = 3,997,696 B had it been plain multi-head attention.
    assert kv_bytes_per_token(model("deepseek-v3"), "bf16") == 70_272


def test_sliding_window_layers_cap_their_tokens() -> None:
    # gpt-oss-20b, 8K context: per layer per token 2 x 8 x 64 x 2 = 2,048 B.
    # 12 full layers x 8,192 tokens + 12 window layers x 128 tokens = 99,840 token-layers
    # x 2,048 B = 204,472,320 B.
    oss = model("gpt-oss-20b")
    assert kv_bytes_per_sequence(oss, "bf16", 8192) == 204_472_320
    # Below the window the sequence is simply per-token x tokens.
    assert kv_bytes_per_sequence(oss, "bf16", 100) == kv_bytes_per_token(oss, "bf16") * 100


def test_a_window_without_a_layer_count_covers_every_layer() -> None:
    # Mistral 7B v0.1's config names sliding_window 4096 and no per-layer pattern: all 32 layers
    # keep at most 4096 tokens, so an 8K sequence caches 4096 tokens' worth.
    windowed = model("llama-3.1-8b").model_copy(update={"sliding_window": 4096})
    assert kv_cached_tokens(windowed, 8192) == 4096
    assert kv_bytes_per_sequence(windowed, "bf16", 8192) == 4096 * 131_072
    # gpt-oss-20b, 8K: (12 x 8,192 + 12 x 128) / 24 = 4,160 tokens' worth (see above).
    assert kv_cached_tokens(model("gpt-oss-20b"), 8192) == 4160


def test_gathered_embedding_is_the_untied_input_table() -> None:
    # Llama 3.1 8B: untied, 128,256 x 4,096 x 2 B = 1,050,673,152 B.
    assert gathered_embedding_bytes(model("llama-3.1-8b")) == 1_050_673_152
    tied = model("llama-3.1-8b").model_copy(update={"tie_word_embeddings": True})
    assert gathered_embedding_bytes(tied) == 0


# --- plans -----------------------------------------------------------------------------------
def test_llama_33_70b_int4_does_not_fit_rtx_4000_ada() -> None:
    # Seed 004 says a 20 GB RTX 4000 Ada serves quantized Llama 3.3 70B. 4-bit weights alone
    # are 39.8 GB (35.3 GB even at a bare 0.5 byte/param), twice the card.
    plan = plan_memory(model("llama-3.3-70b"), RTX4000, "int4", "fp8", 1, 4096)
    assert not plan.fits
    assert plan.weights_gb > 2 * RTX4000.memory_gb * 0.9
    assert plan.max_concurrent_sequences == 0


def test_llama_33_70b_fp16_on_two_a100_80gb_at_8k() -> None:
    # By hand: 2 x 80 = 160 GB; vLLM may use 0.9 of it = 144 GB; minus 2 x 2 GiB
    # (4.295 GB) runtime reserve = 139.705 GB; fp16 weights 141.2 GB -> 1.495 GB short before
    # any KV. So at vLLM defaults it does NOT fit (seed 004 says "2x A100 80GB").
    plan = plan_memory(model("llama-3.3-70b"), A100, "fp16", "fp16", 2, 8192)
    assert plan.available_gb == 160
    assert plan.overhead_gb == pytest.approx(16 + 2 * RUNTIME_RESERVE_GB_PER_GPU)
    assert plan.weights_gb == pytest.approx(141.2)
    assert not plan.fits
    assert plan.kv_cache_gb == 0
    # At gpu_memory_utilization 0.95: 152 - 4.295 - 141.2 = 6.505 GB of KV; one 8K sequence
    # is 8,192 x 327,680 B = 2.684 GB, so 2 sequences fit.
    tight = plan_memory(model("llama-3.3-70b"), A100, "fp16", "fp16", 2, 8192, 0.95)
    assert tight.fits
    assert tight.kv_cache_gb == pytest.approx(6.505, abs=0.001)
    assert tight.kv_gb_per_sequence == pytest.approx(2.684, abs=0.001)
    assert tight.max_concurrent_sequences == 2


def test_llama_70b_fp8_on_one_h100() -> None:
    # fp8 weights: (70.6e9 - 2.1013e9) x 1 + 2.1013e9 x 2 = 72.70 GB; budget 72 - 2.147
    # = 69.85 GB. Does not fit one H100 -> two.
    plan = plan_memory(model("llama-3.1-70b"), H100, "fp8", "fp8", 1, 8192)
    assert plan.weights_gb == pytest.approx(72.70, abs=0.01)
    assert not plan.fits
    assert min_gpus_to_fit(model("llama-3.1-70b"), H100, "fp8", "fp8", 8192) == 2


def test_llama_8b_bf16_on_h100_concurrency() -> None:
    # weights 8.03e9 x 2 = 16.06 GB; KV space 72 - 2.147 - 16.06 = 53.79 GB;
    # per token 2 x 32 x 8 x 128 x 2 = 131,072 B, 8K sequence = 1.0737 GB -> 50 sequences.
    plan = plan_memory(model("llama-3.1-8b"), H100, "bf16", "bf16", 1, 8192)
    assert plan.kv_cache_gb == pytest.approx(53.79, abs=0.01)
    assert plan.max_concurrent_sequences == 50
    # A fractional context rounds up to whole tokens: 8191.5 tokens take 8192 tokens' room.
    assert max_concurrent_sequences(model("llama-3.1-8b"), H100, "bf16", "bf16", 1, 8191.5) == 50


def test_tensor_parallel_adds_memory_linearly_for_gqa() -> None:
    # With TP <= kv_heads the KV is split, not copied: more GPUs, more sequences.
    llama = model("llama-3.1-70b")
    four = plan_memory(llama, H100, "bf16", "bf16", 4, 8192)
    eight = plan_memory(llama, H100, "bf16", "bf16", 8, 8192)
    assert four.kv_gb_per_sequence == eight.kv_gb_per_sequence
    assert eight.max_concurrent_sequences > 2 * four.max_concurrent_sequences


def test_mla_latent_is_replicated_on_every_tensor_parallel_rank() -> None:
    # DeepSeek V3 on 8 x H100 (640 GB) cannot even hold the 672.85 GB fp8 weights.
    dsv3 = model("deepseek-v3")
    assert not plan_memory(dsv3, H100, "fp8", "bf16", 8, 8192).fits
    # On 16 GPUs each rank keeps the full latent: 8,192 x 70,272 B x 16 = 9.211 GB per sequence.
    plan = plan_memory(dsv3, H100, "fp8", "bf16", 16, 8192)
    assert plan.kv_gb_per_sequence == pytest.approx(8192 * 70_272 * 16 / 1e9)
    assert plan.fits
    assert min_gpus_to_fit(dsv3, H100, "fp8", "bf16", 8192) == 16


def test_maverick_needs_far_more_than_two_h100() -> None:
    # Seed 003: "2x H100 80GB (FP16)". 800 GB of weights need 16 H100s at bf16.
    maverick = model("llama-4-maverick")
    assert not plan_memory(maverick, H100, "bf16", "bf16", 2, 2048).fits
    assert min_gpus_to_fit(maverick, H100, "bf16", "bf16", 2048) == 16


def test_nothing_fits_returns_none() -> None:
    assert min_gpus_to_fit(model("llama-4-maverick"), RTX4000, "bf16") is None


def test_invalid_inputs_raise_scenario_errors() -> None:
    llama = model("llama-3.1-8b")
    with pytest.raises(ScenarioError, match="kv_precision"):
        kv_bytes_per_token(llama, "int4")
    with pytest.raises(ScenarioError, match="gpus_per_replica"):
        plan_memory(llama, H100, "bf16", "bf16", 0, 1024)
    with pytest.raises(ScenarioError, match="gpu_memory_utilization"):
        plan_memory(llama, H100, "bf16", "bf16", 1, 1024, 1.5)
