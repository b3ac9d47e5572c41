"""The file engine's second pass: each valid request once, for what the hourly cube cannot say.

From the valid rows (each request id once, the same copy the cube keeps) the pass counts
requests per UTC minute (the arrivals that trace sizing replays, and the per-minute figures of
``RequestShape``), requests per token-length bucket (``shape.LENGTH_EDGES``, the same buckets
the warehouse path counts) and, where prompts or prompt hashes are logged, prefix reuse
(``prefix.py``). Only logs of single requests have a shape: usage buckets (OpenAI's and
Anthropic's usage exports) say nothing about arrivals inside a bucket.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import duckdb

from llm_tco.ingest.model import MinuteSeries, ShapeCounts
from llm_tco.ingest.shape import LENGTH_EDGES

TABLE = "single_requests"


def create_table(
    con: duckdb.DuckDBPyConnection, typed: Sequence[str], group: str, dedupe: bool
) -> None:
    """Table ``single_requests``: one row per valid request (group, model, hour, batch, time,
    tokens, prompt, prompt hash). Of the copies of a repeated id it keeps the earliest, then
    smallest, as ``engine.to_scan`` does."""
    union = " UNION ALL ".join(f"({t})" for t in typed)
    valid = f"""SELECT {group} AS grp, coalesce(model, '(unknown)') AS model,
        CAST(floor(ts_s / 3600) AS BIGINT) AS hour, batch_b AS batch, ts_s, in_n, out_n,
        prompt, prompt_hash, request_id FROM ({union}) WHERE reason IS NULL"""
    if dedupe:
        repeated = "request_id IS NOT NULL AND hash(request_id) IN (SELECT rid FROM duplicate_ids)"
        valid = f"""SELECT * FROM ({valid}) WHERE NOT ({repeated})
            UNION ALL SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (
                PARTITION BY hash(request_id) ORDER BY ts_s, in_n, out_n) AS rn
                FROM ({valid}) WHERE {repeated}) WHERE rn = 1"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TABLE} AS {valid}")


def bucket_sql(x: str, low: int = 0, high: int = len(LENGTH_EDGES)) -> str:
    """Index of the ``LENGTH_EDGES`` bucket holding ``x``: the same balanced tree of
    comparisons as the warehouse path's ``_bucket``."""
    if high - low == 1:
        return str(low)
    mid = (low + high) // 2
    return (
        f"CASE WHEN {x} < {LENGTH_EDGES[mid]} THEN {bucket_sql(x, low, mid)} "
        f"ELSE {bucket_sql(x, mid, high)} END"
    )


def minute_series(con: duckdb.DuckDBPyConnection) -> dict[str, MinuteSeries]:
    """Requests and tokens in every UTC minute from each group's first to its last request."""
    rows = con.execute(
        f"SELECT grp, CAST(floor(ts_s / 60) AS BIGINT) AS minute, count(*), sum(in_n), "
        f"sum(out_n) FROM {TABLE} GROUP BY ALL ORDER BY grp, minute"
    ).fetchall()
    by_group: dict[str, list[tuple[int, int, float, float]]] = {}
    for grp, minute, n, tokens_in, tokens_out in rows:
        by_group.setdefault(str(grp), []).append(
            (int(minute), int(n), float(tokens_in), float(tokens_out))
        )
    series = {}
    for grp, minutes in by_group.items():
        first = minutes[0][0]
        width = minutes[-1][0] - first + 1
        requests, tokens_in, tokens_out = [0] * width, [0.0] * width, [0.0] * width
        for minute, n, a, b in minutes:
            requests[minute - first] = n
            tokens_in[minute - first] = a
            tokens_out[minute - first] = b
        series[grp] = MinuteSeries(
            first_minute=first,
            requests=requests,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
        )
    return series


def shapes(
    con: duckdb.DuckDBPyConnection, series: dict[str, MinuteSeries]
) -> dict[str, ShapeCounts]:
    """The counts the warehouse path returns (``ShapeCounts``), per group."""
    width = len(LENGTH_EDGES)
    hist: dict[str, tuple[list[int], list[int]]] = {}
    rows = con.execute(
        f"SELECT grp, {bucket_sql('in_n')} AS ib, {bucket_sql('out_n')} AS ob, count(*) "
        f"FROM {TABLE} GROUP BY ALL"
    ).fetchall()
    for grp, ib, ob, n in rows:
        ins, outs = hist.setdefault(str(grp), ([0] * width, [0] * width))
        ins[int(ib)] += int(n)
        outs[int(ob)] += int(n)
    result = {}
    for grp in sorted(set(series) | set(hist)):
        counts = Counter(n for n in series[grp].requests if n > 0) if grp in series else Counter()
        ins, outs = hist.get(grp, ([0] * width, [0] * width))
        result[grp] = ShapeCounts(
            minute_counts=sorted(counts.items()), input_histogram=ins, output_histogram=outs
        )
    return result
