"""Capacity model: tokens/s and latency of one replica (a model on ``gpus_per_replica`` GPUs).

A serving step (one forward pass of a continuous batch, per pipeline stage) takes

- the weight matmuls: the longer of reading the weights (for MoE only the experts the batch
  touches; of the input embedding only the batch's rows) over ``bandwidth_efficiency`` x peak HBM
  bandwidth, and 2 x active parameters FLOPs per token over ``compute_efficiency`` (decode) or
  ``prefill_compute_efficiency`` (prompt tokens) x peak dense FLOP/s at the precision. Routed
  experts run as a grouped GEMM whose per-expert token count is padded to the kernel's tile
  (``moe_block_tokens``): vLLM's and SGLang's fused MoE kernels first call
  ``moe_align_block_size``, which pads each expert's tokens to a multiple of BLOCK_SIZE_M
  (https://github.com/vllm-project/vllm/blob/main/vllm/model_executor/layers/fused_moe/moe_align_block_size.py),
  so with few tokens per expert most of the tile's FLOPs are wasted;
- attention: the longer of reading every decoding sequence's KV cache and its FLOPs at the peak
  of the KV cache's precision (MLA decode attends in the compressed latent, ``kv_lora_rank``
  wide per head);
- communication: tensor-parallel all-reduces (2 per layer in an attention group, ring traffic
  plus a fixed latency each); with expert parallel or DP attention, two exchanges per MoE layer
  (an all-gather and a reduce-scatter of the DP groups' tokens, else a top-k dispatch and
  combine, ``moe_exchange_bytes``); between pipeline stages, one activation send;
- a fixed per-step cost of the engine (scheduling, input preparation, sampling, detokenisation),
  a CPU cost per running sequence per step (its share of that work: vLLM's profile of v0.5.3
  serving Llama 3 8B on one H100 put the HTTP API server at 33% and scheduling at 29% of the
  time, https://blog.vllm.ai/2024/09/05/perf-update.html), plus one per layer (kernel launches)
  and one more per MoE layer (top-k routing, the token sort / block alignment and the combine,
  each its own kernel). vLLM's V1 notes name this
  CPU overhead as the limit once "execution time on the GPU is as low as ~5ms"
  (https://blog.vllm.ai/2025/01/27/v1-alpha-release.html);
  SGLang's overlap scheduler exists to hide it (https://lmsys.org/blog/2024-12-04-sglang-v0-4/).

At concurrency C with prompts of I and outputs of O tokens and a full queue (offline), each step
serves C decodes and, amortised, C x I / O prompt tokens (chunked prefill), so TPOT = step time,
output tokens/s = C / TPOT, TTFT = the steps that carry a whole prompt. At a fixed concurrency
(a closed loop of C clients, ``closed_loop_state``) prompts arrive one at a time: a share of the
steps carries a whole prompt chunk, the rest only decode, and output tokens/s =
C x O / (TTFT + (O - 1) x TPOT) (Little's law). With P pipeline stages the batch runs as P
micro-batches of C / P, one per stage, so a token takes P stage steps of C / P.

Concurrency is capped by the KV cache left after the weights (the memory plan,
``llm_tco.core.memory``), the engine's batch limit and its per-step token budget
(``engine_limits``). The efficiency factors are fitted on published measurements
(``llm_tco.core.calibration``). Units: GB = 1e9 bytes, TFLOP/s = 1e12 FLOP/s, params in billions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.core.memory import (
    BYTES_PER_GIB,
    Layout,
    bytes_per_param,
    gathered_embedding_bytes,
    kv_bytes_per_token,
    kv_cached_tokens,
    max_concurrent_sequences,
    moe_layer_count,
    only_experts_quantised,
    plain_tp,
    weight_bytes,
)
from llm_tco.errors import ScenarioError

if TYPE_CHECKING:
    from llm_tco.core.engine_versions import EngineSchedule

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Mode = Literal["concurrency", "offline-max", "static-batch", "request-rate"]

# Activations exchanged by all-reduce, all-to-all and pipeline sends are bf16.
ACTIVATION_BYTES = 2.0


@dataclass(frozen=True)
class Efficiency:
    """Achieved fractions of peak and fixed costs for one serving engine (``efficiency.yaml``)."""

    engine: str
    bandwidth_efficiency: float  # share of peak HBM bandwidth a decode step achieves
    compute_efficiency: float  # share of dense peak FLOP/s in decode steps (small GEMMs)
    prefill_compute_efficiency: float  # share of dense peak FLOP/s on prompt tokens
    link_efficiency: float  # share of one-direction link bandwidth a collective achieves
    max_batch_size: int | None = None  # None: the engine's default for the GPU (engine_limits)
    allreduce_latency_us: float = 0.0  # fixed cost of one collective
    source: str = "capacity model"
    step_overhead_ms: float = 0.0  # fixed cost of one engine step (scheduler, sampling)
    layer_overhead_us: float = 0.0  # fixed cost per layer per step (kernel launches)
    moe_layer_overhead_us: float = 0.0  # extra per MoE layer: routing, sort/align, combine
    moe_block_tokens: float = 0.0  # grouped-GEMM tile rows each expert's tokens pad to; 0: none
    max_batched_tokens: int | None = None  # None: the engine's default per-step token budget
    sequence_overhead_us: float = 0.0  # CPU cost per running sequence per step (output etc.)
    # share of the 16-bit rate a GEMM reaches whose weights it converts to 16 bits on the fly
    # (weight-only formats, ``dequantised``); 1: no cost beyond the 16-bit MMA
    dequant_compute_efficiency: float = 1.0


def efficiency_key(engine: str, vendor: str | None = None) -> str:
    return engine if vendor is None else f"{engine}/{vendor}"


# Other names of the engines the factors are fitted for (project and package names), read
# case-insensitively with "_", "." and " " as "-". NVIDIA NIM is not one: a NIM runs
# TensorRT-LLM or vLLM inside, by its profile.
ENGINE_SPELLINGS: dict[str, str] = {
    "tensorrt-llm": "trtllm",
    "trt-llm": "trtllm",
    "tensorrtllm": "trtllm",
    "tensorrt": "trtllm",
    "llama-cpp": "llamacpp",
    "llama-cpp-python": "llamacpp",
    "llama-server": "llamacpp",
}


def engine_key(text: str) -> str:
    """The engine ``text`` names: ``vLLM`` -> vllm, ``TensorRT-LLM`` -> trtllm, ``llama.cpp`` ->
    llamacpp; anything else lowercased as given (the caller says if no factors know it)."""
    spelled = re.sub(r"[_. ]", "-", text.strip().lower())
    return ENGINE_SPELLINGS.get(spelled, spelled)


def unknown_engine_hint(engine: str, efficiencies: dict[str, Efficiency]) -> str:
    """What to name instead of an engine no factors were fitted for."""
    known = sorted({key.split("/")[0] for key in efficiencies})
    hint = f"use one of {', '.join(known) or 'none (efficiency.yaml missing)'}"
    if engine == "nim":
        hint += "; an NVIDIA NIM runs TensorRT-LLM or vLLM inside, so name the one its profile uses"
    return hint


def select_efficiency(
    efficiencies: dict[str, Efficiency], engine: str, vendor: str
) -> Efficiency | None:
    """Factors for an engine on a GPU vendor: the vendor-specific fit, else the engine's."""
    return efficiencies.get(efficiency_key(engine, vendor), efficiencies.get(engine))


