"""Validate the capacity model against the catalog's published measurements.

Resolves each measurement's model and GPU, groups rows by publisher, and reports the
leave-one-publisher-out error (factors fitted on every other publisher) overall and by publisher,
GPU, engine, dense/MoE and load mode. Used by ``llm-tco validate-capacity`` and
``benchmarks/calibrate_capacity.py``, which also writes the factors fitted on all rows
(``efficiency.yaml``) and the error band (``capacity_error.yaml``).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict

from llm_tco.catalog.benchmarks import ENGINES, BenchmarkRow, CapacityErrorBand
from llm_tco.catalog.loader import Catalog, read_rows
from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.core.calibration import (
    Case,
    CaseResult,
    Fit,
    GroupError,
    engine_keys,
    errors_by,
    group_error,
    leave_one_publisher_out,
    publisher_level_removed,
)
from llm_tco.core.capacity import Efficiency, engine_generation
from llm_tco.core.engine_versions import LaunchFlags
from llm_tco.core.memory import Layout
from llm_tco.errors import CatalogLookupError, ScenarioError

# Engines whose default KV cache follows the activations (bf16) unless the row says otherwise;
# TensorRT-LLM FP8 builds store an FP8 KV cache (its perf docs note this).
KV_FOLLOWS_WEIGHTS = {"trtllm"}
QUANTILES = (5, 10, 25, 50, 75, 90, 95)
# Reason prefix of a row left out because its source says the run is not comparable
# (``BenchmarkRow.not_comparable``); it is counted among the skipped rows, not predicted.
NOT_COMPARABLE = "not comparable (source)"


def kv_precision_of(row: BenchmarkRow) -> str:
    if row.kv_precision is not None:
        return row.kv_precision
    if row.engine in KV_FOLLOWS_WEIGHTS and row.precision in ("fp8", "fp4"):
        return "fp8"
    return "bf16"


def publisher_of(row: BenchmarkRow) -> str:
    """The row's ``publisher``, else who published its source: copies of NVIDIA's TensorRT-LLM
    performance overview are NVIDIA's; a GitHub page is its owner's; else the site's domain."""
    if row.publisher:
        return row.publisher
    if "tensorrt-llm" in row.source.lower():
        return "NVIDIA"
    url = urlparse(row.source.split()[0])
    host = (url.hostname or row.source).removeprefix("www.")
    if host == "github.com":
        owner = url.path.strip("/").split("/")[0]
        return owner or host
    parts = host.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else host


def layout_of(row: BenchmarkRow) -> Layout:
    """The row's layout in this model's terms (see ``llm_tco.core.memory.Layout``)."""
    return Layout(
        gpus=row.gpu_count,
        pipeline=row.pipeline_parallel or 1,
        expert=row.expert_parallel or 1,
        data=row.data_parallel or 1,
    )


