"""Exact break-even volumes between two piecewise-linear cost curves, and volume sweeps.

Between replica steps both curves are linear in V, so the difference is linear on each segment:
a crossing is either the root of that line inside the segment or a sign change across a step.
The first crossing (the break-even) has a closed form per segment, so it is found for one
curve or for 100,000 samples of one by the same arithmetic; the lead changes after it are found
by walking the replica steps up to a bound beyond which the ordering can no longer change (the
step terms are bounded by one step each around their average slope).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from llm_tco.core.costs import STEP_EPS, CostCurve, FloatArray, Value
from llm_tco.core.units import MAX_STATED_RATIO, format_ratio

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
    slack = abs(float(a.fixed_usd) - float(b.fixed_usd))
    for curve in (a, b):
        if curve.stepped:
            slack += float(curve.step_usd) * (curve.min_steps + curve.extra_steps + 2)
    bound = slack / slope_gap if slope_gap > 0 else VOLUME_CAP
    for curve in (a, b):
        if curve.stepped:
            bound = max(bound, (curve.min_steps + 1) * float(curve.tokens_per_step))
    return float(min(max(bound * 1.01, 1.0), VOLUME_CAP))


def _first_crossing(own: CostCurve, api_usd_per_token: Value) -> tuple[FloatArray, FloatArray]:
    """Per sample (or for a point curve), the break-even volume and its segment's replica
    count k (0 for a fixed deployment; NaN volume when ``own`` never becomes cheaper).

    d(V) = own - API = F + S * (k + e) - gap * V on segment k (volumes ((k-1) T, k T], the
    first segment (0, m T] with k = m), gap = API minus own cost per token. The API is cheaper
    at V = 0+ (d > 0, unless its own monthly items make it dearer) and within a segment d falls
    while each step raises it by S, so the break-even is the root of the first segment whose
    right end has d < 0 after a knot with d > 0: the first segment when F + (m+e) S < gap m T,
    else the least k > m with k (gap T - S) > F + e S (and past the first positive knot).
    Differences under ``_TIE_USD`` are ties, as in the walk (a root whose segment starts at a
    tie lies at most a tie's worth of tokens before it).
    """
    fixed = np.asarray(own.fixed_usd, dtype=np.float64)
    per_step = np.asarray(own.tokens_per_step, dtype=np.float64)
    slope = own.usd_per_token - np.asarray(api_usd_per_token, dtype=np.float64)
    stepped = own.stepped_mask
    step = np.where(stepped, own.step_usd, 0.0)
    low, extra = own.min_steps, own.extra_steps
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # d on the first segment, and just above zero volume (one replica at least is paid).
        base = fixed + step * (low + extra)
        start = base if low >= 1 else fixed + step * (1 + extra)
        in_first = (start > _TIE_USD) & (
            base + slope * np.where(stepped, low * per_step, np.inf) < -_TIE_USD
        )
        # Later segments k > m: right end R_k = F + e S - k margin, left end L_k = R_k + gap T.
        # The break-even is the first R_k < -tie after a knot > tie: after zero volume when own
        # starts dearer, else after the first L_k > tie (an API's monthly items can make own
        # no dearer at zero volume, dearer after a step, then cheaper again).
        margin = -slope * per_step - step
        # A saving per replica that equals the step's price up to float rounding is no margin
        # (else the rounding residue puts a "break-even" at 1e25 tokens).
        margin = np.where(np.abs(margin) <= 1e-9 * np.maximum(step, 1e-300), 0.0, margin)
        rest = fixed + extra * step
        first_later = float(low + 1)
        rises = np.floor((_TIE_USD - rest + slope * per_step) / -margin) + 1
        dearer_later = np.where(
            margin < 0,
            np.where(rises > first_later, rises, first_later),
            np.where(
                rest - slope * per_step - first_later * margin > _TIE_USD, first_later, np.inf
            ),
        )
        lower = np.where(start > _TIE_USD, first_later, dearer_later)
        k = np.floor((rest + _TIE_USD) / margin) + 1
        k = np.where((margin > 0) & (k > lower), k, lower)
        level = np.where(in_first, base, fixed + step * (k + extra))
        later = stepped & (level + slope * k * per_step < -_TIE_USD)
        volume = -level / slope
    found = (in_first | later) & (volume >= 0) & np.isfinite(volume)
    segment = np.where(in_first, np.where(stepped, float(low), 0.0), k)
    return np.where(found, volume, np.nan), np.where(found, segment, np.nan)


def first_breakeven(own: CostCurve, api_usd_per_token: Value) -> FloatArray:
    """The lowest volume at which ``own`` becomes cheaper than a linear API: one value per
    sample of ``own``'s parameters (an array of one for a point curve; NaN where it never does).
    The one break-even formula: :func:`find_crossings` starts from it."""
    volume, _ = _first_crossing(own, api_usd_per_token)
    return np.atleast_1d(volume)


def find_crossings(own: CostCurve, api: CostCurve, limit: int = 100) -> CrossingSearch:
    """Every volume V > 0 where the cheaper of ``own`` and the linear ``api`` changes, in
    increasing order (point curves: floats): the break-even (:func:`first_breakeven`), then
    the lead changes of a stepped curve after it, found by walking its replica steps."""
    upper = _search_bound(own, api)
    own = replace(own, fixed_usd=own.fixed_usd - api.fixed_usd)  # the API's monthly items
    volume, segment = (float(x) for x in _first_crossing(own, api.usd_per_token))
    if not math.isfinite(volume):
        return CrossingSearch((), upper, True)
    first = Crossing(tokens_per_month=volume, cheaper_above="a")
    if not own.stepped:  # one line: once cheaper, always cheaper
        return CrossingSearch((first,), upper, True, total=1)
    per_step = float(own.tokens_per_step)
    # Segment k+1 onwards: points (k + j + STEP_EPS) x T, where CostCurve.steps adds a replica.
    count = max(int(upper // per_step) - int(segment), 1)
    complete = count <= MAX_SEGMENTS
    count = min(count, MAX_SEGMENTS)
    points = (np.arange(segment, segment + count + 1, dtype=np.float64) + STEP_EPS) * per_step
    if points.size < 2:  # a segment index past float precision (~2^53): no walk possible
        return CrossingSearch((first,), upper, False, total=1)
    if not complete:
        upper = float(points[-1])
    elif upper > points[-1]:
        points = np.append(points, upper)
    left, right = points[:-1], points[1:]
    slope = float(own.usd_per_token) - float(api.usd_per_token)
    intercept = own.fixed_usd + own.step_usd * own.steps((left + right) / 2)
    d_left = intercept + slope * left  # limit from the right at the segment's left end
    d_right = intercept + slope * right
    # The break-even segment's right end (own cheaper) and the samples start_0, end_0, ...
    values = np.concatenate(([-1.0], np.column_stack((d_left, d_right)).ravel()))
    signs = np.where(np.abs(values) < _TIE_USD, 0, np.sign(values)).astype(np.int64)
    nonzero = np.flatnonzero(signs)
    all_flips = nonzero[1:][signs[nonzero[1:]] != signs[nonzero[:-1]]]
    found = [first]
    for index in all_flips[: max(limit - 1, 0)]:
        at = int(index - 1) // 2
        if index % 2 == 0 and slope != 0:  # inside a segment: the root of its line
            v = -float(intercept[at]) / slope
            v = min(max(v, float(left[at])), float(right[at]))
        else:  # across a replica step: at the step itself
            v = float(left[at])
        cheaper = "a" if signs[index] < 0 else "b"
        found.append(Crossing(tokens_per_month=v, cheaper_above=cheaper))
    return CrossingSearch(tuple(found[:limit]), upper, complete, total=1 + len(all_flips))


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
            low, high = float(ranked[serving[0], i]), float(ranked[serving[1], i])
            if high <= 0 or math.isclose(low, high, rel_tol=1e-9):
                text = f"{winner} and {runner} cost the same"
            elif low <= 0:
                text = f"{winner} costs nothing; {runner} costs more"
            elif high > low * MAX_STATED_RATIO:
                # A ratio past any float (1e300 / 1e-10) or past any meaning is no "same".
                text = f"{winner} over {MAX_STATED_RATIO:,.0f}x cheaper than {runner}"
            elif (ratio := format_ratio(high / low)) is None:
                text = f"{winner} and {runner} cost the same within 5%"
            else:
                text = f"{winner} {ratio} cheaper than {runner}"
        if left_out:
            text += f" ({', '.join(left_out)} cannot serve)"
        texts.append(text)
    return cheapest, texts
