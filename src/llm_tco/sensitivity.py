"""Tornado: which inputs move the cost gap between two options most, and where it flips.

Each input is swept alone across its range (others at their point values); all sweeps run as
one vectorised :func:`llm_tco.simulate.sample_costs` call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.core.costs import FloatArray
from llm_tco.decide_result import Sensitivity, TornadoRow
from llm_tco.errors import ScenarioError
from llm_tco.evaluate import PricedScenario, evaluate, price_options
from llm_tco.result import Result
from llm_tco.scenario import Scenario
from llm_tco.simulate import sample_costs

GRID_POINTS = 401
NOISE_USD = 1e-6  # gap swings below a millionth of a dollar are float rounding, not effects
# Inputs that only label or shape the analysis, never a cost: not worth a tornado row.
SKIP_SUFFIXES = (".acceptance_rate", ".quality", "_slo_ms", ".quality_floor")
# ... but a speculative-decoding acceptance rate sets a replica's capacity: a cost input.
SPECULATIVE_ACCEPTANCE = ".speculative.acceptance_rate"
CAPPED_AT_ONE = ("_share", "_discount", ".fallback_rate", SPECULATIVE_ACCEPTANCE)


def numeric_inputs(scenario: Scenario) -> dict[str, float]:
    """Every number the scenario sets, by the path a range on it would have."""
    found: dict[str, float] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                label = item.get("name", i) if isinstance(item, dict) else i
                walk(item, f"{path}[{label}]")
        elif isinstance(node, float):
            found[path] = node

    data = scenario.model_dump(exclude={"uncertain", "decision", "sweep"}, exclude_none=True)
    walk(data, "")
    return found


def input_ranges(scenario: Scenario, spread: float) -> dict[str, tuple[float, float, float]]:
    """(low, point, high) per input: the stated ranges, and +/- ``spread`` around other numbers."""
    ranges = {path: (d.bounds[0], d.point, d.bounds[1]) for path, d in scenario.uncertain.items()}
    if spread > 0:
        for path, value in numeric_inputs(scenario).items():
            skipped = path.endswith(SKIP_SUFFIXES) and not path.endswith(SPECULATIVE_ACCEPTANCE)
            if path in ranges or value == 0 or skipped:
                continue
            high = value * (1 + spread)
            if path.endswith(CAPPED_AT_ONE):
                high = min(high, 1.0)
            if path == "hours_per_month":
                high = min(high, 744.0)  # 31 days
            ranges[path] = (value * (1 - spread), value, high)
    return ranges


def default_pair(
    result: Result, option: str | None = None, versus: str | None = None
) -> tuple[str, str]:
    """The two options a tornado compares by default: the cheapest self-hosted (or hybrid)
    option that can serve against the cheapest API that can; failing that, the two cheapest
    that can serve, and only then options that cannot."""
    ranked = sorted(result.options, key=lambda o: (not o.feasible, o.monthly_cost))
    serving = [o for o in ranked if o.feasible]

    def first(kinds: tuple[str, ...], but: str | None) -> str | None:
        return next((o.name for o in serving if o.kind in kinds and o.name != but), None)

    if option is None:
        own = first(("self_hosted",), versus) or first(("hybrid",), versus)
        api = versus or first(("api",), own)
        if own is not None and api is not None and own != api:
            return own, api
        option = next(o.name for o in ranked if o.name != versus)
    if versus is None:
        kinds = ("api",) if option not in {o.name for o in ranked if o.kind == "api"} else ()
        versus = (first(kinds, option) if kinds else None) or next(
            o.name for o in ranked if o.name != option
        )
    return option, versus


def _flip(grid: FloatArray, gaps: FloatArray) -> float | None:
    """The first input value where the gap changes sign (linear between grid points)."""
    signs = np.sign(gaps)
    change = np.flatnonzero(signs[1:] * signs[:-1] < 0)
    if len(change) == 0:
        return None
    i = int(change[0])
    x0, x1, y0, y1 = grid[i], grid[i + 1], gaps[i], gaps[i + 1]
    return float(x0 + (x1 - x0) * y0 / (y0 - y1))


def tornado(
    scenario: Scenario,
    option: str | None = None,
    versus: str | None = None,
    spread: float = 0.25,
    catalog: Catalog | None = None,
    state: PricedScenario | None = None,
    point: Result | None = None,
) -> Sensitivity:
    """Rows sorted by swing: the gap (option minus versus, USD/month) at each input's ends.

    ``state`` and ``point``: the scenario already priced and evaluated (to price once)."""
    catalog = catalog or load_catalog()
    state = state or price_options(scenario, catalog)
    point = point or evaluate(scenario, catalog, volumes=[], state=state)
    names = [o.name for o in point.options]
    if len(names) < 2:
        raise ScenarioError("sensitivity compares two options; the scenario has one")
    option, versus = default_pair(point, option, versus)
    for name, flag in ((option, "--option"), (versus, "--versus")):
        if name not in names:
            raise ScenarioError(
                f"no option named '{name}'", field=flag, hint="one of " + ", ".join(names)
            )
    ranges = input_ranges(scenario, spread)
    if not ranges:
        return Sensitivity(option=option, versus=versus, gap_usd=0.0, rows=[])
    paths = sorted(ranges)
    # Each input at its two ends (the rest at their point values), then along its grid for the
    # flip: two vectorised runs, so the ends are priced at exactly their values even where a
    # setting that changes capacity is sampled along a grid (evaluate.quantise leaves a handful
    # of distinct values exact, and snaps a grid's hundreds to a few model runs).
    ends = {path: np.full(2 * len(paths), ranges[path][1]) for path in paths}
    draws = {path: np.full(GRID_POINTS * len(paths), ranges[path][1]) for path in paths}
    grids = {}
    for i, path in enumerate(paths):
        low, _, high = ranges[path]
        width = high - low
        top = high + 2 * width
        if path.endswith(SPECULATIVE_ACCEPTANCE):
            top = min(top, 1.0)  # a probability: the engine accepts at most every draft token
        grid = np.linspace(max(0.0, low - 2 * width), top, GRID_POINTS)
        grids[path] = grid
        ends[path][2 * i : 2 * i + 2] = (low, high)
        draws[path][i * GRID_POINTS : (i + 1) * GRID_POINTS] = grid

    def gaps_at(values: dict[str, FloatArray]) -> FloatArray:
        costs = sample_costs(
            scenario, values, catalog, state, options=(option, versus), breakevens=False
        ).monthly_usd
        result: FloatArray = costs[option] - costs[versus]
        return result

    end_gaps, grid_gaps = gaps_at(ends), gaps_at(draws)
    gap_point = next(o.monthly_cost for o in point.options if o.name == option) - next(
        o.monthly_cost for o in point.options if o.name == versus
    )
    rows = []
    for i, path in enumerate(paths):
        at_ends = end_gaps[2 * i : 2 * i + 2]
        along = grid_gaps[i * GRID_POINTS : (i + 1) * GRID_POINTS]
        low, _, high = ranges[path]
        swing = abs(float(at_ends[1] - at_ends[0]))
        if swing < NOISE_USD and np.ptp(along) < NOISE_USD:
            continue  # float noise between two options that cost the same, not an effect
        flip = _flip(grids[path], along)
        rows.append(
            TornadoRow(
                path=path,
                low=low,
                high=high,
                gap_at_low_usd=float(at_ends[0]),
                gap_at_high_usd=float(at_ends[1]),
                swing_usd=swing,
                flips_at=flip,
                flip_within_range=flip is not None and low <= flip <= high,
            )
        )
    rows.sort(key=lambda r: (-r.swing_usd, r.path))
    return Sensitivity(
        option=option,
        versus=versus,
        gap_usd=gap_point,
        rows=rows,
        chart=tornado_chart(option, versus, gap_point, rows),
    )


def tornado_chart(
    option: str, versus: str, gap_usd: float, rows: list[TornadoRow]
) -> dict[str, Any]:
    """A Vega-Lite spec: one bar per input from the gap at its low end to the gap at its high."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"{option} minus {versus}, USD/month (negative: {option} cheaper)",
        "data": {
            "values": [
                {
                    "input": r.path,
                    "gap_at_low": r.gap_at_low_usd,
                    "gap_at_high": r.gap_at_high_usd,
                    "swing": r.swing_usd,
                }
                for r in rows
            ]
        },
        "layer": [
            {
                "mark": "bar",
                "encoding": {
                    "y": {"field": "input", "type": "nominal", "sort": "-x", "title": None},
                    "x": {
                        "field": "gap_at_low",
                        "type": "quantitative",
                        "title": "gap (USD/month)",
                    },
                    "x2": {"field": "gap_at_high"},
                },
            },
            {"mark": {"type": "rule", "strokeDash": [4, 4]}, "encoding": {"x": {"datum": gap_usd}}},
        ],
    }
