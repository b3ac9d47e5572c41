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
    bootstrap_scales,
    measured_step_times,
    rate_at_slo,
    replicas_per_minute,
    simulate,
    simulate_fleet,
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


def test_batch_of_one_with_two_known_service_times() -> None:
    # Prefill 100 ms for 100 tokens, decode 10 ms a step, one request at a time; both arrive
    # at 0 with 100 + 11 tokens. A: prefill x2 = 200 ms (TTFT 0.2 s), 10 decodes x1 = 100 ms,
    # done at 0.3 s. B waits for A, prefill x0.5 = 50 ms -> first token at 0.35 s; 10 decodes
    # x2 = 200 ms -> done at 0.55 s, TPOT 20 ms.
    steps = measured_step_times(0.010, 0.100, 100, max_running=1)
    out = simulate(
        steps,
        np.zeros(2),
        100,
        11,
        prefill_scale=np.array([2.0, 0.5]),
        decode_scale=np.array([1.0, 2.0]),
    )
    assert out.ttft_s == pytest.approx([0.2, 0.35])
    assert out.finish_s == pytest.approx([0.3, 0.55])
    assert out.tpot_s == pytest.approx([0.010, 0.020])


def test_a_batched_step_takes_the_mean_scale_of_its_sequences() -> None:
    # Two slots, t(n, p) = 10 ms x [n > 0] + 1 ms per prompt token (measured_step_times).
    # Both prompts (100 tokens each) go in one step: 200 ms x the token-weighted mean prefill
    # scale (1 x 100 + 2 x 100) / 200 = 1.5 -> 300 ms. Decoding together at decode scales 1
    # and 3: 10 ms x 2 = 20 ms a step; A (6 tokens) done after 5 steps at 0.4 s; B alone then
    # steps 10 ms x 3 = 30 ms: 5 more -> 0.55 s, TPOT (0.55 - 0.3) / 10 = 25 ms.
    steps = measured_step_times(0.010, 0.100, 100, max_running=2)
    out = simulate(
        steps,
        np.zeros(2),
        100,
        np.array([6, 11]),
        prefill_scale=np.array([1.0, 2.0]),
        decode_scale=np.array([1.0, 3.0]),
    )
    assert out.ttft_s == pytest.approx([0.3, 0.3])
    assert out.finish_s == pytest.approx([0.4, 0.55])
    assert out.tpot_s == pytest.approx([0.020, 0.025])


def test_unit_scales_change_nothing() -> None:
    steps = linear_steps()
    arrivals = arrivals_at(0.5 / 0.03, unit_gaps(500, seed=2))
    plain = simulate(steps, arrivals, 6, 5)
    ones = simulate(steps, arrivals, 6, 5, prefill_scale=np.ones(500), decode_scale=np.ones(500))
    assert ones.ttft_s == pytest.approx(plain.ttft_s)
    assert ones.finish_s == pytest.approx(plain.finish_s)


def test_variable_service_is_an_mg1_queue() -> None:
    # One slot, service S = 50 ms prefill + 10 x 10 ms decode = 150 ms x a scale of 0.5 or 1.5
    # (equally likely, the same for prefill and decode): E[S] = 150 ms, E[S^2] = 150^2 x 1.25.
    # Pollaczek-Khinchine: mean wait = lambda E[S^2] / (2 (1 - rho)); at rho = 0.5 (lambda =
    # 3.33/s) 3.333 x 0.028125 / 1 = 93.75 ms (vs 75 ms with fixed service), and the mean TTFT
    # adds the mean prefill, 50 ms: 143.75 ms.
    steps = measured_step_times(0.010, 0.050, 100, max_running=1)
    n = 40_000
    scale = np.where(np.random.default_rng(5).random(n) < 0.5, 0.5, 1.5)
    out = simulate(
        steps,
        arrivals_at(0.5 / 0.150, unit_gaps(n, seed=3)),
        100,
        11,
        prefill_scale=scale,
        decode_scale=scale,
    )
    assert np.mean(out.ttft_s) == pytest.approx(0.14375, rel=0.04)
    assert np.nanmean(out.tpot_s) == pytest.approx(0.010, rel=0.01)  # E[scale] = 1


