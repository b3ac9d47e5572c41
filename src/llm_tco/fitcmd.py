"""`llm-tco fit MODEL GPU`: the memory plan of a model on GPUs, and the fewest GPUs that hold it."""

from __future__ import annotations

import json

from rich.console import Console

from llm_tco.catalog.loader import Catalog
from llm_tco.core import memory
from llm_tco.report.terminal import Col, print_table

PRECISIONS = tuple(memory.BYTES_PER_PARAM)


def run_fit(
    catalog: Catalog,
    model: str,
    gpu: str,
    precision: str | None,
    count: int | None,
    context: int,
    output: str,
    console: Console,
) -> bool:
    """Print the memory plan; True when the model fits."""
    from llm_tco.public import fit

    reading = None
    if precision is None:
        precision, reading = memory.checkpoint_precision(model, catalog.model(model))
    found = fit(model, gpu, precision, count, context, catalog)
    payload = found.model_dump()
    arch, spec = catalog.model(found.model), catalog.gpu(found.gpu)
    gpus, min_fit = found.gpu_count, found.min_gpus_to_fit
    plan = found.memory_gb
    if output == "json":
        print(json.dumps(payload, indent=2))
        return found.fits
    label = "weights (every expert resident)" if arch.experts else "weights"
    rows = [
        [label, f"{plan.weights:.1f}"],
        ["runtime overhead", f"{plan.overhead:.1f}"],
        ["left for KV cache", f"{plan.kv_cache:.1f}"],
        ["GPU memory", f"{plan.available:.1f}"],
    ]
    title = f"{arch.name} at {found.precision} on {gpus} x {spec.name}"
    if reading:
        console.print(f"assumed: {reading}")
    print_table(console, title, [Col("item", "id"), Col("GB", "num")], rows)
    verdict = "fits" if found.fits else "does NOT fit"
    console.print(
        f"{verdict}; {found.max_concurrent_sequences} concurrent sequences of {context} tokens; "
        f"fewest {spec.id} that fit: {min_fit if min_fit else 'more than 32'}"
    )
    return found.fits
