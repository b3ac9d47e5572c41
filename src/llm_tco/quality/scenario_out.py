"""``--out s.yaml``: the measured capability tax written into a scenario.

Each endpoint becomes (or updates, with ``--scenario BASE``) the option of the same name, with
``acceptance_rate`` and ``retry_rate`` as triangular ranges: the measured value as the mode and
the 95% intervals as the ends (Wilson for acceptance, normal for retries), and
``acceptance_source`` saying where they come from, which ``llm-tco recommend`` cites.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from llm_tco.quality.errors import QualityError
from llm_tco.quality.result import EndpointSummary, QualityResult
from llm_tco.scenario import scenario_from_data

DIGITS = 4


def _range(low: float, point: float, high: float) -> float | dict[str, list[float]]:
    low, point, high = (round(v, DIGITS) for v in (low, point, high))
    if low == high:
        return point
    return {"triangular": [min(low, point), point, max(high, point)]}


def source_text(result: QualityResult, summary: EndpointSummary) -> str:
    a = summary.acceptance
    return (
        f"llm-tco quality {result.created_at[:10]}: {a.accepted} of {a.graded} prompts accepted "
        f"({', '.join(result.graders)}; up to {result.max_attempts} attempts) on "
        f"{Path(result.prompts_file).name}"
    )


def measured_fields(result: QualityResult, summary: EndpointSummary) -> dict[str, Any]:
    a = summary.acceptance
    assert a.rate is not None
    return {
        "acceptance_rate": _range(a.low, a.rate, a.high),
        "retry_rate": _range(summary.retry_rate_low, summary.retry_rate, summary.retry_rate_high),
        "acceptance_source": source_text(result, summary),
    }


def _workload(result: QualityResult, requests_per_month: float | None) -> dict[str, Any]:
    if requests_per_month is None:
        raise QualityError(
            "a new scenario needs the monthly volume",
            field="--requests-per-month",
            hint="e.g. --requests-per-month 2M, or --scenario BASE.yaml to update your own",
        )
    base = result.endpoints[0]
    answers = max(1, base.attempts)
    return {
        "requests_per_month": requests_per_month,
        "input_tokens_per_request": round(base.input_tokens / answers, 1),
        "output_tokens_per_request": round(base.output_tokens / answers, 1),
    }


def scenario_data(
    result: QualityResult,
    base: dict[str, Any] | None = None,
    requests_per_month: float | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The scenario (raw YAML data) and warnings for endpoints that could not be written."""
    warnings: list[str] = []
    data: dict[str, Any] = (
        dict(base)
        if base is not None
        else {
            "name": f"Quality pilot on {Path(result.prompts_file).name}",
            "workload": _workload(result, requests_per_month),
            "options": [],
        }
    )
    options = [dict(o) for o in data.get("options") or []]
    by_name = {o.get("name"): o for o in options}
    for summary in result.endpoints:
        if not summary.acceptance.accepted:
            warnings.append(
                f"{summary.name}: none of {summary.acceptance.graded} answers accepted, so no cost "
                "per accepted output; left out of the scenario"
            )
            continue
        option = by_name.get(summary.name)
        if option is None:
            if summary.input_per_mtok is None or summary.output_per_mtok is None:
                warnings.append(
                    f"{summary.name}: no price given and no option of that name in the base "
                    "scenario; left out (add price_in/price_out, or pass --scenario)"
                )
                continue
            option = {
                "name": summary.name,
                "api": {
                    "input_per_mtok": summary.input_per_mtok,
                    "output_per_mtok": summary.output_per_mtok,
                },
            }
            options.append(option)
        option.update(measured_fields(result, summary))
    if not options:
        raise QualityError("no endpoint could be written as an option", field="--out")
    data["options"] = options
    return data, warnings


def write_scenario(
    result: QualityResult,
    path: Path,
    base_path: Path | None = None,
    requests_per_month: float | None = None,
) -> list[str]:
    """Write the scenario to ``path`` once it validates; returns the warnings."""
    base = None
    if base_path is not None:
        try:
            base = yaml.safe_load(base_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise QualityError(f"cannot read {base_path}: {exc}", field="--scenario") from None
        if not isinstance(base, dict):
            raise QualityError(f"{base_path} is not a scenario mapping", field="--scenario")
    data, warnings = scenario_data(result, base, requests_per_month)
    scenario_from_data(data, origin=str(path))  # refuse to write what would not load
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(path)
    return warnings
