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
of those breakpoints; at the step points it is linear in the replica count, so only the first
and last step can be least: five candidates per volume, for a point or for every sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from llm_tco.core.costs import STEP_EPS, CostCurve, FloatArray


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


@dataclass(frozen=True)
class SplitTokens:
    """Where a hybrid's tokens go at one volume and share (tokens/month; arrays broadcast)."""

    own: FloatArray  # routed to the self-hosted side: share x volume
    served: FloatArray  # of those, what it serves (its capacity caps a fixed deployment)
    overflow: FloatArray  # routed to it above its capacity: sent to the API
    fallback: FloatArray  # served, then re-sent to the API (fallback_rate x served)
    api: FloatArray  # routed to the API in the first place: (1 - share) x volume


def split_tokens(split: Split, volume: ArrayLike, share: ArrayLike) -> SplitTokens:
    v = np.asarray(volume, dtype=np.float64)
    s = np.asarray(share, dtype=np.float64)
    own = s * v
    served = np.minimum(own, split.capacity_tokens_per_month)
    return SplitTokens(
        own=own,
        served=served,
        overflow=own - served,
        fallback=split.fallback_rate * served,
        api=(1.0 - s) * v,
    )


def split_cost(split: Split, volume: ArrayLike, share: ArrayLike) -> FloatArray:
    """Monthly USD at ``volume`` and ``share``; broadcasts (e.g. samples x shares)."""
    s = np.asarray(share, dtype=np.float64)
    tokens = split_tokens(split, volume, s)
    api_tokens = tokens.api + tokens.overflow + tokens.fallback
    own_cost = np.where(s > 0, split.own.cost(tokens.served), 0.0)
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


def candidate_shares(split: Split, volume: ArrayLike, upper: float) -> FloatArray:
    """Per volume (one row each), the shares in [0, upper] where cost(s) can take its minimum,
    ascending, NaN-padded: the ends, the capacity kink, and the first and last replica steps.

    Between the steps, cost is linear in s with k replicas up to s = kT/V; its value at the
    step points s = kT/V is linear in k, so among them only the first (min_steps) and the last
    below ``upper`` (and below the capacity) can be least. ``volume``: samples or volumes, with
    ``split``'s parameters one per row (or one for all).
    """
    v = np.atleast_1d(np.asarray(volume, dtype=np.float64)).reshape(-1, 1)
    own = split.own
    per_step = np.reshape(np.asarray(own.tokens_per_step, dtype=np.float64), (-1, 1))
    stepped = np.reshape(own.stepped_mask, (-1, 1))
    capacity = np.reshape(np.asarray(split.capacity_tokens_per_month, dtype=np.float64), (-1, 1))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        last = np.floor(np.minimum(upper * v, capacity) / per_step + STEP_EPS)
        columns = np.broadcast_arrays(
            np.zeros_like(v),
            np.full_like(v, upper),
            capacity / v,
            np.where(stepped, own.min_steps * per_step / v, np.nan),
            np.where(stepped, last * per_step / v, np.nan),
        )
    shares = np.concatenate(columns, axis=1)
    shares[~((shares >= 0) & (shares <= upper))] = np.nan
    ordered: FloatArray = np.sort(shares, axis=1)  # NaN last
    return ordered


@dataclass(frozen=True)
class Optimum:
    """The cheapest share in [0, upper] and its monthly USD: floats for one volume, arrays
    (one per sample or volume) for several."""

    share: FloatArray
    monthly_usd: FloatArray


def optimal_shares(split: Split, volume: ArrayLike, upper: float = 1.0) -> Optimum:
    """The cheapest self-hosted share at each volume (ties: the smaller share), exact and
    vectorised: one row per volume, against ``split``'s parameters for that row (samples) or
    for all rows (a point)."""
    upper = min(max(upper, 0.0), 1.0)
    shares = candidate_shares(split, volume, upper)
    v = np.atleast_1d(np.asarray(volume, dtype=np.float64)).reshape(-1, 1)
    costs = split_cost(split, v, np.nan_to_num(shares, nan=0.0))
    costs = np.where(np.isnan(shares), np.inf, costs)
    best = np.argmin(costs, axis=1)[:, None]
    return Optimum(
        np.take_along_axis(shares, best, axis=1)[:, 0],
        np.take_along_axis(costs, best, axis=1)[:, 0],
    )


def optimise_share(split: Split, volume: float, upper: float = 1.0) -> tuple[float, float]:
    """The cheapest self-hosted share in [0, upper] at one ``volume`` and its monthly USD."""
    best = optimal_shares(split, volume, upper)
    return float(best.share[0]), float(best.monthly_usd[0])


def split_curve(split: Split, volume: float, points: int = 101) -> tuple[FloatArray, FloatArray]:
    """Shares 0, 1%, ..., 100% and the monthly cost at each (one sample)."""
    shares = np.linspace(0.0, 1.0, points)
    return shares, split_cost(split, volume, shares)
