"""Whole replicas to carry a workload's peak at the SLO, and how busy they are."""

from __future__ import annotations

import math
from dataclasses import dataclass

from llm_tco.core.capacity import ReplicaCapacity
from llm_tco.errors import ScenarioError


@dataclass(frozen=True)
class ReplicaPlan:
    """Whole replicas needed for a peak rate, and how busy they are."""

    replicas: int
    gpus: int
    utilisation_at_peak: float
    utilisation_at_mean: float


def replicas_for_load(
    mean_output_tokens_per_second: float,
    peak_to_mean: float,
    capacity: ReplicaCapacity,
    gpus_per_replica: int,
) -> ReplicaPlan:
    """Replicas to carry the peak rate (mean x peak-to-mean) at the SLO, rounded up."""
    if capacity.output_tokens_per_second <= 0:
        raise ScenarioError("replica capacity must be positive")
    peak = mean_output_tokens_per_second * max(peak_to_mean, 1.0)
    replicas = max(1, math.ceil(peak / capacity.output_tokens_per_second))
    full = replicas * capacity.output_tokens_per_second
    return ReplicaPlan(
        replicas=replicas,
        gpus=replicas * gpus_per_replica,
        utilisation_at_peak=peak / full,
        utilisation_at_mean=mean_output_tokens_per_second / full,
    )
