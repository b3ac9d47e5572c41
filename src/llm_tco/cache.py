"""Where llm-tco keeps its per-user cache (refreshed offers, price look-ups, log summaries)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "LLM_TCO_CACHE_DIR"


def cache_dir() -> Path:
    """``$LLM_TCO_CACHE_DIR``, else ``$XDG_CACHE_HOME/llm-tco``, else ``~/.cache/llm-tco``,
    read from the environment at each call (tests point it elsewhere)."""
    folder = os.environ.get(CACHE_DIR_ENV)
    if folder:
        return Path(folder).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "llm-tco"
