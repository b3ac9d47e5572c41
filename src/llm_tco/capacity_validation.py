"""Validate the capacity model against the catalog's published measurements.

Resolves each benchmark row's model and GPU in a catalog, fits or loads engine efficiency factors,
and compares predicted with measured output tokens/s. Used by ``llm-tco validate-capacity`` and
``benchmarks/calibrate_capacity.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from llm_tco.capacity_factors import catalog_efficiencies
from llm_tco.catalog.benchmarks import ENGINES, BenchmarkRow
from llm_tco.catalog.loader import Catalog, read_rows
from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.core.calibration import (
    Case,
    CaseResult,
    ErrorStats,
    error_stats,
    evaluate,
    fit_hierarchy,
)
from llm_tco.core.capacity import Efficiency, select_efficiency
from llm_tco.errors import CatalogLookupError

# Engines whose default KV cache follows the activations (bf16) unless the row says otherwise;
# TensorRT-LLM FP8 builds store an FP8 KV cache (its perf docs note this).
KV_FOLLOWS_WEIGHTS = {"trtllm"}


@dataclass(frozen=True)
class Validation:
    results: list[CaseResult]
    skipped: list[tuple[str, str]]  # (row id, reason)
    efficiencies: dict[str, Efficiency]
    held_out: ErrorStats
    calibration: ErrorStats
    overall: ErrorStats


def kv_precision_of(row: BenchmarkRow) -> str:
    if row.kv_precision is not None:
        return row.kv_precision
    if row.engine in KV_FOLLOWS_WEIGHTS and row.precision in ("fp8", "fp4"):
        return "fp8"
    return "bf16"


def build_cases(catalog: Catalog) -> tuple[list[Case], list[tuple[str, str]]]:
    """Cases for every benchmark row whose model and GPU the catalog knows."""
    cases: list[Case] = []
    skipped: list[tuple[str, str]] = []
    for row in catalog.benchmarks:
        try:
            arch, gpu = catalog.model(row.model), catalog.gpu(row.gpu)
        except CatalogLookupError as exc:
            skipped.append((row.id, str(exc)))
            continue
        cases.append(
            Case(
                row_id=row.id,
                engine=row.engine,
                arch=arch,
                gpu=gpu,
                precision=row.precision,
                kv_precision=kv_precision_of(row),
                gpus=row.gpu_count,
                input_tokens=row.input_tokens,
                output_tokens=row.output_tokens,
                concurrency=None if row.mode == "offline-max" else row.concurrency,
                measured_output_tokens_per_second=row.measured_output_tokens_per_second,
            )
        )
    return cases, skipped


def fit_all(cases: list[Case]) -> dict[str, Efficiency]:
    """Fit the factors on the calibration rows only (see ``fit_hierarchy``)."""
    return fit_hierarchy(cases)


def validate(catalog: Catalog, refit: bool = False) -> Validation:
    """Predicted vs measured for every resolvable row, with the catalog's (or refitted) factors."""
    cases, skipped = build_cases(catalog)
    efficiencies = fit_all(cases) if refit else catalog_efficiencies(catalog)
    usable = []
    for case in cases:
        if select_efficiency(efficiencies, case.engine, case.gpu.vendor) is not None:
            usable.append(case)
        else:
            skipped.append((case.row_id, f"no efficiency factors for engine {case.engine}"))
    results = evaluate(usable, efficiencies)
    return Validation(
        results=results,
        skipped=skipped,
        efficiencies=efficiencies,
        held_out=error_stats([r for r in results if not r.case.calibration]),
        calibration=error_stats([r for r in results if r.case.calibration]),
        overall=error_stats(results),
    )


def with_extra_rows(catalog: Catalog, data_dir: Path) -> Catalog:
    """The catalog plus GPU and model rows from ``data_dir`` whose ids it lacks."""
    gpu_ids = {g.id for g in catalog.gpus}
    model_ids = {m.id for m in catalog.models}
    gpus_path, models_path = data_dir / "gpus.yaml", data_dir / "models.yaml"
    extra_gpus = read_rows(gpus_path, GpuSpec) if gpus_path.exists() else []
    extra_models = read_rows(models_path, ModelArch) if models_path.exists() else []
    return replace(
        catalog,
        gpus=catalog.gpus + tuple(g for g in extra_gpus if g.id not in gpu_ids),
        models=catalog.models + tuple(m for m in extra_models if m.id not in model_ids),
    )


