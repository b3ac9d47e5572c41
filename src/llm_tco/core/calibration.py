"""Fit engine efficiency factors on published measurements and measure the capacity model's error.

Rows are split by a hash of their id (not by their values): about two in five calibrate, the rest
are held out. Factors are fitted by grid search, minimising the mean absolute log error of output
tokens/s on the calibration rows; errors are reported as absolute percentage errors.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.core.capacity import Efficiency, efficiency_key, predict, select_efficiency

CALIBRATION_SHARE_OF_5 = 2  # rows whose id hash mod 5 is below this calibrate

# Candidate values per factor, kept to physically plausible ranges: decode kernels reach at
# most ~85% of HBM peak; engines batch at least 256 sequences by default; a small all-reduce
# costs tens of microseconds.
GRID: dict[str, tuple[float, ...]] = {
    "bandwidth_efficiency": tuple(round(0.30 + 0.05 * i, 2) for i in range(12)),  # .30-.85
    "compute_efficiency": tuple(round(0.15 + 0.05 * i, 2) for i in range(16)),  # .15-.90
    "prefill_compute_efficiency": tuple(round(0.20 + 0.05 * i, 2) for i in range(15)),
    "link_efficiency": tuple(round(0.10 + 0.10 * i, 2) for i in range(9)),  # .10-.90
    "max_batch_size": (256.0, 512.0, 1024.0, 2048.0),
    "allreduce_latency_us": (5.0, 10.0, 20.0, 40.0),
}
START: dict[str, float] = {
    "bandwidth_efficiency": 0.6,
    "compute_efficiency": 0.4,
    "prefill_compute_efficiency": 0.5,
    "link_efficiency": 0.5,
    "max_batch_size": 512.0,
    "allreduce_latency_us": 10.0,
}


@dataclass(frozen=True)
class Case:
    """One benchmark row with its model and GPU resolved; ``measured`` is only used for error."""

    row_id: str
    engine: str
    arch: ModelArch
    gpu: GpuSpec
    precision: str
    kv_precision: str
    gpus: int
    input_tokens: float
    output_tokens: float
    concurrency: int | None
    measured_output_tokens_per_second: float

    @property
    def is_moe(self) -> bool:
        return self.arch.experts is not None

    @property
    def calibration(self) -> bool:
        return is_calibration_row(self.row_id)


@dataclass(frozen=True)
class CaseResult:
    case: Case
    predicted_output_tokens_per_second: float

    @property
    def ape(self) -> float:
        """Absolute percentage error, percent."""
        measured = self.case.measured_output_tokens_per_second
        return abs(self.predicted_output_tokens_per_second - measured) / measured * 100


@dataclass(frozen=True)
class ErrorStats:
    rows: int
    median_ape: float
    by_gpu: dict[str, tuple[int, float]]  # gpu id -> (rows, median APE)
    by_class: dict[str, tuple[int, float]]  # "dense" / "moe" -> (rows, median APE)


def is_calibration_row(row_id: str) -> bool:
    """Stable split: first byte of sha256(id) mod 5 below CALIBRATION_SHARE_OF_5."""
    return hashlib.sha256(row_id.encode()).digest()[0] % 5 < CALIBRATION_SHARE_OF_5


def predict_case(case: Case, efficiency: Efficiency) -> float:
    """Predicted output tokens/s from the row's shape alone (never its measured figure)."""
    return predict(
        case.arch,
        case.gpu,
        case.precision,
        case.kv_precision,
        case.gpus,
        case.input_tokens,
        case.output_tokens,
        case.concurrency,
        efficiency,
    ).output_tokens_per_second


def _log_error(cases: Sequence[Case], efficiency: Efficiency) -> float:
    return statistics.fmean(
        abs(math.log(predict_case(c, efficiency) / c.measured_output_tokens_per_second))
        for c in cases
    )


def _efficiency(engine: str, values: dict[str, float], source: str) -> Efficiency:
    return Efficiency(
        engine=engine,
        bandwidth_efficiency=values["bandwidth_efficiency"],
        compute_efficiency=values["compute_efficiency"],
        prefill_compute_efficiency=values["prefill_compute_efficiency"],
        link_efficiency=values["link_efficiency"],
        max_batch_size=int(values["max_batch_size"]),
        allreduce_latency_us=values["allreduce_latency_us"],
        source=source,
    )


