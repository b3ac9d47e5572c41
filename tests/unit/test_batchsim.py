"""Continuous-batching simulator: hand-traced schedules, queueing theory, and tail sizing."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from llm_tco import capacity_cli
from llm_tco.capacity_factors import catalog_efficiencies
from llm_tco.catalog.loader import load_catalog
from llm_tco.core.batchsim import (
    StepTimes,
    TailSlo,
    arrivals_at,
    measured_step_times,
    rate_at_slo,
    replicas_per_minute,
    simulate,
    tail,
    unit_gaps,
)
from llm_tco.core.capacity import Slo, replica_capacity, select_efficiency


def linear_steps(budget: int = 8, running: int = 4) -> StepTimes:
    """t(n, p) = 1 ms + 2 ms per decode + 1 ms per prompt token (exactly linear in p)."""
    prompt = np.array([0.0, float(budget)])
    n = np.arange(running + 1, dtype=np.float64)[:, None]
    table = 0.001 + 0.002 * n + 0.001 * prompt[None, :]
    return StepTimes(table, prompt, budget, running)


def test_chunked_prefill_of_one_long_prompt() -> None:
    # Budget 8 tokens a step, prompt 20: chunks of 8, 8, 4 -> 9 + 9 + 5 = 23 ms to the first
    # token; then 2 decode steps of one sequence, 3 ms each: finish at 29 ms, TPOT 3 ms.
    out = simulate(linear_steps(), np.array([0.0]), 20, 3)
    assert out.ttft_s[0] == pytest.approx(0.023)
    assert out.finish_s[0] == pytest.approx(0.029)
    assert out.tpot_s[0] == pytest.approx(0.003)


def test_a_request_joins_the_running_batch_at_the_next_step() -> None:
    # A (prompt 4, 5 tokens) at 0: prefill step 1 + 4 = 5 ms, first token at 5 ms; decode step
    # to 8 ms. B (prompt 4, 2 tokens) arrives at 6 ms, joins at 8 ms: a step of A's decode and
    # B's prompt, 1 + 2 + 4 = 7 ms -> 15 ms (B's first token, A's third). Two decodes, 5 ms ->
    # 20 ms (B done, A's fourth); one decode, 3 ms -> 23 ms (A done).
    out = simulate(linear_steps(), np.array([0.0, 0.006]), 4, np.array([5, 2]))
    assert out.ttft_s == pytest.approx([0.005, 0.009])
    assert out.finish_s == pytest.approx([0.023, 0.020])
    assert out.tpot_s == pytest.approx([0.018 / 4, 0.005])


def test_full_batch_makes_a_request_wait_for_a_slot() -> None:
    # One slot: B (arrives at 1 ms) waits for A to finish at 5 + 3 = 8 ms, then prefills 5 ms.
    out = simulate(linear_steps(running=1), np.array([0.0, 0.001]), 4, 2)
    assert out.ttft_s == pytest.approx([0.005, 0.013 - 0.001])


def test_one_slot_server_is_an_md1_queue() -> None:
    # One request at a time, each served for S = 50 ms prefill + 10 x 10 ms decode = 150 ms:
    # an M/D/1 queue. Pollaczek-Khinchine: mean wait = rho S / (2 (1 - rho)); at rho = 0.5,
    # 75 ms, so the mean TTFT is 75 + 50 = 125 ms.
    steps = measured_step_times(0.010, 0.050, 100, max_running=1)
    rate = 0.5 / 0.150
    out = simulate(steps, arrivals_at(rate, unit_gaps(40_000, seed=3)), 100, 11)
    assert np.mean(out.ttft_s) == pytest.approx(0.125, rel=0.04)
    assert np.nanmean(out.tpot_s) == pytest.approx(0.010)


def test_rate_at_a_mean_target_inverts_the_md1_formula() -> None:
    # Mean TTFT <= 125 ms is met up to rho = 0.5 (above): 0.5 / 0.15 s = 3.33 requests/s.
    steps = measured_step_times(0.010, 0.050, 100, max_running=1)
    found = rate_at_slo(steps, 100, 11, TailSlo(ttft_ms=125.0), requests=20_000, seed=3)
    assert found.saturation_requests_per_second == pytest.approx(1 / 0.150)
    assert found.requests_per_second == pytest.approx(3.333, rel=0.05)


def test_bursty_arrivals_lengthen_the_tail_at_the_same_rate() -> None:
    steps = measured_step_times(0.010, 0.050, 100, max_running=1)
    p99 = []
    for burstiness in (1.0, 2.0):
        gaps = unit_gaps(20_000, burstiness, seed=1)
        assert np.mean(gaps) == pytest.approx(1.0, rel=0.05)
        assert np.std(gaps) == pytest.approx(burstiness, rel=0.1)
        p99.append(tail(simulate(steps, arrivals_at(3.0, gaps), 100, 11), 3.0).ttft_ms["p99"])
    assert p99[1] > 1.5 * p99[0]


def test_replicas_per_minute_by_hand() -> None:
    # 2 requests/s per replica: 0/min -> the minimum 1; 60/min = 1/s -> 1; 600/min = 10/s -> 5;
    # 601/min = 10.017/s -> 6.
    counts = replicas_per_minute([0, 60, 600, 601], 2.0)
    assert counts.tolist() == [1, 1, 5, 6]


# --- tail sizing: a load at 80% of the mean-latency capacity ----------------------------------

SHAPE = ("llama-3.1-8b", "h100-sxm-80gb", 1000, 200)  # model, GPU, prompt, output tokens
TTFT_SLO_MS = 150.0


def mean_capacity_rps() -> float:
    catalog = load_catalog()
    model, gpu, prompt, output = SHAPE
    spec = catalog.gpu(gpu)
    eff = select_efficiency(catalog_efficiencies(catalog), "vllm", spec.vendor)
    assert eff is not None
    found = replica_capacity(
        catalog.model(model), spec, "bf16", "bf16", 1, prompt, output, Slo(50, TTFT_SLO_MS), eff
    )
    return found.requests_per_second


def capacity_json(*args: str) -> dict:
    app = typer.Typer()
    capacity_cli.register(app)
    model, gpu, prompt, output = SHAPE
    base = ["capacity", model, gpu, "--input-len", str(prompt), "--output-len", str(output)]
    result = CliRunner().invoke(app, [*base, "--ttft-slo", str(TTFT_SLO_MS), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if "--format" in args else {"text": result.output}


def test_p99_ttft_needs_more_gpus_than_the_mean_only_sizing() -> None:
    # Ten replicas' worth of mean-latency capacity at 80%: the mean-only sizing needs
    # ceil(0.8 x 10) = 8 replicas. Queueing at random arrivals pushes the p99 TTFT past the
    # target at that load, so the p99 sizing needs more.
    rate = 0.8 * 10 * mean_capacity_rps()
    report = capacity_json("--ttft-slo-percentile", "99", "--rate", f"{rate}", "--format", "json")
    t = report["tail"]
    assert t["mean_only_replicas"] == 8 and t["mean_only_gpus"] == 8
    assert t["replicas"] > 8
    assert t["limited_by"] == "percentile"
    assert t["ttft_ms"]["p99"] <= TTFT_SLO_MS
    assert t["requests_per_second"] < 0.8 * t["mean_only_requests_per_second"]
    # The table shows both counts.
    text = capacity_json("--ttft-slo-percentile", "99", "--rate", f"{rate}")["text"]
    flat = " ".join(text.split())
    assert f"{t['replicas']} replicas ({t['gpus']} GPUs) at the percentile targets" in flat
    assert "8 replicas (8 GPUs) by the mean-only sizing" in flat


def test_scenario_percentile_sizing_shows_both_counts() -> None:
    from llm_tco import evaluate
    from llm_tco.scenario import scenario_from_data

    rate = 0.8 * 10 * mean_capacity_rps()
    model, gpu, prompt, output = SHAPE
    requests_per_month = rate * 720 * 3600

    def scenario(percentile: float | None) -> dict:
        hosted = {
            "model": model,
            "gpu": gpu,
            "gpu_hourly_price": 2.5,
            "tpot_slo_ms": 50,
            "ttft_slo_ms": TTFT_SLO_MS,
        }
        if percentile is not None:
            hosted["ttft_slo_percentile"] = percentile
        return {
            "name": "tail",
            "workload": {
                "requests_per_month": requests_per_month,
                "input_tokens_per_request": prompt,
                "output_tokens_per_request": output,
            },
            "options": [{"name": "own", "self_hosted": hosted}],
        }

    mean_only = evaluate(scenario_from_data(scenario(None))).options[0]
    p99 = evaluate(scenario_from_data(scenario(99))).options[0]
    assert mean_only.deployment.replicas_needed_at_peak == 8
    assert mean_only.deployment.replicas_needed_mean_latency is None  # as before the feature
    assert p99.deployment.replicas_needed_mean_latency == 8
    assert p99.deployment.replicas_needed_at_peak > 8
    assert p99.gpus > mean_only.gpus


def test_percentile_out_of_range_is_a_clear_error() -> None:
    app = typer.Typer()
    capacity_cli.register(app)
    result = CliRunner().invoke(
        app, ["capacity", "llama-3.1-8b", "h100", "--ttft-slo-percentile", "30"]
    )
    assert result.exit_code == 2
    assert "50-99.9" in result.output


def test_simulated_tpot_never_beats_a_full_batch_step() -> None:
    # Below saturation the batch is partly empty, so the mean TPOT is at most the full batch's.
    steps = linear_steps(budget=64, running=8)
    out = simulate(steps, arrivals_at(40.0, unit_gaps(2000, seed=0)), 16, 20)
    assert np.nanmax(out.tpot_s) <= steps.seconds(8, 64) + 1e-12
    assert math.isfinite(float(np.nanmean(out.tpot_s)))


def test_closed_loop_clients_send_when_their_last_request_ends() -> None:
    # One slot, two clients, 3 requests of prompt 4 / 2 tokens (5 ms prefill + 3 ms decode =
    # 8 ms each): the second waits for the first (TTFT 8 + 5 = 13 ms); the third is sent when
    # the first ends at 8 ms and starts after the second at 16 ms (TTFT 16 + 5 - 8 = 13 ms).
    out = simulate(linear_steps(running=1), np.zeros(3), 4, 2, closed_loop=2)
    assert out.arrival_s == pytest.approx([0.0, 0.0, 0.008])
    assert out.ttft_s == pytest.approx([0.005, 0.013, 0.013])
