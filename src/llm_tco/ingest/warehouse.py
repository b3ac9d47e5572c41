"""The warehouse path: the same validation and hourly cube, expressed in Ibis.

Teams whose request logs already sit in BigQuery, Snowflake, ClickHouse, Postgres, Trino or
Spark point ``--backend`` at an Ibis connection URL and ``--table`` at the log table; the
aggregation runs inside the warehouse and only the small cube comes back. The table needs the
generic format's column names (or ``--map``) with typed columns: numbers for token counts and
a timestamp (or ISO 8601 text) for the time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from llm_tco.errors import LogFormatError
from llm_tco.ingest.engine import EARLIEST_S, GROUP_BY, LATEST_S, to_scan
from llm_tco.ingest.generic import ALIASES
from llm_tco.ingest.model import Scan

_EARLIEST = dt.datetime.fromtimestamp(EARLIEST_S, dt.UTC).replace(tzinfo=None)
_LATEST = dt.datetime.fromtimestamp(LATEST_S, dt.UTC).replace(tzinfo=None)


def _ibis() -> Any:
    try:
        import ibis
    except ImportError as exc:
        raise LogFormatError(
            "reading a warehouse needs Ibis",
            field="--backend",
            hint="pip install 'llm-tco[warehouse]' plus the backend's extra",
        ) from exc
    return ibis


def _resolve(columns: list[str], mapping: Mapping[str, str]) -> dict[str, str]:
    """Canonical column -> table column, from ``--map`` first, then the usual names."""
    by_lower = {c.lower(): c for c in columns}
    found: dict[str, str] = {}
    for canonical, names in ALIASES.items():
        wanted = [mapping[canonical]] if canonical in mapping else list(names)
        for name in wanted:
            if name.lower() in by_lower:
                found[canonical] = by_lower[name.lower()]
                break
    missing = [c for c in ("ts", "input_tokens", "output_tokens") if c not in found]
    if missing:
        raise LogFormatError(
            f"no column for {', '.join(missing)} in the table",
            field="--table",
            hint="name them with --map ts=COLUMN,input_tokens=COLUMN,output_tokens=COLUMN",
        )
    return found


def scan_table(url: str, table: str, *, by: str | None, mapping: Mapping[str, str]) -> Scan:
    """Validate and aggregate ``table`` inside the warehouse at ``url``."""
    ibis = _ibis()
    if by is not None and by not in GROUP_BY:
        raise LogFormatError(
            f"unknown grouping '{by}'", field="--by", hint="model, workload-tag, key"
        )
    try:
        con = ibis.connect(url)
        t = con.table(table)
    except Exception as exc:  # each backend raises its own types
        raise LogFormatError(
            f"cannot open table '{table}': {_first_line(exc)}", field="--backend"
        ) from exc
    cols = _resolve(list(t.columns), mapping)
    try:
        rows = _cube(ibis, t, cols, by)
    except Exception as exc:
        raise LogFormatError(
            f"warehouse query failed: {_first_line(exc)}", field="--backend"
        ) from exc
    return to_scan(rows, [], ["warehouse"])


def _cube(ibis: Any, t: Any, cols: dict[str, str], by: str | None) -> list[tuple[Any, ...]]:
    def col(name: str, kind: str) -> Any:
        return t[cols[name]].cast(kind) if name in cols else ibis.null().cast(kind)

    in_n, out_n = col("input_tokens", "float64"), col("output_tokens", "float64")
    cached_n = col("cached_input_tokens", "float64")
    ts = t[cols["ts"]]
    ts = ts if ts.type().is_timestamp() else ts.cast("timestamp")
    reason = ibis.cases(
        (in_n.isnull() | out_n.isnull(), "missing_tokens"),
        ((in_n < 0) | (out_n < 0) | (cached_n.fill_null(0) < 0), "negative_tokens"),
        (cached_n.fill_null(0) > in_n, "cached_exceeds_input"),
        (ts.isnull(), "missing_timestamp"),
        ((ts < _EARLIEST) | (ts >= _LATEST), "bad_timestamp"),
        else_=ibis.null().cast("string"),
    )
    request_id = col("request_id", "string")
    group_name = {"model": "model", "workload-tag": "tag", "key": "key"}.get(by or "")
    group = col(group_name, "string").fill_null("(none)") if group_name else ibis.literal("all")
    base = t.mutate(
        _reason=reason,
        _rid=request_id,
        _ts=ts,
        _in=in_n,
        _out=out_n,
        _cached=cached_n.fill_null(0),
        _group=group,
        _model=col("model", "string").fill_null("(unknown)"),
        _batch=col("batch", "boolean").fill_null(False),
        _req=col("requests", "float64").fill_null(1.0),
        _billed=col("billed_usd", "float64"),
    )
    valid = base.filter(base._reason.isnull())
    duplicated = (
        valid.filter(valid._rid.notnull())
        .group_by("_rid")
        .aggregate(n=ibis._.count())
        .filter(ibis._.n > 1)
        .select("_rid")
    )
    candidate = base._reason.isnull() & base._rid.notnull() & base._rid.isin(duplicated._rid)
    ok = base._reason.isnull()

    def keep(value: Any) -> Any:
        return ibis.cases((ok, value), else_=ibis.null().cast(value.type()))

    def dup(value: Any) -> Any:
        return ibis.cases((candidate, value), else_=ibis.null().cast(value.type()))

    keyed = base.mutate(
        k_grp=keep(base._group),
        k_model=keep(base._model),
        k_hour=keep((base._ts.epoch_seconds() // 3600).cast("int64")),
        k_batch=keep(base._batch),
        k_rid=dup(base._rid),
        k_ts=dup(base._ts),
        k_in=dup(base._in),
        k_out=dup(base._out),
    )
    cube = keyed.group_by(
        ["_reason", "k_grp", "k_model", "k_hour", "k_batch", "k_rid", "k_ts", "k_in", "k_out"]
    ).aggregate(
        n_rows=keyed.count(),
        requests=keyed._req.sum(),
        requests_known=keyed._req.count(),
        input_tokens=keyed._in.sum(),
        output_tokens=keyed._out.sum(),
        cached_input_tokens=keyed._cached.sum(),
        billed_usd=keyed._billed.sum(),
        billed_rows=keyed._billed.count(),
        sample_a=keyed._rid.min(),
        sample_b=keyed._rid.max(),
    )
    result = []
    for r in cube.to_pyarrow().to_pylist():
        samples = [None if s is None else f"id={s}" for s in (r["sample_a"], r["sample_b"])]
        result.append(
            (
                r["_reason"],
                r["k_grp"],
                r["k_model"],
                r["k_hour"],
                r["k_batch"],
                r["k_rid"],
                r["k_ts"],
                r["k_in"],
                r["k_out"],
                r["n_rows"],
                r["requests"],
                r["requests_known"],
                r["input_tokens"],
                r["output_tokens"],
                r["cached_input_tokens"],
                r["billed_usd"],
                r["billed_rows"],
                0.0,
                *samples,
            )
        )
    return result


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