# Engine defaults for the most sequences batched and the prompt tokens one step may carry.
# vLLM (vllm/engine/arg_utils.py, get_batch_defaults): GPUs with >= 70 GiB that are not A100s
# get max_num_seqs 1024 and max_num_batched_tokens 16384 offline (LLM class) / 8192 served;
# other GPUs 256 and 8192 / 2048. SGLang: chunked_prefill_size 8192 (2048 below 25 GB of
# memory) and max_running_requests bounded by its request pool (at most 4096) and the KV cache
# (sglang/srt/server_args.py, model_runner.py). TensorRT-LLM: max_batch_size 2048 and
# max_num_tokens 8192 (tensorrt_llm/llmapi/llm_args.py BuildConfig defaults).
LARGE_GPU_BYTES = 70 * BYTES_PER_GIB


def engine_limits(engine: str, gpu: GpuSpec, offline: bool) -> tuple[int, int]:
    """(most sequences batched, prompt+decode tokens per step) of ``engine`` by default."""
    large = gpu.memory_gb * 1e9 >= LARGE_GPU_BYTES and not gpu.id.startswith("a100")
    if engine == "sglang":
        return 4096, 8192 if gpu.memory_gb >= 25 else 2048
    if engine == "trtllm":
        return 2048, 8192
    if large:
        return 1024, 16384 if offline else 8192
    return 256, 8192 if offline else 2048


# Engine generations whose per-step costs differ from the current builds the factors describe;
# a row that names its engine version gets its generation's fitted offset (``calibration``).
# vLLM V0 (before 0.8.0): one process schedules, prepares inputs and samples between GPU steps;
# V1, the default from 0.8.0, overlaps them (https://blog.vllm.ai/2025/01/27/v1-alpha-release.html,
# https://github.com/vllm-project/vllm/releases/tag/v0.8.0). SGLang before 0.4 had no overlap
# scheduler (https://lmsys.org/blog/2024-12-04-sglang-v0-4/).
GENERATIONS: dict[str, tuple[tuple[int, int], str]] = {
    "vllm": ((0, 8), "vllm-v0"),
    "sglang": ((0, 4), "sglang-pre-overlap"),
}
# Older generations of one engine's back-end for one vendor, before those above: vLLM's ROCm
# builds before 0.7 predate the kernels AMD's validated vLLM images added from February 2025
# ("AITER support", "Performance improvement for custom paged attention", then "Support for FP8
# skinny GEMM": the changelog of https://github.com/ROCm/vllm/blob/main/docs/dev-docker/README.md;
# the image moved from vLLM 0.6.6 to 0.7.3 in https://github.com/ROCm/MAD/pull/26).
PLATFORM_GENERATIONS: dict[tuple[str, str], tuple[tuple[int, int], str]] = {
    ("vllm", "amd"): ((0, 7), "vllm-0.6/amd"),
}
_VERSION = re.compile(r"^v?(\d+)\.(\d+)")


# Without CUDA graphs (vLLM --enforce-eager, SGLang --disable-cuda-graph) every kernel of a
# step is launched from the CPU: the fixed cost per step that graphs replay away
# (https://docs.vllm.ai/en/latest/design/cuda_graphs.html). One fitted offset for any engine.
EAGER = "eager"


def engine_generation(
    engine: str, version: str | None, vendor: str = "nvidia", cuda_graphs: bool | None = None
) -> str | None:
    """The older generation ``version`` of ``engine`` on ``vendor``'s GPUs belongs to (or
    ``EAGER`` when run without CUDA graphs), else None: a current build or an unknown one.

    An old build's kernels differ by platform (the ROCm and CUDA back-ends of vLLM 0.6 share
    the scheduler, not the attention and GEMM kernels), so its lag on a non-NVIDIA vendor is
    fitted on its own: label ``vllm-v0/amd``; a back-end's own older kernels (vLLM's ROCm builds
    before 0.7, ``PLATFORM_GENERATIONS``) get a label of their own."""
    if cuda_graphs is False:
        return EAGER
    rule = GENERATIONS.get(engine)
    match = _VERSION.match(version or "")
    if rule is None or match is None:
        return None
    before, name = rule
    version_key = (int(match[1]), int(match[2]))
    platform = PLATFORM_GENERATIONS.get((engine, vendor))
    if platform is not None and version_key < platform[0]:
        return platform[1]
    if version_key >= before:
        return None
    return name if vendor == "nvidia" else f"{name}/{vendor}"


@dataclass(frozen=True)
class Slo:
    """Latency targets; ``None`` means no target."""

    tpot_ms: float | None = 50.0
    ttft_ms: float | None = 2000.0


@dataclass(frozen=True)
class Prediction:
    """Steady state of one replica at one concurrency."""

    concurrency: int  # requests in flight that the engine actually runs
    requested_concurrency: int
    output_tokens_per_second: float
    input_tokens_per_second: float
    requests_per_second: float
    ttft_ms: float
    tpot_ms: float
    max_concurrency: int  # limit from the KV cache and the engine's batch size and token budget
    kv_limited: bool  # True when the KV cache, not the engine, sets max_concurrency
    bound: str  # "memory" or "compute": what limits a decode step


@dataclass(frozen=True)
class ReplicaCapacity:
    """One replica at the highest load that meets the SLO."""

    output_tokens_per_second: float
    input_tokens_per_second: float
    requests_per_second: float
    concurrency: int
    ttft_ms: float
    tpot_ms: float
    source: str
    meets_slo: bool = True  # False: even one request at a time misses the SLO (figures at C=1)


