"""Shared fixtures. Helpers live in support.py (import it as ``support``)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

from llm_tco.catalog import Catalog, load_catalog

# Helpers shared by tests are imported as `support`, from this folder (a package named `tests`
# installed by another distribution cannot shadow them).
sys.path.insert(0, str(Path(__file__).parent))

# Timing is not what property tests check: a shared 2-core CI machine must not fail them by
# taking 250 ms instead of 200 ms. Examples are random on every run, in CI as locally, so runs
# keep finding new cases; a failure prints the seed and the failing example to reproduce it
# (`--hypothesis-seed=N`). No example database: a failure found once is not replayed from disk
# on later runs, so a clean checkout and a used one run the same tests.
settings.register_profile(
    "llm-tco", deadline=None, print_blob=True, derandomize=False, database=None
)
settings.load_profile("llm-tco")

# Tests never see offers a user refreshed into their own cache: point the cache at a folder
# that does not exist before any test module loads the catalog.
os.environ["LLM_TCO_CACHE_DIR"] = str(
    Path(tempfile.gettempdir()) / f"llm-tco-test-no-cache-{os.getpid()}"
)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
