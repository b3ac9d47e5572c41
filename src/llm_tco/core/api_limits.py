"""An API's per-minute limits (rate limits, reserved throughput units) against a workload's peak.

At the workload's busiest minute it sends, of each quantity q (requests, input, output tokens),

    q per minute at peak = q_per_month x peak_to_mean x (1 + retry_rate) / (hours x 60)

Traffic on the provider's batch API has limits of its own, so a rate limit sees the real-time
share (1 - batch_share) of it. Cache reads count towards an input limit only where the provider
says so. A limit L on q caps the monthly volume, at the same split and shape, at

    V_max = L / (q per minute at peak per token of monthly volume)

Works on floats and on arrays of samples alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llm_tco.core.costs import Value
from llm_tco.core.workload import Workload

MINUTES_PER_HOUR = 60.0
LIMIT_LABELS = {
    "requests_per_minute": "requests/min",
    "tokens_per_minute": "tokens/min",
    "input_tokens_per_minute": "input tokens/min",
    "output_tokens_per_minute": "output tokens/min",
}


@dataclass(frozen=True)
class MinuteLimits:
    """Limits per minute; None where the provider sets none."""

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    input_tokens_per_minute: float | None = None
    output_tokens_per_minute: float | None = None
    cached_input_counts: bool = True

    def items(self) -> list[tuple[str, float]]:
        return [(k, v) for k in LIMIT_LABELS if (v := getattr(self, k)) is not None]


def _per_token(amount: Value, total: Value, default: float) -> Value:
    """``amount / total``: the share of each token of volume (``default`` at zero volume)."""
    total_arr = np.asarray(total, dtype=np.float64)
    positive = total_arr > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(positive, np.asarray(amount) / np.where(positive, total_arr, 1.0), default)
    return float(share) if np.ndim(share) == 0 else share


def peak_minute_per_token(
    workload: Workload,
    retry_rate: Value,
    hours_per_month: Value,
    cached_input_counts: bool = True,
    realtime_only: bool = True,
) -> dict[str, Value | None]:
    """Per token of monthly volume: each limited quantity sent in the busiest minute.

    ``realtime_only``: leave out the batch share (it goes through the batch API)."""
    total = workload.input_tokens_per_month + workload.output_tokens_per_month
    factor = workload.peak_to_mean * (1.0 + retry_rate) / (hours_per_month * MINUTES_PER_HOUR)
    if realtime_only:
        factor = factor * (1.0 - workload.batch_share)
    input_share = _per_token(workload.input_tokens_per_month, total, 0.5)
    counted_input = input_share * (
        1.0 if cached_input_counts else 1.0 - workload.cached_input_share
    )
    output_share = 1.0 - input_share
    requests = None
    if workload.requests_per_month is not None:
        requests = _per_token(workload.requests_per_month, total, 0.0) * factor
    return {
        "requests_per_minute": requests,
        "tokens_per_minute": (counted_input + output_share) * factor,
        "input_tokens_per_minute": counted_input * factor,
        "output_tokens_per_minute": output_share * factor,
    }


@dataclass(frozen=True)
class LimitCheck:
    """The monthly volume each limit allows at this shape, and the least of them."""

    capacity_tokens_per_month: Value  # inf when no limit applies
    by_limit: dict[str, Value]  # limit name -> tokens/month it allows
    demand_per_minute: dict[str, Value]  # limit name -> the workload's peak minute


def check_limits(
    limits: MinuteLimits, workload: Workload, retry_rate: Value, hours_per_month: Value
) -> LimitCheck:
    per_token = peak_minute_per_token(
        workload, retry_rate, hours_per_month, limits.cached_input_counts
    )
    total = workload.input_tokens_per_month + workload.output_tokens_per_month
    allowed: dict[str, Value] = {}
    demand: dict[str, Value] = {}
    for name, limit in limits.items():
        rate = per_token[name]
        if rate is None:
            continue  # e.g. a request limit on a workload given in tokens only
        with np.errstate(divide="ignore"):
            found = np.where(np.asarray(rate) > 0, limit / np.asarray(rate), np.inf)
        allowed[name] = float(found) if np.ndim(found) == 0 else found
        demand[name] = rate * total
    least = np.asarray(np.inf)
    for cap in allowed.values():
        least = np.minimum(least, cap)
    capacity: Value = float(least) if np.ndim(least) == 0 else least
    return LimitCheck(capacity, allowed, demand)


def units_capacity_tokens_per_second(
    tokens_per_minute_per_unit: Value,
    workload: Workload,
    output_token_weight: Value,
    cached_input_counts: bool,
    units: int = 1,
) -> Value:
    """Workload tokens per second ``units`` reserved units serve: a unit's input-equivalent
    tokens per minute over the input-equivalent tokens one workload token counts as
    (input share, less cache reads where they do not count, + output share x weight)."""
    total = workload.input_tokens_per_month + workload.output_tokens_per_month
    input_share = _per_token(workload.input_tokens_per_month, total, 0.5)
    counted = (
        input_share * (1.0 if cached_input_counts else 1.0 - workload.cached_input_share)
        + (1.0 - input_share) * output_token_weight
    )
    return units * tokens_per_minute_per_unit / MINUTES_PER_HOUR / counted
