"""Fleet sizing behind a router: per-replica rate at the targets by fleet size, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from llm_tco.core.batchsim import (
    TailSlo,
    arrivals_at,
    measured_step_times,
    meets,
    rate_at_slo,
    replicas_per_minute,
    simulate_fleet,
    unit_gaps,
)
from llm_tco.core.fleetsize import FleetCapacity, fleet_capacity

# One request at a time, 50 ms of prefill + 10 decode steps of 10 ms: a fixed service time of
# S = 150 ms per request of 100 + 11 tokens (an M/D/c queue under Poisson arrivals).
STEPS = measured_step_times(0.010, 0.050, 100, max_running=1)
SERVICE_S, PREFILL_S = 0.150, 0.050


def test_replicas_for_a_table_by_hand() -> None:
    # 1 replica carries 1 req/s, each of 2-3 carries 1.5, each of 4 or more 2.
    table = FleetCapacity("least-loaded", (1, 2, 4), (1.0, 1.5, 2.0))
    loads = [0.0, 1.0, 1.01, 3.0, 3.01, 4.5, 4.6, 9.0]
    # 1.01: one replica is too few (1.0), two carry 3.0; 3.01: three carry 4.5; 4.6: three
    # carry 4.5, four carry 8; 9.0: ceil(9 / 2) = 5.
    assert table.replicas_for(loads).tolist() == [1, 1, 2, 2, 3, 3, 4, 5]
    assert table.replicas_for([0.0], min_replicas=0).tolist() == [0]
    assert table.per_replica(3) == 1.5 and table.per_replica(100) == 2.0


def test_random_routing_is_the_per_replica_sizing() -> None:
    # Each replica sees a thinned stream: the table is the one replica's rate, and the count is
    # replicas_per_minute's ceil(load / rate).
    slo = TailSlo(ttft_ms=125.0)
    table = fleet_capacity(STEPS, 100, 11, slo, "random", peak_requests_per_second=50)
    single = rate_at_slo(STEPS, 100, 11, slo)
    assert table.replicas == (1,)
    assert table.requests_per_second_per_replica == (single.requests_per_second,)
    loads = np.array([3.0, 10.0, 33.0])
    assert (
        table.replicas_for(loads).tolist()
        == replicas_per_minute(loads * 60, single.requests_per_second).tolist()
    )


def test_mean_wait_of_pooled_replicas_matches_queueing_formulas() -> None:
    # Target: mean TTFT 125 ms, i.e. a mean wait of 75 ms before the 50 ms prefill.
    # One replica (M/D/1, Pollaczek-Khinchine): W = rho S / (2 (1 - rho)) = 75 ms -> rho = 0.5,
    # 0.5 / 0.150 = 3.333 req/s.
    # Two replicas behind the least-loaded router (a central queue: M/D/2). With the M/D/c
    # approximation W(M/D/c) = W(M/M/c) / 2 (Lee & Longton 1959; 1 + C_s^2 = 1 for fixed
    # service) and Erlang C for two servers, W(M/M/2) = rho^2 / (mu (1 - rho^2)) with
    # mu = 1 / S = 6.667/s: rho^2 / (6.667 (1 - rho^2)) = 0.150 s -> rho^2 = 0.5, rho = 0.7071,
    # 4.714 req/s per replica: 41% more per replica than alone.
    slo = TailSlo(ttft_ms=125.0)
    table = fleet_capacity(STEPS, 100, 11, slo, "least-loaded", peak_requests_per_second=9.0)
    assert table.replicas[:2] == (1, 2)
    one, two = table.requests_per_second_per_replica[:2]
    assert one == pytest.approx(0.5 / SERVICE_S, rel=0.05)
    assert two == pytest.approx(0.7071 / SERVICE_S, rel=0.06)
    # Random routing leaves each replica an M/D/1 queue: no gain.
    spread = fleet_capacity(STEPS, 100, 11, slo, "random", peak_requests_per_second=9.0)
    assert spread.requests_per_second_per_replica == (one,)


def central_queue_p99_ttft(arrivals: np.ndarray, servers: int) -> float:
    """p99 TTFT (s) of a first-come-first-served queue feeding ``servers`` fixed-time servers:
    the textbook M/D/c recursion (each request starts on the server that frees first)."""
    free = [0.0] * servers
    ttft = []
    for t in arrivals:
        k = int(np.argmin(free))
        start = max(t, free[k])
        free[k] = start + SERVICE_S
        ttft.append(start - t + PREFILL_S)
    kept = np.array(ttft)[int(0.05 * len(ttft)) :]  # the simulator's warm-up share
    return float(np.percentile(kept, 99))


def central_queue_rate(servers: int, target_s: float, requests: int) -> float:
    """Per-server rate whose p99 TTFT meets ``target_s``, bisected on the recursion with the
    same unit gaps (seed 0) the table uses."""
    gaps = unit_gaps(requests, 1.0, 0)
    low, high = 0.0, 1.0 / SERVICE_S
    for _ in range(14):  # to 6.667 / 2^14 req/s
        middle = (low + high) / 2
        if central_queue_p99_ttft(arrivals_at(middle * servers, gaps), servers) <= target_s:
            low = middle
        else:
            high = middle
    return low


def test_p99_rate_by_fleet_size_is_the_central_queue_s() -> None:
    # p99 TTFT <= 400 ms: the rate per replica at 1, 2 and 4 replicas behind the least-loaded
    # router equals the M/D/c central queue's at the same p99 (to the bisection's 1% of the
    # 6.667 req/s saturation), and rises with the fleet.
    slo = TailSlo(ttft_ms=400.0, ttft_percentile=99.0)
    table = fleet_capacity(STEPS, 100, 11, slo, "least-loaded", peak_requests_per_second=20.0)
    assert table.replicas[:3] == (1, 2, 4)
    for servers, rate in zip(
        table.replicas[:3], table.requests_per_second_per_replica, strict=False
    ):
        count = max(4000, servers * 400)
        assert rate == pytest.approx(central_queue_rate(servers, 0.400, count), abs=0.07)
    rates = table.requests_per_second_per_replica
    assert rates[0] < rates[1] < rates[2]
    # The fleet the table sizes meets the target when simulated whole: 4 replicas at the rate
    # credited to 4.
    arrivals = arrivals_at(4 * rates[2], unit_gaps(4000, 1.0, 0))
    assert meets(simulate_fleet(STEPS, arrivals, 100, 11, 4, "least-loaded"), slo)


def test_round_robin_gains_over_random_routing() -> None:
    # In turn, each replica sees every 4th arrival (Erlang-4 gaps, smoother than Poisson): more
    # per replica than alone, and for fixed service times about what the central queue gets.
    slo = TailSlo(ttft_ms=400.0, ttft_percentile=99.0)
    kwargs = {"peak_requests_per_second": 20.0}
    turn = fleet_capacity(STEPS, 100, 11, slo, "round-robin", **kwargs)
    least = fleet_capacity(STEPS, 100, 11, slo, "least-loaded", **kwargs)
    one = turn.requests_per_second_per_replica[0]
    assert one < turn.per_replica(4) <= least.per_replica(4)


def test_unknown_routing_is_refused() -> None:
    with pytest.raises(ValueError, match="routing must be one of"):
        fleet_capacity(STEPS, 100, 11, TailSlo(ttft_ms=125.0), "by-name")
