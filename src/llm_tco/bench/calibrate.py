"""``llm-tco calibrate``: fit the capacity model's efficiency factors to a measured benchmark.

Each closed-loop level of the result (a concurrency, the mean prompt and output lengths, the
measured output tokens/s) becomes one calibration case for the capacity model
(``llm_tco.core.capacity`` / ``llm_tco.core.calibration``). The engine's current factors predict
every level ("before"), the fit gives new factors, which predict them again ("after").

The capacity model is a separate part of the package; when it is absent this module says so
instead of failing with an import error.
"""

from __future__ import annotations

import importlib
import statistics
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from llm_tco.bench.result import BenchResult, LevelResult
from llm_tco.core.capacity import engine_key, unknown_engine_hint
from llm_tco.core.memory import Layout, default_kv_precision, precision_key
from llm_tco.errors import BenchError, CatalogLookupError, LlmTcoError


class CalibrationRow(BaseModel):
    level: str
    measured_output_tokens_per_second: float
    before_output_tokens_per_second: float
    after_output_tokens_per_second: float

    @property
    def before_error(self) -> float:
        return _ape(self.before_output_tokens_per_second, self.measured_output_tokens_per_second)

    @property
    def after_error(self) -> float:
        return _ape(self.after_output_tokens_per_second, self.measured_output_tokens_per_second)


class CalibrationReport(BaseModel):
    engine: str
    model: str
    gpu: str
    gpu_count: int
    before: dict[str, Any]
    after: dict[str, Any]
    rows: list[CalibrationRow]
    median_error_before: float
    median_error_after: float


def _ape(predicted: float, measured: float) -> float:
    """Absolute percentage error, as a share (0.1 = 10%)."""
    return abs(predicted - measured) / measured if measured else float("inf")


def _capacity_modules() -> SimpleNamespace:
    """The capacity model's calibration functions, or a one-line error when it is absent."""
    try:
        fitting = importlib.import_module("llm_tco.core.calibration")
        model = importlib.import_module("llm_tco.core.capacity")
        validation = importlib.import_module("llm_tco.capacity_factors")
    except ModuleNotFoundError as exc:
        raise BenchError(
            "calibrate needs the capacity model (llm_tco.core.capacity), which this install lacks",
            hint="update llm-tco; `llm-tco bench` results can still be priced and compared",
        ) from exc
    calibration = SimpleNamespace(
        Case=fitting.Case,
        fit_efficiency=fitting.fit_efficiency,
        predict_case=fitting.predict_case,
        efficiency_values=fitting.efficiency_values,
        select_efficiency=model.select_efficiency,
    )
    return SimpleNamespace(calibration=calibration, validation=validation)


def _current_efficiency(
    mods: SimpleNamespace, catalog: Any, engine: str, vendor: str, moe: bool
) -> Any:
    """The factors the capacity model uses today for ``engine`` on a ``vendor`` GPU."""
    factors = mods.validation.catalog_efficiencies(catalog, moe)
    found = mods.calibration.select_efficiency(factors, engine, vendor)
    if found is None:
        raise BenchError(
            f"no efficiency factors for engine '{engine}'",
            field="engine",
            hint=unknown_engine_hint(engine, factors),
        )
    return found


def _cases(
    result: BenchResult,
    calibration: Any,
    arch: Any,
    gpu: Any,
    precision: str,
    gpu_count: int,
    engine: str,
) -> list[tuple[LevelResult, Any]]:
    cases = []
    kv_precision = default_kv_precision(precision)
    for index, level in enumerate(result.levels):
        done = [r for r in level.requests if r.ok]
        if level.concurrency is None or not done or level.output_tokens_per_second <= 0:
            continue
        input_tokens = statistics.fmean(r.input_tokens or 0 for r in done)
        output_tokens = statistics.fmean(r.output_tokens for r in done)
        case = calibration.Case(
            row_id=f"pilot-{index}",
            publisher="pilot",
            engine=engine,
            arch=arch,
            gpu=gpu,
            precision=precision,
            kv_precision=kv_precision,
            layout=Layout(gpu_count),
            input_tokens=max(1, round(input_tokens)),
            output_tokens=max(1, round(output_tokens)),
            mode="concurrency",
            concurrency=level.concurrency,
            request_rate=None,
            measured_output_tokens_per_second=level.output_tokens_per_second,
            # A fixed count of requests: the ramp-up and the tail count, as in the run.
            num_requests=len(done),
        )
        cases.append((level, case))
    if not cases:
        raise BenchError(
            "the result has no closed-loop level with per-request data to calibrate on",
            hint="run `llm-tco bench --concurrency 1,4,16 ...` and save it with -o",
        )
    return cases


