"""Speed of the tail-latency sizing: a 24-hour per-minute trace for a 100-GPU fleet.

Target (issue "Size from the real traffic"): a day of per-minute traffic for a 100-GPU fleet
sizes in under 2 s on the project's 2-core machine.

What is timed, from the catalog objects to the 1,440 per-minute GPU counts, for each router:
1. the step-time table of the deployment from the capacity model (``deployment_step_times``);
2. random routing: the search for the highest per-replica request rate whose simulated p99
   TTFT and p99 TPOT meet the targets (``rate_at_slo``: the bisection's answer from about six
   simulations of 4,000 requests, those that miss stopped early), then
   ``replicas_per_minute``;
3. least-loaded routing (the scenario default) and round robin: the per-replica rate by fleet
   size (``fleetsize.fleet_capacity``: the same bisection for one replica, then one for each
   fleet of 2, 4, 8 ... replicas simulated whole behind the router, up to the size the peak
   needs or until doubling gains under 5%), then ``FleetCapacity.replicas_for``.

The trace is a synthetic day: a diurnal sine (trough at 04:00, peak at 16:00, peak / trough 4)
times Poisson noise on each minute's count, scaled so the peak minute needs about 100 GPUs.

Run: python benchmarks/batchsim_speed.py  (prints, per router, the cold run and the median of
the warm ones, in wall-clock seconds and in this process's CPU seconds: on a shared machine the
wall clock counts the neighbours' work too)
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from llm_tco.capacity_factors import catalog_efficiencies
from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.core.batchsim import TailSlo, deployment_step_times, rate_at_slo, replicas_per_minute
from llm_tco.core.capacity import select_efficiency
from llm_tco.core.fleetsize import fleet_capacity, fleet_text
from llm_tco.core.memory import plain_tp

MODEL, GPU, GPUS_PER_REPLICA = "llama-3.1-70b", "h100-sxm-80gb", 4
PROMPT, OUTPUT = 1500, 300
RUNS = 4
SLO = TailSlo(ttft_ms=1000.0, ttft_percentile=99.0, tpot_ms=60.0, tpot_percentile=99.0)


def day_trace(peak_requests_per_minute: float, seed: int = 0) -> np.ndarray:
    minutes = np.arange(1440)
    shape = 0.625 - 0.375 * np.cos(2 * np.pi * (minutes - 240) / 1440)  # 0.25 .. 1.0
    rng = np.random.default_rng(seed)
    return rng.poisson(peak_requests_per_minute * shape).astype(np.float64)


def size_day(catalog: Catalog, trace: np.ndarray, routing: str) -> tuple[np.ndarray, str]:
    arch, gpu = catalog.model(MODEL), catalog.gpu(GPU)
    eff = select_efficiency(catalog_efficiencies(catalog), "vllm", gpu.vendor)
    assert eff is not None
    steps = deployment_step_times(
        arch, gpu, "bf16", "bf16", plain_tp(GPUS_PER_REPLICA), PROMPT, OUTPUT, eff
    )
    if routing == "random":
        found = rate_at_slo(steps, PROMPT, OUTPUT, SLO)
        gpus = replicas_per_minute(trace, found.requests_per_second) * GPUS_PER_REPLICA
        return gpus, f"{found.requests_per_second:.3f} req/s per replica"
    peak = float(trace.max()) / 60.0
    fleet = fleet_capacity(steps, PROMPT, OUTPUT, SLO, routing, peak_requests_per_second=peak)
    gpus = fleet.replicas_for(trace / 60.0, min_replicas=1) * GPUS_PER_REPLICA
    return gpus, fleet_text(fleet)


def main() -> None:
    catalog = load_catalog()
    _, per_replica = size_day(catalog, np.ones(1440), "random")
    rate = float(per_replica.split()[0])
    # The peak minute needs about 25 replicas (100 GPUs) with requests spread at random.
    trace = day_trace(peak_requests_per_minute=25 * rate * 60 * 0.98)
    print(f"{MODEL} bf16 on {GPUS_PER_REPLICA} x {GPU}, {PROMPT} + {OUTPUT} tokens per request")
    print(f"targets: p99 TTFT <= {SLO.ttft_ms:g} ms, p99 TPOT <= {SLO.tpot_ms:g} ms, Poisson")
    print(f"trace: 1,440 minutes, {trace.sum():,.0f} requests, peak {trace.max():,.0f}/min")
    for routing in ("random", "least-loaded", "round-robin"):
        timings, cpu = [], []
        for _ in range(RUNS):
            started, cpu_started = time.perf_counter(), time.process_time()
            gpus, how = size_day(catalog, trace, routing)
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        warm = statistics.median(timings[1:])
        print(f"{routing}: {how}")
        print(
            f"  GPUs per minute: min {gpus.min()}, max {gpus.max()}, mean {gpus.mean():.1f}; "
            f"first run {timings[0]:.3f} s, median of the next {RUNS - 1}: {warm:.3f} s "
            f"(CPU {cpu[0]:.3f} / {statistics.median(cpu[1:]):.3f} s)"
        )


if __name__ == "__main__":
    main()
