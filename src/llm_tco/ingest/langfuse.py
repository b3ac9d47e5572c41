"""Langfuse observations export (public API ``GET /api/public/observations``, JSON/JSONL).

Documented ``ObservationsView`` fields used: ``id``, ``traceId``, ``type`` (only
``GENERATION`` observations are model calls), ``name``, ``startTime``, ``model``,
``usageDetails`` (``input``, ``output``, and cache keys such as ``input_cached_tokens`` or
``cache_read_input_tokens``), the older ``usage`` (``input``, ``output``) and
``promptTokens``/``completionTokens``, and ``costDetails.total`` or ``calculatedTotalCost``
(USD). The observation ``name`` is the workload tag.
"""

from __future__ import annotations

from collections.abc import Callable

SIGNATURES = (("usageDetails",), ("traceId", "startTime", "promptTokens"), ("traceId", "startTime"))


def fields(get: Callable[..., str]) -> dict[str, str]:
    kind = get("$.type")
    return {
        "request_id": get("$.id"),
        "ts": get("$.startTime"),
        "model": get("$.model"),
        "input_tokens": get("$.usageDetails.input", "$.usage.input", "$.promptTokens"),
        "output_tokens": get("$.usageDetails.output", "$.usage.output", "$.completionTokens"),
        "cached_input_tokens": get(
            "$.usageDetails.input_cached_tokens",
            "$.usageDetails.cache_read_input_tokens",
            "$.usageDetails.input_cache_read",
        ),
        "requests": "1",
        "tag": get("$.name"),
        "billed_usd": get("$.costDetails.total", "$.calculatedTotalCost"),
        "skipped": f"CASE WHEN upper({kind}) <> 'GENERATION' THEN 'not_a_generation' END",
    }