def build_cases(
    catalog: Catalog, rows: Sequence[BenchmarkRow] | None = None
) -> tuple[list[Case], list[tuple[str, str]]]:
    """Cases for every measurement (``rows``, else the catalog's own) whose model and GPU the
    catalog knows, whose layout is consistent and which the model can size (e.g. the weights
    fit); the others are listed with the reason. A row whose source says it is not comparable
    (``not_comparable``) is listed too, never predicted or fitted."""
    measured = catalog.benchmarks if rows is None else rows
    cases: list[Case] = []
    skipped: list[tuple[str, str]] = []
    # One spelling per publisher: the first a row names explicitly, else the derived one.
    spelling: dict[str, str] = {}
    for row in sorted(measured, key=lambda r: r.publisher is None):
        spelling.setdefault(publisher_of(row).lower(), publisher_of(row))
    # Rows name few distinct models and GPUs: resolve each name once.
    models = functools.cache(catalog.model)
    gpus = functools.cache(catalog.gpu)
    for row in measured:
        if row.not_comparable is not None:
            skipped.append((row.id, f"{NOT_COMPARABLE}: {row.not_comparable}"))
            continue
        try:
            arch, gpu = models(row.model), gpus(row.gpu)
            layout = layout_of(row)
        except (CatalogLookupError, ScenarioError) as exc:
            skipped.append((row.id, str(exc)))
            continue
        cases.append(
            Case(
                row_id=row.id,
                publisher=spelling[publisher_of(row).lower()],
                engine=row.engine,
                arch=arch,
                gpu=gpu,
                precision=row.precision,
                kv_precision=kv_precision_of(row),
                layout=layout,
                input_tokens=row.input_tokens,
                output_tokens=row.output_tokens,
                mode=row.mode,
                concurrency=row.concurrency,
                request_rate=row.request_rate,
                measured_output_tokens_per_second=row.measured_output_tokens_per_second,
                num_requests=row.num_requests,
                variable_lengths=_variable_lengths(row),
                generation=engine_generation(
                    row.engine, row.engine_version, gpu.vendor, row.cuda_graphs
                ),
                launch=LaunchFlags(row.max_batch_size, row.max_num_tokens),
            )
        )
    return _usable(cases, skipped), skipped


def _variable_lengths(row: BenchmarkRow) -> bool:
    """Whether the row's requests differ in length: a conversation dataset such as ShareGPT
    (each request keeps its recorded output length), not a random dataset of fixed lengths."""
    return row.lengths_estimated and "sharegpt" in (row.dataset or "").lower()


def _usable(cases: list[Case], skipped: list[tuple[str, str]]) -> list[Case]:
    """Cases the model can size (e.g. the weights fit); the rest join ``skipped``."""
    from llm_tco.core.calibration import CaseSet

    usable = []
    for case in cases:
        try:
            CaseSet.build([case], (), ())
        except ScenarioError as exc:
            skipped.append((case.row_id, str(exc)))
            continue
        usable.append(case)
    return usable


# --- result models ----------------------------------------------------------------------------


class ErrorSummary(BaseModel):
    """Error of one group of rows, percent."""

    model_config = ConfigDict(frozen=True)

    rows: int
    median_ape_percent: float
    mape_percent: float
    median_signed_percent: float  # bias: positive = the model over-predicts

    @classmethod
    def of(cls, e: GroupError) -> ErrorSummary:
        return cls(
            rows=e.rows,
            median_ape_percent=round(e.median_ape, 1),
            mape_percent=round(e.mape, 1),
            median_signed_percent=round(e.median_signed, 1),
        )


class RowResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    publisher: str
    model: str
    gpu: str
    gpus: int
    precision: str
    engine: str
    mode: str
    input_tokens: float
    output_tokens: float
    concurrency: int | None
    moe: bool
    measured_output_tokens_per_second: float
    predicted_output_tokens_per_second: float  # by factors fitted without this publisher
    ape_percent: float


