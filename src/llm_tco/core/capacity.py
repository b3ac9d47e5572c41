"""Capacity model: tokens/s and latency of one replica (a model on ``gpus_per_replica`` GPUs).

A serving step (one forward pass of a continuous batch) takes the longer of

- the memory time: weights read once per step (for MoE only the experts the batch touches; of
  the input embedding only the batch's rows) plus the KV cache of every decoding sequence,
  over ``bandwidth_efficiency`` x peak HBM bandwidth;
- the compute time: 2 x active parameters FLOPs per token plus attention (4 x layers x query
  width x context per token), over ``compute_efficiency`` x peak dense FLOP/s at the precision;

plus tensor-parallel all-reduces (2 per layer, ring traffic over the GPU interconnect, plus a fixed
latency each). At concurrency C with prompts of I and outputs of O tokens, each step serves C
decodes and, amortised, C x I / O prompt tokens (chunked prefill), so

    TPOT = step time, output tokens/s = C / TPOT, TTFT = one step that carries a whole prompt.

Concurrency is capped by the engine's batch limit and by the KV cache left after the weights;
weights, KV bytes and that limit come from the memory plan (``llm_tco.core.memory``).
The efficiency factors come from published measurements (``llm_tco.core.calibration``).
Units: GB = 1e9 bytes, TFLOP/s = 1e12 FLOP/s, parameters in billions as in the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.core.memory import (
    bytes_per_param,
    gathered_embedding_bytes,
    kv_bytes_per_token,
    kv_cached_tokens,
    kv_replication,
    max_concurrent_sequences,
    weight_bytes,
)
from llm_tco.errors import ScenarioError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


# Activations exchanged by all-reduce are bf16.
ACTIVATION_BYTES = 2.0


@dataclass(frozen=True)
class Efficiency:
    """Achieved fractions of peak for one serving engine (see catalog ``efficiency.yaml``)."""

    engine: str
    bandwidth_efficiency: float  # share of peak HBM bandwidth a decode step achieves
    compute_efficiency: float  # share of dense peak FLOP/s in decode steps (small GEMMs)
    prefill_compute_efficiency: float  # share of dense peak FLOP/s on prompt tokens (large GEMMs)
    link_efficiency: float  # share of one-direction link bandwidth an all-reduce achieves
    max_batch_size: int
    allreduce_latency_us: float
    source: str = "capacity model"


def efficiency_key(engine: str, vendor: str | None = None) -> str:
    return engine if vendor is None else f"{engine}/{vendor}"


def select_efficiency(
    efficiencies: dict[str, Efficiency], engine: str, vendor: str
) -> Efficiency | None:
    """Factors for an engine on a GPU vendor: the vendor-specific fit, else the engine's."""
    return efficiencies.get(efficiency_key(engine, vendor), efficiencies.get(engine))


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
    max_concurrency: int  # limit from the KV cache and the engine's batch size
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
class _Replica:
    """Per-step cost coefficients of one deployment, derived once from arch x GPU x precision."""

    gpus: int
    dense_weight_bytes: float  # read every step (attention, embeddings, shared experts)
    expert_weight_bytes: float  # all routed experts; a step reads the touched share
    expert_pick_share: float  # k / E per token; 0 for dense models
    kv_bytes_per_token: float  # whole model, before sharding
    kv_shards: float  # GPUs over one copy of the KV cache (gpus / replication)
    active_flops_per_token: float  # 2 x active parameters
    attention_flops_per_token_context: float  # 4 x layers x heads x head_dim
    bandwidth_bytes_per_s: float  # per GPU, peak
    compute_flops_per_s: float  # per GPU, peak at the compute precision
    allreduce_bytes_per_token: float  # activations per all-reduce per token
    allreduces_per_step: int
    link_bytes_per_s: float  # per GPU, one direction


def _routed_experts_b(arch: ModelArch) -> tuple[float, float]:
    """(all routed-expert params in billions, k/E); (0, 0) for a dense model.

    With S dense params, E experts of P each and k picked per token:
    total = S + E*P and active = S + k*P, so P = (total - active) / (E - k).
    """
    experts, picked = arch.experts, arch.experts_per_token
    if experts is None or picked is None or experts <= picked:
        return 0.0, 0.0
    per_expert = (arch.total_params_b - arch.active_params_b) / (experts - picked)
    return experts * per_expert, picked / experts


def _compute_tflops(gpu: GpuSpec, precision: str) -> float:
    """Dense peak at the precision the matmuls run in.

    FP8/FP4 weights run FP8 tensor cores where the GPU has them; int8/int4 weight-only formats
    dequantise to bf16, so they run at the bf16 rate.
    """
    if precision in ("fp8", "fp4", "mxfp4") and gpu.fp8_dense_tflops is not None:
        return gpu.fp8_dense_tflops
    if gpu.bf16_dense_tflops is None:
        raise ScenarioError(f"GPU {gpu.id} has no bf16 TFLOP/s figure", field="gpu")
    return gpu.bf16_dense_tflops


