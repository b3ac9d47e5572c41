"""Exact break-even volumes between two piecewise-linear cost curves, and volume sweeps.

Between replica steps both curves are linear in V, so the difference is linear on each segment:
a crossing is either the root of that line inside the segment or a sign change across a step.
Beyond a bound the ordering can no longer change (the step terms are bounded by one step each
around their average slope), so enumerating segments up to that bound finds every crossing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from llm_tco.core.costs import STEP_EPS, CostCurve, FloatArray
from llm_tco.core.units import format_ratio

MAX_SEGMENTS = 2_000_000
VOLUME_CAP = 1e18  # tokens/month; far beyond any real workload
# Differences below a tenth of a cent are ties: they do not change which option is cheaper.
_TIE_USD = 1e-3


@dataclass(frozen=True)
class Crossing:
    """At ``tokens_per_month`` the cheaper of the two curves changes to ``cheaper_above``."""

    tokens_per_month: float
    cheaper_above: str  # "a" or "b"


@dataclass(frozen=True)
class CrossingSearch:
    crossings: tuple[Crossing, ...]  # the first ``limit`` of them
    searched_up_to: float
    complete: bool  # False when the bound needed more than MAX_SEGMENTS segments
    total: int = 0  # all crossings found, when near-parallel curves cross at every step


def _search_bound(a: CostCurve, b: CostCurve) -> float:
    slope_gap = abs(a.asymptotic_usd_per_token - b.asymptotic_usd_per_token)
    slack = abs(a.fixed_usd - b.fixed_usd)
    for curve in (a, b):
        if curve.stepped:
            slack += curve.step_usd * (curve.min_steps + curve.extra_steps + 2)
    bound = slack / slope_gap if slope_gap > 0 else VOLUME_CAP
    for curve in (a, b):
        if curve.stepped:
            bound = max(bound, (curve.min_steps + 1) * curve.tokens_per_step)
    return float(min(max(bound * 1.01, 1.0), VOLUME_CAP))


def _breakpoints(curve: CostCurve, upper: float, budget: int) -> FloatArray:
    if not curve.stepped:
        return np.empty(0)
    count = min(int(upper // curve.tokens_per_step), budget)
    # The k-th step takes effect just past k x tokens_per_step, exactly where CostCurve.steps
    # adds a replica (its ceil() allows for float error by STEP_EPS).
    return (np.arange(1, count + 1, dtype=np.float64) + STEP_EPS) * curve.tokens_per_step


def find_crossings(a: CostCurve, b: CostCurve, limit: int = 100) -> CrossingSearch:
    """Every volume V > 0 where the cheaper of ``a`` and ``b`` changes, in increasing order."""
    upper = _search_bound(a, b)
    points = np.unique(
        np.concatenate(
            (
                [0.0, upper],
                _breakpoints(a, upper, MAX_SEGMENTS),
                _breakpoints(b, upper, MAX_SEGMENTS),
            )
        )
    )
    complete = len(points) <= MAX_SEGMENTS + 2
    if not complete:
        points = points[: MAX_SEGMENTS + 1]
        upper = float(points[-1])
    left, right = points[:-1], points[1:]
    mid = (left + right) / 2
    # On each segment (left, right]: d(V) = intercept + slope * V, steps as at its middle.
    slope = a.usd_per_token - b.usd_per_token
    intercept = (a.fixed_usd + a.step_usd * a.steps(mid)) - (
        b.fixed_usd + b.step_usd * b.steps(mid)
    )
    d_left = intercept + slope * left  # limit from the right at the segment's left end
    d_right = intercept + slope * right
    # Walk the samples start_0, end_0, start_1, end_1, ... and find where the sign flips.
    values = np.column_stack((d_left, d_right)).ravel()
    signs = np.where(np.abs(values) < _TIE_USD, 0, np.sign(values)).astype(np.int64)
    nonzero = np.flatnonzero(signs)
    if len(nonzero) < 2:
        return CrossingSearch((), upper, complete)
    all_flips = nonzero[1:][signs[nonzero[1:]] != signs[nonzero[:-1]]]
    flips = all_flips[:limit]
    found: list[Crossing] = []
    for index in flips:
        segment = int(index // 2)
        if index % 2 == 1 and slope != 0:  # inside a segment: the root of its line
            volume = -float(intercept[segment]) / slope
            volume = min(max(volume, float(left[segment])), float(right[segment]))
        else:  # across a replica step: at the step itself
            volume = float(left[segment])
        cheaper = "a" if signs[index] < 0 else "b"
        found.append(Crossing(tokens_per_month=volume, cheaper_above=cheaper))
    return CrossingSearch(tuple(found), upper, complete, total=len(all_flips))


def sweep_costs(curves: dict[str, CostCurve], volumes: FloatArray) -> dict[str, FloatArray]:
    """Monthly cost of each option at each volume (vectorised)."""
    return {name: curve.cost(volumes) for name, curve in curves.items()}


def verdicts(
    costs: dict[str, FloatArray], feasible: dict[str, NDArray[np.bool_]] | None = None
) -> tuple[list[str | None], list[str]]:
    """Cheapest option per volume and a verdict like 'haiku 8.3x cheaper than llama-70b'.

    Only options that can serve a volume (``feasible``, default all) and whose cost there is a
    finite number are ranked; a volume none can serve has no cheapest option (None).
    """
    names = list(costs)
    table = np.vstack([np.asarray(costs[name], dtype=np.float64) for name in names])
    ok = np.isfinite(table)
    if feasible is not None:
        ok &= np.vstack([np.asarray(feasible[name], dtype=bool) for name in names])
    ranked = np.where(ok, table, np.inf)
    order = np.argsort(ranked, axis=0, kind="stable")
    cheapest: list[str | None] = []
    texts = []
    for i in range(table.shape[1]):
        serving = [int(j) for j in order[:, i] if ok[j, i]]
        left_out = [names[j] for j in range(len(names)) if not ok[j, i]]
        if not serving:
            cheapest.append(None)
            texts.append("no option can serve this volume")
            continue
        winner = names[serving[0]]
        cheapest.append(winner)
        if len(serving) < 2:
            text = (
                f"{winner} only option" if len(names) < 2 else f"{winner} only option that serves"
            )
        else:
            runner = names[serving[1]]
            low, high = ranked[serving[0], i], ranked[serving[1], i]
            if high <= 0 or math.isclose(low, high, rel_tol=1e-9):
                text = f"{winner} and {runner} cost the same"
            elif low <= 0:
                text = f"{winner} costs nothing; {runner} costs more"
            elif (ratio := format_ratio(high / low)) is None:
                text = f"{winner} and {runner} cost the same within 5%"
            else:
                text = f"{winner} {ratio} cheaper than {runner}"
        if left_out:
            text += f" ({', '.join(left_out)} cannot serve)"
        texts.append(text)
    return cheapest, texts