class FactorSet(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    bandwidth_efficiency: float
    compute_efficiency: float
    prefill_compute_efficiency: float
    link_efficiency: float
    allreduce_latency_us: float
    step_overhead_ms: float
    layer_overhead_us: float
    moe_block_tokens: float
    moe_layer_overhead_us: float
    sequence_overhead_us: float = 0.0
    dequant_compute_efficiency: float = 1.0


class CapacityValidation(BaseModel):
    """Leave-one-publisher-out validation of the capacity model: what every renderer draws."""

    model_config = ConfigDict(frozen=True)

    method: str
    overall: ErrorSummary
    by_publisher: dict[str, ErrorSummary]
    by_gpu: dict[str, ErrorSummary]
    by_engine: dict[str, ErrorSummary]
    by_class: dict[str, ErrorSummary]
    by_mode: dict[str, ErrorSummary]
    measured_over_predicted: dict[str, dict[str, float]]  # group -> quantile label -> ratio
    # all / dense / moe error with each publisher's median ratio divided out: the part of the
    # error that is not the held-out source's overall level (publisher_level_removed)
    level_removed: dict[str, ErrorSummary]
    factors: list[FactorSet]  # fitted on every row
    rows: list[RowResult]
    skipped: list[tuple[str, str]]
    seconds: float  # wall clock of the whole validation
    cpu_seconds: float  # CPU time of this process (what a busy machine does not inflate)
    rows_given: int | None = None  # a check of someone's own measurements: rows in their file

    @property
    def not_comparable_rows(self) -> int:
        """Skipped rows whose source says the run is not comparable (``not_comparable``)."""
        return sum(reason.startswith(NOT_COMPARABLE) for _, reason in self.skipped)

    @property
    def coverage_percent(self) -> float | None:
        """Share of the given rows that got a prediction (a check of one's own rows only)."""
        if not self.rows_given:
            return None
        return round(100 * self.overall.rows / self.rows_given, 1)


METHOD = (
    "leave-one-publisher-out: for each publisher, the factors are fitted on every other "
    "publisher's rows and predict its rows; APE = |predicted - measured| / measured"
)
EXTERNAL_METHOD = (
    "your measurements, each predicted by the shipped factors (efficiency.yaml: fitted on "
    "every published measurement this tool holds, none of yours), as `llm-tco capacity` "
    "predicts; APE = |predicted - measured| / measured"
)


def _klass(r: CaseResult) -> str:
    return "moe" if r.case.is_moe else "dense"


def ratio_quantiles(results: list[CaseResult]) -> dict[str, float]:
    """Quantiles of measured / predicted (the factor to multiply a prediction by)."""
    ratios = sorted(1.0 / r.ratio for r in results)
    if len(ratios) < 2:
        return {f"p{q:02d}": round(ratios[0], 4) for q in QUANTILES} if ratios else {}
    cuts = statistics.quantiles(ratios, n=100, method="inclusive")
    return {f"p{q:02d}": round(cuts[q - 1], 4) for q in QUANTILES}


def _factor_set(key: str, e: Efficiency) -> FactorSet:
    return FactorSet(
        key=key,
        bandwidth_efficiency=e.bandwidth_efficiency,
        compute_efficiency=e.compute_efficiency,
        prefill_compute_efficiency=e.prefill_compute_efficiency,
        link_efficiency=e.link_efficiency,
        allreduce_latency_us=e.allreduce_latency_us,
        step_overhead_ms=e.step_overhead_ms,
        layer_overhead_us=e.layer_overhead_us,
        moe_block_tokens=e.moe_block_tokens,
        moe_layer_overhead_us=e.moe_layer_overhead_us,
        sequence_overhead_us=e.sequence_overhead_us,
        dequant_compute_efficiency=e.dequant_compute_efficiency,
    )


def validate(catalog: Catalog) -> tuple[CapacityValidation, Fit, list[Case]]:
    """Leave-one-publisher-out errors, and the factors fitted on every usable row."""
    started, cpu_started = time.perf_counter(), time.process_time()
    cases, skipped = build_cases(catalog)
    results, full = leave_one_publisher_out(cases)
    factors = engine_keys(full, ENGINES)
    report = _report(METHOD, results, factors, skipped, started, cpu_started)
    return report, full, cases


def check_measurements(catalog: Catalog, rows: Sequence[BenchmarkRow]) -> CapacityValidation:
    """The error of the shipped capacity model (the factors in ``efficiency.yaml``, fitted on
    every measurement the catalog holds, as ``llm-tco capacity`` uses them) on ``rows``, which
    no factor was fitted on. Rows it cannot predict (an unknown model or GPU, weights that do
    not fit) are listed in ``skipped`` with the reason; ``rows_given`` counts them all."""
    from llm_tco.capacity_factors import catalog_efficiencies
    from llm_tco.core.calibration import predict_each
    from llm_tco.core.capacity import select_efficiency

    started, cpu_started = time.perf_counter(), time.process_time()
    cases, skipped = build_cases(catalog, rows)
    shipped = catalog_efficiencies(catalog)
    known, effs, used = [], [], {}
    for case in cases:
        eff = select_efficiency(shipped, case.engine, case.gpu.vendor)
        if eff is None:
            skipped.append((case.row_id, f"no fitted factors for engine {case.engine}"))
            continue
        known.append(case)
        effs.append(eff)
        key = next(k for k, e in shipped.items() if e is eff)
        used[key] = eff
    predicted: Sequence[float] = predict_each(effs, known).tolist() if known else []
    results = [
        CaseResult(c, float(p)) for c, p in zip(known, predicted, strict=True) if math.isfinite(p)
    ]
    skipped += [
        (c.row_id, "no finite prediction")
        for c, p in zip(known, predicted, strict=True)
        if not math.isfinite(p)
    ]
    return _report(
        EXTERNAL_METHOD, results, used, skipped, started, cpu_started, rows_given=len(rows)
    )


def _report(
    method: str,
    results: list[CaseResult],
    factors: dict[str, Efficiency],
    skipped: list[tuple[str, str]],
    started: float,
    cpu_started: float,
    rows_given: int | None = None,
) -> CapacityValidation:
    groups = {
        "all": results,
        "dense": [r for r in results if not r.case.is_moe],
        "moe": [r for r in results if r.case.is_moe],
    }
    return CapacityValidation(
        method=method,
        overall=ErrorSummary.of(group_error(results)),
        by_publisher=_summaries(results, lambda r: r.case.publisher),
        by_gpu=_summaries(results, lambda r: r.case.gpu.id),
        by_engine=_summaries(results, lambda r: r.case.engine),
        by_class=_summaries(results, _klass),
        by_mode=_summaries(results, lambda r: r.case.mode),
        measured_over_predicted={k: ratio_quantiles(v) for k, v in groups.items() if v},
        level_removed={
            k: ErrorSummary.of(group_error(publisher_level_removed(v)))
            for k, v in groups.items()
            if v
        },
        factors=[_factor_set(k, e) for k, e in sorted(factors.items())],
        rows=[_row(r) for r in results],
        skipped=skipped,
        seconds=round(time.perf_counter() - started, 2),
        cpu_seconds=round(time.process_time() - cpu_started, 2),
        rows_given=rows_given,
    )


def _summaries(results: list[CaseResult], key: object) -> dict[str, ErrorSummary]:
    return {k: ErrorSummary.of(v) for k, v in errors_by(results, key).items()}  # type: ignore[arg-type]


def _row(r: CaseResult) -> RowResult:
    c = r.case
    return RowResult(
        id=c.row_id,
        publisher=c.publisher,
        model=c.arch.id,
        gpu=c.gpu.id,
        gpus=c.gpus,
        precision=c.precision,
        engine=c.engine,
        mode=c.mode,
        input_tokens=c.input_tokens,
        output_tokens=c.output_tokens,
        concurrency=c.concurrency,
        moe=c.is_moe,
        measured_output_tokens_per_second=round(c.measured_output_tokens_per_second, 1),
        predicted_output_tokens_per_second=round(r.predicted_output_tokens_per_second, 1),
        ape_percent=round(r.ape, 1),
    )


# --- what calibrate_capacity.py writes --------------------------------------------------------

FIT_SOURCE = (
    "fitted by benchmarks/calibrate_capacity.py on every published measurement in "
    "catalog/benchmarks.yaml and catalog/measurements/ (robust least squares on log output "
    "tokens/s; shared factors, an offset per engine and per non-NVIDIA GPU vendor)"
)
BAND_SOURCE = (
    "benchmarks/calibrate_capacity.py: leave-one-publisher-out predictions of the capacity "
    "model over catalog/benchmarks.yaml and catalog/measurements/ (benchmarks/"
    "capacity_validation.md)"
)


def efficiency_rows(full: Fit, cases: list[Case], as_of: dt.date) -> list[dict[str, object]]:
    """Rows for ``efficiency.yaml``: each engine, then each engine x fitted vendor."""
    rows: list[dict[str, object]] = []
    for key, eff in sorted(engine_keys(full, ENGINES).items()):
        engine, _, vendor = key.partition("/")
        used = [c for c in cases if c.engine == engine and vendor in ("", c.gpu.vendor)]
        row: dict[str, object] = {
            "engine": engine,
            "gpu_vendor": vendor or None,
            **_factor_set(key, eff).model_dump(exclude={"key"}),
            "fitted_rows": len(used),
            "publishers": sorted({c.publisher for c in used}),
            "source": FIT_SOURCE,
            "as_of": as_of.isoformat(),
        }
        if not used:
            row["notes"] = (
                f"no {engine} measurements{' on ' + vendor if vendor else ''} yet: the shared "
                "factors stand in; replace with a pilot measurement (llm-tco bench)"
            )
        rows.append(row)
    return rows


def error_band_rows(report: CapacityValidation, as_of: dt.date) -> list[dict[str, object]]:
    """Rows for ``capacity_error.yaml`` (schema ``CapacityErrorBand``)."""
    by_group = {"all": report.overall, **report.by_class}
    rows = []
    for group, quantiles in report.measured_over_predicted.items():
        summary = by_group[group]
        publishers = {
            r.publisher for r in report.rows if group == "all" or r.moe == (group == "moe")
        }
        row = {
            "group": group,
            "rows": summary.rows,
            "publishers": len(publishers),
            "median_ape_percent": summary.median_ape_percent,
            "measured_over_predicted": quantiles,
            "source": BAND_SOURCE,
            "as_of": as_of.isoformat(),
        }
        CapacityErrorBand.model_validate(row)
        rows.append(row)
    return rows


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


_SAFE = re.compile(r"[|\n]")


def validation_markdown(v: CapacityValidation) -> str:
    """The report's tables as Markdown."""

    def table(title: str, groups: dict[str, ErrorSummary]) -> list[str]:
        lines = [
            f"### By {title}",
            "",
            f"| {title} | rows | median APE % | MAPE % | median signed % |",
            "|---|---:|---:|---:|---:|",
        ]
        for k, s in groups.items():
            lines.append(
                f"| {_SAFE.sub(' ', k)} | {s.rows} | {s.median_ape_percent} | {s.mape_percent} "
                f"| {s.median_signed_percent:+} |"
            )
        return [*lines, ""]

    o = v.overall
    lines = [
        f"Method: {v.method}.",
        "",
    ]
    if v.rows_given is not None:
        lines += [f"Predicted {o.rows} of {v.rows_given} rows ({v.coverage_percent}%).", ""]
    lines += [
        f"**Overall: {o.rows} rows from {len(v.by_publisher)} publishers, median APE "
        f"{o.median_ape_percent}%, MAPE {o.mape_percent}%, median signed "
        f"{o.median_signed_percent:+}%** (fit + validation {v.seconds} s wall, "
        f"{v.cpu_seconds} s CPU).",
        "",
    ]
    if v.skipped:
        lines += [
            f"Skipped: {len(v.skipped)} rows, {v.not_comparable_rows} of them because their "
            "source says the run is not comparable (listed under Skipped with its words).",
            "",
        ]
    lines += table("class", v.by_class)
    if v.level_removed:
        lines += [
            "### Within a source",
            "",
            "The same predictions with each publisher's median predicted / measured ratio "
            "(over the group's rows) divided out: the error that would be left if a new "
            "source's overall level (its harness, engine build and tuning as a whole) were "
            "known, which no prediction can know. The gap between this and the figures above "
            "is the spread between sources; what remains is how the model misses lengths, "
            "batch, model and layout within one.",
            "",
            "| rows | count | median APE % | MAPE % |",
            "|---|---:|---:|---:|",
        ]
        for k, s in v.level_removed.items():
            lines.append(f"| {k} | {s.rows} | {s.median_ape_percent} | {s.mape_percent} |")
        lines.append("")
    lines += table("publisher", v.by_publisher)
    lines += table("engine", v.by_engine)
    lines += table("GPU", v.by_gpu)
    lines += table("mode", v.by_mode)
    lines += ["### Out-of-source error band (measured / predicted)", ""]
    labels = [f"p{q:02d}" for q in QUANTILES]
    lines += ["| group | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for group, qs in v.measured_over_predicted.items():
        lines.append(f"| {group} | " + " | ".join(f"{qs[k]:.2f}" for k in labels) + " |")
    lines += ["", "### Factors fitted on every row", ""]
    names = [n for n in FactorSet.model_fields if n != "key"]
    lines += ["| key | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for f in v.factors:
        lines.append(f"| {f.key} | " + " | ".join(str(getattr(f, n)) for n in names) + " |")
    lines += ["", "### Rows", ""]
    cols = (
        "id",
        "publisher",
        "engine",
        "mode",
        "measured_output_tokens_per_second",
        "predicted_output_tokens_per_second",
        "ape_percent",
    )
    lines += [
        "| row | publisher | engine | mode | measured tok/s | predicted"
        + (" (LOSO)" if v.rows_given is None else "")
        + " | APE % |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for r in v.rows:
        lines.append("| " + " | ".join(_SAFE.sub(" ", str(getattr(r, c))) for c in cols) + " |")
    if v.skipped:
        lines += ["", "### Skipped", ""]
        lines += [f"- {i}: {_SAFE.sub(' ', reason)}" for i, reason in v.skipped]
    return "\n".join(lines)


# --- someone's own measurements -----------------------------------------------------------------

MAX_MEASUREMENT_ROWS = 100_000


def read_measurements(path: Path) -> list[BenchmarkRow]:
    """Rows of a YAML/JSON list or a CSV table (a header of ``BenchmarkRow`` field names; an
    empty cell is an absent value) of one's own measurements. ``id`` defaults to the row's
    number, ``source`` to the file's name and ``as_of`` to today (the day it was read)."""
    from pydantic import TypeAdapter, ValidationError

    from llm_tco.scenario import read_document, read_text_file

    origin = path.name
    if path.suffix.lower() == ".csv":
        text = read_text_file(path)
        try:
            items: object = [
                {k: v for k, v in row.items() if v not in ("", None)}
                for row in csv.DictReader(io.StringIO(text))
            ]
        except csv.Error as exc:
            raise ScenarioError(f"malformed CSV: {exc}", field=origin) from None
    else:
        items = read_document(path)
    if not isinstance(items, list):
        raise ScenarioError(
            "a measurements file is a list of rows",
            field=origin,
            hint="a YAML list (- model: ...), a JSON array or a CSV table with a header",
        )
    if len(items) > MAX_MEASUREMENT_ROWS:
        raise ScenarioError(f"more than {MAX_MEASUREMENT_ROWS:,} rows", field=origin)
    adapter = TypeAdapter(BenchmarkRow)
    today = dt.date.today()
    rows = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ScenarioError(
                "each row is a mapping of field: value", field=f"{origin} row {index}"
            )
        if None in item:  # csv: more cells than the header has names
            raise ScenarioError("more cells than the header names", field=f"{origin} row {index}")
        data = {"id": f"row-{index}", "source": origin, "as_of": today, **item}
        try:
            rows.append(adapter.validate_python(data))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ScenarioError(
                f"{first['msg']}",
                field=f"{origin} row {index}" + (f" {where}" if where else ""),
                hint="fields as in catalog/benchmarks.yaml: model, gpu, gpu_count, precision, "
                "engine, mode, input_tokens, output_tokens, concurrency or request_rate, "
                "output_tokens_per_second",
            ) from None
    return rows
