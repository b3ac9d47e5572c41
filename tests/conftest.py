"""Shared fixtures: the shipped catalog and a helper to evaluate scenario dicts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from llm_tco.catalog import Catalog, load_catalog
from llm_tco.evaluate import evaluate
from llm_tco.result import Result
from llm_tco.scenario import load_scenario, scenario_from_data

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# Tests never see offers a user refreshed into their own cache: point the cache at a folder
# that does not exist before any test module loads the catalog.
os.environ["LLM_TCO_CACHE_DIR"] = str(
    Path(tempfile.gettempdir()) / f"llm-tco-test-no-cache-{os.getpid()}"
)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


def run(data: dict[str, Any], **kwargs: Any) -> Result:
    return evaluate(scenario_from_data(data), **kwargs)


def run_example(name: str) -> Result:
    return evaluate(load_scenario(EXAMPLES / name))
