"""CLI commands ``capacity`` and ``validate-capacity``; the main CLI calls :func:`register`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from llm_tco.capacity_factors import catalog_efficiencies
from llm_tco.capacity_validation import (
    validate,
    validation_dict,
    with_extra_rows,
)
from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.core.capacity import (
    Efficiency,
    Prediction,
    Slo,
    predict,
    replica_capacity,
    select_efficiency,
)
from llm_tco.core.memory import MemoryPlan, plan_memory
from llm_tco.errors import CatalogLookupError, LlmTcoError, print_error

BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)
RUNTIME_OVERHEAD_NOTE = "overhead (engine headroom, activations, CUDA graphs)"


def _fail(error: LlmTcoError) -> None:
    print_error(error)
    raise typer.Exit(2)


def _efficiency(catalog: Catalog, engine: str, vendor: str) -> Efficiency:
    factors = catalog_efficiencies(catalog)
    found = select_efficiency(factors, engine, vendor)
    if found is None:
        raise CatalogLookupError(
            f"no efficiency factors for engine '{engine}'",
            field="engine",
            hint=f"known: {', '.join(sorted(factors)) or 'none (efficiency.yaml missing)'}",
        )
    return found


def _memory_gb(plan: MemoryPlan) -> dict[str, float]:
    """The memory plan's figures for display, GB (1e9 bytes); the same plan `llm-tco fit` shows."""
    return {
        "weights": round(plan.weights_gb, 2),
        "kv_cache": round(plan.kv_cache_gb, 2),
        "overhead": round(plan.overhead_gb, 2),
        "available": round(plan.available_gb, 2),
        "kv_per_sequence": round(plan.kv_gb_per_sequence, 4),
    }


def _prediction_dict(p: Prediction) -> dict[str, Any]:
    return {
        "concurrency": p.concurrency,
        "output_tokens_per_second": round(p.output_tokens_per_second, 1),
        "input_tokens_per_second": round(p.input_tokens_per_second, 1),
        "requests_per_second": round(p.requests_per_second, 3),
        "ttft_ms": round(p.ttft_ms, 1),
        "tpot_ms": round(p.tpot_ms, 2),
        "bound": p.bound,
    }


