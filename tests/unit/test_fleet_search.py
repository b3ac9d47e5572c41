"""The fast fleet table gives the plain bisection's numbers: early-stopped trials, the
round-robin shortcut of the least-loaded router, and the search on the bisection's grid."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from llm_tco.capacity_factors import catalog_efficiencies
from llm_tco.catalog.loader import load_catalog
from llm_tco.core.batchsim import (
    StepTimes,
    TailSlo,
    arrivals_at,
    deployment_step_times,
    fleet_trial,
    measured_step_times,
    meets,
    rate_at_slo,
    route_least_loaded,
    saturation_rate,
    simulate,
    simulate_fleet,
    unit_gaps,
)
from llm_tco.core.capacity import select_efficiency
from llm_tco.core.fleetsize import (
    FLEET_GRID,
    MIN_DOUBLING_GAIN,
    REQUESTS_PER_REPLICA,
    fleet_capacity,
)
from llm_tco.core.memory import plain_tp
from llm_tco.core.ratesearch import bisect_rate

# One request at a time: 50 ms of prefill (100 prompt tokens) + 10 decode steps of 10 ms.
TOY = measured_step_times(0.010, 0.050, 100, max_running=1)


def big_deployment() -> StepTimes:
    """Llama-3.1-70B bf16 on 4 x H100 SXM, 1,500 + 300 tokens (the speed benchmark's)."""
    catalog = load_catalog()
    gpu = catalog.gpu("h100-sxm-80gb")
    eff = select_efficiency(catalog_efficiencies(catalog), "vllm", gpu.vendor)
    assert eff is not None
    arch = catalog.model("llama-3.1-70b")
    return deployment_step_times(arch, gpu, "bf16", "bf16", plain_tp(4), 1500, 300, eff)


def test_a_trial_stops_once_the_percentile_must_miss_by_hand() -> None:
    # 100 requests 1 s apart: each alone, TTFT = the 50 ms prefill. The first 5 are the
    # warm-up, so p99 is over 95 values: numpy's virtual index 94 x 0.99 = 93.06, i.e. the
    # 94th smallest + 0.06 x (95th - 94th). A request sent with another waits out its 150 ms
    # service: TTFT 200 ms, a miss of a 150 ms target. One such pair: 94th = 50 ms, p99 =
    # 50 + 0.06 x 150 = 59 ms, met. Two pairs: the 94th is 200 ms whatever follows, so the
    # trial stops at the second miss (request 21) with the later requests not played.
    slo = TailSlo(ttft_ms=150.0, ttft_percentile=99.0)
    one_pair = np.arange(100, dtype=np.float64)
    one_pair[11] = one_pair[10]
    trial = fleet_trial(TOY, one_pair, 100, 11, slo)
    full = simulate(TOY, one_pair, 100, 11)
    assert trial.meets and meets(full, slo)
    assert np.percentile(full.ttft_s[5:], 99) == pytest.approx(0.059)
    assert np.array_equal(trial.latencies.ttft_s, full.ttft_s)
    assert np.array_equal(trial.latencies.finish_s, full.finish_s)

    two_pairs = one_pair.copy()
    two_pairs[21] = two_pairs[20]
    trial = fleet_trial(TOY, two_pairs, 100, 11, slo)
    assert not trial.meets and not meets(simulate(TOY, two_pairs, 100, 11), slo)
    assert trial.latencies.ttft_s[21] == pytest.approx(0.200)
    assert np.isnan(trial.latencies.ttft_s[22:]).all()
    # Its margin is read off the requests played: p99 of 0.050 x 15 and 0.200 x 2 (17 values:
    # index 15.84 -> 0.200) over 0.150, less 1.
    assert trial.margin == pytest.approx(0.200 / 0.150 - 1)


@pytest.mark.parametrize("replicas", [1, 2, 4])
@pytest.mark.parametrize("routing", ["least-loaded", "round-robin", "random"])
def test_a_trial_meets_exactly_when_the_full_simulation_does(replicas: int, routing: str) -> None:
    steps = big_deployment()
    saturation = saturation_rate(steps, 1500, 300)
    gaps = unit_gaps(1200, 1.0, 0)
    targets = [
        TailSlo(1000.0, 99.0, 60.0, 99.0),
        TailSlo(ttft_ms=500.0, ttft_percentile=95.0),
        TailSlo(ttft_ms=400.0, tpot_ms=40.0, tpot_percentile=90.0),
    ]
    outcomes = set()
    for share in (0.5, 0.7, 0.8, 0.9, 1.1):
        arrivals = arrivals_at(share * saturation * replicas, gaps)
        full = simulate_fleet(steps, arrivals, 1500, 300, replicas, routing, 0, saturation)
        for slo in targets:
            trial = fleet_trial(steps, arrivals, 1500, 300, slo, replicas, routing, 0, saturation)
            assert trial.meets == meets(full, slo)
            outcomes.add(trial.meets)
            if trial.meets:
                assert np.array_equal(trial.latencies.ttft_s, full.ttft_s)
                assert np.array_equal(trial.latencies.tpot_s, full.tpot_s, equal_nan=True)
    assert outcomes == {True, False}


def reference_least_loaded(arrival_s: np.ndarray, work_s: float, replicas: int) -> list[int]:
    """The router's rule written out: each request joins the replica whose backlog ends
    first (lowest index on a tie) and adds its work."""
    free = [(0.0, r) for r in range(replicas)]
    route = []
    for t in arrival_s.tolist():
        ends, r = heapq.heappop(free)
        route.append(r)
        heapq.heappush(free, (max(ends, t) + work_s, r))
    return route


def test_equal_work_least_loaded_is_round_robin_unless_backlogs_tie() -> None:
    # Poisson arrivals below, at and above what the replicas drain: the replicas in turn.
    for replicas in (2, 3, 8):
        for load in (0.5, 1.0, 2.0):
            arrivals = arrivals_at(load * replicas, unit_gaps(3000, 1.0, 1))
            route = route_least_loaded(arrivals, np.ones(arrivals.size), replicas)
            assert route.tolist() == reference_least_loaded(arrivals, 1.0, replicas)
            assert route.tolist() == (np.arange(arrivals.size) % replicas).tolist()
    # A tie, by hand: 1 s of work each at 0, 1, 1 and 1.5 s on two replicas. Replica 0 ends
    # at 1, replica 1 at 2; the third request finds replica 0 free at 1: it ends at 2 too. The
    # fourth finds both ending at 2 and takes replica 0 (lowest index), not replica 1.
    arrivals = np.array([0.0, 1.0, 1.0, 1.5])
    assert route_least_loaded(arrivals, np.ones(4), 2).tolist() == [0, 1, 0, 0]


@dataclass(frozen=True)
class Outcome:
    meets: bool
    margin: float


def plain_bisection(
    low: float, high: float, width: float, meets_at: Callable[[float], bool]
) -> float:
    while high - low > width:
        middle = (low + high) / 2
        if meets_at(middle):
            low = middle
        else:
            high = middle
    return low


class Counted:
    """A margin curve that counts the trials made on it, and how many met the targets."""

    def __init__(self, shape: Callable[[float, float], float], crossing: float) -> None:
        self.shape, self.crossing = shape, crossing
        self.trials = self.met = 0

    def __call__(self, rate: float) -> Outcome:
        margin = self.shape(rate, self.crossing)
        self.trials += 1
        self.met += margin <= 0
        return Outcome(margin <= 0, margin)


def test_search_ends_where_the_bisection_does_in_fewer_trials() -> None:
    # Margins that rise with the rate (straight, convex like a queue near saturation, and
    # in steps like a percentile of a finite sample): the bisection's final low, exactly,
    # with fewer trials and fewer of them met (a met trial is a full run; a missed one stops
    # early). The guess is 10% under the crossing.
    shapes: dict[str, Callable[[float, float], float]] = {
        "straight": lambda r, c: (r - c) * 0.3,
        "convex": lambda r, c: 1 / (6.5 - r) - 1 / (6.5 - c),
        "steps": lambda r, c: math.floor((r - c) * 40) / 40 + 0.01,
    }
    for shape in shapes.values():
        bisection_trials = bisection_met = search_trials = search_met = 0
        for crossing in np.linspace(0.3, 6.2, 37):
            plain, search = Counted(shape, crossing), Counted(shape, crossing)
            expected = plain_bisection(0.0, 6.4, 0.064, lambda r, plain=plain: plain(r).meets)
            found, at_found = bisect_rate(0.0, 6.4, 0.064, search, guess=crossing * 0.9)
            assert found == expected
            assert (at_found is None) == (found == 0.0)
            bisection_trials += plain.trials
            bisection_met += plain.met
            search_trials += search.trials
            search_met += search.met
        assert search_trials < bisection_trials
        assert search_met < 0.8 * bisection_met


def test_search_gives_a_rate_the_bisection_can_end_on_when_outcomes_are_not_monotone() -> None:
    # Met below 2.0 and between 3.0 and 3.1 only: whatever it tries, the answer is met and
    # the next grid rate above it missed (or it is the bracket's top).
    def at(rate: float) -> Outcome:
        ok = rate < 2.0 or 3.0 <= rate < 3.1
        return Outcome(ok, -0.1 if ok else 0.1)

    for guess in (1.0, 2.5, 3.05, 5.0):
        found, outcome = bisect_rate(0.0, 6.4, 0.05, at, guess=guess)
        assert outcome is not None and outcome.meets
        assert not at(found + 0.05).meets


def old_rate_at_slo(steps: StepTimes, i: int, o: int, slo: TailSlo, requests: int) -> float:
    """rate_at_slo as it was: full simulations, every midpoint tried."""
    saturation = saturation_rate(steps, i, o)
    gaps = unit_gaps(requests, 1.0, 0)

    def ok(rate: float) -> bool:
        return meets(simulate(steps, arrivals_at(rate, gaps), i, o), slo)

    if ok(saturation * 0.999):
        return saturation * 0.999
    return plain_bisection(0.0, saturation, 0.01 * saturation, ok)


def old_fleet_table(
    steps: StepTimes, i: int, o: int, slo: TailSlo, routing: str, peak: float, requests: int
) -> tuple[float, ...]:
    """fleet_capacity as it was: each size bisected with full fleet simulations."""
    rates = [old_rate_at_slo(steps, i, o, slo, requests)]
    sizes = [1]
    saturation = saturation_rate(steps, i, o)
    for size in FLEET_GRID[1:]:
        if sizes[-1] * rates[-1] >= peak:
            break
        if len(rates) > 2 and rates[-1] < rates[-2] * (1 + MIN_DOUBLING_GAIN):
            break
        gaps = unit_gaps(max(requests, size * REQUESTS_PER_REPLICA), 1.0, 0)

        def ok(per_replica: float, size: int = size, gaps: np.ndarray = gaps) -> bool:
            arrivals = arrivals_at(per_replica * size, gaps)
            fleet = simulate_fleet(steps, arrivals, i, o, size, routing, 0, saturation)
            return meets(fleet, slo)

        rates.append(plain_bisection(rates[-1], saturation, 0.01 * saturation, ok))
        sizes.append(size)
    return tuple(rates)


@pytest.mark.parametrize("routing", ["least-loaded", "round-robin"])
def test_fleet_table_is_the_plain_bisection_s(routing: str) -> None:
    # The speed benchmark's deployment and targets (p99 TTFT 1 s, p99 TPOT 60 ms) on 1,200
    # requests a fleet, and the one-at-a-time server at p99 TTFT 400 ms on 4,000: the same
    # rate by fleet size, to the last bit.
    big, slo = big_deployment(), TailSlo(1000.0, 99.0, 60.0, 99.0)
    table = fleet_capacity(
        big, 1500, 300, slo, routing, peak_requests_per_second=200.0, requests=1200
    )
    assert table.requests_per_second_per_replica == old_fleet_table(
        big, 1500, 300, slo, routing, 200.0, 1200
    )
    assert len(table.replicas) >= 3
    toy_slo = TailSlo(ttft_ms=400.0, ttft_percentile=99.0)
    toy = fleet_capacity(TOY, 100, 11, toy_slo, routing, peak_requests_per_second=20.0)
    assert toy.requests_per_second_per_replica == old_fleet_table(
        TOY, 100, 11, toy_slo, routing, 20.0, 4000
    )
    single = rate_at_slo(TOY, 100, 11, toy_slo)
    assert single.requests_per_second == old_rate_at_slo(TOY, 100, 11, toy_slo, 4000)
