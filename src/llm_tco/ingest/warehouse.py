"""The warehouse path: validate and aggregate a log table where it lives, through Ibis.

Teams whose request logs already sit in PostgreSQL, ClickHouse, Spark, BigQuery, Snowflake or
Trino point ``--backend`` at an Ibis connection URL and ``--table`` at the log table (or
``--preset`` at a known one: ``presets.PRESETS``). Every aggregate runs inside the backend and
only small results come back: the hourly cube per (group, model, hour, batch) with rejected
rows counted by reason, the number of minutes that saw each per-minute request count, and a
histogram of input x output tokens in fixed buckets. No raw row crosses the wire except the
copies of request ids that occur more than once (to keep the first and reject the rest).

Three results are fetched: the cube (with the ids seen more than once found in a subquery),
per-minute arrivals and the length histogram, plus, only when some ids repeat, the arrivals
in the minutes of their kept copies. On Spark each aggregation is partial per input partition
followed by one shuffle of the partial results; finding repeated ids and counting per minute
shuffle twice.

Credentials come from the URL or from the backend's own environment variables (PostgreSQL's
``PGPASSWORD``, for one); the URL can itself come from ``LLM_TCO_BACKEND``. Error messages
never show a password: the URL is always printed with it masked.
"""

from __future__ import annotations

import bisect
import contextlib
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from llm_tco.errors import LogFormatError
from llm_tco.ingest.engine import EARLIEST_S, GROUP_BY, LATEST_S, to_scan
from llm_tco.ingest.generic import ALIASES
from llm_tco.ingest.model import BackendStats, Scan, ShapeCounts
from llm_tco.ingest.presets import PRESETS, Canonical, Preset
from llm_tco.ingest.shape import LENGTH_EDGES

# A single request of more than 100M input or output tokens is a logging bug: no model's
# context window comes near it (the largest offered are around 10M tokens).
MAX_TOKENS_PER_REQUEST = 100_000_000
# Anything past this is infinite (or NaN, which PostgreSQL, DuckDB and Spark all order above
# every number; SQLite stores NaN as NULL).
_NON_FINITE = 1e308
SPARK_CONFIG = {
    "spark.master": "local[*]",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.ansi.enabled": "false",
}


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


def masked_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def _redact(text: str, url: str) -> str:
    """Remove the URL's password from ``text`` (raw and percent-decoded)."""
    try:
        secret = urllib.parse.urlsplit(url).password
    except ValueError:
        secret = None
    if secret:
        for form in {secret, urllib.parse.unquote(secret), urllib.parse.quote(secret)}:
            text = text.replace(form, "***")
    return text


def spark_builder(builder: Any, master: str | None = None) -> Any:
    """A SparkSession builder with the settings the aggregation assumes (UTC above all)."""
    for key, value in SPARK_CONFIG.items():
        builder = builder.config(key, value)
    return builder.master(master) if master else builder


def connect(url: str) -> Any:
    """An Ibis connection; ``pyspark://`` starts (or joins) a local Spark, and
    ``pyspark://?master=spark://host:7077`` a cluster's."""
    ibis = _ibis()
    try:
        if url.split(":", 1)[0] == "pyspark":
            from pyspark.sql import SparkSession

            # A session this process already runs (a notebook's, a test's) is used as it is.
            session = SparkSession.getActiveSession()
            if session is None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
                master = query.get("master", [None])[0]
                session = spark_builder(SparkSession.builder, master).getOrCreate()
            return ibis.pyspark.connect(session)
        return ibis.connect(url)
    except ImportError as exc:
        raise LogFormatError(
            f"no Ibis driver for {masked_url(url)}: {_redact(_first_line(exc), url)}",
            field="--backend",
            hint="pip install 'llm-tco[warehouse]' (PostgreSQL, DuckDB, SQLite) or "
            "'llm-tco[spark]', or ibis-framework[<backend>]",
        ) from None
    except Exception as exc:  # each driver raises its own types
        raise LogFormatError(
            f"cannot reach the backend {masked_url(url)}: {_redact(_first_line(exc), url)}",
            field="--backend",
            hint="check host, port, database and credentials (a password can also come from "
            "the backend's environment variable, e.g. PGPASSWORD)",
        ) from None


def open_table(con: Any, table: str, preset: Preset | None) -> Any:
    """The table named ``table``, or a Parquet file or glob read by the backend itself."""
    if table.endswith(".parquet") or "/" in table:
        try:
            return con.read_parquet(table)
        except Exception as exc:
            raise LogFormatError(
                f"cannot read Parquet '{table}': {_first_line(exc)}", field="--table"
            ) from None
    try:
        return con.table(table)
    except Exception as exc:
        expectation = (
            f" (the preset expects {preset.table}, with columns {', '.join(preset.columns)})"
            if preset
            else ""
        )
        raise LogFormatError(
            f"no table '{table}' in the backend{expectation}: {_first_line(exc)}",
            field="--table",
            hint="name the log table with --table (schema.table where the backend has schemas)",
        ) from None


