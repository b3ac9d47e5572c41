"""CLI commands ``capacity`` and ``validate-capacity``; the main CLI calls :func:`register`.

Both build a pydantic result (:class:`CapacityReport`, ``CapacityValidation``) that every
format renders; nothing is computed while rendering.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel, ConfigDict

from llm_tco.capacity_factors import engine_efficiency, error_band
from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.cli import OutputFormat
from llm_tco.core.batchsim import ROUTINGS
from llm_tco.core.capacity import (
    Prediction,
    Slo,
    compute_tflops,
    dequantised,
    engine_key,
    limits,
    predict,
    replica_capacity,
)
from llm_tco.core.fleetsize import DEFAULT_ROUTING
from llm_tco.core.memory import (
    Layout,
    MemoryPlan,
    checkpoint_precision,
    default_kv_precision,
    only_experts_quantised,
    plan_memory,
    precision_key,
)
from llm_tco.core.speculative import Speculation, expected_tokens_per_step, speculative_capacity
from llm_tco.core.tailsize import PercentileSlo
from llm_tco.errors import LlmTcoError, ScenarioError, print_error
from llm_tco.report.tables import Shown
from llm_tco.report.terminal import Col
from llm_tco.tail_view import TailSizing, build_tail_sizing, tail_lines

BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)
RUNTIME_OVERHEAD_NOTE = "overhead (engine headroom, activations, CUDA graphs)"


def _fail(error: LlmTcoError) -> None:
    print_error(error)
    raise typer.Exit(2)


class MemoryGb(BaseModel):
    model_config = ConfigDict(frozen=True)

    weights: float
    kv_cache: float
    overhead: float
    available: float
    kv_per_sequence: float

    @classmethod
    def of(cls, plan: MemoryPlan) -> MemoryGb:
        """The memory plan's figures, GB (1e9 bytes); the same plan `llm-tco fit` shows."""
        return cls(
            weights=round(plan.weights_gb, 2),
            kv_cache=round(plan.kv_cache_gb, 2),
            overhead=round(plan.overhead_gb, 2),
            available=round(plan.available_gb, 2),
            kv_per_sequence=round(plan.kv_gb_per_sequence, 4),
        )


class LoadPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    concurrency: int
    output_tokens_per_second: float
    input_tokens_per_second: float
    requests_per_second: float
    ttft_ms: float
    tpot_ms: float
    bound: str

    @classmethod
    def of(cls, p: Prediction) -> LoadPoint:
        return cls(
            concurrency=p.concurrency,
            output_tokens_per_second=round(p.output_tokens_per_second, 1),
            input_tokens_per_second=round(p.input_tokens_per_second, 1),
            requests_per_second=round(p.requests_per_second, 3),
            ttft_ms=round(p.ttft_ms, 1),
            tpot_ms=round(p.tpot_ms, 2),
            bound=p.bound,
        )


class AtSlo(BaseModel):
    model_config = ConfigDict(frozen=True)

    concurrency: int
    requests_per_second: float
    ttft_ms: float
    tpot_ms: float
    meets_slo: bool


class ErrorBandView(BaseModel):
    """Typical out-of-source error of the figures (leave-one-publisher-out validation)."""

    model_config = ConfigDict(frozen=True)

    group: str
    median_ape_percent: float
    measured_over_predicted_p10: float
    measured_over_predicted_p90: float
    description: str


class SpeculativeView(BaseModel):
    """Speculative decoding settings and what they change at the SLO."""

    model_config = ConfigDict(frozen=True)

    method: str
    acceptance_rate: float
    draft_tokens: int
    draft_cost_ratio: float
    tokens_per_step: float  # E, Leviathan et al. 2023 eq. 1
    plain_max_output_tokens_per_second: float  # the same replica decoding one token a step
    plain_tpot_ms: float
    source: str


class CapacityReport(BaseModel):
    """``llm-tco capacity``: memory plan, load table and the replica's capacity, per replica."""

    model_config = ConfigDict(frozen=True)

    model: str
    gpu: str
    gpus_per_replica: int
    pipeline_parallel: int
    expert_parallel: int
    data_parallel: int
    precision: str
    kv_precision: str
    engine: str
    input_tokens: int
    output_tokens: int
    slo: dict[str, float | None]  # tpot_ms / ttft_ms targets; both None with --max-throughput
    fits: bool
    memory_gb: MemoryGb
    max_concurrent_sequences: int
    output_tokens_per_second: float | None  # at --concurrency (None without it)
    max_output_tokens_per_second: float | None  # the most meeting the SLO (or with no SLO)
    ttft_ms: float | None
    tpot_ms: float | None
    at_slo: AtSlo | None
    by_batch_size: list[LoadPoint]
    error_band: ErrorBandView | None
    assumptions: list[str]
    source: str
    tail: TailSizing | None = None  # with a percentile target (--ttft-slo-percentile ...)
    speculative: SpeculativeView | None = None  # with --speculative


