"""Shared fixtures. Helpers live in support.py (import it as ``support``)."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

# The suite runs the same from any terminal, CI service or shell: drop the variables with which
# rich and typer choose the output width and colour (FORCE_COLOR=1 or COLUMNS=40 in a user's
# shell otherwise puts escape codes or wrapped lines into outputs the tests read; typer forces
# a terminal when GITHUB_ACTIONS is set), and the warehouse URL `llm-tco ingest` falls back to.
# Tests that need a width pass COLUMNS to the command they run. This runs before rich or typer
# is imported, as typer reads some of them at import.
for _name in (
    "COLUMNS",
    "LINES",
    "JUPYTER_COLUMNS",
    "JUPYTER_LINES",
    "TERMINAL_WIDTH",
    "FORCE_COLOR",
    "NO_COLOR",
    "PY_COLORS",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "GITHUB_ACTIONS",
    "_TYPER_FORCE_DISABLE_TERMINAL",
    "DATABRICKS_RUNTIME_VERSION",
    "LLM_TCO_BACKEND",
):
    os.environ.pop(_name, None)

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from llm_tco.catalog import Catalog, load_catalog  # noqa: E402

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
# that does not exist before any test module loads the catalog. It is new for each run (a
# process id is reused, and a cache left by an earlier run must not be read) and removed at
# the end, with what the run memoised into it.
_CACHE_PARENT = tempfile.mkdtemp(prefix="llm-tco-test-cache-")
atexit.register(shutil.rmtree, _CACHE_PARENT, ignore_errors=True)
os.environ["LLM_TCO_CACHE_DIR"] = str(Path(_CACHE_PARENT) / "cache")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
