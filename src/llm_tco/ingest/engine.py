"""The embedded engine: read every input with DuckDB, validate rows, aggregate to an hourly cube.

One pass over the data gives, per (group, model, hour, batch), the request and token sums, and
per rejection reason a count and two sample rows. Everything the summary shows is computed from
that small cube (``summary.py``), so the warehouse path (``warehouse.py``) only has to produce
the same cube.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from llm_tco.errors import LogFormatError
from llm_tco.ingest import per_request, prefix
from llm_tco.ingest.canonical import quote_literal
from llm_tco.ingest.model import CubeKey, CubeRow, RejectCount, Scan
from llm_tco.ingest.readers import ReaderSql, reader_sql
from llm_tco.ingest.reasons import (
    DUPLICATE,
    EARLIEST_S,
    FUTURE_SLACK_S,
    LATEST_S,
    MAX_TOKENS_PER_REQUEST,
    MAX_TOKENS_PER_ROW,
    OUTLIER,
    REJECT_REASONS,
)
from llm_tco.ingest.sources import open_source

GROUP_BY = {"model": "model", "workload-tag": "tag", "key": "key"}
# Traffic separated from the rest of the log by a year without a single row is an outlier
# cluster when it holds at most OUTLIER_SHARE of the rows: a stray timestamp (a clock reset to
# 2001, say) is rejected as `outlier_timestamp` instead of stretching the window; sparse logs
# with gaps of weeks or months, and real second periods, are kept.
OUTLIER_GAP_HOURS = 365 * 24
OUTLIER_SHARE = 0.01
MEMORY_LIMIT = "1GB"
ProgressCallback = Callable[[float], None]

REASONS = tuple(REJECT_REASONS)


def connect(spill: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that spills to ``spill`` (a folder of this run's own) instead of
    growing past ``MEMORY_LIMIT``."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = {quote_literal(str(spill))}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    return con


def scan_files(
    paths: Sequence[Path],
    *,
    format_name: str = "auto",
    by: str | None = None,
    mapping: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    cache_ttl_s: float = prefix.CACHE_TTL_S,
) -> Scan:
    """Read ``paths`` (each auto-detected or read as ``format_name``) into a :class:`Scan`;
    ``cache_ttl_s`` is the prefix-cache lifetime the reuse measure assumes (``prefix.py``)."""
    if by is not None and by not in GROUP_BY:
        raise LogFormatError(
            f"unknown grouping '{by}'", field="--by", hint="model, workload-tag, key"
        )
    with tempfile.TemporaryDirectory(prefix="llm-tco-duckdb-") as spill:
        return _scan(paths, format_name, by, mapping, progress, Path(spill), cache_ttl_s)


def _scan(
    paths: Sequence[Path],
    format_name: str,
    by: str | None,
    mapping: Mapping[str, str] | None,
    progress: ProgressCallback | None,
    spill: Path,
    cache_ttl_s: float,
) -> Scan:
    con = connect(spill)
    try:
        readers = []
        for index, path in enumerate(paths):
            source = open_source(Path(path), index)
            readers.append((source, reader_sql(con, source, format_name, mapping or {})))
        typed = [_typed_sql(con, r) for _, r in readers]
        if progress is not None:
            progress(0.0)
        dedupe = _find_duplicate_ids(con, [r for _, r in readers])
        query = _cube_sql(typed, by, dedupe)
        rows = _run(con, query, progress, share=(30.0, 100.0) if dedupe else (0.0, 100.0))
        malformed = [
            _csv_rejects(con, s.rejects_table) for s, _ in readers if s.kind in ("csv", "jsonl")
        ]
        per_request_rows = _per_request(rows)
        reuse = None
        if per_request_rows or any(r.has_prompt for _, r in readers):
            per_request.create_table(con, typed, _group_sql(by), dedupe)
        if any(r.has_prompt for _, r in readers):
            reuse = prefix.reuse_by_cell(con, per_request.TABLE, cache_ttl_s)
        minutes = per_request.minute_series(con) if per_request_rows else {}
        shapes = per_request.shapes(con, minutes) if per_request_rows else {}
    except duckdb.Error as exc:
        message = str(exc).strip().splitlines()[0]
        raise LogFormatError(f"cannot read logs: {message}") from exc
    finally:
        con.close()
    formats = sorted({r.format for _, r in readers})
    scan = to_scan(rows, malformed, formats, reuse)
    return scan.model_copy(update={"shapes": shapes, "minutes": minutes})


def _group_sql(by: str | None) -> str:
    return f"coalesce({GROUP_BY[by]}, '(none)')" if by else "'all'"


def _per_request(rows: Sequence[tuple[Any, ...]]) -> bool:
    """Whether every valid row of the cube query is one request (not a usage bucket)."""
    valid = [r for r in rows if r[0] is None]
    return bool(valid) and all(
        float(r[17] or 0) == 0 and r[10] is not None and float(r[10]) == float(r[9]) for r in valid
    )


def _typed_sql(con: duckdb.DuckDBPyConnection, reader: ReaderSql) -> str:
    """Convert one file's canonical text/native columns to numbers and a rejection reason."""
    types = {
        name: str(kind).upper()
        for name, kind, *_ in con.execute(f"DESCRIBE {reader.sql}").fetchall()
    }

    def present(col: str) -> str:
        if types[col] == "VARCHAR":
            return f"({col} IS NOT NULL AND {col} <> '')"
        return f"({col} IS NOT NULL)"

    def number(col: str) -> str:
        if types[col] == "VARCHAR":
            return f"TRY_CAST({col} AS DOUBLE)"  # the cast itself ignores surrounding spaces
        if types[col] == "BOOLEAN":
            return f"CAST({col} AS DOUBLE)"
        return f"TRY_CAST({col} AS DOUBLE)"

    def finite(expr: str) -> str:
        return f"(CASE WHEN isfinite({expr}) THEN {expr} END)"

    ts = _epoch_seconds("ts", types["ts"])
    future = int(time.time()) + FUTURE_SLACK_S
    batch = (
        "coalesce(batch, FALSE)"
        if types["batch"] == "BOOLEAN"
        else "coalesce(lower(trim(CAST(batch AS VARCHAR))) "
        "IN ('true', '1', 'yes', 't', 'batch'), FALSE)"
    )
    # The limit per request, times the requests a row stands for; a row that does not say how
    # many (a usage bucket of unknown count) is held to the per-row limit.
    limit = (
        f"(CASE WHEN req_n IS NULL THEN {MAX_TOKENS_PER_ROW} "
        f"ELSE {MAX_TOKENS_PER_REQUEST} * greatest(req_n, 1) END)"
    )
    reason = f"""CASE
        WHEN malformed THEN 'malformed_line'
        WHEN skipped IS NOT NULL THEN 'skip:' || skipped
        WHEN NOT {present("input_tokens")} OR NOT {present("output_tokens")} THEN 'missing_tokens'
        WHEN in_n IS NULL OR out_n IS NULL
            OR ({present("cached_input_tokens")} AND cached_n IS NULL)
            OR ({present("requests")} AND req_n IS NULL) THEN 'non_numeric_tokens'
        WHEN NOT isfinite(in_n) OR NOT isfinite(out_n) OR NOT isfinite(coalesce(cached_n, 0))
            OR NOT isfinite(coalesce(req_n, 0)) THEN 'non_finite_tokens'
        WHEN in_n < 0 OR out_n < 0 OR cached_n < 0 OR req_n < 0 THEN 'negative_tokens'
        WHEN greatest(in_n, out_n) > {limit} OR req_n > {MAX_TOKENS_PER_ROW}
            THEN 'too_many_tokens'
        WHEN cached_n > in_n THEN 'cached_exceeds_input'
        WHEN NOT {present("ts")} THEN 'missing_timestamp'
        WHEN ts_s IS NULL OR NOT isfinite(ts_s) OR ts_s < {EARLIEST_S} OR ts_s >= {LATEST_S}
            THEN 'bad_timestamp'
        WHEN ts_s > {future} THEN 'future_timestamp'
    END"""
    sample = (
        "CASE WHEN malformed THEN raw ELSE concat_ws(' ', 'id=' || CAST(request_id AS VARCHAR), "
        "'ts=' || CAST(ts AS VARCHAR), 'model=' || CAST(model AS VARCHAR), "
        "'input=' || CAST(input_tokens AS VARCHAR), 'output=' || CAST(output_tokens AS VARCHAR), "
        "'cached=' || CAST(cached_input_tokens AS VARCHAR)) END"
    )
    numbers = f"""SELECT *,
        {number("input_tokens")} AS in_n, {number("output_tokens")} AS out_n,
        {number("cached_input_tokens")} AS cached_n, {number("requests")} AS req_n,
        {finite(number("billed_usd"))} AS billed_n, {finite(number("bucket_seconds"))} AS bucket_n,
        {ts} AS ts_s, {batch} AS batch_b
        FROM ({reader.sql})"""
    with_reason = f"SELECT *, {reason} AS reason FROM ({numbers})"
    return f"""SELECT CAST(request_id AS VARCHAR) AS request_id,
        CAST(model AS VARCHAR) AS model, CAST(tag AS VARCHAR) AS tag, CAST(key AS VARCHAR) AS key,
        in_n, out_n, cached_n, req_n, billed_n, bucket_n, ts_s, batch_b, reason,
        {finite(number("cache_write_tokens"))} AS cache_write_n,
        CAST(prompt AS VARCHAR) AS prompt, CAST(prompt_hash AS VARCHAR) AS prompt_hash,
        CASE WHEN reason IS NOT NULL THEN left({sample}, 300) END AS sample
        FROM ({with_reason})"""


