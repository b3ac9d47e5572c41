"""Hybrid routing: a share of the traffic to a self-hosted deployment, the rest to an API.

At volume V (tokens/month) and self-hosted share s:

    self-hosted tokens   = s*V, of which served = min(s*V, capacity) (fixed GPU count) or all
    overflow             = s*V - served                       -> sent to the API
    fallback             = fallback_rate * served             -> re-sent to the API
    API tokens           = (1 - s)*V + overflow + fallback
    cost(s)              = [s > 0] * self_hosted_cost(served) + api_usd_per_token * API tokens
                           + [0 < s < 1] * routing_monthly_usd
                           + [API tokens > 0] * api_fixed_usd + fixed_usd

so cost(0) is the pure API cost and, with no fallback and within capacity, cost(1) is the pure
self-hosted cost. Quality of the blend is linear in s:
q(s) = q_api - s * (1 - fallback_rate) * (q_api - q_self), and a quality floor caps s.

cost(s) is piecewise linear in s between the capacity kink, the replica steps and the ends,
and each replica step only adds cost to its right, so its minimum over [0, s_max] lies on one
of those breakpoints: the optimiser evaluates them all (vectorised) and takes the least.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from llm_tco.core.costs import CostCurve, FloatArray, replicas_for


@dataclass(frozen=True)
class Split:
    """The two halves of a hybrid; arrays hold one value per sample (or one for a point)."""

    own: CostCurve  # floats for a point, arrays (samples x 1) for samples
    api_usd_per_token: FloatArray
    capacity_tokens_per_month: FloatArray  # inf when the self-hosted side scales with load
    fallback_rate: float | FloatArray = 0.0
    routing_monthly_usd: float | FloatArray = 0.0
    # The hybrid's own monthly items (always paid) and the API option's (paid while any
    # traffic reaches the API).
    fixed_usd: float | FloatArray = 0.0
    api_fixed_usd: float | FloatArray = 0.0


def split_cost(split: Split, volume: ArrayLike, share: ArrayLike) -> FloatArray:
    """Monthly USD at ``volume`` and ``share``; broadcasts (e.g. samples x shares)."""
    v = np.asarray(volume, dtype=np.float64)
    s = np.asarray(share, dtype=np.float64)
    own_tokens = s * v
    served = np.minimum(own_tokens, split.capacity_tokens_per_month)
    overflow = own_tokens - served
    api_tokens = (1.0 - s) * v + overflow + split.fallback_rate * served
    own_cost = np.where(s > 0, split.own.cost(served), 0.0)
    routing = np.where((s > 0) & (s < 1), split.routing_monthly_usd, 0.0)
    api_fixed = np.where(api_tokens > 0, split.api_fixed_usd, 0.0)
    result: FloatArray = (
        own_cost + split.api_usd_per_token * api_tokens + routing + api_fixed + split.fixed_usd
    )
    return result


def max_share(
    quality_self: float | None,
    quality_api: float | None,
    floor: float | None,
    fallback_rate: float = 0.0,
) -> float:
    """The largest self-hosted share whose blended quality stays at or above ``floor``.

    Returns -1 when even share 0 misses the floor.
    """
    if floor is None or quality_self is None or quality_api is None:
        return 1.0
    if quality_api < floor:
        return -1.0
    loss_per_share = (1.0 - fallback_rate) * (quality_api - quality_self)
    if loss_per_share <= 0:
        return 1.0
    return float(min(1.0, (quality_api - floor) / loss_per_share))


def candidate_shares(split: Split, volume: float, upper: float) -> FloatArray:
    """Shares in [0, upper] where cost(s) can take its minimum (ends, capacity kink, steps).

    ``split`` must hold one sample.
    """
    points = [0.0, upper]
    if volume <= 0:
        return np.unique(np.asarray(points))
    capacity = float(split.capacity_tokens_per_month[0])
    if math.isfinite(capacity):
        points.append(capacity / volume)
    step = float(np.ravel(split.own.tokens_per_step)[0])
    if math.isfinite(step) and float(np.ravel(split.own.step_usd)[0]) > 0:
        count = int(replicas_for(upper * volume, step))
        points.extend((np.arange(1, count + 1) * step / volume).tolist())
    shares = np.asarray(points, dtype=np.float64)
    return np.unique(shares[(shares >= 0) & (shares <= upper)])


@dataclass(frozen=True)
class Optimum:
    share: float
    monthly_usd: float


def optimise_share(split: Split, volume: float, upper: float = 1.0) -> Optimum:
    """The cheapest self-hosted share in [0, upper] at ``volume`` (ties: the smaller share)."""
    upper = min(max(upper, 0.0), 1.0)
    shares = candidate_shares(split, volume, upper)
    costs = split_cost(split, volume, shares)
    best = int(np.argmin(costs))
    return Optimum(float(shares[best]), float(costs[best]))


def split_curve(split: Split, volume: float, points: int = 101) -> tuple[FloatArray, FloatArray]:
    """Shares 0, 1%, ..., 100% and the monthly cost at each (one sample)."""
    shares = np.linspace(0.0, 1.0, points)
    return shares, split_cost(split, volume, shares)
