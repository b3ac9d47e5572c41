"""Helpers shared by tests: evaluate scenario dicts and the shipped examples.

Imported as ``support`` (pytest puts this folder on sys.path via conftest.py); a package named
``tests`` installed by some other distribution cannot shadow it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_tco.evaluate import evaluate
from llm_tco.result import Result
from llm_tco.scenario import load_scenario, scenario_from_data

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run(data: dict[str, Any], **kwargs: Any) -> Result:
    return evaluate(scenario_from_data(data), **kwargs)


def run_example(name: str) -> Result:
    return evaluate(load_scenario(EXAMPLES / name))
