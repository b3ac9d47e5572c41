"""Import GuideLLM's ``benchmarks.json`` (filled in below)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llm_tco.bench.result import BenchResult


def from_guidellm(data: Mapping[str, Any]) -> BenchResult:
    raise NotImplementedError
