"""Memory arithmetic the capacity model needs: bytes per value, KV cache per token and sequence,
and how many sequences fit beside the weights.

A stand-in for the shared memory plan (``llm_tco.core.memory``): the same formulas, kept here so
the capacity model runs on its own. GB = 1e9 bytes.
"""

from __future__ import annotations

import math

from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.errors import ScenarioError

# Bytes per stored weight / KV element. int4 (AWQ/GPTQ) and fp4 pack two values per byte; their
# group scales add ~3% which the memory plan, not the throughput model, accounts for.
BYTES_PER_VALUE: dict[str, float] = {
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5,
    "fp4": 0.5,
    "mxfp4": 0.5,
}
# Runtime memory outside weights and KV cache (CUDA context, activations, graphs), per GPU.
# Assumption, pending the shared memory plan (llm_tco.core.memory).
RUNTIME_OVERHEAD_GB_PER_GPU = 2.0
DEFAULT_GPU_MEMORY_UTILIZATION = 0.9


def bytes_per_value(precision: str) -> float:
    try:
        return BYTES_PER_VALUE[precision]
    except KeyError:
        known = ", ".join(BYTES_PER_VALUE)
        raise ScenarioError(
            f"unknown precision '{precision}'", hint=f"use one of {known}"
        ) from None


def kv_bytes_per_token(arch: ModelArch, kv_precision: str) -> float:
    """KV-cache bytes one token adds, whole model.

    Standard attention: 2 (K and V) x layers x KV heads x head_dim x bytes.
    MLA (DeepSeek V2/V3): layers x (kv_lora_rank + qk_rope_head_dim) x bytes.
    """
    size = bytes_per_value(kv_precision)
    if arch.mla is not None:
        return arch.layers * (arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim) * size
    return 2 * arch.layers * arch.kv_heads * arch.head_dim * size


def kv_cached_tokens(arch: ModelArch, context_tokens: float) -> float:
    """Tokens' worth of full-model KV cache a sequence of ``context_tokens`` keeps.

    Sliding-window layers keep at most ``sliding_window`` tokens each, so a model whose layers
    mix both holds full_layers x context + window_layers x min(context, window), over layers.
    """
    window, window_layers = arch.sliding_window, arch.sliding_window_layers
    if window is None:
        return context_tokens
    swa_layers = arch.layers if window_layers is None else min(window_layers, arch.layers)
    full = (arch.layers - swa_layers) * context_tokens
    return (full + swa_layers * min(context_tokens, window)) / arch.layers


def max_concurrent_sequences(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str,
    gpus_per_replica: int,
    context_tokens: float,
    gpu_memory_utilization: float = DEFAULT_GPU_MEMORY_UTILIZATION,
) -> int:
    """Sequences of ``context_tokens`` whose KV cache fits beside the weights (all experts)."""
    usable_gb = gpu.memory_gb * gpus_per_replica * gpu_memory_utilization
    weights_gb = arch.total_params_b * bytes_per_value(precision)
    overhead_gb = RUNTIME_OVERHEAD_GB_PER_GPU * gpus_per_replica
    kv_gb = usable_gb - weights_gb - overhead_gb
    # Below one KV head per GPU the heads are replicated, so the cache costs more in total.
    replication = gpus_per_replica / (
        1 if arch.mla is not None else min(gpus_per_replica, arch.kv_heads)
    )
    cached = kv_cached_tokens(arch, context_tokens)
    per_sequence_gb = kv_bytes_per_token(arch, kv_precision) * replication * cached / 1e9
    return max(0, math.floor(kv_gb / per_sequence_gb))
