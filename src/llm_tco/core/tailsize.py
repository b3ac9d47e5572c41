"""A replica's capacity under latency targets stated at a percentile (p95, p99 TTFT or TPOT).

Targets without a percentile keep today's meaning, the steady state of the capacity model at a
fixed concurrency (``capacity.replica_capacity``); targets with one are checked on the
continuous-batching simulator (``batchsim``) with random arrivals. The replica's capacity is
the lower of the two rates, and the mean-only capacity (every target read as a mean) is kept
beside it so that a report can show what the tail costs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.core.batchsim import (
    RateAtSlo,
    TailSlo,
    deployment_step_times,
    rate_at_slo,
    replicas_per_minute,
)
from llm_tco.core.capacity import Efficiency, ReplicaCapacity, Slo, replica_capacity
from llm_tco.core.fleetsize import FleetCapacity, fleet_capacity
from llm_tco.core.memory import Layout, plain_tp
from llm_tco.core.speculative import Speculation, speculative_capacity

MIN_PERCENTILE = 50.0
MAX_PERCENTILE = 99.9


@dataclass(frozen=True)
class PercentileSlo:
    """Targets (ms, None: none) and the percentile each is read at (None: the mean)."""

    ttft_ms: float | None
    tpot_ms: float | None
    ttft_percentile: float | None = None
    tpot_percentile: float | None = None
    burstiness: float = 1.0  # coefficient of variation of inter-arrival gaps; 1 = Poisson

    @property
    def has_percentile(self) -> bool:
        return (self.ttft_percentile is not None and self.ttft_ms is not None) or (
            self.tpot_percentile is not None and self.tpot_ms is not None
        )

    def describe(self) -> str:
        parts = []
        for name, target, percentile in (
            ("TTFT", self.ttft_ms, self.ttft_percentile),
            ("TPOT", self.tpot_ms, self.tpot_percentile),
        ):
            if target is not None:
                at = "mean" if percentile is None else f"p{percentile:g}"
                parts.append(f"{at} {name} <= {target:g} ms")
        return ", ".join(parts) or "no latency target"


@dataclass(frozen=True)
class TailCapacity:
    """Requests/s one replica carries within the targets, and with every target as a mean."""

    requests_per_second: float
    mean_only_requests_per_second: float
    simulated: RateAtSlo | None  # None when no target has a percentile
    limited_by: str  # "percentile" (the simulation) or "mean" (the steady-state targets)


def tail_capacity(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str,
    layout: Layout,
    input_tokens: int,
    output_tokens: int,
    slo: PercentileSlo,
    efficiency: Efficiency,
    requests: int = 4000,
    speculation: Speculation | None = None,
) -> TailCapacity:
    """The replica's request rate at ``slo``; see the module docstring. With ``speculation``
    both the steady state (``speculative_capacity``) and the simulated steps decode
    speculatively."""
    steady_capacity = _steady_capacity(
        arch,
        gpu,
        precision,
        kv_precision,
        layout,
        input_tokens,
        output_tokens,
        efficiency,
        speculation,
    )
    mean_only = steady_capacity(Slo(tpot_ms=slo.tpot_ms, ttft_ms=slo.ttft_ms))
    mean_rps = mean_only.requests_per_second if mean_only.meets_slo else 0.0
    if not slo.has_percentile:
        return TailCapacity(mean_rps, mean_rps, None, "mean")
    steady = _steady_bound(slo, steady_capacity)
    steps = deployment_step_times(
        arch,
        gpu,
        precision,
        kv_precision,
        layout,
        input_tokens,
        output_tokens,
        efficiency,
        speculation,
    )
    simulated = rate_at_slo(
        steps,
        input_tokens,
        output_tokens,
        _simulated_targets(slo),
        burstiness=slo.burstiness,
        requests=requests,
    )
    rate = min(steady, simulated.requests_per_second)
    limited = "percentile" if simulated.requests_per_second <= steady else "mean"
    return TailCapacity(rate, mean_rps, simulated, limited)


def _steady_capacity(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str,
    layout: Layout,
    input_tokens: int,
    output_tokens: int,
    efficiency: Efficiency,
    speculation: Speculation | None,
) -> Callable[[Slo], ReplicaCapacity]:
    """One replica's steady state at mean targets: plain, or decoding speculatively."""
    args = (arch, gpu, precision, kv_precision, layout.gpus, input_tokens, output_tokens)

    def steady_capacity(target: Slo) -> ReplicaCapacity:
        if speculation is None:
            return replica_capacity(*args, target, efficiency, layout=layout)
        if layout != plain_tp(layout.gpus):
            raise ValueError("speculative decoding is modelled for tensor-parallel replicas")
        return speculative_capacity(*args, target, efficiency, speculation)

    return steady_capacity


