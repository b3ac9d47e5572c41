"""Time the Monte Carlo: 100,000 samples over a five-option scenario must take under 2 s.

Run from the repository root: ``PYTHONPATH=src python benchmarks/uncertainty_bench.py``.
Prints the best of several runs for the simulation alone (catalog loaded once, as the CLI does)
and checks that two runs with one seed give byte-identical JSON.
"""

from __future__ import annotations

import hashlib
import platform
import time
from pathlib import Path

from llm_tco.catalog import load_catalog
from llm_tco.scenario import load_scenario
from llm_tco.sensitivity import tornado
from llm_tco.simulate import simulate

SCENARIO = Path(__file__).parent / "uncertainty_scenario.yaml"
SAMPLES = 100_000
RUNS = 5
TARGET_S = 2.0


def main() -> None:
    catalog = load_catalog()
    scenario = load_scenario(SCENARIO)
    times, digests = [], set()
    for _ in range(RUNS):
        start = time.perf_counter()
        result = simulate(scenario, SAMPLES, seed=42, catalog=catalog)
        times.append(time.perf_counter() - start)
        digests.add(hashlib.sha256(result.model_dump_json().encode()).hexdigest())
    start = time.perf_counter()
    tornado(scenario, catalog=catalog)
    tornado_s = time.perf_counter() - start
    best, median = min(times), sorted(times)[len(times) // 2]
    print(f"python {platform.python_version()}, {platform.machine()}")
    print(
        f"simulate: {SAMPLES:,} samples x {len(scenario.options)} options, "
        f"{len(scenario.uncertain)} ranged inputs: best {best:.3f} s, median {median:.3f} s "
        f"over {RUNS} runs (target < {TARGET_S} s): {'OK' if best < TARGET_S else 'SLOW'}"
    )
    print(f"same seed, byte-identical JSON across runs: {len(digests) == 1}")
    print(f"tornado over the same ranges (+/-25% elsewhere): {tornado_s:.3f} s")


if __name__ == "__main__":
    main()
