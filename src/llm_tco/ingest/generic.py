"""Any CSV, JSON lines or Parquet request log with recognisable column names.

Each canonical column is taken from the first of its usual names that the file has; anything
else is named with ``--map canonical=column``.
"""

from __future__ import annotations

from collections.abc import Callable

SIGNATURES: tuple[tuple[str, ...], ...] = ()  # the fallback format

ALIASES: dict[str, tuple[str, ...]] = {
    "request_id": ("request_id", "id", "requestId"),
    "ts": (
        "timestamp",
        "ts",
        "time",
        "created_at",
        "created",
        "start_time",
        "startTime",
        "datetime",
        "date",
    ),
    "model": ("model", "model_name", "model_id"),
    "input_tokens": ("input_tokens", "prompt_tokens", "tokens_in", "inputTokens", "promptTokens"),
    "output_tokens": (
        "output_tokens",
        "completion_tokens",
        "tokens_out",
        "outputTokens",
        "completionTokens",
    ),
    "cached_input_tokens": (
        "cached_input_tokens",
        "cached_tokens",
        "input_cached_tokens",
        "cache_read_input_tokens",
    ),
    "cache_write_tokens": ("cache_write_tokens", "cache_creation_input_tokens"),
    "prompt": ("prompt", "prompt_text", "messages", "input_text"),
    "prompt_hash": ("prompt_hash", "prompt_sha256"),
    "requests": ("requests", "num_requests", "request_count"),
    "batch": ("batch", "is_batch"),
    "tag": ("workload", "workload_tag", "tag", "feature"),
    "key": ("api_key", "key", "api_key_id", "project_id"),
    "billed_usd": ("billed_usd", "cost_usd", "cost", "spend"),
}


def fields(get: Callable[..., str]) -> dict[str, str]:
    exprs = {column: get(*(f"$.{n}" for n in names)) for column, names in ALIASES.items()}
    # One row per request unless the file says otherwise.
    exprs["requests"] = (
        "'1'" if exprs["requests"] == "NULL" else f"coalesce({exprs['requests']}, '1')"
    )
    return exprs
