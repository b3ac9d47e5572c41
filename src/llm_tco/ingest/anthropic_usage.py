"""Anthropic usage export (Admin API ``/v1/organizations/usage_report/messages``).

Each bucket (``starting_at``, ``ending_at``, RFC 3339) holds results with
``uncached_input_tokens``, ``cache_read_input_tokens``, ``cache_creation`` (with
``ephemeral_5m_input_tokens`` and ``ephemeral_1h_input_tokens``), ``output_tokens``, ``model``,
``api_key_id``, ``workspace_id`` and ``service_tier`` (``batch`` for the Batches API). The
report has no request count, so requests are unknown for this format. Input tokens are the sum
of uncached, cache-read and cache-write tokens, which makes them comparable with OpenAI's.
"""

from __future__ import annotations

from collections.abc import Callable

from llm_tco.ingest.canonical import bucket_records, sum_or_null

SIGNATURES = (("uncached_input_tokens",),)


def records(docs: str) -> str:
    """One record per bucket result, with the bucket's start and end merged in."""
    return bucket_records(docs, "starting_at", "ending_at")


def fields(get: Callable[..., str]) -> dict[str, str]:
    start, end = get("$.starting_at"), get("$.ending_at")
    cache_read = get("$.cache_read_input_tokens")
    return {
        "ts": start,
        "model": get("$.model"),
        "input_tokens": sum_or_null(
            get("$.uncached_input_tokens"),
            cache_read,
            get("$.cache_creation.ephemeral_5m_input_tokens", "$.cache_creation_5m_input_tokens"),
            get("$.cache_creation.ephemeral_1h_input_tokens", "$.cache_creation_1h_input_tokens"),
        ),
        "output_tokens": get("$.output_tokens"),
        "cached_input_tokens": cache_read,
        "cache_write_tokens": sum_or_null(
            get("$.cache_creation.ephemeral_5m_input_tokens", "$.cache_creation_5m_input_tokens"),
            get("$.cache_creation.ephemeral_1h_input_tokens", "$.cache_creation_1h_input_tokens"),
        ),
        "batch": f"({get('$.service_tier')} = 'batch')",
        "tag": get("$.workspace_id"),
        "key": get("$.api_key_id"),
        "bucket_seconds": f"epoch(TRY_CAST({end} AS TIMESTAMPTZ)) - "
        f"epoch(TRY_CAST({start} AS TIMESTAMPTZ))",
    }
