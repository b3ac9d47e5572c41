"""``llm_tco.fit`` and ``llm_tco.capacity``: a model's memory plan on GPUs, and one replica's
capacity at a latency target, as result models (the core's figures, nothing recomputed)."""

from __future__ import annotations

from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.core import memory
from llm_tco.errors import LlmTcoError
from llm_tco.result import Model


class MemoryGb(Model):
    """GB (1e9 bytes) of one replica."""

    weights: float
    kv_cache: float
    overhead: float
    available: float


class FitResult(Model):
    """Does a model fit on ``gpu_count`` GPUs at a precision, and the fewest that hold it."""

    model: str
    gpu: str
    precision: str
    gpu_count: int
    context_tokens: int
    fits: bool
    memory_gb: MemoryGb
    max_concurrent_sequences: int | None
    min_gpus_to_fit: int | None


class CapacityResult(Model):
    """One replica at the highest load that meets the latency target."""

    model: str
    gpu: str
    gpus_per_replica: int
    precision: str
    kv_precision: str
    engine: str
    fits: bool
    memory_gb: MemoryGb
    output_tokens_per_second: float | None  # None when the model does not fit
    input_tokens_per_second: float | None
    requests_per_second: float | None
    concurrency: int | None
    ttft_ms: float | None
    tpot_ms: float | None
    meets_slo: bool
    source: str


def _kv(precision: str, kv_precision: str | None) -> str:
    return kv_precision or memory.default_kv_precision(precision)


def _precision(precision: str) -> str:
    """The format ``precision`` names: FP8 -> fp8, AWQ -> int4 (``memory.precision_key``)."""
    return memory.precision_key(precision)[0]


def fit(
    model: str,
    gpu: str,
    precision: str = "bf16",
    gpu_count: int | None = None,
    context_tokens: int = 4096,
    catalog: Catalog | None = None,
) -> FitResult:
    """The memory plan of ``model`` on ``gpu_count`` x ``gpu`` (default: the fewest that fit)."""
    precision = _precision(precision)
    if gpu_count is not None and gpu_count < 1:
        raise LlmTcoError("must be at least 1", field="gpu_count")
    if context_tokens < 1:
        raise LlmTcoError("must be at least 1", field="context_tokens")
    catalog = catalog or load_catalog()
    arch, spec = catalog.model(model), catalog.gpu(gpu)
    kv = _kv(precision, None)
    min_fit = memory.min_gpus_to_fit(arch, spec, precision, kv, context_tokens=context_tokens)
    gpus = gpu_count or min_fit or 1
    plan = memory.plan_memory(arch, spec, precision, kv, gpus, context_tokens)
    return FitResult(
        model=arch.id,
        gpu=spec.id,
        precision=precision,
        gpu_count=gpus,
        context_tokens=context_tokens,
        fits=plan.fits,
        memory_gb=_memory_gb(plan),
        max_concurrent_sequences=plan.max_concurrent_sequences,
        min_gpus_to_fit=min_fit,
    )


def _memory_gb(plan: memory.MemoryPlan) -> MemoryGb:
    return MemoryGb(
        weights=plan.weights_gb,
        kv_cache=plan.kv_cache_gb,
        overhead=plan.overhead_gb,
        available=plan.available_gb,
    )


def capacity(
    model: str,
    gpu: str,
    gpus_per_replica: int = 1,
    precision: str = "bf16",
    kv_precision: str | None = None,
    input_tokens: int = 1000,
    output_tokens: int = 500,
    tpot_slo_ms: float = 50.0,
    ttft_slo_ms: float = 2000.0,
    engine: str = "vllm",
    catalog: Catalog | None = None,
) -> CapacityResult:
    """One replica's throughput at the highest load meeting the TPOT and TTFT targets."""
    from llm_tco.capacity_factors import engine_efficiency
    from llm_tco.core.capacity import Slo, engine_key, replica_capacity

    precision = _precision(precision)
    engine = engine_key(engine)
    catalog = catalog or load_catalog()
    arch, spec = catalog.model(model), catalog.gpu(gpu)
    efficiency = engine_efficiency(catalog, engine, spec.vendor, arch.experts is not None)
    if kv_precision is not None:
        kv_precision = memory.precision_key(kv_precision, "kv_precision")[0]
    kv = _kv(precision, kv_precision)
    context = input_tokens + output_tokens
    plan = memory.plan_memory(arch, spec, precision, kv, gpus_per_replica, context)
    figures: dict[str, object] = {
        "output_tokens_per_second": None,
        "input_tokens_per_second": None,
        "requests_per_second": None,
        "concurrency": None,
        "ttft_ms": None,
        "tpot_ms": None,
        "meets_slo": False,
    }
    if plan.fits:
        best = replica_capacity(
            arch,
            spec,
            precision,
            kv,
            gpus_per_replica,
            input_tokens,
            output_tokens,
            Slo(tpot_ms=tpot_slo_ms, ttft_ms=ttft_slo_ms),
            efficiency,
        )
        figures = {
            "output_tokens_per_second": best.output_tokens_per_second,
            "input_tokens_per_second": best.input_tokens_per_second,
            "requests_per_second": best.requests_per_second,
            "concurrency": best.concurrency,
            "ttft_ms": best.ttft_ms,
            "tpot_ms": best.tpot_ms,
            "meets_slo": best.meets_slo,
        }
    return CapacityResult(
        model=arch.id,
        gpu=spec.id,
        gpus_per_replica=gpus_per_replica,
        precision=precision,
        kv_precision=kv,
        engine=engine,
        fits=plan.fits,
        memory_gb=_memory_gb(plan),
        source=efficiency.source,
        **figures,
    )
