"""Helicone request export (``helicone-export`` / ``POST /v1/request/query``; JSON, JSONL, CSV).

Documented fields used: ``request_id``, ``request_created_at``, ``request_model``,
``response_model``, ``prompt_tokens``, ``completion_tokens``, ``total_tokens``, ``costUSD``,
``request_user_id``, ``provider``. ``prompt_cache_read_tokens`` is read when present.
"""

from __future__ import annotations

from collections.abc import Callable

SIGNATURES = (("costUSD",), ("request_created_at", "prompt_tokens"))


def fields(get: Callable[..., str]) -> dict[str, str]:
    return {
        "request_id": get("$.request_id"),
        "ts": get("$.request_created_at"),
        "model": get("$.response_model", "$.request_model", "$.model"),
        "input_tokens": get("$.prompt_tokens"),
        "output_tokens": get("$.completion_tokens"),
        "cached_input_tokens": get("$.prompt_cache_read_tokens"),
        "requests": "1",
        "key": get("$.request_user_id"),
        "billed_usd": get("$.costUSD", "$.cost"),
    }
