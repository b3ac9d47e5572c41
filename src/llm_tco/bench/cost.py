"""Turn measured throughput into dollars.

A deployment rented at ``hourly_usd`` that serves ``tokens_per_second`` produces
``3600 * tokens_per_second`` tokens an hour, so one million tokens cost::

    usd_per_mtok = hourly_usd / (3600 * tokens_per_second) * 1e6

This is the cost at the measured load held for a full hour: a deployment that idles part of the
time costs more per token, which the scenario's utilisation accounts for, not this figure.
"""

from __future__ import annotations

import math

from llm_tco.errors import BenchError

SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MTOK = 1_000_000.0


def usd_per_mtok(hourly_usd: float, tokens_per_second: float) -> float | None:
    """USD per million tokens at a sustained ``tokens_per_second``; None when nothing was served."""
    if hourly_usd < 0:
        raise BenchError("an hourly price cannot be negative", field="hourly")
    if tokens_per_second <= 0:
        return None
    return hourly_usd / (SECONDS_PER_HOUR * tokens_per_second) * TOKENS_PER_MTOK


def deployments_needed(
    peak_tokens_per_second: float, tokens_per_second_per_deployment: float
) -> int:
    """Whole deployments needed to carry a peak load, each serving the measured capacity."""
    if tokens_per_second_per_deployment <= 0:
        raise BenchError(
            "the benchmark measured no throughput, so no deployment count follows",
            hint="check the errors of the run",
        )
    if peak_tokens_per_second <= 0:
        return 0
    # A tiny epsilon keeps 2.0000000001 (float noise on an exact fit) from becoming 3.
    return math.ceil(peak_tokens_per_second / tokens_per_second_per_deployment - 1e-9)
