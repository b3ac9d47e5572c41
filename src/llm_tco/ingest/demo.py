"""A realistic synthetic request log for demos, tests and benchmarks (``llm-tco demo-logs``).

Traffic follows a daily cycle (quiet at night, busiest mid-afternoon UTC), halves at weekends,
has a few burst hours, mixes several models, workloads and keys, uses prompt caching and the
batch API for part of it, and carries a small share of malformed rows of every kind the ingester
rejects. Token counts are log-normal. The same seed gives the same file.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from llm_tco.ingest.canonical import quote_literal

MODELS = ("gpt-4o-mini", "claude-haiku-4-5", "gpt-4.1", "claude-sonnet-4-5", "llama-3.3-70b-local")
MODEL_WEIGHTS = (0.45, 0.2, 0.15, 0.1, 0.1)
WORKLOADS = ("support-bot", "summarise", "rag-search")
KEYS = ("key-prod", "key-staging")
BAD_KINDS = ("missing_tokens", "negative_tokens", "bad_timestamp", "duplicate_request_id")


@dataclass(frozen=True)
class DemoSpec:
    rows: int = 100_000
    days: int = 59  # 2025-01-01 .. 2025-02-28: two whole months
    start: dt.date = dt.date(2025, 1, 1)
    seed: int = 7
    bad_share: float = 0.001  # share of rows made malformed, spread over BAD_KINDS
    broken_lines: int = 3  # lines that are not parseable at all, appended at the end


def hour_weights(days: int, start: dt.date, rng: np.random.Generator) -> np.ndarray:
    """Relative load of every hour of the span: daily sine cycle, weekend dip, bursts."""
    hours = np.arange(days * 24)
    hour_of_day = hours % 24
    # Peak at 15:00 UTC, trough at 03:00: 1 + 0.8 * cos(2*pi*(h - 15)/24).
    weights = 1.0 + 0.8 * np.cos(2 * np.pi * (hour_of_day - 15) / 24)
    weekday = (start.weekday() + hours // 24) % 7
    weights = np.where(weekday >= 5, weights * 0.5, weights)
    bursts = rng.choice(hours.size, size=max(1, days // 10), replace=False)
    weights[bursts] *= 4.0
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def _columns(spec: DemoSpec) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(spec.seed)
    n = spec.rows
    hour = rng.choice(spec.days * 24, size=n, p=hour_weights(spec.days, spec.start, rng))
    start_s = int(
        dt.datetime(spec.start.year, spec.start.month, spec.start.day, tzinfo=dt.UTC).timestamp()
    )
    epoch_s = start_s + hour.astype(np.int64) * 3600 + rng.integers(0, 3600, size=n)
    input_tokens = np.rint(rng.lognormal(6.5, 0.8, size=n)).astype(np.int64) + 1
    output_tokens = np.rint(rng.lognormal(5.0, 0.7, size=n)).astype(np.int64) + 1
    cached = np.where(
        rng.random(n) < 0.3, np.floor(input_tokens * rng.uniform(0.3, 0.9, size=n)), 0
    ).astype(np.int64)
    bad = np.full(n, -1, dtype=np.int8)
    n_bad = int(n * spec.bad_share)
    if n_bad:
        bad_rows = rng.choice(np.arange(1, n), size=n_bad, replace=False)
        bad[bad_rows] = rng.integers(0, len(BAD_KINDS), size=n_bad)
    return {
        "i": np.arange(n, dtype=np.int64),
        "epoch_s": np.sort(epoch_s),
        "model_i": rng.choice(len(MODELS), size=n, p=MODEL_WEIGHTS).astype(np.int8),
        "tag_i": rng.integers(0, len(WORKLOADS), size=n).astype(np.int8),
        "key_i": (rng.random(n) < 0.1).astype(np.int8),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cached_input_tokens": cached,
        "batch": rng.random(n) < 0.1,
        "bad": bad,
    }


def _select_sql() -> str:
    """Rows as the generic format's columns, with the malformed kinds applied."""

    def names(values: tuple[str, ...]) -> str:
        return "[" + ", ".join(quote_literal(v) for v in values) + "]"

    return f"""SELECT
        'req-' || lpad(CAST(CASE WHEN bad = 3 THEN i - 1 ELSE i END AS VARCHAR), 9, '0')
            AS request_id,
        CASE WHEN bad = 2 THEN 'not-a-time'
            ELSE strftime(make_timestamp(epoch_s * 1000000), '%Y-%m-%dT%H:%M:%SZ') END
            AS timestamp,
        {names(MODELS)}[model_i + 1] AS model,
        {names(WORKLOADS)}[tag_i + 1] AS workload,
        {names(KEYS)}[key_i + 1] AS api_key,
        CASE WHEN bad = 0 THEN NULL WHEN bad = 1 THEN -input_tokens ELSE input_tokens END
            AS input_tokens,
        output_tokens, cached_input_tokens, batch
        FROM demo_columns ORDER BY i"""


def write_demo_log(path: Path, spec: DemoSpec = DemoSpec(), file_format: str | None = None) -> int:
    """Write the demo log to ``path`` as CSV, JSON lines or Parquet (by ``file_format`` or the
    file's extension); returns the number of rows written."""
    kind = file_format or {".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl"}.get(
        path.suffix.lower(), "csv"
    )
    options = {
        "csv": "FORMAT csv, HEADER true",
        "jsonl": "FORMAT json",
        "parquet": "FORMAT parquet, COMPRESSION zstd",
    }[kind]
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        con.register("demo_columns", _columns(spec))
        select = _select_sql()
        if kind == "parquet":
            # Parquet keeps a real timestamp type, as exports do; a bad time becomes NULL.
            select = (
                "SELECT * REPLACE (TRY_CAST(timestamp AS TIMESTAMPTZ) AS timestamp) "
                f"FROM ({select})"
            )
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"COPY ({select}) TO {quote_literal(str(path))} ({options})")
    finally:
        con.close()
    if kind != "parquet" and spec.broken_lines:
        _append_broken_lines(path, kind, spec.broken_lines)
        return spec.rows + spec.broken_lines
    return spec.rows


def _append_broken_lines(path: Path, kind: str, count: int) -> None:
    """Lines a reader cannot parse: a truncated JSON object, a CSV row with too many fields."""
    good = {"request_id": "req-broken", "timestamp": "2025-01-05T10:00:00Z", "model": MODELS[0]}
    with path.open("a", encoding="utf-8") as handle:
        for index in range(count):
            if kind == "jsonl":
                handle.write(json.dumps(good)[: -5 - index] + "\n")
            else:
                handle.write(f"req-broken-{index},2025-01-05T10:00:00Z,{MODELS[0]},x,y,1,2,3,4,5\n")
