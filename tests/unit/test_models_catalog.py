"""Every row of models.yaml, checked against the arithmetic of its own architecture.

Recomputing the parameter count from the config fields catches a mis-copied width, layer
count or expert count: embeddings + layers x (attention + MLP) must land within 3% of the
model card's total.
"""

from __future__ import annotations

import pytest

from llm_tco.catalog.loader import load_catalog
from llm_tco.catalog.schema import ModelArch

MODELS = load_catalog().models
BY_ID = {m.id: m for m in MODELS}


def recomputed_params_b(arch: ModelArch) -> float:
    """Parameter count from the architecture (GQA attention, SwiGLU MLPs, untied head).

    attention = q and o projections (hidden x heads x head_dim each) + k and v projections
    (hidden x kv_heads x head_dim each); a SwiGLU MLP of width I has 3 x hidden x I weights;
    an MoE layer has `experts` routed MLPs plus `shared_experts` shared ones of the expert
    width. Norms, biases and routers are below 0.1% and left out.
    """
    h = arch.hidden_size
    attention = 2 * h * arch.attention_heads * arch.head_dim + 2 * h * arch.kv_heads * arch.head_dim
    dense_layers = arch.first_dense_layers or 0
    if arch.experts is None:
        assert arch.intermediate_size is not None
        mlp_total = arch.layers * 3 * h * arch.intermediate_size
    else:
        expert_width = arch.moe_intermediate_size or arch.intermediate_size
        assert expert_width is not None
        experts = arch.experts + (arch.shared_experts or 0)
        moe_layers = arch.layers - dense_layers
        mlp_total = moe_layers * experts * 3 * h * expert_width
        if dense_layers:
            assert arch.intermediate_size is not None
            mlp_total += dense_layers * 3 * h * arch.intermediate_size
    assert arch.vocab_size is not None
    embeddings = arch.vocab_size * h * (1 if arch.tie_word_embeddings else 2)
    return (arch.layers * attention + mlp_total + embeddings) / 1e9


def test_catalog_has_the_requested_models() -> None:
    wanted = {
        "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "llama-3.3-70b", "llama-4-scout",
        "llama-4-maverick", "mistral-small-3.1-24b", "mixtral-8x7b", "mixtral-8x22b",
        "deepseek-v3", "deepseek-r1", "qwen2.5-7b", "qwen2.5-32b", "qwen2.5-72b", "qwen3-8b",
        "qwen3-32b", "qwen3-30b-a3b", "qwen3-235b-a22b", "glm-4.5", "glm-4.5-air", "glm-4.6",
        "glm-4.7", "phi-4", "gpt-oss-20b", "gpt-oss-120b",
    }  # fmt: skip
    assert wanted <= set(BY_ID)


def test_ids_and_aliases_are_unique() -> None:
    names = [m.id for m in MODELS] + [a for m in MODELS for a in m.aliases]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("arch", MODELS, ids=lambda m: m.id)
def test_row_is_self_consistent(arch: ModelArch) -> None:
    assert arch.attention_heads % arch.kv_heads == 0
    if arch.experts is None:
        assert arch.active_params_b == arch.total_params_b
    else:
        assert arch.experts_per_token is not None
        assert arch.experts_per_token <= arch.experts
        assert arch.active_params_b < arch.total_params_b
    if arch.sliding_window_layers is not None:
        assert arch.sliding_window is not None
        assert arch.sliding_window_layers <= arch.layers
    assert arch.source.startswith("https://huggingface.co/")


# Rows whose total the simple formula above covers (no MLA, no interleaved MoE, no vision tower
# beyond 2% of the total). Each expected value is the model card's figure.
RECOMPUTED = [
    "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "llama-3.3-70b",
    "mistral-small-3.1-24b", "mixtral-8x7b", "mixtral-8x22b", "qwen2.5-7b", "qwen2.5-32b",
    "qwen2.5-72b", "qwen3-8b", "qwen3-32b", "qwen3-30b-a3b", "qwen3-235b-a22b", "glm-4.5",
    "glm-4.5-air", "glm-4.6", "glm-4.7", "phi-4", "gpt-oss-20b", "gpt-oss-120b",
    "mistral-7b-v0.1", "mistral-7b-v0.2", "mistral-7b-v0.3", "llama-2-13b", "qwen2.5-14b",
    "qwq-32b", "deepseek-r1-distill-llama-70b", "deepseek-r1-distill-llama-8b",
    "deepseek-r1-distill-qwen-32b", "deepseek-r1-distill-qwen-14b",
    "deepseek-r1-distill-qwen-7b", "gemma-2-9b", "gemma-2-27b", "qwen3-4b", "qwen3-1.7b",
    "qwen3-0.6b", "phi-3-mini-4k", "phi-3.5-mini", "mistral-nemo-12b", "gemma-3-1b",
    "phi-3-medium-4k", "mistral-small-3-24b", "granite-3.1-8b",
]  # fmt: skip


