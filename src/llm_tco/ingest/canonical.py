"""The canonical request-log row every reader produces, and SQL helpers to build it.

Each log format's reader is a SQL ``SELECT`` that yields the columns in ``CANONICAL_COLUMNS``,
as text or native types, so that validation happens once, in the engine, the same way for every
format. Token counts follow OpenAI's convention: ``input_tokens`` *includes* cached input tokens
and ``cached_input_tokens`` is the cached subset.
"""

from __future__ import annotations

from collections.abc import Mapping

# name -> meaning. Readers may leave any of them NULL except where the engine needs them.
CANONICAL_COLUMNS: dict[str, str] = {
    "request_id": "unique id of the request (duplicates are rejected); NULL when unknown",
    "ts": "when the request (or usage bucket) started: ISO 8601 text or a Unix epoch number",
    "model": "model name as logged",
    "input_tokens": "input (prompt) tokens, cached ones included",
    "output_tokens": "output (completion) tokens",
    "cached_input_tokens": "input tokens read from the provider's prompt cache",
    "requests": "requests this row stands for: 1 per logged request, N for a usage bucket",
    "batch": "true when the request went through a batch API",
    "tag": "workload tag (feature, trace name, request tag)",
    "key": "API key or project the request was billed to",
    "billed_usd": "what the log says the request cost, in USD",
    "bucket_seconds": "width of a usage bucket in seconds; NULL for a single request",
    "prompt": "the prompt text (system prompt and messages, in order), read only to hash its "
    "prefixes for prefix reuse; no text is kept",
    "prompt_hash": "a hash of the whole prompt, where the log keeps that instead of the text",
    "cache_write_tokens": "input tokens written to the provider's prompt cache (Anthropic's "
    "cache_creation_input_tokens), included in input_tokens",
    "skipped": "why a row is not an LLM call (a Langfuse span, a non-GenAI trace span); NULL",
    "malformed": "TRUE for a line that could not be parsed at all",
    "raw": "the raw line, for malformed rows (shown as a sample)",
}


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier (so column names such as ``startTime`` keep their case)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def canonical_select(exprs: Mapping[str, str], source: str) -> str:
    """``SELECT`` the canonical columns from ``source``; columns not in ``exprs`` are NULL.

    ``exprs`` maps a canonical column to a SQL expression over ``source``'s columns.
    """
    unknown = set(exprs) - set(CANONICAL_COLUMNS)
    if unknown:
        raise ValueError(f"not canonical columns: {sorted(unknown)}")
    parts = []
    for column in CANONICAL_COLUMNS:
        if column == "malformed":
            parts.append(f"CAST({exprs.get(column, 'FALSE')} AS BOOLEAN) AS malformed")
        elif column in exprs:
            # Native types (Parquet timestamps, integer columns) pass through untouched: the
            # engine converts by type, which is much faster than a round trip through text.
            parts.append(f"{exprs[column]} AS {column}")
        else:
            parts.append(f"CAST(NULL AS VARCHAR) AS {column}")
    return f"SELECT {', '.join(parts)} FROM {source}"


def malformed_select(docs: str) -> str:
    """Canonical rows for the lines of a ``docs`` relation (``doc``, ``bad``, ``raw``) that
    were not valid JSON, so they are counted rather than dropped."""
    return canonical_select({"malformed": "TRUE", "raw": "raw"}, f"{docs} WHERE bad")


def json_text(record: str, *paths: str) -> str:
    """First non-NULL text value among the JSON ``paths`` of ``record``."""
    values = [f"json_extract_string({record}, {quote_literal(p)})" for p in paths]
    return values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"


def sum_or_null(*exprs: str) -> str:
    """Sum of numeric text expressions, NULL when every term is NULL.

    Missing terms count as zero once at least one is present (e.g. Anthropic's cache-creation
    tokens are absent when caching was not used).
    """
    present = " OR ".join(f"{e} IS NOT NULL" for e in exprs)
    invalid = " OR ".join(f"({e} IS NOT NULL AND TRY_CAST({e} AS DOUBLE) IS NULL)" for e in exprs)
    terms = " + ".join(f"coalesce(TRY_CAST({e} AS DOUBLE), 0)" for e in exprs)
    # A term that is present but not a number poisons the sum, so the row is rejected as
    # non-numeric instead of being counted short.
    return (
        f"CASE WHEN {invalid} THEN 'not-a-number' WHEN {present} THEN CAST({terms} AS VARCHAR) END"
    )


def bucket_records(docs: str, start_key: str, end_key: str) -> str:
    """SQL: one record per result of usage-report buckets (``{"data": [{start, end,
    "results": [...]}]}`` pages, as OpenAI's and Anthropic's usage APIs return them), each with
    its bucket's start and end merged in."""
    pages = (
        "(SELECT unnest(CASE WHEN json_type(doc, '$.data') = 'ARRAY' "
        "THEN json_extract(doc, '$.data[*]') ELSE [doc] END) AS bucket "
        f"FROM {docs} WHERE NOT bad)"
    )
    return (
        f"(SELECT json_merge_patch(result, json_object('{start_key}', bucket->'{start_key}', "
        f"'{end_key}', bucket->'{end_key}')) AS rec FROM (SELECT bucket, "
        "unnest(json_extract(bucket, '$.results[*]')) AS result FROM " + pages + "))"
    )