def build_capacity_report(
    catalog: Catalog,
    model: str,
    gpu: str,
    count: int = 1,
    precision: str | None = "bf16",
    kv_precision: str | None = None,
    input_len: int = 1000,
    output_len: int = 500,
    slo: Slo = Slo(),
    concurrency: int | None = None,
    engine: str = "vllm",
    pipeline_parallel: int = 1,
    expert_parallel: int = 1,
    data_parallel: int = 1,
    percentiles: PercentileSlo | None = None,
    rate: float | None = None,
    speculative: Speculation | None = None,
    routing: str = DEFAULT_ROUTING,
) -> CapacityReport:
    """Everything ``llm-tco capacity`` shows, for one (model, GPU, precision, layout)."""
    arch, spec = catalog.model(model), catalog.gpu(gpu)
    assumptions = [a for a in [catalog.gpu_assumption(gpu)] if a]
    if precision is None:
        precision, reading = checkpoint_precision(model, arch)
    else:
        precision, reading = precision_key(precision)
    assumptions += [reading] if reading else []
    if kv_precision is not None:
        kv_precision, reading = precision_key(kv_precision, "kv_precision")
        assumptions += [reading] if reading else []
    engine = engine_key(engine)
    if speculative is not None and (pipeline_parallel, expert_parallel, data_parallel) != (
        1,
        1,
        1,
    ):
        raise ScenarioError(
            "speculative decoding is modelled for tensor-parallel replicas only",
            field="speculative",
            hint="drop --pipeline-parallel / --expert-parallel / --data-parallel",
        )
    if arch.experts is None and expert_parallel > 1:
        raise ScenarioError(
            f"{arch.id} is dense: expert parallel needs an MoE model", field="expert_parallel"
        )
    layout = Layout(count, pipeline_parallel, expert_parallel, data_parallel)
    eff = engine_efficiency(catalog, engine, spec.vendor, arch.experts is not None)
    compute_note = compute_tflops(spec, precision)[1]
    if compute_note:
        assumptions.append(compute_note)
    if dequantised(spec, precision):
        weights = (
            f"{precision} expert weights"
            if only_experts_quantised(arch, precision)
            else f"{precision} weights"
        )
        assumptions.append(
            f"{weights} are converted to 16 bits inside each GEMM on {spec.id} (a weight-only "
            f"kernel): computing, they reach {eff.dequant_compute_efficiency:.2f} of the 16-bit "
            f"rate ({engine}'s fitted factor)"
        )
    kv = kv_precision or default_kv_precision(precision)
    if kv_precision is None:
        assumptions.append(f"KV cache {kv} (default for {precision} weights)")
    context = input_len + output_len
    plan = plan_memory(arch, spec, precision, kv, count, context, layout=layout, engine=engine)
    band = error_band(arch.experts is not None, catalog.data_dir or _data_dir())
    band_view = (
        ErrorBandView(
            group=band.group,
            median_ape_percent=band.median_ape_percent,
            measured_over_predicted_p10=round(band.ratio_at(0.1), 3),
            measured_over_predicted_p90=round(band.ratio_at(0.9), 3),
            description=band.describe(),
        )
        if band
        else None
    )
    report: dict[str, Any] = {
        "model": arch.id,
        "gpu": spec.id,
        "gpus_per_replica": count,
        "pipeline_parallel": pipeline_parallel,
        "expert_parallel": expert_parallel,
        "data_parallel": data_parallel,
        "precision": precision,
        "kv_precision": kv,
        "engine": engine,
        "input_tokens": input_len,
        "output_tokens": output_len,
        "slo": {"tpot_ms": slo.tpot_ms, "ttft_ms": slo.ttft_ms},
        "fits": plan.fits,
        "memory_gb": MemoryGb.of(plan),
        "max_concurrent_sequences": plan.max_concurrent_sequences,
        "output_tokens_per_second": None,
        "max_output_tokens_per_second": None,
        "ttft_ms": None,
        "tpot_ms": None,
        "at_slo": None,
        "by_batch_size": [],
        "error_band": band_view,
        "assumptions": assumptions,
        "source": eff.source,
    }
    if plan.fits:
        args = (arch, spec, precision, kv, count, input_len, output_len)
        best = replica_capacity(*args, slo, eff, layout=layout)
        if speculative is not None:
            plain, best = best, speculative_capacity(*args, slo, eff, speculative)
            report["speculative"] = _speculative_view(speculative, plain, best.source)
            assumptions.append(
                "the load table by batch size decodes one token a step; the max at the SLO "
                "and any percentile sizing decode speculatively"
            )
        report["max_output_tokens_per_second"] = round(best.output_tokens_per_second, 1)
        report["at_slo"] = AtSlo(
            concurrency=best.concurrency,
            requests_per_second=round(best.requests_per_second, 3),
            ttft_ms=round(best.ttft_ms, 1),
            tpot_ms=round(best.tpot_ms, 2),
            meets_slo=best.meets_slo,
        )
        running = limits(arch, spec, precision, kv, layout, input_len, output_len, eff).running
        sizes = [b for b in BATCH_SIZES if b <= running]
        report["by_batch_size"] = [
            LoadPoint.of(predict(*args, b, eff, layout=layout)) for b in sizes
        ]
        if percentiles is not None and percentiles.has_percentile:
            report["tail"] = build_tail_sizing(
                arch,
                spec,
                precision,
                kv,
                layout,
                input_len,
                output_len,
                percentiles,
                eff,
                rate,
                speculative,
                routing,
            )
        if concurrency is not None:
            at = predict(*args, concurrency, eff, layout=layout)
            report["output_tokens_per_second"] = round(at.output_tokens_per_second, 1)
            report["ttft_ms"] = round(at.ttft_ms, 1)
            report["tpot_ms"] = round(at.tpot_ms, 2)
        else:
            report["ttft_ms"] = round(best.ttft_ms, 1)
            report["tpot_ms"] = round(best.tpot_ms, 2)
    return CapacityReport(**report)


