"""Range-valued scenario numbers: find them in the raw scenario data and replace each with its
point value, keeping the distribution under the input's path.

    ops_monthly: {low: 500, high: 2000}              # uniform; point value 1250
    retry_rate: {triangular: [0.3, 0.35, 0.4]}       # point value 0.35 (the mode)
    input_per_mtok: {lognormal: {median: 3, p90: 4}} # point value 3 (the median)

A range with equal ends is that number. Paths name options by name:
``options[llama-70b].self_hosted.ops_monthly``.
"""

from __future__ import annotations

from typing import Any

from llm_tco.core.uncertainty import Distribution
from llm_tco.core.units import parse_quantity

RANGE_KEYS = ({"low", "high"}, {"triangular"}, {"lognormal"}, {"uniform"})


def is_range(value: object) -> bool:
    return isinstance(value, dict) and set(value) in RANGE_KEYS


def _number(value: object, what: str) -> float:
    try:
        return parse_quantity(value)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def parse_range(value: dict[str, Any]) -> Distribution:
    """``{low, high}``, ``{uniform: [a, b]}``, ``{triangular: [a, mode, b]}`` or
    ``{lognormal: {median, p90}}`` -> a Distribution (ValueError says what is accepted)."""
    keys = set(value)
    if keys == {"low", "high"}:
        return Distribution("uniform", _number(value["low"], "low"), _number(value["high"], "high"))
    if keys == {"uniform"}:
        ends = value["uniform"]
        if not isinstance(ends, list) or len(ends) != 2:
            raise ValueError("uniform takes [low, high]")
        return Distribution("uniform", _number(ends[0], "low"), _number(ends[1], "high"))
    if keys == {"triangular"}:
        points = value["triangular"]
        if not isinstance(points, list) or len(points) != 3:
            raise ValueError("triangular takes [low, mode, high]")
        low, mode, high = (_number(p, "triangular") for p in points)
        return Distribution("triangular", low, high, mode)
    params = value.get("lognormal")
    if not isinstance(params, dict) or set(params) != {"median", "p90"}:
        raise ValueError("lognormal takes {median: M, p90: P}")
    median, p90 = _number(params["median"], "median"), _number(params["p90"], "p90")
    return Distribution("lognormal", median * median / p90 if p90 > 0 else 0.0, p90, median)


def range_data(dist: Distribution) -> dict[str, Any]:
    """The scenario-file form of a distribution (inverse of :func:`parse_range`)."""
    if dist.kind == "uniform":
        return {"low": dist.low, "high": dist.high}
    if dist.kind == "triangular":
        return {"triangular": [dist.low, dist.mode, dist.high]}
    return {"lognormal": {"median": dist.mode, "p90": dist.high}}


def extract_ranges(data: Any) -> tuple[Any, dict[str, Distribution]]:
    """A copy of ``data`` with every range replaced by its point value, and the ranges by path."""
    found: dict[str, Distribution] = {}

    def walk(node: Any, path: str) -> Any:
        if is_range(node):
            try:
                dist = parse_range(node)
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}") from None
            found[path] = dist
            return dist.point
        if isinstance(node, dict):
            return {
                key: walk(value, f"{path}.{key}" if path else str(key))
                for key, value in node.items()
            }
        if isinstance(node, list):
            out = []
            for i, item in enumerate(node):
                label = item.get("name") if isinstance(item, dict) else None
                out.append(walk(item, f"{path}[{label if isinstance(label, str) else i}]"))
            return out
        return node

    if isinstance(data, dict):
        data = {k: (v if k == "uncertain" else walk(v, str(k))) for k, v in data.items()}
    return data, found
