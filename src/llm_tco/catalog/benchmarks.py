"""Schemas for published throughput measurements and the engine efficiency factors fitted on them.

``benchmarks.yaml`` holds measurements copied exactly from their source (a perf doc, a blog post, a
paper); ``efficiency.yaml`` holds, per serving engine, the achieved fraction of peak memory
bandwidth and compute that the capacity model uses, with the benchmark rows it was fitted on.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from llm_tco.catalog.schema import Row

Engine = Literal["vllm", "sglang", "trtllm", "llamacpp"]
ENGINES: tuple[str, ...] = ("vllm", "sglang", "trtllm", "llamacpp")


class BenchmarkRow(Row):
    """One published measurement of a model served on GPUs.

    ``mode`` says how load was applied:

    - ``offline-max``: every request queued at once; the engine runs as many as fit (concurrency
      is then set by the engine and the KV cache, not by the benchmark);
    - ``static-batch``: a fixed batch of ``concurrency`` requests run start to finish together;
    - ``concurrency``: a closed loop keeping ``concurrency`` requests in flight.

    Throughput is the total over the whole deployment (all ``gpu_count`` GPUs); where the source
    gives it per GPU, that figure is kept as printed in ``output_tokens_per_second_per_gpu``.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    model: str = Field(description="ModelArch.id (or alias)")
    precision: Literal["bf16", "fp16", "fp8", "int8", "int4", "fp4", "mxfp4"]
    kv_precision: Literal["bf16", "fp16", "fp8", "int8"] | None = Field(
        default=None, description="KV-cache precision when the source states or implies it"
    )
    gpu: str = Field(description="GpuSpec.id")
    gpu_count: int = Field(ge=1, description="GPUs in the one replica measured (tensor parallel)")
    engine: Engine
    engine_version: str | None = None
    cuda_graphs: bool | None = Field(
        default=None,
        description="false where the engine ran without CUDA graphs (vLLM --enforce-eager, "
        "SGLang --disable-cuda-graph); None: the engine default (graphs on)",
    )
    max_batch_size: int | None = Field(
        default=None,
        ge=1,
        description="the batch limit the run's launch command sets (vLLM --max-num-seqs, SGLang "
        "--max-running-requests, TensorRT-LLM max_batch_size); None: the engine's default",
    )
    max_num_tokens: int | None = Field(
        default=None,
        ge=1,
        description="the per-step token budget the run's launch command sets (vLLM "
        "--max-num-batched-tokens, TensorRT-LLM max_num_tokens); None: the engine's default",
    )
    mode: Literal["offline-max", "static-batch", "concurrency", "request-rate"]
    publisher: str | None = Field(
        default=None,
        description="who published the figures (one independent source; rows are left out "
        "together by publisher when the capacity model is validated)",
    )
    tensor_parallel: int | None = Field(default=None, ge=1, description="TP; default gpu_count")
    expert_parallel: int | None = Field(default=None, ge=1, description="EP size, when used")
    data_parallel: int | None = Field(default=None, ge=1, description="attention DP size")
    pipeline_parallel: int | None = Field(default=None, ge=1, description="PP stages")
    request_rate: float | None = Field(
        default=None, gt=0, description="requests/s offered (mode request-rate)"
    )
    dataset: str | None = Field(default=None, description="dataset when lengths vary")
    lengths_estimated: bool = Field(
        default=False, description="input/output lengths are a stated mean or estimate"
    )
    input_tokens: float = Field(gt=0, description="per request; a mean where lengths vary")
    output_tokens: float = Field(gt=0, description="per request; a mean where lengths vary")
    concurrency: int | None = Field(default=None, ge=1)
    num_requests: int | None = Field(
        default=None,
        ge=1,
        description="requests in the whole run where the source states a fixed count (e.g. "
        "vllm bench serve --num-prompts): throughput then includes ramp-up and tail",
    )
    output_tokens_per_second: float | None = Field(default=None, gt=0)
    output_tokens_per_second_per_gpu: float | None = Field(default=None, gt=0)
    ttft_ms: float | None = Field(default=None, gt=0)
    tpot_ms: float | None = Field(default=None, gt=0)
    latency_s: float | None = Field(default=None, gt=0, description="mean end-to-end latency")
    not_comparable: str | None = Field(
        default=None,
        min_length=10,
        description="why this run cannot stand for the engine as configured, in the source's own "
        "words (it says the run used a setup it does not recommend, or its printed figures "
        "contradict the lengths it states); the row is kept as published but left out of the "
        "fit and the validation, which count it among the skipped rows",
    )
    notes: str | None = None

    @model_validator(mode="after")
    def _check(self) -> BenchmarkRow:
        given = [self.output_tokens_per_second, self.output_tokens_per_second_per_gpu]
        if sum(value is not None for value in given) != 1:
            raise ValueError(
                "give exactly one of output_tokens_per_second, output_tokens_per_second_per_gpu"
            )
        if self.mode in ("static-batch", "concurrency") and self.concurrency is None:
            raise ValueError(f"mode {self.mode} needs concurrency")
        if self.mode == "request-rate" and self.request_rate is None:
            raise ValueError("mode request-rate needs request_rate")
        return self

    @property
    def measured_output_tokens_per_second(self) -> float:
        """Output tokens/s of the whole deployment (per-GPU figures times ``gpu_count``)."""
        if self.output_tokens_per_second is not None:
            return self.output_tokens_per_second
        assert self.output_tokens_per_second_per_gpu is not None
        return self.output_tokens_per_second_per_gpu * self.gpu_count


