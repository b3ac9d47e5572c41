"""Speculative decoding (a draft model, or multi-token prediction heads) in the capacity model.

Each step a cheap drafter proposes ``draft_tokens`` (gamma) tokens per sequence and the target
model checks them in one forward pass of gamma + 1 tokens per sequence, keeping the longest
accepted prefix plus one token of its own. With each draft token accepted independently with
probability alpha, the tokens a step yields per sequence are

    E = (1 - alpha^(gamma + 1)) / (1 - alpha)          (gamma + 1 when alpha = 1)

(Leviathan, Kalman, Matias, "Fast Inference from Transformers via Speculative Decoding", ICML
2023, https://arxiv.org/abs/2211.17192, eq. (1)). A step costs the target's verification pass
plus gamma draft passes of ``draft_cost_ratio`` (c) x a target decode step each; where the
verification costs one plain decode step (memory-bound, small batches) the speed-up is the
paper's E / (gamma c + 1) (its Theorem 3.8). Here the verification's cost comes from the
capacity model (``stage_seconds`` with gamma extra tokens per sequence), so at large batches,
where a step is compute-bound, the extra tokens cost what they cost and the gain shrinks or
turns into a loss, as measured in practice. Multi-token prediction (DeepSeek-V3) is the same
with gamma = 1 and c = one MTP layer over the model's layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.core.capacity import (
    Efficiency,
    Factors,
    FloatArray,
    Replica,
    ReplicaCapacity,
    Slo,
    best_at_slo,
    limits,
    replica,
    stage_seconds,
    steady_state,
)
from llm_tco.core.memory import kv_cached_tokens, plain_tp


@dataclass(frozen=True)
class Speculation:
    """Speculative decoding settings: ``method`` is "draft" or "mtp" (for the label only)."""

    acceptance_rate: float  # alpha, per draft token
    draft_tokens: int = 3  # gamma, proposed per step
    draft_cost_ratio: float = 0.05  # c: one draft pass over one target decode step
    method: str = "draft"

    def __post_init__(self) -> None:
        if not 0 <= self.acceptance_rate <= 1:
            raise ValueError("acceptance_rate must be between 0 and 1")
        if self.draft_tokens < 1:
            raise ValueError("draft_tokens must be at least 1")
        if self.draft_cost_ratio < 0:
            raise ValueError("draft_cost_ratio cannot be negative")


def expected_tokens_per_step(acceptance_rate: float, draft_tokens: int) -> float:
    """E = (1 - alpha^(gamma + 1)) / (1 - alpha): tokens per sequence per verification step."""
    if acceptance_rate >= 1:
        return float(draft_tokens + 1)
    return (1 - acceptance_rate ** (draft_tokens + 1)) / (1 - acceptance_rate)


def memory_bound_speedup(s: Speculation) -> float:
    """E / (gamma c + 1): the speed-up where verifying gamma + 1 tokens costs one decode step."""
    return expected_tokens_per_step(s.acceptance_rate, s.draft_tokens) / (
        s.draft_tokens * s.draft_cost_ratio + 1
    )


def speculative_tpot(
    r: Replica,
    f: Factors,
    s: Speculation,
    running: FloatArray,
    input_tokens: float,
    output_tokens: float,
    decode_context: float,
) -> FloatArray:
    """Seconds per output token at each running concurrency, with chunked prefill amortised
    as in ``capacity.steady_state`` (a step now yields E tokens per sequence, so it carries
    E x I / O prompt tokens per sequence). Pipeline stages are not modelled here (P = 1)."""
    e = expected_tokens_per_step(s.acceptance_rate, s.draft_tokens)
    prompt = running * input_tokens * e / output_tokens
    verify, _ = stage_seconds(
        r, f, running, running * s.draft_tokens + prompt, decode_context, input_tokens / 2
    )
    plain, _ = stage_seconds(r, f, running, 0.0, decode_context, 0.0)
    step = verify + s.draft_tokens * s.draft_cost_ratio * plain
    return np.asarray(step / e, dtype=np.float64)


def speculative_capacity(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str,
    gpus_per_replica: int,
    input_tokens: float,
    output_tokens: float,
    slo: Slo,
    efficiency: Efficiency,
    spec: Speculation,
) -> ReplicaCapacity:
    """``capacity.replica_capacity`` with speculative decoding: the highest-throughput
    concurrency whose TPOT (:func:`speculative_tpot`) and TTFT (the prompt's chunks, as without
    speculation) meet ``slo``. The draft's weights and KV are not taken from the KV cache (a
    draft is typically a few % of the target; MTP heads less)."""
    layout = plain_tp(gpus_per_replica)
    offline = slo.tpot_ms is None and slo.ttft_ms is None
    lim = limits(
        arch, gpu, precision, kv_precision, layout, input_tokens, output_tokens, efficiency, offline
    )
    r = replica(arch, gpu, precision, kv_precision, layout)
    f = Factors.of(efficiency)
    context = kv_cached_tokens(arch, input_tokens + output_tokens / 2)
    running = np.arange(1, lim.running + 1, dtype=np.float64)
    ttft = steady_state(
        r, f, input_tokens, output_tokens, context, running, lim.token_budget
    ).ttft_s
    tpot = speculative_tpot(r, f, spec, running, input_tokens, output_tokens, context)
    e = expected_tokens_per_step(spec.acceptance_rate, spec.draft_tokens)
    source = (
        f"{efficiency.source}; speculative decoding ({spec.method}, {spec.draft_tokens} "
        f"draft tokens, acceptance {spec.acceptance_rate:g}: {e:.2f} tokens per step, "
        "Leviathan et al. 2023 eq. 1)"
    )
    return best_at_slo(running / tpot, ttft, tpot, input_tokens, output_tokens, slo, source)