def calibrate(
    result: BenchResult,
    *,
    gpu: str | None,
    model: str | None,
    engine: str,
    precision: str,
    gpu_count: int,
) -> CalibrationReport:
    """Fit ``engine``'s efficiency factors to ``result`` and compare predictions before/after."""
    engine = engine_key(engine)
    try:
        precision = precision_key(precision)[0]
    except LlmTcoError as exc:
        raise BenchError(exc.message, field=exc.field, hint=exc.hint) from exc
    mods = _capacity_modules()
    calibration = mods.calibration
    from llm_tco.catalog import load_catalog

    catalog = load_catalog()
    model_name = model or result.model
    if model_name is None or gpu is None:
        raise BenchError("calibrate needs --model and --gpu (catalog ids)", field="gpu")
    try:
        arch, gpu_spec = catalog.model(model_name), catalog.gpu(gpu)
    except CatalogLookupError as exc:
        raise BenchError(exc.message, field=exc.field, hint=exc.hint) from exc
    pairs = _cases(result, calibration, arch, gpu_spec, precision, gpu_count, engine)
    cases = [case for _, case in pairs]
    moe = getattr(arch, "experts", None) is not None
    before = _current_efficiency(mods, catalog, engine, gpu_spec.vendor, moe)
    # Start from today's factors, so levels that say little about a factor leave it as it was.
    source = f"pilot benchmark {result.created_at:%Y-%m-%d}"
    after = calibration.fit_efficiency(engine, cases, source=source, start=before)
    rows = [
        CalibrationRow(
            level=level.label,
            measured_output_tokens_per_second=case.measured_output_tokens_per_second,
            before_output_tokens_per_second=calibration.predict_case(case, before),
            after_output_tokens_per_second=calibration.predict_case(case, after),
        )
        for level, case in pairs
    ]
    return CalibrationReport(
        engine=engine,
        model=arch.id,
        gpu=gpu_spec.id,
        gpu_count=gpu_count,
        before=calibration.efficiency_values(before),
        after=calibration.efficiency_values(after),
        rows=rows,
        median_error_before=statistics.median(r.before_error for r in rows),
        median_error_after=statistics.median(r.after_error for r in rows),
    )


def render_calibration(report: CalibrationReport, console: Console) -> None:
    table = Table(title=f"{report.model} on {report.gpu_count} x {report.gpu} ({report.engine})")
    for column in ("level", "measured out tok/s", "before", "error", "after", "error"):
        table.add_column(column, justify="right")
    for row in report.rows:
        table.add_row(
            row.level,
            f"{row.measured_output_tokens_per_second:,.1f}",
            f"{row.before_output_tokens_per_second:,.1f}",
            f"{row.before_error:.0%}",
            f"{row.after_output_tokens_per_second:,.1f}",
            f"{row.after_error:.0%}",
        )
    console.print(table)
    factors = Table(title="factors the pilot moved (the rest as before)")
    for column in ("factor", "before", "after"):
        factors.add_column(column, justify="left" if column == "factor" else "right")
    moved = [name for name, value in report.after.items() if report.before.get(name) != value]
    for name in moved:
        factors.add_row(
            name, f"{report.before.get(name, float('nan')):g}", f"{report.after[name]:g}"
        )
    if moved:
        console.print(factors)
    else:
        console.print("no factor moved: the pilot agrees with the catalog's factors")
    console.print(
        f"median error {report.median_error_before:.0%} -> {report.median_error_after:.0%}"
    )
