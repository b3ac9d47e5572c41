"""A scenario's peak load, for saying how many benchmarked deployments carry it.

Peak output tokens/s = output tokens per month / (hours per month x 3600) x peak-to-mean.
The scenario reader lives in another part of the package (``llm_tco.scenario``); without it
this module says so instead of failing with an import error.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from llm_tco.errors import BenchError

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class ScenarioShape:
    peak_output_tokens_per_second: float
    input_tokens_per_request: int | None
    output_tokens_per_request: int | None
    name: str


def peak_output_tokens_per_second(
    output_tokens_per_month: float, hours_per_month: float, peak_to_mean: float
) -> float:
    """Mean output tokens/s over the month's hours, times the peak-to-mean ratio."""
    return output_tokens_per_month / (hours_per_month * SECONDS_PER_HOUR) * peak_to_mean


def scenario_shape(path: Path) -> ScenarioShape:
    """Peak output rate and per-request token counts (when the workload gives them)."""
    try:
        scenario_mod = importlib.import_module("llm_tco.scenario")
        resolve_mod = importlib.import_module("llm_tco.resolve")
    except ModuleNotFoundError as exc:
        raise BenchError(
            "--scenario needs llm-tco's scenario reader, which this install lacks",
            field="scenario",
            hint="give --peak-output-tps instead",
        ) from exc
    scenario = scenario_mod.load_scenario(path)
    workload, _ = resolve_mod.resolve_workload(scenario.workload, scenario.hours_per_month)
    peak = peak_output_tokens_per_second(
        workload.output_tokens_per_month, scenario.hours_per_month, workload.peak_to_mean
    )

    def rounded(value: float | None) -> int | None:
        return max(1, round(value)) if value else None

    return ScenarioShape(
        peak_output_tokens_per_second=peak,
        input_tokens_per_request=rounded(workload.input_tokens_per_request),
        output_tokens_per_request=rounded(workload.output_tokens_per_request),
        name=scenario.name,
    )