def _speculative_view(s: Speculation, plain: Any, source: str) -> SpeculativeView:
    return SpeculativeView(
        method=s.method,
        acceptance_rate=s.acceptance_rate,
        draft_tokens=s.draft_tokens,
        draft_cost_ratio=round(s.draft_cost_ratio, 5),
        tokens_per_step=round(expected_tokens_per_step(s.acceptance_rate, s.draft_tokens), 3),
        plain_max_output_tokens_per_second=round(plain.output_tokens_per_second, 1),
        plain_tpot_ms=round(plain.tpot_ms, 2),
        source=source,
    )


def _speculation(
    catalog: Catalog,
    model: str,
    method: str | None,
    acceptance_rate: float | None,
    draft_tokens: int | None,
    draft_cost_ratio: float | None,
) -> Speculation | None:
    """--speculative and its settings, with the scenario's defaults (``evaluate.speculation``)."""
    from pydantic import ValidationError

    from llm_tco.evaluate import speculation
    from llm_tco.scenario import SpeculativeSpec

    if method is None:
        if acceptance_rate is not None or draft_tokens is not None or draft_cost_ratio:
            raise ScenarioError(
                "--acceptance-rate, --draft-tokens and --draft-cost-ratio need --speculative",
                field="speculative",
                hint="add --speculative draft (or mtp)",
            )
        return None
    if method not in ("draft", "mtp"):
        raise ScenarioError(
            f"unknown --speculative '{method}'", field="speculative", hint="draft or mtp"
        )
    if acceptance_rate is None:
        raise ScenarioError(
            "--speculative needs --acceptance-rate",
            field="acceptance_rate",
            hint="the share of draft tokens the target accepts, e.g. 0.7",
        )
    try:
        spec = SpeculativeSpec(
            method=method,
            acceptance_rate=acceptance_rate,
            draft_tokens=draft_tokens,
            draft_cost_ratio=draft_cost_ratio,
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "speculative"
        raise ScenarioError(
            f"--{field.replace('_', '-')}: {first['msg']}",
            field=field,
            hint="acceptance rate 0-1, draft tokens 1-16, draft cost ratio 0-1",
        ) from None
    return speculation(spec, catalog.model(model))


def _data_dir() -> Any:
    from llm_tco.catalog.loader import DATA_DIR

    return DATA_DIR


def capacity(
    model: str = typer.Argument(..., help="model id, alias or Hugging Face name"),
    gpu: str = typer.Argument(..., help="GPU id, alias or family (h100, a100, ...)"),
    count: int = typer.Option(1, "--count", "-n", help="GPUs per replica"),
    precision: str | None = typer.Option(
        None,
        help="weights: bf16, fp16, fp8, int8, int4, mxfp4, fp4 (default: what the checkpoint "
        "ships: a name ending -FP8 or -AWQ says, else the model's published format, bf16 for most)",
    ),
    kv_precision: str | None = typer.Option(
        None, help="KV cache (default: fp8 beside fp8 or fp4 weights, else bf16)"
    ),
    input_len: int = typer.Option(1000, help="prompt tokens per request"),
    output_len: int = typer.Option(500, help="output tokens per request"),
    tpot_slo: float = typer.Option(50.0, help="time-per-output-token target, ms"),
    ttft_slo: float = typer.Option(2000.0, help="time-to-first-token target, ms"),
    max_throughput: bool = typer.Option(
        False, "--max-throughput", help="no latency targets: the most the replica serves"
    ),
    concurrency: int | None = typer.Option(None, help="predict the steady state at C requests"),
    engine: str = typer.Option("vllm", help="vllm, sglang, trtllm or llamacpp"),
    pipeline_parallel: int = typer.Option(1, help="pipeline stages (GPUs split evenly)"),
    expert_parallel: int = typer.Option(1, help="GPUs of a stage the experts spread over"),
    data_parallel: int = typer.Option(
        1, help="attention data-parallel groups per stage (each holds its own KV cache)"
    ),
    output_format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", "-f", help="table (default), json, markdown or csv"
    ),
    wide: bool = typer.Option(
        False, "--wide", help="every column in full, one row per line (the default when piped)"
    ),
    ttft_slo_percentile: float | None = typer.Option(
        None, help="read the TTFT target at this percentile (50-99.9), simulated; default mean"
    ),
    tpot_slo_percentile: float | None = typer.Option(
        None, help="read the TPOT target at this percentile (50-99.9), simulated; default mean"
    ),
    burstiness: float = typer.Option(
        1.0, help="coefficient of variation of arrival gaps for percentiles (1: Poisson)"
    ),
    rate: float | None = typer.Option(
        None, help="size for this many requests/s: replicas with and without the percentiles"
    ),
    routing: str = typer.Option(
        DEFAULT_ROUTING,
        help="router in front of the replicas for --rate at percentiles: least-loaded, "
        "round-robin or random",
    ),
    speculative: str | None = typer.Option(
        None, help="speculative decoding: draft (a draft model) or mtp; needs --acceptance-rate"
    ),
    acceptance_rate: float | None = typer.Option(
        None, help="share of draft tokens accepted (0-1), with --speculative"
    ),
    draft_tokens: int | None = typer.Option(
        None, help="tokens drafted per step (default 3, MTP 1), with --speculative"
    ),
    draft_cost_ratio: float | None = typer.Option(
        None, help="one draft pass over one decode step (default 0.05, MTP 1/layers)"
    ),
) -> None:
    """Memory plan, throughput and latency by batch size, and the max load at the SLO."""
    try:
        slo = Slo(None, None) if max_throughput else Slo(tpot_slo, ttft_slo)
        percentiles = _percentiles(slo, ttft_slo_percentile, tpot_slo_percentile, burstiness)
        if routing not in ROUTINGS:
            raise ScenarioError(
                f"unknown --routing {routing!r}", field="routing", hint=", ".join(ROUTINGS)
            )
        catalog = load_catalog()
        spec_decoding = _speculation(
            catalog, model, speculative, acceptance_rate, draft_tokens, draft_cost_ratio
        )
        report = build_capacity_report(
            catalog,
            model,
            gpu,
            count,
            precision,
            kv_precision,
            input_len,
            output_len,
            slo,
            concurrency,
            engine,
            pipeline_parallel,
            expert_parallel,
            data_parallel,
            percentiles,
            rate,
            spec_decoding,
            routing,
        )
    except LlmTcoError as error:
        _fail(error)
        return
    from llm_tco.cli import console
    from llm_tco.report.tables import emit_tables

    lines, tables, after = capacity_shown(report)
    emit_tables(report, lines, tables, output_format.value, console(), wide, after=after)