@dataclass(frozen=True)
class Replica:
    """Per-step cost coefficients of one deployment (arch x GPU x precision x layout).

    Every field may be a float or an array (one entry per deployment): the calibration evaluates
    hundreds of deployments at once with the same code. Byte and FLOP figures are per GPU and
    per pipeline stage.
    """

    stage_gpus: FloatArray | float
    data_parallel: FloatArray | float
    pipeline: FloatArray | float
    stage_layers: FloatArray | float
    stage_moe_layers: FloatArray | float
    dense_bytes: FloatArray | float  # read whole every step
    expert_bytes: FloatArray | float  # this GPU's routed experts; a step reads the touched share
    pick_share: FloatArray | float  # k / E per token; 0 for dense models
    experts: FloatArray | float  # E (1 for dense models)
    picked: FloatArray | float  # k (0 for dense models)
    dense_flops_per_token: FloatArray | float  # 2 x non-expert active params, per GPU
    expert_flops_per_routed_token: FloatArray | float  # 2 x one expert's params, per GPU
    kv_bytes_per_token_context: FloatArray | float  # KV read per decode token per context token
    attention_decode_flops: FloatArray | float  # per token per context token, per GPU
    attention_prefill_flops: FloatArray | float
    bandwidth_bytes_per_s: FloatArray | float
    compute_flops_per_s: FloatArray | float
    attention_flops_per_s: FloatArray | float  # peak at the KV cache's precision
    allreduces_per_step: FloatArray | float
    allreduce_bytes_per_token: FloatArray | float  # ring traffic per token per all-reduce
    all_to_alls_per_step: FloatArray | float
    all_to_all_bytes_per_token: FloatArray | float
    pipeline_sends: FloatArray | float  # 1 with pipeline stages: one activation send per step
    pipeline_bytes_per_token: FloatArray | float
    link_bytes_per_s: FloatArray | float
    # 1 where the non-expert / routed-expert weights are converted to 16 bits inside the GEMM
    # (``dequantised``), else 0
    dense_dequantised: FloatArray | float = 0.0
    expert_dequantised: FloatArray | float = 0.0


def routed_experts_b(arch: ModelArch) -> tuple[float, float]:
    """(all routed-expert params in billions, k/E); (0, 0) for a dense model.

    With S dense params, E experts of P each and k picked per token:
    total = S + E*P and active = S + k*P, so P = (total - active) / (E - k).
    """
    experts, picked = arch.experts, arch.experts_per_token
    if experts is None or picked is None or experts <= picked:
        return 0.0, 0.0
    per_expert = (arch.total_params_b - arch.active_params_b) / (experts - picked)
    return experts * per_expert, picked / experts


def dequantised(gpu: GpuSpec, precision: str) -> bool:
    """Whether ``precision``'s weights reach ``gpu``'s tensor cores only after the GEMM kernel
    converts them to 16 bits (a weight-only kernel), as ``compute_tflops`` costs them at the
    16-bit rate: int8 / int4 weight-only formats everywhere, FP8 without FP8 tensor cores
    (vLLM's FP8 Marlin on Ampere), NVFP4 and MXFP4 without FP4 ones (Marlin / Triton W4A16 on
    Hopper and older). The conversion is ALU and shared-memory work beside the MMA: a 4-bit
    kernel's gain over FP16 is near its ideal 4x at small batches, where the step reads weights,
    and shrinks as the batch grows and the GEMM computes (Frantar et al., "MARLIN:
    Mixed-Precision Auto-Regressive Parallel Inference on Large Language Models",
    https://arxiv.org/abs/2408.11743). The share of the 16-bit rate such a GEMM reaches when it
    computes is fitted (``Efficiency.dequant_compute_efficiency``)."""
    return precision not in ("bf16", "fp16") and _native_tflops(gpu, precision) is None


def _native_tflops(gpu: GpuSpec, precision: str) -> float | None:
    """The tensor-core rate ``precision``'s weights run at without conversion to 16 bits, or
    None where the GPU has no such tensor cores (or the format has none): NVFP4 at the FP4
    rate, MXFP4 at the FP8 rate of its MXFP8 activations where FP4 tensor cores exist, FP8 at
    the FP8 rate (see ``compute_tflops``)."""
    if precision == "fp4":
        return gpu.fp4_dense_tflops
    if precision == "mxfp4":
        return gpu.fp8_dense_tflops if gpu.fp4_dense_tflops is not None else None
    if precision == "fp8":
        return gpu.fp8_dense_tflops
    return None


def compute_tflops(gpu: GpuSpec, precision: str) -> tuple[float | None, str | None]:
    """Dense peak at the precision the matmuls run in, and the assumption made to get it.

    FP8 weights run FP8 tensor cores where the GPU has them; NVFP4 (``fp4``) weights and
    activations run FP4 tensor cores where the GPU has them (Blackwell), else they dequantise to
    bf16 (the weight-only Marlin / Triton kernels vLLM uses on Hopper and older). MXFP4 weights
    (gpt-oss's checkpoints) meet 8-bit MXFP8 activations on GPUs with FP4 tensor cores and bf16
    ones elsewhere ("The activation can be in either bf16 (Hopper) or mxfp8 (Blackwell)": the MoE
    support matrix of TensorRT-LLM's examples/models/core/gpt_oss/README.md,
    https://github.com/NVIDIA/TensorRT-LLM/blob/0ee4114cc7fee566785802d5a2ef1061a6f83239/examples/models/core/gpt_oss/README.md),
    so they run at the FP8 rate there and the bf16 rate elsewhere. int8/int4 weight-only
    formats dequantise to bf16. Without a bf16 figure the 16-bit rate is the FP16 tensor rate
    (V100, T4: no BF16), else half the FP8 or INT8 rate (tensor cores double their rate per
    halving of the operand width). Without any figure there is no compute limit to model:
    (None, why).
    """
    native = _native_tflops(gpu, precision)
    if native is not None:
        return native, None
    if gpu.bf16_dense_tflops is not None:
        if precision == "fp8":
            return gpu.bf16_dense_tflops, (
                f"{gpu.id} has no FP8 tensor figure: FP8 weights are costed at its bf16 rate "
                "(dequantised, as on GPUs without FP8 tensor cores)"
            )
        return gpu.bf16_dense_tflops, None
    if gpu.fp16_dense_tflops is not None:
        return gpu.fp16_dense_tflops, f"{gpu.id} has no BF16 figure: its FP16 tensor rate"
    for label, figure in (("FP8", gpu.fp8_dense_tflops), ("INT8", gpu.int8_dense_tops)):
        if figure is not None:
            return figure / 2, f"{gpu.id} has no bf16 TFLOP/s figure: half its {label} rate"
    return None, (
        f"{gpu.id} has no TFLOP/s figure: only memory bandwidth limits are modelled, so "
        "compute-bound loads (large batches, long prompts) are over-estimated"
    )