def _epoch_seconds(col: str, kind: str) -> str:
    """Unix seconds from text (ISO 8601 or an epoch number), a timestamp or a number.

    Epoch numbers are read by magnitude: nanoseconds (OTLP), microseconds, milliseconds or
    seconds.
    """
    numeric = (
        "CASE WHEN abs({n}) >= 1e17 THEN {n} / 1e9 WHEN abs({n}) >= 1e14 THEN {n} / 1e6 "
        "WHEN abs({n}) >= 1e11 THEN {n} / 1e3 ELSE {n} END"
    )
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        return f"epoch(CAST({col} AS TIMESTAMPTZ))"
    if kind != "VARCHAR":
        return numeric.format(n=f"TRY_CAST({col} AS DOUBLE)")
    # ISO 8601 text has '-' after a four-digit year; anything else is tried as an epoch number.
    # (Testing the fifth character is far cheaper than a cast that fails on every row.)
    return (
        f"CASE WHEN {col}[5] = '-' THEN epoch(TRY_CAST({col} AS TIMESTAMPTZ)) "
        f"ELSE {numeric.format(n=f'TRY_CAST({col} AS DOUBLE)')} END"
    )


def _find_duplicate_ids(con: duckdb.DuckDBPyConnection, readers: Sequence[ReaderSql]) -> bool:
    """First pass: hashes of request ids seen more than once, into table ``duplicate_ids``.

    Ids are compared by their 64-bit hash (the chance that two of 10^7 distinct ids collide is
    about 3e-6), and the hashes are sorted with numpy: neighbours that are equal are the
    duplicates. That is about twice as fast as a hash ``GROUP BY`` over ten million ids.
    Returns False when no input carries request ids.
    """
    with_ids = [r.sql for r in readers if r.has_request_id]
    if not with_ids:
        return False
    union = " UNION ALL ".join(f"SELECT request_id FROM ({sql})" for sql in with_ids)
    hashes = con.execute(
        f"SELECT hash(CAST(request_id AS VARCHAR)) AS rid FROM ({union}) "
        "WHERE request_id IS NOT NULL"
    ).fetchnumpy()["rid"]
    hashes = np.sort(np.asarray(hashes, dtype=np.uint64))
    repeated = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
    con.register("duplicate_hashes", {"rid": repeated})
    con.execute("CREATE OR REPLACE TEMP TABLE duplicate_ids AS SELECT rid FROM duplicate_hashes")
    return True