def efficiency_rows(
    efficiencies: dict[str, Efficiency], cases: list[Case], as_of: dt.date
) -> list[dict[str, object]]:
    """Rows for ``efficiency.yaml``: fitted engines, then stand-ins for engines without rows."""
    rows: list[dict[str, object]] = []
    for key, eff in sorted(efficiencies.items()):
        engine, _, vendor = key.partition("/")
        ids = [
            c.row_id
            for c in cases
            if c.engine == engine and c.calibration and vendor in ("", c.gpu.vendor)
        ]
        rows.append(_efficiency_dict(eff, engine, vendor or None, ids, as_of, notes=None))
    stand_in = efficiencies.get("vllm")
    for engine in ENGINES:
        if engine not in efficiencies and stand_in is not None:
            note = (
                f"no {engine} rows in the validation set yet: the vllm fit stands in; "
                "replace with a pilot measurement (llm-tco bench) or published rows"
            )
            rows.append(_efficiency_dict(stand_in, engine, None, [], as_of, notes=note))
    return rows


def _efficiency_dict(
    eff: Efficiency,
    engine: str,
    vendor: str | None,
    ids: list[str],
    as_of: dt.date,
    notes: str | None,
) -> dict[str, object]:
    row: dict[str, object] = {
        "engine": engine,
        "gpu_vendor": vendor,
        "bandwidth_efficiency": eff.bandwidth_efficiency,
        "compute_efficiency": eff.compute_efficiency,
        "prefill_compute_efficiency": eff.prefill_compute_efficiency,
        "link_efficiency": eff.link_efficiency,
        "max_batch_size": eff.max_batch_size,
        "allreduce_latency_us": eff.allreduce_latency_us,
        "calibration_rows": ids,
        "source": (
            "fitted by benchmarks/calibrate_capacity.py on the calibration rows of "
            "benchmarks.yaml (sha256(id)[0] mod 5 < 2): shared factors on all of them, "
            "then efficiencies per engine, then per engine x GPU vendor; calibration_rows "
            "lists this group's rows"
        ),
        "as_of": as_of.isoformat(),
    }
    if notes:
        row["notes"] = notes
    return row


def _stats_dict(stats: ErrorStats) -> dict[str, object]:
    return {
        "rows": stats.rows,
        "median_ape_percent": round(stats.median_ape, 2) if stats.rows else None,
        "by_gpu": {
            k: {"rows": n, "median_ape_percent": round(m, 2)} for k, (n, m) in stats.by_gpu.items()
        },
        "by_class": {
            k: {"rows": n, "median_ape_percent": round(m, 2)}
            for k, (n, m) in stats.by_class.items()
        },
    }


def validation_dict(v: Validation) -> dict[str, object]:
    """Plain data every renderer (table, markdown, JSON) draws from."""
    rows = [
        {
            "id": r.case.row_id,
            "model": r.case.arch.id,
            "gpu": r.case.gpu.id,
            "gpus": r.case.gpus,
            "precision": r.case.precision,
            "engine": r.case.engine,
            "input_tokens": r.case.input_tokens,
            "output_tokens": r.case.output_tokens,
            "concurrency": r.case.concurrency,
            "moe": r.case.is_moe,
            "split": "calibration" if r.case.calibration else "held-out",
            "measured_output_tokens_per_second": round(r.case.measured_output_tokens_per_second, 1),
            "predicted_output_tokens_per_second": round(r.predicted_output_tokens_per_second, 1),
            "ape_percent": round(r.ape, 1),
        }
        for r in v.results
    ]
    return {
        "held_out": _stats_dict(v.held_out),
        "calibration": _stats_dict(v.calibration),
        "overall": _stats_dict(v.overall),
        "efficiency": {
            engine: {
                "bandwidth_efficiency": e.bandwidth_efficiency,
                "compute_efficiency": e.compute_efficiency,
                "prefill_compute_efficiency": e.prefill_compute_efficiency,
                "link_efficiency": e.link_efficiency,
                "max_batch_size": e.max_batch_size,
                "allreduce_latency_us": e.allreduce_latency_us,
            }
            for engine, e in sorted(v.efficiencies.items())
        },
        "rows": rows,
        "skipped": [{"id": i, "reason": reason} for i, reason in v.skipped],
    }