def link_gb_per_s(gpu: GpuSpec) -> float:
    """One-direction GPU-to-GPU bandwidth: half the bidirectional NVLink/IF figure, else PCIe."""
    if gpu.interconnect_gb_per_s is not None:
        return gpu.interconnect_gb_per_s / 2
    if gpu.pcie_gb_per_s is not None:
        return gpu.pcie_gb_per_s / 2
    return 32.0  # PCIe 4.0 x16 one direction, when the catalog has no figure


def network_slowdowns(
    gpu: GpuSpec, layout: Layout, expert_comm: bool
) -> tuple[float, float, float]:
    """How many times slower than the NVLink / fabric link the replica's all-reduces, all-to-alls
    and pipeline sends run where they leave one NVLink domain (1.0 inside one, or where the
    catalog has no domain or network figure for the GPU).

    - A tensor-parallel group wider than the domain all-reduces across nodes: NCCL's rings leave
      each node through its GPUs' NICs, one ring channel per NIC, so the per-GPU ring traffic
      moves at min(link, domain x NIC): 8 x 400 Gb/s = 400 GB/s against H100 NVLink's 450.
    - Expert parallel wider than the domain: of each GPU's all-to-all traffic to its n - 1 peers,
      the share (n - d) / (n - 1) to other nodes goes through its own NIC.
    - Pipeline stages on more GPUs than one domain: a stage hands its activations to the next
      over the network (one stage per node); each GPU sends its slice through its own NIC.
    """
    domain, network = gpu.nvlink_domain_gpus, gpu.scale_out_gb_per_s
    if domain is None or network is None:
        return 1.0, 1.0, 1.0
    link = link_gb_per_s(gpu)
    group, stage = layout.attention_tp, layout.stage_gpus
    allreduce = link / min(link, domain * network) if group > domain else 1.0
    all_to_all = 1.0
    if expert_comm and stage > domain:
        remote = (stage - domain) / (stage - 1)
        all_to_all = (1.0 - remote) + remote * link / network
    send = link / network if layout.pipeline > 1 and layout.gpus > domain else 1.0
    return allreduce, all_to_all, send


def moe_exchange_bytes(picked: float, token_bytes: float, stage: int, data: int) -> float:
    """Bytes one GPU's link carries per step token in each of an MoE layer's two exchanges.

    With DP attention (``data`` groups) the engines' default exchange is an all-gather of every
    group's hidden states before the experts and a reduce-scatter after: each GPU receives the
    (data - 1) / data of the step's tokens it does not hold, once each, whatever the top-k
    (vLLM's default ``all2all_backend = "allgather_reducescatter"``,
    https://github.com/vllm-project/vllm/blob/main/vllm/config/parallel.py; TensorRT-LLM's
    fused MoE all-gathers and reduce-scatters unless an MNNVL or DeepEP all-to-all is enabled,
    tensorrt_llm/_torch/modules/fused_moe/fused_moe_wide_ep.py; SGLang's dp_gather / dp_scatter
    around the MoE, python/sglang/srt/layers/dp_attention.py). Expert parallel without DP
    attention is costed as a dispatch / combine: each token's hidden state goes to its k
    experts' GPUs, of which (n - 1) / n are remote, and a GPU sends its 1/n share of the tokens.
    """
    if data > 1:
        return token_bytes * (data - 1) / data
    return picked * token_bytes * (stage - 1) / stage / stage


def _attention_flops(arch: ModelArch) -> tuple[float, float]:
    """(decode, prefill) attention FLOPs per token per context token, whole model.

    Scores and values: 2 x 2 FLOPs per head dimension. MLA decodes in the absorbed form, where
    each head attends over the kv_lora_rank latent plus the rope key and reads back the latent.
    """
    standard = 4.0 * arch.layers * arch.attention_heads * arch.head_dim
    if arch.mla is None:
        return standard, standard
    latent = (
        2.0
        * arch.layers
        * arch.attention_heads
        * (2 * arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim)
    )
    return latent, standard


def replica(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str,
    layout: Layout,
) -> Replica:
    """Per-step cost coefficients of ``arch`` on ``layout.gpus`` x ``gpu``."""
    experts_b, pick_share = routed_experts_b(arch)
    moe = pick_share > 0
    experts = float(arch.experts or 1) if moe else 1.0
    picked = float(arch.experts_per_token or 0) if moe else 0.0
    stage, pp = layout.stage_gpus, layout.pipeline
    group = layout.attention_tp
    # Resident weights as the memory plan counts them (16-bit embeddings, quantisation scales).
    # Routed experts are stored at the named precision; a step reads the rest whole, except the
    # input embedding, of which it gathers only its tokens' rows.
    expert_bytes = experts_b * 1e9 * bytes_per_param(precision)
    resident = weight_bytes(arch, precision) - gathered_embedding_bytes(arch)
    dense_bytes = max(resident - expert_bytes, 0.0)
    per_expert_params = experts_b * 1e9 / experts if moe else 0.0
    dense_active = arch.active_params_b * 1e9 - picked * per_expert_params
    kv_split = 1.0 if arch.mla is not None else min(group, arch.kv_heads)
    decode_flops, prefill_flops = _attention_flops(arch)
    token_bytes = arch.hidden_size * ACTIVATION_BYTES
    expert_comm = moe and (layout.expert > 1 or layout.data > 1)
    moe_layers = moe_layer_count(arch) if moe else 0
    # Collective bytes are costed at the NVLink rate; those that cross the network count as
    # many times more as the network is slower (network_slowdowns).
    over_allreduce, over_all_to_all, over_send = network_slowdowns(gpu, layout, expert_comm)
    converted = dequantised(gpu, precision)
    return Replica(
        stage_gpus=float(stage),
        data_parallel=float(layout.data),
        pipeline=float(pp),
        stage_layers=arch.layers / pp,
        stage_moe_layers=moe_layers / pp,
        dense_bytes=dense_bytes / pp / group,
        expert_bytes=expert_bytes / pp / stage,
        pick_share=pick_share,
        experts=experts,
        picked=picked,
        dense_flops_per_token=2 * dense_active / pp / stage,
        expert_flops_per_routed_token=2 * per_expert_params / pp / stage,
        kv_bytes_per_token_context=kv_bytes_per_token(arch, kv_precision)
        / pp
        / (layout.data * kv_split),
        attention_decode_flops=decode_flops / pp / stage,
        attention_prefill_flops=prefill_flops / pp / stage,
        bandwidth_bytes_per_s=gpu.memory_bandwidth_gb_per_s * 1e9,
        compute_flops_per_s=(compute_tflops(gpu, precision)[0] or math.inf) * 1e12,
        # Attention's matmuls (QK^T, PV) are not the weights' GEMMs: they run at the KV cache's
        # precision, never at FP4 or at FP8 over a 16-bit cache. FP8 attention needs an FP8
        # cache ("with FP8 KV cache, attention operations are also performed in the quantized
        # (FP8) domain", https://docs.vllm.ai/en/latest/features/quantization/quantized_kvcache/);
        # NVFP4 / MXFP4 quantise the linear layers only.
        attention_flops_per_s=(compute_tflops(gpu, kv_precision)[0] or math.inf) * 1e12,
        allreduces_per_step=2.0 * arch.layers / pp if group > 1 else 0.0,
        # Ring all-reduce moves 2 (n-1)/n of the message through each GPU's link; a DP group
        # all-reduces only its own tokens.
        allreduce_bytes_per_token=2.0
        * (group - 1)
        / group
        * token_bytes
        / layout.data
        * over_allreduce,
        all_to_alls_per_step=2.0 * moe_layers / pp if expert_comm else 0.0,
        all_to_all_bytes_per_token=moe_exchange_bytes(picked, token_bytes, stage, layout.data)
        * over_all_to_all
        if expert_comm
        else 0.0,
        pipeline_sends=1.0 if pp > 1 else 0.0,
        pipeline_bytes_per_token=token_bytes / stage * over_send,
        link_bytes_per_s=link_gb_per_s(gpu) * 1e9,
        dense_dequantised=float(converted and not only_experts_quantised(arch, precision)),
        expert_dequantised=float(converted and moe),
    )