def _generic(ibis: Any, t: Any, mapping: Mapping[str, str]) -> Canonical:
    """Generic tables: columns found by ``--map`` first, then the usual names."""
    by_lower = {c.lower(): c for c in t.columns}
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
            f"no column for {', '.join(missing)} in the table (columns: {', '.join(t.columns)})",
            field="--table",
            hint="name them with --map ts=COLUMN,input_tokens=COLUMN,output_tokens=COLUMN, or "
            f"use --preset ({', '.join(PRESETS)})",
        )
    fields = {
        name: t[column] for name, column in found.items() if name in Canonical.__dataclass_fields__
    }
    return Canonical(**fields)


def _check_columns(t: Any, preset: Preset, table: str) -> None:
    missing = [c for c in preset.required if c not in t.columns]
    if missing:
        raise LogFormatError(
            f"table '{table}' has no column {', '.join(repr(c) for c in missing)}; the preset "
            f"expects {', '.join(preset.columns)} (as in {preset.source})",
            field="--table",
            hint="point --table at the tool's own table, or map a generic table with --map",
        )


def scan_table(
    url: str,
    table: str | None,
    *,
    by: str | None,
    mapping: Mapping[str, str],
    preset: str | None = None,
) -> Scan:
    """Validate and aggregate ``table`` (or the preset's) inside the warehouse at ``url``."""
    chosen = _preset(preset)
    name = table or (chosen.table if chosen else None)
    if not name:
        raise LogFormatError("a warehouse needs a table", field="--table", hint="or --preset")
    con = connect(url)
    try:
        return scan_connection(con, name, by=by, mapping=mapping, preset=chosen, url=url)
    finally:
        disconnect = getattr(con, "disconnect", None)
        if disconnect is not None and url.split(":", 1)[0] != "pyspark":
            with contextlib.suppress(Exception):  # closing is best effort
                disconnect()


def _preset(name: str | None) -> Preset | None:
    if name is None:
        return None
    if name not in PRESETS:
        raise LogFormatError(f"unknown preset '{name}'", field="--preset", hint=", ".join(PRESETS))
    return PRESETS[name]


def scan_connection(
    con: Any,
    table: str,
    *,
    by: str | None = None,
    mapping: Mapping[str, str] | None = None,
    preset: Preset | None = None,
    url: str = "",
) -> Scan:
    """Aggregate ``table`` on an open Ibis connection ``con``."""
    ibis = _ibis()
    if by is not None and by not in GROUP_BY:
        raise LogFormatError(
            f"unknown grouping '{by}'", field="--by", hint="model, workload-tag, key"
        )
    t = open_table(con, table, preset)
    if preset is not None:
        _check_columns(t, preset, table)
        canonical = preset.build(ibis, t)
    else:
        canonical = _generic(ibis, t, mapping or {})
    stats = _Stats(con)
    try:
        base = _validated(ibis, t, canonical, by)
        rows, kept = _cube(ibis, base, stats)
        shapes = _shapes(ibis, base, kept, stats)
    except LogFormatError:
        raise
    except Exception as exc:
        raise LogFormatError(
            f"warehouse query failed: {_redact(_first_line(exc), url)}", field="--backend"
        ) from None
    scan = to_scan(rows, [], ["warehouse"])
    return scan.model_copy(update={"shapes": shapes, "stats": stats.result()})


class _Stats:
    """Counts the queries run and the rows and bytes they returned."""

    def __init__(self, con: Any) -> None:
        self.backend = str(getattr(con, "name", "unknown"))
        self.queries = self.rows = self.bytes = 0
        self.started = time.perf_counter()

    def fetch(self, expr: Any) -> list[dict[str, Any]]:
        table = expr.to_pyarrow()
        self.queries += 1
        self.rows += table.num_rows
        self.bytes += table.nbytes
        rows: list[dict[str, Any]] = table.to_pylist()
        return rows

    def result(self) -> BackendStats:
        return BackendStats(
            backend=self.backend,
            queries=self.queries,
            rows_returned=self.rows,
            bytes_returned=self.bytes,
            seconds=round(time.perf_counter() - self.started, 3),
        )


def _number(ibis: Any, raw: Any) -> tuple[Any, Any]:
    """(value as float64, whether a value is present) for a numeric or text column."""
    if raw is None:
        return ibis.null("float64"), ibis.literal(False)
    kind = raw.type()
    if kind.is_string():
        text = raw.strip()
        return text.try_cast("float64"), raw.notnull() & (text != "")
    if kind.is_boolean():
        return raw.cast("int64").cast("float64"), raw.notnull()
    return raw.cast("float64"), raw.notnull()