# Factors refitted per engine and per engine x GPU vendor; the rest stay at the shared fit.
ENGINE_FACTORS = (
    "bandwidth_efficiency",
    "compute_efficiency",
    "prefill_compute_efficiency",
    "max_batch_size",
)
VENDOR_FACTORS = ("bandwidth_efficiency", "compute_efficiency", "prefill_compute_efficiency")


def efficiency_values(eff: Efficiency) -> dict[str, float]:
    return {name: float(getattr(eff, name)) for name in GRID}


def fit_efficiency(
    engine: str,
    cases: Sequence[Case],
    source: str,
    objective: Callable[[Sequence[Case], Efficiency], float] = _log_error,
    rounds: int = 6,
    start: Efficiency | None = None,
    factors: Sequence[str] = tuple(GRID),
) -> Efficiency:
    """Coordinate-descent grid search for the ``factors`` that best fit ``cases``.

    Starts from ``start`` (or mid-range values); each round tries every grid value of one
    factor with the others held, keeping the best; it stops when a round changes nothing.
    """
    if not cases:
        raise ValueError(f"no calibration rows for engine {engine}")
    values = efficiency_values(start) if start is not None else dict(START)
    best_score = objective(cases, _efficiency(engine, values, source))
    for _ in range(rounds):
        changed = False
        for name in factors:
            for candidate in GRID[name]:
                trial = {**values, name: candidate}
                score = objective(cases, _efficiency(engine, trial, source))
                if score < best_score - 1e-12:
                    best_score, values, changed = score, trial, True
        if not changed:
            break
    return _efficiency(engine, values, source)


def fit_hierarchy(cases: Sequence[Case], min_vendor_rows: int = 3) -> dict[str, Efficiency]:
    """Fit every factor on all calibration rows, then refit a few per engine and per vendor.

    Sharing the link and all-reduce factors across engines and refitting only the efficiency
    factors per group keeps groups with few calibration rows from over-fitting.
    """
    calibration = [c for c in cases if c.calibration]
    shared = fit_efficiency("shared", calibration, "capacity model")
    fitted: dict[str, Efficiency] = {}
    for engine in sorted({c.engine for c in calibration}):
        rows = [c for c in calibration if c.engine == engine]
        source = f"capacity model, {engine} efficiency (calibrated on {len(rows)} rows)"
        engine_fit = fit_efficiency(engine, rows, source, start=shared, factors=ENGINE_FACTORS)
        fitted[engine] = engine_fit
        vendors = sorted({c.gpu.vendor for c in rows})
        for vendor in vendors if len(vendors) > 1 else []:
            vendor_rows = [c for c in rows if c.gpu.vendor == vendor]
            if len(vendor_rows) >= min_vendor_rows:
                source = (
                    f"capacity model, {engine} on {vendor} efficiency "
                    f"(calibrated on {len(vendor_rows)} rows)"
                )
                fitted[efficiency_key(engine, vendor)] = fit_efficiency(
                    engine, vendor_rows, source, start=engine_fit, factors=VENDOR_FACTORS
                )
    return fitted


def evaluate(cases: Iterable[Case], efficiencies: dict[str, Efficiency]) -> list[CaseResult]:
    """Predictions for the cases whose engine has factors (vendor-specific where fitted)."""
    results = []
    for case in cases:
        eff = select_efficiency(efficiencies, case.engine, case.gpu.vendor)
        if eff is not None:
            results.append(CaseResult(case, predict_case(case, eff)))
    return results


def _median_by(
    results: Sequence[CaseResult], key: Callable[[CaseResult], str]
) -> dict[str, tuple[int, float]]:
    groups: dict[str, list[float]] = {}
    for result in results:
        groups.setdefault(key(result), []).append(result.ape)
    return {k: (len(v), statistics.median(v)) for k, v in sorted(groups.items())}


def error_stats(results: Sequence[CaseResult]) -> ErrorStats:
    if not results:
        return ErrorStats(0, math.nan, {}, {})
    return ErrorStats(
        rows=len(results),
        median_ape=statistics.median(r.ape for r in results),
        by_gpu=_median_by(results, lambda r: r.case.gpu.id),
        by_class=_median_by(results, lambda r: "moe" if r.case.is_moe else "dense"),
    )
