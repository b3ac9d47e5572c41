"""Property: whatever the body, the API answers 2xx or 4xx in the error shape, never a 500."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi", reason="FastAPI is not installed: pip install -e .")
import support
from llm_tco.web.app import DEFAULT_SCENARIO

CLIENT = support.api_client(raise_server_exceptions=False)
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["10B", "1.5M", "auto", "-1", "0", "1e400", "h100-sxm-80gb", "gpt-4o", ""]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


# Plausible numbers keep many mutants valid, so evaluation itself is fuzzed, not just validation.
numbers = st.one_of(
    st.floats(min_value=0, max_value=1e13),
    st.integers(0, 10**12),
    st.floats(min_value=0, max_value=1),
    st.sampled_from([0, 1, 1e-9, 744]),
)


@st.composite
def mutated_scenarios(draw: st.DrawFn) -> Any:
    """The default scenario with one to three values replaced or keys removed."""
    scenario = copy.deepcopy(DEFAULT_SCENARIO)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(scenario)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = scenario
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["delete", "number", "number", "any"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(numbers if action == "number" else json_values)
    return scenario


def check(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert body["ok"] is False and body["status"] == response.status_code
        assert body["errors"] == [] or "field" in body["errors"][0]


@SETTINGS
@given(st.one_of(json_values, mutated_scenarios()))
def test_evaluate_never_500(body: Any) -> None:
    check(CLIENT.post("/api/evaluate", content=json.dumps(body)))


@SETTINGS
@given(mutated_scenarios(), json_values)
def test_sweep_never_500(scenario: Any, volumes: Any) -> None:
    # json.dumps writes infinities as `Infinity`, which Python's parser (and so the app) reads.
    body = json.dumps({"scenario": scenario, "volumes": volumes})
    check(CLIENT.post("/api/sweep", content=body, headers={"content-type": "application/json"}))


@SETTINGS
@given(st.binary(max_size=200), st.sampled_from(["application/json", "application/yaml", ""]))
def test_raw_bytes_never_500(body: bytes, content_type: str) -> None:
    check(CLIENT.post("/api/evaluate", content=body, headers={"content-type": content_type}))


@settings(max_examples=40, deadline=None)
@given(mutated_scenarios())
def test_view_never_500(scenario: Any) -> None:
    check(CLIENT.post("/api/view", content=json.dumps(scenario)))


@SETTINGS
@given(
    st.sampled_from(["apis", "gpus", "offers", "models", "x"]),
    st.text(max_size=30),
    st.integers(-5, 10_000),
)
def test_catalog_never_500(kind: str, search: str, limit: int) -> None:
    check(CLIENT.get(f"/api/catalog/{kind}", params={"search": search, "limit": limit}))


@st.composite
def ranged_scenarios(draw: st.DrawFn) -> Any:
    """A mutated scenario with one to three numbers turned into ranges, for the simulation."""
    scenario = draw(mutated_scenarios())
    for _ in range(draw(st.integers(1, 3))):
        leaves = [p for p in _paths(scenario) if _leaf_is_number(scenario, p)]
        if not leaves:
            break
        path = draw(st.sampled_from(leaves))
        parent = scenario
        for key in path[:-1]:
            parent = parent[key]
        low, high = sorted((draw(numbers), draw(numbers)))
        parent[path[-1]] = draw(
            st.sampled_from(
                [{"low": low, "high": high}, {"triangular": [low, (low + high) / 2, high]}]
            )
        )
    return scenario


def _leaf_is_number(scenario: Any, path: tuple[Any, ...]) -> bool:
    node = scenario
    for key in path:
        node = node[key]
    return isinstance(node, int | float) and not isinstance(node, bool)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ranged_scenarios())
def test_view_and_recommend_with_ranges_never_500(scenario: Any) -> None:
    # The page's view runs the recommendation with its simulation and the tornado.
    check(CLIENT.post("/api/view", content=json.dumps(scenario)))
    check(CLIENT.post("/api/recommend?samples=200", content=json.dumps(scenario)))
