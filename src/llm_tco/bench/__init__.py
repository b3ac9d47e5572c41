"""Benchmark an OpenAI-compatible endpoint and turn what it serves into dollars.

Public API: :func:`load_result` reads a saved result (ours, GuideLLM's or ``vllm bench serve``'s)
into a :class:`BenchResult`, whose :meth:`BenchResult.capacity_at_slo` gives the measured
capacity a self-hosted option can use.
"""

from llm_tco.bench.cost import deployments_needed, usd_per_mtok
from llm_tco.bench.importers import load_result
from llm_tco.bench.result import BenchResult, LevelResult, Pricing, Slo

__all__ = [
    "BenchResult",
    "LevelResult",
    "Pricing",
    "Slo",
    "deployments_needed",
    "load_result",
    "usd_per_mtok",
]