@dataclass(frozen=True)
class Factors:
    """The fitted factors as floats or per-deployment arrays (see :class:`Efficiency`)."""

    bandwidth: FloatArray | float
    compute: FloatArray | float
    prefill: FloatArray | float
    link: FloatArray | float
    collective_latency_s: FloatArray | float
    step_overhead_s: FloatArray | float
    layer_overhead_s: FloatArray | float
    moe_block_tokens: FloatArray | float
    moe_layer_overhead_s: FloatArray | float = 0.0
    sequence_overhead_s: FloatArray | float = 0.0
    dequant_compute: FloatArray | float = 1.0

    @classmethod
    def of(cls, eff: Efficiency) -> Factors:
        return cls(
            bandwidth=eff.bandwidth_efficiency,
            compute=eff.compute_efficiency,
            prefill=eff.prefill_compute_efficiency,
            link=eff.link_efficiency,
            collective_latency_s=eff.allreduce_latency_us * 1e-6,
            step_overhead_s=eff.step_overhead_ms * 1e-3,
            layer_overhead_s=eff.layer_overhead_us * 1e-6,
            moe_block_tokens=eff.moe_block_tokens,
            moe_layer_overhead_s=eff.moe_layer_overhead_us * 1e-6,
            sequence_overhead_s=eff.sequence_overhead_us * 1e-6,
            dequant_compute=eff.dequant_compute_efficiency,
        )


def stage_seconds(
    r: Replica,
    f: Factors,
    decode_seqs: FloatArray,
    prefill_tokens: FloatArray | float,
    decode_context: FloatArray | float,
    prefill_context: FloatArray | float,
) -> tuple[FloatArray, BoolArray]:
    """Time of one stage step serving ``decode_seqs`` decodes and ``prefill_tokens`` prompt
    tokens (all DP groups together), and whether its compute outweighs its memory traffic.

    ``prefill_context`` is the mean context a prompt token attends to (half the prompt, causal).
    """
    decode_seqs = np.asarray(decode_seqs, dtype=np.float64)
    tokens = decode_seqs + prefill_tokens
    safe_tokens = np.maximum(tokens, 1e-9)
    decode_share = decode_seqs / safe_tokens
    # Per-token cost of a FLOP, blended between decode and prefill efficiency.
    flop_s = (decode_share / f.compute + (1 - decode_share) / f.prefill) / r.compute_flops_per_s
    bandwidth = r.bandwidth_bytes_per_s * f.bandwidth
    # Routed experts: expected share touched, 1 - (1 - k/E)^tokens; their routed tokens padded
    # to the grouped GEMM's tile per touched expert.
    touched = 1.0 - np.power(1.0 - r.pick_share, tokens)
    routed = tokens * r.picked
    touched_experts = np.maximum(touched * r.experts, 1e-9)
    per_expert = routed / touched_experts
    padded = np.where(
        np.asarray(f.moe_block_tokens) > 0,
        touched_experts * np.maximum(f.moe_block_tokens, per_expert + 0.5 * f.moe_block_tokens),
        routed,
    )
    padded = np.where(routed > 0, padded, 0.0)
    gemm_memory = (r.dense_bytes + r.expert_bytes * touched) / bandwidth
    # Weights converted to 16 bits inside the GEMM (``dequantised``) reach a share
    # ``f.dequant_compute`` of the 16-bit rate.
    slower = 1.0 / f.dequant_compute - 1.0
    gemm_compute = (
        tokens * r.dense_flops_per_token * (1.0 + r.dense_dequantised * slower)
        + padded * r.expert_flops_per_routed_token * (1.0 + r.expert_dequantised * slower)
    ) * flop_s
    attention_memory = decode_seqs * decode_context * r.kv_bytes_per_token_context / bandwidth
    attention_compute = (
        decode_seqs * decode_context * r.attention_decode_flops / f.compute
        + prefill_tokens * prefill_context * r.attention_prefill_flops / f.prefill
    ) / r.attention_flops_per_s
    link = r.link_bytes_per_s * f.link
    comm = (
        r.allreduces_per_step
        * (f.collective_latency_s + tokens * r.allreduce_bytes_per_token / link)
        + r.all_to_alls_per_step
        * (f.collective_latency_s + tokens * r.all_to_all_bytes_per_token / link)
        + r.pipeline_sends * (f.collective_latency_s + tokens * r.pipeline_bytes_per_token / link)
    )
    overhead = (
        f.step_overhead_s
        + f.layer_overhead_s * r.stage_layers
        + f.moe_layer_overhead_s * r.stage_moe_layers
        + f.sequence_overhead_s * decode_seqs
    )
    seconds = (
        np.maximum(gemm_memory, gemm_compute)
        + np.maximum(attention_memory, attention_compute)
        + comm
        + overhead
    )
    compute_bound = gemm_compute + attention_compute > gemm_memory + attention_memory
    return seconds, compute_bound