def _percentiles(
    slo: Slo, ttft: float | None, tpot: float | None, burstiness: float
) -> PercentileSlo | None:
    for name, value in (("ttft-slo-percentile", ttft), ("tpot-slo-percentile", tpot)):
        if value is not None and not 50 <= value <= 99.9:
            raise ScenarioError(f"--{name} must be 50-99.9", field=name, hint="e.g. 99")
    if burstiness <= 0 or burstiness > 10:
        raise ScenarioError("--burstiness must be above 0 and at most 10", field="burstiness")
    if ttft is None and tpot is None:
        return None
    return PercentileSlo(slo.ttft_ms, slo.tpot_ms, ttft, tpot, burstiness)


def capacity_shown(r: CapacityReport) -> tuple[list[str], list[Shown], list[str]]:
    """Lines above, the table by concurrency, and lines under it."""
    layout = ""
    if (r.pipeline_parallel, r.expert_parallel, r.data_parallel) != (1, 1, 1):
        layout = f" (PP {r.pipeline_parallel}, EP {r.expert_parallel}, DP {r.data_parallel})"
    lines = [
        f"{r.model} {r.precision} (KV {r.kv_precision}) on "
        f"{r.gpus_per_replica} x {r.gpu}{layout}, engine {r.engine}",
        *(f"assumed: {assumption}" for assumption in r.assumptions),
    ]
    m = r.memory_gb
    lines.append(
        f"memory GB: available {m.available} = weights {m.weights} + KV cache "
        f"{m.kv_cache} + {RUNTIME_OVERHEAD_NOTE} {m.overhead}; "
        f"{m.kv_per_sequence} GB per sequence -> {r.max_concurrent_sequences} sequences"
    )
    if not r.fits:
        return lines, [], ["does not fit: use more GPUs, a lower precision or a larger GPU"]
    cols = [Col("concurrency", "num")]
    cols += [Col(h, "num") for h in ("output\ntok/s", "input\ntok/s", "req/s", "TTFT\nms")]
    cols += [Col("TPOT\nms", "num"), Col("bound", "id")]
    rows = [
        [
            str(v)
            for v in (
                row.concurrency,
                row.output_tokens_per_second,
                row.input_tokens_per_second,
                row.requests_per_second,
                row.ttft_ms,
                row.tpot_ms,
                row.bound,
            )
        ]
        for row in r.by_batch_size
    ]
    table = Shown("Throughput and latency by concurrency (one replica)", cols, rows)
    return lines, [table], _capacity_after(r)


