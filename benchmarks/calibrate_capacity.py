"""Fit the capacity model's factors and report its leave-one-publisher-out error.

For each publisher of measurements, the factors are fitted on every other publisher's rows and
predict its rows; the report gives median APE, MAPE and signed bias overall and by publisher,
GPU, engine, dense/MoE and load mode. The factors fitted on all rows go to
``src/llm_tco/catalog/efficiency.yaml`` and the error distribution to
``src/llm_tco/catalog/capacity_error.yaml``; the report to ``benchmarks/capacity_validation.md``.

    PYTHONPATH=src python benchmarks/calibrate_capacity.py [--check] [--draws N]

--check prints the summary without writing anything. --draws N also repeats the
leave-one-publisher-out with N other row samples of the fit (``fit_sample``'s salt) and prints
each draw's figures and their range: a change to the model that moves the headline by less than
that range is not told apart from the sampling by one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
from pathlib import Path

import yaml

from llm_tco.capacity_validation import (
    efficiency_rows,
    error_band_rows,
    validate,
    validation_markdown,
)
from llm_tco.catalog.loader import DATA_DIR, load_catalog
from llm_tco.core.calibration import Case, errors_by, group_error, leave_one_publisher_out

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "benchmarks" / "capacity_validation.md"
EFFICIENCY_HEADER = """\
# Fitted factors of the capacity model (llm_tco.core.capacity): one row per engine
# and per engine x non-NVIDIA GPU vendor. Written by benchmarks/calibrate_capacity.py from every
# published measurement in benchmarks.yaml and measurements/; the out-of-source error of these
# factors is in benchmarks/capacity_validation.md. Replace them with your own pilot measurement.
"""
ERROR_HEADER = """\
# Out-of-source error of the capacity model: quantiles of measured / predicted
# output tokens/s over the leave-one-publisher-out predictions (schema
# CapacityErrorBand). Written by benchmarks/calibrate_capacity.py;
# llm_tco.capacity_factors.sample_capacity_error draws from it.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print only, write nothing")
    parser.add_argument(
        "--draws", type=int, default=0, help="also refit with N other row samples, print only"
    )
    args = parser.parse_args()

    report, full, cases = validate(load_catalog())
    o = report.overall
    print(
        f"leave-one-publisher-out: {o.rows} rows, {len(report.by_publisher)} publishers: "
        f"median APE {o.median_ape_percent}%, MAPE {o.mape_percent}%, "
        f"bias {o.median_signed_percent:+}%"
    )
    for name, s in report.by_class.items():
        print(f"  {name}: {s.rows} rows, median APE {s.median_ape_percent}%")
    print(
        f"fit + validation took {report.seconds} s wall, {report.cpu_seconds} s CPU; "
        f"{len(report.skipped)} rows skipped ({report.not_comparable_rows} not comparable "
        "by their source's own words)"
    )
    if args.draws > 0:
        _print_draws(cases, o.median_ape_percent, args.draws)
    if args.check:
        return
    today = dt.date.today()
    rows = efficiency_rows(full, cases, today)
    (DATA_DIR / "efficiency.yaml").write_text(
        EFFICIENCY_HEADER + yaml.safe_dump(rows, sort_keys=False, width=100), encoding="utf-8"
    )
    bands = error_band_rows(report, today)
    (DATA_DIR / "capacity_error.yaml").write_text(
        ERROR_HEADER + yaml.safe_dump(bands, sort_keys=False, width=100), encoding="utf-8"
    )
    REPORT.write_text(_report(validation_markdown(report)), encoding="utf-8")
    print(f"wrote efficiency.yaml, capacity_error.yaml and {REPORT.relative_to(ROOT)}")


def _print_draws(cases: list[Case], headline: float, draws: int) -> None:
    """Leave-one-publisher-out median APE with ``draws`` other row samples of the fit."""
    overall = [headline]
    for k in range(1, draws + 1):
        results, _ = leave_one_publisher_out(cases, salt=f"draw-{k}")
        by_class = errors_by(results, lambda r: "moe" if r.case.is_moe else "dense")
        figure = group_error(results).median_ape
        overall.append(figure)
        print(
            f"  draw {k}: median APE {figure:.1f}% (dense {by_class['dense'].median_ape:.1f}%, "
            f"moe {by_class['moe'].median_ape:.1f}%)"
        )
    print(
        f"median APE over {len(overall)} row samples: {statistics.median(overall):.1f}% "
        f"(range {min(overall):.1f}-{max(overall):.1f}%)"
    )


def _report(body: str) -> str:
    return f"""# Capacity model validation

Predicted vs published output tokens/s for every measurement in
`src/llm_tco/catalog/benchmarks.yaml` and `src/llm_tco/catalog/measurements/`, grouped by
publisher. Each publisher's rows are predicted by factors fitted on every other publisher's
rows only, so the figures are the error a source the model has never seen can expect.

Regenerate: `PYTHONPATH=src python benchmarks/calibrate_capacity.py` (this file,
`efficiency.yaml` and `capacity_error.yaml`), or print it with
`llm-tco validate-capacity --format markdown`.

{body}
"""


if __name__ == "__main__":
    main()