@dataclass(frozen=True)
class Steady:
    """Steady state at each running concurrency (arrays)."""

    tpot_s: FloatArray
    ttft_s: FloatArray
    output_tokens_per_second: FloatArray
    compute_bound: BoolArray


def steady_state(
    r: Replica,
    f: Factors,
    input_tokens: FloatArray | float,
    output_tokens: FloatArray | float,
    decode_context: FloatArray | float,
    running: FloatArray,
    token_budget: FloatArray | float,
) -> Steady:
    """Closed-loop continuous batching with ``running`` sequences in flight.

    Each step carries every running decode plus the amortised prompt tokens (chunked prefill);
    with P stages, P micro-batches of running / P take turns, so a token takes P stage steps.
    The first token waits for the prompt's chunks of at most ``token_budget`` tokens.
    """
    pp = r.pipeline
    # Fewer sequences than stages leave stages idle: a micro-batch holds at least one.
    micro = np.maximum(running / pp, np.minimum(running, 1.0))
    tpot, bound = stage_seconds(
        r, f, micro, micro * input_tokens / output_tokens, decode_context, input_tokens / 2
    )
    tpot = tpot * pp
    chunks = np.maximum(1.0, np.ceil(input_tokens / token_budget))
    first, _ = stage_seconds(
        r,
        f,
        np.maximum(micro - 1, 0.0),
        input_tokens / chunks,
        decode_context,
        input_tokens / 2,
    )
    ttft = first * pp * chunks
    return Steady(tpot, ttft, running / tpot, bound)


# Engines that run a prompt chunk as its own forward pass, the decodes waiting that step: SGLang
# unless --enable-mixed-chunk (sglang/srt/server_args.py, enable_mixed_chunk = False;
# https://github.com/sgl-project/sglang/blob/main/python/sglang/srt/server_args.py). vLLM V1
# schedules prompt chunks and decodes in one batch under max_num_batched_tokens
# (https://docs.vllm.ai/en/latest/configuration/optimization.html#chunked-prefill), and
# TensorRT-LLM's in-flight batching runs context and generation requests in one step
# (https://nvidia.github.io/TensorRT-LLM/features/paged-attention-ifb-scheduler.html: "sequences in
# the context phase can be processed together with sequences in the generation phase").
SEPARATE_PREFILL_ENGINES = frozenset({"sglang"})


def separate_prefill(engine: str) -> bool:
    """Whether ``engine`` runs prompt chunks in steps of their own, not beside the decodes."""
    return engine in SEPARATE_PREFILL_ENGINES


def closed_loop_state(
    r: Replica,
    f: Factors,
    input_tokens: FloatArray | float,
    output_tokens: FloatArray | float,
    decode_context: FloatArray | float,
    clients: FloatArray,
    token_budget: FloatArray | float,
    separate: FloatArray | float = 0.0,
) -> Steady:
    """A closed loop of ``clients`` sequences at a fixed concurrency: each client sends its next
    request when its last one finishes, so prompts arrive one at a time, spread over the steps.

    A request spends k = ceil(I / budget) steps on its prompt's chunks and O - 1 on its other
    tokens, so at any step C x (O - 1) / (k + O - 1) sequences decode and C x I / (k + O - 1)
    prompt tokens are due. A step holds the decodes plus at most one chunk of I / k prompt
    tokens (Sarathi-Serve's stall-free batching, https://arxiv.org/abs/2403.02310; vLLM's and
    SGLang's chunked prefill): a share of the steps carries a whole chunk and the rest only
    decode, unless prompts are due faster than one chunk a step, when every step carries the
    amortised share. This matters where a step's cost is not linear in its tokens: a chunk is
    compute-bound and touches every expert, a few decodes read only their own experts. An engine
    that runs a chunk as its own step (``separate``, see ``separate_prefill``) makes the decodes
    wait that step: a chunk step then costs the chunk plus a decode-only step.

    Little's law: output tokens/s = C x O / (TTFT + (O - 1) x TPOT), TTFT = the k chunk steps,
    TPOT = the mean step a decoding sequence sees (the other clients' chunks in their share).
    With P stages, P micro-batches take turns, so a token takes P stage steps.
    """
    pp = r.pipeline
    clients = np.asarray(clients, dtype=np.float64)
    chunks = np.maximum(1.0, np.ceil(input_tokens / token_budget))
    # Steps one request holds its slot; at least one, so a request with a single output token
    # and no prompt (a limit the inputs reach only at their bounds) stays finite.
    cycle = np.maximum(1.0, chunks + output_tokens - 1.0)
    micro = np.maximum(clients / pp, np.minimum(clients, 1.0))
    decoding = micro * (output_tokens - 1.0) / cycle
    chunk = input_tokens / chunks
    due = micro * input_tokens / cycle  # prompt tokens due per stage step
    # No prompt tokens: no step carries a chunk (0 / 0 would read as "every step").
    per_chunk = np.where(chunk > 0.0, chunk, 1.0)
    share = np.where(chunk > 0.0, np.minimum(1.0, due / per_chunk), 0.0)
    carried = np.maximum(chunk, due)
    with_chunk, chunk_bound = stage_seconds(
        r, f, decoding, carried, decode_context, input_tokens / 2
    )
    decode_only, decode_bound = stage_seconds(r, f, decoding, 0.0, decode_context, 0.0)
    bound = np.where(share < 1.0, decode_bound, chunk_bound)
    with_chunk = with_chunk + separate * decode_only
    # The steps a decoding sequence sees carry the other clients' chunks.
    others = np.minimum(1.0, np.maximum(micro - 1.0, 0.0) * input_tokens / cycle / per_chunk)
    others = np.where(share < 1.0, others, 1.0)
    tpot = (others * with_chunk + (1.0 - others) * decode_only) * pp
    ttft = chunks * with_chunk * pp
    out = clients * output_tokens / (ttft + (output_tokens - 1.0) * tpot)
    return Steady(tpot, ttft, out, bound)


def static_batch_output_tps(
    r: Replica,
    f: Factors,
    input_tokens: FloatArray | float,
    output_tokens: FloatArray | float,
    decode_context: FloatArray | float,
    batch: FloatArray,
) -> FloatArray:
    """A fixed batch prefilled in one pass, then decoded to the end together."""
    pp = r.pipeline
    prefill, _ = stage_seconds(
        r, f, np.zeros_like(batch), batch * input_tokens / pp, 0.0, input_tokens / 2
    )
    decode, _ = stage_seconds(r, f, batch / pp, 0.0, decode_context, 0.0)
    seconds = prefill * pp + output_tokens * decode * pp
    return np.asarray(batch * output_tokens / seconds, dtype=np.float64)


