"""OpenAI organisation usage export (Usage API ``/v1/organization/usage/completions``).

Fields as documented for ``organization.usage.completions.result``: ``input_tokens`` (cached
included), ``input_cached_tokens``, ``output_tokens``, ``num_model_requests``, ``model``,
``batch``, ``project_id``, ``api_key_id``, inside time buckets with ``start_time`` and
``end_time`` in Unix seconds. The JSON form is the API page (``{"object": "page", "data":
[bucket, ...]}``); the CSV form has one row per result with the bucket's times as columns.
"""

from __future__ import annotations

from collections.abc import Callable

from llm_tco.ingest.canonical import bucket_records

SIGNATURES = (("num_model_requests",),)


def records(docs: str) -> str:
    """One record per bucket result, with the bucket's start and end merged in."""
    return bucket_records(docs, "start_time", "end_time")


def fields(get: Callable[..., str]) -> dict[str, str]:
    start, end = get("$.start_time"), get("$.end_time")
    return {
        "ts": start,
        "model": get("$.model"),
        "input_tokens": get("$.input_tokens"),
        "output_tokens": get("$.output_tokens"),
        "cached_input_tokens": get("$.input_cached_tokens"),
        "requests": get("$.num_model_requests"),
        "batch": get("$.batch"),
        "tag": get("$.project_id"),
        "key": get("$.api_key_id"),
        "bucket_seconds": f"TRY_CAST({end} AS DOUBLE) - TRY_CAST({start} AS DOUBLE)",
    }
