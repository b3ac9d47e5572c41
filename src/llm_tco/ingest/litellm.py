"""LiteLLM proxy spend logs (the ``LiteLLM_SpendLogs`` table, exported as CSV or JSON).

Documented columns: ``request_id``, ``call_type``, ``api_key`` (hashed), ``spend`` (USD),
``total_tokens``, ``prompt_tokens``, ``completion_tokens``, ``startTime``, ``endTime``,
``model``, ``api_base``, ``user``, ``metadata``, ``cache_hit``, ``cache_key``,
``request_tags`` (a JSON list), ``team_id``, ``end_user``. The first request tag is the workload
tag. Cached prompt tokens are read from ``metadata.usage_object.prompt_tokens_details`` when
the proxy recorded them.
"""

from __future__ import annotations

from collections.abc import Callable

SIGNATURES = (("spend", "startTime"), ("spend", "prompt_tokens", "request_id"))


def fields(get: Callable[..., str]) -> dict[str, str]:
    tags = get("$.request_tags")
    metadata = get("$.metadata")
    return {
        "request_id": get("$.request_id"),
        "ts": get("$.startTime"),
        "model": get("$.model"),
        "input_tokens": get("$.prompt_tokens"),
        "output_tokens": get("$.completion_tokens"),
        "cached_input_tokens": _json_field(
            metadata, "$.usage_object.prompt_tokens_details.cached_tokens"
        ),
        "requests": "1",
        "tag": f"coalesce({_json_field(tags, '$[0]')}, nullif({tags}, '[]'))",
        "key": get("$.api_key"),
        "billed_usd": get("$.spend"),
    }


def _json_field(text: str, path: str) -> str:
    """A field inside a column that holds JSON as text (CSV) or a JSON value (JSON lines)."""
    if text == "NULL":
        return "NULL"
    return f"CASE WHEN json_valid({text}) THEN json_extract_string({text}, '{path}') END"