def _link_gb_per_s(gpu: GpuSpec) -> float:
    """One-direction GPU-to-GPU bandwidth: half the bidirectional NVLink/IF figure, else PCIe."""
    if gpu.interconnect_gb_per_s is not None:
        return gpu.interconnect_gb_per_s / 2
    if gpu.pcie_gb_per_s is not None:
        return gpu.pcie_gb_per_s / 2
    return 32.0  # PCIe 4.0 x16 one direction, when the catalog has no figure


def _replica(
    arch: ModelArch, gpu: GpuSpec, precision: str, kv_precision: str, gpus: int
) -> _Replica:
    if gpus < 1:
        raise ScenarioError("gpus_per_replica must be at least 1", field="gpus_per_replica")
    experts_b, pick_share = _routed_experts_b(arch)
    # Resident weights as the memory plan counts them (16-bit embeddings, quantisation scales).
    # Routed experts are stored at the named precision; a step reads the rest whole, except the
    # input embedding, of which it gathers only its tokens' rows.
    expert_bytes = experts_b * 1e9 * bytes_per_param(precision)
    resident_bytes = weight_bytes(arch, precision) - gathered_embedding_bytes(arch)
    dense_bytes = max(resident_bytes - expert_bytes, 0.0)
    return _Replica(
        gpus=gpus,
        dense_weight_bytes=dense_bytes,
        expert_weight_bytes=expert_bytes,
        expert_pick_share=pick_share,
        kv_bytes_per_token=kv_bytes_per_token(arch, kv_precision),
        kv_shards=gpus / kv_replication(arch, gpus),
        active_flops_per_token=2 * arch.active_params_b * 1e9,
        attention_flops_per_token_context=4.0 * arch.layers * arch.attention_heads * arch.head_dim,
        bandwidth_bytes_per_s=gpu.memory_bandwidth_gb_per_s * 1e9,
        compute_flops_per_s=_compute_tflops(gpu, precision) * 1e12,
        allreduce_bytes_per_token=arch.hidden_size * ACTIVATION_BYTES,
        allreduces_per_step=2 * arch.layers if gpus > 1 else 0,
        link_bytes_per_s=_link_gb_per_s(gpu) * 1e9,
    )


def _step_seconds(
    r: _Replica,
    eff: Efficiency,
    decode_seqs: FloatArray,
    prefill_tokens: FloatArray,
    decode_context: float,
    prefill_context: float,
) -> tuple[FloatArray, BoolArray]:
    """Time of one step serving ``decode_seqs`` decodes and ``prefill_tokens`` prompt tokens.

    Returns (seconds, compute_bound) arrays. ``prefill_context`` is the mean context a prompt
    token attends to (half the prompt, causal).
    """
    tokens = decode_seqs + prefill_tokens
    peak_flops_per_s = r.gpus * r.compute_flops_per_s
    bandwidth_bytes_per_s = r.bandwidth_bytes_per_s * eff.bandwidth_efficiency
    # Weight matmuls: weights read once per step (MoE: expected share of routed experts the
    # step's tokens touch, 1 - (1 - k/E)^tokens) against 2 x active params FLOPs per token.
    touched = 1.0 - np.power(1.0 - r.expert_pick_share, tokens)
    weight_bytes = r.dense_weight_bytes + r.expert_weight_bytes * touched
    gemm_memory_s = weight_bytes / r.gpus / bandwidth_bytes_per_s
    gemm_compute_s = r.active_flops_per_token * (
        decode_seqs / (peak_flops_per_s * eff.compute_efficiency)
        + prefill_tokens / (peak_flops_per_s * eff.prefill_compute_efficiency)
    )
    # Attention runs as its own kernels after the matmuls: decode reads every sequence's KV
    # cache; prompt tokens attend causally (mean context prefill_context), compute-bound.
    kv_bytes = decode_seqs * decode_context * r.kv_bytes_per_token
    attention_memory_s = kv_bytes / r.kv_shards / bandwidth_bytes_per_s
    attention_compute_s = (
        r.attention_flops_per_token_context
        * (
            decode_seqs * decode_context / eff.compute_efficiency
            + prefill_tokens * prefill_context / eff.prefill_compute_efficiency
        )
        / peak_flops_per_s
    )
    gemm_s = np.maximum(gemm_memory_s, gemm_compute_s)
    attention_s = np.maximum(attention_memory_s, attention_compute_s)
    compute_bound = gemm_compute_s + attention_compute_s > gemm_memory_s + attention_memory_s
    # Ring all-reduce moves 2 (n-1)/n of the message through each GPU's link.
    ring_share = 2.0 * (r.gpus - 1) / r.gpus
    comm_s = r.allreduces_per_step * (
        eff.allreduce_latency_us * 1e-6
        + ring_share
        * tokens
        * r.allreduce_bytes_per_token
        / (r.link_bytes_per_s * eff.link_efficiency)
    )
    return gemm_s + attention_s + comm_s, compute_bound