def _steady_bound(slo: PercentileSlo, steady_capacity: Callable[[Slo], ReplicaCapacity]) -> float:
    """Requests/s the targets read as means allow one replica (inf with none): they still bound
    the load through the steady state."""
    mean_ttft = slo.ttft_ms if slo.ttft_percentile is None else None
    mean_tpot = slo.tpot_ms if slo.tpot_percentile is None else None
    if mean_ttft is None and mean_tpot is None:
        return math.inf
    bound = steady_capacity(Slo(tpot_ms=mean_tpot, ttft_ms=mean_ttft))
    return bound.requests_per_second if bound.meets_slo else 0.0


def _simulated_targets(slo: PercentileSlo) -> TailSlo:
    """The targets stated at a percentile, as the simulator checks them."""
    return TailSlo(
        ttft_ms=slo.ttft_ms if slo.ttft_percentile is not None else None,
        ttft_percentile=slo.ttft_percentile,
        tpot_ms=slo.tpot_ms if slo.tpot_percentile is not None else None,
        tpot_percentile=slo.tpot_percentile,
    )


def tail_fleet(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str,
    layout: Layout,
    input_tokens: int,
    output_tokens: int,
    slo: PercentileSlo,
    efficiency: Efficiency,
    routing: str,
    peak_requests_per_second: float,
    requests: int = 4000,
    speculation: Speculation | None = None,
) -> FleetCapacity:
    """Per-replica requests/s at ``slo`` by fleet size behind ``routing``
    (``fleetsize.fleet_capacity``), each at most what the targets read as means allow one
    replica. Without a percentile target the steady state holds for any fleet: one entry."""
    if not slo.has_percentile:
        found = tail_capacity(
            arch,
            gpu,
            precision,
            kv_precision,
            layout,
            input_tokens,
            output_tokens,
            slo,
            efficiency,
            requests,
            speculation,
        )
        return FleetCapacity(routing, (1,), (found.requests_per_second,))
    steady_capacity = _steady_capacity(
        arch,
        gpu,
        precision,
        kv_precision,
        layout,
        input_tokens,
        output_tokens,
        efficiency,
        speculation,
    )
    steady = _steady_bound(slo, steady_capacity)
    steps = deployment_step_times(
        arch,
        gpu,
        precision,
        kv_precision,
        layout,
        input_tokens,
        output_tokens,
        efficiency,
        speculation,
    )
    table = fleet_capacity(
        steps,
        input_tokens,
        output_tokens,
        _simulated_targets(slo),
        routing,
        slo.burstiness,
        peak_requests_per_second,
        requests,
    )
    rates = tuple(min(steady, r) for r in table.requests_per_second_per_replica)
    return FleetCapacity(routing, table.replicas, rates)


def replicas_for_rate(
    requests_per_second: float, per_replica: float, min_replicas: int = 1
) -> int | None:
    """Replicas for a steady request rate (None when a replica carries nothing at the SLO)."""
    if per_replica <= 0:
        return None
    return int(replicas_per_minute([requests_per_second * 60.0], per_replica, min_replicas)[0])
