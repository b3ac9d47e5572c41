"""`llm-tco fit MODEL GPU`: the memory plan of a model on GPUs, and the fewest GPUs that hold it."""

from __future__ import annotations

import json

from rich.console import Console

from llm_tco.catalog.loader import Catalog
from llm_tco.core import memory
from llm_tco.errors import LlmTcoError
from llm_tco.report.terminal import Col, print_table

PRECISIONS = tuple(memory.BYTES_PER_PARAM)


def run_fit(
    catalog: Catalog,
    model: str,
    gpu: str,
    precision: str,
    count: int | None,
    context: int,
    output: str,
    console: Console,
) -> bool:
    """Print the memory plan; True when the model fits."""
    if precision not in PRECISIONS:
        raise LlmTcoError(
            f"unknown precision '{precision}'",
            field="--precision",
            hint=f"use one of {', '.join(PRECISIONS)}",
        )
    if count is not None and count < 1:
        raise LlmTcoError("must be at least 1", field="--count")
    if context < 1:
        raise LlmTcoError("must be at least 1", field="--context")
    arch, spec = catalog.model(model), catalog.gpu(gpu)
    kv = "fp8" if precision == "fp8" else "bf16"
    min_fit = memory.min_gpus_to_fit(arch, spec, precision, kv, context_tokens=context)
    gpus = count or min_fit or 1
    plan = memory.plan_memory(arch, spec, precision, kv, gpus, context)
    payload = {
        "model": arch.id,
        "gpu": spec.id,
        "precision": precision,
        "gpu_count": gpus,
        "context_tokens": context,
        "fits": plan.fits,
        "memory_gb": {
            "weights": plan.weights_gb,
            "kv_cache": plan.kv_cache_gb,
            "overhead": plan.overhead_gb,
            "available": plan.available_gb,
        },
        "max_concurrent_sequences": plan.max_concurrent_sequences,
        "min_gpus_to_fit": min_fit,
    }
    if output == "json":
        print(json.dumps(payload, indent=2))
        return plan.fits
    label = "weights (every expert resident)" if arch.experts else "weights"
    rows = [
        [label, f"{plan.weights_gb:.1f}"],
        ["runtime overhead", f"{plan.overhead_gb:.1f}"],
        ["left for KV cache", f"{plan.kv_cache_gb:.1f}"],
        ["GPU memory", f"{plan.available_gb:.1f}"],
    ]
    title = f"{arch.name} at {precision} on {gpus} x {spec.name}"
    print_table(console, title, [Col("item", "id"), Col("GB", "num")], rows)
    verdict = "fits" if plan.fits else "does NOT fit"
    console.print(
        f"{verdict}; {plan.max_concurrent_sequences} concurrent sequences of {context} tokens; "
        f"fewest {spec.id} that fit: {min_fit if min_fit else 'more than 32'}"
    )
    return plan.fits