def _capacity_after(r: CapacityReport) -> list[str]:
    slo = r.at_slo
    assert slo is not None
    verdict = "" if slo.meets_slo else " (misses the SLO even at concurrency 1)"
    target = (
        "max throughput (no latency target)"
        if r.slo["tpot_ms"] is None and r.slo["ttft_ms"] is None
        else f"max at SLO (TPOT <= {r.slo['tpot_ms']} ms, TTFT <= {r.slo['ttft_ms']} ms)"
    )
    after = [
        f"{target}: {r.max_output_tokens_per_second} output tok/s at concurrency "
        f"{slo.concurrency} (TTFT {slo.ttft_ms} ms, TPOT {slo.tpot_ms} ms){verdict}"
    ]
    if r.output_tokens_per_second is not None and r.output_tokens_per_second != (
        r.max_output_tokens_per_second
    ):
        after.append(
            f"at the requested concurrency: {r.output_tokens_per_second} output tok/s, "
            f"TTFT {r.ttft_ms} ms, TPOT {r.tpot_ms} ms"
        )
    if r.speculative is not None:
        v = r.speculative
        after.append(
            f"speculative decoding ({v.method}, {v.draft_tokens} draft tokens at "
            f"{v.draft_cost_ratio:g} of a step, acceptance {v.acceptance_rate:g}): "
            f"{v.tokens_per_step:g} tokens per step; decoding one token a step the max at SLO "
            f"would be {v.plain_max_output_tokens_per_second} output tok/s (TPOT "
            f"{v.plain_tpot_ms} ms)"
        )
    after += tail_lines(r.tail) if r.tail else []
    if r.error_band is not None:
        after.append(f"error band ({r.error_band.group} models): {r.error_band.description}")
    after.append(r.source)
    return after


