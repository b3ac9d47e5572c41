"""The batching simulator against a published concurrency sweep with TTFT percentiles.

Source: "Benchmarking Mistral-7B on RTX 4090: vLLM Concurrency, Latency, and Capacity
Planning", https://mushfiqrahman.dev/benchmarking-mistral-7b-on-rtx-4090-vllm-concurrency-latency-and-capacity-planning/
(Part 1: Mistral-7B-Instruct-v0.3 on one RTX 4090 24GB, vLLM, 256 input -> 128 output tokens,
300 prompts at an unlimited rate with max concurrency 4 ... 48; read 2026-12-02).

Mistral-7B-v0.3 is not in the model catalog. Its architecture is Llama-3.1-8B's (32 layers,
hidden 4096, 32 heads, 8 KV heads, FFN 14336) with a 32,768-token vocabulary instead of
128,256 (7.25B parameters instead of 8.03B), so the prediction uses llama-3.1-8b: it reads
about 10% more weight bytes per step than the measured model and should come out slower by
up to that much where steps are memory-bound. Nothing here is fitted to the page.

Run: python benchmarks/batchsim_published.py
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from llm_tco.capacity_factors import catalog_efficiencies
from llm_tco.catalog.loader import load_catalog
from llm_tco.core.batchsim import deployment_step_times, simulate, statistic
from llm_tco.core.capacity import select_efficiency
from llm_tco.core.memory import plain_tp

PROMPT, OUTPUT, PROMPTS = 256, 128, 300
# (max concurrency, req/s, mean TTFT ms, median TTFT ms, p99 TTFT ms) as published.
PUBLISHED = [
    (4, 2.09, 63, 53, 157),
    (8, 3.78, 79, 55, 268),
    (16, 6.44, 155, 97, 503),
    (32, 9.73, 362, 277, 938),
    (48, 11.87, 667, 840, 1483),
]


def main() -> None:
    catalog = load_catalog()
    arch, gpu = catalog.model("llama-3.1-8b"), catalog.gpu("rtx-4090")
    eff = select_efficiency(catalog_efficiencies(catalog), "vllm", gpu.vendor)
    assert eff is not None
    steps = deployment_step_times(arch, gpu, "bf16", "bf16", plain_tp(1), PROMPT, OUTPUT, eff)
    print(f"llama-3.1-8b bf16 on 1 x rtx-4090, vllm factors; batch limit {steps.max_running}")
    first = simulate(steps, np.zeros(PROMPTS), PROMPT, OUTPUT, closed_loop=PUBLISHED[0][0])
    # Calibrated: every step time scaled so the lowest concurrency's throughput matches.
    scale = (PROMPTS / float(np.nanmax(first.finish_s))) / PUBLISHED[0][1]
    scaled = replace(steps, table=steps.table * scale)
    print(f"calibration: step times x {scale:.3f} (from the concurrency-{PUBLISHED[0][0]} row)")
    print(
        "| max concurrency | req/s published / model / calibrated | mean TTFT ms | median TTFT "
        "ms | p99 TTFT ms (published / model / calibrated) |"
    )
    print("| --- | --- | --- | --- | --- |")
    for c, rps, mean, median, p99 in PUBLISHED:
        cells = [f"{rps}", f"{mean}", f"{median}", f"{p99}"]
        for table in (steps, scaled):
            out = simulate(table, np.zeros(PROMPTS), PROMPT, OUTPUT, closed_loop=c)
            sim = [statistic(out.ttft_s, p) for p in (None, 50, 99)]
            cells[0] += f" / {PROMPTS / float(np.nanmax(out.finish_s)):.2f}"
            for i in range(3):
                cells[i + 1] += f" / {sim[i]:.0f}"
        print(f"| {c} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
