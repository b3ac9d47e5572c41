"""The Monte Carlo sample drawn at v equals ``evaluate`` of the scenario with v written in.

For random scenarios with ranges on many inputs, and random values v inside every range, the
sampled path (``sample_costs`` with one-sample draws at v) and the deterministic path
(``evaluate`` of the same scenario with each range replaced by its v) must agree on every
option's monthly cost, every line item, every break-even and whether each option can serve.
Not only at the point values: anywhere inside the ranges.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from llm_tco.evaluate import evaluate
from llm_tco.scenario import scenario_from_data
from llm_tco.simulate import sample_costs

REL = 1e-9


def _range(draw: Any, low: float, high: float) -> dict[str, float]:
    a = draw(st.floats(low, high, allow_nan=False))
    b = draw(st.floats(low, high, allow_nan=False))
    return {"low": min(a, b), "high": max(a, b)}


@st.composite
def scenarios(draw: Any) -> dict[str, Any]:
    workload: dict[str, Any] = {
        "tokens_per_month": _range(draw, 1e6, 1e12),
        "input_share": draw(st.floats(0.05, 0.95)),
        "peak_to_mean": _range(draw, 1.0, 4.0),
        "cached_input_share": _range(draw, 0.0, 0.8),
        "batch_share": _range(draw, 0.0, 0.8),
    }
    api = {
        "name": "api",
        "api": {
            "input_per_mtok": _range(draw, 0.05, 20.0),
            "output_per_mtok": _range(draw, 0.1, 80.0),
            "cached_input_per_mtok": _range(draw, 0.0, 0.05),
            "batch_discount": _range(draw, 0.0, 0.5),
        },
        "retry_rate": _range(draw, 0.0, 0.5),
    }
    if draw(st.booleans()):  # the API's own monthly items (gateway, resilience work ...)
        api["api"]["fixed_monthly"] = {"resilience": _range(draw, 0.0, 20_000.0)}
    count: Any = draw(st.one_of(st.just("auto"), st.integers(1, 8)))
    self_hosted: dict[str, Any] = {
        "gpu": "h100-sxm-80gb",
        "gpu_count": count,
        "gpus_per_replica": 1,
        "gpu_hourly_price": _range(draw, 0.5, 8.0),
        "tokens_per_second_per_replica": _range(draw, 50.0, 20_000.0),
        "ops_monthly": _range(draw, 0.0, 20_000.0),
        "variable_per_mtok": _range(draw, 0.0, 0.5),
        "ops_defaults": False,
    }
    if draw(st.booleans()):
        self_hosted["redundancy"] = "n+1"
    own = {"name": "own", "self_hosted": self_hosted, "retry_rate": _range(draw, 0.0, 0.5)}
    options = [api, own]
    if draw(st.booleans()):  # reserved API throughput, sized to the peak or fixed
        step = draw(st.integers(1, 5))
        provisioned: dict[str, Any] = {
            "tokens_per_minute_per_unit": _range(draw, 500.0, 50_000.0),
            "unit_price_hourly": _range(draw, 0.1, 5.0),
            "output_token_weight": _range(draw, 1.0, 8.0),
            "cached_input_counts": draw(st.booleans()),
            "min_units": step * draw(st.integers(1, 4)),
            "unit_increment": step,
            "fixed_monthly": {"gateway": _range(draw, 0.0, 2_000.0)},
        }
        if draw(st.booleans()):
            provisioned["units"] = provisioned["min_units"] + step * draw(st.integers(0, 20))
        options.append(
            {"name": "ptu", "provisioned": provisioned, "retry_rate": _range(draw, 0.0, 0.5)}
        )
    return {
        "name": "property",
        "hours_per_month": _range(draw, 600.0, 744.0),
        "workload": workload,
        "options": options,
    }


def _ranges(data: Any, path: str = "") -> dict[str, dict[str, float]]:
    """Every ``{low, high}`` in the data, by the input path the scenario gives it."""
    found: dict[str, dict[str, float]] = {}
    if isinstance(data, dict):
        if set(data) == {"low", "high"}:
            return {path: data}
        for key, value in data.items():
            found.update(_ranges(value, f"{path}.{key}" if path else key))
    elif isinstance(data, list):
        for item in data:
            found.update(_ranges(item, f"{path}[{item['name']}]"))
    return found


def _write(data: dict[str, Any], path: str, value: float) -> None:
    """Replace the range at ``path`` (e.g. options[own].self_hosted.ops_monthly) by ``value``."""
    node: Any = data
    parts = re.findall(r"[^.\[\]]+|\[[^\]]+\]", path)
    for part in parts[:-1]:
        if part.startswith("["):
            node = next(o for o in node if o["name"] == part[1:-1])
        else:
            node = node[part]
    node[parts[-1]] = value


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-6)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenarios(), where=st.lists(st.floats(0.0, 1.0), min_size=24, max_size=24))
@example(  # zero-width ranges and a fixed deployment whose capacity the volume exceeds
    data={
        "name": "property",
        "hours_per_month": {"low": 720.0, "high": 720.0},
        "workload": {
            "tokens_per_month": {"low": 1e10, "high": 1e10},
            "input_share": 0.5,
            "peak_to_mean": {"low": 1.0, "high": 1.0},
            "cached_input_share": {"low": 0.0, "high": 0.0},
            "batch_share": {"low": 0.0, "high": 0.0},
        },
        "options": [
            {
                "name": "api",
                "api": {
                    "input_per_mtok": {"low": 1.0, "high": 1.0},
                    "output_per_mtok": {"low": 5.0, "high": 5.0},
                    "cached_input_per_mtok": {"low": 0.0, "high": 0.0},
                    "batch_discount": {"low": 0.0, "high": 0.0},
                },
                "retry_rate": {"low": 0.0, "high": 0.0},
            },
            {
                "name": "own",
                "self_hosted": {
                    "gpu": "h100-sxm-80gb",
                    "gpu_count": 2,
                    "gpus_per_replica": 1,
                    "gpu_hourly_price": {"low": 2.0, "high": 2.0},
                    "tokens_per_second_per_replica": {"low": 1000.0, "high": 1000.0},
                    "ops_monthly": {"low": 0.0, "high": 0.0},
                    "variable_per_mtok": {"low": 0.0, "high": 0.0},
                    "ops_defaults": False,
                },
                "retry_rate": {"low": 0.0, "high": 0.0},
            },
        ],
    },
    where=[0.5] * 24,
)
def test_sample_at_v_equals_evaluate_with_v_written_in(
    data: dict[str, Any], where: list[float]
) -> None:
    ranges = _ranges(data)
    values = {
        path: r["low"] + u * (r["high"] - r["low"])
        for (path, r), u in zip(sorted(ranges.items()), where, strict=False)
    }
    values.update({p: r["low"] for p, r in ranges.items() if p not in values})
    scenario = scenario_from_data(copy.deepcopy(data))
    written = copy.deepcopy(data)
    for path, value in values.items():
        _write(written, path, value)
    point = evaluate(scenario_from_data(written), volumes=[])
    draws = {path: np.array([value]) for path, value in values.items()}
    sampled = sample_costs(scenario, draws)
    for option in point.options:
        got = float(sampled.monthly_usd[option.name][0])
        assert _close(got, option.monthly_cost), (option.name, got, option.monthly_cost)
        items = {k: float(np.ravel(v)[0]) for k, v in sampled.line_items[option.name].items()}
        for name, amount in option.breakdown.items():
            assert _close(items[name], amount), (option.name, name)
        for name, amount in items.items():  # nothing sampled that evaluate leaves out
            assert _close(amount, option.breakdown.get(name, 0.0)), (option.name, name)
        assert bool(sampled.feasible[option.name][0]) is option.feasible, option.name
    for row in point.breakeven:
        found = float(sampled.breakeven_tokens[(row.option, row.versus)][0])
        expected = row.tokens_per_month
        assert _close(None if math.isnan(found) else found, expected), (found, expected)


def test_ranges_cover_every_path_the_generator_writes() -> None:
    # _ranges finds each range under the path the scenario keys it by; _write sets it.
    data = {"options": [{"name": "x", "api": {"input_per_mtok": {"low": 1, "high": 2}}}]}
    assert set(_ranges(data)) == {"options[x].api.input_per_mtok"}
    _write(data, "options[x].api.input_per_mtok", 1.5)
    assert data["options"][0]["api"]["input_per_mtok"] == 1.5
    with pytest.raises(StopIteration):
        _write(data, "options[y].api.input_per_mtok", 1.0)
