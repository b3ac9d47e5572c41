"""Speed of the core: `llm-tco evaluate` cold start, and a 10,000-point sweep of 5 options.

Targets (issue "The core"): evaluate on an example < 1 s wall time including interpreter start;
a 10,000-point sweep of a 5-option scenario < 1 s.

Run: python benchmarks/core_speed.py  (prints medians of several runs)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "seed1-high-volume-haiku-vs-llama.yaml"

FIVE_OPTIONS = {
    "name": "five options",
    "workload": {"tokens_per_month": "2B", "input_share": 0.7, "peak_to_mean": 2},
    "options": [
        {"name": "haiku", "api": {"model": "claude-haiku-4.5"}},
        {"name": "sonnet", "api": {"model": "claude-sonnet-4-6"}},
        {"name": "gpt-4o", "api": {"model": "gpt-4o"}},
        {
            "name": "a100-fixed",
            "self_hosted": {
                "gpu": "a100-80gb-sxm",
                "gpu_count": 4,
                "gpu_monthly_price": 1500,
                "ops_monthly": 2000,
            },
        },
        {
            "name": "h100-auto",
            "self_hosted": {
                "gpu": "h100-sxm-80gb",
                "gpu_count": "auto",
                "gpu_hourly_price": 2.49,
                "tokens_per_second_per_replica": 3000,
                "engineer_fte": 0.2,
                "redundancy": "n+1",
            },
        },
    ],
}


def cold_start(runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "llm_tco", "evaluate", str(EXAMPLE), "--format", "json"],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sweep_10k(runs: int = 7) -> float:
    from llm_tco.evaluate import evaluate
    from llm_tco.scenario import scenario_from_data

    scenario = scenario_from_data(FIVE_OPTIONS)
    volumes = np.logspace(6, 12, 10_000).tolist()
    evaluate(scenario, volumes=volumes[:10])  # load the catalog once, as a server would
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = evaluate(scenario, volumes=volumes)
        times.append(time.perf_counter() - start)
    assert len(result.sweep) == 10_000
    return statistics.median(times)


if __name__ == "__main__":
    print(f"evaluate cold start (median of 7): {cold_start():.3f} s  (target < 1 s)")
    print(f"10,000-point sweep, 5 options (median of 7): {sweep_10k():.3f} s  (target < 1 s)")