def capacity(
    model: str = typer.Argument(..., help="model id or alias, e.g. llama-3.1-8b"),
    gpu: str = typer.Argument(..., help="GPU id or alias, e.g. h100-sxm-80gb"),
    count: int = typer.Option(1, "--count", "-n", help="GPUs per replica (tensor parallel)"),
    precision: str = typer.Option("bf16", help="weights: bf16, fp16, fp8, int8, int4, mxfp4, fp4"),
    kv_precision: str | None = typer.Option(None, help="KV cache (default: bf16, fp8 for fp8)"),
    input_len: int = typer.Option(1000, help="prompt tokens per request"),
    output_len: int = typer.Option(500, help="output tokens per request"),
    tpot_slo: float = typer.Option(50.0, help="time-per-output-token target, ms"),
    ttft_slo: float = typer.Option(2000.0, help="time-to-first-token target, ms"),
    concurrency: int | None = typer.Option(None, help="predict the steady state at C requests"),
    engine: str = typer.Option("vllm", help="vllm, sglang, trtllm or llamacpp"),
    output_format: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Memory plan, throughput and latency by batch size, and the max load at the SLO."""
    try:
        catalog = load_catalog()
        arch, spec = catalog.model(model), catalog.gpu(gpu)
        eff = _efficiency(catalog, engine, spec.vendor)
        kv = kv_precision or ("fp8" if precision == "fp8" else "bf16")
        context = input_len + output_len
        plan = plan_memory(arch, spec, precision, kv, count, context)
        limit, fits = plan.max_concurrent_sequences, plan.fits
        result: dict[str, Any] = {
            "model": arch.id,
            "gpu": spec.id,
            "gpus_per_replica": count,
            "precision": precision,
            "kv_precision": kv,
            "engine": engine,
            "fits": fits,
            "memory_gb": _memory_gb(plan),
            "max_concurrent_sequences": limit,
            "output_tokens_per_second": None,
            "max_output_tokens_per_second": None,
            "ttft_ms": None,
            "tpot_ms": None,
            "by_batch_size": [],
            "source": eff.source,
        }
        if fits:
            args = (arch, spec, precision, kv, count, input_len, output_len)
            best = replica_capacity(*args, Slo(tpot_slo, ttft_slo), eff)
            result["max_output_tokens_per_second"] = round(best.output_tokens_per_second, 1)
            result["at_slo"] = {
                "concurrency": best.concurrency,
                "requests_per_second": round(best.requests_per_second, 3),
                "ttft_ms": round(best.ttft_ms, 1),
                "tpot_ms": round(best.tpot_ms, 2),
                "meets_slo": best.meets_slo,
            }
            sizes = [b for b in BATCH_SIZES if b <= min(limit, eff.max_batch_size)]
            result["by_batch_size"] = [_prediction_dict(predict(*args, b, eff)) for b in sizes]
            if concurrency is not None:
                at = predict(*args, concurrency, eff)
                result["output_tokens_per_second"] = round(at.output_tokens_per_second, 1)
                result["ttft_ms"] = round(at.ttft_ms, 1)
                result["tpot_ms"] = round(at.tpot_ms, 2)
            else:
                result["ttft_ms"] = round(best.ttft_ms, 1)
                result["tpot_ms"] = round(best.tpot_ms, 2)
    except LlmTcoError as error:
        _fail(error)
        return
    if output_format == "json":
        typer.echo(json.dumps(result, indent=2))
    else:
        _print_capacity(result, tpot_slo, ttft_slo)


def _print_capacity(result: dict[str, Any], tpot_slo: float, ttft_slo: float) -> None:
    console = Console()
    m = result["memory_gb"]
    console.print(
        f"[bold]{result['model']}[/] {result['precision']} (KV {result['kv_precision']}) on "
        f"{result['gpus_per_replica']} x {result['gpu']}, engine {result['engine']}"
    )
    console.print(
        f"memory GB: available {m['available']} = weights {m['weights']} + KV cache "
        f"{m['kv_cache']} + {RUNTIME_OVERHEAD_NOTE} {m['overhead']}; "
        f"{m['kv_per_sequence']} GB per sequence -> {result['max_concurrent_sequences']} sequences"
    )
    if not result["fits"]:
        console.print("[red]does not fit[/]: use more GPUs, a lower precision or a larger GPU")
        return
    table = Table(
        "concurrency", "output tok/s", "input tok/s", "req/s", "TTFT ms", "TPOT ms", "bound"
    )
    for row in result["by_batch_size"]:
        table.add_row(
            *(
                str(row[k])
                for k in (
                    "concurrency",
                    "output_tokens_per_second",
                    "input_tokens_per_second",
                    "requests_per_second",
                    "ttft_ms",
                    "tpot_ms",
                    "bound",
                )
            )
        )
    console.print(table)
    slo = result["at_slo"]
    verdict = "" if slo["meets_slo"] else " [red](misses the SLO even at concurrency 1)[/]"
    console.print(
        f"max at SLO (TPOT <= {tpot_slo} ms, TTFT <= {ttft_slo} ms): "
        f"{result['max_output_tokens_per_second']} output tok/s at concurrency "
        f"{slo['concurrency']} (TTFT {slo['ttft_ms']} ms, TPOT {slo['tpot_ms']} ms){verdict}"
    )
    if result["output_tokens_per_second"] is not None:
        console.print(
            f"at the requested concurrency: {result['output_tokens_per_second']} output tok/s, "
            f"TTFT {result['ttft_ms']} ms, TPOT {result['tpot_ms']} ms"
        )
    console.print(f"[dim]{result['source']}[/]")


def validate_capacity(
    output_format: str = typer.Option("table", "--format", help="table, markdown or json"),
    refit: bool = typer.Option(False, help="refit the factors on the calibration rows"),
    extra_catalog: Path | None = typer.Option(
        None, help="directory with gpus.yaml / models.yaml rows to add where the catalog lacks them"
    ),
) -> None:
    """Predicted vs measured output tokens/s for every validation row, with error statistics."""
    try:
        catalog = load_catalog()
        if extra_catalog is not None:
            catalog = with_extra_rows(catalog, extra_catalog)
        data = validation_dict(validate(catalog, refit=refit))
    except LlmTcoError as error:
        _fail(error)
        return
    if output_format == "json":
        typer.echo(json.dumps(data, indent=2))
    elif output_format == "markdown":
        typer.echo(validation_markdown(data))
    else:
        _print_validation(data)


ROW_COLUMNS = (
    "id",
    "split",
    "measured_output_tokens_per_second",
    "predicted_output_tokens_per_second",
    "ape_percent",
)


def _stats_lines(data: dict[str, Any]) -> list[str]:
    lines = []
    for name in ("held_out", "calibration", "overall"):
        s = data[name]
        gpus = ", ".join(
            f"{k} {v['median_ape_percent']}% ({v['rows']})" for k, v in s["by_gpu"].items()
        )
        classes = ", ".join(
            f"{k} {v['median_ape_percent']}% ({v['rows']})" for k, v in s["by_class"].items()
        )
        lines.append(
            f"{name.replace('_', '-')}: {s['rows']} rows, median APE {s['median_ape_percent']}%"
        )
        lines.append(f"  by GPU: {gpus}")
        lines.append(f"  by class: {classes}")
    return lines


def _print_validation(data: dict[str, Any]) -> None:
    console = Console()
    table = Table("row", "split", "measured tok/s", "predicted tok/s", "APE %")
    for row in data["rows"]:
        table.add_row(*(str(row[k]) for k in ROW_COLUMNS))
    console.print(table)
    for line in _stats_lines(data):
        console.print(line)
    for skipped in data["skipped"]:
        console.print(f"[yellow]skipped[/] {skipped['id']}: {skipped['reason']}")


def validation_markdown(data: dict[str, Any]) -> str:
    lines = [
        "| row | split | measured output tok/s | predicted | APE % |",
        "|---|---|---:|---:|---:|",
    ]
    lines += ["| " + " | ".join(str(row[k]) for k in ROW_COLUMNS) + " |" for row in data["rows"]]
    lines += ["", "```", *_stats_lines(data), "```"]
    lines += [f"- skipped {s['id']}: {s['reason']}" for s in data["skipped"]]
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add the ``capacity`` and ``validate-capacity`` commands to ``app``."""
    app.command("capacity")(capacity)
    app.command("validate-capacity")(validate_capacity)
