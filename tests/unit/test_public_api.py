"""The public Python API: exactly the names docs/python-api.md lists, and its example runs."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import re
from pathlib import Path

import llm_tco

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "python-api.md"

PUBLIC = {
    "load_scenario",
    "scenario_from_data",
    "evaluate",
    "simulate",
    "recommend",
    "sensitivity",
    "analyse",
    "fit",
    "capacity",
    "load_catalog",
    "Scenario",
    "Catalog",
    "Result",
    "OptionResult",
    "Breakeven",
    "SweepRow",
    "Simulation",
    "Recommendation",
    "Sensitivity",
    "Analysis",
    "FitResult",
    "CapacityResult",
    "LlmTcoError",
    "ScenarioError",
    "CatalogLookupError",
    "__version__",
}


def test_all_is_pinned_and_every_name_resolves() -> None:
    assert set(llm_tco.__all__) == PUBLIC
    for name in llm_tco.__all__:
        assert getattr(llm_tco, name) is not None


def test_functions_are_functions_even_after_their_modules_are_imported() -> None:
    # The submodules llm_tco.evaluate, llm_tco.simulate and llm_tco.sensitivity share those
    # names; importing them must not replace the public functions.
    for module in ("llm_tco.evaluate", "llm_tco.simulate", "llm_tco.sensitivity"):
        importlib.import_module(module)
    from llm_tco import evaluate, sensitivity, simulate

    for function in (evaluate, simulate, sensitivity):
        assert callable(function) and not isinstance(function, type(llm_tco))
    assert llm_tco.evaluate.__name__ == "evaluate"
    assert llm_tco.sensitivity.__name__ == "tornado"


def test_version_matches_the_package_metadata() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', text, re.M)
    assert version is not None and llm_tco.__version__ == version.group(1)


def test_documented_example_runs() -> None:
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(DOC), "exec"), {})
    finally:
        os.chdir(cwd)
    lines = out.getvalue().splitlines()
    # Seed 1 at 12B tokens/month: Haiku $20,000; the 4-GPU Llama deployment cannot carry 12B
    # (its modelled capacity is a few billion), so Haiku is the cheapest that can serve though
    # Llama is $9,200 on paper.
    assert lines[0] == "claude-haiku-4.5"
    assert lines[1].startswith("9200.0 False ")
    # Llama 3.1 70B does not fit one 80 GB H100; the fewest that hold it are 4 (test_cli).
    assert "False 4" in lines
    assert lines[-1].startswith("precision ")
