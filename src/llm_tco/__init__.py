"""llm-tco: what serving an LLM workload costs each way, where the ways break even.

Public API::

    from llm_tco import evaluate, load_scenario
    result = evaluate(load_scenario("examples/seed1-high-volume-haiku-vs-llama.yaml"))
    print(result.cheapest, result.option("llama-3.3-70b").monthly_cost)

Names load on first use so that importing a submodule (as the CLI does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "evaluate": "llm_tco.evaluate",
    "Scenario": "llm_tco.scenario",
    "load_scenario": "llm_tco.scenario",
    "scenario_from_data": "llm_tco.scenario",
    "Result": "llm_tco.result",
    "load_catalog": "llm_tco.catalog",
    "Catalog": "llm_tco.catalog",
    "LlmTcoError": "llm_tco.errors",
    "ScenarioError": "llm_tco.errors",
    "CatalogLookupError": "llm_tco.errors",
}
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llm_tco' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