def _sweep(
    r: _Replica,
    arch: ModelArch,
    eff: Efficiency,
    input_tokens: float,
    output_tokens: float,
    concurrencies: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """(tpot_s, ttft_s, output tokens/s, compute_bound) at each concurrency actually run."""
    # KV read per decode step: the mean context over a request's decode, capped by any window.
    decode_context = kv_cached_tokens(arch, input_tokens + output_tokens / 2)
    prefill_per_step = concurrencies * input_tokens / output_tokens
    tpot_s, compute_bound = _step_seconds(
        r, eff, concurrencies, prefill_per_step, decode_context, input_tokens / 2
    )
    # The first token comes out of one step that carries the whole prompt beside the others.
    ttft_s, _ = _step_seconds(
        r,
        eff,
        np.maximum(concurrencies - 1, 0.0),
        np.full_like(concurrencies, input_tokens),
        decode_context,
        input_tokens / 2,
    )
    return tpot_s, ttft_s, concurrencies / tpot_s, compute_bound


def _limits(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str,
    gpus: int,
    input_tokens: float,
    output_tokens: float,
    eff: Efficiency,
) -> tuple[int, bool]:
    if input_tokens <= 0 or output_tokens <= 0:
        raise ScenarioError("input and output tokens per request must be positive")
    kv_limit = max_concurrent_sequences(
        arch, gpu, precision, kv_precision, gpus, input_tokens + output_tokens
    )  # the memory plan's figure, so `fit`, `capacity` and `evaluate` agree
    if kv_limit < 1:
        raise ScenarioError(
            f"{arch.id} at {precision} does not fit on {gpus} x {gpu.id} with room for one "
            f"{int(input_tokens + output_tokens)}-token sequence",
            field="gpu_count",
            hint="use more GPUs per replica, a lower precision, or a larger GPU",
        )
    return min(kv_limit, eff.max_batch_size), kv_limit < eff.max_batch_size


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
) -> Prediction:
    """Steady state with ``concurrency`` requests in flight (None: as many as the engine runs).

    Requests beyond what the engine runs wait in its queue: they add to TTFT (Little's law),
    not to throughput.
    """
    limit, kv_limited = _limits(
        arch,
        gpu,
        precision,
        kv_precision,
        gpus_per_replica,
        input_tokens,
        output_tokens,
        efficiency,
    )
    requested = limit if concurrency is None else concurrency
    if requested < 1:
        raise ScenarioError("concurrency must be at least 1", field="concurrency")
    running = min(requested, limit)
    r = _replica(arch, gpu, precision, kv_precision, gpus_per_replica)
    tpot, ttft, out_tps, compute_bound = _sweep(
        r, arch, efficiency, input_tokens, output_tokens, np.array([float(running)])
    )
    requests_per_s = float(out_tps[0]) / output_tokens
    # Closed loop: each of `requested` clients waits requested/rate per request in all.
    queue_s = max(0.0, requested / requests_per_s - running / requests_per_s)
    return Prediction(
        concurrency=running,
        requested_concurrency=requested,
        output_tokens_per_second=float(out_tps[0]),
        input_tokens_per_second=requests_per_s * input_tokens,
        requests_per_second=requests_per_s,
        ttft_ms=(float(ttft[0]) + queue_s) * 1e3,
        tpot_ms=float(tpot[0]) * 1e3,
        max_concurrency=limit,
        kv_limited=kv_limited,
        bound="compute" if bool(compute_bound[0]) else "memory",
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
) -> ReplicaCapacity:
    """The highest-throughput concurrency whose TPOT and TTFT meet ``slo``."""
    limit, _ = _limits(
        arch,
        gpu,
        precision,
        kv_precision,
        gpus_per_replica,
        input_tokens,
        output_tokens,
        efficiency,
    )
    r = _replica(arch, gpu, precision, kv_precision, gpus_per_replica)
    concurrencies = np.arange(1, limit + 1, dtype=np.float64)
    tpot, ttft, out_tps, _ = _sweep(r, arch, efficiency, input_tokens, output_tokens, concurrencies)
    ok = np.ones_like(concurrencies, dtype=bool)
    if slo.tpot_ms is not None:
        ok &= tpot * 1e3 <= slo.tpot_ms
    if slo.ttft_ms is not None:
        ok &= ttft * 1e3 <= slo.ttft_ms
    meets = bool(ok.any())
    best = int(np.argmax(np.where(ok, out_tps, -1.0))) if meets else 0
    requests_per_s = float(out_tps[best]) / output_tokens
    return ReplicaCapacity(
        output_tokens_per_second=float(out_tps[best]),
        input_tokens_per_second=requests_per_s * input_tokens,
        requests_per_second=requests_per_s,
        concurrency=best + 1,
        ttft_ms=float(ttft[best]) * 1e3,
        tpot_ms=float(tpot[best]) * 1e3,
        source=efficiency.source,
        meets_slo=meets,
    )