_T = TypeVar("_T", Replica, Factors)


def _tiled(x: _T, n: int, times: int) -> _T:
    """``x`` with every per-deployment array of length ``n`` repeated ``times`` over."""

    def tile(v: FloatArray | float) -> FloatArray | float:
        if isinstance(v, np.ndarray) and v.ndim and v.size == n:
            return np.tile(v, times)
        return v

    return replace(x, **{k.name: tile(getattr(x, k.name)) for k in fields(x)})


# Euler-Mascheroni constant: the longest of n exponential lengths with mean m is m x H_n on
# average, H_n ~ ln n + EULER_GAMMA.
EULER_GAMMA = 0.5772156649
DRAIN_STEPS = 8  # points of the midpoint rule over a draining batch


def burst_output_tps(
    r: Replica,
    f: Factors,
    input_tokens: FloatArray | float,
    output_tokens: FloatArray | float,
    decode_context: FloatArray | float,
    running: FloatArray,
    token_budget: FloatArray | float,
    requests: FloatArray,
    variable_lengths: bool,
    steady_output_tps: FloatArray,
) -> FloatArray:
    """Output tokens/s of a run of ``requests`` requests, ramp-up and tail included.

    A benchmark that sends a fixed number of prompts (``vllm bench serve --num-prompts N``,
    all at once or through ``--max-concurrency``) reports total output tokens over the whole
    run's duration. The first ``running`` prompts arrive together and are prefilled in
    token-budget chunks before their decodes run; the requests beyond them pass through the
    engine's steady state; the last ones drain: the batch shrinks as sequences finish, so the
    last steps carry few sequences but still read every weight. With fixed lengths (random
    datasets) the last wave ends together after O steps; with variable lengths
    (``variable_lengths``: ShareGPT) the batch is taken to decay exponentially with the mean
    output length, so the run lasts until the longest of them, O x H_n steps.
    """
    pp = r.pipeline
    wave = np.minimum(requests, running)
    queued = np.maximum(requests - running, 0.0) * output_tokens / steady_output_tps
    prompt = wave * input_tokens
    chunks = np.maximum(1.0, np.ceil(prompt / token_budget))
    first, _ = stage_seconds(r, f, np.zeros_like(wave), prompt / chunks, 0.0, input_tokens / 2)
    prefill = first * chunks
    if variable_lengths:
        # Midpoint rule over the drain, all points in one vectorised step evaluation.
        longest = output_tokens * (np.log(np.maximum(wave, 1.0)) + EULER_GAMMA)
        n = wave.size
        points = (np.arange(DRAIN_STEPS).repeat(n) + 0.5) / DRAIN_STEPS  # point-major
        t = points * np.tile(np.broadcast_to(longest, (n,)), DRAIN_STEPS)
        mean_out = np.tile(np.broadcast_to(output_tokens, (n,)), DRAIN_STEPS)
        batch = np.maximum(np.tile(wave, DRAIN_STEPS) * np.exp(-t / mean_out), 1.0)
        step, _ = stage_seconds(
            _tiled(r, n, DRAIN_STEPS),
            _tiled(f, n, DRAIN_STEPS),
            batch / np.tile(np.broadcast_to(pp, (n,)), DRAIN_STEPS),
            0.0,
            np.tile(np.broadcast_to(decode_context, (n,)), DRAIN_STEPS),
            0.0,
        )
        drain = step.reshape(DRAIN_STEPS, n).sum(axis=0) * pp * longest / DRAIN_STEPS
    else:
        full, _ = stage_seconds(r, f, wave / pp, 0.0, decode_context, 0.0)
        drain = output_tokens * full * pp
    return np.asarray(requests * output_tokens / (queued + prefill + drain), dtype=np.float64)


def rate_run_output_tps(
    r: Replica,
    f: Factors,
    input_tokens: FloatArray,
    output_tokens: FloatArray,
    decode_context: FloatArray,
    running: FloatArray,
    token_budget: FloatArray,
    requests: FloatArray,
    request_rate: FloatArray,
    steady_output_tps: FloatArray,
) -> FloatArray:
    """Output tokens/s of ``requests`` requests sent at ``request_rate`` per second.

    A benchmark such as ``vllm bench serve --request-rate R --num-prompts N`` reports total
    output tokens over the time from the first request sent to the last one finished: the
    sends take N / R (or, past the engine's capacity, the queue takes N x O / capacity), and
    the last request then needs its own latency, O steps at the concurrency the load holds
    (Little's law: R x its latency, at most what the engine runs).
    """
    offered = request_rate * output_tokens
    saturated = offered >= steady_output_tps
    # The fixed point of C = R x O x TPOT(C), iterated down from the most the engine runs: TPOT
    # grows with C, so the iterates fall monotonically toward it and, as the load nears
    # capacity, stay near that limit, where a saturated run holds it (no jump at saturation).
    concurrency = np.asarray(running, dtype=np.float64)
    for _ in range(3):
        tpot = steady_state(
            r, f, input_tokens, output_tokens, decode_context, concurrency, token_budget
        ).tpot_s
        concurrency = np.clip(request_rate * output_tokens * tpot, 1.0, running)
    concurrency = np.where(saturated, running, concurrency)
    last = (
        output_tokens
        * steady_state(
            r, f, input_tokens, output_tokens, decode_context, concurrency, token_budget
        ).tpot_s
    )
    sending = np.maximum(requests / request_rate, requests * output_tokens / steady_output_tps)
    return np.asarray(requests * output_tokens / (sending + last), dtype=np.float64)


@dataclass(frozen=True)
class Limits:
    """What caps the running concurrency of one deployment."""

    running: int  # the most sequences in flight at once
    kv_sequences: int
    kv_limited: bool
    token_budget: int


