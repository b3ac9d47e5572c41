"""Fit the capacity model's engine efficiency factors and report its error on held-out rows.

Calibration rows are those whose sha256(id) first byte mod 5 is below 2 (about 40%); the rest are
held out. Factors are fitted per engine on its calibration rows only (coordinate-descent grid
search on mean absolute log error); predictions never see a row's measured figure.

    PYTHONPATH=src python benchmarks/calibrate_capacity.py [--extra-catalog DIR] [--write]

--write updates src/llm_tco/catalog/efficiency.yaml and benchmarks/capacity_validation.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import yaml

from llm_tco.capacity_cli import validation_markdown
from llm_tco.capacity_validation import (
    build_cases,
    efficiency_rows,
    validate,
    validation_dict,
    with_extra_rows,
)
from llm_tco.catalog.loader import DATA_DIR, load_catalog

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "benchmarks" / "capacity_validation.md"
HEADER = """# Engine efficiency factors of the capacity model (llm_tco.core.capacity).
# Written by benchmarks/calibrate_capacity.py: each engine's factors are fitted on its
# calibration_rows of benchmarks.yaml and checked on the held-out rest
# (see benchmarks/capacity_validation.md). Replace them with your own pilot measurement.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra-catalog", type=Path, help="extra gpus.yaml/models.yaml rows")
    parser.add_argument("--write", action="store_true", help="write efficiency.yaml and report")
    args = parser.parse_args()

    catalog = load_catalog()
    if args.extra_catalog:
        catalog = with_extra_rows(catalog, args.extra_catalog)
    started = time.perf_counter()
    validation = validate(catalog, refit=True)
    seconds = time.perf_counter() - started
    data = validation_dict(validation)
    report = validation_markdown(data)
    print(report.split("```", 1)[1].rsplit("```", 1)[0].strip())
    print(f"fit + validation took {seconds:.1f} s")
    if args.write:
        cases, _ = build_cases(catalog)
        rows = efficiency_rows(validation.efficiencies, cases, dt.date.today())
        text = HEADER + yaml.safe_dump(rows, sort_keys=False, width=100)
        (DATA_DIR / "efficiency.yaml").write_text(text, encoding="utf-8")
        REPORT.write_text(_report(data, report, args.extra_catalog), encoding="utf-8")
        print(f"wrote {DATA_DIR / 'efficiency.yaml'} and {REPORT}")


def _report(data: dict[str, object], table: str, extra: Path | None) -> str:
    efficiency = yaml.safe_dump(data["efficiency"], sort_keys=False).strip()
    catalog_note = (
        f" GPU and model rows missing from the shipped catalog came from `{extra}`."
        if extra
        else ""
    )
    return f"""# Capacity model validation

Predicted vs published output tokens/s for every row of `src/llm_tco/catalog/benchmarks.yaml`.
Rows marked `calibration` (sha256 of the row id, first byte mod 5 < 2) fitted the engine
efficiency factors; `held-out` rows were not used in fitting. APE = |predicted - measured| /
measured.{catalog_note}

Regenerate: `PYTHONPATH=src python benchmarks/calibrate_capacity.py --write` (this file and
`efficiency.yaml`), or print it with `llm-tco validate-capacity --format markdown`.

Fitted factors:

```yaml
{efficiency}
```

{table}
"""


if __name__ == "__main__":
    main()