def _text(ibis: Any, raw: Any, default: str) -> Any:
    if raw is None:
        return ibis.literal(default)
    return raw.cast("string").fill_null(default)


def _timestamp(raw: Any) -> Any:
    kind = raw.type()
    if kind.is_timestamp():
        return raw
    if kind.is_date():
        return raw.cast("timestamp")
    if kind.is_string():
        return raw.try_cast("timestamp")
    raise LogFormatError(
        f"the time column has type {kind}; it must be a timestamp or ISO 8601 text",
        field="--table",
        hint="map another column with --map ts=COLUMN",
    )


def _validated(ibis: Any, t: Any, c: Canonical, by: str | None) -> Any:
    """The table with a rejection reason and typed canonical columns (prefixed ``_``)."""
    in_n, in_present = _number(ibis, c.input_tokens)
    out_n, out_present = _number(ibis, c.output_tokens)
    cached_n, cached_present = _number(ibis, c.cached_input_tokens)
    req_n, req_present = _number(ibis, c.requests)
    billed_n, _ = _number(ibis, c.billed_usd)
    ts = _timestamp(c.ts)
    seconds = ts.epoch_seconds().cast("int64")
    cached0, req1 = cached_n.fill_null(0), req_n.fill_null(1)

    def non_finite(x: Any) -> Any:
        return (x > _NON_FINITE) | (x < -_NON_FINITE)

    skipped = c.skipped
    reasons = [] if skipped is None else [(skipped.notnull(), "skip:" + skipped)]
    reason = ibis.cases(
        *reasons,
        (~in_present | ~out_present, "missing_tokens"),
        (
            in_n.isnull()
            | out_n.isnull()
            | (cached_present & cached_n.isnull())
            | (req_present & req_n.isnull()),
            "non_numeric_tokens",
        ),
        (
            non_finite(in_n) | non_finite(out_n) | non_finite(cached0) | non_finite(req1),
            "non_finite_tokens",
        ),
        ((in_n < 0) | (out_n < 0) | (cached0 < 0) | (req1 < 0), "negative_tokens"),
        (
            (in_n > MAX_TOKENS_PER_REQUEST * ibis.greatest(req1, 1))
            | (out_n > MAX_TOKENS_PER_REQUEST * ibis.greatest(req1, 1)),
            "absurd_tokens",
        ),
        (cached0 > in_n, "cached_exceeds_input"),
        (c.ts.isnull(), "missing_timestamp"),
        (seconds.isnull() | (seconds < EARLIEST_S) | (seconds >= LATEST_S), "bad_timestamp"),
        else_=ibis.null("string"),
    )
    group_field = {"model": c.model, "workload-tag": c.tag, "key": c.key}.get(by or "")
    group = _text(ibis, group_field, "(none)") if by else ibis.literal("all")
    batch = ibis.literal(False) if c.batch is None else c.batch.cast("boolean").fill_null(False)
    rid = ibis.null("string") if c.request_id is None else c.request_id.cast("string")
    return t.select(
        _reason=reason,
        _rid=rid,
        _sec=seconds,
        _in=in_n,
        _out=out_n,
        _cached=cached0,
        _group=group,
        _model=_text(ibis, c.model, "(unknown)"),
        _batch=batch,
        _req=req1,
        _billed=billed_n,
    )


