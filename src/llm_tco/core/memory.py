"""Memory plan: do a model's weights and KV cache fit a tensor-parallel group of GPUs?

The one place the tool sizes weights, the KV cache and the runtime overhead: ``llm-tco fit``,
``llm-tco capacity``, ``llm-tco evaluate`` and the capacity model (``llm_tco.core.capacity``) all
call it, so they agree on whether a model fits and how many sequences it serves at once.

All sizes are decimal: GB = 1e9 bytes, as GPU datasheets state memory. Pure functions only.

The plan follows how vLLM lays out GPU memory (the engine most self-hosted comparisons assume):

* it may use ``gpu_memory_utilization`` (default 0.9) of each GPU's memory; the rest is left
  free for the CUDA context and other processes
  (https://docs.anyscale.com/llm/batch-inference/resource-allocation/gpu-memory:
  "Memory visible to vLLM = Total GPU memory x gpu_memory_utilization", default 0.90);
* inside that budget it loads the weights, profiles activations and captures CUDA graphs, and
  gives whatever is left to the KV cache. vLLM's own start-up log warns "CUDA graphs can take
  additional 1~3 GiB memory per GPU" (model_runner.py, early-2024 releases); we reserve the
  middle of that range, 2 GiB per GPU, for activations + CUDA graphs + runtime buffers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.errors import ScenarioError

BYTES_PER_GB = 1e9
BYTES_PER_GIB = 2**30

# Weight storage per parameter, bytes.
# * bf16/fp16: 2. fp8/int8: 1 (per-channel or 128x128 block scales add < 0.03%, ignored).
# * int4 (AWQ/GPTQ, group size 128 as in e.g. stelterlab/phi-4-AWQ's quantization_config):
#   4 bits per weight plus one fp16 scale and one 4-bit zero point per group of 128 weights
#   = 4 + (16 + 4) / 128 = 4.156 bits = 0.5195 bytes.
# * mxfp4 (OCP Microscaling spec v1.0): blocks of 32 FP4 (E2M1) elements sharing one 8-bit
#   E8M0 scale = 4 + 8 / 32 = 4.25 bits = 0.53125 bytes.
# * fp4 (NVIDIA NVFP4, Blackwell): blocks of 16 E2M1 elements sharing one FP8 E4M3 scale, plus
#   one FP32 scale per tensor (negligible) = 4 + 8 / 16 = 4.5 bits = 0.5625 bytes
#   (https://modal.com/llm-almanac/block-quants).
INT4_GROUP_SIZE = 128
BYTES_PER_PARAM: dict[str, float] = {
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": (4 + (16 + 4) / INT4_GROUP_SIZE) / 8,
    "mxfp4": (4 + 8 / 32) / 8,
    "fp4": (4 + 8 / 16) / 8,
}

# KV-cache element size, bytes.
KV_BYTES_PER_ELEMENT: dict[str, float] = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0}

# Other spellings of the formats above, as engines' flags, model cards and Hugging Face
# quantisation configs write them; read case-insensitively, "_" as "-". Only names of exactly
# one format: W8A8 int8 (SmoothQuant, int8 activations) is not int8 here (weight-only, W8A16),
# so it is not listed.
PRECISION_SPELLINGS: dict[str, str] = {
    "bfloat16": "bf16",
    "float16": "fp16",
    "half": "fp16",
    "float8": "fp8",
    "e4m3": "fp8",
    "fp8-e4m3": "fp8",
    "fp8-e4m3fn": "fp8",
    "fp8-dynamic": "fp8",
    "w8a8-fp8": "fp8",
    "nvfp4": "fp4",
    "w8a16": "int8",
    "w4a16": "int4",
    "awq": "int4",
    "int4-awq": "int4",
    "awq-int4": "int4",
    "gptq": "int4",
    "int4-gptq": "int4",
    "gptq-int4": "int4",
}
# Formats the spelling alone does not pin down, stated where they are read.
PRECISION_READINGS: dict[str, str] = {
    "awq": "4-bit AWQ, group size 128",
    "gptq": "4-bit GPTQ, group size 128; 8-bit GPTQ is int8",
    "nvfp4": "NVIDIA NVFP4: 16-element blocks, FP8 scales",
}


def default_kv_precision(precision: str) -> str:
    """The KV cache's format when none is named: FP8 beside FP8 or NVFP4 weights (the engines'
    FP8 and NVFP4 checkpoints ship an FP8 cache), else 16-bit."""
    return "fp8" if precision in ("fp8", "fp4") else "bf16"


def precision_named_in(name: str) -> str | None:
    """The weight format a checkpoint's name ends with (``nvidia/Llama-3.3-70B-Instruct-FP8``
    -> fp8, ``...-AWQ-INT4`` -> int4, ``nvidia/DeepSeek-R1-FP4`` -> fp4), else None."""
    words = [w for w in re.split(r"[-_/ ]", name.strip().lower()) if w]
    for tail in ("-".join(words[-2:]), words[-1] if words else ""):
        key = PRECISION_SPELLINGS.get(tail, tail)
        if key in BYTES_PER_PARAM:
            return key
    return None


def checkpoint_precision(name: str, arch: ModelArch) -> tuple[str, str | None]:
    """The weight format to size ``arch`` at when none is named: the one the typed checkpoint
    name ends with, else the format the model's published checkpoint ships (``native_precision``:
    FP8 for DeepSeek-V3, MXFP4 for gpt-oss); and what to state where that is not bf16."""
    named = precision_named_in(name)
    if named is not None:
        return named, f"precision {named}, as the checkpoint name '{name}' says"
    native = arch.native_precision
    if native == "bf16":
        return native, None
    return native, f"precision {native}: the format {arch.id}'s published checkpoint ships"


def precision_key(text: str, field: str = "precision") -> tuple[str, str | None]:
    """The format ``text`` names (``BYTES_PER_PARAM`` key, or a KV element for ``kv_precision``)
    and, where the spelling was another name for it, the reading to state; bad input raises
    ScenarioError naming ``field``."""
    table = KV_BYTES_PER_ELEMENT if field == "kv_precision" else BYTES_PER_PARAM
    spelled = text.strip().lower().replace("_", "-")
    key = PRECISION_SPELLINGS.get(spelled, spelled)
    if key not in table:
        hint = f"use one of {', '.join(table)}"
        if spelled in ("w8a8", "w8a8-int8", "int8-w8a8", "smoothquant"):
            hint += "; int8 here is weight-only (W8A16), and W8A8 int8 has no figure of its own"
        raise ScenarioError(f"unknown {field.replace('_', ' ')} '{text}'", field=field, hint=hint)
    if key == spelled:
        return key, None
    parts = spelled.split("-")
    reading = next((r for name, r in PRECISION_READINGS.items() if name in parts), None)
    return key, f"{field.replace('_', ' ')} '{text}' read as {key}" + (
        f" ({reading})" if reading else ""
    )


# Embedding and output-head matrices stay 16-bit in AWQ/GPTQ/FP8/MXFP4 checkpoints (they are
# excluded from quantization, e.g. gpt-oss's modules_to_not_convert lists embed_tokens and
# lm_head; AutoAWQ never quantizes lm_head).
UNQUANTIZED_BYTES_PER_PARAM = 2.0

GPU_MEMORY_UTILIZATION_DEFAULT = 0.9
# TensorRT-LLM sizes its KV cache differently: it loads the weights first and then takes
# KvCacheConfig.free_gpu_memory_fraction (default 0.9) of the memory still free
# (https://nvidia.github.io/TensorRT-LLM/examples/kvcacheconfig.html: "The default for
# free_gpu_memory_fraction is 0.9, which means TensorRT LLM will try to allocate 90% of free
# GPU memory for KV cache"), so a model that fills most of the GPU still gets a cache.
FREE_MEMORY_FRACTION_ENGINES = {"trtllm": 0.9}
RUNTIME_RESERVE_GB_PER_GPU = 2 * BYTES_PER_GIB / BYTES_PER_GB  # 2 GiB = 2.147 GB, see above

# Tensor-parallel sizes tried by min_gpus_to_fit: up to 8 is one node, 16/32 are multi-node.
TP_SIZES = (1, 2, 4, 8, 16, 32)


@dataclass(frozen=True)
class Layout:
    """How a replica's GPUs split the model.

    ``gpus`` GPUs form ``pipeline`` stages of ``gpus / pipeline`` GPUs, each holding its share of
    the layers. Within a stage, attention (and every non-expert weight) runs data parallel over
    ``data`` groups of ``stage / data`` tensor-parallel GPUs, each group holding a whole copy of
    those weights and the KV cache of its own sequences only; routed experts are spread over all
    the stage's GPUs (expert parallel when ``expert > 1``, else tensor-parallel slices).
    vLLM and SGLang lay DeepSeek-style models out this way ("DP attention", "expert parallel":
    https://docs.sglang.io/docs/advanced_features/dp_dpa_smg_guide ; vLLM's data-parallel
    deployment docs, https://docs.vllm.ai/en/latest/serving/data_parallel_deployment.html).
    With ``data == expert == pipeline == 1`` this is plain tensor parallel over ``gpus``.
    """

    gpus: int
    pipeline: int = 1
    expert: int = 1
    data: int = 1

    def __post_init__(self) -> None:
        if self.gpus < 1:
            raise ScenarioError("needs at least one GPU per replica", field="gpus_per_replica")
        for name, size in (
            ("pipeline", self.pipeline),
            ("expert", self.expert),
            ("data", self.data),
        ):
            if size < 1:
                raise ScenarioError(f"{name}-parallel size must be at least 1", field=name)
        if self.gpus % self.pipeline:
            raise ScenarioError(
                f"{self.gpus} GPUs do not split into {self.pipeline} pipeline stages",
                field="pipeline_parallel",
                hint="use a pipeline size that divides the GPU count",
            )
        for name, size in (("data_parallel", self.data), ("expert_parallel", self.expert)):
            if self.stage_gpus % size:
                raise ScenarioError(
                    f"{name} {size} does not divide the {self.stage_gpus} GPUs of a stage",
                    field=name,
                    hint="GPUs per replica = tensor x data parallel x pipeline stages",
                )

    @property
    def stage_gpus(self) -> int:
        return self.gpus // self.pipeline

    @property
    def attention_tp(self) -> int:
        """GPUs that share one copy of the attention weights (tensor parallel within a DP group)."""
        return self.stage_gpus // self.data


def plain_tp(gpus: int) -> Layout:
    return Layout(gpus=gpus)


@dataclass(frozen=True)
class MemoryPlan:
    """How one replica (a tensor-parallel group of ``gpus_per_replica`` GPUs) uses memory.

    ``kv_cache_gb`` is the space left for the KV cache across the whole group; ``fits`` says
    whether weights + overhead + the KV of one sequence of ``context_tokens`` fit.
    """

    model_id: str
    gpu_id: str
    gpus_per_replica: int
    precision: str
    kv_precision: str
    context_tokens: int
    gpu_memory_utilization: float
    available_gb: float
    weights_gb: float
    overhead_gb: float
    kv_cache_gb: float
    kv_bytes_per_token: float
    kv_gb_per_sequence: float
    fits: bool
    max_concurrent_sequences: int


def _lookup(table: dict[str, float], key: str, field: str) -> float:
    try:
        return table[key]
    except KeyError:
        raise ScenarioError(
            f"unknown precision '{key}'", field=field, hint=f"use one of {', '.join(table)}"
        ) from None


def bytes_per_param(precision: str) -> float:
    """Bytes one quantized weight takes at ``precision``, its share of the group scales included."""
    return _lookup(BYTES_PER_PARAM, precision, "precision")


def embedding_params(arch: ModelArch) -> float:
    """Parameters in the input embedding and output head (one matrix when tied)."""
    if arch.vocab_size is None:
        return 0.0
    return float(arch.vocab_size * arch.hidden_size * (1 if arch.tie_word_embeddings else 2))


def gathered_embedding_bytes(arch: ModelArch) -> float:
    """Bytes of an untied input-embedding table (0 when tied to the head or unknown).

    It is resident, but a forward pass only gathers one row per token from it, unlike the output
    head, which every step reads whole. Stored 16-bit at every precision (see above).
    """
    if arch.vocab_size is None or arch.tie_word_embeddings:
        return 0.0
    return arch.vocab_size * arch.hidden_size * UNQUANTIZED_BYTES_PER_PARAM


def moe_layer_count(arch: ModelArch) -> int:
    """Layers with routed experts: ``moe_layers`` where the config interleaves MoE and dense
    MLP layers, else every layer after the leading dense ones; 0 for a dense model."""
    if arch.experts is None:
        return 0
    if arch.moe_layers is not None:
        return arch.moe_layers
    return arch.layers - (arch.first_dense_layers or 0)


def routed_expert_params(arch: ModelArch) -> float:
    """Parameters in routed expert MLPs (SwiGLU: 3 x hidden x expert width per expert)."""
    width = arch.moe_intermediate_size or arch.intermediate_size
    if arch.experts is None or width is None:
        return 0.0
    return float(moe_layer_count(arch) * arch.experts * 3 * arch.hidden_size * width)


def replicated_weight_bytes(arch: ModelArch, precision: str, layout: Layout) -> float:
    """Bytes of weights a replica holds: non-expert weights once per attention-DP group."""
    total = weight_bytes(arch, precision)
    if layout.data == 1:
        return total
    experts = min(routed_expert_params(arch) * bytes_per_param(precision), total)
    return experts + (total - experts) * layout.data


def only_experts_quantised(arch: ModelArch, precision: str) -> bool:
    """Whether ``precision`` quantises only an MoE model's routed experts, the rest staying
    bf16: MXFP4, as in the gpt-oss checkpoints."""
    return precision == "mxfp4" and arch.experts is not None


def weight_bytes(arch: ModelArch, precision: str) -> float:
    """Bytes of weights with every expert resident (MoE models keep all experts in memory).

    At 16 bits this is simply total parameters x 2. Below 16 bits the embedding and head stay
    16-bit; for ``mxfp4`` only the routed experts are 4.25-bit and the rest stays bf16, as in
    the gpt-oss checkpoints.
    """
    per_param = bytes_per_param(precision)
    total = arch.total_params_b * 1e9
    if per_param >= UNQUANTIZED_BYTES_PER_PARAM:
        return total * per_param
    if only_experts_quantised(arch, precision):
        quantized = min(routed_expert_params(arch), total)
    else:
        quantized = max(total - embedding_params(arch), 0.0)
    return quantized * per_param + (total - quantized) * UNQUANTIZED_BYTES_PER_PARAM


def _kv_bytes_per_token_per_layer(arch: ModelArch, kv_precision: str) -> float:
    element = _lookup(KV_BYTES_PER_ELEMENT, kv_precision, "kv_precision")
    if arch.mla is not None:
        # MLA caches one compressed latent plus the shared rope key per token and layer.
        return (arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim) * element
    # GQA: a key and a value vector per KV head.
    return 2 * arch.kv_heads * arch.head_dim * element


def kv_bytes_per_token(arch: ModelArch, kv_precision: str) -> float:
    """KV-cache bytes one token adds across all layers (sliding windows not applied).

    GQA: 2 x layers x kv_heads x head_dim x bytes. MLA: layers x (kv_lora_rank +
    qk_rope_head_dim) x bytes.
    """
    return arch.layers * _kv_bytes_per_token_per_layer(arch, kv_precision)


def _kv_token_layers(arch: ModelArch, context_tokens: float) -> float:
    """Token x layer entries one sequence of ``context_tokens`` keeps in the KV cache.

    Sliding-window layers keep at most ``sliding_window`` tokens each; a model that names a
    window but not how many layers use it (Mistral 7B v0.1's config) windows every layer.
    Linear-attention layers (Qwen3-Next's Gated DeltaNet) keep a fixed-size state instead of a
    growing cache; that state is small beside the cache and is not counted.
    """
    if context_tokens < 0:
        raise ScenarioError("context length cannot be negative", field="context_tokens")
    layers = max(arch.layers - (arch.linear_attention_layers or 0), 0)
    window = arch.sliding_window
    if window is None:
        return layers * context_tokens
    window_layers = layers if arch.sliding_window_layers is None else arch.sliding_window_layers
    window_layers = min(window_layers, layers)
    return (layers - window_layers) * context_tokens + window_layers * min(context_tokens, window)


def kv_cached_tokens(arch: ModelArch, context_tokens: float) -> float:
    """Tokens' worth of whole-model KV cache a sequence of ``context_tokens`` keeps.

    Equal to the context without sliding windows; with them, full_layers x context +
    window_layers x min(context, window), over layers. It is also the mean context a decode
    step's attention reads per layer.
    """
    return _kv_token_layers(arch, context_tokens) / arch.layers


def kv_bytes_per_sequence(arch: ModelArch, kv_precision: str, context_tokens: float) -> float:
    """KV-cache bytes of one sequence of ``context_tokens`` (whole model, one copy);
    sliding-window layers keep at most ``sliding_window`` tokens."""
    per_layer = _kv_bytes_per_token_per_layer(arch, kv_precision)
    return _kv_token_layers(arch, context_tokens) * per_layer


def kv_replication(arch: ModelArch, gpus_per_replica: int) -> float:
    """How many copies of each token's KV a tensor-parallel group of ``gpus_per_replica`` stores.

    Tensor parallelism splits KV heads across GPUs; once there are more GPUs than KV heads,
    heads are replicated (vLLM). An MLA latent is not split by head, so every rank holds the
    whole latent cache (the reason SGLang introduced data-parallel attention for DeepSeek: with
    DP attention each sequence lives in one DP group, so pass that group's size here).
    """
    if arch.mla is not None:
        return float(gpus_per_replica)
    return max(1.0, gpus_per_replica / arch.kv_heads)


def plan_memory(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str,
    gpus_per_replica: int,
    context_tokens: int,
    gpu_memory_utilization: float = GPU_MEMORY_UTILIZATION_DEFAULT,
    layout: Layout | None = None,
    engine: str | None = None,
) -> MemoryPlan:
    """Memory plan of one replica: weights, overhead, KV space and concurrent sequences.

    ``layout`` (default: plain tensor parallel over ``gpus_per_replica``) decides how often the
    non-expert weights and each sequence's KV are stored (see :class:`Layout`).
    """
    if gpus_per_replica < 1:
        raise ScenarioError("needs at least one GPU per replica", field="gpus_per_replica")
    layout = layout or plain_tp(gpus_per_replica)
    if layout.gpus != gpus_per_replica:
        raise ScenarioError("layout GPUs differ from gpus_per_replica", field="gpus_per_replica")
    if not 0 < gpu_memory_utilization <= 1:
        raise ScenarioError(
            "must be in (0, 1]", field="gpu_memory_utilization", hint="vLLM's default is 0.9"
        )
    available_gb = gpu.memory_gb * gpus_per_replica
    weights_gb = replicated_weight_bytes(arch, precision, layout) / BYTES_PER_GB
    reserve_gb = gpus_per_replica * RUNTIME_RESERVE_GB_PER_GPU
    free_fraction = FREE_MEMORY_FRACTION_ENGINES.get(engine or "")
    if free_fraction is not None:
        # A share of what the weights and the runtime reserve leave.
        free_gb = (available_gb - reserve_gb - weights_gb) * free_fraction
    else:
        # Left free by the engine + reserved inside its budget for activations and CUDA graphs.
        free_gb = available_gb * gpu_memory_utilization - reserve_gb - weights_gb
    overhead_gb = available_gb - weights_gb - free_gb
    replication = kv_replication(arch, layout.attention_tp)
    per_token = kv_bytes_per_token(arch, kv_precision)
    per_sequence_gb = (
        kv_bytes_per_sequence(arch, kv_precision, context_tokens) * replication / BYTES_PER_GB
    )
    max_sequences = math.floor(free_gb / per_sequence_gb) if per_sequence_gb > 0 else 0
    return MemoryPlan(
        model_id=arch.id,
        gpu_id=gpu.id,
        gpus_per_replica=gpus_per_replica,
        precision=precision,
        kv_precision=kv_precision,
        context_tokens=context_tokens,
        gpu_memory_utilization=gpu_memory_utilization,
        available_gb=available_gb,
        weights_gb=weights_gb,
        overhead_gb=overhead_gb,
        kv_cache_gb=max(free_gb, 0.0),
        kv_bytes_per_token=per_token,
        kv_gb_per_sequence=per_sequence_gb,
        fits=free_gb >= per_sequence_gb,
        max_concurrent_sequences=max(max_sequences, 0),
    )


def max_concurrent_sequences(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str,
    gpus_per_replica: int,
    context_tokens: float,
    gpu_memory_utilization: float = GPU_MEMORY_UTILIZATION_DEFAULT,
    layout: Layout | None = None,
    engine: str | None = None,
) -> int:
    """Sequences of ``context_tokens`` (rounded up to whole tokens) whose KV cache fits in one
    replica beside the weights and the runtime overhead, as :func:`plan_memory` lays it out."""
    plan = plan_memory(
        arch,
        gpu,
        precision,
        kv_precision,
        gpus_per_replica,
        math.ceil(context_tokens),
        gpu_memory_utilization,
        layout,
        engine,
    )
    return plan.max_concurrent_sequences


def min_gpus_to_fit(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str = "bf16",
    context_tokens: int = 8192,
    gpu_memory_utilization: float = GPU_MEMORY_UTILIZATION_DEFAULT,
) -> int | None:
    """Smallest power-of-two tensor-parallel size (1..32; above 8 means multi-node) whose
    replica holds the weights, the overhead and one sequence of ``context_tokens``."""
    for size in TP_SIZES:
        plan = plan_memory(
            arch, gpu, precision, kv_precision, size, context_tokens, gpu_memory_utilization
        )
        if plan.fits:
            return size
    return None
