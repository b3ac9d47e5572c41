"""Prefix reuse from logged prompts: the share of input tokens a prefix cache would not recompute.

The measure, as engines with prefix caching reuse work (vLLM's automatic prefix caching hashes
the prompt in fixed blocks, each block's hash covering every token before it, and reuses only
whole blocks: https://docs.vllm.ai/en/latest/design/prefix_caching.html):

* A prompt is cut into blocks of ``BLOCK_CHARS`` characters (64, about 16 tokens at the ~4
  characters per token of English text, vLLM's default block of 16 tokens); a last partial
  block is never reused. At most ``MAX_BLOCKS`` blocks (256K characters) are looked at.
* Block k's key is a hash of the whole prefix up to the end of block k: a polynomial hash
  ``sum(h_j * R^j) mod P`` over the 64-bit hashes ``h_j`` of blocks 1..k (P = 2^61 - 1), so a
  block matches only when everything before it matches too, and DuckDB computes every key
  with one running sum (linear in the prompt's length).
* A block is *reused* when the same key was seen in an earlier request at most ``ttl_s``
  seconds before (default ``CACHE_TTL_S``, 300 s: "The cache's default minimum lifetime (TTL)
  is 5 minutes. This lifetime is refreshed each time the cached content is used", Anthropic,
  https://platform.claude.com/en/docs/build-with-claude/prompt-caching). Every use refreshes
  the lifetime, so the earlier request that counts is the latest one. Cache size limits are
  not modelled: a busy engine may evict sooner.
* A request's reused input tokens are its input tokens times reused characters over prompt
  characters; the share is reused over all input tokens of the requests whose prompt is known.
  Where the log keeps only a hash of the whole prompt, a request whose hash was seen within
  the lifetime counts all its input as reused (exact repeats only: a lower bound on prefix
  reuse).

Requests at the same second are taken in the order of (time, prompt hash, input tokens). The
prompt text stays inside DuckDB for the query; nothing but the sums per cube cell comes out.
"""

from __future__ import annotations

import duckdb
import numpy as np

from llm_tco.ingest.model import CubeKey

BLOCK_CHARS = 64
MAX_BLOCKS = 4096
CACHE_TTL_S = 300.0
_MODULUS = 2**61 - 1  # a Mersenne prime
_RADIX = 1_000_000_007


def _powers_table(con: duckdb.DuckDBPyConnection) -> None:
    powers, value = [], 1
    for _ in range(MAX_BLOCKS):
        value = value * _RADIX % _MODULUS
        powers.append(value)
    con.register(
        "prefix_powers_src",
        {"k": np.arange(1, MAX_BLOCKS + 1, dtype=np.int64), "r": np.array(powers, dtype=np.int64)},
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE prefix_powers AS "
        "SELECT CAST(k AS BIGINT) AS k, CAST(r AS HUGEINT) AS r FROM prefix_powers_src"
    )


def reuse_by_cell(
    con: duckdb.DuckDBPyConnection, table: str, ttl_s: float = CACHE_TTL_S
) -> dict[CubeKey, tuple[float, float, float]]:
    """Per cube cell (group, model, hour, batch): reused input tokens, input tokens of the
    requests whose prompt or prompt hash is known, and how many such requests."""
    _powers_table(con)
    b, p = BLOCK_CHARS, _MODULUS
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE prefix_requests AS
        SELECT row_number() OVER (ORDER BY ts_s, hash(coalesce(prompt, prompt_hash)), in_n)
            AS i, grp, model, hour, batch, ts_s, in_n,
            CASE WHEN prompt IS NOT NULL AND prompt <> '' THEN prompt END AS text,
            CASE WHEN prompt IS NULL OR prompt = '' THEN prompt_hash END AS whole_hash
        FROM {table}
        WHERE (prompt IS NOT NULL AND prompt <> '') OR (prompt_hash IS NOT NULL
            AND prompt_hash <> '')"""
    )
    keys = f"""
        SELECT i, k, sum(term) OVER (PARTITION BY i ORDER BY k ROWS UNBOUNDED PRECEDING) % {p}
            AS key
        FROM (
            SELECT i, k, CAST(hash(substr(text, (k - 1) * {b} + 1, {b})) % {p} AS HUGEINT)
                * r % {p} AS term
            FROM (SELECT i, text, unnest(range(1, CAST(least(floor(length(text) / {b}),
                {MAX_BLOCKS}) AS BIGINT) + 1)) AS k FROM prefix_requests WHERE text IS NOT NULL)
            JOIN prefix_powers USING (k))
        UNION ALL
        SELECT i, 0 AS k, CAST(hash(whole_hash) AS HUGEINT) AS key
        FROM prefix_requests WHERE whole_hash IS NOT NULL"""
    hits = f"""
        SELECT i, count(*) AS hit_blocks FROM (
            SELECT keys.i, ts_s - lag(ts_s) OVER (PARTITION BY k, key ORDER BY ts_s, keys.i)
                AS since
            FROM ({keys}) AS keys JOIN prefix_requests USING (i))
        WHERE since <= {float(ttl_s)} GROUP BY i"""
    rows = con.execute(
        f"""SELECT grp, model, hour, batch,
            sum(CASE WHEN text IS NOT NULL
                THEN in_n * least(1.0, coalesce(hit_blocks, 0) * {b} / length(text))
                ELSE in_n * (coalesce(hit_blocks, 0) > 0)::INT END),
            sum(in_n), count(*)
        FROM prefix_requests LEFT JOIN ({hits}) USING (i) GROUP BY ALL"""
    ).fetchall()
    return {
        (str(g), str(m), int(h), bool(bt)): (float(reused), float(measured), float(n))
        for g, m, h, bt, reused, measured, n in rows
    }