def _cube_sql(typed: Sequence[str], by: str | None, dedupe: bool) -> str:
    """One pass: valid rows summed per (group, model, hour, batch); rejected rows per reason.

    Valid rows whose id is duplicated keep their id and ordering fields as extra keys, so that
    ``_resolve_duplicates`` can keep the first copy of each and reject the rest.
    """
    union = " UNION ALL ".join(f"({t})" for t in typed)
    group = _group_sql(by)
    candidate = (
        "(reason IS NULL AND request_id IS NOT NULL AND hash(request_id) IN "
        "(SELECT rid FROM duplicate_ids))"
        if dedupe
        else "FALSE"
    )
    keep = "CASE WHEN reason IS NULL THEN {} END"
    dup = "CASE WHEN is_candidate THEN {} END"
    return f"""SELECT reason,
        {keep.format(group)} AS grp, {keep.format("coalesce(model, '(unknown)')")} AS model,
        {keep.format("CAST(floor(ts_s / 3600) AS BIGINT)")} AS hour,
        {keep.format("batch_b")} AS batch,
        {dup.format("hash(request_id)")} AS dup_rid, {dup.format("ts_s")} AS dup_ts,
        {dup.format("in_n")} AS dup_in, {dup.format("out_n")} AS dup_out,
        count(*) AS n_rows,
        sum(req_n) AS requests, count(req_n) AS requests_known,
        sum(in_n) AS input_tokens, sum(out_n) AS output_tokens,
        sum(coalesce(cached_n, 0)) AS cached_input_tokens,
        sum(billed_n) AS billed_usd, count(billed_n) AS billed_rows,
        max(coalesce(bucket_n, 0)) AS bucket_seconds,
        sum(coalesce(cache_write_n, 0)) AS cache_write_tokens,
        min(coalesce(sample, {dup.format("'id=' || request_id")})) AS sample_a,
        max(coalesce(sample, {dup.format("'id=' || request_id")})) AS sample_b
        FROM (SELECT *, {candidate} AS is_candidate FROM ({union})) GROUP BY ALL"""