@pytest.mark.parametrize("model_id", RECOMPUTED)
def test_parameter_count_matches_architecture(model_id: str) -> None:
    arch = BY_ID[model_id]
    assert recomputed_params_b(arch) == pytest.approx(arch.total_params_b, rel=0.03)


def test_recompute_by_hand_llama_70b() -> None:
    # Worked by hand: attention 2*8192*64*128 + 2*8192*8*128 = 150,994,944 per layer;
    # MLP 3*8192*28672 = 704,643,072 per layer; x80 layers = 68,451,041,280;
    # embeddings + head 2*128256*8192 = 2,101,346,304; sum 70,552,387,584. The card's
    # 70,553,706,496 is exactly that plus the RMSNorm weights (80*2*8192 + 8192 = 1,318,912).
    assert recomputed_params_b(BY_ID["llama-3.1-70b"]) == pytest.approx(70.552387584, abs=1e-9)


def test_mixtral_active_params_match_two_of_eight_experts() -> None:
    # Active = attention + 2 experts per layer + embeddings: 32*(41,943,040 + 2*176,160,768)
    # + 262,144,000 = 12.88e9, the 12.9B Mistral publishes.
    arch = BY_ID["mixtral-8x7b"]
    h, width = arch.hidden_size, arch.intermediate_size
    assert width is not None and arch.vocab_size is not None
    attention = 2 * h * 32 * 128 + 2 * h * 8 * 128
    active = arch.layers * (attention + 2 * 3 * h * width) + 2 * arch.vocab_size * h
    assert active / 1e9 == pytest.approx(arch.active_params_b, rel=0.01)


def test_gpt_j_recomputes_with_a_two_matrix_gelu_mlp() -> None:
    # GPT-J's MLP is fc_in + fc_out (GELU), not SwiGLU: per layer 4*4096^2 = 67,108,864
    # attention + 2*4096*16384 = 134,217,728 MLP; x28 = 5,637,144,576; embeddings and untied
    # head 2*50400*4096 = 412,876,800; sum 6,050,021,376, the card's 6,053,381,344 less biases
    # and norms (0.06%).
    arch = BY_ID["gpt-j-6b"]
    h, width = arch.hidden_size, arch.intermediate_size
    assert width is not None and arch.vocab_size is not None
    attention = 4 * h * arch.attention_heads * arch.head_dim
    total = arch.layers * (attention + 2 * h * width) + 2 * arch.vocab_size * h
    assert total == 6_050_021_376
    assert total / 1e9 == pytest.approx(arch.total_params_b, rel=0.003)


def test_deepseek_v2_lite_recomputes_with_mla() -> None:
    # MLA with no query LoRA (DeepSeek-V2-Lite config): q 2048 x 16 x (128 + 64), kv_a 2048 x
    # (512 + 64), kv_b 512 x 16 x (128 + 128), o 16 x 128 x 2048 = 13,762,560 per layer;
    # one dense MLP 3 x 2048 x 10944; 26 MoE layers of 64 routed + 2 shared experts of width
    # 1408; untied embeddings 2 x 102400 x 2048. Total 15.70B, the card's 15.7B ("16B").
    arch = BY_ID["deepseek-v2-lite"]
    assert arch.mla is not None and arch.moe_intermediate_size is not None
    assert arch.intermediate_size is not None and arch.vocab_size is not None
    assert arch.experts is not None and arch.shared_experts is not None
    h, heads, nope, rope = arch.hidden_size, arch.attention_heads, arch.head_dim, 64
    lora = arch.mla.kv_lora_rank
    attention = h * heads * (nope + rope) + h * (lora + rope) + lora * heads * 2 * nope
    attention += heads * nope * h
    assert attention == 13_762_560
    dense = 3 * h * arch.intermediate_size
    experts = arch.experts + arch.shared_experts
    moe = (arch.layers - 1) * experts * 3 * h * arch.moe_intermediate_size
    total = arch.layers * attention + dense + moe + 2 * arch.vocab_size * h
    assert total / 1e9 == pytest.approx(arch.total_params_b, rel=0.003)