def _cube(ibis: Any, base: Any, stats: _Stats) -> tuple[list[tuple[Any, ...]], list[Any]]:
    """The hourly cube rows (columns as ``engine.to_scan`` reads them) and, for ids seen more
    than once, the copy that is kept: (group, epoch seconds, input, output)."""
    ok = base._reason.isnull()
    duplicated = (
        base.filter(ok & base._rid.notnull())
        .group_by("_rid")
        .aggregate(n=ibis._.count())
        .filter(ibis._.n > 1)
        .select("_rid")
    )
    candidate = ok & base._rid.notnull() & base._rid.isin(duplicated._rid)

    def keep(value: Any) -> Any:
        return ibis.cases((ok, value), else_=ibis.null(value.type()))

    def dup(value: Any) -> Any:
        return ibis.cases((candidate, value), else_=ibis.null(value.type()))

    keyed = base.mutate(
        k_grp=keep(base._group),
        k_model=keep(base._model),
        k_hour=keep(base._sec // 3600),
        k_batch=keep(base._batch),
        k_rid=dup(base._rid),
        k_ts=dup(base._sec),
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
    copies: dict[str, list[tuple[Any, ...]]] = {}
    for r in stats.fetch(cube):
        samples = [None if s is None else f"id={s}" for s in (r["sample_a"], r["sample_b"])]
        row = (
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
        result.append(row)
        if row[0] is None and row[5] is not None:
            copies.setdefault(row[5], []).append(row)
    # The copy kept is the earliest, then smallest, as in ``engine.to_scan``.
    kept = [min(rows, key=lambda r: (r[6], r[7], r[8])) for rows in copies.values()]
    return result, [(r[1], r[6], r[7], r[8]) for r in kept]


def _bucket(ibis: Any, x: Any, low: int = 0, high: int = len(LENGTH_EDGES)) -> Any:
    """Index of the ``LENGTH_EDGES`` bucket holding ``x``: a balanced tree of comparisons
    (seven per value) that every SQL engine evaluates the same way."""
    if high - low == 1:
        return ibis.literal(low, "int16")
    mid = (low + high) // 2
    return ibis.cases(
        (x < LENGTH_EDGES[mid], _bucket(ibis, x, low, mid)), else_=_bucket(ibis, x, mid, high)
    )


def _edge_index(value: float) -> int:
    return max(0, bisect.bisect_right(LENGTH_EDGES, value) - 1)


def _shapes(ibis: Any, base: Any, kept: list[Any], stats: _Stats) -> dict[str, ShapeCounts]:
    """Per-minute arrival counts and the length histogram of every valid request, each id
    once (the kept copies of repeated ids come back with the cube and are added here)."""
    valid = base.filter(base._reason.isnull())
    repeated = valid.filter(valid._rid.notnull()).group_by("_rid").aggregate(n=ibis._.count())
    # Valid rows whose id occurs once (or that have none); duplicate copies are added below.
    once = repeated.filter(repeated.n == 1).select("_rid")
    single = valid.filter(valid._rid.isnull() | valid._rid.isin(once._rid))
    minutes = (
        single.group_by(["_group", (single._sec // 60).name("_minute")])
        .aggregate(n=ibis._.count())
        .group_by(["_group", "n"])
        .aggregate(minutes=ibis._.count())
    )
    lengths = (
        single.select("_group", _ib=_bucket(ibis, single._in), _ob=_bucket(ibis, single._out))
        .group_by(["_group", "_ib", "_ob"])
        .aggregate(n=ibis._.count())
    )
    width = len(LENGTH_EDGES)
    per_minute: dict[str, dict[int, int]] = {}
    minute_of: dict[tuple[str, int], int] = {}
    for r in stats.fetch(minutes):
        per_minute.setdefault(r["_group"], {})[int(r["n"])] = int(r["minutes"])
    hist: dict[str, tuple[list[int], list[int]]] = {}

    def histograms(group: str) -> tuple[list[int], list[int]]:
        return hist.setdefault(group, ([0] * width, [0] * width))

    for r in stats.fetch(lengths):
        ins, outs = histograms(r["_group"])
        ins[int(r["_ib"])] += int(r["n"])
        outs[int(r["_ob"])] += int(r["n"])
    for group, seconds, tokens_in, tokens_out in kept:
        ins, outs = histograms(group)
        ins[_edge_index(tokens_in)] += 1
        outs[_edge_index(tokens_out)] += 1
        key = (group, int(seconds) // 60)
        minute_of[key] = minute_of.get(key, 0) + 1
    _merge_minutes(per_minute, minute_of, _lookup_minutes(ibis, single, minute_of, stats))
    return {
        group: ShapeCounts(
            minute_counts=sorted(per_minute.get(group, {}).items()),
            input_histogram=hist.get(group, ([0] * width, [0] * width))[0],
            output_histogram=hist.get(group, ([0] * width, [0] * width))[1],
        )
        for group in sorted(set(per_minute) | set(hist))
    }


def _lookup_minutes(
    ibis: Any, single: Any, extra: dict[tuple[str, int], int], stats: _Stats
) -> dict[tuple[str, int], int]:
    """How many single-copy requests arrived in each minute that a kept duplicate falls in
    (so that adding the duplicate moves that minute from one count to the next)."""
    if not extra:
        return {}
    wanted = sorted({minute for _, minute in extra})
    minute = (single._sec // 60).name("_minute")
    query = (
        single.filter(minute.isin(wanted)).group_by(["_group", minute]).aggregate(n=ibis._.count())
    )
    return {(r["_group"], int(r["_minute"])): int(r["n"]) for r in stats.fetch(query)}


def _merge_minutes(
    per_minute: dict[str, dict[int, int]],
    extra: dict[tuple[str, int], int],
    before: dict[tuple[str, int], int],
) -> None:
    for (group, minute), added in extra.items():
        counts = per_minute.setdefault(group, {})
        old = before.get((group, minute), 0)
        if old:
            counts[old] -= 1
            if not counts[old]:
                del counts[old]
        counts[old + added] = counts.get(old + added, 0) + 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