def _run(
    con: duckdb.DuckDBPyConnection,
    query: str,
    progress: ProgressCallback | None,
    share: tuple[float, float] = (0.0, 100.0),
) -> list[tuple[object, ...]]:
    """Run ``query``; while it runs, report DuckDB's own progress estimate mapped into
    ``share`` of the whole job (percent)."""
    if progress is None:
        return con.execute(query).fetchall()
    result: dict[str, object] = {}

    def work() -> None:
        try:
            result["rows"] = con.execute(query).fetchall()
        except BaseException as exc:  # re-raised in the calling thread
            result["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.2)
        try:
            done = con.query_progress()
        except duckdb.Error:
            done = -1
        if done >= 0:
            progress(share[0] + (share[1] - share[0]) * float(done) / 100.0)
    progress(share[1])
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["rows"]  # type: ignore[return-value]


def _csv_rejects(con: duckdb.DuckDBPyConnection, table: str) -> RejectCount:
    """Lines the CSV reader could not split into the header's columns."""
    try:
        count, sample_a, sample_b = con.execute(
            f"SELECT count(DISTINCT line), min(csv_line), max(csv_line) FROM {table}"
        ).fetchone() or (0, None, None)
    except duckdb.CatalogException:
        return RejectCount(reason="malformed_line", rows=0)
    samples = [s for s in dict.fromkeys([sample_a, sample_b]) if s]
    return RejectCount(reason="malformed_line", rows=int(count), samples=samples)


_FIELDS = (
    "rows",
    "requests",
    "requests_known",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "billed_usd",
    "billed_rows",
    "bucket_seconds",
    "cache_write_tokens",
)
# Sums the per-request pass adds to the cube cells (``prefix.reuse_by_cell``).
REUSE_FIELDS = ("reused_input_tokens", "reuse_measured_input_tokens", "reuse_measured_requests")


def to_scan(
    rows: Sequence[tuple[Any, ...]],
    malformed: Sequence[RejectCount],
    formats: list[str],
    reuse: Mapping[CubeKey, Sequence[float]] | None = None,
) -> Scan:
    """Turn the cube query's result rows (columns as in ``_cube_sql``) into a :class:`Scan`;
    ``reuse`` adds the prefix-reuse sums (``REUSE_FIELDS``) of each cube cell."""
    cube: dict[CubeKey, dict[str, float]] = {}
    rejects: dict[str, RejectCount] = {}
    for extra in malformed:
        _add_reject(rejects, extra.reason, extra.rows, extra.samples)
    candidates: dict[object, list[tuple[Any, ...]]] = {}
    for row in rows:
        reason, dup_rid = row[0], row[5]
        if reason is not None:
            samples = [str(x) for x in dict.fromkeys(row[-2:]) if x]
            _add_reject(rejects, str(reason), int(row[9]), samples)
        elif dup_rid is not None:
            candidates.setdefault(dup_rid, []).append(row)
        else:
            _accumulate(cube, row, 1.0)
    for copies in candidates.values():
        # Keep one copy of the earliest (then smallest) row; every other copy is a duplicate.
        copies.sort(key=lambda r: (r[6], r[7], r[8]))
        first = copies[0]
        _accumulate(cube, first, 1.0 / int(first[9]))
        duplicates = sum(int(r[9]) for r in copies) - 1
        _add_reject(rejects, DUPLICATE, duplicates, [str(first[-2])])
    for key, sums in (reuse or {}).items():
        if key in cube:
            cube[key].update(zip(REUSE_FIELDS, (float(v) for v in sums), strict=True))
    _reject_time_outliers(cube, rejects)
    rejected = [r for r in rejects.values() if not r.reason.startswith("skip:")]
    skipped = [
        r.model_copy(update={"reason": r.reason.removeprefix("skip:")})
        for r in rejects.values()
        if r.reason.startswith("skip:")
    ]
    cube_rows = [
        CubeRow(
            group=key[0],
            model=key[1],
            hour=key[2],
            batch=key[3],
            rows=round(acc["rows"]),
            requests=acc["requests"],
            requests_known=acc["requests_known"] >= acc["rows"] - 1e-9,
            input_tokens=acc["input_tokens"],
            output_tokens=acc["output_tokens"],
            cached_input_tokens=acc["cached_input_tokens"],
            billed_usd=acc["billed_usd"] if acc["billed_rows"] else None,
            billed_rows=round(acc["billed_rows"]),
            bucket_seconds=acc["bucket_seconds"],
            cache_write_tokens=acc["cache_write_tokens"],
            reused_input_tokens=acc["reused_input_tokens"],
            reuse_measured_input_tokens=acc["reuse_measured_input_tokens"],
            reuse_measured_requests=acc["reuse_measured_requests"],
        )
        for key, acc in sorted(cube.items())
    ]
    return Scan(cube=cube_rows, rejected=rejected, skipped=skipped, formats=formats)


def _reject_time_outliers(
    cube: dict[CubeKey, dict[str, float]], rejects: dict[str, RejectCount]
) -> None:
    """Move outlier clusters of hours (see OUTLIER_GAP_HOURS) from the cube to the rejects."""
    rows_by_hour: dict[int, float] = {}
    for (_, _, hour, _), acc in cube.items():
        rows_by_hour[hour] = rows_by_hour.get(hour, 0.0) + acc["rows"]
    if not rows_by_hour:
        return
    clusters: list[list[int]] = []
    for hour in sorted(rows_by_hour):
        if clusters and hour - clusters[-1][-1] <= OUTLIER_GAP_HOURS:
            clusters[-1].append(hour)
        else:
            clusters.append([hour])
    if len(clusters) < 2:
        return
    total = sum(rows_by_hour.values())
    sizes = [sum(rows_by_hour[h] for h in cluster) for cluster in clusters]
    main = max(range(len(clusters)), key=lambda i: sizes[i])
    limit = max(1.0, OUTLIER_SHARE * total)
    outliers = {
        hour
        for i, cluster in enumerate(clusters)
        if i != main and sizes[i] <= limit
        for hour in cluster
    }
    if not outliers:
        return
    moved = 0.0
    samples = []
    for key in [k for k in cube if k[2] in outliers]:
        moved += cube.pop(key)["rows"]
        stamp = dt.datetime.fromtimestamp(key[2] * 3600, dt.UTC).strftime("%Y-%m-%dT%H:00Z")
        samples.append(f"hour {stamp}, model={key[1]}")
    _add_reject(rejects, OUTLIER, round(moved), sorted(samples)[:3])


def _accumulate(cube: dict[CubeKey, dict[str, float]], row: tuple[Any, ...], scale: float) -> None:
    """Add a result row (scaled: 1/n keeps one of n identical copies) into its cube cell."""
    key = (str(row[1]), str(row[2]), int(row[3]), bool(row[4]))
    values = [float(v or 0.0) for v in row[9 : 9 + len(_FIELDS)]]
    acc = cube.setdefault(key, dict.fromkeys(_FIELDS + REUSE_FIELDS, 0.0))
    for name, value in zip(_FIELDS, values, strict=True):
        if name == "bucket_seconds":
            acc[name] = max(acc[name], value)
        else:
            acc[name] += value * scale


def _add_reject(into: dict[str, RejectCount], reason: str, rows: int, samples: list[str]) -> None:
    if rows == 0:
        return
    if reason in into:
        old = into[reason]
        into[reason] = RejectCount(
            reason=reason, rows=old.rows + rows, samples=(old.samples + samples)[:3]
        )
    else:
        into[reason] = RejectCount(reason=reason, rows=rows, samples=samples[:3])