class EfficiencyRow(Row):
    """Fitted factors of the capacity model for one serving engine (optionally one GPU vendor)."""

    engine: Engine
    gpu_vendor: Literal["nvidia", "amd", "intel", "google", "other"] | None = Field(
        default=None, description="factors for this vendor's GPUs only; None: any GPU"
    )
    bandwidth_efficiency: float = Field(gt=0, le=1, description="share of peak HBM bandwidth")
    compute_efficiency: float = Field(
        gt=0, le=1, description="share of dense peak FLOP/s in decode steps"
    )
    prefill_compute_efficiency: float = Field(
        gt=0, le=1, description="share of dense peak FLOP/s on prompt tokens"
    )
    link_efficiency: float = Field(
        gt=0, le=1, description="share of one-direction GPU link bandwidth a collective gets"
    )
    allreduce_latency_us: float = Field(ge=0, description="fixed cost of one collective")
    step_overhead_ms: float = Field(default=0.0, ge=0, description="fixed cost per engine step")
    layer_overhead_us: float = Field(default=0.0, ge=0, description="fixed cost per layer-step")
    moe_block_tokens: float = Field(
        default=0.0, ge=0, description="grouped-GEMM tile rows each expert's tokens pad to"
    )
    moe_layer_overhead_us: float = Field(
        default=0.0, ge=0, description="extra fixed cost per MoE layer-step"
    )
    sequence_overhead_us: float = Field(
        default=0.0, ge=0, description="CPU cost per running sequence per step"
    )
    dequant_compute_efficiency: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="share of the 16-bit rate a weight-only GEMM (weights converted to 16 bits "
        "inside the kernel) reaches",
    )
    max_batch_size: int | None = Field(
        default=None, ge=1, description="override of the engine's default batch limit"
    )
    fitted_rows: int = Field(default=0, ge=0, description="measurements the fit used")
    publishers: list[str] = Field(default=[], description="publishers of those measurements")
    notes: str | None = None


class CapacityErrorBand(Row):
    """The capacity model's out-of-source error: measured / predicted output tokens/s over the
    leave-one-publisher-out predictions, as quantiles (``p05`` ... ``p95``)."""

    group: Literal["all", "dense", "moe"]
    rows: int = Field(ge=1)
    publishers: int = Field(ge=1)
    median_ape_percent: float = Field(ge=0)
    measured_over_predicted: dict[str, float] = Field(
        description="quantile label (p05, p10, p25, p50, p75, p90, p95) -> ratio"
    )
