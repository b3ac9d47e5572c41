"""llm-tco: what serving an LLM workload costs each way, where the ways break even.

Public API (docs/python-api.md)::

    import llm_tco

    scenario = llm_tco.load_scenario("examples/seed1-high-volume-haiku-vs-llama.yaml")
    result = llm_tco.evaluate(scenario)
    print(result.cheapest, result.option("llama-3.3-70b").monthly_cost)
    analysis = llm_tco.analyse(scenario)  # priced once: result, recommendation, tornado
    print(analysis.recommendation.choose)

Names load on first use so that importing a submodule (as the CLI does) stays cheap.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

# Public name -> the module that defines it (and the name there, when it differs).
_EXPORTS: dict[str, tuple[str, str]] = {
    "load_scenario": ("llm_tco.scenario", "load_scenario"),
    "scenario_from_data": ("llm_tco.scenario", "scenario_from_data"),
    "evaluate": ("llm_tco.evaluate", "evaluate"),
    "simulate": ("llm_tco.simulate", "simulate"),
    "recommend": ("llm_tco.recommend_eval", "recommend"),
    "sensitivity": ("llm_tco.sensitivity", "tornado"),
    "analyse": ("llm_tco.analyse", "analyse"),
    "fit": ("llm_tco.public", "fit"),
    "capacity": ("llm_tco.public", "capacity"),
    "load_catalog": ("llm_tco.catalog", "load_catalog"),
    # result types
    "Scenario": ("llm_tco.scenario", "Scenario"),
    "Catalog": ("llm_tco.catalog", "Catalog"),
    "Result": ("llm_tco.result", "Result"),
    "OptionResult": ("llm_tco.result", "OptionResult"),
    "Breakeven": ("llm_tco.result", "Breakeven"),
    "SweepRow": ("llm_tco.result", "SweepRow"),
    "Simulation": ("llm_tco.decide_result", "Simulation"),
    "Recommendation": ("llm_tco.decide_result", "Recommendation"),
    "Sensitivity": ("llm_tco.decide_result", "Sensitivity"),
    "Analysis": ("llm_tco.analyse", "Analysis"),
    "FitResult": ("llm_tco.public", "FitResult"),
    "CapacityResult": ("llm_tco.public", "CapacityResult"),
    # errors
    "LlmTcoError": ("llm_tco.errors", "LlmTcoError"),
    "ScenarioError": ("llm_tco.errors", "ScenarioError"),
    "CatalogLookupError": ("llm_tco.errors", "CatalogLookupError"),
}
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'llm_tco' has no attribute {name!r}")
    module, attribute = target
    return getattr(importlib.import_module(module), attribute)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps ``llm_tco.evaluate`` (and ``simulate``, ``sensitivity``) the public functions.

    Importing the submodule ``llm_tco.evaluate`` would otherwise bind the module over the
    function of the same name; the submodules stay importable by their full name.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