def limits(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str,
    layout: Layout,
    input_tokens: float,
    output_tokens: float,
    eff: Efficiency,
    offline: bool = False,
    schedule: EngineSchedule | None = None,
) -> Limits:
    """What caps the running concurrency; ``schedule``: the batch limit and token budget the
    run's launch command set (``llm_tco.core.engine_versions``), else the engine's defaults
    (``engine_limits``)."""
    if input_tokens <= 0 or output_tokens <= 0:
        raise ScenarioError("input and output tokens per request must be positive")
    kv_limit = max_concurrent_sequences(
        arch,
        gpu,
        precision,
        kv_precision,
        layout.gpus,
        input_tokens + output_tokens,
        layout=layout,
        engine=eff.engine,
    )  # the memory plan's figure, so `fit`, `capacity` and `evaluate` agree
    if kv_limit < 1:
        raise ScenarioError(
            f"{arch.id} at {precision} does not fit on {layout.gpus} x {gpu.id} with room for one "
            f"{int(input_tokens + output_tokens)}-token sequence",
            field="gpu_count",
            hint="use more GPUs per replica, a lower precision, or a larger GPU",
        )
    if schedule is None:
        default_batch, default_budget = engine_limits(eff.engine, gpu, offline)
    else:
        default_batch, default_budget = schedule.max_sequences, schedule.token_budget
    batch = eff.max_batch_size or default_batch
    budget = eff.max_batched_tokens or default_budget
    # Steady state: C decodes + C x I / O prompt tokens per step must fit the token budget.
    by_budget = max(1, int(budget * output_tokens / (input_tokens + output_tokens)))
    engine_cap = min(batch * layout.data, by_budget * layout.data)
    return Limits(min(kv_limit, engine_cap), kv_limit, kv_limit < engine_cap, budget)


def predict(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str,
    gpus_per_replica: int,
    input_tokens: float,
    output_tokens: float,
    concurrency: int | None,
    efficiency: Efficiency,
    layout: Layout | None = None,
) -> Prediction:
    """Steady state with ``concurrency`` requests in flight (None: as many as the engine runs).

    At a fixed concurrency the clients form a closed loop (``closed_loop_state``). Requests
    beyond what the engine runs wait in its queue: they add to TTFT (Little's law), not to
    throughput.
    """
    layout = layout or plain_tp(gpus_per_replica)
    lim = limits(
        arch,
        gpu,
        precision,
        kv_precision,
        layout,
        input_tokens,
        output_tokens,
        efficiency,
        offline=concurrency is None,
    )
    requested = lim.running if concurrency is None else concurrency
    if requested < 1:
        raise ScenarioError("concurrency must be at least 1", field="concurrency")
    running = min(requested, lim.running)
    r = replica(arch, gpu, precision, kv_precision, layout)
    context = kv_cached_tokens(arch, input_tokens + output_tokens / 2)
    # A fixed concurrency is a closed loop (prompts arrive one at a time); without one the
    # queue is full and every step carries its amortised share of prompt tokens.
    args = (
        r,
        Factors.of(efficiency),
        input_tokens,
        output_tokens,
        context,
        np.array([float(running)]),
        lim.token_budget,
    )
    if concurrency is None:
        s = steady_state(*args)
    else:
        s = closed_loop_state(*args, float(separate_prefill(efficiency.engine)))
    out_tps = float(s.output_tokens_per_second[0])
    requests_per_s = out_tps / output_tokens
    # Closed loop: each of `requested` clients waits requested/rate per request in all.
    queue_s = max(0.0, (requested - running) / requests_per_s)
    return Prediction(
        concurrency=running,
        requested_concurrency=requested,
        output_tokens_per_second=out_tps,
        input_tokens_per_second=requests_per_s * input_tokens,
        requests_per_second=requests_per_s,
        ttft_ms=(float(s.ttft_s[0]) + queue_s) * 1e3,
        tpot_ms=float(s.tpot_s[0]) * 1e3,
        max_concurrency=lim.running,
        kv_limited=lim.kv_limited,
        bound="compute" if bool(s.compute_bound[0]) else "memory",
    )


def replica_capacity(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str,
    gpus_per_replica: int,
    input_tokens: float,
    output_tokens: float,
    slo: Slo,
    efficiency: Efficiency,
    layout: Layout | None = None,
) -> ReplicaCapacity:
    """The highest-throughput concurrency whose TPOT and TTFT meet ``slo``. With no targets it
    is the engine's maximum throughput, under its offline defaults (as ``offline-max``
    measurements are run)."""
    layout = layout or plain_tp(gpus_per_replica)
    offline = slo.tpot_ms is None and slo.ttft_ms is None
    lim = limits(
        arch,
        gpu,
        precision,
        kv_precision,
        layout,
        input_tokens,
        output_tokens,
        efficiency,
        offline=offline,
    )
    r = replica(arch, gpu, precision, kv_precision, layout)
    context = kv_cached_tokens(arch, input_tokens + output_tokens / 2)
    concurrencies = np.arange(1, lim.running + 1, dtype=np.float64)
    args = (
        r,
        Factors.of(efficiency),
        input_tokens,
        output_tokens,
        context,
        concurrencies,
        lim.token_budget,
    )
    # Under latency targets, requests arrive one at a time and each prompt is a chunk of its
    # own in a share of the steps, as at a fixed concurrency (``predict``); without targets
    # the queue is full and every step carries its amortised share of prompt tokens.
    s = (
        steady_state(*args)
        if offline
        else closed_loop_state(*args, float(separate_prefill(efficiency.engine)))
    )
    return best_at_slo(
        s.output_tokens_per_second,
        s.ttft_s,
        s.tpot_s,
        input_tokens,
        output_tokens,
        slo,
        efficiency.source,
    )


def best_at_slo(
    out: FloatArray,
    ttft_s: FloatArray,
    tpot_s: FloatArray,
    input_tokens: float,
    output_tokens: float,
    slo: Slo,
    source: str,
) -> ReplicaCapacity:
    """The highest-throughput concurrency (``out[i]`` output tokens/s at ``i + 1`` requests in
    flight) whose TPOT and TTFT meet ``slo``; if none does, concurrency 1, marked as missing it."""
    ok = np.ones_like(out, dtype=bool)
    if slo.tpot_ms is not None:
        ok &= tpot_s * 1e3 <= slo.tpot_ms
    if slo.ttft_ms is not None:
        ok &= ttft_s * 1e3 <= slo.ttft_ms
    meets = bool(ok.any())
    best = int(np.argmax(np.where(ok, out, -1.0))) if meets else 0
    requests_per_s = float(out[best]) / output_tokens
    return ReplicaCapacity(
        output_tokens_per_second=float(out[best]),
        input_tokens_per_second=requests_per_s * input_tokens,
        requests_per_second=requests_per_s,
        concurrency=best + 1,
        ttft_ms=float(ttft_s[best]) * 1e3,
        tpot_ms=float(tpot_s[best]) * 1e3,
        source=source,
        meets_slo=meets,
    )