def test_bootstrap_keeps_measured_pairs_together() -> None:
    prefill, decode = bootstrap_scales(np.array([0.5, 2.0]), np.array([0.8, 1.6]), 1000, seed=1)
    assert set(zip(prefill.tolist(), decode.tolist(), strict=True)) == {(0.5, 0.8), (2.0, 1.6)}
    with pytest.raises(ValueError, match="positive"):
        simulate(linear_steps(), np.zeros(1), 4, 2, decode_scale=np.array([0.0]))


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
    # (Requests spread at random over the replicas: each sees Poisson arrivals at its share.)
    rate = 0.8 * 10 * mean_capacity_rps()
    tail = ("--ttft-slo-percentile", "99", "--rate", f"{rate}")
    report = capacity_json(*tail, "--routing", "random", "--format", "json")
    t = report["tail"]
    assert t["mean_only_replicas"] == 8 and t["mean_only_gpus"] == 8
    assert t["replicas"] > 8
    assert t["limited_by"] == "percentile"
    assert t["ttft_ms"]["p99"] <= TTFT_SLO_MS
    assert t["requests_per_second"] < 0.8 * t["mean_only_requests_per_second"]
    # The table shows both counts.
    text = capacity_json(*tail, "--routing", "random")["text"]
    flat = " ".join(text.split())
    assert (
        f"{t['replicas']} replicas ({t['gpus']} GPUs) at the percentile targets (random "
        "routing)" in flat
    )
    assert "8 replicas (8 GPUs) by the mean-only sizing" in flat
    # A least-loaded router (the default) pools the bursts: never more replicas than random
    # routing, and the per-replica rate by fleet size starts at the one replica's.
    pooled = capacity_json(*tail, "--format", "json")["tail"]
    assert pooled["routing"] == "least-loaded"
    assert 8 <= pooled["replicas"] <= t["replicas"]
    assert pooled["by_fleet_size"]["1"] == pytest.approx(t["requests_per_second"], rel=1e-3)


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


def test_least_loaded_router_by_hand() -> None:
    # Two one-at-a-time replicas, each request 100 ms of prefill + 10 x 10 ms of decode
    # = 200 ms. Requests at 0, 1 and 2 ms: the first goes to replica 0 (busy to 200 ms), the
    # second to the idle replica 1 (busy to 201 ms), the third to replica 0, whose backlog ends
    # first: it starts at 200 ms, first token at 300 ms, TTFT 298 ms.
    steps = measured_step_times(0.010, 0.100, 100, max_running=1)
    out = simulate_fleet(steps, np.array([0.0, 0.001, 0.002]), 100, 11, replicas=2)
    assert out.ttft_s == pytest.approx([0.100, 0.100, 0.298])
    assert out.finish_s == pytest.approx([0.200, 0.201, 0.400])


def central_queue_ttft(arrivals: np.ndarray, servers: int, service: float, prefill: float):
    """First-come-first-served central queue feeding ``servers`` identical servers (each
    request starts on the server that frees first): the textbook M/D/c recursion."""
    free = [0.0] * servers
    ttft = []
    for t in arrivals:
        k = int(np.argmin(free))
        start = max(t, free[k])
        free[k] = start + service
        ttft.append(start - t + prefill)
    return np.array(ttft)


def test_least_loaded_routing_is_a_central_queue_for_one_at_a_time_servers() -> None:
    # Batch of one and a fixed service time (50 ms prefill + 10 x 10 ms = 150 ms): joining the
    # replica with the least work left gives each request the wait it would have in one FCFS
    # queue served by 3 servers. Load 0.7 per server.
    steps = measured_step_times(0.010, 0.050, 100, max_running=1)
    arrivals = arrivals_at(3 * 0.7 / 0.150, unit_gaps(3000, seed=4))
    out = simulate_fleet(steps, arrivals, 100, 11, replicas=3)
    assert out.ttft_s == pytest.approx(central_queue_ttft(arrivals, 3, 0.150, 0.050))


def test_least_loaded_routing_shortens_the_tail_at_the_same_load() -> None:
    # Random routing leaves one replica queueing while another idles: at 0.7 per replica,
    # 4 replicas, its p99 TTFT is well above the pooled queue's.
    steps = measured_step_times(0.010, 0.050, 100, max_running=1)
    arrivals = arrivals_at(4 * 0.7 / 0.150, unit_gaps(8000, seed=6))
    pooled = simulate_fleet(steps, arrivals, 100, 11, replicas=4)
    thinned = simulate_fleet(steps, arrivals, 100, 11, replicas=4, routing="random")
    assert np.percentile(pooled.ttft_s, 99) < 0.6 * np.percentile(thinned.ttft_s, 99)
    with pytest.raises(ValueError, match="routing"):
        simulate_fleet(steps, arrivals, 100, 11, replicas=4, routing="by-name")
