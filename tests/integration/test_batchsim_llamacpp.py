"""The batching simulator predicts a real llama.cpp server's latencies under Poisson load.

Method (tests/integration/batchsim_support.py): closed-loop runs at concurrency 1 calibrate
the step times; beside each, a concurrency-2 run and a run of requests spaced three service
times apart calibrate the service of a request that waits behind another and of one that finds
the server idle. Each of the Poisson loads at 0.3, 0.45 and 0.6 of the calibrated saturation
rate is measured by the harness as five short runs, each between two calibrations; the
simulator replays each run's own send times, giving each request the service of the way it
finds the server (``bench.predict.predict_by_arrival``). Predicted p99 TTFT and mean TPOT over
each load's pooled requests must be within 25% of the measurement at all three loads.

Why by arrival class: replaying each request's own measured service through a one-at-a-time
queue reproduces the measured p99 exactly, so the queue model holds and the error is in the
service times. A queued request reaches its first token ~9 ms after the one ahead ends, one
arriving at an idle server ~18 ms, and the back-to-back concurrency-1 calibration measures
neither (~15 ms): at the calibrated step times alone (``fixed``, still shown) the highest load
came out +20% to +26% over the measurement in four of five quiet runs
(benchmarks/batchsim_results.md).

Robustness on a shared 2-core machine: the loads are relative to a calibration taken right
before and after each level (so the machine's speed at that moment sets the rates and the
step times), the server and the client are pinned to different cores, the loads stay at or
below 0.6 (where a 10% error in the service time moves the queueing delay by well under 25%),
the process runs at raised priority where allowed, the simulator sees the exact arrivals
the server saw, and a segment during which the machine changed (its two calibrations disagree,
or a request's token stream paused for over 200 decode steps: the server never interrupts a
running request, so such a pause is the process being descheduled, not queueing) is measured
again, up to three times (batchsim_support.STEADY, STALL_STEPS). Even so, on a 2-core machine
shared by several developers (load average 8-14) the measured p99 TTFT swung by +-50% between
identical runs (starvation stalls of hundreds of ms that no model of the server predicts;
benchmarks/batchsim_results.md lists the runs), so the test runs only where asked:
LLM_TCO_LATENCY_VALIDATION=1 on a quiet machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from batchsim_support import pin_cores, raise_priority, table, validate
from bench_support import llama_server, llama_server_missing
from tiny_gguf import write_tiny_llama

if (missing := llama_server_missing()) is not None:
    pytest.skip(missing, allow_module_level=True)

if not os.environ.get("LLM_TCO_LATENCY_VALIDATION"):
    pytest.skip(
        "latency validation needs a quiet machine: set LLM_TCO_LATENCY_VALIDATION=1",
        allow_module_level=True,
    )

FRACTIONS = (0.3, 0.45, 0.6)
TOLERANCE = 0.25


def test_p99_ttft_and_mean_tpot_within_25_percent(tmp_path: Path) -> None:
    server_cores, client_cores = pin_cores()
    before = os.sched_getaffinity(0)
    model = write_tiny_llama(tmp_path / "tiny.gguf")
    raised = raise_priority()
    try:
        if client_cores:
            os.sched_setaffinity(0, client_cores)
        with llama_server(model, cpus=server_cores) as url:
            comparisons = validate(url, FRACTIONS, tmp_path)
    finally:
        os.sched_setaffinity(0, before)
        if raised:
            os.nice(15)  # back to where the test process was
    report = table(comparisons)
    print(report)  # shown with pytest -s
    assert len(comparisons) == 3, report
    for v in comparisons:
        assert 0.15 < v.fixed.utilisation < 0.75, report  # below saturation, as planned
        c = v.by_arrival
        assert c is not None, report
        assert abs(c.error("ttft_p99")) <= TOLERANCE, report
        assert abs(c.error("tpot_mean")) <= TOLERANCE, report
