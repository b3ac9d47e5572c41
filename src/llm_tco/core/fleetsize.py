"""How many replicas a request rate needs at percentile latency targets, by router.

A router that spreads requests at random gives each replica a thinned copy of the arrivals, so
a replica's rate at the targets does not depend on how many there are (``rate_at_slo`` once,
``replicas_per_minute``). A router that sends each request where the least work is left pools
the queue: one replica's burst is absorbed by the others, so the same targets hold at a higher
load per replica the more replicas there are (an M/D/c queue waits less than c M/D/1 queues at
the same load). Round robin sits between: each replica sees every c-th arrival, gaps smoother
than the fleet's.

So the rate per replica is a table by fleet size: simulated (``batchsim.simulate_fleet``) at
fleet sizes 1, 2, 4, 8, ... (``FLEET_GRID``), each the highest per-replica rate whose
latencies meet the targets. Pooling never lowers it, so a fleet of n replicas is credited with
the rate of the largest simulated size at most n (conservative between grid points), and the
replicas a load needs are the fewest n with n x rate(n) >= load. Units: requests per second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from llm_tco.core.batchsim import (
    ROUTINGS,
    IntArray,
    StepTimes,
    TailSlo,
    Trial,
    arrivals_at,
    fleet_trial,
    rate_at_slo,
    unit_gaps,
)
from llm_tco.core.ratesearch import bisect_rate

FloatArray = npt.NDArray[np.float64]

# Fleet sizes simulated; larger fleets get the rate of the largest size simulated (conservative).
FLEET_GRID = (1, 2, 4, 8, 16, 32, 64)
# Each replica of a simulated fleet sees at least this many requests (past the warm-up).
REQUESTS_PER_REPLICA = 400
# The table stops once doubling the fleet raises the per-replica rate by less than this share:
# pooling gains shrink with each doubling (square-root staffing: the spare capacity a target
# needs grows as the square root of the load), so what is left is a small multiple of it and
# crediting larger fleets the last rate gives it up (conservative).
MIN_DOUBLING_GAIN = 0.05
DEFAULT_ROUTING = "least-loaded"


@dataclass(frozen=True)
class FleetCapacity:
    """Requests/s per replica at the targets, by fleet size (``replicas`` ascending from 1)."""

    routing: str
    replicas: tuple[int, ...]
    requests_per_second_per_replica: tuple[float, ...]

    def per_replica(self, fleet: int) -> float:
        """The rate credited to each of ``fleet`` replicas: that of the largest simulated size
        at most ``fleet``."""
        k = int(np.searchsorted(np.asarray(self.replicas), fleet, side="right")) - 1
        return self.requests_per_second_per_replica[max(k, 0)]

    def replicas_for(self, requests_per_second: npt.ArrayLike, min_replicas: int = 1) -> IntArray:
        """The fewest replicas n (at least ``min_replicas``) with n x rate(n) >= each load
        (none for no load); with none meeting the targets at any rate, a ValueError."""
        load = np.asarray(requests_per_second, dtype=np.float64)
        rates = np.asarray(self.requests_per_second_per_replica)
        if rates[0] <= 0:
            raise ValueError("a replica that meets the SLO at no rate cannot be sized for traffic")
        sizes = np.asarray(self.replicas, dtype=np.float64)
        # In segment k (sizes[k] <= n < sizes[k + 1]) the credit is rates[k]: the fewest n there
        # is max(sizes[k], ceil(load / rates[k])), valid while below the next size. n x rate(n)
        # never falls as n grows, so the first valid segment holds the answer.
        candidate = np.maximum(sizes[:, None], np.ceil(load[None, :] / rates[:, None] - 1e-9))
        upper = np.append(sizes[1:], np.inf)[:, None]
        valid = candidate < upper
        first = np.argmax(valid, axis=0)
        needed = np.where(load > 0, candidate[first, np.arange(load.size)], 0.0)
        result: IntArray = np.maximum(needed, min_replicas).astype(np.int64).reshape(load.shape)
        return result


def fleet_capacity(
    steps: StepTimes,
    input_tokens: int,
    output_tokens: int,
    slo: TailSlo,
    routing: str = DEFAULT_ROUTING,
    burstiness: float = 1.0,
    peak_requests_per_second: float = 0.0,
    requests: int = 4000,
    seed: int = 0,
    tolerance: float = 0.01,
) -> FleetCapacity:
    """The table of per-replica rates at ``slo`` behind ``routing``, simulated at the sizes of
    ``FLEET_GRID`` up to the one whose fleet carries ``peak_requests_per_second`` (past it
    every larger fleet is credited the last rate, so no more sizes are needed).

    Size 1 is ``rate_at_slo``; each larger size bisects its per-replica rate between the last
    size's (pooling never lowers it) and saturation, with ``max(requests, size x
    REQUESTS_PER_REPLICA)`` requests and common random numbers across trials. The table also
    stops once a doubling gains less than ``MIN_DOUBLING_GAIN`` (typically where a TPOT
    target, which pooling helps little, binds). Random routing gives every size the rate of
    size 1 (each replica sees a thinned stream).
    """
    if routing not in ROUTINGS:
        raise ValueError(f"routing must be one of {', '.join(ROUTINGS)}")
    single = rate_at_slo(
        steps, input_tokens, output_tokens, slo, burstiness, requests, seed, tolerance
    )
    sizes, rates = [1], [single.requests_per_second]
    if routing == "random" or single.requests_per_second <= 0:
        return FleetCapacity(routing, tuple(sizes), tuple(rates))
    saturation = single.saturation_requests_per_second  # saturation_rate's, found once
    slope: float | None = None  # margin per req/s near the last size's answer
    for size in FLEET_GRID[1:]:
        if sizes[-1] * rates[-1] >= peak_requests_per_second:
            break  # the largest fleet the load needs is credited the last size's rate
        if len(rates) > 2 and rates[-1] < rates[-2] * (1 + MIN_DOUBLING_GAIN):
            break  # the gain has run out: larger fleets get the last rate (conservative)
        count = max(requests, size * REQUESTS_PER_REPLICA)
        gaps = unit_gaps(count, burstiness, seed)
        tried: dict[float, Trial] = {}

        def met(
            per_replica: float,
            size: int = size,
            gaps: FloatArray = gaps,
            tried: dict[float, Trial] = tried,
        ) -> Trial:
            arrivals = arrivals_at(per_replica * size, gaps)
            outcome = fleet_trial(
                steps, arrivals, input_tokens, output_tokens, slo, size, routing, seed, saturation
            )
            tried[per_replica] = outcome
            return outcome

        # Pooling never lowers the rate: bisect between the last size's and saturation (a
        # rate within ``tolerance`` of saturation is found as the bracket's low end). First
        # guess: the last doubling's gain again (5% for the first).
        gain = rates[-1] - rates[-2] if len(rates) > 1 else rates[-1] * MIN_DOUBLING_GAIN
        rate, _ = bisect_rate(
            rates[-1], saturation, tolerance * saturation, met, rates[-1] + gain, slope
        )
        slope = _slope(tried) or slope
        sizes.append(size)
        rates.append(rate)
    return FleetCapacity(routing, tuple(sizes), tuple(rates))


def _slope(tried: dict[float, Trial]) -> float | None:
    """Margin per req/s between the highest rate that met the targets and the lowest that
    missed them with a finite margin (None without both)."""
    met = [(r, t.margin) for r, t in tried.items() if t.meets]
    missed = [(r, t.margin) for r, t in tried.items() if not t.meets and np.isfinite(t.margin)]
    if not met or not missed:
        return None
    (r0, m0), (r1, m1) = max(met), min(missed)
    return (m1 - m0) / (r1 - r0) if r1 > r0 and m1 > m0 else None


def fleet_text(fleet: FleetCapacity) -> str:
    """One line: the per-replica rate at each simulated fleet size."""
    parts = [
        f"{n} replica{'s' if n > 1 else ''}: {rate:.3g}"
        for n, rate in zip(fleet.replicas, fleet.requests_per_second_per_replica, strict=True)
    ]
    return f"{fleet.routing} routing, req/s per replica at the targets by fleet size: " + (
        "; ".join(parts)
    )
