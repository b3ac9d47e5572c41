"""Analyse a scenario once: price it, then derive everything a user asks for from that pricing.

:func:`analyse` resolves and prices every option once (:func:`llm_tco.evaluate.price_options`)
and hands that one pricing to the result, the chart curves, the recommendation (with its
simulation and capability tax) and the tornado. The page, the reports and the CLI's ``report``
use it, so an edit on the page prices the scenario once.
"""

from __future__ import annotations

import math

import numpy as np

from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.decide_result import Recommendation, Sensitivity
from llm_tco.evaluate import evaluate, price_options, sweep_rows
from llm_tco.recommend_eval import recommend
from llm_tco.result import Model, Result, SweepRow
from llm_tco.scenario import Scenario
from llm_tco.sensitivity import tornado

# The page asks for a small simulation so that an edit stays fast (benchmarks/web_results.md);
# `llm-tco report` takes --samples. A fixed seed makes a link and its report show the same bands.
DEFAULT_SAMPLES = 2_000
DEFAULT_SEED = 0
# Numbers without a stated range move +/-25% in the tornado, as `llm-tco sensitivity` does.
DEFAULT_SPREAD = 0.25
CURVE_POINTS = 49  # log-spaced volumes per curve: 12 per decade over 4 decades looks smooth


class Analysis(Model):
    """A scenario priced once, and everything derived from it."""

    result: Result
    curve: list[SweepRow]  # the cost of every option at :func:`curve_volumes`, for the chart
    recommendation: Recommendation
    sensitivity: Sensitivity | None = None  # None with a single option


def curve_volumes(result: Result, points: int = CURVE_POINTS) -> list[float]:
    """Volumes (tokens/month) to draw the cost curves at.

    Log-spaced from half the smallest to twice the largest of: the scenario's volume, its sweep
    volumes and every break-even; each of those volumes is included exactly so that the markers
    sit on the curves.
    """
    marks = [result.workload.total_tokens_per_month]
    marks += [row.tokens_per_month for row in result.sweep]
    marks += [c.tokens_per_month for b in result.breakeven for c in b.crossings]
    marks = [v for v in marks if v > 0 and math.isfinite(v)]
    if not marks:
        marks = [1e6, 1e11]
    low, high = math.log10(min(marks) / 2), math.log10(max(marks) * 2)
    step = (high - low) / (points - 1)
    grid = [10 ** (low + i * step) for i in range(points)]
    return sorted(set(grid) | set(marks))


def analyse(
    scenario: Scenario,
    catalog: Catalog | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = DEFAULT_SEED,
    spread: float = DEFAULT_SPREAD,
    suggest: bool = True,
) -> Analysis:
    """Price ``scenario`` once; return its result, chart curves, recommendation (with a
    ``samples``-month simulation when the scenario has ranges) and tornado. ``suggest``: also
    search the ways to serve each self-hosted model (reports show them; the page asks for them
    separately, so an edit is not held up by the search)."""
    catalog = catalog or load_catalog()
    state = price_options(scenario, catalog)
    result = evaluate(scenario, catalog, state=state, suggest=suggest)
    # The curves are the same priced options at more volumes: the arithmetic of the sweep.
    volumes = np.asarray(curve_volumes(result), dtype=np.float64)
    curve = sweep_rows(state.priced, state.workload, volumes)
    recommendation = recommend(
        scenario,
        samples if scenario.uncertain else 0,
        seed,
        catalog,
        state=state,
        result=result,
    )
    sensitivity = None
    if len(result.options) >= 2:
        sensitivity = tornado(scenario, None, None, spread, catalog, state=state, point=result)
    return Analysis(
        result=result, curve=curve, recommendation=recommendation, sensitivity=sensitivity
    )