def validate_capacity(
    output_format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", "-f", help="table (default), json, markdown or csv"
    ),
    wide: bool = typer.Option(
        False, "--wide", help="every column in full, one row per line (the default when piped)"
    ),
    measurements: Path | None = typer.Option(
        None,
        "--measurements",
        "-m",
        help="check the shipped model on your own measurements instead (YAML, JSON or CSV "
        "rows with the fields of catalog/benchmarks.yaml)",
    ),
) -> None:
    """Leave-one-publisher-out error of the capacity model on every published measurement.

    With --measurements, the error of the model as shipped (factors fitted on all the
    published rows, as `llm-tco capacity` uses them) on rows of yours that it never saw, and
    which rows it could not predict, and why.
    """
    from llm_tco.capacity_validation import (
        check_measurements,
        read_measurements,
        validate,
        validation_markdown,
    )

    try:
        if measurements is not None:
            report = check_measurements(load_catalog(), read_measurements(measurements))
        else:
            report, _, _ = validate(load_catalog())
    except LlmTcoError as error:
        _fail(error)
        return
    if output_format is OutputFormat.markdown:  # the report benchmarks/ publishes
        typer.echo(validation_markdown(report))
        return
    from llm_tco.cli import console
    from llm_tco.report.tables import emit_tables

    lines, tables, every = validation_shown(report)
    after = [f"skipped {row_id}: {reason}" for row_id, reason in report.skipped]
    fmt = output_format.value
    emit_tables(report, lines, tables, fmt, console(), wide, after=after, csv_table=every)


VALIDATION_GROUPS = (
    ("class", "by_class"),
    ("publisher", "by_publisher"),
    ("engine", "by_engine"),
    ("GPU", "by_gpu"),
    ("mode", "by_mode"),
)


def validation_shown(report: Any) -> tuple[list[str], list[Shown], Shown]:
    """Lines above, one table per grouping, and every group in one table (for CSV)."""
    o = report.overall
    lines = [report.method]
    if report.rows_given is not None:
        lines.append(f"predicted {o.rows} of {report.rows_given} rows ({report.coverage_percent}%)")
    lines.append(
        f"overall: {o.rows} rows, {len(report.by_publisher)} publishers, median APE "
        f"{o.median_ape_percent}%, MAPE {o.mape_percent}%, bias {o.median_signed_percent:+}% "
        f"({report.seconds} s wall, {report.cpu_seconds} s CPU)"
    )
    if report.level_removed:
        within = ", ".join(f"{k} {s.median_ape_percent}%" for k, s in report.level_removed.items())
        lines.append(
            f"within a source (each publisher's own level divided out): median APE {within}; "
            "the rest of the error above is the spread between sources"
        )
    figures = [Col(h, "num") for h in ("rows", "median\nAPE %", "MAPE %", "bias %")]

    def cells(s: Any) -> list[str]:
        return [
            str(s.rows),
            str(s.median_ape_percent),
            str(s.mape_percent),
            f"{s.median_signed_percent:+}",
        ]

    tables, every = [], []
    for title, attr in VALIDATION_GROUPS:
        groups = getattr(report, attr)
        tables.append(
            Shown(
                f"Error by {title}",
                [Col(title, "id"), *figures],
                [[k, *cells(s)] for k, s in groups.items()],
            )
        )
        every += [[title, k, *cells(s)] for k, s in groups.items()]
    both = Shown("Error by group", [Col("by", "id"), Col("group", "id"), *figures], every)
    if report.rows_given is not None:  # your own rows, one by one; CSV lists them
        cols = [Col("row", "id"), Col("model", "id"), Col("GPUs", "id")]
        cols += [Col(h, "num") for h in ("measured\ntok/s", "predicted\ntok/s", "APE %")]
        rows = [
            [
                r.id,
                r.model,
                f"{r.gpus} x {r.gpu}",
                f"{r.measured_output_tokens_per_second:,.0f}",
                f"{r.predicted_output_tokens_per_second:,.0f}",
                str(r.ape_percent),
            ]
            for r in report.rows
        ]
        both = Shown("Your measurements", cols, rows)
        tables.append(both)
    return lines, tables, both


def register(app: typer.Typer) -> None:
    """Add the ``capacity`` and ``validate-capacity`` commands to ``app``."""
    app.command("capacity")(capacity)
    app.command("validate-capacity")(validate_capacity)
